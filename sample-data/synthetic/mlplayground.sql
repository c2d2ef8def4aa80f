-- A stand-in for the MLPlayground production database: DQMIO files found on EOS (project and
-- user areas), lumisections of three runs, and their per-lumisection 1D histograms (50-bin
-- arrays as JSON). Deterministic.
INSERT INTO histograms_datafile (id, filepath, st_size, st_ctime, entries_total, entries_processed, status)
SELECT i,
       CASE WHEN i <= 4 THEN '/eos/project/m/mlplayground/Run2024/ZeroBias-Run2024E-' || (381500 + (i - 1) / 2) || '-' || i || '.root'
            ELSE '/eos/user/' || substr(u, 1, 1) || '/' || u || '/dqmio/JetMET-Run2024E-' || (381500 + i % 3) || '.root' END,
       1048576 * (10 + i), timestamptz '2026-06-01 00:00+00' + i * interval '1 hour', 600, 600, 'processed'
FROM generate_series(1, 6) AS i,
     LATERAL (SELECT (SELECT username FROM auth_user WHERE id = 1 + i % 48) AS u) AS x;
SELECT setval(pg_get_serial_sequence('histograms_datafile', 'id'), 6);

INSERT INTO histograms_lumisection (id, run_number, ls_number)
SELECT (r - 381500) * 200 + ls, r, ls FROM generate_series(381500, 381502) AS r, generate_series(1, 200) AS ls;
SELECT setval(pg_get_serial_sequence('histograms_lumisection', 'id'), 600);

INSERT INTO histograms_lumisectionhistogram1d (id, lumisection_id, title, entries, data, source_data_file_id)
SELECT (l.id - 1) * 3 + t,
       l.id,
       (ARRAY['PixelPhase1/Tracks/charge_PXBarrel', 'SiStrip/MechanicalView/TIB/NumberOfClusters', 'JetMET/Jet/Cleanedak4PFJetsCHS/Pt'])[t],
       (SELECT sum(v) FROM unnest(h.bins) AS v),
       to_jsonb(h.bins),
       1 + ((l.run_number - 381500) * 2 + t % 2) % 6
FROM histograms_lumisection AS l, generate_series(1, 3) AS t,
     LATERAL (SELECT array_agg((1000 * exp(-power((b - 25 - t) / 8.0, 2)))::int + (l.ls_number * b * t) % 17 ORDER BY b) AS bins
              FROM generate_series(0, 49) AS b) AS h;
SELECT setval(pg_get_serial_sequence('histograms_lumisectionhistogram1d', 'id'), 1800);

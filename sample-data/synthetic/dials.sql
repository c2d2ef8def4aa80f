-- A stand-in for a workspace database of DIALS production: indexed DQMIO files on EOS (a few
-- failed, with errors naming user areas), datasets, runs, their lumisections, and shifters'
-- comments on runs (authors are CERN accounts; texts carry e-mails). Deterministic. The
-- workspace's own values come as psql variables (capture.sh): base (its first run number),
-- dataset (its primary dataset), scan and noise (the subjects of its comments).
INSERT INTO tables_fileindex (id, path, st_size, st_ctime, status, last_error)
SELECT i, '/eos/cms/store/data/Run2024F/ZeroBias/DQMIO/PromptReco-v1/000/' || (:base + i / 4) || '/' || md5('f' || i) || '.root',
       50000000 + i * 1013, timestamptz '2026-07-01 00:00+00' + i * interval '9 minutes',
       CASE WHEN i % 25 = 0 THEN 'FAILED' ELSE 'FINISHED' END,
       CASE WHEN i % 25 = 0 THEN 'OSError: cannot open /eos/user/' || substr(a, 1, 1) || '/' || a || '/dials/tmp/' || i || ': Permission denied' ELSE '' END
FROM generate_series(1, 400) AS i,
     LATERAL (SELECT (ARRAY['mrossi','jnovak','sdubois','lschmidt','akowalski','pgarcia','epapadop','tjensen'])[1 + i % 8] AS a) AS x;
SELECT setval(pg_get_serial_sequence('tables_fileindex', 'id'), 400);

INSERT INTO tables_dataset (id, dataset) VALUES
 (1, '/ZeroBias/Run2024F-PromptReco-v1/DQMIO'), (2, '/StreamExpress/Run2024F-Express-v1/DQMIO'),
 (3, :'dataset');
SELECT setval(pg_get_serial_sequence('tables_dataset', 'id'), 3);

INSERT INTO tables_run (id, dataset_id, run_number, ls_count, file_id)
SELECT i, 1 + i % 3, :base + i / 3, 20 + i % 30, 1 + (i * 4) % 400
FROM generate_series(1, 300) AS i;
SELECT setval(pg_get_serial_sequence('tables_run', 'id'), 300);

INSERT INTO tables_lumisection (id, run_id, ls_number, entries)
SELECT row_number() OVER (ORDER BY r.id, ls), r.id, ls, 1000 + (r.id * ls) % 977
FROM tables_run AS r, generate_series(1, r.ls_count) AS ls;
SELECT setval(pg_get_serial_sequence('tables_lumisection', 'id'), (SELECT max(id) FROM tables_lumisection));

INSERT INTO tables_runcomment (id, run_id, author, text, created)
SELECT i, 1 + (i * 7) % 300, a,
       CASE WHEN i % 2 = 0 THEN :'scan' || ' timing scan, ask ' || a || '@cern.ch before excluding'
            ELSE :'noise' || ' from LS 12; see https://cmsoms.example.ch/runs?user=' || a || ' (handed over to ' || upper(a) || ')' END,
       timestamptz '2026-07-02 00:00+00' + i * interval '2 hours'
FROM generate_series(1, 250) AS i,
     LATERAL (SELECT (ARRAY['mrossi','jnovak','sdubois','lschmidt','akowalski','pgarcia','epapadop','tjensen'])[1 + i % 8] AS a) AS x;
SELECT setval(pg_get_serial_sequence('tables_runcomment', 'id'), 250);

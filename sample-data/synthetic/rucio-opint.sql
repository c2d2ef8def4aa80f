-- A stand-in for the Rucio OpInt production database: FTS error issues whose messages carry
-- storage hosts, IPs, shifters' e-mails and EOS user paths, the categories they fall into,
-- actions and the solutions shifters proposed (by user). Deterministic.
-- (capture.sh loads users.sql first.)

INSERT INTO api_issuecategory (id, regex, description, amount, last_modified) VALUES
 (1, 'Connection refused', 'Storage endpoint down', 0, '2026-11-01 00:00+00'),
 (2, 'CHECKSUM MISMATCH', 'Corrupted source replica', 0, '2026-11-01 00:00+00'),
 (3, 'No space left on device', 'Destination full', 0, '2026-11-01 00:00+00'),
 (4, 'timed out', 'Slow or stuck transfer', 0, '2026-11-01 00:00+00'),
 (5, 'SRM_FILE_UNAVAILABLE', 'Source file unavailable (tape or lost)', 0, '2026-11-01 00:00+00'),
 (6, 'Error reading token data header', 'SRM authentication failure', 0, '2026-11-01 00:00+00');
SELECT setval(pg_get_serial_sequence('api_issuecategory', 'id'), 6);

INSERT INTO api_action (id, action) VALUES
 (1, 'GGUS ticket to the site'), (2, 'Blacklist the endpoint'), (3, 'Declare the replica bad'),
 (4, 'Mattermost message to the site contact'), (5, 'Ask for more space'), (6, 'Retry the transfers'),
 (7, 'Renew the host certificate'), (8, 'Nothing: transient');
SELECT setval(pg_get_serial_sequence('api_action', 'id'), 8);

INSERT INTO api_issue (id, message, src_site, dst_site, type, amount, status, category_id, last_modified)
SELECT i,
       CASE c
         WHEN 1 THEN 'TRANSFER [110] globus_xio: Unable to connect to ' || host || ':2811 (' || ip || ') Connection refused'
         WHEN 2 THEN 'SOURCE [2] SOURCE CHECKSUM MISMATCH ' || md5('a' || i) || ' != ' || md5('b' || i) || ' on /eos/user/' || substr(u, 1, 1) || '/' || u || '/rucio/data' || i || '.root'
         WHEN 3 THEN 'DESTINATION [28] MAKE_PARENT No space left on device at httpg://' || host || ':8446/srm/managerv2; ' || (SELECT first_name FROM auth_user WHERE id = 1 + i % 48) || ' is on it'
         WHEN 4 THEN 'TRANSFER [70] Operation timed out after 3600 seconds; shifter ' || u || '@cern.ch notified'
         WHEN 5 THEN 'SOURCE [2] SRM_GET_TURL [SRM_FILE_UNAVAILABLE] File is unavailable, see https://' || u || ':' || md5('t' || i) || '@' || host || '/status'
         ELSE 'DESTINATION [70] Error reading token data header: Connection closed by ' || ip
       END || ' (fts job ' || substr(md5('job' || i), 1, 8) || ')',
       (ARRAY['CERN-PROD_DATADISK','BNL-OSG2_DATADISK','TRIUMF-LCG2_DATADISK','INFN-T1_DATADISK','IN2P3-CC_DATADISK','FZK-LCG2_DATADISK','RAL-LCG2_DATADISK','NDGF-T1_DATADISK'])[1 + i % 8],
       (ARRAY['CERN-PROD_DATADISK','BNL-OSG2_DATADISK','TRIUMF-LCG2_DATADISK','INFN-T1_DATADISK','IN2P3-CC_DATADISK','FZK-LCG2_DATADISK','RAL-LCG2_DATADISK','NDGF-T1_DATADISK'])[1 + (i * 3 + 1) % 8],
       CASE WHEN i % 5 = 0 THEN 'deletion' ELSE 'transfer' END,
       1 + (i * 7919) % 400,
       (ARRAY['New','New','Resolved','Ignored'])[1 + i % 4],
       c,
       timestamptz '2026-11-01 00:00+00' + i * interval '13 minutes'
FROM generate_series(1, 6000) AS i,
     LATERAL (SELECT 1 + i % 6 AS c,
                     (ARRAY['dcache-door-atlas01.example.org','srm.grid.example.net','storm-fe.example.it','eosatlas.example.ch'])[1 + i % 4] AS host,
                     '188.184.' || (i % 250) || '.' || (i * 7 % 250) AS ip,
                     lower((ARRAY['mrossi','jnovak','sdubois','lschmidt','akowalski','pgarcia'])[1 + i % 6]) AS u) AS x;
SELECT setval(pg_get_serial_sequence('api_issue', 'id'), 6000);
UPDATE api_issuecategory c SET amount = (SELECT count(*) FROM api_issue WHERE category_id = c.id);

INSERT INTO api_solution (id, category_id, action_id, affected_site, proposed_by_id, score)
SELECT i, 1 + i % 6, 1 + i % 8,
       (ARRAY['CERN-PROD_DATADISK','BNL-OSG2_DATADISK','TRIUMF-LCG2_DATADISK','INFN-T1_DATADISK'])[1 + i % 4],
       1 + i % 48, (i * 31) % 11 - 5
FROM generate_series(1, 300) AS i;
SELECT setval(pg_get_serial_sequence('api_solution', 'id'), 300);

INSERT INTO api_fetchedfeed (id, name, errors, fetched)
SELECT i, 'fts-errors-2026-11-' || lpad((1 + i / 24)::text, 2, '0') || 'T' || lpad((i % 24)::text, 2, '0') || '.jsonl',
       200 + i % 50, timestamptz '2026-11-01 00:05+00' + i * interval '1 hour'
FROM generate_series(0, 600) AS i;
SELECT setval(pg_get_serial_sequence('api_fetchedfeed', 'id'), 601);

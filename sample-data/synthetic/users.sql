-- Production-shaped Django users with the personal data a real instance holds (names, CERN
-- e-mails, accounts, password hashes, last logins): deterministic, so two captures of the
-- same source are byte-identical. Included by each stack's synthetic source.
INSERT INTO auth_user (id, password, last_login, is_superuser, username, first_name, last_name, email,
                       is_staff, is_active, date_joined)
SELECT i,
       'pbkdf2_sha256$260000$' || substr(md5('salt' || i), 1, 22) || '$' || encode(decode(md5('pw' || i) || md5('pw2' || i), 'hex'), 'base64'),
       timestamptz '2026-10-01 08:00:00+00' + i * interval '37 minutes',
       i = 1,
       lower(substr(f, 1, 1) || l) || CASE WHEN i > 24 THEN i::text ELSE '' END,
       f, l,
       lower(f || '.' || l) || CASE WHEN i > 24 THEN i::text ELSE '' END || '@cern.ch',
       i <= 3, true,
       timestamptz '2024-01-15 09:00:00+00' + i * interval '5 days'
FROM generate_series(1, 48) AS i,
     LATERAL (SELECT (ARRAY['Maria','Jan','Sofia','Luca','Anna','Pierre','Elena','Tomasz','Giulia','Hans','Ines','Rafael'])[1 + i % 12] AS f,
                     (ARRAY['Rossi','Novak','Dubois','Schmidt','Kowalski','Garcia','Papadopoulos','Jensen','Moreau','Bianchi','Silva','Weber','Horvat','Costa','Meyer','Leroy','Fischer','Nowak','Martin','Conti','Svoboda','Lambert','Ricci','Kraus'])[1 + i % 24] AS l) AS n;
SELECT setval(pg_get_serial_sequence('auth_user', 'id'), 48);

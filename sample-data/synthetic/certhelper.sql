-- A stand-in for the certhelper production database: shifters (auth_user, allauth e-mail
-- addresses and CERN SSO accounts whose extra_data repeats their names and e-mails), the SSO
-- application with its client secret, reference runs, and tracker certifications whose
-- comments name people and paths. Deterministic.
INSERT INTO account_emailaddress (id, user_id, email, verified, "primary")
SELECT id, id, email, true, true FROM auth_user;
SELECT setval(pg_get_serial_sequence('account_emailaddress', 'id'), 48);

INSERT INTO socialaccount_socialaccount (id, user_id, provider, uid, last_login, date_joined, extra_data)
SELECT id, id, 'keycloak', username, last_login, date_joined,
       json_build_object('sub', md5('sub' || id)::uuid, 'email', email, 'name', first_name || ' ' || last_name,
                         'given_name', first_name, 'family_name', last_name, 'preferred_username', username,
                         'cern_roles', json_build_array('default-role'))::text
FROM auth_user;
SELECT setval(pg_get_serial_sequence('socialaccount_socialaccount', 'id'), 48);

INSERT INTO socialaccount_socialapp (id, provider, name, client_id, secret, key)
VALUES (1, 'keycloak', 'CERN SSO', 'certhelper-prod', 'a3f5c0d2-production-client-secret', '');
SELECT setval(pg_get_serial_sequence('socialaccount_socialapp', 'id'), 1);

INSERT INTO certifier_referencerun (id, reference_run, reco, runtype)
SELECT i, 380000 + i * 17, (ARRAY['Express','Prompt','reReco'])[1 + i % 3], (ARRAY['Collisions','Cosmics'])[1 + i % 2]
FROM generate_series(1, 40) AS i;
SELECT setval(pg_get_serial_sequence('certifier_referencerun', 'id'), 40);

INSERT INTO certifier_trackercertification (id, run_number, reference_run_id, user_id, pixel, strip, tracking, comment, date)
SELECT i, 381000 + i, 1 + i % 40, 1 + (i * 7) % 48,
       (ARRAY['good','good','good','bad','lowstat'])[1 + i % 5], (ARRAY['good','good','bad'])[1 + i % 3],
       (ARRAY['good','good','good','excluded'])[1 + i % 4],
       CASE WHEN i % 3 = 0 THEN 'checked with ' || (SELECT email FROM auth_user WHERE id = 1 + i % 48) || ', plots in /eos/user/' || substr((SELECT username FROM auth_user WHERE id = 1 + i % 48), 1, 1) || '/' || (SELECT username FROM auth_user WHERE id = 1 + i % 48) || '/tracker/' || i
            WHEN i % 3 = 1 THEN 'pixel layer 1 noisy in LS ' || (i % 300) || ', checked by ' || (SELECT first_name || ' ' || last_name FROM auth_user WHERE id = 1 + (i * 5) % 48) || '; if in doubt call ' || (SELECT first_name FROM auth_user WHERE id = 1 + (i * 5) % 48)
            ELSE 'pixel layer 1 noisy in LS ' || (i % 300) END,
       date '2026-03-01' + (i / 10)
FROM generate_series(1, 2500) AS i;
SELECT setval(pg_get_serial_sequence('certifier_trackercertification', 'id'), 2500);

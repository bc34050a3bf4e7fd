\pset pager off
EXPLAIN (ANALYZE, BUFFERS, COSTS OFF) SELECT count(*) FROM bench_shared.contacts WHERE account_id = 'business-5' AND tags @> jsonb_build_array('Finance'::text);
EXPLAIN (ANALYZE, BUFFERS, COSTS OFF) SELECT phone FROM bench_shared.contacts WHERE account_id = 'business-5' AND attributes @> jsonb_build_object('City'::text, (SELECT attributes->>'City' FROM bench_shared.contacts WHERE account_id = 'business-5' AND attributes ? 'City' LIMIT 1)) ORDER BY phone;

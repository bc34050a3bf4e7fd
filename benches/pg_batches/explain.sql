\pset pager off
BEGIN;
EXPLAIN (ANALYZE, BUFFERS, WAL, COSTS OFF) INSERT INTO bench_shared.contacts (account_id, phone, name, tags, source, first_message, attributes, created_at, last_active, state, opt_in)
  SELECT 'probe', phone, name, tags, source, first_message, attributes, created_at, last_active, state, opt_in FROM public.src WHERE n >= 100000 AND n < 101000 ORDER BY phone
  ON CONFLICT (account_id, phone) DO NOTHING;
ROLLBACK;
BEGIN;
EXPLAIN (ANALYZE, BUFFERS, WAL, COSTS OFF) INSERT INTO probe_empty.contacts (account_id, phone, name, tags, source, first_message, attributes, created_at, last_active, state, opt_in)
  SELECT 'new', phone, name, tags, source, first_message, attributes, created_at, last_active, state, opt_in FROM public.src WHERE n >= 100000 AND n < 101000 ORDER BY phone
  ON CONFLICT (account_id, phone) DO NOTHING;
ROLLBACK;

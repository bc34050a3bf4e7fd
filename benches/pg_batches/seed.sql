-- A synthetic stand-in for benches/accounts.rs's seeding (which takes 5+ minutes here):
-- the store's v4 contacts table, 100 accounts of 20,000 contacts, and 185,000 rows for a new account.
\set ON_ERROR_STOP on
DROP SCHEMA IF EXISTS bench_shared CASCADE; CREATE SCHEMA bench_shared;
CREATE TABLE bench_shared.contacts (
    phone text NOT NULL, name text NOT NULL CHECK (name <> ''), tags jsonb NOT NULL DEFAULT '[]',
    source text, first_message text, attributes jsonb NOT NULL DEFAULT '{}',
    created_at timestamptz NOT NULL, last_active timestamptz, state text, account_id text NOT NULL, opt_in boolean,
    PRIMARY KEY (account_id, phone));
CREATE INDEX contacts_tags ON bench_shared.contacts USING GIN (tags);
CREATE INDEX contacts_attributes ON bench_shared.contacts USING GIN (attributes);
CREATE INDEX contacts_source ON bench_shared.contacts (account_id, source);
CREATE INDEX contacts_first_message ON bench_shared.contacts (account_id, first_message);
CREATE INDEX contacts_state ON bench_shared.contacts (account_id, state);
CREATE INDEX contacts_created_at ON bench_shared.contacts (account_id, created_at);
CREATE INDEX contacts_last_active ON bench_shared.contacts (account_id, last_active);
CREATE OR REPLACE FUNCTION pg_temp.rows(n0 bigint, n1 bigint, seed int) RETURNS TABLE (n bigint, phone text, name text, tags jsonb, source text, first_message text, attributes jsonb, created_at timestamptz, last_active timestamptz, state text, opt_in boolean)
LANGUAGE sql AS $$
  SELECT g, '+91' || (6000000000 + (hashint8(g * 7919 + seed) & 2147483647) % 3999999999)::text,
         'Name ' || md5(g::text || seed),
         (SELECT coalesce(jsonb_agg(t), '[]') FROM (SELECT DISTINCT (ARRAY['MBA','Finance','Marketing','Engineering','Design','Sales','HR','Ops','Legal','Support','VIP','Lead','Alumni','Student','Parent','Partner','Vendor','Press','Event','Trial'])[1 + (hashint8(g * 31 + k + seed) & 65535) % 20] AS t
                                              FROM generate_series(1, (hashint8(g + seed) & 3)) k) x),
         (ARRAY['Website','Facebook Ad','Google Ad','Referral','Walk-in','WhatsApp','Event'])[1 + (hashint8(g * 3 + seed) & 65535) % 7],
         CASE WHEN g % 4 = 0 THEN 'Hi' END,
         jsonb_strip_nulls(jsonb_build_object(
            'City', (ARRAY['Mumbai','Delhi','Pune','Chennai','Kolkata','Jaipur','Surat','Lucknow','Indore','Nagpur','Bhopal','Patna'])[1 + (hashint8(g * 5 + seed) & 65535) % 12],
            'email', CASE WHEN g % 10 < 7 THEN 'user.' || substr(md5(g::text || 'e' || seed), 1, 10) || (g % 1000) || '@example.com' END,
            'State', (ARRAY['MH','DL','KA','TN','WB','RJ','GJ','UP','MP','BR'])[1 + (hashint8(g * 11 + seed) & 65535) % 10])),
         now(), NULL::timestamptz, NULL::text, NULL::boolean
  FROM generate_series(n0, n1 - 1) g $$;
INSERT INTO bench_shared.contacts (account_id, phone, name, tags, source, first_message, attributes, created_at, last_active, state, opt_in)
  SELECT 'business-' || a, phone, name, tags, source, first_message, attributes, created_at, last_active, state, opt_in
  FROM generate_series(0, 99) a, LATERAL pg_temp.rows(0, 20000, a * 1000) ON CONFLICT DO NOTHING;
VACUUM ANALYZE bench_shared.contacts;
DROP TABLE IF EXISTS public.src;
CREATE TABLE public.src AS SELECT DISTINCT ON (phone) * FROM pg_temp.rows(0, 185000, 777777);
CREATE INDEX ON public.src (n);
ANALYZE public.src;
SELECT count(*) AS shared_rows, count(DISTINCT account_id) AS accounts FROM bench_shared.contacts;
SELECT count(*) AS src_rows FROM public.src;

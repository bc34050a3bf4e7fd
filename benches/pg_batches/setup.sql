DROP SCHEMA IF EXISTS probe_empty CASCADE; CREATE SCHEMA probe_empty;
CREATE TABLE probe_empty.contacts (LIKE bench_shared.contacts INCLUDING ALL);
CREATE OR REPLACE PROCEDURE public.pass(tgt text, acct text, bs int, onconf bool, label text) LANGUAGE plpgsql AS $$
DECLARE t0 timestamptz := clock_timestamp(); total bigint; i int := 0;
BEGIN
  SELECT count(*) INTO total FROM public.src;
  WHILE i * bs < total LOOP
    EXECUTE format('INSERT INTO %s (account_id, phone, name, tags, source, first_message, attributes, created_at, last_active, state, opt_in)
      SELECT %L, phone, name, tags, source, first_message, attributes, created_at, last_active, state, opt_in
      FROM public.src WHERE n >= $1 AND n < $2 ORDER BY phone %s', tgt, acct,
      CASE WHEN onconf THEN 'ON CONFLICT (account_id, phone) DO NOTHING' ELSE '' END) USING i * bs, (i + 1) * bs;
    COMMIT;
    i := i + 1;
  END LOOP;
  RAISE NOTICE 'PASS % : % s', label, round(extract(epoch FROM clock_timestamp() - t0)::numeric, 3);
END $$;

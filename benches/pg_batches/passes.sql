\set ON_ERROR_STOP on
\pset pager off
CREATE OR REPLACE PROCEDURE public.case_(where_ text, bs int, onconf bool, label text) LANGUAGE plpgsql AS $$
BEGIN
  IF where_ = 'shared' THEN
    CALL public.pass('bench_shared.contacts', 'probe', bs, onconf, label);
  ELSE
    CALL public.pass('probe_empty.contacts', 'new', bs, onconf, label);
  END IF;
END $$;

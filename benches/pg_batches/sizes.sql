SELECT c.relname, pg_size_pretty(pg_relation_size(c.oid)) AS size, pg_relation_size(c.oid)/8192 AS pages
FROM pg_class c WHERE c.relnamespace = 'bench_shared'::regnamespace AND c.relname LIKE 'contacts%' ORDER BY pg_relation_size(c.oid) DESC;

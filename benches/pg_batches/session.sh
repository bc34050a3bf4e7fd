#!/bin/bash
# Import-shaped batches measured on the PostgreSQL server alone (no client
# work): a synthetic database of 2,000,000 contacts in 100 accounts
# (seed.sql, the store's schema version 4), 185,000 rows written as a new
# account and into an empty table, in batches of 1,000 or 10,000, with and
# without ON CONFLICT, against COPY; then without the GIN indexes. See the
# README's "Scale" (Many businesses in one database) and INTERNALS.md.
#
#   PG_FSYNC=on .ci/with-postgres benches/pg_batches/session.sh
set -e
P="psql -X -v ON_ERROR_STOP=1 $CONTACT_IMPORT_PG_URL"
cd "$(dirname "$0")"
echo "== seeding $(date +%T), load $(cut -d' ' -f1-3 /proc/loadavg)"
$P -q -f seed.sql
$P -f sizes.sql
$P -c "CREATE EXTENSION IF NOT EXISTS pgstattuple" -c "SELECT 'tags' AS gin, * FROM pgstatginindex('bench_shared.contacts_tags')" -c "SELECT 'attributes' AS gin, * FROM pgstatginindex('bench_shared.contacts_attributes')" || true
$P -q -f setup.sql
$P -q -c "COPY (SELECT 'new', phone, name, tags, source, first_message, attributes, created_at, last_active, state, opt_in FROM public.src ORDER BY n) TO '/tmp/probe-rows.copy'"
$P -q -f passes.sql
$P -f explain.sql
$P -f filter.sql
./run.sh 2 empty:1000:t shared:1000:t empty:1000:f shared:1000:f empty:10000:t shared:10000:t copy
echo "== gin_pending_list_limit 64MB"
PGOPTIONS="-c gin_pending_list_limit=64MB" ./run.sh 2 empty:1000:t shared:1000:t
drop_gin() {
    $P -q -c "DO \$\$ DECLARE r record; BEGIN FOR r IN SELECT i.indexrelid::regclass AS name FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid JOIN pg_am a ON a.oid = c.relam WHERE i.indrelid IN ('bench_shared.contacts'::regclass, 'probe_empty.contacts'::regclass) AND a.amname = 'gin' AND pg_get_indexdef(i.indexrelid) LIKE '%$1%' LOOP EXECUTE 'DROP INDEX ' || r.name; END LOOP; END \$\$"
}
echo "== without the GIN on attributes"
drop_gin attributes
./run.sh 2 empty:1000:t shared:1000:t copy
echo "== without either GIN"
drop_gin ''
./run.sh 2 empty:1000:t shared:1000:t copy
$P -f filter.sql
echo "== end $(date +%T), load $(cut -d' ' -f1-3 /proc/loadavg)"

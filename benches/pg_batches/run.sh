#!/bin/bash
# usage: run.sh ROUNDS CASES...  (case = where:bs:onconf, e.g. shared:1000:t, or copy)
set -e
P="psql -X -q -v ON_ERROR_STOP=1 $CONTACT_IMPORT_PG_URL"
rounds=$1; shift
for r in $(seq 1 $rounds); do
  for c in "$@"; do
    IFS=: read w bs oc <<<"$c"
    $P -c "TRUNCATE probe_empty.contacts" -c "DELETE FROM bench_shared.contacts WHERE account_id = 'probe'" -c "VACUUM bench_shared.contacts" -c "VACUUM probe_empty.contacts" -c CHECKPOINT
    if [ "$w" = copy ]; then
      s=$(date +%s.%N); $P -c "COPY probe_empty.contacts (account_id, phone, name, tags, source, first_message, attributes, created_at, last_active, state, opt_in) FROM '/tmp/probe-rows.copy'"; e=$(date +%s.%N)
      echo "PASS copy-empty : $(echo "$e - $s" | bc) s  (load $(cut -d' ' -f1 /proc/loadavg))"
    else
      $P -c "CALL public.case_('$w', $bs, '$oc', '$w-$bs-oc=$oc')" 2>&1 | sed "s/\$/  (load $(cut -d' ' -f1 \/proc\/loadavg))/"
    fi
  done
done

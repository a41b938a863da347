#!/usr/bin/env bash
# Versioned MongoDB migrations (issue 29): the commands `migrate up` sends to the MongoDB
# stand-in (its standinStats counters) applying N one-command migrations, then for a no-op
# up over the N applied ones. Run by bench/run.sh; alone:
#
#   MIGRATE_PG_PORT=... MIGRATE_PG_SOCKET=... MIGRATE_MONGO_URI=... \
#       bench/mongo_versions.sh MIGRATE_BINARY WORK_DIR [N]
#
# (the PostgreSQL of scripts/pg-server.sh, the stand-in of scripts/mongo-standin.sh)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
src=$(cd "$here/.." && pwd)
MIG=$1
WORK=$2
N=${3:-1000}
PY=/usr/bin/python3
: "${MIGRATE_PG_PORT:?}" "${MIGRATE_PG_SOCKET:?}" "${MIGRATE_MONGO_URI:?}"

dir="$WORK/mongo-versions"
rm -rf "$dir"
mkdir -p "$dir/tree/postgres/core" "$dir/tree/mongodb/core"
PGOPTIONS='-c client_min_messages=warning' psql -X -q -h "$MIGRATE_PG_SOCKET" -p "$MIGRATE_PG_PORT" -U postgres -d postgres \
	-c "DROP DATABASE IF EXISTS bench_mongo_versions" -c "CREATE DATABASE bench_mongo_versions OWNER app" >/dev/null
"$PY" "$src/tests/lib/mongo_cmd.py" "$MIGRATE_MONGO_URI" bench_mongo_versions '{"dropDatabase": 1}' >/dev/null
"$PY" - "$dir/tree/mongodb/core" "$N" <<'PY'
import json, os, sys
out, n = sys.argv[1], int(sys.argv[2])
for v in range(1, n + 1):
    cmd = [{"update": "counters", "updates": [
        {"q": {"_id": v % 10}, "u": {"$inc": {"n": 1}}, "upsert": True}]}]
    with open(os.path.join(out, "%05d_step.up.json" % v), "w") as f:
        json.dump(cmd, f)
PY
cat >"$dir/config.yaml" <<YAML
postgres:
  dsn: "postgres://app:${MIGRATE_PG_PASSWORD:-s3cret-Pa55}@127.0.0.1:$MIGRATE_PG_PORT/bench_mongo_versions"
mongodb:
  uri: "$MIGRATE_MONGO_URI"
  database: bench_mongo_versions
root: tree
modules: {}
YAML

stats() { "$PY" "$src/tests/lib/mongo_cmd.py" "$MIGRATE_MONGO_URI" admin '{"standinStats": 1}' >"$1"; }
diff_stats() { # BEFORE AFTER: "commands writes breakdown"
	"$PY" - "$1" "$2" <<'PY'
import json, sys
a, b = (json.load(open(p)) for p in sys.argv[1:3])
ca, cb = a.get("commands", {}), b.get("commands", {})
d = {k: cb.get(k, 0) - ca.get(k, 0) for k in cb if cb.get(k, 0) != ca.get(k, 0)}
print(sum(d.values()), b["writes"] - a["writes"], ",".join(f"{k}={v}" for k, v in sorted(d.items())))
PY
}

stats "$dir/s0.json"
start=$(date +%s%N)
"$MIG" up --config "$dir/config.yaml" >"$dir/up.out" || { echo "bench: mongo versions: up failed" >&2; exit 1; }
[ "$(grep -c '^applied mongodb core/' "$dir/up.out")" = "$N" ] ||
	{ echo "bench: mongo versions: up did not apply $N files" >&2; exit 1; }
ms=$(( ($(date +%s%N) - start) / 1000000 ))
stats "$dir/s1.json"
"$MIG" up -q --config "$dir/config.yaml" || { echo "bench: mongo versions: no-op up failed" >&2; exit 1; }
stats "$dir/s2.json"
read -r UP UP_W UP_DETAIL < <(diff_stats "$dir/s0.json" "$dir/s1.json")
read -r NOOP NOOP_W NOOP_DETAIL < <(diff_stats "$dir/s1.json" "$dir/s2.json")
applied=$("$PY" "$src/tests/lib/mongo_cmd.py" "$MIGRATE_MONGO_URI" bench_mongo_versions \
	'{"count": "schema_migrations", "query": {"dirty": false}}' | "$PY" -c 'import json,sys; print(json.load(sys.stdin)["n"])')
[ "$applied" = "$N" ] || { echo "bench: mongo versions: $applied of $N recorded" >&2; exit 1; }
per=$(awk -v c="$UP" -v n="$N" 'BEGIN { printf "%.3f", c / n }')
fixed=$((UP - 2 * N))
echo
echo "MongoDB versioned migrations against the stand-in ($N one-command files, up in $ms ms):"
echo "  up:       $UP commands ($UP_DETAIL)"
echo "  no-op up: $NOOP commands ($NOOP_DETAIL)"
printf '%-44s %12s %8s %16s %5s\n' "up $N one-command MongoDB migrations" "$UP cmds" "$per/mig" "<= 2/mig + const" \
	"$( ((fixed >= 0 && fixed <= 10)) && echo yes || echo NO)"
printf '%-44s %12s %8s %16s %5s\n' "  beyond 2 per migration (lock, ledger read...)" "$fixed" "-" "-" "-"
printf '%-44s %12s %8s %16s %5s\n' "no-op up over $N applied" "$NOOP cmds" "-" "1 find + lock" \
	"$(echo "$NOOP_DETAIL" | grep -q '^createIndexes=1,delete=1,endSessions=1,find=1,insert=1$' && echo yes || echo NO)"
echo "(the lock is an insert, the TTL index's createIndexes and a delete; endSessions is libmongoc ending its implicit session)"

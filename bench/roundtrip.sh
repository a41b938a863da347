#!/usr/bin/env bash
# The roundtrip figure of the benchmark (called by bench/run.sh, or alone against a
# running server): `migrate roundtrip` of the whole 1,000-migration table+index tree
# (up, down, up of every migration on a shadow, each compared by schema snapshots)
# against what the same work costs without the checks, measured in the same run: `up`
# of the tree, `down` of every version (module by module, last module first), and `up`
# again, on a database of the same server. Target: roundtrip <= 3x that. The roundtrip
# runs as a user runs it (its stretches at once, a shadow per CPU up to 4), then with
# --parallel 1 (one shadow), whose report must be the same.
#
#   bench/roundtrip.sh MIGRATE_BIN TREES_DIR [RUNS]   (TREES_DIR: bench/gen.py's output)
# Environment: MIGRATE_PG_PORT, MIGRATE_PG_SOCKET (scripts/pg-server.sh), MIGRATE_PG_PASSWORD.
set -euo pipefail

MIG=$1 G=$2 RUNS=${3:-1}
PSQL=$(pg_config --bindir)/psql
PASS=${MIGRATE_PG_PASSWORD:-s3cret-Pa55}
DB=bench_roundtrip
W=$(mktemp -d /tmp/migrate-bench-roundtrip.XXXXXX)
trap 'rm -rf "$W"' EXIT

die() { echo "bench/roundtrip: $*" >&2; exit 1; }
admin() { PGOPTIONS='-c client_min_messages=warning' "$PSQL" -X -q -A -t -v ON_ERROR_STOP=1 -h "$MIGRATE_PG_SOCKET" -p "$MIGRATE_PG_PORT" -U postgres -d postgres "$@"; }
now_us() { echo "${EPOCHREALTIME/./}"; }
median() { sort -n | awk '{a[NR] = $1} END { m = NR % 2 ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2; printf "%.0f", m }'; }

admin -c "ALTER ROLE app CREATEDB" >/dev/null
CFG=$G/roundtrip.yaml # beside the tree: its root: is relative to the config
sed "s|dsn: \".*\"|dsn: \"postgres://app:$PASS@127.0.0.1:$MIGRATE_PG_PORT/$DB\"|" "$G/table.yaml" >"$CFG"
admin -c "DROP DATABASE IF EXISTS $DB WITH (FORCE)" -c "CREATE DATABASE $DB OWNER app" >/dev/null
# the modules in plan order (core first, then the config's), as `status` lists them
mapfile -t MODULES < <("$MIG" status --config "$CFG" --format json | jq -r '.postgres.modules[].module')
[ "${#MODULES[@]}" -gt 0 ] || die "no module listed by migrate status"
COUNT=$(find "$G/table" -name '*.up.sql' | wc -l)

for ((r = 1; r <= RUNS; r++)); do
	admin -c "DROP DATABASE IF EXISTS $DB WITH (FORCE)" -c "CREATE DATABASE $DB OWNER app" -c "CHECKPOINT" >/dev/null
	t0=$(now_us)
	"$MIG" up -q --config "$CFG" || die "up failed"
	for ((i = ${#MODULES[@]} - 1; i >= 0; i--)); do
		n=$(find "$G/table/postgres/${MODULES[i]}" -name '*.down.sql' | wc -l)
		[ "$n" = 0 ] || "$MIG" down -q --config "$CFG" --module "${MODULES[i]}" --steps "$n" || die "down of ${MODULES[i]} failed"
	done
	"$MIG" up -q --config "$CFG" || die "second up failed"
	t1=$(now_us)
	echo $(((t1 - t0) / 1000)) >>"$W/ref"
	admin -c "DROP DATABASE $DB WITH (FORCE)" -c "CREATE DATABASE $DB OWNER app" -c "CHECKPOINT" >/dev/null
	t0=$(now_us)
	"$MIG" roundtrip --config "$CFG" >"$W/rt.out" || die "roundtrip failed: $(tail -3 "$W/rt.out")"
	t1=$(now_us)
	echo $(((t1 - t0) / 1000)) >>"$W/rt"
	grep -q "^roundtrip: $COUNT migrations tested, 0 failed" "$W/rt.out" || die "unexpected summary: $(tail -1 "$W/rt.out")"
	# the same with one shadow (--parallel 1): what the split into stretches gives
	t0=$(now_us)
	"$MIG" roundtrip --parallel 1 --config "$CFG" >"$W/rt1.out" || die "roundtrip --parallel 1 failed: $(tail -3 "$W/rt1.out")"
	t1=$(now_us)
	echo $(((t1 - t0) / 1000)) >>"$W/rt1"
	cmp -s "$W/rt.out" "$W/rt1.out" || die "roundtrip --parallel 1 reported otherwise"
done
admin -c "DROP DATABASE $DB WITH (FORCE)" >/dev/null
[ "$(admin -c "SELECT count(*) FROM pg_database WHERE datname LIKE 'migrate\_shadow\_%'")" = 0 ] ||
	die "a shadow database was left behind"
REF=$(median <"$W/ref") RT=$(median <"$W/rt") RT1=$(median <"$W/rt1")
R=$(awk -v a="$RT" -v b="$REF" 'BEGIN { printf "%.2f", (b > 0 ? a / b : 0) }')
R1=$(awk -v a="$RT1" -v b="$REF" 'BEGIN { printf "%.2f", (b > 0 ? a / b : 0) }')
CPUS=$(nproc)
echo "roundtrip: $COUNT migrations; samples (ms) migrate roundtrip: $(paste -sd' ' "$W/rt") | --parallel 1: $(paste -sd' ' "$W/rt1") | up + down (all) + up: $(paste -sd' ' "$W/ref")"
printf '%-44s %12s %8s %16s %5s\n' "roundtrip, $COUNT migrations (whole history, $((CPUS < 4 ? CPUS : 4)) shadows)" "$RT ms" "${R}x" "<= 3.00x up+down+up" \
	"$(awk -v a="$R" 'BEGIN { print (a <= 3.0) ? "yes" : "NO" }')"
printf '%-44s %12s %8s %16s\n' "roundtrip, $COUNT migrations, --parallel 1" "$RT1 ms" "${R1}x" "(one shadow)"

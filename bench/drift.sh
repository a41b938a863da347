#!/usr/bin/env bash
# The drift figure of the benchmark (called by bench/run.sh, or alone against a running
# server): `migrate drift` on a database holding the 1,000-migration table+index tree,
# against what a user does by hand today: `pg_dump --schema-only` of the live database
# and of one built from the same history, and a `diff`. The shadow build and drop (migrate) and
# the reference database build (the user's) are reported apart, not in the ratio. The first
# run finds no template of the history and builds it; the later ones clone it: both shadow
# builds are printed, and the whole command against the hand-made way with a cached template.
# Each run then drifts once more with drift's cache of the expected schema warm (a file
# per template, ${XDG_CACHE_HOME}/migrate/snapshots/, here in the work directory): one
# snapshot of the live database and the comparison, the whole command against the same
# reference (target <= 0.6x). The cold runs remove that file first.
#
#   bench/drift.sh MIGRATE_BIN TREES_DIR RUNS    (TREES_DIR: bench/gen.py's output)
# Environment: MIGRATE_PG_PORT, MIGRATE_PG_SOCKET (scripts/pg-server.sh), MIGRATE_PG_PASSWORD.
set -euo pipefail

MIG=$1 G=$2 RUNS=${3:-5}
PG_DUMP=$(pg_config --bindir)/pg_dump
PSQL=$(pg_config --bindir)/psql
PASS=${MIGRATE_PG_PASSWORD:-s3cret-Pa55}
LIVE="postgres://app:$PASS@127.0.0.1:$MIGRATE_PG_PORT/bench_drift"
REF="postgres://app:$PASS@127.0.0.1:$MIGRATE_PG_PORT/bench_drift_ref"
W=$(mktemp -d /tmp/migrate-bench-drift.XXXXXX)
trap 'rm -rf "$W"' EXIT
export XDG_CACHE_HOME=$W/cache

die() { echo "bench/drift: $*" >&2; exit 1; }
admin() { PGOPTIONS='-c client_min_messages=warning' "$PSQL" -X -q -A -t -v ON_ERROR_STOP=1 -h "$MIGRATE_PG_SOCKET" -p "$MIGRATE_PG_PORT" -U postgres -d postgres "$@"; }
now_us() { echo "${EPOCHREALTIME/./}"; }
median() { sort -n | awk '{a[NR] = $1} END { m = NR % 2 ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2; printf "%.1f", m }'; }

admin -c "ALTER ROLE app CREATEDB" >/dev/null
for db in bench_drift bench_drift_ref; do
	admin -c "DROP DATABASE IF EXISTS $db WITH (FORCE)" -c "CREATE DATABASE $db OWNER app" >/dev/null
done
sed "s|dsn: \".*\"|dsn: \"$LIVE\"|" "$G/table.yaml" >"$G/drift_live.yaml"
sed "s|dsn: \".*\"|dsn: \"$REF\"|" "$G/table.yaml" >"$G/drift_ref.yaml"
"$MIG" up -q --config "$G/drift_live.yaml" || die "up of the live database failed"
t0=$(now_us)
"$MIG" up -q --config "$G/drift_ref.yaml" || die "up of the reference database failed"
REF_BUILD_MS=$((($(now_us) - t0) / 1000))

# a template of this history left by an earlier run would make every run a clone
"$MIG" drift --config "$G/drift_live.yaml" >"$W/drift.out" || die "drift failed: $(tail -3 "$W/drift.out")"
TPL=$(sed -n 's/.*template \(migrate_tpl_[0-9a-f]*\);.*/\1/p' "$W/drift.out")
[ -n "$TPL" ] || die "no template named in: $(tail -1 "$W/drift.out")"
UNCACHED_MS=
if grep -q 'cloned from cached template' "$W/drift.out"; then
	admin -c "ALTER DATABASE $TPL WITH IS_TEMPLATE false" -c "DROP DATABASE $TPL" >/dev/null
	RUNS=$((RUNS + 1)) # the first sample builds it again
else
	UNCACHED_MS=$(sed -n 's/.*shadow built in \([0-9]*\) ms.*/\1/p' "$W/drift.out")
fi
for ((r = 1; r <= RUNS; r++)); do
	rm -rf "$XDG_CACHE_HOME"
	t0=$(now_us)
	"$MIG" drift --config "$G/drift_live.yaml" >"$W/drift.out" || die "drift failed or found differences: $(tail -3 "$W/drift.out")"
	t1=$(now_us)
	build=$(sed -n 's/.*shadow built in \([0-9]*\) ms.*/\1/p' "$W/drift.out")
	dropped=$(sed -n 's/.*dropped in \([0-9]*\) ms.*/\1/p' "$W/drift.out")
	objects=$(sed -n 's/.*(\([0-9]*\) objects compared.*/\1/p' "$W/drift.out")
	[ -n "$build" ] && [ -n "$dropped" ] || die "no timing line in: $(tail -1 "$W/drift.out")"
	echo $(((t1 - t0) / 1000 - build - dropped)) >>"$W/m"
	if grep -q 'cloned from cached template' "$W/drift.out"; then
		echo "$build" >>"$W/build"
		echo $(((t1 - t0) / 1000)) >>"$W/whole"
	else
		UNCACHED_MS=$build
	fi
	echo "$dropped" >>"$W/drop"
	# the same history again: the expected schema comes from the cache the run above wrote
	t0=$(now_us)
	"$MIG" drift --config "$G/drift_live.yaml" >"$W/drift.out" || die "warm drift failed: $(tail -3 "$W/drift.out")"
	t1=$(now_us)
	grep -q 'read from the cache' "$W/drift.out" || die "the second drift did not use the cache: $(tail -1 "$W/drift.out")"
	echo $(((t1 - t0) / 1000)) >>"$W/warm"
	t0=$(now_us)
	"$PG_DUMP" --schema-only -d "$LIVE" -f "$W/live.sql"
	"$PG_DUMP" --schema-only -d "$REF" -f "$W/ref.sql"
	diff "$W/ref.sql" "$W/live.sql" >/dev/null || true
	t1=$(now_us)
	echo $(((t1 - t0) / 1000)) >>"$W/p"
done
paste "$W/m" "$W/p" | awk '{print ($2 > 0 ? $1 / $2 : 0)}' >"$W/r"
[ -n "$UNCACHED_MS" ] && [ -s "$W/build" ] || die "expected one run building the template, then cached clones"
M=$(median <"$W/m") P=$(median <"$W/p") B=$(median <"$W/build") D=$(median <"$W/drop")
WHOLE=$(median <"$W/whole") WARM=$(median <"$W/warm")
WR=$(awk -v a="$WHOLE" -v b="$P" 'BEGIN { printf "%.2f", (b > 0 ? a / b : 0) }')
paste "$W/warm" "$W/p" | awk '{print ($2 > 0 ? $1 / $2 : 0)}' >"$W/rw"
RW=$(sort -g "$W/rw" | awk '{a[NR] = $1} END { m = NR % 2 ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2; printf "%.2f", m }')
R=$(sort -g "$W/r" | awk '{a[NR] = $1} END { m = NR % 2 ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2; printf "%.2f", m }')
[ "$(admin -c "SELECT count(*) FROM pg_database WHERE datname LIKE 'migrate\_shadow\_%'")" = 0 ] ||
	die "a shadow database was left behind"
for db in bench_drift bench_drift_ref; do admin -c "DROP DATABASE $db WITH (FORCE)" >/dev/null; done
admin -c "ALTER DATABASE $TPL WITH IS_TEMPLATE false" -c "DROP DATABASE $TPL" >/dev/null
echo "drift: $objects objects; samples (ms) migrate drift without the shadow build: $(paste -sd' ' "$W/m") | pg_dump x2 + diff: $(paste -sd' ' "$W/p"); shadow build without a template $UNCACHED_MS ms (first run), cloned from the cached template $B ms, drop $D ms, not in the ratio (building the reference by hand: $REF_BUILD_MS ms); whole drift command with a cached template $WHOLE ms = ${WR}x pg_dump x2 + diff; with the expected schema cached (warm): $(paste -sd' ' "$W/warm") ms"
printf '%-44s %12s %8s %16s %5s\n' "drift, $objects objects (no shadow build)" "$M ms" "${R}x" "<= 1.00x dump" \
	"$(awk -v a="$R" 'BEGIN { print (a <= 1.0) ? "yes" : "NO" }')"
printf '%-44s %12s %8s %16s %5s\n' "drift, cached template (whole command)" "$WHOLE ms" "${WR}x" "<= 1.00x dump" \
	"$(awk -v a="$WR" 'BEGIN { print (a <= 1.0) ? "yes" : "NO" }')"
printf '%-44s %12s %8s %16s %5s\n' "drift, warm cache (whole command)" "$WARM ms" "${RW}x" "<= 0.60x dump" \
	"$(awk -v a="$RW" 'BEGIN { print (a <= 0.6) ? "yes" : "NO" }')"

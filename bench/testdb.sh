#!/usr/bin/env bash
# Test databases (`migrate testdb create`) against `migrate up` on the 1,000-migration
# table+index tree, in the same run, PostgreSQL with fsync on: the first create (template
# build) and creates from the existing template, as ratios to `up` from empty; the median
# of 20 clones; and a plain CREATE DATABASE … TEMPLATE with each STRATEGY, for the choice
# in src/driver/pg_scratch.c.
#
#   bench/testdb.sh [BUILD_DIR]       standalone: own server and tree (BENCH_N, BENCH_RUNS)
#   called by bench/run.sh with MIG, G (its generated trees), MIGRATE_PG_PORT and
#   MIGRATE_PG_SOCKET set: reuses its server and tree.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
src=$(cd "$here/.." && pwd)
RUNS=${BENCH_RUNS:-5}
CLONES=${BENCH_CLONES:-20}
PLAIN=${BENCH_PLAIN:-2} # plain CREATE DATABASE runs per strategy (FILE_COPY takes minutes)
die() { echo "bench: $*" >&2; exit 1; }
log() { printf '[%s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }

if [ -z "${G:-}" ]; then
	N=${BENCH_N:-1000}
	BUILD=${1:-${BENCH_BUILD_DIR:-$here/.build}}
	if [ ! -f "$BUILD/build.ninja" ]; then
		meson setup "$BUILD" "$src" --buildtype=release >/dev/null || die "meson setup failed"
	fi
	ninja -C "$BUILD" migrate >/dev/null || die "build failed"
	MIG=$(cd "$BUILD" && pwd)/migrate
	OWN=$(mktemp -d /tmp/migrate-bench-testdb.XXXXXX)
	chmod 755 "$OWN"
	trap '"$src/scripts/pg-server.sh" stop "$OWN/pg" || true; rm -rf "$OWN"' EXIT
	log "starting PostgreSQL (fsync=on) in $OWN"
	eval "$("$src/scripts/pg-server.sh" start "$OWN/pg" fsync=on)"
	G=$OWN/g
	log "generating the $N-migration table+index tree"
	/usr/bin/python3 "$here/gen.py" "$G" "postgres://unused@127.0.0.1:1/x" "mongodb://127.0.0.1:1" \
		"$N" 10 1 10 >/dev/null
fi
: "${MIG:?}" "${MIGRATE_PG_PORT:?}" "${MIGRATE_PG_SOCKET:?}"

admin() {
	PGOPTIONS='-c client_min_messages=warning' psql -X -q -A -t -v ON_ERROR_STOP=1 \
		-h "$MIGRATE_PG_SOCKET" -p "$MIGRATE_PG_PORT" -U postgres -d postgres "$@"
}
# the table tree's config, as the superuser (CREATEDB) over the socket, database tdb_up
CFG=$G/testdb.yaml
sed "s|^  dsn: .*|  dsn: \"host=$MIGRATE_PG_SOCKET port=$MIGRATE_PG_PORT user=postgres dbname=tdb_up\"|" \
	"$G/table.yaml" >"$CFG"
drop_scratch() {
	local d
	for d in $(admin -c "SELECT datname FROM pg_database WHERE datname LIKE 'migrate\_%'"); do
		admin -c "ALTER DATABASE $d IS_TEMPLATE false" -c "DROP DATABASE $d WITH (FORCE)"
	done
}
ms_of() { # CMD...: wall time in ms (3 decimals)
	local t0 t1
	t0=${EPOCHREALTIME/./}
	"$@" >/dev/null || die "'$*' failed"
	t1=${EPOCHREALTIME/./}
	awk -v d=$((t1 - t0)) 'BEGIN { printf "%.3f\n", d / 1000 }'
}
median() { sort -g | awk '{a[NR] = $1} END { m = NR % 2 ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2; printf "%.1f", m }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", (b > 0 ? a / b : 0) }'; }
le() { awk -v a="$1" -v b="$2" 'BEGIN { print (a <= b) ? "yes" : "NO" }'; }

W=$(mktemp -d /tmp/migrate-bench-testdb-s.XXXXXX)
log "testdb: $RUNS x (template build, up from empty), then $CLONES clones"
for ((i = 0; i < RUNS; i++)); do
	drop_scratch
	admin -c "CHECKPOINT"
	ms_of "$MIG" testdb create -q --config "$CFG" >>"$W/build"
	admin -c "DROP DATABASE IF EXISTS tdb_up" -c "CREATE DATABASE tdb_up" -c "CHECKPOINT"
	ms_of "$MIG" up -q --config "$CFG" >>"$W/up"
done
drop_scratch
"$MIG" testdb create -q --config "$CFG" >/dev/null
admin -c "CHECKPOINT"
for ((i = 0; i < CLONES; i++)); do
	ms_of "$MIG" testdb create -q --config "$CFG" >>"$W/clone"
done
TPL=$(admin -c "SELECT datname FROM pg_database WHERE datname LIKE 'migrate\_tpl\_%'")
for strategy in FILE_COPY WAL_LOG; do
	for ((i = 0; i < PLAIN; i++)); do
		ms_of admin -c "CREATE DATABASE tdb_plain TEMPLATE $TPL STRATEGY $strategy" >>"$W/$strategy"
		admin -c "DROP DATABASE tdb_plain"
	done
done
drop_scratch
admin -c "DROP DATABASE IF EXISTS tdb_up"

UP=$(median <"$W/up") BUILD_MS=$(median <"$W/build") CLONE=$(median <"$W/clone")
FC=$(median <"$W/FILE_COPY") WL=$(median <"$W/WAL_LOG")
R_BUILD=$(ratio "$BUILD_MS" "$UP") R_CLONE=$(ratio "$CLONE" "$UP")
rm -rf "$W"
f1() { printf '%-44s %12s %8s %16s %5s\n' "$@"; }
echo
echo "testdb, $(grep -c . <(find "$G/table/postgres" -name '*.up.sql')) migrations (table+index), fsync=$(admin -c 'SHOW fsync'), medians in ms (up from empty: $UP)"
f1 "FIGURE" "VALUE" "RATIO" "TARGET" "MET?"
f1 "testdb create, first (template build)" "$BUILD_MS ms" "${R_BUILD}x" "<= 1.10x up" "$(le "$R_BUILD" 1.10)"
f1 "testdb create, template exists ($CLONES)" "$CLONE ms" "${R_CLONE}x" "<= 0.15x up" "$(le "$R_CLONE" 0.15)"
f1 "  plain CREATE DATABASE, FILE_COPY" "$FC ms" "$(ratio "$FC" "$UP")x" "-" "-"
f1 "  plain CREATE DATABASE, WAL_LOG" "$WL ms" "$(ratio "$WL" "$UP")x" "-" "-"

#!/usr/bin/env bash
# Seed data: `migrate seed --data` loading one file of 10,000 rows against psql running the
# same file, in one run, PostgreSQL with fsync on. Two shapes of the file: 10,000 one-row
# INSERT statements, and one INSERT of 10,000 rows. migrate loads a seed file in one
# transaction, so the like-for-like reference is `psql -1 -f` (also one transaction);
# plain `psql -f` (a commit per statement) is printed beside it. Before every sample the
# table is emptied and the seed's record removed (not timed), so every sample loads.
#
#   bench/seed.sh [BUILD_DIR]   BUILD_DIR defaults to bench/.build (release build)
#
# Environment: BENCH_RUNS (11) rounds, median ratio printed; BENCH_SEED_ROWS (10000);
# BENCH_SEED_PLAIN_RUNS (3): rounds that also time plain `psql -f` of the one-row INSERTs
# (10,000 commits with fsync on: tens of seconds each).
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
src=$(cd "$here/.." && pwd)
RUNS=${BENCH_RUNS:-11}
ROWS=${BENCH_SEED_ROWS:-10000}
PLAIN=${BENCH_SEED_PLAIN_RUNS:-3}
BUILD=${1:-${BENCH_BUILD_DIR:-$here/.build}}
die() { echo "bench: $*" >&2; exit 1; }
log() { printf '[%s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
command -v pg_config >/dev/null || die "pg_config is not installed"
PSQL=$(pg_config --bindir)/psql # not Debian's pg_wrapper, which adds 30-40 ms a call

if [ -n "${BENCH_MIGRATE:-}" ]; then # an installed binary, as bench/run.sh allows
	MIG=$BENCH_MIGRATE
else
	if [ ! -f "$BUILD/build.ninja" ]; then
		meson setup "$BUILD" "$src" --buildtype=release >/dev/null || die "meson setup failed"
	fi
	ninja -C "$BUILD" migrate >/dev/null || die "build failed"
	MIG=$(cd "$BUILD" && pwd)/migrate
fi

W=$(mktemp -d /tmp/migrate-bench-seed.XXXXXX)
chmod 755 "$W"
trap '"$src/scripts/pg-server.sh" stop "$W/pg" || true; rm -rf "$W"' EXIT
log "starting PostgreSQL (fsync=on) in $W"
eval "$("$src/scripts/pg-server.sh" start "$W/pg" fsync=on)"
DSN="postgres://app:${MIGRATE_PG_PASSWORD:-s3cret-Pa55}@127.0.0.1:$MIGRATE_PG_PORT/app"
admin() {
	PGOPTIONS='-c client_min_messages=warning' "$PSQL" -X -q -A -t -v ON_ERROR_STOP=1 \
		-h "$MIGRATE_PG_SOCKET" -p "$MIGRATE_PG_PORT" -U postgres -d app "$@"
}

# the tree: one table, the two seed files (in two modules, each loaded with --module)
T=$W/tree
mkdir -p "$T/migrations/postgres/core/seed" "$T/migrations/postgres/bulk/seed"
printf 'CREATE TABLE people (id int PRIMARY KEY, name text NOT NULL, email text NOT NULL);\n' \
	>"$T/migrations/postgres/core/001_people.up.sql"
{
	printf -- '-- migrate:env bench\n'
	for ((i = 1; i <= ROWS; i++)); do
		printf "INSERT INTO people (id, name, email) VALUES (%d, 'person %d', 'p%d@example.com');\n" "$i" "$i" "$i"
	done
} >"$T/migrations/postgres/core/seed/rows.sql"
{
	printf -- '-- migrate:env bench\nINSERT INTO people (id, name, email) VALUES\n'
	for ((i = 1; i <= ROWS; i++)); do
		printf "(%d, 'person %d', 'p%d@example.com')%s\n" "$i" "$i" "$i" "$([ "$i" = "$ROWS" ] && echo ';' || echo ',')"
	done
} >"$T/migrations/postgres/bulk/seed/values.sql"
printf 'postgres:\n  dsn: "%s"\n  lint: off\nenvironment: bench\nmodules:\n  bulk: {}\n' "$DSN" >"$T/config.yaml"
(cd "$T" && "$MIG" up -q) || die "up failed"
admin -c "CHECKPOINT" >/dev/null

empty() { admin -c "TRUNCATE people" -c "DELETE FROM schema_migrations_seeds" 2>/dev/null || admin -c "TRUNCATE people"; }
loaded() { [ "$(admin -c "SELECT count(*) FROM people")" = "$ROWS" ] || die "$1: people does not hold $ROWS rows"; }
ms() { # CMD...: wall ms of one run
	local t0 t1
	t0=${EPOCHREALTIME/./}
	"$@" >/dev/null || die "'$*' failed"
	t1=${EPOCHREALTIME/./}
	awk -v d=$((t1 - t0)) 'BEGIN { printf "%.2f\n", d / 1000 }'
}
mig_seed() { (cd "$T" && "$MIG" seed --data -q --module "$1"); }
psql_file() { "$PSQL" -X -q -v ON_ERROR_STOP=1 -d "$DSN" "$@"; }

median() { sort -g | awk '{a[NR] = $1} END { m = NR % 2 ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2; printf "%.2f", m }'; }
for shape in core bulk; do
	file=$T/migrations/postgres/$shape/seed/$([ $shape = core ] && echo rows || echo values).sql
	log "$shape: $RUNS rounds of migrate seed --data, psql -1 -f, psql -f (order rotating)"
	for ((r = 0; r < RUNS; r++)); do
		for k in 0 1 2; do
			case $(((r + k) % 3)) in
			0)
				empty
				m=$(ms mig_seed "$shape")
				loaded migrate
				# it loaded through its ledger: the file's record is written
				[ "$(admin -c "SELECT count(*) FROM schema_migrations_seeds")" = 1 ] || die "no seed record"
				echo "$m" >>"$W/$shape.m"
				;;
			1) empty; p=$(ms psql_file -1 -f "$file"); loaded "psql -1"; echo "$p" >>"$W/$shape.p1" ;;
			2)
				if [ "$shape" = bulk ] || ((r < PLAIN)); then
					empty
					q=$(ms psql_file -f "$file")
					loaded psql
					echo "$q" >>"$W/$shape.p"
				fi
				;;
			esac
		done
	done
	paste "$W/$shape.m" "$W/$shape.p1" | awk '{ printf "%.4f\n", $1 / $2 }' >"$W/$shape.r1"
done

echo
echo "seed --data of $ROWS rows, medians of $RUNS rounds (load: $(cut -d' ' -f1-3 /proc/loadavg))"
printf '%-50s %10s %8s %14s %5s\n' "FIGURE" "VALUE" "RATIO" "TARGET" "MET?"
for shape in core bulk; do
	what=$([ $shape = core ] && echo "$ROWS one-row INSERTs" || echo "one INSERT of $ROWS rows")
	R1=$(median <"$W/$shape.r1")
	printf '%-50s %10s %8s %14s %5s\n' "seed --data, $what" "$(median <"$W/$shape.m") ms" "${R1}x" \
		"<= 1.10x psql -1" "$(awk -v a="$R1" 'BEGIN { print (a <= 1.10) ? "yes" : "NO" }')"
	printf '%-50s %10s %8s %14s %5s\n' "  psql -1 -f (one transaction)" "$(median <"$W/$shape.p1") ms" "-" "-" "-"
	M=$(median <"$W/$shape.m") P=$(median <"$W/$shape.p")
	printf '%-50s %10s %8s %14s %5s\n' "  psql -f (a commit per statement; $(wc -l <"$W/$shape.p") runs)" "$P ms" \
		"$(awk -v a="$M" -v b="$P" 'BEGIN { printf "%.2f", a / b }')x" "-" "-"
done

#!/usr/bin/env bash
# Repeatable migrations: a no-op `migrate up` over a tree with 100 unchanged repeatables
# against the same tree without them (100 versioned files each), in one run, PostgreSQL
# with fsync on. Each no-op up of the larger tree reads and hashes every repeatable and
# reads schema_migrations_repeatable once. Runs are paired and alternated.
#
#   bench/repeatables.sh [BUILD_DIR]   BUILD_DIR defaults to bench/.build (release build)
#
# Environment: BENCH_RUNS (15) pairs, median ratio printed; BENCH_REPS (10) invocations
# per timed sample; BENCH_REPEATABLES (100); BENCH_VERSIONS (100).
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
src=$(cd "$here/.." && pwd)
RUNS=${BENCH_RUNS:-15}
REPS=${BENCH_REPS:-10}
NREP=${BENCH_REPEATABLES:-100}
NVER=${BENCH_VERSIONS:-100}
BUILD=${1:-${BENCH_BUILD_DIR:-$here/.build}}
die() { echo "bench: $*" >&2; exit 1; }
log() { printf '[%s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }

if [ ! -f "$BUILD/build.ninja" ]; then
	meson setup "$BUILD" "$src" --buildtype=release >/dev/null || die "meson setup failed"
fi
ninja -C "$BUILD" migrate >/dev/null || die "build failed"
MIG=$(cd "$BUILD" && pwd)/migrate

W=$(mktemp -d /tmp/migrate-bench-repeatables.XXXXXX)
chmod 755 "$W"
trap '"$src/scripts/pg-server.sh" stop "$W/pg" || true; rm -rf "$W"' EXIT
log "starting PostgreSQL (fsync=on) in $W"
eval "$("$src/scripts/pg-server.sh" start "$W/pg" fsync=on)"
admin() {
	PGOPTIONS='-c client_min_messages=warning' psql -X -q -A -t -v ON_ERROR_STOP=1 \
		-h "$MIGRATE_PG_SOCKET" -p "$MIGRATE_PG_PORT" -U postgres -d postgres "$@"
}

# tree TREE DB WITH_REPEATABLES: NVER versions (a table each) and NREP views or none
tree() {
	local dir=$W/$1/migrations/postgres/core i
	mkdir -p "$dir"
	for ((i = 1; i <= NVER; i++)); do
		printf 'CREATE TABLE t%d (id int PRIMARY KEY, v text);\n' "$i" >"$(printf '%s/%03d_t%d.up.sql' "$dir" "$i" "$i")"
	done
	if [ "$3" = 1 ]; then
		mkdir -p "$dir/repeatable"
		for ((i = 1; i <= NREP; i++)); do
			printf -- '-- a view kept as one file\nCREATE OR REPLACE VIEW v%d AS SELECT id, v FROM t%d WHERE id > %d;\n' \
				"$i" "$(((i - 1) % NVER + 1))" "$i" >"$dir/repeatable/v$(printf '%03d' "$i").sql"
		done
	fi
	printf 'postgres:\n  dsn: "postgres://app:%s@127.0.0.1:%s/%s"\n  lint: off\n' \
		"${MIGRATE_PG_PASSWORD:-s3cret-Pa55}" "$MIGRATE_PG_PORT" "$2" >"$W/$1/config.yaml"
	admin -c "CREATE DATABASE $2 OWNER app" >/dev/null
	(cd "$W/$1" && "$MIG" up -q) || die "up of $1 failed"
}
tree plain rb_plain 0
tree reps rb_reps 1
[ "$(admin -d rb_reps -c "SELECT count(*) FROM schema_migrations_repeatable")" = "$NREP" ] ||
	die "the repeatables did not all apply"
admin -c "CHECKPOINT" >/dev/null

sample() { # TREE: ms for REPS no-op ups
	local t0 t1 k
	t0=${EPOCHREALTIME/./}
	for ((k = 0; k < REPS; k++)); do
		(cd "$W/$1" && "$MIG" up -q) || die "no-op up of $1 failed"
	done
	t1=${EPOCHREALTIME/./}
	awk -v d=$((t1 - t0)) -v r="$REPS" 'BEGIN { printf "%.3f\n", d / 1000 / r }'
}
median() { sort -g | awk '{a[NR] = $1} END { m = NR % 2 ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2; printf "%.2f", m }'; }
log "no-op up: $RUNS pairs of $REPS runs each, alternating which tree goes first"
for ((i = 0; i < RUNS; i++)); do
	if ((i % 2)); then
		p=$(sample plain) r=$(sample reps)
	else
		r=$(sample reps) p=$(sample plain)
	fi
	echo "$p" >>"$W/s_plain"
	echo "$r" >>"$W/s_reps"
	awk -v a="$r" -v b="$p" 'BEGIN { printf "%.4f\n", a / b }' >>"$W/ratio"
done
[ "$(admin -d rb_reps -c "SELECT count(*) FROM schema_migrations")" = "$NVER" ] || die "ledger changed"
# CPU time (user + system) of the migrate processes themselves: less disturbed by other
# load on the machine than wall time
cpu() { # TREE: ms of CPU per no-op up, over 5 * REPS runs
	local before after me=$BASHPID
	before=$(awk '{print $16 + $17}' "/proc/$me/stat")
	for ((k = 0; k < 5 * REPS; k++)); do
		(cd "$W/$1" && "$MIG" up -q) || die "no-op up of $1 failed"
	done
	after=$(awk '{print $16 + $17}' "/proc/$me/stat")
	awk -v t=$((after - before)) -v hz="$(getconf CLK_TCK)" -v n=$((5 * REPS)) \
		'BEGIN { printf "%.2f\n", t * 1000 / hz / n }'
}
CP=$(cpu plain) CR=$(cpu reps)
# instructions (callgrind), the one figure load cannot move; its top functions show where
# the difference goes
ir() { # TREE
	(cd "$W/$1" && valgrind --tool=callgrind --callgrind-out-file="$W/cg.$1" "$MIG" up -q) 2>/dev/null ||
		die "callgrind of $1 failed"
	awk '/^summary:/ {print $2}' "$W/cg.$1"
}
IP= IR=
if command -v valgrind >/dev/null; then
	IP=$(ir plain) IR=$(ir reps)
	# (head closes the pipe early: its SIGPIPE is no failure of the figure)
	[ -z "${BENCH_SHOW_TOP:-}" ] || { callgrind_annotate --inclusive=yes "$W/cg.reps" 2>/dev/null | head -40 >&2 || true; }
fi
P=$(median <"$W/s_plain") R=$(median <"$W/s_reps") RATIO=$(median <"$W/ratio")
MET=$(awk -v a="$RATIO" 'BEGIN { print (a <= 1.10) ? "yes" : "NO" }')
echo
echo "no-op up, $NVER versions, medians of $RUNS samples of $REPS runs (load: $(cut -d' ' -f1-3 /proc/loadavg))"
printf '%-46s %10s %8s %14s %5s\n' "FIGURE" "VALUE" "RATIO" "TARGET" "MET?"
printf '%-46s %10s %8s %14s %5s\n' "no-op up, no repeatables" "$P ms" "-" "-" "-"
printf '%-46s %10s %8s %14s %5s\n' "no-op up, $NREP unchanged repeatables" "$R ms" "${RATIO}x" "<= 1.10x" "$MET"
if [ -n "$IP" ]; then
	printf '%-46s %10s %8s %14s %5s\n' "  instructions, no repeatables" "$IP" "-" "-" "-"
	printf '%-46s %10s %8s %14s %5s\n' "  instructions, $NREP repeatables" "$IR" \
		"$(awk -v a="$IR" -v b="$IP" 'BEGIN { printf "%.2f", (b > 0 ? a / b : 0) }')x" "-" "-"
fi
printf '%-46s %10s %8s %14s %5s\n' "  CPU of migrate, no repeatables" "$CP ms" "-" "-" "-"
printf '%-46s %10s %8s %14s %5s\n' "  CPU of migrate, $NREP repeatables" "$CR ms" \
	"$(awk -v a="$CR" -v b="$CP" 'BEGIN { printf "%.2f", (b > 0 ? a / b : 0) }')x" "-" "-"

#!/usr/bin/env bash
# The migrate benchmark: a throwaway PostgreSQL (default settings, fsync on) and the
# MongoDB stand-in, generated migration trees, and migrate measured against psql doing
# the same work in the same run. See bench/README.md.
#
#   bench/run.sh [--pg 18[,13...]] [BUILD_DIR]   BUILD_DIR defaults to bench/.build (release)
#
# --pg LIST: after the figures on Debian's PostgreSQL 15, `up` of the mixed set again,
# migrate and psql in pairs, on a server of each version listed (scripts/pg-versions.sh).
#
# Environment: BENCH_RUNS (5) runs per figure, median printed; BENCH_N (1000) migrations
# per set; BENCH_BIG (10000) for the status/memory figures; BENCH_DOWN_STEPS (100);
# BENCH_REPS (10) invocations per timed sample of the fast figures (no-op up, status);
# BENCH_RT_N migrations for the round-trip count (BENCH_N/10: the core module);
# BENCH_MONGO_COLLECTIONS (100, 5 indexes each); BENCH_ROUNDTRIP=0 skips the whole-history
# roundtrip figure (bench/roundtrip.sh); BENCH_SEED=0 skips the seed --data figure
# (bench/seed.sh); BENCH_REPEATABLES_FIGURE=0 skips the repeatables figure
# (bench/repeatables.sh); BENCH_WORK (a new /tmp directory);
# BENCH_KEEP=1 keeps it; BENCH_MIGRATE=/usr/bin/migrate measures that binary (an
# installed package, with its own MongoDB module) instead of building one.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
src=$(cd "$here/.." && pwd)
PG_EXTRA=()
if [ "${1:-}" = --pg ]; then
	IFS=, read -r -a PG_EXTRA <<<"${2:?--pg takes a list of versions, such as 18}"
	shift 2
fi
RUNS=${BENCH_RUNS:-5}
N=${BENCH_N:-1000}
BIG=${BENCH_BIG:-10000}
DOWN_STEPS=${BENCH_DOWN_STEPS:-100}
REPS=${BENCH_REPS:-10}
MONGO_COLLS=${BENCH_MONGO_COLLECTIONS:-100}
BUILD=${1:-${BENCH_BUILD_DIR:-$here/.build}}
PY=/usr/bin/python3

die() { echo "bench: $*" >&2; exit 1; }
log() { printf '[%s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }

((N % 10 == 0 && BIG % 10 == 0)) || die "BENCH_N and BENCH_BIG must be multiples of 10 (10 modules)"
((DOWN_STEPS <= N / 10)) || die "BENCH_DOWN_STEPS must be at most BENCH_N/10 (one module's versions)"
RT_N=${BENCH_RT_N:-$((N / 10))}
((RT_N == N / 10)) || die "BENCH_RT_N is the core module's count, BENCH_N/10"
# the psql binary: /usr/bin/psql on Debian is a Perl wrapper (pg_wrapper) that adds
# 30-40 ms to every invocation and would flatter every per-invocation figure
command -v pg_config >/dev/null || die "pg_config is not installed"
PSQL=$(pg_config --bindir)/psql
for tool in "$PSQL" strace "$PY" /usr/bin/time meson ninja; do
	command -v "$tool" >/dev/null || die "$tool is not installed"
done

# ---- build ------------------------------------------------------------------------------
if [ -n "${BENCH_MIGRATE:-}" ]; then
	[ -x "$BENCH_MIGRATE" ] || die "BENCH_MIGRATE=$BENCH_MIGRATE is not an executable"
	log "measuring $BENCH_MIGRATE (not built here)"
	MIG=$BENCH_MIGRATE
else
	log "building a release build in $BUILD"
	if [ ! -f "$BUILD/build.ninja" ]; then
		meson setup "$BUILD" "$src" --buildtype=release >"${TMPDIR:-/tmp}/migrate-bench-setup.log" 2>&1 ||
			{ cat "${TMPDIR:-/tmp}/migrate-bench-setup.log" >&2; die "meson setup failed"; }
	fi
	ninja -C "$BUILD" migrate migrate-mongodb.so >/dev/null || die "build failed"
	MIG=$(cd "$BUILD" && pwd)/migrate
fi
# the same release build without object tracking (meson -Dbench_no_tracking, for this
# figure only): what tracking costs `up`
NT_BUILD=$BUILD-notrack
if [ ! -f "$NT_BUILD/build.ninja" ]; then
	meson setup "$NT_BUILD" "$src" --buildtype=release -Dbench_no_tracking=true \
		>"${TMPDIR:-/tmp}/migrate-bench-setup.log" 2>&1 ||
		{ cat "${TMPDIR:-/tmp}/migrate-bench-setup.log" >&2; die "meson setup (no tracking) failed"; }
fi
ninja -C "$NT_BUILD" migrate >/dev/null || die "build (no tracking) failed"
MIG_NT=$(cd "$NT_BUILD" && pwd)/migrate

# ---- servers ----------------------------------------------------------------------------
WORK=${BENCH_WORK:-$(mktemp -d /tmp/migrate-bench.XXXXXX)}
mkdir -p "$WORK/s"
chmod 755 "$WORK" # the server runs as postgres and must reach its directory
cleanup() {
	"$src/scripts/pg-server.sh" stop "$WORK/pg" || true
	for v in "${PG_EXTRA[@]}"; do "$src/scripts/pg-server.sh" stop "$WORK/pg$v" || true; done
	"$src/scripts/mongo-standin.sh" stop "$WORK/mongo-server" || true
	[ "${BENCH_KEEP:-0}" = 1 ] || rm -rf "$WORK"
}
trap cleanup EXIT

log "starting PostgreSQL (fsync=on) and the MongoDB stand-in in $WORK"
eval "$("$src/scripts/pg-server.sh" start "$WORK/pg" fsync=on)"
eval "$("$src/scripts/mongo-standin.sh" start "$WORK/mongo-server")"
DSN="postgres://app:${MIGRATE_PG_PASSWORD:-s3cret-Pa55}@127.0.0.1:$MIGRATE_PG_PORT/bench"

pg_admin() { # psql as the superuser over the private socket (setup only, never timed)
	PGOPTIONS='-c client_min_messages=warning' "$PSQL" -X -q -A -t -v ON_ERROR_STOP=1 -h "$MIGRATE_PG_SOCKET" -p "$MIGRATE_PG_PORT" -U postgres "$@"
}
reset_db() { # a fresh database `bench` with the table the INSERT migrations write to
	pg_admin -d postgres -c "DROP DATABASE IF EXISTS bench WITH (FORCE)" -c "CREATE DATABASE bench OWNER app"
	pg_admin -d bench -c "CREATE TABLE bench_settings (key text PRIMARY KEY, value text NOT NULL)" \
		-c "ALTER TABLE bench_settings OWNER TO app" -c "CHECKPOINT"
}
ledger_count() { pg_admin -d bench -c "SELECT count(*) FROM schema_migrations"; }
expect_ledger() { # COUNT WHAT
	local got
	got=$(ledger_count)
	[ "$got" = "$1" ] || die "$2: schema_migrations has $got rows, expected $1"
}

mig() { "$MIG" "$@" >/dev/null; }
psql_file() { "$PSQL" -X -q -v ON_ERROR_STOP=1 -d "$DSN" -f "$1" >/dev/null; }
psql_ledger() { "$PSQL" -X -q -A -t -d "$DSN" -c "$LEDGER_Q" >/dev/null; }

# timed KEY REPS CMD...: runs CMD REPS times, appends the mean wall time per run (µs)
timed() {
	local key=$1 reps=$2 i t0 t1
	shift 2
	t0=${EPOCHREALTIME/./}
	for ((i = 0; i < reps; i++)); do
		"$@" || die "$key: '$*' failed"
	done
	t1=${EPOCHREALTIME/./}
	echo $(((t1 - t0) / reps)) >>"$WORK/s/$key"
}
median_ms() { # KEY: median of the samples, in ms
	sort -n "$WORK/s/$1" | awk '{a[NR] = $1} END {
		m = NR % 2 ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2; printf "%.1f", m / 1000 }'
}
samples_ms() { sort -n "$WORK/s/$1" | awk '{printf "%s%.1f", (NR > 1 ? " " : ""), $1 / 1000}'; }
pair_ratio() { # KEY_M KEY_P: median over runs of migrate/psql, each pair run back to back
	paste "$WORK/s/$1" "$WORK/s/$2" | awk '{print ($2 > 0 ? $1 / $2 : 0)}' | sort -g | awk '{a[NR] = $1} END {
		m = NR % 2 ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2; printf "%.2f", m }'
}
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", (b > 0 ? a / b : 0) }'; }
le() { awk -v a="$1" -v b="$2" 'BEGIN { print (a <= b) ? "yes" : "NO" }'; }

strace_queries() { # TRACE_FILE: the SQL a traced run sent (simple and extended protocol), one a line
	"$PY" - "$1" <<'PY'
import re, struct, sys
for line in open(sys.argv[1], errors="replace"):
    m = re.search(r'sendto\(\d+, "(.*?)"(\.\.\.)?, \d+', line)
    if not m:
        continue
    data = m.group(1).encode().decode("unicode_escape").encode("latin-1")
    while len(data) >= 5:
        kind, size = data[:1], struct.unpack("!I", data[1:5])[0]
        body, data = data[5:1 + size], data[1 + size:]
        if kind == b"Q":
            print(body.split(b"\0")[0].decode(errors="replace"))
        elif kind == b"P":  # Parse: statement name, then the query
            print(body.split(b"\0")[1].decode(errors="replace"))
PY
}
sent_queries() { # TRACE_FILE CMD...: runs CMD under strace, prints the SQL it sent
	strace -f -qq -s 65536 -e trace=sendto -o "$1" "${@:2}" >/dev/null || die "strace ${*:2} failed"
	strace_queries "$1"
}
log "generating trees: $N table+index, $N one-statement, $N mixed, $BIG tiny; $MONGO_COLLS collections x 5 indexes"
G=$WORK/g
"$PY" "$here/gen.py" "$G" "$DSN" "$MIGRATE_MONGO_URI" "$N" "$BIG" "$DOWN_STEPS" "$MONGO_COLLS"
LAST=$(cat "$G/last_module")

# The psql limit uses what migrate itself creates and sends, taken from the running
# binary rather than copied from src/postgres/pg_ledger.c: the ledger tables (pg_dump of a ledger
# migrate created) and the ledger query (strace of `migrate status`).
reset_db
mig up --config "$G/probe.yaml"
pg_dump -h "$MIGRATE_PG_SOCKET" -p "$MIGRATE_PG_PORT" -U postgres -s -O -x -t 'public.schema_migrations*' bench \
	>"$G/ledger_ddl.sql" || die "pg_dump of the ledger failed"
LEDGER_Q=$(sent_queries "$WORK/status.strace" "$MIG" status --config "$G/probe.yaml" | grep -m1 '^SELECT module, version' || true)
[ -n "$LEDGER_Q" ] || die "cannot find the ledger query in an strace of 'migrate status'"

# ---- round trips per transactional migration ----------------------------------------
# strace records every send and receive on the socket (libpq uses send/recv, nothing
# else in these commands does); a round trip is a burst of sends followed by a receive.
# The same command run again (ledger present, nothing pending) gives the fixed cost of a
# run; the difference over the core module's RT_N migrations is the cost per migration.
# The ledger is created beforehand (by a one-migration module, probe) so that neither run
# includes creating it.
round_trips() { # TRACE_FILE CMD...: prints the client's round trips
	strace -f -qq -s 65536 -e trace=sendto,recvfrom,sendmsg,recvmsg,write,read -o "$1" "${@:2}" >/dev/null ||
		die "strace ${*:2} failed"
	awk '/ (sendto|sendmsg)\(/ {s = 1} / (recvfrom|recvmsg)\(/ {if (s) n++; s = 0} END {print n + 0}' "$1"
}
log "counting round trips (strace)"
declare -A RT
for set in table insert; do
	reset_db
	RT[p_fixed_$set]=$(round_trips "$WORK/rt2.tr" "$PSQL" -X -q -v ON_ERROR_STOP=1 -d "$DSN" -f "$G/empty.psql")
	reset_db
	RT[p_full_$set]=$(round_trips "$WORK/rt3.tr" "$PSQL" -X -q -v ON_ERROR_STOP=1 -d "$DSN" -f "$G/${set}_core.psql")
	expect_ledger "$RT_N" "round trips, psql $set"
	reset_db
	mig up --config "$G/probe.yaml" # creates the ledger
	RT[m_full_$set]=$(round_trips "$WORK/rt1.tr" "$MIG" up --config "$G/${set}_core.yaml")
	RT[m_fixed_$set]=$(round_trips "$WORK/rt0.tr" "$MIG" up --config "$G/${set}_core.yaml")
	expect_ledger "$((RT_N + 1))" "round trips, $set"
	RT[m_$set]=$(awk -v a="${RT[m_full_$set]}" -v b="${RT[m_fixed_$set]}" -v n="$RT_N" 'BEGIN { printf "%.2f", (a - b) / n }')
	RT[p_$set]=$(awk -v a="${RT[p_full_$set]}" -v b="${RT[p_fixed_$set]}" -v n="$RT_N" 'BEGIN { printf "%.2f", (a - b) / n }')
done
# a no-op `up` (nothing pending) against `psql -c LEDGER_Q`, the state left by the loop
RT[m_noop]=$(round_trips "$WORK/rt4.tr" "$MIG" up --config "$G/insert_core.yaml")
cp "$WORK/rt4.tr" "$WORK/noop-up.strace"
RT[p_noop]=$(round_trips "$WORK/rt5.tr" "$PSQL" -X -q -A -t -d "$DSN" -c "$LEDGER_Q")
RT[m_status]=$(round_trips "$WORK/rt6.tr" "$MIG" status --config "$G/insert_core.yaml")

# ---- up from empty: migrate and psql in pairs, the first of a pair alternating ----------
# (migrate first in odd runs, psql first in even ones: whatever the order costs, such as
# a checkpoint or writeback the earlier run left behind, falls on both alike)
up_migrate() { # SET
	reset_db
	timed "up_${1}_m" 1 mig up --config "$G/$1.yaml"
	expect_ledger "$N" "migrate up $1"
}
up_psql() { # SET
	reset_db
	timed "up_${1}_p" 1 psql_file "$G/$1.psql"
	expect_ledger "$N" "psql up $1"
}
up_untracked() { # SET: the build without object tracking
	reset_db
	timed "up_${1}_nt" 1 "$MIG_NT" up --config "$G/$1.yaml" >/dev/null
	expect_ledger "$N" "migrate (no tracking) up $1"
}
for set in table insert mixed; do
	for ((r = 1; r <= RUNS; r++)); do
		log "up $N $set: run $r/$RUNS"
		# the mixed set also runs the untracked build, right before or after migrate
		if ((r % 2)); then
			up_migrate "$set"
			[ "$set" != mixed ] || up_untracked "$set"
			up_psql "$set"
		else
			up_psql "$set"
			[ "$set" != mixed ] || up_untracked "$set"
			up_migrate "$set"
		fi
		# psql's framing alone (statements replaced by SELECT 1): the most that any
		# client sending a migration in one round trip could save
		[ "$set" = insert ] && continue
		reset_db
		timed "up_${set}_framing" 1 psql_file "$G/${set}_framing.psql"
	done
done

# ---- up with nothing pending, status, down: the table+index set applied -----------------
log "up with nothing pending and status at $N applied"
reset_db
mig up --config "$G/table.yaml"
expect_ledger "$N" "migrate up table"
mig up --config "$G/table.yaml"
psql_ledger
mig status --config "$G/table.yaml"
# the floor of any client that must connect: bare libpq (bench/floor.c), same DSN, connect
# and the ledger query, nothing else; a no-op up cannot get below it
cc -O2 -o "$WORK/floor" "$here/floor.c" $(pkg-config --cflags --libs libpq) || die "cannot build bench/floor.c"
floor_ledger() { "$WORK/floor" "$DSN" "$LEDGER_Q" >/dev/null; }
floor_ledger
for ((r = 1; r <= RUNS; r++)); do
	timed noop_m "$REPS" mig up --config "$G/table.yaml"
	timed noop_p "$REPS" psql_ledger
	timed noop_floor_m "$REPS" floor_ledger
	timed noop_floor_p "$REPS" psql_ledger
	timed status_m "$REPS" mig status --config "$G/table.yaml"
	timed status_p "$REPS" psql_ledger
done
expect_ledger "$N" "no-op up"

# ---- start-up: what every application boot pays (`check`), and the bare binary -----------
# psql is the binary doing the same: its --version, and one connect + one query for check.
log "start-up: --version, check; peak memory of status and a no-op up at $N applied"
CHECK_Q="SELECT version FROM schema_migrations WHERE module = 'core' ORDER BY version DESC LIMIT 1"
psql_version() { "$PSQL" --version >/dev/null; }
psql_check() { "$PSQL" -X -q -A -t -d "$DSN" -c "$CHECK_Q" >/dev/null; }
for ((r = 1; r <= RUNS; r++)); do
	timed version_m "$((REPS * 5))" mig --version
	timed version_p "$((REPS * 5))" psql_version
	timed check_m "$REPS" mig check --config "$G/table.yaml"
	timed check_p "$REPS" psql_check
done
peak_kib() { # CMD...: the highest peak RSS (KiB) of RUNS runs of CMD
	local r best=0 kib
	for ((r = 1; r <= RUNS; r++)); do
		/usr/bin/time -f '%M' -o "$WORK/peak.tmp" "$@" >/dev/null || die "'$*' failed"
		kib=$(tail -1 "$WORK/peak.tmp")
		((kib > best)) && best=$kib
	done
	echo "$best"
}
RSS_STATUS_N=$(peak_kib "$MIG" status --config "$G/table.yaml")
RSS_NOOP_N=$(peak_kib "$MIG" up --config "$G/table.yaml")
RSS_PSQL_LEDGER=$(peak_kib "$PSQL" -X -q -A -t -d "$DSN" -c "$LEDGER_Q")
MONGOC_LOADED=$(LD_DEBUG=files "$MIG" status --config "$G/table.yaml" 2>&1 >/dev/null |
	grep -c 'libmongoc' || true)

for ((r = 1; r <= RUNS; r++)); do
	log "down --steps $DOWN_STEPS: run $r/$RUNS"
	timed down_m 1 mig down --config "$G/table.yaml" --module "$LAST" --steps "$DOWN_STEPS"
	expect_ledger "$((N - DOWN_STEPS))" "migrate down"
	mig up --config "$G/table.yaml" --module "$LAST"
	pg_admin -d bench -c CHECKPOINT
	timed down_p 1 psql_file "$G/table_down.psql"
	expect_ledger "$((N - DOWN_STEPS))" "psql down"
	mig up --config "$G/table.yaml" --module "$LAST"
	pg_admin -d bench -c CHECKPOINT
done

# ---- 10,000 applied: peak memory and status ---------------------------------------------
log "up of $BIG migrations (peak memory)"
reset_db
/usr/bin/time -f '%M %e' -o "$WORK/rss_up" "$MIG" up --config "$G/big.yaml" >/dev/null
expect_ledger "$BIG" "up $BIG"
/usr/bin/time -f '%M %e' -o "$WORK/rss_status" "$MIG" status --config "$G/big.yaml" >/dev/null
/usr/bin/time -f '%M %e' -o "$WORK/rss_version" "$MIG" --version >/dev/null
log "status at $BIG applied"
for ((r = 1; r <= RUNS; r++)); do
	timed status_big_m "$REPS" mig status --config "$G/big.yaml"
	timed status_big_p "$REPS" psql_ledger
done
# the same query through bare libpq, and migrate's peak heap under valgrind's massif
/usr/bin/time -f '%M %e' -o "$WORK/rss_floor" "$WORK/floor" "$DSN" "$LEDGER_Q" >/dev/null
massif_peak() { # OUT_FILE: peak of heap + allocator overhead, MiB
	awk -F= '/^mem_heap_B=/ {h = $2} /^mem_heap_extra_B=/ {t = h + $2; if (t > m) m = t}
		END { printf "%.1f", m / 1048576 }' "$1"
}
HEAP_UP=n/a HEAP_STATUS=n/a
if command -v valgrind >/dev/null; then
	log "peak heap of status and up at $BIG (valgrind massif)"
	valgrind -q --tool=massif --massif-out-file="$WORK/massif.status" "$MIG" status --config "$G/big.yaml" >/dev/null
	HEAP_STATUS=$(massif_peak "$WORK/massif.status")
	reset_db
	valgrind -q --tool=massif --massif-out-file="$WORK/massif.up" "$MIG" up --config "$G/big.yaml" >/dev/null
	expect_ledger "$BIG" "up $BIG under massif"
	HEAP_UP=$(massif_peak "$WORK/massif.up")
fi
kib_to_mib() { awk -v k="$1" 'BEGIN { printf "%.1f", k / 1024 }'; }
RSS_UP=$(kib_to_mib "$(cut -d' ' -f1 "$WORK/rss_up")")
RSS_STATUS=$(kib_to_mib "$(cut -d' ' -f1 "$WORK/rss_status")")
RSS_VERSION=$(kib_to_mib "$(cut -d' ' -f1 "$WORK/rss_version")")
UP_BIG_S=$(cut -d' ' -f2 "$WORK/rss_up")
RSS_FLOOR=$(kib_to_mib "$(cut -d' ' -f1 "$WORK/rss_floor")")

# ---- MongoDB seed -----------------------------------------------------------------------
log "seed: $MONGO_COLLS collections x 5 indexes, twice"
stats() { "$PY" "$src/tests/lib/mongo_cmd.py" "$MIGRATE_MONGO_URI" admin '{"standinStats": 1}' >"$1"; }
mongo_diff() { # BEFORE AFTER: "commands handshakes writes breakdown"
	"$PY" - "$1" "$2" <<'PY'
import json, sys
a, b = (json.load(open(p)) for p in sys.argv[1:3])
ca, cb = a.get("commands", {}), b.get("commands", {})
d = {k: cb.get(k, 0) - ca.get(k, 0) for k in cb if cb.get(k, 0) != ca.get(k, 0)}
print(sum(d.values()), b["handshakes"] - a["handshakes"], b["writes"] - a["writes"],
      ",".join(f"{k}={v}" for k, v in sorted(d.items())))
PY
}
stats "$WORK/m0.json"
"$MIG" seed --config "$G/mongo.yaml" >"$WORK/seed1.out" || die "seed failed: $(tail -1 "$WORK/seed1.out")"
stats "$WORK/m1.json"
"$MIG" seed --config "$G/mongo.yaml" >"$WORK/seed2.out" || die "seed re-run failed"
stats "$WORK/m2.json"
read -r SEED1 SEED1_HS SEED1_W SEED1_DETAIL < <(mongo_diff "$WORK/m0.json" "$WORK/m1.json")
read -r SEED2 SEED2_HS SEED2_W SEED2_DETAIL < <(mongo_diff "$WORK/m1.json" "$WORK/m2.json")

# ---- MongoDB versioned migrations (issue 29): commands per migration, no-op up ----------
log "MongoDB versioned migrations: $N one-command files, then a no-op up"
MIGRATE_MONGO_URI=$MIGRATE_MONGO_URI "$here/mongo_versions.sh" "$MIG" "$WORK" "$N" >"$WORK/mongo_versions.out" ||
	die "bench/mongo_versions.sh failed"

# ---- report ----------------------------------------------------------------------------
for k in up_table up_insert up_mixed noop noop_floor status down; do
	declare "M_$k=$(median_ms "${k}_m")" "P_$k=$(median_ms "${k}_p")"
done
M_status_big=$(median_ms status_big_m) P_status_big=$(median_ms status_big_p)
for k in version check; do
	declare "M_$k=$(median_ms "${k}_m")" "P_$k=$(median_ms "${k}_p")"
done
for k in up_table up_insert up_mixed noop noop_floor status down status_big version check; do
	declare "R_$k=$(pair_ratio "${k}_m" "${k}_p")"
done
# what object tracking costs: migrate / the same build without it, minus one, per run
TRACK_COST=$(paste "$WORK/s/up_mixed_m" "$WORK/s/up_mixed_nt" | awk '{print ($2 > 0 ? ($1 / $2 - 1) * 100 : 0)}' |
	sort -g | awk '{a[NR] = $1} END { m = NR % 2 ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2; printf "%+.1f", m }')
M_up_mixed_nt=$(median_ms up_mixed_nt)
# the floor of a one-round-trip client: 1 - (psql's framing alone / psql), per run
for k in up_table up_mixed; do
	declare "F_$k=$(paste "$WORK/s/${k}_framing" "$WORK/s/${k}_p" | awk '{print ($2 > 0 ? 1 - $1 / $2 : 0)}' |
		sort -g | awk '{a[NR] = $1} END { m = NR % 2 ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2; printf "%.2f", m }')"
done

echo
rev=$(git -C "$src" rev-parse --short HEAD 2>/dev/null || echo unknown)
git --no-optional-locks -C "$src" diff --quiet HEAD -- src include meson.build 2>/dev/null || rev="$rev+local changes"
echo "$("$MIG" --version 2>/dev/null | head -1) ($rev) — $(date -u +%Y-%m-%dT%H:%MZ), $(nproc) CPUs, PostgreSQL $(pg_admin -d postgres -c 'SHOW server_version' | cut -d' ' -f1) fsync=$(pg_admin -d postgres -c 'SHOW fsync')"
echo "load average at the end: $(cut -d' ' -f1-3 /proc/loadavg) (other processes skew absolute times; ratios pair adjacent runs)"
echo "runs per figure: $RUNS (median; fast figures: mean of $REPS invocations per run); samples in ms:"
for k in up_table up_insert up_mixed noop noop_floor status down status_big; do
	printf '  %-10s migrate: %s | psql: %s\n' "$k" "$(samples_ms "${k}_m")" "$(samples_ms "${k}_p")"
done
printf '  %-10s migrate without object tracking: %s\n' up_mixed "$(samples_ms up_mixed_nt)"
echo "round trips (strace, send bursts answered by a receive): migrate fixed cost of a run ${RT[m_fixed_table]}, no-op up ${RT[m_noop]}, status ${RT[m_status]}; psql -c ${RT[p_noop]}; psql per migration: table+index ${RT[p_table]}, one-statement ${RT[p_insert]}"
echo "a no-op up sends: $(strace_queries "$WORK/noop-up.strace" | cut -c1-60 | paste -sd'|' | sed 's/|/ | /g')"
echo "up of $BIG: ${UP_BIG_S} s. Peak RSS is mostly shared libraries: 'migrate --version' $RSS_VERSION MiB; bench/floor.c (bare libpq: connect, ledger query at $BIG) $RSS_FLOOR MiB"
echo "seed first run: $SEED1 commands + $SEED1_HS handshakes ($SEED1_DETAIL)"
echo "seed re-run:    $SEED2 commands + $SEED2_HS handshakes ($SEED2_DETAIL)"
echo

f1() { printf '%-44s %12s %8s %16s %5s\n' "$@"; }
f1 "FIGURE" "VALUE" "RATIO" "TARGET" "MET?"
f1 "up $N mixed (ALTER, DO, functions)" "$M_up_mixed ms" "${R_up_mixed}x" "<= 0.90x psql" "$(le "$R_up_mixed" 0.90)"
f1 "  floor: psql's work minus its framing" "-" "${F_up_mixed}x" "-" "-"
f1 "  object tracking's share of it" "$M_up_mixed_nt ms" "${TRACK_COST}%" "<= 3% untracked" "$(le "$TRACK_COST" 3)"
f1 "up $N table+index, from empty" "$M_up_table ms" "${R_up_table}x" "<= 0.85x psql" "$(le "$R_up_table" 0.85)"
f1 "  floor: psql's work minus its framing" "-" "${F_up_table}x" "-" "-"
f1 "up $N one-statement, from empty" "$M_up_insert ms" "${R_up_insert}x" "<= 0.60x psql" "$(le "$R_up_insert" 0.60)"
f1 "up, nothing pending ($N applied)" "$M_noop ms" "${R_noop}x" "<= 0.60x psql" "$(le "$R_noop" 0.60)"
f1 "  floor: bare libpq, connect + ledger" "$M_noop_floor ms" "${R_noop_floor}x" "-" "-"
f1 "status, $N applied" "$M_status ms" "${R_status}x" "<= 1.25x psql" "$(le "$R_status" 1.25)"
f1 "status, $BIG applied" "$M_status_big ms" "${R_status_big}x" "<= 50 ms" "$(le "$M_status_big" 50)"
f1 "down --steps $DOWN_STEPS (table+index)" "$M_down ms" "${R_down}x" "-" "-"
f1 "migrate --version (wall)" "$M_version ms" "${R_version}x" "<= 1.00x psql" "$(le "$R_version" 1.00)"
f1 "check (connect + ledger, wall)" "$M_check ms" "${R_check}x" "<= 1.00x psql" "$(le "$R_check" 1.00)"
f1 "peak RSS, status at $N" "$(kib_to_mib "$RSS_STATUS_N") MiB" "$(ratio "$RSS_STATUS_N" "$RSS_PSQL_LEDGER")x" "<= 1.00x psql" "$(le "$(ratio "$RSS_STATUS_N" "$RSS_PSQL_LEDGER")" 1.00)"
f1 "peak RSS, up nothing pending at $N" "$(kib_to_mib "$RSS_NOOP_N") MiB" "$(ratio "$RSS_NOOP_N" "$RSS_PSQL_LEDGER")x" "<= 1.00x psql" "$(le "$(ratio "$RSS_NOOP_N" "$RSS_PSQL_LEDGER")" 1.00)"
f1 "  libmongoc loaded by status (PG-only)" "$MONGOC_LOADED" "-" "0" "$( ((MONGOC_LOADED == 0)) && echo yes || echo NO)"
f1 "peak RSS, up of $BIG" "$RSS_UP MiB" "-" "<= 8 MiB" "$(le "$RSS_UP" 8)"
f1 "peak RSS, status at $BIG" "$RSS_STATUS MiB" "-" "<= 8 MiB" "$(le "$RSS_STATUS" 8)"
f1 "  libpq floor (connect + ledger query)" "$RSS_FLOOR MiB" "-" "-" "-"
f1 "  migrate --version (libraries only)" "$RSS_VERSION MiB" "-" "-" "-"
f1 "peak heap (massif), up of $BIG" "$HEAP_UP MiB" "-" "-" "-"
f1 "peak heap (massif), status at $BIG" "$HEAP_STATUS MiB" "-" "-" "-"
f1 "round trips/tx migration, table+index" "${RT[m_table]}" "$(ratio "${RT[m_table]}" "${RT[p_table]}")x" "= 1" "$(awk -v a="${RT[m_table]}" 'BEGIN { print (a == 1) ? "yes" : "NO" }')"
f1 "round trips/tx migration, one-statement" "${RT[m_insert]}" "$(ratio "${RT[m_insert]}" "${RT[p_insert]}")x" "= 1" "$(awk -v a="${RT[m_insert]}" 'BEGIN { print (a == 1) ? "yes" : "NO" }')"
f1 "round trips, up nothing pending" "${RT[m_noop]}" "$(ratio "${RT[m_noop]}" "${RT[p_noop]}")x" "-" "-"
f1 "seed commands, first run ($MONGO_COLLS x 5)" "$SEED1" "-" "-" "-"
f1 "seed commands, re-run" "$SEED2" "-" "-" "-"
f1 "seed re-run writes" "$SEED2_W" "-" "0" "$( ((SEED2_W == 0)) && echo yes || echo NO)"
cat "$WORK/mongo_versions.out"
echo "(floor: the same psql script with each file's statements replaced by SELECT 1 (BEGIN, a round trip per statement, ledger row, COMMIT) took $(median_ms up_table_framing) ms for table+index, $(median_ms up_mixed_framing) ms for mixed; 1 - that / psql is the best ratio a client that sends each migration in one round trip could reach, the rest being the server's work)"
echo "(ratio: median over runs of migrate / psql run beside it (up from empty: alternating which goes first); psql medians, ms: up mixed $P_up_mixed, up table+index $P_up_table, up one-statement $P_up_insert, ledger query at $N $P_noop / $P_status, at $BIG $P_status_big, down $P_down, --version $P_version, check $P_check; psql -c peak RSS $(kib_to_mib "$RSS_PSQL_LEDGER") MiB)"
# ---- the mixed set on other server versions (--pg) ----------------------------------------
# the same generated tree and psql script (its ledger DDL is what migrate created on 15),
# a server of that version started like the first one (fsync on, default settings)
mixed_on() { # VERSION
	local v=$1 saved=("$DSN" "$MIGRATE_PG_PORT" "$MIGRATE_PG_SOCKET") set=mixed_pg$1
	log "starting PostgreSQL $v (fsync=on) for the mixed set"
	eval "$(MIGRATE_PG_VERSION=$v "$src/scripts/pg-server.sh" start "$WORK/pg$v" fsync=on)"
	DSN="postgres://app:${MIGRATE_PG_PASSWORD:-s3cret-Pa55}@127.0.0.1:$MIGRATE_PG_PORT/bench"
	sed "s|^  dsn: .*|  dsn: \"$DSN\"|" "$G/mixed.yaml" >"$G/$set.yaml"
	cp "$G/mixed.psql" "$G/$set.psql"
	for ((r = 1; r <= RUNS; r++)); do
		log "up $N mixed on PostgreSQL $v: run $r/$RUNS"
		if ((r % 2)); then
			up_migrate "$set"
			up_psql "$set"
		else
			up_psql "$set"
			up_migrate "$set"
		fi
	done
	local server
	server=$(pg_admin -d postgres -c 'SHOW server_version' | cut -d' ' -f1)
	"$src/scripts/pg-server.sh" stop "$WORK/pg$v"
	DSN=${saved[0]} MIGRATE_PG_PORT=${saved[1]} MIGRATE_PG_SOCKET=${saved[2]}
	f1 "up $N mixed on PostgreSQL $server" "$(median_ms "up_${set}_m") ms" "$(pair_ratio "up_${set}_m" "up_${set}_p")x" \
		"<= 0.90x psql" "$(le "$(pair_ratio "up_${set}_m" "up_${set}_p")" 0.90)"
	echo "  (samples, ms: migrate $(samples_ms "up_${set}_m") | psql $(samples_ms "up_${set}_p"))"
}
for v in "${PG_EXTRA[@]}"; do
	mixed_on "$v"
done

bash "$here/drift.sh" "$MIG" "$G" "$RUNS" || die "drift figure failed"
# one run: a whole-history roundtrip of $N migrations takes minutes (BENCH_ROUNDTRIP=0 skips it)
[ "${BENCH_ROUNDTRIP:-1}" = 0 ] || bash "$here/roundtrip.sh" "$MIG" "$G" 1 || die "roundtrip figure failed"

# ---- test databases: template build and clones against up (bench/testdb.sh) -------------
MIG=$MIG G=$G MIGRATE_PG_PORT=$MIGRATE_PG_PORT MIGRATE_PG_SOCKET=$MIGRATE_PG_SOCKET BENCH_RUNS=$RUNS \
	"$here/testdb.sh" || die "bench/testdb.sh failed"

# ---- lint, side by side with squawk (bench/lint.sh) ---------------------------------------
BENCH_RUNS=$RUNS "$here/lint.sh" "$MIG" "$G"

# ---- lint --data on a 1,000,000-row table against the psql probe (bench/lint_data.sh) -----
MIGRATE_PG_PORT=$MIGRATE_PG_PORT MIGRATE_PG_SOCKET=$MIGRATE_PG_SOCKET \
	bash "$here/lint_data.sh" "$MIG" "$RUNS" || die "lint --data figure failed"


# ---- seed --data of 10,000 rows against psql running the same file (bench/seed.sh) --------
[ "${BENCH_SEED:-1}" = 0 ] || BENCH_RUNS=$RUNS bash "$here/seed.sh" "$BUILD" || die "bench/seed.sh failed"

# ---- a no-op up over 100 unchanged repeatables against the same tree without them -------
[ "${BENCH_REPEATABLES_FIGURE:-1}" = 0 ] || BENCH_RUNS=$RUNS bash "$here/repeatables.sh" "$BUILD" ||
	die "bench/repeatables.sh failed"

# ---- fleets (issue 15): one command over 200 schemas + 20 databases vs a shell loop ------
[ "${BENCH_FLEET:-1}" = 0 ] || "$here/fleet.sh" "$MIG" "$WORK"

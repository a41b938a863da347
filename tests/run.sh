#!/usr/bin/env bash
# The whole test suite, from nothing: installs what is missing, builds twice (plain with
# -Werror, and with ASan+UBSan), starts a throwaway PostgreSQL and the MongoDB stand-in
# (or uses MIGRATE_TEST_MONGO_URI), runs the unit and integration tests against each
# build, and ends with "N passed, N failed, N skipped". Exit status 0 only when nothing
# failed. A suite that runs fewer tests than tests/expected-counts records fails; under
# CI=true a skip whose reason is not in tests/skip-allowed fails (tests/lib/harness.sh).
set -euo pipefail
src=$(cd "$(dirname "$0")/.." && pwd)
cd "$src"

# A filtered run proves only part of the suite: CI must run all of it.
if [ "${CI:-}" = true ] && [ -n "${MIGRATE_TEST_FILTER:-}" ]; then
	echo "tests/run.sh: MIGRATE_TEST_FILTER is refused under CI=true (it thins the suites)" >&2
	exit 2
fi
# --pg 13,18 | --pg all: the plain build's PostgreSQL integration suites once more on
# each of those server versions (scripts/pg-versions.sh fetches them once), after the
# whole suite on Debian's 15
pg_versions=()
while [ $# -gt 0 ]; do
	case $1 in
	--pg | --pg=*)
		if [ "$1" = --pg ]; then list=${2:?--pg takes a list of versions: 13,18 or all}; shift; else list=${1#--pg=}; fi
		known=" $(scripts/pg-versions.sh list | paste -sd' ') "
		[ "$list" = all ] && list=$(echo $known | tr ' ' ,)
		IFS=, read -r -a pg_versions <<<"$list"
		for v in "${pg_versions[@]}"; do
			[[ $known == *" $v "* ]] || { echo "run.sh: --pg: no PostgreSQL '$v' (one of:$known)" >&2; exit 2; }
		done
		;;
	*) echo "usage: $0 [--pg 13,14,...|all]" >&2; exit 2 ;;
	esac
	shift
done

scripts/deps.sh all

work=$(mktemp -d "${TMPDIR:-/tmp}/migrate-tests.XXXXXX")
chmod 755 "$work"
counts=$work/counts
: >"$counts"
cleanup() {
	scripts/pg-server.sh stop "$work/pg" || true
	scripts/mongo-standin.sh stop "$work/mongo" || true
	scripts/mongo-standin.sh stop "$work/mongo-5.0" || true
	scripts/mongo-standin.sh stop "$work/mongo-8.0" || true
	rm -rf "$work"
}
trap cleanup EXIT

log() { printf '\n== %s\n' "$*"; }

build() { # DIR [meson options...]
	local dir=$1
	shift
	if [ ! -f "$dir/build.ninja" ]; then
		meson setup "$dir" -Dwerror=true "$@" >"$work/meson-$(basename "$dir").log" 2>&1 ||
			{ cat "$work/meson-$(basename "$dir").log"; exit 1; }
	fi
	ninja -C "$dir" >"$work/ninja.log" 2>&1 || { cat "$work/ninja.log"; exit 1; }
}

# run_tap NAME COMMAND...: runs a cmocka or shell test program, counts its TAP lines
run_tap() {
	local name=$1 out=$work/tap.out status=0
	shift
	CMOCKA_MESSAGE_OUTPUT=TAP "$@" >"$out" 2>&1 || status=$?
	local passed failed skipped
	skipped=$(grep -ciE '^ok .*#[[:space:]]*SKIP' "$out" || true)
	passed=$(($(grep -cE '^ok ' "$out" || true) - skipped))
	failed=$(grep -cE '^not ok ' "$out" || true)
	grep -iE '^(not ok|#|ok .*#[[:space:]]*SKIP)' "$out" | sed "s/^/  [$name] /" || true
	if [ "$status" -ne 0 ] && [ "$failed" -eq 0 ]; then
		# crashed or refused before reporting: that is a failure too
		echo "  [$name] exited $status without reporting a failing test:"
		tail -20 "$out" | sed 's/^/    /'
		failed=1
	fi
	# as tap_counts.py does for meson's tests: fewer results than recorded is a failure
	local want
	want=$(awk -v n="tap / $name" '{c = $1; $1 = ""; sub(/^ /, "")} $0 == n {print c}' tests/expected-counts)
	if [ -n "$want" ] && [ $((passed + failed + skipped)) -lt "$want" ]; then
		echo "  [$name] ran $((passed + failed + skipped)) tests, tests/expected-counts says $want"
		failed=$((failed + 1))
	fi
	if grep -qE 'ERROR: (Address|Leak)Sanitizer|runtime error:' "$out"; then
		echo "  [$name] sanitizer report:"
		grep -E -A5 'ERROR: (Address|Leak)Sanitizer|runtime error:' "$out" | head -30 | sed 's/^/    /'
		failed=$((failed + 1))
	fi
	echo "  $name: $passed passed, $failed failed, $skipped skipped"
	echo "$passed $failed $skipped" >>"$counts"
}

suite() { # LABEL BUILD_DIR [meson test options...]: every unit and integration suite
	local label=$1 dir=$2
	shift 2
	log "$label: unit and integration tests (meson test, $TEST_JOBS at once)"
	# each integration suite starts its own throwaway PostgreSQL and stand-in
	# (tests/lib/with-servers.sh), so suites run side by side without seeing each other's
	# databases; a real mongod given in MIGRATE_TEST_MONGO_URI is shared
	local mongo=()
	[ -n "${MIGRATE_TEST_MONGO_URI:-}" ] && mongo=("MIGRATE_TEST_MONGO_URI=$MIGRATE_TEST_MONGO_URI")
	# never count a testlog.json left by an earlier run in a reused build directory
	rm -f "$dir/meson-logs/testlog.json"
	local status=0 not_run=() prev=""
	env -u MIGRATE_PG_PORT -u MIGRATE_PG_SOCKET -u MIGRATE_TEST_MONGO_URI "${mongo[@]}" \
		meson test -C "$dir" --no-rebuild --num-processes "$TEST_JOBS" "$@" \
		>"$work/meson-test.out" 2>&1 || status=$?
	local a
	for a in "$@"; do
		[ "$prev" = --no-suite ] && not_run+=(--not-run "$a")
		prev=$a
	done
	# meson test fails when a test fails (counted below from its log); with no log at all,
	# it failed before running anything: show why, and count that as a failure
	if [ ! -s "$dir/meson-logs/testlog.json" ]; then
		echo "  meson test exited $status and wrote no testlog.json:"
		tail -20 "$work/meson-test.out" | sed 's/^/    /'
	fi
	python3 tests/lib/tap_counts.py "$dir/meson-logs/testlog.json" "$counts" \
		--expected tests/expected-counts "${not_run[@]}"
	if [ "$status" -ne 0 ] && [ "$(tail -1 "$counts" | cut -d' ' -f2)" = 0 ]; then
		echo "  meson test exited $status, yet no test failed: counted as a failure"
		echo "0 1 0" >>"$counts"
	fi
}
TEST_JOBS=${TEST_JOBS:-3}

# pg_matrix: for each --pg version, the plain build's suites that talk to PostgreSQL
# (meson suite "pg"), each starting a server of that version of its own
# (MIGRATE_PG_VERSION, tests/lib/with-servers.sh); one summary line per version
pg_matrix() {
	local v c
	for v in "${pg_versions[@]}"; do
		log "plain build: PostgreSQL integration suites on PostgreSQL $v ($(scripts/pg-versions.sh version "$v"))"
		c=$work/counts-pg$v
		: >"$c"
		rm -f "build-test/meson-logs/pg$v.json"
		env -u MIGRATE_PG_PORT -u MIGRATE_PG_SOCKET -u MIGRATE_TEST_MONGO_URI MIGRATE_PG_VERSION="$v" \
			meson test -C build-test --no-rebuild --num-processes "$TEST_JOBS" --suite pg \
			--logbase "pg$v" >"$work/meson-test.out" 2>&1 || true
		python3 tests/lib/tap_counts.py "build-test/meson-logs/pg$v.json" "$c" \
			--expected tests/expected-counts --only-suite pg
		cat "$c" >>"$counts"
		awk -v v="$v" '{p += $1; f += $2; s += $3} END {printf "PostgreSQL %s: %d passed, %d failed, %d skipped\n", v, p, f, s}' "$c" \
			>>"$work/pg-summary"
	done
}

log "build"
build build-test
build build-asan -Db_sanitize=address,undefined -Db_lundef=false -Dbuildtype=debug

log "servers"
[ ${#pg_versions[@]} -eq 0 ] || scripts/pg-versions.sh fetch "${pg_versions[@]}"
eval "$(scripts/pg-server.sh start "$work/pg" fsync=off)"
export MIGRATE_PG_PORT MIGRATE_PG_SOCKET
if [ -n "${MIGRATE_TEST_MONGO_URI:-}" ]; then
	MONGO_URI=$MIGRATE_TEST_MONGO_URI
	echo "MongoDB: $MONGO_URI (a real server, from MIGRATE_TEST_MONGO_URI)"
else
	eval "$(scripts/mongo-standin.sh start "$work/mongo")"
	MONGO_URI=$MIGRATE_MONGO_URI
	echo "MongoDB: the wire-protocol stand-in at $MONGO_URI (not a real mongod)"
fi
echo "PostgreSQL 15: 127.0.0.1:$MIGRATE_PG_PORT (throwaway)"

suite "plain build" build-test

# The MongoDB tests again with the stand-in imitating mongod 5.0 and 8.0 (7.0 above).
if [ -z "${MIGRATE_TEST_MONGO_URI:-}" ]; then
	for v in 5.0 8.0; do
		log "MongoDB tests, stand-in as mongod $v"
		eval "$(MIGRATE_STANDIN_VERSION=$v scripts/mongo-standin.sh start "$work/mongo-$v")"
		run_tap "mongo driver ($v)" env MIGRATE_TEST_MONGO_URI="$MIGRATE_MONGO_URI" \
			build-test/tests/test_mongo_driver
		for t in tests/integration/test_mongo*.sh; do
			run_tap "$(basename "$t" .sh) ($v)" env MIGRATE_BIN="$src/build-test/migrate" \
				MIGRATE_SOURCE_ROOT="$src" MIGRATE_TEST_MONGO_URI="$MIGRATE_MONGO_URI" bash "$t"
		done
		scripts/mongo-standin.sh stop "$work/mongo-$v"
	done
fi

[ ${#pg_versions[@]} -eq 0 ] || pg_matrix

# Leak detection on; any report fails the run (exit 99 cannot pass for an expected 1/2/3).
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=0:exitcode=99:halt_on_error=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1:exitcode=99
export LSAN_OPTIONS=exitcode=99
export MIGRATE_TEST_TIME_SCALE=3 # the corpus's time limits, for a build several times slower
# the randomized histories: a sample under the sanitizers (the plain build runs 200 on
# every server version); their ground truth is drift, which the sanitizers do not change
export MIGRATE_TEST_HISTORIES=25
# the install and package suites build and install a plain tree of their own: once is enough
suite "ASan+UBSan build" build-asan --timeout-multiplier 3 --no-suite install --no-suite package
unset ASAN_OPTIONS UBSAN_OPTIONS LSAN_OPTIONS MIGRATE_TEST_TIME_SCALE MIGRATE_TEST_HISTORIES

log "fuzzing (${FUZZ_SECONDS:=15} s per target; longer: FUZZ_SECONDS=600 tests/fuzz/run.sh)"
run_tap "fuzz" env FUZZ_SECONDS="$FUZZ_SECONDS" tests/fuzz/run.sh "$work/fuzz"
grep -E '^(ok|not ok) ' "$work/tap.out" | sed 's/^/  /'

[ ! -s "$work/pg-summary" ] || { echo; cat "$work/pg-summary"; }
read -r passed failed skipped < <(awk '{p += $1; f += $2; s += $3} END {print p + 0, f + 0, s + 0}' "$counts")
echo
echo "$passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ]

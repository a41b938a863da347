#!/usr/bin/env bash
# The whole test suite, from nothing: installs what is missing, builds twice (plain with
# -Werror, and with ASan+UBSan), starts a throwaway PostgreSQL and the MongoDB stand-in
# (or uses MIGRATE_TEST_MONGO_URI), runs the unit and integration tests against each
# build, and ends with "N passed, N failed". Exit status 0 only when nothing failed.
set -euo pipefail
src=$(cd "$(dirname "$0")/.." && pwd)
cd "$src"

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
	local passed failed
	passed=$(grep -cE '^ok ' "$out" || true)
	failed=$(grep -cE '^not ok ' "$out" || true)
	grep -E '^(not ok|#)' "$out" | sed "s/^/  [$name] /" || true
	if [ "$status" -ne 0 ] && [ "$failed" -eq 0 ]; then
		# crashed or refused before reporting: that is a failure too
		echo "  [$name] exited $status without reporting a failing test:"
		tail -20 "$out" | sed 's/^/    /'
		failed=1
	fi
	if grep -qE 'ERROR: (Address|Leak)Sanitizer|runtime error:' "$out"; then
		echo "  [$name] sanitizer report:"
		grep -E -A5 'ERROR: (Address|Leak)Sanitizer|runtime error:' "$out" | head -30 | sed 's/^/    /'
		failed=$((failed + 1))
	fi
	echo "  $name: $passed passed, $failed failed"
	echo "$passed $failed" >>"$counts"
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
	env -u MIGRATE_PG_PORT -u MIGRATE_PG_SOCKET -u MIGRATE_TEST_MONGO_URI "${mongo[@]}" \
		meson test -C "$dir" --no-rebuild --num-processes "$TEST_JOBS" "$@" \
		>"$work/meson-test.out" 2>&1 || true
	python3 tests/lib/tap_counts.py "$dir/meson-logs/testlog.json" "$counts"
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
		env -u MIGRATE_PG_PORT -u MIGRATE_PG_SOCKET -u MIGRATE_TEST_MONGO_URI MIGRATE_PG_VERSION="$v" \
			meson test -C build-test --no-rebuild --num-processes "$TEST_JOBS" --suite pg \
			--logbase "pg$v" >"$work/meson-test.out" 2>&1 || true
		python3 tests/lib/tap_counts.py "build-test/meson-logs/pg$v.json" "$c"
		cat "$c" >>"$counts"
		awk -v v="$v" '{p += $1; f += $2} END {printf "PostgreSQL %s: %d passed, %d failed\n", v, p, f}' "$c" \
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
# the install suite builds and installs a plain tree of its own: once is enough
suite "ASan+UBSan build" build-asan --timeout-multiplier 3 --no-suite install
unset ASAN_OPTIONS UBSAN_OPTIONS LSAN_OPTIONS MIGRATE_TEST_TIME_SCALE

log "fuzzing (${FUZZ_SECONDS:=15} s per target; longer: FUZZ_SECONDS=600 tests/fuzz/run.sh)"
run_tap "fuzz" env FUZZ_SECONDS="$FUZZ_SECONDS" tests/fuzz/run.sh "$work/fuzz"
grep -E '^(ok|not ok) ' "$work/tap.out" | sed 's/^/  /'

[ ! -s "$work/pg-summary" ] || { echo; cat "$work/pg-summary"; }
read -r passed failed < <(awk '{p += $1; f += $2} END {print p + 0, f + 0}' "$counts")
echo
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]

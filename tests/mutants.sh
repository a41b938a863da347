#!/usr/bin/env bash
# A mutation score for the test suite: applies a seeded sample of small mutations to the
# code that decides correctness (tracking and verify, drift comparison, lint rules,
# config validation, the lock and lease, the plan's order, the ledger, the engine), one
# at a time, to a copy of the tree; rebuilds what the covering tests run; runs the tests
# that cover the mutated file, fastest first; a mutant is killed when any of them fails
# (or the mutant's run outlives its timeout). Prints each mutant's fate (with the test
# that killed it), then "killed K of T (P%)" and every survivor. A mutant that does not
# compile is stillborn and not counted. Slow: not part of tests/run.sh or CI.
#
#   tests/mutants.sh [COUNT [SEED]]      (default 60 mutants, seed 31)
#   MUTANTS_FILES="src/lint/lint.c" tests/mutants.sh 10    only these files
#   MUTANTS_FILES=... MUTANTS_LIST=survivors.tsv tests/mutants.sh   rerun given mutants
#     (FILE<TAB>LINE<TAB>COL<TAB>FROM<TAB>TO lines, as tests/lib/mutate.py list prints)
#   MUTANTS_TIMEOUT=S    seconds a mutant's tests may take (default: 3 times what the
#                        unmutated tree's covering tests took, at least 180)
#   MUTANTS_RESULTS=F    also append one tab-separated line per mutant to F
#                        (fate, file, line, col, from, to, killing test, source line)
#   MUTANTS_ONLY="unit/config unit/plan"   run only these of the covering tests (a kill
#                        by fewer tests is still a kill; for showing that a new unit test
#                        kills an earlier survivor without rerunning slow suites)
#   MUTANTS_SANITIZE=1   build with ASan+UBSan and run as tests/run.sh's sanitizer pass
#                        does (a leak or an out-of-bounds read then fails a test, as it
#                        fails the suite in CI): slower, so for rerunning survivors
# Exit status 0 when at least MUTANTS_MIN_SCORE percent (default 90) were killed.
#
# What keeps a mutant's run short without making a kill cheaper than it should be:
#  - one failing test is a kill: unit tests run first, then the integration suites in
#    the order of their measured time, each with MIGRATE_TEST_FAILFAST (the harness stops
#    at its first failing test); a survivor still runs every covering test in full.
#  - one PostgreSQL and one MongoDB stand-in for the whole run (each test makes its own
#    database), not a pair started per suite.
#  - only what the covering tests execute is rebuilt: the binary, the MongoDB module, the
#    examples and helpers the suites call, and the covering unit tests.
#  - the covering tests must pass on the unmutated tree first; their time there sets the
#    per-mutant timeout. A timeout counts as a kill but is printed as "killed (timeout)",
#    and the servers are restarted after one.
set -euo pipefail
src=$(cd "$(dirname "$0")/.." && pwd)
COUNT=${1:-60}
SEED=${2:-31}
MIN_SCORE=${MUTANTS_MIN_SCORE:-90}
RESULTS=${MUTANTS_RESULTS:+$(realpath -m "$MUTANTS_RESULTS")}
LIST=${MUTANTS_LIST:+$(realpath "$MUTANTS_LIST")}

# file -> the tests that cover it: unit/NAME is tests/unit/*/test_NAME.c, a bare NAME is
# tests/integration/test_NAME.sh (run in the order of their measured time)
declare -A COVER=(
	[src/postgres/pg_track.c]="unit/pg_track tracking postgres"
	[src/postgres/pg_track_scan.c]="unit/pg_track tracking postgres"
	[src/core/ledger.c]="unit/engine unit/fake_backend tracking production postgres"
	[src/core/engine.c]="unit/engine unit/fake_backend tracking production postgres"
	[src/schema/schema_diff.c]="unit/schema_diff drift"
	[src/lint/lint.c]="unit/lint lint"
	[src/core/config.c]="unit/config unit/plan unit/fake_backend corpus"
	[src/postgres/pg_lease.c]="production postgres"
	[src/core/plan.c]="unit/plan unit/engine unit/fake_backend postgres"
	[src/core/module_order.c]="unit/plan postgres"
)
if [ -n "${MUTANTS_FILES:-}" ]; then
	read -r -a FILES <<<"$MUTANTS_FILES"
else
	mapfile -t FILES < <(printf '%s\n' "${!COVER[@]}" | sort)
fi
for f in "${FILES[@]}"; do
	[ -f "$src/$f" ] || { echo "mutants: no $f (has the tree moved? update COVER in $0)" >&2; exit 2; }
	[ -n "${COVER[$f]:-}" ] || { echo "mutants: no covering tests listed for $f" >&2; exit 2; }
	for t in ${COVER[$f]}; do
		case $t in
		unit/*) ls "$src"/tests/unit/*/"test_${t#unit/}.c" >/dev/null 2>&1 ;;
		*) [ -f "$src/tests/integration/test_$t.sh" ] ;;
		esac || { echo "mutants: COVER names $t for $f, which does not exist" >&2; exit 2; }
	done
done

# cover_of FILE: its covering tests, restricted to MUTANTS_ONLY when that is set
cover_of() {
	local t
	for t in ${COVER[$1]}; do
		if [ -z "${MUTANTS_ONLY:-}" ] || [[ " $MUTANTS_ONLY " == *" $t "* ]]; then
			echo "$t"
		fi
	done
}
for f in "${FILES[@]}"; do
	[ -n "$(cover_of "$f")" ] || { echo "mutants: MUTANTS_ONLY leaves no test for $f" >&2; exit 2; }
done

work=$(mktemp -d "${TMPDIR:-/tmp}/migrate-mutants.XXXXXX")
chmod 755 "$work"
servers=$work/servers
stop_servers() {
	"$src/scripts/pg-server.sh" stop "$servers/pg" >/dev/null 2>&1 || true
	"$src/scripts/mongo-standin.sh" stop "$servers/mongo" >/dev/null 2>&1 || true
	rm -rf "$servers"
}
start_servers() {
	local exports
	mkdir -p "$servers"
	chmod 755 "$servers"
	exports=$("$src/scripts/pg-server.sh" start "$servers/pg" fsync=off) ||
		{ echo "mutants: cannot start PostgreSQL" >&2; exit 1; }
	eval "$exports"
	export MIGRATE_PG_PORT MIGRATE_PG_SOCKET
	exports=$("$src/scripts/mongo-standin.sh" start "$servers/mongo") ||
		{ echo "mutants: cannot start the MongoDB stand-in" >&2; exit 1; }
	eval "$exports"
	export MIGRATE_TEST_MONGO_URI=$MIGRATE_MONGO_URI
}
cleanup() {
	stop_servers
	[ -n "${MUTANTS_KEEP:-}" ] || rm -rf "$work"
}
trap cleanup EXIT
# The databases the tests make (each test its own) are left until the servers stop with
# the run: dropping them between mutants cost more than a minute after each survivor
# (every DROP DATABASE forces a checkpoint), and no test reads another's database.

tree=$work/tree
build=$work/build
mkdir "$tree"
# a copy of the working tree's tracked files: the checkout itself is never touched
(cd "$src" && git ls-files -z | xargs -0 cp --parents -t "$tree")
cd "$tree"
echo "mutants: building a copy of the tree in $work"
setup_args=()
if [ -n "${MUTANTS_SANITIZE:-}" ]; then # as tests/run.sh's "ASan+UBSan build"
	setup_args=("-Db_sanitize=address,undefined" -Db_lundef=false -Dbuildtype=debug)
	export ASAN_OPTIONS=detect_leaks=1:abort_on_error=0:exitcode=99:halt_on_error=1
	export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1:exitcode=99
	export LSAN_OPTIONS=exitcode=99
	export MIGRATE_TEST_TIME_SCALE=3
	echo "mutants: the build has ASan and UBSan"
fi
meson setup "${setup_args[@]}" "$build" >"$work/setup.log" 2>&1 || { cat "$work/setup.log"; exit 1; }
start_servers

# targets_for FILE: what a mutant of FILE must rebuild, i.e. what its covering tests
# execute: the binary and the MongoDB module always, pg_observe_check for the lint suite,
# the examples for the postgres and production suites, and its unit tests (not the whole build: links
# are most of a rebuild's time on this machine)
targets_for() {
	local t
	echo migrate migrate-mongodb.so
	for t in $(cover_of "$1"); do
		case $t in
		unit/*) echo "tests/test_${t#unit/}" ;;
		lint) echo tests/pg_observe_check ;;
		postgres | production) echo app_startup app_migrate ;;
		esac
	done
}
# the first build: what the mutants of these files will rebuild, not the whole tree
mapfile -t all_targets < <(for f in "${FILES[@]}"; do targets_for "$f" | tr ' ' '\n'; done | sort -u)
ninja -C "$build" "${all_targets[@]}" >"$work/ninja.log" 2>&1 || { cat "$work/ninja.log"; exit 1; }
for f in "${FILES[@]}"; do
	for t in $(targets_for "$f"); do
		[ -e "$build/$t" ] || { echo "mutants: the build has no $t (update targets_for in $0)" >&2; exit 1; }
	done
done

# run_one TEST SECONDS: runs one covering test against the current build, its output in
# $work/test.log; 0 when it passed, 124 when it timed out
run_one() {
	local t=$1 secs=$2 status=0
	case $t in
	unit/*)
		CMOCKA_MESSAGE_OUTPUT=TAP timeout -k 10 "$secs" "$build/tests/test_${t#unit/}" \
			>"$work/test.log" 2>&1 || status=$?
		;;
	*)
		MIGRATE_TEST_FAILFAST=1 MIGRATE_BIN="$build/migrate" MIGRATE_SOURCE_ROOT="$tree" \
			timeout -k 10 "$secs" \
			bash "$tree/tests/lib/with-servers.sh" "$tree/tests/integration/test_$t.sh" \
			>"$work/test.log" 2>&1 </dev/null || status=$?
		# a suite's verdict is its exit status and its TAP: any "not ok" or bail-out fails it
		if [ "$status" -eq 0 ] && grep -qE '^(not ok|Bail out!)' "$work/test.log"; then
			status=1
		fi
		;;
	esac
	return "$status"
}

echo "mutants: the covering tests must pass on the unmutated tree first"
declare -A took=()
for f in "${FILES[@]}"; do
	for t in $(cover_of "$f"); do
		[ -z "${took[$t]:-}" ] || continue
		t0=$SECONDS
		run_one "$t" 3600 || { echo "mutants: $t fails without a mutation:"; tail -30 "$work/test.log"; exit 1; }
		took[$t]=$((SECONDS - t0 + 1))
		echo "  $t passed in ${took[$t]} s ($(grep -cE '^ok ' "$work/test.log" || true) ok lines)"
	done
done

# order_for FILE: its covering tests, unit tests first, then by measured time
order_for() {
	local t
	for t in $(cover_of "$1"); do
		case $t in unit/*) echo "0 $t" ;; *) echo "${took[$t]} $t" ;; esac
	done | sort -n -s -k1,1 | cut -d' ' -f2
}
# budget_for FILE: the per-mutant timeout
budget_for() {
	local t sum=0
	for t in $(cover_of "$1"); do sum=$((sum + took[$t])); done
	if [ -n "${MUTANTS_TIMEOUT:-}" ]; then
		echo "$MUTANTS_TIMEOUT"
	elif [ $((3 * sum)) -gt 180 ]; then
		echo $((3 * sum))
	else
		echo 180
	fi
}

# run_cover FILE: sets KILLER to the test that failed (and its first failure) and FATE
run_cover() {
	local t left deadline status
	deadline=$((SECONDS + $(budget_for "$1")))
	KILLER="" FATE=survived
	for t in $(order_for "$1"); do
		left=$((deadline - SECONDS))
		if [ "$left" -le 0 ]; then
			FATE=timeout KILLER="$t (not started: the mutant's time was spent)"
			return 0
		fi
		status=0
		run_one "$t" "$left" || status=$?
		if [ "$status" -eq 124 ] || [ "$status" -eq 137 ]; then
			FATE=timeout KILLER="$t (timed out)"
			return 0
		elif [ "$status" -ne 0 ]; then
			FATE=killed
			KILLER="$t: $(grep -m1 -E '^not ok|^Bail out!' "$work/test.log" || echo "exit $status")"
			return 0
		fi
	done
}

if [ -n "$LIST" ]; then # rerun given mutants (FILE LINE COL FROM TO, tab-separated)
	cp "$LIST" "$work/mutants.tsv"
else
	# in a seeded random order, so a run stopped early has still measured a fair sample
	python3 "$src/tests/lib/mutate.py" list "$SEED" "$COUNT" "${FILES[@]}" |
		shuf --random-source=<(yes "$SEED") >"$work/mutants.tsv"
fi
total=0 killed=0 stillborn=0 timeouts=0
survivors=()
while IFS=$'\t' read -r file line col from to; do
	cp "$file" "$work/original"
	python3 "$src/tests/lib/mutate.py" apply "$file" "$line" "$col" "$from" "$to"
	what="$file:$line:$col '${from}' -> '${to}'"
	code=$(sed -n "${line}p" "$file" | sed 's/^[[:space:]]*//')
	t0=$SECONDS
	# shellcheck disable=SC2046
	if ! ninja -C "$build" $(targets_for "$file") >"$work/ninja.log" 2>&1; then
		stillborn=$((stillborn + 1))
		FATE=stillborn KILLER=""
		echo "stillborn  $what"
	else
		total=$((total + 1))
		run_cover "$file"
		case $FATE in
		survived)
			survivors+=("$what: $code")
			echo "SURVIVED   $what ($((SECONDS - t0)) s)"
			;;
		timeout)
			killed=$((killed + 1)) timeouts=$((timeouts + 1))
			echo "killed     $what (timeout) by $KILLER ($((SECONDS - t0)) s)"
			stop_servers
			start_servers
			;;
		*)
			killed=$((killed + 1))
			echo "killed     $what by $KILLER ($((SECONDS - t0)) s)"
			;;
		esac
	fi
	if [ -n "$RESULTS" ]; then
		printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$FATE" "$file" "$line" "$col" "$from" "$to" \
			"$KILLER" "$code" >>"$RESULTS"
	fi
	cp "$work/original" "$file"
	touch "$file"
done <"$work/mutants.tsv"

echo
echo "mutants: killed $killed of $total ($((total ? killed * 100 / total : 0))%), $timeouts of them by timeout, $stillborn stillborn, seed $SEED"
if [ "${#survivors[@]}" -gt 0 ]; then
	echo "survivors:"
	printf '  %s\n' "${survivors[@]}"
fi
[ "$total" -gt 0 ] && [ $((killed * 100)) -ge $((MIN_SCORE * total)) ]

# Shared by the integration tests: a tiny TAP-style runner and the assertions.
# A test file defines functions named test_*; `run_tests` runs each in a process of its
# own (a subshell) in a fresh scratch directory, with errexit, nounset, pipefail and an
# ERR trap in force, so ANY failing command fails its test, wherever it is in the test:
# a false `[ ]` mid-test, a heredoc `python3` assert, `mongo ... | check_json ...`, a
# failed setup step (`sql`, `cp`, `mongo`). The failing file:line and command are printed.
# It prints "ok N name", "ok N name # SKIP reason" (the test called `skip`) or
# "not ok N name" with the reason, then the TAP plan, and appends "passed failed skipped"
# to $MIGRATE_TEST_COUNTS.
#
# Rules for tests (tests/integration/test_harness.sh checks the suites keep them):
#  - a command whose failure is expected goes in a condition (`if`, `||`, `&&`), e.g.
#    `grep -q x f && fail "x"`; a bare `! cmd` is never checked by bash (errexit ignores
#    it), so write `if cmd; then fail ...; fi` or use `refute`.
#  - `local v=$(cmd)` hides cmd's failure: declare first, then assign.
#  - under CI=true a skip fails the test unless its reason is listed in tests/skip-allowed.
# MIGRATE_TEST_FAILFAST=1 stops a suite at its first failing test ("Bail out!"), for
# tests/mutants.sh, where one failure is all a kill needs; a passing run is unchanged.
set -u

: "${MIGRATE_BIN:?MIGRATE_BIN must name the migrate binary}"
: "${MIGRATE_TEST_COUNTS:=/dev/null}"
_harness_lib=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
SKIP_ALLOWED=${MIGRATE_SKIP_ALLOWED:-$_harness_lib/../skip-allowed}

# _where: "file:line" of the innermost caller that is not a helper in tests/lib
_where() {
	local i
	for ((i = 1; i < ${#BASH_SOURCE[@]}; i++)); do
		case ${BASH_SOURCE[i]} in */lib/*.sh) continue ;; esac
		echo "$(basename "${BASH_SOURCE[i]}"):${BASH_LINENO[i - 1]}"
		return 0
	done
	echo "?"
}

fail() {
	echo "    FAILED ($(_where)): $*" >&2
	exit 1
}

# skip REASON: ends the test as a visible skip ("ok N name # SKIP REASON"). Under
# CI=true that is a failure unless REASON is a line of tests/skip-allowed.
skip() {
	printf '%s\n' "$*" >"$SCRATCH/.skip"
	exit 0
}

# refute CMD...: fails the test when CMD succeeds (a checked `! CMD`)
refute() {
	if "$@"; then
		fail "expected failure from: $*"
	fi
	return 0
}

# _on_err STATUS LINE COMMAND: the ERR trap; says where a test stopped and why, with the
# calls that led there from the test function. Nothing when errexit is off (a helper
# that ran `set +e` on purpose).
_on_err() {
	[[ $- == *e* ]] || return 0
	local i chain=""
	for ((i = 1; i + 1 < ${#FUNCNAME[@]}; i++)); do
		[[ ${FUNCNAME[i]} == test_* || ${FUNCNAME[i]} == _isolated ]] && break
		chain+="${chain:+ <-} $(basename "${BASH_SOURCE[i + 1]}"):${BASH_LINENO[i]}"
	done
	echo "    FAILED ($(basename "${BASH_SOURCE[1]:-?}"):$2): exit $1 from: $3" >&2
	[ -z "$chain" ] || echo "      (called from${chain})" >&2
	return 0
}

# _isolated FUNC ARGS...: the body of a test's process. Refuses to run where bash would
# ignore errexit (a caller's `if`, `||`, `&&`, `!`), since every check would be dead there.
_isolated() {
	(set -e; false; exit 0)
	if [ $? -eq 0 ]; then
		echo "    FAILED: harness: test run where errexit is ignored (called under if/||/&&/!)" >&2
		exit 70
	fi
	cd "$SCRATCH" || exit 1
	set -eEuo pipefail
	shopt -s inherit_errexit
	trap '_on_err $? $LINENO "$BASH_COMMAND"' ERR
	"$@"
}

# run_isolated FUNC ARGS...: runs FUNC ARGS as run_tests runs a test (own process, in
# $SCRATCH, every command checked) and returns its exit status. Call it as a plain
# statement and read $? after (under `if`/`||` every check would be dead: it refuses).
run_isolated() {
	(_isolated "$@")
}

# skip_allowed REASON: 0 when REASON is a line of the allow-list
skip_allowed() {
	[ -f "$SKIP_ALLOWED" ] && grep -vE '^[[:space:]]*(#|$)' "$SKIP_ALLOWED" | grep -qxF -- "$1"
}

# run_migrate ARGS...: runs the binary, leaving stdout in $OUT, stderr in $ERR and the
# exit status in $STATUS. Any sanitizer report fails the test at once.
run_migrate() {
	OUT=$SCRATCH/out.$RANDOM
	ERR=$SCRATCH/err.$RANDOM
	STATUS=0
	"$MIGRATE_BIN" "$@" >"$OUT" 2>"$ERR" </dev/null || STATUS=$?
	if grep -qE 'ERROR: (Address|Leak)Sanitizer|runtime error:|SUMMARY: UndefinedBehaviorSanitizer' "$ERR"; then
		cat "$ERR" >&2
		fail "sanitizer report from: migrate $*"
	fi
	return 0
}

# expect_status N ARGS...: runs migrate and fails unless it exits N.
expect_status() {
	local want=$1
	shift
	run_migrate "$@"
	if [ "$STATUS" != "$want" ]; then
		echo "    stdout: $(head -c 2000 "$OUT")" >&2
		echo "    stderr: $(head -c 2000 "$ERR")" >&2
		fail "migrate $* exited $STATUS, expected $want"
	fi
}

assert_contains() { # FILE TEXT
	grep -qF -- "$2" "$1" || { echo "    in: $(head -c 2000 "$1")" >&2; fail "expected '$2' in $(basename "$1")"; }
}

assert_not_contains() { # FILE TEXT
	if grep -qF -- "$2" "$1"; then
		echo "    in: $(head -c 2000 "$1")" >&2
		fail "did not expect '$2' in $(basename "$1")"
	fi
}

assert_eq() { # ACTUAL EXPECTED [WHAT]
	[ "$1" = "$2" ] || fail "${3:-value}: got '$1', expected '$2'"
}

assert_one_line() { # FILE: an error is exactly one line
	local n
	n=$(wc -l <"$1")
	[ "$n" -eq 1 ] || { cat "$1" >&2; fail "expected one line in $(basename "$1"), got $n"; }
}

run_tests() {
	local passed=0 failed=0 skipped=0 n=0 name status reason
	if [ "${CI:-}" = true ] && [ -n "${MIGRATE_TEST_FILTER:-}" ]; then
		echo "Bail out! MIGRATE_TEST_FILTER is refused under CI=true (it thins the suite)"
		echo "0 1 0" >>"$MIGRATE_TEST_COUNTS"
		return 1
	fi
	for name in $(declare -F | awk '{print $3}' | grep '^test_' | sort); do
		if [ -n "${MIGRATE_TEST_FILTER:-}" ] && [[ $name != *$MIGRATE_TEST_FILTER* ]]; then
			continue
		fi
		n=$((n + 1))
		SCRATCH=$(mktemp -d "${TMPDIR:-/tmp}/migrate-test.XXXXXX")
		run_isolated "$name" 2>"$SCRATCH/.reason" </dev/null
		status=$?
		if [ "$status" -eq 0 ] && [ -f "$SCRATCH/.skip" ]; then
			reason=$(head -1 "$SCRATCH/.skip")
			if [ "${CI:-}" = true ] && ! skip_allowed "$reason"; then
				echo "not ok $n $name"
				echo "# unexpected skip under CI=true (not in tests/skip-allowed): $reason"
				failed=$((failed + 1))
			else
				echo "ok $n $name # SKIP $reason"
				skipped=$((skipped + 1))
			fi
		elif [ "$status" -eq 0 ]; then
			echo "ok $n $name"
			passed=$((passed + 1))
		else
			echo "not ok $n $name"
			sed 's/^/# /' "$SCRATCH/.reason"
			failed=$((failed + 1))
		fi
		[ -n "${MIGRATE_TEST_KEEP:-}" ] || rm -rf "$SCRATCH"
		if [ "$failed" -gt 0 ] && [ -n "${MIGRATE_TEST_FAILFAST:-}" ]; then
			echo "Bail out! MIGRATE_TEST_FAILFAST: stopped at the first failure ($name)"
			break
		fi
	done
	echo "1..$n" # the TAP plan, last: meson test reads these lines
	echo "$passed $failed $skipped" >>"$MIGRATE_TEST_COUNTS"
	[ "$failed" -eq 0 ]
}

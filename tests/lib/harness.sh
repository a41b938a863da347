# Shared by the integration tests: a tiny TAP-style runner and the assertions.
# A test file defines functions named test_*; `run_tests` runs each in a subshell in a
# fresh scratch directory, prints "ok N name" or "not ok N name" with the reason, and
# appends "passed failed" counts to $MIGRATE_TEST_COUNTS.
set -u

: "${MIGRATE_BIN:?MIGRATE_BIN must name the migrate binary}"
: "${MIGRATE_TEST_COUNTS:=/dev/null}"

fail() {
	echo "    FAILED: $*" >&2
	exit 1
}

# run_migrate ARGS...: runs the binary, leaving stdout in $OUT, stderr in $ERR and the
# exit status in $STATUS. Any sanitizer report fails the test at once.
run_migrate() {
	OUT=$SCRATCH/out.$RANDOM
	ERR=$SCRATCH/err.$RANDOM
	set +e
	"$MIGRATE_BIN" "$@" >"$OUT" 2>"$ERR" </dev/null
	STATUS=$?
	set -e
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
	local passed=0 failed=0 n=0 name
	for name in $(declare -F | awk '{print $3}' | grep '^test_' | sort); do
		if [ -n "${MIGRATE_TEST_FILTER:-}" ] && [[ $name != *$MIGRATE_TEST_FILTER* ]]; then
			continue
		fi
		n=$((n + 1))
		SCRATCH=$(mktemp -d "${TMPDIR:-/tmp}/migrate-test.XXXXXX")
		if (cd "$SCRATCH" && set -e && "$name") 2>"$SCRATCH/.reason"; then
			echo "ok $n $name"
			passed=$((passed + 1))
		else
			echo "not ok $n $name"
			sed 's/^/# /' "$SCRATCH/.reason"
			failed=$((failed + 1))
		fi
		[ -n "${MIGRATE_TEST_KEEP:-}" ] || rm -rf "$SCRATCH"
	done
	echo "1..$n" # the TAP plan, last: meson test reads these lines
	echo "$passed $failed" >>"$MIGRATE_TEST_COUNTS"
	[ "$failed" -eq 0 ]
}

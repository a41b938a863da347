#!/usr/bin/env bash
# The harness tested: small test files with deliberately broken tests, run through
# tests/lib/harness.sh as the real suites are; each broken one must come out "not ok"
# naming its line, the good ones "ok", skips "ok ... # SKIP" (and "not ok" under CI=true
# unless allow-listed). Plus static checks that the real suites keep the harness's rules.
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../lib/harness.sh"
LIB=$(cd "$here/../lib" && pwd)

# inner BODY...: writes inner.sh, a test file whose lines are BODY (test functions), then
# runs it as a suite; leaves its TAP output in $TAP, its counts in $COUNTS, its exit
# status in $RC. Line 1 of inner.sh sources the harness; BODY starts at line 4.
inner() {
	{
		printf '. "%s/harness.sh"\n' "$LIB"
		printf '. "%s/postgres.sh"\n' "$LIB"
		printf '. "%s/mongo.sh"\n' "$LIB"
		printf '%s\n' "$@"
		printf 'run_tests\n'
	} >inner.sh
	TAP=$SCRATCH/tap.out
	COUNTS=$SCRATCH/counts
	: >"$COUNTS"
	RC=0
	env -u MIGRATE_TEST_FILTER -u MIGRATE_TEST_FAILFAST MIGRATE_TEST_COUNTS="$COUNTS" \
		bash inner.sh >"$TAP" 2>&1 || RC=$?
}

# expect_not_ok NAME LINE TEXT: the inner suite failed, NAME is "not ok", its reason
# names inner.sh:LINE and contains TEXT
expect_not_ok() {
	grep -qx "not ok [0-9]* $1" "$TAP" || { cat "$TAP" >&2; fail "$1 did not come out 'not ok'"; }
	[ "$RC" -ne 0 ] || fail "the inner suite exited 0 with a failing test"
	if [ -n "$2" ]; then
		grep -qE "inner\.sh:$2([^0-9]|\$)" "$TAP" || { cat "$TAP" >&2; fail "the reason does not name inner.sh:$2"; }
	fi
	[ -z "$3" ] || assert_contains "$TAP" "$3"
}

expect_ok() { # NAME
	grep -qx "ok [0-9]* $1" "$TAP" || { cat "$TAP" >&2; fail "$1 did not come out 'ok'"; }
}

test_a_good_test_is_ok() {
	inner 'test_good() {' '	[ 1 = 1 ]' '	x=$(echo hi)' '	assert_eq "$x" hi' '}'
	expect_ok test_good
	assert_eq "$RC" 0 "exit status"
	assert_eq "$(cat "$COUNTS")" "1 0 0" "counts"
	assert_eq "$(tail -1 "$TAP")" "1..1" "plan"
}

test_a_false_bracket_mid_test_fails() {
	inner 'test_bracket() {' '	[ 1 = 2 ]' '	echo still running >&2' '}'
	expect_not_ok test_bracket 5 "from: [ 1 = 2 ]"
	assert_not_contains "$TAP" "still running"
	assert_eq "$(cat "$COUNTS")" "0 1 0" "counts"
}

test_a_failed_check_in_the_middle_of_a_good_suite_is_counted() {
	inner 'test_a() { true; }' 'test_b() {' '	false' '	true' '}' 'test_c() { true; }'
	expect_ok test_a
	expect_not_ok test_b 6 "from: false"
	expect_ok test_c
	assert_eq "$(cat "$COUNTS")" "2 1 0" "counts"
}

test_a_heredoc_python_assert_fails() {
	inner 'test_heredoc() {' '	python3 - <<PY' 'assert 1 == 2, "the heredoc assert"' 'PY' '	true' '}'
	expect_not_ok test_heredoc 5 "the heredoc assert"
}

test_a_pipeline_into_check_json_fails() {
	inner 'test_pipe() {' "	echo '{\"a\": 1}' | check_json 'assert r[\"a\"] == 2, r'" '	true' '}'
	expect_not_ok test_pipe 5 "check failed"
}

test_a_pipeline_whose_first_command_fails_fails() {
	inner 'test_pipe_head() {' '	false | cat' '	true' '}'
	expect_not_ok test_pipe_head 5 ""
}

test_a_failed_command_substitution_fails() {
	inner 'test_subst() {' '	x=$(false; echo unreached)' '	true' '}'
	expect_not_ok test_subst 5 ""
}

test_a_failed_sql_setup_step_fails() {
	inner 'test_sql() {' '	new_db' '	sql "CREATE TABLE t (a int"' '	true' '}'
	expect_not_ok test_sql 6 ""
	assert_contains "$TAP" "syntax error"
}

test_a_sql_error_that_does_not_come_fails() {
	inner 'test_sql_err() {' '	new_db' '	sql_error "SELECT 1"' '	true' '}'
	expect_not_ok test_sql_err "" "expected an error from: SELECT 1"
}

test_a_failed_cp_setup_step_fails() {
	inner 'test_cp() {' '	cp does-not-exist here' '	true' '}'
	expect_not_ok test_cp 5 "cp does-not-exist here"
}

test_a_refused_mongo_setup_step_fails() {
	inner 'test_mongo() {' '	MDB=h_$RANDOM' "	mongo '{\"noSuchCommand\": 1}' >/dev/null" '	true' '}'
	expect_not_ok test_mongo 6 "the server refused"
}

test_a_mongo_error_that_does_not_come_fails() {
	inner 'test_mongo_err() {' '	MDB=h_$RANDOM' "	mongo_error '{\"ping\": 1}' >/dev/null" '	true' '}'
	expect_not_ok test_mongo_err 6 "expected an error"
	inner 'test_mongo_err_ok() {' '	MDB=h_$RANDOM' "	mongo_error '{\"noSuchCommand\": 1}' >/dev/null" '}'
	expect_ok test_mongo_err_ok
}

test_a_mongo_write_error_fails() {
	inner 'test_write() {' '	MDB=h_$RANDOM' \
		"	mongo '{\"insert\": \"c\", \"documents\": [{\"_id\": 1}, {\"_id\": 1}]}' >/dev/null" '	true' '}'
	expect_not_ok test_write 6 "the server refused"
}

test_a_failing_helper_names_the_test_line() {
	inner 'helper() {' '	[ a = b ]' '}' 'test_helper() {' '	helper' '	true' '}'
	expect_not_ok test_helper 5 "[ a = b ]"
	grep -qE "inner\.sh:8([^0-9]|\$)" "$TAP" || fail "the test's line"
}

test_fail_names_the_test_line() {
	inner 'test_fail() {' '	true' '	assert_eq 1 2 "the value"' '}'
	expect_not_ok test_fail 6 "the value: got '1', expected '2'"
}

test_a_bare_negation_is_refused_by_the_static_check() {
	# bash never checks `! cmd`: a test file with one must be caught by
	# test_the_suites_keep_the_rules, which uses the same pattern as here
	printf 'test_x() {\n\t! true\n\ttrue\n}\n' >neg.sh
	[ -n "$(dead_negations neg.sh)" ] || fail "dead_negations missed '! true'"
	printf 'test_x() {\n\tlocal v=$(false)\n}\n' >loc.sh
	[ -n "$(hidden_local_status loc.sh)" ] || fail "hidden_local_status missed 'local v=\$(false)'"
}

test_refute_fails_when_the_command_succeeds() {
	inner 'test_refute() {' '	refute true' '	true' '}' 'test_refute_ok() { refute false; }'
	expect_not_ok test_refute "" "expected failure from: true"
	grep -qE "inner\.sh:5([^0-9]|\$)" "$TAP" || fail "refute's line"
	expect_ok test_refute_ok
}

test_a_skip_is_visible_and_counted_apart() {
	CI=false
	export CI
	inner 'test_skip() {' '	skip "no widget here"' '	fail "unreached"' '}' 'test_ok() { true; }'
	grep -qx 'ok 2 test_skip # SKIP no widget here' "$TAP" || { cat "$TAP" >&2; fail "no visible skip"; }
	assert_eq "$(cat "$COUNTS")" "1 0 1" "counts"
	assert_eq "$RC" 0 "exit status"
}

test_an_unexpected_skip_under_ci_fails() {
	CI=true
	export CI
	inner 'test_skip() {' '	skip "no widget here"' '}'
	expect_not_ok test_skip "" "unexpected skip under CI=true"
	assert_eq "$(cat "$COUNTS")" "0 1 0" "counts"
}

test_an_allow_listed_skip_under_ci_is_a_skip() {
	CI=true
	MIGRATE_SKIP_ALLOWED=$SCRATCH/allowed
	export CI MIGRATE_SKIP_ALLOWED
	printf '# comment\nno widget here\n' >allowed
	inner 'test_skip() {' '	skip "no widget here"' '}'
	grep -qx 'ok 1 test_skip # SKIP no widget here' "$TAP" || { cat "$TAP" >&2; fail "the allowed skip did not pass"; }
	# a reason that only starts like an allowed one is not allowed
	inner 'test_skip() {' '	skip "no widget here either"' '}'
	expect_not_ok test_skip "" "unexpected skip"
}

test_run_tests_under_a_condition_refuses() {
	# a caller that puts the runner under `if` would silence every check: it is refused
	{
		printf '. "%s/harness.sh"\n' "$LIB"
		printf 'test_x() { false; true; }\n'
		printf 'if run_tests; then :; fi\n'
	} >cond.sh
	MIGRATE_TEST_COUNTS=/dev/null bash cond.sh >tap.out 2>&1 || true
	grep -qx 'not ok 1 test_x' tap.out || { cat tap.out >&2; fail "test ran with errexit ignored"; }
	assert_contains tap.out "errexit is ignored"
}

# MIGRATE_TEST_FAILFAST (tests/mutants.sh): the first failing test ends the suite with a
# bail-out and a failing status; a suite that passes runs every test as before
test_failfast_stops_at_the_first_failure_only() {
	{
		printf '. "%s/harness.sh"\n' "$LIB"
		printf 'test_a() { true; }\ntest_b() { false; }\ntest_c() { true; }\n'
		printf 'run_tests\n'
	} >ff.sh
	local rc=0
	env -u MIGRATE_TEST_FILTER MIGRATE_TEST_FAILFAST=1 MIGRATE_TEST_COUNTS=/dev/null bash ff.sh >tap.out 2>&1 || rc=$?
	[ "$rc" -ne 0 ] || { cat tap.out >&2; fail "a failfast run with a failing test exited 0"; }
	assert_contains tap.out "not ok 2 test_b"
	assert_contains tap.out "Bail out! MIGRATE_TEST_FAILFAST: stopped at the first failure (test_b)"
	assert_not_contains tap.out "test_c"
	printf '. "%s/harness.sh"\ntest_a() { true; }\ntest_c() { true; }\nrun_tests\n' "$LIB" >ok.sh
	rc=0
	env -u MIGRATE_TEST_FILTER MIGRATE_TEST_FAILFAST=1 MIGRATE_TEST_COUNTS=/dev/null bash ok.sh >tap.out 2>&1 || rc=$?
	assert_eq "$rc" 0 "status of a passing failfast run"
	assert_contains tap.out "ok 2 test_c"
	assert_eq "$(tail -1 tap.out)" "1..2" "plan"
}

test_a_filter_under_ci_is_refused() {
	CI=true
	export CI
	{
		printf '. "%s/harness.sh"\n' "$LIB"
		printf 'test_x() { true; }\n'
		printf 'run_tests\n'
	} >filtered.sh
	local rc=0
	MIGRATE_TEST_FILTER=x MIGRATE_TEST_COUNTS=/dev/null bash filtered.sh >tap.out 2>&1 || rc=$?
	[ "$rc" -ne 0 ] || { cat tap.out >&2; fail "a filtered run under CI=true passed"; }
	assert_contains tap.out "Bail out! MIGRATE_TEST_FILTER is refused under CI=true"
	assert_not_contains tap.out "ok 1 test_x"
}

# tests/run.sh counts through tap_counts.py: a suite that shrank, one that did not run,
# and a missing testlog.json are failures; skips are counted apart.
test_tap_counts_refuses_a_shrunken_suite() {
	local TC=$LIB/tap_counts.py
	printf '3 integration / a\n2 integration / b\n1 integration+install / install\n' >expected
	python3 - <<'PY'
import json
tap = "ok 1 x\nok 2 y # SKIP why\n1..2\n"
with open("testlog.json", "w") as f:
    for name in ("migrate:integration / a", "migrate:integration / b"):
        f.write(json.dumps({"name": name, "stdout": tap, "returncode": 0}) + "\n")
PY
	: >counts
	python3 "$TC" testlog.json counts --expected expected --not-run install >out
	# a ran 2 of 3 (a failure), b ran 2 of 2: 1 passed + 1 skipped each
	assert_eq "$(cat counts)" "2 1 2" "counts with a shrunken suite"
	assert_contains out "[integration / a] ran 2 tests, tests/expected-counts says 3"
	assert_not_contains out "[integration / b] ran"
	: >counts
	python3 "$TC" testlog.json counts --expected expected >out
	assert_eq "$(cat counts)" "2 2 2" "counts with an expected suite missing"
	assert_contains out "[integration+install / install] did not run"
	: >counts
	python3 "$TC" no-such-testlog.json counts >out
	assert_eq "$(cat counts)" "0 1 0" "counts with no testlog.json"
}

test_mongo_cmd_exits_non_zero_on_ok_0() {
	local rc=0
	/usr/bin/python3 "$LIB/mongo_cmd.py" "$MIGRATE_TEST_MONGO_URI" h "{\"noSuchCommand\": 1}" >reply 2>err || rc=$?
	assert_eq "$rc" 1 "exit status on ok: 0"
	assert_contains reply '"ok": 0'
	rc=0
	/usr/bin/python3 "$LIB/mongo_cmd.py" --expect-error "$MIGRATE_TEST_MONGO_URI" h "{\"noSuchCommand\": 1}" >reply || rc=$?
	assert_eq "$rc" 0 "exit status with --expect-error"
}

# dead_negations FILES...: lines where a test's check is a bare `! cmd` (never checked)
dead_negations() {
	grep -nE '^[[:space:]]*![[:space:]]' "$@" || true
}

# hidden_local_status FILES...: `local v=$(cmd)`, where local's status hides cmd's
hidden_local_status() {
	grep -nE '^[[:space:]]*(local|declare|export|readonly)[[:space:]]+[A-Za-z_][A-Za-z_0-9]*=\$\(' "$@" || true
}

test_the_suites_keep_the_rules() {
	local files found
	files=$(ls "$here"/test_*.sh "$LIB"/*.sh)
	# shellcheck disable=SC2086
	found=$(dead_negations $files)
	[ -z "$found" ] || fail "a bare '! cmd' is never checked; use 'if cmd; then fail ...; fi': $found"
	# shellcheck disable=SC2086
	found=$(hidden_local_status $files)
	[ -z "$found" ] || fail "'local v=\$(cmd)' hides cmd's failure: $found"
	# every suite hands its tests to run_tests as a plain last statement
	local f
	for f in "$here"/test_*.sh; do
		[ "$(grep -vE '^[[:space:]]*(#|$)' "$f" | tail -1)" = run_tests ] ||
			fail "$(basename "$f") does not end with a plain 'run_tests'"
	done
}

run_tests

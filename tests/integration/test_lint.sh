#!/usr/bin/env bash
# `migrate lint`: the data-driven rule cases of tests/lint/cases (one test each), the
# up guard (postgres.lint), and the ground truth behind the index rule: a real server
# blocks writers behind a non-concurrent CREATE INDEX and not behind a concurrent one.
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../lib/harness.sh"
. "$here/../lib/postgres.sh"
CASES=$(cd "$here/../lint/cases" && pwd)

# bounded TEXT: an extended regex matching TEXT literally, and when TEXT ends in a digit,
# not followed by another ("line=1" must not match "line=10")
bounded() {
	local re
	re=$(printf '%s' "$1" | sed 's/[][\.*^$(){}?+|/]/\\&/g')
	case $1 in *[0-9]) re="$re([^0-9]|\$)" ;; esac
	printf '%s' "$re"
}

# run_lint_case DIR: lints the case's files and compares with its `case` file.
run_lint_case() {
	local dir=$1 want_rules='' want_exit='' args='' line key value got rule
	local -a outs=() files=() ats=() quiets=()
	while IFS= read -r line || [ -n "$line" ]; do
		case $line in '' | '#'*) continue ;; esac
		key=${line%%=*}
		value=${line#*=}
		case $key in
		rules) want_rules=$value ;;
		exit) want_exit=$value ;;
		args) args=$value ;;
		stdout) outs+=("$value") ;;
		at) ats+=("$value") ;;
		quiet) quiets+=("$value") ;;
		*) fail "$dir/case: unknown key '$key'" ;;
		esac
	done <"$dir/case"
	[ -n "$want_exit" ] || fail "$dir/case: no exit="
	# a tree case (config.yaml and migrations/) is linted as a tree: the model reads its
	# history; otherwise the case's *.sql files are named, as one run
	if [ -d "$dir/migrations" ]; then
		cp -R "$dir/config.yaml" "$dir/migrations" .
	else
		for f in "$dir"/*.sql; do
			cp "$f" .
			files+=("$(basename "$f")")
		done
	fi
	# shellcheck disable=SC2086 # args is a list of words
	expect_status "$want_exit" lint --format github $args ${files[@]+"${files[@]}"}
	got=$({ grep -oE 'title=[a-z-]+::' "$OUT" || true; } | sed 's/^title=//; s/::$//' | sort -u | tr '\n' ' ')
	want_rules=$(printf '%s\n' $want_rules | sort -u | tr '\n' ' ')
	assert_eq "${got% }" "${want_rules% }" "rules raised"
	# every finding, exactly: FILE:LINE:COL RULE
	if [ -n "${want_rules% }" ] || [ "${#ats[@]}" -gt 0 ]; then
		got=$({ grep -oE '^::[a-z]+ file=[^,]+,line=[0-9]+,col=[0-9]+,title=[a-z-]+' "$OUT" || true; } |
			sed -E 's/^::[a-z]+ file=([^,]+),line=([0-9]+),col=([0-9]+),title=(.*)$/\1:\2:\3 \4/' | sort)
		assert_eq "$got" "$(printf '%s\n' "${ats[@]}" | sort)" "findings at (FILE:LINE:COL RULE)"
	fi
	for rule in "${quiets[@]}"; do
		case " $got " in *" $rule"*) fail "$rule fired on its quiet case" ;; esac
	done
	for line in "${outs[@]}"; do
		grep -qE -- "$(bounded "$line")" "$OUT" || { echo "    in: $(head -c 2000 "$OUT")" >&2; fail "expected '$line' in the output"; }
	done
	if [ "$want_exit" != 0 ]; then
		assert_one_line "$ERR"
	fi
}

for dir in "$CASES"/*/; do
	name=$(basename "$dir")
	fn="test_case_${name//-/_}"
	eval "$fn() { run_lint_case '$dir'; }"
done

# The rules come from the binary (not from grepping the source), with a floor so that a
# change of format cannot make the loop run zero times: each rule needs a case that
# raises it and a case (quiet=RULE) where its safe form stays quiet.
LINT_RULES_FLOOR=30
test_every_rule_has_a_case_both_ways() {
	local rule rules n=0
	expect_status 0 help lint --format json
	rules=$(python3 -c 'import json,sys; print("\n".join(r["id"] for r in json.load(open(sys.argv[1]))["rules"]))' "$OUT")
	for rule in $rules; do
		n=$((n + 1))
		# raised only by --observe or --data, against a server: test_observe_*, test_data_* below
		case $rule in observed-* | data-*) continue ;; esac
		grep -qE "^rules=(.* )?$rule( |$)" "$CASES"/*/case || fail "no case raises $rule"
		grep -qxF "quiet=$rule" "$CASES"/*/case || fail "no case shows $rule quiet on its safe form (quiet=$rule)"
	done
	[ "$n" -ge "$LINT_RULES_FLOOR" ] || fail "migrate help lint --format json lists $n rules, expected at least $LINT_RULES_FLOOR"
	# the text help lists the same rules
	expect_status 0 help lint
	for rule in $rules; do assert_contains "$OUT" "  $rule "; done
	[ "$(grep -lE '^rules=$' "$CASES"/*/case | wc -l)" -ge 25 ] || fail "too few clean cases"
	# a case that raises rules pins every finding's position
	local c
	for c in $(grep -lE '^rules=.+' "$CASES"/*/case); do
		grep -q '^at=' "$c" || fail "$c raises rules but pins no position (at=FILE:LINE:COL RULE)"
	done
}

test_stdout_positions_are_matched_exactly() {
	printf 'line=10,col=1\n' >o.txt
	grep -qE -- "$(bounded 'line=1')" o.txt && fail "'line=1' matched 'line=10'"
	grep -qE -- "$(bounded 'line=10')" o.txt || fail "'line=10' did not match itself"
	grep -qE -- "$(bounded 'line=10,col=1')" o.txt || fail "'line=10,col=1' did not match itself"
	printf 'a.b (x)\n' >o.txt
	grep -qE -- "$(bounded 'a.b (x)')" o.txt || fail "special characters were not matched literally"
	grep -qE -- "$(bounded 'a.c')" o.txt && fail "'.' matched any character"
	return 0
}

test_text_format_names_lock_and_fix() {
	printf 'CREATE INDEX users_email_idx ON users (email);\n' >001_x.up.sql
	expect_status 3 lint 001_x.up.sql
	assert_contains "$OUT" '001_x.up.sql:1:1: error [require-concurrent-index-creation]'
	assert_contains "$OUT" 'lock: SHARE on "users": blocks writes; rewrites the table: no'
	assert_contains "$OUT" 'fix: CREATE INDEX CONCURRENTLY'
	assert_contains "$ERR" 'lint found 1 error'
}

test_json_format() {
	printf 'ALTER TABLE users ALTER COLUMN age TYPE bigint;\n' >001_x.up.sql
	expect_status 3 lint --format json 001_x.up.sql
	python3 - "$OUT" <<'PY'
import json, sys
doc = json.load(open(sys.argv[1]))
rules = sorted(f["rule"] for f in doc["findings"])
assert rules == ["changing-column-type", "require-lock-timeout"], rules
f = [f for f in doc["findings"] if f["rule"] == "changing-column-type"][0]
assert f["rewrites"] is True and f["table"] == "users" and f["line"] == 1, f
assert doc["errors"] == 1 and doc["warnings"] == 1, doc
PY
}

# SARIF 2.1.0 for GitHub code scanning: the fields the schema requires (checked by
# tests/lib/sarif_check.py), one result per finding and per file that does not parse,
# each pointing at its rule; a path with a space percent-encoded; the exit status as for
# the other formats.
test_sarif_format() {
	mkdir -p "db dir"
	printf 'SET lock_timeout = 1000;\nCREATE INDEX users_email_idx ON users (email);\n' >"db dir/001_x.up.sql"
	printf 'CREATE TABLE (;\n' >002_y.up.sql
	# --pg-version 15: a file the grammar cannot parse is then a syntax error, not a warning
	expect_status 2 lint --format sarif --pg-version 15 "db dir/001_x.up.sql" 002_y.up.sql
	python3 "$MIGRATE_SOURCE_ROOT/tests/lib/sarif_check.py" "$OUT" \
		require-concurrent-index-creation:2 syntax-error:1 >got ||
		fail "not valid SARIF: $(head -c 600 "$OUT")"
	assert_contains got "require-concurrent-index-creation:2:db dir/001_x.up.sql"
	assert_contains "$OUT" '"uri": "db%20dir/001_x.up.sql"'
	assert_contains "$OUT" '"level": "error"'
	assert_contains "$OUT" '"startColumn": 14'
	# a clean file: a valid log with no results, exit 0
	printf 'CREATE TABLE t (id bigint PRIMARY KEY);\n' >003_z.up.sql
	expect_status 0 lint --format sarif 003_z.up.sql
	python3 "$MIGRATE_SOURCE_ROOT/tests/lib/sarif_check.py" "$OUT" || fail "not valid SARIF"
	# an error finding alone: exit 3, the tool's version in the driver
	expect_status 3 lint --format sarif "db dir/001_x.up.sql"
	python3 "$MIGRATE_SOURCE_ROOT/tests/lib/sarif_check.py" "$OUT" require-concurrent-index-creation:2 >/dev/null ||
		fail "not valid SARIF"
	assert_contains "$OUT" "\"version\": \"$("$MIGRATE_BIN" --version | cut -d' ' -f2)\""
}

test_bad_options() {
	expect_status 2 lint --format yaml x.sql
	assert_contains "$ERR" "text or json or github or sarif"
	expect_status 2 lint --all x.sql
	expect_status 2 lint --pg-version abc x.sql
	expect_status 2 status --format github
}

test_missing_file() {
	expect_status 2 lint nowhere.sql
	assert_contains "$ERR" "nowhere.sql"
}

# A tree with a config but no reachable database: every file, with a note.
test_tree_without_database() {
	printf 'postgres:\n  dsn: "postgres://app:x@127.0.0.1:1/nothing?connect_timeout=2"\nmodules: {}\n' >config.yaml
	migration core 001_init.up.sql 'CREATE TABLE users (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, email text);'
	migration core 002_index.up.sql 'CREATE INDEX users_email_idx ON users (email);'
	expect_status 3 lint
	assert_contains "$ERR" "linting every file"
	assert_contains "$OUT" "002_index.up.sql:1:1: error [require-concurrent-index-creation]"
	assert_not_contains "$ERR" "postgres://app:x@"
}

# With the database: only pending files, and a table the database does not have yet is
# no finding (an earlier pending file creates it).
test_pending_files_only() {
	new_db
	write_config 'modules: {}'
	migration core 001_init.up.sql 'CREATE TABLE users (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, email text);'
	expect_status 0 up
	migration core 002_index.up.sql 'CREATE INDEX users_email_idx ON users (email);'
	migration core 003_more.up.sql 'CREATE TABLE orders (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY);'
	migration core 004_idx.up.sql 'CREATE INDEX orders_id_idx ON orders (id);'
	expect_status 3 lint
	assert_contains "$OUT" "002_index.up.sql:1:1"
	assert_not_contains "$OUT" "001_init"
	assert_not_contains "$OUT" "004_idx"
	assert_contains "$OUT" "in 3 files"
	expect_status 3 lint --all
	assert_contains "$OUT" "in 4 files"
}

# The schema model with the database: the applied files are the history, the pending ones
# the run; what the database has and no migration made is not 'unknown'.
test_model_pending_history() {
	new_db
	write_config 'modules: {}'
	migration core 001_init.up.sql 'CREATE TABLE users (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, email varchar(20) NOT NULL, nick varchar(10));'
	expect_status 0 up
	sql "CREATE TABLE made_by_hand (id bigint PRIMARY KEY, note text); ALTER TABLE made_by_hand OWNER TO app" >/dev/null
	migration core 002_widen.up.sql "SET lock_timeout = '5s';
ALTER TABLE users ALTER COLUMN email TYPE varchar(80);
ALTER TABLE users ALTER COLUMN email SET NOT NULL;
ALTER TABLE made_by_hand ALTER COLUMN note SET DEFAULT '';"
	expect_status 0 lint
	assert_contains "$OUT" "no findings in 1 file"
	migration core 003_typo.up.sql "SET lock_timeout = '5s';
-- migrate:lint-ignore renaming-column,destructive-in-expand the app reads both names
ALTER TABLE users RENAME COLUMN nik TO nickname;"
	expect_status 3 lint
	assert_contains "$OUT" '003_typo.up.sql:3:1: error [unknown-object] RENAME COLUMN "nik": table "users" has no column "nik"'
	expect_status 3 lint --format json
	python3 - "$OUT" <<'PY'
import json, sys
doc = json.load(open(sys.argv[1]))
assert [f["rule"] for f in doc["findings"]] == ["unknown-object"], doc
PY
}

# up's guard uses the model too: widening a varchar of a large table is no finding.
test_up_guard_model_widening() {
	new_db
	write_config '  lint: error' '  lint_min_rows: 100' 'modules: {}'
	migration core 001_init.up.sql 'CREATE TABLE accounts (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, nick varchar(20));
INSERT INTO accounts (nick) SELECT g::text FROM generate_series(1, 5000) g;
ANALYZE accounts;'
	expect_status 0 up
	migration core 002_widen.up.sql "SET lock_timeout = '5s'; ALTER TABLE accounts ALTER COLUMN nick TYPE varchar(40);"
	expect_status 0 up
	assert_not_contains "$ERR" "lint"
	[ "$(sql "SELECT character_maximum_length FROM information_schema.columns WHERE table_name = 'accounts' AND column_name = 'nick'")" = 40 ] ||
		fail "the column was not widened"
	migration core 003_narrow.up.sql "SET lock_timeout = '5s'; ALTER TABLE accounts ALTER COLUMN nick TYPE varchar(10);"
	expect_status 2 up
	assert_contains "$ERR" "[changing-column-type]"
	assert_contains "$ERR" "nothing applied"
}

# ---- lint --data: probes of the rows pending statements meet ----

IGNORE_HEADER='-- migrate:phase contract
-- migrate:lint-ignore adding-not-nullable-field,disallowed-unique-constraint,adding-foreign-key-constraint,require-concurrent-index-creation only the data probes are under test
SET lock_timeout = '"'5s'"';'

# data_tree: accounts and orders applied, with rows: NULL emails (ids 2, 4, 6), two
# duplicated logins, one order (id 7) whose account is gone.
data_tree() {
	new_db
	write_config 'modules: {}'
	migration core 001_init.up.sql 'CREATE TABLE accounts (id bigint PRIMARY KEY, email text, login text, code text);
CREATE TABLE orders (id bigint PRIMARY KEY, account_id bigint);'
	expect_status 0 up
	sql "INSERT INTO accounts SELECT g, CASE WHEN g IN (2, 4, 6) THEN NULL ELSE 'u' || g END,
	       CASE WHEN g IN (3, 5) THEN 'dup-a' WHEN g IN (8, 9) THEN 'dup-b' ELSE 'login' || g END, 'c' || g
	     FROM generate_series(1, 50) g;
	     INSERT INTO orders VALUES (1, 1), (2, 10), (7, 999), (8, NULL)" >/dev/null
}

test_data_not_null() {
	data_tree
	migration core 002_nn.up.sql "$IGNORE_HEADER
ALTER TABLE accounts ALTER COLUMN email SET NOT NULL;"
	expect_status 3 lint --data
	assert_contains "$OUT" '002_nn.up.sql:4:1: error [data-would-fail] would fail: 3 rows of accounts have NULL email (id 2, 4, 6)'
	sql "UPDATE accounts SET email = 'x' || id WHERE email IS NULL" >/dev/null
	expect_status 0 lint --data
	assert_not_contains "$OUT" "data-"
}

test_data_unique() {
	data_tree
	migration core 002_uq.up.sql "$IGNORE_HEADER
ALTER TABLE accounts ADD CONSTRAINT accounts_login_key UNIQUE (login);
ALTER TABLE accounts ADD CONSTRAINT accounts_code_key UNIQUE (code);"
	printf -- '-- migrate:run-in-tx false\nCREATE UNIQUE INDEX CONCURRENTLY accounts_login_idx ON accounts (login);\n' >migrations/postgres/core/003_idx.up.sql
	expect_status 3 lint --data --format json
	python3 - "$OUT" <<'PY'
import json, sys
doc = json.load(open(sys.argv[1]))
data = [(f["file"].split("/")[-1], f["line"], f["message"]) for f in doc["findings"] if f["rule"].startswith("data-")]
assert data == [
    ("002_uq.up.sql", 4, "would fail: 2 duplicate values of accounts.login ('dup-a', 'dup-b')"),
    ("003_idx.up.sql", 2, "would fail: 2 duplicate values of accounts.login ('dup-a', 'dup-b')"),
], data
f = [f for f in doc["findings"] if f["rule"] == "data-would-fail"][0]
assert f["severity"] == "error" and f["table"] == "accounts", f
PY
	sql "UPDATE accounts SET login = 'login' || id WHERE login LIKE 'dup-%'" >/dev/null
	expect_status 0 lint --data --format github
	assert_not_contains "$OUT" "data-"
}

test_data_foreign_key() {
	data_tree
	migration core 002_fk.up.sql "$IGNORE_HEADER
ALTER TABLE orders ADD CONSTRAINT orders_account_fkey FOREIGN KEY (account_id) REFERENCES accounts (id);"
	expect_status 3 lint --data --format github
	assert_contains "$OUT" '::error file=migrations/postgres/core/002_fk.up.sql,line=4,col=1,title=data-would-fail::would fail: 1 row of orders references a missing row of accounts (orders.id 7)'
	sql "DELETE FROM orders WHERE id = 7" >/dev/null
	expect_status 0 lint --data
	assert_not_contains "$OUT" "data-"
	# NOT VALID checks no row: no probe
	sql "INSERT INTO orders VALUES (9, 12345)" >/dev/null
	migration core 002_fk.up.sql "$IGNORE_HEADER
ALTER TABLE orders ADD CONSTRAINT orders_account_fkey FOREIGN KEY (account_id) REFERENCES accounts (id) NOT VALID;"
	expect_status 0 lint --data
	assert_not_contains "$OUT" "data-"
}

# ADD CONSTRAINT ... CHECK validates every row: the rows it would refuse.
test_data_check() {
	data_tree
	migration core 002_ck.up.sql "$IGNORE_HEADER
-- migrate:lint-ignore constraint-missing-not-valid only the probe is under test
ALTER TABLE accounts ADD CONSTRAINT accounts_id_check CHECK (id < 48 AND code LIKE 'c%');"
	expect_status 3 lint --data
	assert_contains "$OUT" '002_ck.up.sql:5:1: error [data-would-fail] would fail: 3 rows of accounts violate accounts_id_check (id 48, 49, 50)'
	sql "DELETE FROM accounts WHERE id >= 48" >/dev/null
	expect_status 0 lint --data
	assert_not_contains "$OUT" "data-"
	# NOT VALID checks no row: no probe
	migration core 002_ck.up.sql "$IGNORE_HEADER
ALTER TABLE accounts ADD CONSTRAINT accounts_id_check CHECK (id < 10) NOT VALID;"
	expect_status 0 lint --data
	assert_not_contains "$OUT" "data-"
}

# VALIDATE CONSTRAINT checks the rows of a NOT VALID constraint: one the database has
# (made outside the migrations: known from its catalog), or one the run adds first.
test_data_validate() {
	data_tree
	sql "ALTER TABLE accounts ADD CONSTRAINT accounts_id_small CHECK (id < 48) NOT VALID;
	     ALTER TABLE orders ADD CONSTRAINT orders_account_fkey FOREIGN KEY (account_id) REFERENCES accounts (id) NOT VALID" >/dev/null
	migration core 002_validate.up.sql "$IGNORE_HEADER
ALTER TABLE accounts VALIDATE CONSTRAINT accounts_id_small;
ALTER TABLE orders VALIDATE CONSTRAINT orders_account_fkey;
ALTER TABLE accounts ADD CONSTRAINT accounts_login_check CHECK (login NOT LIKE 'dup-%') NOT VALID;
ALTER TABLE accounts VALIDATE CONSTRAINT accounts_login_check;"
	expect_status 3 lint --data
	assert_contains "$OUT" '002_validate.up.sql:4:1: error [data-would-fail] would fail: 3 rows of accounts violate accounts_id_small (id 48, 49, 50)'
	assert_contains "$OUT" '002_validate.up.sql:5:1: error [data-would-fail] would fail: 1 row of orders references a missing row of accounts (orders.id 7)'
	assert_contains "$OUT" "002_validate.up.sql:7:1: error [data-would-fail] would fail: 4 rows of accounts violate accounts_login_check (id 3, 5, 8, …)"
	# up's guard (postgres.lint_data: on) knows the database's constraint too
	write_config '  lint_data: on' 'modules: {}'
	expect_status 3 up
	assert_contains "$ERR" 'would fail: 3 rows of accounts violate accounts_id_small (id 48, 49, 50)'
	[ "$(sql "SELECT count(*) FROM schema_migrations WHERE version = 2")" = 0 ] || fail "002 was applied"
	sql "DELETE FROM orders WHERE id = 7; DELETE FROM accounts WHERE id >= 48;
	     UPDATE accounts SET login = 'login' || id WHERE login LIKE 'dup-%'" >/dev/null
	expect_status 0 lint --data
	assert_not_contains "$OUT" "data-"
	# a constraint nobody has: said, not guessed
	migration core 002_validate.up.sql "$IGNORE_HEADER
ALTER TABLE accounts VALIDATE CONSTRAINT no_such_check;"
	expect_status 0 lint --data
	assert_contains "$OUT" 'warning [data-not-checked] not checked: the constraint is not known'
}

# ALTER COLUMN ... TYPE [USING col::type]: the rows whose value does not convert,
# tested without converting (no probe raises on a bad row); columns made outside the
# migrations are known from the database's catalog.
test_data_cast() {
	data_tree
	sql "ALTER TABLE accounts ADD COLUMN age text, ADD COLUMN nick varchar(20), ADD COLUMN amount numeric, ADD COLUMN price text;
	     UPDATE accounts SET age = CASE id WHEN 4 THEN 'abc' WHEN 9 THEN ' 12x' WHEN 11 THEN '99999999999' ELSE ' ' || id || ' ' END,
	                         nick = CASE id WHEN 6 THEN 'a-very-long-nickname' WHEN 7 THEN 'eight+  ' ELSE 'n' || id END,
	                         amount = CASE id WHEN 10 THEN 2147483647.5 WHEN 12 THEN -2147483648.4 ELSE id * 1.5 END,
	                         price = CASE id WHEN 12 THEN '1234' WHEN 13 THEN 'x' WHEN 14 THEN ' -999.994 ' ELSE '12.345' END" >/dev/null
	migration core 002_types.up.sql "${IGNORE_HEADER/require-concurrent-index-creation/require-concurrent-index-creation,changing-column-type}
ALTER TABLE accounts ALTER COLUMN age TYPE integer USING age::integer;
ALTER TABLE accounts ALTER COLUMN nick TYPE varchar(6);
ALTER TABLE accounts ALTER COLUMN code TYPE bigint;
ALTER TABLE accounts ALTER COLUMN amount TYPE integer;
ALTER TABLE accounts ALTER COLUMN price TYPE numeric(5, 2) USING price::numeric(5, 2);"
	expect_status 3 lint --data
	# numeric to integer rounds half away from zero: 2147483647.5 overflows, -2147483648.4 fits
	assert_contains "$OUT" "002_types.up.sql:7:1: error [data-would-fail] would fail: 1 row of accounts: amount does not convert to integer (id 10 '2147483647.5')"
	# numeric(5,2) holds below 1000 once rounded to 2 places
	assert_contains "$OUT" "002_types.up.sql:8:1: error [data-would-fail] would fail: 2 rows of accounts: price does not convert to numeric(5,2) (id 12 '1234', id 13 'x')"
	assert_contains "$OUT" "002_types.up.sql:4:1: error [data-would-fail] would fail: 3 rows of accounts: age does not convert to integer (id 4 'abc', id 9 ' 12x', id 11 '99999999999')"
	assert_contains "$OUT" "002_types.up.sql:5:1: error [data-would-fail] would fail: 1 row of accounts: nick does not convert to character varying(6) (id 6 'a-very-long-nickname')"
	assert_contains "$OUT" '002_types.up.sql:6:1: error [data-would-fail] would fail: accounts.code (text) cannot be cast automatically to bigint: add USING code::int8'
	sql "UPDATE accounts SET age = '4' WHERE id IN (4, 9, 11); UPDATE accounts SET nick = 'n6' WHERE id = 6" >/dev/null
	migration core 002_types.up.sql "${IGNORE_HEADER/require-concurrent-index-creation/require-concurrent-index-creation,changing-column-type}
ALTER TABLE accounts ALTER COLUMN age TYPE integer USING age::integer;
ALTER TABLE accounts ALTER COLUMN nick TYPE varchar(6);"
	expect_status 0 lint --data
	assert_not_contains "$OUT" "data-"
	# and the deploy agrees: it applies
	expect_status 0 up
	[ "$(sql "SELECT sum(age) FROM accounts WHERE id < 4")" = 6 ] || fail "age was not converted"
	# widening a column the migrations never made is neither flagged nor probed
	migration core 003_widen.up.sql "SET lock_timeout = '5s';
ALTER TABLE accounts ALTER COLUMN nick TYPE varchar(40);"
	expect_status 0 lint --data
	assert_not_contains "$OUT" "003_widen"
}

# The probe uses an index on the column when there is one: a table too large to scan
# within the probe timeout makes the unindexed probe report the timeout (a warning),
# while with an index the same probe answers in time, through the index.
test_data_indexed_and_unindexed() {
	data_tree
	sql "CREATE TABLE events (id bigint PRIMARY KEY, ref text);
	     INSERT INTO events SELECT g, 'r' || g FROM generate_series(1, 1000000) g; ANALYZE events; ALTER TABLE events OWNER TO app" >/dev/null
	write_config '  lint_probe_timeout: 10ms' 'modules: {}'
	migration core 002_nn.up.sql "$IGNORE_HEADER
ALTER TABLE events ALTER COLUMN ref SET NOT NULL;"
	expect_status 0 lint --data
	assert_contains "$OUT" '002_nn.up.sql:4:1: warning [data-not-checked] not checked: the probe timed out after 0.01s on events (≈1M rows)'
	sql "CREATE INDEX events_ref_idx ON events (ref); UPDATE events SET ref = NULL WHERE id = 777777; ANALYZE events" >/dev/null
	expect_status 3 lint --data
	assert_contains "$OUT" '002_nn.up.sql:4:1: error [data-would-fail] would fail: 1 row of events has NULL ref (id 777777)'
	wait_until "$DB" "SELECT idx_scan FROM pg_stat_user_indexes WHERE indexrelname = 'events_ref_idx'"
}

# Tables the run creates need no probe; a column the run adds cannot be probed.
test_data_run_creates() {
	data_tree
	migration core 002_new.up.sql "$IGNORE_HEADER
CREATE TABLE invoices (id bigint PRIMARY KEY, total numeric);
ALTER TABLE invoices ALTER COLUMN total SET NOT NULL;
ALTER TABLE accounts ADD COLUMN plan text;
ALTER TABLE accounts ALTER COLUMN plan SET NOT NULL;"
	expect_status 0 lint --data
	assert_contains "$OUT" '002_new.up.sql:7:1: warning [data-not-checked] not checked: a column it needs is added by this run'
	assert_not_contains "$OUT" ':5:1'
}

# A probe that runs out of time is a warning, never a wait.
test_data_probe_timeout() {
	data_tree
	sql "INSERT INTO accounts SELECT g, 'u' || g, 'l' || g, 'c' || g FROM generate_series(100, 400000) g; ANALYZE accounts" >/dev/null
	write_config '  lint_probe_timeout: 5ms' 'modules: {}'
	migration core 002_uq.up.sql "$IGNORE_HEADER
ALTER TABLE accounts ADD CONSTRAINT accounts_code_key UNIQUE (code);"
	expect_status 0 lint --data
	assert_contains "$OUT" 'warning [data-not-checked] not checked: the probe timed out after 0.005s on accounts (≈400k rows)'
}

# The probes take ACCESS SHARE only: a writer is never blocked by them, and a session
# holding the table makes a probe give up after its lock_timeout, not wait.
test_data_writer_not_blocked() {
	data_tree
	sql "INSERT INTO accounts SELECT g, 'u' || g, 'l' || g, 'c' || g FROM generate_series(100, 1500000) g; ANALYZE accounts" >/dev/null
	write_config '  lint_probe_timeout: 20s' 'modules: {}'
	migration core 002_uq.up.sql "$IGNORE_HEADER
ALTER TABLE accounts ADD CONSTRAINT accounts_code_key UNIQUE (code);"
	"$MIGRATE_BIN" lint --data >lint.out 2>&1 &
	local linter=$!
	wait_until "$DB" "SELECT count(*) FROM pg_stat_activity WHERE query LIKE '%HAVING count(*) > 1%' AND state = 'active' AND pid <> pg_backend_pid()"
	# while the probe runs: its locks, and a writer's time
	[ "$(sql "SELECT string_agg(DISTINCT l.mode, ',') FROM pg_locks l JOIN pg_stat_activity a USING (pid) WHERE a.query LIKE '%HAVING count(*) > 1%' AND l.locktype = 'relation' AND a.pid <> pg_backend_pid()")" = AccessShareLock ] ||
		fail "the probe holds more than ACCESS SHARE"
	local t0 t1
	t0=${EPOCHREALTIME/./}
	pg_admin -d "$DB" -c "SET lock_timeout = '500ms'; INSERT INTO accounts VALUES (-1, 'w', 'w', 'w'); UPDATE accounts SET email = 'w2' WHERE id = 1" >/dev/null ||
		fail "the writer was blocked by the probe"
	t1=${EPOCHREALTIME/./}
	[ "$(sql "SELECT count(*) FROM pg_stat_activity WHERE query LIKE '%HAVING count(*) > 1%' AND state = 'active' AND pid <> pg_backend_pid()")" = 1 ] ||
		echo "# note: the probe ended before the writer did ($(((t1 - t0) / 1000)) ms)" >&2
	wait "$linter" || true
	(((t1 - t0) / 1000 < 500)) || fail "the writer waited $(((t1 - t0) / 1000)) ms"
	# a session holding ACCESS EXCLUSIVE: the probe gives up after its lock_timeout
	pg_admin -d "$DB" -c "BEGIN; LOCK TABLE accounts IN ACCESS EXCLUSIVE MODE; SELECT pg_sleep(30); COMMIT" >/dev/null 2>&1 &
	local holder=$!
	wait_until "$DB" "SELECT count(*) FROM pg_locks WHERE relation = 'accounts'::regclass AND mode = 'AccessExclusiveLock' AND granted"
	t0=${EPOCHREALTIME/./}
	expect_status 0 lint --data
	t1=${EPOCHREALTIME/./}
	sql "SELECT pg_cancel_backend(pid) FROM pg_stat_activity WHERE query LIKE '%pg_sleep(30)%' AND pid <> pg_backend_pid()" >/dev/null
	wait "$holder" 2>/dev/null || true
	assert_contains "$OUT" 'not checked: accounts is locked by another session (waited 500ms'
	(((t1 - t0) / 1000 < 10000)) || fail "lint --data waited $(((t1 - t0) / 1000)) ms"
}

# postgres.lint_data: on: up probes first and applies nothing when a statement would fail.
test_data_up_guard() {
	data_tree
	write_config '  lint: off' '  lint_data: on' 'modules: {}'
	migration core 002_nn.up.sql "$IGNORE_HEADER
ALTER TABLE accounts ALTER COLUMN email SET NOT NULL;"
	expect_status 3 up
	assert_contains "$ERR" 'migrate: lint: migrations/postgres/core/002_nn.up.sql:4:1: error [data-would-fail] would fail: 3 rows of accounts have NULL email (id 2, 4, 6)'
	assert_contains "$ERR" "1 statement would fail on the rows already there (postgres.lint_data: on): nothing applied"
	[ "$(sql "SELECT count(*) FROM schema_migrations WHERE version = 2")" = 0 ] || fail "002 was applied"
	sql "UPDATE accounts SET email = 'x' || id WHERE email IS NULL" >/dev/null
	expect_status 0 up
	[ "$(sql "SELECT is_nullable FROM information_schema.columns WHERE table_name = 'accounts' AND column_name = 'email'")" = NO ] ||
		fail "SET NOT NULL did not run"
	write_config '  lint_data: maybe' 'modules: {}'
	expect_status 2 status
	assert_contains "$ERR" "'postgres.lint_data' must be off or on, not 'maybe'"
}

test_data_needs_database() {
	printf 'modules: {}\n' >config.yaml
	migration core 001_a.up.sql 'SELECT 1;'
	expect_status 2 lint --data
	assert_contains "$ERR" "'lint --data' needs a postgres: section"
}

populated_users() {
	new_db
	sql "CREATE TABLE users (id bigint PRIMARY KEY, email text); INSERT INTO users SELECT g, 'u' || g FROM generate_series(1, 20000) g; ANALYZE users; ALTER TABLE users OWNER TO app" >/dev/null
}

test_up_guard_refuses_under_error() {
	populated_users
	write_config '  lint: error' 'modules: {}'
	migration core 001_index.up.sql 'CREATE INDEX users_email_idx ON users (email);'
	expect_status 2 up
	assert_contains "$ERR" "require-concurrent-index-creation"
	assert_contains "$ERR" "nothing applied"
	has_table schema_migrations && fail "the ledger was created"
	[ "$(sql "SELECT count(*) FROM pg_indexes WHERE indexname = 'users_email_idx'")" = 0 ] ||
		fail "the index was built"
	expect_status 0 up --no-lint
	[ "$(sql "SELECT count(*) FROM pg_indexes WHERE indexname = 'users_email_idx'")" = 1 ]
}

test_up_guard_warns_and_runs() {
	populated_users
	write_config 'modules: {}'
	migration core 001_index.up.sql 'CREATE INDEX users_email_idx ON users (email);'
	expect_status 0 up
	assert_contains "$ERR" "migrate: lint: migrations/postgres/core/001_index.up.sql:1:1"
	assert_contains "$ERR" "[require-concurrent-index-creation]"
	assert_contains "$ERR" "~20000 rows"
}

test_up_guard_below_min_rows() {
	populated_users
	write_config '  lint: error' '  lint_min_rows: 50000' 'modules: {}'
	migration core 001_index.up.sql 'CREATE INDEX users_email_idx ON users (email);'
	expect_status 0 up
	assert_not_contains "$ERR" "lint"
}

test_up_guard_silent_on_empty_database() {
	new_db
	write_config '  lint: error' 'modules: {}'
	example_tree
	# on a live database this would lock users; here users is new and empty
	migration core 900_index.up.sql 'CREATE INDEX users_name_idx ON users (name); ALTER TABLE users ADD COLUMN plan text NOT NULL;'
	expect_status 0 up
	[ ! -s "$ERR" ] || { cat "$ERR" >&2; fail "up printed something on stderr"; }
}

# PostgreSQL 18 syntax (a virtual generated column) under `postgres.lint: error`: lint
# says the grammar cannot parse it and exits 0, and up applies it, on a populated table
# too (the guard never blocks on what it could not read). On an older server, lint
# makes it a syntax error (13 to 15: the grammar is that server's or newer) or names
# the server (16, 17), and the server itself refuses it.
test_newer_syntax_under_lint_error() {
	populated_users
	write_config '  lint: error' '  lint_min_rows: 1' 'modules: {}'
	migration core 001_g.up.sql 'CREATE TABLE g (a int PRIMARY KEY, b int GENERATED ALWAYS AS (a * 2) VIRTUAL);'
	migration core 002_users.up.sql 'ALTER TABLE users ADD COLUMN id2 bigint GENERATED ALWAYS AS (id * 2) VIRTUAL;'
	local major
	major=$(pg_major)
	if [ "$major" -le 15 ]; then
		expect_status 2 lint
		assert_contains "$OUT" '001_g.up.sql:1:'
		assert_contains "$OUT" 'syntax error at or near "VIRTUAL"'
		assert_one_line "$ERR"
		expect_status 1 up
		assert_contains "$ERR" 'core/1 failed: syntax error at or near "VIRTUAL"'
		return
	fi
	expect_status 0 lint
	assert_contains "$OUT" "migrations/postgres/core/001_g.up.sql:1:1: warning [unparsed] not linted: the linter's PostgreSQL 15 grammar (libpg_query) cannot parse it (syntax error at or near \"VIRTUAL\"); the server is PostgreSQL $major"
	assert_contains "$OUT" "migrations/postgres/core/002_users.up.sql:1:1: warning [unparsed]"
	assert_contains "$OUT" "0 errors, 2 warnings in 2 files"
	if [ "$major" -lt 18 ]; then
		expect_status 1 up
		assert_contains "$ERR" 'core/1 failed: syntax error at or near "VIRTUAL"'
		return
	fi
	expect_status 0 up
	assert_not_contains "$ERR" "lint"
	assert_eq "$(ledger | paste -sd' ')" "core/1 core/2" "ledger"
	assert_eq "$(sql "INSERT INTO g VALUES (21) RETURNING b")" "42" "virtual column"
	assert_eq "$(sql "SELECT attgenerated FROM pg_attribute WHERE attrelid = 'users'::regclass AND attname = 'id2'")" "v" "users.id2"
	expect_status 0 verify
}

test_lint_config_keys() {
	new_db
	mkdir migrations
	write_config '  lint: loud' 'modules: {}'
	expect_status 2 up
	assert_contains "$ERR" "'postgres.lint' must be off, warn or error"
	write_config '  lint_min_rows: lots' 'modules: {}'
	expect_status 2 up
	assert_contains "$ERR" "postgres.lint_min_rows"
	write_config '  lint: off' '  lint_min_rows: 1' 'modules: {}'
	expect_status 0 up
}

# The rule's claim, on a real server: while one transaction holds a CREATE INDEX on a
# table, another session's INSERT with lock_timeout=100ms fails with 55P03.
test_lock_truth_create_index_blocks_writes() {
	populated_users
	pg_admin -d "$DB" -c "BEGIN; CREATE INDEX users_email_idx ON users (email); SELECT pg_sleep(4); COMMIT" >/dev/null 2>&1 &
	local holder=$!
	wait_for_lock "$DB" ShareLock
	local out
	out=$(pg_admin -d "$DB" -v VERBOSITY=verbose -c "SET lock_timeout = '100ms'; INSERT INTO users VALUES (-1, 'x')" 2>&1) &&
		fail "the insert went through while CREATE INDEX held the table"
	kill "$holder"
	wait "$holder" 2>/dev/null || true # 143: killed, as meant
	case $out in *55P03*) ;; *) fail "expected SQLSTATE 55P03, got: $out" ;; esac
}

# ... and with CONCURRENTLY it does not: the build waits for an older transaction while
# holding only SHARE UPDATE EXCLUSIVE, and the insert goes through meanwhile.
test_lock_truth_concurrent_index_lets_writes_through() {
	populated_users
	# an older transaction that lasts until this test ends it (a loaded machine is slow)
	pg_admin -d "$DB" -c "BEGIN; SELECT txid_current(); SELECT pg_sleep(60); COMMIT" >/dev/null 2>&1 &
	local old=$!
	wait_until "$DB" "SELECT count(*) FROM pg_stat_activity WHERE query LIKE '%pg_sleep(60)%' AND state = 'active' AND pid <> pg_backend_pid()"
	pg_admin -d "$DB" -c "CREATE INDEX CONCURRENTLY users_email_idx ON users (email)" >/dev/null 2>&1 &
	local builder=$!
	# the build now waits for the older transaction, holding SHARE UPDATE EXCLUSIVE
	wait_until "$DB" "SELECT count(*) FROM pg_stat_progress_create_index WHERE phase LIKE 'waiting%'"
	wait_for_lock "$DB" ShareUpdateExclusiveLock
	pg_admin -d "$DB" -c "SET lock_timeout = '100ms'; INSERT INTO users VALUES (-1, 'x')" >/dev/null ||
		fail "the insert was blocked by CREATE INDEX CONCURRENTLY"
	[ "$(sql "SELECT count(*) FROM pg_stat_progress_create_index")" = 1 ] ||
		fail "the concurrent build was not running during the insert"
	sql "SELECT pg_cancel_backend(pid) FROM pg_stat_activity WHERE query LIKE '%pg_sleep(60)%' AND pid <> pg_backend_pid()" >/dev/null
	wait "$old" 2>/dev/null || true # cancelled
	wait "$builder"
	[ "$(sql "SELECT count(*) FROM pg_indexes WHERE indexname = 'users_email_idx'")" = 1 ] ||
		fail "the concurrent build did not finish"
}

# wait_until DB QUERY: until QUERY returns a non-zero count (at most 5 s).
wait_until() {
	local i
	for i in $(seq 50); do
		[ "$(pg_admin -d "$1" -c "$2")" != 0 ] && return 0
		sleep 0.1
	done
	fail "timed out waiting for: $2"
}

# --observe's core (src/postgres/pg_lint.c) on a populated table: what it records.
test_observe_core() {
	new_db
	sql "CREATE TABLE users (id integer PRIMARY KEY, email text); INSERT INTO users SELECT g, 'u' || g FROM generate_series(1, 5000) g; ALTER TABLE users OWNER TO app" >/dev/null
	local check
	check=$(dirname "$MIGRATE_BIN")/tests/pg_observe_check
	[ -x "$check" ] || fail "$check is not built"
	"$check" "$DSN" || fail "pg_observe_check failed"
	[ "$(sql "SELECT count(*) FROM information_schema.columns WHERE table_name = 'users'")" = 2 ] ||
		fail "observing left a column behind"
}

# wait_for_lock DB MODE: until some backend holds MODE on users (at most 5 s).
wait_for_lock() {
	local i
	for i in $(seq 50); do
		[ "$(pg_admin -d "$1" -c "SELECT count(*) FROM pg_locks WHERE relation = 'users'::regclass AND mode = '$2' AND granted")" != 0 ] && return 0
		sleep 0.1
	done
	fail "no $2 on users after 5 s"
}

# --- lint --observe: the pending files run on a clone of the applied schema ---

shadows_left() {
	pg_admin -c "SELECT count(*) FROM pg_database WHERE datname LIKE 'migrate\_shadow\_%'"
}

# an applied users table holding rows, and the live facts to compare afterwards
observed_tree() {
	new_db
	# the application's role cannot create databases: scratch_dsn names one that can
	write_config "$(printf '  scratch_dsn: "host=%s port=%s user=postgres"' "$MIGRATE_PG_SOCKET" "$MIGRATE_PG_PORT")" 'modules: {}'
	migration core 001_init.up.sql 'CREATE TABLE users (id bigint PRIMARY KEY, email text, age integer);'
	expect_status 0 up
	sql "INSERT INTO users SELECT g, 'u' || g, g % 90 FROM generate_series(1, 5000) g; ANALYZE users" >/dev/null
}

live_shape() {
	sql "SELECT string_agg(column_name || ':' || data_type || ':' || is_nullable, ',' ORDER BY column_name) FROM information_schema.columns WHERE table_name = 'users'"
	sql "SELECT count(*) FROM users"
	sql "SELECT count(*) FROM schema_migrations"
}

test_observe_locks_and_rewrites() {
	observed_tree
	migration core 002_not_null.up.sql "-- migrate:phase contract
SET lock_timeout = '5s';
ALTER TABLE users ALTER COLUMN email SET NOT NULL;"
	migration core 003_type.up.sql "SET lock_timeout = '5s';
ALTER TABLE users ALTER COLUMN age TYPE bigint;"
	migration core 004_add.up.sql "SET lock_timeout = '5s';
ALTER TABLE users ADD COLUMN score integer DEFAULT 0;"
	local before
	before=$(live_shape)
	expect_status 3 lint --observe
	assert_contains "$OUT" "002_not_null.up.sql: observed on a clone of the applied schema:"
	assert_contains "$OUT" "  line 3: observed ACCESS EXCLUSIVE on users"
	assert_contains "$OUT" "rules expected ACCESS EXCLUSIVE, no rewrite"
	grep -q "^  line 2: observed .*ACCESS EXCLUSIVE on users.*; rewrote users; rules expected ACCESS EXCLUSIVE, a rewrite" "$OUT" ||
		fail "no rewrite observed for ALTER COLUMN ... TYPE bigint: $(cat "$OUT")"
	# ADD COLUMN ... DEFAULT 0: a lock, no rewrite (004 is the last file)
	sed -n '/004_add.up.sql: observed/,$p' "$OUT" | grep -q "^  line 2: observed .*ACCESS EXCLUSIVE on users; no rewrite;" ||
		fail "ADD COLUMN ... DEFAULT 0 not seen as lock without rewrite: $(cat "$OUT")"
	assert_not_contains "$OUT" "observed-unexplained"
	[ "$(shadows_left)" = 0 ] || fail "a migrate_shadow_ database was left behind"
	[ "$(live_shape)" = "$before" ] || fail "the live database changed: $(live_shape)"
	expect_status 3 lint --observe --format json
	python3 - "$OUT" <<'PY'
import json, sys
doc = json.load(open(sys.argv[1]))
obs = {(o["file"].split("/")[-1], o["line"]): o for o in doc["observed"]}
nn = obs[("002_not_null.up.sql", 3)]
assert "ACCESS EXCLUSIVE on users" in nn["locks"] and nn["rewritten"] == [], nn
assert nn["expected_lock"] == "ACCESS EXCLUSIVE", nn
ty = obs[("003_type.up.sql", 2)]
assert ty["rewritten"] == ["users"] and ty["expected_rewrite"] is True, ty
add = obs[("004_add.up.sql", 2)]
assert add["rewritten"] == [] and "ACCESS EXCLUSIVE on users" in add["locks"], add
assert not [f for f in doc["findings"] if f["rule"].startswith("observed-")], doc["findings"]
PY
	[ "$(shadows_left)" = 0 ] || fail "a migrate_shadow_ database was left behind"
}

# What the server does that no rule expected is an error of its own; a lint-ignore with
# a reason silences it; a no-transaction file is applied, not observed.
test_observe_unexplained() {
	observed_tree
	migration core 002_lock.up.sql "SET lock_timeout = '5s';
LOCK TABLE users IN ACCESS EXCLUSIVE MODE;"
	migration core 003_unlogged.up.sql "SET lock_timeout = '5s';
ALTER TABLE users SET UNLOGGED;"
	migration core 004_ignored.up.sql "SET lock_timeout = '5s';
-- migrate:lint-ignore observed-unexplained-lock the table is tiny
LOCK TABLE users IN ACCESS EXCLUSIVE MODE;"
	migration core 005_concurrent.up.sql "-- migrate:run-in-tx false
CREATE INDEX CONCURRENTLY users_email_idx ON users (email);"
	migration core 006_after.up.sql "SET lock_timeout = '5s';
DROP INDEX users_email_idx;"
	expect_status 3 lint --observe --format github
	assert_contains "$OUT" "::error file=migrations/postgres/core/002_lock.up.sql,line=2,col=1,title=observed-unexplained-lock::"
	assert_contains "$OUT" "::error file=migrations/postgres/core/003_unlogged.up.sql,line=2,col=1,title=observed-unexplained-rewrite::"
	assert_not_contains "$OUT" "004_ignored.up.sql,line=3,col=1,title=observed-unexplained"
	assert_contains "$OUT" "::notice file=migrations/postgres/core/005_concurrent.up.sql,title=not observed::"
	# 006 ran on a clone that has 005's index: it was applied there, not only observed
	assert_contains "$OUT" "::notice file=migrations/postgres/core/006_after.up.sql,line=2,title=observed::"
	assert_contains "$ERR" "lint found"
	[ "$(shadows_left)" = 0 ] || fail "a migrate_shadow_ database was left behind"
	[ "$(sql "SELECT relpersistence FROM pg_class WHERE relname = 'users'")" = p ] ||
		fail "the live table was made unlogged"
}

test_observe_failure_drops_the_clone() {
	observed_tree
	migration core 002_bad.up.sql "SELECT nope;"
	expect_status 1 lint --observe
	assert_one_line "$ERR"
	assert_contains "$ERR" "002_bad.up.sql"
	assert_contains "$ERR" "line 1"
	[ "$(shadows_left)" = 0 ] || fail "a migrate_shadow_ database was left behind"
}

test_observe_refusals() {
	observed_tree
	expect_status 2 lint --observe x.sql
	assert_contains "$ERR" "--observe"
	expect_status 2 lint --observe --all
	printf 'postgres:\n  dsn: "postgres://app:x@127.0.0.1:1/nothing?connect_timeout=2"\nmodules: {}\n' >config.yaml
	expect_status 1 lint --observe
	assert_contains "$ERR" "'lint --observe' needs the database"
	assert_not_contains "$ERR" "app:x@"
}

run_tests

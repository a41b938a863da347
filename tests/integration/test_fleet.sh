#!/usr/bin/env bash
# Integration tests of fleets (targets: in the config) on the throwaway PostgreSQL server:
# many schemas of one database and several databases, migrated by one command in
# parallel; canary, failure budget, --target, --shard, concurrent and killed runs,
# scope: control, unreachable targets, and every bad fleet input as a clear error.
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../lib/harness.sh"
. "$here/../lib/postgres.sh"

# three core migrations and one billing migration
fleet_tree() {
	migration core 001_users.up.sql "CREATE TABLE users (id int PRIMARY KEY);"
	migration core 002_tokens.up.sql "CREATE TABLE tokens (id int PRIMARY KEY);"
	migration core 003_orders.up.sql "CREATE TABLE orders (id int PRIMARY KEY);"
	migration billing 001_invoices.up.sql "CREATE TABLE invoices (id int PRIMARY KEY);"
}

# schema_fleet N [extra yaml...]: a config with N schema targets t01..tNN (N < 100)
schema_fleet() {
	local n=$1 i
	shift
	{
		printf 'postgres:\n  dsn: "%s"\n  lock_wait: 30s\n' "$DSN"
		printf 'targets:\n  kind: schema\n  list:\n'
		for i in $(seq 1 "$n"); do
			printf '    - { name: t%02d }\n' "$i"
		done
		printf '%s\n' "$@"
	} >config.yaml
}

# rows SCHEMA: how many ledger rows the schema's own ledger holds (0 when none)
rows() {
	if [ "$(sql "SELECT to_regclass('$1.schema_migrations') IS NOT NULL")" = t ]; then
		sql "SELECT count(*) FROM $1.schema_migrations"
	else
		echo 0
	fi
}

# extra_db SUFFIX: creates database ${DB}_SUFFIX; prints its DSN
extra_db() {
	pg_admin -d postgres -c "CREATE DATABASE ${DB}_$1 OWNER app" >/dev/null
	echo "postgres://app:$PG_PASSWORD@127.0.0.1:$MIGRATE_PG_PORT/${DB}_$1"
}

db_sql() { # SUFFIX QUERY
	pg_admin -d "${DB}_$1" -c "$2"
}

test_schema_fleet_applies_every_version_once_per_target() {
	new_db
	fleet_tree
	schema_fleet 30
	expect_status 0 up --parallel 4
	assert_contains "$OUT" "t17: applied 3 (core/1, core/2, core/3)"
	assert_contains "$OUT" "fleet: 30 targets, 30 ok, 0 failed, 0 skipped"
	assert_eq "$(grep -c '^t[0-9]*: applied 3' "$OUT")" "30" "target lines"
	# every version exactly once per target, each ledger in its own schema
	assert_eq "$(sql "SELECT count(*) FROM pg_tables WHERE tablename = 'schema_migrations' AND schemaname LIKE 't%'")" "30" "ledgers"
	local i
	for i in 01 15 30; do
		assert_eq "$(rows "t$i")" "3" "t$i ledger rows"
		assert_eq "$(sql "SELECT count(*) FROM pg_tables WHERE schemaname = 't$i' AND tablename IN ('users','tokens','orders')")" "3" "t$i tables"
	done
	assert_eq "$(sql "SELECT to_regclass('public.users') IS NULL")" "t" "nothing in public"
	# a rerun touches nothing: every target is up to date
	expect_status 0 up --parallel 4
	assert_eq "$(grep -c ': up to date' "$OUT")" "30" "no-op lines"
	assert_eq "$(sql "SELECT sum(n) FROM (SELECT 1 AS n FROM pg_tables WHERE tablename = 'schema_migrations') s")" "30" "ledgers after rerun"
	expect_status 0 status
	assert_contains "$OUT" "t05: up to date"
	expect_status 0 verify
	assert_contains "$OUT" "fleet: 30 targets, 30 ok, 0 failed, 0 skipped"
	# a new migration: status exits 3 naming every target as behind
	migration core 004_more.up.sql "CREATE TABLE more (id int);"
	expect_status 3 status --format json
	assert_contains "$OUT" '"pending": 1'
	assert_contains "$ERR" "30 targets not up to date"
}

test_conflicting_target_fails_alone_then_rerun_touches_only_it() {
	new_db
	fleet_tree
	local a b c
	a=$(extra_db a)
	b=$(extra_db b)
	c=$(extra_db c)
	write_config 'targets:' '  kind: database' '  list:' \
		"    - { name: a, dsn: \"$a\" }" "    - { name: b, dsn: \"$b\" }" "    - { name: c, dsn: \"$c\" }"
	db_sql b "CREATE TABLE tokens (x text)"
	expect_status 1 up --max-failures 3 --format json
	python3 - "$OUT" <<'EOF'
import json, sys
doc = json.load(open(sys.argv[1]))
by = {t["name"]: t for t in doc["targets"]}
assert [t["name"] for t in doc["targets"]] == ["a", "b", "c"], doc
assert by["a"]["state"] == "ok" and len(by["a"]["applied"]) == 3, by["a"]
assert by["a"]["applied"][0]["module"] == "core" and by["a"]["applied"][0]["version"] == 1
assert by["b"]["state"] == "failed" and by["b"]["error"]["sqlstate"] == "42P07", by["b"]
assert [x["version"] for x in by["b"]["applied"]] == [1], by["b"]
assert by["c"]["state"] == "ok", by["c"]
assert (doc["ok"], doc["failed"], doc["skipped"]) == (2, 1, 0), doc
EOF
	assert_contains "$ERR" "1 of 3 targets failed"
	assert_not_contains "$OUT" "$PG_PASSWORD"
	assert_not_contains "$ERR" "$PG_PASSWORD"
	assert_eq "$(db_sql b "SELECT string_agg(module || version, ',' ORDER BY version) FROM schema_migrations")" "core1" "b stopped at its failure"
	# after the fix only b has work; a and c cost one ledger read
	local a_before
	a_before=$(db_sql a "SELECT string_agg(applied_at::text, ',') FROM schema_migrations")
	db_sql b "DROP TABLE tokens"
	expect_status 0 up
	assert_contains "$OUT" "a: up to date"
	assert_contains "$OUT" "b: applied 2 (core/2, core/3)"
	assert_contains "$OUT" "c: up to date"
	assert_eq "$(db_sql a "SELECT string_agg(applied_at::text, ',') FROM schema_migrations")" "$a_before" "a untouched"
	# the text line names the failure and its SQLSTATE too
	db_sql c "CREATE TABLE extra (x text)"
	migration core 004_extra.up.sql "CREATE TABLE extra (id int);"
	expect_status 1 up --max-failures 3
	assert_contains "$OUT" "c: failed: "
	assert_contains "$OUT" "42P07"
}

test_canary_failure_touches_nothing_else() {
	new_db
	fleet_tree
	schema_fleet 12
	sql "CREATE SCHEMA t02 AUTHORIZATION app; CREATE TABLE t02.orders (x int); ALTER TABLE t02.orders OWNER TO app"
	expect_status 1 up --canary 3 --parallel 4 --max-failures 50
	assert_contains "$OUT" "t01: applied 3"
	assert_contains "$OUT" "t02: failed: "
	assert_contains "$OUT" "fleet: 12 targets, 1 ok, 1 failed, 10 skipped"
	assert_not_contains "$OUT" "t03:"
	local i
	for i in 03 04 07 12; do
		assert_eq "$(rows "t$i")" "0" "t$i untouched"
	done
	assert_eq "$(rows t02)" "2" "t02 rolled back its failing file only"
	# a canary that passes lets the rest run
	sql "DROP TABLE t02.orders"
	expect_status 0 up --canary 3 --parallel 4
	assert_contains "$OUT" "fleet: 12 targets, 12 ok, 0 failed, 0 skipped"
}

test_failure_budget_stops_new_targets() {
	new_db
	fleet_tree
	schema_fleet 10
	local i
	for i in 01 02 03 04; do
		sql "CREATE SCHEMA t$i AUTHORIZATION app; CREATE TABLE t$i.users (x int)"
	done
	# one at a time: the default budget of 1 stops after the first failure
	expect_status 1 up --parallel 1
	assert_contains "$OUT" "fleet: 10 targets, 0 ok, 1 failed, 9 skipped"
	assert_contains "$ERR" "1 of 10 targets failed, the rest skipped"
	expect_status 1 up --parallel 1 --max-failures 3
	assert_contains "$OUT" "fleet: 10 targets, 0 ok, 3 failed, 7 skipped"
	assert_eq "$(rows t05)" "0" "t05 never started"
	expect_status 1 up --parallel 3 --max-failures 5
	assert_contains "$OUT" "fleet: 10 targets, 6 ok, 4 failed, 0 skipped"
	assert_eq "$(rows t10)" "3" "t10"
	expect_status 1 up --format json --max-failures 1 --parallel 1
	python3 -c "import json,sys; d=json.load(open(sys.argv[1])); s=[t['state'] for t in d['targets']]; assert s==['failed']+['skipped']*9 and d['skipped']==9, s" "$OUT"
}

test_target_option_limits_the_run() {
	new_db
	fleet_tree
	schema_fleet 6
	expect_status 0 up --target t02 --target t05
	assert_contains "$OUT" "fleet: 2 targets, 2 ok"
	assert_eq "$(rows t02)$(rows t05)$(rows t01)$(rows t06)" "3300" "only t02 and t05"
	expect_status 2 up --target t02 --target nope
	assert_contains "$ERR" "unknown target 'nope' (--target)"
	assert_one_line "$ERR"
	assert_eq "$(rows t01)" "0" "nothing ran"
}

test_shards_are_disjoint_and_cover_the_fleet() {
	new_db
	fleet_tree
	schema_fleet 40
	local i
	for i in 0 1 2; do
		expect_status 0 up --shard "$i/3" --parallel 3
		grep -o '^t[0-9]*' "$OUT" >"shard$i" || true
	done
	assert_eq "$(cat shard0 shard1 shard2 | sort | uniq -d | wc -l)" "0" "shards overlap"
	assert_eq "$(cat shard0 shard1 shard2 | sort -u | wc -l)" "40" "shards cover"
	[ -s shard0 ] && [ -s shard1 ] && [ -s shard2 ] || fail "an empty shard of 40"
	# the same slice every time
	expect_status 0 status --shard 1/3
	assert_eq "$(grep -o '^t[0-9]*' "$OUT" | sort | tr '\n' ' ')" "$(sort shard1 | tr '\n' ' ')" "stable shard"
	assert_eq "$(sql "SELECT count(*) FROM pg_tables WHERE tablename = 'schema_migrations'")" "40" "ledgers"
	for bad in 3/2 2/2 1/0 x/3 1/ -1/3; do
		expect_status 2 up --shard "$bad"
		assert_contains "$ERR" "--shard takes I/N with 0 <= I < N"
		assert_one_line "$ERR"
	done
}

test_two_concurrent_fleet_runs_apply_each_version_once() {
	new_db
	migration core 001_slow.up.sql "CREATE TABLE slow (id int); SELECT pg_sleep(0.05);"
	migration core 002_more.up.sql "CREATE TABLE more (id int);"
	schema_fleet 20
	"$MIGRATE_BIN" up --parallel 4 >run1.out 2>run1.err &
	local p1=$!
	"$MIGRATE_BIN" up --parallel 4 --shard 0/1 >run2.out 2>run2.err &
	local p2=$!
	wait $p1 || fail "run 1: $(cat run1.err)"
	wait $p2 || fail "run 2: $(cat run2.err)"
	assert_eq "$(sql "SELECT count(*) FROM pg_tables WHERE tablename = 'schema_migrations'")" "20" "ledgers"
	local i
	for i in $(seq -w 1 20); do
		assert_eq "$(rows "t$i")" "2" "t$i rows"
	done
	# every version applied once in all: by one run or the other
	assert_eq "$(cat run1.out run2.out | grep -o 'applied [0-9]*' | awk '{s+=$2} END {print s}')" "40" "applied in all"
}

# A fleet run whose every failed target only found its lock held (another run migrates
# them) exits 4, as one database would: busy, not broken; a retry finishes the job.
test_fleet_run_that_finds_every_lock_held_exits_4() {
	new_db
	migration core 001_slow.up.sql "CREATE TABLE slow (id int); SELECT pg_sleep(4);"
	schema_fleet 3
	"$MIGRATE_BIN" up --parallel 3 >run1.out 2>run1.err &
	local p1=$!
	for _ in $(seq 100); do
		[ "$(sql "SELECT count(*) FROM pg_stat_activity WHERE query LIKE '%pg_sleep(4)%' AND pid <> pg_backend_pid()")" = 3 ] && break
		sleep 0.1
	done
	sed -i 's/lock_wait: 30s/lock_wait: 300ms/' config.yaml
	expect_status 4 up --parallel 3 --max-failures 3
	assert_contains "$OUT" "another migrate run holds the lock"
	assert_contains "$ERR" "3 of 3 targets failed"
	wait "$p1" || fail "run 1: $(cat run1.err)"
	expect_status 0 up
	assert_contains "$OUT" "up to date"
}

test_killed_fleet_run_then_rerun_completes_only_what_is_missing() {
	new_db
	migration core 001_a.up.sql "CREATE TABLE a (id int); SELECT pg_sleep(0.1);"
	migration core 002_b.up.sql "CREATE TABLE b (id int); SELECT pg_sleep(0.1);"
	migration core 003_c.up.sql "CREATE TABLE c (id int);"
	schema_fleet 20
	"$MIGRATE_BIN" up --parallel 2 >run1.out 2>&1 &
	local pid=$!
	sleep 1
	kill -9 "$pid"
	wait "$pid" 2>/dev/null || true
	# every target: a prefix of the versions, each either applied with its table or not
	local i n total=0
	for i in $(seq -w 1 20); do
		n=$(rows "t$i")
		total=$((total + n))
		[ "$n" -le 3 ] || fail "t$i has $n rows"
		if [ "$n" -ge 1 ]; then
			assert_eq "$(sql "SELECT to_regclass('t$i.a') IS NOT NULL")" "t" "t$i.a"
		fi
		if [ "$n" -lt 3 ]; then
			assert_eq "$(sql "SELECT to_regclass('t$i.c') IS NULL")" "t" "t$i.c without its row"
		fi
	done
	[ "$total" -lt 60 ] || fail "the killed run had already finished: lengthen the migrations"
	expect_status 0 up --parallel 4
	assert_contains "$OUT" "fleet: 20 targets, 20 ok"
	assert_eq "$(grep -o 'applied [0-9]*' "$OUT" | awk '{s+=$2} END {print s+0}')" "$((60 - total))" "rerun applied only what was missing"
	for i in $(seq -w 1 20); do
		assert_eq "$(rows "t$i")" "3" "t$i rows"
	done
}

test_scope_control_runs_only_on_the_control_database() {
	new_db
	fleet_tree
	local a
	a=$(extra_db a)
	write_config 'targets:' '  kind: database' '  list:' "    - { name: a, dsn: \"$a\" }" \
		'modules:' '  billing: { scope: control }'
	expect_status 0 up
	assert_eq "$(head -1 "$OUT")" "$(grep -m1 '^control: applied 1 (billing/1)' "$OUT")" "control first"
	assert_contains "$OUT" "a: applied 3 (core/1, core/2, core/3)"
	assert_eq "$(ledger | tr '\n' ' ')" "billing/1 " "control ledger"
	assert_eq "$(db_sql a "SELECT string_agg(module || version, ',' ORDER BY version) FROM schema_migrations")" "core1,core2,core3" "target ledger"
	assert_eq "$(db_sql a "SELECT to_regclass('invoices') IS NULL")" "t" "billing not on the target"
	# core on the control database only when it says so
	write_config 'targets:' '  kind: database' '  list:' "    - { name: a, dsn: \"$a\" }" \
		'modules:' '  billing: { scope: control }' '  core: { scope: control }'
	expect_status 0 up --format json
	assert_eq "$(ledger | tr '\n' ' ')" "billing/1 core/1 core/2 core/3 " "control ledger with core"
	python3 -c "import json,sys; d=json.load(open(sys.argv[1])); assert d['control']['state']=='ok' and len(d['control']['applied'])==3 and d['targets'][0]['applied']==[], d" "$OUT"
	# a failing control database stops everything
	migration billing 002_bad.up.sql "CREATE TABLE invoices (id int);"
	expect_status 1 up
	assert_contains "$OUT" "control: failed: "
	assert_contains "$OUT" "1 skipped"
}

test_unreachable_target_is_that_targets_failure() {
	new_db
	fleet_tree
	local a
	a=$(extra_db a)
	write_config 'targets:' '  kind: database' '  list:' \
		"    - { name: gone, dsn: \"postgres://app:$PG_PASSWORD@127.0.0.1:$MIGRATE_PG_PORT/${DB}_missing\" }" \
		"    - { name: a, dsn: \"$a\" }"
	expect_status 1 up --max-failures 2
	assert_contains "$OUT" "gone: failed: cannot connect to PostgreSQL"
	assert_contains "$OUT" "a: applied 3"
	assert_not_contains "$OUT" "$PG_PASSWORD"
	assert_not_contains "$ERR" "$PG_PASSWORD"
	expect_status 1 status --max-failures 2
	assert_contains "$OUT" "a: up to date"
}

test_duplicate_target_names_are_errors_before_anything_runs() {
	new_db
	fleet_tree
	schema_fleet 3 '    - { name: t02 }'
	expect_status 2 up
	assert_contains "$ERR" "duplicate target name 't02' (config.yaml:8 and config.yaml:10)"
	assert_one_line "$ERR"
	sql "CREATE TABLE tenants (name text, active bool); INSERT INTO tenants VALUES ('q1', true), ('t01', true)"; sql "ALTER TABLE tenants OWNER TO app"
	schema_fleet 2 "  query: \"SELECT name FROM tenants WHERE active\""
	expect_status 2 up
	assert_contains "$ERR" "duplicate target name 't01': listed at config.yaml:"
	assert_eq "$(rows t02)$(rows q1)" "00" "nothing ran"
}

test_targets_query() {
	new_db
	fleet_tree
	sql "CREATE TABLE tenants (name text, active bool, pos int); INSERT INTO tenants VALUES ('q2', true, 2), ('q1', true, 1), ('off', false, 3)"; sql "ALTER TABLE tenants OWNER TO app"
	schema_fleet 1 "  query: \"SELECT name FROM tenants WHERE active ORDER BY pos\""
	expect_status 0 up --parallel 1
	assert_eq "$(grep -v '^fleet:' "$OUT" | grep -o '^[a-z0-9]*:' | tr '\n' ' ')" "t01: q1: q2: " "list order, then query order"
	assert_eq "$(rows q1)$(rows q2)$(rows off)" "330" "query targets"
	# a failing query, wrong columns, a bad name: exit 2 before anything runs
	schema_fleet 1 "  query: \"SELECT nme FROM tenants\""
	expect_status 2 up
	assert_contains "$ERR" "'targets.query' failed: column \"nme\" does not exist (SQLSTATE 42703) (config.yaml:"
	assert_one_line "$ERR"
	schema_fleet 1 "  query: \"SELECT name, 'x' FROM tenants\""
	expect_status 2 up
	assert_contains "$ERR" "'targets.query' returns 2 columns; kind: schema needs 1 (the schema name)"
	sql "INSERT INTO tenants VALUES ('Bad Name', true, 4)"
	schema_fleet 1 "  query: \"SELECT name FROM tenants\""
	expect_status 2 up
	assert_contains "$ERR" "returned a bad target name 'Bad Name'"
	write_config 'targets:' '  kind: database' '  query: "SELECT name FROM tenants"'
	expect_status 2 status
	assert_contains "$ERR" "kind: database needs 2 or 3 (name, dsn[, mongodb_database])"
	assert_eq "$(rows t01)" "3" "nothing more ran"
	# a database fleet from the query, its DSN password never printed
	local a
	a=$(extra_db a)
	sql "CREATE TABLE dbs (name text, dsn text); ALTER TABLE dbs OWNER TO app; INSERT INTO dbs VALUES ('a', '$a'), ('nowhere', 'postgres://app:$PG_PASSWORD@127.0.0.1:$MIGRATE_PG_PORT/${DB}_none')"
	write_config 'targets:' '  kind: database' '  query: "SELECT name, dsn FROM dbs"'
	expect_status 1 up --max-failures 2
	assert_contains "$OUT" "a: applied 3"
	assert_contains "$OUT" "nowhere: failed: "
	assert_not_contains "$OUT" "$PG_PASSWORD"
}

test_fleet_options_need_targets_and_down_works() {
	new_db
	fleet_tree
	write_config
	expect_status 2 up --parallel 3
	assert_contains "$ERR" "need a 'targets:' section in the config"
	expect_status 2 up --canary 0
	assert_contains "$ERR" "--canary takes a whole number from 1 up, not '0'"
	schema_fleet 4 'modules:' '  billing: {}'
	migration billing 001_invoices.down.sql "DROP TABLE invoices;"
	expect_status 0 up
	expect_status 0 down --module billing --target t03
	assert_contains "$OUT" "t03: rolled back 1 (billing/1)"
	assert_eq "$(rows t03)$(rows t04)" "34" "down on t03 only"
	expect_status 2 up --dry-run
	assert_contains "$ERR" "--dry-run does not act on a fleet"
}

test_schema_fleet_with_table_lock() {
	new_db
	fleet_tree
	schema_fleet 5
	sed -i 's/  lock_wait: 30s/  lock_wait: 30s\n  lock: table/' config.yaml
	expect_status 0 up --parallel 5
	assert_eq "$(sql "SELECT count(*) FROM pg_tables WHERE tablename = 'schema_migrations_lock' AND schemaname LIKE 't%'")" "5" "lock tables in the schemas"
	assert_eq "$(rows t03)" "3" "t03"
}

test_drift_over_a_fleet_reports_the_schema_changed_by_hand() {
	new_db
	pg_admin -d postgres -c "ALTER ROLE app CREATEDB" >/dev/null
	migration core 001_users.up.sql "CREATE TABLE users (id int PRIMARY KEY, name text); CREATE INDEX users_name ON users (name);
CREATE TYPE mood AS ENUM ('ok', 'sad'); CREATE FUNCTION hello(m mood) RETURNS text LANGUAGE sql AS 'SELECT m::text';"
	migration core 002_orders.up.sql "CREATE TABLE orders (id int PRIMARY KEY, user_id int REFERENCES users (id));"
	migration core 002_orders.down.sql "DROP TABLE orders;"
	schema_fleet 4
	expect_status 0 up
	# t04 is one version behind: another applied history, its own expected schema
	expect_status 0 down --module core --target t04
	expect_status 0 drift
	assert_eq "$(grep -c ': no drift (' "$OUT")" "4" "every target without drift"
	assert_contains "$OUT" "fleet: 4 targets, 4 ok, 0 failed, 0 skipped in "
	# by hand in t02 only: a column's type, and an index dropped
	sql "ALTER TABLE t02.users ALTER COLUMN name TYPE varchar(20); DROP INDEX t02.users_name" >/dev/null
	expect_status 3 drift --parallel 3
	assert_contains "$OUT" "t02: 2 differences ("
	assert_contains "$OUT" '    changed  column t02.users.name: type expected "text", actual "character varying(20)" (core/1)'
	assert_contains "$OUT" "    missing  index t02.users.users_name (core/1)"
	assert_eq "$(grep -c ': no drift (' "$OUT")" "3" "the other targets"
	assert_contains "$OUT" ", 1 with drift in "
	assert_contains "$ERR" "1 target with drift"
	expect_status 3 drift --format json
	assert_eq "$(jq -r '[.targets[] | "\(.name) \(.drift) \(.differences | length)"] | join(",")' "$OUT")" \
		"t01 false 0,t02 true 2,t03 false 0,t04 false 0" "one report per target"
	assert_eq "$(jq -r '.targets[1].differences | map("\(.kind) \(.object_type) \(.schema).\(.name) \(.module)/\(.version)") | join(",")' "$OUT")" \
		"changed column t02.users.name core/1,missing index t02.users.users_name core/1" "t02's differences"
	# --target and --shard choose the targets as for up
	expect_status 0 drift --target t01 --target t03
	assert_not_contains "$OUT" "t02"
	# two distinct applied histories: one expected schema each, not one per target
	[ "$(ls "$XDG_CACHE_HOME/migrate/snapshots" | wc -l)" = 2 ] || fail "expected one cached expected schema per history: $(ls "$XDG_CACHE_HOME/migrate/snapshots")"
	[ "$(pg_admin -d postgres -c "SELECT count(*) FROM pg_database WHERE datname LIKE 'migrate\_shadow\_%'")" = 0 ] ||
		fail "a shadow database was left behind"
}

# Schema targets named with an SQL keyword or capitals: PostgreSQL prints such names
# quoted ("order".users), so the expected schema must name them the same way.
test_drift_over_schema_targets_named_like_keywords() {
	new_db
	pg_admin -d postgres -c "ALTER ROLE app CREATEDB" >/dev/null
	migration core 001_users.up.sql "CREATE TABLE users (id int PRIMARY KEY, name text); CREATE VIEW names AS SELECT name FROM users;
CREATE FUNCTION n() RETURNS bigint LANGUAGE sql AS 'SELECT count(*) FROM users';"
	write_config 'targets:' '  kind: schema' '  list:' '    - { name: order }' '    - { name: Tenant }' '    - { name: plain }'
	expect_status 0 up
	assert_eq "$(sql "SELECT count(*) FROM pg_views WHERE viewname = 'names' AND schemaname IN ('order', 'Tenant', 'plain')")" "3" "a view per target"
	expect_status 0 drift --format json
	assert_eq "$(jq -r '[.targets[] | "\(.name) \(.drift)"] | join(",")' "$OUT")" \
		"order false,Tenant false,plain false" "no drift where nothing changed"
	sql 'ALTER TABLE "order".users ADD COLUMN extra int' >/dev/null
	expect_status 3 drift --format json
	assert_eq "$(jq -r '[.targets[] | "\(.name) \(.differences | map("\(.kind) \(.name)") | join(";"))"] | join(",")' "$OUT")" \
		"order extra users.extra,Tenant ,plain " "the one change, in its target"
}

test_drift_over_a_database_fleet() {
	new_db
	pg_admin -d postgres -c "ALTER ROLE app CREATEDB" >/dev/null
	fleet_tree
	local a b
	a=$(extra_db a)
	b=$(extra_db b)
	write_config 'targets:' '  kind: database' '  list:' "    - { name: a, dsn: \"$a\" }" "    - { name: b, dsn: \"$b\" }"
	expect_status 0 up
	db_sql b "ALTER TABLE tokens ADD COLUMN secret text" >/dev/null
	expect_status 3 drift --format json
	assert_eq "$(jq -r '[.targets[] | "\(.name) \(.differences | map("\(.kind) \(.name)") | join(";"))"] | join(",")' "$OUT")" \
		"a ,b extra tokens.secret" "the database changed by hand"
	assert_not_contains "$OUT" "$PG_PASSWORD"
}

# Issue 24: schema targets migrated side by side each record only their own objects
# (each migration holds its transaction open while the others create theirs), and
# verify names each problem under its target.
test_schema_fleet_in_parallel_tracks_and_verifies_each_target_alone() {
	new_db
	migration core 001_items.up.sql "CREATE TABLE items (id int PRIMARY KEY, a int); CREATE INDEX items_a ON items (a); SELECT pg_sleep(0.3);"
	migration core 002_more.up.sql "CREATE INDEX items_a1 ON items ((a + 1)); CREATE VIEW items_v AS SELECT a FROM items; SELECT pg_sleep(0.3);"
	{
		printf 'postgres:\n  dsn: "%s"\n  lock_wait: 30s\n' "$DSN"
		printf 'targets:\n  kind: schema\n  list:\n'
		local i
		for i in 1 2 3 4 5 6 7 8; do
			printf '    - { name: s%d }\n' "$i"
		done
	} >config.yaml
	expect_status 0 up --parallel 4
	assert_eq "$(grep -c '^s[1-8]: applied 2 (core/1, core/2)' "$OUT")" "8" "targets migrated"
	local i
	for i in 1 2 3 4 5 6 7 8; do
		assert_eq "$(sql "SELECT count(*) FILTER (WHERE schema <> 's$i') || ' ' || count(*) FROM s$i.schema_migrations_objects")" \
			"0 5" "s$i's tracked objects (others', all)"
	done
	expect_status 0 verify --parallel 4
	sql "DROP INDEX s5.items_a" >/dev/null
	expect_status 3 verify --parallel 4
	assert_contains "$OUT" "s5: 1 problem"
	assert_eq "$(grep -A1 '^s5: ' "$OUT" | tail -1)" "    missing  postgres index s5.items_a (created by core/1)" "s5's problem"
	assert_eq "$(grep -c ': [0-9]* problem' "$OUT")" "1" "targets with problems"
	assert_eq "$(grep -c '^    ' "$OUT")" "1" "problem lines"
	assert_contains "$OUT" "fleet: 8 targets, 8 ok, 0 failed, 0 skipped, 1 with problems"
	assert_contains "$ERR" "1 target with problems"
	expect_status 3 verify --format json
	/usr/bin/python3 - "$OUT" <<'PY' || fail "json: $(cat "$OUT")"
import json, sys
d = json.load(open(sys.argv[1]))
found = {t["name"]: [(o["kind"], o["schema"], o["name"]) for o in t["postgres"]["objects"]] for t in d["targets"]}
assert found["s5"] == [("index", "s5", "items_a")], found
assert all(not v for k, v in found.items() if k != "s5"), found
assert [t["problems"] for t in d["targets"] if t["name"] == "s5"] == [1]
PY
}

test_schema_fleet_up_to_a_version() {
	new_db
	fleet_tree
	schema_fleet 6
	expect_status 2 up --module core --to 7
	assert_one_line "$ERR"
	assert_contains "$ERR" "--to 7: module 'core' has no version 7"
	assert_eq "$(rows t01)" "0" "nothing ran"
	expect_status 0 up --parallel 3 --module core --to 2
	assert_eq "$(grep -c '^t0[1-6]: applied 2 (core/1, core/2)' "$OUT")" "6" "targets at version 2"
	expect_status 0 up --parallel 3 --module core --to 2
	assert_eq "$(grep -c ': up to date' "$OUT")" "6" "no-op lines"
	expect_status 0 up --parallel 3
	assert_eq "$(grep -c '^t0[1-6]: applied 1 (core/3)' "$OUT")" "6" "the rest"
}

run_tests

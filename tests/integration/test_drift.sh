#!/usr/bin/env bash
# Integration tests of `migrate drift` and `migrate roundtrip` against the throwaway
# server: no false positives after `up` of a tree using every kind of object, each
# out-of-band change reported exactly once with its kind, type, object and JSON shape,
# round trips that pass and fail against the right migration, and no shadow database
# left behind, even after a SIGKILL.
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../lib/harness.sh"
. "$here/../lib/postgres.sh"

# shadows are created by the app role
pg_admin -d postgres -c "ALTER ROLE app CREATEDB" >/dev/null

shadows() { # how many shadow databases exist
	pg_admin -d postgres -c "SELECT count(*) FROM pg_database WHERE datname LIKE 'migrate\_shadow\_%'"
}

no_shadow_left() {
	assert_eq "$(shadows)" "0" "shadow databases left"
}

# rich_tree: one module using functions, triggers, views, materialized views, enums,
# domains, composite types, partitioned tables, identity and generated columns,
# policies, comments, an exclusion constraint and a CREATE INDEX CONCURRENTLY file
rich_tree() {
	# a SQL-standard body (RETURN) from PostgreSQL 14 on; a quoted one before
	local add_function='CREATE FUNCTION app.add(a int, b int) RETURNS int LANGUAGE sql IMMUTABLE RETURN a + b;'
	[ "$(pg_major)" -ge 14 ] ||
		add_function='CREATE FUNCTION app.add(a int, b int) RETURNS int LANGUAGE sql IMMUTABLE AS $$ SELECT a + b $$;'
	migration core 001_base.up.sql "CREATE SCHEMA app;
CREATE TYPE app.mood AS ENUM ('sad', 'ok', 'happy');
CREATE DOMAIN app.email AS text CHECK (VALUE ~ '@');
CREATE TYPE app.pair AS (a int, b text);
CREATE TABLE app.users (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  email app.email NOT NULL,
  name text COLLATE \"C\" DEFAULT 'x',
  mood app.mood DEFAULT 'ok',
  score int CHECK (score >= 0),
  lower_email text GENERATED ALWAYS AS (lower(email)) STORED);
CREATE INDEX users_name_idx ON app.users (name) WHERE name IS NOT NULL;
COMMENT ON TABLE app.users IS 'people';
COMMENT ON COLUMN app.users.email IS 'login';
CREATE TABLE app.events (id bigserial, at date NOT NULL,
  user_id bigint REFERENCES app.users (id) ON DELETE CASCADE,
  PRIMARY KEY (id, at)) PARTITION BY RANGE (at);
CREATE TABLE app.events_2024 PARTITION OF app.events
  FOR VALUES FROM ('2024-01-01') TO ('2025-01-01');
CREATE FUNCTION app.touch() RETURNS trigger LANGUAGE plpgsql
  AS \$\$ BEGIN NEW.name := coalesce(NEW.name, 'y'); RETURN NEW; END \$\$;
CREATE TRIGGER users_touch BEFORE INSERT ON app.users
  FOR EACH ROW EXECUTE FUNCTION app.touch();
$add_function
CREATE PROCEDURE app.noop() LANGUAGE sql AS \$\$ SELECT 1 \$\$;
CREATE VIEW app.user_names AS SELECT id, name FROM app.users;
CREATE MATERIALIZED VIEW app.user_moods AS SELECT mood, count(*) AS n FROM app.users GROUP BY mood;
ALTER TABLE app.users ENABLE ROW LEVEL SECURITY;
CREATE POLICY own ON app.users USING (name = current_user);
CREATE SEQUENCE app.ticket START 100 INCREMENT 5;
CREATE TABLE app.slots (r int4range, EXCLUDE USING gist (r WITH &&));
CREATE TABLE app.lookup (k int PRIMARY KEY);"
	migration core 001_base.down.sql "DROP SCHEMA app CASCADE;"
	migration core 002_email_index.up.sql "-- migrate:run-in-tx false
CREATE INDEX CONCURRENTLY users_email_idx ON app.users (email);"
	migration core 002_email_index.down.sql "-- migrate:run-in-tx false
DROP INDEX CONCURRENTLY app.users_email_idx;"
}

# rich_db: the rich tree applied to a new database
rich_db() {
	new_db
	rich_tree
	write_config
	expect_status 0 up
}

# drifted SQL: runs SQL out of band, then drift must exit 3 with exactly one difference
drifted() {
	sql "$1" >/dev/null
	expect_status 3 drift --format json
	assert_eq "$(jq '.differences | length' "$OUT")" "1" "differences after: $1"
	assert_eq "$(jq -r .ok "$OUT")" "false" "ok"
	no_shadow_left
}

# expect_difference KIND TYPE SCHEMA NAME [ATTRIBUTE]: the one difference is this
expect_difference() {
	assert_eq "$(jq -r '.differences[0] | [.kind, .object_type, .schema, .name] | join("|")' "$OUT")" \
		"$1|$2|$3|$4" "difference"
	if [ $# -ge 5 ]; then
		assert_eq "$(jq -r '.differences[0].attribute' "$OUT")" "$5" "attribute"
	fi
	# every difference carries every key
	assert_eq "$(jq -c '.differences[0] | keys' "$OUT")" \
		'["actual","attribute","expected","kind","module","name","object_type","schema","version"]' "keys"
}

test_no_drift_after_up_of_every_kind_of_object() {
	rich_db
	expect_status 0 drift
	assert_contains "$OUT" "drift: 0 differences"
	expect_status 0 drift --format json
	assert_eq "$(jq -c . "$OUT")" '{"ok":true,"differences":[]}' "json"
	no_shadow_left
}

test_no_drift_on_the_example_tree() {
	new_db
	example_tree
	write_config 'modules:' '  catalog: {}' '  wishlist: {}'
	expect_status 0 up
	expect_status 0 drift
	expect_status 0 roundtrip
	assert_contains "$OUT" "5 migrations tested, 0 failed"
	no_shadow_left
}

test_no_drift_on_the_corpus_base() {
	new_db
	cp -r "$MIGRATE_SOURCE_ROOT/tests/corpus/bases/pg/migrations" .
	sed "s|@DSN@|$DSN|" "$MIGRATE_SOURCE_ROOT/tests/corpus/bases/pg/config.yaml" >config.yaml
	expect_status 0 up
	expect_status 0 drift
	expect_status 0 roundtrip
	no_shadow_left
}

test_drift_column_type_altered() {
	rich_db
	drifted "ALTER TABLE app.users ALTER COLUMN score TYPE bigint"
	expect_difference changed column app users.score type
	assert_eq "$(jq -r '.differences[0] | .expected + ">" + .actual' "$OUT")" "integer>bigint" "values"
	assert_eq "$(jq -r '.differences[0] | .module + "/" + (.version|tostring)' "$OUT")" "core/1" "attribution"
}

test_drift_default_dropped() {
	rich_db
	drifted "ALTER TABLE app.users ALTER COLUMN name DROP DEFAULT"
	expect_difference changed column app users.name default
	assert_eq "$(jq -r '.differences[0].actual' "$OUT")" "null" "actual"
}

test_drift_index_dropped() {
	rich_db
	drifted "DROP INDEX app.users_name_idx"
	expect_difference missing index app users.users_name_idx
	assert_eq "$(jq -r '.differences[0] | .module + "/" + (.version|tostring)' "$OUT")" "core/1" "attribution"
	# and in text, one line naming it
	expect_status 3 drift
	assert_contains "$OUT" "missing  index app.users.users_name_idx (core/1)"
	assert_contains "$ERR" "differs from its history in 1 place"
}

test_drift_concurrent_index_dropped_is_attributed_to_its_file() {
	rich_db
	drifted "DROP INDEX app.users_email_idx"
	expect_difference missing index app users.users_email_idx
	assert_eq "$(jq -r '.differences[0] | .module + "/" + (.version|tostring)' "$OUT")" "core/2" "attribution"
}

test_drift_extra_index() {
	rich_db
	drifted "CREATE INDEX extra_idx ON app.users (score)"
	expect_difference extra index app users.extra_idx
	# a part of a table is attributed to the migration that created the table
	assert_eq "$(jq -r '.differences[0] | .module + "/" + (.version|tostring)' "$OUT")" "core/1" "attribution"
	# an object of its own that no migration created has no origin
	sql "DROP INDEX app.extra_idx; CREATE SEQUENCE app.extra_seq" >/dev/null
	expect_status 3 drift --format json
	expect_difference extra sequence app extra_seq
	assert_eq "$(jq -r '.differences[0] | [.module, .version] | map(tostring) | join(" ")' "$OUT")" "null null" "unknown origin"
}

test_drift_function_body_replaced() {
	rich_db
	drifted "CREATE OR REPLACE FUNCTION app.touch() RETURNS trigger LANGUAGE plpgsql AS \$\$ BEGIN RETURN NEW; END \$\$"
	expect_difference changed function app "touch()" body
}

test_drift_constraint_added_not_valid() {
	rich_db
	drifted "ALTER TABLE app.users ADD CONSTRAINT name_short CHECK (length(name) < 100) NOT VALID"
	expect_difference extra constraint app users.name_short
}

test_drift_check_constraint_changed() {
	rich_db
	drifted "ALTER TABLE app.users DROP CONSTRAINT users_score_check, ADD CONSTRAINT users_score_check CHECK (score > 0)"
	expect_difference changed constraint app users.users_score_check definition
	assert_eq "$(jq -r '.differences[0] | .expected + ">" + .actual' "$OUT")" \
		"CHECK ((score >= 0))>CHECK ((score > 0))" "values"
}

test_drift_extra_table_in_a_migrated_schema() {
	rich_db
	drifted "CREATE TABLE app.scratch (x int PRIMARY KEY)"
	expect_difference extra table app scratch
	# a table in a schema the history does not use is not reported
	sql "DROP TABLE app.scratch; CREATE SCHEMA other; CREATE TABLE other.t (x int)" >/dev/null
	expect_status 0 drift
}

test_drift_trigger_disabled() {
	rich_db
	drifted "ALTER TABLE app.users DISABLE TRIGGER users_touch"
	expect_difference changed trigger app users.users_touch enabled
	assert_eq "$(jq -r '.differences[0] | .expected + ">" + .actual' "$OUT")" "enabled>disabled" "values"
}

test_drift_trigger_dropped() {
	rich_db
	drifted "DROP TRIGGER users_touch ON app.users"
	expect_difference missing trigger app users.users_touch
}

test_drift_enum_value_added() {
	rich_db
	drifted "ALTER TYPE app.mood ADD VALUE 'angry'"
	expect_difference changed type app mood values
	assert_eq "$(jq -r '.differences[0].actual' "$OUT")" "'sad', 'ok', 'happy', 'angry'" "values"
}

test_drift_comment_changed() {
	rich_db
	drifted "COMMENT ON COLUMN app.users.email IS 'sign-in'"
	expect_difference changed column app users.email comment
	assert_eq "$(jq -r '.differences[0] | .expected + ">" + .actual' "$OUT")" "login>sign-in" "values"
}

test_drift_module_filter() {
	new_db
	rich_tree
	migration extra 001_t.up.sql "CREATE TABLE app.extra_t (x int);"
	write_config 'modules:' '  extra: {}'
	expect_status 0 up
	sql "DROP TABLE app.extra_t" >/dev/null
	expect_status 3 drift --module extra --format json
	expect_difference missing table app extra_t
	expect_status 0 drift --module core
	no_shadow_left
}

test_drift_shadow_cannot_be_built() {
	new_db
	migration core 001_a.up.sql "CREATE TABLE a (x int);"
	write_config
	expect_status 0 up
	# the applied file now fails on an empty database
	migration core 001_a.up.sql "CREATE TABLE a (x int); SELECT * FROM nowhere;"
	expect_status 1 drift
	assert_contains "$ERR" "nowhere"
	no_shadow_left
}

builds() { # how many half-built templates (a template build in progress) exist
	pg_admin -d postgres -c "SELECT count(*) FROM pg_database WHERE datname LIKE 'migrate\_tpl\_%\_tmp'"
}

test_drift_leaves_nothing_after_sigkill() {
	new_db
	migration core 001_slow.up.sql "CREATE TABLE s (x int); SELECT pg_sleep(3);
COMMENT ON TABLE s IS '$SCRATCH';"
	write_config
	expect_status 0 up
	# no template of this history yet: drift builds one (in migrate_tpl_..._tmp)
	# an empty cache of expected schemas: this drift must build a shadow
	XDG_CACHE_HOME="$SCRATCH/cold.$RANDOM" "$MIGRATE_BIN" drift >/dev/null 2>&1 &
	local pid=$! i
	for i in $(seq 50); do
		[ "$(builds)" != "0" ] && break
		sleep 0.1
	done
	assert_eq "$(builds)" "1" "template build while running"
	kill -9 "$pid"
	wait "$pid" 2>/dev/null || true
	assert_eq "$(builds)" "1" "half-built template left by the killed run"
	expect_status 0 drift
	assert_contains "$OUT" "built template migrate_tpl_"
	assert_eq "$(builds)" "0" "half-built templates after the next run"
	no_shadow_left
}

# killed_drift: a drift SIGKILLed while its shadow exists (held by a lock on the live
# database's tracking table, which drift reads after both snapshots)
killed_drift() {
	pg_admin -d "$DB" -c "BEGIN; LOCK TABLE schema_migrations_objects; SELECT pg_sleep(60)" >/dev/null 2>&1 &
	local locker=$! i
	for i in $(seq 50); do
		[ -n "$(sql "SELECT 1 FROM pg_locks WHERE relation = 'schema_migrations_objects'::regclass AND mode = 'AccessExclusiveLock' AND granted")" ] && break
		sleep 0.1
	done
	# an empty cache of expected schemas: this drift must build a shadow
	XDG_CACHE_HOME="$SCRATCH/cold.$RANDOM" "$MIGRATE_BIN" drift >/dev/null 2>&1 &
	local pid=$!
	for i in $(seq 100); do
		[ -n "$(sql "SELECT 1 FROM pg_stat_activity WHERE datname = current_database() AND application_name = 'migrate' AND wait_event_type = 'Lock'")" ] && break
		sleep 0.1
	done
	assert_eq "$(shadows)" "1" "shadow while drift waits"
	kill -9 "$pid"
	wait "$pid" 2>/dev/null || true
	sql "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()" >/dev/null
	wait "$locker" 2>/dev/null || true
	assert_eq "$(shadows)" "1" "shadow left by the killed run"
}

test_drift_shadow_of_a_killed_run_is_dropped_by_the_next_run() {
	rich_db
	killed_drift
	expect_status 0 drift
	no_shadow_left
	killed_drift
	expect_status 0 roundtrip
	no_shadow_left
}

test_testdb_gc_drops_the_shadow_of_a_killed_run() {
	rich_db
	killed_drift
	local left
	left=$(pg_admin -d postgres -c "SELECT datname FROM pg_database WHERE datname LIKE 'migrate\_shadow\_%'")
	# young (gc's default age is far away): dropped because its creator is gone. gc also
	# drops other trees' templates, which other roles own: run it as the superuser
	write_config "  scratch_dsn: \"host=$MIGRATE_PG_SOCKET port=$MIGRATE_PG_PORT user=postgres\""
	expect_status 0 testdb gc
	assert_contains "$OUT" "dropped $left"
	no_shadow_left
}

test_second_drift_reads_the_cached_expected_schema() {
	new_db
	migration core 001_a.up.sql "CREATE TABLE a (x int); COMMENT ON TABLE a IS '$SCRATCH';"
	write_config
	expect_status 0 up
	expect_status 0 drift
	assert_contains "$OUT" "built template migrate_tpl_"
	local tpl
	tpl=$(sed -n 's/.*built template \(migrate_tpl_[0-9a-f]*\);.*/\1/p' "$OUT")
	[ -n "$tpl" ] || fail "no template named in: $(cat "$OUT")"
	[ -s "$XDG_CACHE_HOME/migrate/snapshots/$tpl.json" ] || fail "no cache file for $tpl"
	# the second drift of this history reads no shadow
	expect_status 0 drift
	assert_contains "$OUT" "drift: 0 differences (4 objects compared in "
	assert_contains "$OUT" "expected schema of template $tpl read from the cache in "
	# and it still sees drift, attributed to the migration
	sql "ALTER TABLE a ADD COLUMN y int" >/dev/null
	expect_status 3 drift --format json
	assert_eq "$(jq -r '.differences | map("\(.kind) \(.name) \(.module)/\(.version)") | join(",")' "$OUT")" \
		"extra a.y core/1" "drift found from the cache"
	sql "ALTER TABLE a DROP COLUMN y" >/dev/null
	# a cache written by another build, or a truncated one, is not used
	sed -i 's/"key":"[^"]*"/"key":"another build"/' "$XDG_CACHE_HOME/migrate/snapshots/$tpl.json"
	expect_status 0 drift
	assert_contains "$OUT" "cloned from cached template $tpl"
	head -c 40 "$XDG_CACHE_HOME/migrate/snapshots/$tpl.json" >cut && mv cut "$XDG_CACHE_HOME/migrate/snapshots/$tpl.json"
	expect_status 0 drift
	assert_contains "$OUT" "cloned from cached template $tpl"
	expect_status 0 drift
	assert_contains "$OUT" "read from the cache"
	# no template, no cache: a template dropped by hand is built again
	pg_admin -d postgres -c "ALTER DATABASE $tpl WITH IS_TEMPLATE false" -c "DROP DATABASE $tpl" >/dev/null
	expect_status 0 drift
	assert_contains "$OUT" "built template $tpl"
	no_shadow_left
	# a new applied version is a new history: a new template
	migration core 002_b.up.sql "CREATE TABLE b (x int);"
	expect_status 0 up
	expect_status 0 drift
	assert_contains "$OUT" "built template migrate_tpl_"
	assert_not_contains "$OUT" "$tpl"
	no_shadow_left
	# testdb gc drops the old history's template, and its cache with it
	[ -s "$XDG_CACHE_HOME/migrate/snapshots/$tpl.json" ] || fail "the cache of $tpl went early"
	write_config "  scratch_dsn: \"host=$MIGRATE_PG_SOCKET port=$MIGRATE_PG_PORT user=postgres\""
	expect_status 0 testdb gc
	assert_contains "$OUT" "dropped $tpl"
	[ ! -e "$XDG_CACHE_HOME/migrate/snapshots/$tpl.json" ] || fail "testdb gc left the cache of $tpl"
}

test_drift_on_scratch_dsn_with_another_role() {
	rich_db
	pg_admin -d postgres -c "DROP ROLE IF EXISTS shadow_maker; CREATE ROLE shadow_maker LOGIN CREATEDB PASSWORD '$PG_PASSWORD'" >/dev/null
	pg_admin -d postgres -c "ALTER ROLE app NOCREATEDB" >/dev/null
	write_config "  scratch_dsn: \"postgres://shadow_maker:$PG_PASSWORD@127.0.0.1:$MIGRATE_PG_PORT/postgres\""
	expect_status 0 drift --format json
	assert_eq "$(jq -c . "$OUT")" '{"ok":true,"differences":[]}' "json"
	expect_status 0 roundtrip
	no_shadow_left
	sql "ALTER TABLE app.users ALTER COLUMN score TYPE bigint" >/dev/null
	expect_status 3 drift --format json
	assert_eq "$(jq '.differences | length' "$OUT")" "1" "differences"
	pg_admin -d postgres -c "ALTER ROLE app CREATEDB" >/dev/null
	no_shadow_left
	[ "$(pg_admin -d postgres -c "SELECT count(*) FROM pg_database d JOIN pg_roles r ON r.oid = d.datdba WHERE r.rolname = 'shadow_maker' AND datname LIKE 'migrate\_tpl\_%'")" != "0" ] \
		|| fail "the template was not made by the scratch role"
	# the app role could not drop what shadow_maker owns: clean up as the superuser
	local d
	for d in $(pg_admin -d postgres -c "SELECT datname FROM pg_database d JOIN pg_roles r ON r.oid = d.datdba WHERE r.rolname = 'shadow_maker'"); do
		pg_admin -d postgres -c "ALTER DATABASE $d WITH IS_TEMPLATE false" -c "DROP DATABASE $d" >/dev/null
	done
	pg_admin -d postgres -c "DROP ROLE shadow_maker" >/dev/null
}

# a scratch server of another major version than the live one prints definitions its
# own way: refused in one line before a shadow is built there
test_drift_refuses_a_scratch_server_of_another_major() {
	rich_db
	local other=13 dir exports
	[ "$(pg_major)" != 13 ] || other=15
	dir=$(mktemp -d "${TMPDIR:-/tmp}/migrate-other-pg.XXXXXX")
	chmod 755 "$dir"
	# shellcheck disable=SC2064 # the directory is known now
	trap "'$MIGRATE_SOURCE_ROOT/scripts/pg-server.sh' stop '$dir'; rm -rf '$dir'" EXIT
	exports=$(MIGRATE_PG_VERSION=$other "$MIGRATE_SOURCE_ROOT/scripts/pg-server.sh" start "$dir" fsync=off) ||
		fail "cannot start PostgreSQL $other: $exports"
	local port
	port=$(cat "$dir/port")
	psql -X -q -h "$dir/socket" -p "$port" -U postgres -d postgres -c "ALTER ROLE app CREATEDB" ||
		fail "cannot grant CREATEDB on PostgreSQL $other"
	write_config "  scratch_dsn: \"postgres://app:$PG_PASSWORD@127.0.0.1:$port/postgres\""
	expect_status 2 drift
	assert_one_line "$ERR"
	assert_contains "$ERR" "the live database runs PostgreSQL $(pg_major), the scratch server (postgres.scratch_dsn) $other; point scratch_dsn at a PostgreSQL $(pg_major) server"
	assert_eq "$(psql -X -A -t -h "$dir/socket" -p "$port" -U postgres -d postgres -c "SELECT count(*) FROM pg_database WHERE datname LIKE 'migrate\_%'")" "0" \
		"databases built on the other server"
}

test_roundtrip_passes_on_correct_pairs() {
	rich_db
	expect_status 0 roundtrip --format json
	assert_eq "$(jq -r '[.ok, .tested] | map(tostring) | join(" ")' "$OUT")" "true 2" "summary"
	assert_eq "$(jq -r '[.results[].status] | join(" ")' "$OUT")" "ok ok" "statuses"
	no_shadow_left
}

# bad_down_tree NAME UP DOWN: the rich tree plus core/003 NAME with these files
bad_down_tree() {
	new_db
	rich_tree
	migration core "003_$1.up.sql" "$2"
	[ -z "$3" ] || migration core "003_$1.down.sql" "$3"
	write_config
}

test_roundtrip_down_forgets_an_index() {
	bad_down_tree mood_index "CREATE INDEX IF NOT EXISTS users_mood_idx ON app.users (mood);" "SELECT 1;"
	expect_status 3 roundtrip --format json
	assert_eq "$(jq -r '[.results[] | select(.status != "ok") | "\(.module)/\(.version) \(.status)"] | join(",")' "$OUT")" \
		"core/3 down does not restore" "failures"
	assert_eq "$(jq -r '.results[2].differences | map("\(.kind) \(.object_type) \(.name)") | join(",")' "$OUT")" \
		"extra index users.users_mood_idx" "differences"
	# the live database was never touched
	has_table schema_migrations && fail "roundtrip changed the live database"
	no_shadow_left
}

test_roundtrip_down_drops_too_much() {
	bad_down_tree b "CREATE TABLE app.b (x int);" "DROP TABLE app.b; DROP INDEX app.users_name_idx;"
	expect_status 3 roundtrip --format json
	assert_eq "$(jq -r '.results[2] | "\(.version) \(.status) " + (.differences | map("\(.kind) \(.object_type) \(.name)") | join(","))' "$OUT")" \
		"3 down does not restore missing index users.users_name_idx" "result"
	expect_status 3 roundtrip
	assert_contains "$OUT" "down does not restore  core/3_b"
	assert_contains "$OUT" "    missing  index app.users.users_name_idx"
	no_shadow_left
}

# through one pipe (a CI log), the line that sums a run up comes after what it sums up
test_roundtrip_summary_follows_its_details_on_one_pipe() {
	bad_down_tree b "CREATE TABLE app.b (x int);" "DROP TABLE app.b; DROP INDEX app.users_name_idx;"
	local rc=0
	"$MIGRATE_BIN" roundtrip >both.out 2>&1 </dev/null || rc=$?
	assert_eq "$rc" "3" "exit status"
	assert_eq "$(tail -1 both.out)" "migrate: roundtrip: 1 of 3 migrations failed" "last line"
	grep -q "down does not restore  core/3_b" both.out || fail "no detail: $(cat both.out)"
}

test_roundtrip_down_fails() {
	bad_down_tree c "CREATE TABLE app.c (x int);" "DROP TABLE app.not_there;"
	expect_status 3 roundtrip --format json
	assert_eq "$(jq -r '.results[2] | "\(.version) \(.status)"' "$OUT")" "3 down failed" "result"
	assert_contains "$OUT" "not_there"
	no_shadow_left
}

test_roundtrip_up_not_reapplicable() {
	bad_down_tree seed "INSERT INTO app.lookup VALUES (1);" "SELECT 1;"
	expect_status 3 roundtrip --format json
	assert_eq "$(jq -r '[.results[] | select(.status != "ok") | "\(.version) \(.status)"] | join(",")' "$OUT")" \
		"3 up fails after down" "result"
	assert_contains "$OUT" "duplicate key"
	no_shadow_left
}

test_roundtrip_irreversible_is_a_warning_unless_required() {
	bad_down_tree one_way "CREATE TABLE app.one_way (x int);" ""
	expect_status 0 roundtrip
	assert_contains "$OUT" "irreversible           core/3_one_way: there is no .down.sql"
	expect_status 3 roundtrip --require-down
	no_shadow_left
}

test_roundtrip_pending_tests_only_pending() {
	bad_down_tree c "CREATE TABLE app.c (x int);" "DROP TABLE app.not_there;"
	# the applied versions are only applied on the way; the pending one is tested
	mv migrations/postgres/core/003_c.* .
	expect_status 0 up
	mv 003_c.* migrations/postgres/core/
	expect_status 3 roundtrip --pending --format json
	assert_eq "$(jq -r '[.tested, (.results | map("\(.version) \(.status)") | join(","))] | map(tostring) | join(" ")' "$OUT")" \
		"1 3 down failed" "pending only"
	assert_eq "$(ledger | tr '\n' ' ')" "core/1 core/2 " "live ledger unchanged"
	no_shadow_left
}

# ten_tree: ten migrations; the downs of 2, 4, 6 and 8 are wrong in four ways (fails;
# leaves an index; leaves a row the up cannot insert again; drops a table of 5 that 9
# needs): each later one can only be judged when the run goes on from the history's
# state, not from what the wrong down left
ten_tree() {
	new_db
	migration core 001_base.up.sql "CREATE SCHEMA app; CREATE TABLE app.t1 (id int PRIMARY KEY); CREATE TABLE app.lookup (k int PRIMARY KEY);"
	migration core 001_base.down.sql "DROP SCHEMA app CASCADE;"
	migration core 002_t2.up.sql "CREATE TABLE app.t2 (x int);"
	migration core 002_t2.down.sql "DROP TABLE app.not_there;"
	migration core 003_t2_y.up.sql "ALTER TABLE app.t2 ADD COLUMN y int;"
	migration core 003_t2_y.down.sql "ALTER TABLE app.t2 DROP COLUMN y;"
	migration core 004_t1_idx.up.sql "CREATE INDEX IF NOT EXISTS t1_idx ON app.t1 (id);"
	migration core 004_t1_idx.down.sql "SELECT 1;"
	migration core 005_t5.up.sql "CREATE TABLE app.t5 (a int); ALTER TABLE app.t1 ADD COLUMN note text;"
	migration core 005_t5.down.sql "DROP TABLE app.t5; ALTER TABLE app.t1 DROP COLUMN note;"
	migration core 006_seed.up.sql "INSERT INTO app.lookup VALUES (1);"
	migration core 006_seed.down.sql "SELECT 1;"
	migration core 007_t7.up.sql "INSERT INTO app.lookup VALUES (2); CREATE TABLE app.t7 (k int REFERENCES app.lookup);"
	migration core 007_t7.down.sql "DROP TABLE app.t7; DELETE FROM app.lookup WHERE k = 2;"
	migration core 008_t8.up.sql "CREATE TABLE app.t8 (x int);"
	migration core 008_t8.down.sql "DROP TABLE app.t8; DROP TABLE app.t5;"
	migration core 009_t5_b.up.sql "ALTER TABLE app.t5 ADD COLUMN b int;"
	migration core 009_t5_b.down.sql "ALTER TABLE app.t5 DROP COLUMN b;"
	migration core 010_t10.up.sql "CREATE TABLE app.t10 (x int); CREATE INDEX ON app.t10 (x);"
	migration core 010_t10.down.sql "DROP TABLE app.t10;"
	write_config
}

test_roundtrip_reports_every_migration_of_a_history() {
	ten_tree
	expect_status 3 roundtrip --format json
	assert_eq "$(jq -r '[.ok, .tested, .failed, .not_tested] | map(tostring) | join(" ")' "$OUT")" \
		"false 10 4 0" "summary"
	assert_eq "$(jq -r '[.results[] | "\(.version) \(.status)"] | join(",")' "$OUT")" \
		"1 ok,2 down failed,3 ok,4 down does not restore,5 ok,6 up fails after down,7 ok,8 down does not restore,8 up after down differs,9 ok,10 ok" \
		"every migration, each judged from its predecessors' state"
	assert_eq "$(jq -r '[.results[] | select(.version == 4 or .version == 8) | .differences[] | "\(.kind) \(.object_type) \(.name)"] | join(",")' "$OUT")" \
		"extra index t1.t1_idx,missing table t5,missing table t5" "differences"
	assert_eq "$(jq -r '.results[1].error' "$OUT" | grep -c 'not_there')" "1" "the failed down's error"
	assert_eq "$(jq -r '.results[5].error' "$OUT" | grep -c 'duplicate key')" "1" "the failed up's error"
	# the text report: one line per result, the summary after them, and on a shared pipe
	# the error line last
	local st=0
	"$MIGRATE_BIN" roundtrip >both.txt 2>&1 </dev/null || st=$?
	assert_eq "$st" "3" "exit status"
	assert_eq "$(grep -c '^ok ' both.txt)" "6" "ok lines"
	assert_eq "$(grep -E '^(down|up) ' both.txt | sed 's/ *core/ core/;s/:.*//' | tr '\n' ',')" \
		"down failed core/2_t2,down does not restore core/4_t1_idx,up fails after down core/6_seed,down does not restore core/8_t8,up after down differs core/8_t8," "failure lines"
	assert_eq "$(tail -n 2 both.txt | head -n 1)" \
		"roundtrip: 10 migrations tested, 4 failed; restarted 4 times from a clone of the history's ups" "summary line"
	assert_eq "$(tail -n 1 both.txt)" "migrate: roundtrip: 4 of 10 migrations failed" "error line last"
	has_table schema_migrations && fail "roundtrip changed the live database"
	no_shadow_left
}

# Roundtrip reads the states after each step only for the objects whose catalog rows
# changed (src/postgres/pg_snapshot.c): a down that changes only what its up did not
# touch, by deleting a row no owner's own row records (a comment, a trigger, a policy, a
# foreign key, a sequence's owner), is still seen; a schema renamed and back, a table
# renamed and back, and objects that only name a renamed one (a view, a column of a
# renamed type, a composite type whose attribute was renamed), are read afresh and do
# not fail the migrations after them; a schema renamed by an up its down leaves alone
# is reported with everything in it.
scoped_tree() {
	new_db
	rich_tree
	local v=3 t
	for t in "COMMENT ON TABLE app.users IS NULL" "DROP TRIGGER users_touch ON app.users" \
		"DROP POLICY own ON app.users" "ALTER TABLE app.events DROP CONSTRAINT events_user_id_fkey" \
		"ALTER SEQUENCE app.ticket OWNED BY app.lookup.k"; do
		migration core "00${v}_t$v.up.sql" "CREATE TABLE app.t$v (x int);"
		migration core "00${v}_t$v.down.sql" "DROP TABLE app.t$v; $t;"
		v=$((v + 1))
	done
	migration core 008_schema.up.sql "ALTER SCHEMA app RENAME TO app2;"
	migration core 008_schema.down.sql "ALTER SCHEMA app2 RENAME TO app;"
	migration core 009_schema_back.up.sql "ALTER SCHEMA app2 RENAME TO app;"
	migration core 009_schema_back.down.sql "ALTER SCHEMA app RENAME TO app2;"
	migration core 010_column.up.sql "ALTER TABLE app.users RENAME COLUMN name TO full_name;"
	migration core 011_view_comment.up.sql "COMMENT ON VIEW app.user_names IS 'names';"
	migration core 011_view_comment.down.sql "COMMENT ON VIEW app.user_names IS NULL;"
	migration core 012_type.up.sql "ALTER TYPE app.mood RENAME TO feeling;"
	migration core 013_column.up.sql "ALTER TABLE app.users ADD COLUMN z int;"
	migration core 013_column.down.sql "ALTER TABLE app.users DROP COLUMN z;"
	migration core 014_pair.up.sql "ALTER TYPE app.pair RENAME ATTRIBUTE b TO c;"
	migration core 015_pair_comment.up.sql "COMMENT ON TYPE app.pair IS 'two';"
	migration core 015_pair_comment.down.sql "COMMENT ON TYPE app.pair IS NULL;"
	migration core 016_table.up.sql "ALTER TABLE app.users RENAME TO people;"
	migration core 016_table.down.sql "ALTER TABLE app.people RENAME TO users;"
	migration core 017_schema_only.up.sql "ALTER SCHEMA app RENAME TO app3;"
	migration core 017_schema_only.down.sql "SELECT 1;"
	write_config
}

test_roundtrip_scoped_reads_miss_nothing() {
	scoped_tree
	expect_status 3 roundtrip --format json
	assert_eq "$(jq -r '[.results[] | "\(.version) \(.status)"] | join(",")' "$OUT")" \
		"1 ok,2 ok,3 down does not restore,3 up after down differs,4 down does not restore,4 up after down differs,5 down does not restore,5 up after down differs,6 down does not restore,6 up after down differs,7 down does not restore,7 up after down differs,8 ok,9 ok,10 irreversible,11 ok,12 irreversible,13 ok,14 irreversible,15 ok,16 ok,17 down does not restore,17 up fails after down" \
		"statuses"
	assert_eq "$(jq -r '[.results[] | select(.version < 17 and (.status | test("restore|differs"))) | "\(.version) \(.status): " + (.differences | map("\(.kind) \(.object_type) \(.name)" + (if .attribute then " \(.attribute)" else "" end)) | join(";"))] | join(",")' "$OUT")" \
		"3 down does not restore: changed table users comment,3 up after down differs: changed table users comment,4 down does not restore: missing trigger users.users_touch,4 up after down differs: missing trigger users.users_touch,5 down does not restore: missing policy users.own,5 up after down differs: missing policy users.own,6 down does not restore: missing constraint events.events_user_id_fkey;missing constraint events_2024.events_user_id_fkey,6 up after down differs: missing constraint events.events_user_id_fkey;missing constraint events_2024.events_user_id_fkey,7 down does not restore: changed sequence ticket owned_by,7 up after down differs: changed sequence ticket owned_by" \
		"differences of the downs that change only what their ups did not touch"
	# a renamed schema: every object in it, not the schema alone
	assert_eq "$(jq -r '[.results[] | select(.version == 17 and .status == "down does not restore") | .differences[] | select(.name == "app" or .name == "app3" or .name == "people" or .name == "user_names") | "\(.kind) \(.object_type) \(.schema).\(.name)"] | join(",")' "$OUT")" \
		"missing schema app.app,extra schema app3.app3,missing table app.people,extra table app3.people,missing view app.user_names,extra view app3.user_names" \
		"a schema renamed"
	no_shadow_left
}

test_roundtrip_max_failures_from_and_to() {
	ten_tree
	expect_status 3 roundtrip --max-failures 2 --format json
	assert_eq "$(jq -r '[.tested, .failed, .not_tested, (.results | map("\(.version) \(.status)") | join(","))] | map(tostring) | join(" ")' "$OUT")" \
		"4 2 6 1 ok,2 down failed,3 ok,4 down does not restore" "stopped after two failed"
	expect_status 3 roundtrip --max-failures 2
	assert_contains "$OUT" "roundtrip: 4 migrations tested, 2 failed, 6 not tested (stopped by --max-failures)"
	expect_status 3 roundtrip --from 5 --to 7 --format json
	assert_eq "$(jq -r '[.tested, (.results | map("\(.version) \(.status)") | join(","))] | map(tostring) | join(" ")' "$OUT")" \
		"3 5 ok,6 up fails after down,7 ok" "versions 5 to 7 only"
	expect_status 0 roundtrip --from 9
	assert_contains "$OUT" "roundtrip: 2 migrations tested, 0 failed"
	expect_status 2 roundtrip --from 9 --to 3
	assert_contains "$ERR" "--from 9 is above --to 3"
	expect_status 2 roundtrip --max-failures 0
	no_shadow_left
}

test_roundtrip_up_that_does_not_build_ends_the_run() {
	ten_tree
	migration core 006_seed.up.sql "INSERT INTO app.nowhere VALUES (1);"
	expect_status 1 roundtrip --format json
	assert_eq "$(jq -r '[.ok, .tested, (.results | map("\(.version) \(.status)") | join(","))] | map(tostring) | join(" ")' "$OUT")" \
		"false 6 1 ok,2 down failed,3 ok,4 down does not restore,5 ok,6 up failed" "what was found, then the up that does not build"
	assert_contains "$ERR" "app.nowhere"
	assert_one_line "$ERR"
	expect_status 1 roundtrip
	assert_contains "$OUT" "up failed              core/6_seed: "
	no_shadow_left
}

# --parallel splits the run into stretches, each tested in a shadow of its own that the
# ups before it bring to its start: the report (results, their order, the summary, the
# restarts, the exit status) is the one shadow's, whatever the split.
same_report_in_parallel() { # STATUS: each --parallel N reports as --parallel 1
	local w
	expect_status "$1" roundtrip --parallel 1
	cp "$OUT" one.txt
	expect_status "$1" roundtrip --parallel 1 --format json
	cp "$OUT" one.json
	for w in 2 3 10 64; do
		expect_status "$1" roundtrip --parallel $w
		assert_eq "$(cat "$OUT")" "$(cat one.txt)" "text, --parallel $w"
		expect_status "$1" roundtrip --parallel $w --format json
		assert_eq "$(cat "$OUT")" "$(cat one.json)" "json, --parallel $w"
	done
	no_shadow_left
}

test_roundtrip_in_parallel_reports_as_one_shadow() {
	ten_tree
	same_report_in_parallel 3
	expect_status 2 roundtrip --parallel 0
	assert_contains "$ERR" "--parallel takes a whole number from 1 to 64, not '0'"
	expect_status 2 roundtrip --parallel 65
}

test_roundtrip_in_parallel_scoped_reads_miss_nothing() {
	scoped_tree
	same_report_in_parallel 3
}

# an up that does not build ends the run there: the stretches after it are not reported
test_roundtrip_in_parallel_up_that_does_not_build_ends_the_run() {
	ten_tree
	migration core 006_seed.up.sql "INSERT INTO app.nowhere VALUES (1);"
	same_report_in_parallel 1
	expect_status 1 roundtrip --parallel 4
	assert_contains "$ERR" "app.nowhere"
	assert_one_line "$ERR"
}

test_roundtrip_progress_only_on_a_terminal() {
	ten_tree
	# script(1) gives the command a terminal for stdout and stderr
	script -qec "$MIGRATE_BIN roundtrip --from 9" tty.txt >/dev/null </dev/null
	assert_contains tty.txt "[1/2] core/009_t5_b"
	assert_contains tty.txt "[2/2] core/010_t10"
	expect_status 0 roundtrip --from 9
	assert_not_contains "$ERR" "[1/2]"
	assert_eq "$(wc -c <"$ERR")" "0" "stderr off a terminal"
	no_shadow_left
}

# Each attribute the snapshot records, changed by hand: drift names it (issue 31).
test_drift_column_added_by_hand() {
	rich_db
	drifted "ALTER TABLE app.users ADD COLUMN nick text"
	expect_difference extra column app users.nick
}

test_drift_column_dropped_by_hand() {
	rich_db
	drifted "ALTER TABLE app.users DROP COLUMN lower_email"
	expect_difference missing column app users.lower_email
}

test_drift_set_not_null_by_hand() {
	rich_db
	drifted "ALTER TABLE app.users ALTER COLUMN name SET NOT NULL"
	expect_difference changed column app users.name not_null
	assert_eq "$(jq -r '.differences[0] | .expected + ">" + .actual' "$OUT")" "false>true" "values"
}

test_drift_row_security_disabled() {
	rich_db
	drifted "ALTER TABLE app.users DISABLE ROW LEVEL SECURITY"
	expect_difference changed table app users row_security
	assert_eq "$(jq -r '.differences[0] | .expected + ">" + .actual' "$OUT")" "true>false" "values"
}

test_drift_policy_changed_and_dropped() {
	rich_db
	drifted "ALTER POLICY own ON app.users USING (true)"
	expect_difference changed policy app users.own using
	assert_eq "$(jq -r '.differences[0].actual' "$OUT")" "true" "actual"
	sql "DROP POLICY own ON app.users" >/dev/null
	expect_status 3 drift --format json
	expect_difference missing policy app users.own
}

test_drift_view_definition_replaced() {
	rich_db
	drifted "CREATE OR REPLACE VIEW app.user_names AS SELECT id, name FROM app.users WHERE id > 0"
	expect_difference changed view app user_names definition
	# the server's own deparse: "(users.id > 0)" up to 15, "(id > 0)" from 16
	if [ "$(pg_major)" -ge 16 ]; then
		assert_contains "$OUT" "WHERE (id > 0)"
	else
		assert_contains "$OUT" "WHERE (users.id > 0)"
	fi
}

test_drift_sequence_settings() {
	rich_db
	drifted "ALTER SEQUENCE app.ticket INCREMENT 10"
	expect_difference changed sequence app ticket increment
	assert_eq "$(jq -r '.differences[0] | .expected + ">" + .actual' "$OUT")" "5>10" "values"
	sql "ALTER SEQUENCE app.ticket INCREMENT 5 CYCLE" >/dev/null
	expect_status 3 drift --format json
	expect_difference changed sequence app ticket cycle
	# the current value is data, not schema
	sql "ALTER SEQUENCE app.ticket NO CYCLE; SELECT nextval('app.ticket')" >/dev/null
	expect_status 0 drift
}

test_drift_partition_bound_changed() {
	rich_db
	drifted "ALTER TABLE app.events DETACH PARTITION app.events_2024;
ALTER TABLE app.events ATTACH PARTITION app.events_2024 FOR VALUES FROM ('2024-01-01') TO ('2024-07-01')"
	expect_difference changed table app events_2024 partition_bound
	assert_contains "$OUT" "TO ('2024-07-01')"
}

# Privileges are part of the snapshot: a grant or revoke by hand on a table, sequence,
# function or schema is drift, unless postgres.drift_privileges is false.
test_drift_privilege_revoked_on_a_table() {
	rich_db
	drifted "REVOKE SELECT ON app.lookup FROM app"
	expect_difference changed table app lookup privileges
	jq -r '.differences[0].expected' "$OUT" | grep -q '^owner: .*SELECT' || fail "expected privileges: $(jq -c . "$OUT")"
	if jq -r '.differences[0].actual' "$OUT" | grep -q 'SELECT'; then
		fail "the revoked SELECT is still listed: $(jq -c . "$OUT")"
	fi
	expect_status 3 drift
	assert_contains "$OUT" "lookup"
	assert_contains "$OUT" "privileges"
}

test_drift_privilege_granted_on_sequence_function_schema() {
	rich_db
	drifted "GRANT USAGE ON SEQUENCE app.ticket TO PUBLIC"
	expect_difference changed sequence app ticket privileges
	assert_contains "$OUT" "public: USAGE"
	sql "REVOKE USAGE ON SEQUENCE app.ticket FROM PUBLIC; REVOKE EXECUTE ON FUNCTION app.add(int, int) FROM PUBLIC" >/dev/null
	expect_status 3 drift --format json
	expect_difference changed function app "add(a integer, b integer)" privileges
	sql "GRANT EXECUTE ON FUNCTION app.add(int, int) TO PUBLIC; GRANT CREATE ON SCHEMA app TO PUBLIC" >/dev/null
	expect_status 3 drift --format json
	expect_difference changed schema app app privileges
	assert_contains "$OUT" "public: CREATE"
}

test_drift_grant_in_a_migration_is_not_drift() {
	new_db
	migration core 001_t.up.sql "CREATE TABLE t (id int PRIMARY KEY); CREATE SEQUENCE s;
REVOKE ALL ON t FROM PUBLIC; GRANT SELECT ON t TO PUBLIC; GRANT USAGE ON SEQUENCE s TO PUBLIC;"
	write_config
	expect_status 0 up
	expect_status 0 drift
	drifted "REVOKE SELECT ON t FROM PUBLIC"
	expect_difference changed table public t privileges
}

test_drift_privileges_ignored_by_config() {
	rich_db
	sql "REVOKE SELECT ON app.lookup FROM app; GRANT USAGE ON SEQUENCE app.ticket TO PUBLIC" >/dev/null
	write_config '  drift_privileges: false'
	expect_status 0 drift
	# any other change is still drift
	sql "ALTER SEQUENCE app.ticket INCREMENT 10" >/dev/null
	expect_status 3 drift --format json
	assert_eq "$(jq '.differences | length' "$OUT")" "1" "differences"
	expect_difference changed sequence app ticket increment
	write_config '  drift_privileges: maybe'
	expect_status 2 drift
	assert_contains "$ERR" "postgres.drift_privileges"
}

run_tests

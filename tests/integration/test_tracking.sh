#!/usr/bin/env bash
# Integration tests of object tracking (src/driver/pg_track*.c) through the real binary:
# `verify` never reports as missing an object that an applied migration dropped, in
# whatever order ups, downs and hand changes happened, and still names an object that
# vanished with no migration dropping it.
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../lib/harness.sh"
. "$here/../lib/postgres.sh"

# app_first: module app, 001 creates t and its index t_a
app_first() {
	migration app 001_t.up.sql "CREATE TABLE t (a int, b int); CREATE INDEX t_a ON t (a);"
	migration app 001_t.down.sql "DROP TABLE t;"
	write_config 'modules:' '  app: {}'
}

# app_second: 002 drops the index again, and its down file does not restore it
app_second() {
	migration app 002_drop_t_a.up.sql "DROP INDEX IF EXISTS t_a;"
	migration app 002_drop_t_a.down.sql "-- not restored"
}

test_drop_if_exists_then_down_and_up_again_is_not_missing() {
	new_db
	app_first
	app_second
	expect_status 0 up
	expect_status 0 verify
	expect_status 0 down --module app
	# 002 is rolled back and its down file does not restore t_a: now it is missing
	expect_status 3 verify
	assert_contains "$OUT" "missing  postgres index public.t_a (created by app/1)"
	expect_status 0 up
	expect_status 0 verify
	assert_not_contains "$OUT" "t_a"
	expect_status 0 up
	expect_status 0 verify
}

test_index_dropped_by_hand_before_the_migration_that_drops_it() {
	new_db
	app_first
	expect_status 0 up
	sql "DROP INDEX t_a" >/dev/null
	expect_status 3 verify
	assert_contains "$OUT" "missing  postgres index public.t_a (created by app/1)"
	app_second
	expect_status 0 up
	expect_status 0 verify
	assert_eq "$(sql "SELECT dropped_version FROM schema_migrations_objects WHERE name = 't_a'")" "2" "t_a dropped by"
	expect_status 0 down --module app
	expect_status 0 up
	expect_status 0 verify
}

test_object_dropped_by_hand_is_reported_after_later_drops() {
	new_db
	migration app 001_t.up.sql "CREATE TABLE t (a int); CREATE INDEX t_a ON t (a); CREATE TABLE u (a int); CREATE INDEX u_a ON u (a);"
	write_config 'modules:' '  app: {}'
	expect_status 0 up
	sql "DROP INDEX t_a" >/dev/null
	migration app 002_alter.up.sql "ALTER TABLE t ADD COLUMN c int NOT NULL DEFAULT 0;"
	migration app 003_drop_u.up.sql "DROP TABLE u;"
	# neither an ALTER nor a migration that drops something else accounts for t_a
	expect_status 0 up
	assert_eq "$(sql "SELECT string_agg(name || ':' || coalesce(dropped_version::text, '-'), ',' ORDER BY name) FROM schema_migrations_objects")" \
		"t:-,t_a:-,u:3,u_a:3" "drops"
	run_migrate verify
	[ "$STATUS" -eq 3 ] || fail "verify: exit $STATUS, expected 3"
	assert_contains "$OUT" "missing  postgres index public.t_a (created by app/1)"
	assert_not_contains "$OUT" "u_a"
	# through one pipe, the summary follows the problem it counts
	"$MIGRATE_BIN" verify >both.out 2>&1 && fail "verify succeeded"
	assert_eq "$(grep -n 'missing  postgres index public.t_a' both.out | cut -d: -f1)" "1" "problem line"
	assert_eq "$(tail -1 both.out)" "migrate: verify found 1 problem (see above)" "last line"
}

test_drop_in_a_do_block_counts_as_the_migrations_drop() {
	new_db
	migration app 001_t.up.sql "CREATE TABLE t (a int); CREATE INDEX t_a ON t (a); CREATE TABLE gone_soon (a int);"
	migration app 002_do.up.sql "$(cat <<'SQL'
DO $$
BEGIN
	EXECUTE format('DROP INDEX %I', 't_a');
	EXECUTE 'DROP TABLE gone_soon';
END
$$;
SQL
)"
	write_config 'modules:' '  app: {}'
	expect_status 0 up
	expect_status 0 verify
	assert_eq "$(sql "SELECT count(*) FROM schema_migrations_objects WHERE dropped_version = 2")" "2" "dropped by 2"
}

test_function_overloads_are_told_apart() {
	new_db
	migration app 001_f.up.sql "$(cat <<'SQL'
CREATE FUNCTION f(x int) RETURNS int LANGUAGE sql AS $$ SELECT x $$;
CREATE FUNCTION f(x text) RETURNS text LANGUAGE sql AS $$ SELECT x $$;
CREATE FUNCTION g(x int) RETURNS int LANGUAGE sql AS $$ SELECT x $$;
CREATE FUNCTION g(x text) RETURNS text LANGUAGE sql AS $$ SELECT x $$;
SQL
)"
	write_config 'modules:' '  app: {}'
	expect_status 0 up
	sql "DROP FUNCTION g(text)" >/dev/null
	migration app 002_drop_f_int.up.sql "DROP FUNCTION f(int);"
	migration app 003_drop_g_int.up.sql "ALTER FUNCTION g(int) RENAME TO g2; DROP FUNCTION g2(int);"
	expect_status 0 up
	assert_eq "$(sql "SELECT string_agg(name || ':' || coalesce(dropped_version::text, '-'), ',' ORDER BY name) FROM schema_migrations_objects")" \
		"f(x integer):2,f(x text):-,g(x integer):3,g(x text):-" "drops"
	expect_status 3 verify
	assert_contains "$OUT" "missing  postgres function public.g(x text) (created by app/1)"
	assert_contains "$ERR" "verify found 1 problem"
	sql "DROP FUNCTION f(text)" >/dev/null
	expect_status 3 verify
	assert_contains "$OUT" "missing  postgres function public.f(x text) (created by app/1)"
}

test_renamed_table_is_not_dropped_by_its_old_name() {
	new_db
	migration app 001_t.up.sql "CREATE TABLE old_name (a int);"
	migration app 002_rename.up.sql "ALTER TABLE old_name RENAME TO new_name;"
	migration app 003_drop_old.up.sql "DROP TABLE IF EXISTS old_name;"
	write_config 'modules:' '  app: {}'
	expect_status 0 up
	expect_status 0 verify
	assert_eq "$(sql "SELECT count(*) FROM schema_migrations_objects WHERE dropped_version IS NOT NULL")" "0" "drops"
	sql "DROP TABLE new_name" >/dev/null
	expect_status 3 verify
	assert_contains "$OUT" "missing  postgres table public.old_name (created by app/1)"
}

test_object_recreated_with_the_same_name() {
	new_db
	migration app 001_t.up.sql "CREATE TABLE t (a int, b int); CREATE INDEX t_i ON t (a);"
	migration app 002_recreate.up.sql "DROP INDEX t_i; CREATE INDEX t_i ON t (b);"
	migration app 002_recreate.down.sql "DROP INDEX t_i; CREATE INDEX t_i ON t (a);"
	write_config 'modules:' '  app: {}'
	expect_status 0 up
	expect_status 0 verify
	sql "DROP INDEX t_i" >/dev/null
	expect_status 3 verify
	assert_contains "$OUT" "missing  postgres index public.t_i (created by app/2)"
	assert_not_contains "$OUT" "created by app/1"
	sql "CREATE INDEX t_i ON t (b)" >/dev/null
	expect_status 0 down --module app
	expect_status 0 verify
	expect_status 0 up
	expect_status 0 verify
}

test_schema_dropped_by_hand_then_by_a_migration() {
	new_db
	migration app 001_s.up.sql "CREATE SCHEMA s; CREATE TABLE s.x (a int); CREATE INDEX x_a ON s.x (a);"
	write_config 'modules:' '  app: {}'
	expect_status 0 up
	sql "DROP SCHEMA s CASCADE" >/dev/null
	migration app 002_drop_s.up.sql "DROP SCHEMA IF EXISTS s CASCADE;"
	expect_status 3 verify
	assert_contains "$OUT" "missing  postgres table s.x (created by app/1)"
	expect_status 0 up
	expect_status 0 verify
}

test_drop_outside_a_transaction() {
	new_db
	migration app 001_t.up.sql "CREATE TABLE t (a int); CREATE INDEX t_a ON t (a); CREATE INDEX t_b ON t (a);"
	write_config 'modules:' '  app: {}'
	expect_status 0 up
	sql "DROP INDEX t_b" >/dev/null
	migration app 002_drop.up.sql "$(printf -- '-- migrate:run-in-tx false\nDROP INDEX CONCURRENTLY IF EXISTS t_a;\n')"
	migration app 002_drop.down.sql "-- not restored"
	expect_status 0 up
	expect_status 3 verify
	assert_contains "$OUT" "missing  postgres index public.t_b (created by app/1)"
	assert_not_contains "$OUT" "t_a"
	expect_status 0 down --module app
	expect_status 0 up
	expect_status 3 verify
	assert_not_contains "$OUT" "t_a"
}

# objects_stat COLUMN: a pg_stat_user_tables counter of the tracked-objects table, read
# once it is at least MIN (a backend reports its counters when it exits, after the
# client has gone: poll)
objects_stat() { # COLUMN MIN
	local i v
	for ((i = 0; i < 200; i++)); do
		v=$(sql "SELECT coalesce((SELECT $1 FROM pg_stat_user_tables WHERE relname = 'schema_migrations_objects'), 0)")
		((v >= $2)) && break
		sleep 0.05
	done
	echo "$v"
}

# A migration that may drop (a DO block) but deletes no catalog row reads no tracked
# object: its cost does not grow with the history. The session's one look at what was
# already gone is the only scan of the table.
test_migration_that_drops_nothing_reads_no_tracked_object() {
	new_db
	migration app 001_t.up.sql "CREATE TABLE t (a int); CREATE INDEX t_a ON t (a); CREATE TABLE u (a int);"
	write_config 'modules:' '  app: {}'
	expect_status 0 up
	local before after
	objects_stat n_tup_ins 3 >/dev/null
	before=$(objects_stat seq_scan 0)
	migration app 002_do.up.sql 'DO $$ BEGIN PERFORM 1; END $$;'
	migration app 003_do.up.sql 'DO $$ BEGIN PERFORM 2; END $$;'
	migration app 004_do.up.sql 'DO $$ BEGIN PERFORM 3; END $$;'
	expect_status 0 up
	after=$(objects_stat seq_scan $((before + 1)))
	assert_eq "$((after - before))" "1" "sequential scans of schema_migrations_objects during up"
	expect_status 0 verify
}

run_tests

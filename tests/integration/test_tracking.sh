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
	# the tracked name followed the rename
	assert_contains "$OUT" "missing  postgres table public.new_name (created by app/1)"
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

# up, then three rounds of down and up of the newest version, verify clean after each
up_and_round_trips_verify_clean() {
	expect_status 0 up
	expect_status 0 verify
	local round
	for round in 1 2 3; do
		expect_status 0 down --module core
		expect_status 0 verify
		expect_status 0 up
		expect_status 0 verify
		assert_not_contains "$OUT" "missing"
	done
}

# Issue 24, first reproduction: an owned sequence and a primary key's index dropped with
# their column, re-created by the down under new OIDs, dropped again by the re-up.
serial_history() {
	migration core 001_t.up.sql "CREATE TABLE t (id serial PRIMARY KEY, v text);"
	migration core 001_t.down.sql "DROP TABLE t;"
	migration core 002_drop_id.up.sql "ALTER TABLE t DROP COLUMN id;"
	migration core 002_drop_id.down.sql "ALTER TABLE t ADD COLUMN id serial PRIMARY KEY;"
	write_config
}

test_serial_column_dropped_then_readded_by_the_down() {
	new_db
	serial_history
	up_and_round_trips_verify_clean
}

# the same drops and re-creations by hand, then the migration that drops them again
test_serial_column_recreated_by_hand_then_dropped_by_the_migration() {
	new_db
	migration core 001_t.up.sql "CREATE TABLE t (id serial PRIMARY KEY, v text);"
	write_config
	expect_status 0 up
	sql "ALTER TABLE t DROP COLUMN id; ALTER TABLE t ADD COLUMN id serial PRIMARY KEY" >/dev/null
	expect_status 0 verify
	migration core 002_drop_id.up.sql "ALTER TABLE t DROP COLUMN id;"
	expect_status 0 up
	expect_status 0 verify
	assert_eq "$(sql "SELECT string_agg(name || ':' || coalesce(dropped_version::text, '-'), ',' ORDER BY name) FROM schema_migrations_objects")" \
		"t:-,t_id_seq:2,t_pkey:2" "drops"
}

# after the round trip, what a hand drops is still named, and only that
test_serial_round_trip_then_hand_drops_are_named() {
	new_db
	serial_history
	expect_status 0 up
	expect_status 0 down --module core
	expect_status 0 up
	expect_status 0 down --module core
	# the down re-created the key and the sequence: both belong to core/1 again
	sql "ALTER TABLE t DROP CONSTRAINT t_pkey" >/dev/null
	expect_status 3 verify
	assert_contains "$OUT" "missing  postgres index public.t_pkey (created by core/1)"
	assert_eq "$(grep -c missing "$OUT")" "1" "problems"
	sql "ALTER TABLE t ADD PRIMARY KEY (id)" >/dev/null
	expect_status 0 verify
	sql "ALTER TABLE t ALTER COLUMN id DROP DEFAULT; DROP SEQUENCE t_id_seq" >/dev/null
	expect_status 3 verify
	assert_contains "$OUT" "missing  postgres sequence public.t_id_seq (created by core/1)"
	assert_eq "$(grep -c missing "$OUT")" "1" "problems"
	sql "SET ROLE app; CREATE SEQUENCE t_id_seq OWNED BY t.id; ALTER TABLE t ALTER COLUMN id SET DEFAULT nextval('t_id_seq')" >/dev/null
	expect_status 0 verify
	expect_status 0 up
	expect_status 0 verify
	# 002 dropped the key and the sequence: the table alone is named
	sql "DROP TABLE t" >/dev/null
	expect_status 3 verify
	assert_contains "$OUT" "missing  postgres table public.t (created by core/1)"
	assert_eq "$(grep -c missing "$OUT")" "1" "problems"
}

# Issue 24, second reproduction: a table with its primary key dropped by DROP TABLE IF
# EXISTS (the index goes with it, unnamed), re-created by the down.
if_exists_history() {
	migration core 001_h.up.sql "CREATE TABLE h (d bigint, c boolean, PRIMARY KEY (d));"
	migration core 001_h.down.sql "DROP TABLE IF EXISTS h;"
	migration core 002_rm_h.up.sql "DROP TABLE IF EXISTS h;"
	migration core 002_rm_h.down.sql "CREATE TABLE IF NOT EXISTS h (d bigint, c boolean, PRIMARY KEY (d));"
	write_config
}

test_table_dropped_if_exists_then_recreated_by_the_down() {
	new_db
	if_exists_history
	up_and_round_trips_verify_clean
	expect_status 0 down --steps 2 --module core
	expect_status 0 verify
	expect_status 0 up
	expect_status 0 verify
}

test_table_recreated_by_hand_then_dropped_if_exists() {
	new_db
	migration core 001_h.up.sql "CREATE TABLE h (d bigint, c boolean, PRIMARY KEY (d));"
	write_config
	expect_status 0 up
	# by hand as the application's role: before PostgreSQL 15 only a table's owner (or the
	# schema's, then the superuser) may drop it
	sql "SET ROLE app; DROP TABLE h; CREATE TABLE h (d bigint, c boolean, PRIMARY KEY (d))" >/dev/null
	expect_status 0 verify
	migration core 002_rm_h.up.sql "DROP TABLE IF EXISTS h;"
	expect_status 0 up
	expect_status 0 verify
	assert_eq "$(sql "SELECT string_agg(name || ':' || coalesce(dropped_version::text, '-'), ',' ORDER BY name) FROM schema_migrations_objects")" \
		"h:2,h_pkey:2" "drops"
}

test_table_recreated_by_the_down_then_dropped_by_hand() {
	new_db
	if_exists_history
	expect_status 0 up
	expect_status 0 down --module core
	expect_status 0 up
	expect_status 0 down --module core
	sql "ALTER TABLE h DROP CONSTRAINT h_pkey" >/dev/null
	expect_status 3 verify
	assert_contains "$OUT" "missing  postgres index public.h_pkey (created by core/1)"
	assert_eq "$(grep -c missing "$OUT")" "1" "problems"
	sql "DROP TABLE h" >/dev/null
	expect_status 3 verify
	assert_contains "$OUT" "missing  postgres index public.h_pkey (created by core/1)"
	assert_contains "$OUT" "missing  postgres table public.h (created by core/1)"
	assert_eq "$(grep -c missing "$OUT")" "2" "problems"
}

# A renamed table, dropped, then re-created by the down under the new name: the tracked
# name followed the rename, so the re-created table is the one core/1 created.
test_renamed_then_dropped_then_recreated_by_the_down() {
	new_db
	migration core 001_t.up.sql "CREATE TABLE t (a int); CREATE INDEX t_a ON t (a);"
	migration core 002_rename.up.sql "ALTER TABLE t RENAME TO u; ALTER INDEX t_a RENAME TO u_a;"
	migration core 002_rename.down.sql "ALTER TABLE u RENAME TO t; ALTER INDEX u_a RENAME TO t_a;"
	migration core 003_drop.up.sql "DROP TABLE u;"
	migration core 003_drop.down.sql "CREATE TABLE u (a int); CREATE INDEX u_a ON u (a);"
	write_config
	expect_status 0 up
	expect_status 0 verify
	expect_status 0 down --module core
	expect_status 0 verify
	expect_status 0 down --module core
	expect_status 0 verify
	assert_eq "$(sql "SELECT string_agg(name, ',' ORDER BY name) FROM schema_migrations_objects")" "t,t_a" "tracked names"
	expect_status 0 up
	expect_status 0 verify
	expect_status 0 down --steps 2 --module core
	sql "DROP INDEX t_a" >/dev/null
	expect_status 3 verify
	assert_contains "$OUT" "missing  postgres index public.t_a (created by core/1)"
	assert_eq "$(grep -c missing "$OUT")" "1" "problems"
}

# What goes with a table: its trigger, a view and a function on its row type (CASCADE),
# an identity sequence and a unique constraint's index; an index rebuilt by a type
# change; a schema renamed. Each migration goes down and up again, twice, with verify
# clean throughout; then each object dropped by hand is named, alone.
implicit_history() {
	migration core 001_t.up.sql "$(cat <<'SQL'
CREATE TABLE t (id int GENERATED ALWAYS AS IDENTITY, a int, b text, CONSTRAINT t_b_key UNIQUE (b));
CREATE INDEX t_a ON t (a);
CREATE FUNCTION touch() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NEW; END $$;
CREATE TRIGGER t_touch BEFORE UPDATE ON t FOR EACH ROW EXECUTE FUNCTION touch();
CREATE VIEW t_v AS SELECT b FROM t;
CREATE FUNCTION t_label(r t) RETURNS text LANGUAGE sql AS $$ SELECT r.b $$;
CREATE TYPE mood AS ENUM ('ok', 'meh');
CREATE SCHEMA s;
CREATE TABLE s.x (a int PRIMARY KEY);
SQL
)"
	migration core 002_type.up.sql "ALTER TABLE t ALTER COLUMN a TYPE bigint;"
	migration core 002_type.down.sql "ALTER TABLE t ALTER COLUMN a TYPE int;"
	migration core 003_drop_id.up.sql "ALTER TABLE t DROP COLUMN id, DROP CONSTRAINT t_b_key;"
	migration core 003_drop_id.down.sql "ALTER TABLE t ADD COLUMN id int GENERATED ALWAYS AS IDENTITY, ADD CONSTRAINT t_b_key UNIQUE (b);"
	migration core 004_schema.up.sql "ALTER SCHEMA s RENAME TO s2;"
	migration core 004_schema.down.sql "ALTER SCHEMA s2 RENAME TO s;"
	migration core 005_cascade.up.sql "DROP TABLE t CASCADE; DROP TYPE mood; DROP TABLE s2.x;"
	migration core 005_cascade.down.sql "$(cat <<'SQL'
CREATE TABLE s2.x (a int PRIMARY KEY);
CREATE TYPE mood AS ENUM ('ok', 'meh');
CREATE TABLE t (a bigint, b text);
CREATE INDEX t_a ON t (a);
CREATE TRIGGER t_touch BEFORE UPDATE ON t FOR EACH ROW EXECUTE FUNCTION touch();
CREATE VIEW t_v AS SELECT b FROM t;
CREATE FUNCTION t_label(r t) RETURNS text LANGUAGE sql AS $$ SELECT r.b $$;
SQL
)"
	write_config
}

test_implicit_drops_survive_round_trips() {
	new_db
	implicit_history
	expect_status 0 up
	expect_status 0 verify
	local round steps
	for round in 1 2; do
		for steps in 1 2 3 4; do
			expect_status 0 down --module core --steps "$steps"
			expect_status 0 verify
			expect_status 0 up
			expect_status 0 verify
		done
	done
	# 005 dropped the table and what went with it; the function and the schema stay
	assert_eq "$(sql "SELECT string_agg(kind || ' ' || schema || '.' || name, ', ' ORDER BY kind, schema, name) FROM schema_migrations_objects WHERE dropped_version IS NULL")" \
		"function public.touch()" "still there"
}

test_implicit_drops_round_trip_then_hand_drops_are_named() {
	new_db
	implicit_history
	expect_status 0 up
	expect_status 0 down --module core --steps 4
	expect_status 0 up
	expect_status 0 down --module core --steps 3
	expect_status 0 verify
	# each drop on a copy of this database
	local base=$DB drop want count n=0
	while IFS='|' read -r drop want count; do
		n=$((n + 1))
		DB=${base}_$n
		pg_admin -d postgres -c "CREATE DATABASE $DB TEMPLATE $base OWNER app" >/dev/null
		DSN="postgres://app:$PG_PASSWORD@127.0.0.1:$MIGRATE_PG_PORT/$DB"
		write_config
		expect_status 0 verify
		sql "$drop" >/dev/null
		expect_status 3 verify
		assert_contains "$OUT" "missing  postgres $want"
		assert_eq "$(grep -c missing "$OUT")" "$count" "problems after $drop"
	done <<'LIST'
DROP TRIGGER t_touch ON t|trigger public.t.t_touch (created by core/1)|1
DROP INDEX t_a|index public.t_a (created by core/2)|1
ALTER TABLE t DROP CONSTRAINT t_b_key|index public.t_b_key (created by core/1)|1
DROP VIEW t_v|view public.t_v (created by core/1)|1
DROP FUNCTION t_label(t)|function public.t_label(r t) (created by core/1)|1
DROP TYPE mood|type public.mood (created by core/1)|1
ALTER TABLE t ALTER COLUMN id DROP IDENTITY|sequence public.t_id_seq (created by core/1)|1
DROP TABLE s.x|table s.x (created by core/1)|2
LIST
	assert_eq "$n" "8" "drops tried"
}

run_tests

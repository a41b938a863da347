#!/usr/bin/env bash
# Integration tests of the PostgreSQL engine through the real binary against the
# throwaway server that tests/run.sh starts: up, down, status, check, resolve, exit
# codes, failures rolled back, module selection, config and root lookup.
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../lib/harness.sh"
. "$here/../lib/postgres.sh"
. "$here/../lib/pgbouncer.sh"

# ten_ups_at_once: starts ten `migrate up` together and fails unless every one exits 0
ten_ups_at_once() {
	local pids=() i
	for i in $(seq 10); do
		"$MIGRATE_BIN" up -q >"run$i.out" 2>"run$i.err" &
		pids+=($!)
	done
	for i in $(seq 10); do
		wait "${pids[$((i - 1))]}" || fail "run $i failed: $(cat "run$i.err")"
	done
}

test_up_applies_every_module_core_first() {
	new_db
	example_tree
	write_config 'modules:' '  catalog: { enabled: true }' '  wishlist: { enabled: false }'
	expect_status 0 up
	assert_eq "$(head -1 "$OUT")" "$(grep -m1 . "$OUT")"
	assert_contains "$OUT" "applied core/001_create_users"
	# core first, then catalog, in version order
	assert_eq "$(grep -o '[a-z]*/[0-9]*_[a-z_]*' "$OUT" | tr '\n' ' ')" \
		"core/001_create_users core/002_create_tokens catalog/001_create_catalog catalog/002_create_reviews " "order"
	assert_eq "$(ledger | tr '\n' ' ')" "catalog/1 catalog/2 core/1 core/2 " "ledger"
	has_table users || fail "users missing"
	has_table product_ratings || fail "view missing"
	assert_eq "$(sql "SELECT count(*) FROM schema_migrations WHERE length(checksum) = 64 AND NOT dirty")" "4" "checksums"
}

test_rerun_is_a_noop() {
	new_db
	example_tree
	write_config 'modules:' '  catalog: {}'
	expect_status 0 up
	local before
	before=$(sql "SELECT string_agg(module || version || applied_at, ',') FROM schema_migrations")
	expect_status 0 up
	assert_contains "$OUT" "nothing to apply"
	assert_eq "$(sql "SELECT string_agg(module || version || applied_at, ',') FROM schema_migrations")" "$before" "ledger after re-run"
}

test_disabled_module_is_skipped() {
	new_db
	example_tree
	write_config 'modules:' '  catalog: { enabled: true }' '  wishlist: { enabled: false }'
	expect_status 0 up
	has_table wishlists && fail "disabled module was applied"
	assert_not_contains "$OUT" "wishlist"
	# a module directory the config does not mention is skipped too
	write_config 'modules:' '  catalog: { enabled: true }'
	expect_status 0 up
	has_table wishlists && fail "unlisted module was applied"
	return 0
}

test_core_runs_even_when_config_disables_it() {
	new_db
	example_tree
	write_config 'modules:' '  core: { enabled: false }'
	expect_status 0 up
	has_table users || fail "core was not applied"
	assert_eq "$(ledger | tr '\n' ' ')" "core/1 core/2 " "ledger"
}

test_down_rolls_back_one_module_only() {
	new_db
	example_tree
	write_config 'modules:' '  catalog: {}'
	expect_status 0 up
	expect_status 0 down --module catalog
	assert_contains "$OUT" "rolled back catalog/002_create_reviews"
	has_table reviews && fail "reviews still there"
	has_table products || fail "catalog/1 was rolled back too"
	assert_eq "$(ledger | tr '\n' ' ')" "catalog/1 core/1 core/2 " "ledger"
	expect_status 0 down --module catalog --steps 5
	assert_contains "$OUT" "rolled back catalog/001_create_catalog"
	assert_eq "$(ledger | tr '\n' ' ')" "core/1 core/2 " "ledger"
	has_table users || fail "core was touched"
	expect_status 0 down --module catalog
	assert_contains "$OUT" "nothing to roll back"
}

test_down_dry_run_changes_nothing() {
	new_db
	example_tree
	write_config 'modules:' '  catalog: {}'
	expect_status 0 up
	expect_status 0 down --module catalog --steps 2 --dry-run
	assert_contains "$OUT" "would roll back catalog/002_create_reviews"
	assert_contains "$OUT" "would roll back catalog/001_create_catalog"
	assert_eq "$(ledger | wc -l)" "4" "ledger rows"
}

test_down_needs_module_and_a_down_file() {
	new_db
	migration core 001_a.up.sql "CREATE TABLE a (id int);"
	write_config
	expect_status 2 down
	assert_contains "$ERR" "needs --module"
	expect_status 0 up
	expect_status 2 down --module core
	assert_contains "$ERR" "no .down.sql"
	has_table a || fail "table dropped"
	expect_status 2 down --module nosuch
	assert_contains "$ERR" "module 'nosuch' is not enabled"
}

test_failure_is_rolled_back_and_not_recorded() {
	new_db
	migration core 001_ok.up.sql "CREATE TABLE ok1 (id int);"
	migration core 002_bad.up.sql "$(printf -- '-- creates then fails\nCREATE TABLE half (id int);\n\nINSERT INTO half\n  VALUES (1 / 0);\n')"
	migration core 003_after.up.sql "CREATE TABLE after3 (id int);"
	write_config
	expect_status 1 up
	assert_one_line "$ERR"
	assert_contains "$ERR" "core/2 failed: division by zero"
	assert_contains "$ERR" "SQLSTATE 22012"
	assert_contains "$ERR" "migrations/postgres/core/002_bad.up.sql:4)"
	assert_contains "$OUT" "applied core/001_ok"
	has_table half && fail "failed migration left its table"
	has_table after3 && fail "ran past the failure"
	assert_eq "$(ledger | tr '\n' ' ')" "core/1 " "ledger"
}

test_syntax_error_names_statement_line() {
	new_db
	migration core 001_a.up.sql "$(printf 'CREATE TABLE a (id int);\n\nCREATE TABLE b (\n  id int,\n  x nosuchtype\n);')"
	write_config
	expect_status 1 up
	assert_contains "$ERR" 'type "nosuchtype" does not exist'
	assert_contains "$ERR" "SQLSTATE 42704"
	assert_contains "$ERR" "at line 5"
	assert_contains "$ERR" "001_a.up.sql:3)"
	has_table a && fail "first statement of the failed file survived"
	return 0
}

test_check_before_and_after_up() {
	new_db
	example_tree
	write_config
	expect_status 3 check
	assert_one_line "$ERR"
	assert_contains "$ERR" "migrate: core schema not applied — run 'migrate up'"
	expect_status 0 up
	expect_status 0 check
	assert_contains "$OUT" "core schema applied (version 2)"
	# the ledger exists but core was rolled back to nothing
	expect_status 0 down --module core --steps 2
	expect_status 3 check
	assert_contains "$ERR" "core schema not applied"
}

# What `check` reads is core's highest clean and highest dirty version and nothing else:
# a role allowed to read only (module, version, dirty) of the ledger, and to create
# nothing, passes the check (so it takes no lock, prepares no table and reads no other
# column), while every row of core still counts — a dirty version below a clean head
# fails it, and so does the library's mig_quick_check.
test_check_reads_only_what_it_decides_on() {
	new_db
	migration core 001_a.up.sql "CREATE TABLE a (id int);"
	migration core 002_b.up.sql "CREATE TABLE b (id int);"
	migration core 003_c.up.sql "CREATE TABLE c (id int);"
	migration catalog 001_x.up.sql "CREATE TABLE x (id int);"
	write_config 'modules:' '  catalog: {}'
	expect_status 0 up
	local probe=${DB}_probe app owner_dsn=$DSN
	app=$(dirname "$MIGRATE_BIN")/app_startup
	[ -x "$app" ] || fail "example program not built at $app"
	sql "CREATE ROLE $probe LOGIN PASSWORD '$PG_PASSWORD'" >/dev/null
	sql "GRANT SELECT (module, version, dirty) ON schema_migrations TO $probe" >/dev/null
	DSN="postgres://$probe:$PG_PASSWORD@127.0.0.1:$MIGRATE_PG_PORT/$DB"
	write_config 'modules:' '  catalog: {}'
	expect_status 0 check
	assert_contains "$OUT" "core schema applied (version 3)"
	"$app" "$DSN" >app.out 2>app.err || fail "app refused with three columns readable: $(cat app.err)"
	# the grant bites: a command that reads the whole ledger is refused for that role
	expect_status 1 status
	assert_contains "$ERR" "permission denied"
	# a dirty version under a clean head is still dirty
	sql "UPDATE schema_migrations SET dirty = true WHERE module = 'core' AND version = 2" >/dev/null
	expect_status 3 check
	assert_one_line "$ERR"
	assert_contains "$ERR" "migrate: core schema is dirty at version 2 — repair it and run 'migrate resolve'"
	if "$app" "$DSN" >app.out 2>app.err; then fail "app started on a dirty core"; fi
	assert_contains app.err "core schema is dirty at version 2"
	# another module's dirty mark is not core's
	sql "UPDATE schema_migrations SET dirty = (module = 'catalog')" >/dev/null
	expect_status 0 check
	assert_contains "$OUT" "core schema applied (version 3)"
	# a gap below the head is for status to report: check is the core-applied rule
	sql "DELETE FROM schema_migrations WHERE module = 'core' AND version = 2" >/dev/null
	expect_status 0 check
	assert_contains "$OUT" "core schema applied (version 3)"
	# another module's rows do not stand in for core's
	sql "DELETE FROM schema_migrations WHERE module = 'core'" >/dev/null
	expect_status 3 check
	assert_contains "$ERR" "migrate: core schema not applied — run 'migrate up'"
	# and without the ledger at all
	sql "DROP TABLE schema_migrations" >/dev/null
	expect_status 3 check
	assert_contains "$ERR" "migrate: core schema not applied — run 'migrate up'"
	DSN=$owner_dsn
	sql "DROP OWNED BY $probe; DROP ROLE $probe" >/dev/null
}

test_status_shows_applied_latest_pending() {
	new_db
	example_tree
	write_config 'modules:' '  catalog: {}'
	expect_status 0 status
	assert_contains "$OUT" "schema_migrations does not exist yet"
	has_table schema_migrations && fail "status created the ledger"
	expect_status 0 up --module core
	expect_status 0 status
	grep -qE '^core +2 +2 +0 +up to date' "$OUT" || fail "core row: $(cat "$OUT")"
	grep -qE '^catalog +- +2 +2 +pending' "$OUT" || fail "catalog row: $(cat "$OUT")"
	expect_status 0 status --format json
	/usr/bin/python3 - "$OUT" <<'PY' || fail "json status shape"
import json, sys
doc = json.load(open(sys.argv[1]))
mods = {m["module"]: m for m in doc["postgres"]["modules"]}
assert doc["postgres"]["ledger_exists"] is True
assert mods["core"]["applied"] == 2 and mods["core"]["pending"] == 0, mods
assert mods["catalog"]["applied"] == 0 and mods["catalog"]["pending"] == 2, mods
assert mods["catalog"]["state"] == "pending"
PY
}

test_status_reports_missing_file() {
	new_db
	migration core 001_a.up.sql "CREATE TABLE a (id int);"
	migration core 002_b.up.sql "CREATE TABLE b (id int);"
	write_config
	expect_status 0 up
	rm migrations/postgres/core/002_b.up.sql
	expect_status 0 status
	assert_contains "$OUT" "1 applied file missing (first 2)"
}

test_up_dry_run_changes_nothing() {
	new_db
	example_tree
	write_config
	expect_status 0 up --dry-run
	assert_contains "$OUT" "would apply core/001_create_users"
	has_table schema_migrations && fail "dry run created the ledger"
	expect_status 0 up --dry-run --format json
	/usr/bin/python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert d["dry_run"] and d["migrations"][0]["module"]=="core" and d["migrations"][0]["version"]==1' "$OUT" || fail "json plan"
	has_table users && fail "dry run applied"
	return 0
}

test_up_single_module() {
	new_db
	example_tree
	write_config 'modules:' '  catalog: {}'
	expect_status 0 up --module core
	assert_eq "$(ledger | tr '\n' ' ')" "core/1 core/2 " "ledger"
	expect_status 2 up --module wishlist
	assert_contains "$ERR" "module 'wishlist' is not enabled"
}

test_app_config_and_config_flag() {
	new_db
	example_tree
	mkdir etc
	write_config
	mv config.yaml etc/app.yaml
	APP_CONFIG=etc/app.yaml expect_status 0 up --module core
	assert_contains "$OUT" "applied core/001_create_users"
	# --config wins over APP_CONFIG
	APP_CONFIG=etc/nope.yaml expect_status 0 status --config etc/app.yaml
	APP_CONFIG=etc/nope.yaml expect_status 2 status
	assert_contains "$ERR" "cannot read config file 'etc/nope.yaml'"
	# without either, ./config.yaml
	expect_status 2 status
	assert_contains "$ERR" "'config.yaml'"
}

test_root_flag_and_root_key() {
	new_db
	mkdir -p elsewhere/tree/postgres/core conf
	printf 'CREATE TABLE r (id int);\n' >elsewhere/tree/postgres/core/001_r.up.sql
	write_config
	expect_status 2 up
	assert_contains "$ERR" "cannot read migrations root 'migrations'"
	expect_status 0 up --root elsewhere/tree
	has_table r || fail "--root tree not applied"
	# root: in the config is relative to the config file (a second, empty database: the
	# first already holds r)
	new_db second
	has_table r && fail "the second database is not empty"
	write_config 'root: ../elsewhere/tree'
	mv config.yaml conf/config.yaml
	expect_status 0 up --config conf/config.yaml
	has_table r || fail "root: tree not applied"
}

test_config_errors_exit_2_before_connecting() {
	# the DSN points nowhere: only a check made before connecting gives exit 2
	mkdir -p migrations/postgres/core
	printf 'postgres:\n  dsn: "postgres://app:pw@127.0.0.1:1/none"\nmodules:\n  catalog: { enabled: maybe }\n' >config.yaml
	expect_status 2 up
	assert_one_line "$ERR"
	assert_contains "$ERR" "'modules.catalog.enabled' must be true or false, not 'maybe' (config.yaml:4)"
	printf 'postgres:\n  dsn: "x"\n  colour: blue\n' >config.yaml
	expect_status 2 status
	assert_contains "$ERR" "unknown key 'postgres.colour' (config.yaml:3)"
	printf 'postgres:\n  dsn: "${NO_SUCH_VAR_X}"\n' >config.yaml
	expect_status 2 up
	assert_contains "$ERR" "environment variable 'NO_SUCH_VAR_X' is not set"
	printf 'postgres: [\n' >config.yaml
	expect_status 2 up
	assert_contains "$ERR" "(config.yaml:"
	printf 'mongodb:\n  uri: "mongodb://x"\n  database: app\n' >config.yaml
	expect_status 2 up
	assert_contains "$ERR" "needs a 'postgres:' section"
}

test_layout_errors_exit_2_and_change_nothing() {
	new_db
	write_config
	migration core 001_a.up.sql "CREATE TABLE a (id int);"
	migration core 1_b.up.sql "CREATE TABLE b (id int);"
	expect_status 2 up
	assert_contains "$ERR" "duplicate version 1 in module 'core'"
	assert_contains "$ERR" "001_a.up.sql"
	assert_contains "$ERR" "1_b.up.sql"
	rm migrations/postgres/core/1_b.up.sql
	migration core 002_c.down.sql "DROP TABLE c;"
	expect_status 2 up
	assert_contains "$ERR" "002_c.down.sql' has no matching .up.sql"
	rm migrations/postgres/core/002_c.down.sql
	migration core 3-oops.up.sql "SELECT 1;"
	expect_status 2 up
	assert_contains "$ERR" "bad migration file name"
	assert_contains "$ERR" "3-oops.up.sql"
	rm migrations/postgres/core/3-oops.up.sql
	mkdir -p migrations/postgres/Bad-Module
	expect_status 2 up
	assert_contains "$ERR" "bad module directory name"
	has_table schema_migrations && fail "a layout error changed the database"
	return 0
}

test_usage_errors_exit_2() {
	expect_status 2 frobnicate
	assert_contains "$ERR" "unknown command 'frobnicate'"
	expect_status 2 stauts
	assert_contains "$ERR" "did you mean 'status'?"
	expect_status 2 up --bogus
	assert_contains "$ERR" "unknown option '--bogus'"
	expect_status 2 down --module core --steps 0
	assert_contains "$ERR" "--steps takes a whole number"
	expect_status 2 down --module
	assert_contains "$ERR" "needs a value"
	expect_status 2 up extra
	assert_contains "$ERR" "unexpected argument 'extra'"
	expect_status 2 status --format xml
	assert_contains "$ERR" "--format takes text or json"
}

test_help_and_version_need_no_config() {
	expect_status 0 --version
	assert_contains "$OUT" "migrate "
	expect_status 0 help
	assert_contains "$OUT" "Commands:"
	expect_status 0 help down
	assert_contains "$OUT" "usage: migrate down --module M"
	assert_contains "$OUT" "--steps N"
	for cmd in up down status check resolve; do
		expect_status 0 "$cmd" --help
		assert_contains "$OUT" "usage: migrate $cmd"
		assert_contains "$OUT" "Example:"
	done
}

test_unreachable_server_exits_1_without_password() {
	mkdir -p migrations/postgres/core
	printf 'postgres:\n  dsn: "postgres://app:Hunter2-Secret@127.0.0.1:1/app?connect_timeout=3"\n' >config.yaml
	expect_status 1 up
	assert_one_line "$ERR"
	assert_contains "$ERR" "cannot connect to PostgreSQL"
	assert_not_contains "$ERR" "Hunter2-Secret"
}

test_wrong_password_exits_1_without_password() {
	new_db
	mkdir -p migrations/postgres/core
	printf 'postgres:\n  dsn: "host=127.0.0.1 port=%s dbname=%s user=app password=Wr0ngPass-Word"\n' "$MIGRATE_PG_PORT" "$DB" >config.yaml
	expect_status 1 status
	assert_contains "$ERR" "password authentication failed"
	assert_not_contains "$ERR" "Wr0ngPass-Word"
	assert_not_contains "$OUT" "Wr0ngPass-Word"
}

test_out_of_order_refused_then_allowed() {
	new_db
	migration core 001_a.up.sql "CREATE TABLE a (id int);"
	migration core 003_c.up.sql "CREATE TABLE c (id int);"
	write_config
	expect_status 0 up
	migration core 002_b.up.sql "CREATE TABLE b (id int);"
	expect_status 2 up
	assert_contains "$ERR" "core/2 is pending but core/3 is already applied"
	assert_contains "$ERR" "--allow-out-of-order"
	has_table b && fail "out-of-order version applied without the flag"
	expect_status 0 up --allow-out-of-order
	has_table b || fail "not applied with the flag"
}

test_no_transaction_file_runs_create_index_concurrently() {
	new_db
	migration core 001_t.up.sql "CREATE TABLE t (id int, v text);"
	migration core 002_idx.up.sql "$(printf -- '-- migrate:run-in-tx false\nCREATE INDEX CONCURRENTLY t_v_idx ON t (v);\n')"
	migration core 002_idx.down.sql "$(printf -- '-- migrate:run-in-tx false\nDROP INDEX CONCURRENTLY t_v_idx;\n')"
	write_config
	expect_status 0 up
	has_table t_v_idx || fail "index not created"
	assert_eq "$(sql "SELECT dirty FROM schema_migrations WHERE version = 2")" "f" "dirty flag"
	expect_status 0 down --module core
	has_table t_v_idx && fail "index not dropped"
	assert_eq "$(ledger | tr '\n' ' ')" "core/1 " "ledger"
}

# A file that SETs search_path or role for the session: its ledger row and tracked objects
# are still written (the ledger's statements are unqualified), and the next file starts
# from the connection's search_path and role, in one run as in separate runs.
test_session_set_in_a_file_stays_in_that_file() {
	new_db
	sql "CREATE ROLE ${DB}_owner; GRANT ${DB}_owner TO app" >/dev/null
	migration core 001_other.up.sql "$(printf 'CREATE SCHEMA other;\nGRANT ALL ON SCHEMA other TO %s_owner;\nSET search_path TO other;\nSET ROLE %s_owner;\nCREATE TABLE x (a int);\n' "$DB" "$DB")"
	migration core 002_y.up.sql "CREATE TABLE y (a int);"
	migration core 003_z.up.sql "$(printf -- '-- migrate:run-in-tx false\nSET search_path TO other;\nCREATE TABLE z (a int);\n')"
	migration core 004_w.up.sql "CREATE TABLE w (a int);"
	write_config
	expect_status 0 up
	assert_eq "$(ledger | tr '\n' ' ')" "core/1 core/2 core/3 core/4 " "ledger"
	assert_eq "$(sql "SELECT tableowner FROM pg_tables WHERE schemaname = 'other' AND tablename = 'x'")" "${DB}_owner" "x made as the role"
	has_table public.y || fail "y not in the connection's schema (the file's search_path leaked)"
	assert_eq "$(sql "SELECT tableowner FROM pg_tables WHERE tablename = 'y'")" "app" "y made as the login role"
	has_table other.z || fail "z not in the schema its file chose"
	has_table public.w || fail "w not in the connection's schema"
	assert_eq "$(sql "SELECT string_agg(schema || '.' || name, ' ' ORDER BY version) FROM schema_migrations_objects WHERE kind = 'table'")" "other.x public.y other.z public.w" "tracked"
	expect_status 0 verify
	# the script for review does the same, in a second database
	DB=${DB}_script
	pg_admin -d postgres -c "CREATE DATABASE $DB OWNER app" >/dev/null
	DSN="postgres://app:$PG_PASSWORD@127.0.0.1:$MIGRATE_PG_PORT/$DB"
	write_config
	expect_status 0 up --dry-run --sql
	assert_eq "$(grep -c '^RESET search_path;$' "$OUT")" "4" "resets in the script"
	pg_admin -d "$DB" -v ON_ERROR_STOP=1 -f "$OUT" >/dev/null 2>psql.err || fail "script failed: $(cat psql.err)"
	assert_eq "$(ledger | tr '\n' ' ')" "core/1 core/2 core/3 core/4 " "ledger from the script"
	has_table public.y || fail "y not in the connection's schema (script)"
}

# The session prepares its tracking and ledger commands once; a file that throws them
# away (DEALLOCATE, also as dynamic SQL, or DISCARD ALL outside a transaction) does not
# break itself or the files after it, up or down, and the files after a DISCARD ALL
# still run under the migration lock.
test_a_file_that_deallocates_does_not_break_the_next() {
	new_db
	migration core 001_t.up.sql "CREATE TABLE t (a int);"
	migration core 002_deallocate.up.sql "DEALLOCATE ALL;"
	migration core 003_u.up.sql "CREATE TABLE u (a int);"
	migration core 003_u.down.sql "DROP TABLE u;"
	migration core 004_dynamic.up.sql 'DO $$ BEGIN EXECUTE $q$DEALLOCATE ALL$q$; END $$; CREATE TABLE v (a int);'
	migration core 004_dynamic.down.sql 'DEALLOCATE ALL; DROP TABLE v;'
	migration core 005_discard.up.sql "$(printf -- '-- migrate:run-in-tx false\nDISCARD ALL;\n')"
	migration core 005_discard.down.sql "-- nothing to undo"
	# DISCARD ALL released the migration lock: the files after it run under it again
	migration core 006_w.up.sql 'CREATE TABLE w (a int); DO $$ BEGIN IF NOT EXISTS (SELECT 1 FROM pg_locks WHERE locktype = $t$advisory$t$ AND pid = pg_backend_pid() AND granted) THEN RAISE EXCEPTION $t$the migration lock is not held$t$; END IF; END $$;'
	migration core 006_w.down.sql "DROP TABLE w;"
	write_config
	expect_status 0 up
	assert_eq "$(ledger | tr '\n' ' ')" "core/1 core/2 core/3 core/4 core/5 core/6 " "ledger"
	assert_eq "$(sql "SELECT string_agg(name, ' ' ORDER BY version) FROM schema_migrations_objects")" "t u v w" "tracked"
	expect_status 0 verify
	expect_status 0 down --module core --steps 4
	assert_eq "$(ledger | tr '\n' ' ')" "core/1 core/2 " "ledger after down"
	expect_status 0 up
	expect_status 0 verify
}

test_failed_no_transaction_file_makes_module_dirty_until_resolved() {
	new_db
	migration core 001_t.up.sql "CREATE TABLE t (id int);"
	migration core 002_x.up.sql "$(printf -- '-- migrate:run-in-tx false\nCREATE TABLE x1 (id int);\nCREATE TABLE x1 (id int);\n')"
	migration core 003_y.up.sql "CREATE TABLE y (id int);"
	write_config
	expect_status 1 up
	assert_contains "$ERR" "module 'core' is now dirty"
	assert_contains "$ERR" "002_x.up.sql:3)"
	assert_eq "$(sql "SELECT dirty FROM schema_migrations WHERE version = 2")" "t" "dirty flag"
	has_table y && fail "ran past a failure"
	expect_status 0 status
	assert_contains "$OUT" "dirty at 2"
	expect_status 1 up
	assert_contains "$ERR" "module 'core' is dirty"
	assert_contains "$ERR" "migrate resolve --module core --version 2"
	expect_status 1 down --module core
	assert_contains "$ERR" "is dirty"
	# repaired by hand: the table exists, so record it as applied
	expect_status 0 resolve --module core --version 2 --applied
	assert_eq "$(sql "SELECT dirty FROM schema_migrations WHERE version = 2")" "f" "dirty flag"
	expect_status 0 up
	has_table y || fail "up did not continue after resolve"
}

test_resolve_rolled_back_and_argument_errors() {
	new_db
	migration core 001_a.up.sql "CREATE TABLE a (id int);"
	write_config
	expect_status 0 up
	expect_status 2 resolve --module core --version 1
	assert_contains "$ERR" "exactly one of --applied and --rolled-back"
	expect_status 2 resolve --module core --applied
	assert_contains "$ERR" "needs --version"
	expect_status 2 resolve --module core --version 7 --applied
	assert_contains "$ERR" "there is no core/7"
	expect_status 0 resolve --module core --version 1 --rolled-back
	assert_eq "$(ledger)" "" "ledger"
	has_table a || fail "resolve ran SQL"
	expect_status 2 resolve --module core --version 1 --rolled-back
	assert_contains "$ERR" "not recorded"
}

test_lock_wait_gives_up_naming_the_holder() {
	new_db
	migration core 001_a.up.sql "CREATE TABLE a (id int);"
	write_config
	sed -i 's/lock_wait: 30s/lock_wait: 1s/' config.yaml
	# hold the migrate lock from another session for a few seconds
	pg_admin -d "$DB" -c "SELECT pg_advisory_lock(7883936066298981), pg_sleep(6)" >/dev/null &
	local holder=$!
	for _ in $(seq 50); do
		[ "$(sql "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted")" = 1 ] && break
		sleep 0.1
	done
	# exit 4: busy, not broken (a Job may retry)
	expect_status 4 up
	assert_contains "$ERR" "another migrate run holds the lock (PID "
	assert_contains "$ERR" "gave up after 1000 ms"
	has_table a && fail "applied without the lock"
	wait "$holder"
	expect_status 0 up
}

test_lock_waits_for_a_slow_run_then_proceeds() {
	new_db
	migration core 001_slow.up.sql "SELECT pg_sleep(2); CREATE TABLE slow (id int);"
	migration core 002_next.up.sql "CREATE TABLE next2 (id int);"
	write_config
	"$MIGRATE_BIN" up >slow.out 2>slow.err &
	local first=$!
	sleep 0.5
	expect_status 0 up
	wait "$first" || fail "first run failed: $(cat slow.err)"
	assert_contains slow.out "applied core/001_slow"
	assert_contains "$OUT" "nothing to apply"
}

test_concurrent_runs_apply_each_version_once() {
	new_db
	for i in $(seq -w 1 300); do
		migration core "${i}_m.up.sql" "CREATE TABLE m$i (id int); INSERT INTO m$i VALUES ($i);"
	done
	write_config
	ten_ups_at_once
	assert_eq "$(sql "SELECT count(*), count(DISTINCT version) FROM schema_migrations")" "300|300" "ledger rows"
	assert_eq "$(sql "SELECT count(*) FROM pg_tables WHERE tablename LIKE 'm%'")" "300" "tables"
}

test_verify_reports_an_edited_applied_file() {
	new_db
	example_tree
	write_config
	expect_status 0 up
	expect_status 0 verify
	assert_contains "$OUT" "verify: ok (2 applied migrations checked)"
	printf -- '-- edited after it ran\n' >>migrations/postgres/core/002_create_tokens.up.sql
	expect_status 3 verify
	assert_contains "$OUT" "changed  postgres core/2: 'migrations/postgres/core/002_create_tokens.up.sql' differs"
	assert_contains "$ERR" "verify found 1 problem"
	expect_status 0 status
	rm migrations/postgres/core/002_create_tokens.up.sql migrations/postgres/core/002_create_tokens.down.sql
	expect_status 3 verify
	assert_contains "$OUT" "missing  postgres core/2: applied, but its file is gone"
}

test_verify_names_each_dropped_object_but_not_later_drops() {
	new_db
	migration core 001_objects.up.sql "$(cat <<'SQL'
CREATE TABLE t (id int PRIMARY KEY, v text);
CREATE INDEX t_v_idx ON t (v);
CREATE VIEW t_view AS SELECT id FROM t;
CREATE MATERIALIZED VIEW t_mat AS SELECT id FROM t;
CREATE SEQUENCE counter;
CREATE TYPE mood AS ENUM ('ok', 'meh');
CREATE FUNCTION twice(x int) RETURNS int LANGUAGE sql AS $$ SELECT 2 * x $$;
CREATE TABLE scratch (id int);
CREATE TABLE renamed_later (id int);
SQL
)"
	migration core 002_cleanup.up.sql "DROP TABLE scratch; ALTER TABLE renamed_later RENAME TO renamed_now;"
	write_config
	expect_status 0 up
	expect_status 0 verify
	assert_eq "$(sql "SELECT count(*) FROM schema_migrations_objects WHERE dropped_version IS NULL")" "9" "tracked objects"
	assert_eq "$(sql "SELECT dropped_version FROM schema_migrations_objects WHERE name = 'scratch'")" "2" "scratch dropped by"
	sql "DROP INDEX t_v_idx; DROP VIEW t_view; DROP FUNCTION twice(int); DROP TABLE renamed_now" >/dev/null
	expect_status 3 verify
	assert_contains "$OUT" "missing  postgres index public.t_v_idx (created by core/1)"
	assert_contains "$OUT" "missing  postgres view public.t_view (created by core/1)"
	assert_contains "$OUT" "missing  postgres function public.twice(x integer) (created by core/1)"
	# under the name it had when it went: tracking followed the rename
	assert_contains "$OUT" "missing  postgres table public.renamed_now (created by core/1)"
	assert_not_contains "$OUT" "scratch"
	assert_not_contains "$OUT" "t_mat"
	assert_contains "$ERR" "verify found 4 problems"
	sql "DROP TABLE t CASCADE" >/dev/null
	expect_status 3 verify --format json
	/usr/bin/python3 - "$OUT" <<'PY' || fail "json objects"
import json, sys
d = json.load(open(sys.argv[1]))
names = {(o["kind"], o["name"]) for o in d["postgres"]["objects"]}
assert ("table", "t") in names and ("materialized view", "t_mat") in names, names
assert d["ok"] is False
PY
}

test_verify_reports_an_invalid_index() {
	new_db
	migration core 001_t.up.sql "CREATE TABLE t (v text); INSERT INTO t VALUES ('a'), ('a');"
	migration core 002_idx.up.sql "$(printf -- '-- migrate:run-in-tx false\nCREATE UNIQUE INDEX CONCURRENTLY t_v_key ON t (v);\n')"
	write_config
	expect_status 1 up
	assert_contains "$ERR" "could not create unique index"
	expect_status 3 verify
	assert_contains "$OUT" "invalid  postgres index public.t_v_key"
	assert_contains "$OUT" "dirty    postgres core/2"
}

test_rollback_forgets_objects_and_undoes_drops() {
	new_db
	migration core 001_a.up.sql "CREATE TABLE keep (id int); CREATE TABLE dropped (id int);"
	migration core 001_a.down.sql "DROP TABLE keep; DROP TABLE dropped;"
	migration core 002_b.up.sql "DROP TABLE dropped; CREATE TABLE fresh (id int);"
	migration core 002_b.down.sql "DROP TABLE fresh; CREATE TABLE dropped (id int);"
	write_config
	expect_status 0 up
	expect_status 0 down --module core
	assert_eq "$(sql "SELECT count(*) FROM schema_migrations_objects WHERE version = 2")" "0" "objects of 2"
	assert_eq "$(sql "SELECT count(*) FROM schema_migrations_objects WHERE dropped_version IS NOT NULL")" "0" "drops"
	expect_status 0 verify
	expect_status 0 up
	expect_status 0 verify
}

test_example_app_refuses_to_start_until_migrated() {
	new_db
	example_tree
	write_config 'modules:' '  catalog: {}'
	local app
	app=$(dirname "$MIGRATE_BIN")/app_startup
	[ -x "$app" ] || fail "example program not built at $app"
	set +e
	"$app" "$DSN" >app.out 2>app.err
	local status=$?
	set -e
	assert_eq "$status" "1" "app exit before up"
	assert_contains app.err "app: refusing to start: core schema not applied — run 'migrate up'"
	assert_not_contains app.err "$PG_PASSWORD"
	expect_status 0 up --module core
	"$app" "$DSN" >app.out 2>app.err || fail "app refused after up: $(cat app.err)"
	assert_contains app.out "starting"
	# with the config it also sees catalog pending
	if "$app" --config config.yaml >app.out 2>app.err; then fail "app started with pending migrations"; fi
	assert_contains app.err "pending migrations exist: catalog (2)"
	expect_status 0 up
	"$app" --config config.yaml >app.out 2>app.err || fail "app refused after full up: $(cat app.err)"
}

# The library applies migrations in-process (examples/app_migrate.c, linked against the
# shared libmigrate): what ran, per migration, and the failure with SQLSTATE and line.
test_library_applies_migrations_in_process() {
	new_db
	example_tree
	write_config 'modules:' '  catalog: {}'
	local app
	app=$(dirname "$MIGRATE_BIN")/app_migrate
	[ -x "$app" ] || fail "example program not built at $app"
	"$app" config.yaml >app.out 2>app.err || fail "app_migrate failed: $(cat app.err)"
	assert_contains app.out "app: applied core/1 create_users"
	assert_contains app.out "app: applied catalog/2"
	assert_contains app.out "migration(s) applied, libmigrate"
	assert_eq "$(ledger | wc -l)" "4" "ledger rows after the library's up"
	expect_status 0 status
	# nothing pending: nothing runs
	"$app" config.yaml >app.out 2>app.err || fail "second run failed: $(cat app.err)"
	assert_contains app.out "app: 0 migration(s) applied"
	# a failing migration: its SQLSTATE and the line of the failing statement
	printf -- '-- a comment\nCREATE TABLE ok1 (a int);\nSELECT * FROM no_such_table;\n' >migrations/postgres/core/003_bad.up.sql
	set +e
	"$app" config.yaml >app.out 2>app.err
	local status=$?
	set -e
	assert_eq "$status" "1" "app exit on a failing migration"
	assert_contains app.out "core/3 failed at migrations/postgres/core/003_bad.up.sql:3, SQLSTATE 42P01"
	assert_contains app.err "refusing to start"
	assert_not_contains app.err "$PG_PASSWORD"
	has_table ok1 && fail "the failed migration left ok1 behind"
	return 0
}

test_create_writes_the_next_pair_keeping_padding() {
	new_db
	write_config
	mkdir -p migrations/postgres/core
	expect_status 0 create --module core init
	assert_contains "$OUT" "migrations/postgres/core/001_init.up.sql"
	[ -f migrations/postgres/core/001_init.down.sql ] || fail "no down file"
	printf 'CREATE TABLE c1 (id int);\n' >migrations/postgres/core/0007_seven.up.sql
	expect_status 0 create --module core next-one
	[ -f migrations/postgres/core/0008_next-one.up.sql ] || fail "padding not kept: $(ls migrations/postgres/core)"
	expect_status 0 create --module billing first
	[ -f migrations/postgres/billing/001_first.up.sql ] || fail "new module directory not created"
	printf -- '-- x\n' >migrations/postgres/billing/20240101000000_stamp.up.sql
	expect_status 0 create --module billing later
	ls migrations/postgres/billing | grep -qE '^20[0-9]{12}_later\.up\.sql$' || fail "timestamp version: $(ls migrations/postgres/billing)"
	expect_status 2 create --module core 'bad name'
	assert_contains "$ERR" "bad migration name 'bad name'"
	expect_status 2 create --module Core x
	assert_contains "$ERR" "bad module name 'Core'"
	expect_status 2 create --module core
	assert_contains "$ERR" "needs one NAME"
	# the created pair is a valid migration
	expect_status 0 up --module core
}

test_requires_orders_modules_and_guards_down() {
	new_db
	migration core 001_users.up.sql "CREATE TABLE users (id int PRIMARY KEY);"
	migration billing 001_invoices.up.sql "CREATE TABLE invoices (id int, product int REFERENCES products (id));"
	migration billing 001_invoices.down.sql "DROP TABLE invoices;"
	migration catalog 001_products.up.sql "CREATE TABLE products (id int PRIMARY KEY);"
	migration catalog 001_products.down.sql "DROP TABLE products;"
	# billing is listed first but requires catalog: it must run after it
	write_config 'modules:' '  billing: { requires: [catalog] }' '  catalog: {}'
	expect_status 0 up
	assert_eq "$(grep -o '^applied [a-z]*' "$OUT" | tr '\n' ' ')" "applied core applied catalog applied billing " "order"
	expect_status 2 down --module catalog
	assert_contains "$ERR" "cannot roll back module 'catalog': module 'billing' requires it"
	has_table products || fail "catalog rolled back"
	expect_status 0 down --module billing
	expect_status 0 down --module catalog
	write_config 'modules:' '  billing: { requires: [catalog] }' '  catalog: { requires: [billing] }'
	expect_status 2 up
	assert_contains "$ERR" "modules require each other"
	assert_contains "$ERR" "billing"
	write_config 'modules:' '  billing: { requires: [catalog] }' '  catalog: { enabled: false }'
	expect_status 2 up
	assert_contains "$ERR" "module 'billing' requires disabled module 'catalog'"
	write_config 'modules:' '  billing: { requires: [nosuch] }'
	expect_status 2 status
	assert_contains "$ERR" "requires unknown module 'nosuch'"
}

test_concurrent_runs_through_pgbouncer_with_table_lock() {
	new_db
	for i in $(seq -w 1 300); do
		migration core "${i}_m.up.sql" "CREATE TABLE m$i (id int); INSERT INTO m$i VALUES ($i);"
	done
	migration core 301_idx.up.sql "$(printf -- '-- migrate:run-in-tx false\nCREATE INDEX CONCURRENTLY m001_idx ON m001 (id);\n')"
	start_pgbouncer || fail "pgbouncer did not start"
	trap stop_pgbouncer EXIT
	printf 'postgres:\n  dsn: "postgres://app:%s@127.0.0.1:%s/%s"\n  lock: table\n  lock_wait: 120s\n' \
		"$PG_PASSWORD" "$PGBOUNCER_PORT" "$DB" >config.yaml
	ten_ups_at_once
	assert_eq "$(sql "SELECT count(*), count(DISTINCT version) FROM schema_migrations")" "301|301" "ledger rows"
	assert_eq "$(sql "SELECT count(*) FROM pg_tables WHERE tablename ~ '^m[0-9]+$'")" "300" "tables"
	assert_eq "$(sql "SELECT count(*) FROM schema_migrations_lock")" "0" "lock released"
	expect_status 0 verify
}

test_table_lock_gives_up_naming_the_holder() {
	new_db
	migration core 001_a.up.sql "CREATE TABLE a (id int);"
	write_config '  lock: table'
	sed -i 's/lock_wait: 30s/lock_wait: 1s/' config.yaml
	expect_status 0 up
	migration core 002_b.up.sql "CREATE TABLE b (id int);"
	sql "INSERT INTO schema_migrations_lock (id, holder, host, expires_at) VALUES (1, '4242:abc', 'deployhost', now() + interval '1 hour')" >/dev/null
	expect_status 4 up
	assert_contains "$ERR" "another migrate run holds the lock (PID 4242 on deployhost"
	has_table b && fail "applied without the lock"
	# an expired lease is taken over
	sql "UPDATE schema_migrations_lock SET expires_at = now() - interval '1 second'" >/dev/null
	expect_status 0 up
	has_table b || fail "not applied after the lease expired"
}

test_lock_timeout_fails_a_migration_stuck_behind_a_lock() {
	new_db
	migration core 001_t.up.sql "CREATE TABLE t (id int);"
	write_config '  lock_timeout: 500ms'
	expect_status 0 up
	migration core 002_alter.up.sql "ALTER TABLE t ADD COLUMN v text;"
	# another session holds a lock on t far longer than the test needs (ended below), so a
	# loaded machine cannot make "gave up early" look like "waited for the holder"
	pg_admin -d "$DB" -c "BEGIN; LOCK TABLE t IN ACCESS EXCLUSIVE MODE; SELECT pg_sleep(60); COMMIT;" >/dev/null 2>&1 &
	local holder=$!
	for _ in $(seq 50); do
		[ "$(sql "SELECT count(*) FROM pg_locks WHERE relation = 't'::regclass AND granted")" -ge 1 ] && break
		sleep 0.1
	done
	local start end
	start=$(date +%s)
	expect_status 1 up
	end=$(date +%s)
	assert_contains "$ERR" "lock timeout"
	assert_contains "$ERR" "SQLSTATE 55P03"
	[ $((end - start)) -lt 30 ] || fail "waited $((end - start)) s behind the lock"
	sql "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE query LIKE '%pg_sleep(60)%' AND pid <> pg_backend_pid()" >/dev/null
	wait "$holder" || true
	expect_status 0 up
}

test_killed_run_leaves_nothing_half_applied() {
	new_db
	migration core 001_a.up.sql "CREATE TABLE a (id int);"
	migration core 002_slow.up.sql "CREATE TABLE half (id int); INSERT INTO half VALUES (1); SELECT pg_sleep(30); CREATE TABLE never (id int);"
	migration core 003_c.up.sql "CREATE TABLE c (id int);"
	write_config
	"$MIGRATE_BIN" up >run.out 2>run.err &
	local pid=$!
	for _ in $(seq 100); do
		[ "$(sql "SELECT count(*) FROM pg_stat_activity WHERE query LIKE 'SELECT pg_sleep(30)%'")" = 1 ] && break
		sleep 0.1
	done
	kill -KILL "$pid"
	wait "$pid" 2>/dev/null || true
	# the server notices the dead client and rolls its transaction back
	for _ in $(seq 100); do
		[ "$(sql "SELECT count(*) FROM pg_stat_activity WHERE query LIKE 'SELECT pg_sleep(30)%'")" = 0 ] && break
		sql "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'migrate' AND datname = current_database()" >/dev/null
		sleep 0.1
	done
	assert_eq "$(ledger | tr '\n' ' ')" "core/1 " "ledger after the kill"
	has_table half && fail "half-applied migration left its table"
	expect_status 0 up
	has_table never || fail "the next run did not finish"
	assert_eq "$(ledger | tr '\n' ' ')" "core/1 core/2 core/3 " "ledger"
}

test_colour_only_on_a_terminal_and_never_with_no_color() {
	new_db
	migration core 001_a.up.sql "CREATE TABLE a (id int);"
	migration core 001_a.down.sql "DROP TABLE a;"
	migration core 002_b.up.sql "CREATE TABLE b (id int);"
	migration core 002_b.down.sql "DROP TABLE b;"
	write_config
	# script(1) gives migrate a terminal
	script -qec "'$MIGRATE_BIN' up --module core" /dev/null </dev/null >tty.out 2>&1 || fail "up on a tty failed: $(cat tty.out)"
	grep -q $'\033\[32mapplied' tty.out || fail "no colour on a terminal: $(cat -v tty.out)"
	expect_status 0 down --module core --steps 2
	NO_COLOR=1 script -qec "'$MIGRATE_BIN' up" /dev/null </dev/null >tty.out 2>&1 || fail "up failed"
	grep -q $'\033\[3' tty.out && fail "colour despite NO_COLOR: $(cat -v tty.out)"
	assert_contains tty.out "applied core/002_b"
	# a pipe gets no escapes at all
	expect_status 0 down --module core
	expect_status 0 up
	grep -q $'\033' "$OUT" && fail "escape codes in piped output"
	return 0
}

test_verbose_prints_the_sql_and_quiet_prints_nothing() {
	new_db
	migration core 001_a.up.sql "CREATE TABLE verbose_a (id int);"
	migration core 001_a.down.sql "DROP TABLE verbose_a;"
	write_config
	expect_status 0 up -v
	assert_contains "$OUT" "-- migrations/postgres/core/001_a.up.sql"
	assert_contains "$OUT" "CREATE TABLE verbose_a (id int);"
	assert_contains "$OUT" "applied core/001_a"
	expect_status 0 down --module core -q
	assert_eq "$(cat "$OUT")" "" "quiet output"
}

# `up --module M --to V`: a module brought to a known version, as golang-migrate's goto
# and Flyway's target do; up never rolls back
test_up_to_a_version() {
	new_db
	local v
	for v in 1 2 3 4; do
		migration core "00${v}_t$v.up.sql" "CREATE TABLE t$v (id int);"
	done
	migration app 001_a.up.sql "CREATE TABLE a (id int);"
	write_config 'modules:' '  app: {}'
	expect_status 0 up --module core --to 2 --dry-run
	assert_contains "$OUT" "would apply core/002_t2"
	assert_not_contains "$OUT" "core/003_t3"
	expect_status 0 up --module core --to 2
	assert_eq "$(ledger | tr '\n' ' ')" "core/1 core/2 " "ledger"
	has_table t3 && fail "t3 applied"
	expect_status 0 up --module core --to 2
	assert_contains "$OUT" "nothing to apply: module 'core' is at version 2 or past it"
	expect_status 0 up --module core --to 1
	assert_contains "$OUT" "nothing to apply: module 'core' is at version 1 or past it"
	expect_status 0 status
	grep -qE '^core +2 +4 +2 +pending$' "$OUT" || fail "status: $(cat "$OUT")"
	expect_status 0 up --module core --to 3 --format json
	/usr/bin/python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert [(m["module"], m["version"]) for m in d["migrations"]] == [("core", 3)], d' "$OUT" ||
		fail "json run report"
	assert_eq "$(ledger | tr '\n' ' ')" "core/1 core/2 core/3 " "ledger"
	expect_status 0 up
	assert_eq "$(ledger | tr '\n' ' ')" "app/1 core/1 core/2 core/3 core/4 " "ledger"
}

test_up_to_refuses_what_it_cannot_do_and_changes_nothing() {
	new_db
	migration core 001_t1.up.sql "CREATE TABLE t1 (id int);"
	migration core 003_t3.up.sql "CREATE TABLE t3 (id int);"
	write_config
	expect_status 2 up --module core --to 2
	assert_one_line "$ERR"
	assert_eq "$(cat "$ERR")" "migrate: --to 2: module 'core' has no version 2 (its versions run from 1 to 3 in migrations/postgres/core)" "error"
	has_table schema_migrations && fail "the ledger was created"
	expect_status 2 up --to 1
	assert_one_line "$ERR"
	assert_contains "$ERR" "'up --to V' goes with --module M"
	expect_status 2 up --module core --to three
	assert_one_line "$ERR"
	assert_contains "$ERR" "--to takes a migration version number, not 'three'"
	expect_status 2 up --module nope --to 1
	assert_one_line "$ERR"
	# down --to refuses the same bad targets, and --steps beside it
	expect_status 2 down --module core --to 2
	assert_one_line "$ERR"
	assert_contains "$ERR" "module 'core' has no version 2"
	expect_status 2 down --module core --to 1 --steps 1
	assert_one_line "$ERR"
	assert_contains "$ERR" "takes --steps N or --to V, not both"
	has_table schema_migrations && fail "the ledger was created"
	return 0
}

run_tests

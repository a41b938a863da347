#!/usr/bin/env bash
# Integration tests of the production-rollout features against the throwaway PostgreSQL
# server: a lease that cannot lapse, lock-timeout retries, expand/contract phases, the
# reviewable SQL script, the JSON run report, baseline, and other tools' file names.
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../lib/harness.sh"
. "$here/../lib/postgres.sh"

# wait_for QUERY: polls (up to 10 s) until QUERY prints t
wait_for() {
	for _ in $(seq 100); do
		[ "$(sql "$1")" = "t" ] && return 0
		sleep 0.1
	done
	fail "timed out waiting for: $1"
}

test_lease_outlives_a_long_migration() {
	new_db
	migration core 001_slow.up.sql "CREATE TABLE slow (id int); SELECT pg_sleep(12);"
	migration core 002_after.up.sql "CREATE TABLE after_slow (id int);"
	write_config '  lock: table' '  lock_lease: 2s'
	"$MIGRATE_BIN" up -q >first.out 2>first.err &
	local first=$!
	wait_for "SELECT EXISTS (SELECT 1 FROM pg_stat_activity WHERE query LIKE '%pg_sleep(12)%' AND pid <> pg_backend_pid())"
	# well past the 2 s lease: a second run must still find it held
	sleep 3
	sed -i 's/lock_wait: 30s/lock_wait: 1s/' config.yaml
	expect_status 4 up
	assert_contains "$ERR" "another migrate run holds the lock"
	assert_eq "$(sql "SELECT count(*) FROM schema_migrations")" "0" "applied while the first ran"
	wait "$first" || fail "the first run failed: $(cat first.err)"
	assert_eq "$(ledger | tr '\n' ' ')" "core/1 core/2 " "ledger"
	assert_eq "$(sql "SELECT count(*) FROM schema_migrations_lock")" "0" "lease released"
	expect_status 0 up
	assert_contains "$OUT" "nothing to apply"
}

test_stolen_lease_stops_the_run() {
	new_db
	migration core 001_slow.up.sql "CREATE TABLE slow (id int); SELECT pg_sleep(8);"
	migration core 002_after.up.sql "CREATE TABLE after_slow (id int);"
	write_config '  lock: table' '  lock_lease: 2s'
	"$MIGRATE_BIN" up >run.out 2>run.err &
	local pid=$!
	wait_for "SELECT EXISTS (SELECT 1 FROM pg_stat_activity WHERE query LIKE '%pg_sleep(8)%' AND pid <> pg_backend_pid())"
	sql "UPDATE schema_migrations_lock SET holder = '999:thief'" >/dev/null
	local status=0
	wait "$pid" || status=$?
	assert_eq "$status" "1" "exit status"
	assert_contains run.err "lost the migration lock: another run took its lease"
	assert_one_line run.err
	has_table slow && fail "the interrupted migration was not rolled back"
	has_table after_slow && fail "the run went on after its lease was taken"
	assert_eq "$(sql "SELECT count(*) FROM schema_migrations")" "0" "ledger"
}
# hold_lock TABLE MODE: another session ("holder") holds a lock on TABLE until
# release_lock; returns once the lock is granted
hold_lock() {
	PGAPPNAME=holder pg_admin -d "$DB" -c "BEGIN; LOCK TABLE $1 IN $2 MODE; SELECT pg_sleep(120); COMMIT;" >/dev/null 2>&1 &
	HOLDER=$!
	wait_for "SELECT EXISTS (SELECT 1 FROM pg_locks WHERE relation = '$1'::regclass AND granted AND pid <> pg_backend_pid())"
}

release_lock() {
	sql "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'holder'" >/dev/null
	wait "$HOLDER" || true
}

# release_after_first_attempt QUERY_START: once a migrate session's statement starting
# with QUERY_START has waited behind the lock and given up (lock_timeout), releases the
# lock, so that a retry, and only a retry, can go through however slow the machine is
release_after_first_attempt() {
	wait_for "SELECT EXISTS (SELECT 1 FROM pg_stat_activity WHERE application_name = 'migrate' AND query LIKE '$1%' AND wait_event_type = 'Lock')"
	wait_for "SELECT NOT EXISTS (SELECT 1 FROM pg_stat_activity WHERE application_name = 'migrate' AND wait_event_type = 'Lock')"
	release_lock
}

# json_get FILTER: jq on the last run's stdout
json_get() {
	jq -r "$1" "$OUT"
}

test_lock_timeout_is_retried_and_reported() {
	new_db
	migration core 001_t.up.sql "CREATE TABLE t (id int);"
	write_config '  lock_timeout: 500ms' '  lock_retries: 5' '  lock_retry_backoff: 300ms'
	expect_status 0 up
	migration core 002_alter.up.sql "ALTER TABLE t ADD COLUMN v text;"
	hold_lock t "ACCESS SHARE"
	release_after_first_attempt "ALTER TABLE t ADD COLUMN v" &
	local releaser=$!
	expect_status 0 up --format json
	wait "$releaser"
	# said as it happens on stderr, as in text; stdout is the JSON document alone
	assert_contains "$ERR" "retrying core/2 after lock timeout (attempt 2/6, waiting "
	/usr/bin/python3 -c 'import json, sys; json.load(open(sys.argv[1]))' "$OUT" || fail "stdout is not one JSON document"
	assert_eq "$(json_get '.ok')" "true" "ok"
	assert_eq "$(json_get '.migrations[0].state')" "applied" "state"
	[ "$(json_get '.migrations[0].attempts')" -ge 2 ] || fail "attempts: $(cat "$OUT")"
	[ "$(json_get '.migrations[0].lock_wait_ms')" -gt 0 ] || fail "lock_wait_ms: $(cat "$OUT")"
	assert_eq "$(json_get '.files_executed')" "1" "files_executed"
	assert_eq "$(ledger | tr '\n' ' ')" "core/1 core/2 " "ledger"
	# the terminal reporter says each retry
	migration core 003_alter.up.sql "ALTER TABLE t ADD COLUMN w text;"
	hold_lock t "ACCESS SHARE"
	release_after_first_attempt "ALTER TABLE t ADD COLUMN w" &
	releaser=$!
	expect_status 0 up
	wait "$releaser"
	assert_contains "$OUT" "retrying core/3 after lock timeout (attempt 2/6, waiting "
	assert_contains "$OUT" "applied core/003_alter"
}

# Two migrate processes: the second finds the lock held for all of its lock_wait and
# exits 4 (busy, nothing changed: a Job may retry), not 1 (broken); its retry after the
# first has finished applies what is left.
test_busy_lock_exits_4_and_changes_nothing() {
	new_db
	migration core 001_slow.up.sql "CREATE TABLE slow (id int); SELECT pg_sleep(6);"
	write_config
	"$MIGRATE_BIN" up -q >first.out 2>first.err &
	local first=$!
	wait_for "SELECT EXISTS (SELECT 1 FROM pg_stat_activity WHERE query LIKE '%pg_sleep(6)%' AND pid <> pg_backend_pid())"
	migration core 002_after.up.sql "CREATE TABLE after_slow (id int);"
	sed -i 's/lock_wait: 30s/lock_wait: 500ms/' config.yaml
	expect_status 4 up
	assert_one_line "$ERR"
	assert_contains "$ERR" "another migrate run holds the lock (PID "
	assert_contains "$ERR" "gave up after 500 ms (postgres.lock_wait)"
	has_table after_slow && fail "the busy run applied 002"
	# the same for down, and for the library's status code through `up --format json`
	expect_status 4 down --module core
	expect_status 4 up --format json
	assert_eq "$(json_get '.ok')" "false" "ok"
	wait "$first" || fail "the first run failed: $(cat first.err)"
	assert_eq "$(ledger | tr '\n' ' ')" "core/1 " "ledger after the first run"
	# the retry a Job would make
	expect_status 0 up
	assert_eq "$(ledger | tr '\n' ' ')" "core/1 core/2 " "ledger after the retry"
}

test_lock_timeout_without_retries_fails_with_55P03() {
	new_db
	migration core 001_t.up.sql "CREATE TABLE t (id int);"
	write_config '  lock_timeout: 200ms'
	expect_status 0 up
	migration core 002_alter.up.sql "ALTER TABLE t ADD COLUMN v text;"
	hold_lock t "ACCESS SHARE"
	expect_status 1 up --format json
	release_lock
	assert_contains "$ERR" "SQLSTATE 55P03"
	assert_eq "$(json_get '.ok')" "false" "ok"
	assert_eq "$(json_get '.migrations[0].state')" "failed" "state"
	assert_eq "$(json_get '.migrations[0].attempts')" "1" "attempts"
	assert_eq "$(json_get '.migrations[0].error.sqlstate')" "55P03" "sqlstate"
	assert_eq "$(json_get '.migrations[0].error.file')" "migrations/postgres/core/002_alter.up.sql" "file"
	assert_eq "$(ledger | tr '\n' ' ')" "core/1 " "nothing applied"
	# no-transaction files are never retried
	rm migrations/postgres/core/002_alter.up.sql
	migration core 002_nt.up.sql "-- migrate:run-in-tx false
ALTER TABLE t ADD COLUMN v text;"
	write_config '  lock_timeout: 200ms' '  lock_retries: 3' '  lock_retry_backoff: 100ms'
	hold_lock t "ACCESS SHARE"
	expect_status 1 up
	release_lock
	assert_not_contains "$OUT" "retrying"
	assert_contains "$ERR" "SQLSTATE 55P03"
}

test_run_report_for_a_failure_names_line_and_skips_the_rest() {
	new_db
	migration core 001_a.up.sql "CREATE TABLE a (id int);"
	migration core 002_bad.up.sql "CREATE TABLE b (id int);

INSERT INTO nowhere VALUES (1);"
	migration core 003_c.up.sql "CREATE TABLE c (id int);"
	migration core 001_a.down.sql "DROP TABLE a;"
	write_config
	expect_status 1 up --format json
	jq -e . "$OUT" >/dev/null || fail "not one JSON document: $(cat "$OUT")"
	assert_eq "$(json_get '.direction') $(json_get '.ok')" "up false" "header"
	assert_eq "$(json_get '[.migrations[].state] | join(",")')" "applied,failed,skipped" "states"
	assert_eq "$(json_get '.migrations[1].error.sqlstate')" "42P01" "sqlstate"
	assert_eq "$(json_get '.migrations[1].error.line')" "3" "line"
	assert_contains "$OUT" '"message": "'
	assert_eq "$(json_get '.files_executed')" "2" "files executed"
	# down reports too, and a failure before any migration still gives one document
	expect_status 0 down --module core --format json
	assert_eq "$(json_get '.direction') $(json_get '.migrations[0].state')" "down rolled_back" "down"
	sed -i 's/lock_wait: 30s/lock_wait: 0/' config.yaml
	PGAPPNAME=holder pg_admin -d "$DB" -c "SELECT pg_advisory_lock(7883936066298981), pg_sleep(120)" >/dev/null 2>&1 &
	HOLDER=$!
	wait_for "SELECT EXISTS (SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND granted)"
	expect_status 4 up --format json
	release_lock
	assert_eq "$(json_get '.ok') $(json_get '.migrations | length')" "false 0" "lock failure"
	assert_contains "$OUT" "another migrate run holds the lock"
}

contract_tree() {
	migration core 001_users.up.sql "CREATE TABLE users (id int, name text);"
	migration core 002_add_full_name.up.sql "ALTER TABLE users ADD COLUMN full_name text;"
	migration core 003_drop_name.up.sql "-- the old column goes once every reader uses full_name
-- migrate:phase contract
ALTER TABLE users DROP COLUMN name;"
	migration core 004_more.up.sql "CREATE TABLE more (id int);"
	migration catalog 001_items.up.sql "CREATE TABLE items (id int);"
	migration catalog 002_drop_items.up.sql "-- migrate:phase contract
DROP TABLE items;"
}

test_expand_then_contract_phases() {
	new_db
	contract_tree
	write_config 'modules:' '  catalog: {}'
	expect_status 0 up --phase expand
	assert_eq "$(ledger | tr '\n' ' ')" "catalog/1 core/1 core/2 " "after expand"
	expect_status 0 status
	assert_contains "$OUT" "contract pending"
	# the next version of each module is a contract file: expand is done for both
	assert_eq "$(grep -c 'contract pending' "$OUT")" "2" "both modules wait on their contract"
	expect_status 0 status --format json
	assert_eq "$(json_get '.postgres.modules[] | select(.module == "catalog") | .state' 2>/dev/null || jq -r '.. | objects | select(.module? == "catalog") | .state' "$OUT")" "contract_pending" "json state"
	# core has an expand version after its contract one: the contract still runs next
	assert_eq "$(jq -r '.. | objects | select(.module? == "core") | .state' "$OUT")" "contract_pending" "core"
	# a second expand run has nothing more to do
	expect_status 0 up --phase expand
	assert_eq "$(ledger | tr '\n' ' ')" "catalog/1 core/1 core/2 " "expand is idempotent"
	expect_status 0 check
	expect_status 0 up --phase contract
	assert_eq "$(ledger | tr '\n' ' ')" "catalog/1 catalog/2 core/1 core/2 core/3 core/4 " "after contract"
	has_table items && fail "contract did not run"
	expect_status 0 status
	assert_not_contains "$OUT" "pending"
	expect_status 2 up --phase sideways
}

test_startup_check_treats_contract_pending_as_migrated() {
	new_db
	migration core 001_users.up.sql "CREATE TABLE users (id int, name text);"
	migration core 002_drop.up.sql "-- migrate:phase contract
ALTER TABLE users DROP COLUMN name;"
	write_config
	expect_status 0 up --phase expand
	assert_eq "$(ledger | tr '\n' ' ')" "core/1 " "expand"
	# the example app links libmigrate and calls mig_quick_check_config
	local app
	app=$(dirname "$MIGRATE_BIN")/app_startup
	[ -x "$app" ] || fail "example program not built at $app"
	"$app" --config config.yaml >app.out 2>app.err || fail "app refused between phases: $(cat app.err)"
	expect_status 0 check
	# an expand version still pending is not migrated
	migration core 000_before.up.sql "SELECT 1;"
	migration core 003_more.up.sql "CREATE TABLE more (id int);"
	if "$app" --config config.yaml >app.out 2>app.err; then fail "app started with an expand version pending"; fi
	assert_contains app.err "pending migrations exist: core (3)"
	# an expand version after the contract one: the contract still runs next, as status says
	rm migrations/postgres/core/000_before.up.sql
	"$app" --config config.yaml >app.out 2>app.err || fail "app refused with the contract next: $(cat app.err)"
	expect_status 0 status
	assert_contains "$OUT" "contract pending"
	rm migrations/postgres/core/003_more.up.sql
	# plain up applies everything as before
	expect_status 0 up
	assert_eq "$(ledger | tr '\n' ' ')" "core/1 core/2 " "plain up"
}

app_psql() { # psql as the application's user, in the test's database
	PGPASSWORD=$PG_PASSWORD psql -X -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$MIGRATE_PG_PORT" -U app -d "$DB" "$@"
}

# the catalog's account of a database's schema, for servers newer than pg_dump (Debian's
# 15 refuses to dump 16 and later): relations, columns, constraints, indexes, views,
# functions and triggers of its user schemas
catalog_schema_sql="SELECT x FROM (
 SELECT 'rel ' || n.nspname || '.' || c.relname || ' ' || c.relkind::text AS x FROM pg_class c
  JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname NOT IN ('pg_catalog', 'information_schema')
  AND n.nspname !~ '^pg_toast'
 UNION ALL SELECT 'col ' || a.attrelid::regclass::text || '.' || a.attname || ' ' || format_type(a.atttypid, a.atttypmod)
  || ' ' || a.attnotnull || ' ' || coalesce(pg_get_expr(d.adbin, d.adrelid), '') FROM pg_attribute a
  JOIN pg_class c ON c.oid = a.attrelid JOIN pg_namespace n ON n.oid = c.relnamespace
  LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
  WHERE a.attnum > 0 AND NOT a.attisdropped AND n.nspname NOT IN ('pg_catalog', 'information_schema')
  AND n.nspname !~ '^pg_toast'
 UNION ALL SELECT 'con ' || conrelid::regclass::text || ' ' || conname || ' ' || pg_get_constraintdef(k.oid)
  FROM pg_constraint k JOIN pg_namespace n ON n.oid = k.connamespace WHERE n.nspname NOT IN ('pg_catalog', 'information_schema')
 UNION ALL SELECT 'idx ' || indexdef FROM pg_indexes WHERE schemaname NOT IN ('pg_catalog', 'information_schema')
 UNION ALL SELECT 'view ' || schemaname || '.' || viewname || ' ' || definition FROM pg_views
  WHERE schemaname NOT IN ('pg_catalog', 'information_schema')
 UNION ALL SELECT 'fn ' || pg_get_functiondef(p.oid) FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
  WHERE n.nspname NOT IN ('pg_catalog', 'information_schema') AND p.prokind IN ('f', 'p')
 UNION ALL SELECT 'trg ' || pg_get_triggerdef(t.oid) FROM pg_trigger t WHERE NOT t.tgisinternal) s ORDER BY x"

# dump_schema DB: the schema of database DB without its name, by pg_dump where it can
# read the server, else from the catalog; fails (never prints nothing) when it cannot
dump_schema() {
	local out
	if [ "$(pg_major)" -le "$(pg_dump --version | grep -oE '[0-9]+' | head -1)" ]; then
		out=$(pg_dump -h "$MIGRATE_PG_SOCKET" -p "$MIGRATE_PG_PORT" -U postgres --schema-only --no-owner "$1") ||
			fail "pg_dump of $1 failed"
		printf '%s\n' "$out" | grep -v '^--' | grep -v '^\\\(un\)\?restrict'
	else
		pg_admin -d "$1" -c "$catalog_schema_sql" || fail "cannot read the schema of $1"
	fi
}

ledger_rows() { # module, version, name, checksum, dirty of database $1
	pg_admin -d "$1" -c "SELECT module, version, name, checksum, dirty FROM schema_migrations ORDER BY 1, 2"
}

test_sql_script_equals_up_and_guards_the_ledger() {
	new_db
	example_tree
	migration core 003_index.up.sql "-- migrate:run-in-tx false
CREATE INDEX CONCURRENTLY users_created_idx ON users (created_at)"
	migration core 004_odd.up.sql "INSERT INTO users (email, name) VALUES ('o''brien@example.com', 'it''s') -- no semicolon"
	write_config '  lock_timeout: 5s' '  statement_timeout: 1m' 'modules:' '  catalog: {}'
	local by_up=$DB
	expect_status 0 up
	# a second, fresh database gets the script
	DB=${by_up}_script
	pg_admin -d postgres -c "CREATE DATABASE $DB OWNER app" >/dev/null
	DSN="postgres://app:$PG_PASSWORD@127.0.0.1:$MIGRATE_PG_PORT/$DB"
	write_config '  lock_timeout: 5s' '  statement_timeout: 1m' 'modules:' '  catalog: {}'
	expect_status 0 up --dry-run --sql
	cp "$OUT" plan.sql
	assert_contains plan.sql '\set ON_ERROR_STOP on'
	assert_contains plan.sql "SET LOCAL lock_timeout = 5000;"
	assert_eq "$(ledger)" "" "the dry run changed nothing"
	app_psql -f plan.sql >psql.out 2>&1 ||
		fail "psql failed: $(cat psql.out)"
	local by_script_schema by_up_schema
	by_script_schema=$(dump_schema "$DB")
	by_up_schema=$(dump_schema "$by_up")
	case $by_up_schema in *users*) ;; *) fail "the schema read has no users table: $by_up_schema" ;; esac
	assert_eq "$by_script_schema" "$by_up_schema" "schema"
	assert_eq "$(ledger_rows "$DB")" "$(ledger_rows "$by_up")" "ledger"
	expect_status 0 status
	assert_not_contains "$OUT" "pending"
	expect_status 0 verify
	expect_status 0 up
	assert_contains "$OUT" "nothing to apply"
	# a script written for a ledger that has moved since stops at the guard
	migration core 005_e.up.sql "CREATE TABLE e (id int);"
	migration core 006_f.up.sql "CREATE TABLE f (id int);"
	expect_status 0 up --dry-run --sql
	cp "$OUT" stale.sql
	sql "UPDATE schema_migrations SET checksum = 'x' WHERE module = 'core' AND version = 1" >/dev/null
	app_psql -f stale.sql >psql.out 2>&1 &&
		fail "the guard let a moved ledger through"
	assert_contains psql.out "schema_migrations changed since this script was written"
	has_table e && fail "ran past the guard"
	pg_admin -d postgres -c "DROP DATABASE $DB" >/dev/null
	true
}

test_sql_script_usage_errors() {
	new_db
	example_tree
	write_config
	expect_status 2 up --sql
	assert_contains "$ERR" "'up --sql' goes with --dry-run"
	expect_status 2 up --dry-run --sql --format json
}

test_baseline_adopts_a_database_built_by_psql() {
	new_db
	example_tree
	write_config 'modules:' '  catalog: {}'
	# the schema exists already, built by hand from the same files
	for f in migrations/postgres/core/001_create_users.up.sql migrations/postgres/core/002_create_tokens.up.sql; do
		app_psql -f "$f" >/dev/null
	done
	expect_status 0 baseline --module core --version 2 --dry-run
	assert_contains "$OUT" "would record core/1_create_users"
	assert_eq "$(ledger)" "" "dry run recorded"
	expect_status 0 baseline --module core --version 2
	assert_contains "$OUT" "recorded 2 versions of module 'core'"
	assert_eq "$(sql "SELECT count(*) FROM schema_migrations WHERE module = 'core' AND length(checksum) = 64 AND NOT dirty")" "2" "rows"
	expect_status 0 verify
	expect_status 0 up
	assert_not_contains "$OUT" "core/"
	assert_contains "$OUT" "applied catalog/001_create_catalog"
	# refused twice: the module has rows; the version is not one of the module's
	expect_status 2 baseline --module core --version 1
	assert_contains "$ERR" "module 'core' already has 2 versions in schema_migrations"
	sql "DELETE FROM schema_migrations WHERE module = 'catalog'" >/dev/null
	local before
	before=$(ledger)
	expect_status 2 baseline --module catalog --version 7
	assert_contains "$ERR" "there is no catalog/7"
	expect_status 2 baseline --module catalog
	assert_eq "$(ledger)" "$before" "refusals changed the ledger"
}

test_other_tools_names_and_directives() {
	new_db
	migration core 000001_init.up.sql "CREATE TABLE channels (id int);"
	migration core 000015_upgrade_channels_v6.0.up.sql "ALTER TABLE channels ADD COLUMN v6 int;"
	migration core 000015_upgrade_channels_v6.0.down.sql "ALTER TABLE channels DROP COLUMN v6;"
	migration core "000016_index channels.up.sql" "-- +goose NO TRANSACTION
CREATE INDEX CONCURRENTLY channels_v6 ON channels (v6);"
	migration core 000017_morph.up.sql "-- morph:nontransactional
CREATE INDEX CONCURRENTLY channels_id ON channels (id);"
	migration core 000018_dbmate.up.sql "-- migrate:up transaction:false
CREATE INDEX CONCURRENTLY channels_both ON channels (id, v6);"
	write_config
	expect_status 0 up
	assert_contains "$OUT" "applied core/000015_upgrade_channels_v6.0"
	assert_contains "$OUT" "applied core/000016_index channels"
	assert_eq "$(ledger | tr '\n' ' ')" "core/1 core/15 core/16 core/17 core/18 " "ledger"
	assert_eq "$(sql "SELECT count(*) FROM pg_index WHERE indisvalid AND indexrelid::regclass::text LIKE 'channels_%'")" "3" "indexes"
	expect_status 0 verify
	# create keeps its stricter rule
	expect_status 2 create --module core "v6.1"
}

run_tests

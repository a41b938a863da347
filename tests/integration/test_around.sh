#!/usr/bin/env bash
# Integration tests of what sits around the versioned files (issue 28): environments
# (`environment:`, --env, `-- migrate:env`, versions recorded as skipped) and
# placeholders (`-- migrate:envsub on|off` spans, `placeholders:`), postgres.hooks and
# repeatable migrations (migrations/postgres/<module>/repeatable/<name>.sql).
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../lib/harness.sh"
. "$here/../lib/postgres.sh"

# a tree with a plain version and one limited to dev,test
env_tree() {
	migration core 001_base.up.sql "CREATE TABLE base (id int);"
	migration core 001_base.down.sql "DROP TABLE base;"
	migration core 002_demo.up.sql "-- demo rows for developers
-- migrate:env dev, test
CREATE TABLE demo (id int);"
	migration core 003_after.up.sql "CREATE TABLE after_demo (id int);"
	migration core 003_after.down.sql "DROP TABLE after_demo;"
}

test_env_other_environment_records_skipped() {
	new_db
	env_tree
	write_config 'environment: ${MIGRATE_ENV}'
	MIGRATE_ENV=production expect_status 0 up
	assert_contains "$OUT" "skipped core/002_demo"
	assert_contains "$OUT" "applied core/003_after"
	if has_table demo; then fail "a dev-only file ran in production"; fi
	has_table after_demo || fail "the version after the skipped one did not run"
	assert_eq "$(sql "SELECT version || ':' || skipped FROM schema_migrations ORDER BY version" | tr '\n' ' ')" \
		"1:false 2:true 3:false " "ledger"
	MIGRATE_ENV=production expect_status 0 status
	assert_contains "$OUT" "up to date, 1 skipped (environment)"
	MIGRATE_ENV=production expect_status 0 status --format json
	assert_eq "$(jq -r '.postgres.modules[0].skipped' "$OUT")" "1" "status json skipped"
	# a later run in an environment the file names does not apply it by accident
	MIGRATE_ENV=dev expect_status 0 up
	assert_not_contains "$OUT" "core/002_demo"
	if has_table demo; then fail "a skipped version was applied later"; fi
}

test_env_matching_environment_runs_the_file() {
	new_db
	env_tree
	write_config 'environment: dev'
	expect_status 0 up
	has_table demo || fail "the dev file did not run in dev"
	assert_eq "$(sql "SELECT count(*) FROM schema_migrations WHERE skipped")" "0" "skipped rows"
}

test_env_option_wins_over_the_config() {
	new_db
	env_tree
	write_config 'environment: dev'
	expect_status 0 up --env staging
	if has_table demo; then fail "--env staging ran a dev,test file"; fi
	assert_eq "$(sql "SELECT count(*) FROM schema_migrations WHERE skipped")" "1" "skipped rows"
}

test_env_unset_refuses_a_tagged_file() {
	new_db
	env_tree
	write_config
	expect_status 2 up
	assert_one_line "$ERR"
	assert_contains "$ERR" "core/2 runs only in environment(s) 'dev,test' and no environment is set"
	assert_contains "$ERR" "migrations/postgres/core/002_demo.up.sql:2)"
	if has_table schema_migrations; then fail "a refused run changed the database"; fi
	# an empty environment counts as unset
	write_config 'environment: ${MIGRATE_ENV:-}'
	expect_status 2 up
	if has_table base; then fail "a refused run changed the database"; fi
	# untagged trees need no environment
	rm migrations/postgres/core/002_demo.up.sql
	expect_status 0 up
	has_table after_demo || fail "an untagged tree did not run without an environment"
}

test_env_bad_names_are_usage_errors() {
	new_db
	env_tree
	write_config 'environment: "dev test"'
	expect_status 2 up
	assert_one_line "$ERR"
	assert_contains "$ERR" "'environment' must be 1-63 letters, digits, '_' or '-', not 'dev test' (config.yaml:4)"
	write_config
	expect_status 2 up --env 'a;b'
	assert_contains "$ERR" "--env takes 1-63 letters"
	migration core 004_bad.up.sql "-- migrate:env
SELECT 1;"
	expect_status 2 up --env dev
	assert_one_line "$ERR"
	assert_contains "$ERR" "'-- migrate:env' names no environment"
	assert_contains "$ERR" "004_bad.up.sql:1)"
	migration core 004_bad.up.sql "-- migrate:env dev,,test
SELECT 1;"
	expect_status 2 up --env dev
	assert_contains "$ERR" "'-- migrate:env' names '', not an environment name"
	if has_table schema_migrations; then fail "a refused run changed the database"; fi
}

test_env_down_removes_a_skipped_row_without_running_sql() {
	new_db
	env_tree
	write_config 'environment: production'
	expect_status 0 up
	expect_status 0 down --module core --steps 2
	assert_contains "$OUT" "rolled back core/003_after"
	assert_contains "$OUT" "unrecorded skipped core/002_demo"
	assert_eq "$(ledger | tr '\n' ' ')" "core/1 " "ledger"
	# now it is pending again, and runs where it belongs
	expect_status 0 up --env dev
	has_table demo || fail "the file did not run once its skipped row was gone"
}

test_env_dry_run_and_script() {
	new_db
	env_tree
	write_config 'environment: production'
	expect_status 0 up --dry-run
	assert_contains "$OUT" "would record as skipped core/002_demo"
	assert_contains "$OUT" "would apply core/003_after"
	expect_status 0 up --dry-run --format json
	assert_eq "$(jq -r '.migrations[1].environment_skip' "$OUT")" "true" "dry-run json"
	expect_status 0 up --dry-run --sql
	assert_contains "$OUT" "skipped, its -- migrate:env excludes this environment"
	PGPASSWORD=$PG_PASSWORD psql -X -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$MIGRATE_PG_PORT" \
		-U app -d "$DB" -f "$OUT" >psql.out 2>&1 || fail "psql failed: $(cat psql.out)"
	if has_table demo; then fail "the script ran a skipped file"; fi
	assert_eq "$(sql "SELECT version FROM schema_migrations WHERE skipped")" "2" "script ledger"
	expect_status 0 up --format json
	assert_contains "$OUT" '"migrations": []'
}

test_env_run_report_names_skipped_versions() {
	new_db
	env_tree
	write_config 'environment: production'
	expect_status 0 up --format json
	assert_eq "$(jq -r '.migrations[1].state' "$OUT")" "env_skipped" "state"
	assert_eq "$(jq -r '.migrations[2].state' "$OUT")" "applied" "state"
}

test_env_ledger_from_before_environments() {
	new_db
	env_tree
	# schema_migrations as earlier releases created it: no skipped column
	sql "CREATE TABLE schema_migrations (module text NOT NULL, version bigint NOT NULL,
	     name text NOT NULL DEFAULT '', checksum text NOT NULL DEFAULT '',
	     dirty boolean NOT NULL DEFAULT false, applied_at timestamptz NOT NULL DEFAULT now(),
	     duration_ms bigint, PRIMARY KEY (module, version));
	     INSERT INTO schema_migrations (module, version, name) VALUES ('core', 1, 'base');
	     CREATE TABLE base (id int);
	     ALTER TABLE schema_migrations OWNER TO app; ALTER TABLE base OWNER TO app;" >/dev/null
	write_config 'environment: production'
	expect_status 0 status
	assert_contains "$OUT" "pending"
	expect_status 0 up
	assert_eq "$(sql "SELECT version || ':' || skipped FROM schema_migrations ORDER BY version" | tr '\n' ' ')" \
		"1:false 2:true 3:false " "ledger"
}

test_envsub_renders_only_inside_spans() {
	new_db
	migration core 001_schema.up.sql '-- a $$ body outside a span keeps ${NOT_SET} as written
CREATE FUNCTION literal() RETURNS text LANGUAGE sql AS $$ SELECT '\''${NOT_SET}'\''::text $$;
-- migrate:envsub on
CREATE SCHEMA ${APP_SCHEMA};
CREATE TABLE ${APP_SCHEMA}.${TABLE:-items} (id int, note text DEFAULT '\''${GREETING}'\'');
-- migrate:envsub off
CREATE FUNCTION dollars() RETURNS text LANGUAGE plpgsql AS $body$
BEGIN RETURN '\''${ALSO_NOT_SET} costs $5'\''; END $body$;'
	write_config 'placeholders:' '  APP_SCHEMA: ${SCHEMA_FROM_ENV:-shop}' '  GREETING: hello'
	APP_SCHEMA=ignored GREETING=ignored expect_status 0 up
	has_table shop.items || fail "the span was not rendered with the placeholders map"
	assert_eq "$(sql "SELECT literal()")" '${NOT_SET}' "a \$\$ body outside a span"
	assert_eq "$(sql "SELECT dollars()")" '${ALSO_NOT_SET} costs $5' "after the span"
	assert_eq "$(sql "SELECT column_default FROM information_schema.columns WHERE table_name = 'items' AND column_name = 'note'")" \
		"'hello'::text" "placeholder from the map"
	# the ledger keeps the checksum of the file as written and of the rendered text
	assert_eq "$(sql "SELECT checksum FROM schema_migrations")" \
		"$(sha256sum migrations/postgres/core/001_schema.up.sql | cut -d' ' -f1)" "file checksum"
	local rendered
	rendered=$(sql "SELECT rendered_checksum FROM schema_migrations")
	[ ${#rendered} -eq 64 ] || fail "no rendered checksum: '$rendered'"
	[ "$rendered" != "$(sql "SELECT checksum FROM schema_migrations")" ] || fail "rendered == written"
}

test_envsub_environment_and_defaults() {
	new_db
	migration core 001_roles.up.sql '-- migrate:envsub on
CREATE TABLE ${APP_PREFIX}_t (id int);
CREATE TABLE ${UNSET_WITH_DEFAULT:-fallback}_t (id int);
-- migrate:envsub off'
	write_config
	APP_PREFIX=env expect_status 0 up
	has_table env_t || fail "placeholder from the environment"
	has_table fallback_t || fail "placeholder default"
	assert_eq "$(sql "SELECT rendered_checksum = '' FROM schema_migrations")" "f" "rendered checksum"
	# a file without spans records no rendered checksum
	migration core 002_plain.up.sql 'CREATE TABLE plain (id int); -- ${NOT_RENDERED}'
	APP_PREFIX=env expect_status 0 up
	assert_eq "$(sql "SELECT rendered_checksum FROM schema_migrations WHERE version = 2")" "" "no spans"
}

test_envsub_unset_variable_stops_the_run_before_anything() {
	new_db
	migration core 001_first.up.sql "CREATE TABLE first (id int);"
	migration core 002_second.up.sql '-- second
-- migrate:envsub on
CREATE TABLE ok_${APP_PREFIX:-x} (id int);
GRANT SELECT ON ok_x TO ${READER_ROLE};
-- migrate:envsub off'
	write_config
	expect_status 2 up
	assert_one_line "$ERR"
	assert_contains "$ERR" "placeholder 'READER_ROLE' is not set (migrations/postgres/core/002_second.up.sql:4)"
	if has_table schema_migrations; then fail "a refused run changed the database"; fi
	migration core 002_second.up.sql '-- migrate:envsub on
GRANT SELECT ON first TO ${READER_ROLE?set READER_ROLE to the reporting role};
-- migrate:envsub off'
	expect_status 2 up
	assert_contains "$ERR" "placeholder 'READER_ROLE': set READER_ROLE to the reporting role (migrations/postgres/core/002_second.up.sql:2)"
	expect_status 2 up --dry-run --sql
	assert_contains "$ERR" "placeholder 'READER_ROLE'"
	if has_table first; then fail "a refused run changed the database"; fi
}

test_envsub_verify_sees_a_changed_variable() {
	new_db
	migration core 001_view.up.sql '-- migrate:envsub on
CREATE VIEW v AS SELECT ${LIMIT_ROWS} AS lim;
-- migrate:envsub off'
	write_config 'placeholders:' '  LIMIT_ROWS: ${ROWS:-10}'
	expect_status 0 up
	expect_status 0 verify
	assert_contains "$OUT" "verify: ok"
	ROWS=20 expect_status 3 verify
	assert_contains "$OUT" "rendered postgres core/1: 'migrations/postgres/core/001_view.up.sql' is unchanged but renders differently than when it ran"
	ROWS=20 expect_status 3 verify --format json
	assert_eq "$(jq -r '.postgres.problems[0].problem' "$OUT")" "rendered_changed" "json problem"
	# a changed file is reported as changed, not as rendered
	printf -- '-- edited\n' >>migrations/postgres/core/001_view.up.sql
	ROWS=20 expect_status 3 verify
	assert_contains "$OUT" "changed  postgres core/1"
	assert_not_contains "$OUT" "rendered postgres"
}

test_envsub_script_holds_the_rendered_text() {
	new_db
	migration core 001_t.up.sql '-- migrate:envsub on
CREATE TABLE ${NAME} (id int);
-- migrate:envsub off'
	write_config
	NAME=scripted expect_status 0 up --dry-run --sql
	assert_contains "$OUT" "CREATE TABLE scripted (id int);"
	assert_not_contains "$OUT" '${NAME}'
	NAME=scripted expect_status 0 lint
	NAME=scripted expect_status 0 up
	has_table scripted || fail "not applied"
}

# hook_tree [AFTER_EACH_SQL]: two migrations and the three hooks logging into hook_log
hook_tree() {
	migration core 001_first.up.sql "CREATE TABLE first (id int);"
	migration core 002_second.up.sql "CREATE TABLE second (id int);"
	mkdir -p migrations/hooks
	printf '%s\n' "CREATE TABLE IF NOT EXISTS hook_log (n serial, ev text);" \
		"INSERT INTO hook_log (ev) VALUES ('before');" >migrations/hooks/before.sql
	printf '%s\n' "${1:-INSERT INTO hook_log (ev) VALUES ('each');}" >migrations/hooks/each.sql
	printf '%s\n' "INSERT INTO hook_log (ev) VALUES ('after');" >migrations/hooks/after.sql
	write_config '  hooks:' '    before_up: hooks/before.sql' '    after_each: hooks/each.sql' \
		'    after_up: hooks/after.sql'
}

hook_log() { sql "SELECT string_agg(ev, ' ' ORDER BY n) FROM hook_log"; }

test_hooks_run_around_the_pending_migrations() {
	new_db
	hook_tree
	expect_status 0 up
	assert_contains "$OUT" "ran hook before_up (migrations/hooks/before.sql"
	assert_contains "$OUT" "ran hook after_up (migrations/hooks/after.sql"
	assert_eq "$(hook_log)" "before each each after" "hook order"
	# nothing pending: no hook runs
	expect_status 0 up
	assert_contains "$OUT" "nothing to apply"
	assert_eq "$(hook_log)" "before each each after" "hooks with nothing pending"
	# after_each sees its migration's work, in its transaction
	migration core 003_third.up.sql "CREATE TABLE third (id int);"
	printf '%s\n' "INSERT INTO hook_log (ev) SELECT 'each:' || count(*) FROM pg_tables WHERE tablename = 'third';" \
		>migrations/hooks/each.sql
	expect_status 0 up
	assert_eq "$(hook_log)" "before each each after before each:1 after" "after_each inside"
}

test_hooks_before_up_failure_applies_nothing() {
	new_db
	hook_tree
	printf '%s\n' "-- a comment" "SELECT 1;" "SELECT * FROM no_such_table;" >migrations/hooks/before.sql
	expect_status 1 up
	assert_one_line "$ERR"
	assert_contains "$ERR" "hook before_up failed: relation \"no_such_table\" does not exist, SQLSTATE 42P01 (migrations/hooks/before.sql:3)"
	if has_table first; then fail "a migration ran after before_up failed"; fi
	assert_eq "$(sql "SELECT count(*) FROM schema_migrations")" "0" "ledger"
}

test_hooks_after_each_failure_rolls_that_migration_back() {
	new_db
	hook_tree "DO \$\$ BEGIN IF to_regclass('second') IS NOT NULL THEN RAISE EXCEPTION 'second is not allowed'; END IF; END \$\$;"
	expect_status 1 up
	assert_one_line "$ERR"
	assert_contains "$ERR" "core/2 failed: second is not allowed, SQLSTATE P0001 (migrations/hooks/each.sql:1)"
	has_table first || fail "the first migration was rolled back too"
	if has_table second; then fail "the migration whose after_each failed was kept"; fi
	assert_eq "$(ledger | tr '\n' ' ')" "core/1 " "ledger"
	assert_eq "$(hook_log)" "before" "after_up ran after a failure"
}

test_hooks_after_up_failure_says_the_migrations_were_applied() {
	new_db
	hook_tree
	printf '%s\n' "ANALYZE no_such_table;" >migrations/hooks/after.sql
	expect_status 1 up
	assert_one_line "$ERR"
	assert_contains "$ERR" "hook after_up failed: relation \"no_such_table\" does not exist"
	assert_contains "$ERR" "(migrations/hooks/after.sql:1); the 2 migrations of this run were applied"
	assert_eq "$(ledger | tr '\n' ' ')" "core/1 core/2 " "ledger"
	has_table second || fail "migrations were not kept"
}

test_hooks_in_dry_runs_scripts_and_reports() {
	new_db
	hook_tree
	expect_status 0 up --dry-run
	assert_eq "$(head -1 "$OUT")" "would run hook before_up (migrations/hooks/before.sql)" "first line"
	assert_contains "$OUT" "  with hook after_each (migrations/hooks/each.sql)"
	assert_eq "$(tail -1 "$OUT")" "would run hook after_up (migrations/hooks/after.sql)" "last line"
	expect_status 0 up --dry-run --sql
	assert_contains "$OUT" "-- postgres.hooks.before_up (migrations/hooks/before.sql)"
	assert_contains "$OUT" "-- postgres.hooks.after_each (migrations/hooks/each.sql)"
	assert_contains "$OUT" "-- postgres.hooks.after_up (migrations/hooks/after.sql)"
	PGPASSWORD=$PG_PASSWORD psql -X -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$MIGRATE_PG_PORT" \
		-U app -d "$DB" -f "$OUT" >psql.out 2>&1 || fail "psql failed: $(cat psql.out)"
	assert_eq "$(hook_log)" "before each each after" "the script's hooks"
	new_db_again
	expect_status 0 up --format json
	assert_eq "$(jq -r '.hooks.before_up.state' "$OUT")" "ran" "json before_up"
	assert_eq "$(jq -r '.hooks.after_each.state' "$OUT")" "with_each_migration" "json after_each"
	assert_eq "$(jq -r '.hooks.after_up.file' "$OUT")" "migrations/hooks/after.sql" "json after_up"
	printf '%s\n' "SELECT 1/0;" >migrations/hooks/after.sql
	migration core 003_third.up.sql "CREATE TABLE third (id int);"
	expect_status 1 up --format json
	assert_eq "$(jq -r '.hooks.after_up.state' "$OUT")" "failed" "json after_up failed"
	assert_eq "$(jq -r '.migrations[0].state' "$OUT")" "applied" "json migration"
}

# new_db_again: a second database for the same test
new_db_again() {
	DB="${DB}_2"
	pg_admin -d postgres -c "CREATE DATABASE $DB OWNER app" >/dev/null
	DSN="postgres://app:$PG_PASSWORD@127.0.0.1:$MIGRATE_PG_PORT/$DB"
	sed -i "s|dsn: .*|dsn: \"$DSN\"|" config.yaml
}

test_hooks_bad_config_and_missing_files() {
	new_db
	hook_tree
	rm migrations/hooks/after.sql
	expect_status 2 up
	assert_one_line "$ERR"
	assert_contains "$ERR" "migrations/hooks/after.sql"
	if has_table schema_migrations; then fail "a refused run changed the database"; fi
	write_config '  hooks:' '    before_up: hooks/before.sql' '    on_error: hooks/x.sql'
	expect_status 2 up
	assert_contains "$ERR" "unknown key 'postgres.hooks.on_error' (config.yaml:6)"
	write_config '  hooks:' '    before_up: /etc/passwd'
	expect_status 2 up
	assert_contains "$ERR" "'postgres.hooks.before_up' must be a file relative to the tree root"
}

# repeatable MODULE NAME SQL: writes migrations/postgres/MODULE/repeatable/NAME.sql
repeatable() {
	mkdir -p "migrations/postgres/$1/repeatable"
	printf '%s\n' "$3" >"migrations/postgres/$1/repeatable/$2.sql"
}

rep_rows() { # the repeatable ledger as "module/name" lines
	sql "SELECT module || '/' || name FROM schema_migrations_repeatable WHERE checksum <> '' ORDER BY 1"
}

test_repeatable_applied_after_versions_when_new_or_changed() {
	new_db
	migration core 001_items.up.sql "CREATE TABLE items (id int, price int);"
	migration core 001_items.down.sql "DROP TABLE items CASCADE;"
	repeatable core items_view "CREATE OR REPLACE VIEW items_view AS SELECT id FROM items;"
	write_config
	expect_status 0 up
	assert_contains "$OUT" "applied core/001_items"
	assert_contains "$OUT" "applied repeatable core/items_view"
	has_table items_view || fail "the repeatable did not run"
	assert_eq "$(rep_rows)" "core/items_view" "repeatable ledger"
	# unchanged: nothing runs
	expect_status 0 up
	assert_contains "$OUT" "nothing to apply"
	expect_status 0 status
	assert_contains "$OUT" "up to date"
	# changed: runs again, alone
	repeatable core items_view "CREATE OR REPLACE VIEW items_view AS SELECT id, price FROM items;"
	expect_status 0 status
	assert_contains "$OUT" "pending, 1 repeatable outdated"
	expect_status 0 status --format json
	assert_eq "$(jq -r '.postgres.modules[0].repeatables_outdated' "$OUT")" "1" "json outdated"
	expect_status 0 up --dry-run
	assert_eq "$(cat "$OUT")" "would apply repeatable core/items_view (migrations/postgres/core/repeatable/items_view.sql)" "dry run"
	expect_status 0 up
	assert_eq "$(sql "SELECT count(*) FROM information_schema.columns WHERE table_name = 'items_view'")" "2" "view columns"
	# down leaves repeatables alone, but marks them to apply again (a down may have
	# dropped what they created)
	migration core 002_more.up.sql "CREATE TABLE more (id int);"
	migration core 002_more.down.sql "DROP TABLE more;"
	expect_status 0 up
	assert_not_contains "$OUT" "repeatable"
	expect_status 0 down --module core
	has_table items_view || fail "down dropped the repeatable's view"
	assert_eq "$(rep_rows)" "" "repeatable ledger after down"
	expect_status 0 up
	assert_contains "$OUT" "applied repeatable core/items_view"
	# down to nothing (CASCADE takes the view), then up: the view is back
	expect_status 0 down --module core --steps 2
	if has_table items_view; then fail "CASCADE did not drop the view"; fi
	expect_status 0 up
	has_table items_view || fail "the repeatable was not applied again after down"
}

test_repeatable_order_follows_after_directives() {
	new_db
	write_config
	migration core 001_t.up.sql "CREATE TABLE t (id int);"
	repeatable core a_top "-- migrate:after z_base
CREATE OR REPLACE VIEW a_top AS SELECT * FROM z_base;"
	repeatable core m_mid "CREATE OR REPLACE VIEW m_mid AS SELECT 1 AS one;"
	repeatable core z_base "CREATE OR REPLACE VIEW z_base AS SELECT id FROM t;"
	expect_status 0 up --dry-run
	assert_eq "$(grep -o 'repeatable core/[a-z_]*' "$OUT" | tr '\n' ' ')" \
		"repeatable core/m_mid repeatable core/z_base repeatable core/a_top " "order"
	expect_status 0 up
	has_table a_top || fail "the dependent view was not created"
	# a cycle is named, before anything runs
	new_db_again
	repeatable core z_base "-- migrate:after a_top
CREATE OR REPLACE VIEW z_base AS SELECT id FROM t;"
	expect_status 2 up
	assert_one_line "$ERR"
	assert_contains "$ERR" "repeatable migrations of module 'core' form a cycle: a_top -> z_base -> a_top"
	if has_table schema_migrations; then fail "a refused run changed the database"; fi
	repeatable core z_base "-- migrate:after nothing_here
SELECT 1;"
	expect_status 2 up
	assert_contains "$ERR" "'-- migrate:after nothing_here' names no repeatable migration of module 'core' (migrations/postgres/core/repeatable/z_base.sql:1)"
}

test_repeatable_failure_rolls_back_alone_and_verify_reports_it() {
	new_db
	write_config
	migration core 001_t.up.sql "CREATE TABLE t (id int);"
	repeatable core a_ok "CREATE OR REPLACE VIEW a_ok AS SELECT id FROM t;"
	repeatable core b_bad "CREATE TABLE b_partial (id int);
CREATE OR REPLACE VIEW b_bad AS SELECT nope FROM t;"
	expect_status 1 up
	assert_one_line "$ERR"
	assert_contains "$ERR" "column \"nope\" does not exist"
	assert_contains "$ERR" "(migrations/postgres/core/repeatable/b_bad.sql:2)"
	has_table t || fail "the versioned file was rolled back"
	has_table a_ok || fail "the repeatable before it was rolled back"
	if has_table b_partial; then fail "the failed repeatable left its first statement"; fi
	assert_eq "$(rep_rows)" "core/a_ok" "repeatable ledger"
	expect_status 3 verify
	assert_contains "$OUT" "failed   postgres repeatable core: 'migrations/postgres/core/repeatable/b_bad.sql' failed the last time it ran"
	# fixed: up applies it, verify is clean; then an edit is reported as changed
	repeatable core b_bad "CREATE OR REPLACE VIEW b_bad AS SELECT id FROM t;"
	expect_status 0 up
	expect_status 0 verify
	repeatable core a_ok "CREATE OR REPLACE VIEW a_ok AS SELECT id, id AS id2 FROM t;"
	expect_status 3 verify
	assert_contains "$OUT" "changed  postgres repeatable core: 'migrations/postgres/core/repeatable/a_ok.sql' differs from what last ran"
	expect_status 3 verify --format json
	assert_eq "$(jq -r '.postgres.problems[0].problem' "$OUT")" "repeatable_changed" "json problem"
}

test_repeatable_in_scripts_lint_and_drift() {
	new_db
	write_config
	migration core 001_t.up.sql "CREATE TABLE t (id int);"
	repeatable core v "CREATE OR REPLACE VIEW v AS SELECT id FROM t;"
	expect_status 0 up --dry-run --sql
	assert_contains "$OUT" "-- repeatable core/v (migrations/postgres/core/repeatable/v.sql)"
	PGPASSWORD=$PG_PASSWORD psql -X -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$MIGRATE_PG_PORT" \
		-U app -d "$DB" -f "$OUT" >psql.out 2>&1 || fail "psql failed: $(cat psql.out)"
	has_table v || fail "the script did not create the view"
	assert_eq "$(rep_rows)" "core/v" "script ledger"
	expect_status 0 up
	assert_contains "$OUT" "nothing to apply"
	# drift's shadow holds the repeatable's view too
	pg_admin -d postgres -c "ALTER ROLE app CREATEDB" >/dev/null
	expect_status 0 drift
	sql "DROP VIEW v" >/dev/null
	expect_status 3 drift
	assert_contains "$OUT" "view"
	# lint reads repeatables (a finding in one is reported with its file)
	repeatable core v "-- migrate:lint-ignore nothing
CREATE OR REPLACE VIEW v AS SELECT id FROM t;
ALTER TABLE t ADD COLUMN c int NOT NULL;"
	run_migrate lint --all
	assert_contains "$OUT" "migrations/postgres/core/repeatable/v.sql"
	repeatable core "bad name" "SELECT 1;"
	expect_status 2 status
	assert_contains "$ERR" "bad repeatable migration name"
}

test_repeatable_in_testdb_templates_and_reset() {
	new_db
	migration core 001_t.up.sql "CREATE TABLE t (id int);"
	migration core 001_t.down.sql "DROP TABLE t CASCADE;"
	repeatable core v "CREATE OR REPLACE VIEW v AS SELECT id, '$SCRATCH' AS marker FROM t;"
	# the superuser over the socket may create the scratch databases
	printf 'postgres:\n  dsn: "host=%s port=%s user=postgres dbname=%s"\n' \
		"$MIGRATE_PG_SOCKET" "$MIGRATE_PG_PORT" "$DB" >config.yaml
	expect_status 0 testdb create --format json
	local dsn tpl first
	dsn=$(jq -r .dsn "$OUT")
	tpl=$(jq -r .template "$OUT")
	first=$(jq -r .database "$OUT")
	assert_eq "$(psql -X -q -A -t -d "$dsn" -c "SELECT count(*) FROM v")" "0" "the clone has the view"
	assert_eq "$(psql -X -q -A -t -d "$dsn" -c "SELECT name FROM schema_migrations_repeatable")" "v" "clone ledger"
	# the template's hash covers the repeatable: a changed one builds another
	repeatable core v "CREATE OR REPLACE VIEW v AS SELECT id, 'changed $SCRATCH' AS marker FROM t;"
	expect_status 0 testdb create --format json
	[ "$(jq -r .template "$OUT")" != "$tpl" ] || fail "a changed repeatable reused the template"
	expect_status 0 testdb drop "$(jq -r .database "$OUT")" "$first"
	# reset: every module down, then up with every repeatable again
	expect_status 0 up
	expect_status 0 reset --force
	assert_contains "$OUT" "applied repeatable core/v"
	has_table v || fail "reset did not re-create the repeatable's view"
}

test_repeatable_limited_to_an_environment() {
	new_db
	migration core 001_t.up.sql "CREATE TABLE t (id int);"
	repeatable core demo_view "-- migrate:env dev
CREATE OR REPLACE VIEW demo_view AS SELECT id FROM t;"
	write_config 'environment: ${MIGRATE_ENV:-}'
	expect_status 2 up
	assert_contains "$ERR" "repeatable core/demo_view runs only in environment(s) 'dev' and no environment is set"
	if has_table schema_migrations; then fail "a refused run changed the database"; fi
	MIGRATE_ENV=production expect_status 0 up
	if has_table demo_view; then fail "a dev-only repeatable ran in production"; fi
	assert_eq "$(rep_rows)" "" "repeatable ledger"
	MIGRATE_ENV=production expect_status 0 status
	assert_contains "$OUT" "up to date"
	assert_not_contains "$OUT" "repeatable outdated"
	MIGRATE_ENV=production expect_status 0 verify
	MIGRATE_ENV=dev expect_status 0 up
	assert_contains "$OUT" "applied repeatable core/demo_view"
	has_table demo_view || fail "the repeatable did not run in dev"
}

# with mongodb: configured, up goes module by module: hooks still run once around the
# whole run and placeholders: still render
test_hooks_and_placeholders_when_up_goes_module_by_module() {
	new_db
	hook_tree
	migration catalog 001_c.up.sql '-- migrate:envsub on
CREATE TABLE ${CAT_TABLE} (id int);
-- migrate:envsub off'
	mkdir -p migrations/mongodb/core
	printf '%s\n' '{"collections": [{"name": "around_things", "indexes": [{"keys": {"a": 1}}]}]}' \
		>migrations/mongodb/core/indexes.json
	write_config '  hooks:' '    before_up: hooks/before.sql' '    after_each: hooks/each.sql' \
		'    after_up: hooks/after.sql' 'placeholders:' '  CAT_TABLE: cat_things' 'mongodb:' \
		"  uri: \"$MIGRATE_TEST_MONGO_URI\"" "  database: around_$(basename "$SCRATCH" | tr -c 'a-zA-Z0-9\n' '_')" \
		'modules:' '  catalog: {}'
	expect_status 0 up
	assert_eq "$(hook_log)" "before each each each after" "hooks over the modules"
	has_table cat_things || fail "placeholders: were not used in the module-by-module run"
}

run_tests

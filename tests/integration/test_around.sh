#!/usr/bin/env bash
# Integration tests of what sits around the versioned files (issue 28): environments
# (`environment:`, --env, `-- migrate:env`, versions recorded as skipped).
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
XX
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

run_tests

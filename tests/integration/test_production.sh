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
	expect_status 1 up
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
run_tests

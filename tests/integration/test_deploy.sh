#!/usr/bin/env bash
# Deploying migrate the way CI and Kubernetes run it: `migrate wait` against servers that
# are up, come up late or never do; the example GitHub workflow (contrib/github/) parsed
# and each of its migrate command lines run against the test server; the Kubernetes
# manifests (contrib/kubernetes/) parsed, and what their Indexed Job runs simulated:
# N shard processes over a fleet of schemas, one SIGKILLed mid-run and restarted.
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../lib/harness.sh"
. "$here/../lib/postgres.sh"

: "${MIGRATE_SOURCE_ROOT:?MIGRATE_SOURCE_ROOT must name the source tree}"
: "${MIGRATE_TEST_MONGO_URI:?set MIGRATE_TEST_MONGO_URI (tests/lib/with-servers.sh starts the stand-in)}"
PG_BIN=/usr/lib/postgresql/15/bin

free_port() {
	/usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

now_ms() {
	date +%s%3N
}

as_postgres() {
	if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

# ---- migrate wait ----

test_wait_returns_at_once_when_both_servers_answer() {
	new_db
	write_config "mongodb:" "  uri: \"$MIGRATE_TEST_MONGO_URI\"" "  database: $DB"
	local start end
	start=$(now_ms)
	expect_status 0 wait --timeout 30s
	end=$(now_ms)
	assert_contains "$OUT" "PostgreSQL and MongoDB answered after"
	[ $((end - start)) -lt 3000 ] || fail "took $((end - start)) ms with both servers up"
	expect_status 0 wait -q
	[ ! -s "$OUT" ] || fail "-q printed: $(cat "$OUT")"
}

# A PostgreSQL that is not running when wait starts (a fresh cluster: initdb done, not
# started) and starts 2 s later, as a database pod beside an init container does.
test_wait_sees_a_postgres_that_starts_two_seconds_later() {
	local port dir=$SCRATCH/late
	port=$(free_port)
	chmod 755 "$SCRATCH" # the server runs as postgres
	mkdir -p "$dir/socket"
	[ "$(id -u)" -eq 0 ] && chown -R postgres: "$dir"
	as_postgres "$PG_BIN/initdb" -D "$dir/data" -U postgres -A trust -E UTF8 --locale=C.UTF-8 >"$dir/initdb.log" 2>&1 ||
		fail "initdb: $(tail -5 "$dir/initdb.log")"
	printf 'postgres:\n  dsn: "host=127.0.0.1 port=%s user=postgres dbname=postgres"\n' "$port" >config.yaml
	local start end
	start=$(now_ms)
	"$MIGRATE_BIN" wait --timeout 60s >wait.out 2>wait.err &
	local waiter=$!
	sleep 2
	as_postgres "$PG_BIN/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 start \
		-o "-c listen_addresses=127.0.0.1 -p $port -k $dir/socket -c fsync=off" >/dev/null 2>&1 ||
		fail "pg_ctl start: $(tail -5 "$dir/server.log")"
	local status=0
	wait "$waiter" || status=$?
	end=$(now_ms)
	as_postgres "$PG_BIN/pg_ctl" -D "$dir/data" -m immediate -w stop >/dev/null 2>&1 || true
	assert_eq "$status" 0 "wait's exit status (stderr: $(cat wait.err))"
	assert_contains wait.out "PostgreSQL answered after"
	[ $((end - start)) -ge 2000 ] || fail "answered after $((end - start)) ms, before the server started"
	[ $((end - start)) -lt 30000 ] || fail "took $((end - start)) ms"
}

# The MongoDB side the same way: a stand-in that starts listening 2 s after wait began.
test_wait_sees_a_mongodb_that_starts_two_seconds_later() {
	new_db
	local port
	port=$(free_port)
	write_config "mongodb:" "  uri: \"mongodb://127.0.0.1:$port/?serverSelectionTimeoutMS=1000\"" "  database: $DB"
	"$MIGRATE_BIN" wait --timeout 60s >wait.out 2>wait.err &
	local waiter=$!
	sleep 2
	/usr/bin/python3 "$MIGRATE_SOURCE_ROOT/tests/mongo_standin/mongo_standin.py" --port "$port" \
		--log "$SCRATCH/standin.log" >"$SCRATCH/standin.out" 2>&1 &
	local standin=$!
	local status=0
	wait "$waiter" || status=$?
	kill "$standin" 2>/dev/null || true
	assert_eq "$status" 0 "wait's exit status (stderr: $(cat wait.err))"
	assert_contains wait.out "PostgreSQL and MongoDB answered after"
}

test_wait_gives_up_after_the_timeout_naming_the_target_not_the_password() {
	local port
	port=$(free_port) # nothing listens there
	printf 'postgres:\n  dsn: "postgres://app:%s@127.0.0.1:%s/app"\n' "$PG_PASSWORD" "$port" >config.yaml
	local start end
	start=$(now_ms)
	expect_status 1 wait --timeout 2s
	end=$(now_ms)
	assert_one_line "$ERR"
	assert_contains "$ERR" "migrate: PostgreSQL at 'postgres://app:***@127.0.0.1:$port/app' did not answer within 2s"
	assert_contains "$ERR" "Connection refused"
	assert_not_contains "$ERR" "$PG_PASSWORD"
	[ $((end - start)) -ge 2000 ] || fail "gave up after $((end - start)) ms, before the timeout"
	[ $((end - start)) -lt 5000 ] || fail "gave up after $((end - start)) ms, long after the 2 s timeout"
	# MongoDB that never answers, PostgreSQL fine: the message names MongoDB
	new_db
	write_config "mongodb:" "  uri: \"mongodb://u:$PG_PASSWORD@127.0.0.1:$port/?serverSelectionTimeoutMS=500\"" "  database: $DB"
	expect_status 1 wait --timeout 1s
	assert_one_line "$ERR"
	assert_contains "$ERR" "migrate: MongoDB at 'mongodb://u:***@127.0.0.1:$port/?serverSelectionTimeoutMS=500' did not answer within 1s"
	assert_not_contains "$ERR" "$PG_PASSWORD"
}

test_wait_refuses_bad_input_at_once() {
	printf 'modules: {}\n' >config.yaml
	expect_status 2 wait
	assert_contains "$ERR" "'migrate wait' needs a 'postgres:' or 'mongodb:' section"
	new_db
	write_config
	expect_status 2 wait --timeout soon
	assert_contains "$ERR" "--timeout takes a duration"
	# a URI libmongoc cannot read is not worth waiting for
	write_config "mongodb:" "  uri: \"notmongo://x\"" "  database: $DB"
	local start
	start=$(now_ms)
	expect_status 2 wait --timeout 30s
	[ $(($(now_ms) - start)) -lt 5000 ] || fail "waited on a bad URI"
}

run_tests

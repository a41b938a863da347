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
# time limits stretch for a slower build (tests/run.sh sets 3 for the sanitizer build)
SCALE=${MIGRATE_TEST_TIME_SCALE:-1}

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
	[ $((end - start)) -lt $((3000 * SCALE)) ] || fail "took $((end - start)) ms with both servers up"
	expect_status 0 wait -q
	[ ! -s "$OUT" ] || fail "-q printed: $(cat "$OUT")"
}

# late_server_wait DIR PORT: a fresh cluster in DIR (initdb done, not started), then
# `migrate wait --timeout 60s` on ./config.yaml in the background, the server started on
# PORT 2 s later, and stopped again once wait returned. Sets WAIT_STATUS and WAIT_MS.
late_server_wait() {
	local dir=$1 port=$2
	chmod 755 "$SCRATCH" # the server runs as postgres
	mkdir -p "$dir/socket"
	[ "$(id -u)" -eq 0 ] && chown -R postgres: "$dir"
	as_postgres "$PG_BIN/initdb" -D "$dir/data" -U postgres -A trust -E UTF8 --locale=C.UTF-8 >"$dir/initdb.log" 2>&1 ||
		fail "initdb: $(tail -5 "$dir/initdb.log")"
	local start
	start=$(now_ms)
	"$MIGRATE_BIN" wait --timeout 60s >wait.out 2>wait.err &
	local waiter=$!
	sleep 2
	as_postgres "$PG_BIN/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 start \
		-o "-c listen_addresses=127.0.0.1 -p $port -k $dir/socket -c fsync=off" >/dev/null 2>&1 ||
		fail "pg_ctl start: $(tail -5 "$dir/server.log")"
	WAIT_STATUS=0
	wait "$waiter" || WAIT_STATUS=$?
	WAIT_MS=$(($(now_ms) - start))
	as_postgres "$PG_BIN/pg_ctl" -D "$dir/data" -m immediate -w stop >/dev/null 2>&1 || true
}

# A PostgreSQL that is not running when wait starts (a fresh cluster: initdb done, not
# started) and starts 2 s later, as a database pod beside an init container does.
test_wait_sees_a_postgres_that_starts_two_seconds_later() {
	local port
	port=$(free_port)
	printf 'postgres:\n  dsn: "host=127.0.0.1 port=%s user=postgres dbname=postgres"\n' "$port" >config.yaml
	late_server_wait "$SCRATCH/late" "$port"
	assert_eq "$WAIT_STATUS" 0 "wait's exit status (stderr: $(cat wait.err))"
	assert_contains wait.out "PostgreSQL answered after"
	[ "$WAIT_MS" -ge 2000 ] || fail "answered after $WAIT_MS ms, before the server started"
	[ "$WAIT_MS" -lt 30000 ] || fail "took $WAIT_MS ms"
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
	[ $((end - start)) -lt $((2000 + 3000 * SCALE)) ] || fail "gave up after $((end - start)) ms, long after the 2 s timeout"
	# MongoDB that never answers, PostgreSQL fine: the message names MongoDB
	new_db
	write_config "mongodb:" "  uri: \"mongodb://u:$PG_PASSWORD@127.0.0.1:$port/?serverSelectionTimeoutMS=500\"" "  database: $DB"
	expect_status 1 wait --timeout 1s
	assert_one_line "$ERR"
	assert_contains "$ERR" "migrate: MongoDB at 'mongodb://u:***@127.0.0.1:$port/?serverSelectionTimeoutMS=500' did not answer within 1s"
	assert_not_contains "$ERR" "$PG_PASSWORD"
}

# A fleet: wait covers every target database, listed or read by targets.query on the
# control database, not postgres.dsn alone; the one that does not answer is named.
test_wait_covers_every_target_database() {
	new_db
	local port
	port=$(free_port) # nothing listens there
	sql "CREATE TABLE tenants (name text, dsn text, pos int)" >/dev/null
	sql "INSERT INTO tenants VALUES ('here', '$DSN', 1), ('gone', 'postgres://app:$PG_PASSWORD@127.0.0.1:$port/app', 2)" >/dev/null
	sql "ALTER TABLE tenants OWNER TO app" >/dev/null
	write_config 'targets:' '  kind: database' '  query: "SELECT name, dsn FROM tenants ORDER BY pos"'
	expect_status 1 wait --timeout 2s
	assert_one_line "$ERR"
	assert_contains "$ERR" "migrate: PostgreSQL target 'gone' at 'postgres://app:***@127.0.0.1:$port/app' did not answer within 2s"
	assert_contains "$ERR" "Connection refused"
	assert_not_contains "$ERR" "$PG_PASSWORD"
	sql "DELETE FROM tenants WHERE name = 'gone'" >/dev/null
	expect_status 0 wait --timeout 10s
	assert_contains "$OUT" "PostgreSQL (postgres.dsn and 1 database target) answered after"
	# a query that cannot run is not worth waiting for
	write_config 'targets:' '  kind: database' '  query: "SELECT nme, dsn FROM tenants"'
	local start
	start=$(now_ms)
	expect_status 2 wait --timeout 30s
	assert_contains "$ERR" "'targets.query' failed: column \"nme\" does not exist"
	[ $(($(now_ms) - start)) -lt $((5000 * SCALE)) ] || fail "waited on a bad targets.query"
	# schema targets live in postgres.dsn: it answering is enough
	write_config 'targets:' '  kind: schema' '  list:' '    - { name: s1 }' '    - { name: s2 }'
	expect_status 0 wait --timeout 10s
	assert_contains "$OUT" "PostgreSQL (postgres.dsn and 2 schema targets) answered after"
}

# A listed target database whose server starts 2 s after wait began: wait returns only
# once it answers, though postgres.dsn answered at once.
test_wait_sees_a_target_that_starts_two_seconds_later() {
	new_db
	local port
	port=$(free_port)
	write_config 'targets:' '  kind: database' '  list:' "    - { name: here, dsn: \"$DSN\" }" \
		"    - { name: late, dsn: \"host=127.0.0.1 port=$port user=postgres dbname=postgres\" }"
	late_server_wait "$SCRATCH/late" "$port"
	assert_eq "$WAIT_STATUS" 0 "wait's exit status (stderr: $(cat wait.err))"
	assert_contains wait.out "PostgreSQL (postgres.dsn and 2 database targets) answered after"
	[ "$WAIT_MS" -ge 2000 ] || fail "answered after $WAIT_MS ms, before the target's server started"
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
	[ $(($(now_ms) - start)) -lt $((5000 * SCALE)) ] || fail "waited on a bad URI"
}

# ---- contrib/github/migrate.yml ----

# bin/migrate -> the binary under test, for command lines that say `migrate`
migrate_on_path() {
	mkdir -p bin
	ln -sf "$MIGRATE_BIN" bin/migrate
	export PATH=$PWD/bin:$PATH
}

# run_line LINE: runs one workflow command line as the runner's bash would; $LINE_STATUS
run_line() {
	LINE_STATUS=0
	bash -eo pipefail -c "$1" >line.out 2>line.err </dev/null || LINE_STATUS=$?
}

# A repository laid out as the workflow expects (.github/migrate-ci.yaml, migrations/),
# a staging database one migration behind the pull request, and the job's PostgreSQL
# service played by the test server's superuser. Each migrate line of the workflow must
# pass on a good pull request, and lint must fail it (with a SARIF report still written)
# on a bad one.
test_github_workflow_commands_pass_on_a_good_pull_request() {
	migrate_on_path
	python3 "$MIGRATE_SOURCE_ROOT/tests/lib/workflow_commands.py" "$MIGRATE_SOURCE_ROOT/contrib/github/migrate.yml" >lines ||
		fail "the workflow is not as expected"
	local want
	for want in "migrate wait" "migrate lint --format github" "migrate lint --format sarif" \
		"migrate roundtrip --pending" "migrate drift"; do
		grep -qF "$want" lines || fail "the workflow has no '$want'"
	done
	mkdir -p .github
	cp "$MIGRATE_SOURCE_ROOT/contrib/github/migrate-ci.yaml" .github/
	cp -r "$MIGRATE_SOURCE_ROOT/migrations" .
	rm -r migrations/mongodb
	new_db
	export APP_CONFIG=.github/migrate-ci.yaml STAGING_DATABASE_URL=$DSN
	export CI_DATABASE_URL="host=$MIGRATE_PG_SOCKET port=$MIGRATE_PG_PORT user=postgres dbname=postgres"
	# staging has everything but the pull request's file
	mv migrations/postgres/catalog/002_create_reviews.up.sql migrations/postgres/catalog/002_create_reviews.down.sql .
	expect_status 0 up
	mv 002_create_reviews.up.sql 002_create_reviews.down.sql migrations/postgres/catalog/
	local line n=0
	while IFS= read -r line; do
		n=$((n + 1))
		run_line "$line"
		[ "$LINE_STATUS" = 0 ] || fail "'$line' exited $LINE_STATUS: $(head -c 1000 line.err) $(head -c 1000 line.out)"
	done <lines
	[ "$n" -ge 5 ] || fail "only $n migrate lines ran"
	python3 "$MIGRATE_SOURCE_ROOT/tests/lib/sarif_check.py" migrate-lint.sarif >/dev/null || fail "the SARIF report is not valid"
	# nothing was written to staging: still one file behind
	assert_eq "$(sql "SELECT count(*) FROM schema_migrations WHERE module = 'catalog'")" 1 "staging's catalog rows"
	# a bad pull request: an index built without CONCURRENTLY on a table staging has
	printf 'CREATE INDEX users_created_idx ON users (created_at);\n' >migrations/postgres/core/003_index.up.sql
	printf 'DROP INDEX users_created_idx;\n' >migrations/postgres/core/003_index.down.sql
	run_line "$(grep -F 'migrate lint --format github' lines)"
	assert_eq "$LINE_STATUS" 3 "lint --format github on a bad file"
	assert_contains line.out "::error file=migrations/postgres/core/003_index.up.sql,line=1"
	run_line "$(grep -F 'migrate lint --format sarif' lines)"
	assert_eq "$LINE_STATUS" 0 "the SARIF step with a finding"
	python3 "$MIGRATE_SOURCE_ROOT/tests/lib/sarif_check.py" migrate-lint.sarif \
		require-concurrent-index-creation:1 >sarif.results || fail "SARIF: $(head -c 1000 migrate-lint.sarif)"
	assert_contains sarif.results "migrations/postgres/core/003_index.up.sql"
}

# ---- contrib/kubernetes/ ----

# k8s_config FILE: the manifest's ConfigMap config.yaml, pointed at this test's database
# and tree (the only changes: host, database, TLS and the tree's path)
k8s_config() {
	python3 "$MIGRATE_SOURCE_ROOT/tests/lib/k8s_manifests.py" "$1" "$MIGRATE_SOURCE_ROOT/contrib/kubernetes/$2" >/dev/null ||
		fail "$2 is not as expected"
	python3 - "$MIGRATE_SOURCE_ROOT/contrib/kubernetes/$2" <<'PY' >config.yaml
import sys, yaml
for d in yaml.safe_load_all(open(sys.argv[1])):
    if d and d["kind"] == "ConfigMap":
        print(d["data"]["config.yaml"], end="")
PY
	sed -i "s#db.example.internal:5432/app?sslmode=require#127.0.0.1:$MIGRATE_PG_PORT/$DB#; s#root: /migrations#root: $PWD/migrations#" config.yaml
	grep -q "127.0.0.1:$MIGRATE_PG_PORT/$DB" config.yaml || fail "the ConfigMap's dsn has another shape: $(cat config.yaml)"
}

# The migrate Job's two containers, as the manifest runs them (config path aside), with
# the password from the environment as the Secret gives it: wait, then up, then a second
# run whose lock is held is told apart (exit 4) from a broken one.
test_kubernetes_job_runs_wait_then_up() {
	new_db
	cp -r "$MIGRATE_SOURCE_ROOT/migrations" .
	k8s_config job migrate-job.yaml
	export DB_PASSWORD=$PG_PASSWORD
	local cmd
	for cmd in "wait --timeout 120s" "up"; do
		grep -qF -- "\"$(echo "$cmd" | sed 's/ /", "/g')\"" "$MIGRATE_SOURCE_ROOT/contrib/kubernetes/migrate-job.yaml" ||
			fail "the Job does not run migrate $cmd"
		# shellcheck disable=SC2086 # the command's words
		expect_status 0 $cmd --config config.yaml
	done
	assert_contains "$OUT" "applied catalog/002_create_reviews"
	assert_not_contains "$ERR" "$PG_PASSWORD"
	# another pod holding the lock: exit 4, which the Job's podFailurePolicy ignores
	sed -i 's/lock_wait: 2m/lock_wait: 300ms/' config.yaml
	pg_admin -d "$DB" -c "SELECT pg_advisory_lock(7883936066298981), pg_sleep(5)" >/dev/null &
	local holder=$!
	for _ in $(seq 50); do
		[ "$(sql "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted")" = 1 ] && break
		sleep 0.1
	done
	expect_status 4 up --config config.yaml
	kill "$holder" 2>/dev/null || true
	wait "$holder" 2>/dev/null || true
}

# What the Indexed Job runs: N pods, pod I running the manifest's command with
# $(JOB_COMPLETION_INDEX) = I, over a fleet of schemas read by the ConfigMap's own
# targets query. One pod is SIGKILLed while it migrates and started again, as the Job
# controller replaces a failed pod of an index. Every target must end up with every
# version, each migration having run exactly once (a log row written by the migration
# itself, in its transaction).
test_indexed_job_simulation_with_a_killed_shard() {
	new_db
	local tenants=24 i
	sql "CREATE TABLE tenants (schema_name text PRIMARY KEY, active boolean NOT NULL DEFAULT true);
	     CREATE TABLE public.applied_log (target text, module text, version int);
	     GRANT INSERT ON public.applied_log TO app; GRANT SELECT ON tenants TO app;
	     INSERT INTO tenants SELECT 'tenant_' || lpad(g::text, 2, '0') FROM generate_series(1, $tenants) g;
	     INSERT INTO tenants VALUES ('tenant_gone', false);" >/dev/null
	for i in 1 2 3; do
		migration core "00${i}_step.up.sql" "CREATE TABLE step$i (id int); SELECT pg_sleep(0.25);
INSERT INTO public.applied_log VALUES (current_schema(), 'core', $i);"
	done
	migration catalog 001_items.up.sql "CREATE TABLE items (id int); SELECT pg_sleep(0.25);
INSERT INTO public.applied_log VALUES (current_schema(), 'catalog', 1);"
	k8s_config fleet migrate-fleet-job.yaml
	export DB_PASSWORD=$PG_PASSWORD
	local spec n
	spec=$(python3 "$MIGRATE_SOURCE_ROOT/tests/lib/k8s_manifests.py" fleet "$MIGRATE_SOURCE_ROOT/contrib/kubernetes/migrate-fleet-job.yaml")
	n=$(echo "$spec" | head -1)
	mapfile -t cmd < <(echo "$spec" | tail -n +2)
	assert_eq "${cmd[0]}" migrate "the container's program"
	# pod I's arguments: the manifest's, with the index the Job controller sets and the
	# config where this test keeps it
	pod_args() {
		local a prev=""
		for a in "${cmd[@]:1}"; do
			if [ "$prev" = --config ]; then a=$PWD/config.yaml; fi
			printf '%s\n' "${a//\$(JOB_COMPLETION_INDEX)/$1}"
			prev=$a
		done
	}
	# the targets of the pod that will be killed (any shard with a few of them)
	local victim=1 victims
	expect_status 3 status --shard "$victim/$n" --config config.yaml # 3: not up to date
	victims=$(grep -oE '^tenant_[0-9]+' "$OUT" | sed "s/.*/'&'/" | paste -sd, -)
	[ -n "$victims" ] || fail "shard $victim/$n has no target: $(cat "$OUT")"
	local pids=() k
	for ((k = 0; k < n; k++)); do
		mapfile -t args < <(pod_args "$k")
		"$MIGRATE_BIN" "${args[@]}" >"pod$k.out" 2>"pod$k.err" &
		pids[k]=$!
	done
	# kill the victim once it has applied something, before it is done
	local applied=0
	for _ in $(seq 200); do
		applied=$(sql "SELECT count(*) FROM public.applied_log WHERE target IN ($victims)")
		[ "$applied" -ge 1 ] && break
		sleep 0.05
	done
	[ "$applied" -ge 1 ] || fail "shard $victim applied nothing in 10 s"
	kill -0 "${pids[victim]}" 2>/dev/null || fail "shard $victim finished before it could be killed"
	kill -KILL "${pids[victim]}"
	local status=0
	wait "${pids[victim]}" || status=$?
	assert_eq "$status" 137 "the killed pod's exit status"
	local before
	before=$(sql "SELECT count(*) FROM public.applied_log WHERE target IN ($victims)")
	# the replacement pod for that index
	mapfile -t args < <(pod_args "$victim")
	"$MIGRATE_BIN" "${args[@]}" >"pod$victim.retry.out" 2>"pod$victim.retry.err" || fail "the replacement pod failed: $(cat "pod$victim.retry.err")"
	for ((k = 0; k < n; k++)); do
		[ "$k" = "$victim" ] && continue
		wait "${pids[k]}" || fail "pod $k failed: $(cat "pod$k.err")"
	done
	[ "$before" -lt $(( $(echo "$victims" | tr ',' '\n' | wc -l) * 4 )) ] ||
		fail "the killed pod had finished its shard before the kill"
	grep -q ': applied ' "pod$victim.retry.out" || fail "the replacement pod applied nothing: $(cat "pod$victim.retry.out")"
	# every active tenant has every version, each run exactly once; the inactive one none
	assert_eq "$(sql "SELECT count(*) FROM (SELECT 1 FROM public.applied_log GROUP BY target, module, version HAVING count(*) > 1) d")" 0 \
		"migrations that ran more than once"
	assert_eq "$(sql "SELECT count(*) FROM public.applied_log")" $((tenants * 4)) "migrations run"
	assert_eq "$(sql "SELECT count(DISTINCT target) FROM public.applied_log")" "$tenants" "targets migrated"
	assert_eq "$(sql "SELECT count(*) FROM pg_namespace WHERE nspname = 'tenant_gone'")" 0 "the inactive tenant"
	for i in 01 "$(printf '%02d' "$tenants")"; do
		assert_eq "$(sql "SELECT string_agg(module || '/' || version, ' ' ORDER BY module, version) FROM tenant_$i.schema_migrations")" \
			"catalog/1 core/1 core/2 core/3" "tenant_$i's ledger"
	done
	# and a second round of the whole Job finds nothing to do
	for ((k = 0; k < n; k++)); do
		mapfile -t args < <(pod_args "$k")
		expect_status 0 "${args[@]:0}"
	done
	assert_eq "$(sql "SELECT count(*) FROM public.applied_log")" $((tenants * 4)) "migrations run after a second round"
}

run_tests

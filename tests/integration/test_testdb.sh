#!/usr/bin/env bash
# Integration tests of `migrate testdb create|drop|gc`, `migrate reset` and the
# mig_testdb_create example against the PostgreSQL that tests/run.sh starts. Templates
# live server-wide, so every test makes its tree unique (a migration naming its scratch
# directory) and cleans up the test databases it made.
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../lib/harness.sh"
. "$here/../lib/postgres.sh"

# scratch_dbs PREFIX: the server's databases starting with PREFIX, one a line
scratch_dbs() {
	pg_admin -d postgres -c "SELECT datname FROM pg_database WHERE left(datname, length('$1')) = '$1' ORDER BY 1"
}

# tdb_setup [extra yaml...]: a unique tree (the example's plus core/003 naming this test)
# and a config whose role (the superuser, over the socket) may create databases
tdb_setup() {
	new_db
	example_tree
	migration core 003_marker.up.sql "CREATE TABLE marker (t text); INSERT INTO marker VALUES ('$SCRATCH');"
	migration core 003_marker.down.sql "DROP TABLE marker;"
	{
		printf 'postgres:\n  dsn: "host=%s port=%s user=postgres dbname=%s"\n' \
			"$MIGRATE_PG_SOCKET" "$MIGRATE_PG_PORT" "$DB"
		printf 'modules:\n  catalog: {}\n'
		printf '%s\n' "$@"
	} >config.yaml
}

# json FILE KEY: a top-level value of a JSON document
json() {
	/usr/bin/python3 -c 'import json,sys; v=json.load(open(sys.argv[1]))[sys.argv[2]]; print(str(v).lower() if isinstance(v, bool) else v)' "$1" "$2"
}

# in_db CONNINFO QUERY: runs QUERY through the printed connection string
in_db() {
	psql -X -q -A -t -v ON_ERROR_STOP=1 -d "$1" -c "$2"
}

drop_tests() { # the test databases this test's tree made
	local d
	for d in $(scratch_dbs migrate_test_); do
		pg_admin -d postgres -c "DROP DATABASE IF EXISTS $d WITH (FORCE)" >/dev/null
	done
}

test_create_holds_the_tree_as_up_leaves_it() {
	tdb_setup
	expect_status 0 testdb create --format json
	local dsn tpl db
	dsn=$(json "$OUT" dsn)
	db=$(json "$OUT" database)
	tpl=$(json "$OUT" template)
	assert_eq "$(json "$OUT" template_built)" "true" "first create builds"
	[[ $db == migrate_test_* ]] || fail "database name '$db'"
	[[ $tpl =~ ^migrate_tpl_[0-9a-f]{12}$ ]] || fail "template name '$tpl'"
	assert_eq "$(in_db "$dsn" "SELECT t FROM marker")" "$SCRATCH" "marker row"
	local got want
	got=$(in_db "$dsn" "SELECT module || '/' || version || ' ' || checksum FROM schema_migrations ORDER BY 1")
	expect_status 0 up -q
	want=$(sql "SELECT module || '/' || version || ' ' || checksum FROM schema_migrations ORDER BY 1")
	assert_eq "$got" "$want" "ledger of the clone vs migrate up"
	assert_eq "$(in_db "$dsn" "SELECT count(*) FROM schema_migrations_objects")" \
		"$(sql "SELECT count(*) FROM schema_migrations_objects")" "tracked objects"
	# the template is sealed: a template accepting no connections
	assert_eq "$(pg_admin -d postgres -c "SELECT datistemplate::text || datallowconn::text FROM pg_database WHERE datname = '$tpl'")" \
		"truefalse" "template flags"
	# text output: only the connection string on stdout, without the password
	expect_status 0 testdb create
	assert_eq "$(wc -l <"$OUT")" "1" "stdout lines"
	assert_contains "$ERR" "template reused"
	in_db "$(cat "$OUT")" "SELECT 1 FROM users LIMIT 1" >/dev/null
	drop_tests
}

test_sixteen_concurrent_creates_build_the_template_once() {
	tdb_setup
	local i
	for i in $(seq 1 16); do
		"$MIGRATE_BIN" testdb create --format json >"c$i.json" 2>"c$i.err" &
	done
	wait
	local built=0 tpls
	for i in $(seq 1 16); do
		[ -s "c$i.json" ] || fail "create $i failed: $(cat "c$i.err")"
		if grep -qE 'ERROR: (Address|Leak)Sanitizer|runtime error:' "c$i.err"; then
			cat "c$i.err" >&2
			fail "sanitizer report from create $i"
		fi
		[ "$(json "c$i.json" template_built)" = "true" ] && built=$((built + 1))
		assert_eq "$(in_db "$(json "c$i.json" dsn)" "SELECT t FROM marker")" "$SCRATCH" "clone $i"
	done
	assert_eq "$built" "1" "creates that built the template"
	tpls=$(for i in $(seq 1 16); do json "c$i.json" template; done | sort -u | wc -l)
	assert_eq "$tpls" "1" "distinct templates"
	assert_eq "$(for i in $(seq 1 16); do json "c$i.json" database; done | sort -u | wc -l)" "16" "distinct databases"
	drop_tests
}

test_hash_changes_when_a_migration_is_edited_added_or_removed() {
	tdb_setup
	expect_status 0 testdb create --format json
	local a b c
	a=$(json "$OUT" template)
	expect_status 0 testdb create --format json
	assert_eq "$(json "$OUT" template)" "$a" "unchanged tree"
	assert_eq "$(json "$OUT" template_built)" "false" "unchanged tree rebuilds"
	echo "-- edited" >>migrations/postgres/catalog/002_create_reviews.up.sql
	expect_status 0 testdb create --format json
	b=$(json "$OUT" template)
	assert_eq "$(json "$OUT" template_built)" "true" "edited tree builds"
	[ "$a" != "$b" ] || fail "editing a file kept template $a"
	migration catalog 003_more.up.sql "CREATE TABLE more (id int);"
	expect_status 0 testdb create --format json
	c=$(json "$OUT" template)
	[ "$c" != "$b" ] && [ "$c" != "$a" ] || fail "adding a file kept the template ($c)"
	in_db "$(json "$OUT" dsn)" "SELECT count(*) FROM more" >/dev/null
	rm migrations/postgres/catalog/003_more.up.sql
	expect_status 0 testdb create --format json
	assert_eq "$(json "$OUT" template)" "$b" "removing the file again"
	assert_eq "$(json "$OUT" template_built)" "false" "back to a known tree"
	# the enabled modules count too
	sed -i 's/catalog: {}/catalog: {}\n  wishlist: {}/' config.yaml
	expect_status 0 testdb create --format json
	[ "$(json "$OUT" template)" != "$b" ] || fail "enabling a module kept the template"
	drop_tests
}

test_gc_drops_stale_templates_and_old_test_databases() {
	tdb_setup
	expect_status 0 testdb create --format json
	local old keep young
	old=$(json "$OUT" template)
	echo "-- edited" >>migrations/postgres/core/003_marker.up.sql
	expect_status 0 testdb create --format json
	keep=$(json "$OUT" template)
	young=$(json "$OUT" database)
	pg_admin -d postgres -c "CREATE DATABASE migrate_test_unmarked" >/dev/null
	expect_status 0 testdb gc
	assert_contains "$OUT" "dropped $old"
	assert_contains "$OUT" "dropped migrate_test_unmarked"
	assert_not_contains "$OUT" "$keep"
	assert_not_contains "$OUT" "$young"
	[ -z "$(scratch_dbs "$old")" ] || fail "$old still exists"
	[ -n "$(scratch_dbs "$keep")" ] || fail "gc dropped the current template"
	[ -n "$(scratch_dbs "$young")" ] || fail "gc dropped a young test database"
	expect_status 0 testdb gc --older-than 0
	assert_contains "$OUT" "dropped $young"
	[ -z "$(scratch_dbs migrate_test_)" ] || fail "test databases left: $(scratch_dbs migrate_test_)"
	expect_status 0 testdb gc
	assert_contains "$OUT" "nothing to drop"
	expect_status 2 testdb gc --older-than soon
	assert_contains "$ERR" "--older-than takes a duration"
}

test_killed_build_leaves_nothing_usable_and_next_create_works() {
	tdb_setup
	migration core 004_slow.up.sql "SELECT pg_sleep(4);"
	"$MIGRATE_BIN" testdb create --format json >killed.json 2>killed.err &
	local pid=$! i
	for i in $(seq 1 100); do
		[ -n "$(pg_admin -d postgres -c "SELECT 1 FROM pg_stat_activity WHERE query LIKE 'SELECT pg_sleep(4)%'")" ] && break
		sleep 0.1
	done
	[ "$i" -lt 100 ] || fail "the slow migration never started"
	kill -9 "$pid"
	wait "$pid" || true
	local tpl_now
	tpl_now=$(scratch_dbs migrate_tpl_ | grep -v '_tmp$' || true)
	# only a half-built _tmp may remain, never a template under its final name
	expect_status 0 testdb create --format json
	assert_eq "$(json "$OUT" template_built)" "true" "the next create builds"
	local tpl
	tpl=$(json "$OUT" template)
	if printf '%s\n' "$tpl_now" | grep -qx "$tpl"; then fail "$tpl existed after the killed build"; fi
	assert_eq "$(in_db "$(json "$OUT" dsn)" "SELECT t FROM marker")" "$SCRATCH" "clone after the killed build"
	[ -z "$(scratch_dbs "${tpl}_tmp")" ] || fail "the half-built database is still there"
	drop_tests
}

test_without_createdb_one_error_and_nothing_left() {
	tdb_setup
	# whatever another suite granted on a shared server (test_drift.sh does)
	pg_admin -d postgres -c "ALTER ROLE app NOCREATEDB" >/dev/null
	local before
	before=$(scratch_dbs migrate_)
	printf 'postgres:\n  dsn: "postgres://app:%s@127.0.0.1:%s/app"\n' "$PG_PASSWORD" "$MIGRATE_PG_PORT" >app.yaml
	expect_status 1 testdb create --config app.yaml
	assert_one_line "$ERR"
	assert_contains "$ERR" "role 'app' lacks the CREATEDB privilege"
	assert_not_contains "$ERR" "$PG_PASSWORD"
	assert_eq "$(scratch_dbs migrate_)" "$before" "databases after the refusal"
}

test_scratch_dsn_names_the_server_and_role_that_create() {
	tdb_setup
	# the application's role cannot create databases; scratch_dsn names one that can
	{
		printf 'postgres:\n  dsn: "postgres://app:%s@127.0.0.1:%s/app"\n' "$PG_PASSWORD" "$MIGRATE_PG_PORT"
		printf '  scratch_dsn: "host=%s port=%s user=postgres"\n' "$MIGRATE_PG_SOCKET" "$MIGRATE_PG_PORT"
		printf 'modules:\n  catalog: {}\n'
	} >scratch.yaml
	expect_status 0 testdb create --config scratch.yaml --format json
	assert_contains "$OUT" "user='postgres'"
	assert_not_contains "$OUT" "$PG_PASSWORD"
	assert_eq "$(in_db "$(json "$OUT" dsn)" "SELECT t FROM marker")" "$SCRATCH" "clone on the scratch server"
	printf 'postgres:\n  scratch_dsn: "host=%s port=%s nosuchkey=1"\n' "$MIGRATE_PG_SOCKET" "$MIGRATE_PG_PORT" >bad.yaml
	expect_status 2 testdb create --config bad.yaml
	assert_contains "$ERR" "postgres.scratch_dsn"
	drop_tests
}

test_drop_refuses_databases_migrate_did_not_create() {
	tdb_setup
	expect_status 0 testdb create --format json
	local made
	made=$(json "$OUT" database)
	expect_status 2 testdb drop "$made" "$DB"
	assert_contains "$ERR" "refusing to drop '$DB'"
	assert_one_line "$ERR"
	[ -n "$(scratch_dbs "$made")" ] || fail "dropped $made despite the refusal"
	pg_admin -d postgres -c "CREATE DATABASE migrate_test_by_hand" >/dev/null
	expect_status 2 testdb drop migrate_test_by_hand
	assert_contains "$ERR" "did not make it"
	pg_admin -d postgres -c "DROP DATABASE migrate_test_by_hand" >/dev/null
	expect_status 2 testdb drop postgres
	expect_status 2 testdb drop
	expect_status 2 testdb create --name mine
	assert_contains "$ERR" "must start with 'migrate_test_'"
	expect_status 0 testdb drop "$made"
	assert_contains "$OUT" "dropped $made"
	[ -z "$(scratch_dbs "$made")" ] || fail "$made still exists"
	expect_status 0 testdb create --name migrate_test_mine -q
	assert_contains "$OUT" "dbname='migrate_test_mine'"
	expect_status 2 testdb create --name migrate_test_mine
	assert_contains "$ERR" "already exists"
	expect_status 0 testdb drop migrate_test_mine
}

test_failing_migration_fails_the_build_and_leaves_no_template() {
	tdb_setup
	migration catalog 003_broken.up.sql "CREATE TABLE ok_first (id int);
SELECT 1;
CREATE TABLE broken (id nosuchtype);"
	local before
	before=$(scratch_dbs migrate_)
	expect_status 1 testdb create
	assert_one_line "$ERR"
	assert_contains "$ERR" "003_broken.up.sql:3"
	assert_contains "$ERR" "SQLSTATE 42704"
	assert_eq "$(scratch_dbs migrate_)" "$before" "databases after the failed build"
}

test_config_without_postgres_is_a_usage_error() {
	printf 'mongodb:\n  uri: "mongodb://127.0.0.1:1"\n  database: x\n' >config.yaml
	mkdir -p migrations/postgres
	expect_status 2 testdb create
	assert_contains "$ERR" "'postgres:' section"
	expect_status 2 reset --force
	expect_status 2 testdb frobnicate
}

test_create_seeds_mongodb_alongside() {
	: "${MIGRATE_TEST_MONGO_URI:?set MIGRATE_TEST_MONGO_URI (tests/run.sh starts the stand-in)}"
	tdb_setup "mongodb:" "  uri: \"$MIGRATE_TEST_MONGO_URI\"" "  database: unused"
	expect_status 0 testdb create --format json
	local db mdb
	db=$(json "$OUT" database)
	mdb=$(json "$OUT" mongodb_database)
	assert_eq "$mdb" "$db" "MongoDB database name"
	/usr/bin/python3 "$here/../lib/mongo_cmd.py" "$MIGRATE_TEST_MONGO_URI" "$mdb" '{"listIndexes": "products"}' >ix.json
	assert_contains ix.json "sku_unique"
	# the clone and its MongoDB twin together pass verify
	sed -e "s/dbname=$DB/dbname=$db/" -e "s/database: unused/database: $mdb/" config.yaml >twin.yaml
	expect_status 0 verify --config twin.yaml
	expect_status 0 testdb drop "$db"
	/usr/bin/python3 "$here/../lib/mongo_cmd.py" "$MIGRATE_TEST_MONGO_URI" "$mdb" '{"listCollections": 1}' >after.json
	assert_not_contains after.json "products"
}

test_reset_rolls_everything_back_and_applies_it_again() {
	tdb_setup
	expect_status 0 up -q
	sql "INSERT INTO users (email) VALUES ('a@example.com')" >/dev/null
	expect_status 2 reset
	assert_contains "$ERR" "reset would roll back 5 applied versions of 2 modules and then apply all 5 migrations"
	assert_contains "$ERR" "--force"
	assert_eq "$(sql "SELECT count(*) FROM users")" "1" "rows after the refusal"
	expect_status 0 reset --force
	assert_contains "$OUT" "rolled back catalog/002_create_reviews"
	assert_contains "$OUT" "reset: rolled back 5, applied 5"
	# catalog (the later module) goes down before core
	[ "$(grep -n 'rolled back catalog/001' "$OUT" | cut -d: -f1)" -lt "$(grep -n 'rolled back core/003' "$OUT" | cut -d: -f1)" ] ||
		fail "core rolled back before catalog: $(cat "$OUT")"
	assert_eq "$(sql "SELECT count(*) FROM users")" "0" "rows after reset"
	assert_eq "$(ledger | wc -l)" "5" "ledger after reset"
	# an applied version without .down.sql: refused before any change
	rm migrations/postgres/core/003_marker.down.sql
	sql "INSERT INTO users (email) VALUES ('b@example.com')" >/dev/null
	expect_status 2 reset --force
	assert_contains "$ERR" "core/3"
	assert_contains "$ERR" "no .down.sql"
	assert_eq "$(sql "SELECT count(*) FROM users")" "1" "rows after the refused reset"
	assert_eq "$(ledger | wc -l)" "5" "ledger after the refused reset"
}

test_example_program_creates_uses_and_drops_a_test_database() {
	tdb_setup
	local app
	app=$(dirname "$MIGRATE_BIN")/testdb_example
	[ -x "$app" ] || fail "example program not built at $app"
	"$app" config.yaml >ex.out 2>ex.err || fail "example failed: $(cat ex.err)"
	if grep -qE 'ERROR: (Address|Leak)Sanitizer|runtime error:' ex.err; then
		cat ex.err >&2
		fail "sanitizer report from the example"
	fi
	assert_contains ex.out "test: users has 0 rows"
	local made
	made=$(sed -n 's/^test: database \([a-z0-9_]*\) from.*/\1/p' ex.out)
	[ -n "$made" ] || fail "no database named in: $(cat ex.out)"
	[ -z "$(scratch_dbs "$made")" ] || fail "the example left $made behind"
}

run_tests

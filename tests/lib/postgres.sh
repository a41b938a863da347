# PostgreSQL helpers for integration tests, against the throwaway server that
# tests/run.sh started (scripts/pg-server.sh): a fresh database per test.
: "${MIGRATE_PG_PORT:?start the server with scripts/pg-server.sh}"
: "${MIGRATE_PG_SOCKET:?start the server with scripts/pg-server.sh}"
PG_PASSWORD=${MIGRATE_PG_PASSWORD:-s3cret-Pa55}

# psql as the superuser over the private socket
pg_admin() {
	psql -X -q -A -t -v ON_ERROR_STOP=1 -h "$MIGRATE_PG_SOCKET" -p "$MIGRATE_PG_PORT" -U postgres "$@"
}

# pg_major: the server's major version (13 ... 18); tests of a feature newer than the
# oldest server of the matrix (tests/run.sh --pg) branch on it
pg_major() {
	[ -n "${PG_MAJOR:-}" ] || PG_MAJOR=$(($(pg_admin -d postgres -c "SHOW server_version_num") / 10000))
	echo "$PG_MAJOR"
}

# new_db [SUFFIX]: creates a database owned by app; sets DB and DSN. A test that needs a
# second fresh database names it with a SUFFIX.
new_db() {
	DB="t_$(basename "$SCRATCH" | tr -c 'a-zA-Z0-9\n' '_' | tr 'A-Z' 'a-z')${1:+_$1}"
	pg_admin -d postgres -c "CREATE DATABASE $DB OWNER app" >/dev/null
	DSN="postgres://app:$PG_PASSWORD@127.0.0.1:$MIGRATE_PG_PORT/$DB"
	# drift's cache of expected schemas: the test's own, never the user's
	export XDG_CACHE_HOME="$SCRATCH/.cache"
}

# sql QUERY: runs QUERY in the test's database as the superuser, prints the result
sql() {
	pg_admin -d "$DB" -c "$1"
}

# sql_error QUERY: runs QUERY as sql does, for a statement that must fail; prints the error
sql_error() {
	local out
	if out=$(pg_admin -d "$DB" -c "$1" 2>&1); then
		fail "expected an error from: $1 (got: $out)"
	fi
	printf '%s\n' "$out"
}

# has_table NAME: 0 when the relation exists. Usually called under `if`, where errexit
# is off: a failing query is checked by hand.
has_table() {
	local r
	r=$(sql "SELECT to_regclass('$1') IS NOT NULL") || fail "has_table $1: the query failed"
	[ "$r" = "t" ]
}

ledger() { # the ledger as "module/version" lines, or nothing
	if has_table schema_migrations; then
		sql "SELECT module || '/' || version FROM schema_migrations ORDER BY module, version"
	fi
}

# write_config [extra yaml...]: a config.yaml for this test's database
write_config() {
	{
		printf 'postgres:\n  dsn: "%s"\n  lock_wait: 30s\n' "$DSN"
		printf '%s\n' "$@"
	} >config.yaml
}

# migration MODULE FILE SQL: writes migrations/postgres/MODULE/FILE
migration() {
	mkdir -p "migrations/postgres/$1"
	printf '%s\n' "$3" >"migrations/postgres/$1/$2"
}

# example_tree: the repository's example migrations, copied
example_tree() {
	cp -r "$MIGRATE_SOURCE_ROOT/migrations" .
}

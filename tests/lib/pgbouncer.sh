# A throwaway PgBouncer in transaction pooling mode in front of the test server, for the
# tests of `postgres.lock: table`. PgBouncer refuses to run as root: as root it runs as
# the postgres user through runuser, like the server.

# start_pgbouncer: starts it, sets PGBOUNCER_PORT and PGBOUNCER_DIR (outside the test's
# private scratch directory, which the postgres user cannot enter)
start_pgbouncer() {
	local dir
	dir=$(mktemp -d /tmp/migrate-pgbouncer.XXXXXX)
	chmod 755 "$dir"
	PGBOUNCER_DIR=$dir
	PGBOUNCER_PORT=$(/usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
	printf '"app" "%s"\n' "$PG_PASSWORD" >"$dir/userlist.txt"
	cat >"$dir/pgbouncer.ini" <<INI
[databases]
* = host=127.0.0.1 port=$MIGRATE_PG_PORT

[pgbouncer]
listen_addr = 127.0.0.1
listen_port = $PGBOUNCER_PORT
unix_socket_dir =
auth_type = scram-sha-256
auth_file = $dir/userlist.txt
pool_mode = transaction
; fewer server connections than clients: a session lock could not hold here
default_pool_size = 3
max_client_conn = 100
pidfile = $dir/pgbouncer.pid
logfile = $dir/pgbouncer.log
INI
	if [ "$(id -u)" -eq 0 ]; then
		chown -R postgres: "$dir"
		runuser -u postgres -- pgbouncer -d -q "$dir/pgbouncer.ini"
	else
		pgbouncer -d -q "$dir/pgbouncer.ini"
	fi
	for _ in $(seq 100); do
		[ -s "$dir/pgbouncer.pid" ] && pg_isready -q -h 127.0.0.1 -p "$PGBOUNCER_PORT" && return 0
		sleep 0.05
	done
	cat "$dir/pgbouncer.log" >&2
	return 1
}

stop_pgbouncer() {
	local dir=${PGBOUNCER_DIR:-}
	[ -n "$dir" ] || return 0
	[ -s "$dir/pgbouncer.pid" ] && kill "$(cat "$dir/pgbouncer.pid")" 2>/dev/null
	rm -rf "$dir"
	return 0
}

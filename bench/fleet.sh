#!/usr/bin/env bash
# The fleet benchmark (issue 15): 200 schema targets of one database plus 20 database
# targets, 10 migrations each, migrated by `migrate up --parallel 8` over the fleet versus
# a shell loop running `migrate up` once per target, in the same run on the same server.
# Prints the wall times, ratios, peak RSS and targets per second.
#
#   bench/fleet.sh MIGRATE_BIN WORK_DIR     (bench/run.sh calls it with its server up)
#
# Needs MIGRATE_PG_PORT and MIGRATE_PG_SOCKET (scripts/pg-server.sh). Environment:
# FLEET_SCHEMAS (200), FLEET_DATABASES (20), FLEET_MIGRATIONS (10), FLEET_PARALLEL (8).
set -euo pipefail

MIG=${1:?usage: bench/fleet.sh MIGRATE_BIN WORK_DIR}
WORK=${2:?usage: bench/fleet.sh MIGRATE_BIN WORK_DIR}
: "${MIGRATE_PG_PORT:?start the server with scripts/pg-server.sh}"
: "${MIGRATE_PG_SOCKET:?start the server with scripts/pg-server.sh}"
NS=${FLEET_SCHEMAS:-200}
ND=${FLEET_DATABASES:-20}
NM=${FLEET_MIGRATIONS:-10}
PAR=${FLEET_PARALLEL:-8}
PW=${MIGRATE_PG_PASSWORD:-s3cret-Pa55}
BASE="postgres://app:$PW@127.0.0.1:$MIGRATE_PG_PORT"

die() { echo "bench/fleet: $*" >&2; exit 1; }
log() { printf '[%s] fleet: %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
admin() {
	PGOPTIONS='-c client_min_messages=warning' psql -X -q -A -t -v ON_ERROR_STOP=1 \
		-h "$MIGRATE_PG_SOCKET" -p "$MIGRATE_PG_PORT" -U postgres "$@"
}
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", (b > 0 ? a / b : 0) }'; }
le() { awk -v a="$1" -v b="$2" 'BEGIN { print (a <= b) ? "yes" : "NO" }'; }
now_ms() { echo $((${EPOCHREALTIME/./} / 1000)); }

dir=$WORK/fleet
rm -rf "$dir"
mkdir -p "$dir/migrations/postgres/core"
cd "$dir"
for i in $(seq 1 "$NM"); do
	printf 'CREATE TABLE t%d (id bigint PRIMARY KEY, note text);\nCREATE INDEX ON t%d (note);\n' \
		"$i" "$i" >"migrations/postgres/core/$(printf %03d "$i")_t$i.up.sql"
done

# two identical fleets: one for migrate's fleet run (f), one for the loop (l)
log "creating 2 x ($NS schemas + $ND databases)"
for side in f l; do
	admin -d postgres -c "DROP DATABASE IF EXISTS fleet_$side WITH (FORCE)" -c "CREATE DATABASE fleet_$side OWNER app"
	for d in $(seq -w 1 "$ND"); do
		admin -d postgres -c "DROP DATABASE IF EXISTS fleet_${side}_$d WITH (FORCE)" \
			-c "CREATE DATABASE fleet_${side}_$d OWNER app"
	done
	# the loop's targets reach their schema through the DSN's search_path, so the schemas
	# exist beforehand on both sides
	seq -f "CREATE SCHEMA s%03g AUTHORIZATION app;" 1 "$NS" | admin -d "fleet_$side" >/dev/null
done

{
	printf 'postgres:\n  dsn: "%s/fleet_f"\n  lock_wait: 60s\n' "$BASE"
	printf 'targets:\n  kind: schema\n  list:\n'
	seq -f '    - { name: s%03g }' 1 "$NS"
} >schemas.yaml
{
	printf 'postgres:\n  dsn: "%s/fleet_f"\n  lock_wait: 60s\n' "$BASE"
	printf 'targets:\n  kind: database\n  list:\n'
	for d in $(seq -w 1 "$ND"); do
		printf '    - { name: db%s, dsn: "%s/fleet_f_%s" }\n' "$d" "$BASE" "$d"
	done
} >databases.yaml
printf 'postgres:\n  dsn: "${FLEET_DSN}"\n  lock_wait: 60s\n' >single.yaml

fleet_run() { # ARGS...: both fleets, one after the other
	"$MIG" up -q --parallel "$PAR" --config schemas.yaml "$@" &&
		"$MIG" up -q --parallel "$PAR" --config databases.yaml "$@"
}
loop_run() { # one `migrate up` per target, as a shell loop does it today
	local i d
	for i in $(seq -f %03g 1 "$NS"); do
		FLEET_DSN="$BASE/fleet_l?options=-csearch_path%3Ds$i" "$MIG" up -q --config single.yaml ||
			return 1
	done
	for d in $(seq -w 1 "$ND"); do
		FLEET_DSN="$BASE/fleet_l_$d" "$MIG" up -q --config single.yaml || return 1
	done
}
timed_ms() { # CMD...: prints the wall time in ms
	local t0 t1
	t0=$(now_ms)
	"$@" >/dev/null || die "'$*' failed"
	t1=$(now_ms)
	echo $((t1 - t0))
}
rss_kib() { # CMD...: the peak RSS of CMD (KiB), from /usr/bin/time -v
	/usr/bin/time -v "$@" 2>"$dir/time.txt" >/dev/null || { cat "$dir/time.txt" >&2; die "'$*' failed"; }
	awk -F': ' '/Maximum resident set size/ {print $2}' "$dir/time.txt"
}
rows_f() { admin -d fleet_f -c "SELECT count(*) FROM s$1.schema_migrations"; }

log "loop: $((NS + ND)) x migrate up"
LOOP_UP=$(timed_ms loop_run)
log "fleet: migrate up --parallel $PAR over $NS schemas, then $ND databases"
FLEET_UP=$(timed_ms fleet_run)
[ "$(rows_f 001)" = "$NM" ] && [ "$(rows_f "$(printf %03d "$NS")")" = "$NM" ] || die "fleet run left a ledger short"
[ "$(admin -d fleet_l -c "SELECT count(*) FROM s001.schema_migrations")" = "$NM" ] || die "loop run left a ledger short"
log "no-op runs"
LOOP_NOOP=$(timed_ms loop_run)
FLEET_NOOP=$(timed_ms fleet_run)

# peak RSS: the schema fleet's up from empty versus one single-target up from empty
admin -d fleet_f -c "DROP SCHEMA $(seq -f 's%03g' -s ', ' 1 "$NS") CASCADE" >/dev/null
seq -f "CREATE SCHEMA s%03g AUTHORIZATION app;" 1 "$NS" | admin -d fleet_f >/dev/null
RSS_FLEET=$(rss_kib "$MIG" up -q --parallel "$PAR" --config schemas.yaml)
admin -d postgres -c "DROP DATABASE IF EXISTS fleet_one WITH (FORCE)" -c "CREATE DATABASE fleet_one OWNER app"
RSS_ONE=$(FLEET_DSN="$BASE/fleet_one" rss_kib "$MIG" up -q --config single.yaml)

N=$((NS + ND))
R_UP=$(ratio "$FLEET_UP" "$LOOP_UP")
R_NOOP=$(ratio "$FLEET_NOOP" "$LOOP_NOOP")
R_RSS=$(ratio "$RSS_FLEET" "$RSS_ONE")
TPS=$(awk -v n="$N" -v ms="$FLEET_UP" 'BEGIN { printf "%.1f", (ms > 0 ? n * 1000 / ms : 0) }')
TPS_NOOP=$(awk -v n="$N" -v ms="$FLEET_NOOP" 'BEGIN { printf "%.1f", (ms > 0 ? n * 1000 / ms : 0) }')
TPS_LOOP=$(awk -v n="$N" -v ms="$LOOP_UP" 'BEGIN { printf "%.1f", (ms > 0 ? n * 1000 / ms : 0) }')

f1() { printf '%-48s %12s %8s %14s %5s\n' "$@"; }
echo
echo "fleet: $NS schema targets + $ND database targets, $NM migrations each (table + index), --parallel $PAR"
f1 "FIGURE" "VALUE" "RATIO" "TARGET" "MET?"
f1 "fleet up, from empty (loop: $LOOP_UP ms)" "$FLEET_UP ms" "${R_UP}x" "<= 0.50x loop" "$(le "$R_UP" 0.50)"
f1 "fleet up, nothing pending (loop: $LOOP_NOOP ms)" "$FLEET_NOOP ms" "${R_NOOP}x" "<= 0.25x loop" "$(le "$R_NOOP" 0.25)"
f1 "peak RSS, fleet up of $NS schemas (one: $((RSS_ONE / 1024)) MiB)" "$((RSS_FLEET / 1024)) MiB" "${R_RSS}x" "<= 2.00x one" "$(le "$R_RSS" 2.00)"
f1 "targets/s: fleet up | no-op | loop up" "$TPS | $TPS_NOOP | $TPS_LOOP" "-" "-" "-"

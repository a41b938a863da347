#!/usr/bin/env bash
# The lint --data figure of the benchmark (called by bench/run.sh, or alone against a
# running server): `migrate lint --data` on a pending `ALTER COLUMN c SET NOT NULL` over a
# 1,000,000-row table whose column is indexed, against the hand-written probe in psql
# (`SELECT 1 FROM t WHERE c IS NULL LIMIT 1`), both from a fresh process, median of RUNS
# (target <= 2x). Also printed, not in the ratio: the same without the index.
#
#   bench/lint_data.sh MIGRATE_BIN RUNS
# Environment: MIGRATE_PG_PORT, MIGRATE_PG_SOCKET (scripts/pg-server.sh), MIGRATE_PG_PASSWORD.
set -euo pipefail

MIG=$1 RUNS=${2:-5}
PSQL=$(pg_config --bindir)/psql
PASS=${MIGRATE_PG_PASSWORD:-s3cret-Pa55}
DSN="postgres://app:$PASS@127.0.0.1:$MIGRATE_PG_PORT/bench_lint_data"
W=$(mktemp -d /tmp/migrate-bench-lint-data.XXXXXX)
trap 'rm -rf "$W"' EXIT

die() { echo "bench/lint_data: $*" >&2; exit 1; }
admin() { PGOPTIONS='-c client_min_messages=warning' "$PSQL" -X -q -A -t -v ON_ERROR_STOP=1 -h "$MIGRATE_PG_SOCKET" -p "$MIGRATE_PG_PORT" -U postgres "$@"; }
now_us() { echo "${EPOCHREALTIME/./}"; }
median() { sort -n | awk '{a[NR] = $1} END { m = NR % 2 ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2; printf "%.1f", m }'; }

admin -d postgres -c "DROP DATABASE IF EXISTS bench_lint_data WITH (FORCE)" -c "CREATE DATABASE bench_lint_data OWNER app" >/dev/null
mkdir -p "$W/migrations/postgres/core"
printf 'postgres:\n  dsn: "%s"\nroot: migrations\nmodules: {}\n' "$DSN" >"$W/config.yaml"
printf 'CREATE TABLE t (id bigint PRIMARY KEY, c text);\n' >"$W/migrations/postgres/core/001_t.up.sql"
cat >"$W/migrations/postgres/core/002_nn.up.sql" <<'SQL'
-- migrate:phase contract
-- migrate:lint-ignore adding-not-nullable-field the figure is the data probe's
SET lock_timeout = '5s';
ALTER TABLE t ALTER COLUMN c SET NOT NULL;
SQL
(cd "$W" && mv migrations/postgres/core/002_nn.up.sql . && "$MIG" up -q && mv 002_nn.up.sql migrations/postgres/core/) ||
	die "up failed"
admin -d bench_lint_data -c "INSERT INTO t SELECT g, 'v' || g FROM generate_series(1, 1000000) g; ANALYZE t" >/dev/null

# time_ms CMD...: median wall time of RUNS runs, in ms
time_ms() {
	local i t0 t1
	for ((i = 0; i < RUNS; i++)); do
		t0=$(now_us)
		"$@" >/dev/null 2>&1 || true
		t1=$(now_us)
		echo $((t1 - t0))
	done | median | awk '{printf "%.1f", $1 / 1000}'
}
lint() { (cd "$W" && "$MIG" lint --data); }
probe() { "$PSQL" -X -q -A -t "$DSN" -c "SELECT 1 FROM t WHERE c IS NULL LIMIT 1"; }

(cd "$W" && "$MIG" lint --data >"$W/out.txt" 2>&1) || die "lint --data failed: $(cat "$W/out.txt")"
grep -q 'no findings' "$W/out.txt" || die "lint --data found something: $(cat "$W/out.txt")"
NOIDX_M=$(time_ms lint)
NOIDX_P=$(time_ms probe)
admin -d bench_lint_data -c "CREATE INDEX t_c ON t (c); ANALYZE t" >/dev/null
M=$(time_ms lint)
P=$(time_ms probe)
R=$(awk -v a="$M" -v b="$P" 'BEGIN { printf "%.2f", (b > 0 ? a / b : 0) }')
MET=$(awk -v r="$R" 'BEGIN { print (r <= 2) ? "yes" : "NO" }')
printf '%-44s %12s %8s %16s %5s\n' "lint --data, SET NOT NULL, 1M rows, indexed" "$M ms" "${R}x" "<= 2x psql probe" "$MET"
printf '%-44s %12s\n' "  psql probe, the same" "$P ms"
printf '%-44s %12s\n' "  without the index: lint --data" "$NOIDX_M ms"
printf '%-44s %12s\n' "  without the index: psql probe" "$NOIDX_P ms"
admin -d postgres -c "DROP DATABASE bench_lint_data WITH (FORCE)" >/dev/null

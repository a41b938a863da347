#!/usr/bin/env bash
# migrate lint side by side with squawk (npm squawk-cli, installed into the work
# directory, never into the project): wall time of `migrate lint --all` against squawk on
# the benchmark's generated tree of N migrations (goal: <= 0.5x squawk), and, for each
# case of tests/lint/cases, which rules each tool raised.
#
#   bench/lint.sh MIGRATE_BIN [GEN_DIR]
#
# GEN_DIR is bench/gen.py's output (bench/run.sh passes its own); without it a tree of
# BENCH_N (1000) migrations is generated here. BENCH_RUNS (5) timed runs, median printed.
# BENCH_SQUAWK: a squawk binary to use instead of installing one.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
src=$(cd "$here/.." && pwd)
MIG=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
RUNS=${BENCH_RUNS:-5}
N=${BENCH_N:-1000}
WORK=$(mktemp -d /tmp/migrate-bench-lint.XXXXXX)
trap 'rm -rf "$WORK"' EXIT
log() { printf '[%s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }

G=${2:-}
if [ -z "$G" ]; then
	G=$WORK/g
	log "generating $N migrations"
	/usr/bin/python3 "$here/gen.py" "$G" "postgres://localhost/none" "mongodb://localhost" "$N" 10 1 1
fi

SQUAWK=${BENCH_SQUAWK:-}
if [ -z "$SQUAWK" ]; then
	log "installing squawk-cli from npm into $WORK/squawk"
	npm install --prefix "$WORK/squawk" --no-audit --no-fund --loglevel=error squawk-cli >/dev/null
	SQUAWK=$WORK/squawk/node_modules/.bin/squawk
fi

# the tree's config without its postgres: section: both tools only read files
awk '/^postgres:/ {skip = 1; next} /^[^ ]/ {skip = 0} !skip' "$G/table.yaml" |
	sed "s|^root: .*|root: $G/table|" >"$WORK/lint.yaml"
mapfile -t FILES < <(find "$G/table/postgres" -name '*.up.sql' | sort)
[ "${#FILES[@]}" -gt 0 ] || { echo "bench/lint.sh: no migrations under $G/table" >&2; exit 1; }

# median wall time (ms) of RUNS runs of CMD...; the tools exit non-zero on findings
median_ms() {
	local i t0 t1
	for ((i = 0; i < RUNS; i++)); do
		t0=${EPOCHREALTIME/./}
		"$@" >/dev/null 2>&1 || true
		t1=${EPOCHREALTIME/./}
		echo $((t1 - t0))
	done | sort -n | awk '{a[NR] = $1} END {
		m = NR % 2 ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2; printf "%.1f", m / 1000 }'
}

log "timing both tools on ${#FILES[@]} files, $RUNS runs each"
"$MIG" lint --all --config "$WORK/lint.yaml" >/dev/null 2>&1 || true # warm the cache
M=$(median_ms "$MIG" lint --all --config "$WORK/lint.yaml")
S=$(median_ms "$SQUAWK" "${FILES[@]}")
R=$(awk -v a="$M" -v b="$S" 'BEGIN { printf "%.2f", (b > 0 ? a / b : 0) }')
MET=$(awk -v r="$R" 'BEGIN { print (r <= 0.5) ? "yes" : "NO" }')

echo
echo "lint: migrate $("$MIG" --version | head -1 | awk '{print $NF}') vs $("$SQUAWK" --version)"
printf '%-44s %12s %8s %16s %5s\n' "FIGURE" "VALUE" "RATIO" "TARGET" "MET?"
printf '%-44s %12s %8s %16s %5s\n' "lint --all, ${#FILES[@]} migrations" "$M ms" "${R}x" "<= 0.50x squawk" "$MET"
printf '%-44s %12s\n' "  squawk, the same files" "$S ms"

# per case: the rules each tool raised (squawk's prefer-robust-stmts and
# require-statement-timeout, which fire on nearly every statement, are left out)
echo
echo "rules raised per case of tests/lint/cases (squawk without prefer-robust-stmts, require-statement-timeout):"
printf '| %s | %s | %s |\n' "case" "migrate lint" "squawk"
printf '| --- | --- | --- |\n'
cd "$WORK" # no config.yaml here: the cases are linted as the test runner does
for dir in "$src"/tests/lint/cases/*/; do
	name=$(basename "$dir")
	args=$(sed -n 's/^args=//p' "$dir/case")
	# a tree case (config.yaml, migrations/) is linted as a tree by migrate, its files by squawk
	if [ -d "$dir/migrations" ]; then
		mapfile -t sqls < <(find "$dir/migrations" -name '*.sql' | sort)
		# shellcheck disable=SC2086 # args is a list of words
		mr=$(cd "$dir" && "$MIG" lint --format github $args 2>/dev/null | grep -oE 'title=[a-z -]+::' |
			sed 's/^title=//; s/::$//; s/ /-/g' | sort -u | paste -sd' ' || true)
	else
		sqls=("$dir"*.sql)
		# shellcheck disable=SC2086 # args is a list of words
		mr=$("$MIG" lint --format github $args "${sqls[@]}" 2>/dev/null | grep -oE 'title=[a-z -]+::' |
			sed 's/^title=//; s/::$//; s/ /-/g' | sort -u | paste -sd' ' || true)
	fi
	sr=$("$SQUAWK" --reporter gcc "${sqls[@]}" 2>/dev/null | grep -oE ' (warning|error): [a-z-]+' |
		awk '{print $2}' | grep -vxE 'prefer-robust-stmts|require-statement-timeout' |
		sort -u | paste -sd' ' || true)
	printf '| %s | %s | %s |\n' "$name" "${mr:--}" "${sr:--}"
done

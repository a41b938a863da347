#!/usr/bin/env bash
# A mutation score for the test suite: applies a seeded sample of small mutations to the
# code that decides correctness (tracking and verify, drift comparison, lint rules,
# config validation, the lock and lease, the plan's order), one at a time, to a copy of
# the tree; rebuilds; runs the suites that cover the mutated file; a mutant is killed
# when any of them fails (or times out). Prints each mutant's fate, then
# "killed K of T (P%)" and every survivor. A mutant that does not compile is stillborn
# and not counted. Slow (minutes per mutant): not part of tests/run.sh or CI.
#
#   tests/mutants.sh [COUNT [SEED]]      (default 60 mutants, seed 31)
#   MUTANTS_FILES="src/lint/lint.c" tests/mutants.sh 10    only these files
#   MUTANTS_FILES=... MUTANTS_LIST=survivors.tsv tests/mutants.sh   rerun given mutants
#     (FILE<TAB>LINE<TAB>COL<TAB>FROM<TAB>TO lines, as tests/lib/mutate.py list prints)
# Exit status 0 when at least MUTANTS_MIN_SCORE percent (default 90) were killed.
set -euo pipefail
src=$(cd "$(dirname "$0")/.." && pwd)
COUNT=${1:-60}
SEED=${2:-31}
MIN_SCORE=${MUTANTS_MIN_SCORE:-90}
PER_MUTANT_TIMEOUT=${MUTANTS_TIMEOUT:-900}

# file -> the meson tests that cover it (unit tests first: they kill fastest)
declare -A COVER=(
	[src/postgres/pg_track.c]="pg_track tracking postgres"
	[src/postgres/pg_track_scan.c]="pg_track tracking postgres"
	[src/core/ledger.c]="engine postgres production"
	[src/core/engine.c]="engine fake_backend postgres"
	[src/schema/schema_diff.c]="schema_diff drift"
	[src/lint/lint.c]="lint"
	[src/core/config.c]="config corpus"
	[src/postgres/pg_lease.c]="production postgres"
	[src/core/plan.c]="plan postgres"
	[src/core/module_order.c]="plan postgres"
)
if [ -n "${MUTANTS_FILES:-}" ]; then
	read -r -a FILES <<<"$MUTANTS_FILES"
else
	FILES=("${!COVER[@]}")
fi
for f in "${FILES[@]}"; do
	[ -f "$src/$f" ] || { echo "mutants: no $f (has the tree moved? update COVER in $0)" >&2; exit 2; }
	[ -n "${COVER[$f]:-}" ] || { echo "mutants: no covering suites listed for $f" >&2; exit 2; }
done

work=$(mktemp -d "${TMPDIR:-/tmp}/migrate-mutants.XXXXXX")
chmod 755 "$work"
trap 'rm -rf "$work"' EXIT
tree=$work/tree
mkdir "$tree"
# a copy of the working tree's tracked files: the checkout itself is never touched
(cd "$src" && git ls-files -z | xargs -0 cp --parents -t "$tree")
cd "$tree"
echo "mutants: building a copy of the tree in $work"
meson setup "$work/build" >"$work/setup.log" 2>&1 || { cat "$work/setup.log"; exit 1; }
ninja -C "$work/build" >"$work/ninja.log" 2>&1 || { cat "$work/ninja.log"; exit 1; }

# run_cover FILE: the covering tests against the current build; 0 when all pass
run_cover() {
	local status=0
	# shellcheck disable=SC2086
	timeout "$PER_MUTANT_TIMEOUT" meson test -C "$work/build" --no-rebuild --maxfail 1 \
		--num-processes 2 ${COVER[$1]} >"$work/test.log" 2>&1 || status=$?
	return "$status"
}

echo "mutants: the covering suites must pass on the unmutated tree first"
for f in "${FILES[@]}"; do
	run_cover "$f" || { echo "mutants: the suites for $f fail without a mutation:"; tail -30 "$work/test.log"; exit 1; }
done

if [ -n "${MUTANTS_LIST:-}" ]; then # rerun given mutants (FILE LINE COL FROM TO, tab-separated)
	cp "$MUTANTS_LIST" "$work/mutants.tsv"
else
	python3 "$src/tests/lib/mutate.py" list "$SEED" "$COUNT" "${FILES[@]}" >"$work/mutants.tsv"
fi
total=0 killed=0 stillborn=0
survivors=()
while IFS=$'\t' read -r file line col from to; do
	cp "$file" "$work/original"
	python3 "$src/tests/lib/mutate.py" apply "$file" "$line" "$col" "$from" "$to"
	what="$file:$line:$col '${from}' -> '${to}'"
	if ! ninja -C "$work/build" >"$work/ninja.log" 2>&1; then
		stillborn=$((stillborn + 1))
		echo "stillborn  $what"
	else
		total=$((total + 1))
		if run_cover "$file"; then
			survivors+=("$what: $(sed -n "${line}p" "$file" | sed 's/^[[:space:]]*//')")
			echo "SURVIVED   $what"
		else
			killed=$((killed + 1))
			echo "killed     $what"
		fi
	fi
	cp "$work/original" "$file"
	touch "$file"
done <"$work/mutants.tsv"
ninja -C "$work/build" >/dev/null 2>&1 || true

echo
echo "mutants: killed $killed of $total ($((total ? killed * 100 / total : 0))%), $stillborn stillborn, seed $SEED"
if [ "${#survivors[@]}" -gt 0 ]; then
	echo "survivors:"
	printf '  %s\n' "${survivors[@]}"
fi
[ "$total" -gt 0 ] && [ $((killed * 100)) -ge $((MIN_SCORE * total)) ]

#!/usr/bin/env bash
# Randomized histories (tests/integration/gen_history.py, issue 24): seeded trees of
# tables, keys, indexes, views, functions, triggers, types and sequences, later altered,
# renamed and dropped (also through CASCADE and in DO blocks), each with a faithful
# down; random sequences of up, up --module M --to V and down --steps K, after each of
# which verify must be clean and drift must find 0 differences; then one tracked
# object dropped by hand, which verify must name alone.
#
# CI: MIGRATE_TEST_HISTORIES (200) histories x 10 steps on MIGRATE_TEST_WORKERS (2)
# workers, plus every seed of history_seeds.txt (once failing: kept as regression
# cases). MIGRATE_TEST_LONG=1: MIGRATE_TEST_HISTORIES (default 2000) histories, drift
# after every step. A failure prints its seed; `gen_history.py write SEED DIR` writes
# that history for reading, and its seed goes into history_seeds.txt once fixed.
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../lib/harness.sh"
. "$here/../lib/postgres.sh"

gen() {
	/usr/bin/python3 "$here/gen_history.py" "$@"
}

# the generator is a pure function of its seed, and seeds differ
test_generator_is_deterministic() {
	gen write 42 a
	gen write 42 b
	gen write 43 c
	diff -r a b >/dev/null || fail "seed 42 wrote two different trees"
	if diff -r a c >/dev/null; then
		fail "seeds 42 and 43 wrote the same tree"
	fi
	# every kind of migration the generator knows appears in 200 seeds
	local kinds
	gen write-range 1 200 .
	kinds=$(find t* -name '*.up.sql' | sed 's/.*[0-9]_\(.*\)\.up\.sql/\1/' | sort -u | tr '\n' ' ')
	assert_eq "$kinds" "add_column alter_type create_function create_index create_table create_trigger create_type create_view drop drop_column rename " "migration kinds"
	grep -l 'DO \$\$' t*/migrations/postgres/*/*.up.sql >/dev/null || fail "no DO block in 200 histories"
	grep -l 'CASCADE' t*/migrations/postgres/*/*.up.sql >/dev/null || fail "no CASCADE in 200 histories"
	grep -l 'IF NOT EXISTS' t*/migrations/postgres/*/*.down.sql >/dev/null || fail "no IF NOT EXISTS down"
}

# the harness can fail: downs that put back nothing their up dropped are caught, by
# seed (verify or drift names what is missing)
test_broken_downs_are_caught() {
	run_history() {
		gen run --first 1 --seeds 12 --steps 10 --drift-every 3 --break-downs --keep "$PWD/kept" >log 2>&1
	}
	if run_history; then
		cat log >&2
		fail "histories whose downs restore nothing passed"
	fi
	grep -q '^FAILED seed [0-9]*: steps: ' log || { cat log >&2; fail "no failing seed named"; }
	grep -qE "^(missing|drift: )|'migrate (verify|drift)' exited" log || { cat log >&2; fail "no missing object named"; }
	[ -d kept ] || fail "no failing tree kept"
}

test_regression_seeds() {
	local n
	n=$(grep -cE '^[0-9]' "$here/history_seeds.txt" || true)
	[ "$n" -gt 0 ] || fail "history_seeds.txt holds no seed"
	gen run --seed-file "$here/history_seeds.txt" --seeds 0 --steps 10 --drift-every 1 \
		--keep "$PWD/kept" >log 2>&1 || { cat log >&2; fail "a regression seed fails"; }
	assert_contains log "# $n passed, 0 failed"
}

test_random_histories() {
	local n=${MIGRATE_TEST_HISTORIES:-200} drift=${MIGRATE_TEST_DRIFT_EVERY:-5}
	if [ -n "${MIGRATE_TEST_LONG:-}" ]; then
		n=${MIGRATE_TEST_HISTORIES:-2000}
		drift=1
	fi
	gen run --seeds "$n" --steps 10 --drift-every "$drift" --workers "${MIGRATE_TEST_WORKERS:-2}" \
		--keep "$PWD/kept" >log 2>&1 || { cat log >&2; fail "random histories failed (seeds above)"; }
	cat log >&2
	assert_contains log "# $n passed, 0 failed, $((n * 10)) steps"
}

run_tests

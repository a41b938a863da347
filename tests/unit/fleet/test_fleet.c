/* Unit tests of the fleet's pure parts: --shard parsing, the stable shard of a name, and
 * the per-schema advisory lock key (src/fleet/fleet_targets.c, src/postgres/pg_fleet.c). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "postgres/pg_fleet.h"
#include "fleet/fleet.h"

static void test_parse_shard(void **state)
{
	(void)state;
	unsigned long i = 99, n = 99;
	assert_int_equal(mig_fleet_parse_shard("0/1", &i, &n), 0);
	assert_int_equal(i, 0);
	assert_int_equal(n, 1);
	assert_int_equal(mig_fleet_parse_shard("3/4", &i, &n), 0);
	assert_int_equal(i, 3);
	assert_int_equal(n, 4);
	const char *bad[] = {"3/2", "2/2", "1/0", "0/0", "/", "1/", "/3", "x/3", "-1/3", "1/3x",
			     "1 /3", "+1/3", "1", "", "0/100001", "1234567890/1234567891"};
	for (size_t k = 0; k < sizeof bad / sizeof *bad; k++)
		if (mig_fleet_parse_shard(bad[k], &i, &n) == 0)
			fail_msg("'%s' was accepted", bad[k]);
}

static void test_shards_are_stable_disjoint_and_cover(void **state)
{
	(void)state;
	/* FNV-1a 64 is fixed: the same name lands in the same shard on every machine */
	assert_int_equal(mig_fleet_shard_of("", 7), 14695981039346656037ull % 7);
	assert_int_equal(mig_fleet_shard_of("acme", 1), 0);
	size_t count[5] = {0};
	char name[16];
	for (int k = 0; k < 1000; k++) {
		snprintf(name, sizeof name, "tenant%d", k);
		unsigned long s = mig_fleet_shard_of(name, 5);
		assert_true(s < 5);
		assert_int_equal(s, mig_fleet_shard_of(name, 5));
		count[s]++;
	}
	for (int s = 0; s < 5; s++) /* roughly even: 200 each */
		assert_in_range(count[s], 120, 280);
}

static void test_schema_lock_keys(void **state)
{
	(void)state;
	const long long base = 7883936066298981LL;
	long long a = mig_pg_schema_lock_key(base, "acme");
	assert_true(a >= 0);
	assert_true(a != base);
	assert_int_equal(a, mig_pg_schema_lock_key(base, "acme"));
	assert_true(a != mig_pg_schema_lock_key(base, "acmf"));
	assert_true(mig_pg_schema_lock_key(base, "t01") != mig_pg_schema_lock_key(base, "t02"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_shard),
		cmocka_unit_test(test_shards_are_stable_disjoint_and_cover),
		cmocka_unit_test(test_schema_lock_keys),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

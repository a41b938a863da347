/* Unit tests of the split of a roundtrip among its shadows (src/cli/roundtrip_split.c):
 * on random selections, the split is a cover of the selection in plan order by at most
 * w stretches, and its costliest stretch is the cheapest any such cover has (found here
 * by trying every cover). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdlib.h>

#include "cli/roundtrip_split.h"

enum { MAX_M = 12 };

static unsigned long long costliest(const size_t *sel, size_t m, const size_t *first, size_t n)
{
	unsigned long long worst = 0;
	for (size_t k = 0; k < n; k++) {
		size_t end = k + 1 < n ? first[k + 1] - 1 : m - 1;
		unsigned long long c = mig_roundtrip_stretch_cost(sel, first[k], end);
		if (c > worst)
			worst = c;
	}
	return worst;
}

/* The cheapest costliest stretch over every cover of sel[0 .. m) by at most w
 * stretches: best[k][j], the first j selected by k stretches. */
static unsigned long long best_cover(const size_t *sel, size_t m, size_t w)
{
	unsigned long long best[MAX_M + 1][MAX_M + 1];
	for (size_t k = 0; k <= w && k <= MAX_M; k++)
		for (size_t j = 0; j <= m; j++)
			best[k][j] = j == 0 ? 0 : ~0ULL;
	for (size_t k = 1; k <= w && k <= MAX_M; k++)
		for (size_t j = 1; j <= m; j++)
			for (size_t i = 0; i < j; i++) {
				if (best[k - 1][i] == ~0ULL)
					continue;
				unsigned long long c = mig_roundtrip_stretch_cost(sel, i, j - 1);
				unsigned long long v = c > best[k - 1][i] ? c : best[k - 1][i];
				if (v < best[k][j])
					best[k][j] = v;
			}
	unsigned long long r = ~0ULL;
	for (size_t k = 1; k <= w && k <= MAX_M; k++)
		if (best[k][m] < r)
			r = best[k][m];
	return r;
}

/* 5,000 random selections (seeded: a failure names its case) */
static void test_split_is_the_cheapest_cover(void **state)
{
	(void)state;
	srand(20261207);
	for (int run = 0; run < 5000; run++) {
		size_t m = 1 + (size_t)rand() % MAX_M, w = 1 + (size_t)rand() % 6;
		size_t sel[MAX_M], first[MAX_M], n = 0, pos = (size_t)rand() % 5;
		for (size_t k = 0; k < m; k++) {
			sel[k] = pos;
			pos += 1 + (size_t)(rand() % 3 == 0 ? rand() % 400 : 0);
		}
		mig_error err = {0};
		assert_int_equal(mig_roundtrip_split(sel, m, w, first, &n, &err), MIG_OK);
		if (n < 1 || n > w || n > m || first[0] != 0)
			fail_msg("run %d: %zu stretches for %zu migrations and %zu shadows", run, n,
				 m, w);
		for (size_t k = 1; k < n; k++)
			if (first[k] <= first[k - 1] || first[k] >= m)
				fail_msg("run %d: stretch %zu begins at %zu", run, k, first[k]);
		unsigned long long got = costliest(sel, m, first, n), want = best_cover(sel, m, w);
		if (got != want)
			fail_msg("run %d: costliest stretch %llu, the best cover's %llu", run, got, want);
	}
}

/* one shadow: one stretch, whatever the history */
static void test_one_shadow_one_stretch(void **state)
{
	(void)state;
	size_t sel[] = {0, 3, 4, 90}, first[4], n = 0;
	mig_error err = {0};
	assert_int_equal(mig_roundtrip_split(sel, 4, 1, first, &n, &err), MIG_OK);
	assert_int_equal(n, 1);
	assert_int_equal(first[0], 0);
}

/* the benchmark's shape: 1,000 migrations, two shadows. A later round trip costs more,
 * so the first stretch is the longer one, and the two cost about the same. */
static void test_a_long_history_in_two_balanced_stretches(void **state)
{
	(void)state;
	enum { M = 1000 };
	size_t *sel = malloc(M * sizeof *sel), first[2], n = 0;
	assert_non_null(sel);
	for (size_t k = 0; k < M; k++)
		sel[k] = k;
	mig_error err = {0};
	assert_int_equal(mig_roundtrip_split(sel, M, 2, first, &n, &err), MIG_OK);
	assert_int_equal(n, 2);
	assert_true(first[1] > M / 2);
	unsigned long long a = mig_roundtrip_stretch_cost(sel, 0, first[1] - 1);
	unsigned long long b = mig_roundtrip_stretch_cost(sel, first[1], M - 1);
	unsigned long long one = mig_roundtrip_stretch_cost(sel, M - 1, M - 1);
	assert_true(a > b ? a - b <= one : b - a <= one);
	free(sel);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_split_is_the_cheapest_cover),
		cmocka_unit_test(test_one_shadow_one_stretch),
		cmocka_unit_test(test_a_long_history_in_two_balanced_stretches),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

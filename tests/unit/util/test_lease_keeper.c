/* Unit tests of the lease keeper (src/util/lease_keeper.c): it renews on its interval and
 * not before, a stop returns at once however long the interval, and the first failed
 * renewal is reported (with its text, to every later caller), calls on_lost once and ends
 * the renewals. Timings are generous bounds, not exact counts, so a busy machine does not
 * fail them. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "util/lease_keeper.h"
#include "unit.h"

typedef struct {
	pthread_mutex_t mu;
	int renewals;  /* calls of renew */
	int fail_at;   /* the renewal (1-based) that fails; 0 = none */
	int lost_calls;
	long long first_ms; /* when the first renewal came, from the start */
	long long start_ms;
} probe;

static long long mono_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void sleep_ms(long long ms)
{
	struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000};
	nanosleep(&ts, NULL);
}

static bool renew(void *ctx, char *why, size_t size)
{
	probe *p = ctx;
	pthread_mutex_lock(&p->mu);
	int n = ++p->renewals;
	if (n == 1)
		p->first_ms = mono_ms() - p->start_ms;
	bool ok = n != p->fail_at;
	pthread_mutex_unlock(&p->mu);
	if (!ok)
		snprintf(why, size, "lost the lock: renewal %d refused", n);
	return ok;
}

static void on_lost(void *ctx)
{
	probe *p = ctx;
	pthread_mutex_lock(&p->mu);
	p->lost_calls++;
	pthread_mutex_unlock(&p->mu);
}

static int renewals(probe *p)
{
	pthread_mutex_lock(&p->mu);
	int n = p->renewals;
	pthread_mutex_unlock(&p->mu);
	return n;
}

static void probe_init(probe *p, int fail_at)
{
	memset(p, 0, sizeof *p);
	pthread_mutex_init(&p->mu, NULL);
	p->fail_at = fail_at;
	p->start_ms = mono_ms();
}

/* Waits up to 5 s for k to report a lost lease, its why into why. */
static void wait_lost(mig_lease_keeper *k, char *why, size_t size)
{
	long long deadline = mono_ms() + 5000;
	while (!mig_lease_keeper_lost(k, why, size) && mono_ms() < deadline)
		sleep_ms(1);
}

static void test_renews_on_its_interval(void **state)
{
	(void)state;
	probe p;
	probe_init(&p, 0);
	mig_lease_keeper *k = NULL;
	assert_int_equal(mig_lease_keeper_start(&k, 50, renew, on_lost, &p), 0);
	assert_non_null(k);
	sleep_ms(30);
	assert_int_equal(renewals(&p), 0); /* not before the first interval */
	sleep_ms(500);
	mig_lease_keeper_stop(k);
	long long elapsed = mono_ms() - p.start_ms;
	int n = p.renewals;
	/* one per 50 ms at the most (each interval counts from the previous renewal), and on an
	 * idle machine 10 in the 530 ms: at least a few however busy it is */
	if (n < 3 || n > elapsed / 50)
		fail_msg("%d renewals in %lld ms at every 50 ms", n, elapsed);
	assert_true(p.first_ms >= 50);
	assert_int_equal(p.lost_calls, 0);
	pthread_mutex_destroy(&p.mu);
}

static void test_holding_lease_is_not_lost(void **state)
{
	(void)state;
	probe p;
	probe_init(&p, 0);
	mig_lease_keeper *k = NULL;
	assert_int_equal(mig_lease_keeper_start(&k, 10, renew, NULL, &p), 0);
	sleep_ms(60);
	char why[64] = "untouched";
	assert_false(mig_lease_keeper_lost(k, why, sizeof why));
	assert_string_equal(why, "untouched");
	mig_lease_keeper_stop(k);
	assert_true(p.renewals >= 1);
	pthread_mutex_destroy(&p.mu);
}

static void test_stops_promptly(void **state)
{
	(void)state;
	probe p;
	probe_init(&p, 0);
	mig_lease_keeper *k = NULL;
	assert_int_equal(mig_lease_keeper_start(&k, 60 * 60 * 1000, renew, on_lost, &p), 0);
	sleep_ms(20);
	long long t0 = mono_ms();
	mig_lease_keeper_stop(k);
	long long took = mono_ms() - t0;
	if (took > 500)
		fail_msg("stopping a keeper with an hour's interval took %lld ms", took);
	assert_int_equal(p.renewals, 0);
	mig_lease_keeper_stop(NULL); /* accepts NULL */
	pthread_mutex_destroy(&p.mu);
}

static void test_reports_the_first_failed_renewal(void **state)
{
	(void)state;
	probe p;
	probe_init(&p, 2);
	mig_lease_keeper *k = NULL;
	assert_int_equal(mig_lease_keeper_start(&k, 10, renew, on_lost, &p), 0);
	char why[128] = "";
	wait_lost(k, why, sizeof why);
	assert_string_equal(why, "lost the lock: renewal 2 refused");
	sleep_ms(60); /* six more intervals: a keeper that went on would renew again */
	char again[128] = "";
	assert_true(mig_lease_keeper_lost(k, again, sizeof again));
	assert_string_equal(again, why);
	mig_lease_keeper_stop(k);
	assert_int_equal(p.renewals, 2);
	assert_int_equal(p.lost_calls, 1);
	pthread_mutex_destroy(&p.mu);
}

static void test_zero_interval_counts_as_one_ms(void **state)
{
	(void)state;
	probe p;
	probe_init(&p, 3);
	mig_lease_keeper *k = NULL;
	assert_int_equal(mig_lease_keeper_start(&k, 0, renew, on_lost, &p), 0);
	char why[128] = "";
	wait_lost(k, why, sizeof why);
	mig_lease_keeper_stop(k);
	assert_string_equal(why, "lost the lock: renewal 3 refused");
	assert_int_equal(p.renewals, 3);
	pthread_mutex_destroy(&p.mu);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_renews_on_its_interval),
		cmocka_unit_test(test_holding_lease_is_not_lost),
		cmocka_unit_test(test_stops_promptly),
		cmocka_unit_test(test_reports_the_first_failed_renewal),
		cmocka_unit_test(test_zero_interval_counts_as_one_ms),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

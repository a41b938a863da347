/* Unit tests of the clocks in milliseconds and the pause (src/util/clock.c), which the
 * locks' polling, the scratch databases' retry, `wait` and the engine's retries use. */
#define _POSIX_C_SOURCE 200809L
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <sys/time.h>
#include <time.h>

#include "util/clock.h"

/* a sleep lasts at least what was asked: a shorter one would poll a lock too often */
static void test_sleep_lasts_at_least_what_was_asked(void **state)
{
	(void)state;
	long long before = mig_now_ms();
	mig_sleep_ms(60);
	long long slept = mig_now_ms() - before;
	assert_true(slept >= 60);
	assert_true(slept < 60000); /* milliseconds, not microseconds */
}

/* the clock never goes back, whatever the wall clock does */
static void test_clock_never_goes_back(void **state)
{
	(void)state;
	long long last = mig_now_ms();
	for (int i = 0; i < 100000; i++) {
		long long now = mig_now_ms();
		assert_true(now >= last);
		last = now;
	}
}

/* a deadline already passed asks for 0 ms or less: no wait, and no negative sleep */
static void test_no_sleep_for_zero_or_less(void **state)
{
	(void)state;
	long long before = mig_now_ms();
	mig_sleep_ms(0);
	mig_sleep_ms(-1500);
	assert_true(mig_now_ms() - before < 1000);
}

static void on_alarm(int sig)
{
	(void)sig;
}

/* a signal handler that runs during the pause does not cut it short (no SA_RESTART:
 * nanosleep returns EINTR, and the pause goes on for what is left) */
static void test_sleep_resumes_after_a_signal(void **state)
{
	(void)state;
	struct sigaction sa = {0}, old;
	sa.sa_handler = on_alarm;
	sigemptyset(&sa.sa_mask);
	assert_int_equal(sigaction(SIGALRM, &sa, &old), 0);
	struct itimerval t = {.it_value = {.tv_sec = 0, .tv_usec = 30000}};
	assert_int_equal(setitimer(ITIMER_REAL, &t, NULL), 0);
	long long before = mig_now_ms();
	mig_sleep_ms(200);
	long long slept = mig_now_ms() - before;
	sigaction(SIGALRM, &old, NULL);
	assert_true(slept >= 200);
}

/* the wall clock is the epoch's, in milliseconds: what a lease's expiry is written in */
static void test_wall_clock_is_the_epoch_in_ms(void **state)
{
	(void)state;
	long long before = (long long)time(NULL) * 1000;
	long long wall = mig_wall_ms();
	long long after = (long long)time(NULL) * 1000 + 1000;
	assert_true(wall >= before && wall <= after);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sleep_lasts_at_least_what_was_asked),
		cmocka_unit_test(test_clock_never_goes_back),
		cmocka_unit_test(test_no_sleep_for_zero_or_less),
		cmocka_unit_test(test_sleep_resumes_after_a_signal),
		cmocka_unit_test(test_wall_clock_is_the_epoch_in_ms),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

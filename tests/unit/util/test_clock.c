/* Unit tests of the monotonic clock in milliseconds (src/util/clock.c), which the lock's
 * polling and the scratch databases' retry measure their waits with. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

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

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sleep_lasts_at_least_what_was_asked),
		cmocka_unit_test(test_clock_never_goes_back),
		cmocka_unit_test(test_no_sleep_for_zero_or_less),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

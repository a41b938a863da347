/* Milliseconds on the monotonic clock, for deadlines and pauses between attempts (the
 * lock's polling, a busy template's retry). */
#ifndef MIGRATE_CLOCK_H
#define MIGRATE_CLOCK_H

/* Milliseconds since an arbitrary fixed point (CLOCK_MONOTONIC): only differences mean
 * anything. Cannot fail. */
long long mig_now_ms(void);

/* Sleeps ms milliseconds (0 or less: returns at once); a signal may end it early. */
void mig_sleep_ms(long long ms);

#endif

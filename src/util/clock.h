/* Milliseconds on the monotonic and the wall clock, and pauses between attempts (the
 * locks' polling, a busy template's retry, `wait`, the engine's retries): one copy for
 * every folder. */
#ifndef MIGRATE_CLOCK_H
#define MIGRATE_CLOCK_H

/* Milliseconds since an arbitrary fixed point (CLOCK_MONOTONIC): only differences mean
 * anything. Cannot fail. */
long long mig_now_ms(void);

/* Milliseconds since the epoch (CLOCK_REALTIME): for times other processes read (a
 * lease's expiry stored in a database), never for measuring a wait. */
long long mig_wall_ms(void);

/* Sleeps ms milliseconds (0 or less: returns at once), resuming after a signal handler
 * ran, so a pause lasts what was asked. */
void mig_sleep_ms(long long ms);

#endif

/* A lease keeper: a thread that renews a lease on a timer while its owner works, and
 * remembers the first renewal that failed. What a renewal is (an UPDATE of a lock row, a
 * MongoDB update of a lock document) is the caller's callback; the thread, its timing and
 * its stopping are here. Both backends' leased locks use it (postgres/pg_lease.c,
 * mongodb/mongo_migrate_lock.c). */
#ifndef MIGRATE_LEASE_KEEPER_H
#define MIGRATE_LEASE_KEEPER_H

#include <stdbool.h>
#include <stddef.h>

typedef struct mig_lease_keeper mig_lease_keeper;

/* One renewal, run on the keeper's thread: true while the lease holds; false with why
 * (size bytes) filled when it is lost. */
typedef bool (*mig_lease_renew_fn)(void *ctx, char *why, size_t size);

/* Called once, on the keeper's thread and under its lock, right after the first failed
 * renewal (unless a stop was asked for meanwhile): it must not call the keeper back. */
typedef void (*mig_lease_lost_fn)(void *ctx);

/* Starts a thread that calls renew(ctx) every every_ms milliseconds (below 1 counts as 1;
 * measured on the monotonic clock, so a change of the wall clock moves nothing) until
 * stopped or until a renewal fails; then it records why, calls on_lost(ctx) when not NULL
 * and renews no more. The first renewal comes every_ms after the start. Returns 0, or an
 * errno value (ENOMEM, or pthread_create's) with *out NULL and nothing running. *out is
 * the caller's (mig_lease_keeper_stop); ctx must outlive it. */
int mig_lease_keeper_start(mig_lease_keeper **out, long long every_ms, mig_lease_renew_fn renew,
			   mig_lease_lost_fn on_lost, void *ctx);

/* False while every renewal so far held; once one failed, true with its why copied into
 * why (size bytes), on this and every later call. Safe while the thread runs. */
bool mig_lease_keeper_lost(mig_lease_keeper *k, char *why, size_t size);

/* Wakes the thread, waits for it (a renewal under way finishes first) and frees k;
 * accepts NULL. */
void mig_lease_keeper_stop(mig_lease_keeper *k);

#endif

/* The lease keeper of `postgres.lock: table`: a second connection on a timer thread that
 * renews the leased lock row every third of postgres.lock_lease while migrations run, and
 * cancels the migrating connection's statement the moment a renewal fails or finds the
 * lease taken, so one long migration can never let a second run in. */
#ifndef MIGRATE_PG_LEASE_H
#define MIGRATE_PG_LEASE_H

#include <libpq-fe.h>

#include "driver/sql_config.h"
#include "util/error.h"

typedef struct mig_pg_keeper mig_pg_keeper;

/* The lease statements, shared with pg_lock.c's taking of the lock: $1 holder, $2 host (take
 * only), and the lease length in milliseconds ($3 take, $2 renew). */
extern const char mig_pg_lease_take[];
extern const char mig_pg_lease_renew[];

/* Connects a second session with cfg's DSN and starts renewing holder's lease; main is the
 * migrating connection, whose running statement is cancelled when the lease is lost. On
 * failure nothing runs and *out is NULL. *out is the caller's (mig_pg_keeper_stop). */
int mig_pg_keeper_start(mig_pg_keeper **out, const mig_sql_config *cfg, const char *holder,
			PGconn *main, mig_error *err);

/* MIG_OK while the lease holds; once lost, MIG_EFAIL saying why (and on every later call). */
int mig_pg_keeper_check(mig_pg_keeper *k, mig_error *err);

/* Stops the thread and closes its connection; accepts NULL. */
void mig_pg_keeper_stop(mig_pg_keeper *k);

#endif

/* `migrate lint --data` on PostgreSQL: the driver op data_probe (driver.h). */
#ifndef MIGRATE_POSTGRES_PG_PROBE_H
#define MIGRATE_POSTGRES_PG_PROBE_H

#include <libpq-fe.h>

#include "driver/driver.h"

/* Runs probes[0..n) in one READ ONLY transaction (ACCESS SHARE only), each SELECT
 * LIMIT-bounded, under statement_timeout = timeout_ms and a lock_timeout of at most
 * 500 ms; a probe that times out, waits for a lock or fails is NOT_CHECKED with why. */
int mig_pg_data_probe(PGconn *conn, mig_data_probe *probes, size_t n, long long timeout_ms,
		      mig_error *err);

#endif

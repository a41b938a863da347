/* What the PostgreSQL driver does for fleets: reading targets.query, and the advisory
 * lock key of a schema target (one migrator per schema, not per database). */
#ifndef MIGRATE_PG_FLEET_H
#define MIGRATE_PG_FLEET_H

#include <libpq-fe.h>
#include <stddef.h>

#include "util/error.h"

/* base mixed with a stable 64-bit hash (FNV-1a) of schema: the same schema always
 * gives the same key, in every process and on every machine. */
long long mig_pg_schema_lock_key(long long base, const char *schema);

/* Runs query on conn (see mig_sql_driver.targets_read). */
int mig_pg_targets_read(PGconn *conn, const char *query, char ***cells, size_t *nrows,
			size_t *ncols, mig_error *err);

#endif

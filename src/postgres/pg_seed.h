/* `migrate seed --data` on PostgreSQL: the driver ops seeds_read and seed_reset
 * (driver.h). Loading a seed file is pg_apply's (a step with seed set). */
#ifndef MIGRATE_POSTGRES_PG_SEED_H
#define MIGRATE_POSTGRES_PG_SEED_H

#include <libpq-fe.h>

#include "driver/driver.h"

/* schema_migrations_seeds, sorted by module then name (strcmp's order); no rows when the
 * table does not exist. *out is the caller's (mig_repeatable_ledger_clear). */
int mig_pg_seeds_read(PGconn *conn, mig_repeatable_ledger *out, mig_error *err);

/* The rows of a query over schema_migrations_repeatable or _seeds (module, name,
 * checksum, rendered checksum, and the failed checksum when there is a fifth column) into
 * *out; NULL checks stay the caller's. Shared by both ledgers' readers (pg_ledger.c and here). */
int mig_pg_repeatable_rows(const PGresult *res, mig_repeatable_ledger *out, mig_error *err);

/* The driver's seed_reset: one transaction that resolves tables, refuses a foreign key
 * from any other table into them, truncates them (RESTART IDENTITY, never CASCADE) and
 * forgets the seed rows of the files. Rolled back on any failure. */
int mig_pg_seed_reset(PGconn *conn, const char *const *tables, size_t ntables,
		      const char *const *modules, const char *const *names, size_t nfiles,
		      mig_error *err);

#endif

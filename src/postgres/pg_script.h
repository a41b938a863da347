/* `up --dry-run --sql`: the pending migrations as one psql script (pg_script.c). */
#ifndef MIGRATE_PG_SCRIPT_H
#define MIGRATE_PG_SCRIPT_H

#include <stdio.h>

#include "driver/driver.h"

/* From pg_ledger.c and pg_lock.c: the ledger tables' DDL and the advisory lock's key, so
 * the script creates and locks exactly what `migrate up` does. */
extern const char *const mig_pg_ledger_ddl;
/* The advisory lock key `up` takes on the database (or schema) of cfg. */
long long mig_pg_lock_key(const mig_sql_config *cfg);

/* The driver's `script` slot (see driver.h). */
int mig_pg_script(FILE *out, const mig_sql_config *cfg, const mig_ledger *ledger,
		  const mig_step *steps, size_t n, const mig_hook *before_up,
		  const mig_hook *after_up, mig_error *err);

#endif

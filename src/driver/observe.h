/* What `lint --observe` learns from the server about one file: per statement, the
 * relation locks it took on tables that existed before the file ran and the tables it
 * rewrote. Backend-neutral types; the observing itself is PostgreSQL's
 * (mig_pg_observe, src/postgres/pg_lint.c, libpq); freeing them is observe.c. */
#ifndef MIGRATE_OBSERVE_H
#define MIGRATE_OBSERVE_H

#include <stddef.h>

#include "util/error.h"

typedef struct mig_observed_stmt {
	unsigned line;      /* of the statement in the file */
	char **locks;       /* "ACCESS EXCLUSIVE on users": new relation locks on tables that
			     * existed before the file ran */
	size_t nlocks;
	char **rewritten;   /* tables whose relfilenode changed with this statement */
	size_t nrewritten;
} mig_observed_stmt;

typedef struct mig_observation {
	mig_observed_stmt *stmts;
	size_t nstmts;
} mig_observation;

/* Connects to conninfo (a database the caller may change: a clone), runs sql statement
 * by statement inside one transaction, records what each statement locked and rewrote,
 * and rolls everything back. A statement that fails is MIG_EFAIL naming its line. */
int mig_pg_observe(mig_observation *out, const char *conninfo, const char *sql, size_t len,
		   mig_error *err);

/* Safe on a zeroed observation. */
void mig_observation_clear(mig_observation *obs);

#endif

/* PostgreSQL's side of lint: the size of the tables findings are about (one catalog
 * query), and --observe's core: run a file in a transaction that is rolled back,
 * recording per statement the locks its own backend took on existing tables and the
 * tables it rewrote (a new relfilenode). */
#ifndef MIGRATE_DRIVER_PG_LINT_H
#define MIGRATE_DRIVER_PG_LINT_H

#include <libpq-fe.h>
#include <stdbool.h>
#include <stddef.h>

#include "driver/driver.h"

/* The driver op table_facts on an open connection. */
int mig_pg_table_facts(PGconn *conn, mig_table_fact *facts, size_t n, int *server_major,
		       mig_error *err);

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

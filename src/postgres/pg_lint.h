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
#include "driver/observe.h"
#include "schema/snapshot.h"

/* The driver op table_facts on an open connection. */
int mig_pg_table_facts(PGconn *conn, mig_table_fact *facts, size_t n, int *server_major,
		       mig_error *err);

/* The driver op schema_snapshot on an open connection: the snapshot drift reads
 * (pg_snapshot.c), over the session's own connection. */
int mig_pg_lint_schema(PGconn *conn, mig_snapshot *out, mig_error *err);

#endif

/* A failed libpq command as one line, for every file of the PostgreSQL driver that runs
 * commands of its own (the libpq half of error reporting; pg_error.h is the pure half). */
#ifndef MIGRATE_PG_RESULT_H
#define MIGRATE_PG_RESULT_H

#include <libpq-fe.h>

#include "util/error.h"

/* Fills err (MIG_EFAIL) with "<what>: <message> (SQLSTATE <code>)" for a command on conn
 * that failed with res: the server's primary message, else the result's own message, else
 * the connection's (res NULL: the connection failed or memory ran out), without its
 * trailing newline; the SQLSTATE part only when the result carries one. Returns
 * MIG_EFAIL. */
int mig_pg_result_error(PGconn *conn, const PGresult *res, const char *what, mig_error *err);

#endif

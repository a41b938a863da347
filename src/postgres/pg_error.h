/* The pure half of the PostgreSQL driver's error reporting: from what the server said
 * about a failing statement to one line naming module/version, the server's message,
 * SQLSTATE and the line in the file. No libpq here, so unit tests reach it. */
#ifndef MIGRATE_PG_ERROR_H
#define MIGRATE_PG_ERROR_H

#include <stddef.h>

#include "driver/driver.h"
#include "util/sql_split.h"

/* The server's error fields, as libpq hands them out (any may be NULL). */
typedef struct mig_pg_failure {
	const char *primary;  /* PG_DIAG_MESSAGE_PRIMARY */
	const char *whole;    /* PQresultErrorMessage, used when primary is missing */
	const char *sqlstate; /* PG_DIAG_SQLSTATE */
	const char *detail;   /* PG_DIAG_MESSAGE_DETAIL */
	const char *position; /* PG_DIAG_STATEMENT_POSITION: characters, from 1 */
} mig_pg_failure;

/* Copies msg into dst without its trailing newlines and blanks (libpq messages end in
 * one; mig_error_set folds any inner ones into spaces). msg may be NULL. */
void mig_pg_first_line(char *dst, size_t size, const char *msg);

/* Fills err (MIG_EFAIL, err->sqlstate and err->line too) for statement stmt of step
 * (stmt_text: its text, stmt NULL when unknown: line 1) that failed with f: the message
 * names module/version, the server's message and detail, SQLSTATE, the token's line
 * when it differs from the statement's, and file:line. Returns MIG_EFAIL. */
int mig_pg_step_error(const mig_step *step, const char *stmt_text, const mig_sql_stmt *stmt,
		      const mig_pg_failure *f, mig_error *err);

/* The oldest PostgreSQL every command works on (tests/run.sh --pg runs 13 to 18). */
#define MIG_PG_OLDEST_MAJOR 13

/* MIG_OK for a server of version (PQserverVersion: 150004, 90624) that migrate
 * supports; else MIG_EFAIL with one line naming the server's version and the oldest
 * supported, before anything is read or changed. */
int mig_pg_check_version(int version, mig_error *err);

#endif

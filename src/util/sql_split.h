/* Splits a migration file into the statements the server will run, the way psql
 * would: a semicolon ends a statement only outside quotes, comments, parentheses
 * and function bodies. Used to run no-transaction files statement by statement and
 * to attribute a server error to the line of the statement that failed. */
#ifndef MIGRATE_SQL_SPLIT_H
#define MIGRATE_SQL_SPLIT_H

#include <stddef.h>

typedef struct mig_sql_stmt {
	size_t offset; /* byte offset of the statement's first significant byte */
	size_t length; /* bytes up to and including its terminating ';' (if any) */
	unsigned line; /* 1-based line of offset in the whole text */
} mig_sql_stmt;

/* Splits sql[0..len) into statements. Statements that hold only white space and
 * comments are dropped. An unterminated quote or comment never fails: the rest of the
 * text becomes the last statement, so the server reports the syntax error itself.
 * On success *out (owned by the caller, free() it; NULL when *count is 0) holds
 * *count statements in order and 0 is returned; -1 only when memory runs out. */
int mig_sql_split(mig_sql_stmt **out, size_t *count, const char *sql, size_t len);

/* 1-based line number of byte offset pos in sql (pos clamped to len). */
unsigned mig_sql_line_at(const char *sql, size_t len, size_t pos);

#endif

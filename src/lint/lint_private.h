/* Private to src/lint/'s rule engine (lint.h): the walk over a file's statements that
 * lint.c keeps (what the file has done so far, where findings go), shared with the
 * suppression of findings by `-- migrate:lint-ignore` comments (lint_ignore.c). */
#ifndef MIGRATE_LINT_PRIVATE_H
#define MIGRATE_LINT_PRIVATE_H

#include <stdbool.h>
#include <stddef.h>

#include "lint/lint.h"
#include "lint/pg_parse.h"

typedef struct check_seen {
	char *table, *conname, *column;
	bool validated;
} check_seen;

typedef struct column_seen {
	char *table, *column;
	const mig_pg_type *type; /* borrowed from the parsed file */
} column_seen;

typedef struct walk {
	const mig_lint_context *ctx;
	const char *sql;
	size_t len;
	mig_lint_result *out;
	bool oom;
	char **created; /* tables (and indexes) this file created */
	size_t ncreated;
	check_seen *checks;
	size_t nchecks;
	column_seen *columns;
	size_t ncolumns;
	char **enum_values; /* values added to an enum in this transaction */
	size_t nenum_values;
	bool lock_timeout_set; /* by the file, so far */
	bool lock_timeout_reported;
} walk;

/* lint.c: adds a finding at st for rule (an index in mig_lint_rules) on table (NULL when
 * about no table); on no memory, sets w->oom. */
void mig_lint_add(walk *w, const mig_pg_stmt *st, int rule, const char *lock_mode, const char *table,
		  const char *fmt, ...) __attribute__((format(printf, 6, 7)));

/* lint.c: pushes a copy of s on the list; on no memory, sets w->oom. */
void mig_lint_remember(walk *w, char ***list, size_t *n, const char *s);

/* ---- lint_ignore.c: suppression ---- */

/* A `-- migrate:lint-ignore RULE[,RULE] reason` directive. */
typedef struct ignore {
	unsigned line;       /* of the directive */
	bool file_wide;
	char **rules;
	size_t nrules;
	size_t stmt;         /* the statement it applies to (unless file_wide) */
} ignore;

/* Reads the directives in w->sql[from..to), the gap before statement `stmt` (0: the
 * file's head, whose directives are file-wide), onto *list; a directive naming no rule or
 * giving no reason is a finding. */
void mig_lint_read_ignores(walk *w, ignore **list, size_t *n, size_t from, size_t to, size_t stmt,
			   const mig_pg_stmt *st);

/* Whether a directive of list suppresses f, a finding of statement stmt ((size_t)-1: of none). */
bool mig_lint_suppressed(const ignore *list, size_t n, const mig_lint_finding *f, size_t stmt);

#endif

/* What lint knows of column types: how PostgreSQL treats a change from one to another
 * (rewrite, narrowing) and the families rules ask about. Pure functions over parsed
 * types; private to src/lint/. */
#ifndef MIGRATE_LINT_TYPES_H
#define MIGRATE_LINT_TYPES_H

#include <stdbool.h>

#include "lint/pg_parse.h"

/* Whether t is the named type (as the parser spells it: "int4", "varchar"). */
bool mig_lint_type_is(const mig_pg_type *t, const char *name);

/* text, varchar or char. */
bool mig_lint_type_is_string(const mig_pg_type *t);

/* A 2- or 4-byte integer (not an array): a key that may run out. */
bool mig_lint_type_is_small_int(const mig_pg_type *t);

/* Any of the serial pseudo-types. */
bool mig_lint_type_is_serial(const mig_pg_type *t);

/* Whether changing a column from old (NULL when unknown) to new rewrites the table.
 * PostgreSQL skips the rewrite for binary-coercible changes: varchar(n) to text or to
 * a longer or unlimited varchar, text to varchar, numeric to a larger precision. */
bool mig_lint_type_change_rewrites(const mig_pg_type *old, const mig_pg_type *new, bool has_using);

/* The rank of an integer or floating type by what it holds (0: not one). */
int mig_lint_type_number_rank(const mig_pg_type *t);

/* Whether a change from old (NULL when the file does not say) to new may refuse or
 * lose values the running application writes: a shorter string, a smaller number, or a
 * change to another kind of type (anything but an unbounded string). Unknown old types
 * count as narrowed by a bounded new one: varchar(n), char(n), numeric(p,s), smallint,
 * integer, real. */
bool mig_lint_type_change_narrows(const mig_pg_type *old, const mig_pg_type *new);

#endif

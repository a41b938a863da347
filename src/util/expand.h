/* ${VAR}, ${VAR:-default} and ${VAR?message} expansion: of config scalars from the
 * environment, and of the `-- migrate:envsub on` ... `off` spans of migration files from
 * a lookup (placeholders, then the environment). */
#ifndef MIGRATE_EXPAND_H
#define MIGRATE_EXPAND_H

#include <stddef.h>

#include "util/error.h"

/* The value of name, or NULL when it is unset. Borrowed. */
typedef const char *(*mig_expand_lookup_fn)(void *ctx, const char *name);

/* Expands text into a new string (*out, caller frees). ${VAR} is the variable's value;
 * ${VAR:-default} is the default when VAR is unset or empty. A `$` not followed by `{`
 * is kept. An unset variable without default, a bad name or an unclosed `${` is
 * MIG_EUSAGE with a message naming it (the caller appends the place). */
int mig_expand_env(char **out, const char *text, mig_error *err);

/* The same with values from lookup (NULL: getenv), calling an unset one `what` ("environment
 * variable", "placeholder") in messages. ${VAR?message} is VAR's value, or MIG_EUSAGE
 * "what 'VAR': message" when it is unset or empty. */
int mig_expand_with(char **out, const char *text, mig_expand_lookup_fn lookup, void *ctx,
		    const char *what, mig_error *err);

/* Expands only the lines between a line that is exactly `-- migrate:envsub on` and one
 * that is `-- migrate:envsub off` (blanks around them allowed; an unclosed span runs to
 * the end), leaving every other byte as it is. When text has no span, *out is NULL and
 * nothing is copied; else *out (caller frees) holds *out_len bytes, NUL-terminated. A
 * failure is MIG_EUSAGE with *line set to the 1-based line (the caller names the file). */
int mig_expand_spans(char **out, size_t *out_len, const char *text, size_t len,
		     mig_expand_lookup_fn lookup, void *ctx, unsigned *line, mig_error *err);

#endif

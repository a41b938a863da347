/* ${VAR} and ${VAR:-default} expansion of config scalars from the environment. */
#ifndef MIGRATE_EXPAND_H
#define MIGRATE_EXPAND_H

#include "util/error.h"

/* Expands text into a new string (*out, caller frees). ${VAR} is the variable's value;
 * ${VAR:-default} is the default when VAR is unset or empty. A `$` not followed by `{`
 * is kept. An unset variable without default, a bad name or an unclosed `${` is
 * MIG_EUSAGE with a message naming it (the caller appends the place). */
int mig_expand_env(char **out, const char *text, mig_error *err);

#endif

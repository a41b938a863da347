/* Small parsers for the names and values the config and the tree are made of. */
#ifndef MIGRATE_NAMES_H
#define MIGRATE_NAMES_H

#include <stdbool.h>

/* Whether name is a module name: [a-z0-9_]+, at most 63 bytes (a PostgreSQL identifier). */
bool mig_module_name_valid(const char *name);

/* Whether name is a schema name a fleet target may use unquoted: [A-Za-z0-9_]+, not
 * starting with a digit, at most 63 bytes. */
bool mig_schema_name_valid(const char *name);

/* Whether name may name an environment: 1-63 bytes of [A-Za-z0-9_-]. */
bool mig_environment_name_valid(const char *name);

/* Parses "0", "250ms", "10s", "5m", "1h" or a bare number of seconds into milliseconds
 * (at most 24 days, PostgreSQL's timeout limit). Returns 0, or -1 when text is not one. */
int mig_parse_duration_ms(const char *text, long long *ms);

#endif

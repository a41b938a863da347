/* libmigrate: the calls an application makes at startup to refuse to run against a
 * database that `migrate up` has not brought up to date. Link with
 * `pkg-config --cflags --libs migrate`. */
#ifndef MIGRATE_MIGRATE_H
#define MIGRATE_MIGRATE_H

#include "migrate/error.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Connects with conninfo (a libpq URI or key=value string; "" for libpq's defaults) and
 * checks that schema_migrations exists and the core module has version 1 or later.
 * Returns MIG_OK; MIG_ESCHEMA with err->message "core schema not applied — run 'migrate
 * up'" (or naming a dirty core version); or MIG_EFAIL when the server cannot be asked.
 * err may be NULL. Messages never contain the password. */
int mig_quick_check(const char *conninfo, mig_error *err);

/* The same check for the database of a config.yaml (NULL: $APP_CONFIG, then
 * ./config.yaml), and also that no enabled module has pending migrations in the tree
 * (root NULL: the config's `root:`, then ./migrations): MIG_ESCHEMA "pending migrations
 * exist: catalog/2 … — run 'migrate up'" otherwise. A bad config or tree is MIG_EUSAGE. */
int mig_quick_check_config(const char *config_path, const char *root, mig_error *err);

#ifdef __cplusplus
}
#endif

#endif

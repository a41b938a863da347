/* libmigrate: the calls an application makes at startup to refuse to run against a
 * database that `migrate up` has not brought up to date. Link with
 * `pkg-config --cflags --libs migrate`. */
#ifndef MIGRATE_MIGRATE_H
#define MIGRATE_MIGRATE_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Each failure class maps to one documented exit status of the migrate command. */
typedef enum mig_status {
	MIG_OK = 0,
	MIG_EFAIL = -1,   /* runtime: server unreachable, migration failed, lock wait exceeded */
	MIG_EUSAGE = -2,  /* usage, configuration or layout; found before anything changes */
	MIG_ESCHEMA = -3, /* check/verify found the schema wrong, or seed left a conflict */
} mig_status;

#define MIG_ERROR_MAX 1024

/* Filled once, by the layer that knows the cause; never holds a password. */
typedef struct mig_error {
	int code;                      /* a mig_status */
	char message[MIG_ERROR_MAX];   /* one line, no "migrate: " prefix, no newline */
	char sqlstate[6];              /* a failed SQL statement's SQLSTATE, else "" */
	unsigned line;                 /* where that statement starts in its file, else 0 */
} mig_error;

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

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

/* A test database made by mig_testdb_create: the tree fully migrated, cloned from a
 * template. Every string belongs to the struct; release it with mig_testdb_free. */
typedef struct mig_testdb {
	char *dsn;            /* libpq conninfo (key=value) of the new database, with the
			       * config's password when it has one: for connecting, not printing */
	char *database;       /* its name: migrate_test_… unless chosen */
	char *template_name;  /* the migrate_tpl_<12 hex> it was cloned from */
	int template_built;   /* 1 when this call built the template, else 0 */
	char *mongo_database; /* the MongoDB database seeded alongside, or NULL without mongodb: */
	double ms;            /* wall time of the call */
} mig_testdb;

/* Creates a database holding the tree of a config.yaml (config_path NULL: $APP_CONFIG,
 * then ./config.yaml; root NULL: the config's `root:`, then ./migrations) fully migrated,
 * exactly as `migrate up` leaves a fresh database, on the server of postgres.dsn or
 * postgres.scratch_dsn. The first call for a tree builds its template (under a
 * server-wide lock: concurrent calls build it once); later calls clone it. name NULL
 * picks a unique migrate_test_… name; a given name must start with "migrate_test_".
 * When the config has mongodb:, a MongoDB database of the same name is seeded too.
 * Returns MIG_OK with *out set (the caller's); MIG_EUSAGE for a bad config, tree or
 * name (nothing created); MIG_EFAIL when the role lacks CREATEDB (naming it), a
 * migration fails while building the template (naming file, line and SQLSTATE; no
 * template is left), or the server fails. err may be NULL; no message holds a password. */
int mig_testdb_create(const char *config_path, const char *root, const char *name,
		      mig_testdb **out, mig_error *err);

/* Drops test database name, made by mig_testdb_create with the same config (and its
 * MongoDB database when the config has mongodb:). A name migrate did not create is
 * MIG_EUSAGE and nothing is dropped. err may be NULL. */
int mig_testdb_drop(const char *config_path, const char *name, mig_error *err);

/* Accepts NULL. */
void mig_testdb_free(mig_testdb *db);

#ifdef __cplusplus
}
#endif

#endif

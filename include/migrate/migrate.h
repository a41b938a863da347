/* libmigrate, the installed API: what an application embeds at start-up — refuse to run
 * against a database that `migrate up` has not brought up to date, or bring it up to
 * date in-process. Link with `pkg-config --cflags --libs migrate`; only the names in this
 * header are exported. Every call returns MIG_OK or a negative mig_status and fills the
 * mig_error it is given (which may be NULL); no message ever holds a password. */
#ifndef MIGRATE_MIGRATE_H
#define MIGRATE_MIGRATE_H

#include <stddef.h>

#include "migrate/version.h"

#if defined(__GNUC__) || defined(__clang__)
#define MIG_EXTERN __attribute__((visibility("default")))
#else
#define MIG_EXTERN
#endif

#ifdef __cplusplus
extern "C" {
#endif

/* Each failure class maps to one documented exit status of the migrate command. */
typedef enum mig_status {
	MIG_OK = 0,
	MIG_EFAIL = -1,   /* runtime: server unreachable, migration failed */
	MIG_EUSAGE = -2,  /* usage, configuration or layout; found before anything changes */
	MIG_ESCHEMA = -3, /* check/verify found the schema wrong, or seed left a conflict */
	MIG_EBUSY = -4,   /* the migration lock was not obtained within lock_wait: another run
			   * holds it and nothing was changed; worth retrying later */
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
MIG_EXTERN int mig_quick_check(const char *conninfo, mig_error *err);

/* The same check for the database of a config.yaml (NULL: $APP_CONFIG, then
 * ./config.yaml), and also that no enabled module has pending migrations in the tree
 * (root NULL: the config's `root:`, then ./migrations): MIG_ESCHEMA "pending migrations
 * exist: catalog/2 … — run 'migrate up'" otherwise. A bad config or tree is MIG_EUSAGE. */
MIG_EXTERN int mig_quick_check_config(const char *config_path, const char *root,
				      mig_error *err);

/* The library's own version ("0.1.0"), to compare with MIGRATE_VERSION_STRING. */
MIG_EXTERN const char *mig_version(void);

/* ---- applying migrations in-process (the PostgreSQL side of `migrate up`) ---- */

typedef struct mig_migrator mig_migrator;

/* Loads a config.yaml (NULL: $APP_CONFIG, then ./config.yaml) and plans its tree (root
 * NULL: the config's `root:`, then ./migrations), without connecting. A bad config or
 * tree, or a config without postgres:, is MIG_EUSAGE. *out is the caller's: mig_close. */
MIG_EXTERN int mig_open(mig_migrator **out, const char *config_path, const char *root,
			mig_error *err);

/* One migration that ran (or failed). Strings belong to the result. */
typedef struct mig_migration_result {
	const char *module;
	long long version;
	const char *name;
	const char *file;     /* the .up.sql that ran */
	long long duration_ms;
	int status;           /* MIG_OK, or the failure's mig_status */
	const char *message;  /* NULL when it succeeded; else as err->message */
	char sqlstate[6];     /* a failed statement's SQLSTATE, else "" */
	unsigned line;        /* where that statement starts in file, else 0 */
} mig_migration_result;

typedef struct mig_up_result {
	mig_migration_result *migrations; /* in the order they ran; a failed one is last */
	size_t count;                     /* 0 when everything was already applied */
} mig_up_result;

/* Applies every pending migration of every enabled module, core first, as `migrate up`
 * does (same lock, ledger and transactions), stopping at the first failure. *out (may
 * be NULL) receives what ran, also when the run fails: free it with mig_up_result_free.
 * MIG_EBUSY when another run held the lock for all of postgres.lock_wait (nothing ran). */
MIG_EXTERN int mig_up(mig_migrator *m, mig_up_result **out, mig_error *err);

/* Accept NULL. */
MIG_EXTERN void mig_up_result_free(mig_up_result *result);
MIG_EXTERN void mig_close(mig_migrator *m);

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
MIG_EXTERN int mig_testdb_create(const char *config_path, const char *root, const char *name,
				 mig_testdb **out, mig_error *err);

/* Drops test database name, made by mig_testdb_create with the same config (and its
 * MongoDB database when the config has mongodb:). A name migrate did not create is
 * MIG_EUSAGE and nothing is dropped. err may be NULL. */
MIG_EXTERN int mig_testdb_drop(const char *config_path, const char *name, mig_error *err);

/* Accepts NULL. */
MIG_EXTERN void mig_testdb_free(mig_testdb *db);

#ifdef __cplusplus
}
#endif

#endif

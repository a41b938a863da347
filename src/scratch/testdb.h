/* Test databases (`migrate testdb`, mig_testdb_create): the tree's template cloned into
 * a new database, with a MongoDB database seeded alongside when configured. The CLI and
 * the public calls of include/migrate/migrate.h share these. */
#ifndef MIGRATE_TESTDB_H
#define MIGRATE_TESTDB_H

#include <stdio.h>

#include "core/config.h"
#include "util/error.h"
#include "core/mongo_plan.h"
#include "core/plan.h"

/* Creates a test database for plan (and mongo_plan, NULL without mongodb:) on cfg's
 * scratch server; name NULL picks one. *out is the caller's (mig_testdb_free);
 * *printable (may be NULL) gets the conninfo without the password, also the caller's. */
int mig_testdb_make(mig_testdb **out, char **printable, const mig_config *cfg,
		    const mig_plan *plan, const mig_mongo_plan *mongo_plan, const char *name,
		    mig_error *err);

/* The same with the seed data of the tree at root (`testdb create --seed`): refused
 * (MIG_EUSAGE) where seed --data is (no environment, production); the SQL seeds are in
 * a template of their own (its name hashes them), the JSON seeds loaded into the new
 * MongoDB database after its indexes. */
int mig_testdb_make_seeded(mig_testdb **out, char **printable, const mig_config *cfg,
			   const mig_plan *plan, const mig_mongo_plan *mongo_plan,
			   const char *name, const char *root, mig_error *err);

/* Drops the named test databases (and their MongoDB databases), checking every name
 * before dropping any. */
int mig_testdb_remove(const mig_config *cfg, char *const *names, size_t count, mig_error *err);

/* The JSON document of `testdb create --format json` (src/scratch/testdb_json.c); dsn is the
 * printable one. */
int mig_testdb_print_json(FILE *out, const mig_testdb *db, const char *dsn, mig_error *err);

#endif

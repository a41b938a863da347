/* Test databases: the whole tree's template (built once, src/scratch/scratch.c) cloned into a
 * new database, a MongoDB database of the same name seeded when the config has one; and
 * the public mig_testdb_create / mig_testdb_drop wrapped around them. */
#include "migrate/migrate.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "driver/doc_driver.h"
#include "driver/registry.h"
#include "core/engine.h"
#include "core/environment.h"
#include "core/repeatable.h"
#include "core/seed.h"
#include "scratch/scratch.h"
#include "scratch/testdb.h"

static double elapsed_ms(const struct timespec *start)
{
	struct timespec now;
	clock_gettime(CLOCK_MONOTONIC, &now);
	return (double)(now.tv_sec - start->tv_sec) * 1e3 +
	       (double)(now.tv_nsec - start->tv_nsec) / 1e6;
}

/* Drops MongoDB database name through the loaded MongoDB module drv. */
static int drop_mongo(const mig_config *cfg, const mig_doc_driver *drv, const char *name,
		      mig_error *err)
{
	mig_mongo *m = NULL;
	int rc = drv->connect(&m, cfg->mongo_uri, name, err);
	if (rc == MIG_OK)
		rc = drv->drop_database(m, err);
	drv->disconnect(m);
	return rc;
}

/* Drops and re-seeds MongoDB database name: fresh, with every module's collections and
 * indexes. */
static int seed_mongo(const mig_config *cfg, const mig_mongo_plan *mongo_plan,
		      const char *name, mig_error *err)
{
	mig_config copy = *cfg;
	copy.mongo_database = (char *)name;
	int rc = drop_mongo(cfg, mongo_plan->backend->drv, name, err);
	mig_mongo_results r;
	if (rc == MIG_OK) {
		rc = mig_mongo_run(&r, &copy, mongo_plan, MIG_MONGO_SEED, err);
		if (rc == MIG_OK && r.conflicts)
			rc = mig_error_set(err, MIG_EFAIL,
					   "seeding MongoDB database '%s' left %zu conflicting index%s",
					   name, r.conflicts, r.conflicts == 1 ? "" : "es");
		mig_mongo_results_clear(&r);
	}
	return rc;
}

static int make(mig_testdb **out, char **printable, const mig_config *cfg,
		const mig_plan *plan, const mig_mongo_plan *mongo_plan, const char *name,
		mig_seeds *seeds, mig_error *err);

int mig_testdb_make(mig_testdb **out, char **printable, const mig_config *cfg,
		    const mig_plan *plan, const mig_mongo_plan *mongo_plan, const char *name,
		    mig_error *err)
{
	return make(out, printable, cfg, plan, mongo_plan, name, NULL, err);
}

int mig_testdb_make_seeded(mig_testdb **out, char **printable, const mig_config *cfg,
			   const mig_plan *plan, const mig_mongo_plan *mongo_plan,
			   const char *name, const char *root, mig_error *err)
{
	*out = NULL;
	if (printable)
		*printable = NULL;
	mig_seeds seeds;
	int rc = mig_seed_environment_allowed(cfg, err);
	if (rc < 0)
		return rc;
	rc = mig_seeds_load(&seeds, cfg, root, NULL, mongo_plan ? mongo_plan->backend : NULL, err);
	if (rc == MIG_OK)
		rc = make(out, printable, cfg, plan, mongo_plan, name, &seeds, err);
	mig_seeds_clear(&seeds);
	return rc;
}

static int make(mig_testdb **out, char **printable, const mig_config *cfg,
		const mig_plan *plan, const mig_mongo_plan *mongo_plan, const char *name,
		mig_seeds *seeds, mig_error *err)
{
	struct timespec start;
	clock_gettime(CLOCK_MONOTONIC, &start);
	*out = NULL;
	if (printable)
		*printable = NULL;
	if (name && (!mig_scratch_name_valid(name) ||
		     strncmp(name, MIG_SCRATCH_TEST_PREFIX, strlen(MIG_SCRATCH_TEST_PREFIX)) != 0))
		return mig_error_set(err, MIG_EUSAGE,
				     "test database name '%s' must start with '" MIG_SCRATCH_TEST_PREFIX
				     "' and hold only a-z, 0-9 and _ (at most 63 bytes)",
				     name);
	mig_ledger empty = {0};
	mig_run run = {0};
	mig_scratch *sc = NULL;
	mig_testdb *db = calloc(1, sizeof *db);
	char tpl[MIG_SCRATCH_NAME_MAX], dbname[MIG_SCRATCH_NAME_MAX];
	bool built = false, cloned = false;
	int rc = db ? MIG_OK : mig_error_set(err, MIG_EFAIL, "out of memory");
	if (rc == MIG_OK)
		rc = mig_engine_plan_up(&run, plan, &empty, NULL, false, err);
	if (rc == MIG_OK)
		rc = mig_env_mark(&run, cfg, err);
	if (rc == MIG_OK) /* the template holds every repeatable too */
		rc = mig_repeatable_plan(&run, plan, &(mig_repeatable_ledger){0}, NULL, err);
	if (rc == MIG_OK)
		rc = mig_scratch_open(&sc, cfg, err);
	if (rc == MIG_OK && seeds)
		mig_scratch_set_seeds(sc, seeds);
	if (rc == MIG_OK)
		rc = mig_scratch_template(tpl, &built, sc, plan, &run, err);
	if (rc < 0)
		goto done;
	if (name)
		snprintf(dbname, sizeof dbname, "%s", name);
	else
		mig_scratch_new_name(dbname, MIG_SCRATCH_TEST_PREFIX);
	if ((rc = mig_scratch_clone(sc, tpl, dbname, err)) < 0)
		goto done;
	cloned = true;
	db->template_built = built;
	if (!(db->database = strdup(dbname)) || !(db->template_name = strdup(tpl))) {
		rc = mig_error_set(err, MIG_EFAIL, "out of memory");
		goto done;
	}
	if ((rc = mig_scratch_conninfo(&db->dsn, sc, dbname, true, err)) < 0 ||
	    (printable && (rc = mig_scratch_conninfo(printable, sc, dbname, false, err)) < 0))
		goto done;
	if (cfg->has_mongodb && mongo_plan) {
		if ((rc = seed_mongo(cfg, mongo_plan, dbname, err)) < 0)
			goto done;
		if (!(db->mongo_database = strdup(dbname)))
			rc = mig_error_set(err, MIG_EFAIL, "out of memory");
		/* the JSON seed data goes into the new database, after its indexes */
		if (rc == MIG_OK && seeds &&
		    (rc = mig_seeds_open(seeds, cfg, NULL, NULL, dbname, MIG_SEEDS_JSON, err)) == MIG_OK) {
			mig_seeds_reload_all(seeds);
			rc = mig_seeds_apply(seeds, NULL, true, err);
		}
	}
done:
	if (rc < 0 && cloned) { /* nothing left behind */
		char *names[] = {dbname};
		mig_scratch_drop(sc, names, 1, NULL);
	}
	mig_scratch_close(sc);
	mig_run_clear(&run);
	if (rc < 0) {
		mig_testdb_free(db);
		if (printable) {
			free(*printable);
			*printable = NULL;
		}
		return rc;
	}
	db->ms = elapsed_ms(&start);
	*out = db;
	return MIG_OK;
}

int mig_testdb_remove(const mig_config *cfg, char *const *names, size_t count, mig_error *err)
{
	mig_scratch *sc = NULL;
	int rc = mig_scratch_open(&sc, cfg, err);
	if (rc == MIG_OK)
		rc = mig_scratch_drop(sc, names, count, err);
	mig_scratch_close(sc);
	mig_doc_backend *mongo = NULL;
	if (rc == MIG_OK && cfg->has_mongodb)
		rc = mig_registry_doc_open(&mongo, "mongodb", err);
	for (size_t i = 0; rc == MIG_OK && mongo && i < count; i++)
		rc = drop_mongo(cfg, mongo->drv, names[i], err);
	mig_doc_backend_close(mongo);
	return rc;
}

void mig_testdb_free(mig_testdb *db)
{
	if (!db)
		return;
	if (db->dsn) /* it may hold the password */
		memset(db->dsn, 0, strlen(db->dsn));
	free(db->dsn);
	free(db->database);
	free(db->template_name);
	free(db->mongo_database);
	free(db);
}

/* The config (with postgres:) and plans of config_path, for the public calls. */
static int load(mig_config **cfg, mig_plan **plan, mig_mongo_plan **mongo_plan,
		const char *config_path, const char *root, mig_error *err)
{
	int rc = mig_config_load(cfg, mig_config_choose_path(config_path), err);
	if (rc == MIG_OK && !(*cfg)->has_postgres)
		rc = mig_error_set(err, MIG_EUSAGE,
				   "test databases need a 'postgres:' section in the config (%s)",
				   (*cfg)->path);
	const char *r = rc == MIG_OK ? mig_plan_choose_root(root, *cfg) : NULL;
	if (rc == MIG_OK && plan)
		rc = mig_plan_build(plan, *cfg, r, err);
	if (rc == MIG_OK && mongo_plan && (*cfg)->has_mongodb)
		rc = mig_mongo_plan_build(mongo_plan, *cfg, r, err);
	return rc;
}

int mig_testdb_create(const char *config_path, const char *root, const char *name,
		      mig_testdb **out, mig_error *err)
{
	mig_config *cfg = NULL;
	mig_plan *plan = NULL;
	mig_mongo_plan *mongo_plan = NULL;
	*out = NULL;
	int rc = load(&cfg, &plan, &mongo_plan, config_path, root, err);
	if (rc == MIG_OK)
		rc = mig_testdb_make(out, NULL, cfg, plan, mongo_plan, name, err);
	if (rc < 0 && err)
		mig_config_redact(cfg, err->message, sizeof err->message);
	mig_mongo_plan_free(mongo_plan);
	mig_plan_free(plan);
	mig_config_free(cfg);
	return rc;
}

int mig_testdb_drop(const char *config_path, const char *name, mig_error *err)
{
	mig_config *cfg = NULL;
	char *names[] = {(char *)name};
	int rc = name ? MIG_OK : mig_error_set(err, MIG_EUSAGE, "no test database named");
	if (rc == MIG_OK)
		rc = load(&cfg, NULL, NULL, config_path, NULL, err);
	if (rc == MIG_OK)
		rc = mig_testdb_remove(cfg, names, 1, err);
	if (rc < 0 && err)
		mig_config_redact(cfg, err->message, sizeof err->message);
	mig_config_free(cfg);
	return rc;
}

/* The MongoDB side of the plan: the indexes.json of every module that runs, read and
 * validated before any connection, and the results of comparing them with a server. */
#ifndef MIGRATE_MONGO_PLAN_H
#define MIGRATE_MONGO_PLAN_H

#include <stdio.h>

#include "core/config.h"
#include "driver/doc_driver.h"
#include "driver/registry.h"

typedef struct mig_mongo_plan {
	mig_doc_backend *backend; /* the loaded MongoDB module, which parsed the specs */
	mig_index_spec **specs; /* in module order; modules without indexes.json are absent */
	char **spec_modules;    /* the module of each spec */
	size_t nspecs;
} mig_mongo_plan;

/* Loads the MongoDB backend module and reads <root>/mongodb/<module>/indexes.json for
 * core and every enabled module, in run order. A bad module directory name or a bad file
 * is MIG_EUSAGE naming it; nothing connects. */
int mig_mongo_plan_build(mig_mongo_plan **out, const mig_config *cfg, const char *root,
			 mig_error *err);

/* Accepts NULL. */
void mig_mongo_plan_free(mig_mongo_plan *plan);

/* One reported item, with its own copies of the strings. */
typedef struct mig_mongo_result {
	char *module, *collection, *index, *detail;
	mig_mongo_state state;
} mig_mongo_result;

typedef struct mig_mongo_results {
	mig_mongo_result *items;
	size_t nitems, cap;
	size_t missing, created, conflicts, present;
	size_t changed, extra, dropped, building, failed;
	bool oom;
} mig_mongo_results;

/* Connects with cfg through plan's backend and runs its sync over plan in mode,
 * collecting every item. */
int mig_mongo_run(mig_mongo_results *out, const mig_config *cfg, const mig_mongo_plan *plan,
		  mig_mongo_mode mode, mig_error *err);

void mig_mongo_results_clear(mig_mongo_results *results);

/* Moves src's items and counts to the end of dst (src is left empty). */
int mig_mongo_results_append(mig_mongo_results *dst, mig_mongo_results *src, mig_error *err);

#endif

/* Printing results for people (aligned text) and for programs (--format json). */
#ifndef MIGRATE_REPORT_H
#define MIGRATE_REPORT_H

#include <stdbool.h>
#include <stdio.h>

#include "cli/cli.h"
#include "engine.h"
#include "mongo_plan.h"

/* What a dry run would do, in order: the SQL migrations, then (mongo non-NULL) the
 * MongoDB collections and indexes seed would create. */
int mig_report_run(FILE *out, const mig_run *run, const mig_mongo_results *mongo,
		   mig_format format, mig_error *err);

/* The status tables: PostgreSQL rows (pg false when not configured; ledger_exists false
 * when nothing was ever migrated) and MongoDB results (NULL when not configured). */
int mig_report_status(FILE *out, bool pg, const mig_module_status *rows, size_t n,
		      bool ledger_exists, const mig_mongo_results *mongo, mig_format format,
		      mig_error *err);

/* What seed did (or would do), item by item, and a summary line. */
int mig_report_seed(FILE *out, const mig_mongo_results *r, bool dry_run, bool quiet,
		    mig_format format, mig_error *err);

/* What verify found: PostgreSQL problems (pg false when not configured) and MongoDB items
 * (NULL when not configured). */
int mig_report_verify(FILE *out, bool pg, const mig_problem *problems, size_t nproblems,
		      size_t checked, const mig_missing_object *objects,
		      size_t nobjects, const mig_mongo_results *mongo, mig_format format,
		      mig_error *err);

#endif

/* --format json: one document per run with a stable shape (see README, "JSON output"). */
#ifndef MIGRATE_REPORT_JSON_H
#define MIGRATE_REPORT_JSON_H

#include <stdbool.h>
#include <stdio.h>

#include "core/engine.h"
#include "core/mongo_plan.h"
#include "report/report.h"
#include "report/run_report.h"

int mig_report_run_json(FILE *out, const char *backend, const mig_run *run, const mig_mongo_results *mongo,
			const mig_run *mongo_run,
			mig_error *err);
/* The run report of `up`/`down --format json`: every item of run with its state, and
 * rc/failure (err, when rc < 0) for what no migration explains. */
int mig_report_run_result_json(FILE *out, const mig_run *run, const mig_run_report *r, int rc,
			       const mig_error *failure, mig_error *err);
/* The same with the versioned MongoDB files of the run (mongo_run, observed by mongo_r,
 * with each file's per-command counts in results, NULL when none ran) listed after the
 * SQL ones with "backend": "mongodb", and (indexes non-NULL) what converging indexes.json
 * did, as "mongodb" (the shape of seed's). */
int mig_report_run_result_json_full(FILE *out, const mig_run *run, const mig_run_report *r,
				    const mig_run *mongo_run, const mig_run_report *mongo_r,
				    const mig_doc_result *results, const mig_mongo_results *indexes,
				    int rc, const mig_error *failure, mig_error *err);
int mig_report_status_json(FILE *out, const char *backend, const mig_module_status *rows, size_t n,
			   bool ledger_exists, const mig_mongo_results *mongo, mig_error *err);
/* The same with "mongodb_versions": {"modules": [...]} when mongo_rows is non-NULL. */
int mig_report_status_json_full(FILE *out, const char *backend, const mig_module_status *rows,
				size_t n, bool ledger_exists, const mig_mongo_results *mongo,
				const mig_module_status *mongo_rows, size_t mongo_n,
				mig_error *err);
int mig_report_seed_json(FILE *out, const mig_mongo_results *r, bool dry_run, mig_error *err);
/* {"problems": [...], "objects": [...]}: verify's SQL findings (a new reference; NULL
 * when memory runs out). */
struct json_t;
struct json_t *mig_report_sql_problems_json(const mig_problem *problems, size_t nproblems,
					    const mig_missing_object *objects, size_t nobjects);
int mig_report_verify_json(FILE *out, const char *backend, const mig_problem *problems, size_t nproblems,
			   size_t checked, const mig_missing_object *objects,
		      size_t nobjects, const mig_mongo_results *mongo,
		      const mig_verify_versions *versions, mig_error *err);

#endif

/* Printing results for people (aligned text) and for programs (--format json). */
#ifndef MIGRATE_REPORT_H
#define MIGRATE_REPORT_H

#include <stdbool.h>
#include <stdio.h>
#include <time.h>

#include "core/engine.h"
#include "core/mongo_plan.h"

typedef enum mig_format {
	MIG_FORMAT_TEXT,
	MIG_FORMAT_JSON,
	MIG_FORMAT_GITHUB, /* lint only */
	MIG_FORMAT_SARIF, /* lint only */
} mig_format;

/* What a dry run would do, in order: the SQL migrations, then (mongo_run non-NULL) the
 * versioned MongoDB files, then (mongo non-NULL) the MongoDB collections and indexes seed
 * would create. */
int mig_report_run(FILE *out, const char *backend, const mig_run *run, const mig_mongo_results *mongo,
		   const mig_run *mongo_run, mig_format format, mig_error *err);

/* The status tables: SQL rows (backend: the driver's name, NULL when not configured; ledger_exists false
 * when nothing was ever migrated) and MongoDB results (NULL when not configured). */
int mig_report_status(FILE *out, const char *backend, const mig_module_status *rows, size_t n,
		      bool ledger_exists, const mig_mongo_results *mongo, mig_format format,
		      mig_error *err);

/* status's table of the versioned MongoDB files (text: after the other tables; JSON is
 * written by mig_report_status_json's caller through mig_report_status_full). */
int mig_report_status_full(FILE *out, const char *backend, const mig_module_status *rows,
			   size_t n, bool ledger_exists, const mig_mongo_results *mongo,
			   const mig_module_status *mongo_rows, size_t mongo_n, mig_format format,
			   mig_error *err);

/* What seed did (or would do), item by item, and a summary line. */
int mig_report_seed(FILE *out, const mig_mongo_results *r, bool dry_run, bool quiet,
		    mig_format format, mig_error *err);

/* The line that says a migration is tried again after a lock timeout (flushed). */
void mig_report_retry(FILE *out, const mig_run *run, size_t i, unsigned attempt,
		      unsigned attempts, long long wait_ms);

/* One line per SQL problem and missing object, as verify prints them, each after
 * indent (a fleet prints them under their target). */
void mig_report_sql_problems(FILE *out, const char *indent, const char *backend,
			     const mig_problem *problems, size_t nproblems,
			     const mig_missing_object *objects, size_t nobjects);

/* What verify found about the versioned MongoDB files (checksums, files gone, dirty). */
typedef struct mig_verify_versions {
	const mig_problem *problems;
	size_t nproblems;
	size_t checked; /* applied versions compared with their files */
} mig_verify_versions;

/* What verify found: SQL problems (backend: the driver's name, NULL when not configured), MongoDB items
 * (NULL when not configured) and the versioned MongoDB files (NULL when the tree has none). */
int mig_report_verify(FILE *out, const char *backend, const mig_problem *problems, size_t nproblems,
		      size_t checked, const mig_missing_object *objects,
		      size_t nobjects, const mig_mongo_results *mongo,
		      const mig_verify_versions *versions, mig_format format, mig_error *err);

/* The terminal reporter: one line per migration as it finishes, the SQL first with -v,
 * and a progress line that redraws on a terminal. */
typedef struct mig_reporter {
	FILE *out;      /* per-migration lines (NULL for none: -q) */
	bool color;     /* colour the verbs: only on a terminal, never with NO_COLOR */
	bool verbose;   /* also print each file's SQL before it runs (-v) */
	FILE *progress; /* a one-line "done/total, file, elapsed" that redraws; NULL for none */
	const char *backend; /* printed before each migration's name ("mongodb"); NULL: none */
	struct timespec run_start;
} mig_reporter;

/* A reporter for out: colour and the progress line only when they reach a terminal
 * and NO_COLOR is unset; nothing at all when quiet. */
mig_reporter mig_reporter_for(FILE *out, bool quiet, bool verbose);

/* The engine observer that prints through rep (which must outlive the run). */
mig_observer mig_reporter_observer(mig_reporter *rep);

#endif

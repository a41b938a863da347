/* `migrate status`: per module, what is applied, what the tree has, what is pending;
 * for MongoDB, which collections and indexes are missing, and the versioned files. Read only. */
#include <stdlib.h>

#include "cli/cli.h"
#include "core/engine.h"
#include "core/mongo_plan.h"
#include "core/mongo_versions.h"
#include "core/phase.h"
#include "core/repeatable.h"
#include "report/report.h"
#include "core/session.h"

/* The versioned MongoDB files' table: modules that have such files or ledger records. */
static int mongo_versions_status(mig_context *ctx, mig_mongo_versions *mv,
				 mig_module_status **rows, size_t *n, mig_error *err)
{
	int rc = mig_mongo_versions_plan(mv, ctx->cfg, mig_plan_choose_root(ctx->args.root, ctx->cfg),
					 err);
	if (rc < 0 || !mig_mongo_versions_active(mv))
		return rc;
	rc = mig_mongo_versions_open(mv, ctx->cfg, NULL,
				     ctx->mongo_plan ? ctx->mongo_plan->backend : NULL, false, err);
	if (rc == MIG_OK)
		rc = mig_engine_status(rows, n, mv->plan, &mv->ledger, err);
	if (rc == MIG_OK)
		rc = mig_mongo_versions_mark_status(mv, *rows, *n, err);
	size_t kept = 0;
	for (size_t i = 0; rc == MIG_OK && i < *n; i++)
		if ((*rows)[i].latest || (*rows)[i].napplied)
			(*rows)[kept++] = (*rows)[i];
	if (rc == MIG_OK)
		*n = kept;
	return rc;
}

int mig_cmd_status(mig_context *ctx, mig_error *err)
{
	mig_session s = {0};
	mig_module_status *rows = NULL, *mrows = NULL;
	mig_mongo_results mongo = {0};
	mig_mongo_versions mv = {0};
	size_t n = 0, mn = 0;
	int rc = MIG_OK;
	if (ctx->cfg->has_postgres) {
		if ((rc = mig_session_open(&s, ctx->registry, &ctx->cfg->pg, 0, err)) < 0)
			return rc;
		rc = mig_engine_status(&rows, &n, ctx->plan, &s.ledger, err);
		if (rc == MIG_OK)
			rc = mig_phase_mark_status(rows, n, ctx->plan, &s.ledger, err);
		mig_repeatable_ledger reps = {0};
		if (rc == MIG_OK && (rc = mig_repeatables_read(&reps, &s, ctx->plan, err)) == MIG_OK)
			rc = mig_repeatable_mark_status(rows, n, ctx->plan, &reps, ctx->cfg, err);
		mig_repeatable_ledger_clear(&reps);
	}
	if (rc == MIG_OK && ctx->mongo_plan)
		rc = mig_mongo_run(&mongo, ctx->cfg, ctx->mongo_plan, MIG_MONGO_CHECK, err);
	if (rc == MIG_OK)
		rc = mongo_versions_status(ctx, &mv, &mrows, &mn, err);
	if (rc == MIG_OK)
		rc = mig_report_status_full(ctx->out, s.drv ? s.drv->name : NULL, rows, n,
					    s.ledger.exists, ctx->mongo_plan ? &mongo : NULL,
					    mv.conn ? (mrows ? mrows : rows) : NULL, mrows ? mn : 0,
					    ctx->args.format, err);
	free(rows);
	free(mrows);
	mig_mongo_results_clear(&mongo);
	mig_mongo_versions_close(&mv);
	mig_session_close(&s);
	return rc;
}

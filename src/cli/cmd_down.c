/* `migrate down --module M [--steps N | --to V]`: roll back the latest applied versions of
 * M (N of them, or every one above V), the newest first across both backends (by version;
 * a MongoDB version before a PostgreSQL one of the same number, as `up` ran it later). */
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "core/engine.h"
#include "core/mongo_versions.h"
#include "core/environment.h"
#include "report/report.h"
#include "report/report_json.h"
#include "report/run_report.h"
#include "core/session.h"

int mig_check_down_args(const mig_args *args, mig_error *err)
{
	if (!args->module)
		return mig_error_set(err, MIG_EUSAGE,
				     "'migrate down' needs --module M: it rolls back one module at a time");
	if (args->has_to && args->has_steps)
		return mig_error_set(err, MIG_EUSAGE,
				     "'down' takes --steps N or --to V, not both");
	return MIG_OK;
}

int mig_cmd_down(mig_context *ctx, mig_error *err)
{
	const mig_args *a = &ctx->args;
	mig_session s = {0};
	mig_run run = {0};
	mig_mongo_versions mv = {0};
	bool report = a->format == MIG_FORMAT_JSON && !a->dry_run;
	mig_run_report rr, mrr;
	mig_run_report_init(&rr);
	mig_run_report_init(&mrr);
	/* stdout carries the JSON: a retry is said on stderr as it happens, as in text */
	rr.notes = report && !a->quiet ? stderr : NULL;
	/* the tree first: a bad --to changes nothing and needs no server */
	int rc = mig_mongo_versions_plan(&mv, ctx->cfg, mig_plan_choose_root(a->root, ctx->cfg),
					 err);
	if (rc == MIG_OK && a->has_to)
		rc = mig_mongo_versions_check_to(ctx->plan, &mv, a->module, a->to_version, true, err);
	if (rc == MIG_OK)
		rc = mig_session_open(&s, ctx->registry, &ctx->cfg->pg,
				      a->dry_run ? 0 : MIG_SESSION_LOCK, err);
	if (rc < 0)
		goto done;
	rc = mig_engine_refuse_required(ctx->cfg, &s.ledger, a->module, err);
	if (rc == MIG_OK && mig_mongo_versions_active(&mv))
		rc = mig_mongo_versions_open(&mv, ctx->cfg, NULL,
					     ctx->mongo_plan ? ctx->mongo_plan->backend : NULL,
					     !a->dry_run, err);
	unsigned long pg_steps = 0, mongo_steps = 0;
	mig_down_limit limit = {a->steps, a->has_to, a->to_version};
	if (rc == MIG_OK)
		rc = mig_down_split(&pg_steps, &mongo_steps, &s.ledger, mv.conn ? &mv.ledger : NULL,
				    a->module, &limit, err);
	if (rc == MIG_OK)
		rc = mig_engine_plan_down(&run, ctx->plan, &s.ledger, a->module, pg_steps, err);
	if (rc == MIG_OK && mv.conn)
		rc = mig_mongo_versions_prepare_down(&mv, a->module, mongo_steps, err);
	if (rc == MIG_OK)
		rc = mig_env_mark(&run, ctx->cfg, err);
	if (rc < 0)
		goto done;
	if (a->dry_run) {
		rc = mig_report_run(ctx->out, s.drv->name, &run, NULL, mv.conn ? &mv.run : NULL,
				    a->format, err);
		goto done;
	}
	mig_reporter rep = mig_reporter_for(ctx->out, a->quiet, a->verbose);
	mig_reporter mrep = rep;
	mrep.backend = "mongodb";
	mig_observer obs = report ? mig_run_report_observer(&rr) : mig_reporter_observer(&rep);
	mig_observer mobs = report ? mig_run_report_observer(&mrr) : mig_reporter_observer(&mrep);
	rc = mig_down_apply(&s, &run, &mv, &obs, &mobs, a->quiet || report ? NULL : ctx->out, err);
	if (rc == MIG_OK && run.nitems == 0 && mv.run.nitems == 0 && !a->quiet && !report) {
		if (a->has_to)
			fprintf(ctx->out,
				"nothing to roll back: module '%s' has no applied version above %lld\n",
				a->module, a->to_version);
		else
			fprintf(ctx->out, "nothing to roll back: module '%s' has no applied version\n",
				a->module);
	}
done:
	if (report) {
		mig_error werr = {0};
		if (mig_report_run_result_json_full(ctx->out, &run, &rr, mv.run.nitems ? &mv.run : NULL,
						    &mrr, mv.results, NULL, rc, err, &werr) < 0 &&
		    rc == MIG_OK)
			rc = mig_error_set(err, werr.code, "%s", werr.message);
	}
	mig_run_report_clear(&rr);
	mig_run_report_clear(&mrr);
	mig_run_clear(&run);
	mig_mongo_versions_close(&mv);
	mig_session_close(&s);
	return rc;
}

/* `migrate down --module M [--steps N]`: roll back the latest applied versions of M. */
#include "cli/cli.h"
#include "core/engine.h"
#include "report/report.h"
#include "report/report_json.h"
#include "report/run_report.h"
#include "core/session.h"

int mig_check_down_args(const mig_args *args, mig_error *err)
{
	if (!args->module)
		return mig_error_set(err, MIG_EUSAGE,
				     "'migrate down' needs --module M: it rolls back one module at a time");
	return MIG_OK;
}

int mig_cmd_down(mig_context *ctx, mig_error *err)
{
	const mig_args *a = &ctx->args;
	mig_session s = {0};
	mig_run run = {0};
	bool report = a->format == MIG_FORMAT_JSON && !a->dry_run;
	mig_run_report rr;
	mig_run_report_init(&rr);
	int rc = mig_session_open(&s, ctx->registry, &ctx->cfg->pg, a->dry_run ? 0 : MIG_SESSION_LOCK, err);
	if (rc < 0)
		goto done;
	rc = mig_engine_refuse_required(ctx->cfg, &s.ledger, a->module, err);
	if (rc == MIG_OK)
		rc = mig_engine_plan_down(&run, ctx->plan, &s.ledger, a->module, a->steps, err);
	if (rc < 0)
		goto done;
	if (a->dry_run) {
		rc = mig_report_run(ctx->out, s.drv->name, &run, NULL, a->format, err);
		goto done;
	}
	mig_reporter rep = mig_reporter_for(ctx->out, a->quiet, a->verbose);
	mig_observer obs = report ? mig_run_report_observer(&rr) : mig_reporter_observer(&rep);
	rc = mig_engine_apply(&s, &run, &obs, err);
	if (rc == MIG_OK && run.nitems == 0 && !a->quiet && !report)
		fprintf(ctx->out, "nothing to roll back: module '%s' has no applied version\n",
			a->module);
done:
	if (report) {
		mig_error werr = {0};
		if (mig_report_run_result_json(ctx->out, &run, &rr, rc, err, &werr) < 0 && rc == MIG_OK)
			rc = mig_error_set(err, werr.code, "%s", werr.message);
	}
	mig_run_report_clear(&rr);
	mig_run_clear(&run);
	mig_session_close(&s);
	return rc;
}

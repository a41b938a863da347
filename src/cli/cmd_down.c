/* `migrate down --module M [--steps N]`: roll back the latest applied versions of M. */
#include "cli/cli.h"
#include "engine.h"
#include "report.h"
#include "session.h"

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
	mig_session s;
	mig_run run = {0};
	if (a->format == MIG_FORMAT_JSON)
		return mig_error_set(err, MIG_EUSAGE,
				     "'down --format json' is for fleets (a config with targets:)");
	int rc = mig_session_open(&s, ctx->registry, &ctx->cfg->pg, a->dry_run ? 0 : MIG_SESSION_LOCK, err);
	if (rc < 0)
		return rc;
	rc = mig_engine_refuse_required(ctx->cfg, &s.ledger, a->module, err);
	if (rc == MIG_OK)
		rc = mig_engine_plan_down(&run, ctx->plan, &s.ledger, a->module, a->steps, err);
	if (rc < 0)
		goto done;
	if (a->dry_run) {
		rc = mig_report_run(ctx->out, s.drv->name, &run, NULL, MIG_FORMAT_TEXT, err);
		goto done;
	}
	mig_reporter rep = mig_reporter_for(ctx->out, a->quiet, a->verbose);
	mig_observer obs = mig_reporter_observer(&rep);
	rc = mig_engine_apply(&s, &run, &obs, err);
	if (rc == MIG_OK && run.nitems == 0 && !a->quiet)
		fprintf(ctx->out, "nothing to roll back: module '%s' has no applied version\n",
			a->module);
done:
	mig_run_clear(&run);
	mig_session_close(&s);
	return rc;
}

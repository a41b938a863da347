/* `migrate down --module M [--steps N]`: roll back the latest applied versions of M. */
#include "migrate/cli.h"
#include "migrate/engine.h"
#include "migrate/report.h"
#include "migrate/session.h"

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
	int rc = mig_session_open(&s, ctx, a->dry_run ? 0 : MIG_SESSION_LOCK, err);
	if (rc < 0)
		return rc;
	rc = mig_engine_plan_down(&run, ctx->plan, &s.ledger, a->module, a->steps, err);
	if (rc < 0)
		goto done;
	if (a->dry_run) {
		rc = mig_report_run(ctx->out, &run, MIG_FORMAT_TEXT, err);
		goto done;
	}
	mig_reporter rep = {.out = a->quiet ? NULL : ctx->out};
	rc = mig_engine_execute(s.drv, s.conn, &run, &rep, err);
	if (rc == MIG_OK && run.nitems == 0 && !a->quiet)
		fprintf(ctx->out, "nothing to roll back: module '%s' has no applied version\n",
			a->module);
done:
	mig_run_clear(&run);
	mig_session_close(&s);
	return rc;
}

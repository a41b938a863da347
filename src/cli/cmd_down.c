/* `migrate down --module M [--steps N]`: roll back the latest applied versions of M. */
#include <string.h>

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

/* Refuses to roll back a module that an applied module requires: its tables may hold
 * what the other's depend on. */
static int refuse_required(const mig_config *cfg, const mig_ledger *ledger, const char *module,
			   mig_error *err)
{
	for (size_t i = 0; i < cfg->nmodules; i++) {
		const mig_module_config *mod = &cfg->modules[i];
		bool requires = false;
		for (size_t r = 0; r < mod->nrequires && !requires; r++)
			requires = !strcmp(mod->requires[r], module);
		if (!requires || !mod->enabled)
			continue;
		for (size_t k = 0; k < ledger->nrows; k++)
			if (!strcmp(ledger->rows[k].module, mod->name))
				return mig_error_set(err, MIG_EUSAGE,
						     "cannot roll back module '%s': module '%s' requires it and has applied versions; roll back '%s' first (%s:%u)",
						     module, mod->name, mod->name, cfg->path, mod->line);
	}
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
	rc = refuse_required(ctx->cfg, &s.ledger, a->module, err);
	if (rc == MIG_OK)
		rc = mig_engine_plan_down(&run, ctx->plan, &s.ledger, a->module, a->steps, err);
	if (rc < 0)
		goto done;
	if (a->dry_run) {
		rc = mig_report_run(ctx->out, &run, NULL, MIG_FORMAT_TEXT, err);
		goto done;
	}
	if ((rc = mig_engine_preflight(&run, err)) < 0 ||
	    (run.nitems && (rc = mig_session_prepare(&s, err)) < 0))
		goto done;
	mig_reporter rep = mig_reporter_for(ctx->out, a->quiet, a->verbose);
	rc = mig_engine_execute(s.drv, s.conn, &run, &rep, err);
	if (rc == MIG_OK && run.nitems == 0 && !a->quiet)
		fprintf(ctx->out, "nothing to roll back: module '%s' has no applied version\n",
			a->module);
done:
	mig_run_clear(&run);
	mig_session_close(&s);
	return rc;
}

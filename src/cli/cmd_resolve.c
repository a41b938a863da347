/* `migrate resolve`: the way out of a dirty state, or of a hand-applied migration:
 * record a version as applied, or forget it, without running any SQL. */
#include "cli/cli.h"
#include "core/engine.h"
#include "core/session.h"

int mig_check_resolve_args(const mig_args *args, mig_error *err)
{
	if (!args->module)
		return mig_error_set(err, MIG_EUSAGE, "'migrate resolve' needs --module M");
	if (!args->has_version)
		return mig_error_set(err, MIG_EUSAGE, "'migrate resolve' needs --version V");
	if (args->applied == args->rolled_back)
		return mig_error_set(err, MIG_EUSAGE,
				     "'migrate resolve' needs exactly one of --applied and --rolled-back");
	return MIG_OK;
}

int mig_cmd_resolve(mig_context *ctx, mig_error *err)
{
	const mig_args *a = &ctx->args;
	mig_resolution r;
	int rc = mig_engine_resolve_prepare(&r, ctx->plan, a->module, a->version, a->applied, err);
	if (rc < 0)
		return rc;
	mig_session s;
	if ((rc = mig_session_open(&s, ctx->registry, &ctx->cfg->pg,
				   MIG_SESSION_LOCK | MIG_SESSION_PREPARE, err)) < 0)
		return rc;
	rc = mig_engine_resolve(&s, &r, err);
	if (rc == MIG_OK)
		fprintf(ctx->out, "resolved %s/%lld as %s\n", a->module, a->version,
			a->applied ? "applied" : "rolled back");
	mig_session_close(&s);
	return rc;
}

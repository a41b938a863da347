/* `migrate check`: the startup QuickCheck. An app runs it (or links libmigrate and calls
 * mig_quick_check) before serving, and refuses to boot against a database whose core
 * schema is not applied. It pays for what it asks and no more: one connection and one
 * query for core's highest versions — no lock, no ledger read, no migration file. */
#include "cli/cli.h"
#include "api/quick_check.h"
#include "core/session.h"

int mig_cmd_check(mig_context *ctx, mig_error *err)
{
	mig_session s;
	int rc = mig_session_open(&s, ctx->registry, &ctx->cfg->pg, MIG_SESSION_NO_LEDGER, err);
	if (rc < 0)
		return rc;
	long long core;
	rc = mig_check_core_session(&s, &core, err);
	if (rc == MIG_OK && !ctx->args.quiet)
		fprintf(ctx->out, "core schema applied (version %lld)\n", core);
	mig_session_close(&s);
	return rc;
}

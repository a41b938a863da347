/* `migrate status`: per module, what is applied, what the tree has, what is pending;
 * and for MongoDB, which collections and indexes are missing. Read only. */
#include <stdlib.h>

#include "cli/cli.h"
#include "core/engine.h"
#include "core/mongo_plan.h"
#include "core/phase.h"
#include "report/report.h"
#include "core/session.h"

int mig_cmd_status(mig_context *ctx, mig_error *err)
{
	mig_session s = {0};
	mig_module_status *rows = NULL;
	mig_mongo_results mongo = {0};
	size_t n = 0;
	int rc = MIG_OK;
	if (ctx->cfg->has_postgres) {
		if ((rc = mig_session_open(&s, ctx->registry, &ctx->cfg->pg, 0, err)) < 0)
			return rc;
		rc = mig_engine_status(&rows, &n, ctx->plan, &s.ledger, err);
		if (rc == MIG_OK)
			rc = mig_phase_mark_status(rows, n, ctx->plan, &s.ledger, err);
	}
	if (rc == MIG_OK && ctx->mongo_plan)
		rc = mig_mongo_run(&mongo, ctx->cfg, ctx->mongo_plan, MIG_MONGO_CHECK, err);
	if (rc == MIG_OK)
		rc = mig_report_status(ctx->out, s.drv ? s.drv->name : NULL, rows, n, s.ledger.exists,
				       ctx->mongo_plan ? &mongo : NULL, ctx->args.format, err);
	free(rows);
	mig_mongo_results_clear(&mongo);
	mig_session_close(&s);
	return rc;
}

/* `migrate seed`: create the MongoDB collections and indexes every running module's
 * indexes.json lists. Existing ones with the same spec are skipped; a same-named one
 * with another spec is reported and left alone, and the run exits 3. */
#include "cli/cli.h"
#include "mongo_plan.h"
#include "report.h"

int mig_cmd_seed(mig_context *ctx, mig_error *err)
{
	const mig_args *a = &ctx->args;
	mig_mongo_results r;
	int rc = mig_mongo_run(&r, ctx->cfg, ctx->mongo_plan,
			       a->dry_run ? MIG_MONGO_SEED_DRY : MIG_MONGO_SEED, err);
	if (rc == MIG_OK)
		rc = mig_report_seed(ctx->out, &r, a->dry_run, a->quiet, a->format, err);
	if (rc == MIG_OK && r.conflicts)
		rc = mig_error_set(err, MIG_ESCHEMA,
				   "%zu conflicting index%s left alone: same name, another spec (see above)",
				   r.conflicts, r.conflicts == 1 ? "" : "es");
	mig_mongo_results_clear(&r);
	return rc;
}

/* `migrate seed`: create the MongoDB collections and indexes every running module's
 * indexes.json lists, and apply in place what collMod can change. Existing ones with the
 * same spec are skipped; a same-named one with another spec is reported and left alone,
 * and the run exits 3. An index the server refuses is reported and the others are still
 * created; the run then exits 1 naming what was not created. --prune drops undeclared
 * indexes. */
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "core/mongo_plan.h"
#include "report/report.h"

/* MIG_EFAIL naming the items the server refused (as many as fit in one line). */
static int not_created(const mig_mongo_results *r, mig_error *err)
{
	char names[MIG_ERROR_MAX / 2] = "";
	for (size_t i = 0; i < r->nitems; i++) {
		const mig_mongo_result *it = &r->items[i];
		size_t used = strlen(names);
		if (it->state != MIG_MONGO_FAILED)
			continue;
		snprintf(names + used, sizeof names - used, "%s%s%s%s", used ? ", " : "",
			 it->collection, it->index ? "." : "", it->index ? it->index : "");
	}
	return mig_error_set(err, MIG_EFAIL, "%zu item%s not created or changed: %s (see above)",
			     r->failed, r->failed == 1 ? "" : "s", names);
}

int mig_cmd_seed(mig_context *ctx, mig_error *err)
{
	const mig_args *a = &ctx->args;
	mig_mongo_results r;
	mig_mongo_mode mode = a->dry_run ? (a->prune ? MIG_MONGO_SEED_DRY_PRUNE : MIG_MONGO_SEED_DRY)
					 : (a->prune ? MIG_MONGO_SEED_PRUNE : MIG_MONGO_SEED);
	int rc = mig_mongo_run(&r, ctx->cfg, ctx->mongo_plan, mode, err);
	if (rc == MIG_OK)
		rc = mig_report_seed(ctx->out, &r, a->dry_run, a->quiet, a->format, err);
	if (rc == MIG_OK && r.failed)
		rc = not_created(&r, err);
	else if (rc == MIG_OK && r.conflicts)
		rc = mig_error_set(err, MIG_ESCHEMA,
				   "%zu conflicting index%s left alone: same name, another spec (see above)",
				   r.conflicts, r.conflicts == 1 ? "" : "es");
	mig_mongo_results_clear(&r);
	return rc;
}

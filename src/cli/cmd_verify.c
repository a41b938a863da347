/* `migrate verify`: the schema is what the migrations say. PostgreSQL: every applied
 * file still exists unchanged (checksum), nothing is dirty, every object the applied
 * migrations created and did not drop still exists, and no index is invalid. MongoDB:
 * every collection and index of indexes.json exists with its spec. Exit 3 names what
 * is wrong. */
#include <stdio.h>
#include <stdlib.h>

#include "cli/cli.h"
#include "core/engine.h"
#include "core/repeatable.h"
#include "core/mongo_plan.h"
#include "core/mongo_versions.h"
#include "report/report.h"
#include "core/session.h"

int mig_cmd_verify(mig_context *ctx, mig_error *err)
{
	mig_session s = {0};
	mig_problem *problems = NULL;
	size_t nproblems = 0, checked = 0;
	mig_missing_object *objects = NULL;
	size_t nobjects = 0;
	mig_mongo_results mongo = {0};
	mig_mongo_versions mv = {0};
	mig_problem *mproblems = NULL;
	size_t nmproblems = 0, mchecked = 0;
	int rc = MIG_OK;
	if (ctx->cfg->has_postgres) {
		if ((rc = mig_session_open(&s, ctx->registry, &ctx->cfg->pg, 0, err)) < 0)
			return rc;
		rc = mig_engine_verify_files(&problems, &nproblems, &checked, ctx->plan, &s.ledger, ctx->cfg,
					     err);
		mig_repeatable_ledger reps = {0};
		if (rc == MIG_OK && (rc = mig_repeatables_read(&reps, &s, ctx->plan, err)) == MIG_OK)
			rc = mig_repeatable_verify(&problems, &nproblems, ctx->plan, &reps, ctx->cfg,
						   err);
		mig_repeatable_ledger_clear(&reps);
		/* a ledger without its companion tables predates object tracking */
		if (rc == MIG_OK && s.ledger.complete && s.drv->objects_missing)
			rc = s.drv->objects_missing(s.conn, &objects, &nobjects, err);
	}
	if (rc == MIG_OK && ctx->mongo_plan)
		rc = mig_mongo_run(&mongo, ctx->cfg, ctx->mongo_plan, MIG_MONGO_CHECK, err);
	/* the versioned MongoDB files: each applied one unchanged, none dirty */
	if (rc == MIG_OK)
		rc = mig_mongo_versions_plan(&mv, ctx->cfg,
					     mig_plan_choose_root(ctx->args.root, ctx->cfg), err);
	if (rc == MIG_OK && mig_mongo_versions_active(&mv))
		rc = mig_mongo_versions_open(&mv, ctx->cfg, NULL,
					     ctx->mongo_plan ? ctx->mongo_plan->backend : NULL, false,
					     err);
	if (rc == MIG_OK && mv.conn)
		rc = mig_engine_verify_files(&mproblems, &nmproblems, &mchecked, mv.plan, &mv.ledger,
					     NULL, err);
	mig_verify_versions versions = {mproblems, nmproblems, mchecked};
	if (rc == MIG_OK)
		rc = mig_report_verify(ctx->out, s.drv ? s.drv->name : NULL, problems, nproblems,
				       checked, objects, nobjects, ctx->mongo_plan ? &mongo : NULL,
				       mv.conn ? &versions : NULL, ctx->args.format, err);
	size_t bad = nproblems + nobjects + mongo.missing + mongo.conflicts + mongo.building +
		     mongo.failed + nmproblems;
	/* the summary goes to stderr after the problems it counts, also through one pipe */
	if (rc == MIG_OK)
		fflush(ctx->out);
	if (rc == MIG_OK && bad)
		rc = mig_error_set(err, MIG_ESCHEMA, "verify found %zu problem%s (see above)", bad,
				   bad == 1 ? "" : "s");
	free(problems);
	free(mproblems);
	mig_mongo_versions_close(&mv);
	mig_missing_objects_free(objects, nobjects);
	mig_mongo_results_clear(&mongo);
	mig_session_close(&s);
	return rc;
}

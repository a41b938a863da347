/* `migrate resolve`: the way out of a dirty state, or of a hand-applied migration:
 * record a version as applied, or forget it, without running any SQL or command. A
 * version only the module's MongoDB files have (or --mongodb) is resolved in the MongoDB
 * ledger. */
#include "cli/cli.h"
#include "core/engine.h"
#include "core/mongo_versions.h"
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

/* Whether the SQL side knows module/version: a file of the tree or a ledger row. */
static bool sql_knows(const mig_plan *plan, const mig_ledger *ledger, const char *module,
		      long long version)
{
	if (mig_ledger_find(ledger, module, version))
		return true;
	const mig_module_plan *mod = mig_plan_module(plan, module);
	for (size_t i = 0; mod && i < mod->nmigrations; i++)
		if (mod->migrations[i].version == version)
			return true;
	return false;
}

static bool mongo_knows(const mig_mongo_versions *mv, const char *module, long long version)
{
	return mv->conn && sql_knows(mv->plan, &mv->ledger, module, version);
}

static int resolve_mongo(mig_context *ctx, mig_mongo_versions *mv, mig_error *err)
{
	const mig_args *a = &ctx->args;
	mig_resolution r;
	int rc = mig_engine_resolve_prepare(&r, mv->plan, a->module, a->version, a->applied, err);
	if (rc == MIG_OK && !a->applied && !mig_ledger_find(&mv->ledger, a->module, a->version))
		rc = mig_error_set(err, MIG_EUSAGE, "%s/%lld is not recorded as applied in MongoDB",
				   a->module, a->version);
	if (rc == MIG_OK)
		rc = mig_mongo_versions_record(mv, r.module, r.version, r.name, r.checksum, r.applied,
					       err);
	return rc;
}

int mig_cmd_resolve(mig_context *ctx, mig_error *err)
{
	const mig_args *a = &ctx->args;
	mig_mongo_versions mv = {0};
	mig_session s = {0};
	int rc = mig_mongo_versions_plan(&mv, ctx->cfg, mig_plan_choose_root(a->root, ctx->cfg), err);
	if (rc < 0)
		return rc;
	if (a->mongodb && !mv.plan)
		rc = mig_error_set(err, MIG_EUSAGE, "--mongodb needs a 'mongodb:' section in the config");
	if (rc == MIG_OK)
		rc = mig_session_open(&s, ctx->registry, &ctx->cfg->pg, MIG_SESSION_LOCK, err);
	/* MongoDB is asked only about a version the SQL side does not know (or --mongodb) */
	bool sql = rc == MIG_OK && !a->mongodb && sql_knows(ctx->plan, &s.ledger, a->module, a->version);
	if (rc == MIG_OK && !sql && (a->mongodb || mig_mongo_versions_active(&mv)))
		rc = mig_mongo_versions_open(&mv, ctx->cfg, NULL,
					     ctx->mongo_plan ? ctx->mongo_plan->backend : NULL, true, err);
	bool mongo = rc == MIG_OK && !sql && (a->mongodb || mongo_knows(&mv, a->module, a->version));
	if (rc == MIG_OK && mongo) {
		rc = resolve_mongo(ctx, &mv, err);
	} else if (rc == MIG_OK) {
		mig_resolution r;
		rc = mig_engine_resolve_prepare(&r, ctx->plan, a->module, a->version, a->applied, err);
		/* the ledger is created only once the request is known good: a refused one
		 * changes nothing */
		if (rc == MIG_OK)
			rc = mig_session_prepare(&s, err);
		if (rc == MIG_OK)
			rc = mig_engine_resolve(&s, &r, err);
	}
	if (rc == MIG_OK)
		fprintf(ctx->out, "resolved %s%s/%lld as %s\n", mongo ? "mongodb " : "", a->module,
			a->version, a->applied ? "applied" : "rolled back");
	mig_session_close(&s);
	mig_mongo_versions_close(&mv);
	return rc;
}

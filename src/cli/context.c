/* The setup a command's table row asks for: its operands checked, then the config
 * loaded and the tree planned, all before any connection is opened. */
#include <string.h>

#include "cli/cli.h"
#include "core/mongo_plan.h"

int mig_context_setup(mig_context *ctx, const mig_command *cmd, mig_error *err)
{
	if (ctx->args.npositional > cmd->operands)
		return mig_error_set(err, MIG_EUSAGE, "unexpected argument '%s' for '%s'",
				     ctx->args.positional[cmd->operands], cmd->name);
	if (cmd->check_args) {
		int rc = cmd->check_args(&ctx->args, err);
		if (rc < 0)
			return rc;
	}
	unsigned needs = cmd->needs;
	if (ctx->args.seed_data) /* seed --data: the seed files decide which sections it needs */
		needs &= ~(unsigned)(MIG_NEEDS_MONGODB | MIG_NEEDS_MONGO_PLAN);
	if (!(needs & MIG_NEEDS_CONFIG))
		return MIG_OK;
	const char *path = mig_config_choose_path(ctx->args.config_path);
	int rc = mig_config_load(&ctx->cfg, path, err);
	if (rc < 0)
		return rc;
	if (ctx->args.env && (rc = mig_config_set_environment(ctx->cfg, ctx->args.env, err)) < 0)
		return rc;
	if ((needs & MIG_NEEDS_POSTGRES) && !ctx->cfg->has_postgres)
		return mig_error_set(err, MIG_EUSAGE,
				     "'migrate %s' needs a 'postgres:' section in the config (%s)",
				     cmd->name, path);
	if ((needs & MIG_NEEDS_MONGODB) && !ctx->cfg->has_mongodb)
		return mig_error_set(err, MIG_EUSAGE,
				     "'migrate %s' needs a 'mongodb:' section in the config (%s)",
				     cmd->name, path);
	const char *root = mig_plan_choose_root(ctx->args.root, ctx->cfg);
	if (needs & MIG_NEEDS_PLAN) {
		rc = mig_plan_build(&ctx->plan, ctx->cfg, root, err);
		if (rc < 0)
			return rc;
	}
	if ((needs & MIG_NEEDS_MONGO_PLAN) && ctx->cfg->has_mongodb)
		return mig_mongo_plan_build(&ctx->mongo_plan, ctx->cfg, root, err);
	return MIG_OK;
}

void mig_context_clear(mig_context *ctx)
{
	mig_mongo_plan_free(ctx->mongo_plan);
	ctx->mongo_plan = NULL;
	mig_plan_free(ctx->plan);
	mig_config_free(ctx->cfg);
	ctx->plan = NULL;
	ctx->cfg = NULL;
}

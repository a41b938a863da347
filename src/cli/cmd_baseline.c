/* `migrate baseline --module M --version V [--mongodb] [--dry-run]`: adopt an existing
 * database by recording M's versions up to V as applied, without running their SQL (or,
 * with --mongodb, their MongoDB commands, in the MongoDB ledger). */
#include "core/baseline.h"
#include "cli/cli.h"
#include "core/mongo_versions.h"
#include "core/session.h"

int mig_check_baseline_args(const mig_args *args, mig_error *err)
{
	if (!args->module)
		return mig_error_set(err, MIG_EUSAGE, "'migrate baseline' needs --module M");
	if (!args->has_version)
		return mig_error_set(err, MIG_EUSAGE, "'migrate baseline' needs --version V");
	return MIG_OK;
}

static void print(mig_context *ctx, const mig_baseline *b, bool mongo)
{
	const mig_args *a = &ctx->args;
	if (a->quiet)
		return;
	for (size_t i = 0; i < b->n; i++)
		fprintf(ctx->out, "%s %s%s/%lld_%s\n", a->dry_run ? "would record" : "recorded",
			mongo ? "mongodb " : "", b->items[i].module, b->items[i].version,
			b->items[i].name);
	fprintf(ctx->out, "%s %zu version%s of module '%s' as applied, without running %s\n",
		a->dry_run ? "would record" : "recorded", b->n, b->n == 1 ? "" : "s", a->module,
		mongo ? "its MongoDB commands" : "SQL");
}

static int baseline_mongo(mig_context *ctx, mig_error *err)
{
	const mig_args *a = &ctx->args;
	mig_mongo_versions mv = {0};
	mig_baseline b = {0};
	int rc = mig_mongo_versions_plan(&mv, ctx->cfg, mig_plan_choose_root(a->root, ctx->cfg), err);
	if (rc == MIG_OK && !mv.plan)
		rc = mig_error_set(err, MIG_EUSAGE, "--mongodb needs a 'mongodb:' section in the config");
	if (rc == MIG_OK)
		rc = mig_mongo_versions_open(&mv, ctx->cfg, NULL,
					     ctx->mongo_plan ? ctx->mongo_plan->backend : NULL,
					     !a->dry_run, err);
	if (rc == MIG_OK)
		rc = mig_baseline_prepare(&b, mv.plan, &mv.ledger, a->module, a->version, err);
	for (size_t i = 0; rc == MIG_OK && !a->dry_run && i < b.n; i++)
		rc = mig_mongo_versions_record(&mv, b.items[i].module, b.items[i].version,
					       b.items[i].name, b.items[i].checksum, true, err);
	if (rc == MIG_OK)
		print(ctx, &b, true);
	mig_baseline_clear(&b);
	mig_mongo_versions_close(&mv);
	return rc;
}

int mig_cmd_baseline(mig_context *ctx, mig_error *err)
{
	const mig_args *a = &ctx->args;
	if (a->mongodb)
		return baseline_mongo(ctx, err);
	mig_session s;
	mig_baseline b = {0};
	/* locked, so no run can add rows between the refusal checks and the writes */
	int rc = mig_session_open(&s, ctx->registry, &ctx->cfg->pg,
				  a->dry_run ? 0 : MIG_SESSION_LOCK, err);
	if (rc < 0)
		return rc;
	rc = mig_baseline_prepare(&b, ctx->plan, &s.ledger, a->module, a->version, err);
	if (rc == MIG_OK && !a->dry_run)
		rc = mig_baseline_record(&s, &b, err);
	if (rc == MIG_OK)
		print(ctx, &b, false);
	mig_baseline_clear(&b);
	mig_session_close(&s);
	return rc;
}

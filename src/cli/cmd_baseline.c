/* `migrate baseline --module M --version V [--dry-run]`: adopt an existing database by
 * recording M's versions up to V as applied, without running their SQL. */
#include "core/baseline.h"
#include "cli/cli.h"
#include "core/session.h"

int mig_check_baseline_args(const mig_args *args, mig_error *err)
{
	if (!args->module)
		return mig_error_set(err, MIG_EUSAGE, "'migrate baseline' needs --module M");
	if (!args->has_version)
		return mig_error_set(err, MIG_EUSAGE, "'migrate baseline' needs --version V");
	return MIG_OK;
}

int mig_cmd_baseline(mig_context *ctx, mig_error *err)
{
	const mig_args *a = &ctx->args;
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
	if (rc == MIG_OK && !a->quiet) {
		for (size_t i = 0; i < b.n; i++)
			fprintf(ctx->out, "%s %s/%lld_%s\n", a->dry_run ? "would record" : "recorded",
				b.items[i].module, b.items[i].version, b.items[i].name);
		fprintf(ctx->out, "%s %zu version%s of module '%s' as applied, without running SQL\n",
			a->dry_run ? "would record" : "recorded", b.n, b.n == 1 ? "" : "s", a->module);
	}
	mig_baseline_clear(&b);
	mig_session_close(&s);
	return rc;
}

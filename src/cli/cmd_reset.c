/* `migrate reset --force` (development): every enabled module rolled back, in reverse
 * plan order, each version with its .down.sql, then the whole tree applied again, then
 * its seed data loaded again where the environment allows seed data (named, not
 * production). Every refusal (no --force, a missing .down.sql, a dirty module, a seed
 * file without its environment) comes before any change. */
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "core/engine.h"
#include "core/environment.h"
#include "core/repeatable.h"
#include "core/seed.h"
#include "report/report.h"
#include "core/session.h"

/* Appends src's items to dst (both down runs). */
static int run_append(mig_run *dst, const mig_run *src, mig_error *err)
{
	if (!src->nitems)
		return MIG_OK;
	mig_run_item *grown = realloc(dst->items, (dst->nitems + src->nitems) * sizeof *grown);
	if (!grown)
		return mig_error_set(err, MIG_EFAIL, "out of memory");
	memcpy(grown + dst->nitems, src->items, src->nitems * sizeof *grown);
	dst->items = grown;
	dst->nitems += src->nitems;
	return MIG_OK;
}

/* Every applied version of every enabled module, last module first, highest first. */
static int plan_all_down(mig_run *down, size_t *nmodules, const mig_plan *plan,
			 const mig_ledger *ledger, mig_error *err)
{
	memset(down, 0, sizeof *down);
	*nmodules = 0;
	int rc = MIG_OK;
	for (size_t i = plan->nmodules; i-- > 0 && rc == MIG_OK;) {
		mig_run one;
		rc = mig_engine_plan_down(&one, plan, ledger, plan->modules[i].name, ULONG_MAX, err);
		if (rc == MIG_OK) {
			*nmodules += one.nitems > 0;
			rc = run_append(down, &one, err);
		}
		mig_run_clear(&one);
	}
	if (rc < 0)
		mig_run_clear(down);
	return rc;
}

int mig_cmd_reset(mig_context *ctx, mig_error *err)
{
	const mig_args *a = &ctx->args;
	mig_session s;
	mig_run down = {0}, up = {0};
	mig_ledger empty = {0};
	mig_seeds seeds = {0};
	mig_error ignored = {0};
	/* seed data comes back only where `seed --data` would load it; elsewhere none is read */
	bool with_seeds = mig_seed_environment_allowed(ctx->cfg, &ignored) == MIG_OK;
	size_t nmodules = 0;
	int rc = mig_session_open(&s, ctx->registry, &ctx->cfg->pg, a->force ? MIG_SESSION_LOCK : 0,
				  err);
	if (rc < 0)
		return rc;
	if ((rc = plan_all_down(&down, &nmodules, ctx->plan, &s.ledger, err)) < 0 ||
	    (rc = mig_engine_plan_up(&up, ctx->plan, &empty, NULL, false, err)) < 0 ||
	    (rc = mig_env_mark(&down, ctx->cfg, err)) < 0 ||
	    (rc = mig_env_mark(&up, ctx->cfg, err)) < 0 ||
	    (rc = mig_repeatable_plan(&up, ctx->plan, &(mig_repeatable_ledger){0}, NULL, err)) < 0)
		goto done;
	if (with_seeds &&
	    (rc = mig_seeds_load(&seeds, ctx->cfg, mig_plan_choose_root(a->root, ctx->cfg), NULL,
				 NULL, err)) < 0)
		goto done;
	with_seeds = mig_seeds_any(&seeds);
	size_t nrep = 0; /* of up's items, repeatables: counted apart */
	for (size_t i = 0; i < up.nitems; i++)
		nrep += up.items[i].repeatable;
	char reps[64] = "";
	if (nrep)
		snprintf(reps, sizeof reps, " and its %zu repeatable%s", nrep, nrep == 1 ? "" : "s");
	if (!a->force) {
		rc = mig_error_set(err, MIG_EUSAGE,
				   "reset would roll back %zu applied version%s of %zu module%s and then apply all %zu migrations of the tree%s%s, losing the data; run 'migrate reset --force' to do it",
				   down.nitems, down.nitems == 1 ? "" : "s", nmodules,
				   nmodules == 1 ? "" : "s", up.nitems - nrep, reps,
				   with_seeds ? " and load its seed data" : "");
		goto done;
	}
	if ((rc = mig_engine_preflight(&down, err)) < 0 ||
	    (rc = mig_engine_preflight(&up, err)) < 0 || (rc = mig_session_prepare(&s, err)) < 0)
		goto done;
	mig_reporter rep = mig_reporter_for(ctx->out, a->quiet, a->verbose);
	mig_observer obs = mig_reporter_observer(&rep);
	rc = mig_engine_execute(s.drv, s.conn, &down, &obs, err);
	if (rc == MIG_OK)
		rc = mig_engine_execute(s.drv, s.conn, &up, &obs, err);
	if (rc == MIG_OK && with_seeds &&
	    (rc = mig_seeds_open(&seeds, ctx->cfg, ctx->registry, &s, NULL, MIG_SEEDS_ALL,
				  err)) == MIG_OK) {
		mig_seeds_reload_all(&seeds); /* the tables they fill were just rebuilt */
		rc = mig_seeds_apply(&seeds, ctx->out, a->quiet, err);
	}
	if (rc == MIG_OK && !a->quiet)
		fprintf(ctx->out, "reset: rolled back %zu, applied %zu%s\n", down.nitems,
			up.nitems - nrep, reps);
done:
	mig_seeds_clear(&seeds);
	mig_run_clear(&down);
	mig_run_clear(&up);
	mig_session_close(&s);
	return rc;
}

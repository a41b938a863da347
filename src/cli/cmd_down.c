/* `migrate down --module M [--steps N]`: roll back the latest applied versions of M, the
 * newest first across both backends (by version; a MongoDB version before a PostgreSQL one
 * of the same number, as `up` ran it later). */
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "core/engine.h"
#include "core/mongo_versions.h"
#include "core/environment.h"
#include "report/report.h"
#include "report/report_json.h"
#include "report/run_report.h"
#include "core/session.h"

int mig_check_down_args(const mig_args *args, mig_error *err)
{
	if (!args->module)
		return mig_error_set(err, MIG_EUSAGE,
				     "'migrate down' needs --module M: it rolls back one module at a time");
	return MIG_OK;
}

/* The applied versions of module in ledger, highest first, at most max (caller frees). */
static size_t applied_desc(long long **out, const mig_ledger *ledger, const char *module,
			   unsigned long max)
{
	*out = calloc(max ? max : 1, sizeof **out);
	size_t n = 0;
	for (size_t i = ledger->nrows; *out && i-- > 0 && n < max;)
		if (!strcmp(ledger->rows[i].module, module))
			(*out)[n++] = ledger->rows[i].version;
	return n;
}

/* How many of the `steps` newest versions each backend rolls back. */
static int split_steps(unsigned long *pg, unsigned long *mongo, const mig_ledger *pl,
		       const mig_ledger *ml, const char *module, unsigned long steps,
		       mig_error *err)
{
	long long *p = NULL, *m = NULL;
	size_t np = applied_desc(&p, pl, module, steps), nm = applied_desc(&m, ml, module, steps);
	*pg = *mongo = 0;
	if (!p || !m) {
		free(p);
		free(m);
		return mig_error_set(err, MIG_EFAIL, "out of memory");
	}
	while (*pg + *mongo < steps && (*pg < np || *mongo < nm)) {
		if (*mongo < nm && (*pg >= np || m[*mongo] >= p[*pg]))
			(*mongo)++;
		else
			(*pg)++;
	}
	free(p);
	free(m);
	return MIG_OK;
}

/* Runs both backends' items newest first: stretches of one backend at a time. */
static int apply_both(mig_context *ctx, mig_session *s, const mig_run *run,
		      mig_mongo_versions *mv, const mig_observer *obs, const mig_observer *mobs,
		      mig_error *err)
{
	size_t i = 0, j = 0;
	int rc = MIG_OK;
	mig_run *mrun = &mv->run;
	while (rc == MIG_OK && (i < run->nitems || j < mrun->nitems)) {
		bool mongo_next = j < mrun->nitems &&
				  (i >= run->nitems || mrun->items[j].migration->version >=
							       run->items[i].migration->version);
		size_t k = 0;
		if (mongo_next) {
			while (j + k < mrun->nitems &&
			       (i >= run->nitems || mrun->items[j + k].migration->version >=
							    run->items[i].migration->version))
				k++;
			mig_slice_observer so;
			mig_observer o = mig_observer_for_slice(&so, mobs, mrun, j);
			mig_run slice = {.up = false, .items = mrun->items + j, .nitems = k};
			mig_mongo_versions sv = *mv; /* the same connection, over the slice */
			sv.run = slice;
			sv.files = mv->files + j;
			sv.results = mv->results + j;
			rc = mig_mongo_versions_apply(&sv, &o, ctx->args.quiet ? NULL : ctx->out, err);
			j += k;
		} else {
			while (i + k < run->nitems &&
			       (j >= mrun->nitems || run->items[i + k].migration->version >
							     mrun->items[j].migration->version))
				k++;
			mig_slice_observer so;
			mig_observer o = mig_observer_for_slice(&so, obs, run, i);
			mig_run slice = {.up = false, .items = run->items + i, .nitems = k};
			rc = mig_engine_apply(s, &slice, &o, err);
			i += k;
		}
	}
	return rc;
}

int mig_cmd_down(mig_context *ctx, mig_error *err)
{
	const mig_args *a = &ctx->args;
	mig_session s = {0};
	mig_run run = {0};
	mig_mongo_versions mv = {0};
	bool report = a->format == MIG_FORMAT_JSON && !a->dry_run;
	mig_run_report rr, mrr;
	mig_run_report_init(&rr);
	mig_run_report_init(&mrr);
	/* stdout carries the JSON: a retry is said on stderr as it happens, as in text */
	rr.notes = report && !a->quiet ? stderr : NULL;
	int rc = mig_session_open(&s, ctx->registry, &ctx->cfg->pg, a->dry_run ? 0 : MIG_SESSION_LOCK, err);
	if (rc < 0)
		goto done;
	rc = mig_engine_refuse_required(ctx->cfg, &s.ledger, a->module, err);
	if (rc == MIG_OK)
		rc = mig_mongo_versions_plan(&mv, ctx->cfg, mig_plan_choose_root(a->root, ctx->cfg),
					     err);
	if (rc == MIG_OK && mig_mongo_versions_active(&mv))
		rc = mig_mongo_versions_open(&mv, ctx->cfg, NULL,
					     ctx->mongo_plan ? ctx->mongo_plan->backend : NULL,
					     !a->dry_run, err);
	unsigned long pg_steps = a->steps, mongo_steps = 0;
	if (rc == MIG_OK && mv.conn)
		rc = split_steps(&pg_steps, &mongo_steps, &s.ledger, &mv.ledger, a->module, a->steps,
				 err);
	if (rc == MIG_OK)
		rc = mig_engine_plan_down(&run, ctx->plan, &s.ledger, a->module, pg_steps, err);
	if (rc == MIG_OK && mv.conn)
		rc = mig_mongo_versions_prepare_down(&mv, a->module, mongo_steps, err);
	if (rc == MIG_OK)
		rc = mig_env_mark(&run, ctx->cfg, err);
	if (rc < 0)
		goto done;
	if (a->dry_run) {
		rc = mig_report_run(ctx->out, s.drv->name, &run, NULL, mv.conn ? &mv.run : NULL,
				    a->format, err);
		goto done;
	}
	mig_reporter rep = mig_reporter_for(ctx->out, a->quiet, a->verbose);
	mig_reporter mrep = rep;
	mrep.backend = "mongodb";
	mig_observer obs = report ? mig_run_report_observer(&rr) : mig_reporter_observer(&rep);
	mig_observer mobs = report ? mig_run_report_observer(&mrr) : mig_reporter_observer(&mrep);
	if (mv.run.nitems)
		rc = apply_both(ctx, &s, &run, &mv, &obs, &mobs, err);
	else
		rc = mig_engine_apply(&s, &run, &obs, err);
	if (rc == MIG_OK && run.nitems == 0 && mv.run.nitems == 0 && !a->quiet && !report)
		fprintf(ctx->out, "nothing to roll back: module '%s' has no applied version\n",
			a->module);
done:
	if (report) {
		mig_error werr = {0};
		if (mig_report_run_result_json_full(ctx->out, &run, &rr, mv.run.nitems ? &mv.run : NULL,
						    &mrr, mv.results, NULL, rc, err, &werr) < 0 &&
		    rc == MIG_OK)
			rc = mig_error_set(err, werr.code, "%s", werr.message);
	}
	mig_run_report_clear(&rr);
	mig_run_report_clear(&mrr);
	mig_run_clear(&run);
	mig_mongo_versions_close(&mv);
	mig_session_close(&s);
	return rc;
}

/* `migrate up`: apply every pending migration, core first, stopping at the first error. */
#include <string.h>

#include "cli/cli.h"
#include "cli/cmd_lint.h"
#include "core/engine.h"
#include "core/environment.h"
#include "core/mongo_plan.h"
#include "core/mongo_versions.h"
#include "core/phase.h"
#include "core/repeatable.h"
#include "report/report.h"
#include "report/report_json.h"
#include "report/run_report.h"
#include "core/session.h"

int mig_check_up_args(const mig_args *args, mig_error *err)
{
	if (args->sql && !args->dry_run)
		return mig_error_set(err, MIG_EUSAGE, "'up --sql' goes with --dry-run");
	if (args->sql && args->format == MIG_FORMAT_JSON)
		return mig_error_set(err, MIG_EUSAGE, "'up --dry-run --sql' prints SQL, not JSON");
	if (args->has_to && !args->module)
		return mig_error_set(err, MIG_EUSAGE,
				     "'up --to V' goes with --module M: a version belongs to one module");
	return MIG_OK;
}

/* The plan across both backends: the SQL migrations, the versioned MongoDB files, then
 * what seed would create. */
static int dry_run(mig_context *ctx, const char *backend, const mig_run *run,
		   const mig_run *mongo_run, mig_error *err)
{
	if (!ctx->mongo_plan || ctx->args.module)
		return mig_report_run(ctx->out, backend, run, NULL, mongo_run, ctx->args.format, err);
	mig_mongo_results mongo = {0};
	int rc = mig_mongo_run(&mongo, ctx->cfg, ctx->mongo_plan, MIG_MONGO_SEED_DRY, err);
	if (rc == MIG_OK)
		rc = mig_report_run(ctx->out, backend, run, &mongo, mongo_run, ctx->args.format, err);
	mig_mongo_results_clear(&mongo);
	return rc;
}

/* The versioned MongoDB files of the run (mv planned from the tree): the server's ledger
 * read and every pending file within --to and --phase parsed and checked, all before
 * anything runs in either database. Nothing is sent when the tree has no such file. */
static int mongo_prepare(mig_context *ctx, mig_mongo_versions *mv, bool lock, mig_error *err)
{
	if (!mig_mongo_versions_active(mv))
		return MIG_OK;
	const mig_args *a = &ctx->args;
	int rc = mig_mongo_versions_open(mv, ctx->cfg, NULL,
					 ctx->mongo_plan ? ctx->mongo_plan->backend : NULL, lock, err);
	mig_up_limit limit = {a->has_to, a->to_version, a->phase};
	if (rc == MIG_OK)
		rc = mig_mongo_versions_prepare_up(mv, a->module, a->allow_out_of_order, &limit, err);
	return rc;
}

/* After the versions: make MongoDB match every module's indexes.json, as `seed` does,
 * printing what changed (nothing when nothing did). Conflicts and refused indexes are
 * reported and fail the run as they fail seed (exit 3, exit 1). */
static int converge_indexes(mig_context *ctx, const char *module, mig_mongo_results *total,
			    bool print, mig_error *err)
{
	const mig_mongo_plan *p = ctx->mongo_plan;
	if (!p || ctx->args.module)
		return MIG_OK;
	/* the module's specs: the plan holds them in module order */
	size_t first = 0, n = 0;
	while (first < p->nspecs && strcmp(p->spec_modules[first], module))
		first++;
	while (first + n < p->nspecs && !strcmp(p->spec_modules[first + n], module))
		n++;
	if (n == 0)
		return MIG_OK;
	mig_mongo_plan view = *p;
	view.specs = p->specs + first;
	view.spec_modules = p->spec_modules + first;
	view.nspecs = n;
	mig_mongo_results mine = {0}, *r = &mine;
	int rc = mig_mongo_run(r, ctx->cfg, &view, MIG_MONGO_SEED, err);
	if (rc < 0) {
		mig_mongo_results_clear(r);
		return rc;
	}
	size_t changes = r->created + r->changed + r->conflicts + r->failed;
	if (print && changes)
		for (size_t i = 0; i < r->nitems; i++) {
			const mig_mongo_result *it = &r->items[i];
			const char *what = it->state == MIG_MONGO_CREATED ? "created"
					   : it->state == MIG_MONGO_CHANGED ? "changed"
					   : it->state == MIG_MONGO_CONFLICT ? "conflict"
					   : it->state == MIG_MONGO_FAILED ? "failed"
									  : NULL;
			if (!what)
				continue;
			fprintf(ctx->out, "%s mongodb %s: %s %s%s%s%s%s\n", what, it->module,
				it->index ? "index" : "collection", it->collection, it->index ? "." : "",
				it->index ? it->index : "", it->detail ? ": " : "",
				it->detail ? it->detail : "");
		}
	if (r->failed)
		rc = mig_error_set(err, MIG_EFAIL,
				   "indexes.json of '%s': %zu item%s the server refused (see above)",
				   module, r->failed, r->failed == 1 ? "" : "s");
	else if (r->conflicts)
		rc = mig_error_set(err, MIG_ESCHEMA,
				   "indexes.json of '%s': %zu conflicting index%s left alone: same name, another spec (see above)",
				   module, r->conflicts, r->conflicts == 1 ? "" : "es");
	mig_error aerr = {0};
	if (mig_mongo_results_append(total, r, &aerr) < 0 && rc == MIG_OK)
		rc = mig_error_set(err, aerr.code, "%s", aerr.message);
	mig_mongo_results_clear(r);
	return rc;
}

/* Module by module, in plan order: its SQL versions, then its MongoDB versions, then its
 * indexes.json. Every refusal (preflight, the lint guard) comes first, for the whole run. */
static int apply_by_module(mig_context *ctx, mig_session *s, const mig_run *run,
			   mig_mongo_versions *mv, mig_mongo_results *indexes,
			   const mig_observer *obs, const mig_observer *mobs, bool print,
			   mig_error *err)
{
	int rc = mig_engine_preflight(run, err);
	if (rc == MIG_OK && obs->vet)
		rc = obs->vet(obs->vet_ctx, s, run, err);
	mig_observer sql_obs = *obs;
	sql_obs.vet = NULL;
	/* postgres.hooks over the slices: before_up with the first that runs SQL, after_up
	 * with the one holding the last such item, after_each with every one */
	size_t last_sql = run->nitems;
	for (size_t k = run->nitems; k-- > 0 && last_sql == run->nitems;)
		if (!run->items[k].skip)
			last_sql = k;
	bool before_done = false;
	size_t i = 0, j = 0;
	for (size_t m = 0; rc == MIG_OK && m < ctx->plan->nmodules; m++) {
		const char *module = ctx->plan->modules[m].name;
		size_t n = mig_run_module_items(run, i, module);
		if (n) {
			mig_slice_observer so;
			mig_observer o = mig_observer_for_slice(&so, &sql_obs, run, i);
			mig_run slice = {.up = true, .items = run->items + i, .nitems = n,
					 .vars = run->vars};
			mig_hooks sh = {0};
			if (run->hooks) {
				sh.after_each = run->hooks->after_each;
				bool sql = false;
				for (size_t k = i; k < i + n && !sql; k++)
					sql = !run->items[k].skip;
				if (sql && !before_done) {
					sh.before_up = run->hooks->before_up;
					before_done = true;
				}
				if (last_sql >= i && last_sql < i + n)
					sh.after_up = run->hooks->after_up;
				slice.hooks = &sh;
			}
			rc = mig_engine_apply(s, &slice, &o, err);
			i += n;
		}
		if (rc == MIG_OK)
			rc = mig_mongo_versions_apply_module(mv, &j, module, mobs,
							     print ? ctx->out : NULL, err);
		if (rc == MIG_OK)
			rc = converge_indexes(ctx, module, indexes, print, err);
	}
	/* both runs follow the plan's module order, so every item was met above */
	if (rc == MIG_OK && (i < run->nitems || j < mv->run.nitems))
		rc = mig_error_set(err, MIG_EFAIL, "internal error: a migration outside the plan's "
						   "module order was not applied");
	return rc;
}

int mig_cmd_up(mig_context *ctx, mig_error *err)
{
	const mig_args *a = &ctx->args;
	mig_session s = {0};
	mig_run run = {.up = true};
	mig_mongo_versions mv = {0};
	mig_mongo_results indexes = {0};
	mig_run_report mrr;
	mig_run_report_init(&mrr);
	mig_hooks hooks = {0};
	mig_repeatable_ledger reps = {0};
	/* --format json without --dry-run: one run report at the end, whatever happens */
	bool report = a->format == MIG_FORMAT_JSON && !a->dry_run;
	mig_run_report rr;
	mig_run_report_init(&rr);
	/* stdout carries the JSON: a retry is said on stderr as it happens, as in text */
	rr.notes = report && !a->quiet ? stderr : NULL;
	int rc = MIG_OK;
	if (a->module && !mig_plan_module(ctx->plan, a->module)) {
		rc = mig_error_set(err, MIG_EUSAGE, "module '%s' is not enabled in the config",
				   a->module);
		goto done;
	}
	/* the versioned MongoDB files of the tree (names only): --to V may name one of them */
	if ((rc = mig_mongo_versions_plan(&mv, ctx->cfg, mig_plan_choose_root(a->root, ctx->cfg),
					  err)) < 0)
		goto done;
	if (a->has_to &&
	    (rc = mig_mongo_versions_check_to(ctx->plan, &mv, a->module, a->to_version, false,
					      err)) < 0)
		goto done;
	/* postgres.hooks, read before any connection: a missing file changes nothing */
	if ((rc = mig_hooks_load(&hooks, ctx->cfg, mig_plan_choose_root(a->root, ctx->cfg), err)) < 0)
		goto done;
	/* the repeatables' ledger comes with the lock and the ledger, in one round trip */
	ctx->cfg->pg.read_repeatables = mig_plan_has_repeatables(ctx->plan);
	/* a dry run takes no lock and creates nothing: it only reads */
	rc = mig_session_open(&s, ctx->registry, &ctx->cfg->pg, a->dry_run ? 0 : MIG_SESSION_LOCK,
			      err);
	if (rc < 0)
		goto done;
	rc = mig_engine_plan_up(&run, ctx->plan, &s.ledger, a->module, a->allow_out_of_order, err);
	if (rc == MIG_OK && a->has_to)
		mig_engine_stop_at(&run, a->to_version);
	if (rc == MIG_OK)
		rc = mig_phase_filter(&run, a->phase, err);
	if (rc == MIG_OK)
		rc = mig_env_mark(&run, ctx->cfg, err);
	if (rc == MIG_OK && (rc = mig_repeatables_read(&reps, &s, ctx->plan, err)) == MIG_OK)
		rc = mig_repeatable_plan(&run, ctx->plan, &reps, a->module, err);
	if (rc < 0)
		goto done;
	run.hooks = &hooks;
	if (a->dry_run && a->sql) {
		rc = mig_engine_script(ctx->out, &s, &run, err);
		goto done;
	}
	/* both locks, every check of both backends, then the first change */
	if ((rc = mongo_prepare(ctx, &mv, !a->dry_run, err)) < 0)
		goto done;
	if (a->dry_run) {
		rc = dry_run(ctx, s.drv->name, &run, mv.plan ? &mv.run : NULL, err);
		goto done;
	}
	mig_reporter rep = mig_reporter_for(ctx->out, a->quiet, a->verbose);
	mig_reporter mrep = rep;
	mrep.backend = "mongodb";
	mig_observer obs = report ? mig_run_report_observer(&rr) : mig_reporter_observer(&rep);
	obs.vet = mig_lint_guard_up; /* postgres.lint, after preflight and before any change */
	obs.vet_ctx = ctx;
	mig_observer mobs = report ? mig_run_report_observer(&mrr) : mig_reporter_observer(&mrep);
	if (!mv.run.nitems && !(ctx->mongo_plan && ctx->mongo_plan->nspecs && !a->module))
		rc = mig_engine_apply(&s, &run, &obs, err); /* PostgreSQL only */
	else
		rc = apply_by_module(ctx, &s, &run, &mv, &indexes, &obs, &mobs,
				     !report && !a->quiet, err);
	bool indexes_changed = indexes.created || indexes.changed;
	bool nothing = rc == MIG_OK && run.nitems == 0 && mv.run.nitems == 0 && !indexes_changed &&
		       !a->quiet && !report;
	if (nothing && a->has_to)
		fprintf(ctx->out, "nothing to apply: module '%s' is at version %lld or past it\n",
			a->module, a->to_version);
	else if (nothing)
		fprintf(ctx->out, "nothing to apply: %s\n",
			a->module ? "the module is up to date" : "every module is up to date");
done:
	if (report) {
		mig_error werr = {0};
		if (mig_report_run_result_json_full(ctx->out, &run, &rr, mv.run.nitems ? &mv.run : NULL,
						    &mrr, mv.results,
						    ctx->mongo_plan && !a->module ? &indexes : NULL, rc,
						    err, &werr) < 0 &&
		    rc == MIG_OK)
			rc = mig_error_set(err, werr.code, "%s", werr.message);
	}
	mig_run_report_clear(&rr);
	mig_run_report_clear(&mrr);
	mig_mongo_results_clear(&indexes);
	mig_mongo_versions_close(&mv);
	mig_run_clear(&run);
	mig_hooks_clear(&hooks);
	mig_repeatable_ledger_clear(&reps);
	mig_session_close(&s);
	return rc;
}

/* The fleet runner: the control database's `scope: control` modules first, then every
 * target with the other modules, N at once on threads. Each target gets its own copy of
 * the postgres: section and its own session (so its own lock and ledger); its migrations
 * run strictly in order. A canary runs first one by one; a failure budget stops new
 * targets from starting. Nothing is printed here: the observer hears of each target. */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "fleet/fleet.h"
#include "core/mongo_versions.h"
#include "core/session.h"
#include "core/environment.h"
#include "core/repeatable.h"

/* The plan's modules of one scope: a shallow view (free only .modules). */
static int split_plan(mig_plan *out, const mig_plan *plan, const mig_config *cfg, bool control)
{
	out->nmodules = 0;
	out->modules = calloc(plan->nmodules ? plan->nmodules : 1, sizeof *out->modules);
	if (!out->modules)
		return -1;
	for (size_t i = 0; i < plan->nmodules; i++) {
		const mig_module_config *mod = mig_config_module(cfg, plan->modules[i].name);
		if ((mod && mod->control) == control)
			out->modules[out->nmodules++] = plan->modules[i];
	}
	return 0;
}

typedef struct fleet {
	const mig_config *cfg;
	const mig_registry *reg;
	const mig_mongo_plan *mongo_plan;
	const mig_plan *versions; /* the targets' versioned MongoDB files (their scope); or NULL */
	const mig_fleet_options *opts;
	const mig_fleet_observer *obs;
	const mig_fleet_targets *targets;
	mig_fleet_report *report;

	pthread_mutex_t mu;
	size_t next;     /* the next target to start */
	size_t done, failed;
	bool stop;       /* a canary failed, or the budget ran out */
} fleet;

/* The engine observer of one target: records what ran. */
typedef struct collector {
	mig_fleet_result *r;
	bool oom;
} collector;

static void collect_step(void *ctx, const mig_run *run, size_t i, long long ms,
			 const mig_error *failed)
{
	collector *c = ctx;
	if (failed)
		return;
	mig_fleet_applied *grown =
		realloc(c->r->applied, (c->r->napplied + 1) * sizeof *c->r->applied);
	if (!grown) {
		c->oom = true;
		return;
	}
	c->r->applied = grown;
	c->r->applied[c->r->napplied++] = (mig_fleet_applied){
		run->items[i].module->name, run->items[i].migration->version,
		run->items[i].migration->name, ms};
}

/* Module by module in plan order, as `up` on one database: the module's SQL versions
 * (run, on s), then its MongoDB versions (mv's planned run, on its connection). Every
 * SQL file is checked before the first one runs. */
static int apply_by_module(mig_session *s, const mig_plan *plan, const mig_run *run,
			   mig_mongo_versions *mv, const mig_observer *obs, mig_error *err)
{
	int rc = mig_engine_preflight(run, err);
	size_t i = 0, j = 0;
	for (size_t m = 0; rc == MIG_OK && m < plan->nmodules; m++) {
		const char *module = plan->modules[m].name;
		size_t n = mig_run_module_items(run, i, module);
		if (n) {
			mig_slice_observer so;
			mig_observer o = mig_observer_for_slice(&so, obs, run, i);
			mig_run slice = {.up = true, .items = run->items + i, .nitems = n,
					 .vars = run->vars};
			rc = mig_engine_apply(s, &slice, &o, err);
			i += n;
		}
		if (rc == MIG_OK)
			rc = mig_mongo_versions_apply_module(mv, &j, module, obs, NULL, err);
	}
	/* both runs follow the plan's module order, so every item was met above */
	if (rc == MIG_OK && (i < run->nitems || j < mv->run.nitems))
		rc = mig_error_set(err, MIG_EFAIL, "internal error: a migration outside the plan's "
						   "module order was not applied");
	return rc;
}

/* up on one target: module by module, its SQL versions on the target's database, then its
 * MongoDB versions on its mongodb_database (mv: planned and checked by versions_open). */
static int run_up(mig_session *s, const mig_config *cfg, const mig_plan *plan,
		  mig_mongo_versions *mv, const mig_fleet_options *o, mig_fleet_result *r,
		  mig_error *err)
{
	mig_run run = {0};
	/* --module names a module of some scope; on the others there is nothing to do */
	if (o->module && !mig_plan_module(plan, o->module))
		return MIG_OK;
	int rc = mig_engine_plan_up(&run, plan, &s->ledger, o->module, o->allow_out_of_order, err);
	if (rc == MIG_OK && o->has_to)
		mig_engine_stop_at(&run, o->to);
	if (rc == MIG_OK)
		rc = mig_phase_filter(&run, o->phase, err);
	if (rc == MIG_OK)
		rc = mig_env_mark(&run, cfg, err);
	if (rc == MIG_OK) {
		mig_repeatable_ledger reps = {0};
		if ((rc = mig_repeatables_read(&reps, s, plan, err)) == MIG_OK)
			rc = mig_repeatable_plan(&run, plan, &reps, o->module, err);
		mig_repeatable_ledger_clear(&reps);
	}
	if (rc == MIG_OK && run.nitems + mv->run.nitems) {
		collector c = {r, false};
		mig_observer obs = {.ctx = &c, .step_end = collect_step};
		rc = apply_by_module(s, plan, &run, mv, &obs, err);
		if (rc == MIG_OK && c.oom)
			rc = mig_error_set(err, MIG_EFAIL, "out of memory");
	}
	mig_run_clear(&run);
	return rc;
}

/* down --module M on one target: the newest of M's versions first across its database's
 * ledger and its mongodb_database's (mv, open and locked when the target has versioned
 * MongoDB files), as `down` does on one database. */
static int run_down(mig_session *s, const mig_config *cfg, const mig_plan *plan,
		    mig_mongo_versions *mv, const mig_fleet_options *o, mig_fleet_result *r,
		    mig_error *err)
{
	bool sql = mig_plan_module(plan, o->module) != NULL;
	bool mongo = mv->conn && mig_plan_module(mv->plan, o->module);
	if (!sql && !mongo)
		return MIG_OK; /* a module of another scope: nothing to do here */
	mig_run run = {0};
	unsigned long pg_steps = 0, mongo_steps = 0;
	mig_down_limit limit = {o->steps, o->has_to, o->to};
	int rc = mig_engine_refuse_required(cfg, &s->ledger, o->module, err);
	if (rc == MIG_OK)
		rc = mig_down_split(&pg_steps, &mongo_steps, &s->ledger, mongo ? &mv->ledger : NULL,
				    o->module, &limit, err);
	if (rc == MIG_OK && sql)
		rc = mig_engine_plan_down(&run, plan, &s->ledger, o->module, pg_steps, err);
	if (rc == MIG_OK && mongo)
		rc = mig_mongo_versions_prepare_down(mv, o->module, mongo_steps, err);
	if (rc == MIG_OK)
		rc = mig_env_mark(&run, cfg, err);
	if (rc == MIG_OK && run.nitems + mv->run.nitems) {
		collector c = {r, false};
		mig_observer obs = {.ctx = &c, .step_end = collect_step};
		rc = mig_down_apply(s, &run, mv, &obs, &obs, NULL, err);
		if (rc == MIG_OK && c.oom)
			rc = mig_error_set(err, MIG_EFAIL, "out of memory");
	}
	mig_run_clear(&run);
	return rc;
}

static int run_status_of(const mig_plan *plan, const mig_ledger *ledger, mig_fleet_result *r,
			 mig_error *err)
{
	mig_module_status *rows = NULL;
	size_t n = 0;
	int rc = mig_engine_status(&rows, &n, plan, ledger, err);
	for (size_t i = 0; rc == MIG_OK && i < n; i++) {
		if (!rows[i].enabled)
			continue;
		r->pending += rows[i].pending;
		if (rows[i].dirty || rows[i].missing)
			r->behind = true;
	}
	if (r->pending)
		r->behind = true;
	free(rows);
	return rc;
}

static int run_verify(mig_session *s, const mig_config *cfg, const mig_plan *plan,
		      mig_fleet_result *r, mig_error *err)
{
	mig_problem *problems = NULL;
	mig_missing_object *objects = NULL;
	size_t nproblems = 0, checked = 0, nobjects = 0;
	int rc = mig_engine_verify_files(&problems, &nproblems, &checked, plan, &s->ledger,
					 cfg, err);
	if (rc == MIG_OK && s->ledger.complete && s->drv->objects_missing)
		rc = s->drv->objects_missing(s->conn, &objects, &nobjects, err);
	r->problems += nproblems + nobjects;
	if (r->problems)
		r->behind = true;
	/* kept for the report, which names each one under its target */
	r->files = problems;
	r->nfiles = nproblems;
	r->objects = objects;
	r->nobjects = nobjects;
	return rc;
}

/* seed, status and verify on a target's own MongoDB database (when it names one). */
static int run_mongo(const fleet *f, const char *database, mig_fleet_result *r, mig_error *err)
{
	if (!f->mongo_plan || !f->cfg->has_mongodb || !database)
		return MIG_OK;
	mig_config view = *f->cfg; /* the same config but for the database: read only */
	view.mongo_database = (char *)database;
	mig_mongo_mode mode = MIG_MONGO_CHECK;
	if (f->opts->op == MIG_FLEET_SEED)
		mode = f->opts->dry_run ? MIG_MONGO_SEED_DRY : MIG_MONGO_SEED;
	mig_mongo_results res = {0};
	int rc = mig_mongo_run(&res, &view, f->mongo_plan, mode, err);
	if (rc == MIG_OK) {
		r->created += res.created;
		if (f->opts->op == MIG_FLEET_SEED) {
			r->problems += res.conflicts;
		} else {
			r->problems += res.missing + res.conflicts;
			r->pending += res.missing;
		}
		if (res.missing + res.conflicts && !(f->opts->op == MIG_FLEET_SEED && !res.conflicts))
			r->behind = true;
	}
	mig_mongo_results_clear(&res);
	return rc;
}

/* The versioned MongoDB files on a target's mongodb_database: up plans and checks them
 * before its SQL runs (the lease taken; --to and --phase as for SQL), down takes the lease
 * and reads the ledger (run_down plans), status and verify read the ledger. */
static int versions_open(const fleet *f, const mig_target *target, mig_mongo_versions *mv,
			 mig_error *err)
{
	mig_mongo_versions_lend(mv, f->versions);
	if (!target || !target->mongodb_database || !f->cfg->has_mongodb ||
	    !mig_mongo_versions_active(mv))
		return MIG_OK;
	mig_fleet_op op = f->opts->op;
	if (op != MIG_FLEET_UP && op != MIG_FLEET_DOWN && op != MIG_FLEET_STATUS &&
	    op != MIG_FLEET_VERIFY)
		return MIG_OK;
	int rc = mig_mongo_versions_open(mv, f->cfg, target->mongodb_database,
					 f->mongo_plan ? f->mongo_plan->backend : NULL,
					 op == MIG_FLEET_UP || op == MIG_FLEET_DOWN, err);
	mig_up_limit limit = {f->opts->has_to, f->opts->to, f->opts->phase};
	if (rc == MIG_OK && op == MIG_FLEET_UP)
		rc = mig_mongo_versions_prepare_up(mv, f->opts->module, f->opts->allow_out_of_order,
						   &limit, err);
	return rc;
}

/* status and verify of the versioned MongoDB files (up and down run them with the SQL) */
static int versions_run(mig_mongo_versions *mv, mig_fleet_op op, mig_fleet_result *r,
			mig_error *err)
{
	if (!mv->conn)
		return MIG_OK;
	int rc = MIG_OK;
	if (op == MIG_FLEET_STATUS) {
		rc = run_status_of(mv->plan, &mv->ledger, r, err);
	} else if (op == MIG_FLEET_VERIFY) {
		mig_problem *problems = NULL;
		size_t n = 0, checked = 0;
		rc = mig_engine_verify_files(&problems, &n, &checked, mv->plan, &mv->ledger, NULL,
					     err);
		r->problems += n;
		if (n)
			r->behind = true;
		free(problems);
	}
	return rc;
}

/* One target (or the control database when target is NULL). */
static void run_one(const fleet *f, const mig_plan *plan, const mig_target *target,
		    mig_fleet_result *r)
{
	struct timespec start;
	clock_gettime(CLOCK_MONOTONIC, &start);
	mig_sql_config sql = f->cfg->pg; /* this target's own copy */
	if (target && f->targets->kind == MIG_TARGET_DATABASE)
		sql.dsn = target->dsn;
	else if (target)
		sql.schema = target->name;
	mig_fleet_op op = f->opts->op;
	bool changes = op == MIG_FLEET_UP || op == MIG_FLEET_DOWN;
	mig_error err = {0};
	mig_session s = {0};
	mig_mongo_versions mv;
	int rc = MIG_OK;
	if (op != MIG_FLEET_SEED)
		rc = mig_session_open(&s, f->reg, &sql, changes ? MIG_SESSION_LOCK : 0, &err);
	if (rc == MIG_OK)
		rc = versions_open(f, target, &mv, &err);
	else
		mig_mongo_versions_lend(&mv, NULL);
	if (rc == MIG_OK) {
		switch (op) {
		case MIG_FLEET_UP:
			rc = run_up(&s, f->cfg, plan, &mv, f->opts, r, &err);
			break;
		case MIG_FLEET_DOWN:
			rc = run_down(&s, f->cfg, plan, &mv, f->opts, r, &err);
			break;
		case MIG_FLEET_STATUS:
			rc = run_status_of(plan, &s.ledger, r, &err);
			break;
		case MIG_FLEET_VERIFY:
			rc = run_verify(&s, f->cfg, plan, r, &err);
			break;
		case MIG_FLEET_SEED:
			break;
		case MIG_FLEET_DRIFT:
			rc = f->opts->check ? f->opts->check(f->opts->check_ctx, plan, target, &sql,
							     &s, r, &err)
					    : mig_error_set(&err, MIG_EFAIL, "no drift check given");
			break;
		}
	}
	if (rc == MIG_OK)
		rc = versions_run(&mv, op, r, &err);
	mig_mongo_versions_close(&mv);
	mig_session_close(&s);
	if (rc == MIG_OK && target &&
	    (op == MIG_FLEET_SEED || op == MIG_FLEET_STATUS || op == MIG_FLEET_VERIFY))
		rc = run_mongo(f, target->mongodb_database, r, &err);
	r->state = rc == MIG_OK ? MIG_TARGET_OK : MIG_TARGET_FAILED;
	if (rc < 0) {
		r->error = err;
		mig_config_redact(f->cfg, r->error.message, sizeof r->error.message);
	}
	r->ms = mig_elapsed_ms(&start);
}

typedef struct worker_arg {
	fleet *f;
	const mig_plan *plan;
} worker_arg;

/* Records a finished target and tells the observer, under the lock. */
static void finish(fleet *f, mig_fleet_result *r)
{
	pthread_mutex_lock(&f->mu);
	f->done++;
	if (r->state == MIG_TARGET_FAILED && ++f->failed >= f->opts->max_failures)
		f->stop = true;
	if (f->obs && f->obs->target_end)
		f->obs->target_end(f->obs->ctx, r, f->done, f->failed, f->targets->n);
	pthread_mutex_unlock(&f->mu);
}

static void *worker(void *p)
{
	worker_arg *a = p;
	fleet *f = a->f;
	for (;;) {
		pthread_mutex_lock(&f->mu);
		size_t i = f->next;
		bool go = !f->stop && i < f->targets->n;
		if (go)
			f->next++;
		pthread_mutex_unlock(&f->mu);
		if (!go)
			return NULL;
		run_one(f, a->plan, &f->targets->items[i], &f->report->results[i]);
		finish(f, &f->report->results[i]);
	}
}

int mig_fleet_run(mig_fleet_report *out, const mig_config *cfg, const mig_registry *reg,
		  const mig_plan *plan, const mig_mongo_plan *mongo_plan,
		  const mig_fleet_targets *targets, const mig_fleet_options *opts,
		  const mig_fleet_observer *obs, mig_error *err)
{
	struct timespec start;
	clock_gettime(CLOCK_MONOTONIC, &start);
	memset(out, 0, sizeof *out);
	mig_plan control = {0}, each = {0}, versions = {0};
	out->results = calloc(targets->n ? targets->n : 1, sizeof *out->results);
	if (!out->results || split_plan(&control, plan, cfg, true) < 0 ||
	    split_plan(&each, plan, cfg, false) < 0 ||
	    (opts->mongo_versions && split_plan(&versions, opts->mongo_versions, cfg, false) < 0)) {
		free(control.modules);
		free(each.modules);
		free(versions.modules);
		return mig_error_set(err, MIG_EFAIL, "out of memory");
	}
	versions.ext = ".json";
	out->n = targets->n;
	for (size_t i = 0; i < targets->n; i++)
		out->results[i] = (mig_fleet_result){.name = targets->items[i].name,
						     .state = MIG_TARGET_SKIPPED};
	fleet f = {.cfg = cfg, .reg = reg, .mongo_plan = mongo_plan, .opts = opts, .obs = obs,
		   .targets = targets, .report = out,
		   .versions = opts->mongo_versions ? &versions : NULL};
	pthread_mutex_init(&f.mu, NULL);
	int rc = MIG_OK;

	/* the control database first: a failure there stops everything */
	if (control.nmodules && opts->op != MIG_FLEET_SEED) {
		out->has_control = true;
		out->control.name = "control";
		run_one(&f, &control, NULL, &out->control);
		if (obs && obs->target_end)
			obs->target_end(obs->ctx, &out->control, 0, 0, targets->n);
		if (out->control.state == MIG_TARGET_FAILED)
			f.stop = true;
	}
	/* the canary, one by one: any failure stops the fleet */
	size_t canary = opts->canary < targets->n ? opts->canary : targets->n;
	for (size_t i = 0; i < canary && !f.stop; i++) {
		f.next = i + 1;
		run_one(&f, &each, &targets->items[i], &out->results[i]);
		finish(&f, &out->results[i]);
		if (out->results[i].state == MIG_TARGET_FAILED)
			f.stop = true;
	}
	if (!f.stop)
		f.next = canary;
	size_t nthreads = opts->parallel ? opts->parallel : 1;
	if (nthreads > targets->n - (canary < targets->n ? canary : targets->n))
		nthreads = targets->n - canary;
	worker_arg arg = {&f, &each};
	if (!f.stop && nthreads > 1) {
		pthread_t *threads = calloc(nthreads, sizeof *threads);
		size_t started = 0;
		if (threads) {
			pthread_attr_t attr;
			pthread_attr_init(&attr);
			pthread_attr_setstacksize(&attr, 1024 * 1024);
			for (; started < nthreads; started++)
				if (pthread_create(&threads[started], &attr, worker, &arg) != 0)
					break;
			pthread_attr_destroy(&attr);
		}
		if (started == 0)
			worker(&arg); /* no thread at all: run them here, one by one */
		for (size_t i = 0; i < started; i++)
			pthread_join(threads[i], NULL);
		free(threads);
	} else if (!f.stop) {
		worker(&arg);
	}
	pthread_mutex_destroy(&f.mu);
	for (size_t i = 0; i < out->n; i++) {
		switch (out->results[i].state) {
		case MIG_TARGET_OK:
			out->ok++;
			out->behind += out->results[i].behind;
			break;
		case MIG_TARGET_FAILED:
			out->failed++;
			break;
		case MIG_TARGET_SKIPPED:
			out->skipped++;
			break;
		}
	}
	if (out->has_control && out->control.state == MIG_TARGET_OK && out->control.behind)
		out->behind++;
	out->ms = mig_elapsed_ms(&start);
	free(control.modules);
	free(each.modules);
	free(versions.modules);
	return rc;
}

static void result_clear(mig_fleet_result *r)
{
	free(r->applied);
	mig_diff_clear(&r->drift);
	free(r->files);
	mig_missing_objects_free(r->objects, r->nobjects);
}

void mig_fleet_report_clear(mig_fleet_report *r)
{
	for (size_t i = 0; i < r->n; i++)
		result_clear(&r->results[i]);
	free(r->results);
	result_clear(&r->control);
	memset(r, 0, sizeof *r);
}

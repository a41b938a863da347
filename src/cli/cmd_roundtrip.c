/* `migrate roundtrip`: on a shadow database, for each selected migration in plan order:
 * snapshot, up, snapshot, down, snapshot (must equal the first), up again, snapshot
 * (must equal the second). Only the first snapshot of a run (and after a restart) is
 * whole; the schema before each migration is then kept in memory, and the state after
 * each step is read only for the objects whose catalog rows changed since that
 * schema (src/postgres/pg_snapshot.c: mig_pg_changes_read), every other entry being
 * the same in all four states — whole again when a schema, a role or a shared
 * definition changed. Every selected migration is reported, each judged from the
 * state its predecessors' ups leave: the run goes on in the same shadow while round
 * trips succeed, and after a failure restarts from a clone of a second shadow that only
 * ever receives ups (replayed lazily, up to the failed migration). The live database is
 * only read, for its ledger, with --pending. With --parallel (or by default on a long
 * history) the selected migrations are split into stretches tested at once, each in a
 * shadow of its own that the ups before it bring to its first migration; their
 * results, joined in plan order, are the one shadow's. */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli/roundtrip_split.h"
#include "cli/shadow_run.h"
#include "postgres/pg_snapshot.h"
#include "schema/snapshot_json.h"

typedef struct results {
	mig_roundtrip_result *items;
	size_t n, cap;
	size_t tested, failed; /* migrations */
	size_t failures;       /* results that are failures */
	size_t not_tested;     /* selected, but --max-failures stopped the run first */
	size_t restarts;       /* clones of the replay shadow after a failure */
} results;

static mig_roundtrip_result *result_add(results *r, const mig_module_plan *mod,
					const mig_migration *m, const char *status,
					const char *message, bool failure)
{
	if (r->n == r->cap) {
		size_t cap = r->cap ? r->cap * 2 : 16;
		mig_roundtrip_result *grown = realloc(r->items, cap * sizeof *grown);
		if (!grown)
			return NULL;
		r->items = grown;
		r->cap = cap;
	}
	mig_roundtrip_result *x = &r->items[r->n++];
	*x = (mig_roundtrip_result){mod->name, m->version, m->name, status, NULL, {0}};
	if (message && !(x->message = strdup(message))) {
		r->n--;
		return NULL;
	}
	r->failures += failure;
	return x;
}

/* Whether m is one the run must test (the others are only applied on the way). */
static bool to_test(const mig_context *ctx, const mig_ledger *live, const mig_module_plan *mod,
		    const mig_migration *m)
{
	const mig_args *a = &ctx->args;
	if (a->module && strcmp(a->module, mod->name) != 0)
		return false;
	if ((a->has_from && m->version < a->from_version) ||
	    (a->has_to && m->version > a->to_version))
		return false;
	return !a->pending || !mig_ledger_find(live, mod->name, m->version);
}

typedef struct trip {
	mig_context *ctx;
	results *res;
	mig_run_item *items; /* the whole plan, in order */
	size_t nitems;
	/* where round trips run */
	mig_shadow *shadow;
	mig_session s;
	mig_pg_reader *reader;
	mig_snapshot before; /* the schema before the migration under test */
	bool have_before;
	/* ups only, items[0 .. replayed) applied; made at the first failure */
	mig_shadow *replay;
	mig_session rs;
	bool rs_open;
	size_t replayed;
} trip;

static int shadow_attach(trip *t, mig_error *err)
{
	int rc = mig_shadow_session_open(&t->s, t->ctx, t->shadow, err);
	if (rc == MIG_OK)
		rc = mig_pg_reader_open(&t->reader, mig_shadow_config(t->shadow)->pg.dsn, "shadow",
					err);
	return rc;
}

static void shadow_detach(trip *t)
{
	mig_pg_reader_close(t->reader);
	t->reader = NULL;
	mig_session_close(&t->s);
	memset(&t->s, 0, sizeof t->s);
}

/* After a failed round trip of items[idx] the shadow's state is no longer the history's:
 * bring the replay shadow up to items[idx] included, and carry on in a clone of it. */
static int restart_after(trip *t, size_t idx, mig_error *err)
{
	int rc = MIG_OK;
	if (!t->replay)
		rc = mig_shadow_create(&t->replay, t->ctx->cfg, err);
	if (rc == MIG_OK && !t->rs_open &&
	    (rc = mig_shadow_session_open(&t->rs, t->ctx, t->replay, err)) == MIG_OK)
		t->rs_open = true;
	for (; rc == MIG_OK && t->replayed <= idx; t->replayed++)
		rc = mig_shadow_step(&t->rs, t->items[t->replayed].module,
				     t->items[t->replayed].migration, true, err);
	/* a database is cloned only while nobody is connected to it */
	if (t->rs_open) {
		mig_session_close(&t->rs);
		memset(&t->rs, 0, sizeof t->rs);
		t->rs_open = false;
	}
	shadow_detach(t);
	mig_shadow_drop(t->shadow);
	t->shadow = NULL;
	mig_snapshot_clear(&t->before);
	t->have_before = false;
	if (rc == MIG_OK)
		rc = mig_shadow_copy(&t->shadow, t->ctx->cfg, t->replay, err);
	if (rc == MIG_OK)
		rc = shadow_attach(t, err);
	t->res->restarts++;
	return rc;
}

/* Compares two snapshots into a new result when they differ. */
static int compare(trip *t, const mig_module_plan *mod, const mig_migration *m,
		   const mig_snapshot *want, const mig_snapshot *got, const char *status,
		   mig_error *err)
{
	mig_diff diff = {0};
	int rc = mig_snapshot_diff(&diff, want, got, false, err);
	if (rc == MIG_OK && diff.n) {
		mig_roundtrip_result *x = result_add(t->res, mod, m, status, NULL, true);
		if (!x)
			rc = mig_error_set(err, MIG_EFAIL, "out of memory");
		else {
			x->diff = diff;
			return MIG_OK;
		}
	}
	mig_diff_clear(&diff);
	return rc;
}

/* The owners in a or b (both sorted, unique) into *out, sorted and unique. */
static int owners_union(long long **out, size_t *n, const long long *a, size_t na,
			const long long *b, size_t nb, mig_error *err)
{
	long long *v = na + nb ? malloc((na + nb) * sizeof *v) : NULL;
	if (na + nb && !v)
		return mig_error_set(err, MIG_EFAIL, "out of memory");
	size_t i = 0, k = 0, m = 0;
	while (i < na || k < nb) {
		if (k == nb || (i < na && a[i] < b[k]))
			v[m++] = a[i++];
		else if (i == na || b[k] < a[i])
			v[m++] = b[k++];
		else {
			v[m++] = a[i++];
			k++;
		}
	}
	free(*out);
	*out = v;
	*n = m;
	return MIG_OK;
}

/* The owners in a and not in b (both sorted). */
static int owners_minus(long long **out, size_t *n, const long long *a, size_t na,
			const long long *b, size_t nb, mig_error *err)
{
	long long *v = na ? malloc(na * sizeof *v) : NULL;
	if (na && !v)
		return mig_error_set(err, MIG_EFAIL, "out of memory");
	size_t k = 0, m = 0;
	for (size_t i = 0; i < na; i++) {
		while (k < nb && b[k] < a[i])
			k++;
		if (k == nb || b[k] != a[i])
			v[m++] = a[i];
	}
	*out = v;
	*n = m;
	return MIG_OK;
}

/* What one step of a round trip changed, added to the trip's scope: the owners whose
 * catalog rows changed since the state before the migration (*scope), or *full when
 * only a whole snapshot is exact (a schema, a role... src/postgres/pg_snapshot.c). */
typedef struct scope {
	long long *owners;
	size_t n;
	bool full;
} scope;

static int scope_grow(trip *t, scope *sc, mig_error *err)
{
	mig_pg_changes c;
	int rc = mig_pg_changes_read(&c, t->reader, err);
	if (rc < 0)
		return rc;
	sc->full |= c.full;
	rc = owners_union(&sc->owners, &sc->n, sc->owners, sc->n, c.owners, c.n, err);
	mig_pg_changes_clear(&c);
	return rc;
}

/* The shadow's schema now: whole, or the entries of the scope's owners alone (every
 * other entry is as in t->before). */
static int read_state(trip *t, mig_snapshot *out, const scope *sc, mig_error *err)
{
	return sc->full ? mig_pg_snapshot_read(out, t->reader, err)
			: mig_pg_snapshot_read_owned(out, t->reader, sc->owners, sc->n, err);
}

/* The state after the first up (first: read with scope s1, whole when s1 was full) as
 * far as now (scope now) needs it: whole when now is full, else the entries of now's
 * owners (those of s1 from first, the others unchanged since before). A view: strings
 * are borrowed from first and t->before. */
static int first_view(trip *t, mig_snapshot *view, const mig_snapshot *first, const scope *s1,
		      const scope *now, mig_error *err)
{
	memset(view, 0, sizeof *view);
	int rc = mig_snapshot_select(view, first, NULL, 0, false, err);
	if (rc == MIG_OK && !s1->full) {
		if (now->full)
			rc = mig_snapshot_select(view, &t->before, s1->owners, s1->n, false, err);
		else {
			long long *rest = NULL;
			size_t nrest = 0;
			rc = owners_minus(&rest, &nrest, now->owners, now->n, s1->owners, s1->n, err);
			if (rc == MIG_OK)
				rc = mig_snapshot_select(view, &t->before, rest, nrest, true, err);
			free(rest);
		}
	} else if (rc == MIG_OK && !now->full) {
		/* first is whole but now is not: only now's owners */
		mig_snapshot_view_free(view);
		rc = mig_snapshot_select(view, first, now->owners, now->n, true, err);
	}
	if (rc < 0)
		mig_snapshot_view_free(view);
	else
		mig_snapshot_sort(view);
	return rc;
}

/* The shadow's state becomes t->before: got, read with scope sc. */
static int advance(trip *t, mig_snapshot *got, const scope *sc, mig_error *err)
{
	if (sc->full) {
		mig_snapshot_clear(&t->before);
		t->before = *got;
		*got = (mig_snapshot){0};
		return MIG_OK;
	}
	return mig_snapshot_patch(&t->before, sc->owners, sc->n, got, err);
}

/* One round trip. A failing first up is returned (the history does not build from the
 * state its predecessors leave); every other failure is a result, and *broken says the
 * shadow no longer holds the history up to m. t->before is the whole schema before the
 * migration; the states after each step are read only for the owners whose catalog
 * rows changed since (and what names them), every other entry being the same in all
 * four states. */
static int round_trip(trip *t, const mig_module_plan *mod, const mig_migration *m,
		      bool *broken, mig_error *err)
{
	mig_snapshot first = {0}, undone = {0}, again = {0}, view = {0};
	scope s1 = {0}, s2 = {0}, s3 = {0};
	mig_error step_err = {0};
	size_t nresults = t->res->n, failures = t->res->failures;
	int rc;
	*broken = false;
	t->res->tested++;
	if (!t->have_before) {
		if ((rc = mig_pg_fingerprints_reset(t->reader, err)) < 0 ||
		    (rc = mig_pg_snapshot_read(&t->before, t->reader, err)) < 0)
			return rc;
		t->have_before = true;
	}
	if ((rc = mig_shadow_step(&t->s, mod, m, true, err)) < 0) {
		/* the history does not build from its predecessors' state: the run ends */
		if (result_add(t->res, mod, m, "up failed", err->message, true))
			t->res->failed++;
		return rc;
	}
	if ((rc = scope_grow(t, &s1, err)) < 0 || (rc = read_state(t, &first, &s1, err)) < 0)
		goto done;
	if (!m->down_path) {
		if (!result_add(t->res, mod, m, "irreversible", "there is no .down.sql",
				t->ctx->args.require_down))
			rc = mig_error_set(err, MIG_EFAIL, "out of memory");
		goto keep;
	}
	if (mig_shadow_step(&t->s, mod, m, false, &step_err) < 0) {
		if (!result_add(t->res, mod, m, "down failed", step_err.message, true))
			rc = mig_error_set(err, MIG_EFAIL, "out of memory");
		goto done;
	}
	/* undone against before: what the up or the down changed */
	s2.full = s1.full;
	if ((rc = owners_union(&s2.owners, &s2.n, s1.owners, s1.n, NULL, 0, err)) < 0 ||
	    (rc = scope_grow(t, &s2, err)) < 0 || (rc = read_state(t, &undone, &s2, err)) < 0)
		goto done;
	if (s2.full)
		rc = compare(t, mod, m, &t->before, &undone, "down does not restore", err);
	else if ((rc = mig_snapshot_select(&view, &t->before, s2.owners, s2.n, true, err)) ==
		 MIG_OK)
		rc = compare(t, mod, m, &view, &undone, "down does not restore", err);
	mig_snapshot_view_free(&view);
	if (rc < 0)
		goto done;
	if (mig_shadow_step(&t->s, mod, m, true, &step_err) < 0) {
		if (!result_add(t->res, mod, m, "up fails after down", step_err.message, true))
			rc = mig_error_set(err, MIG_EFAIL, "out of memory");
		goto done;
	}
	/* again against first: what anything since the first up changed */
	s3.full = s2.full;
	if ((rc = owners_union(&s3.owners, &s3.n, s2.owners, s2.n, NULL, 0, err)) < 0 ||
	    (rc = scope_grow(t, &s3, err)) < 0 || (rc = read_state(t, &again, &s3, err)) < 0 ||
	    (rc = first_view(t, &view, &first, &s1, &s3, err)) < 0)
		goto done;
	rc = compare(t, mod, m, &view, &again, "up after down differs", err);
	mig_snapshot_view_free(&view);
	if (rc < 0)
		goto done;
keep:
	if (rc == MIG_OK && t->res->n == nresults && !result_add(t->res, mod, m, "ok", NULL, false))
		rc = mig_error_set(err, MIG_EFAIL, "out of memory");
	if (rc == MIG_OK && (t->res->failures == failures || !m->down_path))
		/* the shadow holds the history up to m: its schema is the next one's before */
		rc = m->down_path ? advance(t, &again, &s3, err) : advance(t, &first, &s1, err);
done:
	if (t->res->failures > failures) {
		t->res->failed++;
		/* an irreversible migration with --require-down left the shadow as the
		 * history has it; any other failure did not */
		*broken = m->down_path != NULL;
	}
	if (*broken || rc < 0) {
		mig_snapshot_clear(&t->before);
		t->have_before = false;
	}
	mig_snapshot_clear(&first);
	mig_snapshot_clear(&undone);
	mig_snapshot_clear(&again);
	free(s1.owners);
	free(s2.owners);
	free(s3.owners);
	return rc;
}

/* The progress line the workers share: `[120/346] billing/120_add_invoice_index` on a
 * terminal's stderr, redrawn in place, counting the round trips begun by any of them. */
typedef struct progress_line {
	pthread_mutex_t mu;
	bool show;
	size_t begun, total;
} progress_line;

static void progress(progress_line *p, const mig_module_plan *mod, const mig_migration *m)
{
	if (!p->show)
		return;
	pthread_mutex_lock(&p->mu);
	if (mod)
		fprintf(stderr, "\r[%zu/%zu] %s/%0*lld_%s\033[K", ++p->begun, p->total, mod->name,
			(int)m->width, m->version, m->name);
	else
		fputs("\r\033[K", stderr);
	fflush(stderr);
	pthread_mutex_unlock(&p->mu);
}

static void print_text(FILE *out, const results *r, bool quiet, bool summary)
{
	for (size_t i = 0; i < r->n; i++) {
		const mig_roundtrip_result *x = &r->items[i];
		if (quiet && !strcmp(x->status, "ok"))
			continue;
		fprintf(out, "%-22s %s/%lld_%s", x->status, x->module, x->version, x->name);
		if (x->message)
			fprintf(out, ": %s", x->message);
		fputc('\n', out);
		mig_diff_print_text(out, &x->diff, "    ");
	}
	if (quiet || !summary)
		return;
	fprintf(out, "roundtrip: %zu migration%s tested, %zu failed", r->tested,
		r->tested == 1 ? "" : "s", r->failed);
	if (r->not_tested)
		fprintf(out, ", %zu not tested (stopped by --max-failures)", r->not_tested);
	if (r->restarts)
		fprintf(out, "; restarted %zu time%s from a clone of the history's ups",
			r->restarts, r->restarts == 1 ? "" : "s");
	fputc('\n', out);
}

int mig_check_roundtrip_args(const mig_args *a, mig_error *err)
{
	if (a->has_from && a->has_to && a->from_version > a->to_version)
		return mig_error_set(err, MIG_EUSAGE, "--from %lld is above --to %lld: nothing to test",
				     a->from_version, a->to_version);
	return MIG_OK;
}

/* The whole plan flattened, in order. */
static int plan_items(trip *t, const mig_plan *plan, mig_error *err)
{
	size_t n = 0;
	for (size_t i = 0; i < plan->nmodules; i++)
		n += plan->modules[i].nmigrations;
	t->items = n ? calloc(n, sizeof *t->items) : NULL;
	if (n && !t->items)
		return mig_error_set(err, MIG_EFAIL, "out of memory");
	for (size_t i = 0; i < plan->nmodules; i++)
		for (size_t k = 0; k < plan->modules[i].nmigrations; k++)
			t->items[t->nitems++] =
				(mig_run_item){.module = &plan->modules[i],
					       .migration = &plan->modules[i].migrations[k]};
	return MIG_OK;
}

/* One worker's stretch of the run: the selected migrations among items[begin .. end]
 * (end included), tested in a shadow of its own that the ups of items[0 .. begin)
 * bring to the history's state before items[begin]. */
typedef struct stretch {
	trip t;
	results res;
	size_t begin, end;
	size_t total; /* selected migrations in the stretch */
	const mig_ledger *live;
	progress_line *progress;
	bool broken_at_end; /* its last round trip failed: one shadow would restart there */
	int rc;
	mig_error err;
} stretch;

static void *stretch_run(void *arg)
{
	stretch *g = arg;
	trip *t = &g->t;
	const mig_args *a = &t->ctx->args;
	int rc = mig_shadow_create(&t->shadow, t->ctx->cfg, &g->err);
	if (rc == MIG_OK)
		rc = shadow_attach(t, &g->err);
	for (size_t i = 0; rc == MIG_OK && i <= g->end; i++) {
		const mig_module_plan *mod = t->items[i].module;
		const mig_migration *m = t->items[i].migration;
		if (i < g->begin || !to_test(t->ctx, g->live, mod, m)) {
			if ((rc = mig_shadow_step(&t->s, mod, m, true, &g->err)) == MIG_OK) {
				mig_snapshot_clear(&t->before);
				t->have_before = false;
			}
			continue;
		}
		if (a->stop_after && g->res.failed >= a->stop_after) {
			g->res.not_tested = g->total - g->res.tested;
			break;
		}
		progress(g->progress, mod, m);
		bool broken = false;
		rc = round_trip(t, mod, m, &broken, &g->err);
		if (rc == MIG_OK && broken && i < g->end)
			rc = restart_after(t, i, &g->err);
		g->broken_at_end = broken && i == g->end;
	}
	mig_snapshot_clear(&t->before);
	shadow_detach(t);
	mig_shadow_drop(t->shadow);
	if (t->rs_open)
		mig_session_close(&t->rs);
	mig_shadow_drop(t->replay);
	g->rc = rc;
	return NULL;
}

/* How many shadows test at once: --parallel, else one per CPU up to 4 on a run of 64
 * selected migrations or more; one with --max-failures (it stops in plan order). */
static size_t workers_for(const mig_args *a, size_t selected)
{
	if (a->stop_after)
		return 1;
	size_t w = a->workers;
	if (!w) {
		long cpus = selected >= 64 ? sysconf(_SC_NPROCESSORS_ONLN) : 1;
		w = cpus < 1 ? 1 : cpus > 4 ? 4 : (size_t)cpus;
	}
	/* selected >= 1: called only when something is to be tested */
	return w > selected ? selected : w;
}

/* Appends src's results to dst (in plan order: src's stretch comes after dst's). */
static int results_join(results *dst, results *src, mig_error *err)
{
	if (src->n && dst->n + src->n > dst->cap) {
		mig_roundtrip_result *grown = realloc(dst->items, (dst->n + src->n) * sizeof *grown);
		if (!grown)
			return mig_error_set(err, MIG_EFAIL, "out of memory");
		dst->items = grown;
		dst->cap = dst->n + src->n;
	}
	if (src->n)
		memcpy(dst->items + dst->n, src->items, src->n * sizeof *src->items);
	dst->n += src->n;
	dst->tested += src->tested;
	dst->failed += src->failed;
	dst->failures += src->failures;
	dst->not_tested += src->not_tested;
	dst->restarts += src->restarts;
	free(src->items);
	*src = (results){0};
	return MIG_OK;
}

int mig_cmd_roundtrip(mig_context *ctx, mig_error *err)
{
	const mig_args *a = &ctx->args;
	if (a->module && !mig_plan_module(ctx->plan, a->module))
		return mig_error_set(err, MIG_EUSAGE, "module '%s' is not enabled in the config",
				     a->module);
	mig_session live = {0};
	results res = {0};
	trip plan = {.ctx = ctx};
	size_t *sel = NULL, *first = NULL, nstretches = 0;
	stretch *st = NULL;
	int rc = plan_items(&plan, ctx->plan, err);
	/* --pending reads the live ledger, and nothing else, from the live database */
	if (rc == MIG_OK && a->pending)
		rc = mig_session_open(&live, ctx->registry, &ctx->cfg->pg, 0, err);
	size_t total = 0;
	if (rc == MIG_OK && plan.nitems &&
	    (!(sel = malloc(plan.nitems * sizeof *sel)) ||
	     !(first = malloc(plan.nitems * sizeof *first))))
		rc = mig_error_set(err, MIG_EFAIL, "out of memory");
	for (size_t i = 0; rc == MIG_OK && i < plan.nitems; i++)
		if (to_test(ctx, &live.ledger, plan.items[i].module, plan.items[i].migration))
			sel[total++] = i;
	if (rc == MIG_OK && total)
		rc = mig_roundtrip_split(sel, total, workers_for(a, total), first, &nstretches,
					 err);
	if (rc == MIG_OK && nstretches && !(st = calloc(nstretches, sizeof *st)))
		rc = mig_error_set(err, MIG_EFAIL, "out of memory");
	if (rc < 0)
		goto done;
	progress_line line = {.show = !a->quiet && isatty(fileno(stderr)), .total = total};
	pthread_mutex_init(&line.mu, NULL);
	for (size_t k = 0; k < nstretches; k++) {
		stretch *g = &st[k];
		size_t last = k + 1 < nstretches ? first[k + 1] - 1 : total - 1;
		*g = (stretch){.t = {.ctx = ctx, .items = plan.items, .nitems = plan.nitems},
			       .begin = sel[first[k]], .end = sel[last],
			       .total = last - first[k] + 1, .live = &live.ledger, .progress = &line};
		g->t.res = &g->res;
	}
	/* one stretch runs here; more run in threads, one each (here when none starts) */
	pthread_t *threads = nstretches > 1 ? calloc(nstretches, sizeof *threads) : NULL;
	bool *started = nstretches > 1 ? calloc(nstretches, sizeof *started) : NULL;
	for (size_t k = 0; threads && started && k < nstretches; k++)
		started[k] = pthread_create(&threads[k], NULL, stretch_run, &st[k]) == 0;
	for (size_t k = 0; k < nstretches; k++) {
		if (started && started[k])
			pthread_join(threads[k], NULL);
		else
			stretch_run(&st[k]);
	}
	free(threads);
	free(started);
	progress(&line, NULL, NULL);
	pthread_mutex_destroy(&line.mu);
	/* in plan order, up to the first stretch that could not go on: those after it
	 * were judged past a state the history's ups do not reach */
	for (size_t k = 0; k < nstretches && rc == MIG_OK; k++) {
		if ((rc = results_join(&res, &st[k].res, err)) < 0)
			break;
		if (st[k].broken_at_end && k + 1 < nstretches)
			res.restarts++; /* one shadow would have restarted there */
		if (st[k].rc < 0) {
			*err = st[k].err;
			rc = st[k].rc;
		}
	}
	if (rc < 0) {
		/* what was found so far, then why the run could not go on (the history's ups
		 * do not build, or the scratch server failed) */
		if (a->format == MIG_FORMAT_JSON)
			mig_roundtrip_print_json(ctx->out, res.items, res.n, res.tested,
						 res.failed, res.not_tested, NULL);
		else
			print_text(ctx->out, &res, a->quiet, false);
		rc = MIG_EFAIL;
		goto done;
	}
	if (a->format == MIG_FORMAT_JSON)
		rc = mig_roundtrip_print_json(ctx->out, res.items, res.n, res.tested, res.failed,
					      res.not_tested, err);
	else
		print_text(ctx->out, &res, a->quiet, true);
	if (rc == MIG_OK && res.failed)
		rc = mig_error_set(err, MIG_ESCHEMA, "roundtrip: %zu of %zu migration%s failed%s",
				   res.failed, res.tested, res.tested == 1 ? "" : "s",
				   res.not_tested ? ", the rest not tested (--max-failures)" : "");
done:
	for (size_t k = 0; k < nstretches && st; k++)
		mig_roundtrip_results_free(st[k].res.items, st[k].res.n);
	free(st);
	free(sel);
	free(first);
	mig_session_close(&live);
	free(plan.items);
	mig_roundtrip_results_free(res.items, res.n);
	return rc;
}

/* `migrate drift [--module M]`: does the live schema have exactly the shape its applied
 * migrations give? Clones a shadow database from the cached template of the applied
 * versions of every enabled module (built when none matches), snapshots both, and
 * reports missing, extra and changed objects, each attributed to the migration that
 * created it where object tracking knows. Exit 0 when identical, 3 on drift, 1 when the
 * shadow cannot be built. */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "cli/shadow_run.h"
#include "postgres/pg_snapshot.h"
#include "schema/snapshot_json.h"
#include "scratch/scratch.h"
#include "scratch/snapshot_cache.h"

static long long ms_since(const struct timespec *t0)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (t.tv_sec - t0->tv_sec) * 1000LL + (t.tv_nsec - t0->tv_nsec) / 1000000;
}

/* The applied versions, in plan order. An applied version without its file cannot be
 * rebuilt: MIG_EFAIL naming it. */
static int applied_run(mig_run *out, const mig_plan *plan, const mig_ledger *ledger,
		       mig_error *err)
{
	size_t n = ledger->nrows; /* at most one item per applied row */
	out->up = true;
	out->items = n ? calloc(n, sizeof *out->items) : NULL;
	if (n && !out->items)
		return mig_error_set(err, MIG_EFAIL, "out of memory");
	out->nitems = 0;
	for (size_t i = 0; i < plan->nmodules; i++) {
		const mig_module_plan *mod = &plan->modules[i];
		for (size_t k = 0; k < mod->nmigrations; k++)
			if (mig_ledger_find(ledger, mod->name, mod->migrations[k].version))
				out->items[out->nitems++] = (mig_run_item){mod, &mod->migrations[k]};
	}
	for (size_t i = 0; i < ledger->nrows; i++) {
		const mig_applied *row = &ledger->rows[i];
		const mig_module_plan *mod = mig_plan_module(plan, row->module);
		if (!mod)
			continue; /* a module the config no longer runs: not part of the history */
		bool found = false;
		for (size_t k = 0; k < mod->nmigrations && !found; k++)
			found = mod->migrations[k].version == row->version;
		if (!found)
			return mig_error_set(err, MIG_EFAIL,
					     "cannot build the shadow: applied version %s/%lld has no file in '%s'",
					     row->module, row->version, mod->dir);
	}
	return MIG_OK;
}

/* Who created each object: the expected side's tracking (complete: the history was
 * replayed there), then the live one's for what only the live database has. */
static int attribute(mig_diff *diff, const mig_object_origin *expected, size_t nexpected,
		     mig_pg_reader *live, mig_error *err)
{
	int rc = mig_diff_attribute(diff, expected, nexpected, err);
	mig_object_origin *origins = NULL;
	size_t n = 0;
	if (rc == MIG_OK)
		rc = mig_pg_origins_read(&origins, &n, live, err);
	if (rc == MIG_OK)
		rc = mig_diff_attribute(diff, origins, n, err);
	mig_object_origins_free(origins, n);
	return rc;
}

/* Both databases read at once: the two servers' work overlaps. */
static int both_snapshots(mig_snapshot *expected, mig_snapshot *actual, mig_pg_reader *shadow,
			  mig_pg_reader *live, mig_error *err)
{
	int rc = mig_pg_snapshot_send(shadow, err);
	if (rc < 0)
		return rc;
	int live_rc = mig_pg_snapshot_send(live, err);
	rc = mig_pg_snapshot_receive(expected, shadow, err);
	if (live_rc == MIG_OK) {
		mig_error live_err = {0};
		int got = mig_pg_snapshot_receive(actual, live, &live_err);
		if (got < 0 && rc == MIG_OK) {
			*err = live_err;
			rc = got;
		}
	}
	return rc < 0 ? rc : live_rc;
}

/* The expected side from drift's cache when the applied versions' template exists and
 * its snapshot was cached by this build (*hit); nothing is built here. */
static int expected_from_cache(mig_snapshot *expected, mig_object_origin **origins, size_t *n,
			       bool *hit, char tpl[MIG_SCRATCH_NAME_MAX], mig_context *ctx,
			       const mig_run *run, mig_error *err)
{
	mig_scratch *sc = NULL;
	bool exists = false;
	*hit = false;
	int rc = mig_scratch_open(&sc, ctx->cfg, err);
	if (rc == MIG_OK)
		rc = mig_scratch_template_lookup(tpl, &exists, sc, ctx->plan, run, err);
	mig_scratch_close(sc);
	if (rc == MIG_OK && exists)
		rc = mig_snapshot_cache_load(expected, origins, n, hit, tpl, err);
	return rc;
}

int mig_cmd_drift(mig_context *ctx, mig_error *err)
{
	const mig_args *a = &ctx->args;
	if (a->module && !mig_plan_module(ctx->plan, a->module))
		return mig_error_set(err, MIG_EUSAGE, "module '%s' is not enabled in the config",
				     a->module);
	mig_session live = {0};
	mig_run run = {0};
	mig_shadow *shadow = NULL;
	mig_pg_reader *live_r = NULL, *shadow_r = NULL;
	mig_snapshot expected = {0}, actual = {0};
	mig_object_origin *origins = NULL;
	size_t norigins = 0;
	mig_diff diff = {0};
	struct timespec t0, t1;
	long long build_ms = 0, drop_ms = 0, compare_ms = 0;
	bool hit = false;
	char tpl[MIG_SCRATCH_NAME_MAX] = "";
	clock_gettime(CLOCK_MONOTONIC, &t0);
	int rc = mig_session_open(&live, ctx->registry, &ctx->cfg->pg, 0, err);
	if (rc == MIG_OK)
		rc = applied_run(&run, ctx->plan, &live.ledger, err);
	mig_session_close(&live);
	if (rc == MIG_OK)
		rc = mig_engine_preflight(&run, err);
	if (rc == MIG_OK)
		rc = expected_from_cache(&expected, &origins, &norigins, &hit, tpl, ctx, &run, err);
	if (rc < 0)
		goto done;
	if (hit) {
		/* a second drift of this history: one snapshot, of the live database */
		build_ms = ms_since(&t0);
		clock_gettime(CLOCK_MONOTONIC, &t1);
		if ((rc = mig_pg_reader_open(&live_r, ctx->cfg->pg.dsn, "live", err)) < 0 ||
		    (rc = mig_pg_snapshot_read(&actual, live_r, err)) < 0)
			goto done;
	} else {
		/* a clone of the applied versions' template: built once, then milliseconds */
		if ((rc = mig_shadow_clone(&shadow, ctx->cfg, ctx->plan, &run, err)) < 0) {
			rc = MIG_EFAIL; /* the history itself does not build: not drift */
			goto done;
		}
		build_ms = ms_since(&t0);
		clock_gettime(CLOCK_MONOTONIC, &t1);
		snprintf(tpl, sizeof tpl, "%s", mig_shadow_template(shadow));
		if ((rc = mig_pg_reader_open(&shadow_r, mig_shadow_config(shadow)->pg.dsn,
					     "shadow", err)) < 0 ||
		    (rc = mig_pg_reader_open(&live_r, ctx->cfg->pg.dsn, "live", err)) < 0 ||
		    (rc = both_snapshots(&expected, &actual, shadow_r, live_r, err)) < 0 ||
		    (rc = mig_pg_origins_read(&origins, &norigins, shadow_r, err)) < 0)
			goto done;
	}
	if ((rc = mig_snapshot_diff(&diff, &expected, &actual, true, err)) < 0 ||
	    (rc = attribute(&diff, origins, norigins, live_r, err)) < 0)
		goto done;
	if (a->module)
		mig_diff_keep_module(&diff, a->module);
	compare_ms = ms_since(&t1);
	bool cached = false;
	if (shadow) {
		/* the next drift of this history reads no shadow (best effort: a cache that
		 * cannot be written only costs the next drift a clone) */
		mig_snapshot_cache_store(tpl, &expected, origins, norigins, NULL);
		/* the shadow is done with: drop it (a checkpoint on the server) before printing */
		mig_pg_reader_close(shadow_r);
		shadow_r = NULL;
		clock_gettime(CLOCK_MONOTONIC, &t1);
		cached = mig_shadow_cached(shadow);
		mig_shadow_drop(shadow);
		shadow = NULL;
		drop_ms = ms_since(&t1);
	}
	if (a->format == MIG_FORMAT_JSON) {
		rc = mig_diff_print_json(ctx->out, &diff, err);
	} else {
		mig_diff_print_text(ctx->out, &diff, "");
		if (!a->quiet && hit)
			fprintf(ctx->out,
				"drift: %zu difference%s (%zu objects compared in %lld ms; expected schema of template %s read from the cache in %lld ms)\n",
				diff.n, diff.n == 1 ? "" : "s", expected.nobjects, compare_ms, tpl,
				build_ms);
		else if (!a->quiet)
			fprintf(ctx->out,
				"drift: %zu difference%s (%zu objects compared in %lld ms; shadow built in %lld ms, %s template %s; dropped in %lld ms)\n",
				diff.n, diff.n == 1 ? "" : "s", expected.nobjects, compare_ms,
				build_ms, cached ? "cloned from cached" : "built", tpl, drop_ms);
	}
	if (rc == MIG_OK && diff.n)
		rc = mig_error_set(err, MIG_ESCHEMA,
				   "drift: the live schema differs from its history in %zu place%s",
				   diff.n, diff.n == 1 ? "" : "s");
done:
	mig_diff_clear(&diff);
	mig_snapshot_clear(&expected);
	mig_snapshot_clear(&actual);
	mig_object_origins_free(origins, norigins);
	mig_pg_reader_close(shadow_r);
	mig_pg_reader_close(live_r);
	mig_shadow_drop(shadow);
	mig_run_clear(&run);
	return rc;
}

/* `migrate roundtrip [--module M] [--pending] [--require-down]`: on a shadow database,
 * for each migration in plan order: snapshot, up, snapshot, down, snapshot (must equal
 * the first), up again, snapshot (must equal the second). Reports downs that fail or do
 * not restore the schema, ups that cannot run again after their down, and migrations
 * without a .down.sql (irreversible: a failure only with --require-down). The live
 * database is only read, for its ledger, with --pending. */
#include <stdlib.h>
#include <string.h>

#include "cli/shadow_run.h"
#include "postgres/pg_snapshot.h"
#include "schema/snapshot_json.h"

typedef struct results {
	mig_roundtrip_result *items;
	size_t n, cap;
	size_t tested, failed; /* migrations */
	size_t failures;       /* results that are failures */
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
	if (ctx->args.module && strcmp(ctx->args.module, mod->name) != 0)
		return false;
	return !ctx->args.pending || !mig_ledger_find(live, mod->name, m->version);
}

typedef struct trip {
	mig_context *ctx;
	mig_session *s;
	mig_pg_reader *reader;
	results *res;
	mig_snapshot before; /* the schema before the migration under test */
	bool have_before;
} trip;

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

/* One round trip. *stop is set when the shadow is no longer in a known state. A
 * failing first up is returned (the history does not build); every other failure is
 * a result. */
static int round_trip(trip *t, const mig_module_plan *mod, const mig_migration *m, bool *stop,
		      mig_error *err)
{
	mig_snapshot first = {0}, undone = {0}, again = {0};
	mig_error step_err = {0};
	size_t nresults = t->res->n, failures = t->res->failures;
	int rc;
	t->res->tested++;
	if (!t->have_before && (rc = mig_pg_snapshot_read(&t->before, t->reader, err)) < 0)
		return rc;
	t->have_before = true;
	if ((rc = mig_shadow_step(t->s, mod, m, true, err)) < 0)
		return rc;
	if ((rc = mig_pg_snapshot_read(&first, t->reader, err)) < 0)
		goto done;
	if (!m->down_path) {
		if (!result_add(t->res, mod, m, "irreversible", "there is no .down.sql",
				t->ctx->args.require_down))
			rc = mig_error_set(err, MIG_EFAIL, "out of memory");
		goto keep;
	}
	if (mig_shadow_step(t->s, mod, m, false, &step_err) < 0) {
		if (!result_add(t->res, mod, m, "down failed", step_err.message, true))
			rc = mig_error_set(err, MIG_EFAIL, "out of memory");
		/* a failed down rolls back: the schema is the first up's, read it again */
		mig_snapshot_clear(&first);
		if (rc == MIG_OK)
			rc = mig_pg_snapshot_read(&first, t->reader, err);
		goto keep;
	}
	if ((rc = mig_pg_snapshot_read(&undone, t->reader, err)) < 0 ||
	    (rc = compare(t, mod, m, &t->before, &undone, "down does not restore", err)) < 0)
		goto done;
	if (mig_shadow_step(t->s, mod, m, true, &step_err) < 0) {
		if (!result_add(t->res, mod, m, "up fails after down", step_err.message, true))
			rc = mig_error_set(err, MIG_EFAIL, "out of memory");
		*stop = true;
		goto done;
	}
	if ((rc = mig_pg_snapshot_read(&again, t->reader, err)) < 0 ||
	    (rc = compare(t, mod, m, &first, &again, "up after down differs", err)) < 0)
		goto done;
	mig_snapshot_clear(&first);
	first = again;
	again = (mig_snapshot){0};
keep:
	if (rc == MIG_OK && t->res->n == nresults && !result_add(t->res, mod, m, "ok", NULL, false))
		rc = mig_error_set(err, MIG_EFAIL, "out of memory");
	if (rc == MIG_OK) {
		mig_snapshot_clear(&t->before);
		t->before = first;
		first = (mig_snapshot){0};
	}
done:
	t->res->failed += t->res->failures > failures;
	mig_snapshot_clear(&first);
	mig_snapshot_clear(&undone);
	mig_snapshot_clear(&again);
	return rc;
}

static void print_text(FILE *out, const results *r, bool quiet)
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
	if (!quiet)
		fprintf(out, "roundtrip: %zu migration%s tested, %zu failed\n", r->tested,
			r->tested == 1 ? "" : "s", r->failed);
}

int mig_cmd_roundtrip(mig_context *ctx, mig_error *err)
{
	const mig_args *a = &ctx->args;
	if (a->module && !mig_plan_module(ctx->plan, a->module))
		return mig_error_set(err, MIG_EUSAGE, "module '%s' is not enabled in the config",
				     a->module);
	mig_session live = {0}, s = {0};
	mig_shadow *shadow = NULL;
	results res = {0};
	trip t = {.ctx = ctx, .s = &s, .res = &res};
	int rc = MIG_OK;
	/* --pending reads the live ledger, and nothing else, from the live database */
	if (a->pending && (rc = mig_session_open(&live, ctx->registry, &ctx->cfg->pg, 0, err)) < 0)
		return rc;
	size_t total = 0;
	for (size_t i = 0; i < ctx->plan->nmodules; i++)
		for (size_t k = 0; k < ctx->plan->modules[i].nmigrations; k++)
			total += to_test(ctx, &live.ledger, &ctx->plan->modules[i],
					 &ctx->plan->modules[i].migrations[k]);
	if (total && (rc = mig_shadow_create(&shadow, ctx->cfg, err)) == MIG_OK &&
	    (rc = mig_shadow_session_open(&s, ctx, shadow, err)) == MIG_OK)
		rc = mig_pg_reader_open(&t.reader, mig_shadow_config(shadow)->pg.dsn, "shadow",
					err);
	bool stop = false;
	for (size_t i = 0; rc == MIG_OK && !stop && i < ctx->plan->nmodules; i++) {
		const mig_module_plan *mod = &ctx->plan->modules[i];
		for (size_t k = 0; rc == MIG_OK && !stop && k < mod->nmigrations; k++) {
			const mig_migration *m = &mod->migrations[k];
			if (res.tested == total)
				stop = true;
			else if (to_test(ctx, &live.ledger, mod, m))
				rc = round_trip(&t, mod, m, &stop, err);
			else if ((rc = mig_shadow_step(&s, mod, m, true, err)) == MIG_OK)
				t.have_before = false;
		}
	}
	mig_snapshot_clear(&t.before);
	mig_pg_reader_close(t.reader);
	mig_session_close(&s);
	mig_shadow_drop(shadow);
	mig_session_close(&live);
	if (rc < 0) {
		rc = MIG_EFAIL; /* the history itself does not build on an empty database */
		goto done;
	}
	if (a->format == MIG_FORMAT_JSON)
		rc = mig_roundtrip_print_json(ctx->out, res.items, res.n, res.tested, res.failed == 0,
					      err);
	else
		print_text(ctx->out, &res, a->quiet);
	if (rc == MIG_OK && res.failed)
		rc = mig_error_set(err, MIG_ESCHEMA, "roundtrip: %zu of %zu migration%s failed",
				   res.failed, res.tested, res.tested == 1 ? "" : "s");
done:
	mig_roundtrip_results_free(res.items, res.n);
	return rc;
}

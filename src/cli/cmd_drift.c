/* `migrate drift [--module M]`: does the live schema have exactly the shape its applied
 * migrations give? Clones a shadow database from the cached template of the applied
 * versions of every enabled module (built when none matches), snapshots both, and
 * reports missing, extra and changed objects, each attributed to the migration that
 * created it where object tracking knows. Exit 0 when identical, 3 on drift, 1 when the
 * shadow cannot be built. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli/shadow_run.h"
#include "core/repeatable.h"
#include "postgres/pg_scratch.h"
#include "postgres/pg_snapshot.h"
#include "schema/snapshot_json.h"
#include "scratch/scratch.h"
#include "scratch/snapshot_cache.h"
#include "fleet/fleet.h"

static long long ms_since(const struct timespec *t0)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (t.tv_sec - t0->tv_sec) * 1000LL + (t.tv_nsec - t0->tv_nsec) / 1000000;
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

/* Definitions are compared as each server prints them (pg_get_viewdef, function bodies
 * ...), and the printing changes between major versions: the scratch server, where the
 * shadow is built, must run the live one's. Asked before anything is built there. */
static int same_major(const mig_config *cfg, const mig_pg_reader *live, mig_error *err)
{
	if (!cfg->pg.scratch_dsn || !*cfg->pg.scratch_dsn)
		return MIG_OK; /* the shadow is built on the live server itself */
	mig_pg_admin *a = NULL;
	int rc = mig_pg_admin_connect(&a, &cfg->pg, err);
	if (rc < 0)
		return rc;
	int s = mig_pg_admin_server_major(a), l = mig_pg_reader_major(live);
	mig_pg_admin_close(a);
	if (s == l)
		return MIG_OK;
	return mig_error_set(err, MIG_EUSAGE,
			     "drift compares definitions as the server prints them: the live database runs "
			     "PostgreSQL %d, the scratch server (postgres.scratch_dsn) %d; point scratch_dsn "
			     "at a PostgreSQL %d server",
			     l, s, l);
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
		rc = mig_engine_plan_applied(&run, ctx->plan, &live.ledger, "build the shadow", err);
	run.vars = ctx->cfg; /* the envsub spans render as `up` renders them */
	/* and the repeatables that have applied, after each module's versions */
	mig_repeatable_ledger reps = {0};
	if (rc == MIG_OK && (rc = mig_repeatables_read(&reps, &live, ctx->plan, err)) == MIG_OK)
		rc = mig_repeatable_plan_applied(&run, ctx->plan, &reps, err);
	mig_repeatable_ledger_clear(&reps);
	mig_session_close(&live);
	if (rc == MIG_OK)
		rc = mig_engine_preflight(&run, err);
	if (rc == MIG_OK && (rc = mig_pg_reader_open(&live_r, ctx->cfg->pg.dsn, "live", err)) == MIG_OK)
		rc = same_major(ctx->cfg, live_r, err);
	if (rc == MIG_OK)
		rc = expected_from_cache(&expected, &origins, &norigins, &hit, tpl, ctx, &run, err);
	if (rc < 0)
		goto done;
	if (hit) {
		/* a second drift of this history: one snapshot, of the live database */
		build_ms = ms_since(&t0);
		clock_gettime(CLOCK_MONOTONIC, &t1);
		if ((rc = mig_pg_snapshot_read(&actual, live_r, err)) < 0)
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
		    (rc = both_snapshots(&expected, &actual, shadow_r, live_r, err)) < 0 ||
		    (rc = mig_pg_origins_read(&origins, &norigins, shadow_r, err)) < 0)
			goto done;
	}
	if (!ctx->cfg->drift_privileges) { /* grants are managed outside the migrations */
		mig_snapshot_drop_attr(&expected, "privileges");
		mig_snapshot_drop_attr(&actual, "privileges");
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

/* ---- drift over a fleet ------------------------------------------------------------
 * Each target's applied history is read from its own ledger; the expected schema is
 * computed once per distinct history (the drift cache, else a shadow) and shared by
 * every target with that history. A schema fleet's history is built in a schema of its
 * own name (FLEET_SCHEMA), renamed to each target's in the copy compared with it, and
 * the live database, shared by every schema target, is read once. */

#define FLEET_SCHEMA "migrate_fleet_expected_schema"

typedef struct expected_entry {
	char *key;                      /* the applied versions (see expected_get) */
	char tpl[MIG_SCRATCH_NAME_MAX]; /* the history's template */
	int rc;                         /* MIG_OK, or why the history does not build */
	mig_error err;
	mig_snapshot snap;
	mig_object_origin *origins;
	size_t norigins;
} expected_entry;

struct mig_drift_fleet {
	mig_context *ctx;
	bool schemas; /* targets are schemas of postgres.dsn */
	pthread_mutex_t mu;
	expected_entry *entries;
	size_t n;
	bool have_live; /* schema fleets: the one snapshot of the shared database */
	int live_rc;
	mig_error live_err;
	mig_snapshot live;
	mig_object_origin *live_origins;
	size_t nlive_origins;
	char **keywords; /* the words PostgreSQL prints quoted (mig_pg_reader_keywords) */
	size_t nkeywords;
};

int mig_drift_fleet_new(mig_drift_fleet **out, mig_context *ctx, bool schemas, mig_error *err)
{
	mig_drift_fleet *d = calloc(1, sizeof *d);
	if (!d)
		return mig_error_set(err, MIG_EFAIL, "out of memory");
	d->ctx = ctx;
	d->schemas = schemas;
	pthread_mutex_init(&d->mu, NULL);
	*out = d;
	return MIG_OK;
}

void mig_drift_fleet_free(mig_drift_fleet *d)
{
	if (!d)
		return;
	for (size_t i = 0; i < d->n; i++) {
		free(d->entries[i].key);
		mig_snapshot_clear(&d->entries[i].snap);
		mig_object_origins_free(d->entries[i].origins, d->entries[i].norigins);
	}
	free(d->entries);
	mig_snapshot_clear(&d->live);
	mig_object_origins_free(d->live_origins, d->nlive_origins);
	for (size_t i = 0; i < d->nkeywords; i++)
		free(d->keywords[i]);
	free(d->keywords);
	pthread_mutex_destroy(&d->mu);
	free(d);
}

/* The expected schema of run, from the cache or a shadow (cfg's pg.schema decides where
 * the history is built), cached for the next drift. */
static int expected_build(expected_entry *e, const mig_config *cfg, const mig_plan *plan,
			  const mig_run *run, mig_error *err)
{
	mig_scratch *sc = NULL;
	bool exists = false, hit = false;
	int rc = mig_scratch_open(&sc, cfg, err);
	if (rc == MIG_OK)
		rc = mig_scratch_template_lookup(e->tpl, &exists, sc, plan, run, err);
	mig_scratch_close(sc);
	if (rc == MIG_OK && exists)
		rc = mig_snapshot_cache_load(&e->snap, &e->origins, &e->norigins, &hit, e->tpl, err);
	if (rc < 0 || hit)
		return rc;
	mig_shadow *shadow = NULL;
	mig_pg_reader *r = NULL;
	char *dsn = NULL;
	if ((rc = mig_shadow_clone(&shadow, cfg, plan, run, err)) == MIG_OK) {
		/* object tracking lives beside the ledger: in the schema it was built in */
		const char *conninfo = mig_shadow_config(shadow)->pg.dsn;
		size_t size = strlen(conninfo) + 128;
		if (!(dsn = malloc(size)))
			rc = mig_error_set(err, MIG_EFAIL, "out of memory");
		else if (cfg->pg.schema)
			snprintf(dsn, size, "%s options='-c search_path=\"%s\"'", conninfo,
				 cfg->pg.schema);
		else
			snprintf(dsn, size, "%s", conninfo);
	}
	if (rc == MIG_OK &&
	    (rc = mig_pg_reader_open(&r, dsn, "shadow", err)) == MIG_OK &&
	    (rc = mig_pg_snapshot_read(&e->snap, r, err)) == MIG_OK &&
	    (rc = mig_pg_origins_read(&e->origins, &e->norigins, r, err)) == MIG_OK)
		mig_snapshot_cache_store(e->tpl, &e->snap, e->origins, e->norigins, NULL);
	mig_pg_reader_close(r);
	mig_shadow_drop(shadow);
	free(dsn);
	return rc;
}

/* The entry of run's history, computed by the first target that needs it (the others
 * wait: one shadow per history). Borrowed from d; its rc says whether it could be built. */
static int expected_get(expected_entry **out, mig_drift_fleet *d, const mig_plan *plan,
			const mig_run *run, bool in_schema, mig_error *err)
{
	/* the history's identity within this run, where the files are the same for every
	 * target: which versions are applied, and whether in a schema */
	size_t len = 2;
	for (size_t i = 0; i < run->nitems; i++)
		len += strlen(run->items[i].module->name) + 24;
	char *key = malloc(len), *w = key;
	if (!key)
		return mig_error_set(err, MIG_EFAIL, "out of memory");
	w += sprintf(w, "%c", in_schema ? 's' : 'd');
	for (size_t i = 0; i < run->nitems; i++)
		w += sprintf(w, " %s/%lld", run->items[i].module->name,
			     run->items[i].migration->version);
	pthread_mutex_lock(&d->mu);
	for (size_t i = 0; i < d->n; i++)
		if (!strcmp(d->entries[i].key, key)) {
			free(key);
			*out = &d->entries[i];
			return MIG_OK; /* locked: the caller unlocks */
		}
	expected_entry *grown = realloc(d->entries, (d->n + 1) * sizeof *grown);
	if (!grown) {
		pthread_mutex_unlock(&d->mu);
		free(key);
		return mig_error_set(err, MIG_EFAIL, "out of memory");
	}
	d->entries = grown;
	expected_entry *e = &d->entries[d->n++];
	*e = (expected_entry){.key = key};
	/* the other targets wait meanwhile: one shadow per history, not per target */
	mig_config cfg = *d->ctx->cfg;
	cfg.pg.schema = in_schema ? FLEET_SCHEMA : NULL;
	e->rc = expected_build(e, &cfg, plan, run, &e->err);
	*out = e;
	return MIG_OK; /* locked: entries move when the list grows, so the caller takes what
			* it needs (the snapshots' own memory never moves) before unlocking */
}

/* s with every `from` replaced by `to` (a new string), or NULL when memory runs out. */
static char *replaced(const char *s, const char *from, const char *to)
{
	size_t nf = strlen(from), nt = strlen(to), count = 0;
	for (const char *p = strstr(s, from); p; p = strstr(p + nf, from))
		count++;
	char *out = malloc(strlen(s) + count * (nt > nf ? nt - nf : 0) + 1), *w = out;
	if (!out)
		return NULL;
	for (const char *p = s, *q; *p; p = q + nf) {
		q = strstr(p, from);
		if (!q) {
			strcpy(w, p);
			return out;
		}
		memcpy(w, p, (size_t)(q - p));
		w += q - p;
		memcpy(w, to, nt);
		w += nt;
	}
	*w = '\0';
	return out;
}

static int word_cmp(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* How a definition names schema name: bare when PostgreSQL prints it bare (lower case,
 * and not one of the server's keywords, e.g. "order"). */
static void ident(char *out, size_t size, const char *name, char **keywords, size_t nkeywords)
{
	bool bare = (*name >= 'a' && *name <= 'z') || *name == '_';
	for (const char *p = name; *p && bare; p++)
		bare = (*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '_';
	if (bare && nkeywords)
		bare = !bsearch(&name, keywords, nkeywords, sizeof *keywords, word_cmp);
	snprintf(out, size, bare ? "%s" : "\"%s\"", name);
}

/* The objects of schema `from` in `in`, in schema `to` (every mention of `from` in a
 * name or definition renamed when they differ), sorted, into *out. */
static int schema_part(mig_snapshot *out, const mig_snapshot *in, const char *from,
		       const char *to, const mig_drift_fleet *d, mig_error *err)
{
	char qto[160];
	ident(qto, sizeof qto, to, d->keywords, d->nkeywords);
	bool rename = strcmp(from, to) != 0;
	int rc = MIG_OK;
	for (size_t i = 0; rc == MIG_OK && i < in->nobjects; i++) {
		const mig_snap_object *o = &in->objects[i];
		if (strcmp(o->schema, from) != 0)
			continue;
		const char **keys = calloc(o->nattrs + 1, sizeof *keys);
		char **values = calloc(o->nattrs + 1, sizeof *values);
		char *name = !rename ? NULL
			     : !strcmp(o->type, "schema") ? strdup(to)
							   : replaced(o->name, from, qto);
		bool oom = !keys || !values || (rename && !name);
		for (size_t k = 0; !oom && k < o->nattrs; k++) {
			keys[k] = o->attrs[k].key;
			if (o->attrs[k].value && rename)
				oom = !(values[k] = replaced(o->attrs[k].value, from, qto));
			else if (o->attrs[k].value)
				oom = !(values[k] = strdup(o->attrs[k].value));
		}
		rc = oom ? mig_error_set(err, MIG_EFAIL, "out of memory")
			 : mig_snapshot_add(out, o->type, to, rename ? name : o->name, o->nattrs,
					    keys, (const char *const *)values, err);
		for (size_t k = 0; values && k < o->nattrs; k++)
			free(values[k]);
		free(values);
		free(keys);
		free(name);
	}
	mig_snapshot_sort(out);
	return rc;
}

/* The origins in schema `from`, moved to schema `to`. */
static int origins_part(mig_object_origin **out, size_t *n, const mig_object_origin *in,
			size_t nin, const char *from, const char *to, mig_error *err)
{
	*out = nin ? calloc(nin, sizeof **out) : NULL;
	*n = 0;
	if (nin && !*out)
		return mig_error_set(err, MIG_EFAIL, "out of memory");
	for (size_t i = 0; i < nin; i++) {
		if (strcmp(in[i].schema, from) != 0)
			continue;
		mig_object_origin *o = &(*out)[(*n)++];
		o->version = in[i].version;
		if (!(o->kind = strdup(in[i].kind)) || !(o->schema = strdup(to)) ||
		    !(o->name = strdup(in[i].name)) || !(o->module = strdup(in[i].module)))
			return mig_error_set(err, MIG_EFAIL, "out of memory");
	}
	return MIG_OK;
}

/* Schema fleets: the shared database's snapshot and origins, read by the first target. */
static int live_shared(mig_drift_fleet *d, mig_error *err)
{
	if (!d->have_live) {
		mig_pg_reader *r = NULL;
		d->live_rc = mig_pg_reader_open(&r, d->ctx->cfg->pg.dsn, "live", &d->live_err);
		if (d->live_rc == MIG_OK)
			d->live_rc = mig_pg_snapshot_read(&d->live, r, &d->live_err);
		if (d->live_rc == MIG_OK)
			d->live_rc = mig_pg_reader_keywords(&d->keywords, &d->nkeywords, r,
							    &d->live_err);
		mig_pg_reader_close(r);
		d->have_live = true;
	}
	if (d->live_rc < 0)
		*err = d->live_err;
	return d->live_rc;
}

int mig_drift_fleet_check(void *ctx, const mig_plan *plan, const mig_target *target,
			  const mig_sql_config *sql, mig_session *s, mig_fleet_result *r,
			  mig_error *err)
{
	mig_drift_fleet *d = ctx;
	mig_run run = {0};
	mig_snapshot expected = {0}, actual = {0};
	mig_object_origin *origins = NULL;
	size_t norigins = 0;
	mig_pg_reader *live_r = NULL;
	expected_entry *e = NULL;
	/* a schema target's objects live in its schema; the control database's where its
	 * modules put them */
	const char *schema = d->schemas && target ? target->name : NULL;
	int rc = mig_engine_plan_applied(&run, plan, &s->ledger, "build the shadow", err);
	if (rc == MIG_OK)
		rc = mig_engine_preflight(&run, err);
	if (rc == MIG_OK && (rc = expected_get(&e, d, plan, &run, schema != NULL, err)) == MIG_OK) {
		/* under the lock: copy this target's part of the shared expected schema */
		if (e->rc < 0) {
			*err = e->err;
			rc = e->rc;
		} else if (schema) {
			/* the live database first: its keywords say how the names are printed */
			rc = live_shared(d, err);
			if (rc == MIG_OK)
				rc = schema_part(&expected, &e->snap, FLEET_SCHEMA, schema, d, err);
			if (rc == MIG_OK)
				rc = origins_part(&origins, &norigins, e->origins, e->norigins,
						  FLEET_SCHEMA, schema, err);
			if (rc == MIG_OK)
				rc = schema_part(&actual, &d->live, schema, schema, d, err);
		} else {
			/* views of the shared entry: never freed before the run ends */
			expected = e->snap;
			origins = e->origins;
			norigins = e->norigins;
		}
		pthread_mutex_unlock(&d->mu);
	}
	if (rc == MIG_OK && !schema &&
	    (rc = mig_pg_reader_open(&live_r, sql->dsn, "live", err)) == MIG_OK)
		rc = mig_pg_snapshot_read(&actual, live_r, err);
	if (rc == MIG_OK)
		rc = mig_snapshot_diff(&r->drift, &expected, &actual, true, err);
	if (rc == MIG_OK)
		rc = live_r ? attribute(&r->drift, origins, norigins, live_r, err)
			    : mig_diff_attribute(&r->drift, origins, norigins, err);
	if (rc == MIG_OK && d->ctx->args.module)
		mig_diff_keep_module(&r->drift, d->ctx->args.module);
	r->problems = r->drift.n;
	r->behind = r->drift.n > 0;
	mig_pg_reader_close(live_r);
	if (schema) { /* the copies of a schema target; else views of the entry */
		mig_snapshot_clear(&expected);
		mig_object_origins_free(origins, norigins);
	}
	mig_snapshot_clear(&actual);
	mig_run_clear(&run);
	return rc;
}

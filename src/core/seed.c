/* Seed data (seed.h): finding, reading and checking the seed files, then loading them
 * through the SQL driver (a step with seed set) and the MongoDB module's seed calls.
 * Every file is read, rendered and checked before either database is touched. */
#include "core/seed.h"

#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/directive.h"
#include "core/engine.h"
#include "core/plan.h"
#include "util/fs.h"

int mig_seed_environment_allowed(const mig_config *cfg, mig_error *err)
{
	const char *env = cfg->environment;
	if (!env || !*env)
		return mig_error_set(err, MIG_EUSAGE,
				     "seed --data needs a named environment (environment: in the config, or --env): seed data never loads unnamed; nothing changed");
	if (!strcmp(env, "production"))
		return mig_error_set(err, MIG_EUSAGE,
				     "seed --data refused in environment 'production': seed data is for development and test databases; nothing changed");
	return MIG_OK;
}

/* ---- finding the files ---- */

typedef struct walk_ctx {
	mig_seeds *s;
	size_t cap;
	const char *only;
	bool json;
	bool seen_only; /* only_module was among the modules that run */
} walk_ctx;

static int compare_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* <dir>/seed/: each <name>.sql (or .json), sorted by name, appended to the set. */
static int visit(void *vctx, const char *module, const char *dir, size_t index, size_t count,
		 mig_error *err)
{
	(void)index;
	(void)count;
	walk_ctx *w = vctx;
	if (w->only && strcmp(w->only, module))
		return MIG_OK;
	w->seen_only = true;
	const char *ext = w->json ? ".json" : ".sql";
	size_t elen = strlen(ext);
	char *seed_dir = mig_path_join(dir, "seed");
	if (!seed_dir)
		return mig_error_set(err, MIG_EFAIL, "out of memory");
	DIR *d = opendir(seed_dir);
	if (!d) {
		int rc = errno == ENOENT || errno == ENOTDIR
				 ? MIG_OK
				 : mig_error_set(err, MIG_EUSAGE, "cannot read '%s': %s", seed_dir,
						 strerror(errno));
		free(seed_dir);
		return rc;
	}
	char **names = NULL;
	size_t n = 0, cap = 0;
	int rc = MIG_OK;
	struct dirent *de;
	while (rc == MIG_OK && (de = readdir(d)) != NULL) {
		size_t len = strlen(de->d_name);
		if (de->d_name[0] == '.' || len <= elen || strcmp(de->d_name + len - elen, ext))
			continue;
		if (n == cap) {
			cap = cap ? cap * 2 : 16;
			char **grown = realloc(names, cap * sizeof *grown);
			if (!grown) {
				rc = mig_error_set(err, MIG_EFAIL, "out of memory");
				break;
			}
			names = grown;
		}
		if (!(names[n] = strdup(de->d_name)))
			rc = mig_error_set(err, MIG_EFAIL, "out of memory");
		else
			n++;
	}
	closedir(d);
	if (n)
		qsort(names, n, sizeof *names, compare_names);
	mig_seeds *s = w->s;
	for (size_t i = 0; i < n; i++) {
		if (rc == MIG_OK && s->n == w->cap) {
			size_t grown_cap = w->cap ? w->cap * 2 : 16;
			mig_seed_file *grown = realloc(s->files, grown_cap * sizeof *grown);
			if (!grown)
				rc = mig_error_set(err, MIG_EFAIL, "out of memory");
			else {
				s->files = grown;
				w->cap = grown_cap;
			}
		}
		if (rc == MIG_OK) {
			mig_seed_file *f = &s->files[s->n];
			memset(f, 0, sizeof *f);
			f->json = w->json;
			f->module = strdup(module);
			f->name = strndup(names[i], strlen(names[i]) - elen);
			f->path = mig_path_join(seed_dir, names[i]);
			s->n++;
			if (!f->module || !f->name || !f->path)
				rc = mig_error_set(err, MIG_EFAIL, "out of memory");
			else if (!mig_migration_name_valid(f->name))
				rc = mig_error_set(err, MIG_EUSAGE,
						   "bad seed file name '%s': use [A-Za-z0-9_-]+%s",
						   f->path, ext);
		}
		free(names[i]);
	}
	free(names);
	free(seed_dir);
	return rc;
}

/* Within a module SQL seeds come first; modules keep the walk's order. */
static void order_by_module(mig_seeds *s, const char *const *modules, size_t nmodules)
{
	mig_seed_file *sorted = malloc((s->n ? s->n : 1) * sizeof *sorted);
	if (!sorted)
		return; /* the walks' order stands: SQL of every module, then JSON */
	size_t k = 0;
	for (size_t m = 0; m < nmodules; m++)
		for (int json = 0; json < 2; json++)
			for (size_t i = 0; i < s->n; i++)
				if (s->files[i].json == json && !strcmp(s->files[i].module, modules[m]))
					sorted[k++] = s->files[i];
	if (k == s->n)
		memcpy(s->files, sorted, k * sizeof *sorted);
	free(sorted);
}

/* ---- reading them ---- */

static int read_sql(mig_seed_file *f, const mig_config *cfg, mig_error *err)
{
	char *text = NULL, *rendered = NULL;
	size_t len = 0, rendered_len = 0;
	int rc = mig_read_file(&text, &len, f->path, MIG_SQL_MAX_BYTES, "seed file", err);
	if (rc < 0)
		return rc;
	mig_directives d;
	mig_directives_scan(&d, text, len);
	if (!d.env_line) {
		free(text);
		return mig_error_set(err, MIG_EUSAGE,
				     "seed file %s/%s has no '-- migrate:env' line: every seed file names the environments it loads in (%s:1)",
				     f->module, f->name, f->path);
	}
	int match = mig_directives_env_match(&d, cfg->environment, f->path, err);
	if (match < 0) {
		free(text);
		return match;
	}
	if (mig_sha256_hex(f->sum, text, len) < 0)
		rc = mig_error_set(err, MIG_EFAIL, "cannot compute the checksum of '%s'", f->path);
	if (rc == MIG_OK && match)
		rc = mig_engine_render(&rendered, &rendered_len, f->path, text, len, cfg, err);
	if (rc == MIG_OK && rendered && mig_sha256_hex(f->rsum, rendered, rendered_len) < 0)
		rc = mig_error_set(err, MIG_EFAIL, "cannot compute the checksum of '%s'", f->path);
	f->state = match ? MIG_SEED_NEW : MIG_SEED_OTHER_ENV;
	if (rc == MIG_OK && rendered) {
		free(text);
		f->sql = rendered;
		f->len = rendered_len;
	} else {
		free(rendered);
		f->sql = text;
		f->len = len;
	}
	return rc;
}

static int read_json(mig_seed_file *f, const mig_config *cfg, const mig_doc_driver *drv,
		     mig_error *err)
{
	char *text = NULL;
	size_t len = 0;
	int rc = mig_read_file(&text, &len, f->path, MIG_SQL_MAX_BYTES, "seed file", err);
	if (rc < 0)
		return rc;
	if (mig_sha256_hex(f->sum, text, len) < 0)
		rc = mig_error_set(err, MIG_EFAIL, "cannot compute the checksum of '%s'", f->path);
	free(text);
	if (rc == MIG_OK)
		rc = drv->seed_load(&f->doc, f->path, err);
	if (rc < 0)
		return rc;
	const char *env = drv->seed_env(f->doc);
	if (!env)
		return mig_error_set(err, MIG_EUSAGE,
				     "seed file %s/%s has no \"env\": every seed file names the environments it loads in (%s:1)",
				     f->module, f->name, f->path);
	mig_directives d = {.env_line = 1};
	if (strlen(env) >= sizeof d.env)
		d.env_too_long = true;
	else
		strcpy(d.env, env);
	int match = mig_directives_env_match(&d, cfg->environment, f->path, err);
	if (match < 0)
		return match;
	f->state = match ? MIG_SEED_NEW : MIG_SEED_OTHER_ENV;
	return MIG_OK;
}

int mig_seeds_load(mig_seeds *out, const mig_config *cfg, const char *root,
		   const char *only_module, const mig_doc_backend *backend, mig_error *err)
{
	memset(out, 0, sizeof *out);
	walk_ctx w = {.s = out, .only = only_module};
	int rc = MIG_OK;
	const char **modules = NULL;
	size_t nmodules = 0;
	if (cfg->has_postgres || !cfg->has_mongodb)
		rc = mig_tree_walk(cfg, root, "postgres", visit, &w, err);
	if (rc == MIG_OK && cfg->has_mongodb) {
		w.json = true;
		rc = mig_tree_walk(cfg, root, "mongodb", visit, &w, err);
	}
	if (rc == MIG_OK && only_module && !w.seen_only)
		rc = mig_error_set(err, MIG_EUSAGE, "module '%s' is not enabled in the config",
				   only_module);
	if (rc == MIG_OK && (rc = mig_module_order(&modules, &nmodules, cfg, err)) == MIG_OK)
		order_by_module(out, modules, nmodules);
	free(modules);
	bool any_json = false;
	for (size_t i = 0; rc == MIG_OK && i < out->n; i++)
		any_json |= out->files[i].json;
	if (rc == MIG_OK && any_json && backend)
		out->drv = backend->drv;
	else if (rc == MIG_OK && any_json &&
		 (rc = mig_registry_doc_open(&out->backend, "mongodb", err)) == MIG_OK)
		out->drv = out->backend->drv;
	for (size_t i = 0; rc == MIG_OK && i < out->n; i++)
		rc = out->files[i].json ? read_json(&out->files[i], cfg, out->drv, err)
					: read_sql(&out->files[i], cfg, err);
	return rc;
}

/* ---- the databases ---- */

static void set_states(mig_seeds *s, bool json, const mig_repeatable_ledger *rows)
{
	for (size_t i = 0; i < s->n; i++) {
		mig_seed_file *f = &s->files[i];
		if (f->json != json || f->state == MIG_SEED_OTHER_ENV)
			continue;
		const mig_repeatable_row *row = mig_repeatable_ledger_find(rows, f->module, f->name);
		if (!row || !row->checksum[0])
			f->state = MIG_SEED_NEW;
		else if (strcmp(row->checksum, f->sum) || strcmp(row->rendered, f->rsum))
			f->state = MIG_SEED_CHANGED;
		else
			f->state = MIG_SEED_CURRENT;
	}
}

void mig_seeds_reload_all(mig_seeds *s)
{
	for (size_t i = 0; i < s->n; i++)
		if (s->files[i].state != MIG_SEED_OTHER_ENV)
			s->files[i].state = MIG_SEED_NEW;
}

bool mig_seeds_any(const mig_seeds *s)
{
	for (size_t i = 0; i < s->n; i++)
		if (s->files[i].state != MIG_SEED_OTHER_ENV)
			return true;
	return false;
}

void mig_seeds_release(mig_seeds *s)
{
	if (s->pg_borrowed) {
		memset(&s->pg, 0, sizeof s->pg);
		s->pg_open = s->pg_borrowed = false;
	}
}

int mig_seeds_describe_sql(const mig_seeds *s, char **text, size_t *len, size_t *cap)
{
	for (size_t i = 0; i < s->n; i++) {
		const mig_seed_file *f = &s->files[i];
		if (f->json || f->state == MIG_SEED_OTHER_ENV)
			continue;
		char line[1024];
		int k = snprintf(line, sizeof line, "seed %s %s %s %s\n", f->module, f->name, f->sum,
				 f->rsum);
		if (k < 0 || (size_t)k >= sizeof line)
			return -1;
		if (*len + (size_t)k + 1 > *cap) {
			size_t grown_cap = (*cap + (size_t)k + 1) * 2;
			char *grown = realloc(*text, grown_cap);
			if (!grown)
				return -1;
			*text = grown;
			*cap = grown_cap;
		}
		memcpy(*text + *len, line, (size_t)k + 1);
		*len += (size_t)k;
	}
	return 0;
}

int mig_seeds_open(mig_seeds *s, const mig_config *cfg, const mig_registry *reg,
		   mig_session *pg, const char *mongo_database, unsigned which, mig_error *err)
{
	bool sql = false, json = false;
	for (size_t i = 0; i < s->n; i++) {
		mig_seed_file *f = &s->files[i];
		f->off = !(which & (f->json ? MIG_SEEDS_JSON : MIG_SEEDS_SQL));
		if (f->state == MIG_SEED_OTHER_ENV || f->off)
			continue;
		sql |= !s->files[i].json;
		json |= s->files[i].json;
	}
	int rc = MIG_OK;
	mig_repeatable_ledger rows = {0};
	for (size_t i = 0; i < s->n; i++) {
		const mig_seed_file *f = &s->files[i];
		if (f->state != MIG_SEED_OTHER_ENV && !f->off &&
		    (f->json ? !cfg->has_mongodb : !cfg->has_postgres))
			return mig_error_set(err, MIG_EUSAGE,
					     "seed file %s/%s needs a '%s:' section in the config (%s)",
					     f->module, f->name, f->json ? "mongodb" : "postgres",
					     f->path);
	}
	if (sql) {
		if (pg) {
			s->pg = *pg;
			s->pg_borrowed = true;
		} else if (!s->pg_open &&
			   (rc = mig_session_open(&s->pg, reg, &cfg->pg, MIG_SESSION_LOCK, err)) < 0) {
			return rc;
		}
		s->pg_open = true;
		if (!s->pg.drv->seeds_read || !s->pg.drv->seed_reset)
			return mig_error_set(err, MIG_EUSAGE,
					     "the '%s' backend has no seed data", s->pg.drv->name);
		if ((rc = mig_session_prepare(&s->pg, err)) < 0 ||
		    (rc = s->pg.drv->seeds_read(s->pg.conn, &rows, err)) < 0)
			return rc;
		set_states(s, false, &rows);
		mig_repeatable_ledger_clear(&rows);
	}
	if (json) {
		if ((rc = s->drv->connect(&s->mongo, cfg->mongo_uri,
					  mongo_database ? mongo_database : cfg->mongo_database, err)) < 0)
			return rc;
		s->drv->configure(s->mongo, &cfg->mongo_run);
		if ((rc = s->drv->lock(s->mongo, err)) < 0 ||
		    (rc = s->drv->seeds_read(s->mongo, &rows, err)) < 0)
			return rc;
		set_states(s, true, &rows);
		mig_repeatable_ledger_clear(&rows);
	}
	return MIG_OK;
}

/* The (module, name) pairs of the files of one backend that load here. */
static int file_lists(const mig_seeds *s, bool json, const char ***modules,
		      const char ***names, size_t *n, mig_error *err)
{
	*modules = malloc((s->n ? s->n : 1) * sizeof **modules);
	*names = malloc((s->n ? s->n : 1) * sizeof **names);
	*n = 0;
	if (!*modules || !*names)
		return mig_error_set(err, MIG_EFAIL, "out of memory");
	for (size_t i = 0; i < s->n; i++) {
		const mig_seed_file *f = &s->files[i];
		if (f->json != json || f->state == MIG_SEED_OTHER_ENV || f->off)
			continue;
		(*modules)[*n] = f->module;
		(*names)[(*n)++] = f->name;
	}
	return MIG_OK;
}

int mig_seeds_reset(mig_seeds *s, const char *const *tables, size_t ntables, FILE *out,
		    bool quiet, mig_error *err)
{
	const char **modules = NULL, **names = NULL, **colls = NULL;
	size_t n = 0, ncolls = 0;
	int rc = MIG_OK;
	if (s->pg_open) {
		rc = file_lists(s, false, &modules, &names, &n, err);
		if (rc == MIG_OK)
			rc = s->pg.drv->seed_reset(s->pg.conn, tables, ntables, modules, names, n,
						   err);
		if (rc == MIG_OK && !quiet)
			fprintf(out, "emptied %zu table%s the seed files write\n", ntables,
				ntables == 1 ? "" : "s");
		free(modules);
		free(names);
		modules = names = NULL;
	}
	if (rc == MIG_OK && s->mongo) {
		rc = file_lists(s, true, &modules, &names, &n, err);
		colls = malloc((n ? n : 1) * sizeof *colls);
		if (rc == MIG_OK && !colls)
			rc = mig_error_set(err, MIG_EFAIL, "out of memory");
		for (size_t i = 0; rc == MIG_OK && i < s->n; i++) {
			const mig_seed_file *f = &s->files[i];
			if (!f->json || f->state == MIG_SEED_OTHER_ENV || f->off)
				continue;
			const char *c = s->drv->seed_collection(f->doc);
			bool dup = false;
			for (size_t j = 0; j < ncolls; j++)
				dup |= !strcmp(colls[j], c);
			if (!dup)
				colls[ncolls++] = c;
		}
		if (rc == MIG_OK)
			rc = s->drv->seed_reset(s->mongo, colls, ncolls, modules, names, n, err);
		if (rc == MIG_OK && !quiet)
			fprintf(out, "emptied %zu collection%s the seed files write\n", ncolls,
				ncolls == 1 ? "" : "s");
	}
	free(modules);
	free(names);
	free(colls);
	if (rc == MIG_OK)
		mig_seeds_reload_all(s);
	return rc;
}

static int apply_sql(mig_seeds *s, const mig_seed_file *f, mig_error *err)
{
	mig_step step = {
		.module = f->module,
		.name = f->name,
		.path = f->path,
		.sql = f->sql,
		.sql_len = f->len,
		.up = true,
		.in_transaction = true,
		.checksum = f->sum,
		.rendered_checksum = f->rsum,
		.last = true,
		.seed = true,
	};
	return s->pg.drv->apply(s->pg.conn, &step, err);
}

int mig_seeds_apply(mig_seeds *s, FILE *out, bool quiet, mig_error *err)
{
	size_t loaded = 0, current = 0, other = 0;
	for (size_t i = 0; i < s->n; i++) {
		const mig_seed_file *f = &s->files[i];
		if (f->off)
			continue;
		if (f->state == MIG_SEED_OTHER_ENV || f->state == MIG_SEED_CURRENT) {
			other += f->state == MIG_SEED_OTHER_ENV;
			current += f->state == MIG_SEED_CURRENT;
			if (!quiet)
				fprintf(out, "%s seed %s/%s%s\n",
					f->state == MIG_SEED_CURRENT ? "unchanged" : "skipped",
					f->module, f->name,
					f->state == MIG_SEED_CURRENT ? "" : " (environment)");
			continue;
		}
		struct timespec t0;
		clock_gettime(CLOCK_MONOTONIC, &t0);
		long long upserted = 0, matched = 0;
		int rc = f->json ? s->drv->seed_apply(s->mongo, f->doc, f->module, f->name, f->sum,
						      &upserted, &matched, err)
				 : apply_sql(s, f, err);
		if (rc < 0)
			return rc;
		loaded++;
		if (quiet)
			continue;
		if (f->json)
			fprintf(out, "loaded seed %s/%s (%s: %lld upserted, %lld replaced, %lld ms)\n",
				f->module, f->name, s->drv->seed_collection(f->doc), upserted,
				matched, mig_elapsed_ms(&t0));
		else
			fprintf(out, "loaded seed %s/%s%s (%lld ms)\n", f->module, f->name,
				f->state == MIG_SEED_CHANGED ? " again: the file changed" : "",
				mig_elapsed_ms(&t0));
	}
	if (!quiet)
		fprintf(out, "seed --data: %zu loaded, %zu unchanged, %zu for other environments\n",
			loaded, current, other);
	return MIG_OK;
}

void mig_seeds_clear(mig_seeds *s)
{
	if (s->mongo) {
		s->drv->unlock(s->mongo);
		s->drv->disconnect(s->mongo);
	}
	if (s->pg_open && !s->pg_borrowed)
		mig_session_close(&s->pg);
	for (size_t i = 0; i < s->n; i++) {
		mig_seed_file *f = &s->files[i];
		free(f->module);
		free(f->name);
		free(f->path);
		free(f->sql);
		if (f->doc)
			s->drv->seed_free(f->doc);
	}
	free(s->files);
	mig_doc_backend_close(s->backend);
	memset(s, 0, sizeof *s);
}

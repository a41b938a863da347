/* Versioned MongoDB migrations: plan, ledger read and run through the module's table
 * (see mongo_versions.h). */
#include "core/mongo_versions.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "util/fs.h"

int mig_mongo_versions_plan(mig_mongo_versions *v, const mig_config *cfg, const char *root,
			    mig_error *err)
{
	memset(v, 0, sizeof *v);
	if (!cfg->has_mongodb)
		return MIG_OK;
	int rc = mig_plan_build_mongo(&v->plan, cfg, root, err);
	if (rc < 0)
		return rc;
	for (size_t i = 0; i < v->plan->nmodules; i++)
		if (v->plan->modules[i].nmigrations)
			v->has_files = true;
	return MIG_OK;
}

void mig_mongo_versions_lend(mig_mongo_versions *v, const mig_plan *plan)
{
	memset(v, 0, sizeof *v);
	v->plan = (mig_plan *)plan; /* read only: close does not free a lent plan */
	v->plan_lent = true;
	for (size_t i = 0; plan && i < plan->nmodules; i++)
		if (plan->modules[i].nmigrations)
			v->has_files = true;
}

bool mig_mongo_versions_active(const mig_mongo_versions *v)
{
	return v->plan && v->has_files;
}

int mig_mongo_versions_open(mig_mongo_versions *v, const mig_config *cfg, const char *database,
			    const mig_doc_backend *backend, bool lock, mig_error *err)
{
	int rc = MIG_OK;
	if (!backend && (rc = mig_registry_doc_open(&v->own, "mongodb", err)) < 0)
		return rc;
	const mig_doc_driver *drv = v->drv = backend ? backend->drv : v->own->drv;
	rc = drv->connect(&v->conn, cfg->mongo_uri, database ? database : cfg->mongo_database, err);
	if (rc < 0)
		return rc;
	drv->configure(v->conn, &cfg->mongo_run);
	if (lock) {
		if ((rc = drv->lock(v->conn, err)) < 0)
			return rc;
		v->locked = true;
	}
	return drv->ledger_read(v->conn, &v->ledger, err);
}

/* Reads, hashes and parses the file of every run item; refuses a transaction file on a
 * server that has no transactions. With MIG_PHASE_EXPAND (an up run), a module's first
 * contract file and every later one of that module leave the run unread. */
static int load_files(mig_mongo_versions *v, mig_phase phase, mig_error *err)
{
	const mig_doc_driver *drv = v->drv;
	size_t n = v->run.nitems;
	v->files = calloc(n ? n : 1, sizeof *v->files);
	v->checksums = calloc(n ? n : 1, sizeof *v->checksums);
	v->results = calloc(n ? n : 1, sizeof *v->results);
	if (!v->files || !v->checksums || !v->results)
		return mig_error_set(err, MIG_EFAIL, "out of memory");
	int rc = mig_engine_preflight(&v->run, err);
	const char *needs_txn = NULL;
	const mig_module_plan *stopped = NULL; /* the module whose contract phase began */
	size_t kept = 0;
	for (size_t i = 0; rc == MIG_OK && i < n; i++) {
		const mig_run_item *it = &v->run.items[i];
		if (it->module == stopped)
			continue;
		const mig_migration *m = it->migration;
		const char *path = v->run.up ? m->up_path : m->down_path;
		char *text = NULL;
		size_t len = 0;
		rc = mig_read_file(&text, &len, path, MIG_SQL_MAX_BYTES, "migration file", err);
		if (rc == MIG_OK && v->run.up && mig_sha256_hex(v->checksums[kept], text, len) < 0)
			rc = mig_error_set(err, MIG_EFAIL, "cannot compute the checksum of '%s'", path);
		free(text);
		if (rc == MIG_OK)
			rc = drv->file_load(&v->files[kept], path, err);
		if (rc == MIG_OK && v->run.up && phase == MIG_PHASE_EXPAND &&
		    drv->file_contract(v->files[kept])) {
			drv->file_free(v->files[kept]);
			v->files[kept] = NULL;
			stopped = it->module;
			continue;
		}
		if (rc == MIG_OK) {
			v->commands += drv->file_commands(v->files[kept]);
			if (!needs_txn && drv->file_transaction(v->files[kept]))
				needs_txn = path;
			v->run.items[kept++] = *it;
		}
	}
	if (rc == MIG_OK)
		v->run.nitems = kept; /* else close frees every file parsed, among n */
	if (rc == MIG_OK && needs_txn) {
		bool ok = false;
		rc = drv->transactions_supported(v->conn, &ok, err);
		if (rc == MIG_OK && !ok)
			rc = mig_error_set(err, MIG_EUSAGE,
					   "this file asks for a transaction, and MongoDB runs them only "
					   "on a replica set or a sharded cluster; this server is "
					   "standalone: nothing was run (%s)",
					   needs_txn);
	}
	return rc;
}

int mig_mongo_versions_prepare_up(mig_mongo_versions *v, const char *only_module,
				  bool allow_out_of_order, const mig_up_limit *limit,
				  mig_error *err)
{
	int rc = mig_engine_plan_up(&v->run, v->plan, &v->ledger, only_module, allow_out_of_order,
				    err);
	if (rc < 0)
		return rc;
	if (limit && limit->has_to)
		mig_engine_stop_at(&v->run, limit->to);
	return load_files(v, limit ? limit->phase : MIG_PHASE_ALL, err);
}

int mig_mongo_versions_prepare_down(mig_mongo_versions *v, const char *module,
				    unsigned long steps, mig_error *err)
{
	int rc = mig_engine_plan_down(&v->run, v->plan, &v->ledger, module, steps, err);
	return rc < 0 ? rc : load_files(v, MIG_PHASE_ALL, err);
}

int mig_mongo_versions_mark_status(const mig_mongo_versions *v, mig_module_status *rows,
				   size_t n, mig_error *err)
{
	for (size_t i = 0; i < n; i++) {
		mig_module_status *st = &rows[i];
		st->contract_pending = false;
		const mig_module_plan *mod = st->enabled ? mig_plan_module(v->plan, st->module)
							 : NULL;
		if (!mod || !st->pending)
			continue;
		/* the next version to run decides, as for SQL */
		for (size_t j = 0; j < mod->nmigrations; j++) {
			const mig_migration *m = &mod->migrations[j];
			if (mig_ledger_find(&v->ledger, mod->name, m->version))
				continue;
			mig_doc_file *file = NULL;
			int rc = v->drv->file_load(&file, m->up_path, err);
			if (rc < 0)
				return rc;
			st->contract_pending = v->drv->file_contract(file);
			v->drv->file_free(file);
			break;
		}
	}
	return MIG_OK;
}

/* Whether module has version `version` in plan. */
static bool plan_has(const mig_plan *plan, const char *module, long long version)
{
	const mig_module_plan *mod = plan ? mig_plan_module(plan, module) : NULL;
	for (size_t j = 0; mod && j < mod->nmigrations; j++)
		if (mod->migrations[j].version == version)
			return true;
	return false;
}

int mig_mongo_versions_check_to(const mig_plan *sql, const mig_mongo_versions *v,
				const char *module, long long to, bool zero_ok, mig_error *err)
{
	if (!mig_plan_module(sql, module))
		return mig_error_set(err, MIG_EUSAGE, "module '%s' is not enabled in the config",
				     module);
	if ((zero_ok && to == 0) || plan_has(sql, module, to) || plan_has(v->plan, module, to))
		return MIG_OK;
	const mig_module_plan *mod = v->plan ? mig_plan_module(v->plan, module) : NULL;
	if (!mod || !mod->nmigrations)
		return mig_engine_check_to(sql, module, to, err); /* its message, SQL only */
	const mig_module_plan *smod = mig_plan_module(sql, module);
	return mig_error_set(err, MIG_EUSAGE,
			     "--to %lld: module '%s' has no version %lld, neither in %s nor in %s%s",
			     to, module, to, smod->dir, mod->dir,
			     zero_ok ? " (--to 0 rolls back every version)" : "");
}

/* The applied versions of module in ledger above `above`, highest first, at most max
 * (caller frees). */
static size_t applied_desc(long long **out, const mig_ledger *ledger, const char *module,
			   unsigned long max, long long above)
{
	*out = calloc(max ? max : 1, sizeof **out);
	size_t n = 0;
	for (size_t i = ledger->nrows; *out && i-- > 0 && n < max;)
		if (!strcmp(ledger->rows[i].module, module) && ledger->rows[i].version > above)
			(*out)[n++] = ledger->rows[i].version;
	return n;
}

static unsigned long count_above(const mig_ledger *ledger, const char *module, long long above)
{
	unsigned long n = 0;
	for (size_t i = 0; i < ledger->nrows; i++)
		n += !strcmp(ledger->rows[i].module, module) && ledger->rows[i].version > above;
	return n;
}

int mig_down_split(unsigned long *pg, unsigned long *mongo, const mig_ledger *pl,
		   const mig_ledger *ml, const char *module, const mig_down_limit *limit,
		   mig_error *err)
{
	*pg = *mongo = 0;
	if (limit->has_to) {
		*pg = count_above(pl, module, limit->to);
		*mongo = ml ? count_above(ml, module, limit->to) : 0;
		return MIG_OK;
	}
	if (!ml) {
		*pg = limit->steps;
		return MIG_OK;
	}
	unsigned long steps = limit->steps;
	long long *p = NULL, *m = NULL;
	size_t np = applied_desc(&p, pl, module, steps, LLONG_MIN);
	size_t nm = applied_desc(&m, ml, module, steps, LLONG_MIN);
	if (!p || !m) {
		free(p);
		free(m);
		return mig_error_set(err, MIG_EFAIL, "out of memory");
	}
	/* the newest first by version; on a tie MongoDB's, as up ran it after the SQL one */
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

int mig_down_apply(mig_session *s, const mig_run *run, mig_mongo_versions *mv,
		   const mig_observer *obs, const mig_observer *mobs, FILE *counts_out,
		   mig_error *err)
{
	size_t i = 0, j = 0;
	int rc = MIG_OK;
	const mig_run *mrun = &mv->run;
	if (!mrun->nitems)
		return mig_engine_apply(s, run, obs, err);
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
			mig_mongo_versions sv = *mv; /* the same connection, over the slice */
			sv.run = (mig_run){.up = false, .items = mrun->items + j, .nitems = k};
			sv.files = mv->files + j;
			sv.results = mv->results + j;
			rc = mig_mongo_versions_apply(&sv, &o, counts_out, err);
			j += k;
		} else {
			while (i + k < run->nitems &&
			       (j >= mrun->nitems || run->items[i + k].migration->version >
							     mrun->items[j].migration->version))
				k++;
			mig_slice_observer so;
			mig_observer o = mig_observer_for_slice(&so, obs, run, i);
			mig_run slice = {.up = false, .items = run->items + i, .nitems = k,
					 .vars = run->vars};
			rc = mig_engine_apply(s, &slice, &o, err);
			i += k;
		}
	}
	return rc;
}

int mig_mongo_versions_apply_module(mig_mongo_versions *v, size_t *at, const char *module,
				    const mig_observer *obs, FILE *counts_out, mig_error *err)
{
	size_t j = *at, n = mig_run_module_items(&v->run, j, module);
	if (!n)
		return MIG_OK;
	mig_slice_observer so;
	mig_observer o = mig_observer_for_slice(&so, obs, &v->run, j);
	mig_mongo_versions sv = *v; /* the same connection and lease, over the slice */
	sv.run = (mig_run){.up = true, .items = v->run.items + j, .nitems = n};
	sv.files = v->files + j;
	sv.results = v->results + j;
	sv.checksums = v->checksums + j;
	*at = j + n;
	return mig_mongo_versions_apply(&sv, &o, counts_out, err);
}

static void print_counts(FILE *out, const mig_run *run, size_t i, const mig_doc_result *res)
{
	const mig_module_plan *mod = run->items[i].module;
	const mig_migration *m = run->items[i].migration;
	fprintf(out, "  mongodb %s/%0*lld_%s:", mod->name, (int)m->width, m->version, m->name);
	for (size_t k = 0; k < res->ncounts; k++) {
		const mig_doc_count *c = &res->counts[k];
		fprintf(out, "%s %s", k ? ";" : "", c->name);
		if (c->n >= 0)
			fprintf(out, " n=%lld", c->n);
		if (c->modified >= 0)
			fprintf(out, " modified=%lld", c->modified);
		if (c->upserted > 0)
			fprintf(out, " upserted=%lld", c->upserted);
	}
	fputc('\n', out);
}

int mig_mongo_versions_apply(mig_mongo_versions *v, const mig_observer *obs, FILE *counts_out,
			     mig_error *err)
{
	const mig_doc_driver *drv = v->drv;
	int rc = MIG_OK;
	for (size_t i = 0; rc == MIG_OK && i < v->run.nitems; i++) {
		const mig_module_plan *mod = v->run.items[i].module;
		const mig_migration *m = v->run.items[i].migration;
		mig_doc_step step = {
			.module = mod->name,
			.version = m->version,
			.name = m->name,
			.path = v->run.up ? m->up_path : m->down_path,
			.file = v->files[i],
			.up = v->run.up,
			.checksum = v->run.up ? v->checksums[i] : NULL,
		};
		if (obs && obs->step_begin)
			obs->step_begin(obs->ctx, &v->run, i, "", 0);
		mig_doc_result *res = &v->results[i];
		rc = drv->apply(v->conn, &step, res, err);
		if (rc == MIG_OK && i + 1 == v->run.nitems)
			rc = drv->finish(v->conn, err); /* the last deferred ledger write */
		if (obs && obs->step_end)
			obs->step_end(obs->ctx, &v->run, i, res->ms, rc < 0 ? err : NULL);
		if (rc == MIG_OK && counts_out)
			print_counts(counts_out, &v->run, i, res);
	}
	return rc;
}

int mig_mongo_versions_record(mig_mongo_versions *v, const char *module, long long version,
			      const char *name, const char *checksum, bool applied,
			      mig_error *err)
{
	return v->drv->record(v->conn, module, version, name, checksum, applied, err);
}

void mig_mongo_versions_close(mig_mongo_versions *v)
{
	if (v->files)
		for (size_t i = 0; i < v->run.nitems; i++)
			if (v->files[i])
				v->drv->file_free(v->files[i]);
	free(v->files);
	free(v->checksums);
	if (v->results)
		for (size_t i = 0; i < v->run.nitems; i++)
			free(v->results[i].counts);
	free(v->results);
	mig_run_clear(&v->run);
	mig_ledger_clear(&v->ledger);
	if (v->conn) {
		if (v->locked)
			v->drv->unlock(v->conn);
		v->drv->disconnect(v->conn);
	}
	mig_doc_backend_close(v->own);
	if (!v->plan_lent)
		mig_plan_free(v->plan);
	memset(v, 0, sizeof *v);
}

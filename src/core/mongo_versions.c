/* Versioned MongoDB migrations: plan, ledger read and run through the module's table
 * (see mongo_versions.h). */
#include "core/mongo_versions.h"

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
 * server that has no transactions. */
static int load_files(mig_mongo_versions *v, mig_error *err)
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
	for (size_t i = 0; rc == MIG_OK && i < n; i++) {
		const mig_migration *m = v->run.items[i].migration;
		const char *path = v->run.up ? m->up_path : m->down_path;
		char *text = NULL;
		size_t len = 0;
		rc = mig_read_file(&text, &len, path, MIG_SQL_MAX_BYTES, "migration file", err);
		if (rc == MIG_OK && v->run.up && mig_sha256_hex(v->checksums[i], text, len) < 0)
			rc = mig_error_set(err, MIG_EFAIL, "cannot compute the checksum of '%s'", path);
		free(text);
		if (rc == MIG_OK)
			rc = drv->file_load(&v->files[i], path, err);
		if (rc == MIG_OK) {
			v->commands += drv->file_commands(v->files[i]);
			if (!needs_txn && drv->file_transaction(v->files[i]))
				needs_txn = path;
		}
	}
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
				  bool allow_out_of_order, mig_error *err)
{
	int rc = mig_engine_plan_up(&v->run, v->plan, &v->ledger, only_module, allow_out_of_order,
				    err);
	return rc < 0 ? rc : load_files(v, err);
}

int mig_mongo_versions_prepare_down(mig_mongo_versions *v, const char *module,
				    unsigned long steps, mig_error *err)
{
	int rc = mig_engine_plan_down(&v->run, v->plan, &v->ledger, module, steps, err);
	return rc < 0 ? rc : load_files(v, err);
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

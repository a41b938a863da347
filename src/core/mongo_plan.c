/* Loads every running module's indexes.json before anything connects, and collects what
 * the MongoDB driver reports into a list the commands can print as text or JSON. */
#include "core/mongo_plan.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "util/fs.h"
#include "core/plan.h"

/* One module of the MongoDB plan: its indexes.json when it has one, read by the backend
 * module (loaded on the first module, so a bad tree is named before a missing module). */
static int plan_module(void *ctx, const char *module, const char *dir, size_t index,
		       size_t count, mig_error *err)
{
	mig_mongo_plan *plan = ctx;
	int rc = MIG_OK;
	if (index == 0 && (!(plan->specs = calloc(count, sizeof *plan->specs)) ||
			   !(plan->spec_modules = calloc(count, sizeof *plan->spec_modules)) ||
			   (rc = mig_registry_doc_open(&plan->backend, "mongodb", err)) < 0))
		return rc < 0 ? rc : mig_error_set(err, MIG_EFAIL, "out of memory");
	char *path = mig_path_join(dir, "indexes.json");
	if (!path)
		return mig_error_set(err, MIG_EFAIL, "out of memory");
	if (access(path, F_OK) == 0 || errno != ENOENT) {
		if (!(plan->spec_modules[plan->nspecs] = strdup(module)))
			rc = mig_error_set(err, MIG_EFAIL, "out of memory");
		else
			rc = plan->backend->drv->spec_load(&plan->specs[plan->nspecs++], path, module,
							   err);
	}
	free(path);
	return rc;
}

int mig_mongo_plan_build(mig_mongo_plan **out, const mig_config *cfg, const char *root,
			 mig_error *err)
{
	*out = NULL;
	mig_mongo_plan *plan = calloc(1, sizeof *plan);
	if (!plan)
		return mig_error_set(err, MIG_EFAIL, "out of memory");
	int rc = mig_tree_walk(cfg, root, "mongodb", plan_module, plan, err);
	if (rc < 0) {
		mig_mongo_plan_free(plan);
		return rc;
	}
	*out = plan;
	return MIG_OK;
}

void mig_mongo_plan_free(mig_mongo_plan *plan)
{
	if (!plan)
		return;
	for (size_t i = 0; i < plan->nspecs; i++) {
		plan->backend->drv->spec_free(plan->specs[i]);
		free(plan->spec_modules[i]);
	}
	free(plan->specs);
	free(plan->spec_modules);
	mig_doc_backend_close(plan->backend);
	free(plan);
}

static char *dup_or_null(const char *s)
{
	return s ? strdup(s) : NULL;
}

static void collect(void *ctx, const mig_mongo_item *item)
{
	mig_mongo_results *r = ctx;
	if (r->nitems == r->cap) {
		size_t cap = r->cap ? r->cap * 2 : 32;
		mig_mongo_result *grown = realloc(r->items, cap * sizeof *grown);
		if (!grown) {
			r->oom = true;
			return;
		}
		r->items = grown;
		r->cap = cap;
	}
	mig_mongo_result *res = &r->items[r->nitems++];
	res->module = dup_or_null(item->module);
	res->collection = dup_or_null(item->collection);
	res->index = dup_or_null(item->index);
	res->detail = dup_or_null(item->detail);
	res->state = item->state;
	switch (item->state) {
	case MIG_MONGO_PRESENT:
		r->present++;
		break;
	case MIG_MONGO_MISSING:
		r->missing++;
		break;
	case MIG_MONGO_CREATED:
		r->created++;
		break;
	case MIG_MONGO_CONFLICT:
		r->conflicts++;
		break;
	case MIG_MONGO_CHANGED:
		r->changed++;
		break;
	case MIG_MONGO_EXTRA:
		r->extra++;
		break;
	case MIG_MONGO_DROPPED:
		r->dropped++;
		break;
	case MIG_MONGO_BUILDING:
		r->building++;
		break;
	case MIG_MONGO_FAILED:
		r->failed++;
		break;
	}
}

int mig_mongo_run(mig_mongo_results *out, const mig_config *cfg, const mig_mongo_plan *plan,
		  mig_mongo_mode mode, mig_error *err)
{
	memset(out, 0, sizeof *out);
	const mig_doc_driver *drv = plan->backend->drv;
	mig_mongo *m = NULL;
	int rc = drv->connect(&m, cfg->mongo_uri, cfg->mongo_database, err);
	if (rc < 0)
		return rc;
	rc = drv->sync(m, plan->specs, plan->nspecs, mode, collect, out, err);
	drv->disconnect(m);
	if (rc == MIG_OK && out->oom)
		rc = mig_error_set(err, MIG_EFAIL, "out of memory");
	return rc;
}

void mig_mongo_results_clear(mig_mongo_results *r)
{
	for (size_t i = 0; i < r->nitems; i++) {
		free(r->items[i].module);
		free(r->items[i].collection);
		free(r->items[i].index);
		free(r->items[i].detail);
	}
	free(r->items);
	memset(r, 0, sizeof *r);
}

int mig_mongo_results_append(mig_mongo_results *dst, mig_mongo_results *src, mig_error *err)
{
	if (dst->nitems + src->nitems > dst->cap) {
		size_t cap = dst->nitems + src->nitems;
		mig_mongo_result *grown = realloc(dst->items, (cap ? cap : 1) * sizeof *grown);
		if (!grown)
			return mig_error_set(err, MIG_EFAIL, "out of memory");
		dst->items = grown;
		dst->cap = cap;
	}
	if (src->nitems)
		memcpy(dst->items + dst->nitems, src->items, src->nitems * sizeof *src->items);
	dst->nitems += src->nitems;
	dst->missing += src->missing;
	dst->created += src->created;
	dst->conflicts += src->conflicts;
	dst->present += src->present;
	dst->changed += src->changed;
	dst->extra += src->extra;
	dst->dropped += src->dropped;
	dst->building += src->building;
	dst->failed += src->failed;
	dst->oom = dst->oom || src->oom;
	free(src->items); /* the strings now belong to dst */
	memset(src, 0, sizeof *src);
	return MIG_OK;
}

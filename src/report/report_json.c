/* JSON reports of run, status, seed and verify, built with jansson so escaping and
 * numbers are always right; json_out.c writes them. */
#include "report/report_json.h"

#include "util/json_out.h"

static json_t *mongo_json(const mig_mongo_results *r);

static void append_planned(json_t *list, const char *backend, const mig_run *run)
{
	for (size_t i = 0; list && run && i < run->nitems; i++) {
		const mig_migration *m = run->items[i].migration;
		json_array_append_new(
			list, json_pack("{s:s, s:s, s:I, s:s, s:s, s:b}", "backend", backend, "module",
					run->items[i].module->name, "version",
					(json_int_t)m->version, "name", m->name, "file",
					run->up || !m->down_path ? m->up_path : m->down_path,
					"environment_skip", run->items[i].skip));
		json_object_set_new(json_array_get(list, json_array_size(list) - 1), "repeatable",
				    json_boolean(run->items[i].repeatable));
	}
}

int mig_report_run_json(FILE *out, const char *backend, const mig_run *run, const mig_mongo_results *mongo,
			const mig_run *mongo_run, mig_error *err)
{
	json_t *list = json_array();
	append_planned(list, backend, run);
	append_planned(list, "mongodb", mongo_run);
	json_t *doc = json_pack("{s:s, s:b, s:o}", "direction", run->up ? "up" : "down",
				"dry_run", 1, "migrations", list);
	if (doc && mongo)
		json_object_set_new(doc, "mongodb", mongo_json(mongo));
	return mig_json_emit(out, doc, err);
}

static json_t *error_json(const mig_error *e, const char *file)
{
	return json_pack("{s:s, s:o, s:o, s:o}", "message", e->message, "sqlstate",
			 e->sqlstate[0] ? json_string(e->sqlstate) : json_null(), "file",
			 file ? json_string(file) : json_null(), "line",
			 e->line ? json_integer(e->line) : json_null());
}

/* {"name", "n", "modified", "upserted"} per command a MongoDB file ran */
static json_t *counts_json(const mig_doc_result *res)
{
	json_t *list = json_array();
	for (size_t k = 0; list && res && k < res->ncounts; k++) {
		const mig_doc_count *c = &res->counts[k];
		json_array_append_new(
			list, json_pack("{s:s, s:o, s:o, s:I}", "command", c->name, "n",
					c->n >= 0 ? json_integer(c->n) : json_null(), "modified",
					c->modified >= 0 ? json_integer(c->modified) : json_null(),
					"upserted", (json_int_t)c->upserted));
	}
	return list;
}

/* Appends run's items to list as r observed them; results non-NULL: MongoDB files. */
static void append_results(json_t *list, const mig_run *run, const mig_run_report *r,
			   const mig_doc_result *results, bool *explained)
{
	for (size_t i = 0; list && run && i < run->nitems; i++) {
		const mig_migration *m = run->items[i].migration;
		const mig_step_result *res = r->items && i < r->nitems ? &r->items[i] : NULL;
		mig_step_state st = res ? res->state : MIG_STEP_SKIPPED;
		const char *path = run->up || !m->down_path ? m->up_path : m->down_path;
		/* "env_skipped": recorded without running (`-- migrate:env`); "skipped": not
		 * reached because an earlier step failed */
		const char *state = st == MIG_STEP_FAILED ? "failed"
				    : st == MIG_STEP_DONE
					    ? (run->items[i].skip && run->up ? "env_skipped"
					       : run->up		  ? "applied"
									  : "rolled_back")
					    : "skipped";
		json_t *error = json_null();
		if (st == MIG_STEP_FAILED) {
			error = error_json(&res->error, path);
			*explained = true;
		}
		json_t *item = json_pack(
			"{s:s, s:I, s:s, s:s, s:I, s:I, s:I, s:o}", "module",
			run->items[i].module->name, "version", (json_int_t)m->version, "name", m->name,
			"state", state, "ms", (json_int_t)(res ? res->ms : 0), "attempts",
			(json_int_t)(res ? res->attempts : 0), "lock_wait_ms",
			(json_int_t)(res ? res->lock_wait_ms : 0), "error", error);
		if (item && results) {
			json_object_set_new(item, "backend", json_string("mongodb"));
			json_object_set_new(item, "commands", counts_json(st == MIG_STEP_DONE
										  ? &results[i]
										  : NULL));
		}
		if (item)
			json_object_set_new(item, "repeatable",
					    json_boolean(run->items[i].repeatable));
		json_array_append_new(list, item);
	}
}

int mig_report_run_result_json(FILE *out, const mig_run *run, const mig_run_report *r, int rc,
			       const mig_error *failure, mig_error *err)
{
	return mig_report_run_result_json_full(out, run, r, NULL, NULL, NULL, NULL, rc, failure, err);
}

static json_t *mongo_json(const mig_mongo_results *r);

int mig_report_run_result_json_full(FILE *out, const mig_run *run, const mig_run_report *r,
				    const mig_run *mongo_run, const mig_run_report *mongo_r,
				    const mig_doc_result *results, const mig_mongo_results *indexes,
				    int rc, const mig_error *failure, mig_error *err)
{
	json_t *list = json_array();
	bool explained = false;
	append_results(list, run, r, NULL, &explained);
	if (mongo_run && mongo_r && results)
		append_results(list, mongo_run, mongo_r, results, &explained);
	json_t *doc = json_pack("{s:s, s:b, s:o, s:I, s:I}", "direction",
				run && !run->up ? "down" : "up", "ok", rc == MIG_OK, "migrations", list,
				"files_executed",
				(json_int_t)(r->files_executed + (mongo_r ? mongo_r->files_executed : 0)),
				"duration_ms",
				(json_int_t)mig_elapsed_ms(&r->start));
	const mig_hooks *hooks = run ? run->hooks : NULL;
	if (doc && mig_hooks_any(hooks)) {
		json_t *h = json_object();
		const mig_hook *list3[] = {&hooks->before_up, &hooks->after_each, &hooks->after_up};
		const mig_hook_result *res3[] = {&r->before_up, NULL, &r->after_up};
		for (size_t k = 0; h && k < 3; k++) {
			const mig_hook *hk = list3[k];
			if (!hk->sql)
				continue;
			const mig_hook_result *hr = res3[k];
			/* after_each runs inside each migration: its outcome is theirs */
			const char *state = !hr	       ? "with_each_migration"
					    : hr->failed ? "failed"
					    : hr->ran    ? "ran"
							 : "not_run";
			json_object_set_new(
				h, hk->name,
				json_pack("{s:s, s:s, s:I, s:o}", "file", hk->path, "state", state, "ms",
					  (json_int_t)(hr ? hr->ms : 0), "error",
					  hr && hr->failed ? error_json(&hr->error, hk->path)
							   : json_null()));
			if (hr && hr->failed)
				explained = true;
		}
		json_object_set_new(doc, "hooks", h);
	}
	/* a failure no migration explains: the lock, the connection, a refusal */
	if (doc && rc < 0 && !explained && failure)
		json_object_set_new(doc, "error", error_json(failure, NULL));
	if (doc && indexes)
		json_object_set_new(doc, "mongodb", mongo_json(indexes));
	return mig_json_emit(out, doc, err);
}

static const char *state_of(const mig_module_status *st)
{
	if (st->dirty)
		return "dirty";
	if (st->missing)
		return "missing";
	if (!st->enabled)
		return "not_enabled";
	if (st->contract_pending)
		return "contract_pending";
	return st->pending || st->repeatables_outdated ? "pending" : "up_to_date";
}

static const char *mongo_state_name(mig_mongo_state state)
{
	switch (state) {
	case MIG_MONGO_PRESENT:
		return "present";
	case MIG_MONGO_MISSING:
		return "missing";
	case MIG_MONGO_CREATED:
		return "created";
	case MIG_MONGO_CONFLICT:
		return "conflict";
	case MIG_MONGO_CHANGED:
		return "changed";
	case MIG_MONGO_EXTRA:
		return "extra";
	case MIG_MONGO_DROPPED:
		return "dropped";
	case MIG_MONGO_BUILDING:
		return "building";
	case MIG_MONGO_FAILED:
		return "failed";
	}
	return "unknown";
}

/* {"items": [...], "missing": n, ...}: the MongoDB part shared by status, seed, verify */
static json_t *mongo_json(const mig_mongo_results *r)
{
	json_t *items = json_array();
	for (size_t i = 0; items && i < r->nitems; i++) {
		const mig_mongo_result *it = &r->items[i];
		json_array_append_new(
			items, json_pack("{s:s, s:s, s:o, s:s, s:o}", "module", it->module,
					 "collection", it->collection, "index",
					 it->index ? json_string(it->index) : json_null(), "state",
					 mongo_state_name(it->state), "detail",
					 it->detail ? json_string(it->detail) : json_null()));
	}
	return json_pack("{s:o, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I}", "items", items,
			 "present", (json_int_t)r->present, "missing", (json_int_t)r->missing,
			 "created", (json_int_t)r->created, "conflicts", (json_int_t)r->conflicts,
			 "changed", (json_int_t)r->changed, "extra", (json_int_t)r->extra,
			 "dropped", (json_int_t)r->dropped, "building", (json_int_t)r->building,
			 "failed", (json_int_t)r->failed);
}

static json_t *modules_json(const mig_module_status *rows, size_t n)
{
	json_t *modules = json_array();
	for (size_t i = 0; modules && i < n; i++) {
		const mig_module_status *st = &rows[i];
		json_array_append_new(
			modules,
			json_pack("{s:s, s:b, s:I, s:I, s:I, s:I, s:o, s:I, s:I, s:I, s:I, s:s}",
				  "module", st->module, "enabled", st->enabled, "applied",
				  (json_int_t)st->applied, "latest", (json_int_t)st->latest,
				  "applied_count", (json_int_t)st->napplied, "pending",
				  (json_int_t)st->pending, "dirty_version",
				  st->dirty ? json_integer(st->dirty) : json_null(), "missing",
				  (json_int_t)st->missing, "skipped", (json_int_t)st->skipped,
				  "repeatables", (json_int_t)st->repeatables,
				  "repeatables_outdated", (json_int_t)st->repeatables_outdated,
				  "state", state_of(st)));
	}
	return modules;
}

static json_t *status_doc(const char *backend, const mig_module_status *rows, size_t n,
			  bool ledger_exists, const mig_mongo_results *mongo)
{
	json_t *doc = json_object();
	if (doc && backend) {
		json_t *modules = modules_json(rows, n);
		json_object_set_new(doc, backend,
				    json_pack("{s:b, s:o}", "ledger_exists", ledger_exists,
					      "modules", modules));
	}
	if (mongo)
		json_object_set_new(doc, "mongodb", mongo_json(mongo));
	return doc;
}

int mig_report_status_json(FILE *out, const char *backend, const mig_module_status *rows, size_t n,
			   bool ledger_exists, const mig_mongo_results *mongo, mig_error *err)
{
	return mig_json_emit(out, status_doc(backend, rows, n, ledger_exists, mongo), err);
}

int mig_report_status_json_full(FILE *out, const char *backend, const mig_module_status *rows,
				size_t n, bool ledger_exists, const mig_mongo_results *mongo,
				const mig_module_status *mongo_rows, size_t mongo_n,
				mig_error *err)
{
	json_t *doc = status_doc(backend, rows, n, ledger_exists, mongo);
	if (doc && mongo_rows)
		json_object_set_new(doc, "mongodb_versions",
				    json_pack("{s:o}", "modules", modules_json(mongo_rows, mongo_n)));
	return mig_json_emit(out, doc, err);
}

int mig_report_seed_json(FILE *out, const mig_mongo_results *r, bool dry_run, mig_error *err)
{
	return mig_json_emit(out, json_pack("{s:b, s:o}", "dry_run", dry_run, "mongodb", mongo_json(r)),
		    err);
}

static const char *problem_name(mig_problem_kind kind)
{
	switch (kind) {
	case MIG_PROBLEM_CHANGED:
		return "changed";
	case MIG_PROBLEM_FILE_GONE:
		return "file_gone";
	case MIG_PROBLEM_DIRTY:
		return "dirty";
	case MIG_PROBLEM_RENDERED:
		return "rendered_changed";
	case MIG_PROBLEM_REPEATABLE_CHANGED:
		return "repeatable_changed";
	case MIG_PROBLEM_REPEATABLE_FAILED:
		return "repeatable_failed";
	}
	return "unknown";
}

static json_t *problems_json(const mig_problem *problems, size_t nproblems)
{
	json_t *list = json_array();
	for (size_t i = 0; list && i < nproblems; i++)
		json_array_append_new(list, json_pack("{s:s, s:I, s:s, s:s}", "module", problems[i].module,
						      "version", (json_int_t)problems[i].version,
						      "problem", problem_name(problems[i].kind), "path",
						      problems[i].path));
	return list;
}

json_t *mig_report_sql_problems_json(const mig_problem *problems, size_t nproblems,
				     const mig_missing_object *objects, size_t nobjects)
{
	json_t *missing = json_array();
	for (size_t i = 0; missing && i < nobjects; i++) {
		const mig_missing_object *o = &objects[i];
		json_array_append_new(missing,
				      json_pack("{s:s, s:I, s:s, s:s, s:s}", "module", o->module,
						"version", (json_int_t)o->version, "kind", o->kind,
						"schema", o->schema, "name", o->name));
	}
	return json_pack("{s:o, s:o}", "problems", problems_json(problems, nproblems), "objects",
			 missing);
}

int mig_report_verify_json(FILE *out, const char *backend, const mig_problem *problems, size_t nproblems,
			   size_t checked, const mig_missing_object *objects,
		      size_t nobjects, const mig_mongo_results *mongo,
		      const mig_verify_versions *versions, mig_error *err)
{
	size_t bad = nproblems + nobjects + (mongo ? mongo->missing + mongo->conflicts : 0) +
		     (versions ? versions->nproblems : 0);
	json_t *doc = json_pack("{s:b}", "ok", bad == 0);
	if (doc && versions)
		json_object_set_new(doc, "mongodb_versions",
				    json_pack("{s:I, s:o}", "checked", (json_int_t)versions->checked,
					      "problems",
					      problems_json(versions->problems, versions->nproblems)));
	if (doc && backend) {
		json_t *sql = mig_report_sql_problems_json(problems, nproblems, objects, nobjects);
		if (sql)
			json_object_set_new(sql, "checked", json_integer((json_int_t)checked));
		json_object_set_new(doc, backend, sql);
	}
	if (doc && mongo)
		json_object_set_new(doc, "mongodb", mongo_json(mongo));
	return mig_json_emit(out, doc, err);
}

/* Text reports: aligned columns for people. JSON goes through report_json.c. */
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "report/report.h"
#include "report/report_json.h"

static void item_name(const mig_mongo_result *it, char *buf, size_t size);
static void mongo_other_line(FILE *out, const mig_mongo_result *it, const char *name, bool dry);

int mig_report_run(FILE *out, const char *backend, const mig_run *run, const mig_mongo_results *mongo,
		   const mig_run *mongo_run, mig_format format, mig_error *err)
{
	if (format == MIG_FORMAT_JSON)
		return mig_report_run_json(out, backend, run, mongo, mongo_run, err);
	if (run->nitems == 0 && !(mongo_run && mongo_run->nitems))
		fprintf(out, "nothing to %s%s\n", run->up ? "apply" : "roll back",
			mongo ? " in PostgreSQL" : "");
	const mig_hooks *hooks = NULL;
	for (size_t i = 0; run->up && run->hooks && i < run->nitems && !hooks; i++)
		if (!run->items[i].skip) /* hooks run only when some file runs SQL */
			hooks = run->hooks;
	if (hooks && hooks->before_up.sql)
		fprintf(out, "would run hook before_up (%s)\n", hooks->before_up.path);
	for (size_t i = 0; i < run->nitems; i++) {
		const mig_migration *m = run->items[i].migration;
		const char *verb = run->items[i].skip
					   ? (run->up ? "record as skipped" : "remove skipped")
					   : (run->up ? "apply" : "roll back");
		if (run->items[i].repeatable)
			fprintf(out, "would apply repeatable %s/%s (%s)\n", run->items[i].module->name,
				m->name, m->up_path);
		else
			fprintf(out, "would %s %s/%0*lld_%s (%s)\n", verb, run->items[i].module->name,
				(int)m->width, m->version, m->name,
				run->up || !m->down_path ? m->up_path : m->down_path);
		if (hooks && hooks->after_each.sql && !run->items[i].skip)
			fprintf(out, "  with hook after_each (%s)\n", hooks->after_each.path);
	}
	if (hooks && hooks->after_up.sql)
		fprintf(out, "would run hook after_up (%s)\n", hooks->after_up.path);
	for (size_t i = 0; mongo_run && i < mongo_run->nitems; i++) {
		const mig_migration *m = mongo_run->items[i].migration;
		fprintf(out, "would %s mongodb %s/%0*lld_%s (%s)\n",
			mongo_run->up ? "apply" : "roll back", mongo_run->items[i].module->name,
			(int)m->width, m->version, m->name, mongo_run->up ? m->up_path : m->down_path);
	}
	/* then what `migrate seed` would create, in the same order seed works */
	for (size_t i = 0; mongo && i < mongo->nitems; i++) {
		if (mongo->items[i].state != MIG_MONGO_MISSING)
			continue;
		char name[512];
		item_name(&mongo->items[i], name, sizeof name);
		fprintf(out, "would create mongodb %s\n", name);
	}
	return MIG_OK;
}

static void state_text(const mig_module_status *st, char *buf, size_t size)
{
	if (st->dirty)
		snprintf(buf, size, "dirty at %lld", st->dirty);
	else if (st->missing)
		snprintf(buf, size, "%zu applied file%s missing (first %lld)", st->missing,
			 st->missing == 1 ? "" : "s", st->first_missing);
	else if (!st->enabled)
		snprintf(buf, size, "not enabled");
	else if (st->contract_pending)
		snprintf(buf, size, "contract pending");
	else if (st->pending || st->repeatables_outdated)
		snprintf(buf, size, "pending");
	else
		snprintf(buf, size, "up to date");
	if (st->repeatables_outdated) {
		size_t used = strlen(buf);
		snprintf(buf + used, size - used, ", %zu repeatable%s outdated",
			 st->repeatables_outdated, st->repeatables_outdated == 1 ? "" : "s");
	}
	if (st->skipped) {
		size_t used = strlen(buf);
		snprintf(buf + used, size - used, ", %zu skipped (environment)", st->skipped);
	}
}

static void status_postgres(FILE *out, const mig_module_status *rows, size_t n,
			    bool ledger_exists)
{
	size_t width = strlen("MODULE");
	for (size_t i = 0; i < n; i++)
		if (strlen(rows[i].module) > width)
			width = strlen(rows[i].module);
	fprintf(out, "%-*s  %8s  %8s  %7s  %s\n", (int)width, "MODULE", "APPLIED", "LATEST",
		"PENDING", "STATE");
	for (size_t i = 0; i < n; i++) {
		const mig_module_status *st = &rows[i];
		char state[96], applied[24] = "-", latest[24] = "-";
		state_text(st, state, sizeof state);
		if (st->napplied)
			snprintf(applied, sizeof applied, "%lld", st->applied);
		if (st->enabled && st->latest)
			snprintf(latest, sizeof latest, "%lld", st->latest);
		fprintf(out, "%-*s  %8s  %8s  %7zu  %s\n", (int)width, st->module, applied, latest,
			st->pending, state);
	}
	if (!ledger_exists)
		fprintf(out, "(schema_migrations does not exist yet: nothing has been applied)\n");
}

/* One line per module: how many of its collections and indexes exist, are missing or
 * conflict; then the missing and conflicting items by name. */
static void status_mongo(FILE *out, const mig_mongo_results *r)
{
	size_t width = strlen("MONGODB");
	for (size_t i = 0; i < r->nitems; i++)
		if (strlen(r->items[i].module) > width)
			width = strlen(r->items[i].module);
	fprintf(out, "%-*s  %8s  %8s  %9s\n", (int)width, "MONGODB", "PRESENT", "MISSING",
		"CONFLICTS");
	for (size_t i = 0; i < r->nitems;) {
		size_t present = 0, missing = 0, conflicts = 0, j = i;
		for (; j < r->nitems && !strcmp(r->items[j].module, r->items[i].module); j++) {
			present += r->items[j].state == MIG_MONGO_PRESENT;
			missing += r->items[j].state == MIG_MONGO_MISSING;
			conflicts += r->items[j].state == MIG_MONGO_CONFLICT;
		}
		fprintf(out, "%-*s  %8zu  %8zu  %9zu\n", (int)width, r->items[i].module, present,
			missing, conflicts);
		i = j;
	}
	for (size_t i = 0; i < r->nitems; i++) {
		const mig_mongo_result *it = &r->items[i];
		if (it->state == MIG_MONGO_MISSING)
			fprintf(out, "  missing  %s: %s%s%s\n", it->module, it->collection,
				it->index ? "." : "", it->index ? it->index : " (collection)");
		else if (it->state == MIG_MONGO_CONFLICT)
			fprintf(out, "  conflict %s: %s.%s: %s\n", it->module, it->collection,
				it->index ? it->index : "", it->detail ? it->detail : "");
		else if (it->state != MIG_MONGO_PRESENT) {
			char name[512];
			item_name(it, name, sizeof name);
			fputs("  ", out);
			mongo_other_line(out, it, name, false);
		}
	}
}

int mig_report_status_full(FILE *out, const char *backend, const mig_module_status *rows,
			   size_t n, bool ledger_exists, const mig_mongo_results *mongo,
			   const mig_module_status *mongo_rows, size_t mongo_n, mig_format format,
			   mig_error *err)
{
	if (format == MIG_FORMAT_JSON)
		return mig_report_status_json_full(out, backend, rows, n, ledger_exists, mongo,
						   mongo_rows, mongo_n, err);
	int rc = mig_report_status(out, backend, rows, n, ledger_exists, mongo, format, err);
	if (rc == MIG_OK && mongo_rows) {
		if (backend || mongo)
			fputc('\n', out);
		fprintf(out, "MongoDB versions (schema_migrations in the MongoDB database):\n");
		status_postgres(out, mongo_rows, mongo_n, true);
	}
	return rc;
}

int mig_report_status(FILE *out, const char *backend, const mig_module_status *rows, size_t n,
		      bool ledger_exists, const mig_mongo_results *mongo, mig_format format,
		      mig_error *err)
{
	if (format == MIG_FORMAT_JSON)
		return mig_report_status_json(out, backend, rows, n, ledger_exists, mongo, err);
	if (backend)
		status_postgres(out, rows, n, ledger_exists);
	if (backend && mongo)
		fputc('\n', out);
	if (mongo)
		status_mongo(out, mongo);
	return MIG_OK;
}

static void item_name(const mig_mongo_result *it, char *buf, size_t size)
{
	if (it->index)
		snprintf(buf, size, "%s: index %s.%s", it->module, it->collection, it->index);
	else
		snprintf(buf, size, "%s: collection %s", it->module, it->collection);
}

/* The states beyond present/missing/created/conflict, one line each (seed and status). */
static void mongo_other_line(FILE *out, const mig_mongo_result *it, const char *name, bool dry)
{
	const char *d = it->detail ? it->detail : "";
	if (it->state == MIG_MONGO_CHANGED)
		fprintf(out, "%s %s: %s\n", dry ? "would change" : "changed", name, d);
	else if (it->state == MIG_MONGO_EXTRA)
		fprintf(out, "extra %s (declared by no spec; seed --prune drops it)\n", name);
	else if (it->state == MIG_MONGO_DROPPED)
		fprintf(out, "%s %s\n", dry ? "would drop" : "dropped", name);
	else if (it->state == MIG_MONGO_BUILDING)
		fprintf(out, "building %s (the server is still building it)\n", name);
	else if (it->state == MIG_MONGO_FAILED)
		fprintf(out, "failed %s: %s\n", name, d);
}

int mig_report_seed(FILE *out, const mig_mongo_results *r, bool dry_run, bool quiet,
		    mig_format format, mig_error *err)
{
	if (format == MIG_FORMAT_JSON)
		return mig_report_seed_json(out, r, dry_run, err);
	for (size_t i = 0; i < r->nitems; i++) {
		const mig_mongo_result *it = &r->items[i];
		char name[512];
		item_name(it, name, sizeof name);
		if (it->state == MIG_MONGO_CREATED && !quiet)
			fprintf(out, "created %s\n", name);
		else if (it->state == MIG_MONGO_MISSING && !quiet)
			fprintf(out, "would create %s\n", name);
		else if (it->state == MIG_MONGO_CONFLICT)
			fprintf(out, "conflict %s: %s (left alone)\n", name, it->detail ? it->detail : "");
		else
			mongo_other_line(out, it, name, dry_run);
	}
	if (!quiet)
		fprintf(out, "seed: %zu %s, %zu already present, %zu conflict%s\n",
			dry_run ? r->missing : r->created, dry_run ? "to create" : "created",
			r->present, r->conflicts, r->conflicts == 1 ? "" : "s");
	return MIG_OK;
}

static void print_problems(FILE *out, const char *indent, const char *backend,
			   const mig_problem *problems, size_t nproblems)
{
	for (size_t i = 0; i < nproblems; i++) {
		const mig_problem *p = &problems[i];
		switch (p->kind) {
		case MIG_PROBLEM_CHANGED:
			fprintf(out, "%schanged  %s %s/%lld: '%s' differs from the file that ran\n",
				indent, backend, p->module, p->version, p->path);
			break;
		case MIG_PROBLEM_REPEATABLE_CHANGED:
			fprintf(out, "changed  %s repeatable %s: '%s' differs from what last ran (run 'migrate up')\n",
				backend, p->module, p->path);
			break;
		case MIG_PROBLEM_REPEATABLE_FAILED:
			fprintf(out, "failed   %s repeatable %s: '%s' failed the last time it ran\n",
				backend, p->module, p->path);
			break;
		case MIG_PROBLEM_RENDERED:
			fprintf(out,
				"rendered %s %s/%lld: '%s' is unchanged but renders differently than when it ran (a placeholder's value changed)\n",
				backend, p->module, p->version, p->path);
			break;
		case MIG_PROBLEM_FILE_GONE:
			fprintf(out, "%smissing  %s %s/%lld: applied, but its file is gone from '%s'\n",
				indent, backend, p->module, p->version, p->path);
			break;
		case MIG_PROBLEM_DIRTY:
			fprintf(out, "%sdirty    %s %s/%lld: began without a transaction and did not finish\n",
				indent, backend, p->module, p->version);
			break;
		}
	}
}

static void print_objects(FILE *out, const char *indent, const char *backend,
			  const mig_missing_object *objects, size_t nobjects)
{
	for (size_t i = 0; i < nobjects; i++) {
		const mig_missing_object *o = &objects[i];
		if (!*o->module)
			fprintf(out, "%sinvalid  %s index %s.%s: left by a failed CREATE INDEX CONCURRENTLY? drop and recreate it\n",
				indent, backend, o->schema, o->name);
		else
			fprintf(out, "%smissing  %s %s %s.%s (created by %s/%lld)\n", indent, backend,
				o->kind, o->schema, o->name, o->module, o->version);
	}
}

void mig_report_sql_problems(FILE *out, const char *indent, const char *backend,
			     const mig_problem *problems, size_t nproblems,
			     const mig_missing_object *objects, size_t nobjects)
{
	print_problems(out, indent, backend, problems, nproblems);
	print_objects(out, indent, backend, objects, nobjects);
}

int mig_report_verify(FILE *out, const char *backend, const mig_problem *problems, size_t nproblems,
		      size_t checked, const mig_missing_object *objects,
		      size_t nobjects, const mig_mongo_results *mongo,
		      const mig_verify_versions *versions, mig_format format, mig_error *err)
{
	if (format == MIG_FORMAT_JSON)
		return mig_report_verify_json(out, backend, problems, nproblems, checked, objects,
					      nobjects, mongo, versions, err);
	print_problems(out, "", backend, problems, nproblems);
	if (versions)
		print_problems(out, "", "mongodb", versions->problems, versions->nproblems);
	print_objects(out, "", backend, objects, nobjects);
	size_t bad = nproblems + nobjects + (versions ? versions->nproblems : 0);
	if (versions)
		checked += versions->checked;
	for (size_t i = 0; mongo && i < mongo->nitems; i++) {
		const mig_mongo_result *it = &mongo->items[i];
		char name[512];
		item_name(it, name, sizeof name);
		if (it->state == MIG_MONGO_MISSING)
			fprintf(out, "missing  mongodb %s\n", name);
		else if (it->state == MIG_MONGO_CONFLICT)
			fprintf(out, "differs  mongodb %s: %s\n", name, it->detail ? it->detail : "");
		else if (it->state == MIG_MONGO_BUILDING || it->state == MIG_MONGO_FAILED)
			fprintf(out, "%s mongodb %s%s%s\n",
				it->state == MIG_MONGO_BUILDING ? "building" : "failed  ", name,
				it->detail ? ": " : "", it->detail ? it->detail : "");
	}
	if (mongo)
		bad += mongo->missing + mongo->conflicts + mongo->building + mongo->failed;
	if (bad == 0)
		fprintf(out, "verify: ok (%zu applied migration%s checked%s)\n", checked,
			checked == 1 ? "" : "s", mongo ? ", every MongoDB collection and index present" : "");
	else
		fprintf(out, "verify: %zu problem%s\n", bad, bad == 1 ? "" : "s");
	return MIG_OK;
}

/* The terminal reporter, an observer of the engine's runs. */

mig_reporter mig_reporter_for(FILE *out, bool quiet, bool verbose)
{
	mig_reporter rep = {0};
	if (quiet)
		return rep;
	const char *no_color = getenv("NO_COLOR");
	bool plain = no_color && *no_color;
	rep.out = out;
	rep.verbose = verbose;
	rep.color = !plain && isatty(fileno(out));
	if (isatty(fileno(stderr)) && !verbose)
		rep.progress = stderr;
	clock_gettime(CLOCK_MONOTONIC, &rep.run_start);
	return rep;
}

static void reporter_begin(void *ctx, const mig_run *run, size_t i, const char *sql, size_t len)
{
	mig_reporter *rep = ctx;
	const mig_module_plan *mod = run->items[i].module;
	const mig_migration *m = run->items[i].migration;
	if (rep->verbose && rep->out)
		fprintf(rep->out, "-- %s\n%.*s%s", run->up || !m->down_path ? m->up_path : m->down_path,
			(int)len, sql,
			len && sql[len - 1] != '\n' ? "\n" : "");
	if (rep->progress) {
		/* redrawn in place on a terminal, so long runs show where they are */
		long long ms = mig_elapsed_ms(&rep->run_start);
		if (run->items[i].repeatable)
			fprintf(rep->progress, "\r\033[K[%zu/%zu] repeatable %s/%s  %lld.%llds", i + 1,
				run->nitems, mod->name, m->name, ms / 1000, (ms % 1000) / 100);
		else
			fprintf(rep->progress, "\r\033[K[%zu/%zu] %s/%0*lld_%s  %lld.%llds", i + 1,
				run->nitems, mod->name, (int)m->width, m->version, m->name, ms / 1000,
				(ms % 1000) / 100);
		fflush(rep->progress);
	}
}

static void reporter_end(void *ctx, const mig_run *run, size_t i, long long ms,
			 const mig_error *failed)
{
	mig_reporter *rep = ctx;
	if (rep->progress)
		fputs("\r\033[K", rep->progress); /* clear it before any other line */
	if (failed || !rep->out)
		return;
	const mig_module_plan *mod = run->items[i].module;
	const mig_migration *m = run->items[i].migration;
	const char *verb = run->items[i].skip ? (run->up ? "skipped" : "unrecorded skipped")
			   : run->up	      ? "applied"
					      : "rolled back";
	if (rep->color)
		fprintf(rep->out, "\033[32m%s\033[0m", verb);
	else
		fputs(verb, rep->out);
	if (run->items[i].repeatable)
		fprintf(rep->out, " repeatable %s/%s (%lld ms)\n", mod->name, m->name, ms);
	else
		fprintf(rep->out, " %s%s%s/%0*lld_%s (%lld ms)\n", rep->backend ? rep->backend : "",
			rep->backend ? " " : "", mod->name, (int)m->width, m->version, m->name, ms);
	fflush(rep->out);
}

static void reporter_retry(void *ctx, const mig_run *run, size_t i, unsigned attempt,
			   unsigned attempts, long long wait_ms, const mig_error *why)
{
	mig_reporter *rep = ctx;
	(void)why;
	if (rep->progress)
		fputs("\r\033[K", rep->progress);
	if (!rep->out)
		return;
	mig_report_retry(rep->out, run, i, attempt, attempts, wait_ms);
}

void mig_report_retry(FILE *out, const mig_run *run, size_t i, unsigned attempt,
		      unsigned attempts, long long wait_ms)
{
	const mig_module_plan *mod = run->items[i].module;
	const mig_migration *m = run->items[i].migration;
	fprintf(out, "retrying %s/%lld after lock timeout (attempt %u/%u, waiting %lld.%llds)\n",
		mod->name, m->version, attempt, attempts, wait_ms / 1000, (wait_ms % 1000) / 100);
	fflush(out);
}

static void reporter_hook(void *ctx, const mig_hook *hook, long long ms, const mig_error *failed)
{
	mig_reporter *rep = ctx;
	if (failed || !rep->out)
		return;
	fprintf(rep->out, "ran hook %s (%s, %lld ms)\n", hook->name, hook->path, ms);
	fflush(rep->out);
}

mig_observer mig_reporter_observer(mig_reporter *rep)
{
	return (mig_observer){.ctx = rep,
			      .step_begin = reporter_begin,
			      .step_end = reporter_end,
			      .step_retry = reporter_retry,
			      .hook_end = reporter_hook};
}

/* `migrate seed`: create the MongoDB collections and indexes every running module's
 * indexes.json lists, and apply in place what collMod can change. Existing ones with the
 * same spec are skipped; a same-named one with another spec is reported and left alone,
 * and the run exits 3. An index the server refuses is reported and the others are still
 * created; the run then exits 1 naming what was not created. --prune drops undeclared
 * indexes. `migrate seed --data` loads the seed files instead (core/seed.h); for --reset
 * the tables they write are read from the SQL with PostgreSQL's grammar (lint's parser). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "core/mongo_plan.h"
#include "core/seed.h"
#include "lint/pg_parse.h"
#include "report/report.h"
#include "util/strlist.h"

/* MIG_EFAIL naming the items the server refused (as many as fit in one line). */
static int not_created(const mig_mongo_results *r, mig_error *err)
{
	char names[MIG_ERROR_MAX / 2] = "";
	for (size_t i = 0; i < r->nitems; i++) {
		const mig_mongo_result *it = &r->items[i];
		size_t used = strlen(names);
		if (it->state != MIG_MONGO_FAILED)
			continue;
		snprintf(names + used, sizeof names - used, "%s%s%s%s", used ? ", " : "",
			 it->collection, it->index ? "." : "", it->index ? it->index : "");
	}
	return mig_error_set(err, MIG_EFAIL, "%zu item%s not created or changed: %s (see above)",
			     r->failed, r->failed == 1 ? "" : "s", names);
}

int mig_check_seed_args(const mig_args *args, mig_error *err)
{
	if (!args->seed_data && (args->reset || args->module))
		return mig_error_set(err, MIG_EUSAGE, "%s goes with --data (seed --data %s)",
				     args->reset ? "--reset" : "--module",
				     args->reset ? "--reset" : "--module M");
	if (args->seed_data && (args->dry_run || args->prune || args->format == MIG_FORMAT_JSON))
		return mig_error_set(err, MIG_EUSAGE,
				     "seed --data takes neither --dry-run, --prune nor --format json (those are for indexes.json)");
	return MIG_OK;
}

/* The tables the SQL seeds of the environment INSERT into, as written, each once. A
 * statement the grammar cannot read is MIG_EUSAGE naming its file and line: --reset
 * must know everything it empties. */
static int written_tables(char ***tables, size_t *n, const mig_seeds *s, mig_error *err)
{
	*tables = NULL;
	*n = 0;
	int rc = MIG_OK;
	for (size_t i = 0; rc == MIG_OK && i < s->n; i++) {
		const mig_seed_file *f = &s->files[i];
		if (f->json || f->state == MIG_SEED_OTHER_ENV)
			continue;
		mig_pg_file *file = NULL;
		mig_pg_unparsed *unparsed = NULL;
		size_t nunparsed = 0;
		mig_pg_syntax_error syntax = {0};
		int prc = mig_pg_parse_lenient(&file, &unparsed, &nunparsed, &syntax, f->sql, f->len);
		if (prc == MIG_ESCHEMA)
			rc = mig_error_set(err, MIG_EUSAGE, "seed file does not parse: %s (%s:%u)",
					   syntax.message, f->path, syntax.line);
		else if (prc < 0)
			rc = mig_error_set(err, MIG_EFAIL, "out of memory");
		else if (nunparsed)
			rc = mig_error_set(err, MIG_EUSAGE,
					   "seed --reset cannot tell what this statement writes: %s (%s:%u)",
					   unparsed[0].message, f->path, unparsed[0].line);
		for (size_t k = 0; rc == MIG_OK && file && k < file->nstmts; k++) {
			const mig_pg_stmt *st = &file->stmts[k];
			if (st->kind != MIG_PG_INSERT || !st->relation)
				continue;
			bool seen = false;
			for (size_t j = 0; j < *n && !seen; j++)
				seen = !strcmp((*tables)[j], st->relation);
			if (!seen && mig_strlist_push(tables, n, st->relation) < 0)
				rc = mig_error_set(err, MIG_EFAIL, "out of memory");
		}
		free(unparsed);
		mig_pg_file_free(file);
	}
	return rc;
}

static int seed_data(mig_context *ctx, mig_error *err)
{
	const mig_args *a = &ctx->args;
	int rc = mig_seed_environment_allowed(ctx->cfg, err);
	if (rc < 0)
		return rc;
	mig_seeds s;
	char **tables = NULL;
	size_t ntables = 0;
	rc = mig_seeds_load(&s, ctx->cfg, mig_plan_choose_root(a->root, ctx->cfg), a->module, NULL,
			    err);
	if (rc == MIG_OK && a->reset)
		rc = written_tables(&tables, &ntables, &s, err);
	if (rc == MIG_OK)
		rc = mig_seeds_open(&s, ctx->cfg, ctx->registry, NULL, NULL, MIG_SEEDS_ALL, err);
	if (rc == MIG_OK && a->reset)
		rc = mig_seeds_reset(&s, (const char *const *)tables, ntables, ctx->out, a->quiet,
				     err);
	if (rc == MIG_OK)
		rc = mig_seeds_apply(&s, ctx->out, a->quiet, err);
	for (size_t i = 0; i < ntables; i++)
		free(tables[i]);
	free(tables);
	mig_seeds_clear(&s);
	return rc;
}

int mig_cmd_seed(mig_context *ctx, mig_error *err)
{
	const mig_args *a = &ctx->args;
	if (a->seed_data)
		return seed_data(ctx, err);
	mig_mongo_results r;
	mig_mongo_mode mode = a->dry_run ? (a->prune ? MIG_MONGO_SEED_DRY_PRUNE : MIG_MONGO_SEED_DRY)
					 : (a->prune ? MIG_MONGO_SEED_PRUNE : MIG_MONGO_SEED);
	int rc = mig_mongo_run(&r, ctx->cfg, ctx->mongo_plan, mode, err);
	if (rc == MIG_OK)
		rc = mig_report_seed(ctx->out, &r, a->dry_run, a->quiet, a->format, err);
	if (rc == MIG_OK && r.failed)
		rc = not_created(&r, err);
	else if (rc == MIG_OK && r.conflicts)
		rc = mig_error_set(err, MIG_ESCHEMA,
				   "%zu conflicting index%s left alone: same name, another spec (see above)",
				   r.conflicts, r.conflicts == 1 ? "" : "es");
	mig_mongo_results_clear(&r);
	return rc;
}

/* `migrate testdb create|drop|gc`: test databases cloned from a template of the tree.
 * create prints only the connection string on stdout (so `psql "$(migrate testdb
 * create)"` works); what it did goes to stderr unless --quiet. */
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "core/engine.h"
#include "core/environment.h"
#include "core/repeatable.h"
#include "scratch/scratch.h"
#include "scratch/snapshot_cache.h"
#include "scratch/testdb.h"

int mig_check_testdb_args(const mig_args *args, mig_error *err)
{
	if (args->npositional < 1)
		return mig_error_set(err, MIG_EUSAGE,
				     "'migrate testdb' needs create, drop NAME... or gc");
	const char *sub = args->positional[0];
	bool create = !strcmp(sub, "create"), drop = !strcmp(sub, "drop"), gc = !strcmp(sub, "gc");
	if (!create && !drop && !gc)
		return mig_error_set(err, MIG_EUSAGE,
				     "unknown testdb command '%s': use create, drop or gc", sub);
	if (drop && args->npositional < 2)
		return mig_error_set(err, MIG_EUSAGE, "'migrate testdb drop' needs the NAME of a test database");
	if (!drop && args->npositional > 1)
		return mig_error_set(err, MIG_EUSAGE, "unexpected argument '%s' for 'testdb %s'",
				     args->positional[1], sub);
	if (args->name && !create)
		return mig_error_set(err, MIG_EUSAGE, "--name goes with 'testdb create'");
	if (args->with_seed && !create)
		return mig_error_set(err, MIG_EUSAGE, "--seed goes with 'testdb create'");
	if (args->format == MIG_FORMAT_JSON && !create)
		return mig_error_set(err, MIG_EUSAGE, "--format json goes with 'testdb create'");
	return MIG_OK;
}

static int create(mig_context *ctx, mig_error *err)
{
	const mig_args *a = &ctx->args;
	mig_testdb *db = NULL;
	char *dsn = NULL;
	int rc = a->with_seed
			 ? mig_testdb_make_seeded(&db, &dsn, ctx->cfg, ctx->plan, ctx->mongo_plan,
						  a->name, mig_plan_choose_root(a->root, ctx->cfg), err)
			 : mig_testdb_make(&db, &dsn, ctx->cfg, ctx->plan, ctx->mongo_plan, a->name,
					   err);
	if (rc < 0)
		return rc;
	if (a->format == MIG_FORMAT_JSON) {
		rc = mig_testdb_print_json(ctx->out, db, dsn, err);
	} else {
		fprintf(ctx->out, "%s\n", dsn);
		if (!a->quiet) {
			fprintf(stderr, "created %s from %s (%s, %.0f ms)\n", db->database,
				db->template_name,
				db->template_built ? "template built" : "template reused", db->ms);
			if (db->mongo_database)
				fprintf(stderr, "seeded MongoDB database %s\n", db->mongo_database);
		}
	}
	free(dsn);
	mig_testdb_free(db);
	return rc;
}

static int gc(mig_context *ctx, mig_error *err)
{
	mig_ledger empty = {0};
	mig_run run = {0};
	mig_scratch *sc = NULL;
	mig_scratch_gc_result res = {0};
	char keep[MIG_SCRATCH_NAME_MAX];
	int rc = mig_engine_plan_up(&run, ctx->plan, &empty, NULL, false, err);
	if (rc == MIG_OK)
		rc = mig_env_mark(&run, ctx->cfg, err);
	if (rc == MIG_OK) /* the template holds every repeatable too */
		rc = mig_repeatable_plan(&run, ctx->plan, &(mig_repeatable_ledger){0}, NULL, err);
	if (rc == MIG_OK)
		rc = mig_scratch_open(&sc, ctx->cfg, err);
	if (rc == MIG_OK)
		rc = mig_scratch_template_name(keep, sc, ctx->plan, &run, err);
	if (rc == MIG_OK)
		rc = mig_scratch_gc(&res, sc, keep, ctx->args.older_than_ms, err);
	/* what was dropped before a failure is still reported; drift's cached expected
	 * schema of a dropped template goes with it */
	for (size_t i = 0; i < res.ndropped; i++) {
		if (!strncmp(res.dropped[i], MIG_SCRATCH_TPL_PREFIX, strlen(MIG_SCRATCH_TPL_PREFIX)))
			mig_snapshot_cache_forget(res.dropped[i]);
		if (!ctx->args.quiet)
			fprintf(ctx->out, "dropped %s\n", res.dropped[i]);
	}
	if (rc == MIG_OK && res.ndropped == 0 && !ctx->args.quiet)
		fprintf(ctx->out, "nothing to drop\n");
	mig_scratch_gc_free(&res);
	mig_scratch_close(sc);
	mig_run_clear(&run);
	return rc;
}

int mig_cmd_testdb(mig_context *ctx, mig_error *err)
{
	const mig_args *a = &ctx->args;
	const char *sub = a->positional[0];
	if (!strcmp(sub, "create"))
		return create(ctx, err);
	if (!strcmp(sub, "gc"))
		return gc(ctx, err);
	int rc = mig_testdb_remove(ctx->cfg, a->positional + 1, (size_t)a->npositional - 1, err);
	for (int i = 1; rc == MIG_OK && !a->quiet && i < a->npositional; i++)
		fprintf(ctx->out, "dropped %s\n", a->positional[i]);
	return rc;
}

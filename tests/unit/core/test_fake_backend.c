/* The backend seam, proved: a scripted in-memory SQL backend registered under another
 * name ("memory") runs `up`, `status` and `down` end to end through the same commands,
 * session and engine as PostgreSQL — with no change anywhere but its own table. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "cli/cli.h"
#include "driver/registry.h"
#include "unit.h"

/* The whole "database": the ledger rows and what each migration ran. */
typedef struct memory_db {
	mig_ledger ledger;
	char executed[64][128]; /* "up core/1" ... */
	size_t nexecuted;
	bool locked;
} memory_db;

static int mem_connect(void **conn, const mig_sql_config *cfg, mig_error *err)
{
	/* the DSN names the test's database by address: the only config it gets */
	memory_db *db = (memory_db *)(uintptr_t)strtoull(cfg->dsn, NULL, 16);
	if (!db)
		return mig_error_set(err, MIG_EFAIL, "memory backend: no database at '%s'", cfg->dsn);
	*conn = db;
	return MIG_OK;
}

static void mem_disconnect(void *conn)
{
	((memory_db *)conn)->locked = false;
}

static int mem_lock(void *conn, mig_error *err)
{
	((memory_db *)conn)->locked = true;
	return MIG_OK;
}

static int mem_prepare(void *conn, mig_error *err)
{
	((memory_db *)conn)->ledger.exists = true;
	((memory_db *)conn)->ledger.complete = true;
	return MIG_OK;
}

static int mem_read(void *conn, mig_ledger *out, mig_error *err)
{
	const mig_ledger *l = &((memory_db *)conn)->ledger;
	memset(out, 0, sizeof *out);
	out->exists = l->exists;
	out->complete = l->complete;
	out->rows = calloc(l->nrows + 1, sizeof *out->rows);
	for (size_t i = 0; i < l->nrows; i++) {
		out->rows[i] = l->rows[i];
		out->rows[i].module = strdup(l->rows[i].module);
		out->rows[i].name = strdup(l->rows[i].name);
	}
	out->nrows = l->nrows;
	return MIG_OK;
}

static int by_module_version(const void *a, const void *b)
{
	const mig_applied *x = a, *y = b;
	int c = strcmp(x->module, y->module);
	return c ? c : (x->version > y->version) - (x->version < y->version);
}

static int mem_apply(void *conn, const mig_step *step, mig_error *err)
{
	memory_db *db = conn;
	assert_true(db->locked);
	if (strstr(step->sql, "FAIL"))
		return mig_error_set(err, MIG_EFAIL, "%s/%lld failed: scripted (%s:1)", step->module,
				     step->version, step->path);
	snprintf(db->executed[db->nexecuted++], sizeof db->executed[0], "%s %s/%lld",
		 step->up ? "up" : "down", step->module, step->version);
	mig_ledger *l = &db->ledger;
	if (step->up) {
		l->rows = realloc(l->rows, (l->nrows + 1) * sizeof *l->rows);
		l->rows[l->nrows++] = (mig_applied){.module = strdup(step->module),
						    .version = step->version,
						    .name = strdup(step->name)};
		snprintf(l->rows[l->nrows - 1].checksum, MIG_CHECKSUM_HEX, "%s", step->checksum);
	} else {
		for (size_t i = 0; i < l->nrows; i++)
			if (!strcmp(l->rows[i].module, step->module) &&
			    l->rows[i].version == step->version) {
				free(l->rows[i].module);
				free(l->rows[i].name);
				l->rows[i] = l->rows[--l->nrows];
				break;
			}
	}
	qsort(l->rows, l->nrows, sizeof *l->rows, by_module_version);
	return MIG_OK;
}

static int mem_resolve(void *conn, const char *module, long long version, const char *name,
		       const char *checksum, bool applied, mig_error *err)
{
	return mig_error_set(err, MIG_EFAIL, "not scripted");
}

/* up --dry-run --sql: what the engine hands the backend's script writer, as one line */
static int mem_script(FILE *out, const mig_sql_config *cfg, const mig_ledger *ledger,
		      const mig_step *steps, size_t n, const mig_hook *before_up,
		      const mig_hook *after_up, mig_error *err)
{
	(void)cfg;
	(void)ledger;
	(void)err;
	fprintf(out, "script: %zu steps", n);
	for (size_t i = 0; i < n; i++)
		fprintf(out, " %s/%lld%s", steps[i].module, steps[i].version, steps[i].skip ? "(skip)" : "");
	fprintf(out, ", hooks %s %s\n", before_up ? "before_up" : "-", after_up ? "after_up" : "-");
	return MIG_OK;
}

/* The third backend: one table, one registry line. */
static const mig_sql_driver memory_driver = {
	.version = MIG_SQL_DRIVER_VERSION,
	.name = "memory",
	.connect = mem_connect,
	.disconnect = mem_disconnect,
	.lock = mem_lock,
	.ledger_prepare = mem_prepare,
	.ledger_read = mem_read,
	.apply = mem_apply,
	.resolve = mem_resolve,
	.script = mem_script,
};
static const mig_sql_driver *const memory_only[] = {&memory_driver};
static const mig_registry memory_registry = {memory_only, 1};

static bool script_next; /* the next run() is `up --dry-run --sql` */

/* Runs command name with ctx's config and plan; returns its status, output in *text. */
static int run(const char *name, mig_context *ctx, const char *module, char **text,
	       mig_error *err)
{
	char *buf = NULL;
	size_t len = 0;
	ctx->out = open_memstream(&buf, &len);
	memset(&ctx->args, 0, sizeof ctx->args);
	ctx->args.dry_run = ctx->args.sql = script_next; /* up --dry-run --sql, once */
	script_next = false;
	ctx->args.module = module;
	ctx->args.steps = 1;
	const mig_command *cmd = mig_command_find(name);
	assert_non_null(cmd);
	int rc = cmd->run(ctx, err);
	fclose(ctx->out);
	*text = buf;
	return rc;
}

static void test_a_fake_backend_runs_up_status_and_down(void **state)
{
	const char *root = *state;
	unit_put(root, "postgres/core/001_init.up.sql", "CREATE core one;");
	unit_put(root, "postgres/core/001_init.down.sql", "DROP core one;");
	unit_put(root, "postgres/core/002_more.up.sql", "CREATE core two;");
	unit_put(root, "postgres/catalog/001_items.up.sql", "CREATE catalog one;");
	unit_put(root, "postgres/catalog/001_items.down.sql", "DROP catalog one;");

	memory_db db = {0};
	char yaml[256];
	snprintf(yaml, sizeof yaml, "postgres:\n  dsn: \"%lx\"\nmodules:\n  catalog: {}\n",
		 (unsigned long)(uintptr_t)&db);
	mig_context ctx = {.registry = &memory_registry};
	mig_error err = {0};
	assert_int_equal(mig_config_parse(&ctx.cfg, yaml, strlen(yaml), "cfg.yaml", root, &err),
			 MIG_OK);
	ctx.cfg->pg.backend = "memory"; /* the registry name the session looks up */
	assert_int_equal(mig_plan_build(&ctx.plan, ctx.cfg, root, &err), MIG_OK);

	char *out;
	/* the script of a run with steps gets the hooks' places around them */
	script_next = true;
	assert_int_equal(run("up", &ctx, NULL, &out, &err), MIG_OK);
	assert_contains(out, "script: 3 steps core/1 core/2 catalog/1, hooks before_up after_up");
	free(out);
	assert_int_equal(db.nexecuted, 0);

	assert_int_equal(run("up", &ctx, NULL, &out, &err), MIG_OK);
	assert_contains(out, "applied core/001_init");
	assert_contains(out, "applied catalog/001_items");
	free(out);
	assert_int_equal(db.nexecuted, 3);
	assert_string_equal(db.executed[0], "up core/1");
	assert_string_equal(db.executed[1], "up core/2");
	assert_string_equal(db.executed[2], "up catalog/1");
	assert_int_equal(db.ledger.nrows, 3);
	assert_int_equal(strlen(db.ledger.rows[0].checksum), MIG_CHECKSUM_HEX - 1);

	/* nothing pending: a script with no steps and no hooks (engine.c:715 reading one item
	 * past the run survived every suite: nothing scripted an empty run) */
	script_next = true;
	assert_int_equal(run("up", &ctx, NULL, &out, &err), MIG_OK);
	assert_contains(out, "script: 0 steps, hooks - -");
	free(out);

	assert_int_equal(run("status", &ctx, NULL, &out, &err), MIG_OK);
	assert_contains(out, "catalog");
	assert_contains(out, "up to date");
	free(out);

	/* check on a backend without ledger_head reads the whole ledger: the same rule */
	assert_int_equal(run("check", &ctx, NULL, &out, &err), MIG_OK);
	assert_contains(out, "core schema applied (version 2)");
	free(out);
	db.ledger.rows[1].dirty = true; /* core/1, under the clean core/2 */
	assert_string_equal(db.ledger.rows[1].module, "core");
	assert_int_equal(run("check", &ctx, NULL, &out, &err), MIG_ESCHEMA);
	assert_contains(err.message, "core schema is dirty at version 1");
	free(out);
	db.ledger.rows[1].dirty = false;

	assert_int_equal(run("down", &ctx, "catalog", &out, &err), MIG_OK);
	assert_contains(out, "rolled back catalog/001_items");
	free(out);
	assert_string_equal(db.executed[3], "down catalog/1");
	assert_int_equal(db.ledger.nrows, 2);

	/* the registry refuses a name it does not have, and a table of another version */
	const mig_sql_driver *drv;
	assert_int_equal(mig_registry_sql(&drv, &memory_registry, "postgres", &err), MIG_EUSAGE);
	assert_contains(err.message, "no SQL backend named 'postgres'");
	mig_sql_driver old = memory_driver;
	old.version = MIG_SQL_DRIVER_VERSION - 1;
	const mig_sql_driver *const olds[] = {&old};
	mig_registry reg = {olds, 1};
	assert_int_equal(mig_registry_sql(&drv, &reg, "memory", &err), MIG_EUSAGE);
	assert_contains(err.message, "interface version");
	assert_int_equal(mig_registry_sql(&drv, NULL, "postgres", &err), MIG_OK);
	assert_string_equal(drv->name, "postgres");

	for (size_t i = 0; i < db.ledger.nrows; i++) {
		free(db.ledger.rows[i].module);
		free(db.ledger.rows[i].name);
	}
	free(db.ledger.rows);
	mig_context_clear(&ctx);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_a_fake_backend_runs_up_status_and_down,
						unit_scratch_setup, unit_scratch_teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

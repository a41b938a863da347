/* Unit tests of the planner: the migration file-name grammar (src/core/filename.c), the module
 * run order (src/core/module_order.c) and mig_plan_build (src/core/plan.c) on trees each test builds
 * in its own mkdtemp directory under /tmp, removed by the test's teardown. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <dirent.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/config.h"
#include "core/plan.h"
#include "unit.h"

/* --- helpers --- */

static mig_config *config(const char *yaml)
{
	mig_config *cfg = NULL;
	mig_error err = {0};
	int rc = mig_config_parse(&cfg, yaml, strlen(yaml), "cfg.yaml", "", &err);
	if (rc != MIG_OK)
		fail_msg("config did not parse: %s", err.message);
	return cfg;
}

static mig_plan *plan_ok(const mig_config *cfg, const char *root)
{
	mig_plan *plan = NULL;
	mig_error err = {0};
	int rc = mig_plan_build(&plan, cfg, root, &err);
	if (rc != MIG_OK)
		fail_msg("plan failed %d: %s", rc, err.message);
	assert_non_null(plan);
	return plan;
}

/* Builds a plan expecting MIG_EUSAGE; the message lands in err. */
static const char *plan_fails(const mig_config *cfg, const char *root, mig_error *err)
{
	mig_plan *plan = (mig_plan *)&plan;
	memset(err, 0, sizeof *err);
	int rc = mig_plan_build(&plan, cfg, root, err);
	if (rc != MIG_EUSAGE)
		fail_msg("expected MIG_EUSAGE, got %d (%s)", rc, err->message);
	assert_int_equal(err->code, MIG_EUSAGE);
	assert_null(plan);
	return err->message;
}

/* The path root/postgres/<module>/<file> the planner is expected to name. */
static char *pg_path(const char *root, const char *module, const char *file)
{
	size_t n = strlen(root) + strlen(module) + strlen(file) + 16;
	char *p = malloc(n);
	assert_non_null(p);
	if (*file)
		snprintf(p, n, "%s/postgres/%s/%s", root, module, file);
	else
		snprintf(p, n, "%s/postgres/%s", root, module);
	return p;
}

static void assert_message_names(const char *msg, const char *root, const char *module,
				 const char *file)
{
	char *p = pg_path(root, module, file);
	assert_contains(msg, p);
	free(p);
}

/* --- mig_filename_parse --- */

static void test_filename_up_and_down(void **state)
{
	(void)state;
	mig_filename f;
	assert_int_equal(mig_filename_parse("001_create_users.up.sql", &f), MIG_FILE_UP);
	assert_int_equal(f.kind, MIG_FILE_UP);
	assert_int_equal(f.version, 1);
	assert_int_equal(f.width, 3);
	assert_int_equal(f.name_len, strlen("create_users"));
	assert_memory_equal(f.name, "create_users", f.name_len);
	assert_null(f.why);

	assert_int_equal(mig_filename_parse("42_add-index.down.sql", &f), MIG_FILE_DOWN);
	assert_int_equal(f.version, 42);
	assert_int_equal(f.width, 2);
	assert_int_equal(f.name_len, strlen("add-index"));
	assert_memory_equal(f.name, "add-index", f.name_len);

	assert_int_equal(mig_filename_parse("0_Zero.up.sql", &f), MIG_FILE_UP);
	assert_int_equal(f.version, 0);
	assert_int_equal(f.width, 1);
}

static void test_filename_long_versions_and_width(void **state)
{
	(void)state;
	mig_filename f;
	assert_int_equal(mig_filename_parse("20241124000000_init.up.sql", &f), MIG_FILE_UP);
	assert_int_equal(f.version, 20241124000000LL);
	assert_int_equal(f.width, 14);

	assert_int_equal(mig_filename_parse("9223372036854775807_max.up.sql", &f), MIG_FILE_UP);
	assert_true(f.version == LLONG_MAX);
	assert_int_equal(f.width, 19);

	assert_int_equal(mig_filename_parse("000000000000000000000007_pad.down.sql", &f),
			 MIG_FILE_DOWN);
	assert_int_equal(f.version, 7);
	assert_int_equal(f.width, 24);
}

static void test_filename_version_overflow_is_bad(void **state)
{
	(void)state;
	mig_filename f;
	assert_int_equal(mig_filename_parse("9223372036854775808_x.up.sql", &f), MIG_FILE_BAD);
	assert_int_equal(f.kind, MIG_FILE_BAD);
	assert_non_null(f.why);
	assert_contains(f.why, "64 bits");
	assert_int_equal(mig_filename_parse("99999999999999999999999_x.down.sql", &f),
			 MIG_FILE_BAD);
	assert_contains(f.why, "64 bits");
}

static void expect_bad_name(const char *name, const char *why)
{
	mig_filename f;
	if (mig_filename_parse(name, &f) != MIG_FILE_BAD)
		fail_msg("'%s' was not classified as bad", name);
	assert_int_equal(f.kind, MIG_FILE_BAD);
	assert_non_null(f.why);
	assert_contains(f.why, why);
}

static void test_filename_bad_sql_names(void **state)
{
	(void)state;
	expect_bad_name("_init.up.sql", "version number first");
	expect_bad_name("init.up.sql", "version number first");
	expect_bad_name("001.up.sql", "'_'");
	expect_bad_name("001init.up.sql", "'_'");
	expect_bad_name("001_.up.sql", "empty");
	expect_bad_name("001_.down.sql", "empty");
	expect_bad_name("001_a\tb.up.sql", "control characters");
	expect_bad_name("001_a\x7f.up.sql", "control characters");
	expect_bad_name("001_a\nb.down.sql", "control characters");
	expect_bad_name("001_init.sql", "NNN_<name>.up.sql");
	expect_bad_name("schema.sql", "NNN_<name>.up.sql");
	expect_bad_name(".sql", "NNN_<name>.up.sql");
	expect_bad_name(".up.sql", "version number first");
	expect_bad_name("001_x.sideways.sql", "NNN_<name>.up.sql");
}

/* Other tools' trees: dots, spaces and UTF-8 in the name, version and suffix from the ends. */
static void test_filename_takes_other_tools_names(void **state)
{
	(void)state;
	mig_filename f;
	assert_int_equal(mig_filename_parse("000015_upgrade_channels_v6.0.up.sql", &f), MIG_FILE_UP);
	assert_int_equal(f.version, 15);
	assert_int_equal(f.width, 6);
	assert_int_equal(f.name_len, strlen("upgrade_channels_v6.0"));
	assert_memory_equal(f.name, "upgrade_channels_v6.0", f.name_len);
	assert_int_equal(mig_filename_parse("2_a b.c.down.sql", &f), MIG_FILE_DOWN);
	assert_memory_equal(f.name, "a b.c", f.name_len);
	assert_int_equal(mig_filename_parse("3_caf\xc3\xa9.up.sql", &f), MIG_FILE_UP);
	assert_int_equal(f.name_len, 5);
	/* a name that itself ends in .up: only the last suffix counts */
	assert_int_equal(mig_filename_parse("4_x.up.down.sql", &f), MIG_FILE_DOWN);
	assert_memory_equal(f.name, "x.up", f.name_len);
	/* create still writes only [A-Za-z0-9_-] names */
	assert_false(mig_migration_name_valid("v6.0"));
}

static void test_filename_non_sql_is_other(void **state)
{
	(void)state;
	mig_filename f;
	assert_int_equal(mig_filename_parse("README.md", &f), MIG_FILE_OTHER);
	assert_int_equal(f.kind, MIG_FILE_OTHER);
	assert_null(f.why);
	assert_int_equal(mig_filename_parse(".gitkeep", &f), MIG_FILE_OTHER);
	assert_int_equal(mig_filename_parse("001_init.up.sql.bak", &f), MIG_FILE_OTHER);
	assert_int_equal(mig_filename_parse("001_init.up", &f), MIG_FILE_OTHER);
	assert_int_equal(mig_filename_parse("indexes.json", &f), MIG_FILE_OTHER);
}

/* MongoDB's versioned files: NNN_<name>.up.json / .down.json; other .json files (the
 * module's indexes.json) are not migrations */
static void test_filename_json(void **state)
{
	(void)state;
	mig_filename f;
	assert_int_equal(mig_filename_parse_ext("002_backfill.up.json", ".json", &f), MIG_FILE_UP);
	assert_int_equal(f.version, 2);
	assert_int_equal(f.width, 3);
	assert_int_equal(f.name_len, strlen("backfill"));
	assert_memory_equal(f.name, "backfill", f.name_len);
	assert_int_equal(mig_filename_parse_ext("000001_x.down.json", ".json", &f), MIG_FILE_DOWN);
	assert_int_equal(f.version, 1);
	assert_int_equal(mig_filename_parse_ext("indexes.json", ".json", &f), MIG_FILE_OTHER);
	assert_int_equal(mig_filename_parse_ext("seed.json", ".json", &f), MIG_FILE_OTHER);
	assert_int_equal(mig_filename_parse_ext("001_init.up.sql", ".json", &f), MIG_FILE_OTHER);
	assert_int_equal(mig_filename_parse_ext("x_init.up.json", ".json", &f), MIG_FILE_BAD);
	assert_int_equal(mig_filename_parse_ext("001.up.json", ".json", &f), MIG_FILE_BAD);
	/* and the SQL side does not take them */
	assert_int_equal(mig_filename_parse("002_backfill.up.json", &f), MIG_FILE_OTHER);
}

static void test_migration_name_valid(void **state)
{
	(void)state;
	assert_true(mig_migration_name_valid("create_users"));
	assert_true(mig_migration_name_valid("Add-Index_2"));
	assert_false(mig_migration_name_valid(""));
	assert_false(mig_migration_name_valid("a b"));
	assert_false(mig_migration_name_valid("a.b"));
	assert_false(mig_migration_name_valid("a/b"));
	char name[202];
	memset(name, 'n', 200);
	name[200] = '\0';
	assert_true(mig_migration_name_valid(name));
	/* the same rule as the planner's: any length the file system takes */
	name[200] = 'n';
	name[201] = '\0';
	assert_true(mig_migration_name_valid(name));
	char file[220];
	snprintf(file, sizeof file, "1_%s.up.sql", name);
	mig_filename parsed;
	assert_int_equal(mig_filename_parse(file, &parsed), MIG_FILE_UP);
}

/* --- mig_module_order --- */

/* Orders cfg's modules and compares them with the NULL-terminated want list. */
static void check_order(const char *yaml, const char *const *want)
{
	mig_config *cfg = config(yaml);
	const char **names = NULL;
	size_t count = 0;
	mig_error err = {0};
	int rc = mig_module_order(&names, &count, cfg, &err);
	if (rc != MIG_OK)
		fail_msg("order failed: %s", err.message);
	size_t n = 0;
	while (want[n])
		n++;
	assert_int_equal(count, n);
	for (size_t i = 0; i < n; i++)
		assert_string_equal(names[i], want[i]);
	free(names);
	mig_config_free(cfg);
}

static const char *order_fails(const char *yaml, mig_error *err)
{
	mig_config *cfg = config(yaml);
	const char **names = (const char **)&names;
	size_t count = 99;
	memset(err, 0, sizeof *err);
	assert_int_equal(mig_module_order(&names, &count, cfg, err), MIG_EUSAGE);
	assert_int_equal(err->code, MIG_EUSAGE);
	assert_null(names);
	assert_int_equal(count, 0);
	mig_config_free(cfg);
	return err->message;
}

static void test_order_core_only_without_modules(void **state)
{
	(void)state;
	check_order("modules:\n", (const char *[]){"core", NULL});
	check_order("root: x\n", (const char *[]){"core", NULL});
}

static void test_order_core_first_then_config_order(void **state)
{
	(void)state;
	check_order("modules:\n  zeta:\n  alpha:\n  mid:\n",
		    (const char *[]){"core", "zeta", "alpha", "mid", NULL});
}

static void test_order_core_listed_in_config_still_first_once(void **state)
{
	(void)state;
	check_order("modules:\n  alpha:\n  core:\n  beta:\n",
		    (const char *[]){"core", "alpha", "beta", NULL});
	check_order("modules:\n  alpha:\n  core: {enabled: false}\n",
		    (const char *[]){"core", "alpha", NULL});
}

static void test_order_requires_moves_module_later_only_as_needed(void **state)
{
	(void)state;
	check_order("modules:\n"
		    "  billing: {requires: [catalog]}\n"
		    "  catalog:\n"
		    "  search:\n",
		    (const char *[]){"core", "catalog", "billing", "search", NULL});
	check_order("modules:\n"
		    "  x: {requires: [z]}\n"
		    "  y:\n"
		    "  z:\n"
		    "  w:\n",
		    (const char *[]){"core", "y", "z", "x", "w", NULL});
	/* already satisfied: nothing moves */
	check_order("modules:\n  catalog:\n  billing: {requires: [catalog, core]}\n  search:\n",
		    (const char *[]){"core", "catalog", "billing", "search", NULL});
}

static void test_order_reversed_chain(void **state)
{
	(void)state;
	check_order("modules:\n"
		    "  c: {requires: [b]}\n"
		    "  b: {requires: [a]}\n"
		    "  a:\n",
		    (const char *[]){"core", "a", "b", "c", NULL});
}

static void test_order_disabled_modules_skipped(void **state)
{
	(void)state;
	check_order("modules:\n"
		    "  wishlist: {enabled: false, requires: [ghost]}\n"
		    "  catalog:\n"
		    "  promo: {enabled: false}\n",
		    (const char *[]){"core", "catalog", NULL});
}

static void test_order_cycle_names_the_modules(void **state)
{
	(void)state;
	mig_error err;
	const char *msg = order_fails("modules:\n"
				      "  a: {requires: [b]}\n"
				      "  b: {requires: [a]}\n"
				      "  c:\n",
				      &err);
	assert_contains(msg, "modules require each other: a -> b -> a");
	assert_contains(msg, "cfg.yaml");

	msg = order_fails("modules:\n  solo: {requires: [solo]}\n", &err);
	assert_contains(msg, "solo -> solo");

	/* the module that leads into the cycle is not part of it */
	msg = order_fails("modules:\n"
			  "  top: {requires: [b]}\n"
			  "  b: {requires: [c]}\n"
			  "  c: {requires: [b]}\n",
			  &err);
	assert_contains(msg, ": b -> c -> b");

	/* a cycle longer than the path describe_cycle follows (256): still a clean error,
	 * named as "a cycle", and no write past the path (ASan would see one) */
	enum { LONG = 300 };
	size_t cap = (size_t)LONG * 40 + 16, used = 0;
	char *yaml = malloc(cap);
	assert_non_null(yaml);
	used += (size_t)snprintf(yaml + used, cap - used, "modules:\n");
	for (int i = 0; i < LONG; i++)
		used += (size_t)snprintf(yaml + used, cap - used, "  m%d: {requires: [m%d]}\n", i,
					 (i + 1) % LONG);
	assert_true(used < cap);
	msg = order_fails(yaml, &err);
	assert_contains(msg, "modules require each other: a cycle");
	free(yaml);
}

static void test_order_requires_unknown_module_names_both(void **state)
{
	(void)state;
	mig_error err;
	const char *msg = order_fails("modules:\n  catalog:\n  billing: {requires: [ghost]}\n", &err);
	assert_contains(msg, "module 'billing' requires unknown module 'ghost'");
	assert_contains(msg, "(cfg.yaml:3)");
}

static void test_order_requires_disabled_module_names_both(void **state)
{
	(void)state;
	mig_error err;
	const char *msg = order_fails("modules:\n"
				      "  wishlist: {enabled: false}\n"
				      "  billing: {requires: [wishlist]}\n",
				      &err);
	assert_contains(msg, "module 'billing' requires disabled module 'wishlist'");
	assert_contains(msg, "(cfg.yaml:3)");
}

static void test_order_core_requiring_anything_is_an_error(void **state)
{
	(void)state;
	mig_error err;
	const char *msg = order_fails("modules:\n  catalog:\n  core: {requires: [catalog]}\n", &err);
	assert_contains(msg, "'core' cannot require");
	assert_contains(msg, "(cfg.yaml:3)");
}

/* --- mig_plan_build --- */

static void test_plan_core_first_then_config_order(void **state)
{
	const char *root = *state;
	unit_put(root, "postgres/core/001_init.up.sql", NULL);
	unit_put(root, "postgres/catalog/001_products.up.sql", NULL);
	unit_put(root, "postgres/billing/001_invoices.up.sql", NULL);
	mig_config *cfg = config("modules:\n  billing:\n  catalog:\n");
	mig_plan *plan = plan_ok(cfg, root);
	assert_int_equal(plan->nmodules, 3);
	const char *want[] = {"core", "billing", "catalog"};
	for (size_t i = 0; i < 3; i++) {
		assert_string_equal(plan->modules[i].name, want[i]);
		char *dir = pg_path(root, want[i], "");
		assert_string_equal(plan->modules[i].dir, dir);
		free(dir);
		assert_int_equal(plan->modules[i].nmigrations, 1);
	}
	char *up = pg_path(root, "billing", "001_invoices.up.sql");
	assert_string_equal(plan->modules[1].migrations[0].up_path, up);
	assert_string_equal(plan->modules[1].migrations[0].name, "invoices");
	assert_null(plan->modules[1].migrations[0].down_path);
	free(up);
	assert_ptr_equal(mig_plan_module(plan, "catalog"), &plan->modules[2]);
	mig_plan_free(plan);
	mig_config_free(cfg);
}

static void test_plan_skips_disabled_and_unlisted_modules(void **state)
{
	const char *root = *state;
	unit_put(root, "postgres/core/001_init.up.sql", NULL);
	unit_put(root, "postgres/wishlist/001_wishes.up.sql", NULL);
	unit_put(root, "postgres/extra/001_more.up.sql", NULL);
	unit_put(root, "postgres/catalog/001_products.up.sql", NULL);
	mig_config *cfg = config("modules:\n  wishlist: {enabled: false}\n  catalog:\n");
	mig_plan *plan = plan_ok(cfg, root);
	assert_int_equal(plan->nmodules, 2);
	assert_string_equal(plan->modules[0].name, "core");
	assert_string_equal(plan->modules[1].name, "catalog");
	assert_null(mig_plan_module(plan, "wishlist"));
	assert_null(mig_plan_module(plan, "extra"));
	mig_plan_free(plan);
	mig_config_free(cfg);
}

static void test_plan_missing_module_dir_is_an_empty_module(void **state)
{
	const char *root = *state;
	unit_put(root, "postgres/core/001_init.up.sql", NULL);
	mig_config *cfg = config("modules:\n  catalog:\n");
	mig_plan *plan = plan_ok(cfg, root);
	const mig_module_plan *mod = mig_plan_module(plan, "catalog");
	assert_non_null(mod);
	assert_int_equal(mod->nmigrations, 0);
	char *dir = pg_path(root, "catalog", "");
	assert_string_equal(mod->dir, dir);
	free(dir);
	mig_plan_free(plan);
	mig_config_free(cfg);
}

static void test_plan_root_without_postgres_dir_has_empty_core(void **state)
{
	const char *root = *state;
	unit_put(root, "mongodb/catalog/indexes.json", NULL);
	mig_config *cfg = config("modules:\n  catalog:\n");
	mig_plan *plan = plan_ok(cfg, root);
	assert_int_equal(plan->nmodules, 2);
	assert_int_equal(plan->modules[0].nmigrations, 0);
	assert_int_equal(plan->modules[1].nmigrations, 0);
	mig_plan_free(plan);
	mig_config_free(cfg);
}

static void test_plan_ignores_subdirectories_even_with_migration_names(void **state)
{
	const char *root = *state;
	unit_put(root, "postgres/core/001_init.up.sql", NULL);
	unit_put(root, "postgres/core/003_x.up.sql/", NULL);
	unit_put(root, "postgres/core/bad name.sql/", NULL);
	unit_put(root, "postgres/core/archive/002_old.up.sql", NULL);
	unit_put(root, "postgres/core/archive/junk.sql", NULL);
	mig_config *cfg = config("modules:\n");
	mig_plan *plan = plan_ok(cfg, root);
	assert_int_equal(plan->modules[0].nmigrations, 1);
	assert_int_equal(plan->modules[0].migrations[0].version, 1);
	mig_plan_free(plan);
	mig_config_free(cfg);
}

static void test_plan_ignores_other_files_and_dotfiles(void **state)
{
	const char *root = *state;
	unit_put(root, "postgres/core/README.md", NULL);
	unit_put(root, "postgres/core/.gitkeep", NULL);
	unit_put(root, "postgres/core/.005_hidden.up.sql", NULL);
	unit_put(root, "postgres/core/.broken.sql", NULL);
	unit_put(root, "postgres/core/notes.txt", NULL);
	unit_put(root, "postgres/core/001_init.up.sql", NULL);
	unit_put(root, "postgres/README.md", NULL);
	unit_put(root, "postgres/.Hidden-Dir/", NULL);
	mig_config *cfg = config("modules:\n");
	mig_plan *plan = plan_ok(cfg, root);
	assert_int_equal(plan->nmodules, 1);
	assert_int_equal(plan->modules[0].nmigrations, 1);
	assert_string_equal(plan->modules[0].migrations[0].name, "init");
	mig_plan_free(plan);
	mig_config_free(cfg);
}

static void test_plan_sorts_versions_numerically(void **state)
{
	const char *root = *state;
	unit_put(root, "postgres/core/10_ten.up.sql", NULL);
	unit_put(root, "postgres/core/2_two.up.sql", NULL);
	unit_put(root, "postgres/core/001_one.up.sql", NULL);
	unit_put(root, "postgres/core/20241124000000_stamp.up.sql", NULL);
	mig_config *cfg = config("modules:\n");
	mig_plan *plan = plan_ok(cfg, root);
	const mig_module_plan *core = &plan->modules[0];
	assert_int_equal(core->nmigrations, 4);
	const long long versions[] = {1, 2, 10, 20241124000000LL};
	const unsigned widths[] = {3, 1, 2, 14};
	const char *names[] = {"one", "two", "ten", "stamp"};
	for (size_t i = 0; i < 4; i++) {
		assert_true(core->migrations[i].version == versions[i]);
		assert_int_equal(core->migrations[i].width, widths[i]);
		assert_string_equal(core->migrations[i].name, names[i]);
	}
	mig_plan_free(plan);
	mig_config_free(cfg);
}

static void test_plan_pairs_down_with_up(void **state)
{
	const char *root = *state;
	unit_put(root, "postgres/core/001_init.up.sql", NULL);
	unit_put(root, "postgres/core/001_init.down.sql", NULL);
	unit_put(root, "postgres/core/002_more.up.sql", NULL);
	unit_put(root, "postgres/core/003_last.down.sql", NULL);
	unit_put(root, "postgres/core/003_last.up.sql", NULL);
	mig_config *cfg = config("modules:\n");
	mig_plan *plan = plan_ok(cfg, root);
	const mig_module_plan *core = &plan->modules[0];
	assert_int_equal(core->nmigrations, 3);
	char *down1 = pg_path(root, "core", "001_init.down.sql");
	char *down3 = pg_path(root, "core", "003_last.down.sql");
	char *up3 = pg_path(root, "core", "003_last.up.sql");
	assert_string_equal(core->migrations[0].down_path, down1);
	assert_null(core->migrations[1].down_path);
	assert_string_equal(core->migrations[2].down_path, down3);
	assert_string_equal(core->migrations[2].up_path, up3);
	free(down1);
	free(down3);
	free(up3);
	mig_plan_free(plan);
	mig_config_free(cfg);
}

static void test_plan_orphan_down_names_the_file(void **state)
{
	const char *root = *state;
	unit_put(root, "postgres/core/001_init.up.sql", NULL);
	unit_put(root, "postgres/core/002_gone.down.sql", NULL);
	mig_config *cfg = config("modules:\n");
	mig_error err;
	const char *msg = plan_fails(cfg, root, &err);
	assert_message_names(msg, root, "core", "002_gone.down.sql");
	assert_contains(msg, "no matching .up.sql");
	mig_config_free(cfg);
}

static void test_plan_down_with_another_name_is_an_error(void **state)
{
	const char *root = *state;
	unit_put(root, "postgres/core/001_init.up.sql", NULL);
	unit_put(root, "postgres/core/1_other.down.sql", NULL);
	mig_config *cfg = config("modules:\n");
	mig_error err;
	const char *msg = plan_fails(cfg, root, &err);
	assert_message_names(msg, root, "core", "1_other.down.sql");
	assert_message_names(msg, root, "core", "001_init.up.sql");
	mig_config_free(cfg);
}

static void test_plan_duplicate_up_versions_name_both_files(void **state)
{
	const char *root = *state;
	unit_put(root, "postgres/catalog/001_a.up.sql", NULL);
	unit_put(root, "postgres/catalog/1_b.up.sql", NULL);
	mig_config *cfg = config("modules:\n  catalog:\n");
	mig_error err;
	const char *msg = plan_fails(cfg, root, &err);
	assert_contains(msg, "duplicate version 1");
	assert_contains(msg, "'catalog'");
	assert_message_names(msg, root, "catalog", "001_a.up.sql");
	assert_message_names(msg, root, "catalog", "1_b.up.sql");
	mig_config_free(cfg);
}

static void test_plan_duplicate_down_versions_name_both_files(void **state)
{
	const char *root = *state;
	unit_put(root, "postgres/core/001_a.up.sql", NULL);
	unit_put(root, "postgres/core/001_a.down.sql", NULL);
	unit_put(root, "postgres/core/01_a.down.sql", NULL);
	mig_config *cfg = config("modules:\n");
	mig_error err;
	const char *msg = plan_fails(cfg, root, &err);
	assert_contains(msg, "duplicate version 1");
	assert_message_names(msg, root, "core", "001_a.down.sql");
	assert_message_names(msg, root, "core", "01_a.down.sql");
	mig_config_free(cfg);
}

static void test_plan_bad_sql_name_names_it(void **state)
{
	const char *root = *state;
	unit_put(root, "postgres/core/001_init.up.sql", NULL);
	unit_put(root, "postgres/core/schema.sql", NULL);
	mig_config *cfg = config("modules:\n");
	mig_error err;
	const char *msg = plan_fails(cfg, root, &err);
	assert_contains(msg, "bad migration file name");
	assert_message_names(msg, root, "core", "schema.sql");
	mig_config_free(cfg);
}

static void test_plan_bad_sql_name_in_later_module_names_it(void **state)
{
	const char *root = *state;
	unit_put(root, "postgres/core/001_init.up.sql", NULL);
	unit_put(root, "postgres/catalog/9223372036854775808_big.up.sql", NULL);
	mig_config *cfg = config("modules:\n  catalog:\n");
	mig_error err;
	const char *msg = plan_fails(cfg, root, &err);
	assert_message_names(msg, root, "catalog", "9223372036854775808_big.up.sql");
	assert_contains(msg, "64 bits");
	mig_config_free(cfg);
}

static void test_plan_bad_module_directory_name_names_it(void **state)
{
	const char *root = *state;
	unit_put(root, "postgres/core/001_init.up.sql", NULL);
	unit_put(root, "postgres/Bad-Name/001_x.up.sql", NULL);
	mig_config *cfg = config("modules:\n");
	mig_error err;
	const char *msg = plan_fails(cfg, root, &err);
	assert_contains(msg, "bad module directory name");
	assert_message_names(msg, root, "Bad-Name", "");
	mig_config_free(cfg);
}

static void test_plan_missing_root_names_it(void **state)
{
	char *root = unit_join(*state, "nope");
	mig_config *cfg = config("modules:\n");
	mig_error err;
	const char *msg = plan_fails(cfg, root, &err);
	assert_contains(msg, root);
	assert_contains(msg, "No such file");
	free(root);
	mig_config_free(cfg);
}

static void test_plan_root_that_is_a_file(void **state)
{
	unit_put(*state, "tree", NULL);
	char *root = unit_join(*state, "tree");
	mig_config *cfg = config("modules:\n");
	mig_error err;
	const char *msg = plan_fails(cfg, root, &err);
	assert_contains(msg, root);
	assert_contains(msg, "not a directory");
	free(root);
	mig_config_free(cfg);
}

static void test_plan_reports_module_order_errors(void **state)
{
	const char *root = *state;
	unit_put(root, "postgres/core/001_init.up.sql", NULL);
	mig_config *cfg = config("modules:\n  billing: {requires: [ghost]}\n");
	mig_error err;
	const char *msg = plan_fails(cfg, root, &err);
	assert_contains(msg, "module 'billing' requires unknown module 'ghost'");
	mig_config_free(cfg);
}

/* --- mig_plan_choose_root --- */

static void test_choose_root_precedence(void **state)
{
	(void)state;
	mig_config *with_root = config("root: /srv/tree\n");
	mig_config *without = config("modules:\n");
	assert_string_equal(mig_plan_choose_root("cli/tree", with_root), "cli/tree");
	assert_string_equal(mig_plan_choose_root(NULL, with_root), "/srv/tree");
	assert_string_equal(mig_plan_choose_root(NULL, without), "migrations");
	assert_string_equal(mig_plan_choose_root(NULL, NULL), "migrations");
	assert_string_equal(mig_plan_choose_root("x", NULL), "x");
	mig_config_free(with_root);
	mig_config_free(without);
}

/* The order against a plain reference on seeded random requirement graphs: repeatedly
 * place the module earliest in config order whose requirements are all placed (what the
 * heap in module_order.c computes faster). The mutation run found the heap's sift-up
 * untested: the hand-written cases never push an early module into a heap of four. */
static void test_order_random_graphs_match_reference(void **state)
{
	(void)state;
	unsigned long long seed = 31;
	for (int round = 0; round < 300; round++) {
		enum { MAXN = 14 };
		seed = seed * 6364136223846793005ULL + 1442695040888963407ULL;
		size_t n = 2 + (size_t)(seed >> 33) % (MAXN - 1);
		size_t rank[MAXN];
		bool req[MAXN][MAXN] = {{false}};
		for (size_t i = 0; i < n; i++)
			rank[i] = i;
		for (size_t i = n - 1; i > 0; i--) { /* a seeded shuffle: the graph's hidden order */
			seed = seed * 6364136223846793005ULL + 1442695040888963407ULL;
			size_t j = (size_t)(seed >> 33) % (i + 1), t = rank[i];
			rank[i] = rank[j];
			rank[j] = t;
		}
		char yaml[4096];
		size_t used = (size_t)snprintf(yaml, sizeof yaml, "modules:\n");
		for (size_t i = 0; i < n; i++) {
			used += (size_t)snprintf(yaml + used, sizeof yaml - used, "  m%zu: { requires: [", i);
			bool first = true;
			for (size_t j = 0; j < n; j++) {
				seed = seed * 6364136223846793005ULL + 1442695040888963407ULL;
				if (rank[j] < rank[i] && (seed >> 33) % 3 == 0) {
					req[i][j] = true;
					used += (size_t)snprintf(yaml + used, sizeof yaml - used, "%sm%zu",
								 first ? "" : ", ", j);
					first = false;
				}
			}
			used += (size_t)snprintf(yaml + used, sizeof yaml - used, "] }\n");
		}
		assert_true(used < sizeof yaml);
		/* the reference */
		const char *want[MAXN + 2];
		char names[MAXN][8];
		bool placed[MAXN] = {false};
		want[0] = "core";
		for (size_t k = 0; k < n; k++) {
			size_t pick = n;
			for (size_t i = 0; i < n && pick == n; i++) {
				if (placed[i])
					continue;
				bool ready = true;
				for (size_t j = 0; j < n; j++)
					if (req[i][j] && !placed[j])
						ready = false;
				if (ready)
					pick = i;
			}
			assert_true(pick < n);
			placed[pick] = true;
			snprintf(names[k], sizeof names[k], "m%zu", pick);
			want[k + 1] = names[k];
		}
		want[n + 1] = NULL;
		check_order(yaml, want);
	}
}

#define TREE_TEST(fn) cmocka_unit_test_setup_teardown(fn, unit_scratch_setup, unit_scratch_teardown)

/* Regression: ordering was cubic in the number of modules, so a config listing tens of
 * thousands of modules hung. A chain of 20,000 requirements listed backwards must come
 * out in dependency order. */
static void test_order_many_modules_in_a_chain(void **state)
{
	(void)state;
	enum { N = 20000 };
	size_t cap = (size_t)N * 48 + 16, used = 0;
	char *yaml = malloc(cap);
	used += (size_t)snprintf(yaml + used, cap - used, "modules:\n");
	for (int i = N - 1; i >= 0; i--)
		used += (size_t)snprintf(yaml + used, cap - used,
					 i ? "  m%d: { requires: [m%d] }\n" : "  m%d: {}\n", i, i - 1);
	mig_config *cfg = NULL;
	mig_error err = {0};
	assert_int_equal(mig_config_parse(&cfg, yaml, used, "big.yaml", "/d", &err), MIG_OK);
	const char **names;
	size_t n;
	assert_int_equal(mig_module_order(&names, &n, cfg, &err), MIG_OK);
	assert_int_equal(n, N + 1);
	assert_string_equal(names[0], "core");
	assert_string_equal(names[1], "m0");
	assert_string_equal(names[N], "m19999");
	free(names);
	mig_config_free(cfg);
	free(yaml);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_filename_up_and_down),
		cmocka_unit_test(test_filename_long_versions_and_width),
		cmocka_unit_test(test_filename_version_overflow_is_bad),
		cmocka_unit_test(test_filename_bad_sql_names),
		cmocka_unit_test(test_filename_non_sql_is_other),
		cmocka_unit_test(test_filename_json),
		cmocka_unit_test(test_filename_takes_other_tools_names),
		cmocka_unit_test(test_migration_name_valid),
		cmocka_unit_test(test_order_core_only_without_modules),
		cmocka_unit_test(test_order_core_first_then_config_order),
		cmocka_unit_test(test_order_random_graphs_match_reference),
		cmocka_unit_test(test_order_core_listed_in_config_still_first_once),
		cmocka_unit_test(test_order_requires_moves_module_later_only_as_needed),
		cmocka_unit_test(test_order_reversed_chain),
		cmocka_unit_test(test_order_disabled_modules_skipped),
		cmocka_unit_test(test_order_cycle_names_the_modules),
		cmocka_unit_test(test_order_requires_unknown_module_names_both),
		cmocka_unit_test(test_order_requires_disabled_module_names_both),
		cmocka_unit_test(test_order_core_requiring_anything_is_an_error),
		TREE_TEST(test_plan_core_first_then_config_order),
		TREE_TEST(test_plan_skips_disabled_and_unlisted_modules),
		TREE_TEST(test_plan_missing_module_dir_is_an_empty_module),
		TREE_TEST(test_plan_root_without_postgres_dir_has_empty_core),
		TREE_TEST(test_plan_ignores_subdirectories_even_with_migration_names),
		TREE_TEST(test_plan_ignores_other_files_and_dotfiles),
		TREE_TEST(test_plan_sorts_versions_numerically),
		TREE_TEST(test_plan_pairs_down_with_up),
		TREE_TEST(test_plan_orphan_down_names_the_file),
		TREE_TEST(test_plan_down_with_another_name_is_an_error),
		TREE_TEST(test_plan_duplicate_up_versions_name_both_files),
		TREE_TEST(test_plan_duplicate_down_versions_name_both_files),
		TREE_TEST(test_plan_bad_sql_name_names_it),
		TREE_TEST(test_plan_bad_sql_name_in_later_module_names_it),
		TREE_TEST(test_plan_bad_module_directory_name_names_it),
		TREE_TEST(test_plan_missing_root_names_it),
		TREE_TEST(test_plan_root_that_is_a_file),
		TREE_TEST(test_plan_reports_module_order_errors),
		cmocka_unit_test(test_choose_root_precedence),
		cmocka_unit_test(test_order_many_modules_in_a_chain),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

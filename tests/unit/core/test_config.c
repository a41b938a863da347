/* Unit tests of config.yaml loading (src/core/config.c): what a good file turns into, and that
 * every bad one (unknown keys, wrong types, unset variables, YAML errors, alias bombs, huge
 * or odd files) fails with MIG_EUSAGE and a message naming the key or file and the line. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "core/config.h"
#include "unit.h"



#define assert_not_contains(hay, needle)                                                  \
	do {                                                                              \
		const char *h_ = (hay), *n_ = (needle);                                   \
		if (strstr(h_, n_))                                                       \
			fail_msg("'%s' contains '%s'", h_, n_);                          \
	} while (0)

/* The scratch directory of this run (group setup makes it, group teardown removes it). */
static char scratch[] = "/tmp/ut_config_XXXXXX";

static mig_config *parse_ok(const char *yaml)
{
	mig_config *cfg = NULL;
	mig_error err = {0};
	int rc = mig_config_parse(&cfg, yaml, strlen(yaml), "t.yaml", "/cfgdir", &err);
	if (rc != MIG_OK)
		fail_msg("unexpected error %d: %s", rc, err.message);
	assert_non_null(cfg);
	return cfg;
}

/* Parses text of len bytes expecting MIG_EUSAGE; the message lands in err. */
static void parse_fails_n(const char *text, size_t len, mig_error *err)
{
	mig_config *cfg = (mig_config *)&cfg; /* must be reset to NULL */
	memset(err, 0, sizeof *err);
	int rc = mig_config_parse(&cfg, text, len, "t.yaml", "/cfgdir", err);
	if (rc != MIG_EUSAGE)
		fail_msg("expected MIG_EUSAGE, got %d (%s)", rc, err->message);
	assert_int_equal(err->code, MIG_EUSAGE);
	assert_null(cfg);
	assert_null(strchr(err->message, '\n'));
}

static const char *parse_fails(const char *yaml, mig_error *err)
{
	parse_fails_n(yaml, strlen(yaml), err);
	return err->message;
}

static char *scratch_path(const char *name)
{
	size_t n = strlen(scratch) + strlen(name) + 2;
	char *p = malloc(n);
	assert_non_null(p);
	snprintf(p, n, "%s/%s", scratch, name);
	return p;
}

/* --- the mongodb: keys of versioned MongoDB migrations --- */

static void test_mongodb_run_keys(void **state)
{
	(void)state;
	mig_config *cfg = parse_ok("mongodb:\n  uri: \"mongodb://h\"\n  database: d\n");
	assert_int_equal(cfg->mongo_run.lock_wait_ms, 60000);
	assert_int_equal(cfg->mongo_run.lock_lease_ms, 300000);
	assert_null(cfg->mongo_run.write_concern);
	assert_int_equal(cfg->mongo_run.max_time_ms, 0);
	assert_null(cfg->mongo_run.commit_quorum);
	mig_config_free(cfg);
	cfg = parse_ok("mongodb:\n  uri: \"mongodb://h\"\n  database: d\n  lock_wait: 5s\n"
		       "  lock_lease: 2m\n  write_concern: 2\n  max_time_ms: 1500\n"
		       "  commit_quorum: votingMembers\n");
	assert_int_equal(cfg->mongo_run.lock_wait_ms, 5000);
	assert_int_equal(cfg->mongo_run.lock_lease_ms, 120000);
	assert_string_equal(cfg->mongo_run.write_concern, "2");
	assert_int_equal(cfg->mongo_run.max_time_ms, 1500); /* a bare number is milliseconds */
	assert_string_equal(cfg->mongo_run.commit_quorum, "votingMembers");
	mig_config_free(cfg);
	cfg = parse_ok("mongodb:\n  uri: \"mongodb://h\"\n  database: d\n  max_time_ms: 10s\n"
		       "  write_concern: majority\n");
	assert_int_equal(cfg->mongo_run.max_time_ms, 10000);
	assert_string_equal(cfg->mongo_run.write_concern, "majority");
	mig_config_free(cfg);
	mig_error err;
	assert_contains(parse_fails("mongodb:\n  uri: \"mongodb://h\"\n  database: d\n"
				    "  write_concern: votingMembers\n", &err),
			"'mongodb.write_concern' must be majority or a number of members (t.yaml:4)");
	assert_contains(parse_fails("mongodb:\n  uri: \"mongodb://h\"\n  database: d\n"
				    "  commit_quorum: all\n", &err),
			"'mongodb.commit_quorum' must be majority, votingMembers or a number of members (t.yaml:4)");
	assert_contains(parse_fails("mongodb:\n  uri: \"mongodb://h\"\n  database: d\n"
				    "  lock_lease: 500ms\n", &err),
			"'mongodb.lock_lease' must be at least 1s (t.yaml:4)");
	assert_contains(parse_fails("mongodb:\n  uri: \"mongodb://h\"\n  database: d\n"
				    "  max_time_ms: -1\n", &err),
			"'mongodb.max_time_ms' must be a number of milliseconds");
	assert_contains(parse_fails("mongodb:\n  uri: \"mongodb://h\"\n  database: d\n"
				    "  lock_wait: soon\n", &err),
			"'mongodb.lock_wait' must be a duration");
}

/* --- a good file --- */

static const char full_example[] =
	"postgres:\n"
	"  dsn: \"postgres://app:${MIGT_DB_PASS}@${MIGT_DB_HOST:-localhost}:5432/app\"\n"
	"  lock_wait: 30s\n"
	"  lock_timeout: 10s\n"
	"  statement_timeout: 0\n"
	"  lock: table\n"
	"mongodb:\n"
	"  uri: \"mongodb://root:${MIGT_MONGO_PASS}@localhost:27017\"\n"
	"  database: app\n"
	"root: migs\n"
	"modules:\n"
	"  catalog: { enabled: true }\n"
	"  billing: { enabled: true, requires: [catalog] }\n"
	"  wishlist: { enabled: false }\n"
	"  search:\n";

static void test_full_example(void **state)
{
	(void)state;
	setenv("MIGT_DB_PASS", "s%40cret", 1);
	unsetenv("MIGT_DB_HOST");
	setenv("MIGT_MONGO_PASS", "m0ngo", 1);
	mig_config *cfg = parse_ok(full_example);
	unsetenv("MIGT_DB_PASS");
	unsetenv("MIGT_MONGO_PASS");

	assert_string_equal(cfg->path, "t.yaml");
	assert_true(cfg->has_postgres);
	assert_string_equal(cfg->pg.dsn, "postgres://app:s%40cret@localhost:5432/app");
	assert_int_equal(cfg->pg.lock_wait_ms, 30000);
	assert_int_equal(cfg->pg.lock_timeout_ms, 10000);
	assert_int_equal(cfg->pg.statement_timeout_ms, 0);
	assert_int_equal(cfg->pg.lock_mode, MIG_LOCK_TABLE);
	assert_true(cfg->has_mongodb);
	assert_string_equal(cfg->mongo_uri, "mongodb://root:m0ngo@localhost:27017");
	assert_string_equal(cfg->mongo_database, "app");
	assert_string_equal(cfg->root, "/cfgdir/migs");

	assert_int_equal(cfg->nmodules, 4);
	const char *names[] = {"catalog", "billing", "wishlist", "search"};
	const bool enabled[] = {true, true, false, true};
	for (size_t i = 0; i < 4; i++) {
		assert_string_equal(cfg->modules[i].name, names[i]);
		assert_int_equal(cfg->modules[i].enabled, enabled[i]);
		assert_int_equal(cfg->modules[i].line, 12 + i);
	}
	assert_int_equal(cfg->modules[0].nrequires, 0);
	assert_int_equal(cfg->modules[1].nrequires, 1);
	assert_string_equal(cfg->modules[1].requires[0], "catalog");
	assert_int_equal(cfg->modules[3].nrequires, 0);

	assert_ptr_equal(mig_config_module(cfg, "billing"), &cfg->modules[1]);
	assert_null(mig_config_module(cfg, "ghost"));

	assert_int_equal(cfg->secrets.n, 3);
	assert_string_equal(cfg->secrets.items[0], "s%40cret");
	assert_string_equal(cfg->secrets.items[1], "s@cret");
	assert_string_equal(cfg->secrets.items[2], "m0ngo");
	mig_config_free(cfg);
}

static void test_defaults_when_sections_are_absent(void **state)
{
	(void)state;
	mig_config *cfg = parse_ok("modules:\n");
	assert_false(cfg->has_postgres);
	assert_null(cfg->pg.dsn);
	assert_false(cfg->has_mongodb);
	assert_null(cfg->mongo_uri);
	assert_null(cfg->root);
	assert_int_equal(cfg->nmodules, 0);
	assert_int_equal(cfg->secrets.n, 0);
	assert_int_equal(cfg->pg.lock_wait_ms, 60000);
	assert_int_equal(cfg->pg.lock_timeout_ms, -1);
	assert_int_equal(cfg->pg.statement_timeout_ms, -1);
	assert_int_equal(cfg->pg.lock_mode, MIG_LOCK_ADVISORY);
	mig_config_free(cfg);
}

static void test_postgres_without_dsn_means_libpq_defaults(void **state)
{
	(void)state;
	mig_config *cfg = parse_ok("postgres: {lock: advisory}\n");
	assert_true(cfg->has_postgres);
	assert_string_equal(cfg->pg.dsn, "");
	assert_int_equal(cfg->pg.lock_mode, MIG_LOCK_ADVISORY);
	mig_config_free(cfg);
}

static void test_module_enabled_defaults_true_and_keeps_order(void **state)
{
	(void)state;
	mig_config *cfg = parse_ok("modules:\n"
				   "  zeta:\n"
				   "  alpha: {}\n"
				   "  mid: {requires: []}\n");
	assert_int_equal(cfg->nmodules, 3);
	assert_string_equal(cfg->modules[0].name, "zeta");
	assert_string_equal(cfg->modules[1].name, "alpha");
	assert_string_equal(cfg->modules[2].name, "mid");
	for (size_t i = 0; i < 3; i++) {
		assert_true(cfg->modules[i].enabled);
		assert_int_equal(cfg->modules[i].nrequires, 0);
		assert_int_equal(cfg->modules[i].line, 2 + i);
	}
	mig_config_free(cfg);
}

static void test_root_resolution(void **state)
{
	(void)state;
	mig_config *cfg = parse_ok("root: /abs/tree\n");
	assert_string_equal(cfg->root, "/abs/tree");
	mig_config_free(cfg);

	mig_error err = {0};
	const char *yaml = "root: rel/tree\n";
	assert_int_equal(mig_config_parse(&cfg, yaml, strlen(yaml), "c.yaml", "", &err), MIG_OK);
	assert_string_equal(cfg->root, "rel/tree");
	mig_config_free(cfg);
	assert_int_equal(mig_config_parse(&cfg, yaml, strlen(yaml), "c.yaml", "conf/", &err),
			 MIG_OK);
	assert_string_equal(cfg->root, "conf/rel/tree");
	mig_config_free(cfg);

	setenv("MIGT_ROOT", "from_env", 1);
	cfg = parse_ok("root: ${MIGT_ROOT}/x\n");
	assert_string_equal(cfg->root, "/cfgdir/from_env/x");
	mig_config_free(cfg);
	unsetenv("MIGT_ROOT");
}

/* --- durations --- */

static void test_durations_in_every_unit(void **state)
{
	(void)state;
	mig_config *cfg = parse_ok("postgres:\n"
				   "  lock_wait: 500ms\n"
				   "  lock_timeout: 5m\n"
				   "  statement_timeout: 1h\n");
	assert_int_equal(cfg->pg.lock_wait_ms, 500);
	assert_int_equal(cfg->pg.lock_timeout_ms, 300000);
	assert_int_equal(cfg->pg.statement_timeout_ms, 3600000);
	mig_config_free(cfg);

	cfg = parse_ok("postgres:\n  lock_wait: 0\n  lock_timeout: 7\n  statement_timeout: 10s\n");
	assert_int_equal(cfg->pg.lock_wait_ms, 0);
	assert_int_equal(cfg->pg.lock_timeout_ms, 7000);
	assert_int_equal(cfg->pg.statement_timeout_ms, 10000);
	mig_config_free(cfg);
}

static void test_bad_duration_names_the_key_and_line(void **state)
{
	(void)state;
	mig_error err;
	const char *msg = parse_fails("postgres:\n  dsn: x\n  lock_timeout: 10x\n", &err);
	assert_contains(msg, "'postgres.lock_timeout' must be a duration");
	assert_contains(msg, "not '10x'");
	assert_contains(msg, "(t.yaml:3)");

	msg = parse_fails("postgres:\n  lock_wait: -5s\n", &err);
	assert_contains(msg, "'postgres.lock_wait'");
	assert_contains(msg, "(t.yaml:2)");

	msg = parse_fails("postgres:\n  statement_timeout: 1.5s\n", &err);
	assert_contains(msg, "'postgres.statement_timeout'");
	assert_contains(msg, "(t.yaml:2)");

	msg = parse_fails("postgres:\n  statement_timeout: 9999999h\n", &err);
	assert_contains(msg, "'postgres.statement_timeout'");

	msg = parse_fails("postgres:\n  lock_wait:\n", &err);
	assert_contains(msg, "'postgres.lock_wait' must be a duration");
}

/* --- environment variables --- */

static void test_variables_with_defaults_everywhere(void **state)
{
	(void)state;
	setenv("MIGT_FLAG", "false", 1);
	unsetenv("MIGT_FLAG2");
	unsetenv("MIGT_REQ");
	setenv("MIGT_DB", "appdb", 1);
	mig_config *cfg = parse_ok("mongodb:\n"
				   "  uri: ${MIGT_URI:-mongodb://localhost}\n"
				   "  database: ${MIGT_DB}\n"
				   "modules:\n"
				   "  catalog:\n"
				   "  wishlist: {enabled: \"${MIGT_FLAG}\"}\n"
				   "  billing:\n"
				   "    enabled: ${MIGT_FLAG2:-true}\n"
				   "    requires: [\"${MIGT_REQ:-catalog}\"]\n");
	assert_string_equal(cfg->mongo_uri, "mongodb://localhost");
	assert_string_equal(cfg->mongo_database, "appdb");
	assert_false(cfg->modules[1].enabled);
	assert_true(cfg->modules[2].enabled);
	assert_string_equal(cfg->modules[2].requires[0], "catalog");
	mig_config_free(cfg);
	unsetenv("MIGT_FLAG");
	unsetenv("MIGT_DB");
}

static void test_unset_variable_names_it_and_line(void **state)
{
	(void)state;
	unsetenv("MIGT_UNSET_DB");
	mig_error err;
	const char *msg = parse_fails("mongodb:\n"
				      "  uri: mongodb://h\n"
				      "  database: ${MIGT_UNSET_DB}\n",
				      &err);
	assert_contains(msg, "'MIGT_UNSET_DB' is not set");
	assert_contains(msg, "'mongodb.database'");
	assert_contains(msg, "(t.yaml:3)");
}

static void test_unset_variable_in_enabled(void **state)
{
	(void)state;
	unsetenv("MIGT_UNSET_FLAG");
	mig_error err;
	const char *msg = parse_fails("modules:\n"
				      "  catalog:\n"
				      "  search:\n"
				      "    enabled: ${MIGT_UNSET_FLAG}\n",
				      &err);
	assert_contains(msg, "'MIGT_UNSET_FLAG' is not set");
	assert_contains(msg, "'modules.search.enabled'");
	assert_contains(msg, "(t.yaml:4)");
}

static void test_variable_that_expands_to_a_non_bool(void **state)
{
	(void)state;
	setenv("MIGT_FLAG", "yes", 1);
	mig_error err;
	const char *msg = parse_fails("modules:\n  x: {enabled: \"${MIGT_FLAG}\"}\n", &err);
	assert_contains(msg, "'modules.x.enabled' must be true or false, not 'yes' (t.yaml:2)");
	unsetenv("MIGT_FLAG");
}

static void test_bad_variable_reference_names_key_and_line(void **state)
{
	(void)state;
	mig_error err;
	const char *msg = parse_fails("postgres:\n\n  dsn: \"host=${1X}\"\n", &err);
	assert_contains(msg, "bad variable name");
	assert_contains(msg, "'postgres.dsn'");
	assert_contains(msg, "(t.yaml:3)");
}

/* --- unknown keys, wrong types, duplicates --- */

static void test_unknown_top_level_key_names_it_and_line(void **state)
{
	(void)state;
	mig_error err;
	const char *msg = parse_fails("modules:\n\npostgress:\n  dsn: x\n", &err);
	assert_contains(msg, "unknown key 'postgress' (t.yaml:3)");
}

static void test_unknown_postgres_key_names_it_and_line(void **state)
{
	(void)state;
	mig_error err;
	const char *msg = parse_fails("postgres:\n  dsn: x\n  pool_size: 5\n", &err);
	assert_contains(msg, "unknown key 'postgres.pool_size' (t.yaml:3)");

	msg = parse_fails("mongodb:\n  uri: u\n  database: d\n  replica: r\n", &err);
	assert_contains(msg, "unknown key 'mongodb.replica' (t.yaml:4)");
}

static void test_unknown_module_key_names_it_and_line(void **state)
{
	(void)state;
	mig_error err;
	const char *msg = parse_fails("modules:\n  catalog:\n    enable: true\n", &err);
	assert_contains(msg, "unknown key 'modules.catalog.enable' (t.yaml:3)");
}

static void test_enabled_maybe_is_a_type_error(void **state)
{
	(void)state;
	mig_error err;
	const char *msg = parse_fails("modules:\n  catalog:\n  x: {enabled: maybe}\n", &err);
	assert_contains(msg, "'modules.x.enabled' must be true or false, not 'maybe' (t.yaml:3)");

	msg = parse_fails("modules:\n  x:\n    enabled: [true]\n", &err);
	assert_contains(msg, "'modules.x.enabled' must be a scalar, not a list (t.yaml:3)");
}

static void test_requires_must_be_a_list_of_module_names(void **state)
{
	(void)state;
	mig_error err;
	const char *msg = parse_fails("modules:\n"
				      "  catalog:\n"
				      "  billing:\n"
				      "    requires: catalog\n",
				      &err);
	assert_contains(msg, "'modules.billing.requires' must be a list, not a scalar (t.yaml:4)");

	msg = parse_fails("modules:\n  billing:\n    requires: [[catalog]]\n", &err);
	assert_contains(msg, "'modules.billing.requires' must be a scalar, not a list (t.yaml:3)");

	msg = parse_fails("modules:\n  billing:\n    requires:\n      - Catalog\n", &err);
	assert_contains(msg, "bad module name 'Catalog' in 'modules.billing.requires'");
	assert_contains(msg, "(t.yaml:4)");
}

static void test_section_of_the_wrong_type(void **state)
{
	(void)state;
	mig_error err;
	assert_contains(parse_fails("postgres: 5\n", &err),
			"'postgres' must be a mapping, not a scalar (t.yaml:1)");
	assert_contains(parse_fails("modules:\n\nmongodb: [a]\n", &err),
			"'mongodb' must be a mapping, not a list (t.yaml:3)");
	assert_contains(parse_fails("modules: [catalog]\n", &err),
			"'modules' must be a mapping, not a list (t.yaml:1)");
	assert_contains(parse_fails("modules:\n  catalog: true\n", &err),
			"'modules.catalog' must be a mapping, not a scalar (t.yaml:2)");
	assert_contains(parse_fails("postgres:\n  dsn: {a: b}\n", &err),
			"'postgres.dsn' must be a scalar, not a mapping (t.yaml:2)");
	assert_contains(parse_fails("root: [a]\n", &err),
			"'root' must be a scalar, not a list (t.yaml:1)");
	assert_contains(parse_fails("postgres:\n  lock: sometimes\n", &err),
			"'postgres.lock' must be advisory or table, not 'sometimes' (t.yaml:2)");
	assert_contains(parse_fails("? [a]\n: 1\n", &err), "must be a scalar (t.yaml:1)");
}

static void test_mongodb_needs_uri_and_database(void **state)
{
	(void)state;
	mig_error err;
	const char *msg = parse_fails("mongodb:\n  uri: mongodb://h\n", &err);
	assert_contains(msg, "'mongodb.database' is required");
	assert_contains(msg, "t.yaml");
	msg = parse_fails("mongodb:\n  database: app\n", &err);
	assert_contains(msg, "'mongodb.uri' is required");
}

static void test_duplicate_keys_name_the_key_and_second_line(void **state)
{
	(void)state;
	mig_error err;
	assert_contains(parse_fails("postgres:\n  dsn: a\n  dsn: b\n", &err),
			"duplicate key 'dsn' (t.yaml:3)");
	assert_contains(parse_fails("root: a\nmodules:\nroot: b\n", &err),
			"duplicate key 'root' (t.yaml:3)");
	assert_contains(parse_fails("modules:\n  a:\n  b:\n  a: {enabled: false}\n", &err),
			"duplicate key 'a' (t.yaml:4)");
	assert_contains(parse_fails("modules:\n  a: {enabled: true, enabled: false}\n", &err),
			"duplicate key 'enabled' (t.yaml:2)");
}

static void test_bad_module_names_are_refused(void **state)
{
	(void)state;
	mig_error err;
	assert_contains(parse_fails("modules:\n  catalog:\n  Catalog:\n", &err),
			"bad module name 'Catalog'");
	assert_contains(err.message, "(t.yaml:3)");
	assert_contains(parse_fails("modules:\n  a-b: {}\n", &err), "bad module name 'a-b'");
	assert_contains(err.message, "(t.yaml:2)");
	assert_contains(parse_fails("modules:\n  \"\": {}\n", &err), "bad module name ''");
}

/* --- YAML-level problems --- */

static void test_yaml_syntax_error_carries_name_and_line(void **state)
{
	(void)state;
	mig_error err;
	const char *msg = parse_fails("postgres:\n  dsn: x\n lock: y\n", &err);
	assert_contains(msg, "YAML error: ");
	assert_contains(msg, "(t.yaml:3)");

	msg = parse_fails("postgres:\n  dsn: \"unterminated\n", &err);
	assert_contains(msg, "YAML error: ");
	assert_contains(msg, "(t.yaml:3)");

	msg = parse_fails("modules:\n  catalog:\n\tsearch:\n", &err);
	assert_contains(msg, "YAML error: ");
	assert_contains(msg, "(t.yaml:3)");

	msg = parse_fails("modules: *nowhere\n", &err);
	assert_contains(msg, "YAML error: ");
	assert_contains(msg, "(t.yaml:1)");
}

static void test_document_that_is_not_a_mapping(void **state)
{
	(void)state;
	mig_error err;
	assert_contains(parse_fails("- postgres\n- mongodb\n", &err),
			"'t.yaml' must hold a mapping at the top, not a list (t.yaml:1)");
	assert_contains(parse_fails("\njust words\n", &err),
			"'t.yaml' must hold a mapping at the top, not a scalar (t.yaml:2)");
}

static void test_empty_document(void **state)
{
	(void)state;
	mig_error err;
	assert_contains(parse_fails("", &err), "'t.yaml' is empty");
	assert_contains(parse_fails("# nothing but a comment\n\n", &err), "'t.yaml' is empty");
}

static void test_two_documents_are_refused(void **state)
{
	(void)state;
	mig_error err;
	const char *msg = parse_fails("postgres: {}\n---\nmongodb: {uri: u, database: d}\n", &err);
	assert_contains(msg, "more than one YAML document (t.yaml:2)");
	/* an explicit end marker with nothing after it is one document */
	mig_config *cfg = parse_ok("---\npostgres: {}\n...\n");
	assert_true(cfg->has_postgres);
	mig_config_free(cfg);
}

static void test_nul_byte_is_rejected(void **state)
{
	(void)state;
	static const char text[] = "postgres:\n  dsn: a\0b\n";
	mig_error err;
	parse_fails_n(text, sizeof text - 1, &err);
	assert_contains(err.message, "'t.yaml' is not a text file");

	/* a NUL written as a YAML escape is caught at the key */
	const char *msg = parse_fails("postgres:\n  dsn: \"a\\0b\"\n", &err);
	assert_contains(msg, "'postgres.dsn' contains a NUL byte (t.yaml:2)");
}

static long max_rss_kb(void)
{
	struct rusage ru;
	assert_int_equal(getrusage(RUSAGE_SELF, &ru), 0);
	return ru.ru_maxrss;
}

static double now_seconds(void)
{
	struct timespec ts;
	assert_int_equal(clock_gettime(CLOCK_MONOTONIC, &ts), 0);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Ten levels of ten aliases each (10^10 leaves if anything expanded them), each level
 * written as `<prefix>&aN [...]` on its own line. */
static char *alias_bomb(const char *head, const char *prefix)
{
	size_t cap = 8192, len = 0;
	char *s = malloc(cap);
	assert_non_null(s);
	len += (size_t)snprintf(s + len, cap - len, "%s", head);
	for (int level = 0; level < 10; level++) {
		len += (size_t)snprintf(s + len, cap - len, "%s&a%d [", prefix, level);
		for (int i = 0; i < 10; i++) {
			if (level == 0)
				len += (size_t)snprintf(s + len, cap - len, "%slol", i ? ", " : "");
			else
				len += (size_t)snprintf(s + len, cap - len, "%s*a%d", i ? ", " : "",
							level - 1);
		}
		len += (size_t)snprintf(s + len, cap - len, "]\n");
		assert_true(len < cap);
	}
	return s;
}

static void check_bomb_fails_fast(const char *yaml, const char *needle)
{
	long rss = max_rss_kb();
	double start = now_seconds();
	mig_error err;
	const char *msg = parse_fails(yaml, &err);
	double took = now_seconds() - start;
	assert_contains(msg, needle);
	if (took > 2.0)
		fail_msg("took %.2f s", took);
	if (max_rss_kb() - rss > 64 * 1024)
		fail_msg("resident memory grew by %ld KiB", max_rss_kb() - rss);
}

static void test_alias_bomb_under_unknown_key_fails_fast(void **state)
{
	(void)state;
	char *yaml = alias_bomb("postgres:\n  dsn: x\nbomb:\n", "  - ");
	check_bomb_fails_fast(yaml, "unknown key 'bomb' (t.yaml:3)");
	free(yaml);
}

static void test_alias_bomb_in_requires_list_fails_fast(void **state)
{
	(void)state;
	char *yaml = alias_bomb("modules:\n  catalog:\n    requires:\n", "      - ");
	check_bomb_fails_fast(yaml,
			      "'modules.catalog.requires' must be a scalar, not a list (t.yaml:4)");
	free(yaml);
}

static void test_self_referencing_alias_does_not_loop(void **state)
{
	(void)state;
	mig_error err;
	assert_contains(parse_fails("modules: &m {a: *m}\n", &err),
			"unknown key 'modules.a.a' (t.yaml:1)");
}

static void test_deep_nesting_fails_cleanly(void **state)
{
	(void)state;
	enum { DEPTH = 10000 };
	char *yaml = malloc(2 * DEPTH + 16);
	assert_non_null(yaml);
	memset(yaml, '[', DEPTH);
	yaml[DEPTH] = '\0';
	mig_error err;
	const char *msg = parse_fails(yaml, &err);
	assert_contains(msg, "YAML error: nesting deeper than 32 levels");
	assert_contains(msg, "(t.yaml:1)");

	/* balanced and deep: refused by the depth check too */
	memcpy(yaml, "modules: ", 9);
	memset(yaml + 9, '[', DEPTH);
	memset(yaml + 9 + DEPTH, ']', DEPTH);
	yaml[9 + 2 * DEPTH] = '\0';
	msg = parse_fails(yaml, &err);
	assert_contains(msg, "nesting deeper than 32 levels");

	/* balanced and shallow: well-formed YAML of the wrong shape */
	memset(yaml + 9, '[', 20);
	memset(yaml + 29, ']', 20);
	yaml[49] = '\0';
	msg = parse_fails(yaml, &err);
	assert_contains(msg, "'modules' must be a mapping, not a list (t.yaml:1)");
	free(yaml);
}

/* --- secrets --- */

static void test_uri_and_mongo_passwords_become_secrets_and_are_redacted(void **state)
{
	(void)state;
	mig_config *cfg = parse_ok("postgres:\n"
				   "  dsn: postgres://u:pg%21pw@db/app\n"
				   "mongodb:\n"
				   "  uri: mongodb+srv://m:mongopw@cluster/app\n"
				   "  database: app\n");
	assert_int_equal(cfg->secrets.n, 3);
	assert_string_equal(cfg->secrets.items[0], "pg%21pw");
	assert_string_equal(cfg->secrets.items[1], "pg!pw");
	assert_string_equal(cfg->secrets.items[2], "mongopw");

	char text[128] = "cannot reach postgres://u:pg%21pw@db/app (pg!pw) or mongopw twice: mongopw";
	mig_config_redact(cfg, text, sizeof text);
	assert_string_equal(text, "cannot reach postgres://u:***@db/app (***) or *** twice: ***");
	mig_config_free(cfg);
}

static void test_keyword_dsn_password_becomes_a_secret(void **state)
{
	(void)state;
	mig_config *cfg = parse_ok("postgres:\n  dsn: host=db password='it\\'s' user=app\n");
	assert_string_equal(cfg->pg.dsn, "host=db password='it\\'s' user=app");
	assert_int_equal(cfg->secrets.n, 2);
	assert_string_equal(cfg->secrets.items[0], "it\\'s");
	assert_string_equal(cfg->secrets.items[1], "it's");
	char text[64] = "password='it\\'s' means it's";
	mig_config_redact(cfg, text, sizeof text);
	assert_string_equal(text, "password='***' means ***");
	mig_config_free(cfg);

	cfg = parse_ok("postgres:\n  dsn: \"host=db password=pw user=app\"\n");
	assert_int_equal(cfg->secrets.n, 1);
	assert_string_equal(cfg->secrets.items[0], "pw");
	mig_config_free(cfg);
}

static void test_no_password_no_secrets_and_null_config_redacts_nothing(void **state)
{
	(void)state;
	mig_config *cfg = parse_ok("postgres:\n  dsn: postgres://app@db/app\n");
	assert_int_equal(cfg->secrets.n, 0);
	mig_config_free(cfg);

	char text[32] = "nothing to hide";
	mig_config_redact(NULL, text, sizeof text);
	assert_string_equal(text, "nothing to hide");
}

/* Regression: an expansion error once quoted the DSN, and secrets were only registered
 * after the whole walk, so nothing scrubbed it. */
static void test_password_never_in_an_error_message(void **state)
{
	(void)state;
	mig_error err;
	const char *msg = parse_fails("postgres:\n  dsn: \"postgres://u:hunter2@h/db?x=${oops\"\n",
				      &err);
	assert_contains(msg, "(t.yaml:2)");
	assert_not_contains(msg, "hunter2");
	msg = parse_fails("postgres:\n  dsn: \"postgres://u:hunter2@h/db\"\n  lock: hunter2\n", &err);
	assert_contains(msg, "(t.yaml:3)");
	assert_not_contains(msg, "hunter2");
}

/* An empty section reads as an empty mapping: `postgres:` alone means libpq defaults. */
static void test_empty_postgres_section_means_defaults(void **state)
{
	(void)state;
	mig_config *cfg = NULL;
	mig_error err = {0};
	assert_int_equal(mig_config_parse(&cfg, "postgres:\n", 10, "t.yaml", "/d", &err), MIG_OK);
	assert_true(cfg->has_postgres);
	assert_string_equal(cfg->pg.dsn, "");
	mig_config_free(cfg);
	assert_int_equal(mig_config_parse(&cfg, "mongodb:\n", 9, "t.yaml", "/d", &err), MIG_EUSAGE);
	assert_contains(err.message, "'mongodb.uri' is required");
}

/* --- choosing, querying --- */

static void test_choose_path_order(void **state)
{
	(void)state;
	setenv("APP_CONFIG", "/etc/app/config.yaml", 1);
	assert_string_equal(mig_config_choose_path("mine.yaml"), "mine.yaml");
	assert_string_equal(mig_config_choose_path(NULL), "/etc/app/config.yaml");
	setenv("APP_CONFIG", "", 1);
	assert_string_equal(mig_config_choose_path(NULL), "config.yaml");
	unsetenv("APP_CONFIG");
	assert_string_equal(mig_config_choose_path(NULL), "config.yaml");
	assert_string_equal(mig_config_choose_path("mine.yaml"), "mine.yaml");
}

static void test_module_enabled_and_core_always(void **state)
{
	(void)state;
	mig_config *cfg = parse_ok("modules:\n"
				   "  core: {enabled: false}\n"
				   "  catalog:\n"
				   "  wishlist: {enabled: false}\n");
	assert_true(mig_config_module_enabled(cfg, "core"));
	assert_true(mig_config_module_enabled(cfg, "catalog"));
	assert_false(mig_config_module_enabled(cfg, "wishlist"));
	assert_false(mig_config_module_enabled(cfg, "ghost"));
	mig_config_free(cfg);

	cfg = parse_ok("root: x\n");
	assert_true(mig_config_module_enabled(cfg, "core"));
	assert_false(mig_config_module_enabled(cfg, "catalog"));
	mig_config_free(cfg);
}

/* --- loading files --- */

static void test_load_resolves_root_against_the_file(void **state)
{
	(void)state;
	char *path = scratch_path("config.yaml");
	const char *yaml = "root: tree\npostgres:\n  dsn: \"\"\n";
	unit_write_file(path, yaml, strlen(yaml));
	mig_config *cfg = NULL;
	mig_error err = {0};
	assert_int_equal(mig_config_load(&cfg, path, &err), MIG_OK);
	assert_string_equal(cfg->path, path);
	char *want = scratch_path("tree");
	assert_string_equal(cfg->root, want);
	assert_string_equal(cfg->pg.dsn, "");
	mig_config_free(cfg);
	free(want);
	assert_int_equal(unlink(path), 0);
	free(path);
}

static void test_load_errors_carry_the_path_and_line(void **state)
{
	(void)state;
	char *path = scratch_path("broken.yaml");
	const char *yaml = "modules:\n  catalog:\n    enabled: maybe\n";
	unit_write_file(path, yaml, strlen(yaml));
	mig_config *cfg = NULL;
	mig_error err = {0};
	assert_int_equal(mig_config_load(&cfg, path, &err), MIG_EUSAGE);
	assert_null(cfg);
	char where[512];
	snprintf(where, sizeof where, "(%s:3)", path);
	assert_contains(err.message, where);
	assert_int_equal(unlink(path), 0);
	free(path);
}

/* mig_config_load(path) must fail with MIG_EUSAGE, naming path and saying needle. */
static void expect_load_fails(const char *path, const char *needle)
{
	mig_config *cfg = (mig_config *)&cfg;
	mig_error err = {0};
	assert_int_equal(mig_config_load(&cfg, path, &err), MIG_EUSAGE);
	assert_int_equal(err.code, MIG_EUSAGE);
	assert_null(cfg);
	assert_contains(err.message, path);
	assert_contains(err.message, needle);
}

static void test_load_missing_file(void **state)
{
	(void)state;
	char *path = scratch_path("nope.yaml");
	expect_load_fails(path, "No such file");
	free(path);
}

static void test_load_directory(void **state)
{
	(void)state;
	char *path = scratch_path("adir");
	assert_int_equal(mkdir(path, 0700), 0);
	expect_load_fails(path, "directory");
	assert_int_equal(rmdir(path), 0);
	free(path);
}

static void test_load_device_is_not_a_regular_file(void **state)
{
	(void)state;
	expect_load_fails("/dev/null", "not a regular file");
}

static void test_load_empty_file(void **state)
{
	(void)state;
	char *path = scratch_path("empty.yaml");
	unit_write_file(path, "", 0);
	expect_load_fails(path, "is empty");
	assert_int_equal(unlink(path), 0);
	free(path);
}

static void test_load_oversized_file(void **state)
{
	(void)state;
	char *path = scratch_path("big.yaml");
	size_t len = MIG_CONFIG_MAX_BYTES + 1;
	char *data = malloc(len);
	assert_non_null(data);
	for (size_t i = 0; i < len; i++)
		data[i] = (i % 64 == 63) ? '\n' : (i % 64 == 0 ? '#' : 'x');
	unit_write_file(path, data, len);
	free(data);
	expect_load_fails(path, "too large");
	assert_int_equal(unlink(path), 0);
	free(path);
}

static void test_load_empty_path(void **state)
{
	(void)state;
	mig_config *cfg = NULL;
	mig_error err = {0};
	assert_int_equal(mig_config_load(&cfg, "", &err), MIG_EUSAGE);
	assert_contains(err.message, "config path is empty");
	assert_null(cfg);
}

static int make_scratch(void **state)
{
	(void)state;
	return mkdtemp(scratch) ? 0 : -1;
}

static int remove_scratch(void **state)
{
	(void)state;
	return rmdir(scratch);
}

/* targets: a fleet of databases; DSN passwords become secrets; scope: control. */
static void test_targets_database_list(void **state)
{
	(void)state;
	setenv("UT_TENANT_PW", "tenant-Pw-42", 1);
	mig_config *cfg = parse_ok("postgres: { dsn: 'dbname=control' }\n"
				   "targets:\n"
				   "  kind: database\n"
				   "  parallel: 6\n"
				   "  list:\n"
				   "    - { name: acme, dsn: 'dbname=acme password=${UT_TENANT_PW}' }\n"
				   "    - { name: beta, dsn: 'dbname=beta', mongodb_database: beta_m }\n"
				   "modules:\n"
				   "  billing: { scope: control }\n"
				   "  catalog: { scope: target }\n");
	assert_true(cfg->targets.present);
	assert_int_equal(cfg->targets.kind, MIG_TARGET_DATABASE);
	assert_int_equal(cfg->targets.parallel, 6);
	assert_int_equal(cfg->targets.nlist, 2);
	assert_string_equal(cfg->targets.list[0].name, "acme");
	assert_string_equal(cfg->targets.list[0].dsn, "dbname=acme password=tenant-Pw-42");
	assert_null(cfg->targets.list[0].mongodb_database);
	assert_string_equal(cfg->targets.list[1].mongodb_database, "beta_m");
	assert_int_equal(cfg->targets.list[1].line, 7);
	assert_true(mig_config_module(cfg, "billing")->control);
	assert_false(mig_config_module(cfg, "catalog")->control);
	char text[128] = "failed on dbname=acme password=tenant-Pw-42";
	mig_config_redact(cfg, text, sizeof text);
	assert_not_contains(text, "tenant-Pw-42");
	mig_config_free(cfg);
	unsetenv("UT_TENANT_PW");
}

static void test_targets_schema_and_query(void **state)
{
	(void)state;
	mig_config *cfg = parse_ok("postgres:\n"
				   "targets:\n"
				   "  list: [{ name: acme }]\n"
				   "  kind: schema\n"
				   "  query: SELECT name FROM tenants\n");
	assert_int_equal(cfg->targets.kind, MIG_TARGET_SCHEMA);
	assert_null(cfg->targets.list[0].dsn);
	assert_string_equal(cfg->targets.query, "SELECT name FROM tenants");
	assert_int_equal(cfg->targets.query_line, 5);
	assert_int_equal(cfg->targets.parallel, 0);
	mig_config_free(cfg);
}

static void test_targets_errors(void **state)
{
	(void)state;
	mig_error err;
	assert_contains(parse_fails("postgres:\ntargets:\n  kind: schema\n  list:\n"
				    "    - { name: acme }\n    - { name: beta }\n    - { name: acme }\n",
				    &err),
			"duplicate target name 'acme' (t.yaml:5 and t.yaml:7)");
	assert_contains(parse_fails("postgres:\ntargets:\n  kind: galaxy\n  list: [{name: a}]\n", &err),
			"'targets.kind' must be database or schema, not 'galaxy' (t.yaml:3)");
	assert_contains(parse_fails("postgres:\ntargets:\n  kind: schema\n  list:\n"
				    "    - { name: acme, dsn: 'dbname=x' }\n", &err),
			"'targets.list[0].dsn' is not taken by kind: schema");
	assert_contains(parse_fails("postgres:\ntargets:\n  kind: database\n  list:\n"
				    "    - { name: acme }\n", &err),
			"'targets.list[0].dsn' is required for kind: database (t.yaml:5)");
	assert_contains(parse_fails("postgres:\ntargets:\n  list:\n    - { dsn: x }\n", &err),
			"'targets.list[0].name' is required (t.yaml:4)");
	assert_contains(parse_fails("postgres:\ntargets:\n  kind: schema\n  list: [{name: 'a b'}]\n",
				    &err),
			"bad target name 'a b'");
	assert_contains(parse_fails("postgres:\ntargets:\n  kind: schema\n", &err),
			"'targets' needs a 'list' or a 'query' (t.yaml:2)");
	assert_contains(parse_fails("postgres:\ntargets:\n  query: x\n  parallel: 0\n", &err),
			"'targets.parallel' must be a whole number from 1 to 1024, not '0' (t.yaml:4)");
	assert_contains(parse_fails("postgres:\ntargets:\n  query: x\n  shards: 3\n", &err),
			"unknown key 'targets.shards' (t.yaml:4)");
	assert_contains(parse_fails("postgres:\ntargets:\n  query: x\n  list:\n    - { name: a, dsn: d, port: 1 }\n",
				    &err),
			"unknown key 'targets.list[0].port' (t.yaml:5)");
	assert_contains(parse_fails("targets:\n  query: x\n", &err),
			"'targets' needs a 'postgres:' section");
	assert_contains(parse_fails("postgres:\ntargets:\n  query: ''\n", &err),
			"'targets.query' is empty (t.yaml:3)");
	assert_contains(parse_fails("postgres:\nmodules:\n  billing: { scope: everywhere }\n", &err),
			"'modules.billing.scope' must be control or target, not 'everywhere' (t.yaml:3)");
	assert_contains(parse_fails("postgres:\ntargets:\n  query: '${UT_UNSET_FLEET_VAR}'\n", &err),
			"targets.query");
}

static void test_target_password_never_in_an_error(void **state)
{
	(void)state;
	mig_error err;
	/* the password is registered as soon as the DSN is read, so a later error in the
	 * same file cannot quote it */
	parse_fails("postgres:\ntargets:\n  kind: database\n  list:\n"
		    "    - { name: acme, dsn: 'password=Tgt-Secret-9' }\n"
		    "    - { name: 'Tgt-Secret-9', dsn: 'dbname=b' }\n"
		    "    - { name: 'Tgt-Secret-9', dsn: 'dbname=c' }\n",
		    &err);
	assert_contains(err.message, "duplicate target name");
	assert_not_contains(err.message, "Tgt-Secret-9");
}

static void test_target_name_rules(void **state)
{
	(void)state;
	assert_true(mig_target_name_valid(MIG_TARGET_SCHEMA, "tenant_42"));
	assert_true(mig_target_name_valid(MIG_TARGET_SCHEMA, "Acme"));
	assert_false(mig_target_name_valid(MIG_TARGET_SCHEMA, "42tenant"));
	assert_false(mig_target_name_valid(MIG_TARGET_SCHEMA, "a\"b"));
	assert_false(mig_target_name_valid(MIG_TARGET_SCHEMA, ""));
	assert_false(mig_target_name_valid(MIG_TARGET_SCHEMA,
					   "a234567890123456789012345678901234567890123456789012345678901234"));
	assert_true(mig_target_name_valid(MIG_TARGET_DATABASE, "shard-01.eu"));
	assert_false(mig_target_name_valid(MIG_TARGET_DATABASE, "a b"));
	assert_false(mig_target_name_valid(MIG_TARGET_DATABASE, ""));
}

/* The edges of the hand-written checks (the mutation run of tests/mutants.sh found them
 * untested): each range's first and last character and its neighbours outside, each
 * number's last good value and the first bad one. */
static void test_name_and_number_edges(void **state)
{
	(void)state;
	mig_error err;
	/* placeholder names: [A-Za-z_][A-Za-z0-9_]*, shorter than 256 */
	mig_config *cfg = parse_ok("placeholders: {A: 1, Z: 2, a: 3, z: 4, _: 5, Az09_: 6, zZ9: 7}\n");
	assert_int_equal(cfg->nplaceholders, 7);
	assert_string_equal(mig_config_placeholder(cfg, "Z"), "2");
	assert_string_equal(mig_config_placeholder(cfg, "z"), "4");
	assert_string_equal(mig_config_placeholder(cfg, "zZ9"), "7");
	mig_config_free(cfg);
	static const char *const bad[] = {"@a", "[a", "`a", "{a", "a@", "a[", "a`", "a{", "a/", "a:",
					  "a-b", "a.b", "0a"};
	for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
		char yaml[64];
		snprintf(yaml, sizeof yaml, "placeholders:\n  '%s': x\n", bad[i]);
		assert_contains(parse_fails(yaml, &err), "must be a letter or '_'");
	}
	char name[300], yaml[400];
	memset(name, 'p', 255);
	name[255] = '\0';
	snprintf(yaml, sizeof yaml, "placeholders: {%s: x}\n", name);
	cfg = parse_ok(yaml);
	assert_string_equal(mig_config_placeholder(cfg, name), "x");
	mig_config_free(cfg);
	memset(name, 'p', 256);
	name[256] = '\0';
	snprintf(yaml, sizeof yaml, "placeholders: {%s: x}\n", name);
	assert_contains(parse_fails(yaml, &err), "must be a letter or '_'");

	/* postgres.lock_retries: digits only, 0 to 100 */
	cfg = parse_ok("postgres: {lock_retries: 0}\n");
	assert_int_equal(cfg->pg.lock_retries, 0);
	mig_config_free(cfg);
	cfg = parse_ok("postgres: {lock_retries: 100}\n");
	assert_int_equal(cfg->pg.lock_retries, 100);
	mig_config_free(cfg);
	static const char *const bad_counts[] = {"'+5'", "' 5'", "-1", "101", "5x", "x"};
	for (size_t i = 0; i < sizeof bad_counts / sizeof *bad_counts; i++) {
		snprintf(yaml, sizeof yaml, "postgres: {lock_retries: %s}\n", bad_counts[i]);
		assert_contains(parse_fails(yaml, &err),
				"'postgres.lock_retries' must be a whole number from 0 to 100");
	}

	/* targets.parallel: 1 to 1024 */
	cfg = parse_ok("postgres:\ntargets: {kind: schema, list: [{name: a}], parallel: 1}\n");
	assert_int_equal(cfg->targets.parallel, 1);
	mig_config_free(cfg);
	cfg = parse_ok("postgres:\ntargets: {kind: schema, list: [{name: a}], parallel: 1024}\n");
	assert_int_equal(cfg->targets.parallel, 1024);
	mig_config_free(cfg);
	assert_contains(parse_fails("postgres:\ntargets: {kind: schema, list: [{name: a}], parallel: 0}\n",
				    &err),
			"'targets.parallel' must be a whole number from 1 to 1024, not '0'");
	assert_contains(parse_fails("postgres:\ntargets: {kind: schema, list: [{name: a}], parallel: 1025}\n",
				    &err),
			"'targets.parallel' must be a whole number from 1 to 1024, not '1025'");

	/* a database target's name: 1 to 200 bytes, no spaces or controls */
	memset(name, 'd', 200);
	name[200] = '\0';
	assert_true(mig_target_name_valid(MIG_TARGET_DATABASE, name));
	name[200] = 'd';
	name[201] = '\0';
	assert_false(mig_target_name_valid(MIG_TARGET_DATABASE, name));
	assert_true(mig_target_name_valid(MIG_TARGET_DATABASE, "!~"));
	assert_false(mig_target_name_valid(MIG_TARGET_DATABASE, "a\x7f"));
	assert_false(mig_target_name_valid(MIG_TARGET_DATABASE, "a\tb"));
}

/* postgres.lint_data, lint_min_rows, lint_probe_timeout (lint --data) and drift_privileges:
 * their defaults, each value they take, and the bad ones (no unit test read them before the
 * mutation run: flipping the check of lint_data: on survived) */
static void test_lint_and_drift_keys(void **state)
{
	(void)state;
	mig_error err;
	mig_config *cfg = parse_ok("postgres: {dsn: 'dbname=x'}\n");
	assert_false(cfg->lint_data);
	assert_int_equal(cfg->lint_min_rows, 10000);
	assert_int_equal(cfg->lint_probe_timeout_ms, 5000);
	assert_true(cfg->drift_privileges);
	mig_config_free(cfg);
	cfg = parse_ok("postgres: {lint_data: on, lint_min_rows: 0, lint_probe_timeout: 250ms,"
		       " drift_privileges: false}\n");
	assert_true(cfg->lint_data);
	assert_int_equal(cfg->lint_min_rows, 0);
	assert_int_equal(cfg->lint_probe_timeout_ms, 250);
	assert_false(cfg->drift_privileges);
	mig_config_free(cfg);
	cfg = parse_ok("postgres: {lint_data: off, lint_min_rows: 123456789012}\n");
	assert_false(cfg->lint_data);
	assert_int_equal(cfg->lint_min_rows, 123456789012LL);
	mig_config_free(cfg);
	assert_contains(parse_fails("postgres: {lint_data: yes}\n", &err),
			"'postgres.lint_data' must be off or on, not 'yes' (t.yaml:1)");
	assert_contains(parse_fails("postgres: {lint_data: ''}\n", &err),
			"'postgres.lint_data' must be off or on");
	static const char *const bad_rows[] = {"-1", "1x", "''", "99999999999999999999"};
	for (size_t i = 0; i < sizeof bad_rows / sizeof *bad_rows; i++) {
		char yaml[64];
		snprintf(yaml, sizeof yaml, "postgres: {lint_min_rows: %s}\n", bad_rows[i]);
		assert_contains(parse_fails(yaml, &err),
				"'postgres.lint_min_rows' must be a whole number of rows");
	}
	assert_contains(parse_fails("postgres: {lint_probe_timeout: soon}\n", &err),
			"'postgres.lint_probe_timeout' must be a duration");
}

/* environment:, placeholders: and postgres.hooks (issue 28) */
static void test_environment_placeholders_and_hooks(void **state)
{
	(void)state;
	setenv("MIGT_ENV", "staging", 1);
	setenv("MIGT_SCHEMA", "from_env", 1);
	mig_config *cfg = parse_ok("environment: ${MIGT_ENV}\n"
				   "placeholders:\n"
				   "  SCHEMA: ${MIGT_SCHEMA}\n"
				   "  ROLE: reader\n"
				   "postgres:\n"
				   "  hooks: {before_up: hooks/b.sql, after_up: hooks/a.sql}\n");
	assert_string_equal(cfg->environment, "staging");
	assert_int_equal(cfg->nplaceholders, 2);
	assert_string_equal(mig_config_placeholder(cfg, "SCHEMA"), "from_env");
	assert_string_equal(mig_config_placeholder(cfg, "ROLE"), "reader");
	/* a name not in the map comes from the environment */
	assert_string_equal(mig_config_placeholder(cfg, "MIGT_ENV"), "staging");
	assert_null(mig_config_placeholder(cfg, "MIGT_SURELY_UNSET_42"));
	assert_string_equal(cfg->hook_before_up, "hooks/b.sql");
	assert_null(cfg->hook_after_each);
	assert_string_equal(cfg->hook_after_up, "hooks/a.sql");
	mig_error err;
	assert_int_equal(mig_config_set_environment(cfg, "dev", &err), MIG_OK);
	assert_string_equal(cfg->environment, "dev");
	assert_int_equal(mig_config_set_environment(cfg, "", &err), MIG_EUSAGE);
	assert_string_equal(cfg->environment, "dev");
	mig_config_free(cfg);
	unsetenv("MIGT_ENV");
	/* empty means unset, and costs nothing else the config holds */
	cfg = parse_ok("placeholders: {A: x}\n"
		       "postgres: {hooks: {after_each: e.sql}}\n"
		       "environment: ${MIGT_ENV:-}\n");
	assert_null(cfg->environment);
	assert_string_equal(mig_config_placeholder(cfg, "A"), "x");
	assert_string_equal(cfg->hook_after_each, "e.sql");
	mig_config_free(cfg);
	unsetenv("MIGT_SCHEMA");
	assert_contains(parse_fails("environment: prod uction\n", &err),
			"'environment' must be 1-63 letters, digits, '_' or '-', not 'prod uction' (t.yaml:1)");
	assert_contains(parse_fails("placeholders:\n  9bad: x\n", &err),
			"placeholder name '9bad' must be a letter or '_'");
	assert_contains(parse_fails("placeholders:\n  A: ${MIGT_NOPE_9}\n", &err),
			"'MIGT_NOPE_9' is not set in 'placeholders.A' (t.yaml:2)");
	assert_contains(parse_fails("postgres:\n  hooks: {after_all: x.sql}\n", &err),
			"unknown key 'postgres.hooks.after_all' (t.yaml:2)");
	assert_contains(parse_fails("postgres:\n  hooks: {before_up: /abs.sql}\n", &err),
			"'postgres.hooks.before_up' must be a file relative to the tree root (t.yaml:2)");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_mongodb_run_keys),
		cmocka_unit_test(test_full_example),
		cmocka_unit_test(test_defaults_when_sections_are_absent),
		cmocka_unit_test(test_postgres_without_dsn_means_libpq_defaults),
		cmocka_unit_test(test_module_enabled_defaults_true_and_keeps_order),
		cmocka_unit_test(test_root_resolution),
		cmocka_unit_test(test_durations_in_every_unit),
		cmocka_unit_test(test_bad_duration_names_the_key_and_line),
		cmocka_unit_test(test_variables_with_defaults_everywhere),
		cmocka_unit_test(test_unset_variable_names_it_and_line),
		cmocka_unit_test(test_unset_variable_in_enabled),
		cmocka_unit_test(test_variable_that_expands_to_a_non_bool),
		cmocka_unit_test(test_bad_variable_reference_names_key_and_line),
		cmocka_unit_test(test_unknown_top_level_key_names_it_and_line),
		cmocka_unit_test(test_unknown_postgres_key_names_it_and_line),
		cmocka_unit_test(test_unknown_module_key_names_it_and_line),
		cmocka_unit_test(test_enabled_maybe_is_a_type_error),
		cmocka_unit_test(test_requires_must_be_a_list_of_module_names),
		cmocka_unit_test(test_section_of_the_wrong_type),
		cmocka_unit_test(test_mongodb_needs_uri_and_database),
		cmocka_unit_test(test_duplicate_keys_name_the_key_and_second_line),
		cmocka_unit_test(test_bad_module_names_are_refused),
		cmocka_unit_test(test_yaml_syntax_error_carries_name_and_line),
		cmocka_unit_test(test_document_that_is_not_a_mapping),
		cmocka_unit_test(test_empty_document),
		cmocka_unit_test(test_two_documents_are_refused),
		cmocka_unit_test(test_nul_byte_is_rejected),
		cmocka_unit_test(test_alias_bomb_under_unknown_key_fails_fast),
		cmocka_unit_test(test_alias_bomb_in_requires_list_fails_fast),
		cmocka_unit_test(test_self_referencing_alias_does_not_loop),
		cmocka_unit_test(test_deep_nesting_fails_cleanly),
		cmocka_unit_test(test_uri_and_mongo_passwords_become_secrets_and_are_redacted),
		cmocka_unit_test(test_keyword_dsn_password_becomes_a_secret),
		cmocka_unit_test(test_no_password_no_secrets_and_null_config_redacts_nothing),
		cmocka_unit_test(test_password_never_in_an_error_message),
		cmocka_unit_test(test_empty_postgres_section_means_defaults),
		cmocka_unit_test(test_choose_path_order),
		cmocka_unit_test(test_module_enabled_and_core_always),
		cmocka_unit_test(test_load_resolves_root_against_the_file),
		cmocka_unit_test(test_load_errors_carry_the_path_and_line),
		cmocka_unit_test(test_load_missing_file),
		cmocka_unit_test(test_load_directory),
		cmocka_unit_test(test_load_device_is_not_a_regular_file),
		cmocka_unit_test(test_load_empty_file),
		cmocka_unit_test(test_load_oversized_file),
		cmocka_unit_test(test_load_empty_path),
		cmocka_unit_test(test_targets_database_list),
		cmocka_unit_test(test_targets_schema_and_query),
		cmocka_unit_test(test_targets_errors),
		cmocka_unit_test(test_target_password_never_in_an_error),
		cmocka_unit_test(test_target_name_rules),
		cmocka_unit_test(test_environment_placeholders_and_hooks),
		cmocka_unit_test(test_name_and_number_edges),
		cmocka_unit_test(test_lint_and_drift_keys),
	};
	return cmocka_run_group_tests(tests, make_scratch, remove_scratch);
}

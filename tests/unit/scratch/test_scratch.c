/* Unit tests of the scratch-database rules that need no server: which names migrate may
 * create or drop, unique names, and the conninfo of a scratch database derived from
 * postgres.dsn or postgres.scratch_dsn (src/scratch/scratch.c, src/postgres/pg_scratch.c). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "core/config.h"
#include "postgres/pg_scratch.h"
#include "scratch/scratch.h"

static void test_names_migrate_may_create(void **state)
{
	(void)state;
	assert_true(mig_scratch_name_valid("migrate_test_1"));
	assert_true(mig_scratch_name_valid("migrate_shadow_abc"));
	assert_true(mig_scratch_name_valid("migrate_tpl_0123456789ab"));
	assert_false(mig_scratch_name_valid("postgres"));
	assert_false(mig_scratch_name_valid("app"));
	assert_false(mig_scratch_name_valid("migrate_testx"));
	assert_false(mig_scratch_name_valid("migrate_test_A"));
	assert_false(mig_scratch_name_valid("migrate_test_a-b"));
	assert_false(mig_scratch_name_valid("migrate_test_\"; DROP"));
	char long_name[80];
	memset(long_name, 'a', sizeof long_name - 1);
	long_name[sizeof long_name - 1] = '\0';
	memcpy(long_name, "migrate_test_", 13);
	assert_false(mig_scratch_name_valid(long_name));
	long_name[63] = '\0';
	assert_true(mig_scratch_name_valid(long_name));
}

static void test_new_names_are_valid_and_unique(void **state)
{
	(void)state;
	char a[MIG_SCRATCH_NAME_MAX], b[MIG_SCRATCH_NAME_MAX];
	mig_scratch_new_name(a, MIG_SCRATCH_TEST_PREFIX);
	mig_scratch_new_name(b, MIG_SCRATCH_TEST_PREFIX);
	assert_true(mig_scratch_name_valid(a));
	assert_true(mig_scratch_name_valid(b));
	assert_string_not_equal(a, b);
	assert_memory_equal(a, "migrate_test_", 13);
}

static void conninfo(const char *dsn, const char *scratch, const char *db, bool pw,
		     const char *want)
{
	mig_sql_config cfg = {.dsn = (char *)dsn, .scratch_dsn = (char *)scratch};
	mig_error err = {0};
	char *out = NULL;
	assert_int_equal(mig_pg_scratch_conninfo(&out, &cfg, db, pw, &err), MIG_OK);
	assert_string_equal(out, want);
	free(out);
}

static void test_conninfo_replaces_the_database(void **state)
{
	(void)state;
	conninfo("postgres://app:pw@db.example:5433/app?sslmode=require", NULL, "migrate_test_1",
		 true,
		 "user='app' password='pw' host='db.example' port='5433' sslmode='require' dbname='migrate_test_1'");
	/* printed: without the password */
	conninfo("postgres://app:pw@db.example:5433/app", NULL, "migrate_test_1", false,
		 "user='app' host='db.example' port='5433' dbname='migrate_test_1'");
	/* the admin session: the maintenance database of dsn's server */
	conninfo("host=/tmp user=me dbname=app", NULL, NULL, false,
		 "user='me' host='/tmp' dbname='postgres'");
	/* scratch_dsn wins, and keeps its own database for the admin session */
	conninfo("host=a dbname=app", "host=ci dbname=maint", NULL, false,
		 "host='ci' dbname='maint'");
	conninfo("host=a dbname=app", "host=ci", "migrate_test_2", false,
		 "host='ci' dbname='migrate_test_2'");
	/* libpq defaults stay defaults; quotes are escaped */
	conninfo("", NULL, "migrate_test_3", true, "dbname='migrate_test_3'");
	conninfo("password='it\\'s'", NULL, "x", true, "password='it\\'s' dbname='x'");
}

static void test_conninfo_of_a_bad_dsn_names_the_key(void **state)
{
	(void)state;
	mig_sql_config cfg = {.dsn = (char *)"host=a nosuchkey=1"};
	mig_error err = {0};
	char *out = NULL;
	assert_int_equal(mig_pg_scratch_conninfo(&out, &cfg, "x", true, &err), MIG_EUSAGE);
	assert_null(out);
	assert_non_null(strstr(err.message, "postgres.dsn"));
	cfg.scratch_dsn = (char *)"postgres://[bad";
	assert_int_equal(mig_pg_scratch_conninfo(&out, &cfg, "x", true, &err), MIG_EUSAGE);
	assert_non_null(strstr(err.message, "postgres.scratch_dsn"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_names_migrate_may_create),
		cmocka_unit_test(test_new_names_are_valid_and_unique),
		cmocka_unit_test(test_conninfo_replaces_the_database),
		cmocka_unit_test(test_conninfo_of_a_bad_dsn_names_the_key),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

/* The PostgreSQL driver's error attribution without a server: which line of the file a
 * failing statement starts on, the token's line when the server gives a position, the
 * SQLSTATE and detail, and multi-line server messages folded onto one line. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "postgres/pg_error.h"
#include "unit.h"

static const char file_sql[] = "-- header\nCREATE TABLE a (x int);\n\nCREATE TABLE b (\n  y intt\n);\n";

static void attribute(const char *position, mig_error *err)
{
	mig_sql_stmt *stmts;
	size_t n;
	assert_int_equal(mig_sql_split(&stmts, &n, file_sql, strlen(file_sql)), 0);
	assert_int_equal(n, 2);
	mig_step step = {.module = "core", .version = 7, .path = "m/007_x.up.sql", .up = true};
	mig_pg_failure f = {.primary = "type \"intt\" does not exist\n",
			    .sqlstate = "42704",
			    .detail = "first line\nsecond line",
			    .position = position};
	assert_int_equal(mig_pg_step_error(&step, file_sql + stmts[1].offset, &stmts[1], &f, err),
			 MIG_EFAIL);
	free(stmts);
}

static void test_statement_line_sqlstate_and_detail(void **state)
{
	(void)state;
	mig_error err = {0};
	attribute(NULL, &err);
	assert_string_equal(err.message, "core/7 failed: type \"intt\" does not exist (first line second line), "
					 "SQLSTATE 42704 (m/007_x.up.sql:4)");
	assert_string_equal(err.sqlstate, "42704");
	assert_int_equal(err.line, 4);
}

static void test_token_line_from_the_position(void **state)
{
	(void)state;
	mig_error err = {0};
	attribute("22", &err); /* "intt" is on the statement's second line */
	assert_contains(err.message, "SQLSTATE 42704, at line 5 (m/007_x.up.sql:4)");
}

static void test_rollback_wording_and_missing_fields(void **state)
{
	(void)state;
	mig_error err = {0};
	mig_step step = {.module = "app", .version = 2, .path = "002.down.sql", .up = false};
	mig_pg_failure f = {.whole = "server closed the connection\nunexpectedly\n"};
	mig_pg_step_error(&step, NULL, NULL, &f, &err);
	assert_string_equal(err.message, "app/2 rollback failed: server closed the connection unexpectedly, "
					 "SQLSTATE ????? (002.down.sql:1)");
	assert_string_equal(err.sqlstate, "");
	/* mig_error_set clears what an earlier failure left */
	mig_error_set(&err, MIG_EUSAGE, "x");
	assert_int_equal(err.line, 0);
}

/* 13 to 18 pass; older servers are refused in one line naming both versions */
static void test_oldest_supported_version(void **state)
{
	(void)state;
	mig_error err = {0};
	assert_int_equal(mig_pg_check_version(130023, &err), MIG_OK);
	assert_int_equal(mig_pg_check_version(180004, &err), MIG_OK);
	assert_int_equal(mig_pg_check_version(120022, &err), MIG_EFAIL);
	assert_string_equal(err.message,
			    "the server runs PostgreSQL 12.22: migrate needs PostgreSQL 13 or later");
	assert_int_equal(mig_pg_check_version(90624, &err), MIG_EFAIL);
	assert_non_null(strstr(err.message, "PostgreSQL 9.6.24:"));
	assert_null(strchr(err.message, '\n'));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_statement_line_sqlstate_and_detail),
		cmocka_unit_test(test_token_line_from_the_position),
		cmocka_unit_test(test_rollback_wording_and_missing_fields),
		cmocka_unit_test(test_oldest_supported_version),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

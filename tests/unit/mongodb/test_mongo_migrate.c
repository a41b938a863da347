/* Unit tests of the versioned MongoDB file reader (src/mongodb/mongo_migrate_file.c): what a
 * good file turns into, and that each bad one fails with MIG_EUSAGE and one line naming the
 * element and "(path:line)". No server: reading a file never connects. */
#define _POSIX_C_SOURCE 200809L /* mkdtemp */

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "mongodb/mongo_migrate.h"
#include "unit.h"

static char dir[] = "/tmp/ut_mongo_migrate_XXXXXX";
static char path[sizeof dir + 32];

static int setup(void **state)
{
	(void)state;
	if (!mkdtemp(dir))
		return -1;
	snprintf(path, sizeof path, "%s/001_x.up.json", dir);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	unlink(path);
	return rmdir(dir);
}

static void write_text(const char *text)
{
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static mig_doc_file *load_ok(const char *text)
{
	write_text(text);
	mig_doc_file *file = NULL;
	mig_error err = {0};
	if (mig_doc_file_load(&file, path, &err) != MIG_OK)
		fail_msg("unexpected error: %s", err.message);
	assert_non_null(file);
	return file;
}

/* The message of a refused file; it must be MIG_EUSAGE, one line, naming the path. */
static const char *load_fails(const char *text, mig_error *err)
{
	write_text(text);
	mig_doc_file *file = (mig_doc_file *)&file;
	memset(err, 0, sizeof *err);
	int rc = mig_doc_file_load(&file, path, err);
	if (rc != MIG_EUSAGE)
		fail_msg("expected MIG_EUSAGE, got %d (%s)", rc, err->message);
	assert_null(file);
	assert_null(strchr(err->message, '\n'));
	assert_contains(err->message, path);
	return err->message;
}

static void expect_at(const char *msg, unsigned line)
{
	char want[sizeof path + 16];
	snprintf(want, sizeof want, "(%s:%u)", path, line);
	assert_contains(msg, want);
}

static void test_array_of_commands(void **state)
{
	(void)state;
	mig_doc_file *f = load_ok("[\n {\"insert\": \"a\", \"documents\": [{\"t\": {\"$date\": \"2024-01-01T00:00:00Z\"}}]},\n"
				  " {\"update\": \"a\", \"updates\": [{\"q\": {}, \"u\": {\"$set\": {\"n\": {\"$numberLong\": \"5\"}}}}]}\n]\n");
	assert_int_equal(mig_doc_file_commands(f), 2);
	assert_false(mig_doc_file_transaction(f));
	mig_doc_file_free(f);
}

static void test_transaction_object(void **state)
{
	(void)state;
	mig_doc_file *f = load_ok("{\"transaction\": true, \"commands\": [{\"insert\": \"a\", \"documents\": [{}]},"
				  " {\"aggregate\": \"a\", \"pipeline\": [{\"$match\": {}}], \"cursor\": {}}]}");
	assert_int_equal(mig_doc_file_commands(f), 2);
	assert_true(mig_doc_file_transaction(f));
	mig_doc_file_free(f);
	f = load_ok("{\"commands\": [{\"create\": \"a\"}], \"transaction\": false}");
	assert_false(mig_doc_file_transaction(f));
	mig_doc_file_free(f);
}

/* "phase": "contract" puts a file in the contract phase; any other value is refused
 * naming its line; no key (or the array form) is the expand phase */
static void test_phase_key(void **state)
{
	(void)state;
	mig_doc_file *f = load_ok("{\"phase\": \"contract\", \"commands\": [{\"drop\": \"a\"}]}");
	assert_true(mig_doc_file_contract(f));
	mig_doc_file_free(f);
	f = load_ok("{\"phase\": \"expand\", \"commands\": [{\"create\": \"a\"}]}");
	assert_false(mig_doc_file_contract(f));
	mig_doc_file_free(f);
	f = load_ok("[{\"create\": \"a\"}]");
	assert_false(mig_doc_file_contract(f));
	mig_doc_file_free(f);
	mig_error err;
	const char *msg = load_fails("{\"commands\": [{\"create\": \"a\"}],\n \"phase\": \"later\"}", &err);
	assert_contains(msg, "'phase' must be \"expand\" or \"contract\"");
	expect_at(msg, 2);
	msg = load_fails("{\"commands\": [{\"create\": \"a\"}], \"phase\": true}", &err);
	assert_contains(msg, "'phase' must be");
}

static void test_syntax_error_names_its_line(void **state)
{
	(void)state;
	mig_error err;
	const char *msg = load_fails("[\n {\"insert\": \"a\"},\n {\"insert\": \"b\",}\n]\n", &err);
	assert_contains(msg, "invalid JSON");
	expect_at(msg, 3);
}

static void test_bad_extended_json_names_its_element(void **state)
{
	(void)state;
	mig_error err;
	const char *msg = load_fails("[\n {\"insert\": \"a\"},\n\n {\"insert\": \"a\", \"documents\": [{\"t\": {\"$date\": \"never\"}}]}\n]", &err);
	assert_contains(msg, "element 1: ");
	assert_contains(msg, "\"never\"");
	expect_at(msg, 4);
}

static void test_elements_must_be_commands(void **state)
{
	(void)state;
	mig_error err;
	const char *msg = load_fails("[{\"ping\": 1},\n 7]", &err);
	assert_contains(msg, "element 1 is not a command document");
	expect_at(msg, 2);
	assert_contains(load_fails("[{\"ping\": 1}, {}]", &err), "element 1 is an empty command");
	assert_contains(load_fails("[]", &err), "holds no command");
	assert_contains(load_fails("\"insert\"", &err), "a migration file is a JSON array of commands");
	assert_contains(load_fails("[{\"insert\": \"a\", \"txnNumber\": 1}]", &err),
			"element 0 ('insert') sets 'txnNumber', which migrate sets itself");
	assert_contains(load_fails("[{\"commitTransaction\": 1}]", &err),
			"element 0: 'commitTransaction' is not a migration command");
	assert_contains(load_fails("{\"commands\": [{\"ping\": 1}],\n \"retries\": 3}", &err),
			"unknown key 'retries'");
	assert_contains(load_fails("{\"transaction\": true}", &err), "'commands' is missing");
	assert_contains(load_fails("{\"transaction\": \"yes\", \"commands\": []}", &err),
			"'transaction' must be true or false");
}

static void test_transaction_refuses_what_cannot_run_in_one(void **state)
{
	(void)state;
	static const char *const refused[] = {
		"{\"create\": \"c\"}", "{\"drop\": \"c\"}", "{\"collMod\": \"c\"}",
		"{\"createIndexes\": \"c\", \"indexes\": []}", "{\"dropDatabase\": 1}",
		"{\"renameCollection\": \"a\", \"to\": \"b\"}", "{\"count\": \"c\"}",
		"{\"aggregate\": \"c\", \"pipeline\": [{\"$merge\": \"d\"}], \"cursor\": {}}",
	};
	mig_error err;
	char text[512];
	for (size_t i = 0; i < sizeof refused / sizeof *refused; i++) {
		snprintf(text, sizeof text,
			 "{\"transaction\": true, \"commands\": [\n {\"insert\": \"c\", \"documents\": [{}]},\n %s\n]}",
			 refused[i]);
		const char *msg = load_fails(text, &err);
		assert_contains(msg, "element 1: '");
		assert_contains(msg, "cannot run inside a transaction");
		expect_at(msg, 3);
	}
	assert_contains(load_fails("{\"transaction\": true, \"commands\": [{\"insert\": \"c\", \"documents\": [{}], \"writeConcern\": {\"w\": 1}}]}", &err),
			"sets writeConcern, which a transaction takes only at its commit");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_array_of_commands),
		cmocka_unit_test(test_transaction_object),
		cmocka_unit_test(test_phase_key),
		cmocka_unit_test(test_syntax_error_names_its_line),
		cmocka_unit_test(test_bad_extended_json_names_its_element),
		cmocka_unit_test(test_elements_must_be_commands),
		cmocka_unit_test(test_transaction_refuses_what_cannot_run_in_one),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}

/* Unit tests of the MongoDB module's JSON reader (src/mongodb/ext_json.c) on its own, as a
 * file other than indexes.json would use it: the line of every value, "(path:line)" errors,
 * and Extended JSON values read into mig_values. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <jansson.h>
#include <string.h>

#include "mongodb/ext_json.h"

/* Parses text as "m.json"; fails the test when that does not return want. */
static void parse(mig_json_doc *doc, mig_error *err, const char *text, int want)
{
	int rc = mig_json_doc_parse(doc, text, strlen(text), "m.json", err);
	if (rc != want)
		fail_msg("parse returned %d, not %d: %s", rc, want, err->message);
}

/* Every value's line in pre-order; a member's value has its key's line. */
static void test_lines_of_values(void **state)
{
	(void)state;
	mig_json_doc doc;
	mig_error err = {0};
	parse(&doc, &err,
	      "[\n"
	      "  {\"insert\": \"users\",\n"
	      "   \"documents\": [\n"
	      "     {\"a\": 1}]},\n"
	      "  {\"drop\":\n"
	      "     \"old\"}\n"
	      "]\n",
	      MIG_OK);
	/* [ {insert users documents [ {a 1} ]} {drop old} ] in pre-order */
	const unsigned want[] = {1, 2, 2, 3, 4, 4, 5, 5};
	assert_int_equal(doc.nlines, sizeof want / sizeof *want);
	for (size_t i = 0; i < doc.nlines; i++)
		assert_int_equal(mig_json_line(&doc, i), want[i]);
	assert_int_equal(mig_json_line(&doc, 99), 1); /* out of range */
	/* the second command starts where the first one's subtree ends */
	json_t *first = json_array_get(doc.root, 0);
	assert_int_equal(mig_json_subtree_size(first), 5);
	assert_int_equal(mig_json_line(&doc, 1 + mig_json_subtree_size(first)), 5);
	mig_json_doc_clear(&doc);
}

static void test_fail_names_file_and_line(void **state)
{
	(void)state;
	mig_json_doc doc;
	mig_error err = {0};
	parse(&doc, &err, "{\n\"a\": 1,\n\"b\": 2}", MIG_OK);
	assert_int_equal(mig_json_fail(&doc, 2, "bad '%s'", "b"), MIG_EUSAGE);
	assert_int_equal(err.code, MIG_EUSAGE);
	assert_string_equal(err.message, "bad 'b' (m.json:3)");
	mig_json_doc_clear(&doc);
}

static void test_bad_text_is_usage(void **state)
{
	(void)state;
	mig_json_doc doc;
	mig_error err = {0};
	char nul[] = "{\"a\":\n1\0}";
	assert_int_equal(mig_json_doc_parse(&doc, nul, sizeof nul - 1, "m.json", &err),
			 MIG_EUSAGE);
	assert_string_equal(err.message,
			    "'m.json' is not a text file: it holds a NUL byte (m.json:2)");
	mig_json_doc_clear(&doc);

	parse(&doc, &err, "[1,\n 2,,]", MIG_EUSAGE);
	assert_non_null(strstr(err.message, "invalid JSON: "));
	assert_non_null(strstr(err.message, " (m.json:2:"));
	mig_json_doc_clear(&doc);

	parse(&doc, &err, "{\"a\": 1, \"a\": 2}", MIG_EUSAGE);
	assert_non_null(strstr(err.message, "duplicate object key"));
	mig_json_doc_clear(&doc);
}

static void test_extended_json_values(void **state)
{
	(void)state;
	mig_json_doc doc;
	mig_error err = {0};
	mig_value *v = NULL;
	parse(&doc, &err,
	      "{\"at\": {\"$date\": \"2024-01-31T00:00:00.250Z\"},\n"
	      " \"ms\": {\"$date\": {\"$numberLong\": \"-5\"}},\n"
	      " \"id\": {\"$oid\": \"5f1d7f1d7f1d7f1d7f1d7fAB\"},\n"
	      " \"n\": {\"$numberLong\": \"9007199254740993\"},\n"
	      " \"d\": {\"$numberDecimal\": \"1.10\"},\n"
	      " \"i\": 7, \"f\": 0.5, \"s\": \"x\", \"t\": true, \"z\": null,\n"
	      " \"two\": {\"$oid\": \"x\", \"other\": 1}}",
	      MIG_OK);
	assert_int_equal(mig_json_read_object(&doc, 0, doc.root, &v, "the command"), MIG_OK);
	assert_int_equal(v->n, 11);
	const char *keys[] = {"at", "ms", "id", "n", "d", "i", "f", "s", "t", "z", "two"};
	const mig_value_type types[] = {MIG_VALUE_DATE,   MIG_VALUE_DATE,    MIG_VALUE_OID,
					MIG_VALUE_LONG,   MIG_VALUE_DECIMAL, MIG_VALUE_INT,
					MIG_VALUE_DOUBLE, MIG_VALUE_STRING,  MIG_VALUE_BOOL,
					MIG_VALUE_NULL,   MIG_VALUE_OBJECT};
	for (size_t i = 0; i < v->n; i++) {
		assert_string_equal(v->keys[i], keys[i]);
		assert_int_equal(v->items[i].type, types[i]);
		assert_int_equal(mig_value_is_wrapper(&v->items[i]), i < 5);
	}
	assert_int_equal(v->items[0].integer, 1706659200250LL);
	assert_int_equal(v->items[1].integer, -5);
	assert_string_equal(v->items[2].string, "5f1d7f1d7f1d7f1d7f1d7fAB");
	assert_int_equal(v->items[3].integer, 9007199254740993LL);
	assert_string_equal(v->items[4].string, "1.10");
	assert_int_equal(v->items[5].integer, 7);
	assert_true(v->items[6].number == 0.5);
	assert_string_equal(v->items[7].string, "x");
	assert_true(v->items[8].boolean);
	/* a "$oid" key beside another is a plain object, not a wrapper */
	assert_int_equal(v->items[10].n, 2);
	assert_int_equal(v->items[10].items[0].type, MIG_VALUE_STRING);
	mig_value_free(v);
	mig_json_doc_clear(&doc);
}

static void test_bad_wrapper_and_shape(void **state)
{
	(void)state;
	static const struct {
		const char *text, *message;
	} cases[] = {
		{"{\n\"_id\": {\"$oid\": \"5f1d\"}}",
		 "bad {\"$oid\": ...} in the command: expected 24 hex digits (m.json:2)"},
		{"{\"a\": 1,\n\"n\": {\"$numberLong\": \"12x\"}}",
		 "bad {\"$numberLong\": ...} in the command: expected a string of digits (m.json:2)"},
		{"{\"at\": {\"$date\": \"yesterday\"}}",
		 "bad {\"$date\": ...} in the command: expected an ISO-8601 UTC time "
		 "(\"2024-01-31T00:00:00Z\") or milliseconds (m.json:1)"},
		{"{\"d\": {\"$numberDecimal\": 1.5}}",
		 "bad {\"$numberDecimal\": ...} in the command: expected a string (m.json:1)"},
		{"[{\"a\": 1}]", "the command must be an object (m.json:1)"},
	};
	for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
		mig_json_doc doc;
		mig_error err = {0};
		mig_value *v = NULL;
		parse(&doc, &err, cases[i].text, MIG_OK);
		assert_int_equal(mig_json_read_object(&doc, 0, doc.root, &v, "the command"),
				 MIG_EUSAGE);
		assert_string_equal(err.message, cases[i].message);
		mig_value_free(v);
		mig_json_doc_clear(&doc);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_lines_of_values),
		cmocka_unit_test(test_fail_names_file_and_line),
		cmocka_unit_test(test_bad_text_is_usage),
		cmocka_unit_test(test_extended_json_values),
		cmocka_unit_test(test_bad_wrapper_and_shape),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

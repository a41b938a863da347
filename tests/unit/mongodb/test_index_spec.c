/* Unit tests of the indexes.json parser (src/mongodb/index_spec.c): what a good file turns into, and
 * that every kind of bad file fails with MIG_EUSAGE and a message that names the culprit and
 * the right "(path:line)". Each bad case is its own cmocka test, named after what it breaks. */
#define _POSIX_C_SOURCE 200809L /* mkstemp */

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "mongodb/index_spec.h"

static mig_index_spec *parse_ok(const char *json)
{
	mig_index_spec *spec = NULL;
	mig_error err = {0};
	int rc = mig_index_spec_parse(&spec, json, strlen(json), "t.json", "catalog", &err);
	if (rc != MIG_OK)
		fail_msg("unexpected error %d: %s", rc, err.message);
	assert_non_null(spec);
	return spec;
}

static void test_compound_key_order(void **state)
{
	(void)state;
	mig_index_spec *spec = parse_ok("{\"collections\": [\n"
					"  {\"name\": \"orders\", \"indexes\": [\n"
					"    {\"keys\": {\"zeta\": 1, \"alpha\": -1, \"mid\": 1}}\n"
					"  ]}\n"
					"]}\n");
	assert_string_equal(spec->module, "catalog");
	assert_string_equal(spec->path, "t.json");
	assert_int_equal(spec->ncollections, 1);
	mig_collection *c = &spec->collections[0];
	assert_string_equal(c->name, "orders");
	assert_int_equal(c->line, 2);
	assert_int_equal(c->nindexes, 1);
	mig_index *ix = &c->indexes[0];
	assert_int_equal(ix->line, 3);
	assert_int_equal(ix->nkeys, 3);
	assert_string_equal(ix->keys[0].field, "zeta");
	assert_int_equal(ix->keys[0].kind, MIG_KEY_ASC);
	assert_string_equal(ix->keys[1].field, "alpha");
	assert_int_equal(ix->keys[1].kind, MIG_KEY_DESC);
	assert_string_equal(ix->keys[2].field, "mid");
	assert_int_equal(ix->keys[2].kind, MIG_KEY_ASC);
	assert_string_equal(ix->name, "zeta_1_alpha_-1_mid_1");
	mig_index_spec_free(spec);
}

static void test_default_names(void **state)
{
	(void)state;
	mig_index_spec *spec = parse_ok("{\"collections\": [{\"name\": \"p\", \"indexes\": [\n"
					"  {\"keys\": {\"sku\": 1, \"created_at\": -1}},\n"
					"  {\"keys\": {\"title\": \"text\"}},\n"
					"  {\"keys\": {\"loc\": \"2dsphere\"}},\n"
					"  {\"keys\": {\"uid\": \"hashed\"}},\n"
					"  {\"keys\": {\"a.b\": 1}, \"options\": {}}\n"
					"]}]}");
	mig_collection *c = &spec->collections[0];
	assert_int_equal(c->nindexes, 5);
	assert_string_equal(c->indexes[0].name, "sku_1_created_at_-1");
	assert_string_equal(c->indexes[1].name, "title_text");
	assert_string_equal(c->indexes[2].name, "loc_2dsphere");
	assert_string_equal(c->indexes[3].name, "uid_hashed");
	assert_string_equal(c->indexes[4].name, "a.b_1");
	for (size_t i = 0; i < c->nindexes; i++) {
		assert_int_equal(c->indexes[i].line, i + 2);
		assert_int_equal(c->indexes[i].unique, -1);
		assert_int_equal(c->indexes[i].sparse, -1);
		assert_int_equal(c->indexes[i].hidden, -1);
		assert_false(c->indexes[i].has_expire_after_seconds);
		assert_null(c->indexes[i].partial_filter);
		assert_false(c->indexes[i].has_collation);
	}
	mig_index_spec_free(spec);
}

static void test_every_option(void **state)
{
	(void)state;
	mig_index_spec *spec =
		parse_ok("{\"collections\": [{\"name\": \"p\", \"indexes\": [\n"
			 "  {\"keys\": {\"sku\": 1}, \"options\": {\"name\": \"sku_unique\", "
			 "\"unique\": true,\n"
			 "   \"sparse\": false, \"hidden\": true, \"expireAfterSeconds\": 3600,\n"
			 "   \"partialFilterExpression\": {\"zz\": {\"$gt\": 5}, \"aa\": {\"$eq\": "
			 "\"x\"}},\n"
			 "   \"collation\": {\"locale\": \"fr\", \"strength\": 2}}},\n"
			 "  {\"keys\": {\"t\": 1}, \"options\": {\"expireAfterSeconds\": 0}}\n"
			 "]}]}");
	mig_index *ix = &spec->collections[0].indexes[0];
	assert_string_equal(ix->name, "sku_unique");
	assert_int_equal(ix->unique, 1);
	assert_int_equal(ix->sparse, 0);
	assert_int_equal(ix->hidden, 1);
	assert_true(ix->has_expire_after_seconds);
	assert_int_equal(ix->expire_after_seconds, 3600);
	const mig_value *f = ix->partial_filter;
	assert_int_equal(f->type, MIG_VALUE_OBJECT);
	assert_int_equal(f->n, 2);
	assert_string_equal(f->keys[0], "zz"); /* file order kept */
	assert_string_equal(f->items[0].keys[0], "$gt");
	assert_int_equal(f->items[0].items[0].type, MIG_VALUE_INT);
	assert_int_equal(f->items[0].items[0].integer, 5);
	assert_string_equal(f->keys[1], "aa");
	assert_string_equal(f->items[1].items[0].string, "x");
	/* the collation comes expanded to the form mongod stores */
	assert_true(ix->has_collation);
	assert_string_equal(ix->collation.locale, "fr");
	assert_int_equal(ix->collation.strength, 2);
	assert_string_equal(ix->collation.case_first, "off");
	assert_string_equal(ix->collation.alternate, "non-ignorable");
	assert_false(ix->collation.backwards);
	ix = &spec->collections[0].indexes[1];
	assert_true(ix->has_expire_after_seconds);
	assert_int_equal(ix->expire_after_seconds, 0);
	assert_int_equal(ix->line, 6);
	mig_index_spec_free(spec);
}

/* Text options, collection options and ignore patterns become typed values. */
static void test_text_and_collection_options(void **state)
{
	(void)state;
	mig_index_spec *spec = parse_ok(
		"{\"collections\": [{\"name\": \"p\", \"ignore\": [\"adhoc_*\"],\n"
		" \"options\": {\"validator\": {\"n\": {\"$numberLong\": \"9007199254740993\"}},\n"
		"  \"validationLevel\": \"moderate\", \"collation\": {\"locale\": \"fr_CA\"},\n"
		"  \"timeseries\": {\"timeField\": \"at\"}},\n"
		" \"indexes\": [{\"keys\": {\"z\": \"text\", \"a\": \"text\"}, \"options\": "
		"{\"weights\": {\"z\": 7, \"extra\": 2}, \"language_override\": \"lang\"}}]}]}");
	mig_collection *c = &spec->collections[0];
	assert_int_equal(c->nignore, 1);
	assert_string_equal(c->ignore[0], "adhoc_*");
	assert_true(c->has_options);
	assert_int_equal(c->options.validator->items[0].type, MIG_VALUE_LONG);
	assert_int_equal(c->options.validator->items[0].integer, 9007199254740993LL);
	assert_string_equal(c->options.validation_level, "moderate");
	assert_true(c->options.has_collation);
	assert_true(c->options.collation.backwards); /* fr_CA's ICU default */
	assert_string_equal(c->options.ts_time_field, "at");
	mig_index *ix = &c->indexes[0];
	assert_int_equal(ix->nweights, 3); /* sorted by field, as mongod stores them */
	assert_string_equal(ix->weights[0].field, "a");
	assert_int_equal(ix->weights[0].weight, 1);
	assert_string_equal(ix->weights[1].field, "extra");
	assert_string_equal(ix->weights[2].field, "z");
	assert_int_equal(ix->weights[2].weight, 7);
	assert_string_equal(ix->default_language, "english");
	assert_string_equal(ix->language_override, "lang");
	mig_index_spec_free(spec);
}

static void test_collections_without_indexes(void **state)
{
	(void)state;
	mig_index_spec *spec = parse_ok("{\"collections\": [{\"name\": \"a\"},\n"
					" {\"name\": \"b\", \"indexes\": []}]}");
	assert_int_equal(spec->ncollections, 2);
	assert_string_equal(spec->collections[0].name, "a");
	assert_int_equal(spec->collections[0].nindexes, 0);
	assert_int_equal(spec->collections[1].line, 2);
	assert_int_equal(spec->collections[1].nindexes, 0);
	mig_index_spec_free(spec);

	spec = parse_ok("{\"collections\": []}");
	assert_int_equal(spec->ncollections, 0);
	mig_index_spec_free(spec);
}

/* Same name in two collections is fine; and the input need not be NUL-terminated. */
static void test_not_nul_terminated(void **state)
{
	(void)state;
	const char json[] =
		"{\"collections\": [{\"name\": \"a\", \"indexes\": [{\"keys\": {\"x\": 1}}]},"
		"{\"name\": \"b\", \"indexes\": [{\"keys\": {\"x\": 1}}]}]}GARBAGE";
	mig_index_spec *spec = NULL;
	mig_error err = {0};
	assert_int_equal(mig_index_spec_parse(&spec, json, strlen(json) - 7, "t.json", "m", &err),
			 MIG_OK);
	assert_string_equal(spec->collections[1].indexes[0].name, "x_1");
	mig_index_spec_free(spec);
	mig_index_spec_free(NULL);
}

static void test_load_file(void **state)
{
	(void)state;
	char path[] = "/tmp/test_index_spec_XXXXXX";
	int fd = mkstemp(path);
	FILE *f;
	mig_index_spec *spec = NULL;
	mig_error err = {0};

	assert_true(fd >= 0);
	assert_non_null(f = fdopen(fd, "w"));
	fputs("{\"collections\": [{\"name\": \"c\", \"indexes\": [{\"keys\": {\"k\": -1}}]}]}\n",
	      f);
	fclose(f);
	assert_int_equal(mig_index_spec_load(&spec, path, "core", &err), MIG_OK);
	assert_string_equal(spec->path, path);
	assert_string_equal(spec->collections[0].indexes[0].name, "k_-1");
	mig_index_spec_free(spec);
	remove(path);

	spec = NULL;
	assert_int_equal(mig_index_spec_load(&spec, path, "core", &err), MIG_EUSAGE);
	assert_null(spec);
	assert_non_null(strstr(err.message, "cannot read index spec '"));
	assert_non_null(strstr(err.message, path));
	assert_non_null(strstr(err.message, "No such file or directory"));
}

static void test_load_too_large(void **state)
{
	(void)state;
	char path[] = "/tmp/test_index_spec_big_XXXXXX";
	int fd = mkstemp(path);
	FILE *f;
	mig_index_spec *spec = NULL;
	mig_error err = {0};
	static char block[1 << 16];

	memset(block, ' ', sizeof block);
	assert_true(fd >= 0);
	assert_non_null(f = fdopen(fd, "w"));
	fputs("{\"collections\": []}", f);
	for (int i = 0; i < 256; i++) /* 16 MiB of trailing spaces, plus the object */
		fwrite(block, 1, sizeof block, f);
	fclose(f);
	assert_int_equal(mig_index_spec_load(&spec, path, "core", &err), MIG_EUSAGE);
	assert_null(spec);
	assert_non_null(strstr(err.message, "is too large"));
	assert_non_null(strstr(err.message, path));
	remove(path);
}

typedef struct bad_case {
	const char *json;
	const char *expect[3]; /* substrings the message must contain */
} bad_case;

static void test_bad(void **state)
{
	const bad_case *bc = *state;
	mig_index_spec *spec = NULL;
	mig_error err = {0};
	int rc = mig_index_spec_parse(&spec, bc->json, strlen(bc->json), "t.json", "m", &err);
	assert_int_equal(rc, MIG_EUSAGE);
	assert_int_equal(err.code, MIG_EUSAGE);
	assert_null(spec);
	assert_null(strchr(err.message, '\n'));
	if (getenv("SHOW_MESSAGES"))
		print_message("%s\n", err.message);
	for (int i = 0; i < 3 && bc->expect[i]; i++)
		if (!strstr(err.message, bc->expect[i]))
			fail_msg("message \"%s\" lacks \"%s\"", err.message, bc->expect[i]);
}

#define C1(body) "{\"collections\": [\n{\"name\": \"p\", \"indexes\": [\n" body "\n]}]}"

static bad_case syntax_error = {"{\"collections\": [\n  {\"name\": \"p\",, \"indexes\": []}\n]}",
				{"invalid JSON", "(t.json:2:16)"}};
static bad_case duplicate_json_key = {
	"{\"collections\": [\n  {\"name\": \"p\",\n   \"name\": \"q\"}]}",
	{"duplicate object key", "(t.json:3:"}};
static bad_case top_level_array = {"\n[{\"collections\": []}]",
				   {"top level must be an object", "(t.json:2)"}};
static bad_case empty_input = {"", {"invalid JSON", "(t.json:1:1)"}};
static bad_case unknown_top_key = {"{\"collections\": [],\n \"colections\": []}",
				   {"unknown key 'colections'", "(t.json:2)"}};
static bad_case missing_collections = {"{}", {"missing 'collections'", "(t.json:1)"}};
static bad_case collections_not_array = {"{\n\"collections\": {}}",
					 {"'collections' must be an array", "(t.json:2)"}};
static bad_case collection_not_object = {"{\"collections\": [\n\"p\"]}",
					 {"collection 1 must be an object", "(t.json:2)"}};
static bad_case unknown_collection_key = {"{\"collections\": [{\"name\": \"p\",\n \"index\": []}]}",
					  {"unknown key 'index'", "collection 'p'", "(t.json:2)"}};
static bad_case missing_name = {"{\"collections\": [\n{\"indexes\": []}]}",
				{"collection 1 has no 'name'", "(t.json:2)"}};
static bad_case name_not_string = {"{\"collections\": [{\n\"name\": 5}]}",
				   {"collection 'name' must be a string", "(t.json:2)"}};
static bad_case empty_collection_name = {"{\"collections\": [{\n\"name\": \"\"}]}",
					 {"empty collection name", "(t.json:2)"}};
static bad_case dollar_collection_name = {"{\"collections\": [{\n\"name\": \"a$b\"}]}",
					  {"invalid collection name 'a$b'", "(t.json:2)"}};
static bad_case system_collection_name = {
	"{\"collections\": [{\n\"name\": \"system.users\"}]}",
	{"invalid collection name 'system.users'", "reserved", "(t.json:2)"}};
static bad_case nul_collection_name = {"{\"collections\": [{\n\"name\": \"a\\u0000b\"}]}",
				       {"invalid JSON", "(t.json:2:"}};
static bad_case duplicate_collection = {
	"{\"collections\": [{\"name\": \"p\"},\n{\"name\": \"q\"},\n{\"name\": \"p\"}]}",
	{"collection 'p' is listed twice, first at line 1", "(t.json:3)"}};
static bad_case indexes_not_array = {
	"{\"collections\": [{\"name\": \"p\",\n\"indexes\": {}}]}",
	{"'indexes' of collection 'p' must be an array", "(t.json:2)"}};
static bad_case index_not_object = {C1("[]"),
				    {"index 1 of collection 'p' must be an object", "(t.json:3)"}};
static bad_case unknown_index_key = {C1("{\"keys\": {\"a\": 1},\n \"option\": {}}"),
				     {"unknown key 'option'", "(t.json:4)"}};
static bad_case missing_keys = {C1("{\"options\": {\"unique\": true}}"),
				{"index 1 of collection 'p' has no 'keys'", "(t.json:3)"}};
static bad_case keys_not_object = {C1("{\n\"keys\": [\"a\"]}"),
				   {"'keys' of index 1", "must be an object", "(t.json:4)"}};
static bad_case empty_keys = {C1("{\"keys\": {}}"), {"empty 'keys'", "(t.json:3)"}};
static bad_case empty_field = {C1("{\"keys\": {\n\"\": 1}}"), {"empty field name", "(t.json:4)"}};
static bad_case key_value_zero = {C1("{\"keys\": {\"a\": 1,\n\"b\": 0}}"),
				  {"bad value 0 for key 'b'", "(t.json:4)"}};
static bad_case key_value_two = {C1("{\"keys\": {\"a\": 2}}"),
				 {"bad value 2 for key 'a'", "(t.json:3)"}};
static bad_case key_value_real = {C1("{\"keys\": {\"a\": 1.5}}"),
				  {"bad value 1.5 for key 'a'", "(t.json:3)"}};
static bad_case key_value_one_point_zero = {C1("{\"keys\": {\"a\": 1.0}}"),
					    {"bad value 1.0 for key 'a'", "(t.json:3)"}};
static bad_case key_value_true = {C1("{\"keys\": {\"a\": true}}"),
				  {"bad value true for key 'a'", "(t.json:3)"}};
static bad_case key_value_string = {C1("{\"keys\": {\"a\": \"asc\"}}"),
				    {"bad value \"asc\" for key 'a'", "(t.json:3)"}};
static bad_case key_value_object = {C1("{\"keys\": {\"a\": {\"x\": 1}}}"),
				    {"bad value {\"x\":1} for key 'a'", "(t.json:3)"}};
static bad_case options_not_object = {C1("{\"keys\": {\"a\": 1}, \"options\": true}"),
				      {"'options' of index 1", "must be an object", "(t.json:3)"}};
static bad_case unknown_option = {
	C1("{\"keys\": {\"a\": 1}, \"options\": {\"name\": \"ix\",\n\"background\": true}}"),
	{"unknown option 'background'", "index 'ix' of collection 'p'", "(t.json:4)"}};
static bad_case unique_not_bool = {
	C1("{\"keys\": {\"a\": 1},\n \"options\": {\n\"unique\": \"yes\"}}"),
	{"option 'unique'", "must be true or false", "(t.json:5)"}};
static bad_case sparse_not_bool = {C1("{\"keys\": {\"a\": 1}, \"options\": {\"sparse\": 1}}"),
				   {"option 'sparse'", "must be true or false", "(t.json:3)"}};
static bad_case hidden_not_bool = {C1("{\"keys\": {\"a\": 1}, \"options\": {\"hidden\": null}}"),
				   {"option 'hidden'", "must be true or false", "(t.json:3)"}};
static bad_case name_not_string_option = {C1("{\"keys\": {\"a\": 1}, \"options\": {\"name\": 7}}"),
					  {"option 'name'", "non-empty string", "(t.json:3)"}};
static bad_case empty_index_name = {C1("{\"keys\": {\"a\": 1}, \"options\": {\"name\": \"\"}}"),
				    {"option 'name'", "non-empty string", "(t.json:3)"}};
static bad_case expire_negative = {
	C1("{\"keys\": {\"a\": 1}, \"options\": {\"expireAfterSeconds\": -1}}"),
	{"option 'expireAfterSeconds'", "integer from 0", "(t.json:3)"}};
static bad_case expire_real = {
	C1("{\"keys\": {\"a\": 1}, \"options\": {\"expireAfterSeconds\": 1.5}}"),
	{"option 'expireAfterSeconds'", "(t.json:3)"}};
static bad_case expire_huge = {
	C1("{\"keys\": {\"a\": 1}, \"options\": {\"expireAfterSeconds\": 2147483648}}"),
	{"option 'expireAfterSeconds'", "(t.json:3)"}};
static bad_case partial_not_object = {
	C1("{\"keys\": {\"a\": 1}, \"options\": {\"partialFilterExpression\": \"a>1\"}}"),
	{"option 'partialFilterExpression'", "must be an object", "(t.json:3)"}};
static bad_case collation_without_locale = {
	C1("{\"keys\": {\"a\": 1}, \"options\": {\n\"collation\": {\"strength\": 2}}}"),
	{"option 'collation'", "string 'locale'", "(t.json:4)"}};
static bad_case duplicate_explicit_name = {
	C1("{\"keys\": {\"a\": 1}, \"options\": {\"name\": \"ix\"}},\n"
	   "{\"keys\": {\"b\": 1}, \"options\": {\"name\": \"ix\"}}"),
	{"index name 'ix' is used twice in collection 'p', first at line 3", "(t.json:4)"}};
static bad_case duplicate_default_name = {
	C1("{\"keys\": {\"a\": 1}, \"options\": {\"name\": \"a_1\", \"unique\": true}},\n"
	   "{\"keys\": {\"a\": 1}}"),
	{"default index name 'a_1' is used twice", "first at line 3", "(t.json:4)"}};
static bad_case explicit_name_equals_default = {
	C1("{\"keys\": {\"a\": 1}},\n"
	   "{\"keys\": {\"b\": 1}, \"options\": {\"name\": \"a_1\"}}"),
	{"index name 'a_1' is used twice", "first at line 3", "(t.json:4)"}};
/* Line bookkeeping must survive nested objects, arrays and strings with brackets before the
 * culprit. */
static bad_case line_after_nested_values = {
	C1("{\"keys\": {\"a\": 1}, \"options\": {\"partialFilterExpression\":\n"
	   "  {\"$or\": [{\"s\": \"}]{[,:\\\"\"}, {\"t\": [1, 2, {\"u\": null}]}]}}},\n"
	   "{\"keys\": {\"b\": 1}, \"options\": {\"collation\": {\"locale\": \"en\"},\n"
	   "  \"bits\": {}}}"),
	{"unknown option 'bits'", "index 2", "(t.json:6)"}};

#define BAD(c)                                                                                     \
	{                                                                                          \
#c, test_bad, NULL, NULL, &c                                                       \
	}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_compound_key_order),
		cmocka_unit_test(test_default_names),
		cmocka_unit_test(test_every_option),
		cmocka_unit_test(test_text_and_collection_options),
		cmocka_unit_test(test_collections_without_indexes),
		cmocka_unit_test(test_not_nul_terminated),
		cmocka_unit_test(test_load_file),
		cmocka_unit_test(test_load_too_large),
		BAD(syntax_error),
		BAD(duplicate_json_key),
		BAD(top_level_array),
		BAD(empty_input),
		BAD(unknown_top_key),
		BAD(missing_collections),
		BAD(collections_not_array),
		BAD(collection_not_object),
		BAD(unknown_collection_key),
		BAD(missing_name),
		BAD(name_not_string),
		BAD(empty_collection_name),
		BAD(dollar_collection_name),
		BAD(system_collection_name),
		BAD(nul_collection_name),
		BAD(duplicate_collection),
		BAD(indexes_not_array),
		BAD(index_not_object),
		BAD(unknown_index_key),
		BAD(missing_keys),
		BAD(keys_not_object),
		BAD(empty_keys),
		BAD(empty_field),
		BAD(key_value_zero),
		BAD(key_value_two),
		BAD(key_value_real),
		BAD(key_value_one_point_zero),
		BAD(key_value_true),
		BAD(key_value_string),
		BAD(key_value_object),
		BAD(options_not_object),
		BAD(unknown_option),
		BAD(unique_not_bool),
		BAD(sparse_not_bool),
		BAD(hidden_not_bool),
		BAD(name_not_string_option),
		BAD(empty_index_name),
		BAD(expire_negative),
		BAD(expire_real),
		BAD(expire_huge),
		BAD(partial_not_object),
		BAD(collation_without_locale),
		BAD(duplicate_explicit_name),
		BAD(duplicate_default_name),
		BAD(explicit_name_equals_default),
		BAD(line_after_nested_values),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

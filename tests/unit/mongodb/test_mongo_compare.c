/* Unit tests of the pure half of the MongoDB driver (src/mongodb/mongo_compare.c): a parsed
 * spec against listIndexes entries shaped as mongod stores them, no server needed. Each
 * test names the finding of issue 16 it covers. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "mongodb/mongo_compare.h"
#include "mongodb/index_spec.h"

static mig_index_spec *parse(const char *index_json)
{
	char text[4096];
	mig_index_spec *spec = NULL;
	mig_error err = {0};
	snprintf(text, sizeof text, "{\"collections\": [{\"name\": \"c\", \"indexes\": [%s]}]}",
		 index_json);
	if (mig_index_spec_parse(&spec, text, strlen(text), "t.json", "m", &err))
		fail_msg("parse: %s", err.message);
	return spec;
}

static bson_t *json(const char *s)
{
	bson_error_t e;
	bson_t *b = bson_new_from_json((const uint8_t *)s, -1, &e);
	if (!b)
		fail_msg("bad test JSON %s: %s", s, e.message);
	return b;
}

/* Compares the one index of spec_json with the listIndexes entry have_json. */
static mig_mongo_diff compare(const char *spec_json, const char *have_json,
			      const char *default_collation)
{
	mig_index_spec *spec = parse(spec_json);
	bson_t *have = json(have_json), *dc = default_collation ? json(default_collation) : NULL;
	mig_mongo_diff d;
	mig_mongo_index_compare(&d, &spec->collections[0].indexes[0], have, dc);
	bson_destroy(have);
	if (dc)
		bson_destroy(dc);
	mig_index_spec_free(spec);
	return d;
}

#define EN_FULL                                                                                    \
	"\"locale\": \"en\", \"caseLevel\": false, \"caseFirst\": \"off\", \"strength\": %d, "     \
	"\"numericOrdering\": false, \"alternate\": \"non-ignorable\", \"maxVariable\": "          \
	"\"punct\", \"normalization\": false, \"backwards\": false, \"version\": \"57.1\""

/* Finding 1: an index created without a collation on a collection with a default one
 * carries the default; that is the same index, not a conflict. */
static void test_inherited_default_collation_is_same(void **state)
{
	(void)state;
	char have[1024], dc[512];
	snprintf(dc, sizeof dc, "{" EN_FULL "}", 2);
	snprintf(have, sizeof have,
		 "{\"v\": 2, \"key\": {\"a\": 1}, \"name\": \"a_1\", \"collation\": {" EN_FULL "}}", 2);
	mig_mongo_diff d = compare("{\"keys\": {\"a\": 1}}", have, dc);
	assert_false(d.differs);
	/* without the collection's default it would be a difference */
	d = compare("{\"keys\": {\"a\": 1}}", have, NULL);
	assert_true(d.differs);
	assert_non_null(strstr(d.detail, "collation"));
}

/* Finding 2: every field is compared after expanding the spec with the locale's defaults;
 * strength 2 on the server is not {locale: "en"} (strength 3). */
static void test_collation_compared_in_full(void **state)
{
	(void)state;
	char have[1024];
	snprintf(have, sizeof have,
		 "{\"v\": 2, \"key\": {\"a\": 1}, \"name\": \"a_1\", \"collation\": {" EN_FULL "}}", 2);
	mig_mongo_diff d =
		compare("{\"keys\": {\"a\": 1}, \"options\": {\"collation\": {\"locale\": \"en\"}}}",
			have, NULL);
	assert_true(d.differs);
	d = compare("{\"keys\": {\"a\": 1}, \"options\": {\"collation\": {\"locale\": \"en\", "
		    "\"strength\": 2}}}",
		    have, NULL);
	assert_false(d.differs);
	assert_string_equal(d.detail, "");
}

/* Finding 2: fr_CA's ICU default is backwards: true, so {locale: "fr_CA"} matches it. */
static void test_fr_ca_defaults(void **state)
{
	(void)state;
	const char *have = "{\"v\": 2, \"key\": {\"a\": 1}, \"name\": \"a_1\", \"collation\": "
			   "{\"locale\": \"fr_CA\", \"caseLevel\": false, \"caseFirst\": \"off\", "
			   "\"strength\": 3, \"numericOrdering\": false, \"alternate\": "
			   "\"non-ignorable\", \"maxVariable\": \"punct\", \"normalization\": "
			   "false, \"backwards\": true, \"version\": \"57.1\"}}";
	mig_mongo_diff d = compare(
		"{\"keys\": {\"a\": 1}, \"options\": {\"collation\": {\"locale\": \"fr_CA\"}}}",
		have, NULL);
	assert_false(d.differs);
}

/* Finding 2: a server-side {locale: "simple"} is no collation. */
static void test_simple_is_no_collation(void **state)
{
	(void)state;
	mig_mongo_diff d = compare("{\"keys\": {\"a\": 1}}",
				   "{\"v\": 2, \"key\": {\"a\": 1}, \"name\": \"a_1\", "
				   "\"collation\": {\"locale\": \"simple\"}}",
				   NULL);
	assert_false(d.differs);
}

/* Finding 3: weights, default_language and language_override are compared. */
static void test_text_options_compared(void **state)
{
	(void)state;
	const char *have = "{\"v\": 2, \"key\": {\"_fts\": \"text\", \"_ftsx\": 1}, \"name\": "
			   "\"t\", \"weights\": {\"body\": 1, \"title\": 5}, \"default_language\": "
			   "\"english\", \"language_override\": \"language\", "
			   "\"textIndexVersion\": 3}";
	mig_mongo_diff d = compare("{\"keys\": {\"title\": \"text\", \"body\": \"text\"}, "
				   "\"options\": {\"name\": \"t\", \"weights\": {\"title\": 5}}}",
				   have, NULL);
	assert_false(d.differs);
	d = compare("{\"keys\": {\"title\": \"text\", \"body\": \"text\"}, \"options\": {\"name\": "
		    "\"t\"}}",
		    have, NULL);
	assert_true(d.differs);
	assert_non_null(strstr(d.detail, "weights"));
	d = compare("{\"keys\": {\"title\": \"text\", \"body\": \"text\"}, \"options\": {\"name\": "
		    "\"t\", \"weights\": {\"title\": 5}, \"default_language\": \"french\"}}",
		    have, NULL);
	assert_true(d.differs);
	assert_non_null(strstr(d.detail, "default_language"));
}

/* Finding 9: partial filters compare as normalised match expressions. */
static void test_partial_filter_normalised(void **state)
{
	(void)state;
	bson_t *a = json("{\"$and\": [{\"qty\": {\"$gt\": 0}}, {\"status\": \"active\"}]}");
	bson_t *b = json("{\"status\": \"active\", \"qty\": {\"$gt\": 0}}");
	bson_t *c = json("{\"status\": {\"$eq\": \"active\"}, \"qty\": {\"$gt\": 0.0}}");
	bson_t *d = json("{\"status\": \"active\", \"qty\": {\"$gt\": 1}}");
	bson_t *e = json("{\"s\": {\"$in\": [1, 2]}}"), *f = json("{\"s\": {\"$in\": [2, 1]}}");
	assert_true(mig_mongo_filters_equal(a, b));
	assert_true(mig_mongo_filters_equal(b, c));
	assert_false(mig_mongo_filters_equal(a, d));
	assert_true(mig_mongo_filters_equal(e, f));
	bson_destroy(a);
	bson_destroy(b);
	bson_destroy(c);
	bson_destroy(d);
	bson_destroy(e);
	bson_destroy(f);
}

/* collMod can change expireAfterSeconds and hidden: reported apart from conflicts. */
static void test_in_place_changes(void **state)
{
	(void)state;
	mig_mongo_diff d = compare(
		"{\"keys\": {\"t\": 1}, \"options\": {\"expireAfterSeconds\": 60, \"hidden\": true}}",
		"{\"v\": 2, \"key\": {\"t\": 1}, \"name\": \"t_1\", \"expireAfterSeconds\": 30}",
		NULL);
	assert_false(d.differs);
	assert_true(d.expire);
	assert_true(d.hidden);
}

/* The document createIndexes gets: typed values, full collation, text options. */
static void test_index_doc(void **state)
{
	(void)state;
	mig_index_spec *spec = parse(
		"{\"keys\": {\"a\": 1, \"b\": -1}, \"options\": {\"unique\": true, "
		"\"partialFilterExpression\": {\"d\": {\"$gt\": {\"$date\": "
		"\"2024-01-31T00:00:00Z\"}}}, \"collation\": {\"locale\": \"da\"}}}");
	bson_t doc = BSON_INITIALIZER;
	mig_mongo_index_doc(&doc, &spec->collections[0].indexes[0]);
	char *j = bson_as_relaxed_extended_json(&doc, NULL);
	assert_non_null(strstr(j, "\"key\" : { \"a\" : 1, \"b\" : -1 }"));
	assert_non_null(strstr(j, "\"unique\" : true"));
	assert_non_null(strstr(j, "{ \"$date\" : \"2024-01-31T00:00:00Z\" }"));
	assert_non_null(strstr(j, "\"caseFirst\" : \"upper\"")); /* da's default */
	bson_free(j);
	bson_destroy(&doc);
	mig_index_spec_free(spec);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_inherited_default_collation_is_same),
		cmocka_unit_test(test_collation_compared_in_full),
		cmocka_unit_test(test_fr_ca_defaults),
		cmocka_unit_test(test_simple_is_no_collation),
		cmocka_unit_test(test_text_options_compared),
		cmocka_unit_test(test_partial_filter_normalised),
		cmocka_unit_test(test_in_place_changes),
		cmocka_unit_test(test_index_doc),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

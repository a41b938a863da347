/* Integration tests of mig_mongo_sync (src/mongodb/mongo_sync.c) against the server named by
 * MIGRATE_TEST_MONGO_URI: the stand-in (tests/mongo_standin) or a real mongod, unchanged.
 * Each test works in a fresh, randomly named database and drops it afterwards. Set-up and
 * inspection go through mongo_test_util.c; what is under test only through mongo.h. */
#define _POSIX_C_SOURCE 200809L /* clock_gettime, getpid */

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "mongodb/index_spec.h"
#include "mongodb/mongo.h"
#include "mongo_test_util.h"

static const char *test_uri;

typedef struct fixture {
	char db[64];
	char *seen[64]; /* "module coll index STATE[ detail]" per reported item */
	size_t nseen;
} fixture;

static int setup(void **state)
{
	static unsigned counter;
	fixture *f = calloc(1, sizeof *f);
	struct timespec ts;
	if (!f)
		return -1;
	clock_gettime(CLOCK_REALTIME, &ts);
	snprintf(f->db, sizeof f->db, "migtest_%ld_%u_%ld", (long)getpid(), ++counter,
		 (long)(ts.tv_nsec % 1000000));
	*state = f;
	return 0;
}

static void clear_seen(fixture *f)
{
	for (size_t i = 0; i < f->nseen; i++)
		free(f->seen[i]);
	f->nseen = 0;
}

static int teardown(void **state)
{
	fixture *f = *state;
	int rc = mtu_drop_database(test_uri, f->db);
	clear_seen(f);
	free(f);
	return rc;
}

static const char *state_name(mig_mongo_state s)
{
	switch (s) {
	case MIG_MONGO_PRESENT:
		return "PRESENT";
	case MIG_MONGO_MISSING:
		return "MISSING";
	case MIG_MONGO_CREATED:
		return "CREATED";
	case MIG_MONGO_CONFLICT:
		return "CONFLICT";
	case MIG_MONGO_CHANGED:
		return "CHANGED";
	case MIG_MONGO_EXTRA:
		return "EXTRA";
	case MIG_MONGO_DROPPED:
		return "DROPPED";
	case MIG_MONGO_BUILDING:
		return "BUILDING";
	case MIG_MONGO_FAILED:
		return "FAILED";
	}
	return "?";
}

static void record(void *ctx, const mig_mongo_item *it)
{
	fixture *f = ctx;
	char line[2048];
	snprintf(line, sizeof line, "%s %s %s %s%s%s", it->module, it->collection,
		 it->index ? it->index : "-", state_name(it->state), it->detail ? " " : "",
		 it->detail ? it->detail : "");
	assert_true(f->nseen < sizeof f->seen / sizeof *f->seen);
	f->seen[f->nseen++] = strdup(line);
}

/* Asserts the reports, in order: each expected line must be a prefix of the reported one
 * (a CONFLICT's detail follows). */
static void expect_seen(fixture *f, const char *const *want, size_t n)
{
	for (size_t i = 0; i < n && i < f->nseen; i++)
		if (strncmp(f->seen[i], want[i], strlen(want[i])))
			fail_msg("report %zu is \"%s\", expected \"%s\"", i, f->seen[i], want[i]);
	if (f->nseen != n) {
		for (size_t i = 0; i < f->nseen; i++)
			print_error("  got: %s\n", f->seen[i]);
		fail_msg("%zu reports, expected %zu", f->nseen, n);
	}
}

#define EXPECT_SEEN(f, ...)                                                                        \
	do {                                                                                       \
		const char *const want_[] = {__VA_ARGS__};                                         \
		expect_seen(f, want_, sizeof want_ / sizeof *want_);                               \
	} while (0)

static mig_index_spec *spec(const char *module, const char *json)
{
	mig_index_spec *s = NULL;
	mig_error err = {0};
	if (mig_index_spec_parse(&s, json, strlen(json), "indexes.json", module, &err))
		fail_msg("spec: %s", err.message);
	return s;
}

/* Runs one sync with a fresh client and expects rc. */
static void sync_expect(fixture *f, mig_index_spec *const *specs, size_t n, mig_mongo_mode mode,
			int want_rc)
{
	mig_mongo *m = NULL;
	mig_error err = {0};
	int rc;

	clear_seen(f);
	if (mig_mongo_connect(&m, test_uri, f->db, &err))
		fail_msg("connect: %s", err.message);
	rc = mig_mongo_sync(m, specs, n, mode, record, f, &err);
	mig_mongo_free(m);
	if (rc != want_rc)
		fail_msg("sync returned %d (%s), expected %d", rc, err.message, want_rc);
}

static const char catalog_json[] =
	"{\"collections\": [\n"
	" {\"name\": \"products\", \"indexes\": [\n"
	"  {\"keys\": {\"zeta\": 1, \"alpha\": -1, \"mid\": 1}},\n"
	"  {\"keys\": {\"sku\": 1}, \"options\": {\"name\": \"sku_unique\", \"unique\": true}},\n"
	"  {\"keys\": {\"title\": \"text\", \"body\": \"text\"}},\n"
	"  {\"keys\": {\"seen_at\": 1}, \"options\": {\"expireAfterSeconds\": 3600,\n"
	"    \"sparse\": true, \"hidden\": true}},\n"
	"  {\"keys\": {\"price\": -1}, \"options\": {\"name\": \"cheap_active\",\n"
	"    \"partialFilterExpression\": {\"status\": {\"$eq\": \"active\"}, \"qty\": {\"$gt\": "
	"0}}}},\n"
	"  {\"keys\": {\"label\": 1}, \"options\": {\"collation\": {\"locale\": \"fr\", "
	"\"strength\": 2}}},\n"
	"  {\"keys\": {\"loc\": \"2dsphere\"}},\n"
	"  {\"keys\": {\"uid\": \"hashed\"}}\n"
	" ]},\n"
	" {\"name\": \"audit_log\"}\n"
	"]}";

/* A second module naming the same collection: one listIndexes and one createIndexes for it. */
static const char billing_json[] = "{\"collections\": [{\"name\": \"products\", \"indexes\": [\n"
				   "  {\"keys\": {\"billing_id\": 1}}]},\n"
				   " {\"name\": \"invoices\", \"indexes\": [{\"keys\": {\"no\": "
				   "1}, \"options\": {\"unique\": true}}]}]}";

static void expect_described(const char *db, const char *coll, const char *name, const char *want)
{
	char *got = mtu_index_describe(test_uri, db, coll, name);
	if (!got)
		fail_msg("index %s.%s.%s does not exist", db, coll, name);
	if (strncmp(got, want, strlen(want)))
		fail_msg("index %s is \"%s\", expected it to start \"%s\"", name, got, want);
	free(got);
}

static void expect_contains(const char *db, const char *coll, const char *name, const char *part)
{
	char *got = mtu_index_describe(test_uri, db, coll, name);
	if (!got || !strstr(got, part))
		fail_msg("index %s is \"%s\", expected \"%s\" in it", name, got ? got : "(none)",
			 part);
	free(got);
}

/* Commands the server received, counted around one sync. */
typedef struct counts {
	long long list_collections, list_indexes, create, create_indexes, writes;
} counts;

static counts count_now(void)
{
	counts c = {mtu_command_count(test_uri, "listCollections"),
		    mtu_command_count(test_uri, "listIndexes"),
		    mtu_command_count(test_uri, "create"),
		    mtu_command_count(test_uri, "createIndexes"), mtu_write_count(test_uri)};
	assert_true(c.list_collections >= 0 && c.list_indexes >= 0 && c.create >= 0 &&
		    c.create_indexes >= 0 && c.writes >= 0);
	return c;
}

static void expect_sent(counts before, long long list_collections, long long list_indexes,
			long long create, long long create_indexes, long long writes)
{
	counts now = count_now();
	assert_int_equal(now.list_collections - before.list_collections, list_collections);
	assert_int_equal(now.list_indexes - before.list_indexes, list_indexes);
	assert_int_equal(now.create - before.create, create);
	assert_int_equal(now.create_indexes - before.create_indexes, create_indexes);
	assert_int_equal(now.writes - before.writes, writes);
}

static void test_seed_creates_then_present(void **state)
{
	fixture *f = *state;
	mig_index_spec *specs[2] = {spec("catalog", catalog_json), spec("billing", billing_json)};
	counts before = count_now();

	/* One listCollections; no listIndexes (nothing exists yet); one createIndexes per
	 * collection with indexes (products' serving both modules), which creates it too;
	 * a create only for audit_log, which has no index. */
	sync_expect(f, specs, 2, MIG_MONGO_SEED, MIG_OK);
	expect_sent(before, 1, 0, 1, 2, 3);
	EXPECT_SEEN(f, "catalog products - CREATED",
		    "catalog products zeta_1_alpha_-1_mid_1 CREATED",
		    "catalog products sku_unique CREATED",
		    "catalog products title_text_body_text CREATED",
		    "catalog products seen_at_1 CREATED", "catalog products cheap_active CREATED",
		    "catalog products label_1 CREATED", "catalog products loc_2dsphere CREATED",
		    "catalog products uid_hashed CREATED", "catalog audit_log - CREATED",
		    "billing products - CREATED", "billing products billing_id_1 CREATED",
		    "billing invoices - CREATED", "billing invoices no_1 CREATED");

	assert_true(mtu_collection_exists(test_uri, f->db, "audit_log"));
	expect_described(f->db, "products", "zeta_1_alpha_-1_mid_1", "key={zeta:1,alpha:-1,mid:1}");
	expect_described(f->db, "products", "sku_unique", "key={sku:1} unique");
	expect_described(f->db, "products", "title_text_body_text",
			 "key={_fts:text,_ftsx:1} weights={");
	expect_contains(f->db, "products", "title_text_body_text", "title");
	expect_contains(f->db, "products", "title_text_body_text", "body");
	expect_described(f->db, "products", "seen_at_1",
			 "key={seen_at:1} sparse hidden expire=3600");
	expect_described(f->db, "products", "cheap_active",
			 "key={price:-1} partial={ \"status\" : { \"$eq\" : \"active\" }, "
			 "\"qty\" : { \"$gt\" : 0 } }");
	expect_described(f->db, "products", "label_1",
			 "key={label:1} collation={ \"locale\" : \"fr\"");
	expect_contains(f->db, "products", "label_1", "\"strength\" : 2");
	expect_described(f->db, "products", "loc_2dsphere", "key={loc:2dsphere}");
	expect_described(f->db, "products", "uid_hashed", "key={uid:hashed}");
	expect_described(f->db, "products", "billing_id_1", "key={billing_id:1}");
	expect_described(f->db, "invoices", "no_1", "key={no:1} unique");

	/* Again: everything present, one listIndexes per collection, and not one write. */
	before = count_now();
	sync_expect(f, specs, 2, MIG_MONGO_SEED, MIG_OK);
	expect_sent(before, 1, 3, 0, 0, 0);
	assert_int_equal(f->nseen, 14);
	for (size_t i = 0; i < f->nseen; i++)
		if (!strstr(f->seen[i], " PRESENT"))
			fail_msg("second seed reported \"%s\"", f->seen[i]);

	sync_expect(f, specs, 2, MIG_MONGO_CHECK, MIG_OK);
	for (size_t i = 0; i < f->nseen; i++)
		if (!strstr(f->seen[i], " PRESENT"))
			fail_msg("check reported \"%s\"", f->seen[i]);
	mig_index_spec_free(specs[0]);
	mig_index_spec_free(specs[1]);
}

static void test_check_reports_missing(void **state)
{
	fixture *f = *state;
	mig_index_spec *s = spec("catalog", catalog_json);
	char cmd[256];
	long long before;

	sync_expect(f, &s, 1, MIG_MONGO_SEED, MIG_OK);
	snprintf(cmd, sizeof cmd, "{\"dropIndexes\": \"products\", \"index\": \"sku_unique\"}");
	assert_int_equal(mtu_command(test_uri, f->db, cmd, NULL), 0);
	assert_int_equal(mtu_command(test_uri, f->db, "{\"drop\": \"audit_log\"}", NULL), 0);

	before = mtu_write_count(test_uri);
	sync_expect(f, &s, 1, MIG_MONGO_CHECK, MIG_OK);
	assert_int_equal(mtu_write_count(test_uri), before);
	EXPECT_SEEN(f, "catalog products - PRESENT",
		    "catalog products zeta_1_alpha_-1_mid_1 PRESENT",
		    "catalog products sku_unique MISSING",
		    "catalog products title_text_body_text PRESENT",
		    "catalog products seen_at_1 PRESENT", "catalog products cheap_active PRESENT",
		    "catalog products label_1 PRESENT", "catalog products loc_2dsphere PRESENT",
		    "catalog products uid_hashed PRESENT", "catalog audit_log - MISSING");
	assert_null(mtu_index_describe(test_uri, f->db, "products", "sku_unique"));
	assert_false(mtu_collection_exists(test_uri, f->db, "audit_log"));
	mig_index_spec_free(s);
}

static void test_seed_dry_creates_nothing(void **state)
{
	fixture *f = *state;
	mig_index_spec *specs[2] = {spec("catalog", catalog_json), spec("billing", billing_json)};
	long long before = mtu_write_count(test_uri);

	sync_expect(f, specs, 2, MIG_MONGO_SEED_DRY, MIG_OK);
	assert_int_equal(mtu_write_count(test_uri), before);
	assert_int_equal(f->nseen, 14);
	for (size_t i = 0; i < f->nseen; i++)
		if (!strstr(f->seen[i], " MISSING"))
			fail_msg("dry run reported \"%s\"", f->seen[i]);
	assert_false(mtu_collection_exists(test_uri, f->db, "products"));
	assert_false(mtu_collection_exists(test_uri, f->db, "audit_log"));
	mig_index_spec_free(specs[0]);
	mig_index_spec_free(specs[1]);
}

/* Same name, other key: found by comparing, reported, left alone; the rest is created. */
static void test_conflict_by_name(void **state)
{
	fixture *f = *state;
	mig_index_spec *s =
		spec("catalog", "{\"collections\": [{\"name\": \"products\", \"indexes\": [\n"
				" {\"keys\": {\"a\": 1}},\n"
				" {\"keys\": {\"sku\": 1}, \"options\": {\"name\": \"by_sku\"}},\n"
				" {\"keys\": {\"c\": 1}, \"options\": {\"unique\": true}},\n"
				" {\"keys\": {\"d\": -1}}]}]}");

	assert_int_equal(mtu_command(test_uri, f->db,
				     "{\"createIndexes\": \"products\", \"indexes\": ["
				     "{\"key\": {\"other\": 1}, \"name\": \"by_sku\"},"
				     "{\"key\": {\"c\": 1}, \"name\": \"c_1\"}]}",
				     NULL),
			 0);
	sync_expect(f, &s, 1, MIG_MONGO_SEED, MIG_OK);
	EXPECT_SEEN(f, "catalog products - PRESENT", "catalog products a_1 CREATED",
		    "catalog products by_sku CONFLICT keys differ",
		    "catalog products c_1 CONFLICT unique: server false, spec true",
		    "catalog products d_-1 CREATED");
	expect_described(f->db, "products", "by_sku", "key={other:1}");
	expect_described(f->db, "products", "c_1", "key={c:1}");
	expect_described(f->db, "products", "a_1", "key={a:1}");
	expect_described(f->db, "products", "d_-1", "key={d:-1}");

	/* check says the same, and sends nothing */
	sync_expect(f, &s, 1, MIG_MONGO_CHECK, MIG_OK);
	EXPECT_SEEN(f, "catalog products - PRESENT", "catalog products a_1 PRESENT",
		    "catalog products by_sku CONFLICT keys differ", "catalog products c_1 CONFLICT",
		    "catalog products d_-1 PRESENT");
	mig_index_spec_free(s);
}

/* Other name, same key: only the server sees the clash (code 85). The one createIndexes is
 * refused whole, so the driver retries index by index and the others are still created. */
static void test_conflict_found_by_server(void **state)
{
	fixture *f = *state;
	mig_index_spec *s =
		spec("catalog", "{\"collections\": [{\"name\": \"products\", \"indexes\": [\n"
				" {\"keys\": {\"a\": 1}},\n"
				" {\"keys\": {\"sku\": 1}, \"options\": {\"name\": \"sku_new\"}},\n"
				" {\"keys\": {\"b\": 1}}]}]}");

	assert_int_equal(mtu_command(test_uri, f->db,
				     "{\"createIndexes\": \"products\", \"indexes\": ["
				     "{\"key\": {\"sku\": 1}, \"name\": \"sku_old\"}]}",
				     NULL),
			 0);
	sync_expect(f, &s, 1, MIG_MONGO_SEED, MIG_OK);
	EXPECT_SEEN(f, "catalog products - PRESENT", "catalog products a_1 CREATED",
		    "catalog products sku_new CONFLICT ", "catalog products b_1 CREATED",
		    "catalog products sku_old EXTRA"); /* declared by no spec: listed */
	assert_non_null(strstr(f->seen[2], "(code 85)"));
	assert_null(mtu_index_describe(test_uri, f->db, "products", "sku_new"));
	expect_described(f->db, "products", "a_1", "key={a:1}");
	expect_described(f->db, "products", "b_1", "key={b:1}");
	mig_index_spec_free(s);
}

/* Two modules naming one index of one collection: sent once when they agree; when they
 * disagree the later one is a conflict that names the earlier module. */
static void test_same_index_in_two_modules(void **state)
{
	fixture *f = *state;
	mig_index_spec *specs[2] = {
		spec("catalog", "{\"collections\": [{\"name\": \"products\", \"indexes\": [\n"
				" {\"keys\": {\"x\": 1}},\n"
				" {\"keys\": {\"y\": 1}}]}]}"),
		spec("billing", "{\"collections\": [{\"name\": \"products\", \"indexes\": [\n"
				" {\"keys\": {\"y\": 1}, \"options\": {\"unique\": true}},\n"
				" {\"keys\": {\"x\": 1}}]}]}")};
	counts before;

	sync_expect(f, specs, 2, MIG_MONGO_CHECK, MIG_OK);
	EXPECT_SEEN(f, "catalog products - MISSING", "catalog products x_1 MISSING",
		    "catalog products y_1 MISSING", "billing products - MISSING",
		    "billing products y_1 CONFLICT module 'catalog' defines index 'y_1' "
		    "differently (indexes.json:3)",
		    "billing products x_1 MISSING");

	before = count_now();
	sync_expect(f, specs, 2, MIG_MONGO_SEED, MIG_OK);
	expect_sent(before, 1, 0, 0, 1, 1);
	EXPECT_SEEN(f, "catalog products - CREATED", "catalog products x_1 CREATED",
		    "catalog products y_1 CREATED", "billing products - CREATED",
		    "billing products y_1 CONFLICT module 'catalog'",
		    "billing products x_1 CREATED");
	expect_described(f->db, "products", "y_1", "key={y:1}"); /* catalog's: not unique */
	expect_described(f->db, "products", "x_1", "key={x:1}");
	mig_index_spec_free(specs[0]);
	mig_index_spec_free(specs[1]);
}

/* A server error other than a conflict stops the sync with MIG_EFAIL and the server's
 * message and code; nothing is reported. */
/* A batch the server refuses for one index (duplicate keys under a new unique index):
 * the others are still created, the refused one is FAILED with the server's code, and the
 * sync goes on (finding 5 of issue 16). */
static void test_refused_index_does_not_stop_the_others(void **state)
{
	fixture *f = *state;
	mig_index_spec *s =
		spec("catalog", "{\"collections\": [{\"name\": \"products\", \"indexes\": [\n"
				" {\"keys\": {\"a\": 1}, \"options\": {\"unique\": true}},\n"
				" {\"keys\": {\"b\": 1}}]},\n"
				" {\"name\": \"later\", \"indexes\": [{\"keys\": {\"c\": 1}}]}]}");
	char *reply = NULL;
	assert_int_equal(mtu_command(test_uri, f->db,
				     "{\"insert\": \"products\", \"documents\": [{\"a\": 1}, "
				     "{\"a\": 1}]}",
				     &reply),
			 0);
	free(reply);
	sync_expect(f, &s, 1, MIG_MONGO_SEED, MIG_OK);
	EXPECT_SEEN(f, "catalog products - PRESENT", "catalog products a_1 FAILED",
		    "catalog products b_1 CREATED", "catalog later - CREATED",
		    "catalog later c_1 CREATED");
	assert_non_null(strstr(f->seen[1], "(code 11000)"));
	mig_index_spec_free(s);
}

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void test_unreachable_server(void **state)
{
	fixture *f = *state;
	mig_index_spec *s = spec("catalog", catalog_json);
	mig_mongo *m = NULL;
	mig_error err = {0};
	double t0;

	assert_int_equal(mig_mongo_connect(&m,
					   "mongodb://127.0.0.1:1/?serverSelectionTimeoutMS=500",
					   f->db, &err),
			 MIG_OK);
	t0 = now();
	assert_int_equal(mig_mongo_sync(m, &s, 1, MIG_MONGO_CHECK, record, f, &err), MIG_EFAIL);
	assert_true(now() - t0 < 2.0);
	assert_int_equal(err.code, MIG_EFAIL);
	assert_non_null(strstr(err.message, "cannot reach MongoDB"));
	assert_int_equal(f->nseen, 0);
	mig_mongo_free(m);
	mig_index_spec_free(s);
}

static void test_password_never_shown(void **state)
{
	fixture *f = *state;
	mig_index_spec *s = spec("catalog", catalog_json);
	mig_mongo *m = NULL;
	mig_error err = {0};
	static const char *const bad_uris[] = {
		"mongodb://user:s3cretPW@127.0.0.1:notaport/?serverSelectionTimeoutMS=300",
		"mongodb://user:s3cretPW@/app",
		"mongodb://user:s3cretPW@127.0.0.1:99999/",
		"mongodb://user:s3cretPW@h/?authMechanism=GSSAPI&authSource=x",
		"mongodb://user:s3cret%50W@127.0.0.1:1/?tls=maybe",
		"postgres://user:s3cretPW@127.0.0.1/",
	};

	assert_int_equal(
		mig_mongo_connect(
			&m, "mongodb://user:s3cretPW@127.0.0.1:1/?serverSelectionTimeoutMS=300",
			f->db, &err),
		MIG_OK);
	assert_int_equal(mig_mongo_sync(m, &s, 1, MIG_MONGO_SEED, record, f, &err), MIG_EFAIL);
	assert_null(strstr(err.message, "s3cretPW"));
	mig_mongo_free(m);

	for (size_t i = 0; i < sizeof bad_uris / sizeof *bad_uris; i++) {
		m = NULL;
		memset(&err, 0, sizeof err);
		assert_int_equal(mig_mongo_connect(&m, bad_uris[i], f->db, &err), MIG_EUSAGE);
		assert_null(m);
		if (strstr(err.message, "s3cret") || !strstr(err.message, "user:***@"))
			fail_msg("for %s: %s", bad_uris[i], err.message);
	}

	memset(&err, 0, sizeof err);
	assert_int_equal(mig_mongo_connect(&m, test_uri, "bad.name", &err), MIG_EUSAGE);
	assert_non_null(strstr(err.message, "'bad.name'"));
	mig_index_spec_free(s);
}

/* An extended JSON value that is not valid fails when the spec is parsed, with its line:
 * nothing can reach the server (it used to fail later, in mig_mongo_sync). */
static void test_unreadable_option_is_usage(void **state)
{
	(void)state;
	const char *json = "{\"collections\": [{\"name\": \"products\", \"indexes\": [\n"
			   " {\"keys\": {\"a\": 1}, \"options\": {\"partialFilterExpression\":\n"
			   "   {\"d\": {\"$date\": \"yesterday\"}}}}]}]}";
	mig_index_spec *s = NULL;
	mig_error err = {0};
	assert_int_equal(mig_index_spec_parse(&s, json, strlen(json), "indexes.json", "catalog",
					      &err),
			 MIG_EUSAGE);
	assert_null(s);
	assert_non_null(strstr(err.message, "$date"));
	assert_non_null(strstr(err.message, "(indexes.json:3)")); /* the value's line */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_seed_creates_then_present, setup, teardown),
		cmocka_unit_test_setup_teardown(test_check_reports_missing, setup, teardown),
		cmocka_unit_test_setup_teardown(test_seed_dry_creates_nothing, setup, teardown),
		cmocka_unit_test_setup_teardown(test_conflict_by_name, setup, teardown),
		cmocka_unit_test_setup_teardown(test_conflict_found_by_server, setup, teardown),
		cmocka_unit_test_setup_teardown(test_same_index_in_two_modules, setup, teardown),
		cmocka_unit_test_setup_teardown(test_refused_index_does_not_stop_the_others, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unreachable_server, setup, teardown),
		cmocka_unit_test_setup_teardown(test_password_never_shown, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unreadable_option_is_usage, setup, teardown),
	};
	int failed;

	test_uri = getenv("MIGRATE_TEST_MONGO_URI");
	if (!test_uri || !*test_uri) {
		fprintf(stderr,
			"test_mongo_driver: MIGRATE_TEST_MONGO_URI is not set; it must name "
			"a MongoDB server (or tests/mongo_standin) to test against\n");
		return 1;
	}
	failed = cmocka_run_group_tests(tests, NULL, NULL);
	mig_mongo_global_cleanup();
	return failed;
}

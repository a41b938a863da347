/* Unit tests of the schema snapshot model and its comparison (src/schema/schema_diff.c):
 * missing, extra and changed objects by name, attributes absent on one side, extras
 * limited to the schemas the history uses, parts of a missing table folded into it,
 * attribution to the creating migration, the module filter, the JSON shape, and views
 * and patches by owner. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "schema/snapshot.h"
#include "schema/snapshot_json.h"

static void add(mig_snapshot *s, const char *type, const char *schema, const char *name,
		const char *key, const char *value)
{
	const char *keys[] = {key};
	const char *values[] = {value};
	assert_int_equal(mig_snapshot_add(s, type, schema, name, key ? 1 : 0, keys, values, NULL),
			 MIG_OK);
}

/* The same small schema: a table with a column and an index, and a function. */
static void base(mig_snapshot *s)
{
	add(s, "table", "app", "users", "comment", NULL);
	add(s, "column", "app", "users.email", "type", "text");
	add(s, "index", "app", "users.users_email_idx", "definition", "CREATE INDEX ...");
	add(s, "function", "app", "touch()", "body", "BEGIN RETURN NEW; END");
	add(s, "schema", "app", "app", NULL, NULL);
	mig_snapshot_sort(s);
}

static void test_identical_snapshots_have_no_difference(void **state)
{
	(void)state;
	mig_snapshot a = {0}, b = {0};
	mig_diff d = {0};
	base(&a);
	base(&b);
	assert_int_equal(mig_snapshot_diff(&d, &a, &b, true, NULL), MIG_OK);
	assert_int_equal(d.n, 0);
	mig_snapshot_clear(&a);
	mig_snapshot_clear(&b);
	mig_diff_clear(&d);
}

static void test_changed_attribute_names_both_values(void **state)
{
	(void)state;
	mig_snapshot a = {0}, b = {0};
	mig_diff d = {0};
	base(&a);
	add(&b, "column", "app", "users.email", "type", "character varying(50)");
	add(&b, "table", "app", "users", "comment", "people"); /* NULL -> value */
	add(&b, "index", "app", "users.users_email_idx", "definition", "CREATE INDEX ...");
	add(&b, "function", "app", "touch()", "body", "BEGIN RETURN NEW; END");
	add(&b, "schema", "app", "app", NULL, NULL);
	mig_snapshot_sort(&b);
	assert_int_equal(mig_snapshot_diff(&d, &a, &b, true, NULL), MIG_OK);
	assert_int_equal(d.n, 2);
	assert_int_equal(d.items[0].kind, MIG_DIFF_CHANGED);
	assert_string_equal(d.items[0].object_type, "column");
	assert_string_equal(d.items[0].name, "users.email");
	assert_string_equal(d.items[0].attribute, "type");
	assert_string_equal(d.items[0].expected, "text");
	assert_string_equal(d.items[0].actual, "character varying(50)");
	assert_string_equal(d.items[1].attribute, "comment");
	assert_null(d.items[1].expected);
	assert_string_equal(d.items[1].actual, "people");
	mig_snapshot_clear(&a);
	mig_snapshot_clear(&b);
	mig_diff_clear(&d);
}

/* postgres.drift_privileges: false: the privileges attribute is dropped from both sides
 * (and only it), so a revoked grant is no difference while any other change still is. */
static void test_dropped_attribute_is_not_compared(void **state)
{
	(void)state;
	mig_snapshot a = {0}, b = {0};
	mig_diff d = {0};
	const char *keys[] = {"privileges", "comment"};
	const char *va[] = {"owner: SELECT; public: SELECT", "people"};
	const char *vb[] = {"owner: SELECT", "persons"};
	assert_int_equal(mig_snapshot_add(&a, "table", "app", "users", 2, keys, va, NULL), MIG_OK);
	assert_int_equal(mig_snapshot_add(&b, "table", "app", "users", 2, keys, vb, NULL), MIG_OK);
	assert_int_equal(mig_snapshot_diff(&d, &a, &b, true, NULL), MIG_OK);
	assert_int_equal(d.n, 2);
	assert_string_equal(d.items[0].attribute, "privileges");
	mig_diff_clear(&d);
	mig_snapshot_drop_attr(&a, "privileges");
	mig_snapshot_drop_attr(&b, "privileges");
	assert_int_equal(a.objects[0].nattrs, 1);
	assert_string_equal(a.objects[0].attrs[0].key, "comment");
	assert_int_equal(mig_snapshot_diff(&d, &a, &b, true, NULL), MIG_OK);
	assert_int_equal(d.n, 1);
	assert_string_equal(d.items[0].attribute, "comment");
	mig_snapshot_clear(&a);
	mig_snapshot_clear(&b);
	mig_diff_clear(&d);
}

static void test_missing_and_extra_by_name(void **state)
{
	(void)state;
	mig_snapshot a = {0}, b = {0};
	mig_diff d = {0};
	base(&a);
	base(&b);
	/* the index is gone, another is there, and a table in an unused schema */
	mig_snapshot_clear(&b);
	add(&b, "table", "app", "users", "comment", NULL);
	add(&b, "column", "app", "users.email", "type", "text");
	add(&b, "index", "app", "users.other_idx", "definition", "CREATE INDEX ...");
	add(&b, "function", "app", "touch()", "body", "BEGIN RETURN NEW; END");
	add(&b, "schema", "app", "app", NULL, NULL);
	add(&b, "table", "elsewhere", "t", NULL, NULL);
	mig_snapshot_sort(&b);
	assert_int_equal(mig_snapshot_diff(&d, &a, &b, true, NULL), MIG_OK);
	assert_int_equal(d.n, 2);
	assert_int_equal(d.items[0].kind, MIG_DIFF_EXTRA);
	assert_string_equal(d.items[0].name, "users.other_idx");
	assert_int_equal(d.items[1].kind, MIG_DIFF_MISSING);
	assert_string_equal(d.items[1].name, "users.users_email_idx");
	mig_diff_clear(&d);
	/* public, present in every database, is not a schema the history uses by itself */
	mig_snapshot fresh = {0}, live = {0};
	mig_diff d2 = {0};
	add(&fresh, "schema", "public", "public", "comment", "standard public schema");
	add(&live, "schema", "public", "public", "comment", "standard public schema");
	add(&live, "table", "public", "by_hand", NULL, NULL);
	assert_int_equal(mig_snapshot_diff(&d2, &fresh, &live, true, NULL), MIG_OK);
	assert_int_equal(d2.n, 0);
	add(&fresh, "table", "public", "t", NULL, NULL);
	add(&live, "table", "public", "t", NULL, NULL);
	mig_snapshot_sort(&fresh);
	mig_snapshot_sort(&live);
	assert_int_equal(mig_snapshot_diff(&d2, &fresh, &live, true, NULL), MIG_OK);
	assert_int_equal(d2.n, 1);
	assert_string_equal(d2.items[0].name, "by_hand");
	mig_snapshot_clear(&fresh);
	mig_snapshot_clear(&live);
	mig_diff_clear(&d2);
	/* unlimited (a round trip compares everything) */
	assert_int_equal(mig_snapshot_diff(&d, &a, &b, false, NULL), MIG_OK);
	assert_int_equal(d.n, 3);
	mig_snapshot_clear(&a);
	mig_snapshot_clear(&b);
	mig_diff_clear(&d);
}

static void test_parts_of_a_missing_table_fold_into_it(void **state)
{
	(void)state;
	mig_snapshot a = {0}, b = {0};
	mig_diff d = {0};
	base(&a);
	add(&b, "function", "app", "touch()", "body", "BEGIN RETURN NEW; END");
	add(&b, "schema", "app", "app", NULL, NULL);
	mig_snapshot_sort(&b);
	assert_int_equal(mig_snapshot_diff(&d, &a, &b, true, NULL), MIG_OK);
	assert_int_equal(d.n, 1);
	assert_int_equal(d.items[0].kind, MIG_DIFF_MISSING);
	assert_string_equal(d.items[0].object_type, "table");
	assert_string_equal(d.items[0].name, "users");
	mig_snapshot_clear(&a);
	mig_snapshot_clear(&b);
	mig_diff_clear(&d);
}

static void test_attribution_and_module_filter(void **state)
{
	(void)state;
	mig_snapshot a = {0}, b = {0};
	mig_diff d = {0};
	base(&a);
	add(&b, "schema", "app", "app", NULL, NULL);
	add(&b, "table", "app", "users", "comment", NULL);
	add(&b, "column", "app", "users.email", "type", "int");
	add(&b, "table", "app", "stray", NULL, NULL);
	mig_snapshot_sort(&b);
	assert_int_equal(mig_snapshot_diff(&d, &a, &b, true, NULL), MIG_OK);
	/* changed column, missing function, missing index, extra table */
	assert_int_equal(d.n, 4);
	mig_object_origin o[] = {
		{"table", "app", "users", "core", 1},
		{"index", "app", "users_email_idx", "core", 2},
		{"function", "app", "touch()", "audit", 7},
	};
	assert_int_equal(mig_diff_attribute(&d, o, 3, NULL), MIG_OK);
	for (size_t i = 0; i < d.n; i++) {
		const mig_difference *x = &d.items[i];
		if (!strcmp(x->object_type, "column"))
			assert_true(!strcmp(x->module, "core") && x->version == 1);
		else if (!strcmp(x->object_type, "index"))
			assert_true(!strcmp(x->module, "core") && x->version == 2);
		else if (!strcmp(x->object_type, "function"))
			assert_true(!strcmp(x->module, "audit") && x->version == 7);
		else
			assert_null(x->module);
	}
	mig_diff_keep_module(&d, "core");
	assert_int_equal(d.n, 2);
	mig_snapshot_clear(&a);
	mig_snapshot_clear(&b);
	mig_diff_clear(&d);
}

/* A trigger is attributed to the migration that created it ("table.trigger", as
 * tracking names it), else to its table's. */
static void test_trigger_attribution(void **state)
{
	(void)state;
	mig_snapshot a = {0}, b = {0};
	mig_diff d = {0};
	base(&a);
	base(&b);
	add(&a, "trigger", "app", "users.users_touch", "definition", "BEFORE UPDATE");
	add(&b, "trigger", "app", "users.users_touch", "definition", "AFTER UPDATE");
	add(&a, "trigger", "app", "users.users_old", "definition", "BEFORE UPDATE");
	add(&b, "trigger", "app", "users.users_old", "definition", "AFTER UPDATE");
	mig_snapshot_sort(&a);
	mig_snapshot_sort(&b);
	assert_int_equal(mig_snapshot_diff(&d, &a, &b, true, NULL), MIG_OK);
	assert_int_equal(d.n, 2);
	mig_object_origin o[] = {
		{"table", "app", "users", "core", 1},
		{"trigger", "app", "users.users_touch", "audit", 3},
	};
	assert_int_equal(mig_diff_attribute(&d, o, 2, NULL), MIG_OK);
	for (size_t i = 0; i < d.n; i++) {
		const mig_difference *x = &d.items[i];
		if (!strcmp(x->name, "users.users_touch"))
			assert_true(!strcmp(x->module, "audit") && x->version == 3);
		else
			assert_true(!strcmp(x->module, "core") && x->version == 1);
	}
	mig_snapshot_clear(&a);
	mig_snapshot_clear(&b);
	mig_diff_clear(&d);
}

static void test_json_shape(void **state)
{
	(void)state;
	mig_snapshot a = {0}, b = {0};
	mig_diff d = {0};
	base(&a);
	assert_int_equal(mig_snapshot_diff(&d, &a, &b, true, NULL), MIG_OK);
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	assert_non_null(f);
	assert_int_equal(mig_diff_print_json(f, &d, NULL), MIG_OK);
	assert_int_equal(mig_snapshot_print_json(f, &a, NULL), MIG_OK);
	fclose(f);
	assert_non_null(strstr(buf, "\"ok\": false"));
	assert_non_null(strstr(buf, "\"kind\": \"missing\""));
	assert_non_null(strstr(buf, "\"object_type\": \"table\""));
	assert_non_null(strstr(buf, "\"attribute\": null"));
	assert_non_null(strstr(buf, "\"version\": null"));
	assert_non_null(strstr(buf, "\"objects\": ["));
	free(buf);
	mig_snapshot_clear(&a);
	mig_diff_clear(&d);
}

/* drift's cache of a template's expected schema: what is read back is what was
 * written, for the same key only, and anything else is a miss, not an error */
static void test_cache_document_round_trips_for_its_key_only(void **state)
{
	(void)state;
	mig_snapshot a = {0}, b = {0};
	base(&a);
	const char *keys[] = {"default", "comment"}, *values[] = {NULL, "it's \"quoted\"\n"};
	assert_int_equal(mig_snapshot_add(&a, "column", "app", "users.id", 2, keys, values, NULL),
			 MIG_OK);
	mig_snapshot_sort(&a);
	mig_object_origin origin = {"table", "app", "users", "core", 7}, *got = NULL;
	size_t ngot = 9;
	bool match = false;
	char *text = NULL;
	assert_int_equal(mig_snapshot_cache_encode(&text, "k1", &a, &origin, 1, NULL), MIG_OK);
	assert_int_equal(mig_snapshot_cache_decode(&b, &got, &ngot, &match, text, strlen(text),
						   "k1", NULL),
			 MIG_OK);
	assert_true(match);
	mig_diff d = {0};
	assert_int_equal(mig_snapshot_diff(&d, &a, &b, false, NULL), MIG_OK);
	assert_int_equal(d.n, 0);
	assert_int_equal(b.nobjects, a.nobjects);
	assert_int_equal(ngot, 1);
	assert_string_equal(got[0].module, "core");
	assert_int_equal(got[0].version, 7);
	mig_object_origins_free(got, ngot);
	mig_snapshot_clear(&b);
	/* another key (another build or format): a miss */
	assert_int_equal(mig_snapshot_cache_decode(&b, &got, &ngot, &match, text, strlen(text),
						   "k2", NULL),
			 MIG_OK);
	assert_false(match);
	assert_int_equal(b.nobjects, 0);
	assert_null(got);
	/* a truncated file: a miss */
	assert_int_equal(mig_snapshot_cache_decode(&b, &got, &ngot, &match, text,
						   strlen(text) / 2, "k1", NULL),
			 MIG_OK);
	assert_false(match);
	/* a value of the wrong type: a miss, nothing half-read returned */
	const char *wrong = "{\"key\":\"k1\",\"objects\":[[\"table\",\"app\",\"t\",[]],"
			    "[\"table\",1,\"u\",[]]],\"origins\":[]}";
	assert_int_equal(mig_snapshot_cache_decode(&b, &got, &ngot, &match, wrong, strlen(wrong),
						   "k1", NULL),
			 MIG_OK);
	assert_false(match);
	assert_int_equal(b.nobjects, 0);
	free(text);
	mig_snapshot_clear(&a);
}

/* Owners: a view selects by owner and borrows the strings; a patch replaces an owner's
 * objects by fresh ones, keeps the rest, and stays sorted (roundtrip's scoped reads). */
static void owned(mig_snapshot *s, const char *type, const char *name, long long owner,
		  const char *value)
{
	add(s, type, "app", name, "definition", value);
	s->objects[s->nobjects - 1].owner = owner;
}

static void test_select_and_patch_by_owner(void **state)
{
	(void)state;
	mig_snapshot cur = {0}, fresh = {0}, view = {0};
	owned(&cur, "table", "a", 10, "a1");
	owned(&cur, "column", "a.x", 10, "int");
	owned(&cur, "table", "b", 20, "b1");
	owned(&cur, "table", "c", 30, "c1");
	mig_snapshot_sort(&cur);
	const long long scope[] = {10, 30};
	assert_int_equal(mig_snapshot_select(&view, &cur, scope, 2, true, NULL), MIG_OK);
	assert_int_equal(view.nobjects, 3);
	assert_int_equal(mig_snapshot_select(&view, &cur, scope, 2, false, NULL), MIG_OK);
	assert_int_equal(view.nobjects, 4);
	assert_string_equal(view.objects[3].name, "b");
	assert_ptr_equal(view.objects[3].name, cur.objects[2].name); /* borrowed */
	mig_snapshot_view_free(&view);
	assert_null(view.objects);
	/* a renamed to z (a new name, the same owner), c dropped, d (owner 40) created */
	owned(&fresh, "table", "z", 10, "a2");
	owned(&fresh, "table", "d", 40, "d1");
	const long long changed[] = {10, 30, 40};
	assert_int_equal(mig_snapshot_patch(&cur, changed, 3, &fresh, NULL), MIG_OK);
	assert_int_equal(fresh.nobjects, 0);
	assert_null(fresh.objects);
	const char *names[] = {"b", "d", "z"};
	assert_int_equal(cur.nobjects, 3);
	for (size_t i = 0; i < 3; i++)
		assert_string_equal(cur.objects[i].name, names[i]);
	assert_int_equal(cur.objects[2].owner, 10);
	/* an empty scope selects nothing inside, everything outside */
	assert_int_equal(mig_snapshot_select(&view, &cur, NULL, 0, true, NULL), MIG_OK);
	assert_int_equal(view.nobjects, 0);
	mig_snapshot_view_free(&view);
	mig_snapshot_clear(&cur);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_identical_snapshots_have_no_difference),
		cmocka_unit_test(test_changed_attribute_names_both_values),
		cmocka_unit_test(test_dropped_attribute_is_not_compared),
		cmocka_unit_test(test_trigger_attribution),
		cmocka_unit_test(test_missing_and_extra_by_name),
		cmocka_unit_test(test_parts_of_a_missing_table_fold_into_it),
		cmocka_unit_test(test_attribution_and_module_filter),
		cmocka_unit_test(test_json_shape),
		cmocka_unit_test(test_cache_document_round_trips_for_its_key_only),
		cmocka_unit_test(test_select_and_patch_by_owner),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

/* The schema model (lint_model.h) read from a live database's snapshot (the catalog
 * drift reads) and the data probes it plans from it: what a column made outside the
 * migrations changes in the rules, and the probes of CHECK, VALIDATE CONSTRAINT and type
 * changes with what they carry. No server: the snapshot is built here as the PostgreSQL
 * driver would fill it. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>

#include "lint/lint.h"
#include "lint/lint_model.h"
#include "lint/pg_parse.h"
#include "schema/snapshot.h"

static void add(mig_snapshot *snap, const char *type, const char *name, const char *k1,
		const char *v1, const char *k2, const char *v2)
{
	const char *keys[2] = {k1, k2}, *values[2] = {v1, v2};
	mig_error err = {0};
	assert_int_equal(mig_snapshot_add(snap, type, "public", name, k2 ? 2 : (k1 ? 1 : 0), keys,
					  values, &err),
			 MIG_OK);
}

/* accounts (id bigint NOT NULL, nick varchar(20), "Odd ""Name"" col" text), a NOT VALID
 * check on nick, a view on nick, and orders referencing accounts NOT VALID: as a database
 * baselined without any of it in the migrations would have it. */
static mig_lint_model *catalog_model(void)
{
	mig_snapshot snap = {0};
	add(&snap, "table", "accounts", "kind", "table", NULL, NULL);
	add(&snap, "column", "accounts.id", "type", "bigint", "not_null", "true");
	add(&snap, "column", "accounts.nick", "type", "character varying(20)", "not_null", "false");
	add(&snap, "column", "accounts.Odd \"Name\" col", "type", "text", "not_null", "false");
	add(&snap, "constraint", "accounts.accounts_pkey", "kind", "primary key", "definition",
	    "PRIMARY KEY (id)");
	add(&snap, "constraint", "accounts.accounts_nick_check", "kind", "check", "definition",
	    "CHECK ((length((nick)::text) > 1)) NOT VALID");
	add(&snap, "index", "accounts.accounts_pkey", "definition",
	    "CREATE UNIQUE INDEX accounts_pkey ON public.accounts USING btree (id)", NULL, NULL);
	add(&snap, "view", "nicks", "definition", " SELECT accounts.nick\n   FROM public.accounts;", NULL, NULL);
	add(&snap, "table", "orders", "kind", "table", NULL, NULL);
	add(&snap, "column", "orders.account_id", "type", "bigint", "not_null", "false");
	add(&snap, "constraint", "orders.orders_account_fkey", "kind", "foreign key", "definition",
	    "FOREIGN KEY (account_id) REFERENCES public.accounts(id) NOT VALID");
	/* a domain's constraint: no table of that name, left out */
	add(&snap, "constraint", "posint.posint_check", "kind", "check", "definition", "CHECK ((VALUE > 0))");
	mig_snapshot_sort(&snap);
	mig_lint_model *m = mig_lint_model_new(false);
	assert_non_null(m);
	assert_int_equal(mig_lint_model_apply_snapshot(m, &snap, NULL, true), MIG_OK);
	mig_snapshot_clear(&snap);
	mig_lint_model_set_run(m, true);
	return m;
}

/* Lints sql against the model; the rule ids found, space-separated, into buf. */
static const char *lint_with(mig_lint_model *m, const char *sql, char *buf, size_t size,
			     mig_lint_result *keep)
{
	mig_lint_context ctx = {.in_transaction = true, .lock_timeout_ms = 5000, .model = m};
	mig_lint_result r;
	assert_int_equal(mig_lint_sql(&r, sql, strlen(sql), &ctx), MIG_OK);
	buf[0] = '\0';
	for (size_t i = 0; i < r.nfindings; i++) {
		if (i)
			strncat(buf, " ", size - strlen(buf) - 1);
		strncat(buf, r.findings[i].rule->id, size - strlen(buf) - 1);
	}
	if (keep)
		*keep = r;
	else
		mig_lint_result_clear(&r);
	return buf;
}

static void test_catalog_columns(void **state)
{
	(void)state;
	mig_lint_model *m = catalog_model();
	const mig_pg_type *t = mig_lint_model_column_type(m, "accounts", "nick");
	assert_non_null(t);
	assert_string_equal(t->name, "varchar");
	assert_int_equal(t->ntypmods, 1);
	assert_int_equal(t->typmods[0], 20);
	assert_string_equal(mig_lint_model_column_type(m, "public.accounts", "id")->name, "int8");
	assert_non_null(mig_lint_model_column_type(m, "accounts", "Odd \"Name\" col"));
	assert_true(mig_lint_model_not_null(m, "accounts", "id"));
	assert_false(mig_lint_model_not_null(m, "accounts", "nick"));
	assert_false(mig_lint_model_fresh(m, "accounts"));
	mig_lint_model_free(m);
}

static void test_catalog_in_rules(void **state)
{
	(void)state;
	char buf[256];
	/* widening a varchar the database has: neither rewrites nor narrows */
	mig_lint_model *m = catalog_model();
	assert_string_equal(lint_with(m, "ALTER TABLE accounts ALTER COLUMN nick TYPE varchar(40);", buf,
				      sizeof buf, NULL), "");
	mig_lint_model_free(m);
	/* the same statement with no model: the old type is unknown, so it is flagged */
	assert_string_not_equal(lint_with(NULL, "ALTER TABLE accounts ALTER COLUMN nick TYPE varchar(40);",
					  buf, sizeof buf, NULL), "");
	/* SET NOT NULL on a column the database has NOT NULL already */
	m = catalog_model();
	assert_string_equal(lint_with(m, "ALTER TABLE accounts ALTER COLUMN id SET NOT NULL;", buf,
				      sizeof buf, NULL), "");
	mig_lint_model_free(m);
	/* what the database lacks, said so */
	m = catalog_model();
	mig_lint_result r;
	assert_string_equal(lint_with(m, "ALTER TABLE ghosts ADD COLUMN x bigint;", buf, sizeof buf, &r),
			    "unknown-object");
	assert_non_null(strstr(r.findings[0].message, "the database has none"));
	mig_lint_result_clear(&r);
	mig_lint_model_free(m);
	/* a drop that the catalog's view depends on */
	m = catalog_model();
	assert_string_equal(lint_with(m, "ALTER TABLE accounts DROP COLUMN nick;", buf, sizeof buf, &r),
			    "ban-drop-column destructive-in-expand drop-with-dependents");
	assert_non_null(strstr(r.findings[2].message, "view \"nicks\""));
	mig_lint_result_clear(&r);
	mig_lint_model_free(m);
}

static void test_probes_planned(void **state)
{
	(void)state;
	char buf[512];
	mig_lint_model *m = catalog_model();
	mig_lint_model_want_probes(m);
	lint_with(m,
		  "ALTER TABLE accounts VALIDATE CONSTRAINT accounts_nick_check;\n"
		  "ALTER TABLE orders VALIDATE CONSTRAINT orders_account_fkey;\n"
		  "ALTER TABLE accounts ADD CONSTRAINT id_pos CHECK (id > 0 AND nick <> ')' /* ) */);\n"
		  "ALTER TABLE accounts ADD CONSTRAINT later CHECK (id < 9) NOT VALID;\n"
		  "ALTER TABLE accounts ALTER COLUMN nick TYPE int USING nick::integer;\n"
		  "ALTER TABLE accounts ALTER COLUMN nick TYPE varchar(8);\n"
		  "ALTER TABLE accounts ALTER COLUMN id TYPE numeric(30, 0);\n"
		  "ALTER TABLE accounts ALTER COLUMN \"Odd \"\"Name\"\" col\" TYPE int USING trim(x)::int;\n"
		  "ALTER TABLE accounts VALIDATE CONSTRAINT nobody_has_it;\n",
		  buf, sizeof buf, NULL);
	mig_lint_probe *p;
	size_t n;
	mig_lint_model_take_probes(m, &p, &n);
	assert_int_equal(n, 8);
	assert_int_equal(p[0].kind, MIG_PROBE_CHECK);
	assert_string_equal(p[0].constraint, "accounts_nick_check");
	assert_string_equal(p[0].expr, "(length((nick)::text) > 1)");
	assert_null(p[0].not_checked);
	assert_int_equal(p[1].kind, MIG_PROBE_FOREIGN);
	assert_string_equal(p[1].table, "orders");
	assert_string_equal(p[1].columns[0], "account_id");
	assert_string_equal(p[1].ref_table, "accounts");
	assert_string_equal(p[1].ref_columns[0], "id");
	assert_int_equal(p[2].kind, MIG_PROBE_CHECK);
	assert_string_equal(p[2].expr, "id > 0 AND nick <> ')' /* ) */");
	assert_int_equal(p[2].line, 3);
	/* line 4 is NOT VALID: no probe */
	assert_int_equal(p[3].kind, MIG_PROBE_CAST);
	assert_string_equal(p[3].type, "int4");
	assert_string_equal(p[3].cast_type, "int4");
	assert_null(p[3].not_checked);
	/* nick is an integer by now (line 5, this run): its next change cannot be judged */
	assert_int_equal(p[4].line, 6);
	assert_string_equal(p[4].type, "varchar(8)");
	assert_non_null(p[4].not_checked);
	assert_int_equal(p[5].kind, MIG_PROBE_CAST);
	assert_string_equal(p[5].type, "numeric(30,0)");
	assert_null(p[5].cast_type);
	assert_int_equal(p[6].line, 8);
	assert_string_equal(p[6].not_checked, "its USING expression is not a cast of the column");
	assert_int_equal(p[7].kind, MIG_PROBE_CHECK);
	assert_non_null(strstr(p[7].not_checked, "not known"));
	mig_lint_probes_free(p, n);
	mig_lint_model_free(m);
}

/* A widening the model knows to be one needs no probe; a new table's rows none either. */
static void test_no_probe_needed(void **state)
{
	(void)state;
	char buf[256];
	mig_lint_model *m = catalog_model();
	mig_lint_model_want_probes(m);
	lint_with(m,
		  "ALTER TABLE accounts ALTER COLUMN nick TYPE varchar(40);\n"
		  "ALTER TABLE accounts ALTER COLUMN nick TYPE text;\n"
		  "CREATE TABLE fresh (a text);\n"
		  "ALTER TABLE fresh ALTER COLUMN a TYPE int USING a::int;\n"
		  "ALTER TABLE fresh ADD CONSTRAINT a_pos CHECK (a > 0);\n",
		  buf, sizeof buf, NULL);
	mig_lint_probe *p;
	size_t n;
	mig_lint_model_take_probes(m, &p, &n);
	assert_int_equal(n, 0);
	mig_lint_probes_free(p, n);
	mig_lint_model_free(m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_catalog_columns),
		cmocka_unit_test(test_catalog_in_rules),
		cmocka_unit_test(test_probes_planned),
		cmocka_unit_test(test_no_probe_needed),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

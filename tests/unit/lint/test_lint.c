/* The lint engine through its C API: the rule table's shape, positions in characters
 * after comments and multi-byte text, the context's effect (transaction, lock_timeout,
 * server version), syntax errors, and the parse wrapper's typed view. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "lint/lint.h"
#include "lint/pg_parse.h"

static const mig_lint_context in_tx = {.in_transaction = true, .lock_timeout_ms = -1};

/* Lints sql and returns the rule ids found, space-separated, into buf. */
static const char *rules_of(const char *sql, const mig_lint_context *ctx, char *buf, size_t size)
{
	mig_lint_result r;
	assert_int_equal(mig_lint_sql(&r, sql, strlen(sql), ctx), MIG_OK);
	buf[0] = '\0';
	for (size_t i = 0; i < r.nfindings; i++) {
		if (i)
			strncat(buf, " ", size - strlen(buf) - 1);
		strncat(buf, r.findings[i].rule->id, size - strlen(buf) - 1);
	}
	mig_lint_result_clear(&r);
	return buf;
}

static void test_rule_table(void **state)
{
	(void)state;
	size_t n = 0;
	for (const mig_lint_rule *r = mig_lint_rules; r->id; r++, n++) {
		for (const char *c = r->id; *c; c++)
			assert_true((*c >= 'a' && *c <= 'z') || *c == '-');
		assert_ptr_equal(mig_lint_rule_find(r->id), r);
		assert_true(r->summary[0] && r->fix[0]);
		assert_null(strchr(r->fix, '\n'));
	}
	assert_true(n >= 25);
	assert_null(mig_lint_rule_find("no-such-rule"));
}

static void test_position_after_comments_and_utf8(void **state)
{
	(void)state;
	const char *sql = "SET lock_timeout = '1s';\n/* é */ -- x\n  /* ü */ CREATE INDEX i ON t (a);\n";
	mig_lint_result r;
	assert_int_equal(mig_lint_sql(&r, sql, strlen(sql), &in_tx), MIG_OK);
	assert_int_equal(r.nfindings, 1);
	assert_int_equal(r.findings[0].line, 3);
	assert_int_equal(r.findings[0].column, 11); /* characters, not bytes */
	assert_string_equal(r.findings[0].table, "t");
	assert_string_equal(r.findings[0].lock, "SHARE on \"t\": blocks writes");
	mig_lint_result_clear(&r);
}

/* A -- comment ends at a carriage return as in PostgreSQL's scanner: the statement after
 * it starts there, not at the next \n (which once put statements out of order). */
static void test_line_comment_ends_at_carriage_return(void **state)
{
	(void)state;
	const char *sql = "SET lock_timeout = '1s'; -- x\rCREATE INDEX i ON t (a);\nSELECT 1;\n";
	mig_lint_result r;
	assert_int_equal(mig_lint_sql(&r, sql, strlen(sql), &in_tx), MIG_OK);
	assert_int_equal(r.nfindings, 1);
	assert_int_equal(r.findings[0].line, 1);
	assert_int_equal(r.findings[0].column, 31);
	assert_int_equal(r.nclaims, 3);
	assert_int_equal(r.claims[1].line, 1);
	assert_int_equal(r.claims[2].line, 2);
	mig_lint_result_clear(&r);
}

static void test_context(void **state)
{
	(void)state;
	char buf[256];
	const char *alter = "ALTER TABLE t ADD COLUMN c int DEFAULT 0;";
	assert_string_equal(rules_of(alter, &in_tx, buf, sizeof buf), "require-lock-timeout");
	mig_lint_context configured = in_tx;
	configured.lock_timeout_ms = 2000;
	assert_string_equal(rules_of(alter, &configured, buf, sizeof buf), "");
	configured.pg_major = 10;
	assert_string_equal(rules_of(alter, &configured, buf, sizeof buf), "adding-field-with-default");
	const char *cic = "CREATE INDEX CONCURRENTLY i ON t (a);";
	assert_string_equal(rules_of(cic, &in_tx, buf, sizeof buf),
			    "ban-concurrent-index-creation-in-transaction");
	mig_lint_context outside = in_tx;
	outside.in_transaction = false;
	assert_string_equal(rules_of(cic, &outside, buf, sizeof buf), "");
}

static void test_quoted_and_qualified_names(void **state)
{
	(void)state;
	const char *sql = "CREATE TABLE app.\"Users\" (id bigint PRIMARY KEY);\n"
			  "CREATE INDEX i ON app.\"Users\" (id);\nCREATE INDEX j ON public.orders (id);\n"
			  "CREATE TABLE orders2 (id bigint PRIMARY KEY);\nCREATE INDEX k ON public.orders2 (id);\n";
	mig_lint_result r;
	assert_int_equal(mig_lint_sql(&r, sql, strlen(sql), &in_tx), MIG_OK);
	assert_int_equal(r.nfindings, 1);
	assert_string_equal(r.findings[0].table, "public.orders");
	mig_lint_result_clear(&r);
}

/* What --observe compares with: each statement's expected lock and rewrite, whether or
 * not it raised a finding, and the lint-ignore of the observed rules. */
static void test_claims(void **state)
{
	(void)state;
	const char *sql = "SET lock_timeout = '5s';\n"
			  "ALTER TABLE t ADD COLUMN c int DEFAULT 0;\n"
			  "ALTER TABLE t ALTER COLUMN a TYPE bigint;\n"
			  "-- migrate:lint-ignore observed-unexplained-lock known\n"
			  "LOCK TABLE t;\n"
			  "TRUNCATE t;\n";
	mig_lint_result r;
	assert_int_equal(mig_lint_sql(&r, sql, strlen(sql), &in_tx), MIG_OK);
	assert_int_equal(r.nclaims, 5);
	const mig_lint_claim *c = mig_lint_claim_at(&r, 2);
	assert_non_null(c);
	assert_string_equal(c->lock, "ACCESS EXCLUSIVE");
	assert_false(c->rewrites);
	c = mig_lint_claim_at(&r, 3);
	assert_true(c && c->rewrites && !c->ignore_lock);
	c = mig_lint_claim_at(&r, 5);
	assert_true(c && !c->lock && c->ignore_lock && !c->ignore_rewrite);
	c = mig_lint_claim_at(&r, 6);
	assert_true(c && c->rewrites);
	assert_null(mig_lint_claim_at(&r, 4));
	mig_lint_result_clear(&r);
}

/* Issue 17: destructive statements belong in contract files. */
static void test_destructive_in_expand(void **state)
{
	(void)state;
	char buf[256];
	mig_lint_context expand = in_tx, contract = in_tx;
	expand.lock_timeout_ms = contract.lock_timeout_ms = 2000;
	contract.contract = true;
	const char *narrow[] = {"ALTER TABLE t ALTER COLUMN a TYPE integer;",
				"ALTER TABLE t ALTER COLUMN a TYPE varchar(20);",
				"ALTER TABLE t ADD COLUMN b bigint; ALTER TABLE t ALTER COLUMN b TYPE numeric(5,2);",
				"ALTER TABLE t ADD COLUMN b text; ALTER TABLE t ALTER COLUMN b TYPE char(3);",
				"ALTER TABLE t ADD COLUMN b varchar(9); ALTER TABLE t ALTER COLUMN b TYPE int8;"};
	for (size_t i = 0; i < sizeof narrow / sizeof *narrow; i++) {
		assert_non_null(strstr(rules_of(narrow[i], &expand, buf, sizeof buf),
				       "destructive-in-expand"));
		assert_null(strstr(rules_of(narrow[i], &contract, buf, sizeof buf),
				   "destructive-in-expand"));
	}
	const char *wide[] = {"ALTER TABLE t ALTER COLUMN a TYPE bigint;",
			      "ALTER TABLE t ALTER COLUMN a TYPE text;",
			      "ALTER TABLE t ADD COLUMN b int4; ALTER TABLE t ALTER COLUMN b TYPE int8;",
			      "ALTER TABLE t ADD COLUMN b varchar(9); ALTER TABLE t ALTER COLUMN b TYPE varchar(20);",
			      "ALTER TABLE t ADD COLUMN b numeric(5,2); ALTER TABLE t ALTER COLUMN b TYPE numeric(8,2);",
			      "ALTER TABLE t ADD COLUMN b int; ALTER TABLE t ALTER COLUMN b TYPE varchar;"};
	for (size_t i = 0; i < sizeof wide / sizeof *wide; i++)
		assert_null(strstr(rules_of(wide[i], &expand, buf, sizeof buf), "destructive-in-expand"));
}

/* SET NOT NULL is quiet only after a validated CHECK (col IS NOT NULL) on that table and
 * column, wherever that check stands among the file's checks (the mutation run found the
 * first one never looked at: lint.c:176 starting at 1 survived) */
static void test_set_not_null_needs_a_validated_check(void **state)
{
	(void)state;
	char buf[256];
	mig_lint_context ctx = in_tx;
	ctx.contract = true; /* a contract file: SET NOT NULL is not also destructive-in-expand */
	const char *head = "SET lock_timeout = '1s';\n";
	const char *validated_then_set =
		"ALTER TABLE t ADD CONSTRAINT c CHECK (a IS NOT NULL) NOT VALID;\n"
		"ALTER TABLE t VALIDATE CONSTRAINT c;\n"
		"ALTER TABLE t ALTER COLUMN a SET NOT NULL;\n";
	char sql[1024];
	snprintf(sql, sizeof sql, "%s%s", head, validated_then_set);
	assert_string_equal(rules_of(sql, &ctx, buf, sizeof buf), "");
	/* a second check after it, on another column, does not hide it */
	snprintf(sql, sizeof sql, "%s%s%s", head, validated_then_set,
		 "ALTER TABLE t ADD CONSTRAINT d CHECK (b IS NOT NULL) NOT VALID;\n"
		 "ALTER TABLE t VALIDATE CONSTRAINT d;\n"
		 "ALTER TABLE t ALTER COLUMN b SET NOT NULL;\n");
	assert_string_equal(rules_of(sql, &ctx, buf, sizeof buf), "");
	/* not validated, another column, another table: the rule fires */
	snprintf(sql, sizeof sql, "%s%s", head,
		 "ALTER TABLE t ADD CONSTRAINT c CHECK (a IS NOT NULL) NOT VALID;\n"
		 "ALTER TABLE t ALTER COLUMN a SET NOT NULL;\n");
	assert_string_equal(rules_of(sql, &ctx, buf, sizeof buf), "adding-not-nullable-field");
	snprintf(sql, sizeof sql, "%s%s%s", head, validated_then_set,
		 "ALTER TABLE t ALTER COLUMN b SET NOT NULL;\n"
		 "ALTER TABLE u ALTER COLUMN a SET NOT NULL;\n");
	assert_string_equal(rules_of(sql, &ctx, buf, sizeof buf),
			    "adding-not-nullable-field adding-not-nullable-field");
}

/* A table-level PRIMARY KEY (cols) applies the key-column rules to those columns only (the
 * mutation run found the other columns never checked: lint.c:212's name match flipped
 * survived) */
static void test_key_rules_for_a_table_level_primary_key(void **state)
{
	(void)state;
	char buf[256];
	assert_string_equal(rules_of("CREATE TABLE t (id bigint, n integer, s serial8, PRIMARY KEY (id));",
				     &in_tx, buf, sizeof buf),
			    "");
	assert_string_equal(rules_of("CREATE TABLE t (n bigint, id integer, PRIMARY KEY (id));", &in_tx,
				     buf, sizeof buf),
			    "prefer-bigint-over-int");
}

/* Only SET lock_timeout (to something other than 0) counts as the file setting it; another
 * SET does not (the mutation run found no unit case: lint.c:565's name match flipped
 * survived) */
static void test_only_set_lock_timeout_counts(void **state)
{
	(void)state;
	char buf[256];
	const char *alter = "ALTER TABLE t ADD COLUMN x int;";
	char sql[256];
	snprintf(sql, sizeof sql, "SET lock_timeout = '1s'; %s", alter);
	assert_string_equal(rules_of(sql, &in_tx, buf, sizeof buf), "");
	snprintf(sql, sizeof sql, "SET LOCK_TIMEOUT TO '1s'; %s", alter);
	assert_string_equal(rules_of(sql, &in_tx, buf, sizeof buf), "");
	snprintf(sql, sizeof sql, "SET statement_timeout = '5s'; %s", alter);
	assert_string_equal(rules_of(sql, &in_tx, buf, sizeof buf), "require-lock-timeout");
	snprintf(sql, sizeof sql, "SET lock_timeout = 0; %s", alter);
	assert_string_equal(rules_of(sql, &in_tx, buf, sizeof buf), "require-lock-timeout");
	assert_string_equal(rules_of(alter, &in_tx, buf, sizeof buf), "require-lock-timeout");
}

/* ALTER TYPE ... ADD VALUE in a transaction: refused before PostgreSQL 12 only, and quiet
 * when the version is unknown (the mutation run found no unit case: lint.c:550's
 * "pg_major && pg_major < 12" as "||" survived) */
static void test_enum_value_in_a_transaction_by_version(void **state)
{
	(void)state;
	char buf[256];
	const char *sql = "SET lock_timeout = '1s'; ALTER TYPE mood ADD VALUE 'meh';";
	mig_lint_context ctx = in_tx;
	ctx.pg_major = 11;
	assert_string_equal(rules_of(sql, &ctx, buf, sizeof buf), "enum-value-used-in-transaction");
	ctx.pg_major = 12;
	assert_string_equal(rules_of(sql, &ctx, buf, sizeof buf), "");
	ctx.pg_major = 17;
	assert_string_equal(rules_of(sql, &ctx, buf, sizeof buf), "");
	ctx.pg_major = 0;
	assert_string_equal(rules_of(sql, &ctx, buf, sizeof buf), "");
	ctx.pg_major = 11;
	ctx.in_transaction = false;
	assert_string_equal(rules_of(sql, &ctx, buf, sizeof buf), "");
}

static void test_syntax_error(void **state)
{
	(void)state;
	const char *sql = "SELECT 1;\n\n  SELEC 2;\n";
	/* for a server no newer than the grammar's 15; newer ones: test_unparsed */
	const mig_lint_context pg15 = {.in_transaction = true, .lock_timeout_ms = -1, .pg_major = 15};
	mig_lint_result r;
	assert_int_equal(mig_lint_sql(&r, sql, strlen(sql), &pg15), MIG_ESCHEMA);
	assert_int_equal(r.syntax_line, 3);
	assert_int_equal(r.syntax_column, 3);
	assert_non_null(strstr(r.syntax_message, "SELEC"));
	mig_lint_result_clear(&r);
	const char bad[] = "SELECT '\xff';";
	assert_int_equal(mig_lint_sql(&r, bad, strlen(bad), &in_tx), MIG_ESCHEMA);
	assert_non_null(strstr(r.syntax_message, "UTF8"));
	mig_lint_result_clear(&r);
}

/* A statement the PostgreSQL 15 grammar refuses, linted for a newer or unknown server:
 * an `unparsed` warning at the statement's place, and the statements around it linted
 * at theirs, columns counted in characters even on a line the set-aside one shares. */
static void test_unparsed(void **state)
{
	(void)state;
	assert_int_equal(mig_pg_grammar_major(), 15);
	const char *sql = "SELECT '\xc3\xa9\xc3\xa9'; ALTER TABLE t ADD COLUMN \"v\xc3\xa9\" int GENERATED ALWAYS AS (a) VIRTUAL;"
			  " CREATE INDEX i ON t (a);\nSELECT JSON_OBJECT('a' VALUE 1);\n";
	const mig_lint_context pg18 = {.in_transaction = true, .lock_timeout_ms = -1, .pg_major = 18,
				       .server_major = 18};
	const mig_lint_context *ctxs[] = {&in_tx, &pg18};
	for (size_t c = 0; c < 2; c++) {
		mig_lint_result r;
		assert_int_equal(mig_lint_sql(&r, sql, strlen(sql), ctxs[c]), MIG_OK);
		assert_int_equal(r.nfindings, 3);
		assert_string_equal(r.findings[0].rule->id, "unparsed");
		assert_int_equal(r.findings[0].line, 1);
		assert_int_equal(r.findings[0].column, 14);
		assert_null(r.findings[0].table);
		assert_int_equal(r.findings[0].rule->severity, MIG_LINT_WARNING);
		assert_non_null(strstr(r.findings[0].message, "PostgreSQL 15 grammar"));
		assert_non_null(strstr(r.findings[0].message, "\"VIRTUAL\""));
		assert_true((strstr(r.findings[0].message, "the server is PostgreSQL 18") != NULL) == (c == 1));
		assert_string_equal(r.findings[1].rule->id, "require-concurrent-index-creation");
		assert_int_equal(r.findings[1].line, 1);
		assert_int_equal(r.findings[1].column, 81);
		assert_string_equal(r.findings[2].rule->id, "unparsed");
		assert_int_equal(r.findings[2].line, 2);
		assert_int_equal(r.findings[2].column, 1);
		/* a claim for each statement that was linted, none for the others */
		assert_int_equal(r.nclaims, 2);
		mig_lint_result_clear(&r);
	}
	/* a file-wide lint-ignore names it like any rule */
	const char *ignored = "-- migrate:lint-ignore unparsed reviewed: PostgreSQL 18 only\n"
			      "CREATE TABLE g (a int PRIMARY KEY, b int GENERATED ALWAYS AS (a * 2) VIRTUAL);\n";
	mig_lint_result r;
	assert_int_equal(mig_lint_sql(&r, ignored, strlen(ignored), &pg18), MIG_OK);
	assert_int_equal(r.nfindings, 0);
	mig_lint_result_clear(&r);
}

static void test_typed_view(void **state)
{
	(void)state;
	const char *sql = "ALTER TABLE s.t ALTER COLUMN c TYPE varchar(40), ADD CONSTRAINT k CHECK (c IS NOT NULL) NOT VALID;"
			  " SELECT set_config('lock_timeout', '0', false);";
	mig_pg_file *f = NULL;
	mig_pg_syntax_error syn;
	assert_int_equal(mig_pg_parse(&f, &syn, sql, strlen(sql)), MIG_OK);
	assert_int_equal(f->nstmts, 2);
	const mig_pg_stmt *st = &f->stmts[0];
	assert_int_equal(st->kind, MIG_PG_ALTER_TABLE);
	assert_string_equal(st->relation, "s.t");
	assert_int_equal(st->nactions, 2);
	assert_int_equal(st->actions[0].kind, MIG_PG_ACT_ALTER_TYPE);
	assert_string_equal(st->actions[0].type.name, "varchar");
	assert_int_equal(st->actions[0].type.typmods[0], 40);
	assert_int_equal(st->actions[1].contype, MIG_PG_CON_CHECK);
	assert_true(st->actions[1].not_valid);
	assert_string_equal(st->actions[1].not_null_check, "c");
	assert_int_equal(f->stmts[1].kind, MIG_PG_SET);
	assert_string_equal(f->stmts[1].name, "lock_timeout");
	assert_true(f->stmts[1].set_to_zero);
	assert_int_equal(f->stmts[1].column, strstr(sql, "SELECT set_config") - sql + 1);
	mig_pg_file_free(f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rule_table),
		cmocka_unit_test(test_position_after_comments_and_utf8),
		cmocka_unit_test(test_line_comment_ends_at_carriage_return),
		cmocka_unit_test(test_context),
		cmocka_unit_test(test_quoted_and_qualified_names),
		cmocka_unit_test(test_syntax_error),
		cmocka_unit_test(test_set_not_null_needs_a_validated_check),
		cmocka_unit_test(test_key_rules_for_a_table_level_primary_key),
		cmocka_unit_test(test_only_set_lock_timeout_counts),
		cmocka_unit_test(test_enum_value_in_a_transaction_by_version),
		cmocka_unit_test(test_unparsed),
		cmocka_unit_test(test_claims),
		cmocka_unit_test(test_destructive_in_expand),
		cmocka_unit_test(test_typed_view),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

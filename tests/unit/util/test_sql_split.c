/* Unit tests for mig_sql_split and mig_sql_line_at: every construct that hides a ';'
 * from psql, the statement offsets and lines used for error attribution, and inputs
 * that are empty, unterminated, CRLF, unterminated by NUL or carry NUL bytes. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "util/sql_split.h"

typedef struct want {
	const char *text; /* the statement's exact bytes */
	unsigned line;    /* 0: do not check */
} want;

/* Splits a copy of sql[0..len) that has no terminator after it, so ASan sees any
 * read past len, and checks the statements against w[0..n). */
static void check_split_len(const char *sql, size_t len, const want *w, size_t n)
{
	char *buf = malloc(len ? len : 1);
	assert_non_null(buf);
	memcpy(buf, sql, len);

	mig_sql_stmt *st = (mig_sql_stmt *)1;
	size_t count = 12345;
	assert_int_equal(mig_sql_split(&st, &count, buf, len), 0);
	assert_int_equal(count, n);
	if (n == 0)
		assert_null(st);
	for (size_t i = 0; i < count; i++) {
		assert_true(st[i].offset <= len && st[i].length <= len - st[i].offset);
		char *got = malloc(st[i].length + 1);
		assert_non_null(got);
		memcpy(got, buf + st[i].offset, st[i].length);
		got[st[i].length] = '\0';
		assert_string_equal(got, w[i].text);
		free(got);
		if (w[i].line)
			assert_int_equal(st[i].line, w[i].line);
		assert_int_equal(st[i].line, mig_sql_line_at(buf, len, st[i].offset));
	}
	free(st);
	free(buf);
}

static void check_split(const char *sql, const want *w, size_t n)
{
	check_split_len(sql, strlen(sql), w, n);
}

#define CHECK(sql, ...)                                                                  \
	do {                                                                             \
		const want w_[] = { __VA_ARGS__ };                                      \
		check_split((sql), w_, sizeof w_ / sizeof w_[0]);                        \
	} while (0)

#define CHECK_NONE(sql) check_split((sql), NULL, 0)

/* Shorthand for a statement whose line is not under test. */
#define S(text) { (text), 0 }

/* --- empty and insignificant input --- */

static void test_empty(void **state)
{
	(void)state;
	mig_sql_stmt *st = (mig_sql_stmt *)1;
	size_t count = 7;
	assert_int_equal(mig_sql_split(&st, &count, NULL, 0), 0);
	assert_null(st);
	assert_int_equal(count, 0);
	CHECK_NONE("");
}

static void test_whitespace_only(void **state)
{
	(void)state;
	CHECK_NONE("  \n\t\r\n\f  ");
}

static void test_only_comments(void **state)
{
	(void)state;
	CHECK_NONE("-- one\n/* two; */\n-- three; 'x'\n/* /* nested; */ */");
}

static void test_only_semicolons(void **state)
{
	(void)state;
	CHECK_NONE(";;  ;\n; -- c\n;/* c */;");
}

/* --- basic splitting, offsets, lengths, lines --- */

static void test_two_statements(void **state)
{
	(void)state;
	CHECK("SELECT 1;SELECT 2;", { "SELECT 1;", 1 }, { "SELECT 2;", 1 });
}

static void test_trailing_without_semicolon(void **state)
{
	(void)state;
	CHECK("SELECT 1;\nSELECT 2", { "SELECT 1;", 1 }, { "SELECT 2", 2 });
}

static void test_trailing_whitespace_trimmed(void **state)
{
	(void)state;
	CHECK("SELECT 1;\n  SELECT 2  \n\n", S("SELECT 1;"), { "SELECT 2", 2 });
}

static void test_trailing_comment_dropped(void **state)
{
	(void)state;
	CHECK("SELECT 1; -- done\n/* really */\n", S("SELECT 1;"));
}

static void test_trailing_comment_kept_in_unterminated_statement(void **state)
{
	(void)state;
	CHECK("SELECT 1 -- no semicolon\n", S("SELECT 1 -- no semicolon"));
}

static void test_offset_skips_leading_comments(void **state)
{
	(void)state;
	const char *sql = "-- header; comment\n"
			  "/* block\n   ; comment */\n"
			  "\n"
			  "  CREATE TABLE t (a int);\n"
			  "-- between\n"
			  "INSERT INTO t VALUES (1);";
	CHECK(sql, { "CREATE TABLE t (a int);", 5 }, { "INSERT INTO t VALUES (1);", 7 });
}

static void test_inner_comments_kept(void **state)
{
	(void)state;
	CHECK("SELECT /* a; */ 1 -- b;\n + 2;", S("SELECT /* a; */ 1 -- b;\n + 2;"));
}

static void test_line_numbers(void **state)
{
	(void)state;
	CHECK("SELECT 1;\n\nSELECT\n2; SELECT 3;\n\n\n  SELECT 4;", { "SELECT 1;", 1 },
	      { "SELECT\n2;", 3 }, { "SELECT 3;", 4 }, { "SELECT 4;", 7 });
}

static void test_crlf(void **state)
{
	(void)state;
	CHECK("-- c\r\nSELECT 1;\r\n\r\nSELECT 'a;\r\nb';\r\n", { "SELECT 1;", 2 },
	      { "SELECT 'a;\r\nb';", 4 });
}

static void test_line_comment_ends_at_cr(void **state)
{
	(void)state;
	/* psql ends a -- comment at a bare \r too */
	CHECK("SELECT 1 -- c\rSELECT 2;", S("SELECT 1 -- c\rSELECT 2;"));
	CHECK("-- c\r; SELECT 2;", S("SELECT 2;"));
}

/* --- single-quoted strings --- */

static void test_string_hides_semicolon(void **state)
{
	(void)state;
	CHECK("SELECT 'a;b'; SELECT 2;", S("SELECT 'a;b';"), S("SELECT 2;"));
}

static void test_string_doubled_quote(void **state)
{
	(void)state;
	CHECK("SELECT 'it''s; here'; SELECT '''';", S("SELECT 'it''s; here';"),
	      S("SELECT '''';"));
}

static void test_standard_string_backslash_is_literal(void **state)
{
	(void)state;
	CHECK("SELECT 'a\\'; SELECT 2;", S("SELECT 'a\\';"), S("SELECT 2;"));
}

static void test_comment_markers_in_string(void **state)
{
	(void)state;
	CHECK("SELECT '-- x', '/* y'; SELECT 2;", S("SELECT '-- x', '/* y';"), S("SELECT 2;"));
}

static void test_escape_string(void **state)
{
	(void)state;
	CHECK("SELECT E'it\\'s; ok'; SELECT 2;", S("SELECT E'it\\'s; ok';"), S("SELECT 2;"));
	CHECK("SELECT e'x\\';y'; SELECT 2;", S("SELECT e'x\\';y';"), S("SELECT 2;"));
}

static void test_escape_string_escaped_backslash(void **state)
{
	(void)state;
	/* E'a\\' ends at its second quote: the backslash escaped a backslash */
	CHECK("SELECT E'a\\\\'; SELECT 2;", S("SELECT E'a\\\\';"), S("SELECT 2;"));
	CHECK("SELECT E'a''; b'; SELECT 2;", S("SELECT E'a''; b';"), S("SELECT 2;"));
}

static void test_escape_string_continuation(void **state)
{
	(void)state;
	/* 'a'<newline>'b' is one literal; an E'' literal keeps its escapes across it */
	CHECK("SELECT E'a' -- c\n  '\\'; still'; SELECT 2;",
	      S("SELECT E'a' -- c\n  '\\'; still';"), S("SELECT 2;"));
	/* comment lines may sit between the parts */
	CHECK("SELECT E'a'\n-- c\n\n-- d\r\n'\\'; still'; SELECT 2;",
	      S("SELECT E'a'\n-- c\n\n-- d\r\n'\\'; still';"), S("SELECT 2;"));
	CHECK("SELECT E'a'\n-- c", S("SELECT E'a'\n-- c"));
	/* without a newline there is no continuation: '\' is a plain string */
	CHECK("SELECT E'a' '\\'; SELECT 2;", S("SELECT E'a' '\\';"), S("SELECT 2;"));
}

static void test_prefix_only_as_whole_word(void **state)
{
	(void)state;
	/* "xe" is an identifier, so '\' after it is a plain string */
	CHECK("SELECT xe'\\'; SELECT 2;", S("SELECT xe'\\';"), S("SELECT 2;"));
}

static void test_prefixed_strings(void **state)
{
	(void)state;
	CHECK("SELECT U&'d;\\0061', B'1;0', X'1;F', N'n;''x'; SELECT 2;",
	      S("SELECT U&'d;\\0061', B'1;0', X'1;F', N'n;''x';"), S("SELECT 2;"));
	CHECK("SELECT u&'a;' UESCAPE '!', b'0', x'f', n'z;'; SELECT 2;",
	      S("SELECT u&'a;' UESCAPE '!', b'0', x'f', n'z;';"), S("SELECT 2;"));
}

/* --- double-quoted identifiers --- */

static void test_quoted_identifier(void **state)
{
	(void)state;
	CHECK("SELECT 1 AS \"a;b\"; SELECT 2;", S("SELECT 1 AS \"a;b\";"), S("SELECT 2;"));
	CHECK("SELECT 1 AS \"x\"\";y\"; SELECT 2;", S("SELECT 1 AS \"x\"\";y\";"),
	      S("SELECT 2;"));
	CHECK("SELECT 1 AS U&\"d;\\0061\"; SELECT 2;", S("SELECT 1 AS U&\"d;\\0061\";"),
	      S("SELECT 2;"));
	CHECK("SELECT 1 AS \"it's\"; SELECT 2;", S("SELECT 1 AS \"it's\";"), S("SELECT 2;"));
}

/* --- dollar quotes --- */

static void test_dollar_quote(void **state)
{
	(void)state;
	CHECK("DO $$ BEGIN PERFORM 1; END $$; SELECT 2;", S("DO $$ BEGIN PERFORM 1; END $$;"),
	      S("SELECT 2;"));
}

static void test_dollar_quote_tagged(void **state)
{
	(void)state;
	const char *fn = "CREATE FUNCTION f() RETURNS text LANGUAGE plpgsql AS $fn$\n"
			 "BEGIN\n  RETURN $$it's; 'quoted'$$;\nEND\n$fn$;";
	CHECK("CREATE FUNCTION f() RETURNS text LANGUAGE plpgsql AS $fn$\n"
	      "BEGIN\n  RETURN $$it's; 'quoted'$$;\nEND\n$fn$;\nSELECT f();",
	      { fn, 1 }, { "SELECT f();", 6 });
}

static void test_dollar_tags_that_look_alike(void **state)
{
	(void)state;
	CHECK("SELECT $a$ x; $b$ y; $ab$ z; $A$ w; $ba$ v; $a$; SELECT 2;",
	      S("SELECT $a$ x; $b$ y; $ab$ z; $A$ w; $ba$ v; $a$;"), S("SELECT 2;"));
	/* the closing tag may follow a longer failed one: "$xa$a$" closes $a$ */
	CHECK("SELECT $a$ ;$xa$a$; SELECT 2;", S("SELECT $a$ ;$xa$a$;"), S("SELECT 2;"));
	CHECK("SELECT $$ ;$x$$; SELECT 2;", S("SELECT $$ ;$x$$;"), S("SELECT 2;"));
}

static void test_dollar_parameters(void **state)
{
	(void)state;
	CHECK("PREPARE p(int) AS SELECT $1; SELECT $2; SELECT $12$;",
	      S("PREPARE p(int) AS SELECT $1;"), S("SELECT $2;"), S("SELECT $12$;"));
}

static void test_dollar_in_identifier(void **state)
{
	(void)state;
	CHECK("SELECT a$b$; SELECT x$$; SELECT 3;", S("SELECT a$b$;"), S("SELECT x$$;"),
	      S("SELECT 3;"));
}

static void test_dollar_without_closing_tag(void **state)
{
	(void)state;
	CHECK("SELECT $abc; SELECT $; SELECT 3;", S("SELECT $abc;"), S("SELECT $;"),
	      S("SELECT 3;"));
}

static void test_markers_inside_dollar_quote(void **state)
{
	(void)state;
	CHECK("SELECT $q$ -- ; /* ; ' \" $q$; SELECT 2;", S("SELECT $q$ -- ; /* ; ' \" $q$;"),
	      S("SELECT 2;"));
}

/* --- comments --- */

static void test_line_comment(void **state)
{
	(void)state;
	CHECK("SELECT 1 -- ; ' \" $$\n, 2;", S("SELECT 1 -- ; ' \" $$\n, 2;"));
}

static void test_block_comment(void **state)
{
	(void)state;
	CHECK("SELECT /* ; ' $$ */ 1; SELECT 2;", S("SELECT /* ; ' $$ */ 1;"), S("SELECT 2;"));
}

static void test_nested_block_comment(void **state)
{
	(void)state;
	CHECK("SELECT /* a /* b; */ still; */ 1; SELECT 2;",
	      S("SELECT /* a /* b; */ still; */ 1;"), S("SELECT 2;"));
	CHECK("/* /* */ ; */ SELECT 1;", S("SELECT 1;"));
}

static void test_comment_start_after_operator(void **state)
{
	(void)state;
	/* psql cuts an operator at a slash-star or a double dash */
	CHECK("SELECT 2*/* x; */3; SELECT 4<--;\n5;", S("SELECT 2*/* x; */3;"),
	      S("SELECT 4<--;\n5;"));
}

/* --- parentheses --- */

static void test_parentheses_hide_semicolon(void **state)
{
	(void)state;
	const char *rule = "CREATE RULE r AS ON INSERT TO t DO ALSO (\n"
			   "  INSERT INTO log VALUES (1);\n  INSERT INTO log VALUES (2);\n);";
	CHECK("CREATE RULE r AS ON INSERT TO t DO ALSO (\n"
	      "  INSERT INTO log VALUES (1);\n  INSERT INTO log VALUES (2);\n);\nSELECT 1;",
	      { rule, 1 }, { "SELECT 1;", 5 });
}

static void test_unbalanced_close_paren(void **state)
{
	(void)state;
	CHECK("SELECT 1); SELECT 2;", S("SELECT 1);"), S("SELECT 2;"));
}

static void test_unclosed_paren_takes_rest(void **state)
{
	(void)state;
	CHECK("SELECT (1; SELECT 2;", S("SELECT (1; SELECT 2;"));
}

/* --- BEGIN ATOMIC bodies and transaction control --- */

static void test_begin_atomic(void **state)
{
	(void)state;
	const char *fn = "CREATE FUNCTION f() RETURNS int LANGUAGE sql\n"
			 "BEGIN ATOMIC\n  SELECT 1;\n  SELECT 2;\nEND;";
	CHECK("CREATE FUNCTION f() RETURNS int LANGUAGE sql\n"
	      "BEGIN ATOMIC\n  SELECT 1;\n  SELECT 2;\nEND;\nSELECT f();",
	      { fn, 1 }, { "SELECT f();", 6 });
}

static void test_begin_atomic_with_case(void **state)
{
	(void)state;
	CHECK("CREATE OR REPLACE FUNCTION f(x int) RETURNS text LANGUAGE sql BEGIN ATOMIC "
	      "SELECT CASE WHEN x > 0 THEN 'pos' ELSE 'neg' END; SELECT 'x'; END; SELECT 2;",
	      S("CREATE OR REPLACE FUNCTION f(x int) RETURNS text LANGUAGE sql BEGIN ATOMIC "
		"SELECT CASE WHEN x > 0 THEN 'pos' ELSE 'neg' END; SELECT 'x'; END;"),
	      S("SELECT 2;"));
	/* inside parentheses CASE ... END is not counted at all, as in psql */
	CHECK("CREATE FUNCTION f() RETURNS int LANGUAGE sql BEGIN ATOMIC "
	      "SELECT (CASE WHEN true THEN 1 END); END; SELECT 2;",
	      S("CREATE FUNCTION f() RETURNS int LANGUAGE sql BEGIN ATOMIC "
		"SELECT (CASE WHEN true THEN 1 END); END;"),
	      S("SELECT 2;"));
}

static void test_begin_atomic_procedure_lowercase(void **state)
{
	(void)state;
	CHECK("create or replace procedure p() language sql begin atomic "
	      "insert into t values (1); insert into t values (2); end; Select 3;",
	      S("create or replace procedure p() language sql begin atomic "
		"insert into t values (1); insert into t values (2); end;"),
	      S("Select 3;"));
	CHECK("CREATE PROCEDURE p() BEGIN ATOMIC SELECT 1; END; SELECT 2;",
	      S("CREATE PROCEDURE p() BEGIN ATOMIC SELECT 1; END;"), S("SELECT 2;"));
}

static void test_begin_atomic_unterminated(void **state)
{
	(void)state;
	CHECK("CREATE FUNCTION f() RETURNS int LANGUAGE sql BEGIN ATOMIC SELECT 1; SELECT 2;",
	      S("CREATE FUNCTION f() RETURNS int LANGUAGE sql BEGIN ATOMIC SELECT 1; SELECT 2;"));
}

static void test_keywords_only_whole_words(void **state)
{
	(void)state;
	CHECK("CREATE FUNCTION begin_x() RETURNS int LANGUAGE sql RETURN 1; SELECT 2;",
	      S("CREATE FUNCTION begin_x() RETURNS int LANGUAGE sql RETURN 1;"), S("SELECT 2;"));
	CHECK("CREATE FUNCTION f() RETURNS int LANGUAGE sql AS 'begin'; SELECT 2;",
	      S("CREATE FUNCTION f() RETURNS int LANGUAGE sql AS 'begin';"), S("SELECT 2;"));
	CHECK("CREATE FUNCTION \"begin\"() RETURNS int LANGUAGE sql /* begin */ RETURN 1;"
	      " SELECT 2;",
	      S("CREATE FUNCTION \"begin\"() RETURNS int LANGUAGE sql /* begin */ RETURN 1;"),
	      S("SELECT 2;"));
}

static void test_plpgsql_body_in_dollar_quote(void **state)
{
	(void)state;
	CHECK("CREATE FUNCTION f() RETURNS int LANGUAGE plpgsql AS $$ BEGIN RETURN 1; END $$;"
	      " SELECT 2;",
	      S("CREATE FUNCTION f() RETURNS int LANGUAGE plpgsql AS $$ BEGIN RETURN 1; END $$;"),
	      S("SELECT 2;"));
}

static void test_transaction_begin_splits(void **state)
{
	(void)state;
	CHECK("BEGIN;\nCREATE TABLE t (a int);\nCOMMIT;\nBEGIN TRANSACTION;\nEND;\n"
	      "START TRANSACTION; ROLLBACK;",
	      { "BEGIN;", 1 }, { "CREATE TABLE t (a int);", 2 }, { "COMMIT;", 3 },
	      { "BEGIN TRANSACTION;", 4 }, { "END;", 5 }, { "START TRANSACTION;", 6 },
	      { "ROLLBACK;", 6 });
}

static void test_begin_outside_routine_header(void **state)
{
	(void)state;
	/* BEGIN counts only after CREATE [OR REPLACE] FUNCTION|PROCEDURE */
	CHECK("CREATE TRIGGER tr AFTER INSERT ON t EXECUTE FUNCTION f(); BEGIN; SELECT 1;",
	      S("CREATE TRIGGER tr AFTER INSERT ON t EXECUTE FUNCTION f();"), S("BEGIN;"),
	      S("SELECT 1;"));
	CHECK("CREATE TABLE f (a int); BEGIN; END;", S("CREATE TABLE f (a int);"), S("BEGIN;"),
	      S("END;"));
}

static void test_number_then_keyword(void **state)
{
	(void)state;
	/* psql lexes 1e5end as the number 1e5 and the word END */
	CHECK("CREATE FUNCTION f() RETURNS int LANGUAGE sql BEGIN ATOMIC SELECT 1e5end; SELECT 2;",
	      S("CREATE FUNCTION f() RETURNS int LANGUAGE sql BEGIN ATOMIC SELECT 1e5end;"),
	      S("SELECT 2;"));
	CHECK("CREATE FUNCTION f() RETURNS int LANGUAGE sql BEGIN ATOMIC SELECT .5end; SELECT 2;",
	      S("CREATE FUNCTION f() RETURNS int LANGUAGE sql BEGIN ATOMIC SELECT .5end;"),
	      S("SELECT 2;"));
	CHECK("CREATE FUNCTION f() RETURNS int LANGUAGE sql BEGIN ATOMIC SELECT 2.5e-3end; x;",
	      S("CREATE FUNCTION f() RETURNS int LANGUAGE sql BEGIN ATOMIC SELECT 2.5e-3end;"),
	      S("x;"));
	/* but "e5end" after a bare dot is one word, so the body stays open */
	CHECK("CREATE FUNCTION f() RETURNS int LANGUAGE sql BEGIN ATOMIC SELECT t.e5end; x;",
	      S("CREATE FUNCTION f() RETURNS int LANGUAGE sql BEGIN ATOMIC SELECT t.e5end; x;"));
}

/* --- a realistic no-transaction file --- */

static void test_create_index_concurrently_file(void **state)
{
	(void)state;
	const char *sql = "-- migrate:no-transaction\n"
			  "-- Build the indexes without locking writes.\n"
			  "\n"
			  "CREATE INDEX CONCURRENTLY IF NOT EXISTS users_email_idx\n"
			  "    ON users (lower(email));\n"
			  "\n"
			  "/* second index */\n"
			  "CREATE UNIQUE INDEX CONCURRENTLY orders_ref_idx ON orders (ref)\n"
			  "    WHERE ref <> ';';\n"
			  "DROP INDEX CONCURRENTLY IF EXISTS old_idx;\n";
	CHECK(sql,
	      { "CREATE INDEX CONCURRENTLY IF NOT EXISTS users_email_idx\n"
		"    ON users (lower(email));",
		4 },
	      { "CREATE UNIQUE INDEX CONCURRENTLY orders_ref_idx ON orders (ref)\n"
		"    WHERE ref <> ';';",
		8 },
	      { "DROP INDEX CONCURRENTLY IF EXISTS old_idx;", 10 });
}

/* --- unterminated constructs: the rest of the text is the last statement --- */

static void test_unterminated_string(void **state)
{
	(void)state;
	CHECK("SELECT 1;\nSELECT 'oops; SELECT 3;\n  ", S("SELECT 1;"),
	      { "SELECT 'oops; SELECT 3;\n  ", 2 });
	CHECK("SELECT E'ends in backslash\\", S("SELECT E'ends in backslash\\"));
	CHECK("SELECT E'never closed; SELECT 2;", S("SELECT E'never closed; SELECT 2;"));
	CHECK("SELECT 'doubled at end''", S("SELECT 'doubled at end''"));
}

static void test_unterminated_others(void **state)
{
	(void)state;
	CHECK("SELECT 1; SELECT /* open; /* */ ; ", S("SELECT 1;"),
	      S("SELECT /* open; /* */ ; "));
	CHECK("SELECT \"open; ident", S("SELECT \"open; ident"));
	CHECK("SELECT $t$ open; $T$ ", S("SELECT $t$ open; $T$ "));
	CHECK("SELECT 1 -- open comment  ", S("SELECT 1 -- open comment  "));
}

static void test_unterminated_comment_alone(void **state)
{
	(void)state;
	/* psql would send it and fail; dropping it would skip the rest of the file quietly */
	CHECK("SELECT 1;\n/* never closed; SELECT 2;", S("SELECT 1;"),
	      { "/* never closed; SELECT 2;", 2 });
	CHECK("  /* /* */", S("/* /* */"));
	/* a -- comment at the very end is complete, so it is still dropped */
	CHECK_NONE("-- no newline at end");
}

/* --- raw bytes --- */

static void test_nul_bytes(void **state)
{
	(void)state;
	static const char sql[] = "SELECT '\0;';\0SELECT 2;\n\0";
	mig_sql_stmt *st = NULL;
	size_t count = 0;
	size_t len = sizeof sql - 1;
	assert_int_equal(mig_sql_split(&st, &count, sql, len), 0);
	assert_int_equal(count, 3);
	assert_int_equal(st[0].offset, 0);
	assert_int_equal(st[0].length, 12); /* SELECT '\0;'; */
	assert_int_equal(st[1].offset, 12);  /* the NUL is an ordinary byte */
	assert_int_equal(st[1].length, 10);
	assert_int_equal(st[2].offset, len - 1);
	assert_int_equal(st[2].length, 1);
	assert_int_equal(st[2].line, 2);
	free(st);
}

static void test_high_bytes_are_identifier_chars(void **state)
{
	(void)state;
	/* "\xc3\xa9$x$" is one identifier, so no dollar quote opens */
	CHECK("SELECT \xc3\xa9$x$; SELECT 2;", S("SELECT \xc3\xa9$x$;"), S("SELECT 2;"));
	CHECK("SELECT $\xc3\xa9$;$\xc3\xa9$; SELECT 2;", S("SELECT $\xc3\xa9$;$\xc3\xa9$;"),
	      S("SELECT 2;"));
}

static void test_not_nul_terminated(void **state)
{
	(void)state;
	/* check_split_len copies into an exact-size buffer; cut inside each construct */
	static const char *const texts[] = { "SELECT 'ab", "SELECT E'a\\", "SELECT $a$ $a",
					     "SELECT /* *", "SELECT -", "SELECT $1",
					     "SELECT 1e+", "SELECT U&", "SELECT E'a'\n" };
	for (size_t i = 0; i < sizeof texts / sizeof texts[0]; i++) {
		const want w = { texts[i][strlen(texts[i]) - 1] == '\n' ? "SELECT E'a'" : texts[i],
				 1 };
		check_split_len(texts[i], strlen(texts[i]), &w, 1);
	}
}

/* --- mig_sql_line_at --- */

static void test_line_at(void **state)
{
	(void)state;
	const char *sql = "a\nb\r\nc\n";
	size_t len = strlen(sql);
	assert_int_equal(mig_sql_line_at(sql, len, 0), 1);
	assert_int_equal(mig_sql_line_at(sql, len, 1), 1); /* the newline itself */
	assert_int_equal(mig_sql_line_at(sql, len, 2), 2);
	assert_int_equal(mig_sql_line_at(sql, len, 4), 2); /* \n of the CRLF */
	assert_int_equal(mig_sql_line_at(sql, len, 5), 3);
	assert_int_equal(mig_sql_line_at(sql, len, len), 4);
	assert_int_equal(mig_sql_line_at(sql, len, len + 100), 4); /* clamped */
	assert_int_equal(mig_sql_line_at(sql, 3, 100), 2);        /* clamped to len */
	assert_int_equal(mig_sql_line_at(NULL, 0, 5), 1);
}

static void test_many_statements(void **state)
{
	(void)state;
	/* enough statements to grow the array several times */
	enum { N = 1000 };
	char *sql = malloc(N * 10 + 1);
	assert_non_null(sql);
	size_t len = 0;
	for (int i = 0; i < N; i++) {
		memcpy(sql + len, "SELECT 1;\n", 10);
		len += 10;
	}
	mig_sql_stmt *st = NULL;
	size_t count = 0;
	assert_int_equal(mig_sql_split(&st, &count, sql, len), 0);
	assert_int_equal(count, N);
	for (size_t i = 0; i < count; i++) {
		assert_int_equal(st[i].offset, i * 10);
		assert_int_equal(st[i].length, 9);
		assert_int_equal(st[i].line, i + 1);
	}
	free(st);
	free(sql);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_empty),
		cmocka_unit_test(test_whitespace_only),
		cmocka_unit_test(test_only_comments),
		cmocka_unit_test(test_only_semicolons),
		cmocka_unit_test(test_two_statements),
		cmocka_unit_test(test_trailing_without_semicolon),
		cmocka_unit_test(test_trailing_whitespace_trimmed),
		cmocka_unit_test(test_trailing_comment_dropped),
		cmocka_unit_test(test_trailing_comment_kept_in_unterminated_statement),
		cmocka_unit_test(test_offset_skips_leading_comments),
		cmocka_unit_test(test_inner_comments_kept),
		cmocka_unit_test(test_line_numbers),
		cmocka_unit_test(test_crlf),
		cmocka_unit_test(test_line_comment_ends_at_cr),
		cmocka_unit_test(test_string_hides_semicolon),
		cmocka_unit_test(test_string_doubled_quote),
		cmocka_unit_test(test_standard_string_backslash_is_literal),
		cmocka_unit_test(test_comment_markers_in_string),
		cmocka_unit_test(test_escape_string),
		cmocka_unit_test(test_escape_string_escaped_backslash),
		cmocka_unit_test(test_escape_string_continuation),
		cmocka_unit_test(test_prefix_only_as_whole_word),
		cmocka_unit_test(test_prefixed_strings),
		cmocka_unit_test(test_quoted_identifier),
		cmocka_unit_test(test_dollar_quote),
		cmocka_unit_test(test_dollar_quote_tagged),
		cmocka_unit_test(test_dollar_tags_that_look_alike),
		cmocka_unit_test(test_dollar_parameters),
		cmocka_unit_test(test_dollar_in_identifier),
		cmocka_unit_test(test_dollar_without_closing_tag),
		cmocka_unit_test(test_markers_inside_dollar_quote),
		cmocka_unit_test(test_line_comment),
		cmocka_unit_test(test_block_comment),
		cmocka_unit_test(test_nested_block_comment),
		cmocka_unit_test(test_comment_start_after_operator),
		cmocka_unit_test(test_parentheses_hide_semicolon),
		cmocka_unit_test(test_unbalanced_close_paren),
		cmocka_unit_test(test_unclosed_paren_takes_rest),
		cmocka_unit_test(test_begin_atomic),
		cmocka_unit_test(test_begin_atomic_with_case),
		cmocka_unit_test(test_begin_atomic_procedure_lowercase),
		cmocka_unit_test(test_begin_atomic_unterminated),
		cmocka_unit_test(test_keywords_only_whole_words),
		cmocka_unit_test(test_plpgsql_body_in_dollar_quote),
		cmocka_unit_test(test_transaction_begin_splits),
		cmocka_unit_test(test_begin_outside_routine_header),
		cmocka_unit_test(test_number_then_keyword),
		cmocka_unit_test(test_create_index_concurrently_file),
		cmocka_unit_test(test_unterminated_string),
		cmocka_unit_test(test_unterminated_others),
		cmocka_unit_test(test_unterminated_comment_alone),
		cmocka_unit_test(test_nul_bytes),
		cmocka_unit_test(test_high_bytes_are_identifier_chars),
		cmocka_unit_test(test_not_nul_terminated),
		cmocka_unit_test(test_line_at),
		cmocka_unit_test(test_many_statements),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

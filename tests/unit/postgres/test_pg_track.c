/* Unit tests for the pure half of object tracking (src/postgres/pg_track_scan.c): the
 * objects a DROP statement names (kinds, qualified and quoted names, lists, function
 * arguments, what it refuses to read) and which files may create or drop objects. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "postgres/pg_track.h"

/* The names stmt yields, "kind|schema|name;" each, for easy comparison. */
static char *names_of(const char *stmt)
{
	char *named = NULL;
	assert_int_equal(mig_pg_drop_names(&named, stmt), 0);
	if (!named)
		return strdup("");
	for (char *p = named; *p; p++)
		*p = *p == '\t' ? '|' : *p == '\n' ? ';' : *p;
	return named;
}

static void check(const char *stmt, const char *want)
{
	char *got = names_of(stmt);
	assert_string_equal(got, want);
	free(got);
}

static void test_kinds(void **state)
{
	(void)state;
	check("DROP TABLE t", "table||t;");
	check("drop view v", "view||v;");
	check("DROP MATERIALIZED VIEW m", "materialized view||m;");
	check("DROP INDEX CONCURRENTLY IF EXISTS i", "index||i;");
	check("DROP SEQUENCE s", "sequence||s;");
	check("DROP TYPE mood", "type||mood;");
	check("DROP DOMAIN d", "type||d;");
	check("DROP FOREIGN TABLE f", "table||f;");
	check("DROP PROCEDURE p()", "function||p;");
	check("DROP SCHEMA IF EXISTS s CASCADE", "schema||s;");
	check("DROP TRIGGER x ON t", "trigger||t.x;");
	check("DROP TRIGGER IF EXISTS \"X\" ON s.t CASCADE", "trigger|s|t.X;");
}

static void test_names(void **state)
{
	(void)state;
	check("DROP TABLE IF EXISTS a, public.B, \"Mixed \"\"q\"\"\" CASCADE",
	      "table||a;table|public|b;table||Mixed \"q\";");
	check("DROP TABLE db.s.t", "table|s|t;");
	check("DROP FUNCTION f(int, numeric(10, 2)), s.g(text) RESTRICT",
	      "function||f;function|s|g;");
	check("DROP FUNCTION IF EXISTS f", "function||f;");
	check("-- why\nDROP /* a /* nested */ comment */ INDEX i", "index||i;");
	/* a -- comment ends at \r too, as in PostgreSQL's scanner */
	check("DROP -- why\rTABLE t", "table||t;");
	/* identifiers are cut at 63 bytes, as the server cuts them */
	check("DROP TABLE aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
	      "table||aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa;");
}

/* DROP TABLE "<n times a><tail>": the name it yields ("table||<name>;") */
static void check_cut(size_t n, const char *tail, size_t keep, const char *kept_tail)
{
	char stmt[128], want[128];
	int len = snprintf(stmt, sizeof stmt, "DROP TABLE \"%.*s%s\"", (int)n,
			   "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", tail);
	assert_true(len > 0 && (size_t)len < sizeof stmt);
	snprintf(want, sizeof want, "table||%.*s%s;", (int)keep,
		 "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", kept_tail);
	check(stmt, want);
}

/* The 63-byte cut keeps a UTF-8 character that ends at the cut and drops one it splits,
 * for each length of character (2, 3 and 4 bytes), as PostgreSQL's truncation does. */
static void test_cut_utf8(void **state)
{
	(void)state;
	check_cut(61, "\xc3\xa9" "b", 61, "\xc3\xa9");         /* é ends at byte 63: kept */
	check_cut(62, "\xc3\xa9", 62, "");                  /* é split at 63: dropped */
	check_cut(60, "\xe2\x82\xac" "b", 60, "\xe2\x82\xac"); /* € ends at 63 */
	check_cut(61, "\xe2\x82\xac", 61, "");              /* € split */
	check_cut(62, "\xe2\x82\xac", 62, "");              /* € split after its lead byte */
	check_cut(59, "\xf0\x9f\x98\x80" "b", 59, "\xf0\x9f\x98\x80"); /* a 4-byte one ends at 63 */
	check_cut(60, "\xf0\x9f\x98\x80", 60, "");          /* split */
	check_cut(62, "b\xc3\xa9", 62, "b");                 /* ASCII at the cut: kept */
}

static void test_refused(void **state)
{
	(void)state;
	check("ALTER TABLE t DROP COLUMN c", "");
	check("DROP TRIGGER x ON t, u", "");
	check("DROP TRIGGER x", "");
	check("DROP OWNED BY app", "");
	check("DROP TABLE", "");
	check("DROP TABLE t(", "");
	check("DROP INDEX i (a)", "");
	check("DROP SCHEMA a.b", "");
	check("DROP TABLE \"tab\tname\", ok", "table||ok;");
	check("DROP TABLE U&\"d\\0061t\"", "");
	/* ... but the names after it in the list are still read: the scan resumes after
	 * its closing quote, also when it starts with a doubled quote (the identifier "x) */
	check("DROP TABLE U&\"\"\"x\", t", "table||t;");
	check("DROP TABLE u&\"a b\", s.t, U&\"c\"", "table|s|t;");
	check("DROP TABLE \"unterminated", "");
	check("DROP FUNCTION f(int", "");
	check("", "");
}

/* Scans sql as pg_apply.c would (split, each statement NUL-terminated) into *s; the caller
 * clears it. */
static void scan_step(const char *sql, bool up, mig_pg_track_step *s)
{
	mig_sql_stmt *stmts;
	size_t n;
	assert_int_equal(mig_sql_split(&stmts, &n, sql, strlen(sql)), 0);
	char *text = strdup(sql);
	for (size_t i = 0; i < n; i++)
		if (text[stmts[i].offset + stmts[i].length - 1] == ';')
			text[stmts[i].offset + stmts[i].length - 1] = '\0';
	mig_step step = {.module = "app", .version = 7, .up = up};
	assert_int_equal(mig_pg_track_scan(s, &step, text, stmts, n, NULL), MIG_OK);
	assert_string_equal(s->version, "7");
	free(text);
	free(stmts);
}

static void scan(const char *sql, bool up, bool *creates, bool *drops, char **named)
{
	mig_pg_track_step s;
	scan_step(sql, up, &s);
	*creates = s.creates;
	*drops = s.drops;
	*named = s.named ? strdup(s.named) : NULL;
	mig_pg_track_step_clear(&s);
}

static bool forgets_prepared(const char *sql, bool up)
{
	mig_pg_track_step s;
	scan_step(sql, up, &s);
	bool forgets = s.forgets_prepared;
	mig_pg_track_step_clear(&s);
	return forgets;
}

/* A file that may throw away the session's prepared statements, in an up or a down
 * file, directly or as dynamic SQL, is told apart; a column of that name is not. */
static void test_forgets_prepared(void **state)
{
	(void)state;
	assert_true(forgets_prepared("CREATE TABLE t (a int); DEALLOCATE ALL;", true));
	assert_true(forgets_prepared("deallocate my_plan;", false));
	assert_true(forgets_prepared("DISCARD ALL;", true));
	assert_true(forgets_prepared("DO $$ BEGIN EXECUTE 'DEALLOCATE ALL'; END $$;", true));
	assert_true(forgets_prepared("DO $$ BEGIN EXECUTE $q$DEALLOCATE ALL$q$; END $$;", true));
	assert_false(forgets_prepared("DO $$ BEGIN EXECUTE $q$SELECT deallocated$q$; END $$;", true));
	assert_false(forgets_prepared("CREATE TABLE t (a int); INSERT INTO t VALUES (1);", true));
	assert_false(forgets_prepared("ALTER TABLE t ADD COLUMN \"discard\" int;", true));
	assert_false(forgets_prepared("-- DEALLOCATE ALL\nSELECT 1;", true));
}

static void test_scan(void **state)
{
	(void)state;
	bool creates, drops;
	char *named;
	scan("INSERT INTO t VALUES (1); UPDATE t SET a = 2;", true, &creates, &drops, &named);
	assert_false(creates);
	assert_false(drops);
	assert_null(named);
	scan("CREATE TABLE t (a int); CREATE INDEX t_a ON t (a);", true, &creates, &drops, &named);
	assert_true(creates);
	assert_false(drops);
	/* an ALTER TABLE creates or drops only through its key, identity, serial, type,
	 * partition and DROP words */
	scan("ALTER TABLE t ADD COLUMN c int NOT NULL DEFAULT 0, ALTER COLUMN d SET DEFAULT 1;",
	     true, &creates, &drops, &named);
	assert_false(creates);
	assert_false(drops);
	assert_null(named);
	scan("ALTER TABLE t ADD COLUMN id bigint GENERATED ALWAYS AS IDENTITY;", true, &creates,
	     &drops, &named);
	assert_true(creates);
	assert_false(drops);
	scan("ALTER TABLE t ADD COLUMN n bigserial;", true, &creates, &drops, &named);
	assert_true(creates);
	scan("alter table t add constraint t_u unique (a);", true, &creates, &drops, &named);
	assert_true(creates);
	scan("ALTER TABLE p ATTACH PARTITION p1 FOR VALUES IN (1);", true, &creates, &drops,
	     &named);
	assert_true(creates);
	scan("ALTER TABLE t ALTER COLUMN a TYPE bigint;", true, &creates, &drops, &named);
	assert_true(creates);
	assert_true(drops);
	scan("ALTER TABLE t DROP COLUMN a;", true, &creates, &drops, &named);
	assert_false(creates);
	assert_true(drops);
	scan("ALTER TABLE t ADD COLUMN \"type\" int;", true, &creates, &drops, &named);
	assert_false(creates); /* a quoted name is only a name */
	scan("ALTER TABLE t ADD COLUMN kind text DEFAULT 'drop';", true, &creates, &drops, &named);
	assert_true(drops); /* a literal's words only make it cautious */
	/* any other ALTER, and DO blocks, may do anything */
	scan("ALTER TYPE mood ADD VALUE 'meh';", true, &creates, &drops, &named);
	assert_true(creates);
	assert_true(drops);
	scan("DO $$ BEGIN EXECUTE 'ALTER TABLE t ADD COLUMN c int'; END $$;", true, &creates,
	     &drops, &named);
	assert_true(creates);
	assert_true(drops);
	assert_null(named);
	scan("TRUNCATE t;", true, &creates, &drops, &named);
	assert_false(creates);
	assert_true(drops);
	scan("CREATE TABLE u (a int); DROP INDEX IF EXISTS t_a;", true, &creates, &drops, &named);
	assert_true(drops);
	assert_string_equal(named, "index\t\tt_a\n");
	free(named);
	scan("DROP TABLE t;", false, &creates, &drops, &named);
	assert_false(creates);
	assert_false(drops);
	assert_null(named);
	/* a down file's creations are looked at (what it re-creates is re-attached), its
	 * drops are not (its migration's objects are forgotten with it) */
	scan("ALTER TABLE t ADD COLUMN id serial PRIMARY KEY;", false, &creates, &drops, &named);
	assert_true(creates);
	assert_false(drops);
	scan("DROP INDEX t_a; CREATE INDEX t_a ON t (b);", false, &creates, &drops, &named);
	assert_true(creates);
	assert_false(drops);
	assert_null(named);
	scan("DROP INDEX t_a;", true, &creates, &drops, &named);
	assert_false(creates);
	assert_true(drops);
	free(named);
}

static bool renames(const char *sql, bool up)
{
	mig_pg_track_step s;
	scan_step(sql, up, &s);
	bool renames = s.renames;
	mig_pg_track_step_clear(&s);
	return renames;
}

/* Files that may rename an object or move it to another schema are told apart: they
 * pay a pass over the tracked objects; others do not. */
static void test_renames(void **state)
{
	(void)state;
	assert_true(renames("ALTER TABLE t RENAME TO u;", true));
	assert_true(renames("alter index t_a rename to u_a;", false));
	assert_true(renames("ALTER TABLE t SET SCHEMA s2;", true));
	assert_true(renames("ALTER SCHEMA s RENAME TO s2;", true));
	assert_true(renames("DO $$ BEGIN EXECUTE 'ALTER TYPE e RENAME TO f'; END $$;", true));
	assert_false(renames("ALTER TABLE t ADD COLUMN renamed int;", true));
	assert_false(renames("SET SCHEMA 'app'; CREATE TABLE t (a int);", true));
	assert_false(renames("INSERT INTO log VALUES ('rename');", true));
	assert_false(renames("CREATE SCHEMA s; ALTER TABLE t SET (fillfactor = 70);", true));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_kinds),
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_cut_utf8),
		cmocka_unit_test(test_refused),
		cmocka_unit_test(test_scan),
		cmocka_unit_test(test_forgets_prepared),
		cmocka_unit_test(test_renames),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

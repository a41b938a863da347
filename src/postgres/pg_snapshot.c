/* The schema snapshot read from PostgreSQL's catalogs: one query per object class
 * (twelve, sent as one batch in one read-only transaction), never one per object.
 * Each query returns type, schema and name, the entry's owner (kept beside the entry,
 * never compared), then one column per attribute, its column name being the
 * attribute's key. search_path is pg_catalog alone while reading, so
 * every user object in a definition is schema-qualified the same way in any database;
 * no OID is ever returned. */
#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "postgres/pg_error.h"
#include "postgres/pg_lint.h"
#include "postgres/pg_snapshot.h"

struct mig_pg_reader {
	PGconn *conn;
	char what[16];
	bool lint; /* lint's read: a short lock_timeout */
	bool changes_prepared; /* changes_sql, once per session */
	int nscoped;           /* the scoped snapshot's queries prepared (scoped_prepare) */
};

#define USER_NS(n)                                                                         \
	" " n ".nspname NOT IN ('pg_catalog', 'information_schema', 'pg_toast')"           \
	" AND " n ".nspname !~ '^pg_(toast_)?temp_'"
/* (the marker: see scoped_query) */
#define NOT_EXT(cls, id)                                                                   \
	" NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = '" cls "'::regclass"       \
	" AND d.objid = " id " AND d.deptype = 'e' /*X*/)"
#define NOT_LEDGER(rel) " " rel ".relname !~ '^schema_migrations'"
#define REL_FROM(c)                                                                        \
	" FROM pg_class " c " JOIN pg_namespace n ON n.oid = " c ".relnamespace"
#define REL_OK(c) USER_NS("n") " AND" NOT_LEDGER(c) " AND" NOT_EXT("pg_class", c ".oid")
/* comments by a join (one hash join) rather than obj_description() per row */
#define COMMENT_JOIN(cls, id, sub)                                                         \
	" LEFT JOIN pg_description ds ON ds.classoid = '" cls "'::regclass"                  \
	" AND ds.objoid = " id " AND ds.objsubid = " sub

/* Who may do what with an object, as "grantee: PRIVILEGE, ...; ..." sorted by grantee:
 * a NULL acl is read as the kind's default (acldefault), the owner's own entry is
 * "owner" (a clone may be owned by another role), grantors are left out. */
#define PRIVILEGES(acl, kind, owner)                                                      \
	" (SELECT string_agg(g.line, '; ' ORDER BY g.line) FROM (SELECT"                     \
	" CASE WHEN x.grantee = 0 THEN 'public' WHEN x.grantee = " owner " THEN 'owner'"     \
	" ELSE pg_get_userbyid(x.grantee)::text END || ': ' || string_agg(x.privilege_type"  \
	" || CASE WHEN x.is_grantable THEN ' WITH GRANT OPTION' ELSE '' END, ', '"           \
	" ORDER BY x.privilege_type) AS line"                                                \
	" FROM aclexplode(coalesce(" acl ", acldefault('" kind "', " owner "))) x"           \
	" GROUP BY x.grantee) g) AS privileges,"

/* A function's body: its source text, or for a SQL-standard body (BEGIN ATOMIC or
 * RETURN, PostgreSQL 14 on) the server's deparsed form; PostgreSQL 13 has only prosrc. */
#define FUNCTION_BODY_14                                                                   \
	" CASE WHEN p.prokind = 'a' THEN NULL WHEN p.prosqlbody IS NOT NULL"                 \
	" THEN pg_get_function_sqlbody(p.oid) ELSE p.prosrc END AS body,"
#define FUNCTION_BODY_13 " CASE WHEN p.prokind = 'a' THEN NULL ELSE p.prosrc END AS body,"

/* Who an entry belongs to, as a bigint: the owner's kind (1 schema, 2 relation, 3 type,
 * 4 function, 5 extension) above its OID. The same tags as in FINGERPRINT_SQL below. */
#define OWNER(tag, id) " ((" #tag "::bigint << 32) + (" id ")::bigint)::text AS owner,"

/* The whole batch, with the parts that differ between server versions as arguments;
 * every version returns the same columns, so snapshots of any two compare. */
#define SNAPSHOT_SQL(function_body)                                                        \
	"BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY;" SNAPSHOT_QUERIES(function_body)
/* lint's: a catalog function that opens a table (a deparsed expression) waits for its
 * lock no longer than the data probes would, whatever the session's lock_timeout */
#define SNAPSHOT_SQL_LINT(function_body)                                                   \
	"BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY; SET LOCAL lock_timeout = 500;"   \
	SNAPSHOT_QUERIES(function_body)
#define SNAPSHOT_QUERIES(function_body)                                                    \
	"SET LOCAL search_path = pg_catalog;"                                              \
	/* where a scoped read's queries begin (scoped_prepare) */                        \
	"/*J*/"                                                                            \
	/* schemas */                                                                      \
	"SELECT 'schema', n.nspname, n.nspname AS name," OWNER(1, "n.oid")                \
	PRIVILEGES("n.nspacl", "n", "n.nspowner")                                   \
	" obj_description(n.oid, 'pg_namespace') AS comment"                               \
	" FROM pg_namespace n WHERE" USER_NS("n") " AND" NOT_EXT("pg_namespace", "n.oid")    \
	" /*N:n.oid*/;"                                                                    \
	/* tables, partitioned and foreign tables */                                       \
	"SELECT 'table', n.nspname, c.relname," OWNER(2, "c.oid")                          \
	" CASE c.relkind WHEN 'p' THEN 'partitioned table' WHEN 'f' THEN 'foreign table'"  \
	" ELSE 'table' END AS kind,"                                                       \
	" CASE c.relpersistence WHEN 'u' THEN 'unlogged' END AS persistence,"              \
	" CASE WHEN c.relkind = 'p' THEN pg_get_partkeydef(c.oid) END AS partition_key,"   \
	" CASE WHEN c.relispartition THEN pg_get_expr(c.relpartbound, c.oid) END"          \
	" AS partition_bound,"                                                             \
	" (SELECT string_agg(i.inhparent::regclass::text, ', ' ORDER BY i.inhseqno)"       \
	" FROM pg_inherits i WHERE i.inhrelid = c.oid) AS inherits,"                       \
	" c.relrowsecurity::text AS row_security,"                                         \
	" c.relforcerowsecurity::text AS force_row_security,"                              \
	" array_to_string(c.reloptions, ', ') AS options,"                                 \
	PRIVILEGES("c.relacl", "r", "c.relowner")                                   \
	" ds.description AS comment" REL_FROM("c") COMMENT_JOIN("pg_class", "c.oid", "0")  \
	" WHERE c.relkind IN ('r', 'p', 'f') AND" REL_OK("c") " /*R:c.oid*/;"             \
	/* columns of tables */                                                            \
	"SELECT 'column', n.nspname, c.relname || '.' || a.attname," OWNER(2, "c.oid")    \
	" format_type(a.atttypid, a.atttypmod) AS type,"                                   \
	" a.attnotnull::text AS not_null,"                                                 \
	" CASE WHEN a.attgenerated = '' THEN pg_get_expr(ad.adbin, ad.adrelid) END AS default," \
	" CASE a.attidentity WHEN 'a' THEN 'always' WHEN 'd' THEN 'by default' END"        \
	" AS identity,"                                                                    \
	/* stored, or (PostgreSQL 18 on) virtual: the two differ, so the kind is shown */  \
	" CASE WHEN a.attgenerated <> '' THEN pg_get_expr(ad.adbin, ad.adrelid) ||"        \
	" CASE a.attgenerated WHEN 'v' THEN ' VIRTUAL' ELSE '' END END AS generated,"      \
	" CASE WHEN a.attcollation <> t.typcollation THEN a.attcollation::regcollation::text" \
	" END AS collation,"                                                               \
	" (row_number() OVER (PARTITION BY a.attrelid ORDER BY a.attnum))::text AS position," \
	" ds.description AS comment"                                                       \
	" FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid"                       \
	" JOIN pg_namespace n ON n.oid = c.relnamespace JOIN pg_type t ON t.oid = a.atttypid" \
	" LEFT JOIN pg_attrdef ad ON ad.adrelid = a.attrelid AND ad.adnum = a.attnum"      \
	COMMENT_JOIN("pg_class", "a.attrelid", "a.attnum")                                 \
	" WHERE a.attnum > 0 AND NOT a.attisdropped AND c.relkind IN ('r', 'p', 'f') AND"  \
	REL_OK("c") " /*R:c.oid*/;"                                                                    \
	/* constraints of tables and domains */                                            \
	"SELECT 'constraint', n.nspname, coalesce(c.relname, t.typname) || '.' || k.conname," \
	" CASE WHEN c.oid IS NOT NULL THEN ((2::bigint << 32) + c.oid::bigint)::text"      \
	" ELSE ((3::bigint << 32) + t.oid::bigint)::text END AS owner,"                    \
	" CASE k.contype WHEN 'p' THEN 'primary key' WHEN 'u' THEN 'unique'"               \
	" WHEN 'f' THEN 'foreign key' WHEN 'c' THEN 'check' WHEN 'x' THEN 'exclusion' END" \
	" AS kind,"                                                                        \
	" pg_get_constraintdef(k.oid) AS definition,"                                      \
	" k.convalidated::text AS validated,"                                              \
	" ds.description AS comment"                                                       \
	" FROM pg_constraint k JOIN pg_namespace n ON n.oid = k.connamespace"              \
	COMMENT_JOIN("pg_constraint", "k.oid", "0")                                        \
	" LEFT JOIN pg_class c ON c.oid = k.conrelid LEFT JOIN pg_type t ON t.oid = k.contypid" \
	" WHERE k.contype IN ('p', 'u', 'f', 'c', 'x') AND" USER_NS("n")                   \
	" AND (c.oid IS NULL OR (" NOT_LEDGER("c") " AND" NOT_EXT("pg_class", "c.oid") "))" \
	" AND (t.oid IS NULL OR" NOT_EXT("pg_type", "t.oid") ")"                           \
	" AND (c.oid IS NOT NULL OR t.oid IS NOT NULL) /*RT*/;"                                   \
	/* indexes: the definition carries uniqueness, method, columns and predicate */    \
	"SELECT 'index', n.nspname, c.relname || '.' || i.relname," OWNER(2, "c.oid")     \
	" pg_get_indexdef(i.oid) AS definition,"                                           \
	" x.indisvalid::text AS valid,"                                                    \
	" ds.description AS comment"                                                       \
	" FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid"                         \
	COMMENT_JOIN("pg_class", "i.oid", "0")                                             \
	" JOIN pg_class c ON c.oid = x.indrelid JOIN pg_namespace n ON n.oid = c.relnamespace" \
	" WHERE" REL_OK("c") " /*R:c.oid*/;"                                              \
	/* views and materialized views */                                                 \
	"SELECT CASE c.relkind WHEN 'v' THEN 'view' ELSE 'materialized view' END,"         \
	" n.nspname, c.relname," OWNER(2, "c.oid")                                         \
	" pg_get_viewdef(c.oid) AS definition,"                                            \
	" array_to_string(c.reloptions, ', ') AS options,"                                 \
	PRIVILEGES("c.relacl", "r", "c.relowner")                                   \
	" obj_description(c.oid, 'pg_class') AS comment" REL_FROM("c")                     \
	" WHERE c.relkind IN ('v', 'm') AND" REL_OK("c") " /*R:c.oid*/;"                               \
	/* sequences: their shape, never their current value */                            \
	"SELECT 'sequence', n.nspname, c.relname," OWNER(2, "c.oid")                       \
	" format_type(s.seqtypid, NULL) AS data_type,"                                     \
	" s.seqincrement::text AS increment, s.seqmin::text AS minimum,"                   \
	" s.seqmax::text AS maximum, s.seqstart::text AS start, s.seqcache::text AS cache," \
	" s.seqcycle::text AS cycle,"                                                      \
	" (SELECT t.relname || '.' || a.attname FROM pg_depend d"                          \
	" JOIN pg_class t ON t.oid = d.refobjid"                                           \
	" JOIN pg_attribute a ON a.attrelid = d.refobjid AND a.attnum = d.refobjsubid"     \
	" WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid"                      \
	" AND d.refclassid = 'pg_class'::regclass AND d.deptype IN ('a', 'i') LIMIT 1)"    \
	" AS owned_by,"                                                                    \
	PRIVILEGES("c.relacl", "s", "c.relowner")                                   \
	" obj_description(c.oid, 'pg_class') AS comment"                                   \
	" FROM pg_sequence s JOIN pg_class c ON c.oid = s.seqrelid"                        \
	" JOIN pg_namespace n ON n.oid = c.relnamespace WHERE" REL_OK("c") " /*R:c.oid*/;" \
	/* functions, procedures, aggregates */                                            \
	"SELECT CASE p.prokind WHEN 'p' THEN 'procedure' WHEN 'a' THEN 'aggregate'"        \
	" ELSE 'function' END, n.nspname,"                                                 \
	" p.proname || '(' || pg_get_function_identity_arguments(p.oid) || ')',"           \
	OWNER(4, "p.oid")                                                                  \
	" pg_get_function_arguments(p.oid) AS arguments,"                                  \
	" pg_get_function_result(p.oid) AS result,"                                        \
	" l.lanname AS language,"                                                          \
	" CASE p.provolatile WHEN 'i' THEN 'immutable' WHEN 's' THEN 'stable'"             \
	" ELSE 'volatile' END AS volatility,"                                              \
	" p.prosecdef::text AS security_definer,"                                          \
	" p.proisstrict::text AS strict,"                                                  \
	" array_to_string(p.proconfig, ', ') AS config,"                                   \
	function_body                                                                      \
	PRIVILEGES("p.proacl", "f", "p.proowner")                                   \
	" obj_description(p.oid, 'pg_proc') AS comment"                                    \
	" FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace"                    \
	" JOIN pg_language l ON l.oid = p.prolang"                                         \
	" WHERE" USER_NS("n") " AND" NOT_EXT("pg_proc", "p.oid") " /*P:p.oid*/;"                       \
	/* triggers, with whether they fire */                                             \
	"SELECT 'trigger', n.nspname, c.relname || '.' || g.tgname," OWNER(2, "c.oid")    \
	" pg_get_triggerdef(g.oid) AS definition,"                                         \
	" CASE g.tgenabled WHEN 'O' THEN 'enabled' WHEN 'D' THEN 'disabled'"               \
	" WHEN 'R' THEN 'replica' WHEN 'A' THEN 'always' END AS enabled,"                  \
	" obj_description(g.oid, 'pg_trigger') AS comment"                                 \
	" FROM pg_trigger g JOIN pg_class c ON c.oid = g.tgrelid"                          \
	" JOIN pg_namespace n ON n.oid = c.relnamespace"                                   \
	" WHERE NOT g.tgisinternal AND" REL_OK("c") " /*R:c.oid*/;"                                    \
	/* enum, domain, composite and range types */                                      \
	"SELECT 'type', n.nspname, t.typname," OWNER(3, "t.oid")                           \
	" CASE t.typtype WHEN 'e' THEN 'enum' WHEN 'd' THEN 'domain' WHEN 'c' THEN 'composite'" \
	" ELSE 'range' END AS kind,"                                                       \
	" CASE WHEN t.typtype = 'e' THEN (SELECT string_agg(quote_literal(e.enumlabel), ', '" \
	" ORDER BY e.enumsortorder) FROM pg_enum e WHERE e.enumtypid = t.oid) END AS values," \
	" CASE WHEN t.typtype = 'c' THEN (SELECT string_agg(quote_ident(a.attname) || ' ' ||" \
	" format_type(a.atttypid, a.atttypmod), ', ' ORDER BY a.attnum) FROM pg_attribute a" \
	" WHERE a.attrelid = t.typrelid AND a.attnum > 0 AND NOT a.attisdropped) END"      \
	" AS attributes,"                                                                  \
	" CASE WHEN t.typtype = 'd' THEN format_type(t.typbasetype, t.typtypmod) END"      \
	" AS base_type,"                                                                   \
	" CASE WHEN t.typtype = 'd' THEN t.typnotnull::text END AS not_null,"              \
	" t.typdefault AS default,"                                                        \
	" CASE WHEN t.typtype = 'd' AND t.typcollation <> 0 THEN"                          \
	" t.typcollation::regcollation::text END AS collation,"                            \
	" (SELECT format_type(r.rngsubtype, NULL) FROM pg_range r WHERE r.rngtypid = t.oid)" \
	" AS subtype,"                                                                     \
	PRIVILEGES("t.typacl", "T", "t.typowner")                                   \
	" obj_description(t.oid, 'pg_type') AS comment"                                    \
	" FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace"                    \
	" WHERE (t.typtype IN ('e', 'd', 'r') OR (t.typtype = 'c' AND EXISTS (SELECT 1"    \
	" FROM pg_class c WHERE c.oid = t.typrelid AND c.relkind = 'c')))"                 \
	" AND" USER_NS("n") " AND" NOT_EXT("pg_type", "t.oid") " /*T:t.oid*/;"                         \
	/* extensions */                                                                   \
	"SELECT 'extension', n.nspname, e.extname," OWNER(5, "e.oid")                       \
	" e.extversion AS version"                                                         \
	" FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace"               \
	" WHERE true /*E:e.oid*/;"              \
	/* row-level-security policies */                                                  \
	"SELECT 'policy', n.nspname, c.relname || '.' || p.polname," OWNER(2, "c.oid")    \
	" CASE p.polcmd WHEN 'r' THEN 'select' WHEN 'a' THEN 'insert' WHEN 'w' THEN 'update'" \
	" WHEN 'd' THEN 'delete' ELSE 'all' END AS command,"                               \
	" p.polpermissive::text AS permissive,"                                            \
	" (SELECT string_agg(x, ', ' ORDER BY x) FROM (SELECT CASE WHEN r = 0 THEN 'public'" \
	" ELSE pg_get_userbyid(r)::text END AS x FROM unnest(p.polroles) r) s) AS roles,"  \
	" pg_get_expr(p.polqual, p.polrelid) AS using,"                                    \
	" pg_get_expr(p.polwithcheck, p.polrelid) AS with_check,"                          \
	" obj_description(p.oid, 'pg_policy') AS comment"                                  \
	" FROM pg_policy p JOIN pg_class c ON c.oid = p.polrelid"                          \
	" JOIN pg_namespace n ON n.oid = c.relnamespace WHERE" REL_OK("c") " /*R:c.oid*/;" \
	"COMMIT"

static const char snapshot_sql_14[] = SNAPSHOT_SQL(FUNCTION_BODY_14);
static const char snapshot_sql_13[] = SNAPSHOT_SQL(FUNCTION_BODY_13);
static const char snapshot_sql_lint_14[] = SNAPSHOT_SQL_LINT(FUNCTION_BODY_14);
static const char snapshot_sql_lint_13[] = SNAPSHOT_SQL_LINT(FUNCTION_BODY_13);

static const char origins_sql[] =
	"SELECT kind, schema, name, module, version::text FROM schema_migrations_objects"
	" WHERE dropped_version IS NULL ORDER BY module, version";

static void first_line(char *dst, size_t size, const char *msg)
{
	snprintf(dst, size, "%s", msg ? msg : "");
	dst[strcspn(dst, "\n")] = '\0';
}

int mig_pg_reader_open(mig_pg_reader **out, const char *conninfo, const char *what,
		       mig_error *err)
{
	*out = NULL;
	const char *keys[] = {"dbname", "application_name", "client_encoding", NULL};
	const char *values[] = {conninfo ? conninfo : "", "migrate", "UTF8", NULL};
	mig_pg_reader *r = calloc(1, sizeof *r);
	if (!r)
		return mig_error_set(err, MIG_EFAIL, "out of memory");
	snprintf(r->what, sizeof r->what, "%s", what);
	r->conn = PQconnectdbParams(keys, values, 1);
	if (!r->conn || PQstatus(r->conn) != CONNECTION_OK) {
		char msg[512];
		first_line(msg, sizeof msg, r->conn ? PQerrorMessage(r->conn) : "out of memory");
		mig_pg_reader_close(r);
		return mig_error_set(err, MIG_EFAIL, "cannot connect to the %s database: %s", what,
				     msg);
	}
	int rc = mig_pg_check_version(PQserverVersion(r->conn), err);
	if (rc < 0) {
		mig_pg_reader_close(r);
		return rc;
	}
	*out = r;
	return MIG_OK;
}

void mig_pg_reader_close(mig_pg_reader *r)
{
	if (!r)
		return;
	PQfinish(r->conn);
	free(r);
}

int mig_pg_reader_major(const mig_pg_reader *r)
{
	return PQserverVersion(r->conn) / 10000;
}

int mig_pg_reader_keywords(char ***words, size_t *n, mig_pg_reader *r, mig_error *err)
{
	*words = NULL;
	*n = 0;
	PGresult *res = PQexec(r->conn, "SELECT word FROM pg_get_keywords() WHERE catcode <> 'U'"
					" ORDER BY word COLLATE \"C\"");
	if (PQresultStatus(res) != PGRES_TUPLES_OK) {
		char msg[512];
		first_line(msg, sizeof msg, PQresultErrorMessage(res));
		PQclear(res);
		return mig_error_set(err, MIG_EFAIL, "cannot read the keywords of the %s database: %s",
				     r->what, msg);
	}
	size_t rows = (size_t)PQntuples(res);
	char **list = calloc(rows + 1, sizeof *list);
	bool oom = !list;
	for (size_t i = 0; !oom && i < rows; i++)
		oom = !(list[i] = strdup(PQgetvalue(res, (int)i, 0)));
	PQclear(res);
	if (oom) {
		for (size_t i = 0; list && i < rows; i++)
			free(list[i]);
		free(list);
		return mig_error_set(err, MIG_EFAIL, "out of memory");
	}
	*words = list;
	*n = rows;
	return MIG_OK;
}

/* Adds every row of one class's result: type, schema, name, then the attributes. */
static int add_rows(mig_snapshot *snap, const PGresult *res, mig_error *err)
{
	int ncols = PQnfields(res);
	if (ncols < 4)
		return MIG_OK; /* BEGIN, SET, COMMIT */
	size_t nattrs = (size_t)ncols - 4;
	const char *keys[32], *values[32];
	if (nattrs > 32)
		return mig_error_set(err, MIG_EFAIL, "snapshot query has too many columns");
	for (size_t k = 0; k < nattrs; k++)
		keys[k] = PQfname(res, (int)k + 4);
	for (int row = 0; row < PQntuples(res); row++) {
		for (size_t k = 0; k < nattrs; k++)
			values[k] = PQgetisnull(res, row, (int)k + 4)
					    ? NULL
					    : PQgetvalue(res, row, (int)k + 4);
		int rc = mig_snapshot_add(snap, PQgetvalue(res, row, 0), PQgetvalue(res, row, 1),
					  PQgetvalue(res, row, 2), nattrs, keys, values, err);
		if (rc < 0)
			return rc;
		snap->objects[snap->nobjects - 1].owner = strtoll(PQgetvalue(res, row, 3), NULL, 10);
	}
	return MIG_OK;
}

int mig_pg_snapshot_send(mig_pg_reader *r, mig_error *err)
{
	bool v14 = PQserverVersion(r->conn) >= 140000;
	const char *sql = r->lint ? (v14 ? snapshot_sql_lint_14 : snapshot_sql_lint_13)
				  : (v14 ? snapshot_sql_14 : snapshot_sql_13);
	if (!PQsendQuery(r->conn, sql)) {
		char msg[512];
		first_line(msg, sizeof msg, PQerrorMessage(r->conn));
		return mig_error_set(err, MIG_EFAIL, "cannot read the %s database's schema: %s",
				     r->what, msg);
	}
	return MIG_OK;
}

int mig_pg_snapshot_read(mig_snapshot *out, mig_pg_reader *r, mig_error *err)
{
	int rc = mig_pg_snapshot_send(r, err);
	return rc < 0 ? rc : mig_pg_snapshot_receive(out, r, err);
}

int mig_pg_snapshot_receive(mig_snapshot *out, mig_pg_reader *r, mig_error *err)
{
	memset(out, 0, sizeof *out);
	int rc = MIG_OK;
	PGresult *res;
	/* every result is drained, even after a failure, so the connection stays usable */
	while ((res = PQgetResult(r->conn))) {
		ExecStatusType st = PQresultStatus(res);
		if (rc == MIG_OK && st != PGRES_TUPLES_OK && st != PGRES_COMMAND_OK) {
			char msg[512];
			first_line(msg, sizeof msg, PQresultErrorMessage(res));
			rc = mig_error_set(err, MIG_EFAIL, "cannot read the %s database's schema: %s",
					   r->what, msg);
		} else if (rc == MIG_OK && st == PGRES_TUPLES_OK) {
			rc = add_rows(out, res, err);
		}
		PQclear(res);
	}
	if (rc < 0) {
		PQclear(PQexec(r->conn, "ROLLBACK"));
		mig_snapshot_clear(out);
		return rc;
	}
	mig_snapshot_sort(out);
	return MIG_OK;
}

int mig_pg_lint_schema(PGconn *conn, mig_snapshot *out, mig_error *err)
{
	mig_pg_reader r = {.conn = conn, .what = "live", .lint = true};
	return mig_pg_snapshot_read(out, &r, err);
}

int mig_pg_origins_read(mig_object_origin **out, size_t *n, mig_pg_reader *r, mig_error *err)
{
	*out = NULL;
	*n = 0;
	PGresult *res = PQexec(r->conn, "SELECT to_regclass('schema_migrations_objects') IS NOT NULL");
	bool exists = PQresultStatus(res) == PGRES_TUPLES_OK && PQntuples(res) == 1 &&
		      !strcmp(PQgetvalue(res, 0, 0), "t");
	PQclear(res);
	if (!exists)
		return MIG_OK;
	res = PQexec(r->conn, origins_sql);
	if (PQresultStatus(res) != PGRES_TUPLES_OK) {
		char msg[512];
		first_line(msg, sizeof msg, PQresultErrorMessage(res));
		PQclear(res);
		return mig_error_set(err, MIG_EFAIL, "cannot read object tracking of the %s database: %s",
				     r->what, msg);
	}
	size_t rows = (size_t)PQntuples(res);
	mig_object_origin *list = rows ? calloc(rows, sizeof *list) : NULL;
	if (rows && !list) {
		PQclear(res);
		return mig_error_set(err, MIG_EFAIL, "out of memory");
	}
	bool oom = false;
	for (size_t i = 0; i < rows && !oom; i++) {
		int row = (int)i;
		list[i].kind = strdup(PQgetvalue(res, row, 0));
		list[i].schema = strdup(PQgetvalue(res, row, 1));
		list[i].name = strdup(PQgetvalue(res, row, 2));
		list[i].module = strdup(PQgetvalue(res, row, 3));
		list[i].version = strtoll(PQgetvalue(res, row, 4), NULL, 10);
		oom = !list[i].kind || !list[i].schema || !list[i].name || !list[i].module;
	}
	PQclear(res);
	if (oom) {
		mig_object_origins_free(list, rows);
		return mig_error_set(err, MIG_EFAIL, "out of memory");
	}
	*out = list;
	*n = rows;
	return MIG_OK;
}

/* ---- what changed between two states of one database --------------------------------
 * Every catalog row an entry of the snapshot is rendered from is attributed to the
 * entry's owner (the tags of OWNER above; 0 for what no owner explains: the
 * user's collations, operators, operator classes, casts, languages, text-search and
 * foreign-data objects, whose names appear inside other objects' definitions, and 1
 * for the roles). An
 * owner's fingerprint is the count of its rows and their highest xmin: inserting,
 * updating or deleting any of them changes it (an update or an insert brings a
 * transaction id above every one already there; a delete alone lowers the count).
 * Only a wraparound of the 32-bit transaction counter between two steps of one run
 * could hide a change. The
 * fingerprints of the previous state are kept in a temporary table of the reader's
 * session, so only the owners that differ travel. */
#define R_(id) "((2::bigint << 32) + (" id ")::bigint)"
#define T_(id) "((3::bigint << 32) + (" id ")::bigint)"
#define X_(x) " age(" x ")"
#define NOT_TEMP(ns) " " ns " <> pg_my_temp_schema()"
#define FINGERPRINT_ROWS                                                                   \
	/* relations (tables, views, sequences), their indexes, composite types */          \
	"SELECT CASE c.relkind WHEN 'c' THEN " T_("c.reltype") " ELSE " R_("c.oid") " END AS o," \
	X_("c.xmin") " AS x FROM pg_class c WHERE c.oid >= 16384"                             \
	" AND c.relkind IN ('r', 'p', 'f', 'v', 'm', 'S', 'c') AND" NOT_TEMP("c.relnamespace") \
	" UNION ALL SELECT " R_("i.indrelid") "," X_("c.xmin") " FROM pg_index i"            \
	" JOIN pg_class c ON c.oid = i.indexrelid WHERE i.indrelid >= 16384"                \
	" UNION ALL SELECT " R_("i.indrelid") "," X_("i.xmin") " FROM pg_index i"            \
	" WHERE i.indrelid >= 16384"                                                       \
	/* columns, on their relation without a join (the largest catalog): an index's or a \
	 * composite type's relation is no owner, but a change to it reaches what depends   \
	 * on it (the type, for a composite) by pg_depend (dependents_sql) */               \
	" UNION ALL SELECT " R_("a.attrelid") "," X_("a.xmin") " FROM pg_attribute a"       \
	" WHERE a.attrelid >= 16384 AND a.attnum > 0"                                      \
	" UNION ALL SELECT " R_("d.adrelid") "," X_("d.xmin") " FROM pg_attrdef d"           \
	" WHERE d.adrelid >= 16384"                                                        \
	" UNION ALL SELECT CASE WHEN k.conrelid <> 0 THEN " R_("k.conrelid") " ELSE "       \
	T_("k.contypid") " END," X_("k.xmin") " FROM pg_constraint k WHERE k.oid >= 16384" \
	" UNION ALL SELECT " R_("g.tgrelid") "," X_("g.xmin") " FROM pg_trigger g"           \
	" WHERE g.oid >= 16384"                                                            \
	" UNION ALL SELECT " R_("p.polrelid") "," X_("p.xmin") " FROM pg_policy p"           \
	" UNION ALL SELECT " R_("r.ev_class") "," X_("r.xmin") " FROM pg_rewrite r"          \
	" WHERE r.oid >= 16384"                                                            \
	" UNION ALL SELECT " R_("h.inhrelid") "," X_("h.xmin") " FROM pg_inherits h"         \
	" UNION ALL SELECT " R_("s.seqrelid") "," X_("s.xmin") " FROM pg_sequence s"         \
	" WHERE s.seqrelid >= 16384"                                                       \
	/* types, their values and ranges */                                               \
	" UNION ALL SELECT " T_("t.oid") "," X_("t.xmin") " FROM pg_type t"                  \
	" WHERE t.oid >= 16384 AND t.typtype IN ('e', 'd', 'r', 'c', 'm') AND"              \
	NOT_TEMP("t.typnamespace")                                                         \
	" UNION ALL SELECT " T_("e.enumtypid") "," X_("e.xmin") " FROM pg_enum e"            \
	" WHERE e.enumtypid >= 16384"                                                      \
	" UNION ALL SELECT " T_("r.rngtypid") "," X_("r.xmin") " FROM pg_range r"            \
	" WHERE r.rngtypid >= 16384"                                                       \
	/* functions, schemas (public's OID is below 16384), extensions */                  \
	" UNION ALL SELECT (4::bigint << 32) + p.oid::bigint," X_("p.xmin")                 \
	" FROM pg_proc p WHERE p.oid >= 16384"                                             \
	" UNION ALL SELECT (1::bigint << 32) + n.oid::bigint," X_("n.xmin")                 \
	" FROM pg_namespace n WHERE" USER_NS("n")                                          \
	" UNION ALL SELECT (5::bigint << 32) + e.oid::bigint," X_("e.xmin")                 \
	" FROM pg_extension e"                                                             \
	/* comments, on the object they describe's owner */                                 \
	" UNION ALL SELECT CASE WHEN c.relkind = 'c' THEN " T_("c.reltype") " ELSE "        \
	R_("coalesce(i.indrelid, c.oid)") " END," X_("d.xmin") " FROM pg_description d"      \
	" JOIN pg_class c ON c.oid = d.objoid LEFT JOIN pg_index i ON i.indexrelid = c.oid"  \
	" WHERE d.classoid = 'pg_class'::regclass AND d.objoid >= 16384"                    \
	" UNION ALL SELECT CASE WHEN k.conrelid <> 0 THEN " R_("k.conrelid") " ELSE "       \
	T_("k.contypid") " END," X_("d.xmin") " FROM pg_description d"                      \
	" JOIN pg_constraint k ON k.oid = d.objoid"                                        \
	" WHERE d.classoid = 'pg_constraint'::regclass AND d.objoid >= 16384"               \
	" UNION ALL SELECT " R_("g.tgrelid") "," X_("d.xmin") " FROM pg_description d"       \
	" JOIN pg_trigger g ON g.oid = d.objoid WHERE d.classoid = 'pg_trigger'::regclass"  \
	" UNION ALL SELECT " R_("p.polrelid") "," X_("d.xmin") " FROM pg_description d"      \
	" JOIN pg_policy p ON p.oid = d.objoid WHERE d.classoid = 'pg_policy'::regclass"    \
	" UNION ALL SELECT ((CASE d.classoid WHEN 'pg_type'::regclass THEN 3::bigint"        \
	" WHEN 'pg_proc'::regclass THEN 4 WHEN 'pg_namespace'::regclass THEN 1"              \
	" ELSE 5 END) << 32) + d.objoid::bigint," X_("d.xmin") " FROM pg_description d"        \
	" WHERE (d.classoid IN ('pg_type'::regclass, 'pg_proc'::regclass,"                  \
	" 'pg_extension'::regclass) AND d.objoid >= 16384)"                                \
	" OR d.classoid = 'pg_namespace'::regclass"                                        \
	/* owned sequences, extension members */                                           \
	" UNION ALL SELECT ((CASE d.classid WHEN 'pg_class'::regclass THEN 2::bigint"        \
	" WHEN 'pg_type'::regclass THEN 3 WHEN 'pg_proc'::regclass THEN 4 ELSE 1 END) << 32)" \
	" + d.objid::bigint," X_("d.xmin") " FROM pg_depend d"                              \
	" WHERE d.objid >= 16384 AND d.deptype IN ('a', 'e') AND d.classid IN"         \
	" ('pg_class'::regclass, 'pg_type'::regclass, 'pg_proc'::regclass,"                 \
	" 'pg_namespace'::regclass)"                                                      \
	/* what no owner explains: any change asks for a whole snapshot */                 \
	" UNION ALL SELECT 0," X_("xmin") " FROM pg_collation WHERE oid >= 16384"           \
	" UNION ALL SELECT 0," X_("xmin") " FROM pg_operator WHERE oid >= 16384"            \
	" UNION ALL SELECT 0," X_("xmin") " FROM pg_opclass WHERE oid >= 16384"             \
	" UNION ALL SELECT 0," X_("xmin") " FROM pg_opfamily WHERE oid >= 16384"            \
	" UNION ALL SELECT 0," X_("xmin") " FROM pg_cast WHERE oid >= 16384"                \
	" UNION ALL SELECT 0," X_("xmin") " FROM pg_language WHERE oid >= 16384"            \
	" UNION ALL SELECT 0," X_("xmin") " FROM pg_ts_config WHERE oid >= 16384"           \
	" UNION ALL SELECT 0," X_("xmin") " FROM pg_ts_dict WHERE oid >= 16384"             \
	" UNION ALL SELECT 0," X_("xmin") " FROM pg_foreign_data_wrapper WHERE oid >= 16384" \
	" UNION ALL SELECT 0," X_("xmin") " FROM pg_foreign_server WHERE oid >= 16384"      \
	" UNION ALL SELECT 0," X_("xmin") " FROM pg_conversion WHERE oid >= 16384"

/* The highest xmin is the one of least age (an integer, cheaper to take per row than
 * the xid's text): age(3) - age(x) + 3 is x again, modulo 2^32, however far the counter
 * has gone. The roles (shared, with no xmin to read through pg_roles) are one more
 * owner that no owner explains, whose fingerprint hashes them all. */
#define FINGERPRINTS                                                                       \
	"SELECT o, count(*) AS n, CASE WHEN min(x) = 2147483647 THEN 2"                     \
	" ELSE (age('3'::xid)::bigint + 3 - min(x)) & 4294967295 END AS s"                  \
	" FROM (" FINGERPRINT_ROWS ") u GROUP BY o"                                        \
	" UNION ALL SELECT 1, count(*), hashtext(string_agg(r.oid::text || ' ' || r.rolname," \
	" ',' ORDER BY r.oid))::bigint FROM pg_roles r"

static const char fingerprint_reset_sql[] =
	"SET client_min_messages = warning;"
	"CREATE TEMPORARY TABLE IF NOT EXISTS migrate_fingerprints (o bigint, n bigint, s bigint);"
	"DELETE FROM migrate_fingerprints;"
	"INSERT INTO migrate_fingerprints " FINGERPRINTS;

/* The owners whose fingerprint differs (new, changed or gone), the table brought up to
 * date in the same statement. */
static const char changes_sql[] =
	"WITH cur AS (" FINGERPRINTS "),"
	" ch AS (SELECT coalesce(c.o, p.o) AS o, p.o IS NOT NULL AND c.o IS NOT NULL AS kept"
	" FROM cur c FULL JOIN migrate_fingerprints p ON p.o = c.o"
	" WHERE c.n IS DISTINCT FROM p.n OR c.s IS DISTINCT FROM p.s),"
	" del AS (DELETE FROM migrate_fingerprints p USING ch WHERE p.o = ch.o),"
	" ins AS (INSERT INTO migrate_fingerprints SELECT c.* FROM cur c JOIN ch USING (o))"
	" SELECT o::text, kept::text FROM ch";

/* The owners whose entries name a changed (kept) owner in their own definitions: a
 * view of a renamed table, a foreign key to it, a column of a renamed type, an array
 * of it... found by following pg_depend from the changed objects to everything that
 * depends on them, at any depth. $1: the changed owners. */
static const char dependents_sql[] =
	"WITH RECURSIVE seed(classid, objid) AS ("
	" SELECT 'pg_class'::regclass::oid, (o & 4294967295)::oid FROM unnest($1::bigint[]) o"
	" WHERE o >> 32 = 2"
	" UNION ALL SELECT 'pg_type'::regclass, c.reltype FROM unnest($1::bigint[]) o"
	" JOIN pg_class c ON c.oid = (o & 4294967295)::oid WHERE o >> 32 = 2"
	" UNION ALL SELECT 'pg_type'::regclass, (o & 4294967295)::oid FROM unnest($1::bigint[]) o"
	" WHERE o >> 32 = 3"
	" UNION ALL SELECT 'pg_proc'::regclass, (o & 4294967295)::oid FROM unnest($1::bigint[]) o"
	" WHERE o >> 32 = 4),"
	" dep(classid, objid) AS (SELECT classid, objid FROM seed UNION"
	" SELECT d.classid, d.objid FROM pg_depend d JOIN dep"
	" ON d.refclassid = dep.classid AND d.refobjid = dep.objid)"
	" SELECT DISTINCT o::text FROM (SELECT CASE d.classid"
	" WHEN 'pg_class'::regclass THEN (SELECT CASE WHEN c.relkind = 'c' THEN " T_("c.reltype")
	" ELSE " R_("coalesce(i.indrelid, c.oid)") " END FROM pg_class c"
	" LEFT JOIN pg_index i ON i.indexrelid = c.oid WHERE c.oid = d.objid)"
	" WHEN 'pg_type'::regclass THEN (SELECT CASE WHEN c.relkind IS NULL OR c.relkind = 'c'"
	" THEN " T_("t.oid") " ELSE " R_("c.oid") " END FROM pg_type t"
	" LEFT JOIN pg_class c ON c.oid = t.typrelid WHERE t.oid = d.objid)"
	" WHEN 'pg_proc'::regclass THEN (4::bigint << 32) + d.objid::bigint"
	" WHEN 'pg_constraint'::regclass THEN (SELECT CASE WHEN k.conrelid <> 0 THEN "
	R_("k.conrelid") " ELSE " T_("k.contypid") " END FROM pg_constraint k WHERE k.oid = d.objid)"
	" WHEN 'pg_attrdef'::regclass THEN (SELECT " R_("a.adrelid")
	" FROM pg_attrdef a WHERE a.oid = d.objid)"
	" WHEN 'pg_trigger'::regclass THEN (SELECT " R_("g.tgrelid")
	" FROM pg_trigger g WHERE g.oid = d.objid)"
	" WHEN 'pg_policy'::regclass THEN (SELECT " R_("p.polrelid")
	" FROM pg_policy p WHERE p.oid = d.objid)"
	" WHEN 'pg_rewrite'::regclass THEN (SELECT " R_("r.ev_class")
	" FROM pg_rewrite r WHERE r.oid = d.objid) END AS o FROM dep d) x WHERE o IS NOT NULL";

static int owner_cmp(const void *a, const void *b)
{
	long long x = *(const long long *)a, y = *(const long long *)b;
	return (x > y) - (x < y);
}

/* Sorts and removes duplicates. */
static size_t owners_unique(long long *v, size_t n)
{
	if (n < 2)
		return n;
	qsort(v, n, sizeof *v, owner_cmp);
	size_t k = 1;
	for (size_t i = 1; i < n; i++)
		if (v[i] != v[k - 1])
			v[k++] = v[i];
	return k;
}

static int exec_ok(mig_pg_reader *r, PGresult *res, const char *doing, mig_error *err)
{
	ExecStatusType st = PQresultStatus(res);
	if (st == PGRES_TUPLES_OK || st == PGRES_COMMAND_OK)
		return MIG_OK;
	char msg[512];
	first_line(msg, sizeof msg, res ? PQresultErrorMessage(res) : PQerrorMessage(r->conn));
	return mig_error_set(err, MIG_EFAIL, "cannot %s the %s database's schema: %s", doing,
			     r->what, msg);
}

int mig_pg_fingerprints_reset(mig_pg_reader *r, mig_error *err)
{
	int rc = MIG_OK;
	if (!PQsendQuery(r->conn, fingerprint_reset_sql))
		return exec_ok(r, NULL, "fingerprint", err);
	PGresult *res;
	while ((res = PQgetResult(r->conn))) {
		if (rc == MIG_OK)
			rc = exec_ok(r, res, "fingerprint", err);
		PQclear(res);
	}
	if (rc < 0)
		PQclear(PQexec(r->conn, "ROLLBACK"));
	return rc;
}

/* Appends the first column of every row, as owners. */
static int append_owners(mig_pg_changes *c, const PGresult *res, mig_error *err)
{
	size_t rows = (size_t)PQntuples(res);
	long long *grown = realloc(c->owners, (c->n + rows + 1) * sizeof *grown);
	if (!grown)
		return mig_error_set(err, MIG_EFAIL, "out of memory");
	c->owners = grown;
	for (size_t i = 0; i < rows; i++)
		c->owners[c->n++] = strtoll(PQgetvalue(res, (int)i, 0), NULL, 10);
	return MIG_OK;
}

int mig_pg_changes_read(mig_pg_changes *out, mig_pg_reader *r, mig_error *err)
{
	memset(out, 0, sizeof *out);
	/* prepared once: planning the union costs more than running it */
	if (!r->changes_prepared) {
		PGresult *prep = PQprepare(r->conn, "migrate_changes", changes_sql, 0, NULL);
		int prc = exec_ok(r, prep, "compare", err);
		PQclear(prep);
		if (prc < 0)
			return prc;
		r->changes_prepared = true;
	}
	PGresult *res = PQexecPrepared(r->conn, "migrate_changes", 0, NULL, NULL, NULL, 0);
	int rc = exec_ok(r, res, "compare", err);
	/* the kept owners, as a bigint[] literal for the dependents' query */
	char *kept = NULL;
	size_t klen = 0;
	FILE *ks = rc == MIG_OK ? open_memstream(&kept, &klen) : NULL;
	if (rc == MIG_OK && !ks)
		rc = mig_error_set(err, MIG_EFAIL, "out of memory");
	size_t nkept = 0;
	if (rc == MIG_OK) {
		fputc('{', ks);
		for (int row = 0; row < PQntuples(res); row++) {
			long long o = strtoll(PQgetvalue(res, row, 0), NULL, 10);
			bool was_there = !strcmp(PQgetvalue(res, row, 1), "true");
			/* roles or a shared definition changed, or a schema was altered
			 * (renamed: every name in it reads differently) */
			if (o >> 32 == 0 || (o >> 32 == 1 && was_there))
				out->full = true;
			if (was_there)
				fprintf(ks, "%s%lld", nkept++ ? "," : "", o);
		}
		fputc('}', ks);
		rc = append_owners(out, res, err);
	}
	if (ks)
		fclose(ks);
	PQclear(res);
	if (rc == MIG_OK && nkept && !out->full) {
		const char *params[] = {kept};
		res = PQexecParams(r->conn, dependents_sql, 1, NULL, params, NULL, NULL, 0);
		rc = exec_ok(r, res, "follow dependencies in", err);
		if (rc == MIG_OK)
			rc = append_owners(out, res, err);
		PQclear(res);
	}
	free(kept);
	if (rc < 0) {
		mig_pg_changes_clear(out);
		return rc;
	}
	out->n = owners_unique(out->owners, out->n);
	return MIG_OK;
}

void mig_pg_changes_clear(mig_pg_changes *c)
{
	free(c->owners);
	memset(c, 0, sizeof *c);
}

/* A scoped read's queries are the snapshot's SELECTs with each owner marker (a
 * comment, so the whole snapshot runs the text as it is) replaced by a filter on a
 * parameter: $1 schemas, $2 relations, $3 types, $4 functions, $5 extensions (oid[]);
 * "X" marks the end of a subquery that a scoped read runs row by row.
 * They are prepared once per reader session and planned once (a generic plan), so a
 * step costs their execution alone, not their planning. */
#define SCOPED_PARAMS "(oid[], oid[], oid[], oid[], oid[])"
#define SCOPED_TAGS 5

/* Writes query q[0 .. len) with its markers turned into parameter filters. */
static void scoped_query(FILE *f, const char *q, size_t len)
{
	const char *p = q, *stop = q + len, *m;
	while ((m = strstr(p, "/*")) && m < stop) {
		fwrite(p, 1, (size_t)(m - p), f);
		const char *end = strstr(m, "*/");
		/* between the comment marks: "R:c.oid", or "RT" for constraints (a table's
		 * or a domain's) */
		char tag = m[2];
		int param = tag == 'N' ? 1 : tag == 'R' ? 2 : tag == 'T' ? 3 : tag == 'P' ? 4 : 5;
		if (tag == 'X')
			/* "not an extension's member": looked up for each of the few rows a
			 * scoped read returns, not hashed over every member at each run (the
			 * planner hashes an EXISTS it can; OFFSET keeps it from it) */
			fputs(" OFFSET 0", f);
		else if (m[3] == ':')
			fprintf(f, " AND (%.*s = ANY($%d))", (int)(end - m - 4), m + 4, param);
		else
			/* a constraint's table or domain (c, t), found by the indexes on
			 * pg_constraint rather than by reading every constraint */
			fputs(" AND k.oid IN (SELECT x.oid FROM pg_constraint x WHERE x.conrelid ="
			      " ANY($2) UNION ALL SELECT x.oid FROM pg_constraint x WHERE"
			      " x.contypid = ANY($3))",
			      f);
		p = end + 2;
	}
	fwrite(p, 1, (size_t)(stop - p), f);
}

/* PREPARE migrate_scoped_<i> for each SELECT of the snapshot SQL (those after the
 * joins' marker, each ending at the next ";SELECT " or ";COMMIT"), under the
 * search_path they run with. */
static int scoped_prepare(mig_pg_reader *r, const char *sql, mig_error *err)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);
	if (!f)
		return mig_error_set(err, MIG_EFAIL, "out of memory");
	fputs("BEGIN;SET LOCAL search_path = pg_catalog;", f);
	const char *q = strstr(sql, "/*J*/") + 5;
	int i = 0;
	for (; !strncmp(q, "SELECT ", 7); i++) {
		const char *next = strstr(q, ";SELECT ");
		const char *commit = strstr(q, ";COMMIT");
		const char *end = next && next < commit ? next : commit;
		fprintf(f, "PREPARE migrate_scoped_%d" SCOPED_PARAMS " AS ", i);
		scoped_query(f, q, (size_t)(end - q));
		fputc(';', f);
		q = end + 1;
	}
	fputs("COMMIT", f);
	if (fclose(f)) {
		free(text);
		return mig_error_set(err, MIG_EFAIL, "out of memory");
	}
	int rc = MIG_OK;
	if (!PQsendQuery(r->conn, text))
		rc = exec_ok(r, NULL, "read", err);
	free(text);
	PGresult *res;
	while ((res = PQgetResult(r->conn))) {
		if (rc == MIG_OK)
			rc = exec_ok(r, res, "read", err);
		PQclear(res);
	}
	if (rc < 0)
		PQclear(PQexec(r->conn, "ROLLBACK"));
	else
		r->nscoped = i;
	return rc;
}

int mig_pg_snapshot_read_owned(mig_snapshot *out, mig_pg_reader *r, const long long *owners,
			       size_t n, mig_error *err)
{
	memset(out, 0, sizeof *out);
	const char *sql = PQserverVersion(r->conn) >= 140000 ? snapshot_sql_14 : snapshot_sql_13;
	int rc = r->nscoped ? MIG_OK : scoped_prepare(r, sql, err);
	if (rc < 0)
		return rc;
	/* the owners by tag, as the five oid[] arguments */
	char *args = NULL;
	size_t alen = 0;
	FILE *a = open_memstream(&args, &alen);
	if (!a)
		return mig_error_set(err, MIG_EFAIL, "out of memory");
	for (int tag = 1; tag <= SCOPED_TAGS; tag++) {
		fputs(tag > 1 ? ", '{" : "('{", a);
		bool first = true;
		for (size_t i = 0; i < n; i++)
			if (owners[i] >> 32 == tag) {
				fprintf(a, "%s%lld", first ? "" : ",", owners[i] & 0xffffffffLL);
				first = false;
			}
		fputs("}'", a);
	}
	fputc(')', a);
	char *batch = NULL;
	size_t blen = 0;
	FILE *f = a && !fclose(a) ? open_memstream(&batch, &blen) : NULL;
	if (!f) {
		free(args);
		return mig_error_set(err, MIG_EFAIL, "out of memory");
	}
	/* the few owners drive every join through the catalogs' indexes (never a hash of
	 * a whole catalog, pg_depend for NOT_EXT..., for a few rows): the plans made under
	 * these settings at the first read are kept */
	fputs("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY;"
	      "SET LOCAL search_path = pg_catalog;SET LOCAL enable_hashjoin = off;"
	      "SET LOCAL enable_mergejoin = off;SET LOCAL enable_seqscan = off;"
	      "SET LOCAL plan_cache_mode = force_generic_plan;",
	      f);
	for (int i = 0; i < r->nscoped; i++)
		fprintf(f, "EXECUTE migrate_scoped_%d%s;", i, args);
	fputs("COMMIT", f);
	free(args);
	if (fclose(f)) {
		free(batch);
		return mig_error_set(err, MIG_EFAIL, "out of memory");
	}
	if (!PQsendQuery(r->conn, batch)) {
		char msg[512];
		first_line(msg, sizeof msg, PQerrorMessage(r->conn));
		rc = mig_error_set(err, MIG_EFAIL, "cannot read the %s database's schema: %s",
				   r->what, msg);
	}
	free(batch);
	return rc < 0 ? rc : mig_pg_snapshot_receive(out, r, err);
}

/* The schema snapshot read from PostgreSQL's catalogs: one query per object class
 * (twelve, sent as one batch in one read-only transaction), never one per object.
 * Each query returns type, schema and name, then one column per attribute, its column
 * name being the attribute's key. search_path is pg_catalog alone while reading, so
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
};

#define USER_NS(n)                                                                         \
	" " n ".nspname NOT IN ('pg_catalog', 'information_schema', 'pg_toast')"           \
	" AND " n ".nspname !~ '^pg_(toast_)?temp_'"
#define NOT_EXT(cls, id)                                                                   \
	" NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = '" cls "'::regclass"       \
	" AND d.objid = " id " AND d.deptype = 'e')"
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
	/* schemas */                                                                      \
	"SELECT 'schema', n.nspname, n.nspname AS name,"                                   \
	PRIVILEGES("n.nspacl", "n", "n.nspowner")                                   \
	" obj_description(n.oid, 'pg_namespace') AS comment"                               \
	" FROM pg_namespace n WHERE" USER_NS("n") " AND" NOT_EXT("pg_namespace", "n.oid") ";" \
	/* tables, partitioned and foreign tables */                                       \
	"SELECT 'table', n.nspname, c.relname,"                                            \
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
	" WHERE c.relkind IN ('r', 'p', 'f') AND" REL_OK("c") ";"                          \
	/* columns of tables */                                                            \
	"SELECT 'column', n.nspname, c.relname || '.' || a.attname,"                       \
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
	REL_OK("c") ";"                                                                    \
	/* constraints of tables and domains */                                            \
	"SELECT 'constraint', n.nspname, coalesce(c.relname, t.typname) || '.' || k.conname," \
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
	" AND (c.oid IS NOT NULL OR t.oid IS NOT NULL);"                                   \
	/* indexes: the definition carries uniqueness, method, columns and predicate */    \
	"SELECT 'index', n.nspname, c.relname || '.' || i.relname,"                        \
	" pg_get_indexdef(i.oid) AS definition,"                                           \
	" x.indisvalid::text AS valid,"                                                    \
	" ds.description AS comment"                                                       \
	" FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid"                         \
	COMMENT_JOIN("pg_class", "i.oid", "0")                                             \
	" JOIN pg_class c ON c.oid = x.indrelid JOIN pg_namespace n ON n.oid = c.relnamespace" \
	" WHERE" REL_OK("c") ";"                                                           \
	/* views and materialized views */                                                 \
	"SELECT CASE c.relkind WHEN 'v' THEN 'view' ELSE 'materialized view' END,"         \
	" n.nspname, c.relname,"                                                           \
	" pg_get_viewdef(c.oid) AS definition,"                                            \
	" array_to_string(c.reloptions, ', ') AS options,"                                 \
	PRIVILEGES("c.relacl", "r", "c.relowner")                                   \
	" obj_description(c.oid, 'pg_class') AS comment" REL_FROM("c")                     \
	" WHERE c.relkind IN ('v', 'm') AND" REL_OK("c") ";"                               \
	/* sequences: their shape, never their current value */                            \
	"SELECT 'sequence', n.nspname, c.relname,"                                         \
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
	" JOIN pg_namespace n ON n.oid = c.relnamespace WHERE" REL_OK("c") ";"             \
	/* functions, procedures, aggregates */                                            \
	"SELECT CASE p.prokind WHEN 'p' THEN 'procedure' WHEN 'a' THEN 'aggregate'"        \
	" ELSE 'function' END, n.nspname,"                                                 \
	" p.proname || '(' || pg_get_function_identity_arguments(p.oid) || ')',"           \
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
	" WHERE" USER_NS("n") " AND" NOT_EXT("pg_proc", "p.oid") ";"                       \
	/* triggers, with whether they fire */                                             \
	"SELECT 'trigger', n.nspname, c.relname || '.' || g.tgname,"                       \
	" pg_get_triggerdef(g.oid) AS definition,"                                         \
	" CASE g.tgenabled WHEN 'O' THEN 'enabled' WHEN 'D' THEN 'disabled'"               \
	" WHEN 'R' THEN 'replica' WHEN 'A' THEN 'always' END AS enabled,"                  \
	" obj_description(g.oid, 'pg_trigger') AS comment"                                 \
	" FROM pg_trigger g JOIN pg_class c ON c.oid = g.tgrelid"                          \
	" JOIN pg_namespace n ON n.oid = c.relnamespace"                                   \
	" WHERE NOT g.tgisinternal AND" REL_OK("c") ";"                                    \
	/* enum, domain, composite and range types */                                      \
	"SELECT 'type', n.nspname, t.typname,"                                             \
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
	" AND" USER_NS("n") " AND" NOT_EXT("pg_type", "t.oid") ";"                         \
	/* extensions */                                                                   \
	"SELECT 'extension', n.nspname, e.extname, e.extversion AS version"                \
	" FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace;"              \
	/* row-level-security policies */                                                  \
	"SELECT 'policy', n.nspname, c.relname || '.' || p.polname,"                       \
	" CASE p.polcmd WHEN 'r' THEN 'select' WHEN 'a' THEN 'insert' WHEN 'w' THEN 'update'" \
	" WHEN 'd' THEN 'delete' ELSE 'all' END AS command,"                               \
	" p.polpermissive::text AS permissive,"                                            \
	" (SELECT string_agg(x, ', ' ORDER BY x) FROM (SELECT CASE WHEN r = 0 THEN 'public'" \
	" ELSE pg_get_userbyid(r)::text END AS x FROM unnest(p.polroles) r) s) AS roles,"  \
	" pg_get_expr(p.polqual, p.polrelid) AS using,"                                    \
	" pg_get_expr(p.polwithcheck, p.polrelid) AS with_check,"                          \
	" obj_description(p.oid, 'pg_policy') AS comment"                                  \
	" FROM pg_policy p JOIN pg_class c ON c.oid = p.polrelid"                          \
	" JOIN pg_namespace n ON n.oid = c.relnamespace WHERE" REL_OK("c") ";"             \
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

/* Adds every row of one class's result: type, schema, name, then the attributes. */
static int add_rows(mig_snapshot *snap, const PGresult *res, mig_error *err)
{
	int ncols = PQnfields(res);
	if (ncols < 3)
		return MIG_OK; /* BEGIN, SET, COMMIT */
	size_t nattrs = (size_t)ncols - 3;
	const char *keys[32], *values[32];
	if (nattrs > 32)
		return mig_error_set(err, MIG_EFAIL, "snapshot query has too many columns");
	for (size_t k = 0; k < nattrs; k++)
		keys[k] = PQfname(res, (int)k + 3);
	for (int row = 0; row < PQntuples(res); row++) {
		for (size_t k = 0; k < nattrs; k++)
			values[k] = PQgetisnull(res, row, (int)k + 3)
					    ? NULL
					    : PQgetvalue(res, row, (int)k + 3);
		int rc = mig_snapshot_add(snap, PQgetvalue(res, row, 0), PQgetvalue(res, row, 1),
					  PQgetvalue(res, row, 2), nattrs, keys, values, err);
		if (rc < 0)
			return rc;
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

/* Object tracking for the PostgreSQL driver: the SQL that records what each migration
 * created and dropped, and verify's question "what vanished?". Creation: a migration's
 * new objects are those above the catalogs' highest OID when it began. Drops: measured
 * only when the migration's own transaction deleted catalog rows (the server's
 * per-transaction counters, O(1) to read), plus what its DROP statements name, so an
 * ALTER or a DO block costs the same whatever the length of the history. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "postgres/pg_track.h"

#define USER_SCHEMA(nsp)                                                                   \
	" " nsp ".nspname NOT IN ('pg_catalog', 'information_schema', 'pg_toast')"         \
	" AND " nsp ".nspname !~ '^pg_(toast_)?temp_'"
#define NOT_EXTENSION(cls, id)                                                             \
	" NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = '" cls "'::regclass"       \
	" AND d.objid = " id " AND d.deptype = 'e')"

/* OIDs come from one rising counter: three index lookups give the watermark. */
#define HIGHEST_OID                                                                        \
	"greatest((SELECT max(oid) FROM pg_class), (SELECT max(oid) FROM pg_type),"          \
	" (SELECT max(oid) FROM pg_proc))"

/* Catalog rows this session deleted in the tracked catalogs and not yet reported to
 * the statistics system: a drop of a table, index, view, sequence, type or function
 * deletes one, and nothing else a migration does (ALTER, CREATE OR REPLACE, REINDEX,
 * TRUNCATE update rows instead). The count only grows within a transaction (aborted
 * subtransactions included), so a difference between two readings in one transaction
 * means something was dropped in between. -1 when track_counts is off: then every
 * migration that may drop is checked in full. */
#define DELETED_ROWS                                                                       \
	"CASE WHEN current_setting('track_counts')::boolean THEN"                         \
	" pg_stat_get_xact_tuples_deleted('pg_class'::regclass)"                           \
	" + pg_stat_get_xact_tuples_deleted('pg_type'::regclass)"                          \
	" + pg_stat_get_xact_tuples_deleted('pg_proc'::regclass) ELSE -1 END"

const char mig_pg_track_watermark_sql[] = "SELECT " HIGHEST_OID;

static const char before_creates[] =
	"SELECT set_config('migrate.watermark', " HIGHEST_OID "::text, true)";
static const char before_drops[] =
	"SELECT set_config('migrate.deleted', (" DELETED_ROWS ")::text, true)";
static const char before_both[] =
	"SELECT set_config('migrate.watermark', " HIGHEST_OID "::text, true),"
	" set_config('migrate.deleted', (" DELETED_ROWS ")::text, true)";

/* %1$s is the watermark: the GUC set in the same transaction, or a parameter. */
static const char objects_insert_fmt[] =
	"INSERT INTO schema_migrations_objects (module, version, kind, schema, name, oid)"
	" SELECT $1, $2, kind, schema, name, oid FROM ("
	" SELECT CASE c.relkind WHEN 'v' THEN 'view' WHEN 'm' THEN 'materialized view'"
	" WHEN 'S' THEN 'sequence' WHEN 'i' THEN 'index' WHEN 'I' THEN 'index'"
	" ELSE 'table' END AS kind, n.nspname::text AS schema, c.relname::text AS name, c.oid"
	" FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"
	" WHERE c.oid > %1$s AND c.relkind IN ('r', 'p', 'v', 'm', 'i', 'I', 'S', 'f')"
	" AND c.relname !~ '^schema_migrations' AND" USER_SCHEMA("n")
	" AND" NOT_EXTENSION("pg_class", "c.oid")
	" UNION ALL"
	" SELECT 'type', n.nspname::text, t.typname::text, t.oid"
	" FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace"
	" WHERE t.oid > %1$s AND (t.typtype IN ('e', 'd', 'r') OR (t.typtype = 'c' AND"
	" EXISTS (SELECT 1 FROM pg_class c WHERE c.oid = t.typrelid AND c.relkind = 'c')))"
	" AND" USER_SCHEMA("n") " AND" NOT_EXTENSION("pg_type", "t.oid")
	" UNION ALL"
	" SELECT 'function', n.nspname::text,"
	" p.proname || '(' || pg_get_function_identity_arguments(p.oid) || ')', p.oid"
	" FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace"
	" WHERE p.oid > %1$s AND" USER_SCHEMA("n") " AND" NOT_EXTENSION("pg_proc", "p.oid")
	") o ON CONFLICT DO NOTHING";

#define EXISTS_BY_OID                                                                      \
	" CASE o.kind WHEN 'type' THEN EXISTS (SELECT 1 FROM pg_type x WHERE x.oid = o.oid)" \
	" WHEN 'function' THEN EXISTS (SELECT 1 FROM pg_proc x WHERE x.oid = o.oid)"         \
	" ELSE EXISTS (SELECT 1 FROM pg_class x WHERE x.oid = o.oid) END"

/* A renamed object keeps its OID; one dropped and recreated (by hand, or by a down
 * file) keeps its name: either way it is still there. Functions are looked up by name
 * first (an index), then compared with their identity arguments. */
#define EXISTS_BY_NAME                                                                     \
	" CASE o.kind"                                                                     \
	" WHEN 'type' THEN EXISTS (SELECT 1 FROM pg_type t JOIN pg_namespace n"            \
	" ON n.oid = t.typnamespace WHERE n.nspname = o.schema AND t.typname = o.name)"    \
	" WHEN 'function' THEN EXISTS (SELECT 1 FROM pg_proc p JOIN pg_namespace n"        \
	" ON n.oid = p.pronamespace WHERE n.nspname = o.schema"                            \
	" AND p.proname = left(o.name, strpos(o.name, '(') - 1)"                            \
	" AND p.proname || '(' || pg_get_function_identity_arguments(p.oid) || ')' = o.name)" \
	" ELSE EXISTS (SELECT 1 FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace" \
	" WHERE n.nspname = o.schema AND c.relname = o.name) END"

/* Tracked objects already gone when a session begins dropping: not its drops. */
static const char gone_sql[] =
	"SELECT coalesce(string_agg(o.oid::text, ','), '') FROM schema_migrations_objects o"
	" WHERE o.dropped_version IS NULL AND NOT" EXISTS_BY_OID;

/* The migration's measured drops: tracked objects gone now that were there before.
 * %1$s gates the scan: a scalar subquery, evaluated once before any row is read (a
 * volatile expression written in place would be tested on every tracked row, a scan
 * of the whole history for each migration). $3: the OIDs that were gone before the
 * session's first drop check. */
static const char objects_dropped_fmt[] =
	"UPDATE schema_migrations_objects o SET dropped_module = $1, dropped_version = $2"
	" WHERE %1$s AND o.dropped_version IS NULL AND NOT" EXISTS_BY_OID
	" AND NOT (o.oid::text = ANY (string_to_array($3, ',')))";

#define DROPPED_SINCE_BEFORE                                                               \
	"(SELECT (" DELETED_ROWS ") NOT BETWEEN 0 AND current_setting('migrate.deleted')::bigint)"

/* What the migration's DROP statements name and is gone now, whether it went in this
 * migration or before it (by hand, `DROP … IF EXISTS`): that migration would have
 * dropped it. $3: "kind\tschema\tname\n" lines; an unqualified name matches in the
 * schemas of the search path; DROP SCHEMA names everything in it; DROP FUNCTION f
 * names every overload of f. */
static const char objects_named_sql[] =
	"UPDATE schema_migrations_objects o SET dropped_module = $1, dropped_version = $2"
	" FROM (SELECT split_part(l, E'\\t', 1) AS kind, split_part(l, E'\\t', 2) AS schema,"
	" split_part(l, E'\\t', 3) AS name FROM unnest(string_to_array($3, E'\\n')) AS l"
	" WHERE l <> '') d"
	" WHERE o.dropped_version IS NULL AND CASE WHEN d.kind = 'schema' THEN o.schema = d.name"
	" ELSE (o.schema = d.schema OR (d.schema = '' AND o.schema = ANY (current_schemas(false))))"
	" AND o.kind = d.kind AND CASE WHEN d.kind = 'function'"
	" THEN starts_with(o.name, d.name || '(') ELSE o.name = d.name END END"
	" AND NOT" EXISTS_BY_OID " AND NOT" EXISTS_BY_NAME;

static const char objects_forget_sql[] =
	"DELETE FROM schema_migrations_objects WHERE module = $1 AND version = $2";

/* a rolled-back migration no longer drops what its up file dropped */
static const char objects_undrop_sql[] =
	"UPDATE schema_migrations_objects SET dropped_module = NULL, dropped_version = NULL"
	" WHERE dropped_module = $1 AND dropped_version = $2";

/* Missing: created by an applied migration, gone, and not dropped by one that is still
 * applied (a drop by a migration rolled back with `resolve` does not count). */
static const char objects_missing_sql[] =
	"SELECT o.module, o.version, o.kind, o.schema, o.name"
	" FROM schema_migrations_objects o JOIN schema_migrations m"
	" ON m.module = o.module AND m.version = o.version"
	" WHERE (o.dropped_version IS NULL OR NOT EXISTS (SELECT 1 FROM schema_migrations a"
	" WHERE a.module = o.dropped_module AND a.version = o.dropped_version))"
	" AND NOT" EXISTS_BY_OID " AND NOT" EXISTS_BY_NAME
	" UNION ALL"
	" SELECT '', 0, 'invalid index', n.nspname::text, c.relname::text"
	" FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid"
	" JOIN pg_namespace n ON n.oid = c.relnamespace WHERE NOT i.indisvalid"
	" ORDER BY 1, 2, 4, 5";

/* The commands prepared once per session, by name; mig_pg_track.prepared has a bit for
 * each. */
enum { PREP_INSERT, PREP_BEFORE_CREATES, PREP_BEFORE_DROPS, PREP_BEFORE_BOTH, PREP_DROPPED };
static const char *const prepared_names[] = {
	[PREP_INSERT] = "migrate_track_insert",
	[PREP_BEFORE_CREATES] = "migrate_track_before_creates",
	[PREP_BEFORE_DROPS] = "migrate_track_before_drops",
	[PREP_BEFORE_BOTH] = "migrate_track_before_both",
	[PREP_DROPPED] = "migrate_track_dropped",
};

/* fmt with its one %1$s replaced by arg, or NULL when memory runs out. */
static char *format_sql(const char *fmt, const char *arg)
{
	int n = snprintf(NULL, 0, fmt, arg);
	char *sql = n < 0 ? NULL : malloc((size_t)n + 1);
	if (sql)
		snprintf(sql, (size_t)n + 1, fmt, arg);
	return sql;
}

int mig_pg_track_init(mig_pg_track *t, mig_error *err)
{
	memset(t, 0, sizeof *t);
	t->insert_from_guc = format_sql(objects_insert_fmt,
					"current_setting('migrate.watermark')::oid");
	t->insert_from_param = format_sql(objects_insert_fmt, "$3::oid");
	t->dropped_from_guc = format_sql(objects_dropped_fmt, DROPPED_SINCE_BEFORE);
	t->dropped_from_param = format_sql(objects_dropped_fmt, "true");
	if (!t->insert_from_guc || !t->insert_from_param || !t->dropped_from_guc ||
	    !t->dropped_from_param) {
		mig_pg_track_clear(t);
		return mig_error_set(err, MIG_EFAIL, "out of memory");
	}
	return MIG_OK;
}

void mig_pg_track_clear(mig_pg_track *t)
{
	free(t->insert_from_guc);
	free(t->insert_from_param);
	free(t->dropped_from_guc);
	free(t->dropped_from_param);
	free(t->gone);
	memset(t, 0, sizeof *t);
}

int mig_pg_track_begin(mig_pg_track *t, PGconn *conn, const mig_pg_track_step *s,
		       mig_error *err)
{
	if (!s->drops || t->have_gone)
		return MIG_OK;
	PGresult *res = PQexec(conn, gone_sql);
	int rc = MIG_OK;
	if (PQresultStatus(res) != PGRES_TUPLES_OK || PQntuples(res) != 1) {
		const char *msg = res ? PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY) : NULL;
		if (!msg)
			msg = PQerrorMessage(conn);
		char line[256];
		snprintf(line, sizeof line, "%s", msg ? msg : "");
		line[strcspn(line, "\n")] = '\0';
		rc = mig_error_set(err, MIG_EFAIL, "cannot read the tracked objects: %s", line);
	} else if (!(t->gone = strdup(PQgetvalue(res, 0, 0)))) {
		rc = mig_error_set(err, MIG_EFAIL, "out of memory");
	} else {
		t->have_gone = true;
	}
	PQclear(res);
	return rc;
}

/* The prepare of statement id, on its first use in the session. */
static size_t prepare_once(mig_pg_cmd *out, size_t k, mig_pg_track *t, int id,
			   const char *sql, int nparams)
{
	return mig_pg_prepare_once(out, k, &t->prepared, id, prepared_names[id], sql, nparams);
}

static mig_pg_cmd run_prepared(int id, int nparams, const char *const *params)
{
	return mig_pg_run_prepared(prepared_names[id], nparams, params);
}

size_t mig_pg_track_before(mig_pg_cmd *out, mig_pg_track *t, mig_pg_track_step *s,
			   bool may_prepare)
{
	size_t k = 0;
	if (!s->creates && !s->drops)
		return k;
	/* the commands that run after the migration's statements are prepared here, so
	 * that mig_pg_track_after only runs them */
	if (may_prepare && s->creates)
		k = prepare_once(out, k, t, PREP_INSERT, t->insert_from_guc, 2);
	if (may_prepare && s->drops)
		k = prepare_once(out, k, t, PREP_DROPPED, t->dropped_from_guc, 3);
	int id = !s->drops ? PREP_BEFORE_CREATES : !s->creates ? PREP_BEFORE_DROPS : PREP_BEFORE_BOTH;
	const char *sql = !s->drops ? before_creates : !s->creates ? before_drops : before_both;
	return mig_pg_fixed(out, k, &t->prepared, id, prepared_names[id], sql, 0, NULL,
			    may_prepare);
}

size_t mig_pg_track_after(mig_pg_cmd *out, mig_pg_track *t, mig_pg_track_step *s,
			  const char *watermark, bool may_prepare)
{
	size_t k = 0;
	if (!s->up) {
		out[k++] = mig_pg_query(objects_forget_sql, 2, s->params);
		out[k++] = mig_pg_query(objects_undrop_sql, 2, s->params);
		return k;
	}
	if (s->creates && watermark) {
		s->params[2] = watermark;
		out[k++] = mig_pg_query(t->insert_from_param, 3, s->params);
	} else if (s->creates) {
		out[k++] = may_prepare ? run_prepared(PREP_INSERT, 2, s->params)
				       : mig_pg_query(t->insert_from_guc, 2, s->params);
	}
	/* the commands below read their third parameter from one place: s->params[2] is
	 * the watermark above, so they get their own arrays */
	if (s->drops) {
		s->gone_params[0] = s->params[0];
		s->gone_params[1] = s->params[1];
		s->gone_params[2] = t->gone ? t->gone : "";
		out[k++] = watermark     ? mig_pg_query(t->dropped_from_param, 3, s->gone_params)
			   : may_prepare ? run_prepared(PREP_DROPPED, 3, s->gone_params)
					 : mig_pg_query(t->dropped_from_guc, 3, s->gone_params);
	}
	if (s->drops && s->named) {
		s->named_params[0] = s->params[0];
		s->named_params[1] = s->params[1];
		s->named_params[2] = s->named;
		out[k++] = mig_pg_query(objects_named_sql, 3, s->named_params);
	}
	return k;
}

int mig_pg_track_missing(mig_missing_object **out, size_t *count, PGconn *conn,
			 mig_error *err)
{
	*out = NULL;
	*count = 0;
	PGresult *res = PQexec(conn, objects_missing_sql);
	if (PQresultStatus(res) != PGRES_TUPLES_OK) {
		const char *msg = res ? PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY) : NULL;
		char line[256];
		snprintf(line, sizeof line, "%s", msg ? msg : PQerrorMessage(conn));
		line[strcspn(line, "\n")] = '\0';
		PQclear(res);
		return mig_error_set(err, MIG_EFAIL, "cannot check the tracked objects: %s", line);
	}
	int n = PQntuples(res);
	mig_missing_object *list = calloc(n ? (size_t)n : 1, sizeof *list);
	if (!list) {
		PQclear(res);
		return mig_error_set(err, MIG_EFAIL, "out of memory");
	}
	for (int i = 0; i < n; i++) {
		list[i].module = strdup(PQgetvalue(res, i, 0));
		list[i].version = strtoll(PQgetvalue(res, i, 1), NULL, 10);
		list[i].kind = strdup(PQgetvalue(res, i, 2));
		list[i].schema = strdup(PQgetvalue(res, i, 3));
		list[i].name = strdup(PQgetvalue(res, i, 4));
		if (!list[i].module || !list[i].kind || !list[i].schema || !list[i].name) {
			PQclear(res);
			mig_missing_objects_free(list, (size_t)n);
			return mig_error_set(err, MIG_EFAIL, "out of memory");
		}
	}
	PQclear(res);
	*out = list;
	*count = (size_t)n;
	return MIG_OK;
}

/* Object tracking for the PostgreSQL driver: the SQL that records what each migration
 * created and dropped, and verify's question "what vanished?". An object is known by
 * its kind, schema and name; its OID is a cache that follows it through renames and
 * is re-attached when a down file (or anything else) re-creates it. Creation: a
 * migration's new objects are those above the catalogs' highest OID when it began.
 * Drops: measured only when the migration's own transaction deleted catalog rows (the
 * server's per-transaction counters, O(1) to read), plus what its DROP statements
 * name, so an ALTER or a DO block costs the same whatever the length of the history. */
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

/* The SQL below is written once with two placeholders that mig_pg_track_init fills:
 * @WM@, the watermark (the GUC set in the same transaction, or a parameter), and
 * @NSP@, which keeps a schema target to its own schema (empty for a database). */

/* OIDs come from one rising counter: four index lookups give the watermark. */
#define HIGHEST_OID                                                                        \
	"greatest((SELECT max(oid) FROM pg_class), (SELECT max(oid) FROM pg_type),"          \
	" (SELECT max(oid) FROM pg_proc), (SELECT max(oid) FROM pg_trigger))"

/* Catalog rows this session deleted in the tracked catalogs and not yet reported to
 * the statistics system: a drop of a table, index, view, sequence, type, function or
 * trigger deletes one, and nothing else a migration does (ALTER, CREATE OR REPLACE,
 * REINDEX, TRUNCATE update rows instead). The count only grows within a transaction
 * (aborted subtransactions included), so a difference between two readings in one
 * transaction means something was dropped in between. -1 when track_counts is off:
 * then every migration that may drop is checked in full. */
#define DELETED_ROWS                                                                       \
	"CASE WHEN current_setting('track_counts')::boolean THEN"                         \
	" pg_stat_get_xact_tuples_deleted('pg_class'::regclass)"                           \
	" + pg_stat_get_xact_tuples_deleted('pg_type'::regclass)"                          \
	" + pg_stat_get_xact_tuples_deleted('pg_proc'::regclass)"                          \
	" + pg_stat_get_xact_tuples_deleted('pg_trigger'::regclass) ELSE -1 END"

const char mig_pg_track_watermark_sql[] = "SELECT " HIGHEST_OID;

static const char before_creates[] =
	"SELECT set_config('migrate.watermark', " HIGHEST_OID "::text, true)";
static const char before_drops[] =
	"SELECT set_config('migrate.deleted', (" DELETED_ROWS ")::text, true)";
static const char before_both[] =
	"SELECT set_config('migrate.deleted', (" DELETED_ROWS ")::text, true),"
	" set_config('migrate.watermark', " HIGHEST_OID "::text, true)";

/* The tracked kind of a pg_class row. */
#define CLASS_KIND(c)                                                                      \
	"CASE " c ".relkind WHEN 'v' THEN 'view' WHEN 'm' THEN 'materialized view'"          \
	" WHEN 'S' THEN 'sequence' WHEN 'i' THEN 'index' WHEN 'I' THEN 'index'"              \
	" ELSE 'table' END"
#define CLASS_TRACKED(c) " " c ".relkind IN ('r', 'p', 'v', 'm', 'i', 'I', 'S', 'f')"
/* enums, domains, ranges and composite types of their own (not a table's row type) */
#define TYPE_TRACKED(t)                                                                    \
	" (" t ".typtype IN ('e', 'd', 'r') OR (" t ".typtype = 'c' AND EXISTS"              \
	" (SELECT 1 FROM pg_class r WHERE r.oid = " t ".typrelid AND r.relkind = 'c')))"
/* a trigger someone wrote: not a foreign key's, not a partition's clone */
#define TRIGGER_TRACKED(g) " NOT " g ".tgisinternal AND " g ".tgparentid = 0"

/* Every tracked object whose OID passes COND(alias) as (kind, schema, name, oid). A
 * function's name carries its identity arguments (f(x integer)), a trigger's its
 * table (t.t_audit). */
#define OBJECTS(COND)                                                                      \
	"SELECT " CLASS_KIND("c") " AS kind, n.nspname::text AS schema,"                    \
	" c.relname::text AS name, c.oid"                                                  \
	" FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"                     \
	" WHERE " COND("c") " AND" CLASS_TRACKED("c")                                       \
	" AND c.relname !~ '^schema_migrations' AND" USER_SCHEMA("n") "@NSP@"                 \
	" AND" NOT_EXTENSION("pg_class", "c.oid")                                           \
	" UNION ALL"                                                                       \
	" SELECT 'type', n.nspname::text, t.typname::text, t.oid"                           \
	" FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace"                      \
	" WHERE " COND("t") " AND" TYPE_TRACKED("t") " AND" USER_SCHEMA("n") "@NSP@"         \
	" AND" NOT_EXTENSION("pg_type", "t.oid")                                            \
	" UNION ALL"                                                                       \
	" SELECT 'function', n.nspname::text,"                                              \
	" p.proname || '(' || pg_get_function_identity_arguments(p.oid) || ')', p.oid"       \
	" FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace"                      \
	" WHERE " COND("p") " AND" USER_SCHEMA("n") "@NSP@"                                  \
	" AND" NOT_EXTENSION("pg_proc", "p.oid")                                            \
	" UNION ALL"                                                                       \
	" SELECT 'trigger', n.nspname::text, c.relname || '.' || g.tgname, g.oid"            \
	" FROM pg_trigger g JOIN pg_class c ON c.oid = g.tgrelid"                            \
	" JOIN pg_namespace n ON n.oid = c.relnamespace"                                     \
	" WHERE " COND("g") " AND" TRIGGER_TRACKED("g")                                     \
	" AND c.relname !~ '^schema_migrations' AND" USER_SCHEMA("n") "@NSP@"                 \
	" AND" NOT_EXTENSION("pg_class", "c.oid")
#define ABOVE_WATERMARK(a) a ".oid > @WM@"
#define ANY_OID(a) "true"

/* Whether tracked row o's object still has its OID. */
#define EXISTS_BY_OID                                                                      \
	" CASE o.kind WHEN 'type' THEN EXISTS (SELECT 1 FROM pg_type x WHERE x.oid = o.oid)" \
	" WHEN 'function' THEN EXISTS (SELECT 1 FROM pg_proc x WHERE x.oid = o.oid)"         \
	" WHEN 'trigger' THEN EXISTS (SELECT 1 FROM pg_trigger x WHERE x.oid = o.oid)"       \
	" ELSE EXISTS (SELECT 1 FROM pg_class x WHERE x.oid = o.oid) END"

/* The OID of the object of o's kind that now has o's schema and name, or NULL: the
 * identity of a tracked object is its name, and its OID is a cache of it (a renamed
 * object keeps its OID; one dropped and re-created, by a down file or by hand, keeps
 * its name). Each branch is an index lookup. A function is found by name, then
 * compared with its identity arguments; a trigger by its table's name up to the first
 * '.' (a table whose name has a dot is found by OID only). */
#define OID_BY_NAME                                                                        \
	" CASE o.kind"                                                                     \
	" WHEN 'type' THEN (SELECT t.oid FROM pg_type t JOIN pg_namespace n"               \
	" ON n.oid = t.typnamespace WHERE n.nspname = o.schema AND t.typname = o.name"     \
	" AND" TYPE_TRACKED("t") ")"                                                       \
	" WHEN 'function' THEN (SELECT p.oid FROM pg_proc p JOIN pg_namespace n"           \
	" ON n.oid = p.pronamespace WHERE n.nspname = o.schema"                            \
	" AND p.proname = left(o.name, strpos(o.name, '(') - 1)"                            \
	" AND p.proname || '(' || pg_get_function_identity_arguments(p.oid) || ')' = o.name" \
	" LIMIT 1)"                                                                        \
	" WHEN 'trigger' THEN (SELECT g.oid FROM pg_trigger g JOIN pg_class c"             \
	" ON c.oid = g.tgrelid JOIN pg_namespace n ON n.oid = c.relnamespace"              \
	" WHERE n.nspname = o.schema AND c.relname = split_part(o.name, '.', 1)"           \
	" AND g.tgname = substr(o.name, strpos(o.name, '.') + 1) AND" TRIGGER_TRACKED("g")  \
	" LIMIT 1)"                                                                        \
	" ELSE (SELECT c.oid FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace" \
	" WHERE n.nspname = o.schema AND c.relname = o.name AND" CLASS_TRACKED("c")         \
	" AND " CLASS_KIND("c") " = o.kind) END"

/* Once per session, before its first drop check: tracked objects whose OID is gone but
 * whose name exists again (dropped and re-created by hand, or by a migration before
 * tracking knew names) take the new OID; those gone altogether are returned, as OIDs:
 * a later drop check does not count them as its migration's drops. */
static const char gone_sql[] =
	"WITH stale AS (SELECT o.module, o.version, o.kind, o.schema, o.name, o.oid AS old,"
	" " OID_BY_NAME " AS now FROM schema_migrations_objects o"
	" WHERE o.dropped_version IS NULL AND NOT" EXISTS_BY_OID "),"
	" fresh AS (UPDATE schema_migrations_objects o SET oid = s.now FROM stale s"
	" WHERE s.now IS NOT NULL AND o.module = s.module AND o.version = s.version"
	" AND o.kind = s.kind AND o.schema = s.schema AND o.name = s.name)"
	" SELECT coalesce(string_agg(old::text, ','), '') FROM stale WHERE now IS NULL";

/* The migration's measured drops: tracked objects gone now that were there before.
 * @GATE@ is a scalar subquery, evaluated once before any row is read (a volatile
 * expression written in place would be tested on every tracked row, a scan of the
 * whole history for each migration). $3: the OIDs that were gone before the session's
 * first drop check. Runs before the migration's new objects are recorded, so that an
 * object dropped and re-created under its name counts as dropped. */
static const char objects_dropped_tmpl[] =
	"UPDATE schema_migrations_objects o SET dropped_module = $1, dropped_version = $2"
	" WHERE @GATE@ AND o.dropped_version IS NULL AND NOT" EXISTS_BY_OID
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
	" AND NOT" EXISTS_BY_OID " AND (" OID_BY_NAME ") IS NULL";

/* The objects a migration created (those above the watermark). An up records them as
 * its own; either direction re-attaches to them the tracked objects of other
 * migrations that have their kind, schema and name and whose OID is gone: a down file
 * (or a later up) that re-creates an object gives it back to the migration that first
 * created it, so that the next drop of it is measured as a drop. */
#define NEW_OBJECTS "WITH new AS (" OBJECTS(ABOVE_WATERMARK) ")"
/* (the catalogs' names are in collation "C", the tracked ones in the database's: the
 * comparison says which, so that the index on (schema, name) serves it) */
#define REATTACH                                                                           \
	" UPDATE schema_migrations_objects o SET oid = w.oid FROM new w"                   \
	" WHERE o.schema = w.schema COLLATE \"default\" AND o.name = w.name COLLATE \"default\"" \
	" AND o.kind = w.kind"                                                             \
	" AND o.oid <> w.oid AND NOT (o.module = $1 AND o.version = $2)"                    \
	" AND o.dropped_version IS NULL AND NOT" EXISTS_BY_OID
static const char objects_insert_tmpl[] =
	NEW_OBJECTS ", mine AS ("
	"INSERT INTO schema_migrations_objects (module, version, kind, schema, name, oid)"
	" SELECT $1, $2, kind, schema, name, oid FROM new"
	" ON CONFLICT (module, version, kind, schema, name) DO UPDATE SET oid = excluded.oid,"
	" dropped_module = NULL, dropped_version = NULL)" REATTACH;
static const char objects_reattach_tmpl[] = NEW_OBJECTS REATTACH;

/* After a file that may rename (RENAME, SET SCHEMA): tracked objects that kept their
 * OID under another name or schema take it, so that a later drop and re-creation by
 * name finds them. A name another object of the same migration already holds is left
 * (a swap of names): the OID still finds both. A pass over the tracked objects, paid
 * only by such files. */
static const char objects_renamed_tmpl[] =
	"UPDATE schema_migrations_objects o SET schema = w.schema, name = w.name"
	" FROM (" OBJECTS(ANY_OID) ") w"
	" WHERE w.oid = o.oid AND w.kind = o.kind AND (w.schema <> o.schema OR w.name <> o.name)"
	" AND o.dropped_version IS NULL AND NOT EXISTS (SELECT 1 FROM schema_migrations_objects x"
	" WHERE x.module = o.module AND x.version = o.version AND x.kind = o.kind"
	" AND x.schema = w.schema AND x.name = w.name)";

static const char objects_forget_sql[] =
	"DELETE FROM schema_migrations_objects WHERE module = $1 AND version = $2";

/* a rolled-back migration no longer drops what its up file dropped */
static const char objects_undrop_sql[] =
	"UPDATE schema_migrations_objects SET dropped_module = NULL, dropped_version = NULL"
	" WHERE dropped_module = $1 AND dropped_version = $2";

/* Missing: created by an applied migration, gone by OID and by name, and not dropped
 * by one that is still applied (a drop by a migration rolled back with `resolve` does
 * not count); and invalid indexes. */
static const char objects_missing_tmpl[] =
	"SELECT o.module, o.version, o.kind, o.schema, o.name"
	" FROM schema_migrations_objects o JOIN schema_migrations m"
	" ON m.module = o.module AND m.version = o.version"
	" WHERE (o.dropped_version IS NULL OR NOT EXISTS (SELECT 1 FROM schema_migrations a"
	" WHERE a.module = o.dropped_module AND a.version = o.dropped_version))"
	" AND NOT" EXISTS_BY_OID " AND (" OID_BY_NAME ") IS NULL"
	" UNION ALL"
	" SELECT '', 0, 'invalid index', n.nspname::text, c.relname::text"
	" FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid"
	" JOIN pg_namespace n ON n.oid = c.relnamespace WHERE NOT i.indisvalid@NSP@"
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

/* tmpl with every @WM@, @GATE@ and @NSP@ replaced by wm, gate and nsp (NULL: left as
 * they are); a new string, or NULL when memory runs out. */
static char *fill(const char *tmpl, const char *wm, const char *gate, const char *nsp)
{
	const char *keys[] = {"@WM@", "@GATE@", "@NSP@"};
	const char *values[] = {wm, gate, nsp};
	size_t cap = strlen(tmpl) + 1;
	for (size_t k = 0; k < 3; k++)
		for (const char *p = tmpl; values[k] && (p = strstr(p, keys[k])); p++)
			cap += strlen(values[k]);
	char *out = malloc(cap), *o = out;
	if (!out)
		return NULL;
	for (const char *p = tmpl; *p;) {
		size_t k = 0;
		while (k < 3 && !(values[k] && !strncmp(p, keys[k], strlen(keys[k]))))
			k++;
		if (k < 3) {
			size_t len = strlen(values[k]);
			memcpy(o, values[k], len);
			o += len;
			p += strlen(keys[k]);
		} else {
			*o++ = *p++;
		}
	}
	*o = '\0';
	return out;
}

int mig_pg_track_init(mig_pg_track *t, const char *schema, mig_error *err)
{
	memset(t, 0, sizeof *t);
	/* a schema target records and checks only its own schema's objects: others may be
	 * created at the same moment by the fleet's other targets (its name was validated
	 * as an identifier, so it can stand in a literal) */
	char nsp[128] = "";
	if (schema)
		snprintf(nsp, sizeof nsp, " AND n.nspname = '%s'", schema);
	const char *guc = "current_setting('migrate.watermark')::oid";
	t->insert_from_guc = fill(objects_insert_tmpl, guc, NULL, nsp);
	t->insert_from_param = fill(objects_insert_tmpl, "$3::oid", NULL, nsp);
	t->reattach_from_guc = fill(objects_reattach_tmpl, guc, NULL, nsp);
	t->reattach_from_param = fill(objects_reattach_tmpl, "$3::oid", NULL, nsp);
	t->dropped_from_guc = fill(objects_dropped_tmpl, NULL, DROPPED_SINCE_BEFORE, nsp);
	t->dropped_from_param = fill(objects_dropped_tmpl, NULL, "true", nsp);
	t->renamed = fill(objects_renamed_tmpl, NULL, NULL, nsp);
	t->missing = fill(objects_missing_tmpl, NULL, NULL, nsp);
	if (!t->insert_from_guc || !t->insert_from_param || !t->reattach_from_guc ||
	    !t->reattach_from_param || !t->dropped_from_guc || !t->dropped_from_param ||
	    !t->renamed || !t->missing) {
		mig_pg_track_clear(t);
		return mig_error_set(err, MIG_EFAIL, "out of memory");
	}
	return MIG_OK;
}

void mig_pg_track_clear(mig_pg_track *t)
{
	free(t->insert_from_guc);
	free(t->insert_from_param);
	free(t->reattach_from_guc);
	free(t->reattach_from_param);
	free(t->dropped_from_guc);
	free(t->dropped_from_param);
	free(t->renamed);
	free(t->missing);
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
	if (may_prepare && s->creates && s->up)
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
	if (watermark)
		s->params[2] = watermark;
	if (!s->up) {
		out[k++] = mig_pg_query(objects_forget_sql, 2, s->params);
		out[k++] = mig_pg_query(objects_undrop_sql, 2, s->params);
		if (s->creates)
			out[k++] = watermark ? mig_pg_query(t->reattach_from_param, 3, s->params)
					     : mig_pg_query(t->reattach_from_guc, 2, s->params);
		if (s->renames)
			out[k++] = mig_pg_query(t->renamed, 0, NULL);
		return k;
	}
	/* drops first: an object dropped and re-created under its name is the migration's
	 * drop, and the new one its creation; the commands below read their third
	 * parameter from one place each, so they get their own arrays */
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
	if (s->creates && watermark)
		out[k++] = mig_pg_query(t->insert_from_param, 3, s->params);
	else if (s->creates)
		out[k++] = may_prepare ? run_prepared(PREP_INSERT, 2, s->params)
				       : mig_pg_query(t->insert_from_guc, 2, s->params);
	if (s->renames)
		out[k++] = mig_pg_query(t->renamed, 0, NULL);
	return k;
}

int mig_pg_track_missing(mig_missing_object **out, size_t *count, const mig_pg_track *t,
			 PGconn *conn, mig_error *err)
{
	*out = NULL;
	*count = 0;
	PGresult *res = PQexec(conn, t->missing);
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

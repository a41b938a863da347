/* One statement of libpg_query's parse tree, {"<Kind>Stmt": {...}}, read into a typed
 * mig_pg_stmt (pg_parse.h): which kind it is and the facts the rules look at — the
 * relation and names, the values of a SET, a view's tables and columns, whether it is
 * opaque. The parts of a table are read by pg_parse_table.c. */
#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "lint/pg_parse.h"
#include "lint/pg_parse_private.h"
#include "util/strlist.h"

/* Every string constant (A_Const sval) anywhere under node. */
static int collect_strings(mig_pg_stmt *st, const json_t *node)
{
	if (json_is_array(node)) {
		size_t i;
		json_t *v;
		json_array_foreach(node, i, v)
			if (collect_strings(st, v) < 0)
				return -1;
		return 0;
	}
	if (!json_is_object(node))
		return 0;
	const char *key;
	json_t *v;
	json_object_foreach((json_t *)node, key, v) {
		if (!strcmp(key, "A_Const")) {
			const char *s = get_str(as(v, "sval"), "sval");
			if (s && mig_strlist_push(&st->strings, &st->nstrings, s) < 0)
				return -1;
			continue;
		}
		if (collect_strings(st, v) < 0)
			return -1;
	}
	return 0;
}

static bool in_strlist(char *const *list, size_t n, const char *s)
{
	for (size_t i = 0; i < n; i++)
		if (!strcmp(list[i], s))
			return true;
	return false;
}

static int push_action(mig_pg_stmt *st, mig_pg_action **out)
{
	mig_pg_action *grown = realloc(st->actions, (st->nactions + 1) * sizeof *grown);
	if (!grown)
		return -1;
	st->actions = grown;
	*out = memset(&grown[st->nactions++], 0, sizeof *grown);
	return 0;
}

static int set_relation(mig_pg_stmt *st, const json_t *rv)
{
	if (!rv)
		return 0;
	st->relation = mig_pg_range_var_name(rv);
	st->temp = !strcmp(get_str(rv, "relpersistence") ? get_str(rv, "relpersistence") : "", "t");
	return st->relation ? 0 : -1;
}

static const char *const_text(const json_t *a_const, char *buf, size_t size)
{
	const char *s = get_str(as(a_const, "sval"), "sval");
	if (s)
		return s;
	if (as(a_const, "ival")) {
		snprintf(buf, size, "%lld",
			 (long long)json_integer_value(json_object_get(as(a_const, "ival"), "ival")));
		return buf;
	}
	return NULL;
}

static bool zero_value(const char *v)
{
	if (!v)
		return false;
	while (*v == '0')
		v++;
	return *v == '\0' || !strcmp(v, "s") || !strcmp(v, "ms") || !strcmp(v, "min");
}

/* SELECT set_config('name', 'value', is_local) read as a SET. */
static int read_set_config(mig_pg_stmt *st, const json_t *select)
{
	const json_t *targets = json_object_get(select, "targetList");
	if (json_array_size(targets) != 1)
		return 0;
	const json_t *fc = as(json_object_get(as(json_array_get(targets, 0), "ResTarget"), "val"),
			      "FuncCall");
	const char *fn = mig_pg_last_string(json_object_get(fc, "funcname"));
	const json_t *args = json_object_get(fc, "args");
	if (!fn || strcasecmp(fn, "set_config") || json_array_size(args) != 3)
		return 0;
	char buf[32];
	const char *name = const_text(as(json_array_get(args, 0), "A_Const"), buf, sizeof buf);
	if (!name)
		return 0;
	st->kind = MIG_PG_SET;
	if (!(st->name = strdup(name)))
		return -1;
	const char *value = const_text(as(json_array_get(args, 1), "A_Const"), buf, sizeof buf);
	if (value && !(st->value = strdup(value)))
		return -1;
	st->set_to_zero = zero_value(value);
	st->local = json_is_true(json_object_get(
		as(as(json_array_get(args, 2), "A_Const"), "boolval"), "boolval"));
	return 0;
}

static bool has_defelem(const json_t *list, const char *name)
{
	size_t i;
	json_t *item;
	json_array_foreach(list, i, item)
		if (!strcmp(get_str(as(item, "DefElem"), "defname") ? get_str(as(item, "DefElem"), "defname") : "",
			    name))
			return true;
	return false;
}

/* Whether a node of that type is anywhere under node. */
static bool has_key(const json_t *node, const char *type)
{
	if (json_is_array(node)) {
		size_t i;
		json_t *v;
		json_array_foreach(node, i, v)
			if (has_key(v, type))
				return true;
		return false;
	}
	if (!json_is_object(node))
		return false;
	const char *key;
	json_t *v;
	json_object_foreach((json_t *)node, key, v)
		if (!strcmp(key, type) || has_key(v, type))
			return true;
	return false;
}

/* A view's query: every table it reads (RangeVar) into relations, every column name it
 * mentions (the last part of a ColumnRef) into columns, star when it uses `*`. */
static int read_view_query(mig_pg_stmt *st, const json_t *node)
{
	if (json_is_array(node)) {
		size_t i;
		json_t *v;
		json_array_foreach(node, i, v)
			if (read_view_query(st, v) < 0)
				return -1;
		return 0;
	}
	if (!json_is_object(node))
		return 0;
	const char *key;
	json_t *v;
	json_object_foreach((json_t *)node, key, v) {
		if (!strcmp(key, "RangeVar")) {
			char *name = mig_pg_range_var_name(v);
			int rc = name && !in_strlist(st->relations, st->nrelations, name)
					 ? mig_strlist_push(&st->relations, &st->nrelations, name)
					 : 0;
			free(name);
			if (rc < 0)
				return -1;
			continue;
		}
		if (!strcmp(key, "ColumnRef")) {
			const json_t *fields = json_object_get(v, "fields");
			const json_t *last = json_array_get(fields, json_array_size(fields) - 1);
			const char *col = get_str(as(last, "String"), "sval");
			if (as(last, "A_Star"))
				st->star = true;
			else if (col && !in_strlist(st->columns, st->ncolumns, col) &&
				 mig_strlist_push(&st->columns, &st->ncolumns, col) < 0)
				return -1;
			continue;
		}
		if (read_view_query(st, v) < 0)
			return -1;
	}
	return 0;
}

/* Fills st from one {"<Kind>Stmt": {...}} node. */
int mig_pg_read_stmt(mig_pg_stmt *st, const json_t *node, const char *sql, size_t len)
{
	const char *type = NULL;
	json_t *n = NULL;
	void *iter = json_object_iter((json_t *)node);
	if (iter) {
		type = json_object_iter_key(iter);
		n = json_object_iter_value(iter);
	}
	if (!type)
		return 0;
	if (collect_strings(st, n) < 0)
		return -1;
	size_t i;
	json_t *item;
	mig_pg_action *a;
	if (!strcmp(type, "CreateStmt")) {
		st->kind = MIG_PG_CREATE_TABLE;
		if (set_relation(st, json_object_get(n, "relation")) < 0)
			return -1;
		json_array_foreach(json_object_get(n, "tableElts"), i, item) {
			if (as(item, "ColumnDef")) {
				if (push_action(st, &a) < 0 || mig_pg_read_column(a, as(item, "ColumnDef")) < 0)
					return -1;
			} else if (as(item, "Constraint")) {
				if (push_action(st, &a) < 0 || mig_pg_read_constraint(a, as(item, "Constraint"), sql, len) < 0)
					return -1;
			}
		}
		/* PARTITION OF / INHERITS: the key may come from elsewhere; not a new plain table */
		if (json_object_get(n, "partbound") || json_array_size(json_object_get(n, "inhRelations")))
			st->full = true;
		/* LIKE, OF type: columns no parse shows */
		st->opaque = st->full || has_key(json_object_get(n, "tableElts"), "TableLikeClause") ||
			     json_object_get(n, "ofTypename") != NULL;
	} else if (!strcmp(type, "CreateTableAsStmt")) {
		st->kind = MIG_PG_CREATE_TABLE;
		st->full = true; /* its columns come from a query: no key to check */
		st->opaque = true;
		return set_relation(st, json_object_get(json_object_get(n, "into"), "rel"));
	} else if (!strcmp(type, "IndexStmt")) {
		st->kind = MIG_PG_CREATE_INDEX;
		st->concurrently = get_bool(n, "concurrent");
		st->unique = get_bool(n, "unique");
		st->has_where = json_object_get(n, "whereClause") != NULL;
		st->name = dup(get_str(n, "idxname"));
		/* its columns when every element is a plain column (else none) */
		bool plain = true;
		json_array_foreach(json_object_get(n, "indexParams"), i, item)
			plain = plain && get_str(as(item, "IndexElem"), "name");
		json_array_foreach(json_object_get(n, "indexParams"), i, item)
			if (plain && mig_strlist_push(&st->columns, &st->ncolumns,
						      get_str(as(item, "IndexElem"), "name")) < 0)
				return -1;
		return set_relation(st, json_object_get(n, "relation"));
	} else if (!strcmp(type, "DropStmt")) {
		const char *what = get_str(n, "removeType");
		if (!what || (strcmp(what, "OBJECT_INDEX") && strcmp(what, "OBJECT_TABLE") &&
			      strcmp(what, "OBJECT_VIEW")))
			return 0;
		st->kind = !strcmp(what, "OBJECT_INDEX")  ? MIG_PG_DROP_INDEX
			   : !strcmp(what, "OBJECT_VIEW") ? MIG_PG_DROP_VIEW
							  : MIG_PG_DROP_TABLE;
		st->concurrently = get_bool(n, "concurrent");
		st->missing_ok = get_bool(n, "missing_ok");
		json_array_foreach(json_object_get(n, "objects"), i, item) {
			char *name = mig_pg_qualified_name(json_object_get(as(item, "List"), "items"));
			if (!name)
				continue;
			int rc = mig_strlist_push(&st->relations, &st->nrelations, name);
			free(name);
			if (rc < 0)
				return -1;
		}
		if (st->nrelations && !(st->name = strdup(st->relations[0])))
			return -1;
	} else if (!strcmp(type, "AlterTableStmt")) {
		const char *objtype = get_str(n, "objtype");
		if (!objtype || strcmp(objtype, "OBJECT_TABLE"))
			return 0;
		st->kind = MIG_PG_ALTER_TABLE;
		st->missing_ok = get_bool(n, "missing_ok");
		if (set_relation(st, json_object_get(n, "relation")) < 0)
			return -1;
		json_array_foreach(json_object_get(n, "cmds"), i, item)
			if (push_action(st, &a) < 0 || mig_pg_read_alter_cmd(a, as(item, "AlterTableCmd"), sql, len) < 0)
				return -1;
	} else if (!strcmp(type, "RenameStmt")) {
		const char *what = get_str(n, "renameType");
		if (!what)
			return 0;
		if (!strcmp(what, "OBJECT_TABLE"))
			st->kind = MIG_PG_RENAME_TABLE;
		else if (!strcmp(what, "OBJECT_COLUMN") &&
			 !strcmp(get_str(n, "relationType") ? get_str(n, "relationType") : "", "OBJECT_TABLE"))
			st->kind = MIG_PG_RENAME_COLUMN;
		else
			return 0;
		st->name = dup(get_str(n, "newname"));
		st->missing_ok = get_bool(n, "missing_ok");
		if (st->kind == MIG_PG_RENAME_COLUMN && push_action(st, &a) == 0)
			a->column = dup(get_str(n, "subname"));
		return set_relation(st, json_object_get(n, "relation"));
	} else if (!strcmp(type, "TruncateStmt")) {
		st->kind = MIG_PG_TRUNCATE;
		json_array_foreach(json_object_get(n, "relations"), i, item) {
			char *name = mig_pg_range_var_name(as(item, "RangeVar"));
			int rc = name ? mig_strlist_push(&st->relations, &st->nrelations, name) : 0;
			free(name);
			if (rc < 0)
				return -1;
		}
	} else if (!strcmp(type, "VacuumStmt")) {
		if (!get_bool(n, "is_vacuumcmd"))
			return 0; /* ANALYZE */
		st->kind = MIG_PG_VACUUM;
		st->full = has_defelem(json_object_get(n, "options"), "full");
		const json_t *rels = json_object_get(n, "rels");
		if (json_array_size(rels))
			return set_relation(st, json_object_get(as(json_array_get(rels, 0), "VacuumRelation"),
								"relation"));
	} else if (!strcmp(type, "ClusterStmt")) {
		st->kind = MIG_PG_CLUSTER;
		return set_relation(st, json_object_get(n, "relation"));
	} else if (!strcmp(type, "ReindexStmt")) {
		st->kind = MIG_PG_REINDEX;
		st->concurrently = has_defelem(json_object_get(n, "params"), "concurrently");
		st->name = dup(get_str(n, "name"));
		return set_relation(st, json_object_get(n, "relation"));
	} else if (!strcmp(type, "AlterEnumStmt")) {
		if (get_str(n, "oldVal") || !get_str(n, "newVal"))
			return 0;
		st->kind = MIG_PG_ENUM_ADD_VALUE;
		st->name = mig_pg_qualified_name(json_object_get(n, "typeName"));
		st->value = dup(get_str(n, "newVal"));
	} else if (!strcmp(type, "UpdateStmt") || !strcmp(type, "DeleteStmt")) {
		st->kind = type[0] == 'U' ? MIG_PG_UPDATE : MIG_PG_DELETE;
		st->has_where = json_object_get(n, "whereClause") != NULL;
		return set_relation(st, json_object_get(n, "relation"));
	} else if (!strcmp(type, "InsertStmt")) {
		st->kind = MIG_PG_INSERT;
		return set_relation(st, json_object_get(n, "relation"));
	} else if (!strcmp(type, "VariableSetStmt")) {
		const char *kind = get_str(n, "kind");
		if (!get_str(n, "name"))
			return 0;
		st->kind = MIG_PG_SET;
		st->name = dup(get_str(n, "name"));
		st->local = get_bool(n, "is_local");
		char buf[32];
		const char *v = const_text(as(json_array_get(json_object_get(n, "args"), 0), "A_Const"),
					   buf, sizeof buf);
		st->value = dup(v);
		/* RESET and SET ... TO DEFAULT go back to the server's setting */
		st->set_to_zero = zero_value(v) || (kind && strcmp(kind, "VAR_SET_VALUE"));
	} else if (!strcmp(type, "SelectStmt")) {
		if (read_set_config(st, n) < 0)
			return -1;
		st->opaque = st->kind != MIG_PG_SET && has_key(n, "FuncCall");
	} else if (!strcmp(type, "ViewStmt")) {
		st->kind = MIG_PG_CREATE_VIEW;
		if (set_relation(st, json_object_get(n, "view")) < 0)
			return -1;
		return read_view_query(st, json_object_get(n, "query"));
	} else if (!strcmp(type, "DoStmt") || !strcmp(type, "CallStmt") ||
		   !strcmp(type, "ExecuteStmt") ||
		   !strcmp(type, "ImportForeignSchemaStmt") || !strcmp(type, "CreateForeignTableStmt") ||
		   (!strcmp(type, "CreateSchemaStmt") && json_array_size(json_object_get(n, "schemaElts")))) {
		st->opaque = true;
	} else if (!strcmp(type, "TransactionStmt")) {
		const char *kind = get_str(n, "kind");
		if (kind && (!strcmp(kind, "TRANS_STMT_BEGIN") || !strcmp(kind, "TRANS_STMT_START")))
			st->kind = MIG_PG_BEGIN;
		else if (kind && (!strcmp(kind, "TRANS_STMT_COMMIT") || !strcmp(kind, "TRANS_STMT_ROLLBACK")))
			st->kind = MIG_PG_COMMIT;
	}
	return 0;
}

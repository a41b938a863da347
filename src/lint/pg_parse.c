/* The one file that includes <pg_query.h>: a migration file parsed by libpg_query (the
 * PostgreSQL 15 grammar) into its JSON parse tree, read with jansson and reduced to the
 * typed statements of pg_parse.h. Nothing of the tree escapes this file. */
#include <jansson.h>
#include <pg_query.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "util/error.h"
#include "lint/pg_parse.h"
#include "util/sql_split.h"
#include "util/strlist.h"

/* ---- small readers of the tree ---- */

static const char *get_str(const json_t *o, const char *key)
{
	return json_string_value(json_object_get(o, key));
}

static bool get_bool(const json_t *o, const char *key)
{
	return json_is_true(json_object_get(o, key));
}

/* A node is {"TypeName": {...}}: the inner object when it is of that type. */
static json_t *as(const json_t *node, const char *type)
{
	return json_object_get(node, type);
}

static char *dup(const char *s)
{
	return s ? strdup(s) : NULL;
}

static bool needs_quotes(const char *s)
{
	if (!*s || !((*s >= 'a' && *s <= 'z') || *s == '_'))
		return true;
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') || *s == '_' || *s == '$'))
			return true;
	return false;
}

/* Appends ident to buf (quoted when PostgreSQL would need it). */
static void append_ident(char *buf, size_t size, const char *ident)
{
	size_t n = strlen(buf);
	if (!needs_quotes(ident)) {
		snprintf(buf + n, size - n, "%s", ident);
		return;
	}
	if (n + 1 < size)
		buf[n++] = '"';
	for (; *ident && n + 2 < size; ident++) {
		if (*ident == '"')
			buf[n++] = '"';
		buf[n++] = *ident;
	}
	if (n + 1 < size)
		buf[n++] = '"';
	buf[n] = '\0';
}

static char *range_var_name(const json_t *rv)
{
	const char *rel = get_str(rv, "relname");
	if (!rel)
		return NULL;
	char buf[512] = "";
	const char *schema = get_str(rv, "schemaname");
	if (schema) {
		append_ident(buf, sizeof buf, schema);
		strncat(buf, ".", sizeof buf - strlen(buf) - 1);
	}
	append_ident(buf, sizeof buf, rel);
	return strdup(buf);
}

/* A list of {"String": {"sval": ...}}: its parts joined with '.', quoted as needed. */
static char *qualified_name(const json_t *list)
{
	char buf[512] = "";
	size_t i;
	json_t *item;
	json_array_foreach(list, i, item) {
		const char *part = get_str(as(item, "String"), "sval");
		if (!part)
			continue;
		if (*buf)
			strncat(buf, ".", sizeof buf - strlen(buf) - 1);
		append_ident(buf, sizeof buf, part);
	}
	return *buf ? strdup(buf) : NULL;
}

static const char *last_string(const json_t *list)
{
	size_t n = json_array_size(list);
	return n ? get_str(as(json_array_get(list, n - 1), "String"), "sval") : NULL;
}

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

/* Functions a column default may call without forcing a rewrite: stable or immutable,
 * evaluated once when the column is added (PostgreSQL 11 and later). */
static const char *const cheap_functions[] = {
	"now", "transaction_timestamp", "statement_timestamp", "current_setting", "lower",
	"upper", "abs", "length", "concat", "json_build_object", "jsonb_build_object",
	"json_build_array", "jsonb_build_array", "make_interval", "to_jsonb", "to_json",
	"array_fill", NULL};

/* Whether an expression calls anything not known to be cheap (a volatile function such
 * as random(), gen_random_uuid(), clock_timestamp() or nextval()). */
static bool expr_volatile(const json_t *node)
{
	if (json_is_array(node)) {
		size_t i;
		json_t *v;
		json_array_foreach(node, i, v)
			if (expr_volatile(v))
				return true;
		return false;
	}
	if (!json_is_object(node))
		return false;
	const char *key;
	json_t *v;
	json_object_foreach((json_t *)node, key, v) {
		if (!strcmp(key, "FuncCall")) {
			const char *fn = last_string(json_object_get(v, "funcname"));
			bool cheap = false;
			for (const char *const *c = cheap_functions; fn && *c; c++)
				cheap = cheap || !strcasecmp(fn, *c);
			if (!cheap)
				return true;
		}
		if (!strcmp(key, "SubLink"))
			return true;
		if (expr_volatile(v))
			return true;
	}
	return false;
}

static int read_type(mig_pg_type *t, const json_t *tn)
{
	if (!tn)
		return 0;
	const char *name = last_string(json_object_get(tn, "names"));
	if (name && !(t->name = strdup(name)))
		return -1;
	size_t i;
	json_t *mod;
	json_array_foreach(json_object_get(tn, "typmods"), i, mod) {
		if (t->ntypmods == 2)
			break;
		json_t *c = as(mod, "A_Const");
		t->typmods[t->ntypmods++] = (long)json_integer_value(json_object_get(as(c, "ival"), "ival"));
	}
	t->array = json_array_size(json_object_get(tn, "arrayBounds")) > 0;
	return 0;
}

static mig_pg_constraint constraint_kind(const char *contype)
{
	static const struct {
		const char *name;
		mig_pg_constraint kind;
	} kinds[] = {{"CONSTR_CHECK", MIG_PG_CON_CHECK},     {"CONSTR_FOREIGN", MIG_PG_CON_FOREIGN},
		     {"CONSTR_UNIQUE", MIG_PG_CON_UNIQUE},   {"CONSTR_PRIMARY", MIG_PG_CON_PRIMARY},
		     {"CONSTR_EXCLUSION", MIG_PG_CON_EXCLUSION}};
	for (size_t i = 0; contype && i < sizeof kinds / sizeof *kinds; i++)
		if (!strcmp(contype, kinds[i].name))
			return kinds[i].kind;
	return MIG_PG_CON_OTHER;
}

static bool in_strlist(char *const *list, size_t n, const char *s)
{
	for (size_t i = 0; i < n; i++)
		if (!strcmp(list[i], s))
			return true;
	return false;
}

/* A foreign key's referenced table and columns (nothing for other constraints). */
static int read_reference(mig_pg_action *a, const json_t *c)
{
	const json_t *pk = json_object_get(c, "pktable");
	if (!pk)
		return 0;
	if (!(a->ref_table = range_var_name(pk)))
		return -1;
	size_t i;
	json_t *k;
	json_array_foreach(json_object_get(c, "pk_attrs"), i, k) {
		const char *col = get_str(as(k, "String"), "sval");
		if (col && mig_strlist_push(&a->ref_keys, &a->nref_keys, col) < 0)
			return -1;
	}
	return 0;
}

static bool ident_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '_' || c == '$' || (unsigned char)c >= 0x80;
}

static size_t skip_space_and_comments(const char *sql, size_t len, size_t pos);

/* The end of the quoted token at sql[pos] ('...', E'...', "...", $tag$...$tag$), or pos
 * when none starts there. */
static size_t skip_quoted(const char *sql, size_t len, size_t pos)
{
	char q = sql[pos];
	bool backslash = false;
	if ((q == 'E' || q == 'e') && pos + 1 < len && sql[pos + 1] == '\'' &&
	    (pos == 0 || !ident_char(sql[pos - 1]))) {
		backslash = true;
		q = sql[++pos];
	}
	if (q == '\'' || q == '"') {
		for (pos++; pos < len; pos++) {
			if (backslash && sql[pos] == '\\' && pos + 1 < len)
				pos++;
			else if (sql[pos] == q) {
				if (pos + 1 < len && sql[pos + 1] == q)
					pos++;
				else
					return pos + 1;
			}
		}
		return len;
	}
	if (q == '$' && (pos == 0 || !ident_char(sql[pos - 1]))) {
		size_t end = pos + 1;
		while (end < len && ident_char(sql[end]) && sql[end] != '$')
			end++;
		if (end >= len || sql[end] != '$')
			return pos;
		size_t tag = end + 1 - pos;
		for (size_t i = end + 1; i + tag <= len; i++)
			if (!memcmp(sql + i, sql + pos, tag))
				return i + tag;
		return len;
	}
	return pos;
}

/* CHECK's condition as written: the text between the parentheses after the CHECK keyword
 * at or after sql[pos] (quotes, comments and nested parentheses skipped). NULL when it
 * cannot be found; -1 in *rc when memory runs out. */
static char *check_condition(const char *sql, size_t len, size_t pos, int *rc)
{
	*rc = 0;
	while (pos < len) {
		pos = skip_space_and_comments(sql, len, pos);
		size_t q = skip_quoted(sql, len, pos);
		if (q != pos) {
			pos = q;
			continue;
		}
		if (pos + 5 <= len && !strncasecmp(sql + pos, "check", 5) &&
		    (pos + 5 == len || !ident_char(sql[pos + 5])) && (pos == 0 || !ident_char(sql[pos - 1])))
			break;
		pos++;
	}
	pos = skip_space_and_comments(sql, len, pos + 5);
	if (pos >= len || sql[pos] != '(')
		return NULL;
	size_t start = ++pos;
	int depth = 1;
	while (pos < len && depth) {
		size_t next = skip_space_and_comments(sql, len, pos);
		if (next != pos) {
			pos = next;
			continue;
		}
		size_t q = skip_quoted(sql, len, pos);
		if (q != pos) {
			pos = q;
			continue;
		}
		depth += sql[pos] == '(' ? 1 : sql[pos] == ')' ? -1 : 0;
		pos++;
	}
	if (depth)
		return NULL;
	char *out = strndup(sql + start, pos - 1 - start);
	if (!out)
		*rc = -1;
	return out;
}

/* A table constraint: {"Constraint": {...}}; sql[0..len) is the text it was parsed from. */
static int read_constraint(mig_pg_action *a, const json_t *c, const char *sql, size_t len)
{
	a->kind = MIG_PG_ACT_CONSTRAINT;
	a->contype = constraint_kind(get_str(c, "contype"));
	if (get_str(c, "conname") && !(a->conname = strdup(get_str(c, "conname"))))
		return -1;
	a->not_valid = get_bool(c, "skip_validation");
	a->using_index = get_str(c, "indexname") != NULL;
	const json_t *nt = as(json_object_get(c, "raw_expr"), "NullTest");
	if (a->contype == MIG_PG_CON_CHECK && nt &&
	    !strcmp(get_str(nt, "nulltesttype") ? get_str(nt, "nulltesttype") : "", "IS_NOT_NULL")) {
		const char *col = last_string(json_object_get(
			as(json_object_get(nt, "arg"), "ColumnRef"), "fields"));
		if (col && !(a->not_null_check = strdup(col)))
			return -1;
	}
	json_t *loc = json_object_get(c, "location");
	if (a->contype == MIG_PG_CON_CHECK && sql && json_is_integer(loc) && json_integer_value(loc) >= 0 &&
	    (size_t)json_integer_value(loc) < len) {
		int rc;
		a->check_expr = check_condition(sql, len, (size_t)json_integer_value(loc), &rc);
		if (rc < 0)
			return -1;
	}
	size_t i;
	json_t *k;
	json_array_foreach(json_object_get(c, a->contype == MIG_PG_CON_FOREIGN ? "fk_attrs" : "keys"),
			   i, k) {
		const char *col = get_str(as(k, "String"), "sval");
		if (col && mig_strlist_push(&a->keys, &a->nkeys, col) < 0)
			return -1;
	}
	return read_reference(a, c);
}

/* A column: {"ColumnDef": {...}} with its inline constraints. */
static int read_column(mig_pg_action *a, const json_t *cd)
{
	a->kind = MIG_PG_ACT_COLUMN;
	if (get_str(cd, "colname") && !(a->column = strdup(get_str(cd, "colname"))))
		return -1;
	if (read_type(&a->type, json_object_get(cd, "typeName")) < 0)
		return -1;
	if (a->type.name && (!strcmp(a->type.name, "serial") || !strcmp(a->type.name, "bigserial") ||
			     !strcmp(a->type.name, "smallserial") || !strcmp(a->type.name, "serial4") ||
			     !strcmp(a->type.name, "serial8") || !strcmp(a->type.name, "serial2"))) {
		a->has_default = a->default_volatile = true; /* nextval() */
		a->not_null = true;
	}
	size_t i;
	json_t *item;
	json_array_foreach(json_object_get(cd, "constraints"), i, item) {
		const json_t *c = as(item, "Constraint");
		const char *t = get_str(c, "contype");
		if (!t)
			continue;
		if (!strcmp(t, "CONSTR_NOTNULL"))
			a->not_null = true;
		else if (!strcmp(t, "CONSTR_DEFAULT")) {
			a->has_default = true;
			a->default_volatile = a->default_volatile ||
					      expr_volatile(json_object_get(c, "raw_expr"));
		} else if (!strcmp(t, "CONSTR_IDENTITY")) {
			a->has_default = a->default_volatile = a->not_null = true;
		} else if (!strcmp(t, "CONSTR_GENERATED")) {
			a->has_default = a->generated_stored = true;
		} else if (!strcmp(t, "CONSTR_PRIMARY")) {
			a->primary_key = a->not_null = true;
		} else if (!strcmp(t, "CONSTR_UNIQUE")) {
			a->unique = true;
		} else if (!strcmp(t, "CONSTR_FOREIGN")) {
			a->references = true;
			a->contype = MIG_PG_CON_FOREIGN;
			a->not_valid = get_bool(c, "skip_validation");
			if (!a->ref_table && read_reference(a, c) < 0)
				return -1;
		} else if (!strcmp(t, "CONSTR_CHECK")) {
			if (a->contype == MIG_PG_CON_NONE)
				a->contype = MIG_PG_CON_CHECK;
			a->not_valid = a->not_valid || get_bool(c, "skip_validation");
		}
	}
	return 0;
}

static const char *const light_subtypes[] = {
	"AT_SetStatistics", "AT_SetOptions",  "AT_ResetOptions", "AT_SetRelOptions",
	"AT_ResetRelOptions", "AT_ClusterOn", "AT_DropCluster", "AT_SetStorage", NULL};

static int read_alter_cmd(mig_pg_action *a, const json_t *cmd, const char *sql, size_t len)
{
	const char *sub = get_str(cmd, "subtype");
	const char *name = get_str(cmd, "name");
	const json_t *def = json_object_get(cmd, "def");
	if (!sub)
		return 0;
	if (!strcmp(sub, "AT_AddColumn"))
		return read_column(a, as(def, "ColumnDef"));
	if (!strcmp(sub, "AT_AddConstraint"))
		return read_constraint(a, as(def, "Constraint"), sql, len);
	if (name && !(a->column = strdup(name)))
		return -1;
	a->missing_ok = get_bool(cmd, "missing_ok");
	if (!strcmp(sub, "AT_DropColumn"))
		a->kind = MIG_PG_ACT_DROP_COLUMN;
	else if (!strcmp(sub, "AT_AlterColumnType")) {
		a->kind = MIG_PG_ACT_ALTER_TYPE;
		const json_t *cd = as(def, "ColumnDef");
		const json_t *using = json_object_get(cd, "raw_default");
		a->has_using = using != NULL;
		/* USING col::type, or CAST(col AS type): what a probe can test */
		const json_t *cast = as(using, "TypeCast");
		const json_t *fields = json_object_get(as(json_object_get(cast, "arg"), "ColumnRef"), "fields");
		const char *col = json_array_size(fields) == 1 ? last_string(fields) : NULL;
		if (col && (!(a->using_column = strdup(col)) ||
			    read_type(&a->using_type, json_object_get(cast, "typeName")) < 0))
			return -1;
		return read_type(&a->type, json_object_get(cd, "typeName"));
	} else if (!strcmp(sub, "AT_SetNotNull"))
		a->kind = MIG_PG_ACT_SET_NOT_NULL;
	else if (!strcmp(sub, "AT_ValidateConstraint")) {
		a->kind = MIG_PG_ACT_VALIDATE;
		a->conname = a->column; /* the name is the constraint's */
		a->column = NULL;
	} else if (!strcmp(sub, "AT_DropConstraint")) {
		a->kind = MIG_PG_ACT_DROP_CONSTRAINT;
		a->conname = a->column; /* the name is the constraint's */
		a->column = NULL;
	} else if (!strcmp(sub, "AT_DropNotNull"))
		a->kind = MIG_PG_ACT_DROP_NOT_NULL;
	else if (!strcmp(sub, "AT_ColumnDefault"))
		a->kind = MIG_PG_ACT_SET_DEFAULT;
	else {
		a->kind = MIG_PG_ACT_OTHER;
		for (const char *const *l = light_subtypes; *l; l++)
			if (!strcmp(sub, *l))
				a->kind = MIG_PG_ACT_LIGHT;
	}
	return 0;
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
	st->relation = range_var_name(rv);
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
	const char *fn = last_string(json_object_get(fc, "funcname"));
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
			char *name = range_var_name(v);
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
static int read_stmt(mig_pg_stmt *st, const json_t *node, const char *sql, size_t len)
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
				if (push_action(st, &a) < 0 || read_column(a, as(item, "ColumnDef")) < 0)
					return -1;
			} else if (as(item, "Constraint")) {
				if (push_action(st, &a) < 0 || read_constraint(a, as(item, "Constraint"), sql, len) < 0)
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
			char *name = qualified_name(json_object_get(as(item, "List"), "items"));
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
			if (push_action(st, &a) < 0 || read_alter_cmd(a, as(item, "AlterTableCmd"), sql, len) < 0)
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
			char *name = range_var_name(as(item, "RangeVar"));
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
		st->name = qualified_name(json_object_get(n, "typeName"));
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

/* ---- positions ---- */

/* The first byte in [pos, len) that is neither white space nor inside a comment, else len.
 * As in PostgreSQL's scanner, a -- comment ends at \n or \r. */
static size_t skip_space_and_comments(const char *sql, size_t len, size_t pos)
{
	while (pos < len) {
		char c = sql[pos];
		if (c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v') {
			pos++;
		} else if (c == '-' && pos + 1 < len && sql[pos + 1] == '-') {
			while (pos < len && sql[pos] != '\n' && sql[pos] != '\r')
				pos++;
		} else if (c == '/' && pos + 1 < len && sql[pos + 1] == '*') {
			int depth = 1;
			pos += 2;
			while (pos < len && depth) {
				if (sql[pos] == '/' && pos + 1 < len && sql[pos + 1] == '*')
					depth++, pos += 2;
				else if (sql[pos] == '*' && pos + 1 < len && sql[pos + 1] == '/')
					depth--, pos += 2;
				else
					pos++;
			}
		} else {
			break;
		}
	}
	return pos;
}

/* A parser message quotes the text near the error, which may run over lines: findings
 * and errors are one line each, so control characters become spaces. */
static void one_line(char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < ' ' || *s == 0x7f)
			*s = ' ';
}

static void line_column(const char *sql, size_t pos, unsigned *line, unsigned *column)
{
	unsigned l = 1, c = 1;
	for (size_t i = 0; i < pos; i++) {
		if (sql[i] == '\n')
			l++, c = 1;
		else if (((unsigned char)sql[i] & 0xC0) != 0x80)
			c++;
	}
	*line = l;
	*column = c;
}

/* Byte offset of the 1-based character position chars (libpg_query counts characters). */
static size_t char_to_byte(const char *sql, size_t len, int chars)
{
	size_t i = 0;
	for (int seen = 0; i < len; i++) {
		if (((unsigned char)sql[i] & 0xC0) != 0x80 && ++seen == chars)
			return i;
	}
	return len;
}

static void stmt_clear(mig_pg_stmt *st)
{
	free(st->relation);
	for (size_t i = 0; i < st->nrelations; i++)
		free(st->relations[i]);
	free(st->relations);
	free(st->name);
	free(st->value);
	for (size_t i = 0; i < st->nactions; i++) {
		mig_pg_action *a = &st->actions[i];
		free(a->column);
		free(a->type.name);
		free(a->conname);
		free(a->not_null_check);
		free(a->check_expr);
		free(a->using_column);
		free(a->using_type.name);
		for (size_t k = 0; k < a->nkeys; k++)
			free(a->keys[k]);
		free(a->keys);
		free(a->ref_table);
		for (size_t k = 0; k < a->nref_keys; k++)
			free(a->ref_keys[k]);
		free(a->ref_keys);
	}
	for (size_t i = 0; i < st->ncolumns; i++)
		free(st->columns[i]);
	free(st->columns);
	free(st->actions);
	for (size_t i = 0; i < st->nstrings; i++)
		free(st->strings[i]);
	free(st->strings);
}

void mig_pg_file_free(mig_pg_file *file)
{
	if (!file)
		return;
	for (size_t i = 0; i < file->nstmts; i++)
		stmt_clear(&file->stmts[i]);
	free(file->stmts);
	free(file);
}

/* Offset of the first byte that is not valid UTF-8, or len. */
static size_t invalid_utf8(const char *sql, size_t len)
{
	const unsigned char *s = (const unsigned char *)sql;
	for (size_t i = 0; i < len;) {
		unsigned char c = s[i];
		size_t n = c < 0x80 ? 1 : (c & 0xE0) == 0xC0 ? 2 : (c & 0xF0) == 0xE0 ? 3
						   : (c & 0xF8) == 0xF0 ? 4 : 0;
		if (!n || (n == 2 && c < 0xC2) || i + n > len)
			return i;
		for (size_t k = 1; k < n; k++)
			if ((s[i + k] & 0xC0) != 0x80)
				return i;
		if ((n == 3 && c == 0xE0 && s[i + 1] < 0xA0) || (n == 4 && c == 0xF0 && s[i + 1] < 0x90) ||
		    (n == 4 && (c > 0xF4 || (c == 0xF4 && s[i + 1] > 0x8F))) ||
		    (n == 3 && c == 0xED && s[i + 1] > 0x9F))
			return i;
		i += n;
	}
	return len;
}

/* What no PostgreSQL accepts, whatever its grammar: bytes that are not UTF-8, a NUL. */
static int check_text(mig_pg_syntax_error *syntax, const char *sql, size_t len)
{
	size_t bad = invalid_utf8(sql, len);
	if (bad < len) {
		/* a UTF-8 server refuses it too; and the parse tree could not be JSON */
		snprintf(syntax->message, sizeof syntax->message,
			 "invalid byte sequence for encoding \"UTF8\": 0x%02x",
			 (unsigned char)sql[bad]);
		line_column(sql, bad, &syntax->line, &syntax->column);
		return MIG_ESCHEMA;
	}
	if (strlen(sql) < len) {
		/* a NUL byte: PostgreSQL would stop reading there too, so say so */
		snprintf(syntax->message, sizeof syntax->message, "unexpected NUL byte");
		line_column(sql, strlen(sql), &syntax->line, &syntax->column);
		return MIG_ESCHEMA;
	}
	return MIG_OK;
}

/* The typed statements of a successful parse r of text; positions are counted in orig,
 * the file as written, of which text is a copy with whole statements blanked (or orig
 * itself). */
static int read_tree(mig_pg_file **out, mig_pg_syntax_error *syntax, PgQueryParseResult r,
		     const char *text, const char *orig, size_t len)
{
	int rc = MIG_EFAIL;
	json_t *root = json_loads(r.parse_tree, JSON_DECODE_ANY, NULL);
	mig_pg_file *file = calloc(1, sizeof *file);
	const json_t *stmts = json_object_get(root, "stmts");
	if (file && !root) {
		snprintf(syntax->message, sizeof syntax->message, "cannot read the parse tree");
		syntax->line = syntax->column = 1;
		rc = MIG_ESCHEMA;
	}
	if (!root || !file)
		goto done;
	if (json_array_size(stmts) &&
	    !(file->stmts = calloc(json_array_size(stmts), sizeof *file->stmts)))
		goto done;
	size_t i;
	json_t *raw;
	json_array_foreach(stmts, i, raw) {
		mig_pg_stmt *st = &file->stmts[file->nstmts++];
		size_t loc = (size_t)json_integer_value(json_object_get(raw, "stmt_location"));
		size_t slen = (size_t)json_integer_value(json_object_get(raw, "stmt_len"));
		if (loc > len)
			loc = len;
		if (!slen || loc + slen > len)
			slen = len - loc;
		/* in text: a blanked statement before this one is white space there */
		st->offset = skip_space_and_comments(text, loc + slen, loc);
		st->length = loc + slen - st->offset;
		line_column(orig, st->offset, &st->line, &st->column);
		if (read_stmt(st, json_object_get(raw, "stmt"), orig, len) < 0)
			goto done;
	}
	*out = file;
	file = NULL;
	rc = MIG_OK;
done:
	mig_pg_file_free(file);
	json_decref(root);
	return rc;
}

int mig_pg_parse(mig_pg_file **out, mig_pg_syntax_error *syntax, const char *sql, size_t len)
{
	*out = NULL;
	if (check_text(syntax, sql, len) < 0)
		return MIG_ESCHEMA;
	PgQueryParseResult r = pg_query_parse(sql);
	int rc;
	if (r.error) {
		snprintf(syntax->message, sizeof syntax->message, "%s", r.error->message);
		one_line(syntax->message);
		size_t at = r.error->cursorpos > 0 ? char_to_byte(sql, len, r.error->cursorpos) : len;
		line_column(sql, at, &syntax->line, &syntax->column);
		rc = MIG_ESCHEMA;
	} else {
		rc = read_tree(out, syntax, r, sql, sql, len);
	}
	pg_query_free_parse_result(r);
	return rc;
}

int mig_pg_parse_lenient(mig_pg_file **out, mig_pg_unparsed **unparsed, size_t *nunparsed,
			 mig_pg_syntax_error *syntax, const char *sql, size_t len)
{
	*out = NULL;
	*unparsed = NULL;
	*nunparsed = 0;
	if (check_text(syntax, sql, len) < 0)
		return MIG_ESCHEMA;
	mig_sql_stmt *stmts = NULL;
	size_t nstmts = 0;
	char *text = malloc(len + 1);
	bool *blanked = NULL;
	if (!text || mig_sql_split(&stmts, &nstmts, sql, len) < 0 ||
	    (nstmts && !(blanked = calloc(nstmts, sizeof *blanked)))) {
		free(text);
		free(stmts);
		return MIG_EFAIL;
	}
	memcpy(text, sql, len + 1);
	int rc = MIG_EFAIL;
	/* each round sets aside the statement the parser stopped in: at most one a statement */
	for (;;) {
		PgQueryParseResult r = pg_query_parse(text);
		if (!r.error) {
			rc = read_tree(out, syntax, r, text, sql, len);
			pg_query_free_parse_result(r);
			break;
		}
		size_t at = r.error->cursorpos > 0 ? char_to_byte(text, len, r.error->cursorpos) : len;
		size_t k = nstmts;
		while (k > 0 && stmts[k - 1].offset > at)
			k--;
		if (k == 0 || blanked[k - 1]) {
			/* not inside a statement the splitter sees: say where, as mig_pg_parse does */
			snprintf(syntax->message, sizeof syntax->message, "%s", r.error->message);
			one_line(syntax->message);
			line_column(sql, at, &syntax->line, &syntax->column);
			pg_query_free_parse_result(r);
			rc = MIG_ESCHEMA;
			break;
		}
		const mig_sql_stmt *st = &stmts[k - 1];
		mig_pg_unparsed *grown = realloc(*unparsed, (*nunparsed + 1) * sizeof *grown);
		if (!grown) {
			pg_query_free_parse_result(r);
			break;
		}
		*unparsed = grown;
		mig_pg_unparsed *u = &grown[(*nunparsed)++];
		snprintf(u->message, sizeof u->message, "%s", r.error->message);
		one_line(u->message);
		line_column(sql, st->offset, &u->line, &u->column);
		pg_query_free_parse_result(r);
		/* blanked, line breaks kept, so every later position stays where it was */
		for (size_t b = st->offset; b < st->offset + st->length && b < len; b++)
			if (text[b] != '\n')
				text[b] = ' ';
		blanked[k - 1] = true;
	}
	if (rc != MIG_OK) {
		free(*unparsed);
		*unparsed = NULL;
		*nunparsed = 0;
	}
	free(blanked);
	free(stmts);
	free(text);
	return rc;
}

int mig_pg_grammar_major(void)
{
	return PG_VERSION_NUM / 10000;
}

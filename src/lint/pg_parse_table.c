/* The parts of a table in libpg_query's parse tree, read into mig_pg_action
 * (pg_parse.h): a column with its type and inline constraints (and whether its default
 * is volatile), a table constraint, an ALTER TABLE sub-command. */
#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "lint/pg_parse.h"
#include "lint/pg_parse_private.h"
#include "util/strlist.h"

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
			const char *fn = mig_pg_last_string(json_object_get(v, "funcname"));
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
	const char *name = mig_pg_last_string(json_object_get(tn, "names"));
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

/* A foreign key's referenced table and columns (nothing for other constraints). */
static int read_reference(mig_pg_action *a, const json_t *c)
{
	const json_t *pk = json_object_get(c, "pktable");
	if (!pk)
		return 0;
	if (!(a->ref_table = mig_pg_range_var_name(pk)))
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

/* A table constraint: {"Constraint": {...}}; sql[0..len) is the text it was parsed from. */
int mig_pg_read_constraint(mig_pg_action *a, const json_t *c, const char *sql, size_t len)
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
		const char *col = mig_pg_last_string(json_object_get(
			as(json_object_get(nt, "arg"), "ColumnRef"), "fields"));
		if (col && !(a->not_null_check = strdup(col)))
			return -1;
	}
	json_t *loc = json_object_get(c, "location");
	if (a->contype == MIG_PG_CON_CHECK && sql && json_is_integer(loc) && json_integer_value(loc) >= 0 &&
	    (size_t)json_integer_value(loc) < len) {
		int rc;
		a->check_expr = mig_pg_check_condition(sql, len, (size_t)json_integer_value(loc), &rc);
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
int mig_pg_read_column(mig_pg_action *a, const json_t *cd)
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

int mig_pg_read_alter_cmd(mig_pg_action *a, const json_t *cmd, const char *sql, size_t len)
{
	const char *sub = get_str(cmd, "subtype");
	const char *name = get_str(cmd, "name");
	const json_t *def = json_object_get(cmd, "def");
	if (!sub)
		return 0;
	if (!strcmp(sub, "AT_AddColumn"))
		return mig_pg_read_column(a, as(def, "ColumnDef"));
	if (!strcmp(sub, "AT_AddConstraint"))
		return mig_pg_read_constraint(a, as(def, "Constraint"), sql, len);
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
		const char *col = json_array_size(fields) == 1 ? mig_pg_last_string(fields) : NULL;
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

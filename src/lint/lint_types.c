/* Column types as lint sees them: which changes PostgreSQL makes without a rewrite, which
 * lose values, and the type families the rules name (src/lint/lint_types.h). */
#include <stdbool.h>
#include <string.h>

#include "lint/lint_types.h"

bool mig_lint_type_is(const mig_pg_type *t, const char *name)
{
	return t->name && !strcmp(t->name, name);
}

bool mig_lint_type_is_string(const mig_pg_type *t)
{
	return mig_lint_type_is(t, "text") || mig_lint_type_is(t, "varchar") || mig_lint_type_is(t, "bpchar");
}

bool mig_lint_type_is_small_int(const mig_pg_type *t)
{
	return !t->array && (mig_lint_type_is(t, "int4") || mig_lint_type_is(t, "int2") || mig_lint_type_is(t, "int") ||
			     mig_lint_type_is(t, "integer") || mig_lint_type_is(t, "smallint"));
}

bool mig_lint_type_is_serial(const mig_pg_type *t)
{
	return mig_lint_type_is(t, "serial") || mig_lint_type_is(t, "serial4") || mig_lint_type_is(t, "bigserial") ||
	       mig_lint_type_is(t, "serial8") || mig_lint_type_is(t, "smallserial") || mig_lint_type_is(t, "serial2");
}

/* Whether changing a column from old (NULL when unknown) to new rewrites the table.
 * PostgreSQL skips the rewrite for binary-coercible changes: varchar(n) to text or to
 * a longer or unlimited varchar, text to varchar, numeric to a larger precision. */
bool mig_lint_type_change_rewrites(const mig_pg_type *old, const mig_pg_type *new, bool has_using)
{
	if (has_using)
		return true;
	if (!old) /* unknown: a change to a string type is taken for a widening */
		return !(mig_lint_type_is_string(new) && !mig_lint_type_is(new, "bpchar"));
	if (old->array != new->array)
		return true;
	if (mig_lint_type_is(new, "text"))
		return !(mig_lint_type_is(old, "varchar") || mig_lint_type_is(old, "text"));
	if (mig_lint_type_is(new, "varchar")) {
		if (mig_lint_type_is(old, "text"))
			return new->ntypmods > 0;
		if (!mig_lint_type_is(old, "varchar"))
			return true;
		return new->ntypmods && (!old->ntypmods || new->typmods[0] < old->typmods[0]);
	}
	if (mig_lint_type_is(new, "numeric") && mig_lint_type_is(old, "numeric")) {
		if (!new->ntypmods)
			return false;
		if (!old->ntypmods)
			return true;
		long old_scale = old->ntypmods > 1 ? old->typmods[1] : 0;
		long new_scale = new->ntypmods > 1 ? new->typmods[1] : 0;
		return new_scale != old_scale || new->typmods[0] < old->typmods[0];
	}
	if (mig_lint_type_is(new, "inet") && mig_lint_type_is(old, "cidr"))
		return false;
	if (!old->name || !new->name || strcmp(old->name, new->name))
		return true;
	/* the same type: only a shorter or different modifier rewrites */
	return new->ntypmods != old->ntypmods ||
	       (new->ntypmods && new->typmods[0] != old->typmods[0]);
}

/* The rank of an integer or floating type by what it holds (0: not one). */
int mig_lint_type_number_rank(const mig_pg_type *t)
{
	if (mig_lint_type_is(t, "int2") || mig_lint_type_is(t, "smallint"))
		return 1;
	if (mig_lint_type_is(t, "int4") || mig_lint_type_is(t, "int") || mig_lint_type_is(t, "integer"))
		return 2;
	if (mig_lint_type_is(t, "float4"))
		return 3;
	if (mig_lint_type_is(t, "int8") || mig_lint_type_is(t, "bigint"))
		return 4;
	if (mig_lint_type_is(t, "float8"))
		return 5;
	if (mig_lint_type_is(t, "numeric") && !t->ntypmods)
		return 6;
	return 0;
}

/* Whether a change from old (NULL when the file does not say) to new may refuse or
 * lose values the running application writes: a shorter string, a smaller number, or a
 * change to another kind of type (anything but an unbounded string). Unknown old types
 * count as narrowed by a bounded new one: varchar(n), char(n), numeric(p,s), smallint,
 * integer, real. */
bool mig_lint_type_change_narrows(const mig_pg_type *old, const mig_pg_type *new)
{
	bool unbounded_string = (mig_lint_type_is(new, "text") || mig_lint_type_is(new, "varchar")) && !new->ntypmods;
	if (!new->name || (unbounded_string && (!old || !old->array || new->array)))
		return false;
	if (!old)
		return new->ntypmods > 0 || mig_lint_type_is(new, "bpchar") || (mig_lint_type_number_rank(new) > 0 &&
		       mig_lint_type_number_rank(new) < 4);
	if (old->array != new->array)
		return true;
	if (mig_lint_type_is_string(new) && mig_lint_type_is_string(old)) {
		if (!old->ntypmods && !mig_lint_type_is(old, "bpchar"))
			return true; /* unbounded to bounded */
		return new->ntypmods && old->ntypmods && new->typmods[0] < old->typmods[0];
	}
	if (mig_lint_type_is(new, "numeric") && mig_lint_type_is(old, "numeric")) {
		if (!new->ntypmods)
			return false;
		if (!old->ntypmods)
			return true;
		long old_scale = old->ntypmods > 1 ? old->typmods[1] : 0;
		long new_scale = new->ntypmods > 1 ? new->typmods[1] : 0;
		return new_scale < old_scale || new->typmods[0] - new_scale < old->typmods[0] - old_scale;
	}
	if (mig_lint_type_is(new, "inet") && mig_lint_type_is(old, "cidr"))
		return false; /* every cidr value is an inet value */
	int a = mig_lint_type_number_rank(old), b = mig_lint_type_number_rank(new);
	if (a && b)
		return b < a || (a == 4 && b == 5); /* bigint to double loses digits */
	if (a && mig_lint_type_is(new, "numeric")) /* to numeric(p,s) */
		return true;
	if (old->name && !strcmp(old->name, new->name))
		return new->ntypmods && (!old->ntypmods || new->typmods[0] < old->typmods[0]);
	return true;
}

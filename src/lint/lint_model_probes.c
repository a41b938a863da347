/* lint --data: the probes a statement of the run needs (lint_model.h's mig_lint_probe),
 * planned from what the schema model knows of its table — the statements that fail on
 * rows already there. The backend runs them (src/postgres/pg_probe.c). */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lint/lint_model.h"
#include "lint/lint_model_private.h"
#include "lint/lint_types.h"

static const mcheck *check_of(const mig_lint_model *m, const char *table, const char *name)
{
	for (size_t i = 0; i < m->nchecks; i++)
		if (same(m->checks[i].table, table) && !strcmp(m->checks[i].name, name))
			return &m->checks[i];
	return NULL;
}

void mig_lint_model_want_probes(mig_lint_model *m)
{
	m->want_probes = true;
}

void mig_lint_model_take_probes(mig_lint_model *m, mig_lint_probe **out, size_t *n)
{
	*out = m->probes;
	*n = m->nprobes;
	m->probes = NULL;
	m->nprobes = 0;
}

void mig_lint_probes_free(mig_lint_probe *probes, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(probes[i].table);
		free(probes[i].ref_table);
		free_list(probes[i].columns, probes[i].ncolumns);
		free_list(probes[i].ref_columns, probes[i].nref_columns);
		free(probes[i].constraint);
		free(probes[i].expr);
		free(probes[i].type);
		free(probes[i].cast_type);
	}
	free(probes);
}

/* Records a probe of kind on st's table over columns (ref: a foreign key's action). */
static int probe(mig_lint_model *m, const mig_pg_stmt *st, mig_probe_kind kind,
		 char *const *columns, size_t ncolumns, const mig_pg_action *ref)
{
	const mtable *t = table_of(m, st->relation);
	if (grow(&m->probes, &m->nprobes, sizeof *m->probes) < 0)
		return -1;
	mig_lint_probe *p = &m->probes[m->nprobes - 1];
	p->kind = kind;
	p->line = st->line;
	p->column = st->column;
	if (!(p->table = strdup(st->relation)) || copy_list(&p->columns, &p->ncolumns, columns, ncolumns) < 0)
		return -1;
	for (size_t i = 0; i < ncolumns; i++) {
		const mcol *c = col_of(t, columns[i]);
		if (c && c->fresh)
			p->not_checked = "a column it needs is added by this run";
	}
	if (ref) {
		if (!(p->ref_table = strdup(bare(ref->ref_table))) ||
		    copy_list(&p->ref_columns, &p->nref_columns, ref->ref_keys, ref->nref_keys) < 0)
			return -1;
		const mtable *rt = table_of(m, ref->ref_table);
		if (rt && rt->fresh)
			p->not_checked = "the table it references is created by this run";
	}
	return 0;
}

/* A type as SQL text ("varchar(10)", "int4[]"); NULL when memory runs out. */
static char *type_sql(const mig_pg_type *t)
{
	char buf[160] = "";
	bool plain = true;
	for (const char *c = t->name; *c; c++)
		plain = plain && ((*c >= 'a' && *c <= 'z') || (*c >= '0' && *c <= '9') || *c == '_');
	if (plain) {
		snprintf(buf, sizeof buf, "%s", t->name);
	} else { /* quoted, quotes doubled */
		size_t n = 0;
		buf[n++] = '"';
		for (const char *c = t->name; *c && n + 4 < sizeof buf; c++) {
			if (*c == '"')
				buf[n++] = '"';
			buf[n++] = *c;
		}
		buf[n++] = '"';
		buf[n] = '\0';
	}
	/* interval's modifiers are a field mask, not a number written in SQL */
	for (int i = 0; i < t->ntypmods && strcmp(t->name, "interval"); i++)
		snprintf(buf + strlen(buf), sizeof buf - strlen(buf), "%s%ld%s", i ? "," : "(",
			 t->typmods[i], i + 1 == t->ntypmods ? ")" : "");
	if (t->array)
		snprintf(buf + strlen(buf), sizeof buf - strlen(buf), "[]");
	return strdup(buf);
}

/* The probe of a type change (action a of st): the rows whose value does not convert. */
static int probe_cast(mig_lint_model *m, const mig_pg_stmt *st, const mig_pg_action *a)
{
	const mcol *c = col_of(table_of(m, st->relation), a->column);
	const mig_pg_type *old = c && c->type.name ? &c->type : NULL;
	/* a widening or a change to an unbounded string converts every value */
	if (!a->type.name || (old && !a->has_using && !mig_lint_type_change_narrows(old, &a->type)))
		return 0;
	char *const cols[1] = {a->column};
	if (probe(m, st, MIG_PROBE_CAST, cols, 1, NULL) < 0)
		return -1;
	mig_lint_probe *p = &m->probes[m->nprobes - 1];
	if (!(p->type = type_sql(&a->type)))
		return -1;
	if (a->has_using && a->using_column && a->using_type.name &&
	    !strcmp(a->using_column, a->column)) {
		if (!(p->cast_type = type_sql(&a->using_type)))
			return -1;
	} else if (a->has_using && !p->not_checked) {
		p->not_checked = "its USING expression is not a cast of the column";
	}
	if (c && c->retyped && !p->not_checked)
		p->not_checked = "the column's type is changed earlier in this run";
	return 0;
}

/* The probes st needs: the statements that fail on rows already there. Tables the run
 * creates have none. */
int mig_lint_model_plan_probes(mig_lint_model *m, const mig_pg_stmt *st)
{
	const mtable *t = table_of(m, st->relation);
	if (!st->relation || (t && t->fresh))
		return 0;
	if (st->kind == MIG_PG_CREATE_INDEX)
		return st->unique && st->ncolumns && !st->has_where
			       ? probe(m, st, MIG_PROBE_UNIQUE, st->columns, st->ncolumns, NULL)
			       : 0;
	if (st->kind != MIG_PG_ALTER_TABLE)
		return 0;
	for (size_t i = 0; i < st->nactions; i++) {
		const mig_pg_action *a = &st->actions[i];
		if (a->kind == MIG_PG_ACT_SET_NOT_NULL && a->column && !added_before(st, i, a->column) &&
		    !mig_lint_model_not_null(m, st->relation, a->column)) {
			if (probe(m, st, MIG_PROBE_NOT_NULL, &a->column, 1, NULL) < 0)
				return -1;
		} else if (a->kind == MIG_PG_ACT_CONSTRAINT && !a->using_index && a->nkeys &&
			   (a->contype == MIG_PG_CON_PRIMARY || a->contype == MIG_PG_CON_UNIQUE)) {
			for (size_t k = 0; a->contype == MIG_PG_CON_PRIMARY && k < a->nkeys; k++)
				if (!mig_lint_model_not_null(m, st->relation, a->keys[k]) &&
				    probe(m, st, MIG_PROBE_NOT_NULL, &a->keys[k], 1, NULL) < 0)
					return -1;
			if (probe(m, st, MIG_PROBE_UNIQUE, a->keys, a->nkeys, NULL) < 0)
				return -1;
		} else if (a->kind == MIG_PG_ACT_CONSTRAINT && a->contype == MIG_PG_CON_FOREIGN &&
			   !a->not_valid && a->nkeys && a->ref_table) {
			if (probe(m, st, MIG_PROBE_FOREIGN, a->keys, a->nkeys, a) < 0)
				return -1;
		} else if (a->kind == MIG_PG_ACT_CONSTRAINT && a->contype == MIG_PG_CON_CHECK &&
			   !a->not_valid && a->check_expr) {
			if (probe(m, st, MIG_PROBE_CHECK, NULL, 0, NULL) < 0)
				return -1;
			mig_lint_probe *p = &m->probes[m->nprobes - 1];
			if (!(p->expr = strdup(a->check_expr)) ||
			    (a->conname && !(p->constraint = strdup(a->conname))))
				return -1;
		} else if (a->kind == MIG_PG_ACT_VALIDATE && a->conname) {
			const mcheck *ck = check_of(m, st->relation, a->conname);
			const mfk *fk = NULL;
			for (size_t k = 0; !ck && k < m->nfks && !fk; k++)
				if (same(m->fks[k].table, st->relation) && !strcmp(m->fks[k].name, a->conname))
					fk = &m->fks[k];
			if (fk) {
				mig_pg_action ref = {.ref_table = fk->ref_table, .ref_keys = fk->ref_cols,
						     .nref_keys = fk->nref_cols};
				if (probe(m, st, MIG_PROBE_FOREIGN, fk->cols, fk->ncols, &ref) < 0)
					return -1;
				continue;
			}
			if (probe(m, st, MIG_PROBE_CHECK, NULL, 0, NULL) < 0)
				return -1;
			mig_lint_probe *p = &m->probes[m->nprobes - 1];
			if (!(p->constraint = strdup(a->conname)) || (ck && !(p->expr = strdup(ck->expr))))
				return -1;
			if (!ck)
				p->not_checked = "the constraint is not known (neither the database nor an "
						 "earlier migration has it)";
		} else if (a->kind == MIG_PG_ACT_ALTER_TYPE && a->column && !added_before(st, i, a->column)) {
			if (probe_cast(m, st, a) < 0)
				return -1;
		}
	}
	return 0;
}

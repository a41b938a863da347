/* The schema model of lint_model.h, kept up to date statement by statement from the
 * typed statements of pg_parse.h: the tree's history (mig_lint_model_apply_sql), then the
 * run's statements (mig_lint_model_apply). Tables with their columns, indexes, foreign
 * keys, CHECK constraints and views; the types and lookups are in lint_model_private.h. */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lint/lint_model.h"
#include "lint/lint_model_private.h"
#include "util/error.h"
#include "util/strlist.h"

/* ---- lifetime ---- */

mig_lint_model *mig_lint_model_new(bool authoritative)
{
	mig_lint_model *m = calloc(1, sizeof *m);
	if (m)
		m->authoritative = authoritative;
	return m;
}

static void table_clear(mtable *t)
{
	free(t->name);
	for (size_t i = 0; i < t->ncols; i++) {
		free(t->cols[i].name);
		free(t->cols[i].type.name);
	}
	free(t->cols);
}

static void fk_clear(mfk *f)
{
	free(f->name);
	free(f->table);
	free_list(f->cols, f->ncols);
	free(f->ref_table);
	free_list(f->ref_cols, f->nref_cols);
}

static void view_clear(mview *v)
{
	free(v->name);
	free_list(v->tables, v->ntables);
	free_list(v->cols, v->ncols);
}

void mig_lint_model_free(mig_lint_model *m)
{
	if (!m)
		return;
	for (size_t i = 0; i < m->ntables; i++)
		table_clear(&m->tables[i]);
	free(m->tables);
	for (size_t i = 0; i < m->nindexes; i++) {
		free(m->indexes[i].name);
		free(m->indexes[i].table);
	}
	free(m->indexes);
	for (size_t i = 0; i < m->nfks; i++)
		fk_clear(&m->fks[i]);
	free(m->fks);
	for (size_t i = 0; i < m->nviews; i++)
		view_clear(&m->views[i]);
	free(m->views);
	for (size_t i = 0; i < m->nchecks; i++) {
		free(m->checks[i].name);
		free(m->checks[i].table);
		free(m->checks[i].expr);
	}
	free(m->checks);
	mig_lint_probes_free(m->probes, m->nprobes);
	free(m);
}

void mig_lint_model_set_run(mig_lint_model *m, bool in_run)
{
	if (m)
		m->in_run = in_run;
}

/* ---- lookups ---- */

const mig_pg_type *mig_lint_model_column_type(const mig_lint_model *m, const char *table,
					      const char *column)
{
	const mcol *c = m ? col_of(table_of(m, table), column) : NULL;
	return c && c->type.name ? &c->type : NULL;
}

bool mig_lint_model_not_null(const mig_lint_model *m, const char *table, const char *column)
{
	const mcol *c = m ? col_of(table_of(m, table), column) : NULL;
	return c && c->not_null;
}

bool mig_lint_model_fresh(const mig_lint_model *m, const char *name)
{
	if (!m || !name)
		return false;
	const mtable *t = table_of(m, name);
	if (t)
		return t->fresh;
	for (size_t i = 0; i < m->nindexes; i++)
		if (same(m->indexes[i].name, name))
			return m->indexes[i].fresh;
	return false;
}

/* ---- applying statements ---- */

static int add_column(mtable *t, const mig_pg_action *a, bool fresh)
{
	if (!a->column)
		return 0;
	mcol *c = col_of(t, a->column);
	if (!c) {
		if (grow(&t->cols, &t->ncols, sizeof *t->cols) < 0)
			return -1;
		c = &t->cols[t->ncols - 1];
		if (!(c->name = strdup(a->column)))
			return t->ncols--, -1;
	}
	free(c->type.name);
	c->type = a->type;
	c->type.name = a->type.name ? strdup(a->type.name) : NULL;
	c->not_null = a->not_null || a->primary_key;
	c->fresh = fresh;
	return a->type.name && !c->type.name ? -1 : 0;
}

/* A foreign key of table: a table constraint (keys) or a column's REFERENCES (column). */
static int add_fk(mig_lint_model *m, const char *table, const mig_pg_action *a)
{
	if (!a->ref_table)
		return 0;
	if (grow(&m->fks, &m->nfks, sizeof *m->fks) < 0)
		return -1;
	mfk *f = &m->fks[m->nfks - 1];
	int rc = 0;
	if (a->kind == MIG_PG_ACT_COLUMN)
		rc = a->column ? mig_strlist_push(&f->cols, &f->ncols, a->column) : 0;
	else
		rc = copy_list(&f->cols, &f->ncols, a->keys, a->nkeys);
	if (rc == 0)
		rc = copy_list(&f->ref_cols, &f->nref_cols, a->ref_keys, a->nref_keys);
	f->table = strdup(table);
	f->ref_table = strdup(a->ref_table);
	if (a->kind != MIG_PG_ACT_COLUMN && a->conname) {
		f->name = strdup(a->conname);
	} else {
		char buf[256];
		snprintf(buf, sizeof buf, "%s", bare(table));
		for (size_t i = 0; i < f->ncols; i++)
			snprintf(buf + strlen(buf), sizeof buf - strlen(buf), "_%s", f->cols[i]);
		snprintf(buf + strlen(buf), sizeof buf - strlen(buf), "_fkey");
		f->name = strdup(buf);
	}
	return rc < 0 || !f->table || !f->ref_table || !f->name ? -1 : 0;
}

static void set_not_null(mtable *t, char *const *keys, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		mcol *c = col_of(t, keys[i]);
		if (c)
			c->not_null = true;
	}
}

static void remove_fks(mig_lint_model *m, const char *table, const char *column, const char *name)
{
	size_t kept = 0;
	for (size_t i = 0; i < m->nfks; i++) {
		mfk *f = &m->fks[i];
		bool gone = name ? same(f->table, table) && !strcmp(f->name, name)
			    : column ? (same(f->table, table) && in_list(f->cols, f->ncols, column)) ||
					       (same(f->ref_table, table) &&
						in_list(f->ref_cols, f->nref_cols, column))
				     : same(f->table, table) || same(f->ref_table, table);
		if (gone)
			fk_clear(f);
		else
			m->fks[kept++] = *f;
	}
	m->nfks = kept;
}

/* Named CHECK constraints of table (all of them when name is NULL) are gone. */
static void remove_checks(mig_lint_model *m, const char *table, const char *name)
{
	size_t kept = 0;
	for (size_t i = 0; i < m->nchecks; i++) {
		mcheck *c = &m->checks[i];
		if (same(c->table, table) && (!name || !strcmp(c->name, name))) {
			free(c->name);
			free(c->table);
			free(c->expr);
		} else {
			m->checks[kept++] = *c;
		}
	}
	m->nchecks = kept;
}

static int add_check(mig_lint_model *m, const char *table, const mig_pg_action *a)
{
	if (a->contype != MIG_PG_CON_CHECK || !a->conname || !a->check_expr)
		return 0;
	remove_checks(m, table, a->conname);
	if (grow(&m->checks, &m->nchecks, sizeof *m->checks) < 0)
		return -1;
	mcheck *c = &m->checks[m->nchecks - 1];
	c->name = strdup(a->conname);
	c->table = strdup(table);
	c->expr = strdup(a->check_expr);
	return c->name && c->table && c->expr ? 0 : -1;
}

/* Views reading table (and, when column is given, using that column): CASCADE drops them. */
static void remove_views(mig_lint_model *m, const char *table, const char *column)
{
	size_t kept = 0;
	for (size_t i = 0; i < m->nviews; i++) {
		mview *v = &m->views[i];
		bool gone = in_list(v->tables, v->ntables, table) &&
			    (!column || in_list(v->cols, v->ncols, column));
		if (gone)
			view_clear(v);
		else
			m->views[kept++] = *v;
	}
	m->nviews = kept;
}

static void drop_table(mig_lint_model *m, const char *name)
{
	mtable *t = table_of(m, name);
	if (t) {
		table_clear(t);
		*t = m->tables[--m->ntables];
	}
	size_t kept = 0;
	for (size_t i = 0; i < m->nindexes; i++) {
		if (same(m->indexes[i].table, name)) {
			free(m->indexes[i].name);
			free(m->indexes[i].table);
		} else {
			m->indexes[kept++] = m->indexes[i];
		}
	}
	m->nindexes = kept;
	remove_fks(m, name, NULL, NULL);
	remove_views(m, name, NULL);
	remove_checks(m, name, NULL);
}

static int rename_in(char **list, size_t n, const char *from, const char *to)
{
	for (size_t i = 0; i < n; i++)
		if (same(list[i], from)) {
			char *s = strdup(to);
			if (!s)
				return -1;
			free(list[i]);
			list[i] = s;
		}
	return 0;
}

static int replace(char **slot, const char *to)
{
	char *s = strdup(to);
	if (!s)
		return -1;
	free(*slot);
	*slot = s;
	return 0;
}

static int rename_table(mig_lint_model *m, const char *from, const char *to)
{
	mtable *t = table_of(m, from);
	if (t && replace(&t->name, to) < 0)
		return -1;
	for (size_t i = 0; i < m->nindexes; i++)
		if (same(m->indexes[i].table, from) && replace(&m->indexes[i].table, to) < 0)
			return -1;
	for (size_t i = 0; i < m->nfks; i++) {
		if (same(m->fks[i].table, from) && replace(&m->fks[i].table, to) < 0)
			return -1;
		if (same(m->fks[i].ref_table, from) && replace(&m->fks[i].ref_table, to) < 0)
			return -1;
	}
	for (size_t i = 0; i < m->nviews; i++)
		if (rename_in(m->views[i].tables, m->views[i].ntables, from, to) < 0)
			return -1;
	for (size_t i = 0; i < m->nchecks; i++)
		if (same(m->checks[i].table, from) && replace(&m->checks[i].table, to) < 0)
			return -1;
	return 0;
}

static int rename_column(mig_lint_model *m, const char *table, const char *from, const char *to)
{
	mcol *c = col_of(table_of(m, table), from);
	if (c && replace(&c->name, to) < 0)
		return -1;
	for (size_t i = 0; i < m->nfks; i++) {
		mfk *f = &m->fks[i];
		if (same(f->table, table) && rename_in(f->cols, f->ncols, from, to) < 0)
			return -1;
		if (same(f->ref_table, table) && rename_in(f->ref_cols, f->nref_cols, from, to) < 0)
			return -1;
	}
	for (size_t i = 0; i < m->nviews; i++)
		if (in_list(m->views[i].tables, m->views[i].ntables, table) &&
		    rename_in(m->views[i].cols, m->views[i].ncols, from, to) < 0)
			return -1;
	return 0;
}

static int create_table(mig_lint_model *m, const mig_pg_stmt *st)
{
	if (table_of(m, st->relation))
		return 0; /* CREATE TABLE IF NOT EXISTS, or it fails */
	if (grow(&m->tables, &m->ntables, sizeof *m->tables) < 0)
		return -1;
	mtable *t = &m->tables[m->ntables - 1];
	if (!(t->name = strdup(st->relation))) {
		m->ntables--;
		return -1;
	}
	t->complete = !st->opaque;
	t->fresh = m->in_run;
	for (size_t i = 0; i < st->nactions; i++) {
		const mig_pg_action *a = &st->actions[i];
		if (a->kind == MIG_PG_ACT_COLUMN && add_column(t, a, m->in_run) < 0)
			return -1;
	}
	for (size_t i = 0; i < st->nactions; i++) {
		const mig_pg_action *a = &st->actions[i];
		if (a->kind == MIG_PG_ACT_CONSTRAINT && a->contype == MIG_PG_CON_PRIMARY)
			set_not_null(t, a->keys, a->nkeys);
		if ((a->kind == MIG_PG_ACT_COLUMN || a->kind == MIG_PG_ACT_CONSTRAINT) &&
		    add_fk(m, st->relation, a) < 0)
			return -1;
		if (a->kind == MIG_PG_ACT_CONSTRAINT && add_check(m, st->relation, a) < 0)
			return -1;
	}
	return 0;
}

static int create_view(mig_lint_model *m, const mig_pg_stmt *st)
{
	mview *v = view_of(m, st->relation);
	if (v) { /* CREATE OR REPLACE */
		view_clear(v);
		memset(v, 0, sizeof *v);
	} else {
		if (grow(&m->views, &m->nviews, sizeof *m->views) < 0)
			return -1;
		v = &m->views[m->nviews - 1];
	}
	if (!(v->name = strdup(st->relation)) ||
	    copy_list(&v->tables, &v->ntables, st->relations, st->nrelations) < 0 ||
	    copy_list(&v->cols, &v->ncols, st->columns, st->ncolumns) < 0)
		return -1;
	for (size_t i = 0; st->star && i < st->nrelations; i++) {
		const mtable *t = table_of(m, st->relations[i]);
		for (size_t k = 0; t && k < t->ncols; k++)
			if (!in_list(v->cols, v->ncols, t->cols[k].name) &&
			    mig_strlist_push(&v->cols, &v->ncols, t->cols[k].name) < 0)
				return -1;
	}
	return 0;
}

static int alter_table(mig_lint_model *m, const mig_pg_stmt *st)
{
	mtable *t = table_of(m, st->relation);
	for (size_t i = 0; i < st->nactions; i++) {
		const mig_pg_action *a = &st->actions[i];
		mcol *c = col_of(t, a->column);
		switch (a->kind) {
		case MIG_PG_ACT_COLUMN:
			if ((t && add_column(t, a, m->in_run) < 0) || add_fk(m, st->relation, a) < 0)
				return -1;
			break;
		case MIG_PG_ACT_DROP_COLUMN:
			if (c) {
				free(c->name);
				free(c->type.name);
				*c = t->cols[--t->ncols];
			}
			if (a->column) {
				remove_fks(m, st->relation, a->column, NULL);
				remove_views(m, st->relation, a->column);
			}
			break;
		case MIG_PG_ACT_ALTER_TYPE:
			if (c) {
				char *name = a->type.name ? strdup(a->type.name) : NULL;
				if (a->type.name && !name)
					return -1;
				free(c->type.name);
				c->type = a->type;
				c->type.name = name;
				c->retyped = c->retyped || m->in_run;
			}
			break;
		case MIG_PG_ACT_SET_NOT_NULL:
		case MIG_PG_ACT_DROP_NOT_NULL:
			if (c)
				c->not_null = a->kind == MIG_PG_ACT_SET_NOT_NULL;
			break;
		case MIG_PG_ACT_CONSTRAINT:
			if (t && a->contype == MIG_PG_CON_PRIMARY)
				set_not_null(t, a->keys, a->nkeys);
			if (a->contype == MIG_PG_CON_FOREIGN && add_fk(m, st->relation, a) < 0)
				return -1;
			if (add_check(m, st->relation, a) < 0)
				return -1;
			break;
		case MIG_PG_ACT_DROP_CONSTRAINT:
			if (a->conname) {
				remove_fks(m, st->relation, NULL, a->conname);
				remove_checks(m, st->relation, a->conname);
			}
			break;
		default:
			break;
		}
	}
	return 0;
}

int mig_lint_model_apply(mig_lint_model *m, const mig_pg_stmt *st)
{
	if (st->opaque && st->kind != MIG_PG_CREATE_TABLE)
		m->authoritative = false; /* DO, CALL ...: what they create is unknown */
	switch (st->kind) {
	case MIG_PG_CREATE_TABLE:
		return st->relation ? create_table(m, st) : 0;
	case MIG_PG_CREATE_VIEW:
		return st->relation ? create_view(m, st) : 0;
	case MIG_PG_CREATE_INDEX:
		if (!st->name || !st->relation)
			return 0;
		if (grow(&m->indexes, &m->nindexes, sizeof *m->indexes) < 0)
			return -1;
		m->indexes[m->nindexes - 1].fresh = m->in_run;
		if (!(m->indexes[m->nindexes - 1].name = strdup(st->name)) ||
		    !(m->indexes[m->nindexes - 1].table = strdup(st->relation)))
			return -1;
		return 0;
	case MIG_PG_DROP_INDEX:
		for (size_t k = 0; k < st->nrelations; k++)
			for (size_t i = 0; i < m->nindexes; i++)
				if (same(m->indexes[i].name, st->relations[k])) {
					free(m->indexes[i].name);
					free(m->indexes[i].table);
					m->indexes[i--] = m->indexes[--m->nindexes];
				}
		return 0;
	case MIG_PG_DROP_TABLE:
		for (size_t k = 0; k < st->nrelations; k++)
			drop_table(m, st->relations[k]);
		return 0;
	case MIG_PG_DROP_VIEW:
		for (size_t k = 0; k < st->nrelations; k++) {
			mview *v = view_of(m, st->relations[k]);
			if (v) {
				view_clear(v);
				*v = m->views[--m->nviews];
			}
			remove_views(m, st->relations[k], NULL); /* views on it: CASCADE */
		}
		return 0;
	case MIG_PG_ALTER_TABLE:
		return st->relation ? alter_table(m, st) : 0;
	case MIG_PG_RENAME_TABLE:
		return st->relation && st->name ? rename_table(m, st->relation, st->name) : 0;
	case MIG_PG_RENAME_COLUMN:
		return st->relation && st->name && st->nactions && st->actions[0].column
			       ? rename_column(m, st->relation, st->actions[0].column, st->name)
			       : 0;
	default:
		return 0;
	}
}

int mig_lint_model_apply_sql(mig_lint_model *m, const char *sql, size_t len)
{
	mig_pg_file *file = NULL;
	mig_pg_syntax_error syntax;
	int rc = mig_pg_parse(&file, &syntax, sql, len);
	if (rc == MIG_ESCHEMA) {
		m->authoritative = false;
		return MIG_OK;
	}
	if (rc < 0)
		return rc;
	for (size_t i = 0; i < file->nstmts && rc == MIG_OK; i++)
		if (mig_lint_model_apply(m, &file->stmts[i]) < 0)
			rc = MIG_EFAIL;
	mig_pg_file_free(file);
	return rc;
}

/* The schema model of lint_model.h: tables with their columns, indexes, foreign keys and
 * views, kept up to date statement by statement from the typed statements of pg_parse.h.
 * Names are compared as written, with "public." taken off (the default search_path). */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lint/lint_model.h"
#include "lint/lint_types.h"
#include "util/error.h"
#include "util/strlist.h"

typedef struct mcol {
	char *name;
	mig_pg_type type; /* name owned */
	bool not_null;
	bool fresh;       /* added by the run */
	bool retyped;     /* its type changed by the run */
} mcol;

typedef struct mtable {
	char *name;
	mcol *cols;
	size_t ncols;
	bool complete; /* every column is known (not LIKE, AS SELECT, INHERITS, OF ...) */
	bool fresh;    /* created by the run */
} mtable;

typedef struct mindex {
	char *name, *table;
	bool fresh;
} mindex;

typedef struct mfk {
	char *name;  /* as PostgreSQL names it when unnamed: <table>_<cols>_fkey */
	char *table; /* the referencing table */
	char **cols;
	size_t ncols;
	char *ref_table;
	char **ref_cols; /* none: the referenced table's primary key */
	size_t nref_cols;
} mfk;

typedef struct mcheck {
	char *name, *table;
	char *expr; /* the condition as written */
} mcheck;

typedef struct mview {
	char *name;
	char **tables; /* what it reads */
	size_t ntables;
	char **cols;   /* the column names it uses (with `*`, every column then present) */
	size_t ncols;
} mview;

struct mig_lint_model {
	bool authoritative, in_run, want_probes;
	mig_lint_probe *probes;
	size_t nprobes;
	mtable *tables;
	size_t ntables;
	mindex *indexes;
	size_t nindexes;
	mfk *fks;
	size_t nfks;
	mview *views;
	size_t nviews;
	mcheck *checks;
	size_t nchecks;
	bool catalog; /* the base is the database's catalog, not the tree's history */
};

static const char *bare(const char *name)
{
	return name && !strncmp(name, "public.", 7) ? name + 7 : name;
}

static bool same(const char *a, const char *b)
{
	return a && b && !strcmp(bare(a), bare(b));
}

static bool in_list(char *const *list, size_t n, const char *s)
{
	for (size_t i = 0; i < n; i++)
		if (same(list[i], s))
			return true;
	return false;
}

static void free_list(char **list, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(list[i]);
	free(list);
}

static int grow(void *ptr, size_t *n, size_t size)
{
	void **p = ptr;
	void *grown = realloc(*p, (*n + 1) * size);
	if (!grown)
		return -1;
	*p = grown;
	memset((char *)grown + *n * size, 0, size);
	(*n)++;
	return 0;
}

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

static mtable *table_of(const mig_lint_model *m, const char *name)
{
	for (size_t i = 0; name && i < m->ntables; i++)
		if (same(m->tables[i].name, name))
			return &m->tables[i];
	return NULL;
}

static mview *view_of(const mig_lint_model *m, const char *name)
{
	for (size_t i = 0; name && i < m->nviews; i++)
		if (same(m->views[i].name, name))
			return &m->views[i];
	return NULL;
}

static mcol *col_of(const mtable *t, const char *name)
{
	for (size_t i = 0; t && name && i < t->ncols; i++)
		if (!strcmp(t->cols[i].name, name))
			return &t->cols[i];
	return NULL;
}

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

static int copy_list(char ***to, size_t *n, char *const *from, size_t count)
{
	for (size_t i = 0; i < count; i++)
		if (mig_strlist_push(to, n, from[i]) < 0)
			return -1;
	return 0;
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

static const mcheck *check_of(const mig_lint_model *m, const char *table, const char *name)
{
	for (size_t i = 0; i < m->nchecks; i++)
		if (same(m->checks[i].table, table) && !strcmp(m->checks[i].name, name))
			return &m->checks[i];
	return NULL;
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

/* ---- the live database's schema ---- */

typedef struct sbuf {
	char *s;
	size_t len, cap;
	bool oom;
} sbuf;

static void sput(sbuf *b, const char *text, size_t n)
{
	if (b->oom)
		return;
	if (b->len + n + 1 > b->cap) {
		size_t cap = (b->cap ? 2 * b->cap : 4096) + n;
		char *grown = realloc(b->s, cap);
		if (!grown) {
			b->oom = true;
			return;
		}
		b->s = grown;
		b->cap = cap;
	}
	memcpy(b->s + b->len, text, n);
	b->len += n;
	b->s[b->len] = '\0';
}

static void sputs(sbuf *b, const char *text)
{
	sput(b, text, strlen(text));
}

/* "ident", doubling quotes */
static void sput_ident(sbuf *b, const char *ident, size_t n)
{
	sputs(b, "\"");
	for (size_t i = 0; i < n; i++)
		sput(b, ident[i] == '"' ? "\"\"" : ident + i, ident[i] == '"' ? 2 : 1);
	sputs(b, "\"");
}

static const char *snap_attr(const mig_snap_object *o, const char *key)
{
	for (size_t i = 0; i < o->nattrs; i++)
		if (!strcmp(o->attrs[i].key, key))
			return o->attrs[i].value;
	return NULL;
}

/* The relation name of an object of schema as migrations write it: `"table"`, or
 * `"schema"."table"` outside the default schema. */
static void sput_rel(sbuf *b, const char *schema, const char *name, size_t n,
		     const char *default_schema)
{
	if (strcmp(schema, "public") && strcmp(schema, default_schema)) {
		sput_ident(b, schema, strlen(schema));
		sputs(b, ".");
	}
	sput_ident(b, name, n);
}

/* The table (one of tables[0..ntables), indexes of snap's tables) that a column,
 * constraint or index named "table.rest" belongs to: its index in tables, or ntables. */
static size_t owner_table(const mig_snapshot *snap, const size_t *tables, size_t ntables,
			  const mig_snap_object *o)
{
	size_t best = ntables, best_len = 0;
	for (size_t i = 0; i < ntables; i++) {
		const mig_snap_object *t = &snap->objects[tables[i]];
		size_t n = strlen(t->name);
		if (n > best_len && !strncmp(o->name, t->name, n) && o->name[n] == '.' &&
		    !strcmp(t->schema, o->schema))
			best = i, best_len = n;
	}
	return best;
}

int mig_lint_model_apply_snapshot(mig_lint_model *m, const mig_snapshot *snap,
				  const char *default_schema, bool authoritative)
{
	sbuf b = {0};
	if (!default_schema)
		default_schema = "public";
	size_t ntables = 0, *tables = calloc(snap->nobjects + 1, sizeof *tables);
	size_t *owner = calloc(snap->nobjects + 1, sizeof *owner);
	if (!tables || !owner) {
		free(tables);
		free(owner);
		return MIG_EFAIL;
	}
	for (size_t i = 0; i < snap->nobjects; i++)
		if (!strcmp(snap->objects[i].type, "table"))
			tables[ntables++] = i;
	for (size_t i = 0; i < snap->nobjects; i++) {
		const char *type = snap->objects[i].type;
		owner[i] = !strcmp(type, "column") || !strcmp(type, "constraint")
				   ? owner_table(snap, tables, ntables, &snap->objects[i])
				   : ntables;
	}
	/* tables with their columns */
	for (size_t i = 0; i < ntables; i++) {
		const mig_snap_object *t = &snap->objects[tables[i]];
		size_t n = strlen(t->name), cols = 0;
		sputs(&b, "CREATE TABLE ");
		sput_rel(&b, t->schema, t->name, n, default_schema);
		sputs(&b, " (");
		for (size_t k = 0; k < snap->nobjects; k++) {
			const mig_snap_object *c = &snap->objects[k];
			const char *type = snap_attr(c, "type"), *nn = snap_attr(c, "not_null");
			if (owner[k] != i || strcmp(c->type, "column") || !type)
				continue;
			sputs(&b, cols++ ? ", " : "");
			sput_ident(&b, c->name + n + 1, strlen(c->name + n + 1));
			sputs(&b, " ");
			sputs(&b, type);
			if (nn && !strcmp(nn, "true"))
				sputs(&b, " NOT NULL");
		}
		sputs(&b, ");\n");
	}
	/* constraints, then indexes and views (definitions as the server prints them) */
	for (size_t i = 0; i < snap->nobjects; i++) {
		const mig_snap_object *o = &snap->objects[i];
		const char *def = snap_attr(o, "definition");
		if (!def)
			continue;
		if (!strcmp(o->type, "constraint")) {
			if (owner[i] == ntables)
				continue; /* a domain's */
			size_t n = strlen(snap->objects[tables[owner[i]]].name);
			sputs(&b, "ALTER TABLE ");
			sput_rel(&b, o->schema, o->name, n, default_schema);
			sputs(&b, " ADD CONSTRAINT ");
			sput_ident(&b, o->name + n + 1, strlen(o->name + n + 1));
			sputs(&b, " ");
			sputs(&b, def);
			sputs(&b, ";\n");
		} else if (!strcmp(o->type, "index")) {
			sputs(&b, def);
			sputs(&b, ";\n");
		} else if (!strcmp(o->type, "view")) {
			sputs(&b, "CREATE VIEW ");
			sput_rel(&b, o->schema, o->name, strlen(o->name), default_schema);
			sputs(&b, " AS ");
			size_t len = strlen(def);
			while (len && (def[len - 1] == ';' || def[len - 1] == ' ' || def[len - 1] == '\n'))
				len--;
			sput(&b, def, len);
			sputs(&b, ";\n");
		}
	}
	free(tables);
	free(owner);
	if (b.oom) {
		free(b.s);
		return MIG_EFAIL;
	}
	int rc = MIG_OK;
	bool in_run = m->in_run;
	m->in_run = false;
	if (b.s) {
		mig_pg_file *file = NULL;
		mig_pg_unparsed *unparsed = NULL;
		size_t nunparsed = 0;
		mig_pg_syntax_error syntax;
		rc = mig_pg_parse_lenient(&file, &unparsed, &nunparsed, &syntax, b.s, b.len);
		free(unparsed);
		if (rc == MIG_ESCHEMA)
			rc = MIG_OK; /* nothing read: the history alone */
		for (size_t i = 0; file && i < file->nstmts && rc == MIG_OK; i++)
			if (mig_lint_model_apply(m, &file->stmts[i]) < 0)
				rc = MIG_EFAIL;
		mig_pg_file_free(file);
	}
	free(b.s);
	m->in_run = in_run;
	m->authoritative = authoritative;
	m->catalog = true;
	return rc;
}

static bool added_before(const mig_pg_stmt *st, size_t before, const char *column);

/* ---- lint --data: the probes a statement needs ---- */

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
static int plan_probes(mig_lint_model *m, const mig_pg_stmt *st)
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

/* ---- findings ---- */

static int finding(mig_lint_result *out, const char *rule, const mig_pg_stmt *st,
		   const char *table, const char *fmt, ...) __attribute__((format(printf, 5, 6)));
static int finding(mig_lint_result *out, const char *rule, const mig_pg_stmt *st,
		   const char *table, const char *fmt, ...)
{
	mig_lint_finding *grown = realloc(out->findings, (out->nfindings + 1) * sizeof *grown);
	if (!grown)
		return -1;
	out->findings = grown;
	mig_lint_finding *f = memset(&grown[out->nfindings], 0, sizeof *f);
	f->rule = mig_lint_rule_find(rule);
	f->line = st->line;
	f->column = st->column;
	f->rows = -1;
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	f->message = n >= 0 ? malloc((size_t)n + 1) : NULL;
	if (f->message) {
		va_start(ap, fmt);
		vsnprintf(f->message, (size_t)n + 1, fmt, ap);
		va_end(ap);
	}
	f->table = table ? strdup(table) : NULL;
	if (!f->rule || !f->message || (table && !f->table)) {
		free(f->message);
		free(f->table);
		return -1;
	}
	out->nfindings++;
	return 0;
}

/* Appends ", " or " and " then text to buf. */
static void list_append(char *buf, size_t size, size_t index, size_t total, const char *text)
{
	size_t n = strlen(buf);
	if (index)
		snprintf(buf + n, size - n, "%s", index + 1 == total ? " and " : ", ");
	n = strlen(buf);
	snprintf(buf + n, size - n, "%s", text);
}

/* What depends on table (column NULL) or on table.column, other than the objects in
 * `except` (dropped by the same statement): views and foreign keys of other tables.
 * Written into buf; 0 when nothing does. */
static size_t dependents(const mig_lint_model *m, const char *table, const char *column,
			 char *const *except, size_t nexcept, char *buf, size_t size)
{
	size_t total = 0, k = 0;
	char item[320];
	buf[0] = '\0';
	for (int pass = 0; pass < 2; pass++) {
		for (size_t i = 0; i < m->nviews; i++) {
			const mview *v = &m->views[i];
			if (!in_list(v->tables, v->ntables, table) || in_list(except, nexcept, v->name) ||
			    (column && !in_list(v->cols, v->ncols, column)))
				continue;
			if (pass == 0) {
				total++;
			} else {
				snprintf(item, sizeof item, "view \"%s\"", v->name);
				list_append(buf, size, k++, total, item);
			}
		}
		for (size_t i = 0; i < m->nfks; i++) {
			const mfk *f = &m->fks[i];
			if (!same(f->ref_table, table) || same(f->table, table) ||
			    in_list(except, nexcept, f->table) ||
			    (column && !in_list(f->ref_cols, f->nref_cols, column)))
				continue;
			if (pass == 0) {
				total++;
			} else {
				snprintf(item, sizeof item, "foreign key %s of \"%s\"", f->name, f->table);
				list_append(buf, size, k++, total, item);
			}
		}
	}
	return total;
}

/* Whether the column is added by an action of st before action `before`. */
static bool added_before(const mig_pg_stmt *st, size_t before, const char *column)
{
	for (size_t i = 0; i < before; i++)
		if (st->actions[i].kind == MIG_PG_ACT_COLUMN && st->actions[i].column &&
		    !strcmp(st->actions[i].column, column))
			return true;
	return false;
}

/* Why an object the model lacks does not exist, for messages. */
static const char *nowhere(const mig_lint_model *m)
{
	return m->catalog ? "the database has none and no earlier statement of the run creates it"
			  : "no earlier migration creates it";
}

static const char *const action_verbs[] = {
	[MIG_PG_ACT_DROP_COLUMN] = "DROP COLUMN",   [MIG_PG_ACT_ALTER_TYPE] = "ALTER COLUMN TYPE",
	[MIG_PG_ACT_SET_NOT_NULL] = "SET NOT NULL", [MIG_PG_ACT_DROP_NOT_NULL] = "DROP NOT NULL",
	[MIG_PG_ACT_SET_DEFAULT] = "ALTER COLUMN DEFAULT",
};

static int check_alter(const mig_lint_model *m, const mig_pg_stmt *st, mig_lint_result *out)
{
	const mtable *t = table_of(m, st->relation);
	char deps[1024];
	for (size_t i = 0; t && i < st->nactions; i++) {
		const mig_pg_action *a = &st->actions[i];
		if (a->kind >= sizeof action_verbs / sizeof *action_verbs || !action_verbs[a->kind] ||
		    !a->column)
			continue;
		if (!col_of(t, a->column)) {
			if (!t->complete || a->missing_ok || added_before(st, i, a->column))
				continue;
			if (finding(out, "unknown-object", st, NULL,
				    "%s \"%s\": table \"%s\" has no column \"%s\" (%s): the statement fails",
				    action_verbs[a->kind], a->column, st->relation, a->column,
				    m->catalog ? "not in the database, nor added earlier in the run"
					       : "none of the earlier migrations adds it") < 0)
				return -1;
			continue;
		}
		if (a->kind == MIG_PG_ACT_DROP_COLUMN &&
		    dependents(m, st->relation, a->column, NULL, 0, deps, sizeof deps) &&
		    finding(out, "drop-with-dependents", st, st->relation,
			    "dropping column \"%s\" of \"%s\": %s depend%s on it (it fails; with CASCADE "
			    "they are dropped too)",
			    a->column, st->relation, deps, strstr(deps, " and ") ? "" : "s") < 0)
			return -1;
	}
	return 0;
}

int mig_lint_model_check(mig_lint_model *m, const mig_pg_stmt *st, mig_lint_result *out)
{
	char deps[1024];
	if (m->want_probes && plan_probes(m, st) < 0)
		return -1;
	switch (st->kind) {
	case MIG_PG_ALTER_TABLE:
		if (!st->relation)
			return 0;
		if (!table_of(m, st->relation)) {
			if (m->authoritative && !st->missing_ok && !st->temp)
				return finding(out, "unknown-object", st, st->relation,
					       "ALTER TABLE \"%s\": %s: the statement fails", st->relation,
					       nowhere(m));
			return 0;
		}
		return check_alter(m, st, out);
	case MIG_PG_RENAME_TABLE:
	case MIG_PG_RENAME_COLUMN: {
		if (!st->relation || st->missing_ok)
			return 0;
		const mtable *t = table_of(m, st->relation);
		if (!t)
			return m->authoritative
				       ? finding(out, "unknown-object", st, st->relation,
						 "RENAME of \"%s\": %s: the statement fails", st->relation,
						 nowhere(m))
				       : 0;
		const char *col = st->nactions ? st->actions[0].column : NULL;
		if (st->kind == MIG_PG_RENAME_COLUMN && col && t->complete && !col_of(t, col))
			return finding(out, "unknown-object", st, NULL,
				       "RENAME COLUMN \"%s\": table \"%s\" has no column \"%s\" (%s): the "
				       "statement fails", col, st->relation, col,
				       m->catalog ? "not in the database, nor added earlier in the run"
						  : "none of the earlier migrations adds it");
		return 0;
	}
	case MIG_PG_DROP_TABLE:
	case MIG_PG_DROP_VIEW: {
		bool view = st->kind == MIG_PG_DROP_VIEW;
		for (size_t i = 0; i < st->nrelations; i++) {
			const char *name = st->relations[i];
			bool known = view ? view_of(m, name) != NULL : table_of(m, name) != NULL;
			if (!known) {
				if (m->authoritative && !st->missing_ok &&
				    finding(out, "unknown-object", st, view ? NULL : name,
					    "DROP %s \"%s\": %s: the statement fails",
					    view ? "VIEW" : "TABLE", name, nowhere(m)) < 0)
					return -1;
				continue;
			}
			if (dependents(m, name, NULL, st->relations, st->nrelations, deps, sizeof deps) &&
			    finding(out, "drop-with-dependents", st, view ? NULL : name,
				    "dropping %s \"%s\": %s depend%s on it (it fails; with CASCADE they "
				    "are dropped too)",
				    view ? "view" : "table", name, deps,
				    strstr(deps, " and ") ? "" : "s") < 0)
				return -1;
		}
		return 0;
	}
	default:
		return 0;
	}
}

/* Private to src/lint/'s schema model (lint_model.h): the model's own types and the
 * small lookups its four files share — lint_model.c (the model kept up to date by
 * replaying statements: the tree's history, then the run), lint_model_catalog.c (the
 * model read from a live database's snapshot), lint_model_probes.c (`lint --data`'s
 * probes) and lint_model_check.c (the findings only the model can make).
 * Names are compared as written, with "public." taken off (the default search_path). */
#ifndef MIGRATE_LINT_MODEL_PRIVATE_H
#define MIGRATE_LINT_MODEL_PRIVATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "lint/lint_model.h"
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

static inline const char *bare(const char *name)
{
	return name && !strncmp(name, "public.", 7) ? name + 7 : name;
}

static inline bool same(const char *a, const char *b)
{
	return a && b && !strcmp(bare(a), bare(b));
}

static inline bool in_list(char *const *list, size_t n, const char *s)
{
	for (size_t i = 0; i < n; i++)
		if (same(list[i], s))
			return true;
	return false;
}

static inline void free_list(char **list, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(list[i]);
	free(list);
}

static inline int grow(void *ptr, size_t *n, size_t size)
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

static inline mtable *table_of(const mig_lint_model *m, const char *name)
{
	for (size_t i = 0; name && i < m->ntables; i++)
		if (same(m->tables[i].name, name))
			return &m->tables[i];
	return NULL;
}

static inline mview *view_of(const mig_lint_model *m, const char *name)
{
	for (size_t i = 0; name && i < m->nviews; i++)
		if (same(m->views[i].name, name))
			return &m->views[i];
	return NULL;
}

static inline mcol *col_of(const mtable *t, const char *name)
{
	for (size_t i = 0; t && name && i < t->ncols; i++)
		if (!strcmp(t->cols[i].name, name))
			return &t->cols[i];
	return NULL;
}

static inline int copy_list(char ***to, size_t *n, char *const *from, size_t count)
{
	for (size_t i = 0; i < count; i++)
		if (mig_strlist_push(to, n, from[i]) < 0)
			return -1;
	return 0;
}

/* Whether the column is added by an action of st before action `before`. */
static inline bool added_before(const mig_pg_stmt *st, size_t before, const char *column)
{
	for (size_t i = 0; i < before; i++)
		if (st->actions[i].kind == MIG_PG_ACT_COLUMN && st->actions[i].column &&
		    !strcmp(st->actions[i].column, column))
			return true;
	return false;
}

/* lint_model_probes.c: records the probes st needs (lint --data); -1 when memory runs out. */
int mig_lint_model_plan_probes(mig_lint_model *m, const mig_pg_stmt *st);

#endif

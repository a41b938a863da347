/* The findings only the schema model can make (lint_model.h's mig_lint_model_check),
 * before a statement runs: an object it names that does not exist (unknown-object), a
 * drop that views or foreign keys of other tables depend on (drop-with-dependents). */
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lint/lint_model.h"
#include "lint/lint_model_private.h"

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
	if (m->want_probes && mig_lint_model_plan_probes(m, st) < 0)
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

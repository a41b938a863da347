/* The lint rule engine: walks a file's statements in order, remembering what the file
 * itself created, validated and set, and records a finding for each statement that would
 * lock, rewrite or break an existing table; then drops what `-- migrate:lint-ignore`
 * comments suppress (read by lint_ignore.c). The rules themselves are data:
 * src/lint/lint_rules.c. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "lint/lint.h"
#include "lint/lint_model.h"
#include "lint/lint_private.h"
#include "lint/lint_rules.h"
#include "lint/lint_types.h"
#include "lint/pg_parse.h"
#include "util/strlist.h"

/* ---- what the file has done so far ---- */

/* "public.users" and "users" are the same table for this purpose. */
static const char *bare(const char *name)
{
	return strncmp(name, "public.", 7) ? name : name + 7;
}

static bool created(const walk *w, const char *name)
{
	if (!name)
		return false;
	for (size_t i = 0; i < w->ncreated; i++)
		if (!strcmp(bare(w->created[i]), bare(name)))
			return true;
	return mig_lint_model_fresh(w->ctx->model, name); /* by an earlier file of the run */
}

void mig_lint_remember(walk *w, char ***list, size_t *n, const char *s)
{
	if (mig_strlist_push(list, n, s) < 0)
		w->oom = true;
}

static char *vformat(const char *fmt, va_list ap)
{
	va_list copy;
	va_copy(copy, ap);
	int n = vsnprintf(NULL, 0, fmt, copy);
	va_end(copy);
	char *s = n >= 0 ? malloc((size_t)n + 1) : NULL;
	if (s)
		vsnprintf(s, (size_t)n + 1, fmt, ap);
	return s;
}

static char *format(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static char *format(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	char *s = vformat(fmt, ap);
	va_end(ap);
	return s;
}

/* What a lock mode blocks, for people. */
static const char *blocks(const char *mode)
{
	if (!strcmp(mode, "ACCESS EXCLUSIVE"))
		return "blocks reads and writes";
	if (!strcmp(mode, "SHARE UPDATE EXCLUSIVE"))
		return "blocks schema changes and VACUUM, not reads or writes";
	if (!strcmp(mode, "ROW EXCLUSIVE"))
		return "blocks writes to every row it touches";
	return "blocks writes"; /* SHARE, SHARE ROW EXCLUSIVE, EXCLUSIVE */
}

/* Adds a finding at st for rule on table (NULL when about no table). */
void mig_lint_add(walk *w, const mig_pg_stmt *st, int rule, const char *lock_mode, const char *table,
		  const char *fmt, ...)
{
	mig_lint_result *r = w->out;
	mig_lint_finding *grown = realloc(r->findings, (r->nfindings + 1) * sizeof *grown);
	if (!grown) {
		w->oom = true;
		return;
	}
	r->findings = grown;
	mig_lint_finding *f = memset(&grown[r->nfindings], 0, sizeof *f);
	f->rule = &mig_lint_rules[rule];
	f->line = st->line;
	f->column = st->column;
	f->rows = -1;
	va_list ap;
	va_start(ap, fmt);
	f->message = vformat(fmt, ap);
	va_end(ap);
	if (lock_mode)
		f->lock = table ? format("%s on \"%s\": %s", lock_mode, table, blocks(lock_mode))
				: format("%s: %s", lock_mode, blocks(lock_mode));
	if (table)
		f->table = strdup(table);
	if (!f->message || (lock_mode && !f->lock) || (table && !f->table)) {
		free(f->message);
		free(f->lock);
		free(f->table);
		w->oom = true;
		return;
	}
	r->nfindings++;
}

static const mig_pg_type *column_type(const walk *w, const char *table, const char *column)
{
	for (size_t i = w->ncolumns; i-- > 0;)
		if (!strcmp(bare(w->columns[i].table), bare(table)) &&
		    !strcmp(w->columns[i].column, column))
			return w->columns[i].type;
	return mig_lint_model_column_type(w->ctx->model, table, column);
}

static void remember_column(walk *w, const char *table, const char *column, const mig_pg_type *t)
{
	if (!table || !column)
		return;
	column_seen *grown = realloc(w->columns, (w->ncolumns + 1) * sizeof *grown);
	if (!grown) {
		w->oom = true;
		return;
	}
	w->columns = grown;
	grown[w->ncolumns] = (column_seen){strdup(table), strdup(column), t};
	if (!grown[w->ncolumns].table || !grown[w->ncolumns].column) {
		free(grown[w->ncolumns].table);
		free(grown[w->ncolumns].column);
		w->oom = true;
		return;
	}
	w->ncolumns++;
}

/* ---- the rules, statement by statement ---- */

static bool validated_not_null(const walk *w, const char *table, const char *column)
{
	for (size_t i = 0; i < w->nchecks; i++)
		if (w->checks[i].validated && !strcmp(bare(w->checks[i].table), bare(table)) &&
		    !strcmp(w->checks[i].column, column))
			return true;
	return false;
}

static void key_column_rules(walk *w, const mig_pg_stmt *st, const mig_pg_action *col)
{
	if (mig_lint_type_is_serial(&col->type))
		mig_lint_add(w, st, R_IDENTITY, NULL, NULL, "key column \"%s\" of \"%s\" is %s", col->column,
		    st->relation, col->type.name);
	else if (mig_lint_type_is_small_int(&col->type))
		mig_lint_add(w, st, R_BIGINT, NULL, NULL, "key column \"%s\" of \"%s\" is %s", col->column,
		    st->relation, col->type.name);
}

static void create_table(walk *w, const mig_pg_stmt *st)
{
	if (!st->relation)
		return;
	mig_lint_remember(w, &w->created, &w->ncreated, st->relation);
	bool has_pk = false;
	for (size_t i = 0; i < st->nactions; i++) {
		const mig_pg_action *a = &st->actions[i];
		if (a->kind == MIG_PG_ACT_COLUMN) {
			remember_column(w, st->relation, a->column, &a->type);
			if (a->primary_key) {
				has_pk = true;
				key_column_rules(w, st, a);
			}
		} else if (a->kind == MIG_PG_ACT_CONSTRAINT && a->contype == MIG_PG_CON_PRIMARY) {
			has_pk = true;
			for (size_t k = 0; k < a->nkeys; k++)
				for (size_t j = 0; j < st->nactions; j++)
					if (st->actions[j].kind == MIG_PG_ACT_COLUMN && st->actions[j].column &&
					    !strcmp(st->actions[j].column, a->keys[k]))
						key_column_rules(w, st, &st->actions[j]);
		}
	}
	if (!has_pk && !st->temp && !st->full)
		mig_lint_add(w, st, R_PRIMARY_KEY, NULL, NULL, "table \"%s\" has no primary key", st->relation);
}

static void add_column(walk *w, const mig_pg_stmt *st, const mig_pg_action *a)
{
	const char *t = st->relation;
	int major = w->ctx->pg_major;
	remember_column(w, t, a->column, &a->type);
	if (a->generated_stored)
		mig_lint_add(w, st, R_FIELD_DEFAULT, "ACCESS EXCLUSIVE", t,
		    "adding stored generated column \"%s\" rewrites \"%s\"", a->column, t);
	else if (a->has_default && a->default_volatile)
		mig_lint_add(w, st, R_FIELD_DEFAULT, "ACCESS EXCLUSIVE", t,
		    "adding column \"%s\" with a volatile default rewrites \"%s\"", a->column, t);
	else if (a->has_default && major && major < 11)
		mig_lint_add(w, st, R_FIELD_DEFAULT, "ACCESS EXCLUSIVE", t,
		    "adding column \"%s\" with a default rewrites \"%s\" before PostgreSQL 11",
		    a->column, t);
	if (a->not_null && !a->has_default)
		mig_lint_add(w, st, R_REQUIRED_FIELD, "ACCESS EXCLUSIVE", t,
		    "column \"%s\" is added NOT NULL without a default: fails when \"%s\" has rows",
		    a->column, t);
	if (a->primary_key || a->unique)
		mig_lint_add(w, st, R_UNIQUE, "ACCESS EXCLUSIVE", t,
		    "adding column \"%s\" %s builds an index on \"%s\" while it is locked", a->column,
		    a->primary_key ? "PRIMARY KEY" : "UNIQUE", t);
	if (a->references && !a->not_valid)
		mig_lint_add(w, st, R_FOREIGN_KEY, "SHARE ROW EXCLUSIVE", t,
		    "column \"%s\" references another table: its foreign key is validated while \"%s\" is locked",
		    a->column, t);
	if (a->primary_key)
		key_column_rules(w, st, a);
}

static void add_constraint(walk *w, const mig_pg_stmt *st, const mig_pg_action *a)
{
	const char *t = st->relation;
	const char *name = a->conname ? a->conname : "(unnamed)";
	if (a->contype == MIG_PG_CON_CHECK && a->not_null_check && a->conname) {
		check_seen *grown = realloc(w->checks, (w->nchecks + 1) * sizeof *grown);
		if (!grown) {
			w->oom = true;
			return;
		}
		w->checks = grown;
		grown[w->nchecks] = (check_seen){strdup(t), strdup(a->conname), strdup(a->not_null_check),
						 !a->not_valid};
		if (!grown[w->nchecks].table || !grown[w->nchecks].conname || !grown[w->nchecks].column) {
			free(grown[w->nchecks].table);
			free(grown[w->nchecks].conname);
			free(grown[w->nchecks].column);
			w->oom = true;
			return;
		}
		w->nchecks++;
	}
	if (created(w, t))
		return;
	switch (a->contype) {
	case MIG_PG_CON_FOREIGN:
		if (!a->not_valid)
			mig_lint_add(w, st, R_FOREIGN_KEY, "SHARE ROW EXCLUSIVE", t,
			    "foreign key %s on \"%s\" is validated while both tables are locked", name, t);
		break;
	case MIG_PG_CON_CHECK:
		if (!a->not_valid)
			mig_lint_add(w, st, R_CHECK_NOT_VALID, "ACCESS EXCLUSIVE", t,
			    "check constraint %s scans all of \"%s\" while it is locked", name, t);
		break;
	case MIG_PG_CON_UNIQUE:
	case MIG_PG_CON_PRIMARY:
		if (!a->using_index)
			mig_lint_add(w, st, R_UNIQUE, "ACCESS EXCLUSIVE", t,
			    "%s constraint %s builds its index while \"%s\" is locked",
			    a->contype == MIG_PG_CON_UNIQUE ? "UNIQUE" : "PRIMARY KEY", name, t);
		break;
	default:
		break;
	}
}

/* Issue 17: what breaks the application still running belongs in a contract file. */
static void destructive(walk *w, const mig_pg_stmt *st, const char *table, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
static void destructive(walk *w, const mig_pg_stmt *st, const char *table, const char *fmt, ...)
{
	if (w->ctx->contract)
		return;
	va_list ap;
	va_start(ap, fmt);
	char *what = vformat(fmt, ap);
	va_end(ap);
	if (!what) {
		w->oom = true;
		return;
	}
	mig_lint_add(w, st, R_DESTRUCTIVE, "ACCESS EXCLUSIVE", table,
	    "%s in an expand file: the application still running breaks (no `-- migrate:phase contract`)",
	    what);
	free(what);
}

static void alter_table(walk *w, const mig_pg_stmt *st)
{
	const char *t = st->relation;
	bool fresh = created(w, t);
	for (size_t i = 0; i < st->nactions; i++) {
		const mig_pg_action *a = &st->actions[i];
		switch (a->kind) {
		case MIG_PG_ACT_COLUMN:
			if (fresh)
				remember_column(w, t, a->column, &a->type);
			else
				add_column(w, st, a);
			break;
		case MIG_PG_ACT_CONSTRAINT:
			add_constraint(w, st, a);
			break;
		case MIG_PG_ACT_VALIDATE:
			for (size_t k = 0; a->conname && k < w->nchecks; k++)
				if (!strcmp(w->checks[k].conname, a->conname) &&
				    !strcmp(bare(w->checks[k].table), bare(t)))
					w->checks[k].validated = true;
			break;
		case MIG_PG_ACT_DROP_COLUMN:
			if (!fresh) {
				mig_lint_add(w, st, R_DROP_COLUMN, "ACCESS EXCLUSIVE", t,
				    "dropping column \"%s\" of \"%s\" breaks code that still uses it",
				    a->column, t);
				destructive(w, st, t, "DROP COLUMN \"%s\" of \"%s\"",
					    a->column ? a->column : "?", t);
			}
			break;
		case MIG_PG_ACT_ALTER_TYPE: {
			const mig_pg_type *old = a->column ? column_type(w, t, a->column) : NULL;
			if (!fresh && mig_lint_type_change_rewrites(old, &a->type, a->has_using))
				mig_lint_add(w, st, R_COLUMN_TYPE, "ACCESS EXCLUSIVE", t,
				    "changing the type of \"%s\" to %s rewrites \"%s\"",
				    a->column ? a->column : "?", a->type.name ? a->type.name : "?", t);
			if (!fresh && mig_lint_type_change_narrows(old, &a->type))
				destructive(w, st, t, "narrowing the type of \"%s\" of \"%s\" to %s",
					    a->column ? a->column : "?", t,
					    a->type.name ? a->type.name : "?");
			if (a->column)
				remember_column(w, t, a->column, &a->type);
			break;
		}
		case MIG_PG_ACT_SET_NOT_NULL:
			if (fresh || !a->column || mig_lint_model_not_null(w->ctx->model, t, a->column))
				break; /* new, or NOT NULL already: nothing to scan or break */
			destructive(w, st, t, "SET NOT NULL on \"%s\" of \"%s\"", a->column, t);
			if (w->ctx->pg_major && w->ctx->pg_major < 12)
				mig_lint_add(w, st, R_SET_NOT_NULL, "ACCESS EXCLUSIVE", t,
				    "SET NOT NULL on \"%s\" scans all of \"%s\" while it is locked "
				    "(PostgreSQL before 12 cannot use a CHECK constraint instead)",
				    a->column, t);
			else if (!validated_not_null(w, t, a->column))
				mig_lint_add(w, st, R_SET_NOT_NULL, "ACCESS EXCLUSIVE", t,
				    "SET NOT NULL on \"%s\" scans all of \"%s\" while it is locked",
				    a->column, t);
			break;
		default:
			break;
		}
	}
}

/* The lock a statement takes on an existing table, or NULL when none worth naming. */
static const char *strongest_lock(const walk *w, const mig_pg_stmt *st)
{
	switch (st->kind) {
	case MIG_PG_ALTER_TABLE: {
		const char *mode = NULL;
		for (size_t i = 0; i < st->nactions; i++) {
			const mig_pg_action *a = &st->actions[i];
			if (a->kind == MIG_PG_ACT_LIGHT || a->kind == MIG_PG_ACT_VALIDATE)
				mode = mode ? mode : "SHARE UPDATE EXCLUSIVE";
			else if (a->kind == MIG_PG_ACT_CONSTRAINT && a->contype == MIG_PG_CON_FOREIGN)
				mode = mode && !strcmp(mode, "ACCESS EXCLUSIVE") ? mode : "SHARE ROW EXCLUSIVE";
			else
				return "ACCESS EXCLUSIVE";
		}
		return mode;
	}
	case MIG_PG_DROP_TABLE:
	case MIG_PG_TRUNCATE:
	case MIG_PG_RENAME_TABLE:
	case MIG_PG_RENAME_COLUMN:
	case MIG_PG_CLUSTER:
		return "ACCESS EXCLUSIVE";
	case MIG_PG_VACUUM:
		return st->full ? "ACCESS EXCLUSIVE" : NULL;
	case MIG_PG_DROP_INDEX:
	case MIG_PG_REINDEX:
		return st->concurrently ? NULL : "ACCESS EXCLUSIVE";
	default:
		(void)w;
		return NULL;
	}
}

static bool touches_existing(const walk *w, const mig_pg_stmt *st)
{
	if (st->kind == MIG_PG_DROP_INDEX)
		return !created(w, st->name);
	if (st->kind == MIG_PG_DROP_TABLE || st->kind == MIG_PG_TRUNCATE) {
		for (size_t i = 0; i < st->nrelations; i++)
			if (!created(w, st->relations[i]))
				return true;
		return false;
	}
	if ((st->kind == MIG_PG_VACUUM || st->kind == MIG_PG_CLUSTER) && !st->relation)
		return true;
	return st->relation && !st->temp && !created(w, st->relation);
}

static void lock_timeout_rule(walk *w, const mig_pg_stmt *st)
{
	if (w->lock_timeout_reported || w->lock_timeout_set || w->ctx->lock_timeout_ms > 0)
		return;
	const char *mode = strongest_lock(w, st);
	if (!mode || strcmp(mode, "ACCESS EXCLUSIVE") || !touches_existing(w, st))
		return;
	const char *t = st->relation ? st->relation
				     : st->nrelations ? st->relations[0] : NULL;
	w->lock_timeout_reported = true;
	mig_lint_add(w, st, R_LOCK_TIMEOUT, mode, t,
	    "ACCESS EXCLUSIVE%s%s%s is requested with no lock_timeout: if it waits, every query "
	    "on the table waits behind it", t ? " on \"" : "", t ? t : "", t ? "\"" : "");
}

static void concurrently_in_tx(walk *w, const mig_pg_stmt *st, const char *what)
{
	if (st->concurrently && w->ctx->in_transaction)
		mig_lint_add(w, st, R_CONCURRENTLY_IN_TX, NULL, NULL,
		    "%s CONCURRENTLY cannot run inside a transaction block, and this file runs in one",
		    what);
}

static bool uses_enum_value(const walk *w, const mig_pg_stmt *st, const char **value)
{
	for (size_t i = 0; i < st->nstrings; i++)
		for (size_t k = 0; k < w->nenum_values; k++)
			if (!strcmp(st->strings[i], w->enum_values[k])) {
				*value = w->enum_values[k];
				return true;
			}
	return false;
}

static void lint_stmt(walk *w, const mig_pg_stmt *st)
{
	const char *value = NULL;
	lock_timeout_rule(w, st);
	if (st->kind != MIG_PG_ENUM_ADD_VALUE && uses_enum_value(w, st, &value))
		mig_lint_add(w, st, R_ENUM_VALUE, NULL, NULL,
		    "enum value '%s' is used in the transaction that added it: PostgreSQL refuses "
		    "(unsafe use of new value)", value);
	const char *t = st->relation;
	bool existing = touches_existing(w, st);
	switch (st->kind) {
	case MIG_PG_CREATE_TABLE:
		create_table(w, st);
		break;
	case MIG_PG_CREATE_INDEX:
		if (st->name)
			mig_lint_remember(w, &w->created, &w->ncreated, st->name);
		concurrently_in_tx(w, st, "CREATE INDEX");
		if (!st->concurrently && existing)
			mig_lint_add(w, st, R_INDEX, "SHARE", t,
			    "index %s is built without CONCURRENTLY: writes to \"%s\" wait until it is done",
			    st->name ? st->name : "(unnamed)", t);
		break;
	case MIG_PG_DROP_INDEX:
		concurrently_in_tx(w, st, "DROP INDEX");
		if (!st->concurrently && existing)
			mig_lint_add(w, st, R_DROP_INDEX, "ACCESS EXCLUSIVE", NULL,
			    "dropping index %s without CONCURRENTLY locks its table", st->name);
		break;
	case MIG_PG_REINDEX:
		concurrently_in_tx(w, st, "REINDEX");
		if (!st->concurrently && existing)
			mig_lint_add(w, st, R_REINDEX, "ACCESS EXCLUSIVE", t,
			    "REINDEX without CONCURRENTLY blocks reads that use the index%s%s%s",
			    t ? " and writes to \"" : "", t ? t : "", t ? "\"" : "");
		break;
	case MIG_PG_ALTER_TABLE:
		alter_table(w, st);
		break;
	case MIG_PG_RENAME_TABLE:
		if (existing) {
			mig_lint_add(w, st, R_RENAME_TABLE, "ACCESS EXCLUSIVE", t,
			    "renaming \"%s\" to \"%s\" breaks code that still uses the old name", t,
			    st->name ? st->name : "?");
			destructive(w, st, t, "RENAME of \"%s\"", t);
		} else if (st->name)
			mig_lint_remember(w, &w->created, &w->ncreated, st->name);
		break;
	case MIG_PG_RENAME_COLUMN:
		if (existing) {
			mig_lint_add(w, st, R_RENAME_COLUMN, "ACCESS EXCLUSIVE", t,
			    "renaming column \"%s\" of \"%s\" to \"%s\" breaks code that still uses it",
			    st->nactions && st->actions[0].column ? st->actions[0].column : "?", t,
			    st->name ? st->name : "?");
			destructive(w, st, t, "RENAME of column \"%s\" of \"%s\"",
				    st->nactions && st->actions[0].column ? st->actions[0].column : "?",
				    t);
		}
		break;
	case MIG_PG_DROP_TABLE:
	case MIG_PG_TRUNCATE:
		for (size_t i = 0; i < st->nrelations; i++)
			if (!created(w, st->relations[i])) {
				mig_lint_add(w, st, st->kind == MIG_PG_DROP_TABLE ? R_DROP_TABLE : R_TRUNCATE,
				    "ACCESS EXCLUSIVE", st->relations[i], "%s \"%s\" deletes its data",
				    st->kind == MIG_PG_DROP_TABLE ? "dropping" : "truncating",
				    st->relations[i]);
				if (st->kind == MIG_PG_DROP_TABLE)
					destructive(w, st, st->relations[i], "DROP TABLE \"%s\"",
						    st->relations[i]);
			}
		break;
	case MIG_PG_VACUUM:
		if (st->full && existing)
			mig_lint_add(w, st, R_VACUUM_FULL, "ACCESS EXCLUSIVE", t, "VACUUM FULL rewrites %s%s%s",
			    t ? "\"" : "every table", t ? t : "", t ? "\"" : "");
		break;
	case MIG_PG_CLUSTER:
		if (existing)
			mig_lint_add(w, st, R_CLUSTER, "ACCESS EXCLUSIVE", t, "CLUSTER rewrites %s%s%s",
			    t ? "\"" : "every clustered table", t ? t : "", t ? "\"" : "");
		break;
	case MIG_PG_ENUM_ADD_VALUE:
		if (w->ctx->in_transaction && w->ctx->pg_major && w->ctx->pg_major < 12)
			mig_lint_add(w, st, R_ENUM_VALUE, NULL, NULL,
			    "ALTER TYPE %s ADD VALUE cannot run in a transaction before PostgreSQL 12",
			    st->name ? st->name : "?");
		else if (w->ctx->in_transaction && st->value)
			mig_lint_remember(w, &w->enum_values, &w->nenum_values, st->value);
		break;
	case MIG_PG_UPDATE:
	case MIG_PG_DELETE:
		if (!st->has_where && existing)
			mig_lint_add(w, st, st->kind == MIG_PG_UPDATE ? R_UPDATE_ALL : R_DELETE_ALL, "ROW EXCLUSIVE",
			    t, "%s without WHERE touches every row of \"%s\" in one transaction",
			    st->kind == MIG_PG_UPDATE ? "UPDATE" : "DELETE", t);
		break;
	case MIG_PG_SET:
		if (st->name && !strcasecmp(st->name, "lock_timeout"))
			w->lock_timeout_set = !st->set_to_zero;
		break;
	default:
		break;
	}
}

/* Records what the rules expect of st (its findings start at index first). */
static void claim(walk *w, const mig_pg_stmt *st, size_t first)
{
	mig_lint_result *r = w->out;
	mig_lint_claim *grown = realloc(r->claims, (r->nclaims + 1) * sizeof *grown);
	if (!grown) {
		w->oom = true;
		return;
	}
	r->claims = grown;
	mig_lint_claim *c = memset(&grown[r->nclaims++], 0, sizeof *c);
	c->line = st->line;
	c->lock = strongest_lock(w, st);
	/* TRUNCATE gives the table new, empty storage */
	c->rewrites = st->kind == MIG_PG_TRUNCATE;
	for (size_t k = first; k < r->nfindings; k++) {
		c->rewrites = c->rewrites || r->findings[k].rule->rewrites;
		if (r->findings[k].lock && !strncmp(r->findings[k].lock, "ACCESS EXCLUSIVE", 16))
			c->lock = "ACCESS EXCLUSIVE";
	}
}


static void finding_clear(mig_lint_finding *f)
{
	free(f->message);
	free(f->lock);
	free(f->table);
}

static int by_line(const void *a, const void *b)
{
	const mig_lint_finding *x = a, *y = b;
	if (x->line != y->line)
		return x->line < y->line ? -1 : 1;
	if (x->column != y->column)
		return x->column < y->column ? -1 : 1;
	return x->rule < y->rule ? -1 : x->rule > y->rule;
}

static void free_list(char **list, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(list[i]);
	free(list);
}

int mig_lint_sql(mig_lint_result *out, const char *sql, size_t len, const mig_lint_context *ctx)
{
	memset(out, 0, sizeof *out);
	mig_pg_file *file = NULL;
	mig_pg_syntax_error syntax = {0};
	mig_pg_unparsed *unparsed = NULL;
	size_t nunparsed = 0;
	/* a server no newer than the grammar refuses what it refuses: a syntax error; a newer
	 * (or unknown) one may accept it: set aside and reported as unparsed */
	int grammar = mig_pg_grammar_major();
	int rc = ctx->pg_major && ctx->pg_major <= grammar
			 ? mig_pg_parse(&file, &syntax, sql, len)
			 : mig_pg_parse_lenient(&file, &unparsed, &nunparsed, &syntax, sql, len);
	if (rc == MIG_ESCHEMA) {
		out->syntax_line = syntax.line;
		out->syntax_column = syntax.column;
		snprintf(out->syntax_message, sizeof out->syntax_message, "%s", syntax.message);
		return rc;
	}
	if (rc < 0)
		return rc;
	walk w = {.ctx = ctx, .sql = sql, .len = len, .out = out};
	ignore *ignores = NULL;
	size_t nignores = 0;
	/* which statement each finding belongs to, to match statement-level suppressions */
	size_t *owner = NULL, nowner = 0;
	size_t prev_end = 0;
	for (size_t i = 0; i < file->nstmts && !w.oom; i++) {
		const mig_pg_stmt *st = &file->stmts[i];
		mig_lint_read_ignores(&w, &ignores, &nignores, prev_end, st->offset, i, st);
		prev_end = st->offset + st->length;
		size_t before = out->nfindings;
		if (ctx->model && mig_lint_model_check(ctx->model, st, out) < 0)
			w.oom = true;
		lint_stmt(&w, st);
		claim(&w, st, before);
		if (ctx->model && mig_lint_model_apply(ctx->model, st) < 0)
			w.oom = true;
		size_t *grown = realloc(owner, (out->nfindings + 1) * sizeof *owner);
		if (!grown) {
			w.oom = true;
			break;
		}
		owner = grown;
		for (size_t k = nowner; k < before; k++)
			owner[k] = (size_t)-1; /* directive findings: never suppressed */
		for (size_t k = before; k < out->nfindings; k++)
			owner[k] = i;
		nowner = out->nfindings;
	}
	if (!w.oom && file->nstmts == 0)
		mig_lint_read_ignores(&w, &ignores, &nignores, 0, len, 0, NULL);
	for (size_t i = 0; i < nunparsed && !w.oom; i++) {
		mig_pg_stmt at = {.line = unparsed[i].line, .column = unparsed[i].column};
		char server[64] = "";
		if (ctx->server_major)
			snprintf(server, sizeof server, "; the server is PostgreSQL %d", ctx->server_major);
		else if (ctx->pg_major)
			snprintf(server, sizeof server, "; linting for PostgreSQL %d", ctx->pg_major);
		mig_lint_add(&w, &at, R_UNPARSED, NULL, NULL,
		    "not linted: the linter's PostgreSQL %d grammar (libpg_query) cannot parse it (%s)%s",
		    grammar, unparsed[i].message, server);
	}
	/* file-wide lint-ignore comments apply to them (owner -1), statement ones cannot */
	if (!w.oom) {
		size_t *grown = realloc(owner, (out->nfindings + 1) * sizeof *owner);
		if (grown) {
			owner = grown;
			for (size_t k = nowner; k < out->nfindings; k++)
				owner[k] = (size_t)-1;
			nowner = out->nfindings;
		} else {
			w.oom = true;
		}
	}
	/* drop what is suppressed */
	size_t kept = 0;
	for (size_t k = 0; k < out->nfindings; k++) {
		size_t stmt = k < nowner ? owner[k] : (size_t)-1;
		if (!w.oom && mig_lint_suppressed(ignores, nignores, &out->findings[k], stmt))
			finding_clear(&out->findings[k]);
		else
			out->findings[kept++] = out->findings[k];
	}
	out->nfindings = kept;
	for (size_t i = 0; !w.oom && i < out->nclaims; i++) {
		mig_lint_finding lock = {.rule = &mig_lint_rules[R_OBSERVED_LOCK]};
		mig_lint_finding rewrite = {.rule = &mig_lint_rules[R_OBSERVED_REWRITE]};
		out->claims[i].ignore_lock = mig_lint_suppressed(ignores, nignores, &lock, i);
		out->claims[i].ignore_rewrite = mig_lint_suppressed(ignores, nignores, &rewrite, i);
	}
	if (kept > 1)
		qsort(out->findings, kept, sizeof *out->findings, by_line);
	for (size_t i = 0; i < nignores; i++)
		free_list(ignores[i].rules, ignores[i].nrules);
	free(ignores);
	free(owner);
	free(unparsed);
	free_list(w.created, w.ncreated);
	free_list(w.enum_values, w.nenum_values);
	for (size_t i = 0; i < w.nchecks; i++) {
		free(w.checks[i].table);
		free(w.checks[i].conname);
		free(w.checks[i].column);
	}
	free(w.checks);
	for (size_t i = 0; i < w.ncolumns; i++) {
		free(w.columns[i].table);
		free(w.columns[i].column);
	}
	free(w.columns);
	mig_pg_file_free(file);
	return w.oom ? MIG_EFAIL : MIG_OK;
}

const mig_lint_claim *mig_lint_claim_at(const mig_lint_result *r, unsigned line)
{
	for (size_t i = 0; i < r->nclaims; i++)
		if (r->claims[i].line == line)
			return &r->claims[i];
	return NULL;
}

bool mig_lint_has_error(const mig_lint_result *r)
{
	for (size_t i = 0; i < r->nfindings; i++)
		if (r->findings[i].rule->severity == MIG_LINT_ERROR)
			return true;
	return false;
}

void mig_lint_result_clear(mig_lint_result *r)
{
	for (size_t i = 0; i < r->nfindings; i++)
		finding_clear(&r->findings[i]);
	free(r->findings);
	r->findings = NULL;
	r->nfindings = 0;
	free(r->claims);
	r->claims = NULL;
	r->nclaims = 0;
}


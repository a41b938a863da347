/* The schema model read from a live database (lint_model.h's
 * mig_lint_model_apply_snapshot): the snapshot the backend read (schema/snapshot.h) is
 * written back as the SQL that would create it — tables with their columns, then
 * constraints, indexes and views as the server prints them — and that SQL replayed into
 * the model as if it were the tree's history. */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lint/lint_model.h"
#include "lint/lint_model_private.h"
#include "util/error.h"

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

/* The one file that includes <pg_query.h>: a migration file parsed by libpg_query (the
 * PostgreSQL 15 grammar) into its JSON parse tree, whose statements are read with jansson
 * (pg_parse_stmt.c) into the typed statements of pg_parse.h, each at its place in the
 * file; the lenient parse for newer servers; and their release. */
#include <jansson.h>
#include <pg_query.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/error.h"
#include "lint/pg_parse.h"
#include "lint/pg_parse_private.h"
#include "util/sql_split.h"

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
		st->offset = mig_pg_skip_space_and_comments(text, loc + slen, loc);
		st->length = loc + slen - st->offset;
		mig_pg_line_column(orig, st->offset, &st->line, &st->column);
		if (mig_pg_read_stmt(st, json_object_get(raw, "stmt"), orig, len) < 0)
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
	if (mig_pg_check_text(syntax, sql, len) < 0)
		return MIG_ESCHEMA;
	PgQueryParseResult r = pg_query_parse(sql);
	int rc;
	if (r.error) {
		snprintf(syntax->message, sizeof syntax->message, "%s", r.error->message);
		mig_pg_one_line(syntax->message);
		size_t at = r.error->cursorpos > 0 ? mig_pg_char_to_byte(sql, len, r.error->cursorpos) : len;
		mig_pg_line_column(sql, at, &syntax->line, &syntax->column);
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
	if (mig_pg_check_text(syntax, sql, len) < 0)
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
		size_t at = r.error->cursorpos > 0 ? mig_pg_char_to_byte(text, len, r.error->cursorpos) : len;
		size_t k = nstmts;
		while (k > 0 && stmts[k - 1].offset > at)
			k--;
		if (k == 0 || blanked[k - 1]) {
			/* not inside a statement the splitter sees: say where, as mig_pg_parse does */
			snprintf(syntax->message, sizeof syntax->message, "%s", r.error->message);
			mig_pg_one_line(syntax->message);
			mig_pg_line_column(sql, at, &syntax->line, &syntax->column);
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
		mig_pg_one_line(u->message);
		mig_pg_line_column(sql, st->offset, &u->line, &u->column);
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

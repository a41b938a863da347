/* The pure half of object tracking: what a migration's statements may do to the
 * catalogs, read from their first words (an ALTER TABLE's from all of them), and the
 * objects its DROP statements name (so that an object already gone when `DROP … IF
 * EXISTS` ran still counts as dropped by that migration). No database here: unit tests
 * and the fuzzer reach it directly. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "postgres/pg_track.h"

/* Whether stmt starts with one of words (a NULL-terminated list). */
static bool starts_with(const char *stmt, const char *const *words)
{
	for (const char *const *w = words; *w; w++) {
		size_t k = strlen(*w);
		if (!strncasecmp(stmt, *w, k) && !isalnum((unsigned char)stmt[k]) && stmt[k] != '_')
			return true;
	}
	return false;
}

/* ---- a small tokenizer for DROP statements ------------------------------------------ */

#define NAME_MAX_BYTES 63 /* NAMEDATALEN - 1: PostgreSQL truncates longer identifiers */

typedef struct token {
	char text[NAME_MAX_BYTES + 1];
	char punct;  /* '.', ',', '(', ')' or another byte; 0 for a word or the end */
	bool word;   /* an identifier or keyword, lower-cased unless quoted */
	bool quoted; /* a "quoted" identifier */
	bool bad;    /* a word we cannot represent (tab or newline inside, U&"...") */
} token;

static void skip_space(const char **p)
{
	for (;;) {
		while (isspace((unsigned char)**p))
			(*p)++;
		if ((*p)[0] == '-' && (*p)[1] == '-') {
			while (**p && **p != '\n' && **p != '\r')
				(*p)++;
		} else if ((*p)[0] == '/' && (*p)[1] == '*') {
			/* PostgreSQL's block comments nest */
			int depth = 0;
			do {
				if ((*p)[0] == '/' && (*p)[1] == '*') {
					depth++;
					*p += 2;
				} else if ((*p)[0] == '*' && (*p)[1] == '/') {
					depth--;
					*p += 2;
				} else {
					(*p)++;
				}
			} while (**p && depth > 0);
		} else {
			return;
		}
	}
}

/* Appends byte c to t's text, keeping at most NAME_MAX_BYTES bytes. */
static void put(token *t, size_t *len, bool *full, unsigned char c)
{
	if (*len >= NAME_MAX_BYTES) {
		*full = true;
		return;
	}
	t->text[(*len)++] = (char)c;
	t->text[*len] = '\0';
}

/* After a truncation, drops a UTF-8 character cut in half (as PostgreSQL does). */
static void trim(token *t, size_t len, bool full)
{
	if (!full || !len)
		return;
	size_t start = len - 1;
	while (start > 0 && ((unsigned char)t->text[start] & 0xC0) == 0x80)
		start--;
	unsigned char lead = (unsigned char)t->text[start];
	size_t need = lead >= 0xF0 ? 4 : lead >= 0xE0 ? 3 : lead >= 0xC0 ? 2 : 1;
	if (len - start < need)
		t->text[start] = '\0';
}

static void next(token *t, const char **p)
{
	memset(t, 0, sizeof *t);
	skip_space(p);
	unsigned char c = (unsigned char)**p;
	size_t len = 0;
	bool full = false;
	if (!c)
		return;
	if ((c == 'u' || c == 'U') && (*p)[1] == '&' && (*p)[2] == '"') {
		t->word = t->bad = true; /* Unicode escapes: not worth decoding here */
		*p += 2;
		c = '"';
	}
	if (c == '"') {
		t->word = t->quoted = true;
		for ((*p)++; **p; (*p)++) {
			if (**p == '"' && (*p)[1] == '"')
				(*p)++;
			else if (**p == '"')
				break;
			if (**p == '\t' || **p == '\n')
				t->bad = true;
			put(t, &len, &full, (unsigned char)**p);
		}
		if (**p == '"')
			(*p)++;
		else
			t->bad = true;
		if (!len)
			t->bad = true; /* the server refuses "" */
		trim(t, len, full);
		return;
	}
	if (isalpha(c) || c == '_' || c >= 0x80) {
		t->word = true;
		while (isalnum((unsigned char)**p) || **p == '_' || **p == '$' ||
		       (unsigned char)**p >= 0x80) {
			put(t, &len, &full, (unsigned char)tolower((unsigned char)**p));
			(*p)++;
		}
		trim(t, len, full);
		return;
	}
	t->punct = (char)c;
	(*p)++;
}

static bool is_word(const token *t, const char *w)
{
	return t->word && !t->quoted && !strcmp(t->text, w);
}

static int append(char **named, const char *kind, const char *schema, const char *name)
{
	size_t old = *named ? strlen(*named) : 0;
	size_t add = strlen(kind) + strlen(schema) + strlen(name) + 3;
	char *grown = realloc(*named, old + add + 1);
	if (!grown)
		return -1;
	*named = grown;
	grown[old] = '\0';
	strcat(strcat(strcat(strcat(strcat(grown + old, kind), "\t"), schema), "\t"), name);
	strcat(grown + old, "\n");
	return 0;
}

/* The kind the words after DROP name, advancing past them; NULL when it is not one
 * that tracking knows. */
static const char *drop_kind(token *t, const char **p)
{
	static const struct {
		const char *word, *kind;
	} one[] = {{"table", "table"},	       {"view", "view"},	 {"index", "index"},
		   {"sequence", "sequence"},   {"type", "type"},	 {"domain", "type"},
		   {"function", "function"},   {"procedure", "function"}, {"routine", "function"},
		   {"aggregate", "function"},  {"schema", "schema"}};
	if (is_word(t, "materialized")) {
		next(t, p);
		if (!is_word(t, "view"))
			return NULL;
		next(t, p);
		return "materialized view";
	}
	if (is_word(t, "foreign")) {
		next(t, p);
		if (!is_word(t, "table"))
			return NULL;
		next(t, p);
		return "table";
	}
	for (size_t i = 0; i < sizeof one / sizeof one[0]; i++)
		if (is_word(t, one[i].word)) {
			next(t, p);
			return one[i].kind;
		}
	return NULL;
}

/* DROP TRIGGER [IF EXISTS] name ON [schema.]table: the trigger is named as tracking
 * names it, "table.name" in the table's schema. t is at TRIGGER. */
static int drop_trigger_name(char **named, token *t, const char **p)
{
	next(t, p);
	if (is_word(t, "if")) {
		next(t, p);
		if (!is_word(t, "exists"))
			return 0;
		next(t, p);
	}
	if (!t->word || t->bad)
		return 0;
	char trigger[NAME_MAX_BYTES + 1], part[2][NAME_MAX_BYTES + 1];
	memcpy(trigger, t->text, sizeof trigger);
	next(t, p);
	if (!is_word(t, "on"))
		return 0;
	int parts = 0;
	for (next(t, p);; next(t, p)) {
		if (!t->word || t->bad || parts == 2)
			return 0;
		memcpy(part[parts++], t->text, sizeof t->text);
		next(t, p);
		if (t->punct != '.')
			break;
	}
	if (is_word(t, "cascade") || is_word(t, "restrict"))
		next(t, p);
	if (t->word || (t->punct && t->punct != ';'))
		return 0;
	char name[4 * NAME_MAX_BYTES];
	snprintf(name, sizeof name, "%s.%s", part[parts - 1], trigger);
	return append(named, "trigger", parts == 2 ? part[0] : "", name) < 0 ? -1 : 0;
}

int mig_pg_drop_names(char **named, const char *stmt)
{
	const char *p = stmt;
	token t;
	next(&t, &p);
	if (!is_word(&t, "drop"))
		return 0;
	next(&t, &p);
	if (is_word(&t, "trigger"))
		return drop_trigger_name(named, &t, &p);
	const char *kind = drop_kind(&t, &p);
	if (!kind)
		return 0;
	if (is_word(&t, "concurrently"))
		next(&t, &p);
	if (is_word(&t, "if")) {
		next(&t, &p);
		if (!is_word(&t, "exists"))
			return 0;
		next(&t, &p);
	}
	/* name [. name [. name]] [(args)] {, ...} [CASCADE | RESTRICT] */
	for (;;) {
		char part[3][NAME_MAX_BYTES + 1];
		int parts = 0;
		bool bad = false;
		for (;;) {
			if (!t.word || parts == 3)
				return 0;
			bad |= t.bad;
			memcpy(part[parts++], t.text, sizeof t.text);
			next(&t, &p);
			if (t.punct != '.')
				break;
			next(&t, &p);
		}
		if (t.punct == '(') {
			if (strcmp(kind, "function"))
				return 0;
			for (int depth = 1; depth > 0;) {
				next(&t, &p);
				if (!t.word && !t.punct)
					return 0;
				depth += (t.punct == '(') - (t.punct == ')');
			}
			next(&t, &p);
		}
		if (!bad) {
			const char *name = part[parts - 1];
			const char *schema = parts >= 2 ? part[parts - 2] : "";
			if (!strcmp(kind, "schema") && parts > 1)
				return 0;
			if (append(named, kind, schema, name) < 0)
				return -1;
		}
		if (t.punct != ',')
			return 0;
		next(&t, &p);
	}
}

/* An ALTER TABLE creates or drops a tracked object only through these words (indexes
 * for keys, identity and serial sequences, indexes rebuilt by a type change, partitions
 * attached with their indexes; DROP COLUMN/CONSTRAINT/IDENTITY and type changes delete
 * them). Any other ALTER TABLE, the commonest migration (ADD COLUMN), needs no tracking.
 * A word inside a literal or comment only makes the answer more cautious. */
static const char *const alter_creating[] = {"type", "identity", "serial", "smallserial",
					     "bigserial", "serial2", "serial4", "serial8",
					     "unique", "primary", "exclude", "index", "partition",
					     NULL};
static const char *const alter_dropping[] = {"drop", "type", NULL};

static bool in_list(const char *text, const char *const *words)
{
	for (const char *const *w = words; *w; w++)
		if (!strcmp(text, *w))
			return true;
	return false;
}

static bool listed(const token *t, const char *const *words)
{
	return t->word && !t->quoted && in_list(t->text, words);
}

/* Words of a statement that can throw away the session's prepared statements
 * (DEALLOCATE, DISCARD ALL; also as a DO block's dynamic SQL). */
static const char *const forgetting[] = {"deallocate", "discard", NULL};

/* Whether stmt has one of words, also as a part of a word between dollar signs: a
 * dollar-quote tag reads as part of the word it touches ($q$DEALLOCATE). */
static bool has_word(const char *stmt, const char *const *words)
{
	const char *p = stmt;
	token t;
	for (next(&t, &p); t.word || t.punct; next(&t, &p)) {
		if (!t.word || t.quoted)
			continue;
		for (char *part = t.text, *end; part; part = end ? end + 1 : NULL) {
			end = strchr(part, '$');
			if (end)
				*end = '\0';
			if (in_list(part, words))
				return true;
		}
	}
	return false;
}

/* Narrows *creates and *drops for an ALTER TABLE statement by its words. */
static void alter_table_effects(const char *stmt, bool *creates, bool *drops)
{
	const char *p = stmt;
	token t;
	next(&t, &p);
	if (!is_word(&t, "alter"))
		return;
	next(&t, &p);
	if (!is_word(&t, "table"))
		return;
	bool c = false, d = false;
	for (next(&t, &p); t.word || t.punct; next(&t, &p)) {
		c = c || listed(&t, alter_creating);
		d = d || listed(&t, alter_dropping);
	}
	*creates = *creates && c;
	*drops = *drops && d;
}

/* Whether stmt may rename a tracked object or move it to another schema: the word
 * RENAME, or SET followed by SCHEMA, anywhere (also in a DO block's dynamic SQL). */
static bool may_rename(const char *stmt)
{
	const char *p = stmt;
	token t;
	bool after_set = false;
	for (next(&t, &p); t.word || t.punct; next(&t, &p)) {
		if (is_word(&t, "rename") || (after_set && is_word(&t, "schema")))
			return true;
		after_set = is_word(&t, "set");
	}
	return false;
}

int mig_pg_track_scan(mig_pg_track_step *s, const mig_step *step, const char *text,
		      const mig_sql_stmt *stmts, size_t n, mig_error *err)
{
	/* Plain data changes (the commonest small migration) create nothing. */
	static const char *const data_only[] = {"INSERT", "UPDATE", "DELETE", "COPY", "COMMENT",
						"GRANT", "REVOKE", "SET", "TRUNCATE", NULL};
	/* nor these (a DROP statement, not data-only, may drop but not create) */
	static const char *const no_create[] = {"DROP", NULL};
	/* Statements that start with these words cannot drop an object. */
	static const char *const no_drop[] = {"CREATE", "INSERT", "UPDATE", "DELETE", "COMMENT",
					      "GRANT", "REVOKE", "SET", "COPY", NULL};
	memset(s, 0, sizeof *s);
	s->up = step->up;
	snprintf(s->version, sizeof s->version, "%lld", step->version);
	s->params[0] = step->module;
	s->params[1] = s->version;
	for (size_t i = 0; i < n; i++) {
		const char *stmt = text + stmts[i].offset;
		bool creates = !starts_with(stmt, data_only), drops = !starts_with(stmt, no_drop);
		s->forgets_prepared = s->forgets_prepared || has_word(stmt, forgetting);
		s->renames = s->renames || (creates && may_rename(stmt));
		creates = creates && !starts_with(stmt, no_create);
		if (creates || drops)
			alter_table_effects(stmt, &creates, &drops);
		s->creates = s->creates || creates;
		/* a down file's drops are its migration's objects, forgotten with it */
		if (!step->up)
			continue;
		s->drops = s->drops || drops;
		if (drops && mig_pg_drop_names(&s->named, stmt) < 0) {
			mig_pg_track_step_clear(s);
			return mig_error_set(err, MIG_EFAIL, "out of memory");
		}
	}
#ifdef MIG_BENCH_NO_TRACKING
	/* meson -Dbench_no_tracking=true, for bench/run.sh: what tracking costs */
	s->creates = s->drops = s->renames = false;
#endif
	return MIG_OK;
}

void mig_pg_track_step_clear(mig_pg_track_step *s)
{
	free(s->named);
	s->named = NULL;
}

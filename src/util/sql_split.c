/* Cuts a migration file into the statements psql would send one at a time. The lexing
 * follows psql 15 (src/fe_utils/psqlscan.l): quotes, nested comments, dollar quotes,
 * parentheses and BEGIN ... END bodies of CREATE FUNCTION/PROCEDURE all hide a ';'.
 * Assumes standard_conforming_strings = on and a UTF-8 (or single-byte) encoding. */
#include "util/sql_split.h"

#include <limits.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define NO_START SIZE_MAX

/* What psql remembers about the statement being scanned; reset by a terminating ';'. */
typedef struct split_state {
	size_t start;       /* first significant byte, or NO_START */
	size_t end;         /* end of the last token that is not white space */
	size_t paren_depth;
	size_t begin_depth; /* BEGIN/CASE ... END nesting inside a routine header */
	size_t word_count;  /* bare identifiers so far; only the first four are classified */
	char lead[4];       /* first letter of CREATE/OR/REPLACE/FUNCTION/PROCEDURE, else 0 */
} split_state;

typedef struct stmt_vec {
	mig_sql_stmt *v;
	size_t n, cap;
	size_t line_pos; /* offset that line below is the line of */
	unsigned line;
} stmt_vec;

static int is_space(unsigned char c)
{
	/* psql's set: no \v, so a stray vertical tab is sent like any other byte */
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f';
}

static int is_digit(unsigned char c)
{
	return c >= '0' && c <= '9';
}

static int is_ident_start(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c >= 0x80;
}

/* A dollar-quote tag is an identifier without '$'. */
static int is_tag_cont(unsigned char c)
{
	return is_ident_start(c) || is_digit(c);
}

static int is_ident_cont(unsigned char c)
{
	return is_tag_cont(c) || c == '$';
}

static unsigned char lower(unsigned char c)
{
	return (c >= 'A' && c <= 'Z') ? (unsigned char)(c - 'A' + 'a') : c;
}

static int word_is(const char *w, size_t n, const char *kw)
{
	size_t i = 0;
	for (; i < n && kw[i]; i++)
		if (lower((unsigned char)w[i]) != (unsigned char)kw[i])
			return 0;
	return i == n && kw[i] == '\0';
}

static void reset_state(split_state *st)
{
	memset(st, 0, sizeof *st);
	st->start = NO_START;
}

static unsigned add_lines(unsigned line, const char *s, size_t n)
{
	const char *end = s + n;
	while (s < end) {
		const char *nl = memchr(s, '\n', (size_t)(end - s));
		if (!nl)
			break;
		if (line < UINT_MAX)
			line++;
		s = nl + 1;
	}
	return line;
}

unsigned mig_sql_line_at(const char *sql, size_t len, size_t pos)
{
	if (!sql)
		return 1;
	return add_lines(1, sql, pos < len ? pos : len);
}

/* i is just past "--"; the comment stops before the newline (\n or \r, as in psql). */
static size_t skip_line_comment(const char *s, size_t len, size_t i)
{
	while (i < len && s[i] != '\n' && s[i] != '\r')
		i++;
	return i;
}

/* i is just past the opening slash-star; comments nest. Sets *open when the text ends
 * inside the comment. */
static size_t skip_block_comment(const char *s, size_t len, size_t i, int *open)
{
	size_t depth = 1;
	*open = 0;
	while (i < len) {
		if (s[i] == '/' && i + 1 < len && s[i + 1] == '*') {
			depth++;
			i += 2;
		} else if (s[i] == '*' && i + 1 < len && s[i + 1] == '/') {
			i += 2;
			if (--depth == 0)
				return i;
		} else {
			i++;
		}
	}
	*open = 1;
	return len;
}

/* i is just past the opening quote q; a doubled q stands for itself. */
static size_t skip_quoted(const char *s, size_t len, size_t i, char q)
{
	while (i < len) {
		const char *p = memchr(s + i, q, len - i);
		if (!p)
			return len;
		i = (size_t)(p - s) + 1;
		if (i < len && s[i] == q)
			i++;
		else
			return i;
	}
	return len;
}

/* After a string's closing quote at i - 1: SQL glues 'a'<newline>'b' into one literal,
 * which matters only for E'' strings, whose backslashes then reach into the second
 * part. Returns the offset past the continuing quote, or 0 when the string ends. */
static size_t quote_continues(const char *s, size_t len, size_t i)
{
	while (i < len) {
		if (s[i] == ' ' || s[i] == '\t' || s[i] == '\f')
			i++;
		else if (s[i] == '-' && i + 1 < len && s[i + 1] == '-')
			i = skip_line_comment(s, len, i + 2);
		else
			break;
	}
	if (i >= len || (s[i] != '\n' && s[i] != '\r'))
		return 0;
	i++;
	while (i < len) {
		if (is_space((unsigned char)s[i])) {
			i++;
		} else if (s[i] == '-' && i + 1 < len && s[i + 1] == '-') {
			i = skip_line_comment(s, len, i + 2);
			if (i >= len)
				return 0;
			i++;
		} else {
			break;
		}
	}
	return (i < len && s[i] == '\'') ? i + 1 : 0;
}

/* i is just past E'; a backslash escapes the next byte, whatever it is. */
static size_t skip_escape_string(const char *s, size_t len, size_t i)
{
	for (;;) {
		while (i < len && s[i] != '\'') {
			if (s[i] == '\\') {
				if (i + 1 >= len)
					return len;
				i++;
			}
			i++;
		}
		if (i >= len)
			return len;
		i++;
		if (i < len && s[i] == '\'') {
			i++;
			continue;
		}
		size_t next = quote_continues(s, len, i);
		if (!next)
			return i;
		i = next;
	}
}

/* i is just past the opening $tag$. The body ends at the first "$tag$", comparing tags
 * case-sensitively. Each '$' is tried as a start, and a failed "$other$" leaves its last
 * '$' to be tried again, so every byte is looked at a bounded number of times. */
static size_t skip_dollar_body(const char *s, size_t len, size_t i, const char *tag, size_t tlen)
{
	while (i < len) {
		const char *p = memchr(s + i, '$', len - i);
		if (!p)
			return len;
		size_t k = (size_t)(p - s) + 1;
		size_t j = k;
		while (j < len && is_tag_cont((unsigned char)s[j]))
			j++;
		if (j < len && s[j] == '$' && j - k == tlen && memcmp(s + k, tag, tlen) == 0)
			return j + 1;
		i = j;
	}
	return len;
}

/* s[i] is '$': a dollar quote, a $n parameter, or a lone '$'. */
static size_t scan_dollar(const char *s, size_t len, size_t i)
{
	size_t j = i + 1;
	if (j < len && is_digit((unsigned char)s[j])) {
		while (j < len && is_digit((unsigned char)s[j]))
			j++;
		return j;
	}
	if (j < len && s[j] == '$')
		return skip_dollar_body(s, len, j + 1, s + j, 0);
	if (j < len && is_ident_start((unsigned char)s[j])) {
		size_t k = j;
		while (k < len && is_tag_cont((unsigned char)s[k]))
			k++;
		if (k < len && s[k] == '$')
			return skip_dollar_body(s, len, k + 1, s + j, k - j);
	}
	/* "$abc" with no closing '$': psql takes only the '$', then "abc" as a word */
	return i + 1;
}

/* Numbers are lexed like psql so that "1e5end" reads as 1e5 then END, not as one word. */
static size_t scan_number(const char *s, size_t len, size_t i)
{
	while (i < len && is_digit((unsigned char)s[i]))
		i++;
	if (i < len && s[i] == '.' && !(i + 1 < len && s[i + 1] == '.')) {
		i++;
		while (i < len && is_digit((unsigned char)s[i]))
			i++;
	}
	if (i < len && (s[i] == 'e' || s[i] == 'E')) {
		size_t j = i + 1;
		if (j < len && (s[j] == '+' || s[j] == '-'))
			j++;
		if (j < len && is_digit((unsigned char)s[j])) {
			i = j;
			while (i < len && is_digit((unsigned char)s[i]))
				i++;
		}
	}
	return i;
}

static int in_routine_header(const split_state *st)
{
	const char *l = st->lead;
	return l[0] == 'c' &&
	       (l[1] == 'f' || l[1] == 'p' ||
		(l[1] == 'o' && l[2] == 'r' && (l[3] == 'f' || l[3] == 'p')));
}

/* psql's heuristic for SQL-standard bodies: once the statement opened with
 * CREATE [OR REPLACE] FUNCTION|PROCEDURE, BEGIN (and CASE within it) nest until END,
 * counted only outside parentheses. Like psql, any word in those positions counts. */
static void track_word(split_state *st, const char *w, size_t n)
{
	if (st->word_count < sizeof st->lead &&
	    (word_is(w, n, "create") || word_is(w, n, "function") ||
	     word_is(w, n, "procedure") || word_is(w, n, "or") || word_is(w, n, "replace")))
		st->lead[st->word_count] = (char)lower((unsigned char)w[0]);
	if (st->word_count < SIZE_MAX)
		st->word_count++;
	if (st->paren_depth > 0 || !in_routine_header(st))
		return;
	if (word_is(w, n, "begin"))
		st->begin_depth++;
	else if (word_is(w, n, "case") && st->begin_depth > 0)
		st->begin_depth++;
	else if (word_is(w, n, "end") && st->begin_depth > 0)
		st->begin_depth--;
}

/* s[i] starts an identifier, or a one-letter string prefix (E'', B'', X'', N'', U&''). */
static size_t scan_word(const char *s, size_t len, size_t i, split_state *st)
{
	size_t j = i + 1;
	while (j < len && is_ident_cont((unsigned char)s[j]))
		j++;
	if (j - i == 1 && j < len) {
		unsigned char c = lower((unsigned char)s[i]);
		if (s[j] == '\'') {
			if (c == 'e')
				return skip_escape_string(s, len, j + 1);
			if (c == 'b' || c == 'x' || c == 'n')
				return skip_quoted(s, len, j + 1, '\'');
		}
		if (c == 'u' && s[j] == '&') {
			if (j + 1 < len && (s[j + 1] == '\'' || s[j + 1] == '"'))
				return skip_quoted(s, len, j + 2, s[j + 1]);
			return j; /* psql does not count this U as a word either */
		}
	}
	track_word(st, s + i, j - i);
	return j;
}

/* One significant token at s[i] (not white space, not a comment, not a terminating ';'). */
static size_t scan_token(const char *s, size_t len, size_t i, split_state *st)
{
	unsigned char c = (unsigned char)s[i];
	switch (c) {
	case '\'':
		return skip_quoted(s, len, i + 1, '\'');
	case '"':
		return skip_quoted(s, len, i + 1, '"');
	case '$':
		return scan_dollar(s, len, i);
	case '(':
		st->paren_depth++;
		return i + 1;
	case ')':
		if (st->paren_depth > 0)
			st->paren_depth--;
		return i + 1;
	case '.':
		if (i + 1 < len && is_digit((unsigned char)s[i + 1]))
			return scan_number(s, len, i);
		return i + 1;
	default:
		break;
	}
	if (is_digit(c))
		return scan_number(s, len, i);
	if (is_ident_start(c))
		return scan_word(s, len, i, st);
	return i + 1;
}

static int push_stmt(stmt_vec *vec, const char *sql, size_t start, size_t end)
{
	if (vec->n == vec->cap) {
		size_t cap = vec->cap ? vec->cap * 2 : 16;
		if (cap > SIZE_MAX / sizeof *vec->v)
			return -1;
		mig_sql_stmt *v = realloc(vec->v, cap * sizeof *v);
		if (!v)
			return -1;
		vec->v = v;
		vec->cap = cap;
	}
	vec->line = add_lines(vec->line, sql + vec->line_pos, start - vec->line_pos);
	vec->line_pos = start;
	vec->v[vec->n++] =
		(mig_sql_stmt){ .offset = start, .length = end - start, .line = vec->line };
	return 0;
}

int mig_sql_split(mig_sql_stmt **out, size_t *count, const char *sql, size_t len)
{
	stmt_vec vec = { .line = 1 };
	split_state st;
	size_t i = 0;

	*out = NULL;
	*count = 0;
	if (!sql)
		len = 0;
	reset_state(&st);
	while (i < len) {
		unsigned char c = (unsigned char)sql[i];
		if (is_space(c)) {
			i++;
		} else if (c == '-' && i + 1 < len && sql[i + 1] == '-') {
			i = skip_line_comment(sql, len, i + 2);
			st.end = i;
		} else if (c == '/' && i + 1 < len && sql[i + 1] == '*') {
			int open;
			size_t from = i;
			i = skip_block_comment(sql, len, i + 2, &open);
			/* psql sends an unclosed comment and the server rejects it; dropping
			 * it instead would skip the rest of the file without a word */
			if (open && st.start == NO_START)
				st.start = from;
			st.end = i;
		} else if (c == ';' && st.paren_depth == 0 && st.begin_depth == 0) {
			if (st.start != NO_START && push_stmt(&vec, sql, st.start, i + 1) != 0)
				goto oom;
			reset_state(&st);
			i++;
		} else {
			if (st.start == NO_START)
				st.start = i;
			i = scan_token(sql, len, i, &st);
			st.end = i;
		}
	}
	if (st.start != NO_START && push_stmt(&vec, sql, st.start, st.end) != 0)
		goto oom;
	if (vec.n == 0) {
		free(vec.v);
		vec.v = NULL;
	}
	*out = vec.v;
	*count = vec.n;
	return 0;
oom:
	free(vec.v);
	return -1;
}

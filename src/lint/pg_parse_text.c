/* The SQL text as written, byte by byte, for the parser wrapper (pg_parse_private.h):
 * white space and comments, quoted tokens, a CHECK constraint's condition as written,
 * UTF-8 validity and NUL bytes, lines and columns, libpg_query's character positions. */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "util/error.h"
#include "lint/pg_parse_private.h"

static bool ident_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '_' || c == '$' || (unsigned char)c >= 0x80;
}

/* The end of the quoted token at sql[pos] ('...', E'...', "...", $tag$...$tag$), or pos
 * when none starts there. */
static size_t skip_quoted(const char *sql, size_t len, size_t pos)
{
	char q = sql[pos];
	bool backslash = false;
	if ((q == 'E' || q == 'e') && pos + 1 < len && sql[pos + 1] == '\'' &&
	    (pos == 0 || !ident_char(sql[pos - 1]))) {
		backslash = true;
		q = sql[++pos];
	}
	if (q == '\'' || q == '"') {
		for (pos++; pos < len; pos++) {
			if (backslash && sql[pos] == '\\' && pos + 1 < len)
				pos++;
			else if (sql[pos] == q) {
				if (pos + 1 < len && sql[pos + 1] == q)
					pos++;
				else
					return pos + 1;
			}
		}
		return len;
	}
	if (q == '$' && (pos == 0 || !ident_char(sql[pos - 1]))) {
		size_t end = pos + 1;
		while (end < len && ident_char(sql[end]) && sql[end] != '$')
			end++;
		if (end >= len || sql[end] != '$')
			return pos;
		size_t tag = end + 1 - pos;
		for (size_t i = end + 1; i + tag <= len; i++)
			if (!memcmp(sql + i, sql + pos, tag))
				return i + tag;
		return len;
	}
	return pos;
}

/* CHECK's condition as written: the text between the parentheses after the CHECK keyword
 * at or after sql[pos] (quotes, comments and nested parentheses skipped). NULL when it
 * cannot be found; -1 in *rc when memory runs out. */
char *mig_pg_check_condition(const char *sql, size_t len, size_t pos, int *rc)
{
	*rc = 0;
	while (pos < len) {
		pos = mig_pg_skip_space_and_comments(sql, len, pos);
		size_t q = skip_quoted(sql, len, pos);
		if (q != pos) {
			pos = q;
			continue;
		}
		if (pos + 5 <= len && !strncasecmp(sql + pos, "check", 5) &&
		    (pos + 5 == len || !ident_char(sql[pos + 5])) && (pos == 0 || !ident_char(sql[pos - 1])))
			break;
		pos++;
	}
	pos = mig_pg_skip_space_and_comments(sql, len, pos + 5);
	if (pos >= len || sql[pos] != '(')
		return NULL;
	size_t start = ++pos;
	int depth = 1;
	while (pos < len && depth) {
		size_t next = mig_pg_skip_space_and_comments(sql, len, pos);
		if (next != pos) {
			pos = next;
			continue;
		}
		size_t q = skip_quoted(sql, len, pos);
		if (q != pos) {
			pos = q;
			continue;
		}
		depth += sql[pos] == '(' ? 1 : sql[pos] == ')' ? -1 : 0;
		pos++;
	}
	if (depth)
		return NULL;
	char *out = strndup(sql + start, pos - 1 - start);
	if (!out)
		*rc = -1;
	return out;
}

/* The first byte in [pos, len) that is neither white space nor inside a comment, else len.
 * As in PostgreSQL's scanner, a -- comment ends at \n or \r. */
size_t mig_pg_skip_space_and_comments(const char *sql, size_t len, size_t pos)
{
	while (pos < len) {
		char c = sql[pos];
		if (c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v') {
			pos++;
		} else if (c == '-' && pos + 1 < len && sql[pos + 1] == '-') {
			while (pos < len && sql[pos] != '\n' && sql[pos] != '\r')
				pos++;
		} else if (c == '/' && pos + 1 < len && sql[pos + 1] == '*') {
			int depth = 1;
			pos += 2;
			while (pos < len && depth) {
				if (sql[pos] == '/' && pos + 1 < len && sql[pos + 1] == '*')
					depth++, pos += 2;
				else if (sql[pos] == '*' && pos + 1 < len && sql[pos + 1] == '/')
					depth--, pos += 2;
				else
					pos++;
			}
		} else {
			break;
		}
	}
	return pos;
}

/* A parser message quotes the text near the error, which may run over lines: findings
 * and errors are one line each, so control characters become spaces. */
void mig_pg_one_line(char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < ' ' || *s == 0x7f)
			*s = ' ';
}

void mig_pg_line_column(const char *sql, size_t pos, unsigned *line, unsigned *column)
{
	unsigned l = 1, c = 1;
	for (size_t i = 0; i < pos; i++) {
		if (sql[i] == '\n')
			l++, c = 1;
		else if (((unsigned char)sql[i] & 0xC0) != 0x80)
			c++;
	}
	*line = l;
	*column = c;
}

/* Byte offset of the 1-based character position chars (libpg_query counts characters). */
size_t mig_pg_char_to_byte(const char *sql, size_t len, int chars)
{
	size_t i = 0;
	for (int seen = 0; i < len; i++) {
		if (((unsigned char)sql[i] & 0xC0) != 0x80 && ++seen == chars)
			return i;
	}
	return len;
}

/* Offset of the first byte that is not valid UTF-8, or len. */
static size_t invalid_utf8(const char *sql, size_t len)
{
	const unsigned char *s = (const unsigned char *)sql;
	for (size_t i = 0; i < len;) {
		unsigned char c = s[i];
		size_t n = c < 0x80 ? 1 : (c & 0xE0) == 0xC0 ? 2 : (c & 0xF0) == 0xE0 ? 3
						   : (c & 0xF8) == 0xF0 ? 4 : 0;
		if (!n || (n == 2 && c < 0xC2) || i + n > len)
			return i;
		for (size_t k = 1; k < n; k++)
			if ((s[i + k] & 0xC0) != 0x80)
				return i;
		if ((n == 3 && c == 0xE0 && s[i + 1] < 0xA0) || (n == 4 && c == 0xF0 && s[i + 1] < 0x90) ||
		    (n == 4 && (c > 0xF4 || (c == 0xF4 && s[i + 1] > 0x8F))) ||
		    (n == 3 && c == 0xED && s[i + 1] > 0x9F))
			return i;
		i += n;
	}
	return len;
}

/* What no PostgreSQL accepts, whatever its grammar: bytes that are not UTF-8, a NUL. */
int mig_pg_check_text(mig_pg_syntax_error *syntax, const char *sql, size_t len)
{
	size_t bad = invalid_utf8(sql, len);
	if (bad < len) {
		/* a UTF-8 server refuses it too; and the parse tree could not be JSON */
		snprintf(syntax->message, sizeof syntax->message,
			 "invalid byte sequence for encoding \"UTF8\": 0x%02x",
			 (unsigned char)sql[bad]);
		mig_pg_line_column(sql, bad, &syntax->line, &syntax->column);
		return MIG_ESCHEMA;
	}
	if (strlen(sql) < len) {
		/* a NUL byte: PostgreSQL would stop reading there too, so say so */
		snprintf(syntax->message, sizeof syntax->message, "unexpected NUL byte");
		mig_pg_line_column(sql, strlen(sql), &syntax->line, &syntax->column);
		return MIG_ESCHEMA;
	}
	return MIG_OK;
}

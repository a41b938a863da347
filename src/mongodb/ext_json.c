/* The MongoDB module's JSON reader (ext_json.h): jansson parses and validates the text but
 * keeps no positions, so a second, tiny scan of the already-accepted text records the line of
 * every JSON value in document order, for errors that end "(path:line)"; values of partial
 * filters and validators are read into typed mig_values, Extended JSON wrappers included.
 * With index_spec.c, the only files of the module that include <jansson.h>. */
#include "mongodb/ext_json.h"

#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char *dupstr(const char *s)
{
	size_t n = strlen(s) + 1;
	char *d = malloc(n);
	if (d)
		memcpy(d, s, n);
	return d;
}

static int oom(mig_error *err)
{
	return mig_error_set(err, MIG_EFAIL, "out of memory");
}

unsigned mig_json_line(const mig_json_doc *p, size_t pos)
{
	return pos < p->nlines ? p->lines[pos] : 1;
}

int mig_json_vfail(mig_json_doc *p, size_t pos, const char *fmt, va_list ap)
{
	char what[MIG_ERROR_MAX];
	vsnprintf(what, sizeof what, fmt, ap);
	return mig_error_set(p->err, MIG_EUSAGE, "%s (%s:%u)", what, p->path,
			     mig_json_line(p, pos));
}

int mig_json_fail(mig_json_doc *p, size_t pos, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int rc = mig_json_vfail(p, pos, fmt, ap);
	va_end(ap);
	return rc;
}

/* Depth is bounded by jansson's own nesting limit. */
size_t mig_json_subtree_size(json_t *v)
{
	size_t n = 1;
	if (json_is_object(v)) {
		const char *k;
		json_t *c;
		json_object_foreach(v, k, c)
			n += mig_json_subtree_size(c);
	} else if (json_is_array(v)) {
		size_t i;
		json_t *c;
		json_array_foreach(v, i, c)
			n += mig_json_subtree_size(c);
	}
	return n;
}

static int push_line(mig_json_doc *p, size_t *cap, unsigned line)
{
	if (p->nlines == *cap) {
		size_t ncap = *cap ? *cap * 2 : 64;
		unsigned *nl = realloc(p->lines, ncap * sizeof *nl);
		if (!nl)
			return -1;
		p->lines = nl;
		*cap = ncap;
	}
	p->lines[p->nlines++] = line;
	return 0;
}

/* Records the line of every value of text, which jansson has already accepted as valid JSON,
 * so only the token boundaries matter here. A value inside an object gets its key's line, the
 * place a reader looks for "unknown option 'x'". Returns 0, or -1 when memory runs out. */
static int scan_lines(mig_json_doc *p, const char *text, size_t len)
{
	char *stack = NULL; /* '{' or '[' for each open container */
	size_t depth = 0, stack_cap = 0, cap = 0, i = 0;
	unsigned line = 1, key_line = 1;
	int want_key = 0, rc = -1;

	while (i < len) {
		char c = text[i];
		if (c == '\n') {
			line++;
			i++;
			continue;
		}
		if (c == ' ' || c == '\t' || c == '\r' || c == ',' || c == ':') {
			if (c == ',' && depth && stack[depth - 1] == '{')
				want_key = 1;
			i++;
			continue;
		}
		if (c == '}' || c == ']') {
			depth--;
			want_key = 0;
			i++;
			continue;
		}
		if (c == '"' && want_key) {
			key_line = line; /* JSON strings cannot span lines */
			want_key = 0;
		} else if (push_line(p, &cap, depth && stack[depth - 1] == '{' ? key_line : line)) {
			goto done;
		}
		if (c == '{' || c == '[') {
			if (depth == stack_cap) {
				size_t ncap = stack_cap ? stack_cap * 2 : 32;
				char *ns = realloc(stack, ncap);
				if (!ns)
					goto done;
				stack = ns;
				stack_cap = ncap;
			}
			stack[depth++] = c;
			want_key = c == '{';
			i++;
		} else if (c == '"') {
			for (i++; i < len && text[i] != '"'; i++)
				if (text[i] == '\\')
					i++;
			i++;
		} else { /* number, true, false, null: always consume the first byte */
			for (i++; i < len && text[i] && !strchr(" \t\r\n,:]}", text[i]); i++)
				;
		}
	}
	rc = 0;
done:
	free(stack);
	return rc;
}

int mig_json_doc_parse(mig_json_doc *doc, const char *text, size_t len, const char *path,
		       mig_error *err)
{
	json_error_t jerr;

	memset(doc, 0, sizeof *doc);
	doc->path = path;
	doc->err = err;
	/* jansson skips a NUL after a number; the line scan and any reader would not */
	const char *nul = memchr(text, '\0', len);
	if (nul) {
		unsigned line = 1;
		for (const char *q = text; q < nul; q++)
			line += *q == '\n';
		return mig_error_set(err, MIG_EUSAGE,
				     "'%s' is not a text file: it holds a NUL byte (%s:%u)", path,
				     path, line);
	}
	doc->root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr);
	if (!doc->root)
		return mig_error_set(err, MIG_EUSAGE, "invalid JSON: %s (%s:%d:%d)", jerr.text,
				     path, jerr.line > 0 ? jerr.line : 1,
				     jerr.column > 0 ? jerr.column : 1);
	if (scan_lines(doc, text, len))
		return oom(err);
	return MIG_OK;
}

void mig_json_doc_clear(mig_json_doc *doc)
{
	json_decref(doc->root);
	free(doc->lines);
	memset(doc, 0, sizeof *doc);
}

char *mig_json_dump(json_t *v)
{
	return json_dumps(v, JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_ENCODE_ANY);
}

static void value_clear(mig_value *v)
{
	if (!v)
		return;
	free(v->string);
	for (size_t i = 0; i < v->n; i++) {
		value_clear(&v->items[i]);
		if (v->keys)
			free(v->keys[i]);
	}
	free(v->items);
	free(v->keys);
	memset(v, 0, sizeof *v);
}

void mig_value_free(mig_value *v)
{
	value_clear(v);
	free(v);
}

static bool all_hex(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!strchr("0123456789abcdefABCDEF", s[i]) || !s[i])
			return false;
	return true;
}

/* Days from 1970-01-01 to y-m-d in the proleptic Gregorian calendar. */
static long long days_from_civil(long long y, unsigned m, unsigned d)
{
	y -= m <= 2;
	long long era = (y >= 0 ? y : y - 399) / 400;
	unsigned yoe = (unsigned)(y - era * 400);
	unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + (long long)doe - 719468;
}

/* "YYYY-MM-DDTHH:MM:SS[.fff]Z" (extended JSON's relaxed $date) into ms since the epoch. */
static bool parse_iso_date(const char *s, long long *ms)
{
	unsigned y, mo, d, h, mi, se, frac = 0;
	int n = 0;
	if (sscanf(s, "%4u-%2u-%2uT%2u:%2u:%2u%n", &y, &mo, &d, &h, &mi, &se, &n) != 6 || n != 19)
		return false;
	s += n;
	if (*s == '.') {
		unsigned scale = 100;
		for (s++; *s >= '0' && *s <= '9'; s++, scale /= 10)
			frac += scale * (unsigned)(*s - '0');
	}
	if (strcmp(s, "Z") || mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 ||
	    se > 60)
		return false;
	*ms = ((days_from_civil(y, mo, d) * 24 + h) * 60 + mi) * 60000LL + se * 1000LL + frac;
	return true;
}

/* Reads an extended JSON wrapper ({"$date": ...} and friends) into out; 0 when v is one,
 * 1 when v is not a wrapper, -1 (err filled) when it is a malformed one. */
static int read_wrapper(mig_json_doc *p, size_t pos, json_t *v, mig_value *out,
			const char *where)
{
	const char *k;
	json_t *x;
	if (!json_is_object(v) || json_object_size(v) != 1)
		return 1;
	k = json_object_iter_key(json_object_iter(v));
	x = json_object_get(v, k);
	if (!strcmp(k, "$date")) {
		json_t *nl = json_object_get(x, "$numberLong");
		out->type = MIG_VALUE_DATE;
		if (json_is_integer(x))
			out->integer = (long long)json_integer_value(x);
		else if (json_is_string(x) && parse_iso_date(json_string_value(x), &out->integer))
			;
		else if (json_is_object(x) && json_object_size(x) == 1 && json_is_string(nl))
			out->integer = strtoll(json_string_value(nl), NULL, 10);
		else
			return mig_json_fail(p, pos,
					     "bad {\"$date\": ...} in %s: expected an ISO-8601 UTC "
					     "time (\"2024-01-31T00:00:00Z\") or milliseconds",
					     where), -1;
		return 0;
	}
	if (!strcmp(k, "$oid")) {
		if (!json_is_string(x) || json_string_length(x) != 24 ||
		    !all_hex(json_string_value(x), 24))
			return mig_json_fail(p, pos,
					     "bad {\"$oid\": ...} in %s: expected 24 hex digits",
					     where), -1;
		out->type = MIG_VALUE_OID;
	} else if (!strcmp(k, "$numberLong")) {
		char *end = NULL;
		if (!json_is_string(x) || !*json_string_value(x) ||
		    (strtoll(json_string_value(x), &end, 10), *end))
			return mig_json_fail(p, pos,
					     "bad {\"$numberLong\": ...} in %s: expected a string "
					     "of digits", where), -1;
		out->type = MIG_VALUE_LONG;
		out->integer = strtoll(json_string_value(x), NULL, 10);
		return 0;
	} else if (!strcmp(k, "$numberDecimal")) {
		if (!json_is_string(x))
			return mig_json_fail(p, pos,
					     "bad {\"$numberDecimal\": ...} in %s: expected a "
					     "string", where), -1;
		out->type = MIG_VALUE_DECIMAL;
	} else {
		return 1;
	}
	if (!(out->string = dupstr(json_string_value(x))))
		return oom(p->err), -1;
	return 0;
}

int mig_json_read_value(mig_json_doc *p, size_t pos, json_t *v, mig_value *out,
			const char *where)
{
	int w = read_wrapper(p, pos, v, out, where);
	if (w <= 0)
		return w ? p->err->code : MIG_OK;
	switch (json_typeof(v)) {
	case JSON_NULL:
		out->type = MIG_VALUE_NULL;
		return MIG_OK;
	case JSON_TRUE:
	case JSON_FALSE:
		out->type = MIG_VALUE_BOOL;
		out->boolean = json_is_true(v);
		return MIG_OK;
	case JSON_INTEGER:
		out->type = MIG_VALUE_INT;
		out->integer = (long long)json_integer_value(v);
		return MIG_OK;
	case JSON_REAL:
		out->type = MIG_VALUE_DOUBLE;
		out->number = json_real_value(v);
		return MIG_OK;
	case JSON_STRING:
		out->type = MIG_VALUE_STRING;
		return (out->string = dupstr(json_string_value(v))) ? MIG_OK : oom(p->err);
	case JSON_ARRAY: {
		size_t i, at = pos + 1;
		json_t *c;
		out->type = MIG_VALUE_ARRAY;
		if (json_array_size(v) &&
		    !(out->items = calloc(json_array_size(v), sizeof *out->items)))
			return oom(p->err);
		json_array_foreach(v, i, c) {
			int rc = mig_json_read_value(p, at, c, &out->items[out->n++], where);
			if (rc)
				return rc;
			at += mig_json_subtree_size(c);
		}
		return MIG_OK;
	}
	case JSON_OBJECT: {
		size_t at = pos + 1, cnt = json_object_size(v);
		const char *k;
		json_t *c;
		out->type = MIG_VALUE_OBJECT;
		if (cnt && (!(out->items = calloc(cnt, sizeof *out->items)) ||
			    !(out->keys = calloc(cnt, sizeof *out->keys))))
			return oom(p->err);
		json_object_foreach(v, k, c) {
			size_t i = out->n++;
			int rc;
			if (!(out->keys[i] = dupstr(k)))
				return oom(p->err);
			if ((rc = mig_json_read_value(p, at, c, &out->items[i], where)))
				return rc;
			at += mig_json_subtree_size(c);
		}
		return MIG_OK;
	}
	}
	return mig_json_fail(p, pos, "unsupported value in %s", where);
}

int mig_json_read_object(mig_json_doc *p, size_t pos, json_t *v, mig_value **out,
			 const char *where)
{
	int rc;
	if (!(*out = calloc(1, sizeof **out)))
		return oom(p->err);
	if ((rc = mig_json_read_value(p, pos, v, *out, where)))
		return rc;
	if ((*out)->type != MIG_VALUE_OBJECT)
		return mig_json_fail(p, pos, "%s must be an object", where);
	return MIG_OK;
}

bool mig_value_is_wrapper(const mig_value *v)
{
	return v->type == MIG_VALUE_DATE || v->type == MIG_VALUE_OID ||
	       v->type == MIG_VALUE_LONG || v->type == MIG_VALUE_DECIMAL;
}

/* Reads and validates a module's indexes.json (SPEC.md, "indexes.json") into a mig_index_spec.
 * The only file that includes <jansson.h>. jansson builds the tree but keeps no positions, so a
 * second, tiny scan of the already-validated text records the line of every JSON value in
 * document order; since jansson iterates objects in insertion order, a pre-order walk of the
 * tree meets the values in that same order and can look their lines up by position. */
#include "mongodb/index_spec.h"
#include "util/fs.h"
#include "mongodb/index_collation.h"

#include <errno.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Larger files are almost certainly a mistake, and the cap bounds the memory we spend. */
#define MAX_SPEC_BYTES ((size_t)16 << 20)

/* mongod stores expireAfterSeconds as a 32-bit integer and rejects anything larger. */
#define MAX_EXPIRE_SECONDS 2147483647LL

typedef struct parser {
	const char *path;
	unsigned *lines; /* line of each JSON value in pre-order (its key's line when it has one) */
	size_t nlines;
	mig_error *err;
} parser;

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

static unsigned line_at(const parser *p, size_t pos)
{
	return pos < p->nlines ? p->lines[pos] : 1;
}

/* Fills err with MIG_EUSAGE, the message and " (path:line)" of the value at pos. */
static int fail(parser *p, size_t pos, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int fail(parser *p, size_t pos, const char *fmt, ...)
{
	char what[MIG_ERROR_MAX];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(what, sizeof what, fmt, ap);
	va_end(ap);
	return mig_error_set(p->err, MIG_EUSAGE, "%s (%s:%u)", what, p->path, line_at(p, pos));
}

/* Number of JSON values in v's subtree, v included: how far the pre-order position moves
 * when v is skipped. Depth is bounded by jansson's own nesting limit. */
static size_t subtree_size(json_t *v)
{
	size_t n = 1;
	if (json_is_object(v)) {
		const char *k;
		json_t *c;
		json_object_foreach(v, k, c)
			n += subtree_size(c);
	} else if (json_is_array(v)) {
		size_t i;
		json_t *c;
		json_array_foreach(v, i, c)
			n += subtree_size(c);
	}
	return n;
}

static int push_line(parser *p, size_t *cap, unsigned line)
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
static int scan_lines(parser *p, const char *text, size_t len)
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

/* A compact dump with key order kept, for messages. NULL when out of memory. */
static char *dump_compact(json_t *v)
{
	return json_dumps(v, JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_ENCODE_ANY);
}

static int check_collection_name(parser *p, size_t pos, json_t *v)
{
	const char *s;
	if (!json_is_string(v))
		return fail(p, pos, "collection 'name' must be a string");
	s = json_string_value(v);
	if (!*s)
		return fail(p, pos, "empty collection name");
	if (strlen(s) != json_string_length(v) || strchr(s, '$'))
		return fail(p, pos, "invalid collection name '%s': '$' and NUL are not allowed", s);
	if (!strncmp(s, "system.", 7))
		return fail(p, pos,
			    "invalid collection name '%s': the 'system.' prefix is reserved", s);
	return MIG_OK;
}

/* ---- typed values (partial filters, validators) ---- */

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

static void value_free(mig_value *v)
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
static int read_wrapper(parser *p, size_t pos, json_t *v, mig_value *out, const char *where)
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
			return fail(p, pos,
				    "bad {\"$date\": ...} in %s: expected an ISO-8601 UTC time "
				    "(\"2024-01-31T00:00:00Z\") or milliseconds",
				    where), -1;
		return 0;
	}
	if (!strcmp(k, "$oid")) {
		if (!json_is_string(x) || json_string_length(x) != 24 ||
		    !all_hex(json_string_value(x), 24))
			return fail(p, pos, "bad {\"$oid\": ...} in %s: expected 24 hex digits",
				    where), -1;
		out->type = MIG_VALUE_OID;
	} else if (!strcmp(k, "$numberLong")) {
		char *end = NULL;
		if (!json_is_string(x) || !*json_string_value(x) ||
		    (strtoll(json_string_value(x), &end, 10), *end))
			return fail(p, pos, "bad {\"$numberLong\": ...} in %s: expected a string of "
				    "digits", where), -1;
		out->type = MIG_VALUE_LONG;
		out->integer = strtoll(json_string_value(x), NULL, 10);
		return 0;
	} else if (!strcmp(k, "$numberDecimal")) {
		if (!json_is_string(x))
			return fail(p, pos, "bad {\"$numberDecimal\": ...} in %s: expected a string",
				    where), -1;
		out->type = MIG_VALUE_DECIMAL;
	} else {
		return 1;
	}
	if (!(out->string = dupstr(json_string_value(x))))
		return oom(p->err), -1;
	return 0;
}

/* Converts v (at pre-order position pos) into out. */
static int read_value(parser *p, size_t pos, json_t *v, mig_value *out, const char *where)
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
			int rc = read_value(p, at, c, &out->items[out->n++], where);
			if (rc)
				return rc;
			at += subtree_size(c);
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
			if ((rc = read_value(p, at, c, &out->items[i], where)))
				return rc;
			at += subtree_size(c);
		}
		return MIG_OK;
	}
	}
	return fail(p, pos, "unsupported value in %s", where);
}

static int read_object(parser *p, size_t pos, json_t *v, mig_value **out, const char *where)
{
	int rc;
	if (!(*out = calloc(1, sizeof **out)))
		return oom(p->err);
	if ((rc = read_value(p, pos, v, *out, where)))
		return rc;
	if ((*out)->type != MIG_VALUE_OBJECT)
		return fail(p, pos, "%s must be an object", where);
	return MIG_OK;
}

/* Operators mongod accepts in a partialFilterExpression ($or and $in from 6.0 on). */
static const char *const partial_ops[] = {"$eq", "$gt", "$gte", "$lt", "$lte", "$type",
					  "$exists", "$in", NULL};

static bool is_wrapper_value(const mig_value *v)
{
	return v->type == MIG_VALUE_DATE || v->type == MIG_VALUE_OID ||
	       v->type == MIG_VALUE_LONG || v->type == MIG_VALUE_DECIMAL;
}

/* mongod refuses a partial filter with any other operator (code 67); so does this. */
static int check_partial(parser *p, size_t pos, const mig_value *f, const char *label,
			 const char *coll, int depth)
{
	for (size_t i = 0; i < f->n; i++) {
		const char *k = f->keys[i];
		const mig_value *c = &f->items[i];
		if (!strcmp(k, "$and") || !strcmp(k, "$or")) {
			if (c->type != MIG_VALUE_ARRAY || !c->n)
				return fail(p, pos,
					    "'%s' in the partialFilterExpression of %s in collection "
					    "'%s' must be a non-empty array of objects",
					    k, label, coll);
			for (size_t j = 0; j < c->n; j++) {
				int rc;
				if (c->items[j].type != MIG_VALUE_OBJECT)
					return fail(p, pos,
						    "'%s' in the partialFilterExpression of %s in "
						    "collection '%s' must be a non-empty array of "
						    "objects",
						    k, label, coll);
				if (depth > 3)
					return fail(p, pos,
						    "the partialFilterExpression of %s in collection "
						    "'%s' nests '$and'/'$or' too deeply for mongod",
						    label, coll);
				if ((rc = check_partial(p, pos, &c->items[j], label, coll,
							depth + 1)))
					return rc;
			}
			continue;
		}
		if (k[0] == '$')
			return fail(p, pos,
				    "operator '%s' is not supported in the partialFilterExpression "
				    "of %s in collection '%s' (mongod accepts equality, $eq, $gt, "
				    "$gte, $lt, $lte, $type, $exists: true, $in, $and, $or)",
				    k, label, coll);
		if (c->type != MIG_VALUE_OBJECT || !c->n || c->keys[0][0] != '$' ||
		    is_wrapper_value(c))
			continue; /* equality */
		for (size_t j = 0; j < c->n; j++) {
			const char *op = c->keys[j];
			size_t o = 0;
			while (partial_ops[o] && strcmp(partial_ops[o], op))
				o++;
			if (!partial_ops[o])
				return fail(p, pos,
					    "operator '%s' on '%s' is not supported in the "
					    "partialFilterExpression of %s in collection '%s' (mongod "
					    "accepts equality, $eq, $gt, $gte, $lt, $lte, $type, "
					    "$exists: true, $in, $and, $or)",
					    op, k, label, coll);
			if (!strcmp(op, "$exists") &&
			    !(c->items[j].type == MIG_VALUE_BOOL ? c->items[j].boolean
								  : c->items[j].type == MIG_VALUE_INT &&
									    c->items[j].integer))
				return fail(p, pos,
					    "'$exists: false' on '%s' is not supported in the "
					    "partialFilterExpression of %s in collection '%s'",
					    k, label, coll);
			if (!strcmp(op, "$in") && c->items[j].type != MIG_VALUE_ARRAY)
				return fail(p, pos,
					    "'$in' on '%s' in the partialFilterExpression of %s in "
					    "collection '%s' needs an array",
					    k, label, coll);
		}
	}
	return MIG_OK;
}

/* ---- collations ---- */

static int parse_collation(parser *p, size_t pos, json_t *v, mig_collation *out, bool *simple,
			   const char *label, const char *coll)
{
	const char *k, *locale;
	json_t *c, *loc = json_object_get(v, "locale");
	size_t at = pos + 1;

	if (!json_is_object(v) || !json_is_string(loc))
		return fail(p, pos,
			    "option 'collation' of %s in collection '%s' must be an object with a "
			    "string 'locale'",
			    label, coll);
	locale = json_string_value(loc);
	*simple = !strcmp(locale, "simple");
	if (*simple) {
		if (json_object_size(v) != 1)
			return fail(p, pos,
				    "collation of %s in collection '%s': with locale \"simple\" no "
				    "other field may be set",
				    label, coll);
		return MIG_OK;
	}
	if (mig_collation_defaults(out, locale))
		return fail(p, pos,
			    "collation of %s in collection '%s': unknown locale '%s' (mongod wants "
			    "ICU's form, e.g. \"en_US\", \"fr_CA\", \"de@collation=phonebook\")",
			    label, coll, locale);
	if (!(out->locale = dupstr(locale)))
		return oom(p->err);
	json_object_foreach(v, k, c) {
		const char *s = json_is_string(c) ? json_string_value(c) : NULL;
		bool ok = true;
		if (!strcmp(k, "locale")) {
		} else if (!strcmp(k, "caseLevel") || !strcmp(k, "numericOrdering") ||
			   !strcmp(k, "normalization") || !strcmp(k, "backwards")) {
			bool b = json_is_true(c);
			ok = json_is_boolean(c);
			if (k[0] == 'c')
				out->case_level = b;
			else if (k[1] == 'u')
				out->numeric_ordering = b;
			else if (k[0] == 'n')
				out->normalization = b;
			else
				out->backwards = b;
		} else if (!strcmp(k, "strength")) {
			ok = json_is_integer(c) && json_integer_value(c) >= 1 &&
			     json_integer_value(c) <= 5;
			out->strength = ok ? (int)json_integer_value(c) : 3;
		} else if (!strcmp(k, "caseFirst")) {
			ok = s && (!strcmp(s, "upper") || !strcmp(s, "lower") || !strcmp(s, "off"));
			if (ok)
				out->case_first = !strcmp(s, "upper")   ? "upper"
						  : !strcmp(s, "lower") ? "lower"
									: "off";
		} else if (!strcmp(k, "alternate")) {
			ok = s && (!strcmp(s, "non-ignorable") || !strcmp(s, "shifted"));
			if (ok)
				out->alternate = s[0] == 's' ? "shifted" : "non-ignorable";
		} else if (!strcmp(k, "maxVariable")) {
			ok = s && (!strcmp(s, "punct") || !strcmp(s, "space"));
			if (ok)
				out->max_variable = s[0] == 's' ? "space" : "punct";
		} else {
			return fail(p, at, "collation of %s in collection '%s': unknown field '%s'",
				    label, coll, k);
		}
		if (!ok) {
			char *shown = dump_compact(c);
			int rc = fail(p, at, "collation of %s in collection '%s': bad value %s for "
				      "'%s'", label, coll, shown ? shown : "?", k);
			free(shown);
			return rc;
		}
		at += subtree_size(c);
	}
	if (out->backwards && out->strength == 1)
		return fail(p, pos,
			    "collation of %s in collection '%s': 'backwards' needs strength 2 or "
			    "more",
			    label, coll);
	return MIG_OK;
}

/* ---- keys and options ---- */

static const char *kind_name(mig_key_kind k)
{
	static const char *const names[] = {"1", "-1", "text", "2dsphere", "hashed"};
	return names[k];
}

/* Parses "keys" into ix->keys (file order kept) and sets the default name. */
static int parse_keys(parser *p, size_t pos, json_t *keys, mig_index *ix, const char *label,
		      const char *coll)
{
	const char *field;
	json_t *v;
	size_t at = pos + 1, n = 0, name_len = 1;

	if (!json_is_object(keys))
		return fail(p, pos, "'keys' of %s in collection '%s' must be an object", label,
			    coll);
	if (json_object_size(keys) == 0)
		return fail(p, pos, "empty 'keys' in %s of collection '%s'", label, coll);
	ix->keys = calloc(json_object_size(keys), sizeof *ix->keys);
	if (!ix->keys)
		return oom(p->err);
	json_object_foreach(keys, field, v) {
		int kind = -1;
		if (!*field)
			return fail(p, at, "empty field name in 'keys' of %s in collection '%s'",
				    label, coll);
		if (json_is_integer(v) && json_integer_value(v) == 1) {
			kind = MIG_KEY_ASC;
		} else if (json_is_integer(v) && json_integer_value(v) == -1) {
			kind = MIG_KEY_DESC;
		} else if (json_is_string(v)) {
			const char *s = json_string_value(v);
			kind = !strcmp(s, "text")       ? MIG_KEY_TEXT
			       : !strcmp(s, "2dsphere") ? MIG_KEY_2DSPHERE
			       : !strcmp(s, "hashed")   ? MIG_KEY_HASHED
							: -1;
		}
		if (kind < 0) {
			char *shown = dump_compact(v);
			int rc = fail(
				p, at,
				"bad value %s for key '%s' in %s of collection '%s': expected 1, "
				"-1, \"text\", \"2dsphere\" or \"hashed\"",
				shown ? shown : "?", field, label, coll);
			free(shown);
			return rc;
		}
		if (!(ix->keys[n].field = dupstr(field)))
			return oom(p->err);
		ix->keys[n].kind = (mig_key_kind)kind;
		ix->nkeys = ++n;
		name_len += strlen(field) + strlen(kind_name(ix->keys[n - 1].kind)) + 2;
		at += 1; /* every accepted value is a scalar */
	}

	/* MongoDB's default: field_value pairs joined with '_', e.g. "sku_1_created_at_-1". */
	ix->name = malloc(name_len);
	if (!ix->name)
		return oom(p->err);
	ix->name[0] = '\0';
	for (size_t i = 0; i < ix->nkeys; i++) {
		if (i)
			strcat(ix->name, "_");
		strcat(ix->name, ix->keys[i].field);
		strcat(ix->name, "_");
		strcat(ix->name, kind_name(ix->keys[i].kind));
	}
	return MIG_OK;
}

/* mongod's key pattern rules (index_key_validate.cpp, fts_spec.cpp): one special index
 * type per key, text fields adjacent, at most one hashed field. */
static int check_keys(parser *p, size_t pos, const mig_index *ix, const char *label,
		      const char *coll)
{
	int special = -1, hashed = 0;
	size_t first_text = SIZE_MAX, last_text = 0;
	for (size_t i = 0; i < ix->nkeys; i++) {
		mig_key_kind k = ix->keys[i].kind;
		if (k == MIG_KEY_ASC || k == MIG_KEY_DESC)
			continue;
		if (special >= 0 && special != (int)k)
			return fail(p, pos,
				    "%s in collection '%s' mixes index types \"%s\" and \"%s\": "
				    "mongod allows one per index",
				    label, coll, kind_name((mig_key_kind)special), kind_name(k));
		special = (int)k;
		hashed += k == MIG_KEY_HASHED;
		if (k == MIG_KEY_TEXT) {
			if (first_text == SIZE_MAX)
				first_text = i;
			else if (last_text + 1 != i)
				return fail(p, pos,
					    "the text fields of %s in collection '%s' must be next "
					    "to each other in 'keys'",
					    label, coll);
			last_text = i;
		}
	}
	if (hashed > 1)
		return fail(p, pos, "%s in collection '%s' has more than one hashed field", label,
			    coll);
	return MIG_OK;
}

static int parse_bool_option(parser *p, size_t pos, json_t *v, int *out, const char *opt,
			     const char *label, const char *coll)
{
	if (!json_is_boolean(v))
		return fail(p, pos, "option '%s' of %s in collection '%s' must be true or false",
			    opt, label, coll);
	*out = json_is_true(v);
	return MIG_OK;
}

/* The languages of mongod's text search (fts_language.cpp), short and long names. */
static bool text_language(const char *s)
{
	static const char *const langs[] = {
		"none", "da", "danish", "nl", "dutch", "en", "english", "fi", "finnish", "fr",
		"french", "de", "german", "hu", "hungarian", "it", "italian", "nb", "norwegian",
		"pt", "portuguese", "ro", "romanian", "ru", "russian", "es", "spanish", "sv",
		"swedish", "tr", "turkish"};
	for (size_t i = 0; i < sizeof langs / sizeof *langs; i++)
		if (!strcmp(langs[i], s))
			return true;
	return false;
}

static int cmp_weight(const void *a, const void *b)
{
	return strcmp(((const mig_text_weight *)a)->field, ((const mig_text_weight *)b)->field);
}

static int add_weight(mig_index *ix, const char *field, int weight)
{
	for (size_t i = 0; i < ix->nweights; i++)
		if (!strcmp(ix->weights[i].field, field)) {
			ix->weights[i].weight = weight;
			return 0;
		}
	mig_text_weight *nw = realloc(ix->weights, (ix->nweights + 1) * sizeof *nw);
	if (!nw)
		return -1;
	ix->weights = nw;
	if (!(nw[ix->nweights].field = dupstr(field)))
		return -1;
	nw[ix->nweights++].weight = weight;
	return 0;
}

static bool is_text_index(const mig_index *ix)
{
	for (size_t i = 0; i < ix->nkeys; i++)
		if (ix->keys[i].kind == MIG_KEY_TEXT)
			return true;
	return false;
}

static int parse_options(parser *p, size_t pos, json_t *opts, mig_index *ix, const char *label,
			 const char *coll)
{
	const char *opt;
	json_t *v;
	size_t at = pos + 1, weights_pos = 0, lang_pos = 0;
	json_t *weights = NULL, *lang = NULL, *override = NULL;
	bool text = is_text_index(ix);
	int rc;

	if (opts && !json_is_object(opts))
		return fail(p, pos, "'options' of %s in collection '%s' must be an object", label,
			    coll);
	json_object_foreach(opts, opt, v) {
		if (!strcmp(opt, "name")) {
			if (!json_is_string(v) || !*json_string_value(v))
				return fail(p, at,
					    "option 'name' of %s in collection '%s' must be a "
					    "non-empty string",
					    label, coll);
			free(ix->name);
			if (!(ix->name = dupstr(json_string_value(v))))
				return oom(p->err);
		} else if (!strcmp(opt, "unique")) {
			if ((rc = parse_bool_option(p, at, v, &ix->unique, opt, label, coll)))
				return rc;
		} else if (!strcmp(opt, "sparse")) {
			if ((rc = parse_bool_option(p, at, v, &ix->sparse, opt, label, coll)))
				return rc;
		} else if (!strcmp(opt, "hidden")) {
			if ((rc = parse_bool_option(p, at, v, &ix->hidden, opt, label, coll)))
				return rc;
		} else if (!strcmp(opt, "expireAfterSeconds")) {
			if (!json_is_integer(v) || json_integer_value(v) < 0 ||
			    json_integer_value(v) > MAX_EXPIRE_SECONDS)
				return fail(p, at,
					    "option 'expireAfterSeconds' of %s in collection '%s' "
					    "must be an integer from 0 to %lld",
					    label, coll, MAX_EXPIRE_SECONDS);
			if (ix->nkeys > 1)
				return fail(p, at,
					    "option 'expireAfterSeconds' of %s in collection '%s': "
					    "mongod allows TTL only on a single-field index",
					    label, coll);
			ix->has_expire_after_seconds = true;
			ix->expire_after_seconds = (long long)json_integer_value(v);
		} else if (!strcmp(opt, "partialFilterExpression")) {
			char where[MIG_ERROR_MAX / 2];
			if (!json_is_object(v))
				return fail(p, at,
					    "option 'partialFilterExpression' of %s in collection "
					    "'%s' must be an object",
					    label, coll);
			snprintf(where, sizeof where, "the partialFilterExpression of %s",
				 label);
			if ((rc = read_object(p, at, v, &ix->partial_filter, where)) ||
			    (rc = check_partial(p, at, ix->partial_filter, label, coll, 0)))
				return rc;
		} else if (!strcmp(opt, "collation")) {
			if ((rc = parse_collation(p, at, v, &ix->collation, &ix->simple_collation,
						  label, coll)))
				return rc;
			ix->has_collation = !ix->simple_collation;
			if (text && ix->has_collation)
				return fail(p, at,
					    "%s in collection '%s' is a text index: mongod does not "
					    "allow a collation on it",
					    label, coll);
		} else if (!strcmp(opt, "weights")) {
			weights = v;
			weights_pos = at;
		} else if (!strcmp(opt, "default_language")) {
			lang = v;
			lang_pos = at;
		} else if (!strcmp(opt, "language_override")) {
			override = v;
			if (!json_is_string(v) || !*json_string_value(v))
				return fail(p, at,
					    "option 'language_override' of %s in collection '%s' "
					    "must be a non-empty string",
					    label, coll);
		} else {
			return fail(p, at, "unknown option '%s' in %s of collection '%s'", opt,
				    label, coll);
		}
		if (!text && (weights == v || lang == v || override == v))
			return fail(p, at,
				    "option '%s' of %s in collection '%s' is for text indexes only",
				    opt, label, coll);
		at += subtree_size(v);
	}
	if (ix->sparse == 1 && ix->partial_filter)
		return fail(p, pos,
			    "%s in collection '%s' sets both 'sparse' and "
			    "'partialFilterExpression': mongod allows only one",
			    label, coll);
	if (ix->unique == 1)
		for (size_t i = 0; i < ix->nkeys; i++)
			if (ix->keys[i].kind == MIG_KEY_HASHED)
				return fail(p, pos,
					    "%s in collection '%s': a hashed index cannot be unique",
					    label, coll);
	if (weights) {
		const char *f;
		json_t *w;
		if (!json_is_object(weights))
			return fail(p, weights_pos,
				    "option 'weights' of %s in collection '%s' must be an object",
				    label, coll);
		json_object_foreach(weights, f, w) {
			if (!json_is_integer(w) || json_integer_value(w) < 1 ||
			    json_integer_value(w) > 99999)
				return fail(p, weights_pos,
					    "weight of '%s' in %s of collection '%s' must be an "
					    "integer from 1 to 99999",
					    f, label, coll);
		}
	}
	if (lang && (!json_is_string(lang) || !text_language(json_string_value(lang))))
		return fail(p, lang_pos,
			    "option 'default_language' of %s in collection '%s' must be a "
			    "language of mongod's text search (e.g. \"english\", \"fr\", \"none\")",
			    label, coll);
	if (text) {
		for (size_t i = 0; i < ix->nkeys; i++)
			if (ix->keys[i].kind == MIG_KEY_TEXT) {
				if (!strcmp(ix->keys[i].field, "$**"))
					ix->wildcard_text = true;
				if (add_weight(ix, ix->keys[i].field, 1))
					return oom(p->err);
			}
		if (weights) {
			const char *f;
			json_t *w;
			json_object_foreach(weights, f, w)
				if (add_weight(ix, f, (int)json_integer_value(w)))
					return oom(p->err);
		}
		qsort(ix->weights, ix->nweights, sizeof *ix->weights, cmp_weight);
		if (!(ix->default_language = dupstr(lang ? json_string_value(lang) : "english")) ||
		    !(ix->language_override =
			      dupstr(override ? json_string_value(override) : "language")))
			return oom(p->err);
	}
	return MIG_OK;
}

static int parse_index(parser *p, size_t pos, json_t *v, size_t nth, mig_collection *c)
{
	mig_index *ix = &c->indexes[c->nindexes++]; /* counted now so that free sees it */
	json_t *keys = NULL, *opts = NULL, *name;
	size_t keys_pos = 0, opts_pos = 0, at = pos + 1;
	char label[64 + MIG_ERROR_MAX / 4];
	const char *k;
	json_t *child;
	int rc;

	ix->line = line_at(p, pos);
	ix->unique = ix->sparse = ix->hidden = -1;
	if (!json_is_object(v))
		return fail(p, pos, "index %zu of collection '%s' must be an object", nth, c->name);

	/* Name the index in messages as the user knows it: by its explicit name when it has one. */
	name = json_object_get(json_object_get(v, "options"), "name");
	if (json_is_string(name) && *json_string_value(name))
		snprintf(label, sizeof label, "index '%.200s'", json_string_value(name));
	else
		snprintf(label, sizeof label, "index %zu", nth);

	json_object_foreach(v, k, child) {
		if (!strcmp(k, "keys")) {
			keys = child;
			keys_pos = at;
		} else if (!strcmp(k, "options")) {
			opts = child;
			opts_pos = at;
		} else {
			return fail(p, at, "unknown key '%s' in %s of collection '%s'", k, label,
				    c->name);
		}
		at += subtree_size(child);
	}
	if (!keys)
		return fail(p, pos, "%s of collection '%s' has no 'keys'", label, c->name);
	if ((rc = parse_keys(p, keys_pos, keys, ix, label, c->name)) ||
	    (rc = check_keys(p, keys_pos, ix, label, c->name)) ||
	    (rc = parse_options(p, opts_pos, opts, ix, label, c->name)))
		return rc;
	if (!strcmp(ix->name, "*"))
		return fail(p, pos, "index name '*' in collection '%s' is not allowed by mongod",
			    c->name);
	if (!strcmp(ix->name, "_id_") &&
	    (ix->nkeys != 1 || strcmp(ix->keys[0].field, "_id") || ix->keys[0].kind != MIG_KEY_ASC))
		return fail(p, pos,
			    "index name '_id_' in collection '%s' is reserved for the {_id: 1} index",
			    c->name);
	if (ix->weights)
		for (size_t i = 0; i + 1 < c->nindexes; i++)
			if (c->indexes[i].weights)
				return fail(p, pos,
					    "collection '%s' has a second text index '%s' (the first, "
					    "'%s', is at line %u): mongod allows one per collection",
					    c->name, ix->name, c->indexes[i].name, c->indexes[i].line);

	for (size_t i = 0; i + 1 < c->nindexes; i++)
		if (!strcmp(c->indexes[i].name, ix->name))
			return fail(p, pos,
				    "%sindex name '%s' is used twice in collection '%s', first at "
				    "line %u",
				    json_is_string(name) ? "" : "default ", ix->name, c->name,
				    c->indexes[i].line);
	return MIG_OK;
}

/* A collection's "options" (README "Collection options"). */
static int parse_collection_options(parser *p, size_t pos, json_t *v, mig_collection *c)
{
	mig_collection_options *o = &c->options;
	const char *k;
	json_t *x;
	size_t at = pos + 1;
	int rc;
	char label[MIG_ERROR_MAX / 2];

	snprintf(label, sizeof label, "the options of collection '%.200s'", c->name);
	if (!json_is_object(v))
		return fail(p, pos, "'options' of collection '%s' must be an object", c->name);
	c->has_options = true;
	o->change_stream_images = -1;
	json_object_foreach(v, k, x) {
		const char *s = json_is_string(x) ? json_string_value(x) : NULL;
		bool ok = true;
		if (!strcmp(k, "validator")) {
			char where[MIG_ERROR_MAX / 2];
			snprintf(where, sizeof where, "the validator of collection '%.200s'",
				 c->name);
			if ((rc = read_object(p, at, x, &o->validator, where)))
				return rc;
		} else if (!strcmp(k, "validationLevel")) {
			ok = s && (!strcmp(s, "off") || !strcmp(s, "strict") ||
				   !strcmp(s, "moderate"));
			if (ok && !(o->validation_level = dupstr(s)))
				return oom(p->err);
		} else if (!strcmp(k, "validationAction")) {
			ok = s && (!strcmp(s, "error") || !strcmp(s, "warn"));
			if (ok && !(o->validation_action = dupstr(s)))
				return oom(p->err);
		} else if (!strcmp(k, "collation")) {
			bool simple = false;
			if ((rc = parse_collation(p, at, x, &o->collation, &simple, label, c->name)))
				return rc;
			o->has_collation = !simple;
		} else if (!strcmp(k, "capped")) {
			ok = json_is_boolean(x);
			o->capped = json_is_true(x);
		} else if (!strcmp(k, "size") || !strcmp(k, "max")) {
			ok = json_is_integer(x) && json_integer_value(x) > 0;
			*(k[0] == 's' ? &o->size : &o->max) = (long long)json_integer_value(x);
		} else if (!strcmp(k, "expireAfterSeconds")) {
			ok = json_is_integer(x) && json_integer_value(x) >= 0 &&
			     json_integer_value(x) <= MAX_EXPIRE_SECONDS;
			o->has_expire_after_seconds = true;
			o->expire_after_seconds = (long long)json_integer_value(x);
		} else if (!strcmp(k, "clusteredIndex")) {
			ok = json_is_boolean(x);
			o->clustered = json_is_true(x);
		} else if (!strcmp(k, "changeStreamPreAndPostImages")) {
			ok = json_is_boolean(x);
			o->change_stream_images = json_is_true(x);
		} else if (!strcmp(k, "timeseries")) {
			json_t *tf = json_object_get(x, "timeField"), *mf, *g;
			const char *tk;
			json_t *tv;
			if (!json_is_object(x) || !json_is_string(tf))
				return fail(p, at,
					    "'timeseries' of collection '%s' must be an object with "
					    "a string 'timeField'",
					    c->name);
			json_object_foreach(x, tk, tv)
				if (strcmp(tk, "timeField") && strcmp(tk, "metaField") &&
				    strcmp(tk, "granularity"))
					return fail(p, at,
						    "unknown key '%s' in 'timeseries' of collection "
						    "'%s'",
						    tk, c->name);
			mf = json_object_get(x, "metaField");
			g = json_object_get(x, "granularity");
			if ((mf && !json_is_string(mf)) ||
			    (g && !(json_is_string(g) &&
				    (!strcmp(json_string_value(g), "seconds") ||
				     !strcmp(json_string_value(g), "minutes") ||
				     !strcmp(json_string_value(g), "hours")))))
				return fail(p, at,
					    "'timeseries' of collection '%s': 'metaField' must be a "
					    "string, 'granularity' one of \"seconds\", \"minutes\", "
					    "\"hours\"",
					    c->name);
			if (!(o->ts_time_field = dupstr(json_string_value(tf))) ||
			    (mf && !(o->ts_meta_field = dupstr(json_string_value(mf)))) ||
			    (g && !(o->ts_granularity = dupstr(json_string_value(g)))))
				return oom(p->err);
		} else {
			return fail(p, at, "unknown option '%s' of collection '%s'", k, c->name);
		}
		if (!ok) {
			char *shown = dump_compact(x);
			rc = fail(p, at, "bad value %s for option '%s' of collection '%s'",
				  shown ? shown : "?", k, c->name);
			free(shown);
			return rc;
		}
		at += subtree_size(x);
	}
	if (o->capped && !o->size)
		return fail(p, pos, "capped collection '%s' needs a 'size'", c->name);
	if (!o->capped && (o->size || o->max))
		return fail(p, pos, "'size' and 'max' of collection '%s' need \"capped\": true",
			    c->name);
	if (o->capped && (o->ts_time_field || o->clustered))
		return fail(p, pos, "collection '%s' cannot be both capped and %s", c->name,
			    o->ts_time_field ? "time-series" : "clustered");
	return MIG_OK;
}

static int parse_ignore(parser *p, size_t pos, json_t *v, mig_collection *c)
{
	size_t i;
	json_t *x;
	if (!json_is_array(v))
		return fail(p, pos, "'ignore' of collection '%s' must be an array of strings",
			    c->name);
	if (json_array_size(v) && !(c->ignore = calloc(json_array_size(v), sizeof *c->ignore)))
		return oom(p->err);
	json_array_foreach(v, i, x) {
		if (!json_is_string(x) || !*json_string_value(x))
			return fail(p, pos,
				    "'ignore' of collection '%s' must be an array of non-empty "
				    "strings",
				    c->name);
		if (!(c->ignore[c->nignore] = dupstr(json_string_value(x))))
			return oom(p->err);
		c->nignore++;
	}
	return MIG_OK;
}

static int parse_collection(parser *p, size_t pos, json_t *v, size_t nth, mig_index_spec *spec)
{
	mig_collection *c = &spec->collections[spec->ncollections++];
	json_t *name = NULL, *indexes = NULL, *opts = NULL, *ignore = NULL;
	size_t name_pos = 0, indexes_pos = 0, opts_pos = 0, ignore_pos = 0, at = pos + 1;
	const char *k;
	json_t *child;
	int rc;

	c->line = line_at(p, pos);
	if (!json_is_object(v))
		return fail(p, pos, "collection %zu must be an object", nth);
	json_object_foreach(v, k, child) {
		if (!strcmp(k, "name")) {
			name = child;
			name_pos = at;
		} else if (!strcmp(k, "indexes")) {
			indexes = child;
			indexes_pos = at;
		} else if (!strcmp(k, "options")) {
			opts = child;
			opts_pos = at;
		} else if (!strcmp(k, "ignore")) {
			ignore = child;
			ignore_pos = at;
		} else {
			json_t *n = json_object_get(v, "name");
			if (json_is_string(n))
				return fail(p, at, "unknown key '%s' in collection '%s'", k,
					    json_string_value(n));
			return fail(p, at, "unknown key '%s' in collection %zu", k, nth);
		}
		at += subtree_size(child);
	}
	if (!name)
		return fail(p, pos, "collection %zu has no 'name'", nth);
	if ((rc = check_collection_name(p, name_pos, name)))
		return rc;
	if (!(c->name = dupstr(json_string_value(name))))
		return oom(p->err);
	for (size_t i = 0; i + 1 < spec->ncollections; i++)
		if (!strcmp(spec->collections[i].name, c->name))
			return fail(p, pos, "collection '%s' is listed twice, first at line %u",
				    c->name, spec->collections[i].line);

	if (opts && (rc = parse_collection_options(p, opts_pos, opts, c)))
		return rc;
	if (ignore && (rc = parse_ignore(p, ignore_pos, ignore, c)))
		return rc;
	if (!indexes) /* a collection without indexes is still created */
		return MIG_OK;
	if (!json_is_array(indexes))
		return fail(p, indexes_pos, "'indexes' of collection '%s' must be an array",
			    c->name);
	if (json_array_size(indexes) &&
	    !(c->indexes = calloc(json_array_size(indexes), sizeof *c->indexes)))
		return oom(p->err);
	at = indexes_pos + 1;
	for (size_t i = 0; i < json_array_size(indexes); i++) {
		json_t *ix = json_array_get(indexes, i);
		if ((rc = parse_index(p, at, ix, i + 1, c)))
			return rc;
		at += subtree_size(ix);
	}
	return MIG_OK;
}

static int parse_root(parser *p, json_t *root, mig_index_spec *spec)
{
	json_t *colls = NULL;
	size_t colls_pos = 0, at = 1;
	const char *k;
	json_t *child;
	int rc;

	if (!json_is_object(root))
		return fail(p, 0, "the top level must be an object with 'collections'");
	json_object_foreach(root, k, child) {
		if (strcmp(k, "collections"))
			return fail(p, at, "unknown key '%s' at the top level", k);
		colls = child;
		colls_pos = at;
		at += subtree_size(child);
	}
	if (!colls)
		return fail(p, 0, "missing 'collections' at the top level");
	if (!json_is_array(colls))
		return fail(p, colls_pos, "'collections' must be an array");
	if (json_array_size(colls) &&
	    !(spec->collections = calloc(json_array_size(colls), sizeof *spec->collections)))
		return oom(p->err);
	at = colls_pos + 1;
	for (size_t i = 0; i < json_array_size(colls); i++) {
		json_t *c = json_array_get(colls, i);
		if ((rc = parse_collection(p, at, c, i + 1, spec)))
			return rc;
		at += subtree_size(c);
	}
	return MIG_OK;
}

int mig_index_spec_parse(mig_index_spec **out, const char *text, size_t len, const char *path,
			 const char *module, mig_error *err)
{
	parser p = {.path = path ? path : "indexes.json", .err = err};
	mig_index_spec *spec = NULL;
	json_t *root = NULL;
	json_error_t jerr;
	int rc;

	*out = NULL;
	if (len > MAX_SPEC_BYTES) {
		rc = mig_error_set(err, MIG_EUSAGE, "'%s' is larger than 16 MiB", p.path);
		goto done;
	}
	/* jansson skips a NUL after a number; the line scan and any reader would not */
	const char *nul = memchr(text, '\0', len);
	if (nul) {
		unsigned line = 1;
		for (const char *q = text; q < nul; q++)
			line += *q == '\n';
		rc = mig_error_set(err, MIG_EUSAGE, "'%s' is not a text file: it holds a NUL byte (%s:%u)",
				   p.path, p.path, line);
		goto done;
	}
	root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr);
	if (!root) {
		rc = mig_error_set(err, MIG_EUSAGE, "invalid JSON: %s (%s:%d:%d)", jerr.text,
				   p.path, jerr.line > 0 ? jerr.line : 1,
				   jerr.column > 0 ? jerr.column : 1);
		goto done;
	}
	if (scan_lines(&p, text, len)) {
		rc = oom(err);
		goto done;
	}
	spec = calloc(1, sizeof *spec);
	if (!spec || !(spec->path = dupstr(p.path)) ||
	    !(spec->module = dupstr(module ? module : ""))) {
		rc = oom(err);
		goto done;
	}
	if ((rc = parse_root(&p, root, spec)))
		goto done;
	*out = spec;
	spec = NULL;
done:
	mig_index_spec_free(spec);
	json_decref(root);
	free(p.lines);
	return rc;
}

int mig_index_spec_load(mig_index_spec **out, const char *path, const char *module, mig_error *err)
{
	char *buf = NULL;
	size_t len = 0;
	*out = NULL;
	int rc = mig_read_file(&buf, &len, path, MAX_SPEC_BYTES, "index spec", err);
	if (rc == MIG_OK)
		rc = mig_index_spec_parse(out, buf, len, path, module, err);
	free(buf);
	return rc;
}

void mig_index_spec_free(mig_index_spec *spec)
{
	if (!spec)
		return;
	for (size_t i = 0; i < spec->ncollections; i++) {
		mig_collection *c = &spec->collections[i];
		for (size_t j = 0; j < c->nindexes; j++) {
			mig_index *ix = &c->indexes[j];
			for (size_t k = 0; k < ix->nkeys; k++)
				free(ix->keys[k].field);
			for (size_t k = 0; k < ix->nweights; k++)
				free(ix->weights[k].field);
			free(ix->weights);
			free(ix->keys);
			free(ix->name);
			value_free(ix->partial_filter);
			free(ix->collation.locale);
			free(ix->default_language);
			free(ix->language_override);
		}
		value_free(c->options.validator);
		free(c->options.validation_level);
		free(c->options.validation_action);
		free(c->options.collation.locale);
		free(c->options.ts_time_field);
		free(c->options.ts_meta_field);
		free(c->options.ts_granularity);
		for (size_t j = 0; j < c->nignore; j++)
			free(c->ignore[j]);
		free(c->ignore);
		free(c->indexes);
		free(c->name);
	}
	free(spec->collections);
	free(spec->module);
	free(spec->path);
	free(spec);
}

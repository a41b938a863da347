/* Reads and validates a module's indexes.json (SPEC.md, "indexes.json") into a mig_index_spec.
 * The only file that includes <jansson.h>. jansson builds the tree but keeps no positions, so a
 * second, tiny scan of the already-validated text records the line of every JSON value in
 * document order; since jansson iterates objects in insertion order, a pre-order walk of the
 * tree meets the values in that same order and can look their lines up by position. */
#include "index_spec.h"
#include "fs.h"

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

/* A compact dump with key order kept, for the driver to turn into BSON. NULL when out of memory. */
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
		const char *val = NULL;
		if (!*field)
			return fail(p, at, "empty field name in 'keys' of %s in collection '%s'",
				    label, coll);
		if (json_is_integer(v) && json_integer_value(v) == 1) {
			val = "1";
		} else if (json_is_integer(v) && json_integer_value(v) == -1) {
			val = "-1";
		} else if (json_is_string(v)) {
			const char *s = json_string_value(v);
			if (!strcmp(s, "text") || !strcmp(s, "2dsphere") || !strcmp(s, "hashed"))
				val = s;
		}
		if (!val) {
			char *shown = dump_compact(v);
			int rc = fail(
				p, at,
				"bad value %s for key '%s' in %s of collection '%s': expected 1, "
				"-1, \"text\", \"2dsphere\" or \"hashed\"",
				shown ? shown : "?", field, label, coll);
			free(shown);
			return rc;
		}
		ix->keys[n].field = dupstr(field);
		ix->keys[n].value = dupstr(val);
		ix->nkeys = ++n; /* counted before the check so that free releases both */
		if (!ix->keys[n - 1].field || !ix->keys[n - 1].value)
			return oom(p->err);
		name_len += strlen(field) + strlen(val) + 2;
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
		strcat(ix->name, ix->keys[i].value);
	}
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

static int parse_options(parser *p, size_t pos, json_t *opts, mig_index *ix, const char *label,
			 const char *coll)
{
	const char *opt;
	json_t *v;
	size_t at = pos + 1;
	int rc;

	if (!json_is_object(opts))
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
			ix->has_expire_after_seconds = true;
			ix->expire_after_seconds = (long long)json_integer_value(v);
		} else if (!strcmp(opt, "partialFilterExpression")) {
			if (!json_is_object(v))
				return fail(p, at,
					    "option 'partialFilterExpression' of %s in collection "
					    "'%s' must be an object",
					    label, coll);
			if (!(ix->partial_filter_json = dump_compact(v)))
				return oom(p->err);
		} else if (!strcmp(opt, "collation")) {
			if (!json_is_object(v) || !json_is_string(json_object_get(v, "locale")))
				return fail(
					p, at,
					"option 'collation' of %s in collection '%s' must be an "
					"object with a string 'locale'",
					label, coll);
			if (!(ix->collation_json = dump_compact(v)))
				return oom(p->err);
		} else {
			return fail(p, at, "unknown option '%s' in %s of collection '%s'", opt,
				    label, coll);
		}
		at += subtree_size(v);
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
	if ((rc = parse_keys(p, keys_pos, keys, ix, label, c->name)))
		return rc;
	if (opts && (rc = parse_options(p, opts_pos, opts, ix, label, c->name)))
		return rc;

	for (size_t i = 0; i + 1 < c->nindexes; i++)
		if (!strcmp(c->indexes[i].name, ix->name))
			return fail(p, pos,
				    "%sindex name '%s' is used twice in collection '%s', first at "
				    "line %u",
				    json_is_string(name) ? "" : "default ", ix->name, c->name,
				    c->indexes[i].line);
	return MIG_OK;
}

static int parse_collection(parser *p, size_t pos, json_t *v, size_t nth, mig_index_spec *spec)
{
	mig_collection *c = &spec->collections[spec->ncollections++];
	json_t *name = NULL, *indexes = NULL;
	size_t name_pos = 0, indexes_pos = 0, at = pos + 1;
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
			for (size_t k = 0; k < ix->nkeys; k++) {
				free(ix->keys[k].field);
				free(ix->keys[k].value);
			}
			free(ix->keys);
			free(ix->name);
			free(ix->partial_filter_json);
			free(ix->collation_json);
		}
		free(c->indexes);
		free(c->name);
	}
	free(spec->collections);
	free(spec->module);
	free(spec->path);
	free(spec);
}

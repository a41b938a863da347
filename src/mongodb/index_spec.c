/* Reads a module's indexes.json (SPEC.md, "indexes.json") into a mig_index_spec: the file's
 * shape (collections, their options and ignore lists, indexes with keys, options and
 * collations), typed and with every value's line, on the JSON reader of ext_json.c. mongod's
 * rules on the values read are checked in index_rules.c. */
#include "mongodb/index_spec.h"
#include "util/fs.h"
#include "mongodb/ext_json.h"
#include "mongodb/index_collation.h"
#include "mongodb/index_rules.h"

#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Larger files are almost certainly a mistake, and the cap bounds the memory we spend. */
#define MAX_SPEC_BYTES ((size_t)16 << 20)

/* mongod stores expireAfterSeconds as a 32-bit integer and rejects anything larger. */
#define MAX_EXPIRE_SECONDS 2147483647LL

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

/* mig_json_fail, under the short name of the many checks below. */
static int fail(mig_json_doc *p, size_t pos, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int fail(mig_json_doc *p, size_t pos, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int rc = mig_json_vfail(p, pos, fmt, ap);
	va_end(ap);
	return rc;
}

/* ---- collations ---- */

static int parse_collation(mig_json_doc *p, size_t pos, json_t *v, mig_collation *out, bool *simple,
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
			char *shown = mig_json_dump(c);
			int rc = fail(p, at, "collation of %s in collection '%s': bad value %s for "
				      "'%s'", label, coll, shown ? shown : "?", k);
			free(shown);
			return rc;
		}
		at += mig_json_subtree_size(c);
	}
	if (out->backwards && out->strength == 1)
		return fail(p, pos,
			    "collation of %s in collection '%s': 'backwards' needs strength 2 or "
			    "more",
			    label, coll);
	return MIG_OK;
}

/* ---- keys and options ---- */


/* Parses "keys" into ix->keys (file order kept) and sets the default name. */
static int parse_keys(mig_json_doc *p, size_t pos, json_t *keys, mig_index *ix, const char *label,
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
			char *shown = mig_json_dump(v);
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
		name_len += strlen(field) + strlen(mig_key_kind_name(ix->keys[n - 1].kind)) + 2;
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
		strcat(ix->name, mig_key_kind_name(ix->keys[i].kind));
	}
	return MIG_OK;
}


static int parse_bool_option(mig_json_doc *p, size_t pos, json_t *v, int *out, const char *opt,
			     const char *label, const char *coll)
{
	if (!json_is_boolean(v))
		return fail(p, pos, "option '%s' of %s in collection '%s' must be true or false",
			    opt, label, coll);
	*out = json_is_true(v);
	return MIG_OK;
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

static int parse_options(mig_json_doc *p, size_t pos, json_t *opts, mig_index *ix,
			 const char *label, const char *coll)
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
			if ((rc = mig_json_read_object(p, at, v, &ix->partial_filter, where)) ||
			    (rc = mig_index_check_partial(p, at, ix->partial_filter, label, coll)))
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
		at += mig_json_subtree_size(v);
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
	if (lang && (!json_is_string(lang) || !mig_index_text_language(json_string_value(lang))))
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

static int parse_index(mig_json_doc *p, size_t pos, json_t *v, size_t nth, mig_collection *c)
{
	mig_index *ix = &c->indexes[c->nindexes++]; /* counted now so that free sees it */
	json_t *keys = NULL, *opts = NULL, *name;
	size_t keys_pos = 0, opts_pos = 0, at = pos + 1;
	char label[64 + MIG_ERROR_MAX / 4];
	const char *k;
	json_t *child;
	int rc;

	ix->line = mig_json_line(p, pos);
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
		at += mig_json_subtree_size(child);
	}
	if (!keys)
		return fail(p, pos, "%s of collection '%s' has no 'keys'", label, c->name);
	if ((rc = parse_keys(p, keys_pos, keys, ix, label, c->name)) ||
	    (rc = mig_index_check_keys(p, keys_pos, ix, label, c->name)) ||
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
static int parse_collection_options(mig_json_doc *p, size_t pos, json_t *v, mig_collection *c)
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
			if ((rc = mig_json_read_object(p, at, x, &o->validator, where)))
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
			char *shown = mig_json_dump(x);
			rc = fail(p, at, "bad value %s for option '%s' of collection '%s'",
				  shown ? shown : "?", k, c->name);
			free(shown);
			return rc;
		}
		at += mig_json_subtree_size(x);
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

static int parse_ignore(mig_json_doc *p, size_t pos, json_t *v, mig_collection *c)
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

static int parse_collection(mig_json_doc *p, size_t pos, json_t *v, size_t nth,
			    mig_index_spec *spec)
{
	mig_collection *c = &spec->collections[spec->ncollections++];
	json_t *name = NULL, *indexes = NULL, *opts = NULL, *ignore = NULL;
	size_t name_pos = 0, indexes_pos = 0, opts_pos = 0, ignore_pos = 0, at = pos + 1;
	const char *k;
	json_t *child;
	int rc;

	c->line = mig_json_line(p, pos);
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
		at += mig_json_subtree_size(child);
	}
	if (!name)
		return fail(p, pos, "collection %zu has no 'name'", nth);
	if (!json_is_string(name))
		return fail(p, name_pos, "collection 'name' must be a string");
	if ((rc = mig_index_check_collection_name(p, name_pos, json_string_value(name),
						  json_string_length(name))))
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
		at += mig_json_subtree_size(ix);
	}
	return MIG_OK;
}

static int parse_root(mig_json_doc *p, json_t *root, mig_index_spec *spec)
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
		at += mig_json_subtree_size(child);
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
		at += mig_json_subtree_size(c);
	}
	return MIG_OK;
}

int mig_index_spec_parse(mig_index_spec **out, const char *text, size_t len, const char *path,
			 const char *module, mig_error *err)
{
	mig_json_doc p = {0};
	mig_index_spec *spec = NULL;
	int rc;

	*out = NULL;
	path = path ? path : "indexes.json";
	if (len > MAX_SPEC_BYTES) {
		rc = mig_error_set(err, MIG_EUSAGE, "'%s' is larger than 16 MiB", path);
		goto done;
	}
	if ((rc = mig_json_doc_parse(&p, text, len, path, err)))
		goto done;
	spec = calloc(1, sizeof *spec);
	if (!spec || !(spec->path = dupstr(path)) ||
	    !(spec->module = dupstr(module ? module : ""))) {
		rc = oom(err);
		goto done;
	}
	if ((rc = parse_root(&p, p.root, spec)))
		goto done;
	*out = spec;
	spec = NULL;
done:
	mig_index_spec_free(spec);
	mig_json_doc_clear(&p);
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
			mig_value_free(ix->partial_filter);
			free(ix->collation.locale);
			free(ix->default_language);
			free(ix->language_override);
		}
		mig_value_free(c->options.validator);
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

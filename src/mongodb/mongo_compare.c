/* The pure half of the MongoDB driver: index specs and collection options to BSON, and the
 * comparison of a spec with what the server lists, following mongod (index_descriptor.cpp compareIndexOptions,
 * fts_spec.cpp, collator_factory_icu.cpp). Uses libbson only: no connection, no I/O. */
#include "mongodb/mongo_compare.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- building BSON ---- */

static bool hex_to_oid(const char *s, bson_oid_t *oid)
{
	if (!bson_oid_is_valid(s, strlen(s)))
		return false;
	bson_oid_init_from_string(oid, s);
	return true;
}

void mig_mongo_append_value(bson_t *doc, const char *key, const mig_value *v)
{
	switch (v->type) {
	case MIG_VALUE_NULL:
		BSON_APPEND_NULL(doc, key);
		break;
	case MIG_VALUE_BOOL:
		BSON_APPEND_BOOL(doc, key, v->boolean);
		break;
	case MIG_VALUE_INT:
		if (v->integer >= INT32_MIN && v->integer <= INT32_MAX)
			BSON_APPEND_INT32(doc, key, (int32_t)v->integer);
		else
			BSON_APPEND_INT64(doc, key, v->integer);
		break;
	case MIG_VALUE_LONG:
		BSON_APPEND_INT64(doc, key, v->integer);
		break;
	case MIG_VALUE_DOUBLE:
		BSON_APPEND_DOUBLE(doc, key, v->number);
		break;
	case MIG_VALUE_STRING:
		BSON_APPEND_UTF8(doc, key, v->string);
		break;
	case MIG_VALUE_DATE:
		BSON_APPEND_DATE_TIME(doc, key, v->integer);
		break;
	case MIG_VALUE_OID: {
		bson_oid_t oid;
		if (hex_to_oid(v->string, &oid))
			BSON_APPEND_OID(doc, key, &oid);
		break;
	}
	case MIG_VALUE_DECIMAL: {
		bson_decimal128_t d;
		if (bson_decimal128_from_string(v->string, &d))
			BSON_APPEND_DECIMAL128(doc, key, &d);
		break;
	}
	case MIG_VALUE_ARRAY:
	case MIG_VALUE_OBJECT: {
		bson_t sub;
		char idx[24];
		if (v->type == MIG_VALUE_ARRAY)
			BSON_APPEND_ARRAY_BEGIN(doc, key, &sub);
		else
			BSON_APPEND_DOCUMENT_BEGIN(doc, key, &sub);
		for (size_t i = 0; i < v->n; i++) {
			const char *k = v->keys ? v->keys[i] : idx;
			if (!v->keys)
				snprintf(idx, sizeof idx, "%zu", i);
			mig_mongo_append_value(&sub, k, &v->items[i]);
		}
		if (v->type == MIG_VALUE_ARRAY)
			bson_append_array_end(doc, &sub);
		else
			bson_append_document_end(doc, &sub);
		break;
	}
	}
}

void mig_mongo_append_collation(bson_t *doc, const char *key, const mig_collation *c)
{
	bson_t sub;
	BSON_APPEND_DOCUMENT_BEGIN(doc, key, &sub);
	BSON_APPEND_UTF8(&sub, "locale", c->locale);
	BSON_APPEND_BOOL(&sub, "caseLevel", c->case_level);
	BSON_APPEND_UTF8(&sub, "caseFirst", c->case_first);
	BSON_APPEND_INT32(&sub, "strength", c->strength);
	BSON_APPEND_BOOL(&sub, "numericOrdering", c->numeric_ordering);
	BSON_APPEND_UTF8(&sub, "alternate", c->alternate);
	BSON_APPEND_UTF8(&sub, "maxVariable", c->max_variable);
	BSON_APPEND_BOOL(&sub, "normalization", c->normalization);
	BSON_APPEND_BOOL(&sub, "backwards", c->backwards);
	bson_append_document_end(doc, &sub);
}

static const char *kind_value(mig_key_kind k)
{
	return k == MIG_KEY_TEXT ? "text" : k == MIG_KEY_2DSPHERE ? "2dsphere" : "hashed";
}

void mig_mongo_index_doc(bson_t *doc, const mig_index *ix)
{
	bson_t key, w;

	BSON_APPEND_DOCUMENT_BEGIN(doc, "key", &key);
	for (size_t i = 0; i < ix->nkeys; i++) {
		const mig_index_key *k = &ix->keys[i];
		if (k->kind == MIG_KEY_ASC || k->kind == MIG_KEY_DESC)
			BSON_APPEND_INT32(&key, k->field, k->kind == MIG_KEY_ASC ? 1 : -1);
		else
			BSON_APPEND_UTF8(&key, k->field, kind_value(k->kind));
	}
	bson_append_document_end(doc, &key);
	BSON_APPEND_UTF8(doc, "name", ix->name);
	/* false is the server's default and is not stored: leave it out. */
	if (ix->unique == 1)
		BSON_APPEND_BOOL(doc, "unique", true);
	if (ix->sparse == 1)
		BSON_APPEND_BOOL(doc, "sparse", true);
	if (ix->hidden == 1)
		BSON_APPEND_BOOL(doc, "hidden", true);
	if (ix->has_expire_after_seconds)
		BSON_APPEND_INT32(doc, "expireAfterSeconds", (int32_t)ix->expire_after_seconds);
	if (ix->partial_filter)
		mig_mongo_append_value(doc, "partialFilterExpression", ix->partial_filter);
	if (ix->has_collation)
		mig_mongo_append_collation(doc, "collation", &ix->collation);
	else if (ix->simple_collation) { /* overrides the collection's default */
		bson_t c;
		BSON_APPEND_DOCUMENT_BEGIN(doc, "collation", &c);
		BSON_APPEND_UTF8(&c, "locale", "simple");
		bson_append_document_end(doc, &c);
	}
	if (ix->weights) {
		BSON_APPEND_DOCUMENT_BEGIN(doc, "weights", &w);
		for (size_t i = 0; i < ix->nweights; i++)
			BSON_APPEND_INT32(&w, ix->weights[i].field, ix->weights[i].weight);
		bson_append_document_end(doc, &w);
		BSON_APPEND_UTF8(doc, "default_language", ix->default_language);
		BSON_APPEND_UTF8(doc, "language_override", ix->language_override);
	}
}

/* ---- comparing values ---- */

static bool is_number(const bson_iter_t *it)
{
	return BSON_ITER_HOLDS_INT32(it) || BSON_ITER_HOLDS_INT64(it) ||
	       BSON_ITER_HOLDS_DOUBLE(it);
}

/* Equality of two BSON values: numbers by value whatever their type (the server may store
 * 1 as int32, int64 or double), documents in key order. */
static bool values_equal(const bson_iter_t *a, const bson_iter_t *b)
{
	if (is_number(a) && is_number(b)) {
		if (!BSON_ITER_HOLDS_DOUBLE(a) && !BSON_ITER_HOLDS_DOUBLE(b))
			return bson_iter_as_int64(a) == bson_iter_as_int64(b);
		return bson_iter_as_double(a) == bson_iter_as_double(b);
	}
	if (bson_iter_type(a) != bson_iter_type(b))
		return false;
	switch (bson_iter_type(a)) {
	case BSON_TYPE_DOCUMENT:
	case BSON_TYPE_ARRAY: {
		const uint8_t *da, *db;
		uint32_t la, lb;
		bson_t ca, cb;
		if (BSON_ITER_HOLDS_DOCUMENT(a)) {
			bson_iter_document(a, &la, &da);
			bson_iter_document(b, &lb, &db);
		} else {
			bson_iter_array(a, &la, &da);
			bson_iter_array(b, &lb, &db);
		}
		return bson_init_static(&ca, da, la) && bson_init_static(&cb, db, lb) &&
		       mig_mongo_docs_equal(&ca, &cb);
	}
	case BSON_TYPE_UTF8: {
		uint32_t la, lb;
		const char *sa = bson_iter_utf8(a, &la), *sb = bson_iter_utf8(b, &lb);
		return la == lb && !memcmp(sa, sb, la);
	}
	case BSON_TYPE_BOOL:
		return bson_iter_bool(a) == bson_iter_bool(b);
	case BSON_TYPE_NULL:
	case BSON_TYPE_UNDEFINED:
	case BSON_TYPE_MINKEY:
	case BSON_TYPE_MAXKEY:
		return true;
	default: {
		bson_t ta = BSON_INITIALIZER, tb = BSON_INITIALIZER;
		bool eq = bson_append_iter(&ta, "v", 1, a) && bson_append_iter(&tb, "v", 1, b) &&
			  bson_equal(&ta, &tb);
		bson_destroy(&ta);
		bson_destroy(&tb);
		return eq;
	}
	}
}

bool mig_mongo_docs_equal(const bson_t *a, const bson_t *b)
{
	bson_iter_t ia, ib;
	if (!bson_iter_init(&ia, a) || !bson_iter_init(&ib, b))
		return false;
	for (;;) {
		bool na = bson_iter_next(&ia), nb = bson_iter_next(&ib);
		if (!na || !nb)
			return na == nb;
		if (strcmp(bson_iter_key(&ia), bson_iter_key(&ib)) || !values_equal(&ia, &ib))
			return false;
	}
}

static bool get_doc(const bson_t *doc, const char *key, bson_t *sub)
{
	bson_iter_t it;
	const uint8_t *data;
	uint32_t len;
	if (!doc || !bson_iter_init_find(&it, doc, key) || !BSON_ITER_HOLDS_DOCUMENT(&it))
		return false;
	bson_iter_document(&it, &len, &data);
	return bson_init_static(sub, data, len);
}

static bool get_bool(const bson_t *doc, const char *key)
{
	bson_iter_t it;
	return bson_iter_init_find(&it, doc, key) && bson_iter_as_bool(&it);
}

static const char *get_utf8(const bson_t *doc, const char *key)
{
	bson_iter_t it;
	if (!doc || !bson_iter_init_find(&it, doc, key) || !BSON_ITER_HOLDS_UTF8(&it))
		return NULL;
	return bson_iter_utf8(&it, NULL);
}

static void note(char *buf, size_t size, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void note(char *buf, size_t size, const char *fmt, ...)
{
	size_t used = strlen(buf);
	va_list ap;
	if (used && used + 2 < size) {
		strcat(buf, "; ");
		used += 2;
	}
	if (used + 1 >= size)
		return;
	va_start(ap, fmt);
	vsnprintf(buf + used, size - used, fmt, ap);
	va_end(ap);
}

static char *show(const bson_t *doc)
{
	return doc ? bson_as_relaxed_extended_json(doc, NULL) : bson_strdup("(none)");
}

static void note_docs(char *buf, size_t size, const char *what, const bson_t *have,
		      const bson_t *want)
{
	char *h = show(have), *w = show(want);
	note(buf, size, "%s: server %s, spec %s", what, h, w);
	bson_free(h);
	bson_free(w);
}

/* ---- collations ---- */

static bool is_simple(const bson_t *c)
{
	const char *l = get_utf8(c, "locale");
	return !c || (l && !strcmp(l, "simple"));
}

bool mig_mongo_collations_equal(const bson_t *a, const bson_t *b)
{
	bool sa = is_simple(a), sb = is_simple(b);
	bson_iter_t ia, ib;
	size_t na = 0, nb = 0;
	if (sa || sb)
		return sa == sb;
	bson_iter_init(&ia, a);
	while (bson_iter_next(&ia)) {
		if (!strcmp(bson_iter_key(&ia), "version"))
			continue;
		na++;
		if (!bson_iter_init_find(&ib, b, bson_iter_key(&ia)) || !values_equal(&ia, &ib))
			return false;
	}
	bson_iter_init(&ib, b);
	while (bson_iter_next(&ib))
		nb += strcmp(bson_iter_key(&ib), "version") != 0;
	return na == nb;
}

/* ---- partial filters as normalised match expressions ---- */

typedef struct strlist {
	char **s;
	size_t n, cap;
} strlist;

static void sl_push(strlist *l, char *s)
{
	if (!s)
		return;
	if (l->n == l->cap) {
		size_t ncap = l->cap ? l->cap * 2 : 8;
		char **ns = realloc(l->s, ncap * sizeof *ns);
		if (!ns) {
			bson_free(s);
			return;
		}
		l->s = ns;
		l->cap = ncap;
	}
	l->s[l->n++] = s;
}

static void sl_free(strlist *l)
{
	for (size_t i = 0; i < l->n; i++)
		bson_free(l->s[i]);
	free(l->s);
	memset(l, 0, sizeof *l);
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Sorts and joins l with sep, wrapped in open/close; a bson_malloc'd string. */
static char *sl_join(strlist *l, const char *open, const char *sep, const char *close)
{
	size_t len = strlen(open) + strlen(close) + 1;
	char *out;
	qsort(l->s, l->n, sizeof *l->s, cmp_str);
	for (size_t i = 0; i < l->n; i++)
		len += strlen(l->s[i]) + strlen(sep);
	out = bson_malloc(len);
	strcpy(out, open);
	for (size_t i = 0; i < l->n; i++) {
		if (i)
			strcat(out, sep);
		strcat(out, l->s[i]);
	}
	strcat(out, close);
	return out;
}

/* A canonical text of a value: numbers by value, $in-style arrays sorted when asked. */
static char *canon(const bson_iter_t *it, bool sort_array)
{
	if (is_number(it))
		return bson_strdup_printf("%.17g", bson_iter_as_double(it));
	if (BSON_ITER_HOLDS_DOCUMENT(it) || BSON_ITER_HOLDS_ARRAY(it)) {
		bool arr = BSON_ITER_HOLDS_ARRAY(it);
		bson_iter_t c;
		strlist l = {0};
		char *out;
		bson_iter_recurse(it, &c);
		while (bson_iter_next(&c)) {
			char *v = canon(&c, false);
			sl_push(&l, arr ? v : bson_strdup_printf("%s:%s", bson_iter_key(&c), v));
			if (!arr)
				bson_free(v);
		}
		if (arr && sort_array) {
			out = sl_join(&l, "[", ",", "]");
		} else { /* keep order: documents and arrays compare in order */
			size_t len = 3;
			for (size_t i = 0; i < l.n; i++)
				len += strlen(l.s[i]) + 1;
			out = bson_malloc(len);
			strcpy(out, arr ? "[" : "{");
			for (size_t i = 0; i < l.n; i++) {
				if (i)
					strcat(out, ",");
				strcat(out, l.s[i]);
			}
			strcat(out, arr ? "]" : "}");
		}
		sl_free(&l);
		return out;
	}
	{
		bson_t t = BSON_INITIALIZER;
		char *j;
		bson_append_iter(&t, "v", 1, it);
		j = bson_as_canonical_extended_json(&t, NULL);
		bson_destroy(&t);
		return j;
	}
}

static void collect(const bson_t *filter, strlist *out);

static void collect_iter(bson_iter_t *it, strlist *out)
{
	while (bson_iter_next(it)) {
		const char *k = bson_iter_key(it);
		bson_iter_t c;
		if ((!strcmp(k, "$and") || !strcmp(k, "$or")) && BSON_ITER_HOLDS_ARRAY(it)) {
			strlist branches = {0};
			bson_iter_recurse(it, &c);
			while (bson_iter_next(&c)) {
				bson_iter_t d;
				strlist one = {0};
				if (!BSON_ITER_HOLDS_DOCUMENT(&c))
					continue;
				bson_iter_recurse(&c, &d);
				if (k[1] == 'a') { /* $and: its predicates join the parent's */
					collect_iter(&d, out);
					continue;
				}
				collect_iter(&d, &one);
				sl_push(&branches, sl_join(&one, "(", "&", ")"));
				sl_free(&one);
			}
			if (k[1] == 'o') {
				if (branches.n == 1) /* one branch: same as its predicates */
					sl_push(out, bson_strdup(branches.s[0]));
				else
					sl_push(out, sl_join(&branches, "$or[", "|", "]"));
			}
			sl_free(&branches);
			continue;
		}
		if (BSON_ITER_HOLDS_DOCUMENT(it)) {
			bson_iter_t first;
			bson_iter_recurse(it, &first);
			if (bson_iter_next(&first) && bson_iter_key(&first)[0] == '$') {
				bson_iter_recurse(it, &c);
				while (bson_iter_next(&c)) {
					char *v = canon(&c, !strcmp(bson_iter_key(&c), "$in"));
					sl_push(out, bson_strdup_printf("%s %s %s", k,
									bson_iter_key(&c), v));
					bson_free(v);
				}
				continue;
			}
		}
		char *v = canon(it, false);
		sl_push(out, bson_strdup_printf("%s $eq %s", k, v));
		bson_free(v);
	}
}

static void collect(const bson_t *filter, strlist *out)
{
	bson_iter_t it;
	if (bson_iter_init(&it, filter))
		collect_iter(&it, out);
}

bool mig_mongo_filters_equal(const bson_t *a, const bson_t *b)
{
	strlist la = {0}, lb = {0};
	bool eq;
	collect(a, &la);
	collect(b, &lb);
	qsort(la.s, la.n, sizeof *la.s, cmp_str);
	qsort(lb.s, lb.n, sizeof *lb.s, cmp_str);
	/* duplicates say nothing more: a AND a is a */
	eq = true;
	size_t i = 0, j = 0;
	while (eq && (i < la.n || j < lb.n)) {
		if (i == la.n || j == lb.n || strcmp(la.s[i], lb.s[j])) {
			eq = false;
			break;
		}
		const char *cur = la.s[i];
		while (i < la.n && !strcmp(la.s[i], cur))
			i++;
		while (j < lb.n && !strcmp(lb.s[j], cur))
			j++;
	}
	sl_free(&la);
	sl_free(&lb);
	return eq;
}

/* ---- index comparison ---- */

/* The key pattern mongod stores for ix: the text fields fold into {_fts: "text", _ftsx: 1}
 * at the place of the first. */
static void server_key_pattern(const mig_index *ix, bson_t *key)
{
	bool folded = false;
	for (size_t i = 0; i < ix->nkeys; i++) {
		const mig_index_key *k = &ix->keys[i];
		if (k->kind == MIG_KEY_TEXT) {
			if (!folded) {
				BSON_APPEND_UTF8(key, "_fts", "text");
				BSON_APPEND_INT32(key, "_ftsx", 1);
				folded = true;
			}
		} else if (k->kind == MIG_KEY_ASC || k->kind == MIG_KEY_DESC) {
			BSON_APPEND_INT32(key, k->field, k->kind == MIG_KEY_ASC ? 1 : -1);
		} else {
			BSON_APPEND_UTF8(key, k->field, kind_value(k->kind));
		}
	}
}

static void compare_text(mig_mongo_diff *out, const mig_index *ix, const bson_t *have)
{
	bson_t hw, ww = BSON_INITIALIZER;
	bool has = get_doc(have, "weights", &hw), same = has;
	const char *hl = get_utf8(have, "default_language"),
		   *ho = get_utf8(have, "language_override");

	for (size_t i = 0; i < ix->nweights; i++)
		BSON_APPEND_INT32(&ww, ix->weights[i].field, ix->weights[i].weight);
	if (same && bson_count_keys(&hw) != ix->nweights)
		same = false;
	for (size_t i = 0; same && i < ix->nweights; i++) {
		bson_iter_t it;
		same = bson_iter_init_find(&it, &hw, ix->weights[i].field) && is_number(&it) &&
		       bson_iter_as_double(&it) == ix->weights[i].weight;
	}
	if (!same) {
		out->differs = true;
		note_docs(out->detail, sizeof out->detail, "weights", has ? &hw : NULL, &ww);
	}
	if (!hl || strcmp(hl, ix->default_language)) {
		out->differs = true;
		note(out->detail, sizeof out->detail, "default_language: server %s, spec %s",
		     hl ? hl : "(none)", ix->default_language);
	}
	if (!ho || strcmp(ho, ix->language_override)) {
		out->differs = true;
		note(out->detail, sizeof out->detail, "language_override: server %s, spec %s",
		     ho ? ho : "(none)", ix->language_override);
	}
	bson_destroy(&ww);
}

void mig_mongo_index_compare(mig_mongo_diff *out, const mig_index *ix, const bson_t *have,
			     const bson_t *default_collation)
{
	static const char *const flags[] = {"unique", "sparse"};
	bson_t key = BSON_INITIALIZER, hkey, hsub, wsub;
	bool has_h, has_w;
	bson_iter_t hit;
	char *buf = out->detail;
	size_t size = sizeof out->detail;

	memset(out, 0, sizeof *out);
	server_key_pattern(ix, &key);
	has_h = get_doc(have, "key", &hkey);
	if (!has_h || !mig_mongo_docs_equal(&key, &hkey)) {
		out->differs = true;
		note_docs(buf, size, "keys differ", has_h ? &hkey : NULL, &key);
	} else if (ix->weights) {
		compare_text(out, ix, have);
	}
	for (size_t i = 0; i < sizeof flags / sizeof *flags; i++) {
		bool w = (i ? ix->sparse : ix->unique) == 1, h = get_bool(have, flags[i]);
		if (w != h) {
			out->differs = true;
			note(buf, size, "%s: server %s, spec %s", flags[i], h ? "true" : "false",
			     w ? "true" : "false");
		}
	}
	if ((ix->hidden == 1) != get_bool(have, "hidden")) {
		out->hidden = true;
		note(buf, size, "hidden: server %s, spec %s", ix->hidden == 1 ? "false" : "true",
		     ix->hidden == 1 ? "true" : "false");
	}

	has_h = bson_iter_init_find(&hit, have, "expireAfterSeconds") && is_number(&hit);
	if (has_h != ix->has_expire_after_seconds ||
	    (has_h && bson_iter_as_double(&hit) != (double)ix->expire_after_seconds)) {
		char hs[32] = "none", ws[32] = "none";
		if (has_h)
			snprintf(hs, sizeof hs, "%.15g", bson_iter_as_double(&hit));
		if (ix->has_expire_after_seconds)
			snprintf(ws, sizeof ws, "%lld", ix->expire_after_seconds);
		if (has_h && ix->has_expire_after_seconds)
			out->expire = true;
		else
			out->differs = true;
		note(buf, size, "expireAfterSeconds: server %s, spec %s", hs, ws);
	}

	has_h = get_doc(have, "partialFilterExpression", &hsub);
	if (ix->partial_filter || has_h) {
		bson_t want = BSON_INITIALIZER;
		bool eq = false;
		if (ix->partial_filter) {
			mig_mongo_append_value(&want, "f", ix->partial_filter);
			has_w = get_doc(&want, "f", &wsub);
			eq = has_h && has_w && mig_mongo_filters_equal(&wsub, &hsub);
		}
		if (!eq) {
			out->differs = true;
			note_docs(buf, size, "partialFilterExpression", has_h ? &hsub : NULL,
				  ix->partial_filter ? &wsub : NULL);
		}
		bson_destroy(&want);
	}

	{
		bson_t want = BSON_INITIALIZER;
		const bson_t *w = NULL, *h = get_doc(have, "collation", &hsub) ? &hsub : NULL;
		if (ix->has_collation) {
			mig_mongo_append_collation(&want, "c", &ix->collation);
			if (get_doc(&want, "c", &wsub))
				w = &wsub;
		} else if (!ix->simple_collation) {
			w = default_collation; /* what mongod copied into the index */
		}
		if (!mig_mongo_collations_equal(w, h)) {
			out->differs = true;
			note_docs(buf, size, "collation", is_simple(h) ? NULL : h,
				  is_simple(w) ? NULL : w);
		}
		bson_destroy(&want);
	}
	bson_destroy(&key);
}

/* ---- collection options ---- */

static bool opt_doc(const bson_t *opts, const char *key, bson_t *sub)
{
	bson_iter_t it;
	const uint8_t *data;
	uint32_t len;
	if (!opts || !bson_iter_init_find(&it, opts, key) || !BSON_ITER_HOLDS_DOCUMENT(&it))
		return false;
	bson_iter_document(&it, &len, &data);
	return bson_init_static(sub, data, len);
}

static const char *opt_utf8(const bson_t *opts, const char *key, const char *dflt)
{
	bson_iter_t it;
	if (!opts || !bson_iter_init_find(&it, opts, key) || !BSON_ITER_HOLDS_UTF8(&it))
		return dflt;
	return bson_iter_utf8(&it, NULL);
}

static long long opt_int(const bson_t *opts, const char *key)
{
	bson_iter_t it;
	if (!opts || !bson_iter_init_find(&it, opts, key))
		return 0;
	return bson_iter_as_int64(&it);
}

void mig_mongo_append_collection_options(bson_t *cmd, const mig_collection_options *o)
{
	if (o->validator)
		mig_mongo_append_value(cmd, "validator", o->validator);
	if (o->validation_level)
		BSON_APPEND_UTF8(cmd, "validationLevel", o->validation_level);
	if (o->validation_action)
		BSON_APPEND_UTF8(cmd, "validationAction", o->validation_action);
	if (o->has_collation)
		mig_mongo_append_collation(cmd, "collation", &o->collation);
	if (o->capped) {
		BSON_APPEND_BOOL(cmd, "capped", true);
		BSON_APPEND_INT64(cmd, "size", o->size);
		if (o->max)
			BSON_APPEND_INT64(cmd, "max", o->max);
	}
	if (o->ts_time_field) {
		bson_t ts;
		BSON_APPEND_DOCUMENT_BEGIN(cmd, "timeseries", &ts);
		BSON_APPEND_UTF8(&ts, "timeField", o->ts_time_field);
		if (o->ts_meta_field)
			BSON_APPEND_UTF8(&ts, "metaField", o->ts_meta_field);
		if (o->ts_granularity)
			BSON_APPEND_UTF8(&ts, "granularity", o->ts_granularity);
		bson_append_document_end(cmd, &ts);
	}
	if (o->has_expire_after_seconds)
		BSON_APPEND_INT64(cmd, "expireAfterSeconds", o->expire_after_seconds);
	if (o->clustered) {
		bson_t ci, key;
		BSON_APPEND_DOCUMENT_BEGIN(cmd, "clusteredIndex", &ci);
		BSON_APPEND_DOCUMENT_BEGIN(&ci, "key", &key);
		BSON_APPEND_INT32(&key, "_id", 1);
		bson_append_document_end(&ci, &key);
		BSON_APPEND_BOOL(&ci, "unique", true);
		bson_append_document_end(cmd, &ci);
	}
	if (o->change_stream_images >= 0) {
		bson_t cs;
		BSON_APPEND_DOCUMENT_BEGIN(cmd, "changeStreamPreAndPostImages", &cs);
		BSON_APPEND_BOOL(&cs, "enabled", o->change_stream_images == 1);
		bson_append_document_end(cmd, &cs);
	}
}

void mig_mongo_compare_collection_options(const mig_collection_options *o, const bson_t *have,
					  char *changes, size_t csize, char *conflict, size_t fsize)
{
	bson_t want = BSON_INITIALIZER, w, h;
	mig_mongo_append_collection_options(&want, o);
	if (o->validator && (!opt_doc(&want, "validator", &w) || !opt_doc(have, "validator", &h) ||
			     !mig_mongo_docs_equal(&w, &h)))
		snprintf(changes + strlen(changes), csize - strlen(changes), "%svalidator",
			 *changes ? ", " : "");
	if (o->validation_level &&
	    strcmp(o->validation_level, opt_utf8(have, "validationLevel", "strict")))
		snprintf(changes + strlen(changes), csize - strlen(changes),
			 "%svalidationLevel: server %s, spec %s", *changes ? ", " : "",
			 opt_utf8(have, "validationLevel", "strict"), o->validation_level);
	if (o->validation_action &&
	    strcmp(o->validation_action, opt_utf8(have, "validationAction", "error")))
		snprintf(changes + strlen(changes), csize - strlen(changes),
			 "%svalidationAction: server %s, spec %s", *changes ? ", " : "",
			 opt_utf8(have, "validationAction", "error"), o->validation_action);
#define CONFLICT(...)                                                                          \
	snprintf(conflict + strlen(conflict), fsize - strlen(conflict), __VA_ARGS__)
	if (o->has_collation) {
		bool hc = opt_doc(have, "collation", &h);
		opt_doc(&want, "collation", &w);
		if (!mig_mongo_collations_equal(&w, hc ? &h : NULL))
			CONFLICT("%scollation differs", *conflict ? ", " : "");
	}
	if (o->capped) {
		bson_iter_t it;
		bool capped = have && bson_iter_init_find(&it, have, "capped") &&
			      bson_iter_as_bool(&it);
		if (!capped || opt_int(have, "size") < o->size ||
		    (o->max && opt_int(have, "max") != o->max))
			CONFLICT("%scapped/size/max differ", *conflict ? ", " : "");
	}
	if (o->ts_time_field) {
		bool ts = opt_doc(have, "timeseries", &h);
		if (!ts || strcmp(opt_utf8(&h, "timeField", ""), o->ts_time_field) ||
		    strcmp(opt_utf8(&h, "metaField", ""),
			   o->ts_meta_field ? o->ts_meta_field : "") ||
		    (o->ts_granularity &&
		     strcmp(opt_utf8(&h, "granularity", "seconds"), o->ts_granularity)))
			CONFLICT("%stimeseries differs", *conflict ? ", " : "");
	}
	if (o->has_expire_after_seconds && opt_int(have, "expireAfterSeconds") !=
						   o->expire_after_seconds)
		CONFLICT("%sexpireAfterSeconds differs", *conflict ? ", " : "");
	if (o->clustered && !opt_doc(have, "clusteredIndex", &h)) {
		bson_iter_t it;
		if (!(have && bson_iter_init_find(&it, have, "clusteredIndex") &&
		      bson_iter_as_bool(&it)))
			CONFLICT("%sclusteredIndex differs", *conflict ? ", " : "");
	}
	if (o->change_stream_images >= 0) {
		bson_iter_t it;
		bool on = opt_doc(have, "changeStreamPreAndPostImages", &h) &&
			  bson_iter_init_find(&it, &h, "enabled") && bson_iter_as_bool(&it);
		if (on != (o->change_stream_images == 1))
			CONFLICT("%schangeStreamPreAndPostImages differs", *conflict ? ", " : "");
	}
#undef CONFLICT
	bson_destroy(&want);
}

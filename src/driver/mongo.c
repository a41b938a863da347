/* MongoDB backend for seed, status and verify: compares the modules' index specs with the
 * server and creates what is missing. The only file that includes <mongoc/mongoc.h>.
 * Commands per mig_mongo_sync: one listCollections, one listIndexes per existing collection,
 * and in SEED mode one createIndexes per collection with missing indexes (which creates a
 * missing collection too) or one create for a missing collection with nothing to index
 * (index by index only when the server reports a conflict). */
/* libmongoc's headers use struct addrinfo, which -std=c11 hides without a POSIX request. */
#define _POSIX_C_SOURCE 200809L

#include "driver/mongo.h"
#include "secret.h"

#include <mongoc/mongoc.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* libmongoc waits 30 s by default before declaring a server unreachable; a migration tool
 * that is run by hand or at deploy time should say so sooner. Used only when the URI does
 * not set serverSelectionTimeoutMS itself (the README documents this). */
#define DEFAULT_SERVER_SELECTION_MS 5000

/* Server error codes that mean "an index like this one already exists": the index is a
 * conflict to report, not a reason to stop. */
#define CODE_INDEX_OPTIONS_CONFLICT 85
#define CODE_INDEX_KEY_SPECS_CONFLICT 86
#define CODE_NAMESPACE_EXISTS 48

/* Strings that must never reach a message: the URI's passwords (as written and decoded,
 * the userinfo one and any "...password=" query value), found by secret.c. */
typedef struct secrets {
	char *s[MIG_DSN_PASSWORDS_MAX];
	size_t n;
} secrets;

struct mig_mongo {
	mongoc_client_t *client;
	char *database;
	secrets secret;
};

/* ---- memory and message helpers ---- */

static char *dupn(const char *s, size_t n)
{
	char *d = malloc(n + 1);
	if (d) {
		memcpy(d, s, n);
		d[n] = '\0';
	}
	return d;
}

static int oom(mig_error *err)
{
	return mig_error_set(err, MIG_EFAIL, "out of memory");
}

static void secrets_free(secrets *sc)
{
	for (size_t i = 0; i < sc->n; i++) {
		mig_secure_zero(sc->s[i], strlen(sc->s[i]));
		free(sc->s[i]);
	}
	sc->n = 0;
}

static int collect_secrets(secrets *sc, const char *uri)
{
	sc->n = (size_t)mig_dsn_passwords(uri, sc->s);
	return 0;
}

/* Copies msg into out (size outsz) with every secret replaced by "***". */
static void scrub(char *out, size_t outsz, const char *msg, const secrets *sc)
{
	snprintf(out, outsz, "%s", msg);
	for (size_t i = 0; i < sc->n; i++)
		mig_redact(out, outsz, sc->s[i]);
}

/* Fills err with code and the formatted message, secrets scrubbed. */
static int fail(mig_error *err, int code, const secrets *sc, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
static int fail(mig_error *err, int code, const secrets *sc, const char *fmt, ...)
{
	char raw[MIG_ERROR_MAX], clean[MIG_ERROR_MAX];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(raw, sizeof raw, fmt, ap);
	va_end(ap);
	scrub(clean, sizeof clean, raw, sc);
	return mig_error_set(err, code, "%s", clean);
}

/* MIG_EFAIL for a failed command: what was attempted, libmongoc's or the server's message and,
 * for a server error, its code. */
static int fail_command(mig_mongo *m, mig_error *err, const bson_error_t *e, const char *what,
			const char *coll)
{
	if (e->domain == MONGOC_ERROR_SERVER_SELECTION)
		return fail(err, MIG_EFAIL, &m->secret, "cannot reach MongoDB: %s", e->message);
	if (e->domain == MONGOC_ERROR_SERVER || e->domain == MONGOC_ERROR_WRITE_CONCERN)
		return fail(err, MIG_EFAIL, &m->secret, "%s on '%s%s%s' failed: %s (code %u)", what,
			    m->database, coll ? "." : "", coll ? coll : "", e->message, e->code);
	return fail(err, MIG_EFAIL, &m->secret, "%s on '%s%s%s' failed: %s", what, m->database,
		    coll ? "." : "", coll ? coll : "", e->message);
}

/* ---- connect ---- */

/* MongoDB database names may not contain these (nor be empty). */
static bool valid_database_name(const char *s)
{
	return *s && !strpbrk(s, "/\\. \"$");
}

int mig_mongo_connect(mig_mongo **out, const char *uri, const char *database, mig_error *err)
{
	mig_mongo *m = NULL;
	mongoc_uri_t *u = NULL;
	bson_error_t e;
	int rc;

	*out = NULL;
	/* libmongoc's global set-up (SSL, SASL, handshake data) runs once per process however
	 * often this is called: mongoc_init guards itself with a once-flag, so no state of ours is
	 * needed. The matching mongoc_cleanup is mig_mongo_global_cleanup. */
	mongoc_init();
	/* libmongoc logs warnings and errors to stderr by default ("Port could not be parsed"),
	 * which would break migrate's one-line error rule; everything it says there also comes
	 * back in the bson_error_t we report. Setting the library's handler to none is idempotent
	 * and holds no state of ours. */
	mongoc_log_set_handler(NULL, NULL);

	if (!(m = calloc(1, sizeof *m)) || collect_secrets(&m->secret, uri)) {
		rc = oom(err);
		goto done;
	}
	if (!valid_database_name(database)) {
		rc = fail(err, MIG_EUSAGE, &m->secret, "invalid MongoDB database name '%s'",
			  database);
		goto done;
	}
	if (!(m->database = dupn(database, strlen(database)))) {
		rc = oom(err);
		goto done;
	}
	if (!(u = mongoc_uri_new_with_error(uri, &e))) {
		rc = fail(err, MIG_EUSAGE, &m->secret, "invalid MongoDB URI '%s': %s", uri,
			  e.message);
		goto done;
	}
	if (!mongoc_uri_has_option(u, MONGOC_URI_SERVERSELECTIONTIMEOUTMS))
		mongoc_uri_set_option_as_int32(u, MONGOC_URI_SERVERSELECTIONTIMEOUTMS,
					       DEFAULT_SERVER_SELECTION_MS);
	/* Shows up in the server's log and currentOp; a user-given appName wins. */
	if (!mongoc_uri_get_appname(u))
		mongoc_uri_set_appname(u, "migrate");
	if (!(m->client = mongoc_client_new_from_uri_with_error(u, &e))) {
		rc = fail(err, MIG_EUSAGE, &m->secret, "invalid MongoDB URI '%s': %s", uri,
			  e.message);
		goto done;
	}
	/* Version 2 reports server errors in MONGOC_ERROR_SERVER with the server's own code,
	 * which is how 85/86 (index conflicts) are told apart from real failures. */
	mongoc_client_set_error_api(m->client, MONGOC_ERROR_API_VERSION_2);
	*out = m;
	m = NULL;
	rc = MIG_OK;
done:
	mongoc_uri_destroy(u);
	mig_mongo_free(m);
	return rc;
}

void mig_mongo_free(mig_mongo *m)
{
	if (!m)
		return;
	if (m->client)
		mongoc_client_destroy(m->client);
	free(m->database);
	secrets_free(&m->secret);
	free(m);
}

int mig_mongo_drop_database(mig_mongo *m, mig_error *err)
{
	bson_error_t e;
	mongoc_database_t *db = mongoc_client_get_database(m->client, m->database);
	bool ok = db && mongoc_database_drop_with_opts(db, NULL, &e);
	int rc = ok ? MIG_OK : fail(err, MIG_EFAIL, &m->secret, "cannot drop MongoDB database '%s': %s",
				    m->database, db ? e.message : "out of memory");
	mongoc_database_destroy(db);
	return rc;
}

void mig_mongo_global_cleanup(void)
{
	mongoc_cleanup();
}

/* ---- comparing values and index specs ---- */

static bool is_number(const bson_iter_t *it)
{
	return BSON_ITER_HOLDS_INT32(it) || BSON_ITER_HOLDS_INT64(it) || BSON_ITER_HOLDS_DOUBLE(it);
}

static bool docs_equal(const bson_t *a, const bson_t *b);

/* Equality of two BSON values where numbers compare by value whatever their type (the server
 * may store 1 as int32, int64 or double) and documents compare in key order. */
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
		       docs_equal(&ca, &cb);
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
		/* Anything rarer (dates, regexes, ObjectIds...): equal when the bytes are. */
		bson_t ta = BSON_INITIALIZER, tb = BSON_INITIALIZER;
		bool eq = bson_append_iter(&ta, "v", 1, a) && bson_append_iter(&tb, "v", 1, b) &&
			  bson_equal(&ta, &tb);
		bson_destroy(&ta);
		bson_destroy(&tb);
		return eq;
	}
	}
}

static bool docs_equal(const bson_t *a, const bson_t *b)
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

/* Sets *sub to the document of field key in doc; false when absent or not a document. */
static bool get_doc(const bson_t *doc, const char *key, bson_t *sub)
{
	bson_iter_t it;
	const uint8_t *data;
	uint32_t len;
	if (!bson_iter_init_find(&it, doc, key) || !BSON_ITER_HOLDS_DOCUMENT(&it))
		return false;
	bson_iter_document(&it, &len, &data);
	return bson_init_static(sub, data, len);
}

static bool get_bool(const bson_t *doc, const char *key)
{
	bson_iter_t it;
	return bson_iter_init_find(&it, doc, key) && bson_iter_as_bool(&it);
}

/* Appends "; "-separated text to a fixed buffer; text past its end is dropped. */
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

/* Relaxed extended JSON of doc for messages, or "(none)" for NULL; free with bson_free. */
static char *show(const bson_t *doc)
{
	return doc ? bson_as_relaxed_extended_json(doc, NULL) : bson_strdup("(none)");
}

/* The key pattern the server stores for want's keys: every "text" field folds into one
 * {_fts: "text", _ftsx: 1} at the place of the first, and their names go to the weights. */
static void server_key_pattern(const bson_t *want_key, bson_t *key, bson_t *text_fields)
{
	bson_iter_t it;
	bool folded = false;
	bson_iter_init(&it, want_key);
	while (bson_iter_next(&it)) {
		if (BSON_ITER_HOLDS_UTF8(&it) && !strcmp(bson_iter_utf8(&it, NULL), "text")) {
			if (!folded) {
				BSON_APPEND_UTF8(key, "_fts", "text");
				BSON_APPEND_INT32(key, "_ftsx", 1);
				folded = true;
			}
			BSON_APPEND_INT32(text_fields, bson_iter_key(&it), 1);
		} else {
			bson_append_iter(key, bson_iter_key(&it), -1, &it);
		}
	}
}

/* True when weights names exactly the fields of text_fields, in any order. */
static bool same_field_set(const bson_t *weights, const bson_t *text_fields)
{
	bson_iter_t it;
	if (bson_count_keys(weights) != bson_count_keys(text_fields))
		return false;
	bson_iter_init(&it, text_fields);
	while (bson_iter_next(&it))
		if (!bson_has_field(weights, bson_iter_key(&it)))
			return false;
	return true;
}

/* Compares the index document we would send (want) with the one the server lists (have).
 * Returns NULL when they match, else a malloc'd description of what differs. Options the
 * spec cannot express (v, weights, default_language, 2dsphereIndexVersion...) are ignored. */
static char *index_difference(const bson_t *want, const bson_t *have)
{
	static const char *const flags[] = {"unique", "sparse", "hidden"};
	char buf[MIG_ERROR_MAX] = "";
	bson_t want_key, have_key, key = BSON_INITIALIZER, text_fields = BSON_INITIALIZER;
	bson_t wsub, hsub, weights;
	bson_iter_t wit, hit;
	bool has_w, has_h;

	get_doc(want, "key", &want_key);
	server_key_pattern(&want_key, &key, &text_fields);
	has_h = get_doc(have, "key", &have_key);
	if (!has_h || !docs_equal(&key, &have_key)) {
		char *w = show(&want_key), *h = show(has_h ? &have_key : NULL);
		note(buf, sizeof buf, "keys differ: server %s, spec %s", h, w);
		bson_free(w);
		bson_free(h);
	} else if (!bson_empty(&text_fields) && (!get_doc(have, "weights", &weights) ||
						 !same_field_set(&weights, &text_fields))) {
		char *w = show(&text_fields),
		     *h = show(get_doc(have, "weights", &weights) ? &weights : NULL);
		note(buf, sizeof buf, "text fields differ: server weights %s, spec %s", h, w);
		bson_free(w);
		bson_free(h);
	}
	for (size_t i = 0; i < sizeof flags / sizeof *flags; i++) {
		bool w = get_bool(want, flags[i]), h = get_bool(have, flags[i]);
		if (w != h)
			note(buf, sizeof buf, "%s: server %s, spec %s", flags[i],
			     h ? "true" : "false", w ? "true" : "false");
	}

	has_w = bson_iter_init_find(&wit, want, "expireAfterSeconds");
	has_h = bson_iter_init_find(&hit, have, "expireAfterSeconds");
	if (has_w != has_h || (has_w && !(is_number(&hit) && values_equal(&wit, &hit)))) {
		char hs[32] = "none", ws[32] = "none";
		if (has_h && is_number(&hit))
			snprintf(hs, sizeof hs, "%.15g", bson_iter_as_double(&hit));
		if (has_w)
			snprintf(ws, sizeof ws, "%lld", (long long)bson_iter_as_int64(&wit));
		note(buf, sizeof buf, "expireAfterSeconds: server %s, spec %s", hs, ws);
	}

	has_w = get_doc(want, "partialFilterExpression", &wsub);
	has_h = get_doc(have, "partialFilterExpression", &hsub);
	if (has_w != has_h || (has_w && !docs_equal(&wsub, &hsub))) {
		char *w = show(has_w ? &wsub : NULL), *h = show(has_h ? &hsub : NULL);
		note(buf, sizeof buf, "partialFilterExpression: server %s, spec %s", h, w);
		bson_free(w);
		bson_free(h);
	}

	/* The server expands a collation with every default (caseLevel, strength...), so only
	 * what the spec gives is compared. locale "simple" is the same as no collation. */
	has_w = get_doc(want, "collation", &wsub);
	has_h = get_doc(have, "collation", &hsub);
	if (has_w && bson_iter_init_find(&wit, &wsub, "locale") && BSON_ITER_HOLDS_UTF8(&wit) &&
	    !strcmp(bson_iter_utf8(&wit, NULL), "simple") && bson_count_keys(&wsub) == 1)
		has_w = false;
	if (has_w != has_h) {
		note(buf, sizeof buf, "collation: %s",
		     has_h ? "server has one, spec none" : "spec has one, server none");
	} else if (has_w) {
		/* Shows the server's values of the spec's fields only: the rest is defaults. */
		bson_t mine = BSON_INITIALIZER, theirs = BSON_INITIALIZER;
		bool same = bson_iter_init(&wit, &wsub);
		while (bson_iter_next(&wit)) {
			bool found = bson_iter_init_find(&hit, &hsub, bson_iter_key(&wit));
			if (found && values_equal(&wit, &hit))
				continue;
			same = false;
			bson_append_iter(&mine, bson_iter_key(&wit), -1, &wit);
			if (found)
				bson_append_iter(&theirs, bson_iter_key(&hit), -1, &hit);
		}
		if (!same) {
			char *w = show(&mine), *h = show(&theirs);
			note(buf, sizeof buf, "collation: server %s, spec %s", h, w);
			bson_free(w);
			bson_free(h);
		}
		bson_destroy(&mine);
		bson_destroy(&theirs);
	}

	bson_destroy(&key);
	bson_destroy(&text_fields);
	return buf[0] ? dupn(buf, strlen(buf)) : NULL;
}

/* ---- building what we send ---- */

/* Appends the spec's JSON option (partialFilterExpression or collation) as a document.
 * libbson reads it as extended JSON, so {"$date": ...} works; what it cannot read is the
 * spec's fault and is reported with the index's line. */
static int append_json(bson_t *doc, const char *key, const char *json, const mig_index_spec *spec,
		       const mig_index *ix, mig_error *err)
{
	bson_error_t e;
	bson_t *sub = bson_new_from_json((const uint8_t *)json, -1, &e);
	if (!sub)
		return mig_error_set(
			err, MIG_EUSAGE,
			"option '%s' of index '%s' is not valid MongoDB extended JSON: "
			"%s (%s:%u)",
			key, ix->name, e.message, spec->path, ix->line);
	BSON_APPEND_DOCUMENT(doc, key, sub);
	bson_destroy(sub);
	return MIG_OK;
}

/* Builds into doc (initialised by the caller) the createIndexes entry for ix. */
static int build_index_doc(bson_t *doc, const mig_index_spec *spec, const mig_index *ix,
			   mig_error *err)
{
	bson_t key;
	int rc;

	BSON_APPEND_DOCUMENT_BEGIN(doc, "key", &key);
	for (size_t i = 0; i < ix->nkeys; i++) {
		const char *v = ix->keys[i].value;
		if (!strcmp(v, "1") || !strcmp(v, "-1"))
			BSON_APPEND_INT32(&key, ix->keys[i].field, atoi(v));
		else
			BSON_APPEND_UTF8(&key, ix->keys[i].field, v);
	}
	bson_append_document_end(doc, &key);
	BSON_APPEND_UTF8(doc, "name", ix->name);
	/* false is the server's default: leave it out so listIndexes shows what we asked for. */
	if (ix->unique == 1)
		BSON_APPEND_BOOL(doc, "unique", true);
	if (ix->sparse == 1)
		BSON_APPEND_BOOL(doc, "sparse", true);
	if (ix->hidden == 1)
		BSON_APPEND_BOOL(doc, "hidden", true);
	if (ix->has_expire_after_seconds)
		BSON_APPEND_INT32(doc, "expireAfterSeconds", (int32_t)ix->expire_after_seconds);
	if (ix->partial_filter_json && (rc = append_json(doc, "partialFilterExpression",
							 ix->partial_filter_json, spec, ix, err)))
		return rc;
	if (ix->collation_json &&
	    (rc = append_json(doc, "collation", ix->collation_json, spec, ix, err)))
		return rc;
	return MIG_OK;
}

/* ---- the plan of one sync ---- */

typedef struct item { /* one index of one collection entry */
	const mig_index_spec *spec;
	const mig_index *ix;
	bson_t *want; /* what createIndexes would get */
	mig_mongo_state state;
	char *detail;
	size_t leader; /* same index in an earlier module's spec: the item it follows */
} item;

typedef struct entry { /* one collection of one spec, in spec order */
	const mig_index_spec *spec;
	const mig_collection *coll;
	size_t group; /* first entry with this collection name */
	size_t first_item;
	bool done; /* for the group leader: the server has been asked */
	mig_mongo_state state;
} entry;

typedef struct plan {
	entry *entries;
	size_t nentries;
	item *items;
	size_t nitems;
	char **existing; /* collection names from listCollections */
	size_t nexisting;
} plan;

#define NO_LEADER SIZE_MAX

static void plan_free(plan *p)
{
	for (size_t i = 0; i < p->nitems; i++) {
		if (p->items[i].want)
			bson_destroy(p->items[i].want);
		free(p->items[i].detail);
	}
	for (size_t i = 0; i < p->nexisting; i++)
		free(p->existing[i]);
	free(p->existing);
	free(p->items);
	free(p->entries);
}

static int plan_build(plan *p, mig_index_spec *const *specs, size_t nspecs, mig_error *err)
{
	size_t ne = 0, ni = 0;
	int rc;

	for (size_t s = 0; s < nspecs; s++)
		for (size_t c = 0; specs[s] && c < specs[s]->ncollections; c++) {
			ne++;
			ni += specs[s]->collections[c].nindexes;
		}
	if ((ne && !(p->entries = calloc(ne, sizeof *p->entries))) ||
	    (ni && !(p->items = calloc(ni, sizeof *p->items))))
		return oom(err);
	for (size_t s = 0; s < nspecs; s++) {
		for (size_t c = 0; specs[s] && c < specs[s]->ncollections; c++) {
			entry *e = &p->entries[p->nentries];
			e->spec = specs[s];
			e->coll = &specs[s]->collections[c];
			e->group = p->nentries;
			for (size_t k = 0; k < p->nentries; k++)
				if (!strcmp(p->entries[k].coll->name, e->coll->name)) {
					e->group = k;
					break;
				}
			e->first_item = p->nitems;
			p->nentries++;
			for (size_t i = 0; i < e->coll->nindexes; i++) {
				item *it = &p->items[p->nitems++];
				it->spec = e->spec;
				it->ix = &e->coll->indexes[i];
				it->leader = NO_LEADER;
				if (!(it->want = bson_new()))
					return oom(err);
				if ((rc = build_index_doc(it->want, e->spec, it->ix, err)))
					return rc;
			}
		}
	}
	return MIG_OK;
}

/* The one listCollections of a sync. */
static int list_collections(mig_mongo *m, mongoc_database_t *db, plan *p, mig_error *err)
{
	bson_t opts = BSON_INITIALIZER;
	mongoc_cursor_t *cur;
	const bson_t *doc;
	bson_error_t e;
	size_t cap = 0;
	int rc = MIG_OK;

	/* authorizedCollections lets a user whose privileges are per collection list them. */
	BSON_APPEND_BOOL(&opts, "nameOnly", true);
	BSON_APPEND_BOOL(&opts, "authorizedCollections", true);
	cur = mongoc_database_find_collections_with_opts(db, &opts);
	while (rc == MIG_OK && mongoc_cursor_next(cur, &doc)) {
		bson_iter_t it;
		const char *name;
		uint32_t len;
		if (!bson_iter_init_find(&it, doc, "name") || !BSON_ITER_HOLDS_UTF8(&it))
			continue;
		name = bson_iter_utf8(&it, &len);
		if (p->nexisting == cap) {
			size_t ncap = cap ? cap * 2 : 16;
			char **n = realloc(p->existing, ncap * sizeof *n);
			if (!n) {
				rc = oom(err);
				break;
			}
			p->existing = n;
			cap = ncap;
		}
		if (!(p->existing[p->nexisting] = dupn(name, len)))
			rc = oom(err);
		else
			p->nexisting++;
	}
	if (rc == MIG_OK && mongoc_cursor_error(cur, &e))
		rc = fail_command(m, err, &e, "listCollections", NULL);
	mongoc_cursor_destroy(cur);
	bson_destroy(&opts);
	return rc;
}

static bool collection_exists(const plan *p, const char *name)
{
	for (size_t i = 0; i < p->nexisting; i++)
		if (!strcmp(p->existing[i], name))
			return true;
	return false;
}

/* Lists the indexes of coll into *out (each a bson_t* the caller destroys). */
static int list_indexes(mig_mongo *m, mongoc_database_t *db, const char *coll, bson_t ***out,
			size_t *n, mig_error *err)
{
	mongoc_collection_t *c = mongoc_database_get_collection(db, coll);
	mongoc_cursor_t *cur = mongoc_collection_find_indexes_with_opts(c, NULL);
	const bson_t *doc;
	bson_error_t e;
	size_t cap = 0;
	int rc = MIG_OK;

	while (mongoc_cursor_next(cur, &doc)) {
		if (*n == cap) {
			size_t ncap = cap ? cap * 2 : 8;
			bson_t **nv = realloc(*out, ncap * sizeof *nv);
			if (!nv) {
				rc = oom(err);
				goto done;
			}
			*out = nv;
			cap = ncap;
		}
		(*out)[(*n)++] = bson_copy(doc);
	}
	if (mongoc_cursor_error(cur, &e))
		rc = fail_command(m, err, &e, "listIndexes", coll);
done:
	mongoc_cursor_destroy(cur);
	mongoc_collection_destroy(c);
	return rc;
}

static const bson_t *find_index(bson_t *const *have, size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++) {
		bson_iter_t it;
		if (bson_iter_init_find(&it, have[i], "name") && BSON_ITER_HOLDS_UTF8(&it) &&
		    !strcmp(bson_iter_utf8(&it, NULL), name))
			return have[i];
	}
	return NULL;
}

/* Runs a write command on the database; *server_code gets the server's error code (0 when
 * the failure was not the server's). */
static bool run_write(mongoc_database_t *db, const bson_t *cmd, bson_error_t *e,
		      uint32_t *server_code)
{
	bson_t reply;
	bool ok = mongoc_database_write_command_with_opts(db, cmd, NULL, &reply, e);
	bson_destroy(&reply);
	*server_code = ok || e->domain != MONGOC_ERROR_SERVER ? 0 : e->code;
	return ok;
}

static bool is_conflict(uint32_t code)
{
	return code == CODE_INDEX_OPTIONS_CONFLICT || code == CODE_INDEX_KEY_SPECS_CONFLICT;
}

/* One createIndexes command for the items idx[0..n) of coll. */
static bool send_create_indexes(mongoc_database_t *db, const char *coll, const plan *p,
				const size_t *idx, size_t n, bson_error_t *e, uint32_t *code)
{
	bson_t cmd = BSON_INITIALIZER, arr;
	char k[24];
	bool ok;

	BSON_APPEND_UTF8(&cmd, "createIndexes", coll);
	BSON_APPEND_ARRAY_BEGIN(&cmd, "indexes", &arr);
	for (size_t i = 0; i < n; i++) {
		snprintf(k, sizeof k, "%zu", i);
		BSON_APPEND_DOCUMENT(&arr, k, p->items[idx[i]].want);
	}
	bson_append_array_end(&cmd, &arr);
	ok = run_write(db, &cmd, e, code);
	bson_destroy(&cmd);
	return ok;
}

/* Creates the pending items idx[0..n) of coll with one command. When the server refuses it
 * for a conflict (85/86) it has created none of them and has not said which one clashed, so
 * each is then sent alone: the others are still created and only the clashing ones are left
 * out, as CONFLICT with the server's message. Any other failure is MIG_EFAIL. */
static int create_indexes(mig_mongo *m, mongoc_database_t *db, const char *coll, plan *p,
			  const size_t *idx, size_t n, mig_error *err)
{
	bson_error_t e;
	uint32_t code;

	if (send_create_indexes(db, coll, p, idx, n, &e, &code)) {
		for (size_t i = 0; i < n; i++)
			p->items[idx[i]].state = MIG_MONGO_CREATED;
		return MIG_OK;
	}
	if (!is_conflict(code))
		return fail_command(m, err, &e, "createIndexes", coll);
	for (size_t i = 0; i < n; i++) {
		item *it = &p->items[idx[i]];
		char msg[MIG_ERROR_MAX];

		if (send_create_indexes(db, coll, p, &idx[i], 1, &e, &code)) {
			it->state = MIG_MONGO_CREATED;
			continue;
		}
		if (!is_conflict(code))
			return fail_command(m, err, &e, "createIndexes", coll);
		snprintf(msg, sizeof msg, "%s (code %u)", e.message, code);
		it->state = MIG_MONGO_CONFLICT;
		if (!(it->detail = dupn(msg, strlen(msg))))
			return oom(err);
	}
	return MIG_OK;
}

/* Asks the server about the collection of group leader g and settles the state of every
 * entry and item of that collection, in all specs, creating what is missing in SEED mode. */
static int settle_collection(mig_mongo *m, mongoc_database_t *db, plan *p, size_t g,
			     mig_mongo_mode mode, mig_error *err)
{
	const char *name = p->entries[g].coll->name;
	bool exists = collection_exists(p, name);
	bson_t **have = NULL;
	size_t nhave = 0, npending = 0, *pending = NULL;
	mig_mongo_state cstate;
	int rc;

	p->entries[g].done = true;
	if (exists && (rc = list_indexes(m, db, name, &have, &nhave, err)))
		goto done;
	if (!(pending = calloc(p->nitems ? p->nitems : 1, sizeof *pending))) {
		rc = oom(err);
		goto done;
	}

	for (size_t e = g; e < p->nentries; e++) {
		entry *en = &p->entries[e];
		if (en->group != g)
			continue;
		for (size_t i = 0; i < en->coll->nindexes; i++) {
			size_t t = en->first_item + i;
			item *it = &p->items[t];
			const bson_t *h = find_index(have, nhave, it->ix->name);
			if (h) {
				it->detail = index_difference(it->want, h);
				it->state = it->detail ? MIG_MONGO_CONFLICT : MIG_MONGO_PRESENT;
				continue;
			}
			/* The same missing index in an earlier module's spec of this collection:
			 * created once, and this item shares its fate; unless the two specs differ,
			 * which leaves this one a conflict. */
			for (size_t q = 0; q < npending && it->leader == NO_LEADER; q++)
				if (!strcmp(p->items[pending[q]].ix->name, it->ix->name))
					it->leader = pending[q];
			if (it->leader != NO_LEADER &&
			    !docs_equal(it->want, p->items[it->leader].want)) {
				const item *o = &p->items[it->leader];
				char msg[MIG_ERROR_MAX];
				snprintf(msg, sizeof msg,
					 "module '%s' defines index '%s' differently (%s:%u)",
					 o->spec->module, o->ix->name, o->spec->path, o->ix->line);
				it->state = MIG_MONGO_CONFLICT;
				it->leader = NO_LEADER;
				if (!(it->detail = dupn(msg, strlen(msg)))) {
					rc = oom(err);
					goto done;
				}
				continue;
			}
			if (it->leader == NO_LEADER)
				pending[npending++] = t;
			it->state = MIG_MONGO_MISSING;
		}
	}

	cstate = exists ? MIG_MONGO_PRESENT : MIG_MONGO_MISSING;
	if (mode == MIG_MONGO_SEED && !exists && npending)
		cstate = MIG_MONGO_CREATED; /* createIndexes creates it: no separate create */
	if (mode == MIG_MONGO_SEED && !exists && !npending) {
		/* a collection with no index to create still has to exist */
		bson_t cmd = BSON_INITIALIZER;
		bson_error_t e;
		uint32_t code;
		bool ok;
		BSON_APPEND_UTF8(&cmd, "create", name);
		ok = run_write(db, &cmd, &e, &code);
		bson_destroy(&cmd);
		if (!ok && code != CODE_NAMESPACE_EXISTS) {
			rc = fail_command(m, err, &e, "create", name);
			goto done;
		}
		cstate = ok ? MIG_MONGO_CREATED : MIG_MONGO_PRESENT;
	}
	if (mode == MIG_MONGO_SEED && npending &&
	    (rc = create_indexes(m, db, name, p, pending, npending, err)))
		goto done;

	for (size_t e = g; e < p->nentries; e++) {
		entry *en = &p->entries[e];
		if (en->group != g)
			continue;
		en->state = cstate;
		for (size_t i = 0; i < en->coll->nindexes; i++) {
			item *it = &p->items[en->first_item + i];
			if (it->leader == NO_LEADER)
				continue;
			it->state = p->items[it->leader].state;
			if (p->items[it->leader].detail &&
			    !(it->detail = dupn(p->items[it->leader].detail,
						strlen(p->items[it->leader].detail)))) {
				rc = oom(err);
				goto done;
			}
		}
	}
	rc = MIG_OK;
done:
	for (size_t i = 0; i < nhave; i++)
		bson_destroy(have[i]);
	free(have);
	free(pending);
	return rc;
}

int mig_mongo_sync(mig_mongo *m, mig_index_spec *const *specs, size_t nspecs, mig_mongo_mode mode,
		   mig_mongo_report_fn report, void *ctx, mig_error *err)
{
	plan p = {0};
	mongoc_database_t *db = NULL;
	int rc;

	/* Everything the server will be sent is built first, so a spec libbson cannot read
	 * fails before any command. */
	if ((rc = plan_build(&p, specs, nspecs, err)))
		goto done;
	if (p.nentries == 0)
		goto done;
	db = mongoc_client_get_database(m->client, m->database);
	if ((rc = list_collections(m, db, &p, err)))
		goto done;

	for (size_t e = 0; e < p.nentries; e++) {
		entry *en = &p.entries[e];
		mig_mongo_item r = {.module = en->spec->module, .collection = en->coll->name};

		if (!p.entries[en->group].done &&
		    (rc = settle_collection(m, db, &p, en->group, mode, err)))
			goto done;
		r.state = en->state;
		if (report)
			report(ctx, &r);
		for (size_t i = 0; i < en->coll->nindexes; i++) {
			const item *it = &p.items[en->first_item + i];
			r.index = it->ix->name;
			r.state = it->state;
			r.detail = it->detail;
			if (report)
				report(ctx, &r);
		}
	}
	rc = MIG_OK;
done:
	if (db)
		mongoc_database_destroy(db);
	plan_free(&p);
	return rc;
}

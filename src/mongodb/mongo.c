/* MongoDB backend for seed, status and verify: compares the modules' index specs with the
 * server and creates what is missing. The only file that includes <mongoc/mongoc.h>.
 * Commands per mig_mongo_sync: one listCollections, one listIndexes per existing collection,
 * and in SEED mode one createIndexes per collection with missing indexes (which creates a
 * missing collection too) or one create for a missing collection with nothing to index
 * (index by index only when the server reports a conflict). */
/* libmongoc's headers use struct addrinfo, which -std=c11 hides without a POSIX request. */
#define _POSIX_C_SOURCE 200809L

#include "mongodb/mongo.h"
#include "mongodb/mongo_compare.h"
#include "util/secret.h"

#include <fnmatch.h>
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

struct mig_mongo {
	mongoc_client_t *client;
	char *database;
	/* the URI's passwords (as written and decoded, the userinfo one and any
	 * "...password=" query value): never to reach a message */
	mig_secrets secret;
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

/* Copies msg into out (size outsz) with every secret replaced by "***". */
static void scrub(char *out, size_t outsz, const char *msg, const mig_secrets *sc)
{
	snprintf(out, outsz, "%s", msg);
	mig_secrets_redact(sc, out, outsz);
}

/* Fills err with code and the formatted message, secrets scrubbed. */
static int fail(mig_error *err, int code, const mig_secrets *sc, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
static int fail(mig_error *err, int code, const mig_secrets *sc, const char *fmt, ...)
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

	if (!(m = calloc(1, sizeof *m)) || mig_secrets_add(&m->secret, uri) < 0) {
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
	/* A connection attempt that hangs (packets dropped) would otherwise wait libmongoc's
	 * 10 s connectTimeoutMS whatever the server-selection timeout says. */
	if (!mongoc_uri_has_option(u, MONGOC_URI_CONNECTTIMEOUTMS))
		mongoc_uri_set_option_as_int32(
			u, MONGOC_URI_CONNECTTIMEOUTMS,
			mongoc_uri_get_option_as_int32(u, MONGOC_URI_SERVERSELECTIONTIMEOUTMS,
						       DEFAULT_SERVER_SELECTION_MS));
	/* createIndexes blocks for the whole build: libmongoc's 5-minute socket timeout would
	 * cut long builds off. 0 means "the default" to libmongoc, so the largest value it
	 * takes (24 days) stands for no limit. */
	if (!mongoc_uri_has_option(u, MONGOC_URI_SOCKETTIMEOUTMS))
		mongoc_uri_set_option_as_int32(u, MONGOC_URI_SOCKETTIMEOUTMS, INT32_MAX);
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
	mig_secrets_clear(&m->secret);
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

/* ---- the plan of one sync ---- */

typedef struct item { /* one index of one collection entry */
	const mig_index_spec *spec;
	const mig_index *ix;
	bson_t *want; /* what createIndexes would get */
	mig_mongo_state state;
	char *detail;
	size_t leader; /* same index in an earlier module's spec: the item it follows */
} item;

typedef struct extra { /* an index on the server that no spec declares */
	char *name;
	mig_mongo_state state;
	char *detail;
} extra;

typedef struct entry { /* one collection of one spec, in spec order */
	const mig_index_spec *spec;
	const mig_collection *coll;
	size_t group; /* first entry with this collection name */
	size_t first_item;
	bool done; /* for the group leader: the server has been asked */
	mig_mongo_state state;
	char *detail;
	extra *extras; /* group leader only */
	size_t nextras;
} entry;

typedef struct existing { /* one listCollections entry */
	char *name, *type;
	bson_t *options;
} existing;

typedef struct plan {
	entry *entries;
	size_t nentries;
	item *items;
	size_t nitems;
	existing *existing;
	size_t nexisting;
	bool prune;
} plan;

#define NO_LEADER SIZE_MAX

static char *dupstr(const char *s)
{
	return s ? dupn(s, strlen(s)) : NULL;
}

static void plan_free(plan *p)
{
	for (size_t i = 0; i < p->nitems; i++) {
		if (p->items[i].want)
			bson_destroy(p->items[i].want);
		free(p->items[i].detail);
	}
	for (size_t i = 0; i < p->nentries; i++) {
		for (size_t j = 0; j < p->entries[i].nextras; j++) {
			free(p->entries[i].extras[j].name);
			free(p->entries[i].extras[j].detail);
		}
		free(p->entries[i].extras);
		free(p->entries[i].detail);
	}
	for (size_t i = 0; i < p->nexisting; i++) {
		free(p->existing[i].name);
		free(p->existing[i].type);
		if (p->existing[i].options)
			bson_destroy(p->existing[i].options);
	}
	free(p->existing);
	free(p->items);
	free(p->entries);
}

static int plan_build(plan *p, mig_index_spec *const *specs, size_t nspecs, mig_error *err)
{
	size_t ne = 0, ni = 0;

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
				mig_mongo_index_doc(it->want, it->ix);
			}
		}
	}
	return MIG_OK;
}

/* The one listCollections of a sync: names, types (view, timeseries) and options. */
static int list_collections(mig_mongo *m, mongoc_database_t *db, plan *p, mig_error *err)
{
	bson_t opts = BSON_INITIALIZER;
	mongoc_cursor_t *cur;
	const bson_t *doc;
	bson_error_t e;
	size_t cap = 0;
	int rc = MIG_OK;

	cur = mongoc_database_find_collections_with_opts(db, &opts);
	while (rc == MIG_OK && mongoc_cursor_next(cur, &doc)) {
		bson_iter_t it;
		existing *x;
		if (!bson_iter_init_find(&it, doc, "name") || !BSON_ITER_HOLDS_UTF8(&it))
			continue;
		if (p->nexisting == cap) {
			size_t ncap = cap ? cap * 2 : 16;
			existing *n = realloc(p->existing, ncap * sizeof *n);
			if (!n) {
				rc = oom(err);
				break;
			}
			p->existing = n;
			cap = ncap;
		}
		x = &p->existing[p->nexisting++];
		memset(x, 0, sizeof *x);
		x->name = dupstr(bson_iter_utf8(&it, NULL));
		x->type = dupstr(bson_iter_init_find(&it, doc, "type") && BSON_ITER_HOLDS_UTF8(&it)
					 ? bson_iter_utf8(&it, NULL)
					 : "collection");
		if (bson_iter_init_find(&it, doc, "options") && BSON_ITER_HOLDS_DOCUMENT(&it)) {
			const uint8_t *data;
			uint32_t len;
			bson_iter_document(&it, &len, &data);
			x->options = bson_new_from_data(data, len);
		}
		if (!x->name || !x->type)
			rc = oom(err);
	}
	if (rc == MIG_OK && mongoc_cursor_error(cur, &e))
		rc = fail_command(m, err, &e, "listCollections", NULL);
	mongoc_cursor_destroy(cur);
	bson_destroy(&opts);
	return rc;
}

static const existing *find_existing(const plan *p, const char *name)
{
	for (size_t i = 0; i < p->nexisting; i++)
		if (!strcmp(p->existing[i].name, name))
			return &p->existing[i];
	return NULL;
}

/* Lists the indexes of coll into *out (each a bson_t* the caller destroys). Builds still
 * in progress come as {spec, buildUUID} (includeBuildUUIDs): their spec is listed with
 * "$building": true added. */
static int list_indexes(mig_mongo *m, mongoc_database_t *db, const char *coll, bson_t ***out,
			size_t *n, mig_error *err)
{
	mongoc_collection_t *c = mongoc_database_get_collection(db, coll);
	bson_t opts = BSON_INITIALIZER;
	mongoc_cursor_t *cur;
	const bson_t *doc;
	bson_error_t e;
	size_t cap = 0;
	int rc = MIG_OK;

	BSON_APPEND_BOOL(&opts, "includeBuildUUIDs", true);
	cur = mongoc_collection_find_indexes_with_opts(c, &opts);
	while (mongoc_cursor_next(cur, &doc)) {
		bson_iter_t it;
		bson_t *copy;
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
		if (bson_iter_init_find(&it, doc, "buildUUID") &&
		    bson_iter_init_find(&it, doc, "spec") && BSON_ITER_HOLDS_DOCUMENT(&it)) {
			const uint8_t *data;
			uint32_t len;
			bson_iter_document(&it, &len, &data);
			copy = bson_new_from_data(data, len);
			BSON_APPEND_BOOL(copy, "$building", true);
		} else {
			copy = bson_copy(doc);
		}
		(*out)[(*n)++] = copy;
	}
	if (mongoc_cursor_error(cur, &e))
		rc = fail_command(m, err, &e, "listIndexes", coll);
done:
	mongoc_cursor_destroy(cur);
	mongoc_collection_destroy(c);
	bson_destroy(&opts);
	return rc;
}

static const char *index_name(const bson_t *doc)
{
	bson_iter_t it;
	if (bson_iter_init_find(&it, doc, "name") && BSON_ITER_HOLDS_UTF8(&it))
		return bson_iter_utf8(&it, NULL);
	return "";
}

static const bson_t *find_index(bson_t *const *have, size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (!strcmp(index_name(have[i]), name))
			return have[i];
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

static int set_detail(char **detail, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int set_detail(char **detail, const char *fmt, ...)
{
	char msg[MIG_ERROR_MAX];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	free(*detail);
	*detail = dupn(msg, strlen(msg));
	return *detail ? 0 : -1;
}

/* Creates the pending items idx[0..n) of coll with one command. mongod builds all of them
 * or none, and on failure does not say which one it refused; so after any server error
 * each is sent alone: the good ones are still created, a clash (85/86) is a CONFLICT and
 * any other refusal (a bad spec, duplicate keys under a new unique index...) FAILED with
 * the server's code and message. A failure that is not the server's (network) is
 * MIG_EFAIL. */
static int create_indexes(mig_mongo *m, mongoc_database_t *db, const char *coll, plan *p,
			  const size_t *idx, size_t n, const char *kind, mig_error *err)
{
	bson_error_t e;
	uint32_t code;

	if (send_create_indexes(db, coll, p, idx, n, &e, &code)) {
		for (size_t i = 0; i < n; i++)
			p->items[idx[i]].state = MIG_MONGO_CREATED;
		return MIG_OK;
	}
	if (e.domain != MONGOC_ERROR_SERVER && e.domain != MONGOC_ERROR_WRITE_CONCERN)
		return fail_command(m, err, &e, "createIndexes", coll);
	for (size_t i = 0; i < n; i++) {
		item *it = &p->items[idx[i]];
		char msg[MIG_ERROR_MAX];

		if (n > 1 && send_create_indexes(db, coll, p, &idx[i], 1, &e, &code)) {
			it->state = MIG_MONGO_CREATED;
			continue;
		}
		if (e.domain != MONGOC_ERROR_SERVER && e.domain != MONGOC_ERROR_WRITE_CONCERN)
			return fail_command(m, err, &e, "createIndexes", coll);
		scrub(msg, sizeof msg, e.message, &m->secret);
		it->state = is_conflict(code) ? MIG_MONGO_CONFLICT : MIG_MONGO_FAILED;
		if (set_detail(&it->detail, "%s%s (code %u)", kind, msg, code))
			return oom(err);
	}
	return MIG_OK;
}

/* Applies the in-place changes (expireAfterSeconds, hidden) of item it with collMod. */
static int collmod_index(mig_mongo *m, mongoc_database_t *db, const char *coll, item *it,
			 const mig_mongo_diff *d, mig_error *err)
{
	bson_t cmd = BSON_INITIALIZER, ix;
	bson_error_t e;
	uint32_t code;
	bool ok;

	BSON_APPEND_UTF8(&cmd, "collMod", coll);
	BSON_APPEND_DOCUMENT_BEGIN(&cmd, "index", &ix);
	BSON_APPEND_UTF8(&ix, "name", it->ix->name);
	if (d->expire)
		BSON_APPEND_INT64(&ix, "expireAfterSeconds", it->ix->expire_after_seconds);
	if (d->hidden)
		BSON_APPEND_BOOL(&ix, "hidden", it->ix->hidden == 1);
	bson_append_document_end(&cmd, &ix);
	ok = run_write(db, &cmd, &e, &code);
	bson_destroy(&cmd);
	if (ok)
		return MIG_OK;
	if (e.domain != MONGOC_ERROR_SERVER)
		return fail_command(m, err, &e, "collMod", coll);
	it->state = MIG_MONGO_FAILED;
	char msg[MIG_ERROR_MAX];
	scrub(msg, sizeof msg, e.message, &m->secret);
	return set_detail(&it->detail, "collMod failed: %s (code %u)", msg, code) ? oom(err)
										  : MIG_OK;
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

/* The create command's options for o, appended to cmd. */
static void append_collection_options(bson_t *cmd, const mig_collection_options *o)
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

/* Compares the declared options o with the server's (listCollections "options"): what
 * collMod can change goes to *changes (validator, validationLevel, validationAction),
 * creation-only differences to conflict. Only declared options are compared. */
static void compare_collection_options(const mig_collection_options *o, const bson_t *have,
				       char *changes, size_t csize, char *conflict,
				       size_t fsize)
{
	bson_t want = BSON_INITIALIZER, w, h;
	append_collection_options(&want, o);
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

/* ---- one collection ---- */

static bool ignored(const plan *p, size_t g, const char *name)
{
	for (size_t e = g; e < p->nentries; e++) {
		const entry *en = &p->entries[e];
		if (en->group != g)
			continue;
		for (size_t i = 0; i < en->coll->nindexes; i++)
			if (!strcmp(en->coll->indexes[i].name, name))
				return true;
		for (size_t i = 0; i < en->coll->nignore; i++)
			if (!fnmatch(en->coll->ignore[i], name, 0))
				return true;
	}
	return !strcmp(name, "_id_");
}

static bool seeding(mig_mongo_mode mode)
{
	return mode == MIG_MONGO_SEED || mode == MIG_MONGO_SEED_PRUNE;
}

static bool dry(mig_mongo_mode mode)
{
	return mode == MIG_MONGO_SEED_DRY || mode == MIG_MONGO_SEED_DRY_PRUNE;
}

/* Lists the indexes no spec declares (nor ignores) on the leader entry g; with prune in
 * SEED mode drops them. */
static int settle_extras(mig_mongo *m, mongoc_database_t *db, plan *p, size_t g,
			 bson_t *const *have, size_t nhave, mig_mongo_mode mode, mig_error *err)
{
	entry *lead = &p->entries[g];
	for (size_t i = 0; i < nhave; i++) {
		const char *name = index_name(have[i]);
		extra *x;
		if (ignored(p, g, name))
			continue;
		if (!(x = realloc(lead->extras, (lead->nextras + 1) * sizeof *x)))
			return oom(err);
		lead->extras = x;
		x = &x[lead->nextras++];
		memset(x, 0, sizeof *x);
		if (!(x->name = dupstr(name)))
			return oom(err);
		x->state = MIG_MONGO_EXTRA;
		if (p->prune && dry(mode)) {
			x->state = MIG_MONGO_DROPPED;
		} else if (p->prune && seeding(mode)) {
			bson_t cmd = BSON_INITIALIZER;
			bson_error_t e;
			uint32_t code;
			BSON_APPEND_UTF8(&cmd, "dropIndexes", lead->coll->name);
			BSON_APPEND_UTF8(&cmd, "index", name);
			if (run_write(db, &cmd, &e, &code)) {
				x->state = MIG_MONGO_DROPPED;
			} else if (e.domain != MONGOC_ERROR_SERVER) {
				bson_destroy(&cmd);
				return fail_command(m, err, &e, "dropIndexes", lead->coll->name);
			} else {
				x->state = MIG_MONGO_FAILED;
				if (set_detail(&x->detail, "dropIndexes failed: %s (code %u)",
					       e.message, code)) {
					bson_destroy(&cmd);
					return oom(err);
				}
			}
			bson_destroy(&cmd);
		}
	}
	return MIG_OK;
}

/* Settles the collection itself (existence, type, options) for group g; *skip is set when
 * its indexes cannot be handled (a view). */
static int settle_collection_itself(mig_mongo *m, mongoc_database_t *db, plan *p, size_t g,
				    const existing *ex, size_t npending, mig_mongo_mode mode,
				    bool *skip, mig_error *err)
{
	entry *lead = &p->entries[g];
	const mig_collection *c = lead->coll;
	char changes[MIG_ERROR_MAX / 2] = "", conflict[MIG_ERROR_MAX / 2] = "";

	*skip = false;
	if (ex && !strcmp(ex->type, "view")) {
		lead->state = MIG_MONGO_FAILED;
		*skip = true;
		return set_detail(&lead->detail,
				  "'%s.%s' is a view, not a collection: indexes cannot be created "
				  "on it",
				  m->database, c->name)
			       ? oom(err)
			       : MIG_OK;
	}
	if (!ex) {
		lead->state = MIG_MONGO_MISSING;
		if (!seeding(mode))
			return MIG_OK;
		/* createIndexes creates a plain collection; one with options, or with no
		 * index to build, is created explicitly */
		if (npending && !c->has_options) {
			lead->state = MIG_MONGO_CREATED;
			return MIG_OK;
		}
		bson_t cmd = BSON_INITIALIZER;
		bson_error_t e;
		uint32_t code;
		bool ok;
		BSON_APPEND_UTF8(&cmd, "create", c->name);
		if (c->has_options)
			append_collection_options(&cmd, &c->options);
		ok = run_write(db, &cmd, &e, &code);
		bson_destroy(&cmd);
		if (!ok && code != CODE_NAMESPACE_EXISTS)
			return fail_command(m, err, &e, "create", c->name);
		lead->state = ok ? MIG_MONGO_CREATED : MIG_MONGO_PRESENT;
		return MIG_OK;
	}
	lead->state = MIG_MONGO_PRESENT;
	if (!c->has_options)
		return MIG_OK;
	compare_collection_options(&c->options, ex->options, changes, sizeof changes, conflict,
				   sizeof conflict);
	if (*conflict) {
		lead->state = MIG_MONGO_CONFLICT;
		return set_detail(&lead->detail, "%s (creation-only options: not changed)%s%s",
				  conflict, *changes ? "; also " : "", changes)
			       ? oom(err)
			       : MIG_OK;
	}
	if (!*changes)
		return MIG_OK;
	if (mode == MIG_MONGO_CHECK) {
		lead->state = MIG_MONGO_CONFLICT;
	} else {
		lead->state = MIG_MONGO_CHANGED;
		if (seeding(mode)) {
			bson_t cmd = BSON_INITIALIZER;
			bson_error_t e;
			uint32_t code;
			bool ok;
			BSON_APPEND_UTF8(&cmd, "collMod", c->name);
			if (c->options.validator)
				mig_mongo_append_value(&cmd, "validator", c->options.validator);
			if (c->options.validation_level)
				BSON_APPEND_UTF8(&cmd, "validationLevel",
						 c->options.validation_level);
			if (c->options.validation_action)
				BSON_APPEND_UTF8(&cmd, "validationAction",
						 c->options.validation_action);
			ok = run_write(db, &cmd, &e, &code);
			bson_destroy(&cmd);
			if (!ok)
				return fail_command(m, err, &e, "collMod", c->name);
		}
	}
	return set_detail(&lead->detail, "%s", changes) ? oom(err) : MIG_OK;
}

/* Asks the server about the collection of group leader g and settles the state of every
 * entry and item of that collection, in all specs, creating what is missing in SEED mode. */
static int settle_collection(mig_mongo *m, mongoc_database_t *db, plan *p, size_t g,
			     mig_mongo_mode mode, mig_error *err)
{
	const char *name = p->entries[g].coll->name;
	const existing *ex = find_existing(p, name);
	bson_t **have = NULL, dc_holder = BSON_INITIALIZER, dc_sub;
	const bson_t *default_collation = NULL;
	size_t nhave = 0, npending = 0, *pending = NULL;
	bool skip = false;
	const char *kind = "";
	int rc;

	p->entries[g].done = true;
	if (ex && !strcmp(ex->type, "view")) {
		if ((rc = settle_collection_itself(m, db, p, g, ex, 0, mode, &skip, err)))
			goto done;
	} else if (ex && (rc = list_indexes(m, db, name, &have, &nhave, err))) {
		goto done;
	}
	if (ex && !strcmp(ex->type, "timeseries"))
		kind = "time-series collection: ";
	/* mongod copies the collection's default collation into every index created
	 * without one */
	if (ex && ex->options) {
		bson_iter_t it;
		if (bson_iter_init_find(&it, ex->options, "collation") &&
		    BSON_ITER_HOLDS_DOCUMENT(&it)) {
			const uint8_t *data;
			uint32_t len;
			bson_iter_document(&it, &len, &data);
			if (bson_init_static(&dc_sub, data, len))
				default_collation = &dc_sub;
		}
	} else if (!ex && p->entries[g].coll->options.has_collation) {
		mig_mongo_append_collation(&dc_holder, "c", &p->entries[g].coll->options.collation);
		bson_iter_t it;
		const uint8_t *data;
		uint32_t len;
		bson_iter_init_find(&it, &dc_holder, "c");
		bson_iter_document(&it, &len, &data);
		if (bson_init_static(&dc_sub, data, len))
			default_collation = &dc_sub;
	}
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
			if (skip) {
				it->state = MIG_MONGO_FAILED;
				if (set_detail(&it->detail, "%s", p->entries[g].detail)) {
					rc = oom(err);
					goto done;
				}
				continue;
			}
			if (h) {
				mig_mongo_diff d;
				bson_iter_t bi;
				mig_mongo_index_compare(&d, it->ix, h, default_collation);
				if (bson_iter_init_find(&bi, h, "$building"))
					it->state = MIG_MONGO_BUILDING;
				else if (d.differs)
					it->state = MIG_MONGO_CONFLICT;
				else if (!d.expire && !d.hidden)
					it->state = MIG_MONGO_PRESENT;
				else if (mode == MIG_MONGO_CHECK)
					it->state = MIG_MONGO_CONFLICT;
				else
					it->state = MIG_MONGO_CHANGED;
				if (it->state != MIG_MONGO_PRESENT && d.detail[0] &&
				    set_detail(&it->detail, "%s%s", d.detail,
					       it->state == MIG_MONGO_CONFLICT && !d.differs
						       ? " (seed applies it with collMod)"
						       : "")) {
					rc = oom(err);
					goto done;
				}
				if (it->state == MIG_MONGO_CHANGED && seeding(mode) &&
				    (rc = collmod_index(m, db, name, it, &d, err)))
					goto done;
				continue;
			}
			/* The same missing index in an earlier module's spec of this collection:
			 * created once, and this item shares its fate; unless the two specs differ,
			 * which leaves this one a conflict. */
			for (size_t q = 0; q < npending && it->leader == NO_LEADER; q++)
				if (!strcmp(p->items[pending[q]].ix->name, it->ix->name))
					it->leader = pending[q];
			if (it->leader != NO_LEADER &&
			    !mig_mongo_docs_equal(it->want, p->items[it->leader].want)) {
				const item *o = &p->items[it->leader];
				it->state = MIG_MONGO_CONFLICT;
				it->leader = NO_LEADER;
				if (set_detail(&it->detail,
					       "module '%s' defines index '%s' differently (%s:%u)",
					       o->spec->module, o->ix->name, o->spec->path,
					       o->ix->line)) {
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

	if (!skip && (rc = settle_collection_itself(m, db, p, g, ex, npending, mode, &skip, err)))
		goto done;
	if (seeding(mode) && npending &&
	    (rc = create_indexes(m, db, name, p, pending, npending, kind, err)))
		goto done;
	if (!skip && (rc = settle_extras(m, db, p, g, have, nhave, mode, err)))
		goto done;

	for (size_t e = g; e < p->nentries; e++) {
		entry *en = &p->entries[e];
		if (en->group != g)
			continue;
		if (e != g) {
			en->state = p->entries[g].state;
			if (p->entries[g].detail && !(en->detail = dupstr(p->entries[g].detail))) {
				rc = oom(err);
				goto done;
			}
		}
		for (size_t i = 0; i < en->coll->nindexes; i++) {
			item *it = &p->items[en->first_item + i];
			if (it->leader == NO_LEADER)
				continue;
			it->state = p->items[it->leader].state;
			if (p->items[it->leader].detail &&
			    !(it->detail = dupstr(p->items[it->leader].detail))) {
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
	bson_destroy(&dc_holder);
	return rc;
}

int mig_mongo_sync(mig_mongo *m, mig_index_spec *const *specs, size_t nspecs, mig_mongo_mode mode,
		   mig_mongo_report_fn report, void *ctx, mig_error *err)
{
	plan p = {0};
	mongoc_database_t *db = NULL;
	int rc;

	p.prune = mode == MIG_MONGO_SEED_PRUNE || mode == MIG_MONGO_SEED_DRY_PRUNE;
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
		r.detail = en->detail;
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
		for (size_t i = 0; i < en->nextras; i++) {
			r.index = en->extras[i].name;
			r.state = en->extras[i].state;
			r.detail = en->extras[i].detail;
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

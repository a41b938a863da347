/* The seed/verify logic of the MongoDB driver (mig_mongo_sync, mongo.h): plans one sync of the
 * modules' index specs, asks the server what exists and, in SEED mode, creates or changes what
 * differs, then reports every collection and index. Commands per sync: one listCollections,
 * one listIndexes per existing collection, and in SEED mode one createIndexes per collection
 * with missing indexes (which creates a missing collection too) or one create for a missing
 * collection with nothing to index (index by index only when the server reports a conflict).
 * The connection, running a command and turning errors into mig_error are mongo_client.c's. */
/* libmongoc's headers use struct addrinfo, which -std=c11 hides without a POSIX request. */
#define _POSIX_C_SOURCE 200809L

#include "mongodb/mongo.h"
#include "mongodb/mongo_client.h"
#include "mongodb/mongo_compare.h"

#include <fnmatch.h>
#include <mongoc/mongoc.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Server error codes that mean "an index like this one already exists": the index is a
 * conflict to report, not a reason to stop. */
#define CODE_INDEX_OPTIONS_CONFLICT 85
#define CODE_INDEX_KEY_SPECS_CONFLICT 86
#define CODE_NAMESPACE_EXISTS 48

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

static char *dupn(const char *s, size_t n)
{
	char *d = malloc(n + 1);
	if (d) {
		memcpy(d, s, n);
		d[n] = '\0';
	}
	return d;
}

static char *dupstr(const char *s)
{
	return s ? dupn(s, strlen(s)) : NULL;
}

static int oom(mig_error *err)
{
	return mig_error_set(err, MIG_EFAIL, "out of memory");
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
		rc = mig_mongo_fail_command(m, err, &e, "listCollections", NULL);
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
		rc = mig_mongo_fail_command(m, err, &e, "listIndexes", coll);
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
	ok = mig_mongo_run_write(db, &cmd, e, code);
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
		return mig_mongo_fail_command(m, err, &e, "createIndexes", coll);
	for (size_t i = 0; i < n; i++) {
		item *it = &p->items[idx[i]];
		char msg[MIG_ERROR_MAX];

		if (n > 1 && send_create_indexes(db, coll, p, &idx[i], 1, &e, &code)) {
			it->state = MIG_MONGO_CREATED;
			continue;
		}
		if (e.domain != MONGOC_ERROR_SERVER && e.domain != MONGOC_ERROR_WRITE_CONCERN)
			return mig_mongo_fail_command(m, err, &e, "createIndexes", coll);
		mig_mongo_scrub(m, msg, sizeof msg, e.message);
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
	ok = mig_mongo_run_write(db, &cmd, &e, &code);
	bson_destroy(&cmd);
	if (ok)
		return MIG_OK;
	if (e.domain != MONGOC_ERROR_SERVER)
		return mig_mongo_fail_command(m, err, &e, "collMod", coll);
	it->state = MIG_MONGO_FAILED;
	char msg[MIG_ERROR_MAX];
	mig_mongo_scrub(m, msg, sizeof msg, e.message);
	return set_detail(&it->detail, "collMod failed: %s (code %u)", msg, code) ? oom(err)
										  : MIG_OK;
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
			if (mig_mongo_run_write(db, &cmd, &e, &code)) {
				x->state = MIG_MONGO_DROPPED;
			} else if (e.domain != MONGOC_ERROR_SERVER) {
				bson_destroy(&cmd);
				return mig_mongo_fail_command(m, err, &e, "dropIndexes",
							      lead->coll->name);
			} else {
				/* the server's message, as every other one, without the URI's
				 * passwords (it may quote what it was sent) */
				char msg[MIG_ERROR_MAX];
				mig_mongo_scrub(m, msg, sizeof msg, e.message);
				x->state = MIG_MONGO_FAILED;
				if (set_detail(&x->detail, "dropIndexes failed: %s (code %u)", msg,
					       code)) {
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
				  mig_mongo_database_name(m), c->name)
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
			mig_mongo_append_collection_options(&cmd, &c->options);
		ok = mig_mongo_run_write(db, &cmd, &e, &code);
		bson_destroy(&cmd);
		if (!ok && code != CODE_NAMESPACE_EXISTS)
			return mig_mongo_fail_command(m, err, &e, "create", c->name);
		lead->state = ok ? MIG_MONGO_CREATED : MIG_MONGO_PRESENT;
		return MIG_OK;
	}
	lead->state = MIG_MONGO_PRESENT;
	if (!c->has_options)
		return MIG_OK;
	mig_mongo_compare_collection_options(&c->options, ex->options, changes, sizeof changes,
					     conflict, sizeof conflict);
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
			ok = mig_mongo_run_write(db, &cmd, &e, &code);
			bson_destroy(&cmd);
			if (!ok)
				return mig_mongo_fail_command(m, err, &e, "collMod", c->name);
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
	db = mig_mongo_database(m);
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

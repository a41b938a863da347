/* MongoDB seed files (mongo_seed.h): {"collection": "users", "env": ["dev"], "documents":
 * [...]} in Extended JSON. The structure is checked on the module's JSON reader (ext_json.c,
 * so every message names path:line); each document is then read by libbson's Extended JSON
 * reader and upserted whole by its _id, in batches of one `update` command. A loaded file
 * is recorded in schema_migrations_seeds: {_id: "<module>/<name>", module, name, checksum,
 * applied_at}. */
/* libmongoc's headers use struct addrinfo, which -std=c11 hides without a POSIX request. */
#define _POSIX_C_SOURCE 200809L

#include "mongodb/mongo_seed.h"

#include <jansson.h>
#include <mongoc/mongoc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "mongodb/ext_json.h"
#include "mongodb/mongo_client.h"
#include "util/fs.h"

#define MAX_FILE_BYTES ((size_t)64 << 20)
#define SEEDS "schema_migrations_seeds"
#define BATCH 1000 /* documents per update command: well under mongod's limits */

struct mig_doc_seed {
	char *path;
	char *collection;
	char *env; /* comma-joined; NULL when the file has no "env" */
	bson_t **docs;
	bson_value_t *ids; /* each document's _id (copied) */
	size_t n;
};

static int oom(mig_error *err)
{
	return mig_error_set(err, MIG_EFAIL, "out of memory");
}

/* The document at pos (object v, index i) as BSON, read by libbson's Extended JSON reader. */
static int read_document(mig_doc_seed *s, mig_json_doc *doc, size_t pos, json_t *v, size_t i,
			 mig_error *err)
{
	if (!json_is_object(v))
		return mig_json_fail(doc, pos, "documents[%zu] is not an object", i);
	if (!json_object_get(v, "_id"))
		return mig_json_fail(doc, pos,
				     "documents[%zu] has no _id: seed documents are upserted by _id", i);
	char *text = json_dumps(v, JSON_COMPACT | JSON_PRESERVE_ORDER);
	if (!text)
		return oom(err);
	bson_error_t e;
	bson_t *b = bson_new_from_json((const uint8_t *)text, -1, &e);
	free(text);
	if (!b)
		return mig_json_fail(doc, pos, "documents[%zu]: %s", i, e.message);
	bson_iter_t it;
	if (!bson_iter_init_find(&it, b, "_id")) {
		bson_destroy(b);
		return mig_json_fail(doc, pos, "documents[%zu] has no _id", i);
	}
	bson_value_copy(bson_iter_value(&it), &s->ids[i]);
	s->docs[i] = b;
	s->n = i + 1;
	return MIG_OK;
}

static int parse(mig_doc_seed *s, mig_json_doc *doc, mig_error *err)
{
	json_t *root = doc->root;
	if (!json_is_object(root))
		return mig_json_fail(doc, 0,
				     "a seed file is an object {\"collection\", \"env\", \"documents\"}");
	size_t pos = 1;
	const char *key;
	json_t *v;
	json_t *documents = NULL;
	size_t documents_pos = 0;
	json_object_foreach(root, key, v) {
		if (!strcmp(key, "collection")) {
			if (!json_is_string(v) || !json_string_length(v))
				return mig_json_fail(doc, pos, "'collection' must be a non-empty string");
			if (!(s->collection = strdup(json_string_value(v))))
				return oom(err);
		} else if (!strcmp(key, "env")) {
			if (!json_is_array(v) || !json_array_size(v))
				return mig_json_fail(doc, pos,
						     "'env' must be a non-empty array of environment names");
			size_t len = 0, i;
			json_t *e;
			json_array_foreach(v, i, e) {
				if (!json_is_string(e))
					return mig_json_fail(doc, pos + 1 + i,
							     "'env' holds names (strings) only");
				len += json_string_length(e) + 1;
			}
			if (!(s->env = calloc(len + 1, 1)))
				return oom(err);
			json_array_foreach(v, i, e) {
				if (i)
					strcat(s->env, ",");
				strcat(s->env, json_string_value(e));
			}
		} else if (!strcmp(key, "documents")) {
			if (!json_is_array(v))
				return mig_json_fail(doc, pos, "'documents' must be an array");
			documents = v;
			documents_pos = pos;
		} else {
			return mig_json_fail(doc, pos,
					     "unknown key '%s': a seed file has \"collection\", \"env\" and \"documents\"",
					     key);
		}
		pos += mig_json_subtree_size(v);
	}
	if (!s->collection)
		return mig_json_fail(doc, 0, "'collection' is missing");
	if (!documents)
		return mig_json_fail(doc, 0, "'documents' is missing");
	size_t n = json_array_size(documents);
	s->docs = calloc(n ? n : 1, sizeof *s->docs);
	s->ids = calloc(n ? n : 1, sizeof *s->ids);
	if (!s->docs || !s->ids)
		return oom(err);
	size_t at = documents_pos + 1, i;
	json_array_foreach(documents, i, v) {
		int rc = read_document(s, doc, at, v, i, err);
		if (rc < 0)
			return rc;
		at += mig_json_subtree_size(v);
	}
	return MIG_OK;
}

int mig_doc_seed_load(mig_doc_seed **out, const char *path, mig_error *err)
{
	*out = NULL;
	mig_doc_seed *s = calloc(1, sizeof *s);
	if (!s || !(s->path = strdup(path))) {
		free(s);
		return oom(err);
	}
	char *text = NULL;
	size_t len = 0;
	mig_json_doc doc = {0};
	int rc = mig_read_file(&text, &len, path, MAX_FILE_BYTES, "seed file", err);
	if (rc == MIG_OK)
		rc = mig_json_doc_parse(&doc, text, len, s->path, err);
	if (rc == MIG_OK)
		rc = parse(s, &doc, err);
	mig_json_doc_clear(&doc);
	free(text);
	if (rc < 0) {
		mig_doc_seed_free(s);
		return rc;
	}
	*out = s;
	return MIG_OK;
}

void mig_doc_seed_free(mig_doc_seed *s)
{
	if (!s)
		return;
	for (size_t i = 0; i < s->n; i++) {
		bson_destroy(s->docs[i]);
		bson_value_destroy(&s->ids[i]);
	}
	free(s->docs);
	free(s->ids);
	free(s->collection);
	free(s->env);
	free(s->path);
	free(s);
}

const char *mig_doc_seed_env(const mig_doc_seed *s)
{
	return s->env;
}

const char *mig_doc_seed_collection(const mig_doc_seed *s)
{
	return s->collection;
}

/* ---- the server ---- */

static int compare_rows(const void *a, const void *b)
{
	const mig_repeatable_row *x = a, *y = b;
	int c = strcmp(x->module, y->module);
	return c ? c : strcmp(x->name, y->name);
}

int mig_doc_seeds_read(mig_mongo *m, mig_repeatable_ledger *out, mig_error *err)
{
	memset(out, 0, sizeof *out);
	mongoc_collection_t *coll = mongoc_client_get_collection(mig_mongo_client(m),
								 mig_mongo_database_name(m), SEEDS);
	bson_t filter = BSON_INITIALIZER;
	mongoc_cursor_t *cur = mongoc_collection_find_with_opts(coll, &filter, NULL, NULL);
	const bson_t *d;
	size_t cap = 0;
	int rc = MIG_OK;
	while (rc == MIG_OK && mongoc_cursor_next(cur, &d)) {
		const char *module = NULL, *name = NULL, *checksum = "";
		bson_iter_t it;
		bson_iter_init(&it, d);
		while (bson_iter_next(&it)) {
			const char *k = bson_iter_key(&it);
			if (!BSON_ITER_HOLDS_UTF8(&it))
				continue;
			if (!strcmp(k, "module"))
				module = bson_iter_utf8(&it, NULL);
			else if (!strcmp(k, "name"))
				name = bson_iter_utf8(&it, NULL);
			else if (!strcmp(k, "checksum"))
				checksum = bson_iter_utf8(&it, NULL);
		}
		if (!module || !name)
			continue; /* not a seed record: nothing of ours */
		if (out->nrows == cap) {
			cap = cap ? cap * 2 : 32;
			mig_repeatable_row *grown = realloc(out->rows, cap * sizeof *grown);
			if (!grown) {
				rc = oom(err);
				break;
			}
			out->rows = grown;
		}
		mig_repeatable_row *row = &out->rows[out->nrows];
		memset(row, 0, sizeof *row);
		row->module = strdup(module);
		row->name = strdup(name);
		snprintf(row->checksum, sizeof row->checksum, "%s", checksum);
		out->nrows++;
		if (!row->module || !row->name)
			rc = oom(err);
	}
	bson_error_t e;
	if (rc == MIG_OK && mongoc_cursor_error(cur, &e))
		rc = mig_mongo_fail_command(m, err, &e, "reading", SEEDS);
	mongoc_cursor_destroy(cur);
	bson_destroy(&filter);
	mongoc_collection_destroy(coll);
	if (rc < 0) {
		mig_repeatable_ledger_clear(out);
		return rc;
	}
	if (out->nrows > 1)
		qsort(out->rows, out->nrows, sizeof *out->rows, compare_rows);
	return MIG_OK;
}

/* Sends cmd (a write command) to m's database; the counts of its reply added up. */
static int send_write(mig_mongo *m, const bson_t *cmd, const char *what, const char *coll,
		 long long *n, long long *modified, long long *upserted, mig_error *err)
{
	mongoc_database_t *db = mig_mongo_database(m);
	bson_t reply;
	bson_error_t e;
	bool ok = mongoc_database_write_command_with_opts(db, cmd, NULL, &reply, &e);
	mongoc_database_destroy(db);
	bson_iter_t it, sub;
	if (ok && bson_iter_init_find(&it, &reply, "writeErrors") && BSON_ITER_HOLDS_ARRAY(&it) &&
	    bson_iter_recurse(&it, &sub) && bson_iter_next(&sub)) {
		long long index = 0, code = 0;
		const char *msg = "";
		bson_iter_t f;
		bson_iter_recurse(&sub, &f);
		while (bson_iter_next(&f)) {
			if (!strcmp(bson_iter_key(&f), "index"))
				index = bson_iter_as_int64(&f);
			else if (!strcmp(bson_iter_key(&f), "code"))
				code = bson_iter_as_int64(&f);
			else if (!strcmp(bson_iter_key(&f), "errmsg") && BSON_ITER_HOLDS_UTF8(&f))
				msg = bson_iter_utf8(&f, NULL);
		}
		bson_set_error(&e, MONGOC_ERROR_SERVER, (uint32_t)code,
			       "write error at item %lld: %s", index, msg);
		ok = false;
	}
	if (ok) {
		if (n && bson_iter_init_find(&it, &reply, "n") && BSON_ITER_HOLDS_NUMBER(&it))
			*n += bson_iter_as_int64(&it);
		if (modified && bson_iter_init_find(&it, &reply, "nModified") &&
		    BSON_ITER_HOLDS_NUMBER(&it))
			*modified += bson_iter_as_int64(&it);
		if (upserted && bson_iter_init_find(&it, &reply, "upserted") &&
		    BSON_ITER_HOLDS_ARRAY(&it) && bson_iter_recurse(&it, &sub))
			while (bson_iter_next(&sub))
				++*upserted;
	}
	bson_destroy(&reply);
	return ok ? MIG_OK : mig_mongo_fail_command(m, err, &e, what, coll);
}

int mig_doc_seed_apply(mig_mongo *m, const mig_doc_seed *s, const char *module,
		       const char *name, const char *checksum, long long *upserted,
		       long long *matched, mig_error *err)
{
	*upserted = *matched = 0;
	int rc = MIG_OK;
	char what[512];
	for (size_t first = 0; rc == MIG_OK && first < s->n; first += BATCH) {
		size_t end = first + BATCH < s->n ? first + BATCH : s->n;
		bson_t *cmd = BCON_NEW("update", BCON_UTF8(s->collection), "ordered", BCON_BOOL(true));
		bson_t updates;
		BSON_APPEND_ARRAY_BEGIN(cmd, "updates", &updates);
		for (size_t i = first; i < end; i++) {
			char key[24];
			snprintf(key, sizeof key, "%zu", i - first);
			bson_t stmt, q;
			BSON_APPEND_DOCUMENT_BEGIN(&updates, key, &stmt);
			BSON_APPEND_DOCUMENT_BEGIN(&stmt, "q", &q);
			BSON_APPEND_VALUE(&q, "_id", &s->ids[i]);
			bson_append_document_end(&stmt, &q);
			BSON_APPEND_DOCUMENT(&stmt, "u", s->docs[i]);
			BSON_APPEND_BOOL(&stmt, "upsert", true);
			bson_append_document_end(&updates, &stmt);
		}
		bson_append_array_end(cmd, &updates);
		long long n = 0, ups = 0;
		snprintf(what, sizeof what, "loading seed %s/%s (%s, documents %zu..%zu) into", module,
			 name, s->path, first, end - 1);
		rc = send_write(m, cmd, what, s->collection, &n, NULL, &ups, err);
		*upserted += ups;
		*matched += n - ups;
		bson_destroy(cmd);
	}
	if (rc < 0)
		return rc;
	char id[512];
	snprintf(id, sizeof id, "%s/%s", module, name);
	bson_t *cmd = BCON_NEW("update", BCON_UTF8(SEEDS), "updates", "[", "{", "q", "{", "_id",
			       BCON_UTF8(id), "}", "u", "{", "_id", BCON_UTF8(id), "module",
			       BCON_UTF8(module), "name", BCON_UTF8(name), "checksum",
			       BCON_UTF8(checksum), "applied_at",
			       BCON_DATE_TIME((int64_t)time(NULL) * 1000), "}", "upsert",
			       BCON_BOOL(true), "}", "]");
	rc = send_write(m, cmd, "recording the seed file in", SEEDS, NULL, NULL, NULL, err);
	bson_destroy(cmd);
	return rc;
}

int mig_doc_seed_reset(mig_mongo *m, const char *const *collections, size_t n,
		       const char *const *modules, const char *const *names, size_t nfiles,
		       mig_error *err)
{
	int rc = MIG_OK;
	/* the records first: a reset cut short leaves files to load, never a record of data
	 * that is gone */
	if (nfiles) {
		bson_t *cmd = BCON_NEW("delete", BCON_UTF8(SEEDS), "ordered", BCON_BOOL(true));
		bson_t deletes;
		BSON_APPEND_ARRAY_BEGIN(cmd, "deletes", &deletes);
		for (size_t i = 0; i < nfiles; i++) {
			char key[24], id[512];
			snprintf(key, sizeof key, "%zu", i);
			snprintf(id, sizeof id, "%s/%s", modules[i], names[i]);
			bson_t *stmt = BCON_NEW("q", "{", "_id", BCON_UTF8(id), "}", "limit",
						BCON_INT32(1));
			BSON_APPEND_DOCUMENT(&deletes, key, stmt);
			bson_destroy(stmt);
		}
		bson_append_array_end(cmd, &deletes);
		rc = send_write(m, cmd, "forgetting the seed records in", SEEDS, NULL, NULL, NULL, err);
		bson_destroy(cmd);
	}
	for (size_t i = 0; rc == MIG_OK && i < n; i++) {
		bson_t *cmd = BCON_NEW("delete", BCON_UTF8(collections[i]), "deletes", "[", "{", "q",
				       "{", "}", "limit", BCON_INT32(0), "}", "]");
		rc = send_write(m, cmd, "emptying", collections[i], NULL, NULL, NULL, err);
		bson_destroy(cmd);
	}
	return rc;
}

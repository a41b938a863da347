/* Versioned MongoDB migrations: the ledger (see mongo_migrate.c for the whole), the
 * collection schema_migrations of the connection's database, one document per version:
 * {_id: "<module>/<version>", module, version, name, checksum, applied_at, ms, dirty}.
 * Read whole and sorted; written by ordered updates that carry the deferred clearing of
 * the previous version's dirty mark first. */
/* libmongoc's headers use struct addrinfo, which -std=c11 hides without a POSIX request. */
#define _POSIX_C_SOURCE 200809L

#include "mongodb/mongo_migrate_private.h"
#include "mongodb/mongo_client.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int compare_applied(const void *a, const void *b)
{
	const mig_applied *x = a, *y = b;
	int c = strcmp(x->module, y->module);
	if (c)
		return c;
	return x->version < y->version ? -1 : x->version > y->version;
}

int mig_doc_ledger_read(mig_mongo *m, mig_ledger *out, mig_error *err)
{
	memset(out, 0, sizeof *out);
	mongoc_collection_t *coll = mongoc_client_get_collection(mig_mongo_client(m),
								 mig_mongo_database_name(m), LEDGER);
	bson_t filter = BSON_INITIALIZER;
	/* one reply for the whole ledger: mongod caps a batch at 16 MB (some 60,000 rows) */
	bson_t *opts = BCON_NEW("batchSize", BCON_INT32(1000000));
	mongoc_cursor_t *cur = mongoc_collection_find_with_opts(coll, &filter, opts, NULL);
	const bson_t *doc;
	size_t cap = 0;
	int rc = MIG_OK;
	while (rc == MIG_OK && mongoc_cursor_next(cur, &doc)) {
		bson_iter_t it;
		const char *module = NULL, *name = "", *checksum = "";
		long long version = -1;
		bool dirty = false;
		bson_iter_init(&it, doc);
		while (bson_iter_next(&it)) {
			const char *k = bson_iter_key(&it);
			if (!strcmp(k, "module") && BSON_ITER_HOLDS_UTF8(&it))
				module = bson_iter_utf8(&it, NULL);
			else if (!strcmp(k, "version") && BSON_ITER_HOLDS_NUMBER(&it))
				version = bson_iter_as_int64(&it);
			else if (!strcmp(k, "name") && BSON_ITER_HOLDS_UTF8(&it))
				name = bson_iter_utf8(&it, NULL);
			else if (!strcmp(k, "checksum") && BSON_ITER_HOLDS_UTF8(&it))
				checksum = bson_iter_utf8(&it, NULL);
			else if (!strcmp(k, "dirty") && BSON_ITER_HOLDS_BOOL(&it))
				dirty = bson_iter_bool(&it);
		}
		if (!module || version < 0) {
			char *j = bson_as_relaxed_extended_json(doc, NULL);
			rc = mig_doc_fail(m, err, MIG_EFAIL,
					  "'%s.%s' holds a document that is not a migration record: %.200s",
					  mig_mongo_database_name(m), LEDGER, j ? j : "?");
			bson_free(j);
			break;
		}
		if (out->nrows == cap) {
			cap = cap ? cap * 2 : 64;
			mig_applied *grown = realloc(out->rows, cap * sizeof *grown);
			if (!grown) {
				rc = mig_doc_oom(err);
				break;
			}
			out->rows = grown;
		}
		mig_applied *row = &out->rows[out->nrows];
		memset(row, 0, sizeof *row);
		row->module = strdup(module);
		row->name = strdup(name);
		if (!row->module || !row->name) {
			free(row->module);
			free(row->name);
			rc = mig_doc_oom(err);
			break;
		}
		row->version = version;
		row->dirty = dirty;
		snprintf(row->checksum, sizeof row->checksum, "%s", checksum);
		out->nrows++;
	}
	bson_error_t e;
	if (rc == MIG_OK && mongoc_cursor_error(cur, &e))
		rc = mig_doc_fail(m, err, MIG_EFAIL, "reading '%s.%s' failed: %s%s",
				  mig_mongo_database_name(m), LEDGER,
				  e.domain == MONGOC_ERROR_SERVER_SELECTION ? "cannot reach MongoDB: " : "",
				  e.message);
	mongoc_cursor_destroy(cur);
	bson_destroy(opts);
	bson_destroy(&filter);
	mongoc_collection_destroy(coll);
	if (rc < 0) {
		mig_ledger_clear(out);
		return rc;
	}
	if (out->nrows > 1)
		qsort(out->rows, out->nrows, sizeof *out->rows, compare_applied);
	out->exists = true;
	out->complete = true;
	return MIG_OK;
}

void mig_doc_ledger_id(char *out, size_t size, const char *module, long long version)
{
	snprintf(out, size, "%s/%lld", module, version);
}

/* The update statement that clears the deferred dirty mark. */
static void append_clear(bson_t *updates, const char *key, const mig_doc_state *st)
{
	bson_t *stmt = BCON_NEW("q", "{", "_id", BCON_UTF8(st->pending_id), "}", "u", "{", "$set",
				"{", "dirty", BCON_BOOL(false), "ms", BCON_INT64(st->pending_ms), "}",
				"}");
	BSON_APPEND_DOCUMENT(updates, key, stmt);
	bson_destroy(stmt);
}

/* The update statement that records step (upsert) with dirty set. */
static void append_record(bson_t *updates, const char *key, const mig_doc_step *s,
			  const char *id, bool dirty, long long ms)
{
	bson_t *stmt = BCON_NEW("q", "{", "_id", BCON_UTF8(id), "}", "u", "{", "$set", "{",
				"module", BCON_UTF8(s->module), "version", BCON_INT64(s->version),
				"name", BCON_UTF8(s->name), "checksum",
				BCON_UTF8(s->checksum ? s->checksum : ""), "applied_at",
				BCON_DATE_TIME(mig_wall_ms()), "ms", BCON_INT64(ms), "dirty",
				BCON_BOOL(dirty), "}", "}", "upsert", BCON_BOOL(true));
	BSON_APPEND_DOCUMENT(updates, key, stmt);
	bson_destroy(stmt);
}

/* Sends one ledger update with the deferred clearing first (when any) and then, when
 * step is non-NULL, step's record. */
int mig_doc_ledger_update(mig_doc_state *st, const mig_doc_step *step, const char *id, bool dirty,
			  long long ms, const bson_t *session_opts, mig_error *err)
{
	bson_t *cmd = BCON_NEW("update", BCON_UTF8(LEDGER), "ordered", BCON_BOOL(true));
	bson_t updates;
	int k = 0;
	char key[16];
	BSON_APPEND_ARRAY_BEGIN(cmd, "updates", &updates);
	if (st->pending) {
		snprintf(key, sizeof key, "%d", k++);
		append_clear(&updates, key, st);
	}
	if (step) {
		snprintf(key, sizeof key, "%d", k++);
		append_record(&updates, key, step, id, dirty, ms);
	}
	bson_append_array_end(cmd, &updates);
	if (!session_opts)
		mig_doc_append_write_concern(cmd, st);
	bson_t reply;
	char why[600];
	long long code;
	bool ok = mig_doc_run(mig_mongo_client(st->m), mig_mongo_database_name(st->m), cmd,
			      session_opts, &reply, why, sizeof why, &code);
	bson_destroy(&reply);
	bson_destroy(cmd);
	if (!ok)
		return mig_doc_fail(st->m, err, MIG_EFAIL,
				    "recording the migration in '%s.%s' failed: %s",
				    mig_mongo_database_name(st->m), LEDGER, why);
	st->pending = false;
	return MIG_OK;
}

int mig_doc_ledger_delete(mig_doc_state *st, const char *id, const bson_t *session_opts,
			  long long *deleted, mig_error *err)
{
	bson_t *cmd = BCON_NEW("delete", BCON_UTF8(LEDGER), "deletes", "[", "{", "q", "{", "_id",
			       BCON_UTF8(id), "}", "limit", BCON_INT32(1), "}", "]");
	if (!session_opts)
		mig_doc_append_write_concern(cmd, st);
	bson_t reply;
	char why[600];
	long long code;
	bool ok = mig_doc_run(mig_mongo_client(st->m), mig_mongo_database_name(st->m), cmd,
			      session_opts, &reply, why, sizeof why, &code);
	if (ok && deleted)
		*deleted = mig_doc_reply_int(&reply, "n", 0);
	bson_destroy(&reply);
	bson_destroy(cmd);
	if (!ok)
		return mig_doc_fail(st->m, err, MIG_EFAIL, "removing '%s' from '%s.%s' failed: %s",
				    id, mig_mongo_database_name(st->m), LEDGER, why);
	return MIG_OK;
}

int mig_doc_finish(mig_mongo *m, mig_error *err)
{
	mig_doc_state *st = *mig_mongo_migration_state(m);
	if (!st || !st->pending)
		return MIG_OK;
	return mig_doc_ledger_update(st, NULL, NULL, false, 0, NULL, err);
}

int mig_doc_record(mig_mongo *m, const char *module, long long version, const char *name,
		   const char *checksum, bool applied, mig_error *err)
{
	mig_doc_state *st = mig_doc_state_of(m);
	if (!st)
		return mig_doc_oom(err);
	char id[256];
	mig_doc_ledger_id(id, sizeof id, module, version);
	if (applied) {
		mig_doc_step s = {.module = module, .version = version, .name = name,
				  .checksum = checksum, .up = true};
		return mig_doc_ledger_update(st, &s, id, false, 0, NULL, err);
	}
	long long deleted = 0;
	int rc = mig_doc_ledger_delete(st, id, NULL, &deleted, err);
	if (rc == MIG_OK && deleted == 0)
		rc = mig_error_set(err, MIG_EUSAGE,
				   "%s/%lld is not recorded as applied in MongoDB: nothing to roll back",
				   module, version);
	return rc;
}

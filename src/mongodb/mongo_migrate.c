/* Versioned MongoDB migrations (SPEC.md; README "MongoDB: versioned migrations").
 *
 * A file is a JSON array of database commands as db.runCommand takes them, in MongoDB
 * Extended JSON v2 (canonical or relaxed), or {"transaction": true, "commands": [...]}.
 * libbson reads the Extended JSON (key order kept, relaxed $date accepted); a small scan of
 * the text finds where each command starts, so an error names its line and element index.
 *
 * The ledger is the collection schema_migrations of the connection's database, one document
 * per version: {_id: "<module>/<version>", module, version, name, checksum, applied_at, ms,
 * dirty}. The lock is the document {_id: "lock"} of schema_migrations_lock: owner (host,
 * pid and a random tag), expiresAt; a thread with its own client renews it every third of
 * mongodb.lock_lease, an expired one may be taken over, and a TTL index on expiresAt
 * removes what a killed run left behind.
 *
 * A file without a transaction runs command by command between a dirty mark and its
 * clearing. The clearing is deferred: it travels in the same `update` as the next
 * version's mark (or is sent by finish), so applying N one-command files sends N commands
 * and N ledger writes, plus one.
 *
 * The code is split by concern, sharing mongo_migrate_private.h: reading a file
 * (mongo_migrate_file.c), the lock (mongo_migrate_lock.c), the ledger
 * (mongo_migrate_ledger.c); this one holds the run's state and settings, runs a command and
 * reads its reply, and applies a file. */
/* libmongoc's headers use struct addrinfo, which -std=c11 hides without a POSIX request. */
#define _POSIX_C_SOURCE 200809L

#include "mongodb/mongo_migrate_private.h"
#include "mongodb/mongo_client.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- helpers ---- */

int mig_doc_fail(mig_mongo *m, mig_error *err, int code, const char *fmt, ...)
{
	char raw[MIG_ERROR_MAX];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(raw, sizeof raw, fmt, ap);
	va_end(ap);
	char clean[MIG_ERROR_MAX];
	if (m)
		mig_mongo_scrub(m, clean, sizeof clean, raw);
	return mig_error_set(err, code, "%s", m ? clean : raw);
}

mig_doc_state *mig_doc_state_of(mig_mongo *m)
{
	mig_doc_state **slot = mig_mongo_migration_state(m);
	if (!*slot && (*slot = calloc(1, sizeof **slot))) {
		(*slot)->m = m;
		(*slot)->lock_wait_ms = 60 * 1000;
		(*slot)->lock_lease_ms = 5 * 60 * 1000;
	}
	return *slot;
}

/* ---- settings ---- */

void mig_doc_configure(mig_mongo *m, const mig_doc_run_config *cfg)
{
	mig_doc_state *st = mig_doc_state_of(m);
	if (!st)
		return; /* out of memory: the first call that needs the state says so */
	st->lock_wait_ms = cfg->lock_wait_ms;
	st->lock_lease_ms = cfg->lock_lease_ms;
	st->max_time_ms = cfg->max_time_ms;
	snprintf(st->write_concern, sizeof st->write_concern, "%s",
		 cfg->write_concern ? cfg->write_concern : "");
	snprintf(st->commit_quorum, sizeof st->commit_quorum, "%s",
		 cfg->commit_quorum ? cfg->commit_quorum : "");
}

/* {w: "majority"} or {w: N} */
void mig_doc_append_write_concern(bson_t *doc, const mig_doc_state *st)
{
	bson_t wc;
	BSON_APPEND_DOCUMENT_BEGIN(doc, "writeConcern", &wc);
	if (st->write_concern[0] && strcmp(st->write_concern, "majority"))
		BSON_APPEND_INT32(&wc, "w", atoi(st->write_concern));
	else
		BSON_APPEND_UTF8(&wc, "w", "majority");
	bson_append_document_end(doc, &wc);
}

static mongoc_write_concern_t *write_concern(const mig_doc_state *st)
{
	mongoc_write_concern_t *wc = mongoc_write_concern_new();
	if (st->write_concern[0] && strcmp(st->write_concern, "majority"))
		mongoc_write_concern_set_w(wc, atoi(st->write_concern));
	else
		mongoc_write_concern_set_wmajority(wc, 0);
	return wc;
}

/* ---- running a command and reading its reply ---- */

/* What went wrong in a reply that came back: writeErrors, writeConcernError. */
static bool reply_failed(const bson_t *reply, char *why, size_t size, long long *code)
{
	bson_iter_t it, sub, e;
	if (bson_iter_init_find(&it, reply, "writeErrors") && BSON_ITER_HOLDS_ARRAY(&it) &&
	    bson_iter_recurse(&it, &sub) && bson_iter_next(&sub) && BSON_ITER_HOLDS_DOCUMENT(&sub)) {
		long long index = 0;
		const char *msg = "";
		*code = 0;
		bson_iter_recurse(&sub, &e);
		while (bson_iter_next(&e)) {
			if (!strcmp(bson_iter_key(&e), "index"))
				index = bson_iter_as_int64(&e);
			else if (!strcmp(bson_iter_key(&e), "code"))
				*code = bson_iter_as_int64(&e);
			else if (!strcmp(bson_iter_key(&e), "errmsg") && BSON_ITER_HOLDS_UTF8(&e))
				msg = bson_iter_utf8(&e, NULL);
		}
		snprintf(why, size, "write error at its item %lld: %s (code %lld)", index, msg, *code);
		return true;
	}
	if (bson_iter_init_find(&it, reply, "writeConcernError") && BSON_ITER_HOLDS_DOCUMENT(&it) &&
	    bson_iter_recurse(&it, &e)) {
		const char *msg = "";
		*code = 0;
		while (bson_iter_next(&e)) {
			if (!strcmp(bson_iter_key(&e), "code"))
				*code = bson_iter_as_int64(&e);
			else if (!strcmp(bson_iter_key(&e), "errmsg") && BSON_ITER_HOLDS_UTF8(&e))
				msg = bson_iter_utf8(&e, NULL);
		}
		snprintf(why, size, "write concern error: %s (code %lld)", msg, *code);
		return true;
	}
	return false;
}

long long mig_doc_reply_int(const bson_t *reply, const char *path, long long dflt)
{
	bson_iter_t it, f;
	if (bson_iter_init(&it, reply) && bson_iter_find_descendant(&it, path, &f) &&
	    (BSON_ITER_HOLDS_NUMBER(&f) || BSON_ITER_HOLDS_BOOL(&f)))
		return bson_iter_as_int64(&f);
	return dflt;
}

static void count_reply(mig_doc_count *c, const char *name, const bson_t *reply)
{
	snprintf(c->name, sizeof c->name, "%s", name);
	bool fam = !strcmp(name, "findAndModify") || !strcmp(name, "findandmodify");
	c->n = mig_doc_reply_int(reply, fam ? "lastErrorObject.n" : "n", -1);
	c->modified = mig_doc_reply_int(reply, "nModified", -1);
	c->upserted = 0;
	bson_iter_t it, sub;
	if (bson_iter_init_find(&it, reply, "upserted") && BSON_ITER_HOLDS_ARRAY(&it) &&
	    bson_iter_recurse(&it, &sub))
		while (bson_iter_next(&sub))
			c->upserted++;
	if (fam && mig_doc_reply_int(reply, "lastErrorObject.upserted", 0))
		c->upserted = 1;
	if (fam && mig_doc_reply_int(reply, "lastErrorObject.updatedExisting", -1) >= 0)
		c->modified = mig_doc_reply_int(reply, "lastErrorObject.updatedExisting", 0) ? c->n : 0;
}

/* Runs cmd against db (or admin) with opts; false with why and code filled when the
 * server refused it, or its reply carries writeErrors or a writeConcernError. */
bool mig_doc_run(mongoc_client_t *client, const char *db, const bson_t *cmd, const bson_t *opts,
		 bson_t *reply, char *why, size_t size, long long *code)
{
	bson_error_t e;
	mongoc_database_t *d = mongoc_client_get_database(client, db);
	bool ok = mongoc_database_command_with_opts(d, cmd, NULL, opts, reply, &e);
	mongoc_database_destroy(d);
	*code = 0;
	if (!ok) {
		if (e.domain == MONGOC_ERROR_SERVER_SELECTION)
			snprintf(why, size, "cannot reach MongoDB: %s", e.message);
		else if (e.domain == MONGOC_ERROR_SERVER || e.domain == MONGOC_ERROR_WRITE_CONCERN)
			snprintf(why, size, "%s (code %u)", e.message, e.code);
		else
			snprintf(why, size, "%s", e.message);
		*code = e.code;
		/* a reply may still hold the writeErrors that explain it */
		char more[400];
		long long c2;
		if (reply_failed(reply, more, sizeof more, &c2)) {
			snprintf(why, size, "%s", more);
			*code = c2;
		}
		return false;
	}
	return !reply_failed(reply, why, size, code);
}

/* A ledger or lock command on the connection's database; MIG_EFAIL naming what. */
int mig_doc_run_own(mig_mongo *m, const bson_t *cmd, bson_t *reply, const char *what,
		    long long *code, mig_error *err)
{
	char why[600];
	long long c = 0;
	bool ok = mig_doc_run(mig_mongo_client(m), mig_mongo_database_name(m), cmd, NULL, reply,
			      why, sizeof why, &c);
	if (code)
		*code = c;
	if (ok)
		return MIG_OK;
	return mig_doc_fail(m, err, MIG_EFAIL, "%s on '%s' failed: %s", what,
			    mig_mongo_database_name(m), why);
}

void mig_doc_state_free(mig_doc_state *st)
{
	if (!st)
		return;
	if (st->locked)
		mig_doc_unlock(st->m);
	free(st);
}

int mig_doc_transactions_supported(mig_mongo *m, bool *out, mig_error *err)
{
	bson_t *cmd = BCON_NEW("hello", BCON_INT32(1));
	bson_t reply;
	bson_error_t e;
	mongoc_database_t *d = mongoc_client_get_database(mig_mongo_client(m), "admin");
	bool ok = mongoc_database_command_simple(d, cmd, NULL, &reply, &e);
	int rc = MIG_OK;
	if (!ok) {
		rc = mig_doc_fail(m, err, MIG_EFAIL, "asking MongoDB what it is failed: %s", e.message);
	} else {
		bson_iter_t it;
		bool set = bson_iter_init_find(&it, &reply, "setName") && BSON_ITER_HOLDS_UTF8(&it);
		bool mongos = bson_iter_init_find(&it, &reply, "msg") && BSON_ITER_HOLDS_UTF8(&it) &&
			      !strcmp(bson_iter_utf8(&it, NULL), "isdbgrid");
		*out = set || mongos;
	}
	bson_destroy(&reply);
	bson_destroy(cmd);
	mongoc_database_destroy(d);
	return rc;
}

/* ---- applying a file ---- */

static bool is_write_command(const char *name, const bson_t *cmd)
{
	static const char *const writes[] = {
		"insert", "update", "delete", "findAndModify", "findandmodify", "create", "drop",
		"collMod", "createIndexes", "dropIndexes", "renameCollection", "dropDatabase",
		"convertToCapped", "cloneCollectionAsCapped"};
	for (size_t i = 0; i < sizeof writes / sizeof *writes; i++)
		if (!strcmp(name, writes[i]))
			return true;
	return !strcmp(name, "aggregate") && mig_doc_writing_stage(cmd);
}

/* "coll" -> "<db>.coll" for renameCollection, which runs against admin with namespaces. */
static void append_namespace(bson_t *out, const char *key, const bson_iter_t *it, const char *db)
{
	if (BSON_ITER_HOLDS_UTF8(it) && !strchr(bson_iter_utf8(it, NULL), '.')) {
		char ns[512];
		snprintf(ns, sizeof ns, "%s.%s", db, bson_iter_utf8(it, NULL));
		BSON_APPEND_UTF8(out, key, ns);
	} else {
		bson_append_iter(out, key, -1, it);
	}
}

/* The command as sent: the file's, with the database's namespaces for renameCollection,
 * and mongodb.write_concern, max_time_ms and commit_quorum where the file sets none. */
static bson_t *prepare(const mig_doc_state *st, const bson_t *cmd, bool in_txn)
{
	const char *name = mig_doc_command_name(cmd);
	bool rename = !strcmp(name, "renameCollection");
	bson_t *out = bson_new();
	bson_iter_t it;
	bson_iter_init(&it, cmd);
	while (bson_iter_next(&it)) {
		const char *k = bson_iter_key(&it);
		if (rename && (!strcmp(k, "renameCollection") || !strcmp(k, "to")))
			append_namespace(out, k, &it, mig_mongo_database_name(st->m));
		else
			bson_append_iter(out, k, -1, &it);
	}
	if (!in_txn && is_write_command(name, cmd) && !bson_has_field(cmd, "writeConcern"))
		mig_doc_append_write_concern(out, st);
	if (st->max_time_ms > 0 && !bson_has_field(cmd, "maxTimeMS"))
		BSON_APPEND_INT64(out, "maxTimeMS", st->max_time_ms);
	if (st->commit_quorum[0] && !strcmp(name, "createIndexes") &&
	    !bson_has_field(cmd, "commitQuorum")) {
		if (strspn(st->commit_quorum, "0123456789") == strlen(st->commit_quorum))
			BSON_APPEND_INT32(out, "commitQuorum", atoi(st->commit_quorum));
		else
			BSON_APPEND_UTF8(out, "commitQuorum", st->commit_quorum);
	}
	return out;
}

/* What a failing command was, for its message: its name and collection. */
static void describe(char *out, size_t size, const bson_t *cmd)
{
	bson_iter_t it;
	const char *name = mig_doc_command_name(cmd);
	if (bson_iter_init_find(&it, cmd, name) && BSON_ITER_HOLDS_UTF8(&it))
		snprintf(out, size, "'%s' on '%s'", name, bson_iter_utf8(&it, NULL));
	else
		snprintf(out, size, "'%s'", name);
}

static int run_commands(mig_doc_state *st, const mig_doc_step *s, const bson_t *session_opts,
			mig_doc_result *res, mig_error *err)
{
	const mig_doc_file *f = s->file;
	res->counts = calloc(f->n ? f->n : 1, sizeof *res->counts);
	if (!res->counts)
		return mig_doc_oom(err);
	for (size_t i = 0; i < f->n; i++) {
		int rc = mig_doc_check_lease(st, err);
		if (rc < 0)
			return rc;
		bson_t *cmd = prepare(st, f->commands[i], session_opts != NULL);
		const char *name = mig_doc_command_name(cmd);
		const char *db = !strcmp(name, "renameCollection") ? "admin"
								   : mig_mongo_database_name(st->m);
		bson_t reply;
		char why[600];
		long long code;
		bool ok = mig_doc_run(mig_mongo_client(st->m), db, cmd, session_opts, &reply, why,
				      sizeof why, &code);
		if (ok)
			count_reply(&res->counts[res->ncounts++], name, &reply);
		bson_destroy(&reply);
		if (!ok) {
			char what[200];
			describe(what, sizeof what, f->commands[i]);
			bson_destroy(cmd);
			return mig_doc_fail(st->m, err, MIG_EFAIL,
					    "element %zu, %s, failed: %s (%s:%u)", i, what, why,
					    s->path, f->lines[i]);
		}
		bson_destroy(cmd);
	}
	return MIG_OK;
}

/* A file with "transaction": true: its commands and its ledger write in one transaction,
 * committed with mongodb.write_concern, or aborted so that nothing stays. */
static int apply_transaction(mig_doc_state *st, const mig_doc_step *s, const char *id,
			     mig_doc_result *res, long long start, mig_error *err)
{
	mongoc_client_t *client = mig_mongo_client(st->m);
	bson_error_t e;
	mongoc_client_session_t *cs = mongoc_client_start_session(client, NULL, &e);
	if (!cs)
		return mig_doc_fail(st->m, err, MIG_EFAIL, "cannot start a session: %s (%s)",
				    e.message, s->path);
	mongoc_transaction_opt_t *topts = mongoc_transaction_opts_new();
	mongoc_write_concern_t *wc = write_concern(st);
	mongoc_transaction_opts_set_write_concern(topts, wc);
	bson_t opts = BSON_INITIALIZER;
	int rc = MIG_OK;
	if (!mongoc_client_session_start_transaction(cs, topts, &e) ||
	    !mongoc_client_session_append(cs, &opts, &e))
		rc = mig_doc_fail(st->m, err, MIG_EFAIL, "cannot start a transaction: %s (%s)",
				  e.message, s->path);
	if (rc == MIG_OK)
		rc = run_commands(st, s, &opts, res, err);
	if (rc == MIG_OK && s->up)
		rc = mig_doc_ledger_update(st, s, id, false, mig_now_ms() - start, &opts, err);
	if (rc == MIG_OK && !s->up)
		rc = mig_doc_ledger_delete(st, id, &opts, NULL, err);
	if (rc == MIG_OK) {
		bson_t reply;
		if (!mongoc_client_session_commit_transaction(cs, &reply, &e))
			rc = mig_doc_fail(st->m, err, MIG_EFAIL,
					  "committing the transaction failed: %s (%s)", e.message,
					  s->path);
		bson_destroy(&reply);
	}
	if (rc < 0 && mongoc_client_session_in_transaction(cs))
		mongoc_client_session_abort_transaction(cs, NULL);
	bson_destroy(&opts);
	mongoc_write_concern_destroy(wc);
	mongoc_transaction_opts_destroy(topts);
	mongoc_client_session_destroy(cs);
	return rc;
}

int mig_doc_apply(mig_mongo *m, const mig_doc_step *s, mig_doc_result *res, mig_error *err)
{
	memset(res, 0, sizeof *res);
	mig_doc_state *st = mig_doc_state_of(m);
	if (!st)
		return mig_doc_oom(err);
	int rc = mig_doc_check_lease(st, err);
	if (rc < 0)
		return rc;
	char id[256];
	mig_doc_ledger_id(id, sizeof id, s->module, s->version);
	long long start = mig_now_ms();
	if (s->file->transaction) {
		/* the deferred clearing goes first, outside the transaction */
		if (st->pending && (rc = mig_doc_ledger_update(st, NULL, NULL, false, 0, NULL,
							       err)) < 0) return rc;
		rc = apply_transaction(st, s, id, res, start, err);
		res->ms = mig_now_ms() - start;
		return rc;
	}
	/* the dirty mark (with the previous version's clearing) */
	if (s->up)
		rc = mig_doc_ledger_update(st, s, id, true, 0, NULL, err);
	else if (!st->pending || (rc = mig_doc_ledger_update(st, NULL, NULL, false, 0, NULL, err)) == MIG_OK) {
		bson_t *cmd = BCON_NEW("update", BCON_UTF8(LEDGER), "updates", "[", "{", "q", "{",
				       "_id", BCON_UTF8(id), "}", "u", "{", "$set", "{", "dirty",
				       BCON_BOOL(true), "}", "}", "}", "]");
		mig_doc_append_write_concern(cmd, st);
		bson_t reply;
		rc = mig_doc_run_own(m, cmd, &reply, "marking the version dirty", NULL, err);
		bson_destroy(&reply);
		bson_destroy(cmd);
	}
	if (rc == MIG_OK)
		rc = run_commands(st, s, NULL, res, err);
	res->ms = mig_now_ms() - start;
	if (rc < 0)
		return rc; /* the version stays dirty: `migrate resolve` clears it */
	if (!s->up)
		return mig_doc_ledger_delete(st, id, NULL, NULL, err);
	st->pending = true;
	snprintf(st->pending_id, sizeof st->pending_id, "%s", id);
	st->pending_ms = res->ms;
	return MIG_OK;
}


/* Versioned MongoDB migrations: the lock (see mongo_migrate.c for the whole). The lock is
 * the document {_id: "lock"} of schema_migrations_lock: owner (host, pid and a random tag),
 * expiresAt; a thread with its own client renews it every third of mongodb.lock_lease, an
 * expired one may be taken over, and a TTL index on expiresAt removes what a killed run
 * left behind. */
/* libmongoc's headers use struct addrinfo, which -std=c11 hides without a POSIX request. */
#define _POSIX_C_SOURCE 200809L

#include "mongodb/mongo_migrate_private.h"
#include "mongodb/mongo_client.h"
#include "util/lease_keeper.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define LOCK_COLL "schema_migrations_lock"
#define LOCK_ID "lock"
#define CODE_DUPLICATE_KEY 11000
#define CODE_INDEX_OPTIONS_CONFLICT 85
#define CODE_INDEX_KEY_SPECS_CONFLICT 86

static void lock_doc(bson_t *d, const mig_doc_state *st, long long now)
{
	BSON_APPEND_UTF8(d, "owner", st->owner);
	BSON_APPEND_UTF8(d, "host", st->host);
	BSON_APPEND_INT64(d, "pid", (int64_t)getpid());
	BSON_APPEND_DATE_TIME(d, "acquiredAt", now);
	BSON_APPEND_DATE_TIME(d, "expiresAt", now + st->lock_lease_ms);
}

/* One renewal from the keeper's own client, on its thread: false with why when the lease
 * is gone. */
static bool renew(void *arg, char *why, size_t size)
{
	mig_doc_state *st = arg;
	long long expires = mig_wall_ms() + st->lock_lease_ms;
	bson_t *cmd = BCON_NEW("update", BCON_UTF8(LOCK_COLL), "updates", "[", "{", "q", "{", "_id",
			       BCON_UTF8(LOCK_ID), "owner", BCON_UTF8(st->owner), "}", "u", "{",
			       "$set", "{", "expiresAt", BCON_DATE_TIME(expires), "}", "}", "}", "]");
	mig_doc_append_write_concern(cmd, st);
	bson_t reply;
	long long code;
	char msg[300];
	bool ok = mig_doc_run(st->keep.client, mig_mongo_database_name(st->m), cmd, NULL, &reply,
			      msg, sizeof msg, &code);
	if (!ok)
		snprintf(why, size, "lost the MongoDB migration lock: cannot renew its lease: %s", msg);
	else if (mig_doc_reply_int(&reply, "n", 0) != 1) {
		snprintf(why, size,
			 "lost the MongoDB migration lock: another run took its lease (%s)", LOCK_COLL);
		ok = false;
	}
	bson_destroy(&reply);
	bson_destroy(cmd);
	return ok;
}

/* The keeper's own client, and the thread that renews the lease every third of it. */
static int keeper_start(mig_doc_state *st, mig_error *err)
{
	keeper *k = &st->keep;
	const mongoc_uri_t *uri = mongoc_client_get_uri(mig_mongo_client(st->m));
	bson_error_t e;
	if (!(k->client = mongoc_client_new_from_uri_with_error(uri, &e)))
		return mig_doc_fail(st->m, err, MIG_EFAIL,
				    "cannot open the lease keeper's client: %s", e.message);
	mongoc_client_set_error_api(k->client, MONGOC_ERROR_API_VERSION_2);
	mongoc_client_set_appname(k->client, "migrate-lease");
	int rc = mig_lease_keeper_start(&k->timer, st->lock_lease_ms / 3, renew, NULL, st);
	if (rc != 0) {
		mongoc_client_destroy(k->client);
		k->client = NULL;
		return mig_doc_fail(st->m, err, MIG_EFAIL, "cannot start the lease keeper: %s",
				    strerror(rc));
	}
	return MIG_OK;
}

static void keeper_stop(keeper *k)
{
	if (!k->timer)
		return;
	mig_lease_keeper_stop(k->timer);
	k->timer = NULL;
	mongoc_client_destroy(k->client);
	k->client = NULL;
}

/* MIG_EFAIL when the keeper lost the lease: the run stops before its next command. */
int mig_doc_check_lease(mig_doc_state *st, mig_error *err)
{
	char why[512];
	if (!st->locked || !st->keep.timer ||
	    !mig_lease_keeper_lost(st->keep.timer, why, sizeof why))
		return MIG_OK;
	return mig_doc_fail(st->m, err, MIG_EFAIL, "%s", why);
}

/* Who holds the lock, for the message of a run that gave up waiting. */
static void holder(mig_mongo *m, char *out, size_t size)
{
	out[0] = '\0';
	bson_t *cmd = BCON_NEW("find", BCON_UTF8(LOCK_COLL), "filter", "{", "_id",
			       BCON_UTF8(LOCK_ID), "}", "limit", BCON_INT32(1));
	bson_t reply;
	bson_error_t e;
	mongoc_database_t *d = mongoc_client_get_database(mig_mongo_client(m),
							   mig_mongo_database_name(m));
	if (mongoc_database_command_with_opts(d, cmd, NULL, NULL, &reply, &e)) {
		bson_iter_t it, doc;
		if (bson_iter_init(&it, &reply) &&
		    bson_iter_find_descendant(&it, "cursor.firstBatch.0", &doc) &&
		    BSON_ITER_HOLDS_DOCUMENT(&doc)) {
			bson_iter_t f;
			const char *owner = "";
			long long expires = 0;
			bson_iter_recurse(&doc, &f);
			while (bson_iter_next(&f)) {
				if (!strcmp(bson_iter_key(&f), "owner") && BSON_ITER_HOLDS_UTF8(&f))
					owner = bson_iter_utf8(&f, NULL);
				else if (!strcmp(bson_iter_key(&f), "expiresAt") &&
					 BSON_ITER_HOLDS_DATE_TIME(&f))
					expires = bson_iter_date_time(&f);
			}
			snprintf(out, size, "held by %s, lease ends in %lld ms", owner,
				 expires - mig_wall_ms());
		}
	}
	bson_destroy(&reply);
	mongoc_database_destroy(d);
	bson_destroy(cmd);
}

/* One attempt: insert the lock document, or take over one whose lease has ended. */
static int try_lock(mig_doc_state *st, bool *got, mig_error *err)
{
	long long now = mig_wall_ms();
	bson_t *cmd = BCON_NEW("insert", BCON_UTF8(LOCK_COLL));
	bson_t docs, doc;
	BSON_APPEND_ARRAY_BEGIN(cmd, "documents", &docs);
	BSON_APPEND_DOCUMENT_BEGIN(&docs, "0", &doc);
	BSON_APPEND_UTF8(&doc, "_id", LOCK_ID);
	lock_doc(&doc, st, now);
	bson_append_document_end(&docs, &doc);
	bson_append_array_end(cmd, &docs);
	mig_doc_append_write_concern(cmd, st);
	bson_t reply;
	long long code = 0;
	mig_error ignored = {0};
	int rc = mig_doc_run_own(st->m, cmd, &reply, "taking the lock", &code, &ignored);
	bson_destroy(&reply);
	bson_destroy(cmd);
	*got = rc == MIG_OK;
	if (rc == MIG_OK)
		return MIG_OK;
	if (code != CODE_DUPLICATE_KEY)
		return mig_error_set(err, ignored.code, "%s", ignored.message);
	/* held: take it over only when its lease has ended */
	bson_t set = BSON_INITIALIZER;
	lock_doc(&set, st, now);
	cmd = BCON_NEW("update", BCON_UTF8(LOCK_COLL), "updates", "[", "{", "q", "{", "_id",
		       BCON_UTF8(LOCK_ID), "expiresAt", "{", "$lt", BCON_DATE_TIME(now), "}", "}",
		       "u", "{", "$set", BCON_DOCUMENT(&set), "}", "}", "]");
	mig_doc_append_write_concern(cmd, st);
	rc = mig_doc_run_own(st->m, cmd, &reply, "taking over an expired lock", NULL, err);
	if (rc == MIG_OK)
		*got = mig_doc_reply_int(&reply, "n", 0) == 1;
	bson_destroy(&reply);
	bson_destroy(cmd);
	bson_destroy(&set);
	return rc;
}

int mig_doc_lock(mig_mongo *m, mig_error *err)
{
	mig_doc_state *st = mig_doc_state_of(m);
	if (!st)
		return mig_doc_oom(err);
	if (st->locked)
		return MIG_OK;
	if (gethostname(st->host, sizeof st->host) < 0)
		snprintf(st->host, sizeof st->host, "unknown");
	st->host[sizeof st->host - 1] = '\0';
	unsigned tag = (unsigned)mig_wall_ms() ^ ((unsigned)getpid() << 16);
	snprintf(st->owner, sizeof st->owner, "%s:%ld:%08x", st->host, (long)getpid(), tag);
	long long deadline = mig_now_ms() + st->lock_wait_ms;
	long long pause = 20;
	for (;;) {
		bool got = false;
		int rc = try_lock(st, &got, err);
		if (rc < 0)
			return rc;
		if (got)
			break;
		long long left = deadline - mig_now_ms();
		if (left <= 0) {
			char who[300];
			holder(m, who, sizeof who);
			/* busy, not broken: taken before anything is applied (exit 4) */
			return mig_doc_fail(m, err, MIG_EBUSY,
					    "another migrate run holds the MongoDB lock%s%s%s; gave up after "
					    "%lld ms (mongodb.lock_wait)",
					    who[0] ? " (" : "", who, who[0] ? ")" : "", st->lock_wait_ms);
		}
		mig_sleep_ms(pause < left ? pause : left);
		if (pause < 500)
			pause *= 2;
	}
	st->locked = true;
	/* the backstop: mongod removes a lock document whose lease ended, even if no run
	 * comes to take it over */
	bson_t *cmd = BCON_NEW("createIndexes", BCON_UTF8(LOCK_COLL), "indexes", "[", "{", "key",
			       "{", "expiresAt", BCON_INT32(1), "}", "name", BCON_UTF8("expiresAt_1"),
			       "expireAfterSeconds", BCON_INT32(0), "}", "]");
	mig_doc_append_write_concern(cmd, st);
	bson_t reply;
	long long code = 0;
	mig_error ierr = {0};
	int rc = mig_doc_run_own(m, cmd, &reply, "creating the lock's TTL index", &code, &ierr);
	bson_destroy(&reply);
	bson_destroy(cmd);
	/* an index of that name made otherwise by someone else is theirs to keep */
	if (rc < 0 && code != CODE_INDEX_OPTIONS_CONFLICT && code != CODE_INDEX_KEY_SPECS_CONFLICT) {
		mig_error_set(err, ierr.code, "%s", ierr.message);
		mig_doc_unlock(m);
		return rc;
	}
	if ((rc = keeper_start(st, err)) < 0) {
		mig_doc_unlock(m);
		return rc;
	}
	return MIG_OK;
}

void mig_doc_unlock(mig_mongo *m)
{
	mig_doc_state *st = *mig_mongo_migration_state(m);
	if (!st || !st->locked)
		return;
	keeper_stop(&st->keep);
	bson_t *cmd = BCON_NEW("delete", BCON_UTF8(LOCK_COLL), "deletes", "[", "{", "q", "{", "_id",
			       BCON_UTF8(LOCK_ID), "owner", BCON_UTF8(st->owner), "}", "limit",
			       BCON_INT32(1), "}", "]");
	mig_doc_append_write_concern(cmd, st);
	bson_t reply;
	mig_error ignored = {0};
	/* a failure leaves the document to lapse at expiresAt (and the TTL index) */
	mig_doc_run_own(m, cmd, &reply, "releasing the lock", NULL, &ignored);
	bson_destroy(&reply);
	bson_destroy(cmd);
	st->locked = false;
}

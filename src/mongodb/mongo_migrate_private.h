/* What the parts of the versioned MongoDB migrations share, private to them: the file and
 * run-state structs, and the helpers one part offers the others. The parts: reading a file
 * (mongo_migrate_file.c), the lock (mongo_migrate_lock.c), the ledger
 * (mongo_migrate_ledger.c), and the run's state, commands and applying (mongo_migrate.c).
 * Define _POSIX_C_SOURCE before including it (libmongoc's headers use struct addrinfo). */
#ifndef MIGRATE_MONGO_MIGRATE_PRIVATE_H
#define MIGRATE_MONGO_MIGRATE_PRIVATE_H

#include <mongoc/mongoc.h>
#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include "mongodb/mongo_migrate.h"
#include "util/clock.h"
#include "util/error.h"

#define LEDGER "schema_migrations"

struct mig_doc_file {
	char *path;
	bool transaction;
	bool contract; /* "phase": "contract" */
	bson_t **commands;
	unsigned *lines; /* where each command starts */
	size_t n;
};

typedef struct keeper {
	mongoc_client_t *client; /* the keeper's own: a client is not shared between threads */
	struct mig_lease_keeper *timer; /* util/lease_keeper.h; NULL when not running */
} keeper;

struct mig_doc_state {
	mig_mongo *m;
	long long lock_wait_ms, lock_lease_ms, max_time_ms;
	char write_concern[16];  /* "" = majority */
	char commit_quorum[16];  /* "" = the server's default */
	char owner[160];
	char host[128];
	bool locked;
	keeper keep;
	/* the deferred clearing of the last applied version's dirty mark */
	bool pending;
	char pending_id[256];
	long long pending_ms;
};

static inline int mig_doc_oom(mig_error *err)
{
	return mig_error_set(err, MIG_EFAIL, "out of memory");
}

/* ---- mongo_migrate.c ---- */

/* Sets err to code and the message, with m's passwords redacted (m may be NULL); returns code. */
int mig_doc_fail(mig_mongo *m, mig_error *err, int code, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

/* m's run state, made with its defaults on first use; NULL when out of memory. */
mig_doc_state *mig_doc_state_of(mig_mongo *m);

/* Appends writeConcern: {w: "majority"} or {w: N}, as mongodb.write_concern says. */
void mig_doc_append_write_concern(bson_t *doc, const mig_doc_state *st);

/* The number at path in reply (a bool counts as 0/1), or dflt. */
long long mig_doc_reply_int(const bson_t *reply, const char *path, long long dflt);

/* Runs cmd against db (or admin) with opts; false with why and code filled when the
 * server refused it, or its reply carries writeErrors or a writeConcernError. reply is
 * always initialised (the caller destroys it). */
bool mig_doc_run(mongoc_client_t *client, const char *db, const bson_t *cmd, const bson_t *opts,
		 bson_t *reply, char *why, size_t size, long long *code);

/* A ledger or lock command on the connection's database; MIG_EFAIL naming what. code, when
 * not NULL, gets the server's error code. */
int mig_doc_run_own(mig_mongo *m, const bson_t *cmd, bson_t *reply, const char *what,
		    long long *code, mig_error *err);

/* ---- mongo_migrate_file.c ---- */

/* The command's name, its first key ("" for an empty document; borrowed from cmd). */
const char *mig_doc_command_name(const bson_t *cmd);

/* The stage of an aggregate pipeline that writes ($out, $merge), or NULL. */
const char *mig_doc_writing_stage(const bson_t *cmd);

/* ---- mongo_migrate_lock.c ---- */

/* MIG_EFAIL when the keeper lost the lease: the run stops before its next command. */
int mig_doc_check_lease(mig_doc_state *st, mig_error *err);

/* ---- mongo_migrate_ledger.c ---- */

/* "<module>/<version>", a ledger document's _id. */
void mig_doc_ledger_id(char *out, size_t size, const char *module, long long version);

/* Sends one ledger update with the deferred clearing first (when any) and then, when
 * step is non-NULL, step's record with dirty and ms; in the session of session_opts when
 * not NULL (then without a write concern of its own). */
int mig_doc_ledger_update(mig_doc_state *st, const mig_doc_step *step, const char *id,
			  bool dirty, long long ms, const bson_t *session_opts, mig_error *err);

/* Deletes the version id from the ledger; *deleted (when not NULL) gets how many went. */
int mig_doc_ledger_delete(mig_doc_state *st, const char *id, const bson_t *session_opts,
			  long long *deleted, mig_error *err);

#endif

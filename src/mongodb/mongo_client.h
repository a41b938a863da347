/* The MongoDB module's transport (src/mongodb/mongo_client.c), private to src/mongodb/: what
 * the sync logic (mongo_sync.c) needs of a connection besides mongo.h — a database handle, a
 * write command run, libmongoc's and the server's errors turned into mig_error, and the
 * URI's passwords kept out of every message. Define _POSIX_C_SOURCE before including it
 * (libmongoc's headers use struct addrinfo). */
#ifndef MIGRATE_MONGO_CLIENT_H
#define MIGRATE_MONGO_CLIENT_H

#include <mongoc/mongoc.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/error.h"
#include "mongodb/mongo.h"
#include "mongodb/mongo_migrate.h"

/* A new handle on m's database; the caller releases it with mongoc_database_destroy. */
mongoc_database_t *mig_mongo_database(mig_mongo *m);

/* The database's name, as given to mig_mongo_connect (borrowed from m). */
const char *mig_mongo_database_name(const mig_mongo *m);

/* Runs the write command cmd on db. On failure e is filled and *server_code gets the
 * server's error code (0 when the failure was not the server's: network, timeout). */
bool mig_mongo_run_write(mongoc_database_t *db, const bson_t *cmd, bson_error_t *e,
			 uint32_t *server_code);

/* Fills err with MIG_EFAIL for a failed command and returns it: what was attempted (what on
 * "<database>.<coll>", or the database alone when coll is NULL), libmongoc's or the server's
 * message and, for a server error, its code; "cannot reach MongoDB" when no server could be
 * selected. The URI's passwords are redacted. */
int mig_mongo_fail_command(const mig_mongo *m, mig_error *err, const bson_error_t *e,
			   const char *what, const char *coll);

/* Copies msg into out (outsz bytes) with every password of m's URI replaced by "***". */
void mig_mongo_scrub(const mig_mongo *m, char *out, size_t outsz, const char *msg);

/* For the versioned migrations (mongo_migrate*.c): the connection's client (to run commands
 * in sessions, and to copy its URI for the lease keeper's own client) and the slot of
 * their state (lock, deferred ledger write), which mig_mongo_free releases first. */
mongoc_client_t *mig_mongo_client(mig_mongo *m);
mig_doc_state **mig_mongo_migration_state(mig_mongo *m);

#endif

/* MongoDB backend: makes the collections and indexes of the modules' index specs exist
 * (src/mongodb/mongo_client.c connects, mongo_sync.c compares and seeds; src/mongodb/ is the
 * only folder that includes libmongoc). It is built as a loadable module (migrate-mongodb.so)
 * that the registry opens only when a config has mongodb:, so a PostgreSQL-only run never
 * loads libmongoc; the rest of migrate reaches it through the mig_doc_driver table of
 * src/driver/doc_driver.h. */
#ifndef MIGRATE_MONGO_H
#define MIGRATE_MONGO_H

#include <stddef.h>

#include "util/error.h"
#include "driver/doc_driver.h"
#include "mongodb/index_spec.h"

/* Opens a client for uri and database. Nothing is sent yet; an unreachable server
 * shows at the first command, within the URI's serverSelectionTimeoutMS. A malformed
 * URI is MIG_EUSAGE. The password in uri never appears in err. */
int mig_mongo_connect(mig_mongo **out, const char *uri, const char *database, mig_error *err);

/* Accepts NULL. */
void mig_mongo_free(mig_mongo *m);

/* Drops the client's database with everything in it (testdb drop). MIG_EFAIL naming it
 * when the server refuses or cannot be reached. */
int mig_mongo_drop_database(mig_mongo *m, mig_error *err);

/* Releases libmongoc's process-wide state (mongoc_cleanup). main calls it once, after every
 * mig_mongo is freed and before it returns; no mig_mongo may be used afterwards. Harmless
 * when mig_mongo_connect was never called. */
void mig_mongo_global_cleanup(void);

/* Runs {ping: 1} on the admin database: MIG_OK when the server answered within the
 * URI's serverSelectionTimeoutMS (default 5 s), else MIG_EFAIL with libmongoc's reason
 * (never the password). */
int mig_mongo_ping(mig_mongo *m, mig_error *err);

/* Compares specs[0..nspecs) with the server and, in SEED mode, makes them so: one
 * listCollections for the database, one listIndexes (includeBuildUUIDs) per existing
 * collection, one create per missing collection that has options or no index, one
 * createIndexes per collection (then one per index when the server refuses the batch),
 * one collMod per index whose expireAfterSeconds or hidden differ and per collection whose
 * validator settings differ; with PRUNE one dropIndexes per undeclared index. Nothing is
 * written when nothing differs. A collection named by several specs is asked about and
 * written once. Every collection and index is reported once through report, in spec
 * order, followed by the undeclared indexes of the collection (EXTRA or DROPPED).
 * Conflicts and refused indexes (FAILED) are reported, not errors: returns MIG_OK, or
 * MIG_EFAIL (server unreachable, command failed for another reason than the spec) with
 * err filled. After a failure, the collections before the failing one have been
 * reported, the rest not. */
int mig_mongo_sync(mig_mongo *m, mig_index_spec *const *specs, size_t nspecs,
		   mig_mongo_mode mode, mig_mongo_report_fn report, void *ctx, mig_error *err);

#endif

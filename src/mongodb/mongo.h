/* MongoDB backend: makes the collections and indexes of the modules' index specs exist
 * (src/mongodb/mongo.c, the only file that includes libmongoc). It is built as a loadable
 * module (migrate-mongodb.so) that the registry opens only when a config has mongodb:,
 * so a PostgreSQL-only run never loads libmongoc; the rest of migrate reaches it through
 * the mig_doc_driver table at the end of this header. */
#ifndef MIGRATE_MONGO_H
#define MIGRATE_MONGO_H

#include <stddef.h>

#include "util/error.h"
#include "mongodb/index_spec.h"

typedef struct mig_mongo mig_mongo;

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

typedef enum mig_mongo_mode {
	MIG_MONGO_CHECK,    /* read only: report what exists, is missing or differs */
	MIG_MONGO_SEED_DRY, /* as CHECK; missing items are reported as what seed would create */
	MIG_MONGO_SEED,     /* create what is missing; leave conflicts alone */
	MIG_MONGO_SEED_PRUNE,     /* as SEED, and drop indexes no spec declares or ignores */
	MIG_MONGO_SEED_DRY_PRUNE, /* as SEED_DRY, reporting those as what seed would drop */
} mig_mongo_mode;

typedef enum mig_mongo_state {
	MIG_MONGO_PRESENT,  /* exists with the same spec */
	MIG_MONGO_MISSING,  /* does not exist (CHECK, SEED_DRY) */
	MIG_MONGO_CREATED,  /* created by this call (SEED) */
	MIG_MONGO_CONFLICT, /* same name, another spec (or server error 85/86): left alone */
	MIG_MONGO_CHANGED,  /* differed in what collMod changes (expireAfterSeconds, hidden,
			     * validator...): changed (SEED) or would be (SEED_DRY) */
	MIG_MONGO_EXTRA,    /* an index on the server no spec declares or ignores */
	MIG_MONGO_DROPPED,  /* such an index, dropped (SEED_PRUNE) or would be (DRY_PRUNE) */
	MIG_MONGO_BUILDING, /* listed by the server as a build still in progress */
	MIG_MONGO_FAILED,   /* the server refused it (detail: its message and code), or the
			     * collection is a view */
} mig_mongo_state;

typedef struct mig_mongo_item {
	const char *module;
	const char *collection;
	const char *index;  /* NULL when the item is the collection itself */
	mig_mongo_state state;
	const char *detail; /* CONFLICT, CHANGED, FAILED: what differs or the server's
			     * message and code; else NULL */
} mig_mongo_item;

typedef void (*mig_mongo_report_fn)(void *ctx, const mig_mongo_item *item);

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

/* The table the module exports (src/mongodb/mongo_entry.c). */
#define MIG_DOC_DRIVER_VERSION 1

typedef struct mig_doc_driver {
	int version;      /* MIG_DOC_DRIVER_VERSION */
	const char *name; /* the registry name: "mongodb" */
	/* MUST: the index spec reader (mig_index_spec_load / _free), so that the JSON
	 * parser travels with the backend that needs it */
	int (*spec_load)(mig_index_spec **out, const char *path, const char *module,
			 mig_error *err);
	void (*spec_free)(mig_index_spec *spec);
	/* MUST: mig_mongo_connect, mig_mongo_free, mig_mongo_sync */
	int (*connect)(mig_mongo **out, const char *uri, const char *database, mig_error *err);
	void (*disconnect)(mig_mongo *m);
	int (*sync)(mig_mongo *m, mig_index_spec *const *specs, size_t nspecs,
		    mig_mongo_mode mode, mig_mongo_report_fn report, void *ctx, mig_error *err);
	/* MUST: mig_mongo_drop_database (test databases start empty) */
	int (*drop_database)(mig_mongo *m, mig_error *err);
	/* MUST: releases the client library's process-wide state before the module is
	 * unloaded (mig_mongo_global_cleanup) */
	void (*unload)(void);
} mig_doc_driver;

/* The module's one exported symbol (name in MIG_DOC_DRIVER_ENTRY). */
#define MIG_DOC_DRIVER_ENTRY "mig_doc_driver_entry"
typedef const mig_doc_driver *(*mig_doc_driver_entry_fn)(void);

#endif

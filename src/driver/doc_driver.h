/* The document-database backend's interface: the table a loadable backend module
 * (migrate-mongodb.so, src/mongodb/) exports and the types its calls speak. The rest of
 * migrate reaches MongoDB only through this table, opened by the registry. */
#ifndef MIGRATE_DOC_DRIVER_H
#define MIGRATE_DOC_DRIVER_H

#include <stddef.h>

#include "util/error.h"

typedef struct mig_mongo mig_mongo;           /* a connection, the module's own */
typedef struct mig_index_spec mig_index_spec; /* one indexes.json, parsed by the module */

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

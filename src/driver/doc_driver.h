/* The document-database backend's interface: the table a loadable backend module
 * (migrate-mongodb.so, src/mongodb/) exports and the types its calls speak. The rest of
 * migrate reaches MongoDB only through this table, opened by the registry. */
#ifndef MIGRATE_DOC_DRIVER_H
#define MIGRATE_DOC_DRIVER_H

#include <stddef.h>

#include "driver/driver.h"
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

/* The mongodb: keys that govern versioned migrations (SPEC.md, config.yaml). */
typedef struct mig_doc_run_config {
	long long lock_wait_ms;  /* mongodb.lock_wait, default 60 s */
	long long lock_lease_ms; /* mongodb.lock_lease, default 5 min, renewed every third */
	char *write_concern;     /* mongodb.write_concern: "majority" (default) or a number */
	long long max_time_ms;   /* mongodb.max_time_ms, 0 = none */
	char *commit_quorum;     /* mongodb.commit_quorum: NULL (the server's default),
				  * "majority", "votingMembers" or a number */
} mig_doc_run_config;

/* One seed file (<module>/seed/<name>.json: {"collection", "env", "documents"}), parsed
 * by the module. */
typedef struct mig_doc_seed mig_doc_seed;

/* One versioned file (NNN_<name>.up.json / .down.json), parsed by the module. */
typedef struct mig_doc_file mig_doc_file;

/* What one command of a file did, as the server counted it. */
typedef struct mig_doc_count {
	char name[48];     /* the command's name (its first key) */
	long long n;       /* inserted / matched / deleted / returned (the reply's n) */
	long long modified; /* update, findAndModify: nModified (-1 when the reply has none) */
	long long upserted; /* update: how many upserts */
} mig_doc_count;

/* One versioned file to run against the connection's database. */
typedef struct mig_doc_step {
	const char *module;
	long long version;
	const char *name;
	const char *path;     /* for messages */
	const mig_doc_file *file;
	bool up;              /* up: record the version; down: remove its record */
	const char *checksum; /* up: SHA-256 of the up file */
} mig_doc_step;

/* What a step did: one count per command run (the caller frees counts). */
typedef struct mig_doc_result {
	mig_doc_count *counts;
	size_t ncounts;
	long long ms;
} mig_doc_result;

/* The table the module exports (src/mongodb/mongo_entry.c). */
#define MIG_DOC_DRIVER_VERSION 5

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
	/* MUST: mig_mongo_ping (`migrate wait`: the server answers a command) */
	int (*ping)(mig_mongo *m, mig_error *err);
	/* MUST: releases the client library's process-wide state before the module is
	 * unloaded (mig_mongo_global_cleanup) */
	void (*unload)(void);
	/* versioned migrations (src/mongodb/mongo_migrate*.c) ------------------------------- */
	/* MUST: reads and checks one .up.json/.down.json without any server: a JSON error is
	 * MIG_EUSAGE with path:line, a bad command MIG_EUSAGE with its element index; a
	 * transaction file holding a command that cannot run in a transaction is refused */
	int (*file_load)(mig_doc_file **out, const char *path, mig_error *err);
	void (*file_free)(mig_doc_file *file);
	size_t (*file_commands)(const mig_doc_file *file);
	bool (*file_transaction)(const mig_doc_file *file);
	/* MUST: whether the file belongs to the contract phase ("phase": "contract") */
	bool (*file_contract)(const mig_doc_file *file);
	/* MUST: the settings every later call uses (write concern, timeouts, lock) */
	void (*configure)(mig_mongo *m, const mig_doc_run_config *cfg);
	/* MUST: takes the lease in schema_migrations_lock, waiting up to lock_wait (MIG_EBUSY
	 * naming the holder when it is not obtained), and keeps it renewed from a thread;
	 * unlock gives it back (harmless when not held) */
	int (*lock)(mig_mongo *m, mig_error *err);
	void (*unlock)(mig_mongo *m);
	/* MUST: schema_migrations as one read, sorted by module then version */
	int (*ledger_read)(mig_mongo *m, mig_ledger *out, mig_error *err);
	/* MUST: whether the server can run transactions (a replica set member or mongos) */
	int (*transactions_supported)(mig_mongo *m, bool *out, mig_error *err);
	/* MUST: runs one step and records it; a failure names the element index, the command,
	 * the server's code and message, and leaves a non-transactional version dirty. The
	 * ledger write that clears an up step's dirty mark may be deferred to the next step's
	 * mark or to finish, so that a run sends one ledger write per migration */
	int (*apply)(mig_mongo *m, const mig_doc_step *step, mig_doc_result *res, mig_error *err);
	int (*finish)(mig_mongo *m, mig_error *err);
	/* MUST: records a version as applied (checksum, name) or removes its record, clearing
	 * a dirty mark (resolve, baseline); removing a version not recorded is MIG_EUSAGE */
	int (*record)(mig_mongo *m, const char *module, long long version, const char *name,
		      const char *checksum, bool applied, mig_error *err);
	/* seed data (src/mongodb/mongo_seed.c) ------------------------------------------ */
	/* MUST: reads and checks one seed file without any server: an object with
	 * "collection" (a string), "env" (an array of environment names; absent is allowed
	 * here, the caller refuses it) and "documents" (an array of documents in Extended
	 * JSON, each with an _id); anything else, or a JSON error, is MIG_EUSAGE with
	 * path:line */
	int (*seed_load)(mig_doc_seed **out, const char *path, mig_error *err);
	void (*seed_free)(mig_doc_seed *seed);
	/* MUST: the "env" list joined with commas ("dev,test"), or NULL when the file has
	 * none; the collection. Borrowed from seed. */
	const char *(*seed_env)(const mig_doc_seed *seed);
	const char *(*seed_collection)(const mig_doc_seed *seed);
	/* MUST: the collection schema_migrations_seeds (one document per loaded file:
	 * _id "<module>/<name>", module, name, checksum, applied_at), sorted by module then
	 * name */
	int (*seeds_read)(mig_mongo *m, mig_repeatable_ledger *out, mig_error *err);
	/* MUST: upserts every document of seed by its _id (the whole document replaced), then
	 * records the file with checksum; *upserted and *matched count what the server did.
	 * A failure names the file, the document's index and the server's message */
	int (*seed_apply)(mig_mongo *m, const mig_doc_seed *seed, const char *module,
			  const char *name, const char *checksum, long long *upserted,
			  long long *matched, mig_error *err);
	/* MUST: `seed --data --reset`: deletes every document of collections[0..n) and the
	 * schema_migrations_seeds records of (modules[i], names[i]) for i < nfiles; in one
	 * transaction where the server has them */
	int (*seed_reset)(mig_mongo *m, const char *const *collections, size_t n,
			  const char *const *modules, const char *const *names, size_t nfiles,
			  mig_error *err);
} mig_doc_driver;

/* The module's one exported symbol (name in MIG_DOC_DRIVER_ENTRY). */
#define MIG_DOC_DRIVER_ENTRY "mig_doc_driver_entry"
typedef const mig_doc_driver *(*mig_doc_driver_entry_fn)(void);

#endif

/* Seed data (`migrate seed --data`): migrations/postgres/<module>/seed/<name>.sql and
 * migrations/mongodb/<module>/seed/<name>.json, loaded for the current environment only,
 * modules in plan order (SQL before MongoDB within a module), files in name order. Every
 * seed file names its environments (`-- migrate:env dev,test`; JSON `"env": [...]`); none
 * loads while the environment is unset or `production`. A file is recorded in
 * schema_migrations_seeds with its checksums and loads again when it changes. */
#ifndef MIGRATE_SEED_H
#define MIGRATE_SEED_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "core/config.h"
#include "core/session.h"
#include "driver/doc_driver.h"
#include "driver/registry.h"
#include "util/checksum.h"
#include "util/error.h"

typedef enum mig_seed_state {
	MIG_SEED_NEW,       /* never loaded here */
	MIG_SEED_CHANGED,   /* loaded, and the file (or its rendering) changed since */
	MIG_SEED_CURRENT,   /* loaded as the file is now: left alone */
	MIG_SEED_OTHER_ENV, /* its environments do not include the current one */
} mig_seed_state;

typedef struct mig_seed_file {
	char *module;
	char *name;   /* <name>, without .sql / .json */
	char *path;
	bool json;    /* a MongoDB seed */
	char *sql;    /* SQL: the text to run (rendered when it has envsub spans) */
	size_t len;
	mig_doc_seed *doc; /* JSON: parsed by the MongoDB module */
	char sum[MIG_CHECKSUM_HEX];  /* of the file as written */
	char rsum[MIG_CHECKSUM_HEX]; /* of its rendered text; "" without envsub spans */
	mig_seed_state state;
	bool off;     /* not part of this open (mig_seeds_open's which): left alone, unsaid */
} mig_seed_file;

typedef struct mig_seeds {
	mig_seed_file *files;
	size_t n;
	mig_doc_backend *backend; /* loaded when some JSON seed exists */
	const mig_doc_driver *drv;
	mig_mongo *mongo;
	mig_session pg;
	bool pg_open;
	bool pg_borrowed; /* pg is the caller's (mig_seeds_open with a session): not closed */
} mig_seeds;

/* MIG_OK when cfg's environment may receive seed data; MIG_EUSAGE (exit 2) when it is
 * unset or `production`, whatever the files say. */
int mig_seed_environment_allowed(const mig_config *cfg, mig_error *err);

/* Finds and reads every seed file of the modules that run (only_module alone when
 * non-NULL: MIG_EUSAGE when it is not enabled), loading the MongoDB module when a JSON
 * seed exists (or using backend when non-NULL: one the caller loaded and keeps, as one
 * process must not load and unload the module twice at once). A file without an
 * environment tag, a malformed one, an unset placeholder or a bad JSON seed is
 * MIG_EUSAGE naming the file: nothing has run. *out is the caller's (mig_seeds_clear),
 * also on failure. */
int mig_seeds_load(mig_seeds *out, const mig_config *cfg, const char *root,
		   const char *only_module, const mig_doc_backend *backend, mig_error *err);

/* Connects to the databases the loaded files need (postgres: for SQL seeds, mongodb:
 * for JSON ones, else MIG_EUSAGE naming the missing section), takes each one's
 * migration lock and sets each file's state from its ledger. pg non-NULL: the SQL seeds
 * use that open session (locked and prepared by the caller, who keeps it); mongo_database
 * non-NULL: the JSON seeds go to that database instead of mongodb.database. which
 * (MIG_SEEDS_SQL | MIG_SEEDS_JSON) says which files this open covers: the others are
 * left alone by reset and apply, and not mentioned. */
enum { MIG_SEEDS_SQL = 1, MIG_SEEDS_JSON = 2, MIG_SEEDS_ALL = 3 };
int mig_seeds_open(mig_seeds *s, const mig_config *cfg, const mig_registry *reg,
		   mig_session *pg, const char *mongo_database, unsigned which, mig_error *err);

/* Forgets a session lent to mig_seeds_open (the caller closes it), so that s can be
 * opened again. */
void mig_seeds_release(mig_seeds *s);

/* Appends to *text (of *len, *cap bytes, realloc'd) one line per SQL seed file of the
 * current environment: module, name, checksums. -1 when memory runs out. What a
 * template that holds the seed data hashes. */
int mig_seeds_describe_sql(const mig_seeds *s, char **text, size_t *len, size_t *cap);

/* Every file of the current environment loads again, whatever its record says (after
 * `reset --force` rebuilt the tables they fill). */
void mig_seeds_reload_all(mig_seeds *s);

/* Whether any seed file names the current environment. */
bool mig_seeds_any(const mig_seeds *s);

/* --reset: in one transaction per database, empties tables[0..ntables) (the tables the
 * SQL seeds of the current environment insert into) and the collections of its JSON
 * seeds, forgetting their records; every such file is then NEW. A foreign key from a
 * table that no seed writes refuses the whole reset (MIG_EUSAGE, nothing changed). */
int mig_seeds_reset(mig_seeds *s, const char *const *tables, size_t ntables, FILE *out,
		    bool quiet, mig_error *err);

/* Loads every NEW or CHANGED file in order (each SQL file in its own transaction with its
 * record), printing a line per file to out unless quiet; stops at the first failure. */
int mig_seeds_apply(mig_seeds *s, FILE *out, bool quiet, mig_error *err);

/* Disconnects, unloads, frees; safe on a zeroed value. */
void mig_seeds_clear(mig_seeds *s);

#endif

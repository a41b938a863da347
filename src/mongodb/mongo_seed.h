/* Seed data inside the MongoDB module (src/mongodb/mongo_seed.c): the reader of
 * <module>/seed/<name>.json and its upsert by _id, the records in
 * schema_migrations_seeds, and --reset. Reached through mig_doc_driver (doc_driver.h). */
#ifndef MIGRATE_MONGO_SEED_H
#define MIGRATE_MONGO_SEED_H

#include "driver/doc_driver.h"

int mig_doc_seed_load(mig_doc_seed **out, const char *path, mig_error *err);
void mig_doc_seed_free(mig_doc_seed *seed);
const char *mig_doc_seed_env(const mig_doc_seed *seed);
const char *mig_doc_seed_collection(const mig_doc_seed *seed);
int mig_doc_seeds_read(mig_mongo *m, mig_repeatable_ledger *out, mig_error *err);
int mig_doc_seed_apply(mig_mongo *m, const mig_doc_seed *seed, const char *module,
		       const char *name, const char *checksum, long long *upserted,
		       long long *matched, mig_error *err);
int mig_doc_seed_reset(mig_mongo *m, const char *const *collections, size_t n,
		       const char *const *modules, const char *const *names, size_t nfiles,
		       mig_error *err);

#endif

/* Versioned MongoDB migrations inside the module (src/mongodb/mongo_migrate*.c): the
 * NNN_<name>.up.json / .down.json reader, the ledger in schema_migrations, the leased lock
 * in schema_migrations_lock and the runner. The rest of migrate reaches them through the
 * mig_doc_driver table (driver/doc_driver.h). */
#ifndef MIGRATE_MONGO_MIGRATE_H
#define MIGRATE_MONGO_MIGRATE_H

#include <stdbool.h>
#include <stddef.h>

#include "driver/doc_driver.h"
#include "util/error.h"

int mig_doc_file_load(mig_doc_file **out, const char *path, mig_error *err);
void mig_doc_file_free(mig_doc_file *file);
size_t mig_doc_file_commands(const mig_doc_file *file);
bool mig_doc_file_transaction(const mig_doc_file *file);
bool mig_doc_file_contract(const mig_doc_file *file);

void mig_doc_configure(mig_mongo *m, const mig_doc_run_config *cfg);
int mig_doc_lock(mig_mongo *m, mig_error *err);
void mig_doc_unlock(mig_mongo *m);
int mig_doc_ledger_read(mig_mongo *m, mig_ledger *out, mig_error *err);
int mig_doc_transactions_supported(mig_mongo *m, bool *out, mig_error *err);
int mig_doc_apply(mig_mongo *m, const mig_doc_step *step, mig_doc_result *res, mig_error *err);
int mig_doc_finish(mig_mongo *m, mig_error *err);
int mig_doc_record(mig_mongo *m, const char *module, long long version, const char *name,
		   const char *checksum, bool applied, mig_error *err);

/* The run state a connection carries (owned by mig_mongo, freed with it). */
typedef struct mig_doc_state mig_doc_state;
void mig_doc_state_free(mig_doc_state *st);

#endif

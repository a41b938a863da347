/* The MongoDB module's entry point: the one symbol migrate-mongodb.so exports, handing
 * the registry its driver table (src/driver/registry.c checks the version). */
#include "mongodb/mongo.h"
#include "mongodb/index_spec.h"
#include "mongodb/mongo_migrate.h"
#include "mongodb/mongo_seed.h"

static const mig_doc_driver mongo_driver = {
	.version = MIG_DOC_DRIVER_VERSION,
	.name = "mongodb",
	.spec_load = mig_index_spec_load,
	.spec_free = mig_index_spec_free,
	.connect = mig_mongo_connect,
	.disconnect = mig_mongo_free,
	.sync = mig_mongo_sync,
	.drop_database = mig_mongo_drop_database,
	.ping = mig_mongo_ping,
	.unload = mig_mongo_global_cleanup,
	.file_load = mig_doc_file_load,
	.file_free = mig_doc_file_free,
	.file_commands = mig_doc_file_commands,
	.file_transaction = mig_doc_file_transaction,
	.file_contract = mig_doc_file_contract,
	.configure = mig_doc_configure,
	.lock = mig_doc_lock,
	.unlock = mig_doc_unlock,
	.ledger_read = mig_doc_ledger_read,
	.transactions_supported = mig_doc_transactions_supported,
	.apply = mig_doc_apply,
	.finish = mig_doc_finish,
	.record = mig_doc_record,
	.seed_load = mig_doc_seed_load,
	.seed_free = mig_doc_seed_free,
	.seed_env = mig_doc_seed_env,
	.seed_collection = mig_doc_seed_collection,
	.seeds_read = mig_doc_seeds_read,
	.seed_apply = mig_doc_seed_apply,
	.seed_reset = mig_doc_seed_reset,
};

__attribute__((visibility("default"))) const mig_doc_driver *mig_doc_driver_entry(void);

const mig_doc_driver *mig_doc_driver_entry(void)
{
	return &mongo_driver;
}

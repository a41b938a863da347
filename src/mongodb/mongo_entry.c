/* The MongoDB module's entry point: the one symbol migrate-mongodb.so exports, handing
 * the registry its driver table (src/driver/registry.c checks the version). */
#include "mongodb/mongo.h"
#include "mongodb/index_spec.h"

static const mig_doc_driver mongo_driver = {
	.version = MIG_DOC_DRIVER_VERSION,
	.name = "mongodb",
	.spec_load = mig_index_spec_load,
	.spec_free = mig_index_spec_free,
	.connect = mig_mongo_connect,
	.disconnect = mig_mongo_free,
	.sync = mig_mongo_sync,
	.drop_database = mig_mongo_drop_database,
	.unload = mig_mongo_global_cleanup,
};

__attribute__((visibility("default"))) const mig_doc_driver *mig_doc_driver_entry(void);

const mig_doc_driver *mig_doc_driver_entry(void)
{
	return &mongo_driver;
}

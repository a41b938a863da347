/* Backend name -> driver. The registry is the one place that names a driver: a new
 * backend is one driver file and one line in registry.c. A registry is constant data;
 * tests build their own around a scripted fake (tests/unit/core/test_fake_backend.c). */
#ifndef MIGRATE_REGISTRY_H
#define MIGRATE_REGISTRY_H

#include <stddef.h>

#include "driver/driver.h"
#include "driver/doc_driver.h"

typedef struct mig_registry {
	const mig_sql_driver *const *sql; /* SQL backends, looked up by their name */
	size_t nsql;
} mig_registry;

/* The backends built into libmigrate. Borrowed, static. */
const mig_registry *mig_registry_builtin(void);

/* The SQL driver registered as name in reg (NULL: the built-in registry). An unknown
 * name, or a driver built for another MIG_SQL_DRIVER_VERSION, is MIG_EUSAGE naming it. */
int mig_registry_sql(const mig_sql_driver **out, const mig_registry *reg, const char *name,
		     mig_error *err);

/* A document backend loaded from its module (migrate-<name>.so), looked for in
 * $MIGRATE_MODULE_DIR, then beside the running executable, then in the install's
 * module directory. Only configs that use the backend pay for loading it. */
typedef struct mig_doc_backend {
	void *handle;              /* from dlopen */
	const mig_doc_driver *drv; /* borrowed from the module while it is loaded */
} mig_doc_backend;

/* Loads the module of name. A module that is missing or cannot be loaded is MIG_EFAIL
 * naming the file and dlerror's reason; one built for another MIG_DOC_DRIVER_VERSION is
 * MIG_EUSAGE. *out is the caller's: mig_doc_backend_close. */
int mig_registry_doc_open(mig_doc_backend **out, const char *name, mig_error *err);

/* Lets the module release its client library's state, then unloads it. Accepts NULL. */
void mig_doc_backend_close(mig_doc_backend *backend);

#endif

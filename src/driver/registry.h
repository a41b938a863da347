/* Backend name -> driver. The registry is the one place that names a driver: a new
 * backend is one driver file and one line in registry.c. A registry is constant data;
 * tests build their own around a scripted fake (tests/unit/test_fake_backend.c). */
#ifndef MIGRATE_REGISTRY_H
#define MIGRATE_REGISTRY_H

#include <stddef.h>

#include "driver/driver.h"

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

#endif

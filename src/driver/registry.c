/* The built-in backends and the version check every lookup makes (as libgit2 checks
 * GIT_ODB_BACKEND_VERSION): a driver compiled against another interface is refused by
 * name rather than called through a table of the wrong shape. */
#include <string.h>

#include "driver/registry.h"

static const mig_sql_driver *const builtin_sql[] = {
	&mig_pg_driver,
};

static const mig_registry builtin = {builtin_sql, sizeof builtin_sql / sizeof *builtin_sql};

const mig_registry *mig_registry_builtin(void)
{
	return &builtin;
}

int mig_registry_sql(const mig_sql_driver **out, const mig_registry *reg, const char *name,
		     mig_error *err)
{
	*out = NULL;
	if (!reg)
		reg = &builtin;
	for (size_t i = 0; i < reg->nsql; i++) {
		const mig_sql_driver *drv = reg->sql[i];
		if (strcmp(drv->name, name) != 0)
			continue;
		if (drv->version != MIG_SQL_DRIVER_VERSION)
			return mig_error_set(err, MIG_EUSAGE,
					     "the '%s' driver implements interface version %d; this build needs %d",
					     name, drv->version, MIG_SQL_DRIVER_VERSION);
		*out = drv;
		return MIG_OK;
	}
	return mig_error_set(err, MIG_EUSAGE, "no SQL backend named '%s'", name);
}

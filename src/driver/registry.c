/* The built-in backends and the version check every lookup makes (as libgit2 checks
 * GIT_ODB_BACKEND_VERSION): a driver compiled against another interface is refused by
 * name rather than called through a table of the wrong shape. */
#include <dlfcn.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "driver/registry.h"

#ifndef MIG_MODULE_DIR
#define MIG_MODULE_DIR "/usr/local/lib/migrate"
#endif

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

/* The directory of the running executable, where a build tree keeps its modules. */
static bool exe_dir(char *buf, size_t size)
{
	ssize_t n = readlink("/proc/self/exe", buf, size - 1);
	if (n <= 0)
		return false;
	buf[n] = '\0';
	char *slash = strrchr(buf, '/');
	if (!slash)
		return false;
	*slash = '\0';
	return true;
}

int mig_registry_doc_open(mig_doc_backend **out, const char *name, mig_error *err)
{
	*out = NULL;
	char file[128], here[PATH_MAX], path[PATH_MAX + 160], reason[512] = "not found";
	snprintf(file, sizeof file, "migrate-%s.so", name);
	const char *env = getenv("MIGRATE_MODULE_DIR");
	const char *dirs[3] = {env && *env ? env : NULL, exe_dir(here, sizeof here) ? here : NULL,
			       MIG_MODULE_DIR};
	void *handle = NULL;
	for (size_t i = 0; i < 3 && !handle; i++) {
		if (!dirs[i])
			continue;
		snprintf(path, sizeof path, "%s/%s", dirs[i], file);
		if (access(path, F_OK) != 0)
			continue;
		if (!(handle = dlopen(path, RTLD_NOW | RTLD_LOCAL))) {
			const char *why = dlerror();
			snprintf(reason, sizeof reason, "%s", why ? why : "cannot load it");
			return mig_error_set(err, MIG_EFAIL, "cannot load the %s backend '%s': %s",
					     name, path, reason);
		}
	}
	if (!handle)
		return mig_error_set(err, MIG_EFAIL,
				     "cannot load the %s backend: '%s' %s (looked in $MIGRATE_MODULE_DIR, beside the executable and in '%s')",
				     name, file, reason, MIG_MODULE_DIR);
	mig_doc_driver_entry_fn entry;
	/* POSIX's way from a data pointer to a function pointer */
	*(void **)&entry = dlsym(handle, MIG_DOC_DRIVER_ENTRY);
	const mig_doc_driver *drv = entry ? entry() : NULL;
	if (!drv || strcmp(drv->name, name) != 0) {
		dlclose(handle);
		return mig_error_set(err, MIG_EFAIL, "'%s' is not a migrate backend module", path);
	}
	if (drv->version != MIG_DOC_DRIVER_VERSION) {
		int version = drv->version;
		dlclose(handle);
		return mig_error_set(err, MIG_EUSAGE,
				     "the '%s' backend module implements interface version %d; this build needs %d",
				     name, version, MIG_DOC_DRIVER_VERSION);
	}
	mig_doc_backend *b = malloc(sizeof *b);
	if (!b) {
		dlclose(handle);
		return mig_error_set(err, MIG_EFAIL, "out of memory");
	}
	b->handle = handle;
	b->drv = drv;
	*out = b;
	return MIG_OK;
}

void mig_doc_backend_close(mig_doc_backend *backend)
{
	if (!backend)
		return;
	backend->drv->unload();
	dlclose(backend->handle);
	free(backend);
}

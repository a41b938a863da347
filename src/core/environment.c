/* Environment decisions for an up run (see environment.h). Only pending files are
 * opened, and only their leading comment block is read. */
#include "core/environment.h"

#include "core/directive.h"
#include "core/engine.h"

int mig_env_mark(mig_run *run, const char *environment, mig_error *err)
{
	if (!run->up)
		return MIG_OK;
	for (size_t i = 0; i < run->nitems; i++) {
		mig_run_item *it = &run->items[i];
		const char *path = it->migration->up_path;
		mig_directives d;
		int rc = mig_directives_read(&d, path, err);
		if (rc < 0)
			return rc;
		if (!d.env_line)
			continue;
		int match = mig_directives_env_match(&d, environment, path, err);
		if (match < 0)
			return match;
		if (!environment)
			return mig_error_set(err, MIG_EUSAGE,
					     "%s/%lld runs only in environment(s) '%s' and no environment "
					     "is set: set 'environment:' in the config or pass --env NAME "
					     "(%s:%u)",
					     it->module->name, it->migration->version, d.env, path,
					     d.env_line);
		it->skip = !match;
	}
	return MIG_OK;
}

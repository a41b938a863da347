/* Environment and placeholder decisions for a run (see environment.h). Only the files
 * of the run are opened. */
#include "core/environment.h"

#include <stdlib.h>

#include "core/directive.h"
#include "core/engine.h"
#include "util/fs.h"

/* Renders path's envsub spans, only to find an unset placeholder before the run. */
static int check_render(const char *path, const mig_config *cfg, mig_error *err)
{
	char *text = NULL, *out = NULL;
	size_t len = 0, out_len = 0;
	int rc = mig_read_file(&text, &len, path, MIG_SQL_MAX_BYTES, "migration file", err);
	if (rc == MIG_OK)
		rc = mig_engine_render(&out, &out_len, path, text, len, cfg, err);
	free(out);
	free(text);
	return rc;
}

int mig_env_mark(mig_run *run, const mig_config *cfg, mig_error *err)
{
	run->vars = cfg;
	const char *environment = cfg ? cfg->environment : NULL;
	for (size_t i = 0; i < run->nitems; i++) {
		mig_run_item *it = &run->items[i];
		const mig_migration *m = it->migration;
		if (!run->up) {
			int rc = it->skip || !m->down_path ? MIG_OK : check_render(m->down_path, cfg, err);
			if (rc < 0)
				return rc;
			continue;
		}
		mig_directives d;
		int rc = mig_directives_read(&d, m->up_path, err);
		if (rc < 0)
			return rc;
		if (d.env_line) {
			int match = mig_directives_env_match(&d, environment, m->up_path, err);
			if (match < 0)
				return match;
			if (!environment)
				return mig_error_set(err, MIG_EUSAGE,
						     "%s/%lld runs only in environment(s) '%s' and no "
						     "environment is set: set 'environment:' in the config "
						     "or pass --env NAME (%s:%u)",
						     it->module->name, m->version, d.env, m->up_path,
						     d.env_line);
			it->skip = !match;
		}
		if (!it->skip && (rc = check_render(m->up_path, cfg, err)) < 0)
			return rc;
	}
	return MIG_OK;
}

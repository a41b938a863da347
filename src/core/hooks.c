/* Loading postgres.hooks (see hooks.h); running them is the engine's (engine.c). */
#include "core/hooks.h"

#include <stdlib.h>
#include <string.h>

#include "core/engine.h"
#include "util/fs.h"

static int load_one(mig_hooks *h, mig_hook *hook, const char *name, const char *rel,
		    const mig_config *cfg, const char *root, int slot, mig_error *err)
{
	hook->name = name;
	if (!rel)
		return MIG_OK;
	char *path = mig_path_join(root, rel);
	if (!path)
		return mig_error_set(err, MIG_EFAIL, "out of memory");
	h->owned[slot] = path;
	hook->path = path;
	char *text = NULL, *rendered = NULL;
	size_t len = 0, rendered_len = 0;
	int rc = mig_read_file(&text, &len, path, MIG_SQL_MAX_BYTES, "postgres.hooks file", err);
	if (rc < 0)
		return rc;
	if ((rc = mig_engine_render(&rendered, &rendered_len, path, text, len, cfg, err)) < 0) {
		free(text);
		return rc;
	}
	if (rendered) {
		free(text);
		text = rendered;
		len = rendered_len;
	}
	h->owned[slot + 1] = text;
	hook->sql = text;
	hook->len = len;
	return MIG_OK;
}

int mig_hooks_load(mig_hooks *out, const mig_config *cfg, const char *root, mig_error *err)
{
	memset(out, 0, sizeof *out);
	int rc = load_one(out, &out->before_up, "before_up", cfg->hook_before_up, cfg, root, 0, err);
	if (rc == MIG_OK)
		rc = load_one(out, &out->after_each, "after_each", cfg->hook_after_each, cfg, root, 2,
			      err);
	if (rc == MIG_OK)
		rc = load_one(out, &out->after_up, "after_up", cfg->hook_after_up, cfg, root, 4, err);
	return rc;
}

bool mig_hooks_any(const mig_hooks *h)
{
	return h && (h->before_up.sql || h->after_each.sql || h->after_up.sql);
}

void mig_hooks_clear(mig_hooks *h)
{
	if (!h)
		return;
	for (size_t i = 0; i < sizeof h->owned / sizeof h->owned[0]; i++)
		free(h->owned[i]);
	memset(h, 0, sizeof *h);
}

/* Module run order: core first, then config order, moved later only as `requires`
 * demands (a stable topological sort), with one-line errors naming the modules. */
#include "migrate/plan.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static bool placed(const char **order, size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (!strcmp(order[i], name))
			return true;
	return false;
}

/* Names one cycle among the modules still unplaced, as "a -> b -> a". */
static void describe_cycle(const mig_config *cfg, const char **order, size_t nplaced,
			   char *out, size_t size)
{
	/* follow unplaced requirements from any unplaced module until one repeats */
	const mig_module_config *path[256];
	size_t len = 0;
	const mig_module_config *cur = NULL;
	for (size_t i = 0; i < cfg->nmodules && !cur; i++)
		if (cfg->modules[i].enabled && !placed(order, nplaced, cfg->modules[i].name))
			cur = &cfg->modules[i];
	while (cur && len < 256) {
		for (size_t i = 0; i < len; i++) {
			if (path[i] != cur)
				continue;
			size_t used = 0;
			for (size_t j = i; j < len && used < size; j++)
				used += (size_t)snprintf(out + used, size - used, "%s -> ",
							 path[j]->name);
			if (used < size)
				snprintf(out + used, size - used, "%s", cur->name);
			return;
		}
		path[len++] = cur;
		const mig_module_config *next = NULL;
		for (size_t r = 0; r < cur->nrequires && !next; r++)
			if (!placed(order, nplaced, cur->requires[r]))
				next = mig_config_module(cfg, cur->requires[r]);
		cur = next;
	}
	snprintf(out, size, "a cycle");
}

int mig_module_order(const char ***names, size_t *count, const mig_config *cfg,
		     mig_error *err)
{
	*names = NULL;
	*count = 0;
	const mig_module_config *core = mig_config_module(cfg, "core");
	if (core && core->nrequires)
		return mig_error_set(err, MIG_EUSAGE,
				     "module 'core' cannot require other modules: it always runs first (%s:%u)",
				     cfg->path, core->line);
	for (size_t i = 0; i < cfg->nmodules; i++) {
		const mig_module_config *mod = &cfg->modules[i];
		if (!mod->enabled)
			continue;
		for (size_t r = 0; r < mod->nrequires; r++) {
			const char *req = mod->requires[r];
			if (!strcmp(req, "core"))
				continue;
			const mig_module_config *dep = mig_config_module(cfg, req);
			if (!dep)
				return mig_error_set(err, MIG_EUSAGE,
						     "module '%s' requires unknown module '%s' (%s:%u)",
						     mod->name, req, cfg->path, mod->line);
			if (!dep->enabled)
				return mig_error_set(err, MIG_EUSAGE,
						     "module '%s' requires disabled module '%s' (%s:%u)",
						     mod->name, req, cfg->path, mod->line);
		}
	}

	const char **order = malloc((cfg->nmodules + 1) * sizeof *order);
	if (!order)
		return mig_error_set(err, MIG_EFAIL, "out of memory");
	size_t n = 0, enabled = 1;
	order[n++] = "core";
	for (size_t i = 0; i < cfg->nmodules; i++)
		if (cfg->modules[i].enabled && strcmp(cfg->modules[i].name, "core"))
			enabled++;

	/* each pass places the first module, in config order, whose requirements are all
	 * placed: that keeps config order wherever the requirements leave it free */
	while (n < enabled) {
		const mig_module_config *next = NULL;
		for (size_t i = 0; i < cfg->nmodules && !next; i++) {
			const mig_module_config *mod = &cfg->modules[i];
			if (!mod->enabled || placed(order, n, mod->name))
				continue;
			bool ready = true;
			for (size_t r = 0; r < mod->nrequires && ready; r++)
				ready = placed(order, n, mod->requires[r]);
			if (ready)
				next = mod;
		}
		if (!next) {
			char cycle[512];
			describe_cycle(cfg, order, n, cycle, sizeof cycle);
			free(order);
			return mig_error_set(err, MIG_EUSAGE, "modules require each other: %s (%s)",
					     cycle, cfg->path);
		}
		order[n++] = next->name;
	}
	*names = order;
	*count = n;
	return MIG_OK;
}

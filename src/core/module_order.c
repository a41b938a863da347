/* Module run order: core first, then config order, moved later only as `requires`
 * demands (a stable topological sort), with one-line errors naming the modules. */
#include "core/plan.h"

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

typedef struct named {
	const char *name;
	size_t index; /* position among the enabled modules, in config order */
} named;

static int compare_named(const void *a, const void *b)
{
	return strcmp(((const named *)a)->name, ((const named *)b)->name);
}

/* Config index of an enabled module, or -1: a binary search, so large configs stay fast. */
static long find_enabled(const named *sorted, size_t n, const char *name)
{
	named key = {name, 0};
	const named *hit = bsearch(&key, sorted, n, sizeof *sorted, compare_named);
	return hit ? (long)hit->index : -1;
}

/* A min-heap of enabled-module indices: the ready module earliest in config order
 * comes out first, which is what keeps config order wherever requires allow it. */
static void heap_push(size_t *heap, size_t *n, size_t v)
{
	size_t i = (*n)++;
	heap[i] = v;
	while (i > 0 && heap[(i - 1) / 2] > heap[i]) {
		size_t parent = (i - 1) / 2, t = heap[parent];
		heap[parent] = heap[i];
		heap[i] = t;
		i = parent;
	}
}

static size_t heap_pop(size_t *heap, size_t *n)
{
	size_t top = heap[0], i = 0;
	heap[0] = heap[--(*n)];
	for (;;) {
		size_t l = 2 * i + 1, r = l + 1, m = i;
		if (l < *n && heap[l] < heap[m])
			m = l;
		if (r < *n && heap[r] < heap[m])
			m = r;
		if (m == i)
			break;
		size_t t = heap[m];
		heap[m] = heap[i];
		heap[i] = t;
		i = m;
	}
	return top;
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

	/* the enabled modules other than core, in config order */
	size_t n = 0;
	const mig_module_config **mods = malloc((cfg->nmodules + 1) * sizeof *mods);
	named *sorted = malloc((cfg->nmodules + 1) * sizeof *sorted);
	size_t *indegree = calloc(cfg->nmodules + 1, sizeof *indegree);
	size_t *heap = malloc((cfg->nmodules + 1) * sizeof *heap);
	const char **order = malloc((cfg->nmodules + 1) * sizeof *order);
	int rc = MIG_OK;
	if (!mods || !sorted || !indegree || !heap || !order) {
		rc = mig_error_set(err, MIG_EFAIL, "out of memory");
		goto done;
	}
	for (size_t i = 0; i < cfg->nmodules; i++)
		if (cfg->modules[i].enabled && strcmp(cfg->modules[i].name, "core")) {
			sorted[n] = (named){cfg->modules[i].name, n};
			mods[n++] = &cfg->modules[i];
		}
	qsort(sorted, n, sizeof *sorted, compare_named);

	for (size_t i = 0; i < n; i++) {
		for (size_t r = 0; r < mods[i]->nrequires; r++) {
			const char *req = mods[i]->requires[r];
			if (!strcmp(req, "core"))
				continue; /* core is always placed first */
			if (find_enabled(sorted, n, req) >= 0) {
				indegree[i]++;
				continue;
			}
			const mig_module_config *dep = mig_config_module(cfg, req);
			rc = mig_error_set(err, MIG_EUSAGE, "module '%s' requires %s module '%s' (%s:%u)",
					   mods[i]->name, dep ? "disabled" : "unknown", req, cfg->path,
					   mods[i]->line);
			goto done;
		}
	}

	/* Kahn's algorithm; a module's dependents are found by scanning its requirers
	 * through the requires lists, indexed once here */
	size_t *first = malloc((n + 1) * sizeof *first), *edges = NULL, nedges = 0;
	if (!first) {
		rc = mig_error_set(err, MIG_EFAIL, "out of memory");
		goto done;
	}
	for (size_t i = 0; i < n; i++)
		nedges += mods[i]->nrequires;
	edges = malloc((nedges + 1) * sizeof *edges);
	size_t *fill = calloc(n + 1, sizeof *fill);
	if (!edges || !fill) {
		free(first);
		free(edges);
		free(fill);
		rc = mig_error_set(err, MIG_EFAIL, "out of memory");
		goto done;
	}
	/* edges grouped by the required module: first[d]..first[d+1] are d's dependents */
	for (size_t i = 0; i < n; i++)
		for (size_t r = 0; r < mods[i]->nrequires; r++) {
			long d = find_enabled(sorted, n, mods[i]->requires[r]);
			if (d >= 0)
				fill[d]++;
		}
	first[0] = 0;
	for (size_t d = 0; d < n; d++)
		first[d + 1] = first[d] + fill[d];
	memset(fill, 0, (n + 1) * sizeof *fill);
	for (size_t i = 0; i < n; i++)
		for (size_t r = 0; r < mods[i]->nrequires; r++) {
			long d = find_enabled(sorted, n, mods[i]->requires[r]);
			if (d >= 0)
				edges[first[d] + fill[d]++] = i;
		}

	size_t nheap = 0, placed = 0;
	order[placed++] = "core";
	for (size_t i = 0; i < n; i++)
		if (!indegree[i])
			heap_push(heap, &nheap, i);
	while (nheap) {
		size_t i = heap_pop(heap, &nheap);
		order[placed++] = mods[i]->name;
		for (size_t e = first[i]; e < first[i + 1]; e++)
			if (--indegree[edges[e]] == 0)
				heap_push(heap, &nheap, edges[e]);
	}
	free(first);
	free(edges);
	free(fill);
	if (placed < n + 1) {
		char cycle[512];
		describe_cycle(cfg, order, placed, cycle, sizeof cycle);
		rc = mig_error_set(err, MIG_EUSAGE, "modules require each other: %s (%s)", cycle,
				   cfg->path);
		goto done;
	}
	*names = order;
	*count = placed;
	order = NULL;
done:
	free(order);
	free(heap);
	free(indegree);
	free(sorted);
	free(mods);
	return rc;
}

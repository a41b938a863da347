/* Repeatable migrations (see repeatable.h): deciding which run, and in what order. Only
 * the repeatable files are read; the database is the driver's. */
#include "core/repeatable.h"

#include <stdlib.h>
#include <string.h>

#include "core/directive.h"
#include "core/engine.h"
#include "core/session.h"
#include "util/checksum.h"
#include "util/fs.h"

/* What one read of a repeatable's file tells: its directives and checksums. */
typedef struct rep_scan {
	mig_directives dirs;
	char sum[MIG_CHECKSUM_HEX];  /* of the file */
	char rsum[MIG_CHECKSUM_HEX]; /* of its rendered text; "" without envsub spans */
} rep_scan;

/* Reads path once: directives, checksum, rendered checksum. */
static int scan_file(rep_scan *out, const char *path, const mig_config *vars, mig_error *err)
{
	char *text = NULL, *rendered = NULL;
	size_t len = 0, rendered_len = 0;
	out->rsum[0] = '\0';
	int rc = mig_read_file(&text, &len, path, MIG_SQL_MAX_BYTES, "migration file", err);
	if (rc < 0)
		return rc;
	mig_directives_scan(&out->dirs, text, len);
	if (mig_sha256_hex(out->sum, text, len) < 0)
		rc = mig_error_set(err, MIG_EFAIL, "cannot compute the checksum of '%s'", path);
	if (rc == MIG_OK)
		rc = mig_engine_render(&rendered, &rendered_len, path, text, len, vars, err);
	if (rc == MIG_OK && rendered && mig_sha256_hex(out->rsum, rendered, rendered_len) < 0)
		rc = mig_error_set(err, MIG_EFAIL, "cannot compute the checksum of '%s'", path);
	free(rendered);
	free(text);
	return rc;
}

static mig_repeatable_state state_from(const rep_scan *sc, const mig_repeatable_row *row)
{
	if (row && row->failed[0] && !strcmp(row->failed, sc->sum))
		return MIG_REPEATABLE_FAILED;
	if (!row || !row->checksum[0])
		return MIG_REPEATABLE_NEW;
	if (strcmp(row->checksum, sc->sum) != 0 || strcmp(row->rendered, sc->rsum) != 0)
		return MIG_REPEATABLE_CHANGED;
	return MIG_REPEATABLE_CURRENT;
}

/* Whether the file's `-- migrate:env` leaves it out where vars' environment is (a
 * malformed list too: up names that one). */
static bool env_excluded(const rep_scan *sc, const mig_config *vars)
{
	if (!sc->dirs.env_line)
		return false;
	const char *env = vars ? vars->environment : NULL;
	return !env || mig_directives_env_match(&sc->dirs, env, "", NULL) != 1;
}

int mig_repeatable_state_of(mig_repeatable_state *out, const char *module,
			    const mig_repeatable *r, const mig_repeatable_ledger *rows,
			    const mig_config *vars, mig_error *err)
{
	rep_scan sc;
	int rc = scan_file(&sc, r->as_migration.up_path, vars, err);
	if (rc == MIG_OK)
		*out = state_from(&sc, mig_repeatable_ledger_find(rows, module, r->as_migration.name));
	return rc;
}

/* The index in mod->repeatables of the one named name (len bytes), or -1. */
static long find_named(const mig_module_plan *mod, const char *name, size_t len)
{
	for (size_t i = 0; i < mod->nrepeatables; i++) {
		const char *n = mod->repeatables[i].as_migration.name;
		if (strlen(n) == len && !memcmp(n, name, len))
			return (long)i;
	}
	return -1;
}

static int order_of(size_t **order, const mig_module_plan *mod, const rep_scan *scans,
		    mig_error *err)
{
	size_t n = mod->nrepeatables;
	*order = NULL;
	/* deps[i * n + j]: i comes after j */
	bool *deps = calloc(n ? n * n : 1, sizeof *deps);
	bool *placed = calloc(n ? n : 1, sizeof *placed);
	size_t *out = calloc(n ? n : 1, sizeof *out);
	unsigned *lines = calloc(n ? n : 1, sizeof *lines);
	int rc = deps && placed && out && lines ? MIG_OK
						: mig_error_set(err, MIG_EFAIL, "out of memory");
	for (size_t i = 0; rc == MIG_OK && i < n; i++) {
		const char *path = mod->repeatables[i].as_migration.up_path;
		const mig_directives d = scans[i].dirs;
		lines[i] = d.after_line;
		if (!d.after_line)
			continue;
		if (d.after_too_long || !d.after[0]) {
			rc = mig_error_set(err, MIG_EUSAGE,
					   "'-- migrate:after' must name one repeatable migration (%s:%u)",
					   path, d.after_line);
			break;
		}
		for (const char *p = d.after; rc == MIG_OK && *p;) {
			size_t k = strcspn(p, ",");
			long j = find_named(mod, p, k);
			if (j < 0)
				rc = mig_error_set(err, MIG_EUSAGE,
						   "'-- migrate:after %.*s' names no repeatable migration of module '%s' (%s:%u)",
						   (int)k, p, mod->name, path, d.after_line);
			else
				deps[i * n + (size_t)j] = true;
			p += k;
			if (*p == ',')
				p++;
		}
	}
	/* name order, each as soon as everything it follows is placed */
	for (size_t done = 0; rc == MIG_OK && done < n; done++) {
		size_t pick = n;
		for (size_t i = 0; i < n && pick == n; i++) {
			if (placed[i])
				continue;
			bool ready = true;
			for (size_t j = 0; j < n && ready; j++)
				ready = !deps[i * n + j] || placed[j];
			if (ready)
				pick = i;
		}
		if (pick == n) {
			/* a cycle: follow unplaced dependencies from any unplaced one until one
			 * comes round again, and name that loop */
			size_t at = 0;
			while (placed[at])
				at++;
			size_t *seen = calloc(n, sizeof *seen), steps = 0;
			if (!seen) {
				rc = mig_error_set(err, MIG_EFAIL, "out of memory");
				break;
			}
			for (size_t k = 0; k < n; k++)
				seen[k] = (size_t)-1;
			while (seen[at] == (size_t)-1) {
				seen[at] = steps++;
				size_t next = 0;
				while (next < n && (placed[next] || !deps[at * n + next]))
					next++;
				at = next;
			}
			char names[512] = "";
			size_t first = at;
			do {
				size_t used = strlen(names);
				snprintf(names + used, sizeof names - used, "%s -> ",
					 mod->repeatables[at].as_migration.name);
				size_t next = 0;
				while (next < n && (placed[next] || !deps[at * n + next]))
					next++;
				at = next;
			} while (at != first);
			size_t used = strlen(names);
			snprintf(names + used, sizeof names - used, "%s",
				 mod->repeatables[first].as_migration.name);
			free(seen);
			rc = mig_error_set(err, MIG_EUSAGE,
					   "repeatable migrations of module '%s' form a cycle: %s (-- migrate:after in %s:%u)",
					   mod->name, names, mod->repeatables[first].as_migration.up_path,
					   lines[first]);
			break;
		}
		placed[pick] = true;
		out[done] = pick;
	}
	free(deps);
	free(placed);
	free(lines);
	if (rc < 0) {
		free(out);
		return rc;
	}
	*order = out;
	return MIG_OK;
}

/* Scans every repeatable of mod (*out: caller frees). */
static int scan_module(rep_scan **out, const mig_module_plan *mod, const mig_config *vars,
		       mig_error *err)
{
	rep_scan *scans = calloc(mod->nrepeatables ? mod->nrepeatables : 1, sizeof *scans);
	int rc = scans ? MIG_OK : mig_error_set(err, MIG_EFAIL, "out of memory");
	for (size_t i = 0; rc == MIG_OK && i < mod->nrepeatables; i++)
		rc = scan_file(&scans[i], mod->repeatables[i].as_migration.up_path, vars, err);
	if (rc < 0) {
		free(scans);
		return rc;
	}
	*out = scans;
	return MIG_OK;
}

int mig_repeatable_order(size_t **order, const mig_module_plan *mod, mig_error *err)
{
	rep_scan *scans = NULL;
	int rc = scan_module(&scans, mod, NULL, err);
	if (rc == MIG_OK)
		rc = order_of(order, mod, scans, err);
	free(scans);
	return rc;
}

static int plan_with(mig_run *run, const mig_plan *plan, const mig_repeatable_ledger *rows,
		     const char *only_module, bool applied, mig_error *err);

int mig_repeatable_plan(mig_run *run, const mig_plan *plan, const mig_repeatable_ledger *rows,
			const char *only_module, mig_error *err)
{
	return plan_with(run, plan, rows, only_module, false, err);
}

int mig_repeatable_plan_applied(mig_run *run, const mig_plan *plan,
				const mig_repeatable_ledger *rows, mig_error *err)
{
	return plan_with(run, plan, rows, NULL, true, err);
}

static int plan_with(mig_run *run, const mig_plan *plan, const mig_repeatable_ledger *rows,
		     const char *only_module, bool applied, mig_error *err)
{
	size_t extra = 0;
	for (size_t m = 0; m < plan->nmodules; m++)
		extra += plan->modules[m].nrepeatables;
	if (!extra || !run->up)
		return MIG_OK;
	mig_run_item *items = calloc(run->nitems + extra, sizeof *items);
	if (!items)
		return mig_error_set(err, MIG_EFAIL, "out of memory");
	size_t n = 0, k = 0;
	int rc = MIG_OK;
	for (size_t m = 0; rc == MIG_OK && m < plan->nmodules; m++) {
		const mig_module_plan *mod = &plan->modules[m];
		/* the module's versioned items come first: run items follow plan order */
		while (k < run->nitems && run->items[k].module == mod)
			items[n++] = run->items[k++];
		if (!mod->nrepeatables || (only_module && strcmp(only_module, mod->name)))
			continue;
		size_t *order = NULL;
		rep_scan *scans = NULL;
		if ((rc = scan_module(&scans, mod, run->vars, err)) == MIG_OK)
			rc = order_of(&order, mod, scans, err);
		for (size_t i = 0; rc == MIG_OK && i < mod->nrepeatables; i++) {
			const mig_repeatable *r = &mod->repeatables[order[i]];
			const mig_repeatable_row *row =
				mig_repeatable_ledger_find(rows, mod->name, r->as_migration.name);
			bool take = applied ? row && row->checksum[0]
					    : state_from(&scans[order[i]], row) != MIG_REPEATABLE_CURRENT;
			/* `-- migrate:env`: as for versions, but another environment only leaves it
			 * out (a repeatable has no history to keep complete) */
			const mig_directives *d = &scans[order[i]].dirs;
			const char *env = run->vars ? run->vars->environment : NULL;
			if (take && !applied && d->env_line) {
				int match = mig_directives_env_match(d, env, r->as_migration.up_path, err);
				if (match < 0) {
					rc = match;
					break;
				}
				if (!env) {
					rc = mig_error_set(err, MIG_EUSAGE,
							   "repeatable %s/%s runs only in environment(s) '%s' and no environment is set: set 'environment:' in the config or pass --env NAME (%s:%u)",
							   mod->name, r->as_migration.name, d->env,
							   r->as_migration.up_path, d->env_line);
					break;
				}
				take = match;
			}
			if (take)
				items[n++] = (mig_run_item){.module = mod,
							    .migration = &r->as_migration,
							    .repeatable = true};
		}
		free(order);
		free(scans);
	}
	while (rc == MIG_OK && k < run->nitems) /* only if run was not in plan order */
		items[n++] = run->items[k++];
	if (rc < 0) {
		free(items);
		return rc;
	}
	free(run->items);
	run->items = items;
	run->nitems = n;
	return MIG_OK;
}

bool mig_plan_has_repeatables(const mig_plan *plan)
{
	for (size_t m = 0; plan && m < plan->nmodules; m++)
		if (plan->modules[m].nrepeatables)
			return true;
	return false;
}

int mig_repeatables_read(mig_repeatable_ledger *out, mig_session *s, const mig_plan *plan,
			 mig_error *err)
{
	memset(out, 0, sizeof *out);
	if (!mig_plan_has_repeatables(plan))
		return MIG_OK;
	if (!s->drv->repeatables_read)
		return mig_error_set(err, MIG_EUSAGE,
				     "the '%s' backend has no repeatable migrations", s->drv->name);
	return s->drv->repeatables_read(s->conn, out, err);
}

int mig_repeatable_mark_status(mig_module_status *rows, size_t n, const mig_plan *plan,
			       const mig_repeatable_ledger *reps, const mig_config *vars,
			       mig_error *err)
{
	for (size_t i = 0; i < n; i++) {
		const mig_module_plan *mod = rows[i].enabled ? mig_plan_module(plan, rows[i].module)
							     : NULL;
		for (size_t k = 0; mod && k < mod->nrepeatables; k++) {
			const mig_repeatable *r = &mod->repeatables[k];
			rep_scan sc;
			int rc = scan_file(&sc, r->as_migration.up_path, vars, err);
			if (rc < 0)
				return rc;
			if (env_excluded(&sc, vars))
				continue;
			mig_repeatable_state st = state_from(
				&sc, mig_repeatable_ledger_find(reps, mod->name, r->as_migration.name));
			rows[i].repeatables++;
			rows[i].repeatables_outdated += st != MIG_REPEATABLE_CURRENT;
		}
	}
	return MIG_OK;
}

int mig_repeatable_verify(mig_problem **list, size_t *count, const mig_plan *plan,
			  const mig_repeatable_ledger *reps, const mig_config *vars,
			  mig_error *err)
{
	for (size_t m = 0; plan && m < plan->nmodules; m++) {
		const mig_module_plan *mod = &plan->modules[m];
		for (size_t k = 0; k < mod->nrepeatables; k++) {
			const mig_repeatable *r = &mod->repeatables[k];
			rep_scan sc;
			int rc = scan_file(&sc, r->as_migration.up_path, vars, err);
			if (rc < 0)
				return rc;
			const mig_repeatable_row *row =
				mig_repeatable_ledger_find(reps, mod->name, r->as_migration.name);
			mig_repeatable_state st = state_from(&sc, row);
			if (env_excluded(&sc, vars) && st != MIG_REPEATABLE_FAILED)
				continue;
			/* one never applied is pending, as a pending version is: not a problem */
			if (st == MIG_REPEATABLE_CURRENT ||
			    (st == MIG_REPEATABLE_NEW && !(row && row->failed[0])))
				continue;
			mig_problem *grown = realloc(*list, (*count + 1) * sizeof *grown);
			if (!grown)
				return mig_error_set(err, MIG_EFAIL, "out of memory");
			*list = grown;
			grown[(*count)++] = (mig_problem){
				st == MIG_REPEATABLE_CHANGED ? MIG_PROBLEM_REPEATABLE_CHANGED
							     : MIG_PROBLEM_REPEATABLE_FAILED,
				mod->name, 0, r->as_migration.up_path};
		}
	}
	return MIG_OK;
}

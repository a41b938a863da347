/* Baseline: every refusal is decided from the plan and the ledger the locked session
 * read, before the first row is written. */
#include "core/baseline.h"

#include <stdlib.h>
#include <string.h>

void mig_baseline_clear(mig_baseline *b)
{
	free(b->items);
	b->items = NULL;
	b->n = 0;
}

int mig_baseline_prepare(mig_baseline *out, const mig_plan *plan, const mig_ledger *ledger,
			 const char *module, long long version, mig_error *err)
{
	memset(out, 0, sizeof *out);
	const mig_module_plan *mod = mig_plan_module(plan, module);
	if (!mod)
		return mig_error_set(err, MIG_EUSAGE, "module '%s' is not enabled in the config",
				     module);
	size_t rows = 0;
	for (size_t i = 0; i < ledger->nrows; i++)
		rows += !strcmp(ledger->rows[i].module, module);
	if (rows)
		return mig_error_set(err, MIG_EUSAGE,
				     "module '%s' already has %zu version%s in schema_migrations: baseline only adopts a module the ledger does not know (see 'migrate resolve')",
				     module, rows, rows == 1 ? "" : "s");
	size_t upto = 0;
	while (upto < mod->nmigrations && mod->migrations[upto].version < version)
		upto++;
	if (upto == mod->nmigrations || mod->migrations[upto].version != version)
		return mig_error_set(err, MIG_EUSAGE, "there is no %s/%lld in '%s'", module, version,
				     mod->dir);
	out->items = calloc(upto + 1, sizeof *out->items);
	if (!out->items)
		return mig_error_set(err, MIG_EFAIL, "out of memory");
	for (size_t i = 0; i <= upto; i++) {
		int rc = mig_engine_resolve_prepare(&out->items[i], plan, module,
						    mod->migrations[i].version, true, err);
		if (rc < 0) {
			mig_baseline_clear(out);
			return rc;
		}
		out->n++;
	}
	return MIG_OK;
}

int mig_baseline_record(mig_session *s, const mig_baseline *b, mig_error *err)
{
	int rc = mig_session_prepare(s, err);
	for (size_t i = 0; rc == MIG_OK && i < b->n; i++)
		rc = mig_engine_resolve(s, &b->items[i], err);
	return rc;
}

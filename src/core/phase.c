/* Phase decisions (see phase.h). The planner reads only directory listings; here only
 * pending files are opened, only their leading comment block is read, and only when a
 * phase decision needs it, so plain `up` and the status of an up-to-date tree read no
 * file at all. */
#include "core/phase.h"

#include <string.h>

#include "core/directive.h"
#include "core/engine.h"

int mig_phase_filter(mig_run *run, mig_phase phase, mig_error *err)
{
	if (phase != MIG_PHASE_EXPAND)
		return MIG_OK;
	size_t kept = 0;
	const mig_module_plan *stopped = NULL; /* the module whose contract phase began */
	for (size_t i = 0; i < run->nitems; i++) {
		const mig_run_item *it = &run->items[i];
		if (it->module == stopped)
			continue;
		mig_directives d;
		int rc = mig_directives_read(&d, it->migration->up_path, err);
		if (rc < 0)
			return rc;
		if (d.contract) {
			stopped = it->module;
			continue;
		}
		run->items[kept++] = *it;
	}
	run->nitems = kept;
	return MIG_OK;
}

int mig_phase_mark_status(mig_module_status *rows, size_t n, const mig_plan *plan,
			  const mig_ledger *ledger, mig_error *err)
{
	for (size_t i = 0; i < n; i++) {
		mig_module_status *st = &rows[i];
		st->contract_pending = false;
		const mig_module_plan *mod = st->enabled ? mig_plan_module(plan, st->module) : NULL;
		if (!mod || !st->pending)
			continue;
		/* the next version to run decides: when it is a contract file, the expand
		 * phase is done (`up --phase expand` has nothing left to apply), whatever
		 * follows it */
		for (size_t j = 0; j < mod->nmigrations; j++) {
			const mig_migration *m = &mod->migrations[j];
			if (mig_ledger_find(ledger, mod->name, m->version))
				continue;
			mig_directives d;
			int rc = mig_directives_read(&d, m->up_path, err);
			if (rc < 0)
				return rc;
			st->contract_pending = d.contract;
			break;
		}
	}
	return MIG_OK;
}

/* Expand and contract phases: a file whose leading comment block holds
 * `-- migrate:phase contract` belongs to the contract phase, every other to expand.
 * `up --phase expand` stops each module before its first pending contract version;
 * status shows a module whose next version is a contract one as `contract pending`. */
#ifndef MIGRATE_PHASE_H
#define MIGRATE_PHASE_H

#include <stdbool.h>
#include <stddef.h>

#include "util/error.h"

typedef enum mig_phase {
	MIG_PHASE_ALL = 0,  /* plain `up`: everything pending */
	MIG_PHASE_EXPAND,   /* pending versions before the module's first contract one */
	MIG_PHASE_CONTRACT, /* everything pending */
} mig_phase;

struct mig_run;
struct mig_module_status;
struct mig_plan;
struct mig_ledger;

/* Drops from run, per module, the first pending contract version and every one after it
 * (reading only the leading comment block of pending files, and only up to the first
 * contract one). Does nothing unless phase is MIG_PHASE_EXPAND. */
int mig_phase_filter(struct mig_run *run, mig_phase phase, mig_error *err);

/* Sets contract_pending on each status row whose next pending version is a contract
 * file: the expand phase is done, the contract runs next (reading the leading comment
 * block of that file only). */
int mig_phase_mark_status(struct mig_module_status *rows, size_t n, const struct mig_plan *plan,
			  const struct mig_ledger *ledger, mig_error *err);

#endif

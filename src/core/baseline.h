/* `migrate baseline`: adopting a database whose schema already exists, by recording the
 * versions of one module up to V as applied (with checksums) without running SQL. */
#ifndef MIGRATE_BASELINE_H
#define MIGRATE_BASELINE_H

#include "core/engine.h"

typedef struct mig_baseline {
	mig_resolution *items; /* ascending by version */
	size_t n;
} mig_baseline;

/* What baseline would record: every version of module up to and including version, each
 * with its up file's checksum. A module that does not run, one that already has ledger
 * rows, or a version that is not one of the module's is MIG_EUSAGE. */
int mig_baseline_prepare(mig_baseline *out, const mig_plan *plan, const mig_ledger *ledger,
			 const char *module, long long version, mig_error *err);

/* Creates the ledger tables when missing and records b through the session's driver. */
int mig_baseline_record(mig_session *s, const mig_baseline *b, mig_error *err);

void mig_baseline_clear(mig_baseline *b);

#endif

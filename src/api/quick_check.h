/* The core-schema rule shared by `migrate check` and libmigrate's mig_quick_check. */
#ifndef MIGRATE_QUICK_CHECK_H
#define MIGRATE_QUICK_CHECK_H

#include "core/session.h"
#include "driver/driver.h"

/* MIG_OK when the ledger exists, no version of core has a dirty mark and core has a
 * clean version >= 1 (stored in *core_version); else MIG_ESCHEMA with the actionable
 * message. */
int mig_check_core(const mig_ledger *ledger, long long *core_version, mig_error *err);

/* The same rule on a session opened with MIG_SESSION_NO_LEDGER: one query for core's
 * highest clean and dirty versions when the driver has ledger_head, else the whole
 * ledger. No lock, nothing written. */
int mig_check_core_session(mig_session *s, long long *core_version, mig_error *err);

#endif

/* The core-schema rule shared by `migrate check` and libmigrate's mig_quick_check. */
#ifndef MIGRATE_QUICK_CHECK_H
#define MIGRATE_QUICK_CHECK_H

#include "driver/driver.h"

/* MIG_OK when the ledger exists and core has a clean version >= 1 (stored in
 * *core_version); else MIG_ESCHEMA with the actionable message. */
int mig_check_core(const mig_ledger *ledger, long long *core_version, mig_error *err);

#endif

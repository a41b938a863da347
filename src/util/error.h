/* Error reporting shared by every layer of migrate.
 * A function returns MIG_OK or a negative mig_status and fills a mig_error once,
 * at the layer that knows the cause; callers pass the code up unchanged. */
#ifndef MIGRATE_ERROR_H
#define MIGRATE_ERROR_H

#include "migrate/migrate.h" /* mig_status and mig_error are public */

/* Records code and a printf-style message in err (which may be NULL) and returns code,
 * so callers can write `return mig_error_set(err, MIG_EUSAGE, ...)`. Newlines in the
 * message are folded into spaces so every error stays one line. */
int mig_error_set(mig_error *err, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Exit status for a mig_status: 0, 1, 2, 3 or 4 (MIG_EBUSY). */
int mig_exit_status(int code);

#endif

/* postgres.hooks: SQL files that `up` runs around its migrations. before_up runs once,
 * in its own transaction, before the first migration that runs SQL; after_each inside
 * each migration's transaction after its statements; after_up once after the last one
 * applied. All three are read (and their envsub spans rendered) before anything runs. */
#ifndef MIGRATE_HOOKS_H
#define MIGRATE_HOOKS_H

#include "core/config.h"
#include "driver/driver.h"
#include "util/error.h"

typedef struct mig_hooks {
	mig_hook before_up, after_each, after_up; /* .sql NULL when not configured */
	char *owned[6];                           /* the paths and texts, released by clear */
} mig_hooks;

/* Reads the hooks cfg configures, relative to root. A missing or unreadable file, or an
 * unset placeholder in one, is MIG_EUSAGE naming it. *out is the caller's
 * (mig_hooks_clear), also on failure. */
int mig_hooks_load(mig_hooks *out, const mig_config *cfg, const char *root, mig_error *err);

/* Whether any hook is configured. */
bool mig_hooks_any(const mig_hooks *h);

/* Accepts NULL and a zeroed struct. */
void mig_hooks_clear(mig_hooks *h);

#endif

/* Environments: a versioned file whose leading comment block says `-- migrate:env dev,test`
 * runs only where the environment (config `environment:` or --env) is one of those; in
 * any other named environment it is recorded as skipped, so the history stays complete
 * and a later run never applies it by accident. Nothing tagged runs unnamed. */
#ifndef MIGRATE_ENVIRONMENT_H
#define MIGRATE_ENVIRONMENT_H

#include "util/error.h"

struct mig_run;

/* Marks each item of an up run whose file's `-- migrate:env` list does not name
 * environment as skip (recorded, not run), reading the leading comment block of each
 * pending file. A tagged file while environment is NULL, or a malformed list, is
 * MIG_EUSAGE naming the file and line: nothing has run yet. A down run is left as it is
 * (its skip marks come from the ledger). */
int mig_env_mark(struct mig_run *run, const char *environment, mig_error *err);

#endif

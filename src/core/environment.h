/* Environments and placeholders, decided before anything runs. A versioned file whose
 * leading comment block says `-- migrate:env dev,test` runs only where the environment
 * (config `environment:` or --env) is one of those; in any other named environment it is
 * recorded as skipped, so the history stays complete and a later run never applies it by
 * accident. Nothing tagged runs unnamed. The `-- migrate:envsub on|off` spans of every
 * file that will run are rendered once up front, so an unset placeholder stops the run
 * before its first change. */
#ifndef MIGRATE_ENVIRONMENT_H
#define MIGRATE_ENVIRONMENT_H

#include "core/config.h"
#include "util/error.h"

struct mig_run;

/* Sets run->vars to cfg (the placeholders its files render with), then, for an up run,
 * marks each item whose file's `-- migrate:env` list does not name cfg->environment as
 * skip (recorded, not run), and renders the envsub spans of every other file to check
 * them. A tagged file while no environment is set, a malformed list or an unset
 * placeholder is MIG_EUSAGE naming the file and line: nothing has run yet. A down run is
 * rendered the same way (its skip marks come from the ledger). */
int mig_env_mark(struct mig_run *run, const mig_config *cfg, mig_error *err);

#endif

/* `up`'s lint guard (postgres.lint), kept beside `migrate lint` so up only calls it. */
#ifndef MIGRATE_CLI_CMD_LINT_H
#define MIGRATE_CLI_CMD_LINT_H

#include "cli/cli.h"
#include "core/engine.h"
#include "lint/lint_report.h"
#include "core/session.h"

/* Lints run's files before anything changes; prints (stderr) only the findings on tables
 * that exist with at least postgres.lint_min_rows estimated rows. Under `lint: error`
 * any such finding is MIG_EUSAGE (nothing applied); `off`, --no-lint or an empty run
 * do nothing. */
int mig_lint_guard_up(void *ctx, mig_session *s, const mig_run *run, mig_error *err);

/* lint --observe: observes each pending transactional file of rep (already linted,
 * same paths) on a clone of live's applied schema, records what the server did in rep
 * and adds observed-unexplained-lock/-rewrite findings; the clone is dropped on every
 * path. MIG_EFAIL when the clone cannot be made or a file fails on it. */
int mig_lint_observe(mig_lint_report *rep, mig_context *ctx, const mig_session *live,
		     mig_error *err);

#endif

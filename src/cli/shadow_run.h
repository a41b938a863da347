/* What drift and roundtrip share: a shadow database with migrations applied to it
 * through the same session and engine path `up` uses (and, from report/, the text
 * printing of differences). */
#ifndef MIGRATE_CLI_SHADOW_RUN_H
#define MIGRATE_CLI_SHADOW_RUN_H

#include <stdio.h>

#include "cli/cli.h"
#include "core/engine.h"
#include "core/session.h"
#include "report/diff_text.h"
#include "scratch/shadow.h"
#include "schema/snapshot.h"

/* Opens a session on the shadow (creating its ledger tables), like `up` does on the
 * live database. */
int mig_shadow_session_open(mig_session *s, mig_context *ctx, mig_shadow *shadow,
			    mig_error *err);

/* Runs one migration up or down on the shadow session. */
int mig_shadow_step(mig_session *s, const mig_module_plan *mod, const mig_migration *m,
		    bool up, mig_error *err);


#endif

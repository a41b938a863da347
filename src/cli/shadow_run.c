/* Shadow sessions for drift and roundtrip: migrations reach a shadow exactly as they
 * reach the live database with `up` (session, preflight, mig_engine_execute), so what
 * the shadow holds is what the history gives. */
#include <string.h>

#include "cli/shadow_run.h"

int mig_shadow_session_open(mig_session *s, mig_context *ctx, mig_shadow *shadow,
			    mig_error *err)
{
	return mig_session_open(s, ctx->registry, &mig_shadow_config(shadow)->pg,
				MIG_SESSION_PREPARE, err);
}

int mig_shadow_step(mig_session *s, const mig_module_plan *mod, const mig_migration *m,
		    bool up, mig_error *err)
{
	mig_run_item item = {.module = mod, .migration = m};
	mig_run run = {.up = up, .items = &item, .nitems = 1};
	int rc = mig_engine_preflight(&run, err);
	if (rc == MIG_OK)
		rc = mig_engine_execute(s->drv, s->conn, &run, NULL, err);
	return rc;
}

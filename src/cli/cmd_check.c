/* `migrate check`: the startup QuickCheck. An app runs it (or mig_quick_check) before
 * serving, and refuses to boot against a database whose core schema is not applied. */
#include <string.h>

#include "migrate/cli.h"
#include "migrate/session.h"

int mig_cmd_check(mig_context *ctx, mig_error *err)
{
	mig_session s;
	int rc = mig_session_open(&s, ctx, 0, err);
	if (rc < 0)
		return rc;
	long long core = 0, dirty = 0;
	for (size_t i = 0; i < s.ledger.nrows; i++) {
		const mig_applied *row = &s.ledger.rows[i];
		if (strcmp(row->module, "core") != 0)
			continue;
		if (row->dirty)
			dirty = row->version;
		else if (row->version > core)
			core = row->version;
	}
	if (dirty)
		rc = mig_error_set(err, MIG_ESCHEMA,
				   "core schema is dirty at version %lld \xe2\x80\x94 repair it and run 'migrate resolve'",
				   dirty);
	else if (!s.ledger.exists || core < 1)
		rc = mig_error_set(err, MIG_ESCHEMA,
				   "core schema not applied \xe2\x80\x94 run 'migrate up'");
	else if (!ctx->args.quiet)
		fprintf(ctx->out, "core schema applied (version %lld)\n", core);
	mig_session_close(&s);
	return rc;
}

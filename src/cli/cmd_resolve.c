/* `migrate resolve`: the way out of a dirty state, or of a hand-applied migration:
 * record a version as applied, or forget it, without running any SQL. */
#include <stdlib.h>
#include <string.h>

#include "checksum.h"
#include "cli/cli.h"
#include "engine.h"
#include "fs.h"
#include "session.h"

int mig_check_resolve_args(const mig_args *args, mig_error *err)
{
	if (!args->module)
		return mig_error_set(err, MIG_EUSAGE, "'migrate resolve' needs --module M");
	if (!args->has_version)
		return mig_error_set(err, MIG_EUSAGE, "'migrate resolve' needs --version V");
	if (args->applied == args->rolled_back)
		return mig_error_set(err, MIG_EUSAGE,
				     "'migrate resolve' needs exactly one of --applied and --rolled-back");
	return MIG_OK;
}

int mig_cmd_resolve(mig_context *ctx, mig_error *err)
{
	const mig_args *a = &ctx->args;
	const mig_module_plan *mod = mig_plan_module(ctx->plan, a->module);
	if (!mod)
		return mig_error_set(err, MIG_EUSAGE, "module '%s' is not enabled in the config",
				     a->module);
	const mig_migration *m = NULL;
	for (size_t i = 0; i < mod->nmigrations && !m; i++)
		if (mod->migrations[i].version == a->version)
			m = &mod->migrations[i];
	char checksum[MIG_CHECKSUM_HEX] = "";
	if (a->applied) {
		if (!m)
			return mig_error_set(err, MIG_EUSAGE, "there is no %s/%lld in '%s'", a->module,
					     a->version, mod->dir);
		char *sql;
		size_t len;
		int rc = mig_read_file(&sql, &len, m->up_path, MIG_SQL_MAX_BYTES, "migration file",
				       err);
		if (rc < 0)
			return rc;
		rc = mig_sha256_hex(checksum, sql, len);
		free(sql);
		if (rc < 0)
			return mig_error_set(err, MIG_EFAIL, "cannot compute the checksum of '%s'",
					     m->up_path);
	}

	mig_session s;
	int rc = mig_session_open(&s, ctx, MIG_SESSION_LOCK | MIG_SESSION_PREPARE, err);
	if (rc < 0)
		return rc;
	if (a->rolled_back && !mig_ledger_find(&s.ledger, a->module, a->version)) {
		rc = mig_error_set(err, MIG_EUSAGE, "%s/%lld is not recorded as applied", a->module,
				   a->version);
		goto done;
	}
	rc = s.drv->resolve(s.conn, a->module, a->version, m ? m->name : "", checksum,
			    a->applied, err);
	if (rc == MIG_OK)
		fprintf(ctx->out, "resolved %s/%lld as %s\n", a->module, a->version,
			a->applied ? "applied" : "rolled back");
done:
	mig_session_close(&s);
	return rc;
}

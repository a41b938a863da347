/* Opening a database session the same way for every command: connect, lock, ensure
 * and read the ledger, so each command starts from one consistent snapshot. */
#include <string.h>

#include "core/session.h"

int mig_session_open(mig_session *s, const mig_registry *reg, const mig_sql_config *cfg,
		     unsigned flags, mig_error *err)
{
	memset(s, 0, sizeof *s);
	s->cfg = cfg;
	int rc = mig_registry_sql(&s->drv, reg, cfg->backend, err);
	if (rc == MIG_OK)
		rc = s->drv->connect(&s->conn, cfg, err);
	if (rc < 0)
		return rc;
	/* the lock comes before the ledger is read, so no other run can change it after */
	if ((flags & MIG_SESSION_LOCK) && (rc = s->drv->lock(s->conn, err)) < 0)
		goto fail;
	if (flags & MIG_SESSION_NO_LEDGER)
		return MIG_OK;
	if ((rc = s->drv->ledger_read(s->conn, &s->ledger, err)) < 0)
		goto fail;
	if ((flags & MIG_SESSION_PREPARE) && (rc = mig_session_prepare(s, err)) < 0)
		goto fail;
	return MIG_OK;
fail:
	mig_session_close(s);
	return rc;
}

int mig_session_prepare(mig_session *s, mig_error *err)
{
	if (s->ledger.complete)
		return MIG_OK;
	int rc = s->drv->ledger_prepare(s->conn, err);
	if (rc == MIG_OK)
		s->ledger.exists = s->ledger.complete = true;
	return rc;
}

void mig_session_close(mig_session *s)
{
	if (s->drv && s->conn)
		s->drv->disconnect(s->conn);
	mig_ledger_clear(&s->ledger);
	s->conn = NULL;
}

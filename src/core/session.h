/* A database session: connect through the registry's driver, optionally lock and create
 * the ledger, read the ledger once (unless MIG_SESSION_NO_LEDGER); and the matching close
 * on every path. Every command and the library start from this one consistent snapshot. */
#ifndef MIGRATE_SESSION_H
#define MIGRATE_SESSION_H

#include "core/config.h"
#include "driver/driver.h"
#include "driver/registry.h"

enum {
	MIG_SESSION_LOCK = 1 << 0,    /* hold the one-migrator lock until close */
	MIG_SESSION_PREPARE = 1 << 1, /* create schema_migrations when missing */
	MIG_SESSION_NO_LEDGER = 1 << 2, /* connect only: the caller asks the driver itself
					 * for what it needs (the startup check) */
};

typedef struct mig_session {
	const mig_sql_driver *drv; /* borrowed from the registry */
	void *conn;
	mig_ledger ledger;
	const mig_sql_config *cfg; /* the section it was opened with (retry policy, timeouts) */
} mig_session;

/* Opens a session on the database of cfg through the driver that reg (NULL: built-in)
 * registers under cfg->backend. cfg must outlive the session. On failure nothing stays
 * open and s is safe to close. */
int mig_session_open(mig_session *s, const mig_registry *reg, const mig_sql_config *cfg,
		     unsigned flags, mig_error *err);

/* Creates the ledger tables that are missing (before the first change of a run). */
int mig_session_prepare(mig_session *s, mig_error *err);

/* Releases the lock, the connection and the ledger; safe on a zeroed session. */
void mig_session_close(mig_session *s);

#endif

/* A command's database session: connect, optionally lock and create the ledger, read
 * the ledger once; and the matching close on every path. */
#ifndef MIGRATE_SESSION_H
#define MIGRATE_SESSION_H

#include "cli/cli.h"
#include "driver/driver.h"

enum {
	MIG_SESSION_LOCK = 1 << 0,    /* hold the one-migrator lock until close */
	MIG_SESSION_PREPARE = 1 << 1, /* create schema_migrations when missing */
};

typedef struct mig_session {
	const mig_sql_driver *drv;
	void *conn;
	mig_ledger ledger;
} mig_session;

/* Opens a session for ctx->cfg through ctx->sql. On failure nothing stays open. */
int mig_session_open(mig_session *s, mig_context *ctx, unsigned flags, mig_error *err);

/* Creates the ledger tables that are missing (before the first change of a run). */
int mig_session_prepare(mig_session *s, mig_error *err);

/* Releases the lock, the connection and the ledger; safe on a zeroed session. */
void mig_session_close(mig_session *s);

#endif

/* The one-migrator lock: a session advisory lock (one attempt sent with the ledger read,
 * in one round trip), or for `postgres.lock: table` a leased row that pg_lease.c renews;
 * both polled up to postgres.lock_wait, never waited for inside the server. */
#include <libpq-fe.h>
#include <stdio.h>
#include <string.h>

#include "postgres/pg_conn.h"
#include "postgres/pg_fleet.h"
#include "postgres/pg_lease.h"
#include "postgres/pg_script.h"
#include "util/clock.h"

/* Key of the session advisory lock: one migrator per database ("migrate" in ASCII),
 * or per schema for a fleet's schema target (mig_pg_schema_lock_key). */
#define LOCK_KEY 7883936066298981LL

/* The leased lock for `postgres.lock: table`: one row, taken by an upsert that only
 * succeeds when the row is free or its lease has expired, so a crashed holder blocks
 * others for at most postgres.lock_lease; renewed by pg_lease.c while it is held. */

static const char lease_ddl[] =
	"CREATE TABLE IF NOT EXISTS schema_migrations_lock ("
	" id int PRIMARY KEY CHECK (id = 1),"
	" holder text NOT NULL,"
	" host text NOT NULL,"
	" acquired_at timestamptz NOT NULL DEFAULT now(),"
	" expires_at timestamptz NOT NULL)";

static const char lease_release[] = "DELETE FROM schema_migrations_lock WHERE holder = $1";

static const char lease_holder_sql[] =
	"SELECT split_part(holder, ':', 1), host,"
	" to_char(expires_at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS \"UTC\"')"
	" FROM schema_migrations_lock WHERE expires_at >= now()";

int mig_pg_release_lock(void *conn, mig_error *err)
{
	mig_pg_conn *pc = conn;
	if (!pc->locked)
		return MIG_OK;
	pc->locked = false;
	if (pc->cfg->lock_mode == MIG_LOCK_TABLE) {
		mig_pg_keeper_stop(pc->keeper);
		pc->keeper = NULL;
		const char *params[] = {pc->holder};
		return mig_pg_exec_params(pc, lease_release, 1, params, "cannot release the lock",
					  err);
	}
	char sql[64];
	snprintf(sql, sizeof sql, "SELECT pg_advisory_unlock(%s)", pc->lock_key);
	return mig_pg_exec_simple(pc, sql, "cannot release the lock", err);
}

/* Names who holds the advisory lock ("PID 123"), or "" when unknown. */
static void advisory_holder(mig_pg_conn *pc, char *out, size_t size)
{
	char sql[256];
	snprintf(sql, sizeof sql,
		 "SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND granted"
		 " AND database = (SELECT oid FROM pg_database WHERE datname = current_database())"
		 " AND ((classid::bigint << 32) | objid::bigint) = %s LIMIT 1", pc->lock_key);
	PGresult *res = PQexec(pc->conn, sql);
	out[0] = '\0';
	if (PQresultStatus(res) == PGRES_TUPLES_OK && PQntuples(res) == 1)
		snprintf(out, size, "PID %s", PQgetvalue(res, 0, 0));
	PQclear(res);
}

/* Names who holds the leased lock ("PID 123 on host, lease until ..."), or "". */
static void lease_holder(mig_pg_conn *pc, char *out, size_t size)
{
	PGresult *res = PQexec(pc->conn, lease_holder_sql);
	out[0] = '\0';
	if (PQresultStatus(res) == PGRES_TUPLES_OK && PQntuples(res) == 1)
		snprintf(out, size, "PID %s on %s, lease until %s", PQgetvalue(res, 0, 0),
			 PQgetvalue(res, 0, 1), PQgetvalue(res, 0, 2));
	PQclear(res);
}

/* One attempt at the advisory lock. */
static int try_advisory(mig_pg_conn *pc, bool *got, mig_error *err)
{
	char sql[64];
	snprintf(sql, sizeof sql, "SELECT pg_try_advisory_lock(%s)", pc->lock_key);
	PGresult *res = PQexec(pc->conn, sql);
	int rc = MIG_OK;
	if (PQresultStatus(res) != PGRES_TUPLES_OK)
		rc = mig_pg_result_error(pc->conn, res, "cannot take the migration lock", err);
	else
		*got = PQgetvalue(res, 0, 0)[0] == 't';
	PQclear(res);
	return rc;
}

/* One query's result in pipeline mode, after which come the NULL that ends it and the
 * result that marks its Sync. NULL when the connection failed. */
static PGresult *pipeline_take(PGconn *conn)
{
	PGresult *res = PQgetResult(conn);
	if (!res)
		return NULL;
	for (PGresult *more; (more = PQgetResult(conn));)
		PQclear(more);
	PQclear(PQgetResult(conn)); /* PGRES_PIPELINE_SYNC */
	return res;
}

/* The first attempt at the advisory lock, sent together with the ledger read: one round
 * trip where two would do the same. Each query has its own Sync, so each is its own
 * transaction and the read's snapshot is taken after the lock is held, whatever the
 * isolation level. The rows wait in ledger_ahead when the lock was granted. */
static int try_advisory_reading_ahead(mig_pg_conn *pc, bool *got, mig_error *err)
{
	char sql[64];
	snprintf(sql, sizeof sql, "SELECT pg_try_advisory_lock(%s)", pc->lock_key);
	if (!PQenterPipelineMode(pc->conn))
		return try_advisory(pc, got, err);
	/* and the repeatables' ledger when the tree has repeatables: still one round trip */
	bool reps = pc->cfg->read_repeatables;
	bool sent = PQsendQueryParams(pc->conn, sql, 0, NULL, NULL, NULL, NULL, 0) &&
		    PQpipelineSync(pc->conn) &&
		    PQsendQueryParams(pc->conn, mig_pg_ledger_select, 0, NULL, NULL, NULL, NULL,
				      0) &&
		    PQpipelineSync(pc->conn) &&
		    (!reps ||
		     (PQsendQueryParams(pc->conn, mig_pg_repeatable_select, 0, NULL, NULL, NULL,
					NULL, 0) &&
		      PQpipelineSync(pc->conn)));
	PGresult *lock = sent ? pipeline_take(pc->conn) : NULL;
	PGresult *ledger = sent ? pipeline_take(pc->conn) : NULL;
	PGresult *repeatables = sent && reps ? pipeline_take(pc->conn) : NULL;
	int rc = MIG_OK;
	if (!PQexitPipelineMode(pc->conn) || PQresultStatus(lock) != PGRES_TUPLES_OK) {
		/* the server's error, else the connection's */
		bool failed = lock && PQresultStatus(lock) == PGRES_FATAL_ERROR;
		rc = mig_pg_result_error(pc->conn, failed ? lock : NULL,
					 "cannot take the migration lock", err);
	} else {
		*got = PQgetvalue(lock, 0, 0)[0] == 't';
		if (*got) {
			pc->ledger_ahead = ledger;
			pc->repeatables_ahead = repeatables;
			ledger = repeatables = NULL;
		}
	}
	PQclear(lock);
	PQclear(ledger);
	PQclear(repeatables);
	return rc;
}

/* One attempt at the leased row: take it when free or when its lease has run out.
 * Every statement stands alone, so this holds behind a transaction-pooling PgBouncer. */
static int try_lease(mig_pg_conn *pc, bool *got, mig_error *err)
{
	char lease[24];
	snprintf(lease, sizeof lease, "%lld", pc->cfg->lock_lease_ms);
	const char *params[] = {pc->holder, pc->host, lease};
	PGresult *res = PQexecParams(pc->conn, mig_pg_lease_take, 3, NULL, params, NULL, NULL, 0);
	int rc = MIG_OK;
	if (PQresultStatus(res) == PGRES_TUPLES_OK) {
		*got = PQntuples(res) == 1;
	} else {
		const char *state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
		if (state && !strcmp(state, "42P01")) {
			/* the first run creates the lock table; racing creators retry */
			PQclear(res);
			res = NULL;
			mig_pg_create_schema(pc, NULL); /* racing creators retry too */
			PGresult *ddl = PQexec(pc->conn, lease_ddl);
			PQclear(ddl);
			*got = false;
		} else {
			rc = mig_pg_result_error(pc->conn, res, "cannot take the migration lock",
						 err);
		}
	}
	PQclear(res);
	return rc;
}

/* Polls for the lock (never a blocking wait, which would sit inside the server where it
 * can deadlock with CREATE INDEX CONCURRENTLY run by the holder), up to lock_wait. */
int mig_pg_lock(void *conn, mig_error *err)
{
	mig_pg_conn *pc = conn;
	bool table = pc->cfg->lock_mode == MIG_LOCK_TABLE;
	long long deadline = mig_now_ms() + pc->cfg->lock_wait_ms;
	long long pause = 20;
	for (int attempt = 0;; attempt++) {
		bool got = false;
		int rc = table		      ? try_lease(pc, &got, err)
			 : attempt == 0 ? try_advisory_reading_ahead(pc, &got, err)
					: try_advisory(pc, &got, err);
		if (rc < 0)
			return rc;
		if (got) {
			pc->locked = true;
			if (table && (rc = mig_pg_keeper_start(&pc->keeper, pc->cfg, pc->holder,
							       pc->conn, err)) < 0)
				mig_pg_release_lock(pc, NULL);
			return rc;
		}
		long long left = deadline - mig_now_ms();
		if (left <= 0)
			break;
		mig_sleep_ms(pause < left ? pause : left);
		if (pause < 500)
			pause *= 2;
	}
	char who[256];
	if (table)
		lease_holder(pc, who, sizeof who);
	else
		advisory_holder(pc, who, sizeof who);
	/* MIG_EBUSY: nothing was read or changed yet, so a caller (a Kubernetes Job) may
	 * simply retry later; exit 4 tells "busy" from "broken" */
	return mig_error_set(err, MIG_EBUSY,
			     "another migrate run holds the lock%s%s%s; gave up after %lld ms (postgres.lock_wait)",
			     who[0] ? " (" : "", who, who[0] ? ")" : "", pc->cfg->lock_wait_ms);
}

/* Table mode: fails when the keeper lost the lease (a renewal failed, or another run
 * took the row), rather than migrate unguarded. No round trip: pg_lease.c renews. */
int mig_pg_renew_lease(mig_pg_conn *pc, mig_error *err)
{
	if (pc->cfg->lock_mode != MIG_LOCK_TABLE || !pc->locked)
		return MIG_OK;
	return mig_pg_keeper_check(pc->keeper, err);
}

long long mig_pg_lock_key(const mig_sql_config *cfg)
{
	return cfg->schema ? mig_pg_schema_lock_key(LOCK_KEY, cfg->schema) : LOCK_KEY;
}

/* Renewing the leased lock from a second connection while the first one migrates (see
 * pg_lease.h), on util/lease_keeper's thread. The thread shares nothing with the migrating
 * connection but a PGcancel handle (made for use from another thread). */
#include "postgres/pg_lease.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>

#include "postgres/pg_error.h"
#include "util/lease_keeper.h"

const char mig_pg_lease_take[] =
	"INSERT INTO schema_migrations_lock AS l (id, holder, host, expires_at)"
	" VALUES (1, $1, $2, now() + $3::bigint * interval '1 millisecond')"
	" ON CONFLICT (id) DO UPDATE SET holder = EXCLUDED.holder, host = EXCLUDED.host,"
	" acquired_at = now(), expires_at = EXCLUDED.expires_at"
	" WHERE l.expires_at < now() RETURNING holder";

const char mig_pg_lease_renew[] =
	"UPDATE schema_migrations_lock SET expires_at = now() + $2::bigint * interval '1 millisecond'"
	" WHERE holder = $1 RETURNING holder";

struct mig_pg_keeper {
	PGconn *conn;     /* the keeper's own session */
	PGcancel *cancel; /* cancels the migrating connection's statement */
	char holder[96];
	char lease[24]; /* milliseconds, as the renewal's parameter */
	mig_lease_keeper *timer;
};

/* One renewal; false with why filled when the lease is no longer ours. */
static bool renew(void *arg, char *why, size_t size)
{
	mig_pg_keeper *k = arg;
	const char *params[] = {k->holder, k->lease};
	PGresult *res = PQexecParams(k->conn, mig_pg_lease_renew, 2, NULL, params, NULL, NULL, 0);
	bool ok = true;
	if (PQresultStatus(res) != PGRES_TUPLES_OK) {
		char msg[400];
		mig_pg_first_line(msg, sizeof msg,
				  res ? PQresultErrorMessage(res) : PQerrorMessage(k->conn));
		snprintf(why, size, "lost the migration lock: cannot renew its lease: %s", msg);
		ok = false;
	} else if (PQntuples(res) != 1) {
		snprintf(why, size,
			 "lost the migration lock: another run took its lease (schema_migrations_lock)");
		ok = false;
	}
	PQclear(res);
	return ok;
}

/* The lease is lost: stop what runs now, so that its transaction rolls back whole. */
static void cancel_main(void *arg)
{
	mig_pg_keeper *k = arg;
	char ignored[256];
	PQcancel(k->cancel, ignored, sizeof ignored);
}

int mig_pg_keeper_start(mig_pg_keeper **out, const mig_sql_config *cfg, const char *holder,
			PGconn *main, mig_error *err)
{
	*out = NULL;
	mig_pg_keeper *k = calloc(1, sizeof *k);
	if (!k)
		return mig_error_set(err, MIG_EFAIL, "out of memory");
	snprintf(k->holder, sizeof k->holder, "%s", holder);
	snprintf(k->lease, sizeof k->lease, "%lld", cfg->lock_lease_ms);
	const char *keys[] = {"dbname", "application_name", NULL};
	const char *values[] = {cfg->dsn ? cfg->dsn : "", "migrate lease", NULL};
	k->conn = PQconnectdbParams(keys, values, 1);
	k->cancel = PQgetCancel(main);
	int rc = MIG_OK;
	if (!k->conn || !k->cancel) {
		rc = mig_error_set(err, MIG_EFAIL, "out of memory");
	} else if (PQstatus(k->conn) != CONNECTION_OK) {
		char msg[400];
		mig_pg_first_line(msg, sizeof msg, PQerrorMessage(k->conn));
		rc = mig_error_set(err, MIG_EFAIL, "cannot open the lease connection: %s", msg);
	}
	if (rc == MIG_OK) {
		/* renewed every third of the lease */
		int e = mig_lease_keeper_start(&k->timer, cfg->lock_lease_ms / 3, renew, cancel_main, k);
		if (e != 0)
			rc = mig_error_set(err, MIG_EFAIL, "%s",
					   e == ENOMEM ? "out of memory" : "cannot start the lease thread");
	}
	if (rc < 0) {
		PQfinish(k->conn);
		PQfreeCancel(k->cancel);
		free(k);
		return rc;
	}
	*out = k;
	return MIG_OK;
}

int mig_pg_keeper_check(mig_pg_keeper *k, mig_error *err)
{
	char why[512];
	if (!k || !mig_lease_keeper_lost(k->timer, why, sizeof why))
		return MIG_OK;
	return mig_error_set(err, MIG_EFAIL, "%s", why);
}

void mig_pg_keeper_stop(mig_pg_keeper *k)
{
	if (!k)
		return;
	mig_lease_keeper_stop(k->timer);
	PQfinish(k->conn);
	PQfreeCancel(k->cancel);
	free(k);
}

/* Renewing the leased lock from a second connection while the first one migrates (see
 * pg_lease.h). The thread shares nothing with the migrating connection but a PGcancel
 * handle (made for use from another thread) and the lost flag under the mutex. */
#include "postgres/pg_lease.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "postgres/pg_error.h"

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
	PGconn *conn;       /* the keeper's own session */
	PGcancel *cancel;   /* cancels the migrating connection's statement */
	char holder[96];
	char lease[24];     /* milliseconds, as the renewal's parameter */
	long long every_ms; /* a third of the lease */
	pthread_t thread;
	pthread_mutex_t mu;
	pthread_cond_t wake;
	bool stop;
	bool lost;
	char why[512];
};

/* One renewal; false with why filled when the lease is no longer ours. */
static bool renew(mig_pg_keeper *k, char *why, size_t size)
{
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

static void *keeper_main(void *arg)
{
	mig_pg_keeper *k = arg;
	pthread_mutex_lock(&k->mu);
	while (!k->stop) {
		struct timespec at;
		clock_gettime(CLOCK_MONOTONIC, &at);
		at.tv_sec += k->every_ms / 1000;
		at.tv_nsec += (k->every_ms % 1000) * 1000000;
		if (at.tv_nsec >= 1000000000) {
			at.tv_sec++;
			at.tv_nsec -= 1000000000;
		}
		while (!k->stop && pthread_cond_timedwait(&k->wake, &k->mu, &at) == 0)
			;
		if (k->stop)
			break;
		pthread_mutex_unlock(&k->mu);
		char why[512];
		bool ok = renew(k, why, sizeof why);
		pthread_mutex_lock(&k->mu);
		if (!ok && !k->stop) {
			k->lost = true;
			snprintf(k->why, sizeof k->why, "%s", why);
			/* stop what runs now: its transaction rolls back whole */
			char ignored[256];
			PQcancel(k->cancel, ignored, sizeof ignored);
			break;
		}
	}
	pthread_mutex_unlock(&k->mu);
	return NULL;
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
	k->every_ms = cfg->lock_lease_ms / 3 > 0 ? cfg->lock_lease_ms / 3 : 1;
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
		pthread_condattr_t attr;
		pthread_condattr_init(&attr);
		pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
		pthread_mutex_init(&k->mu, NULL);
		pthread_cond_init(&k->wake, &attr);
		pthread_condattr_destroy(&attr);
		if (pthread_create(&k->thread, NULL, keeper_main, k) != 0) {
			pthread_cond_destroy(&k->wake);
			pthread_mutex_destroy(&k->mu);
			rc = mig_error_set(err, MIG_EFAIL, "cannot start the lease thread");
		}
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
	if (!k)
		return MIG_OK;
	pthread_mutex_lock(&k->mu);
	int rc = k->lost ? mig_error_set(err, MIG_EFAIL, "%s", k->why) : MIG_OK;
	pthread_mutex_unlock(&k->mu);
	return rc;
}

void mig_pg_keeper_stop(mig_pg_keeper *k)
{
	if (!k)
		return;
	pthread_mutex_lock(&k->mu);
	k->stop = true;
	pthread_cond_signal(&k->wake);
	pthread_mutex_unlock(&k->mu);
	pthread_join(k->thread, NULL);
	pthread_cond_destroy(&k->wake);
	pthread_mutex_destroy(&k->mu);
	PQfinish(k->conn);
	PQfreeCancel(k->cancel);
	free(k);
}

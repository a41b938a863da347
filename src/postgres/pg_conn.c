/* The PostgreSQL driver's connection: connecting (UTF8, the schema target's search_path,
 * the version check), closing, and running one command or several with a failure turned
 * into one line naming what failed (pg_conn.h). */
#include <libpq-fe.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "postgres/pg_conn.h"
#include "postgres/pg_error.h"
#include "postgres/pg_result.h"
#include "postgres/pg_script.h"
#include "util/names.h"

int mig_pg_conn_error(mig_pg_conn *pc, const char *what, mig_error *err)
{
	char msg[512];
	mig_pg_first_line(msg, sizeof msg, PQerrorMessage(pc->conn));
	return mig_error_set(err, MIG_EFAIL, "%s: %s", what, msg);
}

/* MIG_OK when res is a command's or query's success, else MIG_EFAIL naming what;
 * clears res either way. */
static int command_result(mig_pg_conn *pc, PGresult *res, const char *what, mig_error *err)
{
	int status = PQresultStatus(res);
	int rc = MIG_OK;
	if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK)
		rc = mig_pg_result_error(pc->conn, res, what, err);
	PQclear(res);
	return rc;
}

/* Runs parameterless commands (several, separated by ';', in one round trip). */
int mig_pg_exec_simple(mig_pg_conn *pc, const char *sql, const char *what, mig_error *err)
{
	return command_result(pc, PQexec(pc->conn, sql), what, err);
}

/* Runs one command with text parameters. */
int mig_pg_exec_params(mig_pg_conn *pc, const char *sql, int n, const char *const *values,
		       const char *what, mig_error *err)
{
	return command_result(pc, PQexecParams(pc->conn, sql, n, NULL, values, NULL, NULL, 0),
			      what, err);
}

/* Server notices (e.g. "relation already exists, skipping") are noise for a CLI;
 * warnings are worth showing. */
static void on_notice(void *arg, const PGresult *res)
{
	(void)arg;
	const char *severity = PQresultErrorField(res, PG_DIAG_SEVERITY_NONLOCALIZED);
	if (severity && !strcmp(severity, "WARNING")) {
		char msg[512];
		mig_pg_first_line(msg, sizeof msg, PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY));
		fprintf(stderr, "migrate: server warning: %s\n", msg);
	}
}

static void free_conn(mig_pg_conn *pc)
{
	PQclear(pc->ledger_ahead);
	PQclear(pc->repeatables_ahead);
	PQfinish(pc->conn);
	mig_pg_track_clear(&pc->track);
	free(pc);
}

int mig_pg_connect(void **out, const mig_sql_config *cfg, mig_error *err)
{
	*out = NULL;
	/* UTF8 in the startup packet: error positions count characters, and setting it
	 * afterwards would cost a round trip */
	const char *keys[] = {"dbname", "application_name", "client_encoding", NULL, NULL, NULL};
	const char *values[] = {cfg->dsn ? cfg->dsn : "", "migrate", "UTF8", NULL, NULL, NULL};
	size_t nkeys = 3;
	char options[128], timeout[16];
	if (cfg->schema) {
		/* a schema target: its tables, ledger and lock row resolve into the schema */
		if (!mig_schema_name_valid(cfg->schema))
			return mig_error_set(err, MIG_EUSAGE, "bad schema name '%.100s'", cfg->schema);
		snprintf(options, sizeof options, "-c search_path=\"%s\"", cfg->schema);
		keys[nkeys] = "options";
		values[nkeys++] = options;
	}
	if (cfg->connect_timeout_s > 0) {
		/* after dbname, so it overrides the DSN's own */
		snprintf(timeout, sizeof timeout, "%d", cfg->connect_timeout_s);
		keys[nkeys] = "connect_timeout";
		values[nkeys++] = timeout;
	}
	mig_pg_conn *pc = calloc(1, sizeof *pc);
	if (!pc)
		return mig_error_set(err, MIG_EFAIL, "out of memory");
	pc->cfg = cfg;
	snprintf(pc->lock_key, sizeof pc->lock_key, "%lld", mig_pg_lock_key(cfg));
	if (gethostname(pc->host, sizeof pc->host) != 0)
		snprintf(pc->host, sizeof pc->host, "unknown");
	pc->host[sizeof pc->host - 1] = '\0';
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	snprintf(pc->holder, sizeof pc->holder, "%ld:%lx", (long)getpid(),
		 (unsigned long)ts.tv_nsec ^ (unsigned long)(uintptr_t)pc);
	int rc;
	pc->conn = PQconnectdbParams(keys, values, 1);
	if (!pc->conn) {
		free_conn(pc);
		return mig_error_set(err, MIG_EFAIL, "out of memory");
	}
	if (PQstatus(pc->conn) != CONNECTION_OK) {
		rc = mig_pg_conn_error(pc, "cannot connect to PostgreSQL", err);
		free_conn(pc);
		return rc;
	}
	if ((rc = mig_pg_check_version(PQserverVersion(pc->conn), err)) < 0) {
		free_conn(pc);
		return rc;
	}
	PQsetNoticeReceiver(pc->conn, on_notice, NULL);
	*out = pc;
	return MIG_OK;
}

void mig_pg_disconnect(void *conn)
{
	mig_pg_conn *pc = conn;
	if (!pc)
		return;
	/* closing the session releases an advisory lock by itself; the leased row must go */
	if (pc->locked && pc->cfg->lock_mode == MIG_LOCK_TABLE && PQstatus(pc->conn) == CONNECTION_OK)
		mig_pg_release_lock(pc, NULL);
	mig_pg_keeper_stop(pc->keeper);
	free_conn(pc);
}

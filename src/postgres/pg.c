/* The PostgreSQL backend (the only file that includes <libpq-fe.h>): the ledger in
 * schema_migrations, the one-migrator lock, and running migration files. A
 * transactional file is sent with its ledger row as one pipeline, one round trip, yet
 * each statement is its own protocol message so a failure names its exact statement. */
#include <ctype.h>
#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <stdint.h>
#include <unistd.h>

#include "driver/driver.h"
#include "postgres/pg_error.h"
#include "postgres/pg_lint.h"
#include "postgres/pg_probe.h"
#include "postgres/pg_seed.h"
#include "postgres/pg_lease.h"
#include "postgres/pg_script.h"
#include "postgres/pg_track.h"
#include "postgres/pg_fleet.h"
#include "util/clock.h"
#include "util/names.h"
#include "util/sql_split.h"

/* Key of the session advisory lock: one migrator per database ("migrate" in ASCII),
 * or per schema for a fleet's schema target (mig_pg_schema_lock_key). */
#define LOCK_KEY 7883936066298981LL

typedef struct pg_conn {
	PGconn *conn;
	const mig_sql_config *cfg; /* the postgres: section, owned by the caller */
	bool locked;
	mig_pg_keeper *keeper; /* lock: table: renews the lease while migrations run */
	char holder[96]; /* "pid:random": who we are in schema_migrations_lock */
	char host[64];
	mig_pg_track track; /* what each migration created and dropped (pg_track.c) */
	bool track_ready; /* track's SQL filled in: at the first migration or objects check, so
			   * a session that runs none (check, status) does not pay for it */
	char lock_key[24]; /* the advisory lock key, as SQL text */
	/* the ledger rows read in the same round trip as the advisory lock (pg_lock), for the
	 * pg_ledger_read that follows it; NULL once taken */
	PGresult *ledger_ahead;
	PGresult *repeatables_ahead; /* schema_migrations_repeatable, read with the ledger */
	unsigned ledger_prepared; /* bit per ledger_cmds entry prepared in this session */
} pg_conn;

static int create_schema(pg_conn *pc, mig_error *err);

static const char ledger_ddl[] =
	"CREATE TABLE IF NOT EXISTS schema_migrations ("
	" module text NOT NULL,"
	" version bigint NOT NULL,"
	" name text NOT NULL DEFAULT '',"
	" checksum text NOT NULL DEFAULT '',"
	" dirty boolean NOT NULL DEFAULT false,"
	" applied_at timestamptz NOT NULL DEFAULT now(),"
	" duration_ms bigint,"
	" skipped boolean NOT NULL DEFAULT false,"
	" rendered_checksum text NOT NULL DEFAULT '',"
	" PRIMARY KEY (module, version));"
	/* a ledger created before environments and placeholders had neither column */
	"ALTER TABLE schema_migrations ADD COLUMN IF NOT EXISTS"
	" skipped boolean NOT NULL DEFAULT false;"
	"ALTER TABLE schema_migrations ADD COLUMN IF NOT EXISTS"
	" rendered_checksum text NOT NULL DEFAULT '';"
	"CREATE TABLE IF NOT EXISTS schema_migrations_repeatable ("
	" module text NOT NULL,"
	" name text NOT NULL,"
	" checksum text NOT NULL DEFAULT '',"
	" rendered_checksum text NOT NULL DEFAULT '',"
	" failed_checksum text NOT NULL DEFAULT '',"
	" applied_at timestamptz NOT NULL DEFAULT now(),"
	" duration_ms bigint,"
	" PRIMARY KEY (module, name));"
	"CREATE TABLE IF NOT EXISTS schema_migrations_seeds ("
	" module text NOT NULL,"
	" name text NOT NULL,"
	" checksum text NOT NULL DEFAULT '',"
	" rendered_checksum text NOT NULL DEFAULT '',"
	" applied_at timestamptz NOT NULL DEFAULT now(),"
	" duration_ms bigint,"
	" PRIMARY KEY (module, name));" MIG_PG_TRACK_DDL;

/* What a migration file may have SET for the rest of the session, undone after it: the
 * ledger's statements are unqualified, and each file starts where the connection did
 * (the search_path of a schema target is the connection's). */
static const char reset_search_path[] = "RESET search_path";
static const char reset_role[] = "RESET ROLE";

/* sorted as strcmp sorts, so mig_ledger_find can binary-search */
static const char ledger_select[] =
	"SELECT module, version, name, checksum, dirty,"
	" (SELECT to_regclass('" MIG_PG_TRACK_LAST_DDL "') IS NOT NULL"
	"  AND to_regclass('schema_migrations_repeatable') IS NOT NULL"
	"  AND to_regclass('schema_migrations_seeds') IS NOT NULL), skipped,"
	" rendered_checksum"
	" FROM schema_migrations ORDER BY module COLLATE \"C\", version";

/* The same for a ledger from before those columns (then not complete: preparing it
 * adds them). */
static const char ledger_select_legacy[] =
	"SELECT module, version, name, checksum, dirty, false, false, ''"
	" FROM schema_migrations ORDER BY module COLLATE \"C\", version";

/* The startup check's one query: a module's highest clean and highest dirty version, in
 * one pass over the module's rows through the primary key (module, version) — one short
 * row back, whatever the size of the ledger. (A dirty mark may sit under a clean head, after
 * an out-of-order run, so every row of the module is looked at; one aggregate plans
 * faster on a new connection than two max() subqueries.) */
static const char ledger_head_select[] =
	"SELECT max(version) FILTER (WHERE NOT dirty), max(version) FILTER (WHERE dirty)"
	" FROM schema_migrations WHERE module = $1";

/* A version whose `-- migrate:env` excludes the environment: recorded, never run. */
static const char ledger_insert_skipped[] =
	"INSERT INTO schema_migrations (module, version, name, checksum, duration_ms, skipped)"
	" VALUES ($1, $2, $3, $4, 0, true)";

/* module, version, name, checksum, rendered checksum; duration measured by the server
 * inside the same transaction, from its start to this insert */
static const char ledger_insert[] =
	"INSERT INTO schema_migrations (module, version, name, checksum, rendered_checksum,"
	" duration_ms) VALUES ($1, $2, $3, $4, $5,"
	" (extract(epoch FROM clock_timestamp() - now()) * 1000)::bigint)";

static const char ledger_delete[] =
	"DELETE FROM schema_migrations WHERE module = $1 AND version = $2";

/* A repeatable migration's row: module, name, checksum, rendered checksum. */
static const char ledger_repeatable[] =
	"INSERT INTO schema_migrations_repeatable"
	" (module, name, checksum, rendered_checksum, failed_checksum, applied_at, duration_ms)"
	" VALUES ($1, $2, $3, $4, '', now(),"
	" (extract(epoch FROM clock_timestamp() - now()) * 1000)::bigint)"
	" ON CONFLICT (module, name) DO UPDATE SET checksum = EXCLUDED.checksum,"
	" rendered_checksum = EXCLUDED.rendered_checksum, failed_checksum = '',"
	" applied_at = EXCLUDED.applied_at, duration_ms = EXCLUDED.duration_ms";

/* A seed file's row (seed --data): module, name, checksum, rendered checksum. */
static const char ledger_seed[] =
	"INSERT INTO schema_migrations_seeds"
	" (module, name, checksum, rendered_checksum, applied_at, duration_ms)"
	" VALUES ($1, $2, $3, $4, now(),"
	" (extract(epoch FROM clock_timestamp() - now()) * 1000)::bigint)"
	" ON CONFLICT (module, name) DO UPDATE SET checksum = EXCLUDED.checksum,"
	" rendered_checksum = EXCLUDED.rendered_checksum,"
	" applied_at = EXCLUDED.applied_at, duration_ms = EXCLUDED.duration_ms";

/* After a repeatable failed (and rolled back): module, name, the failed file's checksum. */
static const char ledger_repeatable_failed[] =
	"INSERT INTO schema_migrations_repeatable (module, name, failed_checksum)"
	" VALUES ($1, $2, $3)"
	" ON CONFLICT (module, name) DO UPDATE SET failed_checksum = EXCLUDED.failed_checksum";

/* A down step of module: what its repeatables created may have gone with it, so they
 * apply again at the next up (their rows stay, with no checksum). */
static const char repeatables_forget[] =
	"UPDATE schema_migrations_repeatable SET checksum = '', rendered_checksum = ''"
	" WHERE module = $1";

static const char repeatable_select[] =
	"SELECT module, name, checksum, rendered_checksum, failed_checksum"
	" FROM schema_migrations_repeatable ORDER BY module COLLATE \"C\", name COLLATE \"C\"";

/* The ledger change each transactional migration ends with, prepared on its first use
 * in a session (pg_cmd.h), as the tracking commands are and under the same rule. */
enum { LEDGER_INSERT, LEDGER_DELETE, LEDGER_REPEATABLE, LEDGER_SEED };
static const struct {
	const char *name, *sql;
	int nparams;
} ledger_cmds[] = {
	[LEDGER_INSERT] = {"migrate_ledger_insert", ledger_insert, 5},
	[LEDGER_DELETE] = {"migrate_ledger_delete", ledger_delete, 2},
	[LEDGER_REPEATABLE] = {"migrate_ledger_repeatable", ledger_repeatable, 4},
	[LEDGER_SEED] = {"migrate_ledger_seed", ledger_seed, 4},
};

static const char ledger_mark_dirty[] =
	"INSERT INTO schema_migrations (module, version, name, checksum, rendered_checksum, dirty)"
	" VALUES ($1, $2, $3, $4, $5, true)"
	" ON CONFLICT (module, version) DO UPDATE SET dirty = true";

static const char ledger_mark_clean[] =
	"UPDATE schema_migrations SET dirty = false, applied_at = now(), duration_ms = $3"
	" WHERE module = $1 AND version = $2";

static const char ledger_resolve_applied[] =
	"INSERT INTO schema_migrations (module, version, name, checksum)"
	" VALUES ($1, $2, $3, $4)"
	" ON CONFLICT (module, version) DO UPDATE SET dirty = false, skipped = false";

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

static int conn_error(pg_conn *pc, const char *what, mig_error *err)
{
	char msg[512];
	mig_pg_first_line(msg, sizeof msg, PQerrorMessage(pc->conn));
	return mig_error_set(err, MIG_EFAIL, "%s: %s", what, msg);
}

static int result_error(const PGresult *res, const char *what, mig_error *err)
{
	char msg[512];
	const char *primary = PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY);
	const char *state = PQresultErrorField(res, PG_DIAG_SQLSTATE);
	mig_pg_first_line(msg, sizeof msg, primary ? primary : PQresultErrorMessage(res));
	if (state)
		return mig_error_set(err, MIG_EFAIL, "%s: %s (SQLSTATE %s)", what, msg, state);
	return mig_error_set(err, MIG_EFAIL, "%s: %s", what, msg);
}

/* MIG_OK when res is a command's or query's success, else MIG_EFAIL naming what;
 * clears res either way. */
static int command_result(pg_conn *pc, PGresult *res, const char *what, mig_error *err)
{
	int status = PQresultStatus(res);
	int rc = MIG_OK;
	if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK)
		rc = res ? result_error(res, what, err) : conn_error(pc, what, err);
	PQclear(res);
	return rc;
}

/* Runs parameterless commands (several, separated by ';', in one round trip). */
static int exec_simple(pg_conn *pc, const char *sql, const char *what, mig_error *err)
{
	return command_result(pc, PQexec(pc->conn, sql), what, err);
}

/* Runs one command with text parameters. */
static int exec_params(pg_conn *pc, const char *sql, int n, const char *const *values,
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

static void free_conn(pg_conn *pc)
{
	PQclear(pc->ledger_ahead);
	PQclear(pc->repeatables_ahead);
	PQfinish(pc->conn);
	mig_pg_track_clear(&pc->track);
	free(pc);
}

static int pg_connect(void **out, const mig_sql_config *cfg, mig_error *err)
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
	pg_conn *pc = calloc(1, sizeof *pc);
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
		rc = conn_error(pc, "cannot connect to PostgreSQL", err);
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

/* Fills the object tracking's SQL for this session's schema, once. */
static int track_ready(pg_conn *pc, mig_error *err)
{
	if (pc->track_ready)
		return MIG_OK;
	int rc = mig_pg_track_init(&pc->track, pc->cfg->schema, err);
	pc->track_ready = rc == MIG_OK;
	return rc;
}

static int release_lock(void *conn, mig_error *err)
{
	pg_conn *pc = conn;
	if (!pc->locked)
		return MIG_OK;
	pc->locked = false;
	if (pc->cfg->lock_mode == MIG_LOCK_TABLE) {
		mig_pg_keeper_stop(pc->keeper);
		pc->keeper = NULL;
		const char *params[] = {pc->holder};
		return exec_params(pc, lease_release, 1, params, "cannot release the lock", err);
	}
	char sql[64];
	snprintf(sql, sizeof sql, "SELECT pg_advisory_unlock(%s)", pc->lock_key);
	return exec_simple(pc, sql, "cannot release the lock", err);
}

static void pg_disconnect(void *conn)
{
	pg_conn *pc = conn;
	if (!pc)
		return;
	/* closing the session releases an advisory lock by itself; the leased row must go */
	if (pc->locked && pc->cfg->lock_mode == MIG_LOCK_TABLE && PQstatus(pc->conn) == CONNECTION_OK)
		release_lock(pc, NULL);
	mig_pg_keeper_stop(pc->keeper);
	free_conn(pc);
}

/* Names who holds the advisory lock ("PID 123"), or "" when unknown. */
static void advisory_holder(pg_conn *pc, char *out, size_t size)
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
static void lease_holder(pg_conn *pc, char *out, size_t size)
{
	PGresult *res = PQexec(pc->conn, lease_holder_sql);
	out[0] = '\0';
	if (PQresultStatus(res) == PGRES_TUPLES_OK && PQntuples(res) == 1)
		snprintf(out, size, "PID %s on %s, lease until %s", PQgetvalue(res, 0, 0),
			 PQgetvalue(res, 0, 1), PQgetvalue(res, 0, 2));
	PQclear(res);
}

/* One attempt at the advisory lock. */
static int try_advisory(pg_conn *pc, bool *got, mig_error *err)
{
	char sql[64];
	snprintf(sql, sizeof sql, "SELECT pg_try_advisory_lock(%s)", pc->lock_key);
	PGresult *res = PQexec(pc->conn, sql);
	int rc = MIG_OK;
	if (PQresultStatus(res) != PGRES_TUPLES_OK)
		rc = res ? result_error(res, "cannot take the migration lock", err)
			 : conn_error(pc, "cannot take the migration lock", err);
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
static int try_advisory_reading_ahead(pg_conn *pc, bool *got, mig_error *err)
{
	char sql[64];
	snprintf(sql, sizeof sql, "SELECT pg_try_advisory_lock(%s)", pc->lock_key);
	if (!PQenterPipelineMode(pc->conn))
		return try_advisory(pc, got, err);
	/* and the repeatables' ledger when the tree has repeatables: still one round trip */
	bool reps = pc->cfg->read_repeatables;
	bool sent = PQsendQueryParams(pc->conn, sql, 0, NULL, NULL, NULL, NULL, 0) &&
		    PQpipelineSync(pc->conn) &&
		    PQsendQueryParams(pc->conn, ledger_select, 0, NULL, NULL, NULL, NULL, 0) &&
		    PQpipelineSync(pc->conn) &&
		    (!reps ||
		     (PQsendQueryParams(pc->conn, repeatable_select, 0, NULL, NULL, NULL, NULL, 0) &&
		      PQpipelineSync(pc->conn)));
	PGresult *lock = sent ? pipeline_take(pc->conn) : NULL;
	PGresult *ledger = sent ? pipeline_take(pc->conn) : NULL;
	PGresult *repeatables = sent && reps ? pipeline_take(pc->conn) : NULL;
	int rc = MIG_OK;
	if (!PQexitPipelineMode(pc->conn) || PQresultStatus(lock) != PGRES_TUPLES_OK) {
		rc = lock && PQresultStatus(lock) == PGRES_FATAL_ERROR
			     ? result_error(lock, "cannot take the migration lock", err)
			     : conn_error(pc, "cannot take the migration lock", err);
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
static int try_lease(pg_conn *pc, bool *got, mig_error *err)
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
			create_schema(pc, NULL); /* racing creators retry too */
			PGresult *ddl = PQexec(pc->conn, lease_ddl);
			PQclear(ddl);
			*got = false;
		} else {
			rc = res ? result_error(res, "cannot take the migration lock", err)
				 : conn_error(pc, "cannot take the migration lock", err);
		}
	}
	PQclear(res);
	return rc;
}

/* Polls for the lock (never a blocking wait, which would sit inside the server where it
 * can deadlock with CREATE INDEX CONCURRENTLY run by the holder), up to lock_wait. */
static int pg_lock(void *conn, mig_error *err)
{
	pg_conn *pc = conn;
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
				release_lock(pc, NULL);
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
static int renew_lease(pg_conn *pc, mig_error *err)
{
	if (pc->cfg->lock_mode != MIG_LOCK_TABLE || !pc->locked)
		return MIG_OK;
	return mig_pg_keeper_check(pc->keeper, err);
}

/* A schema target's schema, created when missing (its name was validated at connect). */
static int create_schema(pg_conn *pc, mig_error *err)
{
	if (!pc->cfg->schema)
		return MIG_OK;
	char sql[128];
	snprintf(sql, sizeof sql, "CREATE SCHEMA IF NOT EXISTS \"%s\"", pc->cfg->schema);
	return exec_simple(pc, sql, "cannot create the target's schema", err);
}

static int pg_ledger_prepare(void *conn, mig_error *err)
{
	int rc = create_schema(conn, err);
	if (rc < 0)
		return rc;
	return exec_simple(conn, ledger_ddl, "cannot create schema_migrations", err);
}

static int pg_targets_read(void *conn, const char *query, char ***cells, size_t *nrows,
			   size_t *ncols, mig_error *err)
{
	return mig_pg_targets_read(((pg_conn *)conn)->conn, query, cells, nrows, ncols, err);
}

static int pg_ledger_read(void *conn, mig_ledger *ledger, mig_error *err)
{
	pg_conn *pc = conn;
	memset(ledger, 0, sizeof *ledger);
	PGresult *res = pc->ledger_ahead ? pc->ledger_ahead : PQexec(pc->conn, ledger_select);
	pc->ledger_ahead = NULL;
	const char *undefined = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
	if (undefined && !strcmp(undefined, "42703")) { /* undefined_column: an older ledger */
		PQclear(res);
		res = PQexec(pc->conn, ledger_select_legacy);
	}
	if (PQresultStatus(res) != PGRES_TUPLES_OK) {
		const char *state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
		int rc = MIG_OK;
		if (state && !strcmp(state, "42P01")) /* undefined_table: never migrated */
			rc = MIG_OK;
		else
			rc = res ? result_error(res, "cannot read schema_migrations", err)
				 : conn_error(pc, "cannot read schema_migrations", err);
		PQclear(res);
		return rc;
	}
	int n = PQntuples(res);
	ledger->exists = true;
	/* with no rows we cannot tell; preparing again costs nothing but a round trip */
	ledger->complete = n > 0 && PQgetvalue(res, 0, 5)[0] == 't';
	ledger->rows = calloc(n ? (size_t)n : 1, sizeof *ledger->rows);
	if (!ledger->rows) {
		PQclear(res);
		return mig_error_set(err, MIG_EFAIL, "out of memory");
	}
	for (int i = 0; i < n; i++) {
		mig_applied *row = &ledger->rows[ledger->nrows++];
		row->module = strdup(PQgetvalue(res, i, 0));
		row->version = strtoll(PQgetvalue(res, i, 1), NULL, 10);
		row->name = strdup(PQgetvalue(res, i, 2));
		snprintf(row->checksum, sizeof row->checksum, "%s", PQgetvalue(res, i, 3));
		row->dirty = PQgetvalue(res, i, 4)[0] == 't';
		row->skipped = PQgetvalue(res, i, 6)[0] == 't';
		snprintf(row->rendered, sizeof row->rendered, "%s", PQgetvalue(res, i, 7));
		if (!row->module || !row->name) {
			PQclear(res);
			mig_ledger_clear(ledger);
			return mig_error_set(err, MIG_EFAIL, "out of memory");
		}
	}
	PQclear(res);
	return MIG_OK;
}

static int pg_ledger_head(void *conn, const char *module, mig_ledger_head *head,
			  mig_error *err)
{
	pg_conn *pc = conn;
	memset(head, 0, sizeof *head);
	const char *params[] = {module};
	PGresult *res = PQexecParams(pc->conn, ledger_head_select, 1, NULL, params, NULL, NULL, 0);
	if (PQresultStatus(res) != PGRES_TUPLES_OK) {
		const char *state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
		int rc = MIG_OK; /* undefined_table: never migrated */
		if (!state || strcmp(state, "42P01") != 0)
			rc = res ? result_error(res, "cannot read schema_migrations", err)
				 : conn_error(pc, "cannot read schema_migrations", err);
		PQclear(res);
		return rc;
	}
	head->exists = true;
	if (PQntuples(res) == 1) {
		if (!PQgetisnull(res, 0, 0))
			head->applied = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
		head->dirty = !PQgetisnull(res, 0, 1);
		if (head->dirty)
			head->dirty_version = strtoll(PQgetvalue(res, 0, 1), NULL, 10);
	}
	PQclear(res);
	return MIG_OK;
}

/* Fills err for a statement of step that failed with res. */
static int step_error(const mig_step *step, const char *stmt_text, const mig_sql_stmt *stmt,
		      const PGresult *res, mig_error *err)
{
	mig_pg_failure f = {
		.primary = PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY),
		.whole = PQresultErrorMessage(res),
		.sqlstate = PQresultErrorField(res, PG_DIAG_SQLSTATE),
		.detail = PQresultErrorField(res, PG_DIAG_MESSAGE_DETAIL),
		.position = PQresultErrorField(res, PG_DIAG_STATEMENT_POSITION),
	};
	return mig_pg_step_error(step, stmt_text, stmt, &f, err);
}

/* The statements of a step's file as NUL-terminated strings inside *text (caller frees
 * both). */
static int split_text(const char *sql, size_t len, char **text, mig_sql_stmt **stmts,
		      size_t *n, mig_error *err)
{
	*text = malloc(len + 1);
	if (!*text)
		return mig_error_set(err, MIG_EFAIL, "out of memory");
	memcpy(*text, sql, len);
	(*text)[len] = '\0';
	if (mig_sql_split(stmts, n, sql, len) < 0) {
		free(*text);
		*text = NULL;
		return mig_error_set(err, MIG_EFAIL, "out of memory");
	}
	/* end each statement at its ';' (only the last may lack one, and it ends the text);
	 * a dropped ';' changes nothing for the server */
	for (size_t i = 0; i < *n; i++) {
		mig_sql_stmt *s = &(*stmts)[i];
		size_t end = s->offset + s->length;
		if (s->length && (*text)[end - 1] == ';')
			(*text)[end - 1] = '\0';
	}
	return MIG_OK;
}

static int split_step(const mig_step *step, char **text, mig_sql_stmt **stmts, size_t *n,
		      mig_error *err)
{
	return split_text(step->sql, step->sql_len, text, stmts, n, err);
}

/* A hook file split into statements, as split_step splits a migration. */
typedef struct split_hook {
	char *text;
	mig_sql_stmt *stmts;
	size_t n;
} split_hook;

/* The error of hook statement j failing with res, named after the hook's file. */
static int hook_step_error(const mig_step *step, const mig_hook *hook, const split_hook *h,
			   size_t j, const PGresult *res, mig_error *err)
{
	mig_step hs = *step;
	hs.path = hook->path;
	hs.sql = hook->sql;
	hs.sql_len = hook->len;
	return step_error(&hs, h->text + h->stmts[j].offset, &h->stmts[j], res, err);
}

static void timeout_statements(const mig_sql_config *cfg, bool local, char *lock, char *stmt,
			       size_t size)
{
	const char *scope = local ? "SET LOCAL" : "SET";
	lock[0] = stmt[0] = '\0';
	if (cfg->lock_timeout_ms >= 0)
		snprintf(lock, size, "%s lock_timeout = %lld", scope, cfg->lock_timeout_ms);
	if (cfg->statement_timeout_ms >= 0)
		snprintf(stmt, size, "%s statement_timeout = %lld", scope, cfg->statement_timeout_ms);
}

/* The single value a one-row query returns, as a new string. */
static int query_text(pg_conn *pc, const char *sql, char **out, mig_error *err)
{
	*out = NULL;
	PGresult *res = PQexec(pc->conn, sql);
	int rc = MIG_OK;
	if (PQresultStatus(res) != PGRES_TUPLES_OK || PQntuples(res) != 1)
		rc = res ? result_error(res, "cannot read the catalog", err)
			 : conn_error(pc, "cannot read the catalog", err);
	else if (!(*out = strdup(PQgetvalue(res, 0, 0))))
		rc = mig_error_set(err, MIG_EFAIL, "out of memory");
	PQclear(res);
	return rc;
}

/* After a file that may DEALLOCATE or DISCARD (mig_pg_track_step.forgets_prepared),
 * which of the session's prepared statements remain is unknown: drop them all, so that
 * the next migration prepares afresh. DISCARD ALL also releases advisory locks: the
 * migration lock is taken again unless still held, and the run stops if another
 * migrator took it in between. */
static int forget_prepared(pg_conn *pc, mig_error *err)
{
	int rc = exec_simple(pc, "DEALLOCATE ALL", "cannot drop the prepared statements", err);
	if (rc < 0)
		return rc;
	pc->track.prepared = pc->ledger_prepared = 0;
	if (!pc->locked || pc->cfg->lock_mode != MIG_LOCK_ADVISORY)
		return MIG_OK;
	char sql[384];
	snprintf(sql, sizeof sql,
		 "SELECT CASE WHEN EXISTS (SELECT 1 FROM pg_locks WHERE locktype = 'advisory'"
		 " AND pid = pg_backend_pid() AND granted"
		 " AND ((classid::bigint << 32) | objid::bigint) = %s)"
		 " THEN true ELSE pg_try_advisory_lock(%s) END",
		 pc->lock_key, pc->lock_key);
	char *held = NULL;
	if ((rc = query_text(pc, sql, &held, err)) < 0)
		return rc;
	if (held[0] != 't')
		rc = mig_error_set(err, MIG_EFAIL,
				   "a migration released the migration lock (DISCARD ALL) and another "
				   "migrator holds it now; stopping");
	free(held);
	return rc;
}

/* What a pipelined command was, for reading its result: the index of a file statement
 * (else -1), and for a prepare the session's set of prepared statements and its bit
 * there, marked when the server accepts it. */
typedef struct sent_cmd {
	long stmt;
	unsigned *prepared;
	int id;
} sent_cmd;

/* Sends BEGIN, the timeouts, every statement, the ledger change and COMMIT as one
 * pipeline and reads the results: one round trip for the whole migration. */
static int apply_in_transaction(pg_conn *pc, const mig_step *step, char *text,
				const mig_sql_stmt *stmts, size_t n, const split_hook *hook,
				mig_error *err)
{
	char version[24], lock_sql[64], stmt_sql[64];
	snprintf(version, sizeof version, "%lld", step->version);
	const char *params[] = {step->module, version, step->name,
				step->checksum ? step->checksum : "",
				step->rendered_checksum ? step->rendered_checksum : ""};
	timeout_statements(pc->cfg, true, lock_sql, stmt_sql, sizeof lock_sql);

	const char *rparams[] = {step->module, step->name, params[3], params[4]};
	mig_pg_track_step ts;
	int rc = mig_pg_track_scan(&ts, step, text, stmts, n, err);
	if (rc < 0)
		return rc;
	/* re-run at will: what it creates belongs to no version */
	if (step->repeatable || step->seed)
		ts.creates = ts.drops = false;
	if ((rc = mig_pg_track_begin(&pc->track, pc->conn, &ts, err)) < 0) {
		mig_pg_track_step_clear(&ts);
		return rc;
	}
	/* the file's statements and the framing: BEGIN, two timeouts, synchronous_commit,
	 * two resets, the ledger change (and its prepare), COMMIT */
	size_t total = n + (hook ? hook->n : 0) + 9 + 2 * MIG_PG_TRACK_MAX_CMDS;
	sent_cmd *role = malloc(total * sizeof *role);
	if (!role) {
		mig_pg_track_step_clear(&ts);
		return mig_error_set(err, MIG_EFAIL, "out of memory");
	}
	size_t sent = 0;
	if (!PQenterPipelineMode(pc->conn)) {
		free(role);
		mig_pg_track_step_clear(&ts);
		return conn_error(pc, "cannot enter pipeline mode", err);
	}
	/* Prepared statements outlive the session's transactions, but not behind
	 * PgBouncer (lock: table), whose transaction pooling does not keep them, nor a
	 * file that may drop them: its commands go unprepared (then forget_prepared). */
	bool forgets = ts.forgets_prepared;
	bool may_prepare = pc->cfg->lock_mode == MIG_LOCK_ADVISORY && !forgets;
	mig_pg_cmd cmds[MIG_PG_TRACK_MAX_CMDS];
	size_t ncmds;
#define SEND(sql, np, vals, r)                                                                \
	do {                                                                                  \
		if (!PQsendQueryParams(pc->conn, (sql), (np), NULL, (vals), NULL, NULL, 0)) { \
			rc = conn_error(pc, "cannot send migration", err);                    \
			goto drain;                                                           \
		}                                                                             \
		role[sent++] = (sent_cmd){.stmt = (r)};                                       \
	} while (0)
#define SEND_CMDS()                                                                           \
	do {                                                                                  \
		for (size_t t = 0; t < ncmds; t++) {                                          \
			const mig_pg_cmd *c = &cmds[t];                                       \
			int ok = c->prepare ? PQsendPrepare(pc->conn, c->name, c->sql,       \
							    c->nparams, NULL)                 \
				 : c->name ? PQsendQueryPrepared(pc->conn, c->name, c->nparams, \
								 c->params, NULL, NULL, 0)    \
					   : PQsendQueryParams(pc->conn, c->sql, c->nparams,  \
							       NULL, c->params, NULL, NULL, 0); \
			if (!ok) {                                                            \
				rc = conn_error(pc, "cannot send migration", err);            \
				goto drain;                                                   \
			}                                                                     \
			role[sent++] = (sent_cmd){.stmt = -1,                                 \
						  .prepared = c->prepare ? c->prepared : NULL,\
						  .id = c->id};                               \
		}                                                                             \
	} while (0)
	SEND("BEGIN", 0, NULL, -1);
	if (lock_sql[0])
		SEND(lock_sql, 0, NULL, -1);
	if (stmt_sql[0])
		SEND(stmt_sql, 0, NULL, -1);
	/* Group commit: every commit of a run but the last skips the wait for the disk;
	 * the last one's flush makes them all durable. A crash in between loses whole
	 * migrations with their ledger rows, never half of one. */
	if (!step->last)
		SEND("SET LOCAL synchronous_commit = off", 0, NULL, -1);
	ncmds = mig_pg_track_before(cmds, &pc->track, &ts, may_prepare);
	SEND_CMDS();
	for (size_t i = 0; i < n; i++)
		SEND(text + stmts[i].offset, 0, NULL, (long)i);
	/* postgres.hooks.after_each, in the same transaction: its statement j is -2 - j */
	for (size_t j = 0; hook && j < hook->n; j++)
		SEND(hook->text + hook->stmts[j].offset, 0, NULL, -2 - (long)j);
	/* the ledger's commands find their tables whatever the file set; the next file
	 * starts from the connection's search_path and role too */
	SEND(reset_search_path, 0, NULL, -1);
	SEND(reset_role, 0, NULL, -1);
	ncmds = mig_pg_track_after(cmds, &pc->track, &ts, NULL, may_prepare);
	SEND_CMDS();
	int lc = step->seed	      ? LEDGER_SEED
		 : step->repeatable ? LEDGER_REPEATABLE
		 : step->up	      ? LEDGER_INSERT
				      : LEDGER_DELETE;
	ncmds = mig_pg_fixed(cmds, 0, &pc->ledger_prepared, lc, ledger_cmds[lc].name,
			     ledger_cmds[lc].sql, ledger_cmds[lc].nparams,
			     step->repeatable || step->seed ? rparams : params, may_prepare);
	SEND_CMDS();
	if (!step->up)
		SEND(repeatables_forget, 1, params, -1);
	SEND("COMMIT", 0, NULL, -1);
#undef SEND
#undef SEND_CMDS
drain:
	if (PQpipelineSync(pc->conn) != 1 && rc == MIG_OK)
		rc = conn_error(pc, "cannot send migration", err);
	/* read one result set per command sent, then the sync point */
	for (size_t i = 0; i < sent; i++) {
		PGresult *res;
		while ((res = PQgetResult(pc->conn)) != NULL) {
			int status = PQresultStatus(res);
			if (role[i].prepared && status == PGRES_COMMAND_OK)
				*role[i].prepared |= 1u << role[i].id;
			if (status == PGRES_FATAL_ERROR && rc == MIG_OK && role[i].stmt <= -2 && hook) {
				rc = hook_step_error(step, step->after_each, hook,
						     (size_t)(-2 - role[i].stmt), res, err);
			} else if (status == PGRES_FATAL_ERROR && rc == MIG_OK) {
				const mig_sql_stmt *s = role[i].stmt >= 0 ? &stmts[role[i].stmt] : NULL;
				rc = step_error(step, s ? text + s->offset : NULL, s, res, err);
			}
			PQclear(res);
		}
	}
	PGresult *res;
	while ((res = PQgetResult(pc->conn)) != NULL) {
		bool sync = PQresultStatus(res) == PGRES_PIPELINE_SYNC;
		PQclear(res);
		if (sync)
			break;
	}
	free(role);
	mig_pg_track_step_clear(&ts);
	if (!PQexitPipelineMode(pc->conn) && rc == MIG_OK)
		rc = conn_error(pc, "cannot leave pipeline mode", err);
	/* an error inside BEGIN leaves the transaction aborted until we end it */
	if (PQtransactionStatus(pc->conn) != PQTRANS_IDLE) {
		PGresult *rb = PQexec(pc->conn, "ROLLBACK");
		PQclear(rb);
	}
	if (forgets && rc == MIG_OK)
		rc = forget_prepared(pc, err);
	return rc;
}

static int run_statements(pg_conn *pc, const mig_step *step, char *text,
			  const mig_sql_stmt *stmts, size_t n, mig_error *err);

/* Runs each statement on its own (so CREATE INDEX CONCURRENTLY works), between a dirty
 * mark and its clearing: a crash halfway leaves the module visibly dirty. */
static int apply_outside_transaction(pg_conn *pc, const mig_step *step, char *text,
				     const mig_sql_stmt *stmts, size_t n, const split_hook *hook,
				     mig_error *err)
{
	char version[24], duration[24], lock_sql[64], stmt_sql[64];
	snprintf(version, sizeof version, "%lld", step->version);
	const char *params[] = {step->module, version, step->name,
				step->checksum ? step->checksum : "",
				step->rendered_checksum ? step->rendered_checksum : ""};
	int rc = exec_params(pc, ledger_mark_dirty, 5, params, "cannot mark the migration dirty",
			     err);
	if (rc < 0)
		return rc;
	timeout_statements(pc->cfg, false, lock_sql, stmt_sql, sizeof lock_sql);
	/* behind a transaction-pooling PgBouncer (lock: table) a session SET would stay on a
	 * server connection other clients get: no-transaction files run without timeouts */
	if (pc->cfg->lock_mode == MIG_LOCK_TABLE)
		lock_sql[0] = stmt_sql[0] = '\0';
	if ((lock_sql[0] && (rc = exec_simple(pc, lock_sql, "cannot set lock_timeout", err)) < 0) ||
	    (stmt_sql[0] &&
	     (rc = exec_simple(pc, stmt_sql, "cannot set statement_timeout", err)) < 0))
		return rc;
	char *watermark = NULL;
	mig_pg_track_step ts;
	if ((rc = mig_pg_track_scan(&ts, step, text, stmts, n, err)) < 0)
		return rc;
	if ((rc = mig_pg_track_begin(&pc->track, pc->conn, &ts, err)) < 0 ||
	    (ts.creates && (rc = query_text(pc, mig_pg_track_watermark_sql, &watermark, err)) < 0)) {
		mig_pg_track_step_clear(&ts);
		return rc;
	}
	long long started = mig_now_ms();
	rc = run_statements(pc, step, text, stmts, n, err);
	if (rc == MIG_OK && hook) { /* after_each: after the last statement, before the row */
		mig_step hs = *step;
		hs.path = step->after_each->path;
		hs.sql = step->after_each->sql;
		hs.sql_len = step->after_each->len;
		rc = run_statements(pc, &hs, hook->text, hook->stmts, hook->n, err);
	}
	/* what the file SET (search_path, role) and the timeouts end before the ledger's
	 * statements, as inside a transaction */
	char reset[128];
	snprintf(reset, sizeof reset, "%s; %s%s%s", reset_search_path, reset_role,
		 lock_sql[0] ? "; RESET lock_timeout" : "", stmt_sql[0] ? "; RESET statement_timeout" : "");
	if (rc == MIG_OK)
		rc = exec_simple(pc, reset, "cannot reset the session", err);
	if (rc == MIG_OK && ts.forgets_prepared)
		rc = forget_prepared(pc, err);
	if (rc == MIG_OK) {
		mig_pg_cmd track[MIG_PG_TRACK_MAX_CMDS];
		size_t ntrack = mig_pg_track_after(track, &pc->track, &ts,
						   watermark ? watermark : "0", false);
		for (size_t i = 0; i < ntrack && rc == MIG_OK; i++)
			rc = exec_params(pc, track[i].sql, track[i].nparams, track[i].params,
					 "cannot record created and dropped objects", err);
	}
	free(watermark);
	mig_pg_track_step_clear(&ts);
	if (rc < 0)
		return rc;
	if (!step->up) {
		rc = exec_params(pc, ledger_delete, 2, params, "cannot delete the ledger row", err);
		if (rc == MIG_OK)
			rc = exec_params(pc, repeatables_forget, 1, params,
					 "cannot mark the module's repeatables", err);
		return rc;
	}
	snprintf(duration, sizeof duration, "%lld", mig_now_ms() - started);
	const char *clean[] = {step->module, version, duration};
	return exec_params(pc, ledger_mark_clean, 3, clean, "cannot clear the dirty mark", err);
}

/* Runs the statements of a no-transaction file one by one; a failure leaves the module
 * dirty and says how to get out. */
static int run_statements(pg_conn *pc, const mig_step *step, char *text,
			  const mig_sql_stmt *stmts, size_t n, mig_error *err)
{
	int rc = MIG_OK;
	for (size_t i = 0; i < n; i++) {
		PGresult *res = PQexecParams(pc->conn, text + stmts[i].offset, 0, NULL, NULL, NULL,
					     NULL, 0);
		int status = PQresultStatus(res);
		if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK &&
		    status != PGRES_EMPTY_QUERY) {
			rc = res ? step_error(step, text + stmts[i].offset, &stmts[i], res, err)
				 : conn_error(pc, "connection lost", err);
			PQclear(res);
			if (err) {
				/* append the way out; a long server message is cut, not the advice */
				char advice[384];
				snprintf(advice, sizeof advice,
					 "; module '%s' is now dirty: repair by hand, then run 'migrate resolve --module %s --version %lld --applied|--rolled-back'",
					 step->module, step->module, step->version);
				size_t keep = sizeof err->message - strlen(advice) - 1;
				if (strlen(err->message) > keep)
					err->message[keep] = '\0';
				strcat(err->message, advice);
			}
			return rc;
		}
		PQclear(res);
	}
	return MIG_OK;
}

static int pg_apply(void *conn, const mig_step *step, mig_error *err)
{
	pg_conn *pc = conn;
	char *text;
	mig_sql_stmt *stmts;
	size_t n;
	int rc = renew_lease(pc, err);
	if (rc < 0)
		return rc;
	if (step->skip) { /* recorded (or its record removed), its SQL never run */
		char v[24];
		snprintf(v, sizeof v, "%lld", step->version);
		const char *params[] = {step->module, v, step->name,
					step->checksum ? step->checksum : ""};
		return step->up ? exec_params(pc, ledger_insert_skipped, 4, params,
					      "cannot record the skipped migration", err)
				: exec_params(pc, ledger_delete, 2, params,
					      "cannot delete the ledger row", err);
	}
	if ((rc = track_ready(pc, err)) < 0)
		return rc;
	rc = split_step(step, &text, &stmts, &n, err);
	if (rc < 0)
		return rc;
	split_hook hook = {0};
	if (step->after_each && step->after_each->sql &&
	    (rc = split_text(step->after_each->sql, step->after_each->len, &hook.text, &hook.stmts,
			     &hook.n, err)) < 0) {
		free(stmts);
		free(text);
		return rc;
	}
	const split_hook *h = step->after_each && step->after_each->sql ? &hook : NULL;
	if (step->in_transaction || step->repeatable || step->seed)
		rc = apply_in_transaction(pc, step, text, stmts, n, h, err);
	else
		rc = apply_outside_transaction(pc, step, text, stmts, n, h, err);
	free(hook.stmts);
	free(hook.text);
	free(stmts);
	free(text);
	/* a lost lease cancels the running statement: say why it stopped */
	if (rc < 0 && renew_lease(pc, err) < 0)
		return MIG_EFAIL;
	if (rc < 0 && step->repeatable && PQstatus(pc->conn) == CONNECTION_OK) {
		/* for verify: this file failed (its transaction left nothing else) */
		const char *fparams[] = {step->module, step->name,
					 step->checksum ? step->checksum : ""};
		mig_error ignored = {0};
		exec_params(pc, ledger_repeatable_failed, 3, fparams, "", &ignored);
	}
	return rc;
}

static int pg_repeatables_read(void *conn, mig_repeatable_ledger *out, mig_error *err)
{
	pg_conn *pc = conn;
	memset(out, 0, sizeof *out);
	PGresult *res = pc->repeatables_ahead ? pc->repeatables_ahead
					      : PQexec(pc->conn, repeatable_select);
	pc->repeatables_ahead = NULL;
	if (PQresultStatus(res) != PGRES_TUPLES_OK) {
		const char *state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
		int rc = state && !strcmp(state, "42P01") /* never created: nothing applied */
				 ? MIG_OK
			 : res ? result_error(res, "cannot read schema_migrations_repeatable", err)
			       : conn_error(pc, "cannot read schema_migrations_repeatable", err);
		PQclear(res);
		return rc;
	}
	int rc = mig_pg_repeatable_rows(res, out, err);
	PQclear(res);
	return rc;
}

/* before_up / after_up: BEGIN, the timeouts, the hook's statements, COMMIT; the session
 * then starts from its own search_path and role again, as after a migration. */
static int pg_run_hook(void *conn, const mig_hook *hook, mig_error *err)
{
	pg_conn *pc = conn;
	if (!hook->sql)
		return MIG_OK;
	int rc = renew_lease(pc, err);
	if (rc < 0)
		return rc;
	split_hook h = {0};
	if ((rc = split_text(hook->sql, hook->len, &h.text, &h.stmts, &h.n, err)) < 0)
		return rc;
	char lock_sql[64], stmt_sql[64];
	timeout_statements(pc->cfg, true, lock_sql, stmt_sql, sizeof lock_sql);
	rc = exec_simple(pc, "BEGIN", "cannot begin the hook's transaction", err);
	if (rc == MIG_OK && lock_sql[0])
		rc = exec_simple(pc, lock_sql, "cannot set lock_timeout", err);
	if (rc == MIG_OK && stmt_sql[0])
		rc = exec_simple(pc, stmt_sql, "cannot set statement_timeout", err);
	mig_step pseudo = {.module = hook->name, .up = true};
	for (size_t j = 0; rc == MIG_OK && j < h.n; j++) {
		PGresult *res = PQexec(pc->conn, h.text + h.stmts[j].offset);
		int status = PQresultStatus(res);
		if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK &&
		    status != PGRES_EMPTY_QUERY) {
			if (!res) {
				rc = conn_error(pc, "connection lost", err);
			} else {
				rc = hook_step_error(&pseudo, hook, &h, j, res, err);
				/* "before_up/0 failed: ..." reads as "hook before_up failed: ..." */
				const char *rest = err ? strstr(err->message, " failed: ") : NULL;
				if (rest) {
					char msg[sizeof err->message];
					snprintf(msg, sizeof msg, "hook %s%s", hook->name, rest);
					snprintf(err->message, sizeof err->message, "%s", msg);
				}
			}
		}
		PQclear(res);
	}
	free(h.stmts);
	free(h.text);
	if (rc == MIG_OK)
		rc = exec_simple(pc, "COMMIT", "cannot commit the hook's transaction", err);
	if (PQtransactionStatus(pc->conn) != PQTRANS_IDLE) {
		PGresult *rb = PQexec(pc->conn, "ROLLBACK");
		PQclear(rb);
	}
	if (rc == MIG_OK) {
		char reset[64];
		snprintf(reset, sizeof reset, "%s; %s", reset_search_path, reset_role);
		rc = exec_simple(pc, reset, "cannot reset the session", err);
	}
	return rc;
}

static int pg_resolve(void *conn, const char *module, long long version, const char *name,
		      const char *checksum, bool applied, mig_error *err)
{
	char v[24];
	snprintf(v, sizeof v, "%lld", version);
	const char *params[] = {module, v, name ? name : "", checksum ? checksum : ""};
	if (applied)
		return exec_params(conn, ledger_resolve_applied, 4, params,
				   "cannot record the migration", err);
	return exec_params(conn, ledger_delete, 2, params, "cannot delete the ledger row", err);
}

static int pg_objects_missing(void *conn, mig_missing_object **out, size_t *count,
			      mig_error *err)
{
	pg_conn *pc = conn;
	int rc = track_ready(pc, err);
	return rc < 0 ? rc : mig_pg_track_missing(out, count, &pc->track, pc->conn, err);
}

static int pg_table_facts(void *conn, mig_table_fact *facts, size_t n, int *server_major,
			  mig_error *err)
{
	return mig_pg_table_facts(((pg_conn *)conn)->conn, facts, n, server_major, err);
}

static int pg_data_probe(void *conn, mig_data_probe *probes, size_t n, long long timeout_ms,
			 mig_error *err)
{
	return mig_pg_data_probe(((pg_conn *)conn)->conn, probes, n, timeout_ms, err);
}

static int pg_schema_snapshot(void *conn, mig_snapshot *out, mig_error *err)
{
	return mig_pg_lint_schema(((pg_conn *)conn)->conn, out, err);
}

static int pg_seeds_read(void *conn, mig_repeatable_ledger *out, mig_error *err)
{
	return mig_pg_seeds_read(((pg_conn *)conn)->conn, out, err);
}

static int pg_seed_reset(void *conn, const char *const *tables, size_t ntables,
			 const char *const *modules, const char *const *names, size_t nfiles,
			 mig_error *err)
{
	pg_conn *pc = conn;
	int rc = renew_lease(pc, err);
	if (rc < 0)
		return rc;
	return mig_pg_seed_reset(pc->conn, tables, ntables, modules, names, nfiles, err);
}

const mig_sql_driver mig_pg_driver = {
	.version = MIG_SQL_DRIVER_VERSION,
	.name = "postgres",
	.connect = pg_connect,
	.disconnect = pg_disconnect,
	.lock = pg_lock,
	.ledger_prepare = pg_ledger_prepare,
	.ledger_read = pg_ledger_read,
	.ledger_head = pg_ledger_head,
	.apply = pg_apply,
	.resolve = pg_resolve,
	.objects_missing = pg_objects_missing,
	.table_facts = pg_table_facts,
	.script = mig_pg_script,
	.targets_read = pg_targets_read,
	.run_hook = pg_run_hook,
	.repeatables_read = pg_repeatables_read,
	.data_probe = pg_data_probe,
	.schema_snapshot = pg_schema_snapshot,
	.seeds_read = pg_seeds_read,
	.seed_reset = pg_seed_reset,
};

const char *const mig_pg_ledger_ddl = ledger_ddl;
long long mig_pg_lock_key(const mig_sql_config *cfg)
{
	return cfg->schema ? mig_pg_schema_lock_key(LOCK_KEY, cfg->schema) : LOCK_KEY;
}

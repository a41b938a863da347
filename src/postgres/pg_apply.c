/* Running migration files, repeatables, seed files and hooks. A transactional file is
 * sent with its ledger row as one pipeline, one round trip, yet each statement is its
 * own protocol message so a failure names its exact statement; a no-transaction file runs
 * statement by statement between a dirty mark and its clearing. */
#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "postgres/pg_cmd.h"
#include "postgres/pg_conn.h"
#include "postgres/pg_error.h"
#include "postgres/pg_track.h"
#include "util/clock.h"
#include "util/sql_split.h"

/* What a migration file may have SET for the rest of the session, undone after it: the
 * ledger's statements are unqualified, and each file starts where the connection did
 * (the search_path of a schema target is the connection's). */
static const char reset_search_path[] = "RESET search_path";
static const char reset_role[] = "RESET ROLE";

/* The ledger change each transactional migration ends with, prepared on its first use
 * in a session (pg_cmd.h), as the tracking commands are and under the same rule. */
enum { LEDGER_INSERT, LEDGER_DELETE, LEDGER_REPEATABLE, LEDGER_SEED };
static const struct {
	const char *name, *sql;
	int nparams;
} ledger_cmds[] = {
	[LEDGER_INSERT] = {"migrate_ledger_insert", mig_pg_ledger_insert, 5},
	[LEDGER_DELETE] = {"migrate_ledger_delete", mig_pg_ledger_delete, 2},
	[LEDGER_REPEATABLE] = {"migrate_ledger_repeatable", mig_pg_ledger_repeatable, 4},
	[LEDGER_SEED] = {"migrate_ledger_seed", mig_pg_ledger_seed, 4},
};

/* Fills the object tracking's SQL for this session's schema, once. */
int mig_pg_track_ready(mig_pg_conn *pc, mig_error *err)
{
	if (pc->track_ready)
		return MIG_OK;
	int rc = mig_pg_track_init(&pc->track, pc->cfg->schema, err);
	pc->track_ready = rc == MIG_OK;
	return rc;
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
static int query_text(mig_pg_conn *pc, const char *sql, char **out, mig_error *err)
{
	*out = NULL;
	PGresult *res = PQexec(pc->conn, sql);
	int rc = MIG_OK;
	if (PQresultStatus(res) != PGRES_TUPLES_OK || PQntuples(res) != 1)
		rc = mig_pg_result_error(pc->conn, res, "cannot read the catalog", err);
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
static int forget_prepared(mig_pg_conn *pc, mig_error *err)
{
	int rc = mig_pg_exec_simple(pc, "DEALLOCATE ALL", "cannot drop the prepared statements",
				    err);
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
static int apply_in_transaction(mig_pg_conn *pc, const mig_step *step, char *text,
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
		return mig_pg_conn_error(pc, "cannot enter pipeline mode", err);
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
			rc = mig_pg_conn_error(pc, "cannot send migration", err);             \
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
				rc = mig_pg_conn_error(pc, "cannot send migration", err);     \
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
		SEND(mig_pg_repeatables_forget, 1, params, -1);
	SEND("COMMIT", 0, NULL, -1);
#undef SEND
#undef SEND_CMDS
drain:
	if (PQpipelineSync(pc->conn) != 1 && rc == MIG_OK)
		rc = mig_pg_conn_error(pc, "cannot send migration", err);
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
		rc = mig_pg_conn_error(pc, "cannot leave pipeline mode", err);
	/* an error inside BEGIN leaves the transaction aborted until we end it */
	if (PQtransactionStatus(pc->conn) != PQTRANS_IDLE) {
		PGresult *rb = PQexec(pc->conn, "ROLLBACK");
		PQclear(rb);
	}
	if (forgets && rc == MIG_OK)
		rc = forget_prepared(pc, err);
	return rc;
}

static int run_statements(mig_pg_conn *pc, const mig_step *step, char *text,
			  const mig_sql_stmt *stmts, size_t n, mig_error *err);

/* Runs each statement on its own (so CREATE INDEX CONCURRENTLY works), between a dirty
 * mark and its clearing: a crash halfway leaves the module visibly dirty. */
static int apply_outside_transaction(mig_pg_conn *pc, const mig_step *step, char *text,
				     const mig_sql_stmt *stmts, size_t n, const split_hook *hook,
				     mig_error *err)
{
	char version[24], duration[24], lock_sql[64], stmt_sql[64];
	snprintf(version, sizeof version, "%lld", step->version);
	const char *params[] = {step->module, version, step->name,
				step->checksum ? step->checksum : "",
				step->rendered_checksum ? step->rendered_checksum : ""};
	int rc = mig_pg_exec_params(pc, mig_pg_ledger_mark_dirty, 5, params,
				    "cannot mark the migration dirty", err);
	if (rc < 0)
		return rc;
	timeout_statements(pc->cfg, false, lock_sql, stmt_sql, sizeof lock_sql);
	/* behind a transaction-pooling PgBouncer (lock: table) a session SET would stay on a
	 * server connection other clients get: no-transaction files run without timeouts */
	if (pc->cfg->lock_mode == MIG_LOCK_TABLE)
		lock_sql[0] = stmt_sql[0] = '\0';
	if ((lock_sql[0] &&
	     (rc = mig_pg_exec_simple(pc, lock_sql, "cannot set lock_timeout", err)) < 0) ||
	    (stmt_sql[0] &&
	     (rc = mig_pg_exec_simple(pc, stmt_sql, "cannot set statement_timeout", err)) < 0))
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
		rc = mig_pg_exec_simple(pc, reset, "cannot reset the session", err);
	if (rc == MIG_OK && ts.forgets_prepared)
		rc = forget_prepared(pc, err);
	if (rc == MIG_OK) {
		mig_pg_cmd track[MIG_PG_TRACK_MAX_CMDS];
		size_t ntrack = mig_pg_track_after(track, &pc->track, &ts,
						   watermark ? watermark : "0", false);
		for (size_t i = 0; i < ntrack && rc == MIG_OK; i++)
			rc = mig_pg_exec_params(pc, track[i].sql, track[i].nparams, track[i].params,
						"cannot record created and dropped objects", err);
	}
	free(watermark);
	mig_pg_track_step_clear(&ts);
	if (rc < 0)
		return rc;
	if (!step->up) {
		rc = mig_pg_exec_params(pc, mig_pg_ledger_delete, 2, params,
					"cannot delete the ledger row", err);
		if (rc == MIG_OK)
			rc = mig_pg_exec_params(pc, mig_pg_repeatables_forget, 1, params,
						"cannot mark the module's repeatables", err);
		return rc;
	}
	snprintf(duration, sizeof duration, "%lld", mig_now_ms() - started);
	const char *clean[] = {step->module, version, duration};
	return mig_pg_exec_params(pc, mig_pg_ledger_mark_clean, 3, clean,
				  "cannot clear the dirty mark", err);
}

/* Runs the statements of a no-transaction file one by one; a failure leaves the module
 * dirty and says how to get out. */
static int run_statements(mig_pg_conn *pc, const mig_step *step, char *text,
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
				 : mig_pg_conn_error(pc, "connection lost", err);
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

int mig_pg_apply(void *conn, const mig_step *step, mig_error *err)
{
	mig_pg_conn *pc = conn;
	char *text;
	mig_sql_stmt *stmts;
	size_t n;
	int rc = mig_pg_renew_lease(pc, err);
	if (rc < 0)
		return rc;
	if (step->skip) { /* recorded (or its record removed), its SQL never run */
		char v[24];
		snprintf(v, sizeof v, "%lld", step->version);
		const char *params[] = {step->module, v, step->name,
					step->checksum ? step->checksum : ""};
		return step->up ? mig_pg_exec_params(pc, mig_pg_ledger_insert_skipped, 4, params,
						     "cannot record the skipped migration", err)
				: mig_pg_exec_params(pc, mig_pg_ledger_delete, 2, params,
						     "cannot delete the ledger row", err);
	}
	if ((rc = mig_pg_track_ready(pc, err)) < 0)
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
	if (rc < 0 && mig_pg_renew_lease(pc, err) < 0)
		return MIG_EFAIL;
	if (rc < 0 && step->repeatable && PQstatus(pc->conn) == CONNECTION_OK) {
		/* for verify: this file failed (its transaction left nothing else) */
		const char *fparams[] = {step->module, step->name,
					 step->checksum ? step->checksum : ""};
		mig_error ignored = {0};
		mig_pg_exec_params(pc, mig_pg_ledger_repeatable_failed, 3, fparams, "", &ignored);
	}
	return rc;
}

/* before_up / after_up: BEGIN, the timeouts, the hook's statements, COMMIT; the session
 * then starts from its own search_path and role again, as after a migration. */
int mig_pg_run_hook(void *conn, const mig_hook *hook, mig_error *err)
{
	mig_pg_conn *pc = conn;
	if (!hook->sql)
		return MIG_OK;
	int rc = mig_pg_renew_lease(pc, err);
	if (rc < 0)
		return rc;
	split_hook h = {0};
	if ((rc = split_text(hook->sql, hook->len, &h.text, &h.stmts, &h.n, err)) < 0)
		return rc;
	char lock_sql[64], stmt_sql[64];
	timeout_statements(pc->cfg, true, lock_sql, stmt_sql, sizeof lock_sql);
	rc = mig_pg_exec_simple(pc, "BEGIN", "cannot begin the hook's transaction", err);
	if (rc == MIG_OK && lock_sql[0])
		rc = mig_pg_exec_simple(pc, lock_sql, "cannot set lock_timeout", err);
	if (rc == MIG_OK && stmt_sql[0])
		rc = mig_pg_exec_simple(pc, stmt_sql, "cannot set statement_timeout", err);
	mig_step pseudo = {.module = hook->name, .up = true};
	for (size_t j = 0; rc == MIG_OK && j < h.n; j++) {
		PGresult *res = PQexec(pc->conn, h.text + h.stmts[j].offset);
		int status = PQresultStatus(res);
		if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK &&
		    status != PGRES_EMPTY_QUERY) {
			if (!res) {
				rc = mig_pg_conn_error(pc, "connection lost", err);
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
		rc = mig_pg_exec_simple(pc, "COMMIT", "cannot commit the hook's transaction", err);
	if (PQtransactionStatus(pc->conn) != PQTRANS_IDLE) {
		PGresult *rb = PQexec(pc->conn, "ROLLBACK");
		PQclear(rb);
	}
	if (rc == MIG_OK) {
		char reset[64];
		snprintf(reset, sizeof reset, "%s; %s", reset_search_path, reset_role);
		rc = mig_pg_exec_simple(pc, reset, "cannot reset the session", err);
	}
	return rc;
}

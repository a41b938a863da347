/* Scratch-database administration on PostgreSQL (libpq): the maintenance session that
 * creates, seals, clones, marks, lists and drops the migrate_tpl_/migrate_test_/
 * migrate_shadow_ databases for src/scratch.c. Database names arrive checked and are
 * still quoted with PQescapeIdentifier; values go as parameters. */
#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "postgres/pg_error.h"
#include "postgres/pg_result.h"
#include "postgres/pg_scratch.h"
#include "util/clock.h"

/* Key of the session advisory lock around template builds, held on the maintenance
 * database so every migrate using that server shares it ("migrtpl" in ASCII). */
#define BUILD_LOCK_KEY "30803316834625644"

struct mig_pg_admin {
	PGconn *conn;
	int major;
};

static void first_line(char *dst, size_t size, const char *msg)
{
	snprintf(dst, size, "%s", msg ? msg : "");
	char *nl = strchr(dst, '\n');
	if (nl)
		*nl = '\0';
}

/* Runs sql with n text parameters; *res (may be NULL) keeps a successful result. */
static int run(mig_pg_admin *a, const char *sql, int n, const char *const *values,
	       PGresult **res_out, const char *what, mig_error *err)
{
	PGresult *res = PQexecParams(a->conn, sql, n, NULL, values, NULL, NULL, 0);
	int status = PQresultStatus(res);
	if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK) {
		int rc = mig_pg_result_error(a->conn, res, what, err);
		PQclear(res);
		return rc;
	}
	if (res_out)
		*res_out = res;
	else
		PQclear(res);
	return MIG_OK;
}

/* "<verb> <quoted name><rest>" run as one command. */
static int run_on(mig_pg_admin *a, const char *verb, const char *name, const char *rest,
		  const char *what, mig_error *err)
{
	char *q = PQescapeIdentifier(a->conn, name, strlen(name));
	if (!q)
		return mig_error_set(err, MIG_EFAIL, "%s: out of memory", what);
	size_t len = strlen(verb) + strlen(q) + strlen(rest) + 3;
	char *sql = malloc(len);
	int rc;
	if (!sql) {
		rc = mig_error_set(err, MIG_EFAIL, "%s: out of memory", what);
	} else {
		snprintf(sql, len, "%s %s%s", verb, q, rest);
		rc = run(a, sql, 0, NULL, NULL, what, err);
	}
	free(sql);
	PQfreemem(q);
	return rc;
}

/* Appends " key='value'" (quotes and backslashes escaped) to buf. */
static int append_pair(char **buf, size_t *len, size_t *cap, const char *key, const char *val)
{
	size_t need = strlen(key) + 2 * strlen(val) + 5;
	if (*len + need + 1 > *cap) {
		size_t grown = (*cap + need + 1) * 2;
		char *p = realloc(*buf, grown);
		if (!p)
			return -1;
		*buf = p;
		*cap = grown;
	}
	char *o = *buf + *len;
	o += sprintf(o, "%s%s='", *len ? " " : "", key);
	for (const char *v = val; *v; v++) {
		if (*v == '\'' || *v == '\\')
			*o++ = '\\';
		*o++ = *v;
	}
	*o++ = '\'';
	*o = '\0';
	*len = (size_t)(o - *buf);
	return 0;
}

int mig_pg_scratch_conninfo(char **out, const mig_sql_config *cfg, const char *dbname,
			    bool with_password, mig_error *err)
{
	*out = NULL;
	bool explicit = cfg->scratch_dsn != NULL;
	const char *dsn = explicit ? cfg->scratch_dsn : (cfg->dsn ? cfg->dsn : "");
	const char *key = explicit ? "postgres.scratch_dsn" : "postgres.dsn";
	char *perr = NULL;
	PQconninfoOption *opts = PQconninfoParse(dsn, &perr);
	if (!opts) {
		char msg[256];
		first_line(msg, sizeof msg, perr ? perr : "out of memory");
		PQfreemem(perr);
		return mig_error_set(err, MIG_EUSAGE, "cannot parse '%s': %s", key, msg);
	}
	char *buf = NULL;
	size_t len = 0, cap = 0;
	int rc = MIG_OK;
	const char *own_db = NULL;
	for (PQconninfoOption *o = opts; o->keyword && rc == MIG_OK; o++) {
		if (!o->val || !*o->val)
			continue;
		if (!strcmp(o->keyword, "dbname")) {
			own_db = o->val;
			continue;
		}
		if (!with_password && !strcmp(o->keyword, "password"))
			continue;
		if (append_pair(&buf, &len, &cap, o->keyword, o->val) < 0)
			rc = mig_error_set(err, MIG_EFAIL, "out of memory");
	}
	/* the admin session: the database scratch_dsn names, else the maintenance one */
	if (!dbname)
		dbname = explicit && own_db ? own_db : "postgres";
	if (rc == MIG_OK && append_pair(&buf, &len, &cap, "dbname", dbname) < 0)
		rc = mig_error_set(err, MIG_EFAIL, "out of memory");
	PQconninfoFree(opts);
	if (rc < 0) {
		free(buf);
		return rc;
	}
	*out = buf;
	return MIG_OK;
}

int mig_pg_admin_connect(mig_pg_admin **out, const mig_sql_config *cfg, mig_error *err)
{
	*out = NULL;
	char *conninfo = NULL;
	int rc = mig_pg_scratch_conninfo(&conninfo, cfg, NULL, true, err);
	if (rc < 0)
		return rc;
	mig_pg_admin *a = calloc(1, sizeof *a);
	if (!a) {
		free(conninfo);
		return mig_error_set(err, MIG_EFAIL, "out of memory");
	}
	const char *keys[] = {"dbname", "application_name", "client_encoding", NULL};
	const char *values[] = {conninfo, "migrate", "UTF8", NULL};
	a->conn = PQconnectdbParams(keys, values, 1);
	free(conninfo);
	if (!a->conn || PQstatus(a->conn) != CONNECTION_OK) {
		char msg[512];
		first_line(msg, sizeof msg, a->conn ? PQerrorMessage(a->conn) : "out of memory");
		mig_pg_admin_close(a);
		return mig_error_set(err, MIG_EFAIL, "cannot connect to the scratch server: %s", msg);
	}
	if ((rc = mig_pg_check_version(PQserverVersion(a->conn), err)) < 0) {
		mig_pg_admin_close(a);
		return rc;
	}
	a->major = PQserverVersion(a->conn) / 10000;
	/* the server's notices ("database ... does not exist, skipping") are noise here */
	rc = run(a, "SET client_min_messages = warning", 0, NULL, NULL,
		 "cannot set up the scratch session", err);
	if (rc < 0) {
		mig_pg_admin_close(a);
		return rc;
	}
	*out = a;
	return MIG_OK;
}

void mig_pg_admin_close(mig_pg_admin *a)
{
	if (!a)
		return;
	PQfinish(a->conn);
	free(a);
}

int mig_pg_admin_server_major(const mig_pg_admin *a)
{
	return a->major;
}

const char *mig_pg_admin_user(const mig_pg_admin *a)
{
	return PQuser(a->conn);
}

int mig_pg_admin_check_createdb(mig_pg_admin *a, mig_error *err)
{
	PGresult *res = NULL;
	int rc = run(a,
		     "SELECT current_user, rolcreatedb OR rolsuper FROM pg_roles"
		     " WHERE rolname = current_user",
		     0, NULL, &res, "cannot read the role's privileges", err);
	if (rc < 0)
		return rc;
	if (PQntuples(res) == 1 && strcmp(PQgetvalue(res, 0, 1), "t") != 0) {
		rc = mig_error_set(err, MIG_EFAIL,
				   "role '%s' lacks the CREATEDB privilege on the scratch server (%s, port %s): "
				   "grant it (ALTER ROLE %s CREATEDB) or set postgres.scratch_dsn to a server where it has it",
				   PQgetvalue(res, 0, 0), PQhost(a->conn), PQport(a->conn),
				   PQgetvalue(res, 0, 0));
	}
	PQclear(res);
	return rc;
}

int mig_pg_admin_lock(mig_pg_admin *a, mig_error *err)
{
	return run(a, "SELECT pg_advisory_lock(" BUILD_LOCK_KEY ")", 0, NULL, NULL,
		   "cannot take the template build lock", err);
}

int mig_pg_admin_unlock(mig_pg_admin *a, mig_error *err)
{
	return run(a, "SELECT pg_advisory_unlock(" BUILD_LOCK_KEY ")", 0, NULL, NULL,
		   "cannot release the template build lock", err);
}

int mig_pg_admin_exists(mig_pg_admin *a, const char *name, bool *exists, char **comment,
			mig_error *err)
{
	const char *params[] = {name};
	PGresult *res = NULL;
	*exists = false;
	if (comment)
		*comment = NULL;
	int rc = run(a,
		     "SELECT shobj_description(oid, 'pg_database') FROM pg_database"
		     " WHERE datname = $1",
		     1, params, &res, "cannot list databases", err);
	if (rc < 0)
		return rc;
	if (PQntuples(res) == 1) {
		*exists = true;
		if (comment && !PQgetisnull(res, 0, 0) &&
		    !(*comment = strdup(PQgetvalue(res, 0, 0))))
			rc = mig_error_set(err, MIG_EFAIL, "out of memory");
	}
	PQclear(res);
	return rc;
}

int mig_pg_admin_create(mig_pg_admin *a, const char *name, mig_error *err)
{
	char what[160];
	snprintf(what, sizeof what, "cannot create database '%s'", name);
	return run_on(a, "CREATE DATABASE", name, "", what, err);
}

int mig_pg_admin_seal(mig_pg_admin *a, const char *from, const char *name, mig_error *err)
{
	char what[160];
	snprintf(what, sizeof what, "cannot make '%s' a template", from);
	int rc = run_on(a, "ALTER DATABASE", from, " WITH ALLOW_CONNECTIONS false IS_TEMPLATE true",
			what, err);
	if (rc < 0)
		return rc;
	char *q = PQescapeIdentifier(a->conn, name, strlen(name));
	if (!q)
		return mig_error_set(err, MIG_EFAIL, "%s: out of memory", what);
	char rest[200];
	snprintf(rest, sizeof rest, " RENAME TO %s", q);
	PQfreemem(q);
	snprintf(what, sizeof what, "cannot rename '%s' to '%s'", from, name);
	return run_on(a, "ALTER DATABASE", from, rest, what, err);
}

int mig_pg_admin_clone(mig_pg_admin *a, const char *tpl, const char *name, mig_error *err)
{
	char *qt = PQescapeIdentifier(a->conn, tpl, strlen(tpl));
	char *qn = PQescapeIdentifier(a->conn, name, strlen(name));
	char sql[400];
	int rc = MIG_OK;
	if (!qt || !qn) {
		rc = mig_error_set(err, MIG_EFAIL, "out of memory");
		goto done;
	}
	/* WAL_LOG (PostgreSQL 15+): the template's blocks go through the WAL, one
	 * sequential write and flush, and the new files are synced by a later checkpoint.
	 * FILE_COPY (the only way before 15) checkpoints the whole server twice and fsyncs
	 * every copied file: a migrated tree is thousands of small files, and with fsync on
	 * that measured several times slower (bench/testdb.sh prints both). */
	snprintf(sql, sizeof sql, "CREATE DATABASE %s TEMPLATE %s%s", qn, qt,
		 a->major >= 15 ? " STRATEGY WAL_LOG" : "");
	/* PostgreSQL itself waits up to 5 s for other sessions to leave the template; one
	 * retry after a pause covers a session that was just closing */
	for (int attempt = 0;; attempt++) {
		PGresult *res = PQexec(a->conn, sql);
		if (PQresultStatus(res) == PGRES_COMMAND_OK) {
			PQclear(res);
			break;
		}
		const char *state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
		if (state && !strcmp(state, "55006") && attempt < 2) {
			PQclear(res);
			mig_sleep_ms(500);
			continue;
		}
		if (state && !strcmp(state, "55006"))
			rc = mig_error_set(err, MIG_EFAIL,
					   "template '%s' is busy: another session is connected to it; end that session (see pg_stat_activity) and retry",
					   tpl);
		else if (state && !strcmp(state, "42P04"))
			rc = mig_error_set(err, MIG_EUSAGE, "database '%s' already exists", name);
		else {
			char what[200];
			snprintf(what, sizeof what, "cannot create database '%s' from '%s'", name, tpl);
			rc = mig_pg_result_error(a->conn, res, what, err);
		}
		PQclear(res);
		break;
	}
done:
	PQfreemem(qt);
	PQfreemem(qn);
	return rc;
}

int mig_pg_admin_comment(mig_pg_admin *a, const char *name, const char *text, mig_error *err)
{
	char *lit = PQescapeLiteral(a->conn, text, strlen(text));
	if (!lit)
		return mig_error_set(err, MIG_EFAIL, "out of memory");
	size_t len = strlen(lit) + 8;
	char *rest = malloc(len);
	int rc;
	if (!rest) {
		rc = mig_error_set(err, MIG_EFAIL, "out of memory");
	} else {
		snprintf(rest, len, " IS %s", lit);
		char what[160];
		snprintf(what, sizeof what, "cannot mark database '%s'", name);
		rc = run_on(a, "COMMENT ON DATABASE", name, rest, what, err);
	}
	free(rest);
	PQfreemem(lit);
	return rc;
}

int mig_pg_admin_drop(mig_pg_admin *a, const char *name, mig_error *err)
{
	bool exists;
	int rc = mig_pg_admin_exists(a, name, &exists, NULL, err);
	if (rc < 0 || !exists)
		return rc;
	char what[160];
	snprintf(what, sizeof what, "cannot drop database '%s'", name);
	/* a template cannot be dropped while marked one */
	rc = run_on(a, "ALTER DATABASE", name, " WITH IS_TEMPLATE false", what, err);
	if (rc < 0)
		return rc;
	/* FORCE ends the sessions a killed run left, but refuses a role that is not a
	 * superuser when an autovacuum worker is in the database (a new one is visited
	 * soon): plain DROP stops those workers itself */
	if (a->major >= 13 &&
	    run_on(a, "DROP DATABASE IF EXISTS", name, " WITH (FORCE)", what, NULL) == MIG_OK)
		return MIG_OK;
	return run_on(a, "DROP DATABASE IF EXISTS", name, "", what, err);
}

int mig_pg_admin_list(mig_pg_admin *a, const char *prefix, mig_pg_database **out,
		      size_t *count, mig_error *err)
{
	*out = NULL;
	*count = 0;
	const char *params[] = {prefix};
	PGresult *res = NULL;
	int rc = run(a,
		     "SELECT datname, shobj_description(oid, 'pg_database') FROM pg_database"
		     " WHERE left(datname, length($1)) = $1 ORDER BY datname",
		     1, params, &res, "cannot list databases", err);
	if (rc < 0)
		return rc;
	size_t n = (size_t)PQntuples(res);
	mig_pg_database *dbs = n ? calloc(n, sizeof *dbs) : NULL;
	if (n && !dbs)
		rc = mig_error_set(err, MIG_EFAIL, "out of memory");
	for (size_t i = 0; rc == MIG_OK && i < n; i++) {
		dbs[i].name = strdup(PQgetvalue(res, (int)i, 0));
		if (!PQgetisnull(res, (int)i, 1))
			dbs[i].comment = strdup(PQgetvalue(res, (int)i, 1));
		if (!dbs[i].name || (!PQgetisnull(res, (int)i, 1) && !dbs[i].comment))
			rc = mig_error_set(err, MIG_EFAIL, "out of memory");
	}
	PQclear(res);
	if (rc < 0) {
		mig_pg_databases_free(dbs, n);
		return rc;
	}
	*out = dbs;
	*count = n;
	return MIG_OK;
}

void mig_pg_databases_free(mig_pg_database *dbs, size_t count)
{
	for (size_t i = 0; dbs && i < count; i++) {
		free(dbs[i].name);
		free(dbs[i].comment);
	}
	free(dbs);
}

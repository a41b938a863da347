/* PostgreSQL's side of `migrate lint`: table sizes for the findings (pg_class, one
 * query) and the observing core of --observe (pg_locks and relfilenode around each
 * statement of a file run in a transaction that is always rolled back). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "postgres/pg_lint.h"
#include "postgres/pg_result.h"
#include "util/sql_split.h"
#include "util/strlist.h"

/* A text[] literal of names: {"a","b"} with quotes and backslashes escaped. */
static char *array_literal(const char *const *names, size_t n, size_t stride)
{
	size_t size = 3;
	for (size_t i = 0; i < n; i++)
		size += 2 * strlen(*(const char *const *)((const char *)names + i * stride)) + 3;
	char *out = malloc(size), *p = out;
	if (!out)
		return NULL;
	*p++ = '{';
	for (size_t i = 0; i < n; i++) {
		const char *s = *(const char *const *)((const char *)names + i * stride);
		if (i)
			*p++ = ',';
		*p++ = '"';
		for (; *s; s++) {
			if (*s == '"' || *s == '\\')
				*p++ = '\\';
			*p++ = *s;
		}
		*p++ = '"';
	}
	*p++ = '}';
	*p = '\0';
	return out;
}

/* The planner's estimate: reltuples scaled to the table's current size, as the planner
 * does; for a table never analyzed, its size over 64 bytes a row. */
static const char facts_sql[] =
	"SELECT t.ord, c.oid IS NOT NULL,"
	" CASE WHEN c.oid IS NULL THEN -1"
	" WHEN c.relpages > 0 AND c.reltuples >= 0 THEN c.reltuples / c.relpages *"
	"  (pg_relation_size(c.oid) / current_setting('block_size')::float8)"
	" ELSE pg_relation_size(c.oid) / 64.0 END"
	" FROM unnest($1::text[]) WITH ORDINALITY AS t(name, ord)"
	" LEFT JOIN pg_class c ON c.oid = to_regclass(t.name)";

/* The same from the catalog alone (pg_relation_size takes ACCESS SHARE on the table: a
 * session holding ACCESS EXCLUSIVE would make lint wait behind it). */
static const char facts_catalog_sql[] =
	"SELECT t.ord, c.oid IS NOT NULL,"
	" CASE WHEN c.oid IS NULL THEN -1 WHEN c.reltuples >= 0 THEN c.reltuples"
	" ELSE c.relpages * current_setting('block_size')::float8 / 64.0 END"
	" FROM unnest($1::text[]) WITH ORDINALITY AS t(name, ord)"
	" LEFT JOIN pg_class c ON c.oid = to_regclass(t.name)";

/* The facts query, waiting at most 500 ms for a table's lock; then from the catalog. */
static PGresult *facts_query(PGconn *conn, const char *const *params)
{
	if (PQtransactionStatus(conn) != PQTRANS_IDLE)
		return PQexecParams(conn, facts_sql, 1, NULL, params, NULL, NULL, 0);
	PGresult *res = PQexec(conn, "BEGIN READ ONLY; SET LOCAL lock_timeout = '500ms'");
	bool begun = PQresultStatus(res) == PGRES_COMMAND_OK;
	PQclear(res);
	if (!begun)
		return PQexecParams(conn, facts_sql, 1, NULL, params, NULL, NULL, 0);
	res = PQexecParams(conn, facts_sql, 1, NULL, params, NULL, NULL, 0);
	const char *state = PQresultErrorField(res, PG_DIAG_SQLSTATE);
	bool locked = PQresultStatus(res) != PGRES_TUPLES_OK && state && !strcmp(state, "55P03");
	PQclear(PQexec(conn, "ROLLBACK"));
	if (!locked)
		return res;
	PQclear(res);
	return PQexecParams(conn, facts_catalog_sql, 1, NULL, params, NULL, NULL, 0);
}

int mig_pg_table_facts(PGconn *conn, mig_table_fact *facts, size_t n, int *server_major,
		       mig_error *err)
{
	*server_major = PQserverVersion(conn) / 10000;
	if (n == 0)
		return MIG_OK;
	char *names = array_literal(&facts[0].name, n, sizeof *facts);
	if (!names)
		return mig_error_set(err, MIG_EFAIL, "out of memory");
	const char *params[1] = {names};
	PGresult *res = facts_query(conn, params);
	free(names);
	int rc = MIG_OK;
	if (PQresultStatus(res) != PGRES_TUPLES_OK) {
		rc = mig_pg_result_error(conn, res, "cannot read table sizes", err);
	} else {
		for (int r = 0; r < PQntuples(res); r++) {
			long ord = strtol(PQgetvalue(res, r, 0), NULL, 10);
			if (ord < 1 || (size_t)ord > n)
				continue;
			facts[ord - 1].exists = PQgetvalue(res, r, 1)[0] == 't';
			facts[ord - 1].rows = strtod(PQgetvalue(res, r, 2), NULL);
		}
	}
	PQclear(res);
	return rc;
}

/* ---- observing ---- */

/* Relations of the user's schemas as they are before the file runs. */
static const char snapshot_sql[] =
	"SELECT c.oid, c.relfilenode FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"
	" WHERE c.relkind IN ('r', 'm', 'p', 'i') AND n.nspname NOT IN ('pg_catalog',"
	" 'information_schema', 'pg_toast') AND n.nspname !~ '^pg_(toast_)?temp_'";

/* The relation locks this backend holds on relations of the snapshot ($1), strongest
 * first per relation. */
static const char locks_sql[] =
	"SELECT l.relation::regclass::text, upper(regexp_replace(regexp_replace(l.mode,"
	" 'Lock$', ''), '([a-z])([A-Z])', '\\1 \\2', 'g'))"
	" FROM pg_locks l WHERE l.pid = pg_backend_pid() AND l.locktype = 'relation'"
	" AND l.granted AND l.relation = ANY ($1::oid[]) ORDER BY 1, 2";

/* Tables of the snapshot ($1 oids, $2 relfilenodes) whose storage was replaced. */
static const char rewritten_sql[] =
	"SELECT c.oid::regclass::text FROM unnest($1::oid[], $2::oid[]) AS s(oid, node)"
	" JOIN pg_class c ON c.oid = s.oid WHERE c.relfilenode <> s.node AND c.relkind IN ('r', 'm')"
	" ORDER BY 1";

static bool contains(char **list, size_t n, const char *s)
{
	for (size_t i = 0; i < n; i++)
		if (!strcmp(list[i], s))
			return true;
	return false;
}

/* Reads the snapshot into two array literals {oid,...} and {relfilenode,...}. */
static int take_snapshot(PGconn *conn, char **oids, char **nodes, mig_error *err)
{
	PGresult *res = PQexec(conn, snapshot_sql);
	if (PQresultStatus(res) != PGRES_TUPLES_OK) {
		int rc = mig_pg_result_error(conn, res, "cannot read pg_class", err);
		PQclear(res);
		return rc;
	}
	size_t cap = 3 + (size_t)PQntuples(res) * 12;
	*oids = malloc(cap);
	*nodes = malloc(cap);
	if (!*oids || !*nodes) {
		PQclear(res);
		return mig_error_set(err, MIG_EFAIL, "out of memory");
	}
	size_t a = 0, b = 0;
	(*oids)[a++] = '{';
	(*nodes)[b++] = '{';
	for (int r = 0; r < PQntuples(res); r++) {
		a += (size_t)snprintf(*oids + a, cap - a, "%s%s", r ? "," : "", PQgetvalue(res, r, 0));
		b += (size_t)snprintf(*nodes + b, cap - b, "%s%s", r ? "," : "", PQgetvalue(res, r, 1));
	}
	snprintf(*oids + a, cap - a, "}");
	snprintf(*nodes + b, cap - b, "}");
	PQclear(res);
	return MIG_OK;
}

/* Records, for the statement just run, the locks not seen before and the rewrites. */
static int observe_stmt(PGconn *conn, mig_observed_stmt *st, char ***seen, size_t *nseen,
			char ***rewritten_seen, size_t *nrewritten_seen, const char *oids,
			const char *nodes, mig_error *err)
{
	const char *p1[1] = {oids};
	PGresult *res = PQexecParams(conn, locks_sql, 1, NULL, p1, NULL, NULL, 0);
	if (PQresultStatus(res) != PGRES_TUPLES_OK) {
		int rc = mig_pg_result_error(conn, res, "cannot read pg_locks", err);
		PQclear(res);
		return rc;
	}
	for (int r = 0; r < PQntuples(res); r++) {
		char lock[600];
		snprintf(lock, sizeof lock, "%s on %s", PQgetvalue(res, r, 1), PQgetvalue(res, r, 0));
		if (contains(*seen, *nseen, lock))
			continue;
		if (mig_strlist_push(seen, nseen, lock) < 0 || mig_strlist_push(&st->locks, &st->nlocks, lock) < 0) {
			PQclear(res);
			return mig_error_set(err, MIG_EFAIL, "out of memory");
		}
	}
	PQclear(res);
	const char *p2[2] = {oids, nodes};
	res = PQexecParams(conn, rewritten_sql, 2, NULL, p2, NULL, NULL, 0);
	if (PQresultStatus(res) != PGRES_TUPLES_OK) {
		int rc = mig_pg_result_error(conn, res, "cannot read pg_class", err);
		PQclear(res);
		return rc;
	}
	for (int r = 0; r < PQntuples(res); r++) {
		const char *t = PQgetvalue(res, r, 0);
		if (contains(*rewritten_seen, *nrewritten_seen, t))
			continue;
		if (mig_strlist_push(rewritten_seen, nrewritten_seen, t) < 0 ||
		    mig_strlist_push(&st->rewritten, &st->nrewritten, t) < 0) {
			PQclear(res);
			return mig_error_set(err, MIG_EFAIL, "out of memory");
		}
	}
	PQclear(res);
	return MIG_OK;
}

static void free_list(char **list, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(list[i]);
	free(list);
}

int mig_pg_observe(mig_observation *out, const char *conninfo, const char *sql, size_t len,
		   mig_error *err)
{
	memset(out, 0, sizeof *out);
	mig_sql_stmt *stmts = NULL;
	size_t nstmts = 0;
	char *oids = NULL, *nodes = NULL, *text = NULL;
	char **seen = NULL, **rewritten_seen = NULL;
	size_t nseen = 0, nrewritten_seen = 0;
	int rc = MIG_OK;
	PGconn *conn = PQconnectdb(conninfo);
	if (PQstatus(conn) != CONNECTION_OK) {
		rc = mig_pg_result_error(conn, NULL, "cannot connect to observe", err);
		goto done;
	}
	PGresult *res = PQexec(conn, "BEGIN");
	bool began = PQresultStatus(res) == PGRES_COMMAND_OK;
	PQclear(res);
	if (!began) {
		rc = mig_pg_result_error(conn, NULL, "cannot begin", err);
		goto done;
	}
	if ((rc = take_snapshot(conn, &oids, &nodes, err)) < 0)
		goto done;
	if (mig_sql_split(&stmts, &nstmts, sql, len) < 0 || !(text = malloc(len + 1)) ||
	    (nstmts && !(out->stmts = calloc(nstmts, sizeof *out->stmts)))) {
		rc = mig_error_set(err, MIG_EFAIL, "out of memory");
		goto done;
	}
	for (size_t i = 0; i < nstmts; i++) {
		mig_observed_stmt *st = &out->stmts[out->nstmts++];
		st->line = stmts[i].line;
		memcpy(text, sql + stmts[i].offset, stmts[i].length);
		text[stmts[i].length] = '\0';
		res = PQexec(conn, text);
		ExecStatusType status = PQresultStatus(res);
		if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK) {
			char what[64];
			snprintf(what, sizeof what, "statement at line %u failed", st->line);
			rc = mig_pg_result_error(conn, res, what, err);
			PQclear(res);
			goto done;
		}
		PQclear(res);
		if ((rc = observe_stmt(conn, st, &seen, &nseen, &rewritten_seen, &nrewritten_seen, oids,
				       nodes, err)) < 0)
			goto done;
	}
done:
	if (conn && PQstatus(conn) == CONNECTION_OK)
		PQclear(PQexec(conn, "ROLLBACK"));
	PQfinish(conn);
	free(stmts);
	free(oids);
	free(nodes);
	free(text);
	free_list(seen, nseen);
	free_list(rewritten_seen, nrewritten_seen);
	if (rc < 0)
		mig_observation_clear(out);
	return rc;
}

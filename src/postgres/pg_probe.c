/* `migrate lint --data` on PostgreSQL: each probe is one bounded SELECT in a single
 * READ ONLY transaction (plain SELECTs: ACCESS SHARE only), with statement_timeout the
 * probe timeout and a short lock_timeout, each under its own savepoint so one that times
 * out leaves the others to run. LIMIT-bounded: at most PROBE_LIMIT offending rows are
 * read, and the predicates are the ones an index on the column serves. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "postgres/pg_probe.h"

#define PROBE_LIMIT 100
#define PROBE_LOCK_TIMEOUT_MS 500

/* A growing SQL text; on no memory, ok turns false and the rest is ignored. */
typedef struct buf {
	char *s;
	size_t len, cap;
	bool ok;
} buf;

static void put(buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void put(buf *b, const char *fmt, ...)
{
	if (!b->ok)
		return;
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0 || b->len + (size_t)n + 1 > b->cap) {
		size_t cap = (b->cap ? 2 * b->cap : 256) + (size_t)(n < 0 ? 0 : n);
		char *grown = n < 0 ? NULL : realloc(b->s, cap);
		if (!grown) {
			b->ok = false;
			return;
		}
		b->s = grown;
		b->cap = cap;
	}
	va_start(ap, fmt);
	vsnprintf(b->s + b->len, b->cap - b->len, fmt, ap);
	va_end(ap);
	b->len += (size_t)n;
}

/* A column name quoted for SQL. */
static void put_ident(buf *b, PGconn *conn, const char *name)
{
	char *q = PQescapeIdentifier(conn, name, strlen(name));
	if (!q) {
		b->ok = false;
		return;
	}
	put(b, "%s", q);
	PQfreemem(q);
}

/* Runs a command; returns the SQLSTATE of its failure ("" on success). */
static const char *command(PGconn *conn, const char *sql, char *state, size_t size,
			   char *message, size_t msize)
{
	PGresult *res = PQexec(conn, sql);
	state[0] = message[0] = '\0';
	ExecStatusType st = PQresultStatus(res);
	if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) {
		const char *s = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
		const char *m = res ? PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY) : NULL;
		snprintf(state, size, "%s", s ? s : "XX000");
		snprintf(message, msize, "%s", m ? m : PQerrorMessage(conn));
		message[strcspn(message, "\n")] = '\0';
	}
	PQclear(res);
	return state;
}

/* The first primary-key column of table (a quoted identifier in out), or "ctid". */
static void key_column(PGconn *conn, const char *table, char *out, size_t size)
{
	static const char sql[] =
		"SELECT quote_ident(a.attname) FROM pg_index i JOIN pg_attribute a"
		" ON a.attrelid = i.indrelid AND a.attnum = i.indkey[0]"
		" WHERE i.indrelid = to_regclass($1) AND i.indisprimary";
	const char *params[1] = {table};
	PGresult *res = PQexecParams(conn, sql, 1, NULL, params, NULL, NULL, 0);
	if (PQresultStatus(res) == PGRES_TUPLES_OK && PQntuples(res) == 1)
		snprintf(out, size, "%s", PQgetvalue(res, 0, 0));
	else
		snprintf(out, size, "ctid");
	PQclear(res);
}

/* The primary key columns of table, quoted, comma-separated in out ("" when none). */
static void primary_key(PGconn *conn, const char *table, char *out, size_t size)
{
	static const char sql[] =
		"SELECT string_agg(quote_ident(a.attname), ',' ORDER BY k.n) FROM pg_index i,"
		" unnest(i.indkey) WITH ORDINALITY AS k(attnum, n)"
		" JOIN pg_attribute a ON a.attnum = k.attnum"
		" WHERE a.attrelid = i.indrelid AND i.indrelid = to_regclass($1) AND i.indisprimary";
	const char *params[1] = {table};
	PGresult *res = PQexecParams(conn, sql, 1, NULL, params, NULL, NULL, 0);
	out[0] = '\0';
	if (PQresultStatus(res) == PGRES_TUPLES_OK && PQntuples(res) == 1)
		snprintf(out, size, "%s", PQgetvalue(res, 0, 0));
	PQclear(res);
}

/* The planner's row estimate of table, for messages ("≈12M rows"). */
static void rows_text(PGconn *conn, const char *table, char *out, size_t size)
{
	static const char sql[] = "SELECT greatest(reltuples, 0)::float8 FROM pg_class"
				  " WHERE oid = to_regclass($1)";
	const char *params[1] = {table};
	PGresult *res = PQexecParams(conn, sql, 1, NULL, params, NULL, NULL, 0);
	double rows = PQresultStatus(res) == PGRES_TUPLES_OK && PQntuples(res) == 1
			      ? strtod(PQgetvalue(res, 0, 0), NULL)
			      : -1;
	PQclear(res);
	if (rows < 0)
		snprintf(out, size, "size unknown");
	else if (rows >= 1e6)
		snprintf(out, size, "≈%.0fM rows", rows / 1e6);
	else if (rows >= 1e3)
		snprintf(out, size, "≈%.0fk rows", rows / 1e3);
	else
		snprintf(out, size, "≈%.0f rows", rows);
}

/* The probe's SELECT: one text column per offending row (its key, or the duplicate
 * value), at most PROBE_LIMIT + 1 rows. */
static void probe_sql(buf *b, PGconn *conn, const mig_data_probe *p, const char *key,
		      const char *ref_key)
{
	const char *t = p->table;
	switch (p->kind) {
	case MIG_PROBE_NOT_NULL:
		put(b, "SELECT %s::text FROM %s WHERE ", key, t);
		put_ident(b, conn, p->columns[0]);
		put(b, " IS NULL LIMIT %d", PROBE_LIMIT + 1);
		break;
	case MIG_PROBE_UNIQUE:
		put(b, "SELECT %s", p->ncolumns > 1 ? "ROW(" : "");
		for (size_t i = 0; i < p->ncolumns; i++) {
			put(b, "%s", i ? ", " : "");
			put_ident(b, conn, p->columns[i]);
		}
		put(b, "%s::text FROM %s WHERE ", p->ncolumns > 1 ? ")" : "", t);
		for (size_t i = 0; i < p->ncolumns; i++) {
			put(b, "%s", i ? " AND " : "");
			put_ident(b, conn, p->columns[i]);
			put(b, " IS NOT NULL");
		}
		put(b, " GROUP BY ");
		for (size_t i = 0; i < p->ncolumns; i++) {
			put(b, "%s", i ? ", " : "");
			put_ident(b, conn, p->columns[i]);
		}
		put(b, " HAVING count(*) > 1 LIMIT %d", PROBE_LIMIT + 1);
		break;
	case MIG_PROBE_FOREIGN:
		put(b, "SELECT c.%s::text FROM %s c WHERE ", key, t);
		for (size_t i = 0; i < p->ncolumns; i++) {
			put(b, "c.");
			put_ident(b, conn, p->columns[i]);
			put(b, " IS NOT NULL AND ");
		}
		put(b, "NOT EXISTS (SELECT 1 FROM %s r WHERE ", p->ref_table);
		/* ref_key: the referenced columns, quoted and comma-separated */
		const char *rk = ref_key;
		for (size_t i = 0; i < p->ncolumns; i++) {
			size_t n = strcspn(rk, ",");
			put(b, "%sr.%.*s = c.", i ? " AND " : "", (int)n, rk);
			put_ident(b, conn, p->columns[i]);
			rk += n + (rk[n] == ',');
		}
		put(b, ") LIMIT %d", PROBE_LIMIT + 1);
		break;
	}
}

static void quoted_columns(buf *b, PGconn *conn, char *const *cols, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		put(b, "%s", i ? "," : "");
		put_ident(b, conn, cols[i]);
	}
}

/* "17, 42, 99" or "'a@x', 'b@x', …" from the first rows of res. */
static void sample(const PGresult *res, bool quote, char *out, size_t size)
{
	out[0] = '\0';
	int n = PQntuples(res);
	for (int r = 0; r < n && r < 3; r++) {
		size_t len = strlen(out);
		snprintf(out + len, size - len, "%s%s%.40s%s", r ? ", " : "", quote ? "'" : "",
			 PQgetisnull(res, r, 0) ? "NULL" : PQgetvalue(res, r, 0), quote ? "'" : "");
	}
	if (n > 3) {
		size_t len = strlen(out);
		snprintf(out + len, size - len, ", …");
	}
}

static void run_probe(PGconn *conn, mig_data_probe *p, long long timeout_ms)
{
	char state[8], message[256], key[160], ref_key[480] = "", count[32];
	p->outcome = MIG_PROBE_NOT_CHECKED;
	key_column(conn, p->table, key, sizeof key);
	if (p->kind == MIG_PROBE_FOREIGN) {
		buf rk = {.ok = true};
		if (p->nref_columns)
			quoted_columns(&rk, conn, p->ref_columns, p->nref_columns);
		else
			primary_key(conn, p->ref_table, ref_key, sizeof ref_key);
		if (rk.s)
			snprintf(ref_key, sizeof ref_key, "%s", rk.s);
		free(rk.s);
		if (!ref_key[0]) {
			snprintf(p->detail, sizeof p->detail,
				 "%s has no primary key the foreign key could reference", p->ref_table);
			return;
		}
	}
	buf b = {.ok = true};
	probe_sql(&b, conn, p, key, ref_key);
	if (!b.ok) {
		free(b.s);
		snprintf(p->detail, sizeof p->detail, "out of memory");
		return;
	}
	/* the time limit bounds the probe's own query only: a catalog lookup around it that
	 * ran out of time would abort the transaction and hide what timed out */
	char limit[64];
	snprintf(limit, sizeof limit, "SET LOCAL statement_timeout = %lld", timeout_ms);
	command(conn, "SAVEPOINT migrate_probe", state, sizeof state, message, sizeof message);
	command(conn, limit, state, sizeof state, message, sizeof message);
	PGresult *res = PQexec(conn, b.s);
	free(b.s);
	if (PQresultStatus(res) != PGRES_TUPLES_OK) {
		const char *s = PQresultErrorField(res, PG_DIAG_SQLSTATE);
		const char *m = PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY);
		char rows[48];
		char m_copy[256];
		snprintf(m_copy, sizeof m_copy, "%s", m ? m : "the probe failed");
		bool timed_out = s && !strcmp(s, "57014"), locked = s && !strcmp(s, "55P03");
		PQclear(res);
		command(conn, "ROLLBACK TO SAVEPOINT migrate_probe", state, sizeof state, message,
			sizeof message);
		rows_text(conn, p->table, rows, sizeof rows);
		if (timed_out)
			snprintf(p->detail, sizeof p->detail,
				 "the probe timed out after %.3gs on %s (%s)", timeout_ms / 1000.0,
				 p->table, rows);
		else if (locked)
			snprintf(p->detail, sizeof p->detail,
				 "%s is locked by another session (waited %dms; %s)", p->table,
				 PROBE_LOCK_TIMEOUT_MS, rows);
		else
			snprintf(p->detail, sizeof p->detail, "%s", m_copy);
		return;
	}
	int n = PQntuples(res);
	if (n > PROBE_LIMIT)
		snprintf(count, sizeof count, "more than %d", PROBE_LIMIT);
	else
		snprintf(count, sizeof count, "%d", n);
	if (n == 0) {
		p->outcome = MIG_PROBE_PASSES;
	} else {
		char s[256];
		p->outcome = MIG_PROBE_WOULD_FAIL;
		sample(res, p->kind == MIG_PROBE_UNIQUE, s, sizeof s);
		if (p->kind == MIG_PROBE_NOT_NULL)
			snprintf(p->detail, sizeof p->detail, "%s row%s of %s %s NULL %s (%s %s)",
				 count, n == 1 ? "" : "s", p->table, n == 1 ? "has" : "have",
				 p->columns[0], key, s);
		else if (p->kind == MIG_PROBE_UNIQUE)
			snprintf(p->detail, sizeof p->detail, "%s duplicate value%s of %s.%s%s%s (%s)",
				 count, n == 1 ? "" : "s", p->table, p->ncolumns > 1 ? "(" : "",
				 p->columns[0], p->ncolumns > 1 ? ", …)" : "", s);
		else
			snprintf(p->detail, sizeof p->detail,
				 "%s row%s of %s reference%s a missing row of %s (%s.%s %s)", count,
				 n == 1 ? "" : "s", p->table, n == 1 ? "s" : "", p->ref_table, p->table,
				 key, s);
	}
	PQclear(res);
	/* back to before the time limit (a read-only probe has nothing else to keep) */
	command(conn, "ROLLBACK TO SAVEPOINT migrate_probe", state, sizeof state, message,
		sizeof message);
	command(conn, "RELEASE SAVEPOINT migrate_probe", state, sizeof state, message,
		sizeof message);
}

int mig_pg_data_probe(PGconn *conn, mig_data_probe *probes, size_t n, long long timeout_ms,
		      mig_error *err)
{
	if (n == 0)
		return MIG_OK;
	char state[8], message[256], sql[160];
	long long lock_ms = timeout_ms > 0 && timeout_ms < PROBE_LOCK_TIMEOUT_MS ? timeout_ms
										 : PROBE_LOCK_TIMEOUT_MS;
	if (*command(conn, "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY", state, sizeof state,
		     message, sizeof message))
		return mig_error_set(err, MIG_EFAIL, "cannot start the data probes: %s", message);
	/* statement_timeout is set around each probe's query (run_probe) */
	snprintf(sql, sizeof sql, "SET LOCAL lock_timeout = %lld", lock_ms);
	if (*command(conn, sql, state, sizeof state, message, sizeof message)) {
		command(conn, "ROLLBACK", state, sizeof state, message, sizeof message);
		return mig_error_set(err, MIG_EFAIL, "cannot start the data probes: %s", message);
	}
	for (size_t i = 0; i < n; i++)
		run_probe(conn, &probes[i], timeout_ms);
	command(conn, "ROLLBACK", state, sizeof state, message, sizeof message);
	return MIG_OK;
}

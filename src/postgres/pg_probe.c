/* `migrate lint --data` on PostgreSQL: each probe is one bounded SELECT in a single
 * READ ONLY transaction (plain SELECTs: ACCESS SHARE only), with statement_timeout the
 * probe timeout and a short lock_timeout, each under its own savepoint so one that times
 * out leaves the others to run. LIMIT-bounded: at most PROBE_LIMIT offending rows are
 * read, and the predicates are the ones an index on the column serves.
 *
 * A type change's probe never performs the cast it tests (that would raise on the first
 * bad row and say nothing of the others): its predicate is a test that cannot raise. On
 * PostgreSQL 16 and later a value from a string column is tested with
 * pg_input_is_valid(value, 'type'), the type's own input function; before 16 a string
 * must match the input syntax of the target (a regular expression for integers,
 * numeric, float, boolean and uuid) before a guarded CASE branch converts it to numeric
 * for a range test; numbers are tested by range, strings for a bounded length by
 * length. A change no such test covers is `not checked`, naming the two types. */
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

/* ---- type changes ---- */

enum {
	T_BOOL = 16, T_INT8 = 20, T_INT2 = 21, T_INT4 = 23, T_TEXT = 25, T_FLOAT4 = 700,
	T_FLOAT8 = 701, T_BPCHAR = 1042, T_VARCHAR = 1043, T_NUMERIC = 1700, T_UUID = 2950,
};

static bool is_string(Oid t)
{
	return t == T_TEXT || t == T_VARCHAR || t == T_BPCHAR;
}

static int int_rank(Oid t)
{
	return t == T_INT2 ? 1 : t == T_INT4 ? 2 : t == T_INT8 ? 3 : 0;
}

static const char *int_min(Oid t)
{
	return t == T_INT2 ? "-32768" : t == T_INT4 ? "-2147483648" : "-9223372036854775808";
}

static const char *int_max(Oid t)
{
	return t == T_INT2 ? "32767" : t == T_INT4 ? "2147483647" : "9223372036854775807";
}

/* Input syntax (case-insensitive regular expressions, surrounding white space allowed)
 * of what a string must look like to convert, before PostgreSQL 16. */
#define RE_INT "^\\s*[+-]?0*[0-9]{1,255}\\s*$"
#define RE_NUM "^\\s*[+-]?(0*[0-9]{1,255}\\.?[0-9]{0,255}|\\.[0-9]{1,255})(e[+-]?[0-9]{1,3})?\\s*$"
#define RE_NAN "^\\s*nan\\s*$"
#define RE_INF "^\\s*[+-]?inf(inity)?\\s*$"
#define RE_BOOL "^\\s*(t|tr|tru|true|y|ye|yes|on|1|f|fa|fal|fals|false|n|no|of|off|0)\\s*$"
#define RE_UUID "^\\s*\\{?[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}\\}?\\s*$"

typedef enum step_result { STEP_CANNOT_FAIL, STEP_PREDICATE, STEP_UNTESTED } step_result;

/* `1` followed by digits zeros, as numeric. */
static void put_power(buf *b, int digits)
{
	put(b, "1");
	for (int i = 0; i < digits; i++)
		put(b, "0");
}

/* Appends to b a predicate true for the values v (SQL text, of type s/smod) that do not
 * convert to t/tmod (assignment, or explicit when `explicit`), and never raising. */
static step_result cast_step(buf *b, const char *v, Oid s, int smod, Oid t, int tmod,
			     bool explicit, int server)
{
	if (s == t && (tmod < 0 || tmod == smod))
		return STEP_CANNOT_FAIL;
	if (is_string(t)) {
		if (tmod < 0 || explicit)
			return STEP_CANNOT_FAIL; /* unbounded, or truncated without an error */
		int n = tmod - 4;
		if (is_string(s) && s != T_BPCHAR && smod >= 0 && smod <= tmod)
			return STEP_CANNOT_FAIL;
		/* too long, unless what is cut off is spaces (PostgreSQL drops them) */
		put(b, "(length((%s)::text) > %d AND rtrim(substr((%s)::text, %d)) <> '')", v, n, v,
		    n + 1);
		return STEP_PREDICATE;
	}
	if (is_string(s) && server >= 160000) {
		put(b, "NOT pg_input_is_valid((%s)::text, format_type(%u, %d))", v, t, tmod);
		return STEP_PREDICATE;
	}
	if (int_rank(t)) {
		if (int_rank(s))
			return int_rank(s) <= int_rank(t)
				       ? STEP_CANNOT_FAIL
				       : (put(b, "(%s) NOT BETWEEN %s AND %s", v, int_min(t), int_max(t)),
					  STEP_PREDICATE);
		if (s == T_NUMERIC) /* rounded half away from zero; NaN sorts above all */
			put(b, "NOT ((%s) > %s.5 AND (%s) < %s.5)", v, int_min(t), v, int_max(t));
		else if (s == T_FLOAT4 || s == T_FLOAT8) /* rounded half to even */
			put(b, "NOT ((%s) >= %s.5 AND (%s) < %s.5)", v, int_min(t), v, int_max(t));
		else if (is_string(s))
			put(b, "CASE WHEN (%s) ~ '" RE_INT "' THEN (%s)::numeric NOT BETWEEN %s AND %s"
			       " ELSE true END", v, v, int_min(t), int_max(t));
		else
			return STEP_UNTESTED;
		return STEP_PREDICATE;
	}
	if (t == T_NUMERIC) {
		int p = tmod >= 4 ? ((tmod - 4) >> 16) & 0xffff : 0, sc = tmod >= 4 ? (tmod - 4) & 0xffff : 0;
		if (tmod >= 4 && (sc > p || sc >= 1000))
			return STEP_UNTESTED; /* a negative or larger-than-precision scale */
		if (tmod < 4) { /* unbounded numeric */
			if (int_rank(s) || s == T_NUMERIC || ((s == T_FLOAT4 || s == T_FLOAT8) && server >= 140000))
				return STEP_CANNOT_FAIL;
			if (s == T_FLOAT4 || s == T_FLOAT8)
				put(b, "(%s) IN ('Infinity', '-Infinity')", v);
			else if (is_string(s))
				put(b, "CASE WHEN (%s) ~* '" RE_NUM "' OR (%s) ~* '" RE_NAN "' THEN false"
				       " WHEN (%s) ~* '" RE_INF "' THEN %s ELSE true END", v, v, v,
				    server >= 140000 ? "false" : "true");
			else
				return STEP_UNTESTED;
			return STEP_PREDICATE;
		}
		if (s == T_NUMERIC && smod >= 4 && (smod - 4) >> 16 <= p && ((smod - 4) & 0xffff) == sc &&
		    ((smod - 4) >> 16) - sc <= p - sc)
			return STEP_CANNOT_FAIL;
		/* |round(v, scale)| must stay below 10^(precision - scale); NaN fits */
		if (int_rank(s) || s == T_NUMERIC)
			put(b, "((%s)::numeric <> 'NaN' AND abs(round((%s)::numeric, %d)) >= ", v, v, sc);
		else if (s == T_FLOAT4 || s == T_FLOAT8)
			put(b, "CASE WHEN (%s) = 'NaN' THEN false WHEN (%s) IN ('Infinity', '-Infinity')"
			       " THEN true ELSE abs(round((%s)::numeric, %d)) >= ", v, v, v, sc);
		else if (is_string(s))
			put(b, "CASE WHEN (%s) ~* '" RE_NAN "' THEN false WHEN (%s) ~* '" RE_NUM "'"
			       " THEN abs(round((%s)::numeric, %d)) >= ", v, v, v, sc);
		else
			return STEP_UNTESTED;
		put_power(b, p - sc);
		put(b, "%s", int_rank(s) || s == T_NUMERIC ? ")" : is_string(s) ? " ELSE true END" : " END");
		return STEP_PREDICATE;
	}
	if (t == T_FLOAT4 || t == T_FLOAT8) {
		if (int_rank(s) || (s == T_FLOAT4 && t == T_FLOAT8))
			return STEP_CANNOT_FAIL;
		if (is_string(s)) /* the syntax only: an out-of-range exponent is not caught */
			put(b, "NOT ((%s) ~* '" RE_NUM "' OR (%s) ~* '" RE_NAN "' OR (%s) ~* '" RE_INF "')",
			    v, v, v);
		else
			return STEP_UNTESTED;
		return STEP_PREDICATE;
	}
	if (is_string(s) && t == T_BOOL)
		return put(b, "(%s) !~* '" RE_BOOL "'", v), STEP_PREDICATE;
	if (is_string(s) && t == T_UUID)
		return put(b, "(%s) !~* '" RE_UUID "'", v), STEP_PREDICATE;
	return STEP_UNTESTED;
}

/* A one-row, one-value catalog query with params; "" when it fails or finds nothing. */
static bool lookup(PGconn *conn, const char *sql, int n, const char *const *params, char *out,
		   size_t size, char *message, size_t msize)
{
	PGresult *res = PQexecParams(conn, sql, n, NULL, params, NULL, NULL, 0);
	bool ok = PQresultStatus(res) == PGRES_TUPLES_OK;
	out[0] = '\0';
	if (!ok) {
		const char *m = PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY);
		snprintf(message, msize, "%s", m ? m : "a catalog lookup failed");
	} else if (PQntuples(res) == 1 && !PQgetisnull(res, 0, 0)) {
		snprintf(out, size, "%s", PQgetvalue(res, 0, 0));
	}
	PQclear(res);
	return ok;
}

typedef enum cast_plan { CAST_PASSES, CAST_QUERY, CAST_DONE } cast_plan;

/* The query of a type change's probe into b (CAST_QUERY), or its outcome in p
 * (CAST_PASSES: nothing can fail; CAST_DONE: p->outcome and p->detail say). Runs inside
 * the probe's savepoint: a lookup that fails leaves the transaction to be rolled back to it. */
static cast_plan cast_sql(buf *b, PGconn *conn, mig_data_probe *p, const char *key,
			  char *target_name, size_t tsize, bool *failed)
{
	char sql[512], message[256] = "", value[256];
	*failed = false;
	const char *params[2] = {p->table, p->columns[0]};
	static const char column_sql[] =
		"SELECT a.atttypid::text || ' ' || a.atttypmod::text || ' ' || format_type(a.atttypid,"
		" a.atttypmod) FROM pg_attribute a WHERE a.attrelid = to_regclass($1)"
		" AND a.attname = $2 AND a.attnum > 0 AND NOT a.attisdropped";
	if (!lookup(conn, column_sql, 2, params, value, sizeof value, message, sizeof message)) {
		*failed = true;
		snprintf(p->detail, sizeof p->detail, "%s", message);
		return CAST_DONE;
	}
	unsigned s = 0;
	int smod = -1, used = 0;
	if (!value[0] || sscanf(value, "%u %d %n", &s, &smod, &used) < 2) {
		snprintf(p->detail, sizeof p->detail, "%s has no column %s", p->table, p->columns[0]);
		return CAST_DONE;
	}
	char source_name[128];
	snprintf(source_name, sizeof source_name, "%s", value + used);
	/* the types as the server reads them (a type that does not exist fails here) */
	snprintf(sql, sizeof sql, "SELECT NULL::%s, NULL::%s", p->type, p->cast_type ? p->cast_type : p->type);
	PGresult *res = PQexecParams(conn, sql, 0, NULL, NULL, NULL, NULL, 0);
	if (PQresultStatus(res) != PGRES_TUPLES_OK) {
		const char *m = PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY);
		snprintf(p->detail, sizeof p->detail, "%s", m ? m : "the new type cannot be read");
		PQclear(res);
		*failed = true;
		return CAST_DONE;
	}
	Oid t = PQftype(res, 0), ct = PQftype(res, 1);
	int tmod = PQfmod(res, 0), ctmod = PQfmod(res, 1);
	PQclear(res);
	char t_text[16], tmod_text[16];
	snprintf(t_text, sizeof t_text, "%u", t);
	snprintf(tmod_text, sizeof tmod_text, "%d", tmod);
	const char *tparams[2] = {t_text, tmod_text};
	lookup(conn, "SELECT format_type($1::oid, $2::int)", 2, tparams, target_name, tsize, message,
	       sizeof message);
	int server = PQserverVersion(conn);
	buf v = {.ok = true};
	put_ident(&v, conn, p->columns[0]);
	if (!v.ok) {
		free(v.s);
		snprintf(p->detail, sizeof p->detail, "out of memory");
		return CAST_DONE;
	}
	/* without USING, the conversion must be one PostgreSQL does on assignment: from a
	 * string to another kind of type it is not (whatever the rows) */
	if (!p->cast_type && is_string(s) && !is_string(t) && s != t) {
		char sp[16];
		snprintf(sp, sizeof sp, "%u", s);
		const char *cparams[2] = {sp, t_text};
		if (lookup(conn, "SELECT 1 FROM pg_cast WHERE castsource = $1::oid AND casttarget = $2::oid"
			   " AND castcontext IN ('a', 'i')", 2, cparams, value, sizeof value, message,
			   sizeof message) && !value[0]) {
			p->outcome = MIG_PROBE_WOULD_FAIL;
			snprintf(p->detail, sizeof p->detail,
				 "%s.%s (%s) cannot be cast automatically to %s: add USING %s::%s",
				 p->table, p->columns[0], source_name, target_name, p->columns[0], p->type);
			free(v.s);
			return CAST_DONE;
		}
	}
	buf pred = {.ok = true};
	step_result result = cast_step(&pred, v.s, s, smod, p->cast_type ? ct : t,
				       p->cast_type ? ctmod : tmod, p->cast_type != NULL, server);
	if (p->cast_type && result != STEP_UNTESTED) {
		/* then the cast's result is assigned to the new type: testable when one of the
		 * two steps cannot fail (the second's test converts, so the first must not raise) */
		buf cv = {.ok = true}, pred2 = {.ok = true};
		put(&cv, "%s::%s", v.s, p->cast_type);
		step_result second = cast_step(&pred2, cv.s ? cv.s : "", ct, ctmod, t, tmod, false, server);
		if (second != STEP_CANNOT_FAIL && result == STEP_CANNOT_FAIL) {
			free(pred.s);
			pred = pred2;
			result = second;
		} else {
			free(pred2.s);
			if (second != STEP_CANNOT_FAIL)
				result = STEP_UNTESTED;
		}
		free(cv.s);
	}
	if (result == STEP_UNTESTED) {
		snprintf(p->detail, sizeof p->detail, "no test of a change from %s to %s%s", source_name,
			 target_name, server < 160000 && is_string(s) ? " before PostgreSQL 16" : "");
		free(pred.s);
		free(v.s);
		return CAST_DONE;
	}
	bool first = result == STEP_CANNOT_FAIL;
	if (first) {
		free(pred.s);
		free(v.s);
		return CAST_PASSES;
	}
	put(b, "SELECT %s::text, left(%s::text, 40) FROM %s WHERE %s LIMIT %d", key, v.s, p->table,
	    pred.s ? pred.s : "true", PROBE_LIMIT + 1);
	b->ok = b->ok && pred.ok;
	free(pred.s);
	free(v.s);
	return CAST_QUERY;
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
	case MIG_PROBE_CHECK:
		put(b, "SELECT %s::text FROM %s WHERE NOT coalesce((%s), true) LIMIT %d", key, t,
		    p->expr, PROBE_LIMIT + 1);
		break;
	case MIG_PROBE_CAST:
		break; /* cast_sql */
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
	/* the time limit bounds the probe's own query only: a catalog lookup around it that
	 * ran out of time would abort the transaction and hide what timed out */
	char limit[64], target[128] = "";
	snprintf(limit, sizeof limit, "SET LOCAL statement_timeout = %lld", timeout_ms);
	command(conn, "SAVEPOINT migrate_probe", state, sizeof state, message, sizeof message);
	buf b = {.ok = true};
	if (p->kind == MIG_PROBE_CAST) {
		bool failed;
		cast_plan plan = cast_sql(&b, conn, p, key, target, sizeof target, &failed);
		if (plan != CAST_QUERY) {
			free(b.s);
			if (plan == CAST_PASSES)
				p->outcome = MIG_PROBE_PASSES;
			command(conn, "ROLLBACK TO SAVEPOINT migrate_probe", state, sizeof state, message,
				sizeof message);
			command(conn, "RELEASE SAVEPOINT migrate_probe", state, sizeof state, message,
				sizeof message);
			return;
		}
	} else {
		probe_sql(&b, conn, p, key, ref_key);
	}
	if (!b.ok) {
		free(b.s);
		snprintf(p->detail, sizeof p->detail, "out of memory");
		command(conn, "ROLLBACK TO SAVEPOINT migrate_probe", state, sizeof state, message,
			sizeof message);
		command(conn, "RELEASE SAVEPOINT migrate_probe", state, sizeof state, message,
			sizeof message);
		return;
	}
	command(conn, limit, state, sizeof state, message, sizeof message);
	/* the extended protocol: one statement, whatever a condition's text holds */
	PGresult *res = PQexecParams(conn, b.s, 0, NULL, NULL, NULL, NULL, 0);
	free(b.s);
	if (PQresultStatus(res) != PGRES_TUPLES_OK) {
		const char *s = PQresultErrorField(res, PG_DIAG_SQLSTATE);
		const char *m = PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY);
		char rows[48];
		char m_copy[256];
		snprintf(m_copy, sizeof m_copy, "%s", m ? m : "the probe failed");
		bool timed_out = s && !strcmp(s, "57014"), locked = s && !strcmp(s, "55P03");
		/* a check whose condition raises on a row fails the deploy the same way */
		bool raises = p->kind == MIG_PROBE_CHECK && s && (!strncmp(s, "22", 2) || !strncmp(s, "23", 2));
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
		else if (raises) {
			p->outcome = MIG_PROBE_WOULD_FAIL;
			snprintf(p->detail, sizeof p->detail, "the condition of %s raises on a row of %s: %s",
				 p->constraint ? p->constraint : "the check", p->table, m_copy);
		} else
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
		else if (p->kind == MIG_PROBE_CHECK)
			snprintf(p->detail, sizeof p->detail, "%s row%s of %s violate%s %s (%s %s)", count,
				 n == 1 ? "" : "s", p->table, n == 1 ? "s" : "",
				 p->constraint ? p->constraint : "the check", key, s);
		else if (p->kind == MIG_PROBE_CAST) {
			char pairs[256] = "";
			for (int r = 0; r < n && r < 3; r++) {
				size_t len = strlen(pairs);
				snprintf(pairs + len, sizeof pairs - len, "%s%s %.40s '%.40s'", r ? ", " : "",
					 key, PQgetvalue(res, r, 0), PQgetvalue(res, r, 1));
			}
			snprintf(p->detail, sizeof p->detail,
				 "%s row%s of %s: %s does not convert to %s (%s%s)", count,
				 n == 1 ? "" : "s", p->table, p->columns[0],
				 target[0] ? target : p->type, pairs, n > 3 ? ", …" : "");
		} else
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

/* Seed data on PostgreSQL (pg_seed.h): reading schema_migrations_seeds and the one
 * transaction of `seed --data --reset`. Table names arrive as the seed files write them
 * and are resolved by the server (to_regclass, the session's search_path), never pasted
 * into SQL: only the server's own regclass output is. */
#include "postgres/pg_seed.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "postgres/pg_result.h"

static const char seeds_select[] =
	"SELECT module, name, checksum, rendered_checksum FROM schema_migrations_seeds"
	" ORDER BY module COLLATE \"C\", name COLLATE \"C\"";

int mig_pg_seeds_read(PGconn *conn, mig_repeatable_ledger *out, mig_error *err)
{
	memset(out, 0, sizeof *out);
	PGresult *res = PQexec(conn, seeds_select);
	if (PQresultStatus(res) != PGRES_TUPLES_OK) {
		const char *state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
		int rc = state && !strcmp(state, "42P01") /* never created: nothing loaded */
				 ? MIG_OK
				 : mig_pg_result_error(conn, res, "cannot read schema_migrations_seeds",
						       err);
		PQclear(res);
		return rc;
	}
	int rc = mig_pg_repeatable_rows(res, out, err);
	PQclear(res);
	return rc;
}

int mig_pg_repeatable_rows(const PGresult *res, mig_repeatable_ledger *out, mig_error *err)
{
	int n = PQntuples(res);
	bool failed = PQnfields(res) > 4;
	out->rows = calloc(n ? (size_t)n : 1, sizeof *out->rows);
	int rc = out->rows ? MIG_OK : mig_error_set(err, MIG_EFAIL, "out of memory");
	for (int i = 0; rc == MIG_OK && i < n; i++) {
		mig_repeatable_row *row = &out->rows[out->nrows++];
		row->module = strdup(PQgetvalue(res, i, 0));
		row->name = strdup(PQgetvalue(res, i, 1));
		snprintf(row->checksum, sizeof row->checksum, "%s", PQgetvalue(res, i, 2));
		snprintf(row->rendered, sizeof row->rendered, "%s", PQgetvalue(res, i, 3));
		if (failed)
			snprintf(row->failed, sizeof row->failed, "%s", PQgetvalue(res, i, 4));
		if (!row->module || !row->name)
			rc = mig_error_set(err, MIG_EFAIL, "out of memory");
	}
	if (rc < 0)
		mig_repeatable_ledger_clear(out);
	return rc;
}

/* Runs sql with params; res kept for the caller when out is non-NULL. */
static int exec(PGconn *conn, const char *sql, int n, const char *const *params, PGresult **out,
		const char *what, mig_error *err)
{
	PGresult *res = PQexecParams(conn, sql, n, NULL, params, NULL, NULL, 0);
	int status = PQresultStatus(res);
	if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK) {
		int rc = mig_pg_result_error(conn, res, what, err);
		PQclear(res);
		return rc;
	}
	if (out)
		*out = res;
	else
		PQclear(res);
	return MIG_OK;
}

/* Appends "$first, $first+1, ..." (count of them) to buf. */
static int append_params(char **buf, size_t *len, size_t *cap, size_t first, size_t count,
			 const char *open, const char *sep, const char *close)
{
	for (size_t i = 0; i < count; i++) {
		char piece[64];
		int k = snprintf(piece, sizeof piece, "%s$%zu%s", i ? sep : open, first + i,
				 i + 1 == count ? close : "");
		if (*len + (size_t)k + 1 > *cap) {
			size_t grown_cap = (*cap + (size_t)k + 1) * 2;
			char *grown = realloc(*buf, grown_cap);
			if (!grown)
				return -1;
			*buf = grown;
			*cap = grown_cap;
		}
		memcpy(*buf + *len, piece, (size_t)k + 1);
		*len += (size_t)k;
	}
	return 0;
}

/* "<prefix>ARRAY[$1, ..., $n]::text[]<suffix>", or NULL when memory runs out. */
static char *with_array(const char *prefix, size_t n, const char *suffix)
{
	size_t len = strlen(prefix), cap = len + 64;
	char *buf = malloc(cap);
	if (!buf)
		return NULL;
	memcpy(buf, prefix, len + 1);
	if (append_params(&buf, &len, &cap, 1, n, "ARRAY[", ", ", "]::text[]") < 0) {
		free(buf);
		return NULL;
	}
	size_t more = strlen(suffix);
	char *grown = realloc(buf, len + more + 1);
	if (!grown) {
		free(buf);
		return NULL;
	}
	memcpy(grown + len, suffix, more + 1);
	return grown;
}

/* Every table of names, resolved, refused when missing or referenced from outside. */
static int check_tables(PGconn *conn, const char *const *tables, size_t n, mig_error *err)
{
	char *missing_sql = with_array("SELECT t FROM unnest(", n,
				       ") AS t WHERE to_regclass(t) IS NULL LIMIT 1");
	char *fk_sql = with_array(
		"WITH s AS (SELECT to_regclass(t) AS oid FROM unnest(", n,
		") AS t) SELECT c.conrelid::regclass::text, c.confrelid::regclass::text, c.conname"
		" FROM pg_constraint c WHERE c.contype = 'f'"
		" AND c.confrelid IN (SELECT oid FROM s) AND c.conrelid NOT IN (SELECT oid FROM s)"
		" ORDER BY 1, 3 LIMIT 1");
	int rc = missing_sql && fk_sql ? MIG_OK : mig_error_set(err, MIG_EFAIL, "out of memory");
	PGresult *res = NULL;
	if (rc == MIG_OK &&
	    (rc = exec(conn, missing_sql, (int)n, tables, &res, "cannot look the seeded tables up",
		       err)) == MIG_OK) {
		if (PQntuples(res))
			rc = mig_error_set(err, MIG_EUSAGE,
					   "seed --reset: table '%s', which a seed file inserts into, does not exist; nothing changed",
					   PQgetvalue(res, 0, 0));
		PQclear(res);
	}
	if (rc == MIG_OK &&
	    (rc = exec(conn, fk_sql, (int)n, tables, &res, "cannot read the foreign keys", err)) ==
		    MIG_OK) {
		if (PQntuples(res))
			rc = mig_error_set(err, MIG_EUSAGE,
					   "seed --reset refused: table '%s', which no seed file writes, references seeded table '%s' (foreign key %s); emptying it would need CASCADE — nothing changed",
					   PQgetvalue(res, 0, 0), PQgetvalue(res, 0, 1),
					   PQgetvalue(res, 0, 2));
		PQclear(res);
	}
	free(missing_sql);
	free(fk_sql);
	return rc;
}

static int truncate_tables(PGconn *conn, const char *const *tables, size_t n, mig_error *err)
{
	/* the server writes each name as SQL (quoted, qualified when off the search_path) */
	char *list_sql = with_array("SELECT string_agg(DISTINCT to_regclass(t)::text, ', ') FROM unnest(",
				    n, ") AS t");
	if (!list_sql)
		return mig_error_set(err, MIG_EFAIL, "out of memory");
	PGresult *res = NULL;
	int rc = exec(conn, list_sql, (int)n, tables, &res, "cannot look the seeded tables up", err);
	free(list_sql);
	if (rc < 0)
		return rc;
	const char *list = PQgetvalue(res, 0, 0);
	size_t size = strlen(list) + 64;
	char *sql = malloc(size);
	if (!sql) {
		PQclear(res);
		return mig_error_set(err, MIG_EFAIL, "out of memory");
	}
	snprintf(sql, size, "TRUNCATE TABLE %s RESTART IDENTITY", list);
	PQclear(res);
	rc = exec(conn, sql, 0, NULL, NULL, "cannot empty the seeded tables", err);
	free(sql);
	return rc;
}

static int forget_files(PGconn *conn, const char *const *modules, const char *const *names,
			size_t n, mig_error *err)
{
	if (!n)
		return MIG_OK;
	const char **params = malloc(2 * n * sizeof *params);
	size_t len = 0, cap = 128;
	char *sql = malloc(cap);
	int rc = params && sql ? MIG_OK : mig_error_set(err, MIG_EFAIL, "out of memory");
	if (rc == MIG_OK) {
		len = (size_t)snprintf(sql, cap,
				       "DELETE FROM schema_migrations_seeds WHERE (module, name) IN (");
		for (size_t i = 0; rc == MIG_OK && i < n; i++) {
			params[2 * i] = modules[i];
			params[2 * i + 1] = names[i];
			if (append_params(&sql, &len, &cap, 2 * i + 1, 2, i ? ", (" : "(", ", ",
					  i + 1 == n ? "))" : ")") < 0)
				rc = mig_error_set(err, MIG_EFAIL, "out of memory");
		}
	}
	if (rc == MIG_OK)
		rc = exec(conn, sql, (int)(2 * n), params, NULL,
			  "cannot forget the seed files' records", err);
	free(sql);
	free(params);
	return rc;
}

int mig_pg_seed_reset(PGconn *conn, const char *const *tables, size_t ntables,
		      const char *const *modules, const char *const *names, size_t nfiles,
		      mig_error *err)
{
	int rc = exec(conn, "BEGIN", 0, NULL, NULL, "cannot begin the reset's transaction", err);
	if (rc < 0)
		return rc;
	if (ntables && (rc = check_tables(conn, tables, ntables, err)) == MIG_OK)
		rc = truncate_tables(conn, tables, ntables, err);
	if (rc == MIG_OK)
		rc = forget_files(conn, modules, names, nfiles, err);
	if (rc == MIG_OK)
		rc = exec(conn, "COMMIT", 0, NULL, NULL, "cannot commit the reset", err);
	if (PQtransactionStatus(conn) != PQTRANS_IDLE) {
		PGresult *rb = PQexec(conn, "ROLLBACK");
		PQclear(rb);
	}
	return rc;
}

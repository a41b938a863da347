/* The PostgreSQL side of fleets: reading the targets a config's `targets.query` returns
 * (on the control database), and a per-schema advisory lock key. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "postgres/pg_error.h"
#include "postgres/pg_fleet.h"

long long mig_pg_schema_lock_key(long long base, const char *schema)
{
	uint64_t h = 14695981039346656037ull;
	for (const unsigned char *p = (const unsigned char *)schema; *p; p++) {
		h ^= *p;
		h *= 1099511628211ull;
	}
	/* keep it positive and distinct from the whole-database key */
	long long key = (long long)((h ^ (uint64_t)base) & 0x7fffffffffffffffull);
	return key == base ? key ^ 1 : key;
}

int mig_pg_targets_read(PGconn *conn, const char *query, char ***cells, size_t *nrows,
			size_t *ncols, mig_error *err)
{
	*cells = NULL;
	*nrows = *ncols = 0;
	PGresult *res = PQexec(conn, query);
	if (PQresultStatus(res) != PGRES_TUPLES_OK) {
		char msg[512];
		const char *primary = res ? PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY) : NULL;
		const char *field = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
		char state[6] = "";
		if (field)
			snprintf(state, sizeof state, "%s", field);
		mig_pg_first_line(msg, sizeof msg,
				  primary ? primary
					  : (res && PQresultStatus(res) == PGRES_COMMAND_OK)
						    ? "it returns no rows (not a SELECT)"
						    : PQerrorMessage(conn));
		PQclear(res);
		if (state[0])
			return mig_error_set(err, MIG_EUSAGE, "'targets.query' failed: %s (SQLSTATE %s)",
					     msg, state);
		return mig_error_set(err, MIG_EUSAGE, "'targets.query' failed: %s", msg);
	}
	size_t rows = (size_t)PQntuples(res), cols = (size_t)PQnfields(res);
	char **out = calloc(rows * cols > 0 ? rows * cols : 1, sizeof *out);
	if (!out) {
		PQclear(res);
		return mig_error_set(err, MIG_EFAIL, "out of memory");
	}
	int rc = MIG_OK;
	for (size_t r = 0; r < rows && rc == MIG_OK; r++)
		for (size_t c = 0; c < cols && rc == MIG_OK; c++) {
			if (PQgetisnull(res, (int)r, (int)c))
				rc = mig_error_set(err, MIG_EUSAGE,
						   "'targets.query' returned NULL in row %zu, column '%s'",
						   r + 1, PQfname(res, (int)c));
			else if (!(out[r * cols + c] = strdup(PQgetvalue(res, (int)r, (int)c))))
				rc = mig_error_set(err, MIG_EFAIL, "out of memory");
		}
	PQclear(res);
	if (rc < 0) {
		for (size_t i = 0; i < rows * cols; i++)
			free(out[i]);
		free(out);
		return rc;
	}
	*cells = out;
	*nrows = rows;
	*ncols = cols;
	return MIG_OK;
}

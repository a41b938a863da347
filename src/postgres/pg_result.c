/* A failed libpq command as one line (pg_result.h): shared by the driver's connection
 * (pg_conn.c and the files of the session), seed data, scratch databases and lint. */
#include "postgres/pg_result.h"

#include "postgres/pg_error.h"

int mig_pg_result_error(PGconn *conn, const PGresult *res, const char *what, mig_error *err)
{
	const char *primary = res ? PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY) : NULL;
	const char *state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
	const char *whole = res ? PQresultErrorMessage(res) : "";
	char msg[512];
	mig_pg_first_line(msg, sizeof msg,
			  primary ? primary : whole[0] ? whole : PQerrorMessage(conn));
	if (state)
		return mig_error_set(err, MIG_EFAIL, "%s: %s (SQLSTATE %s)", what, msg, state);
	return mig_error_set(err, MIG_EFAIL, "%s: %s", what, msg);
}

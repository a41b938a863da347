/* The libpq floor for the no-op and memory figures: a client that only connects (same DSN, same
 * libpq) and runs one query, keeping the whole result, as `migrate status` must at least.
 * usage: floor DSN QUERY; prints the row count. Built by bench/run.sh, never installed. */
#include <libpq-fe.h>
#include <stdio.h>

int main(int argc, char **argv)
{
	if (argc != 3) {
		fprintf(stderr, "usage: floor DSN QUERY\n");
		return 2;
	}
	PGconn *conn = PQconnectdb(argv[1]);
	if (PQstatus(conn) != CONNECTION_OK) {
		fprintf(stderr, "floor: %s", PQerrorMessage(conn));
		return 1;
	}
	PGresult *res = PQexec(conn, argv[2]);
	int ok = PQresultStatus(res) == PGRES_TUPLES_OK;
	if (ok)
		printf("%d\n", PQntuples(res));
	else
		fprintf(stderr, "floor: %s", PQerrorMessage(conn));
	PQclear(res);
	PQfinish(conn);
	return ok ? 0 : 1;
}

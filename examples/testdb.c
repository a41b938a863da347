/* A test suite's fixture, reduced to the part libmigrate is for: a fresh database with
 * the whole tree migrated for each test (cloned from a template in milliseconds), used
 * through libpq, then dropped.
 *
 *   testdb_example [CONFIG [ROOT]]     CONFIG defaults to $APP_CONFIG, then ./config.yaml
 */
#include <libpq-fe.h>
#include <migrate/migrate.h>
#include <stdio.h>

/* One test: the users table the core module's first migration made is there, empty. */
static int run_test(const char *conninfo)
{
	PGconn *conn = PQconnectdb(conninfo);
	if (PQstatus(conn) != CONNECTION_OK) {
		fprintf(stderr, "test: cannot connect: %s", PQerrorMessage(conn));
		PQfinish(conn);
		return 1;
	}
	PGresult *res = PQexec(conn, "SELECT count(*) FROM users");
	int failed = PQresultStatus(res) != PGRES_TUPLES_OK;
	if (failed)
		fprintf(stderr, "test: %s", PQerrorMessage(conn));
	else
		printf("test: users has %s rows\n", PQgetvalue(res, 0, 0));
	PQclear(res);
	PQfinish(conn);
	return failed;
}

int main(int argc, char **argv)
{
	const char *config = argc > 1 ? argv[1] : NULL;
	const char *root = argc > 2 ? argv[2] : NULL;
	mig_error err;
	mig_testdb *db = NULL;
	if (mig_testdb_create(config, root, NULL, &db, &err) != MIG_OK) {
		fprintf(stderr, "test: no test database: %s\n", err.message);
		return 1;
	}
	printf("test: database %s from %s (%s) in %.0f ms\n", db->database, db->template_name,
	       db->template_built ? "built" : "cloned", db->ms);
	int failed = run_test(db->dsn);
	if (mig_testdb_drop(config, db->database, &err) != MIG_OK) {
		fprintf(stderr, "test: cannot drop %s: %s\n", db->database, err.message);
		failed = 1;
	}
	mig_testdb_free(db);
	return failed;
}

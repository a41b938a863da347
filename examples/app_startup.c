/* An application's startup, reduced to the part libmigrate is for: it refuses to serve
 * until `migrate up` has applied the core schema (and, given a config, everything).
 *
 *   app_startup [CONNINFO]          checks $DATABASE_URL or CONNINFO
 *   app_startup --config PATH       also refuses while migrations are pending
 */
#include <migrate/migrate.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int main(int argc, char **argv)
{
	mig_error err;
	int rc;
	if (argc == 3 && !strcmp(argv[1], "--config")) {
		rc = mig_quick_check_config(argv[2], NULL, &err);
	} else {
		const char *conninfo = argc > 1 ? argv[1] : getenv("DATABASE_URL");
		rc = mig_quick_check(conninfo ? conninfo : "", &err);
	}
	if (rc != MIG_OK) {
		fprintf(stderr, "app: refusing to start: %s\n", err.message);
		return 1;
	}
	printf("app: schema is up to date, starting\n");
	return 0;
}

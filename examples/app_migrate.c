/* An application that migrates its own database at start-up, as goose and golang-migrate
 * users do from Go: open the config, apply what is pending, log each migration, and
 * refuse to serve if one failed.
 *
 *   app_migrate [CONFIG]            default: $APP_CONFIG, then ./config.yaml
 */
#include <migrate/migrate.h>
#include <stdio.h>

int main(int argc, char **argv)
{
	mig_error err;
	mig_migrator *m = NULL;
	if (mig_open(&m, argc > 1 ? argv[1] : NULL, NULL, &err) != MIG_OK) {
		fprintf(stderr, "app: bad migration config: %s\n", err.message);
		return 2;
	}
	mig_up_result *result = NULL;
	int rc = mig_up(m, &result, &err);
	for (size_t i = 0; result && i < result->count; i++) {
		const mig_migration_result *r = &result->migrations[i];
		if (r->status == MIG_OK)
			printf("app: applied %s/%lld %s (%lld ms)\n", r->module, r->version, r->name,
			       r->duration_ms);
		else
			printf("app: %s/%lld failed at %s:%u, SQLSTATE %s\n", r->module, r->version,
			       r->file, r->line, r->sqlstate);
	}
	if (rc == MIG_OK)
		printf("app: %zu migration(s) applied, libmigrate %s, starting\n",
		       result ? result->count : 0, mig_version());
	else
		fprintf(stderr, "app: refusing to start: %s\n", err.message);
	mig_up_result_free(result);
	mig_close(m);
	return rc == MIG_OK ? 0 : 1;
}

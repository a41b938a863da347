/* `migrate wait`: for init containers and CI jobs that start beside their database.
 * Waits until every database of the config accepts connections and answers —
 * PostgreSQL: a session opens and reads the ledger, as any command's would; MongoDB:
 * {ping: 1} through the loadable module's driver table — or until --timeout (60 s). */
#include <errno.h>
#include <time.h>

#include "cli/cli.h"
#include "core/session.h"

/* between attempts: short, so a server that comes up is seen within a quarter second */
#define PAUSE_MS 250

static long long now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void sleep_ms(long long ms)
{
	struct timespec ts = {(time_t)(ms / 1000), (long)(ms % 1000) * 1000000L};
	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

/* One attempt on PostgreSQL: connect (bounded by what is left of the wait, so a host
 * that drops packets cannot hold the wait past its end for long) and read the ledger. */
static int pg_answers(const mig_context *ctx, long long left_ms, mig_error *err)
{
	mig_sql_config pg = ctx->cfg->pg;
	long long s = (left_ms + 999) / 1000;
	/* libpq takes whole seconds and treats 1 as 2 */
	pg.connect_timeout_s = s < 2 ? 2 : s > 3600 ? 3600 : (int)s;
	mig_session session;
	int rc = mig_session_open(&session, ctx->registry, &pg, 0, err);
	mig_session_close(&session);
	return rc;
}

/* One attempt on MongoDB: connect and ping. libmongoc's single-threaded client tries a
 * server once per selection, so a refused connection fails at once; a silent host is
 * bounded by the URI's connectTimeoutMS (default 5 s). */
static int mongo_answers(const mig_doc_driver *drv, const mig_config *cfg, mig_error *err)
{
	mig_mongo *m = NULL;
	int rc = drv->connect(&m, cfg->mongo_uri, cfg->mongo_database, err);
	if (rc == MIG_OK)
		rc = drv->ping(m, err);
	drv->disconnect(m);
	return rc;
}

static void print_duration(char *out, size_t size, long long ms)
{
	if (ms % 1000 == 0)
		snprintf(out, size, "%llds", ms / 1000);
	else
		snprintf(out, size, "%lldms", ms);
}

int mig_cmd_wait(mig_context *ctx, mig_error *err)
{
	const mig_config *cfg = ctx->cfg;
	if (!cfg->has_postgres && !cfg->has_mongodb)
		return mig_error_set(err, MIG_EUSAGE,
				     "'migrate wait' needs a 'postgres:' or 'mongodb:' section in the config (%s)",
				     mig_config_choose_path(ctx->args.config_path));
	mig_doc_backend *mongo = NULL;
	int rc = MIG_OK;
	/* the module is loaded once, before the clock starts: a missing module is not
	 * something waiting can cure */
	if (cfg->has_mongodb && (rc = mig_registry_doc_open(&mongo, "mongodb", err)) < 0)
		return rc;
	long long start = now_ms(), deadline = start + ctx->args.timeout_ms;
	bool pg_ok = !cfg->has_postgres, mongo_ok = !cfg->has_mongodb;
	mig_error last = {0};
	const char *waiting_for = NULL;
	for (;;) {
		if (!pg_ok) {
			rc = pg_answers(ctx, deadline - now_ms(), &last);
			pg_ok = rc == MIG_OK;
			waiting_for = "PostgreSQL";
		}
		if (pg_ok && !mongo_ok) {
			rc = mongo_answers(mongo->drv, cfg, &last);
			mongo_ok = rc == MIG_OK;
			waiting_for = "MongoDB";
		}
		if (pg_ok && mongo_ok) {
			rc = MIG_OK;
			break;
		}
		if (rc == MIG_EUSAGE) /* a bad URI or DSN: no amount of waiting helps */
			break;
		long long left = deadline - now_ms();
		if (left <= 0) {
			rc = MIG_EFAIL;
			break;
		}
		sleep_ms(left < PAUSE_MS ? left : PAUSE_MS);
	}
	if (rc == MIG_OK && !ctx->args.quiet)
		fprintf(ctx->out, "%s%s%s answered after %.1f s\n", cfg->has_postgres ? "PostgreSQL" : "",
			cfg->has_postgres && cfg->has_mongodb ? " and " : "",
			cfg->has_mongodb ? "MongoDB" : "", (double)(now_ms() - start) / 1000.0);
	else if (rc == MIG_EUSAGE)
		mig_error_set(err, rc, "%s", last.message);
	else if (rc < 0) {
		char within[32];
		print_duration(within, sizeof within, ctx->args.timeout_ms);
		bool pg = waiting_for[0] == 'P';
		const char *target = pg ? cfg->pg.dsn : cfg->mongo_uri;
		/* the target as configured, its password redacted (and again by main) */
		mig_error_set(err, MIG_EFAIL, "%s at '%s' did not answer within %s: %s", waiting_for,
			      pg && (!target || !target[0]) ? "(libpq defaults)" : target, within, last.message);
		mig_config_redact(cfg, err->message, sizeof err->message);
	}
	mig_doc_backend_close(mongo);
	return rc;
}

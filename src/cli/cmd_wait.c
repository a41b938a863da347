/* `migrate wait`: for init containers and CI jobs that start beside their database.
 * Waits until every database of the config accepts connections and answers —
 * PostgreSQL: a session opens and reads the ledger, as any command's would, on
 * postgres.dsn and then on every target database of a fleet (`targets:` with kind:
 * database; schema targets live in postgres.dsn); MongoDB: {ping: 1} through the
 * loadable module's driver table — or until --timeout (60 s). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli/cli.h"
#include "core/session.h"
#include "fleet/fleet.h"
#include "util/clock.h"

/* between attempts: short, so a server that comes up is seen within a quarter second */
#define PAUSE_MS 250

/* One attempt on PostgreSQL: connect (bounded by what is left of the wait, so a host
 * that drops packets cannot hold the wait past its end for long) and read the ledger. */
static int pg_answers(const mig_context *ctx, const char *dsn, long long left_ms,
		      mig_error *err)
{
	mig_sql_config pg = ctx->cfg->pg;
	if (dsn)
		pg.dsn = (char *)dsn;
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

/* What a fleet adds to the wait: its targets, read once the control database answers
 * (a targets.query runs there), and which of their databases have answered. */
typedef struct fleet_wait {
	bool read;
	mig_fleet_targets targets;
	bool *ok;      /* per target: its database answered (kind: database) */
	size_t failing; /* the target of the last failed attempt */
} fleet_wait;

/* One round over the fleet: reads the targets when not read yet, then tries each target
 * database that has not answered. MIG_OK when every one has. */
static int fleet_answers(mig_context *ctx, fleet_wait *fw, long long deadline, mig_error *err)
{
	int rc;
	if (!fw->read) {
		rc = mig_fleet_targets_read(&fw->targets, ctx->cfg, ctx->registry, NULL,
					    &ctx->cfg->secrets, err);
		if (rc < 0)
			return rc;
		fw->read = true;
		fw->ok = calloc(fw->targets.n ? fw->targets.n : 1, sizeof *fw->ok);
		if (!fw->ok)
			return mig_error_set(err, MIG_EFAIL, "out of memory");
	}
	if (fw->targets.kind != MIG_TARGET_DATABASE)
		return MIG_OK; /* schemas of postgres.dsn, which has answered */
	int result = MIG_OK;
	for (size_t i = 0; i < fw->targets.n; i++) {
		if (fw->ok[i])
			continue;
		mig_error e = {0};
		rc = pg_answers(ctx, fw->targets.items[i].dsn, deadline - mig_now_ms(), &e);
		fw->ok[i] = rc == MIG_OK;
		if (rc < 0 && result == MIG_OK) { /* the first target still failing is named */
			result = rc;
			fw->failing = i;
			*err = e;
		}
		if (rc == MIG_EUSAGE)
			break;
	}
	return result;
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
	long long start = mig_now_ms(), deadline = start + ctx->args.timeout_ms;
	bool fleet = cfg->has_postgres && cfg->targets.present;
	bool pg_ok = !cfg->has_postgres, fleet_ok = !fleet, mongo_ok = !cfg->has_mongodb;
	fleet_wait fw = {0};
	mig_error last = {0};
	const char *waiting_for = NULL;
	for (;;) {
		if (!pg_ok) {
			rc = pg_answers(ctx, NULL, deadline - mig_now_ms(), &last);
			pg_ok = rc == MIG_OK;
			waiting_for = "PostgreSQL";
		}
		if (pg_ok && !fleet_ok) {
			rc = fleet_answers(ctx, &fw, deadline, &last);
			fleet_ok = rc == MIG_OK;
			waiting_for = fw.read ? "target" : "PostgreSQL";
		}
		if (pg_ok && fleet_ok && !mongo_ok) {
			rc = mongo_answers(mongo->drv, cfg, &last);
			mongo_ok = rc == MIG_OK;
			waiting_for = "MongoDB";
		}
		if (pg_ok && fleet_ok && mongo_ok) {
			rc = MIG_OK;
			break;
		}
		if (rc == MIG_EUSAGE) /* a bad URI, DSN or targets.query: no amount of waiting helps */
			break;
		long long left = deadline - mig_now_ms();
		if (left <= 0) {
			rc = MIG_EFAIL;
			break;
		}
		mig_sleep_ms(left < PAUSE_MS ? left : PAUSE_MS);
	}
	bool target = waiting_for && !strcmp(waiting_for, "target") && fw.failing < fw.targets.n;
	const mig_target *t = target ? &fw.targets.items[fw.failing] : NULL;
	if (rc == MIG_OK && !ctx->args.quiet) {
		char targets[96] = "";
		if (fleet && fw.targets.n)
			snprintf(targets, sizeof targets, " (postgres.dsn and %zu %s target%s)",
				 fw.targets.n, fw.targets.kind == MIG_TARGET_DATABASE ? "database" : "schema",
				 fw.targets.n == 1 ? "" : "s");
		fprintf(ctx->out, "%s%s%s%s answered after %.1f s\n", cfg->has_postgres ? "PostgreSQL" : "",
			targets, cfg->has_postgres && cfg->has_mongodb ? " and " : "",
			cfg->has_mongodb ? "MongoDB" : "", (double)(mig_now_ms() - start) / 1000.0);
	} else if (rc == MIG_EUSAGE && t) {
		mig_error_set(err, rc, "target '%.100s': %s", t->name, last.message);
	} else if (rc == MIG_EUSAGE) {
		mig_error_set(err, rc, "%s", last.message);
	} else if (rc < 0) {
		char within[32];
		print_duration(within, sizeof within, ctx->args.timeout_ms);
		bool pg = waiting_for[0] == 'P';
		const char *where = t ? t->dsn : pg ? cfg->pg.dsn : cfg->mongo_uri;
		/* the target as configured, its password redacted (and again by main) */
		if (t)
			mig_error_set(err, MIG_EFAIL,
				      "PostgreSQL target '%.100s' at '%s' did not answer within %s: %s",
				      t->name, where, within, last.message);
		else
			mig_error_set(err, MIG_EFAIL, "%s at '%s' did not answer within %s: %s",
				      waiting_for,
				      pg && (!where || !where[0]) ? "(libpq defaults)" : where, within,
				      last.message);
		mig_config_redact(cfg, err->message, sizeof err->message);
	}
	free(fw.ok);
	mig_fleet_targets_clear(&fw.targets);
	mig_doc_backend_close(mongo);
	return rc;
}

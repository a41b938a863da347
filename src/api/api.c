/* The in-process face of libmigrate (include/migrate/migrate.h): open a config, apply
 * what is pending, hand back per-migration results. The same engine, session and driver
 * as `migrate up`; this file only adapts them to the public types. */
#include "migrate/migrate.h"

#include <stdlib.h>
#include <string.h>

#include "core/config.h"
#include "core/engine.h"
#include "core/environment.h"
#include "core/repeatable.h"
#include "core/plan.h"
#include "core/session.h"

struct mig_migrator {
	mig_config *cfg;
	mig_plan *plan;
};

const char *mig_version(void)
{
	return MIGRATE_VERSION_STRING;
}

int mig_open(mig_migrator **out, const char *config_path, const char *root, mig_error *err)
{
	*out = NULL;
	mig_migrator *m = calloc(1, sizeof *m);
	if (!m)
		return mig_error_set(err, MIG_EFAIL, "out of memory");
	int rc = mig_config_load(&m->cfg, mig_config_choose_path(config_path), err);
	if (rc == MIG_OK && !m->cfg->has_postgres)
		rc = mig_error_set(err, MIG_EUSAGE, "the config has no 'postgres:' section (%s)",
				   m->cfg->path);
	if (rc == MIG_OK)
		rc = mig_plan_build(&m->plan, m->cfg, mig_plan_choose_root(root, m->cfg), err);
	if (rc < 0) {
		if (err)
			mig_config_redact(m->cfg, err->message, sizeof err->message);
		mig_close(m);
		return rc;
	}
	*out = m;
	return MIG_OK;
}

/* Collects each step's outcome into a mig_up_result as the engine runs. */
typedef struct collector {
	mig_up_result *result;
	const mig_config *cfg;
	bool oom;
} collector;

static char *dup_or_null(const char *s)
{
	return s ? strdup(s) : NULL;
}

static void collect_step(void *ctx, const mig_run *run, size_t i, long long ms,
			 const mig_error *failed)
{
	collector *c = ctx;
	mig_up_result *r = c->result;
	mig_migration_result *grown = realloc(r->migrations, (r->count + 1) * sizeof *grown);
	if (!grown) {
		c->oom = true;
		return;
	}
	r->migrations = grown;
	const mig_migration *m = run->items[i].migration;
	mig_migration_result *item = &r->migrations[r->count++];
	memset(item, 0, sizeof *item);
	item->module = dup_or_null(run->items[i].module->name);
	item->version = m->version;
	item->name = dup_or_null(m->name);
	item->file = dup_or_null(m->up_path);
	item->duration_ms = ms;
	if (failed) {
		char message[MIG_ERROR_MAX];
		memcpy(message, failed->message, sizeof message);
		mig_config_redact(c->cfg, message, sizeof message);
		item->status = failed->code;
		item->message = dup_or_null(message);
		memcpy(item->sqlstate, failed->sqlstate, sizeof item->sqlstate);
		item->line = failed->line;
	}
	c->oom |= !item->module || !item->name || !item->file || (failed && !item->message);
}

int mig_up(mig_migrator *m, mig_up_result **out, mig_error *err)
{
	if (out)
		*out = NULL;
	mig_up_result *result = calloc(1, sizeof *result);
	if (!result)
		return mig_error_set(err, MIG_EFAIL, "out of memory");
	collector c = {result, m->cfg, false};
	mig_observer obs = {.ctx = &c, .step_end = collect_step};
	mig_session s;
	mig_run run = {0};
	int rc = mig_session_open(&s, NULL, &m->cfg->pg, MIG_SESSION_LOCK, err);
	if (rc == MIG_OK)
		rc = mig_engine_plan_up(&run, m->plan, &s.ledger, NULL, false, err);
	if (rc == MIG_OK)
		rc = mig_env_mark(&run, m->cfg, err);
	mig_repeatable_ledger reps = {0};
	if (rc == MIG_OK && (rc = mig_repeatables_read(&reps, &s, m->plan, err)) == MIG_OK)
		rc = mig_repeatable_plan(&run, m->plan, &reps, NULL, err);
	mig_repeatable_ledger_clear(&reps);
	if (rc == MIG_OK)
		rc = mig_engine_apply(&s, &run, &obs, err);
	mig_run_clear(&run);
	mig_session_close(&s);
	if (rc == MIG_OK && c.oom)
		rc = mig_error_set(err, MIG_EFAIL, "out of memory");
	if (rc < 0 && err)
		mig_config_redact(m->cfg, err->message, sizeof err->message);
	if (out)
		*out = result;
	else
		mig_up_result_free(result);
	return rc;
}

void mig_up_result_free(mig_up_result *result)
{
	if (!result)
		return;
	for (size_t i = 0; i < result->count; i++) {
		mig_migration_result *item = &result->migrations[i];
		free((char *)item->module);
		free((char *)item->name);
		free((char *)item->file);
		free((char *)item->message);
	}
	free(result->migrations);
	free(result);
}

void mig_close(mig_migrator *m)
{
	if (!m)
		return;
	mig_plan_free(m->plan);
	mig_config_free(m->cfg);
	free(m);
}

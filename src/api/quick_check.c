/* The startup QuickCheck behind `migrate check` and libmigrate's mig_quick_check: is
 * the core schema applied (and, with a config, is nothing pending)? */
#include "migrate/migrate.h"

#include <stdlib.h>
#include <string.h>

#include "core/engine.h"
#include "core/phase.h"
#include "api/quick_check.h"
#include "util/secret.h"
#include "core/session.h"

/* The rule itself, on what the check read of core's rows. */
static int core_rule(const mig_ledger_head *head, long long *core_version, mig_error *err)
{
	*core_version = head->applied;
	if (head->dirty)
		return mig_error_set(err, MIG_ESCHEMA,
				     "core schema is dirty at version %lld \xe2\x80\x94 repair it and run 'migrate resolve'",
				     head->dirty_version);
	if (!head->exists || head->applied < 1)
		return mig_error_set(err, MIG_ESCHEMA,
				     "core schema not applied \xe2\x80\x94 run 'migrate up'");
	return MIG_OK;
}

int mig_check_core(const mig_ledger *ledger, long long *core_version, mig_error *err)
{
	mig_ledger_head head = {.exists = ledger->exists};
	for (size_t i = 0; i < ledger->nrows; i++) {
		const mig_applied *row = &ledger->rows[i];
		if (strcmp(row->module, "core") != 0)
			continue;
		if (row->dirty) {
			if (!head.dirty || row->version > head.dirty_version)
				head.dirty_version = row->version;
			head.dirty = true;
		} else if (row->version > head.applied) {
			head.applied = row->version;
		}
	}
	return core_rule(&head, core_version, err);
}

int mig_check_core_session(mig_session *s, long long *core_version, mig_error *err)
{
	if (!s->drv->ledger_head) {
		mig_ledger_clear(&s->ledger);
		int rc = s->drv->ledger_read(s->conn, &s->ledger, err);
		return rc < 0 ? rc : mig_check_core(&s->ledger, core_version, err);
	}
	mig_ledger_head head;
	int rc = s->drv->ledger_head(s->conn, "core", &head, err);
	return rc < 0 ? rc : core_rule(&head, core_version, err);
}

/* Connects to pg's database and checks core (no lock: a check only reads). */
static int check_database(const mig_sql_config *pg, long long *core_version, mig_error *err)
{
	mig_session s;
	int rc = mig_session_open(&s, NULL, pg, MIG_SESSION_NO_LEDGER, err);
	if (rc == MIG_OK)
		rc = mig_check_core_session(&s, core_version, err);
	mig_session_close(&s);
	return rc;
}

/* Reads the ledger of pg's database once (no lock: a check only reads). */
static int read_ledger(const mig_sql_config *pg, mig_ledger *ledger, mig_error *err)
{
	mig_session s;
	int rc = mig_session_open(&s, NULL, pg, 0, err);
	if (rc == MIG_OK) {
		*ledger = s.ledger;
		s.ledger = (mig_ledger){0};
	}
	mig_session_close(&s);
	return rc;
}

int mig_quick_check(const char *conninfo, mig_error *err)
{
	mig_sql_config pg = {
		.backend = "postgres",
		.dsn = (char *)(conninfo ? conninfo : ""),
		.lock_timeout_ms = -1,
		.statement_timeout_ms = -1,
	};
	long long core;
	int rc = check_database(&pg, &core, err);
	if (rc < 0 && err) {
		mig_secrets secrets = {0};
		mig_secrets_add(&secrets, pg.dsn);
		mig_secrets_redact(&secrets, err->message, sizeof err->message);
		mig_secrets_clear(&secrets);
	}
	return rc;
}

int mig_quick_check_config(const char *config_path, const char *root, mig_error *err)
{
	mig_config *cfg = NULL;
	mig_plan *plan = NULL;
	mig_ledger ledger = {0};
	mig_module_status *rows = NULL;
	size_t n = 0;
	long long core;
	int rc = mig_config_load(&cfg, mig_config_choose_path(config_path), err);
	if (rc == MIG_OK && !cfg->has_postgres)
		rc = mig_error_set(err, MIG_EUSAGE, "the config has no 'postgres:' section (%s)",
				   cfg->path);
	if (rc == MIG_OK)
		rc = mig_plan_build(&plan, cfg, mig_plan_choose_root(root, cfg), err);
	if (rc == MIG_OK)
		rc = read_ledger(&cfg->pg, &ledger, err);
	if (rc == MIG_OK)
		rc = mig_check_core(&ledger, &core, err);
	if (rc == MIG_OK)
		rc = mig_engine_status(&rows, &n, plan, &ledger, err);
	/* between the phases the new application must start: contract-only is migrated */
	if (rc == MIG_OK)
		rc = mig_phase_mark_status(rows, n, plan, &ledger, err);
	if (rc == MIG_OK) {
		char list[256] = "";
		size_t pending = 0, used = 0;
		for (size_t i = 0; i < n; i++) {
			if (!rows[i].pending || rows[i].contract_pending)
				continue;
			pending += rows[i].pending;
			if (used < sizeof list - 40)
				used += (size_t)snprintf(list + used, sizeof list - used, "%s%s (%zu)",
							 used ? ", " : "", rows[i].module, rows[i].pending);
		}
		if (pending)
			rc = mig_error_set(err, MIG_ESCHEMA,
					   "pending migrations exist: %s \xe2\x80\x94 run 'migrate up'",
					   list);
	}
	if (rc < 0 && err)
		mig_config_redact(cfg, err->message, sizeof err->message);
	free(rows);
	mig_ledger_clear(&ledger);
	mig_plan_free(plan);
	mig_config_free(cfg);
	return rc;
}

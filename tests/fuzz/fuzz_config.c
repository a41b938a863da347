/* libFuzzer target for mig_config_parse (YAML, ${VAR} expansion, secrets) and mig_config_redact
 * on arbitrary bytes. On success: fields agree with has_postgres/has_mongodb, values in range,
 * module names valid and unique, redaction removes every password; on failure: a one-line message. */
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/config.h"
#include "fuzz.h"
#include "util/names.h"
#include "util/secret.h"


int LLVMFuzzerInitialize(int *argc, char ***argv);
/* Variables the seeds reference, so expansion (and passwords arriving through it) get
 * exercised the same way on every machine. */
int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	setenv("MIGRATE_PG_DSN", "postgres://app:s3cr%40t@db.example:5432/app", 1);
	setenv("MIGRATE_MONGO_URI", "mongodb://root:hunter2@mongo.example:27017/?authSource=admin", 1);
	setenv("MIGRATE_MONGO_DB", "app", 1);
	setenv("FUZZ_PW", "pa'ss w\\ord", 1);
	setenv("FUZZ_EMPTY", "", 1);
	unsetenv("FUZZ_UNSET");
	return 0;
}

static void check_error(const mig_error *err, int rc)
{
	size_t len = check_one_line_error(err, rc);
	/* every usage error names the file, unless cut at the buffer's end or redacted (a
	 * password may be "z", and scrubbing can shorten a message that was cut) */
	if (rc == MIG_EUSAGE && len + 1 < sizeof err->message && !strstr(err->message, "***"))
		CHECK(strstr(err->message, "fuzz.yaml") != NULL);

	/* without a config there is nothing to redact */
	char copy[MIG_ERROR_MAX];
	memcpy(copy, err->message, sizeof copy);
	mig_config_redact(NULL, copy, sizeof copy);
	CHECK(!memcmp(copy, err->message, len + 1));
}

/* Redacting text that quotes the DSN and URI leaves no password behind (passwords holding
 * '*' can be rebuilt from the mask itself, so they are left out of the check), and never
 * writes past the buffer whatever its size. */
static void check_redact(const mig_config *cfg)
{
	char msg[MIG_ERROR_MAX];
	snprintf(msg, sizeof msg, "cannot connect to '%s' nor '%s': password %s rejected",
		 cfg->pg.dsn ? cfg->pg.dsn : "", cfg->mongo_uri ? cfg->mongo_uri : "",
		 cfg->secrets.n ? cfg->secrets.items[0] : "");
	mig_config_redact(cfg, msg, sizeof msg);
	CHECK(strnlen(msg, sizeof msg) < sizeof msg);
	for (size_t i = 0; i < cfg->secrets.n; i++)
		if (!strchr(cfg->secrets.items[i], '*'))
			CHECK(!strstr(msg, cfg->secrets.items[i]));

	for (size_t i = 0; i < cfg->secrets.n; i++) {
		for (size_t size = 1; size <= 12; size++) {
			char *small = malloc(size); /* exact size, so an overflow is caught */
			CHECK(small != NULL);
			snprintf(small, size, "x%s", cfg->secrets.items[i]);
			mig_config_redact(cfg, small, size);
			CHECK(strnlen(small, size) < size);
			free(small);
		}
	}
}

static void check_config(const mig_config *cfg)
{
	CHECK(cfg->path && !strcmp(cfg->path, "fuzz.yaml"));
	CHECK(!cfg->root || cfg->root[0] == '/'); /* absolute, or resolved against /tmp */
	CHECK(cfg->has_postgres == (cfg->pg.dsn != NULL));
	CHECK(cfg->has_mongodb == (cfg->mongo_uri != NULL));
	CHECK(cfg->has_mongodb == (cfg->mongo_database != NULL));
	CHECK(cfg->pg.lock_wait_ms >= 0 && cfg->pg.lock_wait_ms <= INT_MAX);
	CHECK(cfg->pg.lock_timeout_ms >= -1 && cfg->pg.lock_timeout_ms <= INT_MAX);
	CHECK(cfg->pg.statement_timeout_ms >= -1 && cfg->pg.statement_timeout_ms <= INT_MAX);
	CHECK(cfg->pg.lock_mode == MIG_LOCK_ADVISORY || cfg->pg.lock_mode == MIG_LOCK_TABLE);

	CHECK(cfg->nmodules == 0 || cfg->modules);
	for (size_t i = 0; i < cfg->nmodules; i++) {
		const mig_module_config *m = &cfg->modules[i];
		CHECK(m->name && mig_module_name_valid(m->name));
		CHECK(m->line >= 1);
		for (size_t j = 0; j < i; j++)
			CHECK(strcmp(cfg->modules[j].name, m->name) != 0);
		CHECK(m->nrequires == 0 || m->requires);
		for (size_t j = 0; j < m->nrequires; j++)
			CHECK(m->requires[j] && mig_module_name_valid(m->requires[j]));
		CHECK(mig_config_module(cfg, m->name) == m);
		CHECK(mig_config_module_enabled(cfg, m->name) == (m->enabled || !strcmp(m->name, "core")));
	}
	CHECK(mig_config_module_enabled(cfg, "core"));

	/* targets: only with postgres:, every name valid for its kind and unique, a DSN exactly
	 * for kind: database */
	const mig_targets_config *tc = &cfg->targets;
	CHECK(!tc->present || cfg->has_postgres);
	CHECK(!tc->present || tc->nlist || tc->query);
	CHECK(tc->present || (!tc->nlist && !tc->query));
	CHECK(!tc->query || tc->query[0]);
	CHECK(tc->parallel <= 1024);
	for (size_t i = 0; i < tc->nlist; i++) {
		const mig_target *t = &tc->list[i];
		CHECK(t->name && mig_target_name_valid(tc->kind, t->name));
		CHECK((tc->kind == MIG_TARGET_DATABASE) == (t->dsn != NULL));
		CHECK(tc->kind == MIG_TARGET_DATABASE || !t->mongodb_database);
		for (size_t j = 0; j < i; j++)
			CHECK(strcmp(tc->list[j].name, t->name) != 0);
	}

	/* at most MIG_DSN_PASSWORDS_MAX from each of the DSN, the URI and every target DSN */
	CHECK(cfg->secrets.n <= (2 + tc->nlist) * MIG_DSN_PASSWORDS_MAX &&
	      (cfg->secrets.n == 0 || cfg->secrets.items));
	for (size_t i = 0; i < cfg->secrets.n; i++)
		CHECK(cfg->secrets.items[i] && *cfg->secrets.items[i]);
	check_redact(cfg);
}

static int same_str(const char *a, const char *b)
{
	return a == b || (a && b && !strcmp(a, b));
}

static int same_config(const mig_config *a, const mig_config *b)
{
	if (!same_str(a->root, b->root) || !same_str(a->pg.dsn, b->pg.dsn) ||
	    !same_str(a->mongo_uri, b->mongo_uri) || !same_str(a->mongo_database, b->mongo_database) ||
	    a->pg.lock_wait_ms != b->pg.lock_wait_ms || a->pg.lock_timeout_ms != b->pg.lock_timeout_ms ||
	    a->pg.statement_timeout_ms != b->pg.statement_timeout_ms || a->pg.lock_mode != b->pg.lock_mode ||
	    a->nmodules != b->nmodules || a->secrets.n != b->secrets.n)
		return 0;
	for (size_t i = 0; i < a->nmodules; i++)
		if (strcmp(a->modules[i].name, b->modules[i].name) ||
		    a->modules[i].enabled != b->modules[i].enabled ||
		    a->modules[i].nrequires != b->modules[i].nrequires)
			return 0;
	return 1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* an exact-size copy without a terminator, so any read past size is caught */
	char *text = malloc(size ? size : 1);
	if (!text)
		return 0;
	if (size)
		memcpy(text, data, size);

	mig_config *cfg = (mig_config *)1;
	mig_error err = {0};
	int rc = mig_config_parse(&cfg, text, size, "fuzz.yaml", "/tmp", &err);
	if (rc != MIG_OK) {
		CHECK(cfg == NULL);
		check_error(&err, rc);
		free(text);
		return 0;
	}
	CHECK(cfg != NULL);
	check_config(cfg);

	/* the same bytes give the same config again */
	mig_config *again = NULL;
	mig_error err2 = {0};
	CHECK(mig_config_parse(&again, text, size, "fuzz.yaml", "/tmp", &err2) == MIG_OK);
	CHECK(same_config(cfg, again));
	mig_config_free(again);

	mig_config_free(cfg);
	free(text);
	return 0;
}

/* config.yaml: which backends to reach and which modules are enabled, in what order.
 * Loaded and validated (src/core/config.c, the only reader of YAML) before any connection. */
#ifndef MIGRATE_CONFIG_H
#define MIGRATE_CONFIG_H

#include <stdbool.h>
#include <stddef.h>

#include "driver/doc_driver.h"
#include "driver/sql_config.h"
#include "util/error.h"
#include "util/secret.h"

/* Largest config file read; anything bigger is refused rather than parsed. */
#define MIG_CONFIG_MAX_BYTES (1024 * 1024)

typedef enum mig_lint_mode {
	MIG_LINT_WARN,   /* up prints findings on large existing tables, then runs */
	MIG_LINT_OFF,    /* up does not lint */
	MIG_LINT_REFUSE, /* `error`: such a finding refuses the run */
} mig_lint_mode;

typedef struct mig_module_config {
	char *name;
	bool enabled;
	char **requires; /* names of modules that must run first */
	size_t nrequires;
	unsigned line;   /* where the module is declared, for messages */
	bool control;    /* `scope: control`: runs only on the control database of a fleet */
} mig_module_config;


/* The targets: section: a fleet of databases or schemas migrated by one command. */
typedef enum mig_target_kind {
	MIG_TARGET_DATABASE, /* each target its own database (name, dsn[, mongodb_database]) */
	MIG_TARGET_SCHEMA,   /* each target a schema of postgres.dsn (name only) */
} mig_target_kind;

typedef struct mig_target {
	char *name;
	char *dsn;              /* expanded; NULL for kind: schema */
	char *mongodb_database; /* NULL when none */
	unsigned line;          /* where it is listed; 0 when read by targets.query */
} mig_target;

typedef struct mig_targets_config {
	bool present;         /* the config has a targets: section */
	mig_target_kind kind;
	mig_target *list;     /* static targets, in config order */
	size_t nlist;
	char *query;          /* run on postgres.dsn to read more targets; NULL when none */
	unsigned query_line;
	unsigned long parallel; /* default for --parallel; 0 when not set */
	unsigned line;        /* of the targets: key */
} mig_targets_config;

typedef struct mig_config {
	char *path; /* the file it was loaded from ("" when parsed from memory) */
	char *root; /* `root:` resolved against the config's directory; NULL when absent */
	/* `environment:` (or --env): files tagged `-- migrate:env` run only where it is
	 * named; NULL when unset (an empty value counts as unset) */
	char *environment;
	/* `placeholders:` (name -> expanded value), for the envsub spans of migration files */
	char **placeholder_names, **placeholder_values;
	size_t nplaceholders;

	bool has_postgres;
	mig_sql_config pg;
	mig_lint_mode lint_mode;    /* postgres.lint, default warn */
	/* postgres.hooks: SQL files relative to the tree root; NULL when not configured */
	char *hook_before_up, *hook_after_each, *hook_after_up;
	long long lint_min_rows;    /* postgres.lint_min_rows, default 10000 */
	bool drift_privileges;      /* postgres.drift_privileges: drift compares grants, default true */
	long long lint_probe_timeout_ms; /* postgres.lint_probe_timeout, default 5s */
	bool lint_data;             /* postgres.lint_data: on: up probes the rows (lint --data) */

	bool has_mongodb;
	char *mongo_uri;
	char *mongo_database;
	mig_doc_run_config mongo_run; /* lock_wait, lock_lease, write_concern, max_time_ms,
				       * commit_quorum */

	mig_module_config *modules; /* in config order */
	size_t nmodules;

	mig_targets_config targets;

	mig_secrets secrets; /* passwords found in the DSN and URI: never to be printed */
} mig_config;

/* Parses YAML text (len bytes) as a config, naming `name` in errors and resolving `root:`
 * against `dir`. ${VAR} and ${VAR:-default} are expanded in every scalar. Unknown keys,
 * duplicate keys, wrong types, YAML errors, unset variables and bad `requires` are
 * MIG_EUSAGE with a message naming the key and ending "(name:line)". On success *out
 * belongs to the caller: release it with mig_config_free. */
int mig_config_parse(mig_config **out, const char *text, size_t len, const char *name,
		     const char *dir, mig_error *err);

/* Reads and parses path; an unreadable, empty-named, oversized or non-regular file is
 * MIG_EUSAGE naming it. */
int mig_config_load(mig_config **out, const char *path, mig_error *err);

/* The config file to use: explicit (from --config) if non-NULL, else $APP_CONFIG if
 * set and non-empty, else "config.yaml". Borrowed: do not free. */
const char *mig_config_choose_path(const char *explicit_path);

/* The module's entry, or NULL when the config does not mention it. Borrowed. */
const mig_module_config *mig_config_module(const mig_config *cfg, const char *name);

/* Whether module runs: core always, others only when listed and enabled. */
bool mig_config_module_enabled(const mig_config *cfg, const char *name);

/* Replaces every secret of cfg (cfg may be NULL) found in text with "***", in place;
 * size is the capacity of text, and the result is truncated to fit. */
void mig_config_redact(const mig_config *cfg, char *text, size_t size);

/* The value of placeholder name: from `placeholders:`, else the environment, else NULL.
 * Borrowed. cfg is a const mig_config * (void * to serve as a mig_expand_lookup_fn). */
const char *mig_config_placeholder(void *cfg, const char *name);

/* Sets cfg's environment to name (--env), which must be valid (else MIG_EUSAGE naming
 * it); replaces what the config said. */
int mig_config_set_environment(mig_config *cfg, const char *name, mig_error *err);

/* Whether name may name a target of kind: a schema is [A-Za-z_][A-Za-z0-9_]* of at
 * most 63 bytes; a database target any 1-200 printable non-space bytes. */
bool mig_target_name_valid(mig_target_kind kind, const char *name);

/* Releases a target's strings (wiping none: its DSN's password is in cfg->secrets). */
void mig_target_clear(mig_target *t);

/* Accepts NULL. */
void mig_config_free(mig_config *cfg);

#endif

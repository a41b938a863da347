/* The command line: one table row per command (name, options, what setup it needs,
 * help text, function), a shared option parser driven by that table, and the context
 * every command runs in. main.c only looks a command up and maps its result to an
 * exit status. */
#ifndef MIGRATE_CLI_H
#define MIGRATE_CLI_H

#include <stdbool.h>
#include <stdio.h>

#include "core/config.h"
#include "driver/registry.h"
#include "util/error.h"
#include "core/plan.h"
#include "report/report.h"
#include "core/phase.h"

#define MIG_VERSION_STRING MIGRATE_VERSION_STRING

typedef enum mig_option_id {
	MIG_OPT_END = 0,
	MIG_OPT_CONFIG,
	MIG_OPT_ROOT,
	MIG_OPT_HELP,
	MIG_OPT_MODULE,
	MIG_OPT_STEPS,
	MIG_OPT_DRY_RUN,
	MIG_OPT_ALLOW_OUT_OF_ORDER,
	MIG_OPT_FORMAT,
	MIG_OPT_VERSION,
	MIG_OPT_APPLIED,
	MIG_OPT_ROLLED_BACK,
	MIG_OPT_QUIET,
	MIG_OPT_VERBOSE,
	MIG_OPT_NAME,       /* testdb create */
	MIG_OPT_OLDER_THAN, /* testdb gc */
	MIG_OPT_FORCE,      /* reset */
	MIG_OPT_PENDING,
	MIG_OPT_REQUIRE_DOWN,
	MIG_OPT_ALL,
	MIG_OPT_OBSERVE,
	MIG_OPT_DATA,
	MIG_OPT_PG_VERSION,
	MIG_OPT_NO_LINT,
	MIG_OPT_PRUNE,
	MIG_OPT_PHASE,
	MIG_OPT_SQL,
	MIG_OPT_TARGET,       /* fleets: --target NAME (repeatable) */
	MIG_OPT_SHARD,        /* --shard I/N */
	MIG_OPT_CANARY,       /* --canary K */
	MIG_OPT_PARALLEL,     /* --parallel N */
	MIG_OPT_MAX_FAILURES, /* --max-failures F */
	MIG_OPT_FROM,         /* roundtrip --from V */
	MIG_OPT_TO,           /* roundtrip --to V */
	MIG_OPT_STOP_AFTER,   /* roundtrip --max-failures N: failed migrations, not targets */
	MIG_OPT_WORKERS,      /* roundtrip --parallel N: shadows at once, not targets */
	MIG_OPT_MONGODB,      /* resolve, baseline: the versioned MongoDB files */
	MIG_OPT_ENV,          /* --env NAME (every command with a config) */
	MIG_OPT_TIMEOUT,      /* wait --timeout D */
	MIG_OPT_SEED_DATA,    /* seed --data: the seed files, not indexes.json */
	MIG_OPT_RESET,        /* seed --data --reset */
	MIG_OPT_WITH_SEED,    /* testdb create --seed */
	MIG_OPT_COUNT, /* not an option: the number of ids */
} mig_option_id;

/* How many --target options one command line may carry. */
#define MIG_MAX_TARGET_OPTIONS 256

/* Everything any command's options can say. */
typedef struct mig_args {
	const char *config_path; /* --config */
	const char *root;        /* --root */
	const char *env;         /* --env: replaces the config's environment: */
	const char *module;      /* --module */
	unsigned long steps;     /* --steps, default 1 */
	bool has_steps;          /* --steps given */
	long long version;       /* --version (resolve) */
	bool has_version;
	bool dry_run, allow_out_of_order, applied, rolled_back, help, quiet, verbose, prune;
	bool mongodb; /* --mongodb (resolve, baseline) */
	bool pending, require_down; /* roundtrip */
	bool has_from, has_to;      /* roundtrip --from V, --to V; up/down --module M --to V */
	long long from_version, to_version;
	unsigned long stop_after;   /* roundtrip --max-failures, 0 when absent (no limit) */
	unsigned long workers;      /* roundtrip --parallel, 0 when absent (automatic) */
	mig_format format;
	const char *name;           /* --name (testdb create) */
	long long older_than_ms;    /* --older-than (testdb gc), default 24 h */
	bool force;                 /* --force (reset) */
	bool all, observe, no_lint; /* lint --all, --observe; up --no-lint */
	bool data;                  /* lint --data */
	bool seed_data, reset;      /* seed --data [--reset] */
	bool with_seed;             /* testdb create --seed */
	int pg_version;             /* lint --pg-version: a major version, 0 when not given */
	mig_phase phase; /* --phase expand|contract (up) */
	bool sql;        /* --sql (up --dry-run) */
	/* fleets (see src/fleet/fleet.h) */
	const char *targets[MIG_MAX_TARGET_OPTIONS]; /* --target, borrowed from argv */
	size_t ntargets;
	unsigned long shard, shards; /* --shard I/N; shards 0 when absent */
	unsigned long canary, parallel, max_failures; /* 0 when absent */
	long long timeout_ms; /* wait --timeout, default 60 s */
	char **positional; /* borrowed from argv */
	int npositional;
} mig_args;

typedef struct mig_context {
	mig_args args;
	mig_config *cfg;
	mig_plan *plan;
	struct mig_mongo_plan *mongo_plan; /* when the config has mongodb: */
	const mig_registry *registry; /* the backends (NULL: built-in), or a test's fake */
	FILE *out;                 /* results */
} mig_context;

enum {
	MIG_NEEDS_CONFIG = 1 << 0, /* load config.yaml */
	MIG_NEEDS_PLAN = 1 << 1,   /* walk migrations/postgres */
	MIG_NEEDS_POSTGRES = 1 << 2, /* the config must have a postgres: section */
	MIG_NEEDS_MONGODB = 1 << 3,  /* the config must have a mongodb: section */
	MIG_NEEDS_MONGO_PLAN = 1 << 4, /* read indexes.json files when mongodb: is configured */
};

typedef struct mig_command {
	const char *name;
	const char *summary;
	const char *usage;   /* after "migrate <name> " */
	const char *details; /* a paragraph for `help <command>` */
	const char *example;
	const mig_option_id *options; /* MIG_OPT_END-terminated */
	int operands;                 /* how many non-option arguments it takes at most */
	unsigned needs;
	/* MAY: checks option combinations before the config is even read */
	int (*check_args)(const mig_args *args, mig_error *err);
	int (*run)(mig_context *ctx, mig_error *err);
} mig_command;

/* The command table, NULL-name terminated. */
extern const mig_command mig_commands[];

/* The command named name, or NULL. */
const mig_command *mig_command_find(const char *name);

/* The command closest to a mistyped name, or NULL when none is close. */
const mig_command *mig_command_suggest(const char *name);

/* Parses argv (argv[0] is the command name) against cmd's options into args. An
 * unknown option, a missing or bad value is MIG_EUSAGE naming it. */
int mig_args_parse(mig_args *args, const mig_command *cmd, int argc, char **argv,
		   mig_error *err);

/* Runs cmd: over the fleet when the config has targets: and cmd acts on fleets (up,
 * down, status, verify, seed), else cmd->run. Fleet options without targets: are
 * MIG_EUSAGE. */
int mig_command_run(mig_context *ctx, const mig_command *cmd, mig_error *err);

/* drift over a fleet (cmd_drift.c): the per-target check of mig_fleet_options and the
 * state its targets share (the expected schema of each distinct applied history, and
 * for a schema fleet the one snapshot of the database). schemas: targets are schemas. */
typedef struct mig_drift_fleet mig_drift_fleet;
int mig_drift_fleet_new(mig_drift_fleet **out, mig_context *ctx, bool schemas, mig_error *err);
void mig_drift_fleet_free(mig_drift_fleet *d);
struct mig_fleet_result;
struct mig_target;
struct mig_session;
int mig_drift_fleet_check(void *ctx, const mig_plan *plan, const struct mig_target *target,
			  const mig_sql_config *sql, struct mig_session *s,
			  struct mig_fleet_result *r, mig_error *err);

/* Loads what cmd->needs into ctx (config, plan), failing before any connection. */
int mig_context_setup(mig_context *ctx, const mig_command *cmd, mig_error *err);

/* Releases what setup loaded. */
void mig_context_clear(mig_context *ctx);

void mig_help_overview(FILE *out);
void mig_help_command(const mig_command *cmd, FILE *out);

/* Commands. */
int mig_cmd_up(mig_context *ctx, mig_error *err);
int mig_cmd_down(mig_context *ctx, mig_error *err);
int mig_cmd_status(mig_context *ctx, mig_error *err);
int mig_cmd_check(mig_context *ctx, mig_error *err);
int mig_cmd_resolve(mig_context *ctx, mig_error *err);
int mig_cmd_help(mig_context *ctx, mig_error *err);
int mig_cmd_seed(mig_context *ctx, mig_error *err);
int mig_cmd_verify(mig_context *ctx, mig_error *err);
int mig_check_down_args(const mig_args *args, mig_error *err);
int mig_check_resolve_args(const mig_args *args, mig_error *err);
int mig_check_up_args(const mig_args *args, mig_error *err);
int mig_check_create_args(const mig_args *args, mig_error *err);
int mig_cmd_create(mig_context *ctx, mig_error *err);
int mig_check_testdb_args(const mig_args *args, mig_error *err);
int mig_cmd_testdb(mig_context *ctx, mig_error *err);
int mig_cmd_reset(mig_context *ctx, mig_error *err);
int mig_cmd_drift(mig_context *ctx, mig_error *err);
int mig_cmd_roundtrip(mig_context *ctx, mig_error *err);
int mig_cmd_lint(mig_context *ctx, mig_error *err);
int mig_check_roundtrip_args(const mig_args *args, mig_error *err);
int mig_check_lint_args(const mig_args *args, mig_error *err);
int mig_cmd_baseline(mig_context *ctx, mig_error *err);
int mig_cmd_wait(mig_context *ctx, mig_error *err);
int mig_check_baseline_args(const mig_args *args, mig_error *err);
int mig_check_seed_args(const mig_args *args, mig_error *err);

#endif

/* Fleets: one command over many targets (databases, or schemas of one database). The
 * targets come from the config's list and query (fleet_targets.c); the runner runs the
 * control database's `scope: control` modules first, then every target with the other
 * modules, N at once on threads, each target on its own session (fleet.c). It never
 * prints: an observer hears of each target as it finishes. */
#ifndef MIGRATE_FLEET_H
#define MIGRATE_FLEET_H

#include <stdbool.h>
#include <stddef.h>

#include "core/config.h"
#include "driver/registry.h"
#include "core/engine.h"
#include "core/mongo_plan.h"
#include "core/phase.h"
#include "core/plan.h"
#include "core/session.h"
#include "schema/snapshot.h"

/* What the command does on each target. A new one is one enum value and one case in
 * fleet.c's run_one. */
typedef enum mig_fleet_op {
	MIG_FLEET_UP,
	MIG_FLEET_DOWN,
	MIG_FLEET_STATUS,
	MIG_FLEET_VERIFY,
	MIG_FLEET_SEED,
	MIG_FLEET_DRIFT, /* through mig_fleet_options.check */
} mig_fleet_op;

/* Which targets a run takes (all borrowed). */
typedef struct mig_fleet_filter {
	const char *const *names; /* --target NAME...: only these (unknown ones are errors) */
	size_t nnames;
	unsigned long shard, shards; /* --shard I/N: 0 <= I < N; shards 0 when not sharded */
} mig_fleet_filter;

/* The targets of a run, in list order then query order, filtered. */
typedef struct mig_fleet_targets {
	mig_target_kind kind;
	mig_target *items;
	size_t n;
} mig_fleet_targets;

/* Reads the targets: the config's list, then (when set) targets.query on postgres.dsn
 * through reg's driver; registers every query DSN's password in secrets; then applies
 * filter. A failing query, wrong columns, a bad or duplicate name, an unknown --target
 * name are MIG_EUSAGE before anything runs; an unreachable control database MIG_EFAIL. */
int mig_fleet_targets_read(mig_fleet_targets *out, const mig_config *cfg,
			   const mig_registry *reg, const mig_fleet_filter *filter,
			   mig_secrets *secrets, mig_error *err);

void mig_fleet_targets_clear(mig_fleet_targets *t);

/* Which shard (0..shards-1) a target name falls in: a stable hash (FNV-1a 64) of it. */
unsigned long mig_fleet_shard_of(const char *name, unsigned long shards);

/* Parses "I/N" (0 <= I < N <= 100000): -1 when malformed or out of range. */
int mig_fleet_parse_shard(const char *text, unsigned long *shard, unsigned long *shards);

typedef enum mig_fleet_state {
	MIG_TARGET_SKIPPED, /* never started: the budget ran out or a canary failed */
	MIG_TARGET_OK,
	MIG_TARGET_FAILED,
} mig_fleet_state;

typedef struct mig_fleet_applied {
	const char *module; /* borrowed from the plan */
	long long version;
	const char *name;
	long long ms;
} mig_fleet_applied;

/* How one target (or the control database) went. */
typedef struct mig_fleet_result {
	const char *name; /* borrowed from the target */
	mig_fleet_state state;
	mig_fleet_applied *applied; /* up/down: what ran, in order */
	size_t napplied;
	size_t pending;   /* status: versions not applied (and dirty or missing-file modules) */
	size_t problems;  /* verify: problems found; seed: conflicts */
	mig_problem *files;          /* verify: the applied files' problems (owned; strings */
	size_t nfiles;               /* borrowed from the plan) */
	mig_missing_object *objects; /* verify: missing objects and invalid indexes (owned) */
	size_t nobjects;
	size_t created;   /* seed: collections and indexes created */
	bool behind;      /* status/verify/seed/drift: not up to date, or something is wrong */
	mig_diff drift;   /* drift: the differences (mig_fleet_report_clear frees them) */
	mig_error error;  /* when failed: redacted */
	long long ms;
} mig_fleet_result;

typedef struct mig_fleet_options {
	mig_fleet_op op;
	unsigned long parallel;     /* targets at once, >= 1 */
	unsigned long canary;       /* the first K run one after the other */
	unsigned long max_failures; /* stop starting new targets after this many failed */
	const char *module;         /* --module (up: only it; down: required) */
	unsigned long steps;        /* down */
	bool has_to;                /* up --module M --to V: M's versions up to `to` only;
				     * down --to V: every version of M above `to` */
	long long to;
	bool allow_out_of_order;
	mig_phase phase;            /* up --phase (SQL and MongoDB files) */
	bool dry_run;               /* seed */
	/* drift: checks one target (NULL: the control database) on its open session s,
	 * whose config is sql, with plan's modules, filling r (problems, behind, drift).
	 * Called from worker threads at once: what it shares, it locks. MUST be set for
	 * MIG_FLEET_DRIFT. */
	int (*check)(void *check_ctx, const mig_plan *plan, const mig_target *target,
		     const mig_sql_config *sql, mig_session *s, mig_fleet_result *r,
		     mig_error *err);
	void *check_ctx;
	/* the versioned MongoDB files (NNN_name.up.json) that up, status and verify run or
	 * check on each target's mongodb_database; NULL or empty: none */
	const mig_plan *mongo_versions;
} mig_fleet_options;

struct mig_fleet;

/* Hears of each target as it finishes (from worker threads, one at a time). */
typedef struct mig_fleet_observer {
	void *ctx;
	/* r finished; done and failed count the targets finished so far, of total */
	void (*target_end)(void *ctx, const mig_fleet_result *r, size_t done, size_t failed,
			   size_t total);
} mig_fleet_observer;

/* A run's outcome: control (when some module has `scope: control`) and one result per
 * target, in target order. */
typedef struct mig_fleet_report {
	bool has_control;
	mig_fleet_result control;
	mig_fleet_result *results;
	size_t n;
	size_t ok, failed, skipped, behind;
	long long ms;
} mig_fleet_report;

/* Runs opts->op over the control database and targets. plan holds every module that runs
 * (split here by scope); mongo_plan may be NULL. A target's failure is in its result, not
 * in the return value; MIG_OK unless the run itself could not start (memory, threads). */
int mig_fleet_run(mig_fleet_report *out, const mig_config *cfg, const mig_registry *reg,
		  const mig_plan *plan, const mig_mongo_plan *mongo_plan,
		  const mig_fleet_targets *targets, const mig_fleet_options *opts,
		  const mig_fleet_observer *obs, mig_error *err);

void mig_fleet_report_clear(mig_fleet_report *r);

#endif

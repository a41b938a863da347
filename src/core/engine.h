/* The engine: decides what to run from the plan and the ledger (pure logic, no I/O),
 * then runs it through a SQL driver, one migration file at a time, telling an observer
 * (never the terminal itself) how each file went. */
#ifndef MIGRATE_ENGINE_H
#define MIGRATE_ENGINE_H

#include <stdbool.h>
#include <stdio.h>

#include <time.h>

#include "driver/driver.h"
#include "core/hooks.h"
#include "core/plan.h"
#include "core/session.h"

/* Largest migration file read; bigger ones are refused with a clear error. */
#define MIG_SQL_MAX_BYTES (64u * 1024 * 1024)

typedef struct mig_run_item {
	const mig_module_plan *module;
	const mig_migration *migration;
	bool skip; /* only its ledger row: see mig_step.skip (core/environment.h) */
	bool repeatable; /* migration is a repeatable's as_migration (core/repeatable.h) */
} mig_run_item;

/* An ordered list of migrations to apply (up) or roll back (down). */
typedef struct mig_run {
	bool up;
	mig_run_item *items;
	size_t nitems;
	/* where the `-- migrate:envsub` spans of its files take their values (placeholders:,
	 * then the environment; set by mig_env_mark); NULL: the environment alone */
	const mig_config *vars;
	/* postgres.hooks to run around an up run (core/hooks.h); NULL: none */
	const mig_hooks *hooks;
} mig_run;

void mig_run_clear(mig_run *run);

/* How many items of run, from at on, belong to module: they are contiguous, runs being
 * in plan order (used to go module by module over SQL and MongoDB versions). */
size_t mig_run_module_items(const mig_run *run, size_t at, const char *module);

/* Every pending migration of every module in plan order, or of only_module when non-NULL.
 * A dirty module is MIG_EFAIL naming `migrate resolve`; a pending version below the
 * module's highest applied one is MIG_EUSAGE unless allow_out_of_order. */
int mig_engine_plan_up(mig_run *out, const mig_plan *plan, const mig_ledger *ledger,
		       const char *only_module, bool allow_out_of_order, mig_error *err);

/* The applied versions of the ledger, in plan order, as a run that rebuilds them (a
 * version recorded as skipped is replayed as skipped: its SQL never ran). Rows of modules
 * the config no longer runs are left out. An applied version without its file cannot be
 * rebuilt: MIG_EFAIL "cannot <purpose>: applied version M/V has no file in 'DIR'".
 * *out is the caller's: mig_run_clear. */
int mig_engine_plan_applied(mig_run *out, const mig_plan *plan, const mig_ledger *ledger,
			    const char *purpose, mig_error *err);

/* `up --module M --to V`: MIG_OK when V is one of module's versions in plan, else
 * MIG_EUSAGE naming the versions it has (checked before anything is changed). */
int mig_engine_check_to(const mig_plan *plan, const char *module, long long to,
			mig_error *err);

/* Keeps in run (an up) only the versions up to `to`. Cannot fail. */
void mig_engine_stop_at(mig_run *run, long long to);

/* The `steps` highest applied versions of module, highest first. A module that does not
 * run, a dirty module, or an applied version without its .down.sql is an error. */
int mig_engine_plan_down(mig_run *out, const mig_plan *plan, const mig_ledger *ledger,
			 const char *module, unsigned long steps, mig_error *err);

/* How one module stands, for `status`. */
typedef struct mig_module_status {
	const char *module;
	bool enabled;          /* false for ledger modules the config no longer runs */
	long long applied;     /* highest applied version, 0 when none */
	long long latest;      /* highest version in the tree, 0 when none */
	size_t napplied;
	size_t pending;
	long long dirty;       /* the dirty version, 0 when clean */
	size_t skipped;        /* versions recorded as skipped (`-- migrate:env`) */
	size_t repeatables;    /* repeatable migrations in the tree */
	size_t repeatables_outdated; /* of those, new, changed or failed (core/repeatable.h) */
	size_t missing;        /* applied versions whose file is gone */
	long long first_missing;
	bool contract_pending; /* the next pending version is a contract file (phase.h) */
} mig_module_status;

/* One entry per module of plan, then one per ledger module not in plan (*out is the
 * caller's: free()). */
int mig_engine_status(mig_module_status **out, size_t *count, const mig_plan *plan,
		      const mig_ledger *ledger, mig_error *err);

/* Something `verify` found wrong on the PostgreSQL side. */
typedef enum mig_problem_kind {
	MIG_PROBLEM_CHANGED,   /* the applied file's checksum differs from the ledger's */
	MIG_PROBLEM_FILE_GONE, /* an applied version has no file any more */
	MIG_PROBLEM_DIRTY,     /* a no-transaction migration did not finish */
	MIG_PROBLEM_REPEATABLE_CHANGED, /* a repeatable's file differs from what last ran
					 * (version 0; module and path name it) */
	MIG_PROBLEM_REPEATABLE_FAILED,  /* a repeatable's file failed the last time it ran */
	MIG_PROBLEM_RENDERED,  /* the file is unchanged but its envsub spans render otherwise
				* than when it ran: a placeholder's value changed */
} mig_problem_kind;

typedef struct mig_problem {
	mig_problem_kind kind;
	const char *module; /* borrowed from the plan or ledger */
	long long version;
	const char *path;   /* the file, or the module directory when it is gone */
} mig_problem;

/* Compares every applied version of the plan's modules with its file (reading and
 * hashing only applied files), and a file with envsub spans rendered with vars'
 * placeholders (NULL: the environment alone) with the rendered text that ran. *out
 * (caller frees) lists what is wrong; *checked counts the applied versions looked at. */
int mig_engine_verify_files(mig_problem **out, size_t *count, size_t *checked,
			    const mig_plan *plan, const mig_ledger *ledger, const mig_config *vars,
			    mig_error *err);

/* Renders the envsub spans of the file at path (text, len) with vars' placeholders
 * (util/expand.h): *out NULL when it has none, else the caller's. An unset placeholder
 * is MIG_EUSAGE naming it, the file and the line. */
int mig_engine_render(char **out, size_t *out_len, const char *path, const char *text,
		      size_t len, const mig_config *vars, mig_error *err);

/* Checks, before anything runs, that every file of run can be opened and is a regular
 * file within MIG_SQL_MAX_BYTES (MIG_EUSAGE naming it), so a bad file late in a run
 * cannot stop it halfway. Reads no contents. */
int mig_engine_preflight(const mig_run *run, mig_error *err);

/* Milliseconds since start (CLOCK_MONOTONIC). */
long long mig_elapsed_ms(const struct timespec *start);

/* Who watches a run: the terminal reporter (report_text.c), the library's result list
 * (api.c), up's lint guard. Every slot MAY be NULL; only vet can stop the run. */
typedef struct mig_observer {
	void *ctx;
	/* after preflight, before the first change: a negative return refuses the run with
	 * err filled (up's lint guard under postgres.lint: error); called with vet_ctx */
	int (*vet)(void *vet_ctx, mig_session *s, const mig_run *run, mig_error *err);
	void *vet_ctx;
	/* before run->items[i] runs, with the file's text */
	void (*step_begin)(void *ctx, const mig_run *run, size_t i, const char *sql, size_t len);
	/* after it ran for ms; failed is the error when it failed, else NULL */
	void (*step_end)(void *ctx, const mig_run *run, size_t i, long long ms,
			 const mig_error *failed);
	/* after attempt `attempt - 1` of run->items[i] failed with why (a lock timeout), before
	 * waiting wait_ms for attempt `attempt` of at most `attempts` */
	void (*step_retry)(void *ctx, const mig_run *run, size_t i, unsigned attempt,
			   unsigned attempts, long long wait_ms, const mig_error *why);
	/* after the before_up or after_up hook ran for ms; failed is its error, else NULL
	 * (after_each belongs to its step) */
	void (*hook_end)(void *ctx, const mig_hook *hook, long long ms, const mig_error *failed);
} mig_observer;

/* An observer of a slice of a run (items offset.. of whole) that tells inner about them as
 * items of the whole run, so that a run applied in parts is reported as one. */
typedef struct mig_slice_observer {
	const mig_observer *inner;
	const mig_run *whole;
	size_t offset;
} mig_slice_observer;

/* The observer of a slice (step_begin and step_end only; no vet). so must outlive it. */
mig_observer mig_observer_for_slice(mig_slice_observer *so, const mig_observer *inner,
				    const mig_run *whole, size_t offset);

/* When a transactional file failing with SQLSTATE 55P03 (lock_not_available) is retried. */
typedef struct mig_retry_policy {
	unsigned retries;     /* 0: never */
	long long backoff_ms; /* the first wait; doubled per attempt, jittered, capped */
} mig_retry_policy;

/* The longest wait between attempts. */
#define MIG_RETRY_BACKOFF_CAP_MS 30000

/* The wait before retry number k (1-based): backoff_ms * 2^(k-1), capped, times a
 * jitter factor in [1, 2) drawn from *seed, capped again. */
long long mig_retry_wait_ms(const mig_retry_policy *p, unsigned k, unsigned *seed);

/* Reads each file of run, records checksums, runs it through drv, stops at the first
 * failure. With run->hooks (up only): before_up first when a file will run SQL,
 * after_each with each such file, after_up after the last (its failure says how many
 * migrations were applied). Returns MIG_OK or the failure's code with err naming file
 * and line. */
int mig_engine_execute(const mig_sql_driver *drv, void *conn, const mig_run *run,
		       const mig_observer *obs, mig_error *err);

/* The same, retrying lock timeouts of transactional files as policy says (each retry
 * told to obs->step_retry first). */
int mig_engine_execute_retrying(const mig_sql_driver *drv, void *conn, const mig_run *run,
				const mig_retry_policy *policy, const mig_observer *obs,
				mig_error *err);

/* The sequence every changing command shares: preflight (refusals before any change),
 * the observer's vet, the ledger tables created when the run has work, then execute with
 * the session's retry policy (postgres.lock_retries, postgres.lock_retry_backoff). */
int mig_engine_apply(mig_session *s, const mig_run *run, const mig_observer *obs,
		     mig_error *err);

/* Refuses to roll back module while an enabled module that `requires` it has applied
 * versions: its tables may hold what the other's depend on (MIG_EUSAGE naming both). */
int mig_engine_refuse_required(const mig_config *cfg, const mig_ledger *ledger,
			       const char *module, mig_error *err);

/* What `resolve` records: decided from the plan (and the file's checksum) before any
 * connection, then written by mig_engine_resolve. Strings are borrowed from the plan. */
typedef struct mig_resolution {
	const char *module;
	long long version;
	const char *name;                /* "" when the tree no longer has the file */
	char checksum[MIG_CHECKSUM_HEX]; /* applied: the up file's SHA-256 */
	bool applied;                    /* else: rolled back */
} mig_resolution;

/* A module that does not run, or --applied for a version without a file, is MIG_EUSAGE. */
int mig_engine_resolve_prepare(mig_resolution *out, const mig_plan *plan, const char *module,
			       long long version, bool applied, mig_error *err);

/* Records r through the session's driver; --rolled-back of a version the ledger does not
 * hold is MIG_EUSAGE. */
int mig_engine_resolve(mig_session *s, const mig_resolution *r, mig_error *err);

/* Writes the psql-runnable script of run (up only) through the session's driver: the
 * guard on the ledger the session read, then each file as `apply` would run it. A
 * driver without scripts is MIG_EUSAGE. Changes nothing. */
int mig_engine_script(FILE *out, mig_session *s, const mig_run *run, mig_error *err);

/* Whether sql's leading comment block asks to run outside a transaction:
 * `-- migrate:run-in-tx false` or the goose, morph and dbmate spellings (directive.h). */
bool mig_sql_wants_no_transaction(const char *sql, size_t len);

#endif

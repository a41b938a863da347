/* Versioned MongoDB migrations on the core's side: the plan of <root>/mongodb/<module>/
 * NNN_<name>.up.json / .down.json, the ledger in the module's MongoDB database, and a run
 * through the MongoDB module's table. The engine's own planning (pending versions,
 * out-of-order and dirty refusals, down's order) is reused as it is for SQL. */
#ifndef MIGRATE_MONGO_VERSIONS_H
#define MIGRATE_MONGO_VERSIONS_H

#include <stdbool.h>
#include <stdio.h>

#include "core/config.h"
#include "core/engine.h"
#include "core/phase.h"
#include "core/plan.h"
#include "core/session.h"
#include "driver/doc_driver.h"
#include "driver/registry.h"
#include "util/checksum.h"

typedef struct mig_mongo_versions {
	mig_plan *plan;             /* the versioned files; NULL when not configured */
	bool has_files;             /* at least one module has a versioned file */
	mig_doc_backend *own;       /* loaded by open when none was lent */
	const mig_doc_driver *drv;  /* the module's table */
	mig_mongo *conn;
	mig_ledger ledger;          /* read by open */
	mig_run run;                /* planned by prepare_up / prepare_down */
	mig_doc_file **files;       /* the parsed file of each run item */
	char (*checksums)[MIG_CHECKSUM_HEX];
	mig_doc_result *results;    /* what each file's commands did, once it ran */
	size_t commands;            /* commands of the run, for the dry run */
	bool locked;
	bool plan_lent;             /* plan belongs to the caller (mig_mongo_versions_lend) */
} mig_mongo_versions;

/* Reads <root>/mongodb/ for versioned files (names only) when cfg has mongodb:. A bad
 * name, a duplicate version or a .down.json without its .up.json is MIG_EUSAGE. */
int mig_mongo_versions_plan(mig_mongo_versions *v, const mig_config *cfg, const char *root,
			    mig_error *err);

/* Starts v on a plan the caller keeps (a fleet's, shared by its targets): close leaves it. */
void mig_mongo_versions_lend(mig_mongo_versions *v, const mig_plan *plan);

/* Whether the versioned side has anything to do with the server: files in the tree. */
bool mig_mongo_versions_active(const mig_mongo_versions *v);

/* Connects to mongodb.database (or database when non-NULL: a fleet target's) through
 * backend (lent: the one the indexes.json plan loaded; NULL: loaded here — one process
 * must not load and unload the module twice at once, as unloading ends libmongoc), takes
 * the lease when lock, reads the ledger. */
int mig_mongo_versions_open(mig_mongo_versions *v, const mig_config *cfg, const char *database,
			    const mig_doc_backend *backend, bool lock, mig_error *err);

/* What `up` limits a run to: --to V (versions up to V), --phase expand (each module
 * stops before its first contract file). */
typedef struct mig_up_limit {
	bool has_to;
	long long to;
	mig_phase phase;
} mig_up_limit;

/* Plans the pending versions (as mig_engine_plan_up) within limit (NULL: none), then
 * reads and checks every file of the run; a transaction file on a server without
 * transactions is refused naming it. With --phase expand a module's first pending file
 * holding "phase": "contract" and every later one of it are left out, unread but for
 * that first one. Nothing has run when this fails. */
int mig_mongo_versions_prepare_up(mig_mongo_versions *v, const char *only_module,
				  bool allow_out_of_order, const mig_up_limit *limit,
				  mig_error *err);

/* --to V of up (zero_ok false) or down (zero_ok: 0 means every version): V must be a
 * version of module in sql or in v's plan (the MongoDB files), else MIG_EUSAGE. */
int mig_mongo_versions_check_to(const mig_plan *sql, const mig_mongo_versions *v,
				const char *module, long long to, bool zero_ok, mig_error *err);

/* Sets contract_pending on each status row (of v's plan and ledger) whose next pending
 * MongoDB file says "phase": "contract", as mig_phase_mark_status does for SQL files:
 * reads that one file of each module with pending versions. */
int mig_mongo_versions_mark_status(const mig_mongo_versions *v, mig_module_status *rows,
				   size_t n, mig_error *err);

/* Plans the `steps` newest applied versions of module (as mig_engine_plan_down). */
int mig_mongo_versions_prepare_down(mig_mongo_versions *v, const char *module,
				    unsigned long steps, mig_error *err);

/* What `down` rolls back: the `steps` newest versions, or (has_to) every one above `to`. */
typedef struct mig_down_limit {
	unsigned long steps;
	bool has_to;
	long long to;
} mig_down_limit;

/* How many of module's applied versions each backend rolls back: the newest first across
 * both ledgers by version, MongoDB's first on a tie (up runs a module's SQL versions
 * before its MongoDB ones); mongo_ledger NULL: PostgreSQL only. */
int mig_down_split(unsigned long *pg, unsigned long *mongo, const mig_ledger *pg_ledger,
		   const mig_ledger *mongo_ledger, const char *module,
		   const mig_down_limit *limit, mig_error *err);

/* Runs a down run of both backends newest first, in stretches of one backend (run on s,
 * mv's planned run on its connection), telling obs and mobs; MongoDB's command counts to
 * counts_out when non-NULL. */
int mig_down_apply(mig_session *s, const mig_run *run, mig_mongo_versions *mv,
		   const mig_observer *obs, const mig_observer *mobs, FILE *counts_out,
		   mig_error *err);

/* Runs the planned files in order, telling obs (step_begin / step_end, as for SQL) and
 * printing each file's command counts to counts_out when non-NULL. */
int mig_mongo_versions_apply(mig_mongo_versions *v, const mig_observer *obs, FILE *counts_out,
			     mig_error *err);

/* Applies the items of v's planned up run that belong to module, from *at on (the same
 * connection and lease, over that slice), telling obs; *at moves past them. The
 * module-by-module `up` of one database (cli/cmd_up.c) and of a fleet target
 * (fleet/fleet.c) both call it after the module's SQL versions. */
int mig_mongo_versions_apply_module(mig_mongo_versions *v, size_t *at, const char *module,
				    const mig_observer *obs, FILE *counts_out, mig_error *err);

/* Records a version (resolve --applied, baseline) or removes its record (--rolled-back). */
int mig_mongo_versions_record(mig_mongo_versions *v, const char *module, long long version,
			      const char *name, const char *checksum, bool applied,
			      mig_error *err);

/* Gives the lock back, disconnects, frees; safe on a zeroed value. */
void mig_mongo_versions_close(mig_mongo_versions *v);

#endif

/* Repeatable migrations: migrations/postgres/<module>/repeatable/<name>.sql (views,
 * functions, grants kept as one file each). `up` applies, after a module's versioned
 * files, each one that is new or whose file (or rendered text) changed since it last
 * ran, in name order unless `-- migrate:after <name>` says otherwise; each in its own
 * transaction with its row in schema_migrations_repeatable. */
#ifndef MIGRATE_REPEATABLE_H
#define MIGRATE_REPEATABLE_H

#include <stdbool.h>
#include <stddef.h>

#include "core/config.h"
#include "core/plan.h"
#include "driver/driver.h"
#include "util/error.h"

struct mig_run;

/* What a repeatable is against its ledger row. */
typedef enum mig_repeatable_state {
	MIG_REPEATABLE_CURRENT, /* ran as the file is now */
	MIG_REPEATABLE_NEW,     /* never ran */
	MIG_REPEATABLE_CHANGED, /* the file (or its rendering) differs from what ran */
	MIG_REPEATABLE_FAILED,  /* the file as it is now failed the last time it ran */
} mig_repeatable_state;

/* Reads and hashes r's file (rendering its envsub spans with vars) and compares it with
 * its row in rows. An unreadable file or an unset placeholder is MIG_EUSAGE. */
int mig_repeatable_state_of(mig_repeatable_state *out, const char *module,
			    const mig_repeatable *r, const mig_repeatable_ledger *rows,
			    const mig_config *vars, mig_error *err);

/* The order the repeatables of mod apply in: name order, each moved after those its
 * `-- migrate:after` names. *order (caller frees) holds indexes into mod->repeatables.
 * A name that is no repeatable of mod, or a cycle, is MIG_EUSAGE naming it. */
int mig_repeatable_order(size_t **order, const mig_module_plan *mod, mig_error *err);

/* Inserts into an up run, after each module's versioned items, its repeatables that are
 * not current, in mig_repeatable_order (of only_module when non-NULL). */
int mig_repeatable_plan(struct mig_run *run, const mig_plan *plan,
			const mig_repeatable_ledger *rows, const char *only_module,
			mig_error *err);

/* The same with the repeatables that have applied at some time (a row with a checksum),
 * whatever their state: what a shadow of the live database replays (drift). */
int mig_repeatable_plan_applied(struct mig_run *run, const mig_plan *plan,
				const mig_repeatable_ledger *rows, mig_error *err);

struct mig_session;
struct mig_module_status;
struct mig_problem;

/* Sets repeatables and repeatables_outdated on each status row of plan's modules. */
int mig_repeatable_mark_status(struct mig_module_status *rows, size_t n, const mig_plan *plan,
			       const mig_repeatable_ledger *reps, const mig_config *vars,
			       mig_error *err);

/* Appends to *list (of *count, realloc'd) a problem per repeatable that has applied and
 * whose file changed since, or whose file failed the last time it ran. */
int mig_repeatable_verify(struct mig_problem **list, size_t *count, const mig_plan *plan,
			  const mig_repeatable_ledger *reps, const mig_config *vars,
			  mig_error *err);

/* Whether any module of plan has repeatable migrations. */
bool mig_plan_has_repeatables(const mig_plan *plan);

/* Reads the session's schema_migrations_repeatable when plan has repeatables (else
 * leaves *out empty: no query). A driver without repeatables is MIG_EUSAGE. */
int mig_repeatables_read(mig_repeatable_ledger *out, struct mig_session *s,
			 const mig_plan *plan, mig_error *err);

#endif

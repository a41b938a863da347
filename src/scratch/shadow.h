/* The throw-away database drift and roundtrip build what the history gives in: a
 * scratch database (src/scratch/scratch.h) named migrate_shadow_…, on postgres.scratch_dsn or
 * else the server of postgres.dsn, marked with the creating host and process so the
 * next run (or `testdb gc`) drops one a killed run left. Drift's is a clone of the
 * cached template of the applied versions; roundtrip's starts empty. */
#ifndef MIGRATE_SHADOW_H
#define MIGRATE_SHADOW_H

#include <stdbool.h>

#include "core/config.h"
#include "core/engine.h"
#include "util/error.h"
#include "core/plan.h"

typedef struct mig_shadow mig_shadow;

/* Drops the shadows left by dead runs of this host, then creates a new empty shadow.
 * MIG_EFAIL naming the server's message when it cannot (no CREATEDB right, server
 * down); nothing is left behind then. *out is the caller's: mig_shadow_drop. */
int mig_shadow_create(mig_shadow **out, const mig_config *cfg, mig_error *err);

/* Like mig_shadow_create, but the shadow is a clone of the template of run (up, in
 * plan order) on an empty database, built first when no template matches
 * (mig_scratch_template). A migration that fails is the engine's MIG_EFAIL. */
int mig_shadow_clone(mig_shadow **out, const mig_config *cfg, const mig_plan *plan,
		     const mig_run *run, mig_error *err);

/* A new shadow cloned from shadow from (a checkpoint: roundtrip keeps one with only
 * ups applied and restarts from a copy of it after a failure). Every connection to
 * from must be closed first; a busy one is retried briefly, then MIG_EFAIL. */
int mig_shadow_copy(mig_shadow **out, const mig_config *cfg, const mig_shadow *from,
		    mig_error *err);

/* A copy of the config whose postgres.dsn reaches the shadow (borrowed from s; the
 * strings are the live config's, so it must outlive s). */
mig_config *mig_shadow_config(mig_shadow *s);

/* The shadow's database name (borrowed). */
const char *mig_shadow_name(const mig_shadow *s);

/* The template a clone came from ("" for an empty shadow) and whether it was there
 * already (false: this run built it). */
const char *mig_shadow_template(const mig_shadow *s);
bool mig_shadow_cached(const mig_shadow *s);

/* Drops the shadow database (every connection to it must be closed) and frees s.
 * Accepts NULL. A failure to drop is left for the next run's sweep or `testdb gc`. */
void mig_shadow_drop(mig_shadow *s);

#endif

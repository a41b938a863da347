/* A private, throw-away database on the server of postgres.dsn, for drift and
 * roundtrip to build what the history gives: created with a unique name
 * (migrate_shadow_<hex>), dropped on every exit path, and swept by the next run when
 * the run that made it was killed. Implemented with libpq in src/driver/pg_shadow.c;
 * a small interface so the scratch-database layer can take its place later. */
#ifndef MIGRATE_SHADOW_H
#define MIGRATE_SHADOW_H

#include "config.h"
#include "error.h"

typedef struct mig_shadow mig_shadow;

/* Drops the shadows left by dead runs of this host, then creates a new empty shadow
 * (from template1, as CREATE DATABASE does by default) through the maintenance
 * database `postgres`. MIG_EFAIL naming the server's message when it cannot (no
 * CREATEDB right, server down); nothing is left behind then. *out is the caller's:
 * mig_shadow_drop. */
int mig_shadow_create(mig_shadow **out, const mig_config *cfg, mig_error *err);

/* A copy of the config whose postgres.dsn reaches the shadow (borrowed from s; the
 * strings are the live config's, so it must outlive s). */
mig_config *mig_shadow_config(mig_shadow *s);

/* The shadow's database name (borrowed). */
const char *mig_shadow_name(const mig_shadow *s);

/* Drops the shadow database (every connection to it must be closed) and frees s.
 * Accepts NULL. A failure to drop is left for the next run's sweep. */
void mig_shadow_drop(mig_shadow *s);

#endif

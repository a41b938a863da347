/* Scratch databases: templates of a migrated tree, built once and cloned in
 * milliseconds (`testdb`), and the throwaway databases of drift and roundtrip checks.
 * Backend-neutral logic here (src/scratch/scratch.c); the server administration is
 * src/driver/pg_scratch.c. */
#ifndef MIGRATE_SCRATCH_H
#define MIGRATE_SCRATCH_H

#include <stdbool.h>
#include <stddef.h>

#include "core/config.h"
#include "core/engine.h"
#include "util/error.h"
#include "core/plan.h"

#define MIG_SCRATCH_NAME_MAX 64 /* a PostgreSQL identifier and its NUL */
#define MIG_SCRATCH_TPL_PREFIX "migrate_tpl_"
#define MIG_SCRATCH_TEST_PREFIX "migrate_test_"
#define MIG_SCRATCH_SHADOW_PREFIX "migrate_shadow_"

typedef struct mig_scratch mig_scratch;

/* Connects to the scratch server (postgres.scratch_dsn, else the server of
 * postgres.dsn, maintenance database `postgres`) and checks that the role may create
 * databases: MIG_EFAIL naming the role and the CREATEDB privilege otherwise. cfg is
 * borrowed and must outlive the handle. */
int mig_scratch_open(mig_scratch **out, const mig_config *cfg, mig_error *err);

/* Accepts NULL. */
void mig_scratch_close(mig_scratch *sc);

struct mig_seeds;
/* testdb create --seed: the templates sc names and builds from now on also hold the SQL
 * seed data of seeds (core/seed.h, loaded; borrowed, must outlive sc), and their name
 * hashes those files. */
void mig_scratch_set_seeds(mig_scratch *sc, struct mig_seeds *seeds);

/* The template name `migrate_tpl_<12 hex>` for applying run (up, in order) to an empty
 * database: the hex starts the SHA-256 over the server's major version, the scratch
 * role (the owner of everything in it), postgres.schema when set (the search_path the
 * history was built in), the plan's
 * modules in order, and each item's module, version and file contents. Reads every file
 * of run; an unreadable one is MIG_EUSAGE naming it. */
int mig_scratch_template_name(char out[MIG_SCRATCH_NAME_MAX], mig_scratch *sc,
			      const mig_plan *plan, const mig_run *run, mig_error *err);

/* Gets or builds the template for run (see mig_scratch_template_name; pass the full
 * tree's run for testdb, the applied versions for drift). When it does not exist yet,
 * takes the server-wide build lock, builds it by applying run with the engine into
 * `<name>_tmp` (left over from a killed build: dropped first), seals it (a template
 * accepting no connections) and renames it into place, so a half-built template is
 * never visible under its name. *built says whether this call built it. A failing
 * migration is the engine's MIG_EFAIL naming file, line and SQLSTATE, with nothing
 * left behind. */
int mig_scratch_template(char out[MIG_SCRATCH_NAME_MAX], bool *built, mig_scratch *sc,
			 const mig_plan *plan, const mig_run *run, mig_error *err);

/* The template name for run (mig_scratch_template_name) and whether that template
 * exists on the scratch server; builds nothing. */
int mig_scratch_template_lookup(char out[MIG_SCRATCH_NAME_MAX], bool *exists, mig_scratch *sc,
				const mig_plan *plan, const mig_run *run, mig_error *err);

/* A new unique name: prefix (MIG_SCRATCH_TEST_PREFIX or MIG_SCRATCH_SHADOW_PREFIX),
 * the creation time in seconds since the epoch, and random hex. */
void mig_scratch_new_name(char out[MIG_SCRATCH_NAME_MAX], const char *prefix);

/* Whether name may be a database migrate creates: a known prefix, then [a-z0-9_]+,
 * at most 63 bytes. */
bool mig_scratch_name_valid(const char *name);

/* Clones template tpl into database name and marks it as made by migrate, with the
 * time and the creating host and process id. A busy template is retried briefly, then MIG_EFAIL saying what to do; an
 * existing name is MIG_EUSAGE. */
int mig_scratch_clone(mig_scratch *sc, const char *tpl, const char *name, mig_error *err);

/* Creates an empty database name (a valid scratch name, e.g. from mig_scratch_new_name
 * with MIG_SCRATCH_SHADOW_PREFIX) marked like a clone, for checks that need a database
 * without the tree (roundtrip). */
int mig_scratch_create(mig_scratch *sc, const char *name, mig_error *err);

/* Runs run (up or down) through the engine on database name of the scratch server,
 * creating the ledger tables first when missing; quiet. A failure is the engine's,
 * naming file, line and SQLSTATE. The template build uses this: it is the one place
 * to repoint when the engine's up sequence moves. */
int mig_scratch_apply(mig_scratch *sc, const char *name, const mig_run *run, mig_error *err);

/* A libpq conninfo for database name on the scratch server; with_password false for
 * anything printed. *out is the caller's (free()). */
int mig_scratch_conninfo(char **out, const mig_scratch *sc, const char *name,
			 bool with_password, mig_error *err);

/* Checks, before dropping anything, that every name is a test or shadow database that
 * migrate created (MIG_EUSAGE naming the first that is not, or that does not exist),
 * then drops them all. */
int mig_scratch_drop(mig_scratch *sc, char *const *names, size_t count, mig_error *err);

/* Drops the shadow databases (MIG_SCRATCH_SHADOW_PREFIX) whose creating process, on
 * this host, no longer exists: what drift or roundtrip runs killed with SIGKILL left. */
int mig_scratch_sweep_shadows(mig_scratch *sc, mig_error *err);

/* What gc removed: names are the caller's (mig_scratch_gc_free). */
typedef struct mig_scratch_gc_result {
	char **dropped;
	size_t ndropped;
} mig_scratch_gc_result;

/* Drops, under the build lock, every template other than keep_template (NULL: all),
 * leftovers of killed builds among them, every test or shadow database created more
 * than older_than_ms ago (or whose creation was interrupted before it was marked), and
 * every shadow database whose creating process on this host is gone. */
int mig_scratch_gc(mig_scratch_gc_result *out, mig_scratch *sc, const char *keep_template,
		   long long older_than_ms, mig_error *err);

void mig_scratch_gc_free(mig_scratch_gc_result *res);

#endif

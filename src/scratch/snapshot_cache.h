/* drift's cache of the expected schema of a template (src/scratch/snapshot_cache.c): a
 * file per template under ${XDG_CACHE_HOME:-$HOME/.cache}/migrate/snapshots/, valid for
 * the migrate build that wrote it; `testdb gc` forgets the templates it drops. */
#ifndef MIGRATE_SNAPSHOT_CACHE_H
#define MIGRATE_SNAPSHOT_CACHE_H

#include <stdbool.h>

#include "schema/snapshot.h"
#include "scratch/scratch.h"

/* Reads the cached snapshot and origins of template tpl. *hit false (and nothing
 * returned) when there is no cache directory, no file, or one of another format or
 * build: a miss is never an error. MIG_EFAIL only when memory runs out. *snap and
 * *origins are the caller's. */
int mig_snapshot_cache_load(mig_snapshot *snap, mig_object_origin **origins, size_t *n,
			    bool *hit, const char *tpl, mig_error *err);

/* Writes the cache of template tpl (creating the directory, mode 0700), replacing any.
 * Without a cache directory (no XDG_CACHE_HOME nor HOME) it does nothing. MIG_EFAIL
 * naming the file when it cannot be written. */
int mig_snapshot_cache_store(const char *tpl, const mig_snapshot *snap,
			     const mig_object_origin *origins, size_t n, mig_error *err);

/* Removes the cache of template tpl, if any. Cannot fail. */
void mig_snapshot_cache_forget(const char *tpl);

#endif

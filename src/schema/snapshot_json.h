/* JSON for snapshots, drift and round trips (src/schema/snapshot_json.c, with jansson). */
#ifndef MIGRATE_SNAPSHOT_JSON_H
#define MIGRATE_SNAPSHOT_JSON_H

#include <jansson.h>
#include <stdio.h>

#include "schema/snapshot.h"

/* {"objects": [{"type", "schema", "name", "attributes": {key: value|null}}]} */
int mig_snapshot_print_json(FILE *out, const mig_snapshot *snap, mig_error *err);

/* The differences as a JSON list of objects of mig_diff_print_json's shape (a new
 * reference; NULL when memory runs out). */
json_t *mig_diff_to_json(const mig_diff *diff);

/* {"ok", "differences": [{"kind", "object_type", "schema", "name", "attribute",
 * "expected", "actual", "module", "version"}]} */
int mig_diff_print_json(FILE *out, const mig_diff *diff, mig_error *err);

/* {"ok", "tested", "failed", "not_tested", "results": [{"module", "version", "name",
 * "status", "error", "differences": [...]}]}: every result, one per migration or more
 * (a down that does not restore may be followed by an up that fails after it). */
int mig_roundtrip_print_json(FILE *out, const mig_roundtrip_result *results, size_t n,
			     size_t tested, size_t failed, size_t not_tested, mig_error *err);

/* The expected schema of a template, as drift caches it: the snapshot and the
 * object-tracking origins, with the key the cache was made for. *out is the caller's
 * (free()). MIG_EFAIL on out of memory. */
int mig_snapshot_cache_encode(char **out, const char *key, const mig_snapshot *snap,
			      const mig_object_origin *origins, size_t norigins, mig_error *err);

/* Reads what mig_snapshot_cache_encode wrote. *match is false, and nothing is returned,
 * when text is not such a document or was made for another key (a stale cache is no
 * error); MIG_EFAIL only on out of memory. *snap (sorted) and *origins are the
 * caller's (mig_snapshot_clear, mig_object_origins_free). */
int mig_snapshot_cache_decode(mig_snapshot *snap, mig_object_origin **origins,
			      size_t *norigins, bool *match, const char *text, size_t len,
			      const char *key, mig_error *err);

#endif

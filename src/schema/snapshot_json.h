/* JSON for snapshots, drift and round trips (src/schema/snapshot_json.c, with jansson). */
#ifndef MIGRATE_SNAPSHOT_JSON_H
#define MIGRATE_SNAPSHOT_JSON_H

#include <stdio.h>

#include "schema/snapshot.h"

/* {"objects": [{"type", "schema", "name", "attributes": {key: value|null}}]} */
int mig_snapshot_print_json(FILE *out, const mig_snapshot *snap, mig_error *err);

/* {"ok", "differences": [{"kind", "object_type", "schema", "name", "attribute",
 * "expected", "actual", "module", "version"}]} */
int mig_diff_print_json(FILE *out, const mig_diff *diff, mig_error *err);

/* {"ok", "tested", "failed", "not_tested", "results": [{"module", "version", "name",
 * "status", "error", "differences": [...]}]}: every result, one per migration or more
 * (a down that does not restore may be followed by an up that fails after it). */
int mig_roundtrip_print_json(FILE *out, const mig_roundtrip_result *results, size_t n,
			     size_t tested, size_t failed, size_t not_tested, mig_error *err);

#endif

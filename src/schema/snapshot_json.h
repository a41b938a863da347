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

/* {"ok", "tested", "results": [{"module", "version", "name", "status", "error",
 * "differences": [...]}]} */
int mig_roundtrip_print_json(FILE *out, const mig_roundtrip_result *results, size_t n,
			     size_t tested, int ok, mig_error *err);

#endif

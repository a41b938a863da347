/* JSON for snapshots, drift and round trips (src/snapshot_json.c, with jansson). */
#ifndef MIGRATE_SNAPSHOT_JSON_H
#define MIGRATE_SNAPSHOT_JSON_H

#include <stdbool.h>
#include <stdio.h>

#include "snapshot.h"

/* {"objects": [{"type", "schema", "name", "attributes": {key: value|null}}]} */
int mig_snapshot_print_json(FILE *out, const mig_snapshot *snap, mig_error *err);

/* How drift's shadow was made, printed as "shadow" beside the differences. */
typedef struct mig_shadow_report {
	const char *template_name;
	bool cached;        /* cloned from a template that existed: no migration replayed */
	long long build_ms; /* reading the ledger, building or finding the template, cloning */
} mig_shadow_report;

/* {"ok", "differences": [{"kind", "object_type", "schema", "name", "attribute",
 * "expected", "actual", "module", "version"}], "shadow": {"template", "cached",
 * "build_ms"}}; "shadow" only when shadow is not NULL. */
int mig_diff_print_json(FILE *out, const mig_diff *diff, const mig_shadow_report *shadow,
			mig_error *err);

/* {"ok", "tested", "results": [{"module", "version", "name", "status", "error",
 * "differences": [...]}]} */
int mig_roundtrip_print_json(FILE *out, const mig_roundtrip_result *results, size_t n,
			     size_t tested, int ok, mig_error *err);

#endif

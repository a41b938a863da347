/* A schema snapshot: a normalised, comparable description of what migrations make in
 * a database (objects named by type, schema and name, each with text attributes), and
 * the differences between two snapshots. Pure: filled by src/postgres/pg_snapshot.c,
 * compared here (src/schema/schema_diff.c), printed by src/schema/snapshot_json.c and cli code. */
#ifndef MIGRATE_SNAPSHOT_H
#define MIGRATE_SNAPSHOT_H

#include <stdbool.h>
#include <stddef.h>

#include "util/error.h"

/* One attribute of an object: value NULL when the catalog has none (no default...).
 * Schemas, tables, views, sequences, functions and types carry "privileges": who may do
 * what, "grantee: PRIVILEGE, ...; ..." with the owner's own entry as "owner". */
typedef struct mig_snap_attr {
	char *key;
	char *value;
} mig_snap_attr;

/* One object. The name of a column, constraint, index, trigger or policy names its
 * table too ("users.email"); a function's carries its argument types. */
typedef struct mig_snap_object {
	char *type; /* schema, table, column, constraint, index, view, materialized view,
		     * sequence, function, procedure, aggregate, trigger, type, extension,
		     * policy */
	char *schema;
	char *name;
	mig_snap_attr *attrs;
	size_t nattrs;
	/* The catalog object the entry belongs to (its table for a column, index, trigger
	 * or policy...), as the reader tags it: an identity within one database, never
	 * compared, printed or saved; 0 when unknown. Scoped reads and patches go by it. */
	long long owner;
} mig_snap_object;

typedef struct mig_snapshot {
	mig_snap_object *objects; /* sorted by type, schema, name once complete */
	size_t nobjects, cap;
} mig_snapshot;

/* Adds an object with nattrs attributes (values may be NULL), copying every string.
 * MIG_EFAIL on out of memory. */
int mig_snapshot_add(mig_snapshot *snap, const char *type, const char *schema,
		     const char *name, size_t nattrs, const char *const *keys,
		     const char *const *values, mig_error *err);

/* Sorts the objects (type, schema, name), as comparing needs. */
void mig_snapshot_sort(mig_snapshot *snap);

/* Releases every object; safe on a zeroed snapshot, which it leaves zeroed. */
void mig_snapshot_clear(mig_snapshot *snap);

/* Appends to *view shallow copies of src's objects whose owner is (inside) or is not
 * (!inside) in owners (sorted ascending); the strings stay src's, so the view is freed
 * with mig_snapshot_view_free and must not outlive src. The view is left unsorted
 * (mig_snapshot_sort). MIG_EFAIL on out of memory. */
int mig_snapshot_select(mig_snapshot *view, const mig_snapshot *src, const long long *owners,
			size_t n, bool inside, mig_error *err);

/* Frees a view's array (not the strings it borrows) and zeroes it. */
void mig_snapshot_view_free(mig_snapshot *view);

/* Replaces in snap every object whose owner is in owners (sorted ascending) by fresh's
 * objects, which are moved (fresh is left zeroed); snap stays sorted. MIG_EFAIL on out
 * of memory, snap and fresh untouched. */
int mig_snapshot_patch(mig_snapshot *snap, const long long *owners, size_t n,
		       mig_snapshot *fresh, mig_error *err);

/* Removes the attribute named key from every object (drift with
 * postgres.drift_privileges: false leaves "privileges" out of the comparison). */
void mig_snapshot_drop_attr(mig_snapshot *snap, const char *key);

typedef enum mig_diff_kind {
	MIG_DIFF_MISSING, /* expected, not in the actual database */
	MIG_DIFF_EXTRA,   /* in the actual database, not expected */
	MIG_DIFF_CHANGED, /* in both, one attribute differs */
} mig_diff_kind;

/* One difference. Strings are the diff's own; expected/actual NULL when absent. */
typedef struct mig_difference {
	mig_diff_kind kind;
	char *object_type, *schema, *name;
	char *attribute;          /* CHANGED only */
	char *expected, *actual;  /* CHANGED only */
	char *module;             /* who created the object, NULL when unknown */
	long long version;
} mig_difference;

typedef struct mig_diff {
	mig_difference *items;
	size_t n, cap;
} mig_diff;

/* Compares two sorted snapshots object by object, by name, appending to *out. With
 * limit_extra, an extra object counts only when its schema holds something expected
 * (the schemas the history uses). MIG_EFAIL on out of memory. */
int mig_snapshot_diff(mig_diff *out, const mig_snapshot *expected, const mig_snapshot *actual,
		      bool limit_extra, mig_error *err);

/* What object tracking knows: the module and version that created an object. */
typedef struct mig_object_origin {
	char *kind; /* table, view, materialized view, index, sequence, type, function */
	char *schema;
	char *name;
	char *module;
	long long version;
} mig_object_origin;

void mig_object_origins_free(mig_object_origin *origins, size_t n);

/* Fills module/version of every difference whose object (or, for a column,
 * constraint, index, trigger or policy, whose table) is in origins. */
int mig_diff_attribute(mig_diff *diff, const mig_object_origin *origins, size_t n,
		       mig_error *err);

/* Keeps only the differences attributed to module. */
void mig_diff_keep_module(mig_diff *diff, const char *module);

/* "missing", "extra" or "changed". */
const char *mig_diff_kind_name(mig_diff_kind kind);

/* Releases every difference; safe on a zeroed diff, which it leaves zeroed. */
void mig_diff_clear(mig_diff *diff);

/* What `roundtrip` found for one migration. */
typedef struct mig_roundtrip_result {
	const char *module; /* borrowed from the plan */
	long long version;
	const char *name;
	const char *status; /* ok, irreversible, down failed, down does not restore,
			     * up fails after down, up after down differs, up failed
			     * (static) */
	char *message;      /* the migration's error, or NULL */
	mig_diff diff;      /* expected: before (or after the first up); actual: now */
} mig_roundtrip_result;

void mig_roundtrip_results_free(mig_roundtrip_result *results, size_t n);

#endif

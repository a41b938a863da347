/* The declarative MongoDB spec of one module: migrations/mongodb/<module>/indexes.json,
 * parsed and validated (src/index_spec.c, the only reader of JSON input) before any
 * connection is opened. */
#ifndef MIGRATE_INDEX_SPEC_H
#define MIGRATE_INDEX_SPEC_H

#include <stdbool.h>
#include <stddef.h>

#include "error.h"

typedef struct mig_index_key {
	char *field;
	char *value; /* as written: "1", "-1", "text", "2dsphere" or "hashed" */
} mig_index_key;

typedef struct mig_index {
	char *name;           /* options.name, else MongoDB's default "field_1_other_-1" */
	unsigned line;        /* line of the index object in the file */
	mig_index_key *keys;  /* in file order: order is significant */
	size_t nkeys;
	int unique, sparse, hidden;      /* -1 when not given, else 0 or 1 */
	bool has_expire_after_seconds;
	long long expire_after_seconds;
	char *partial_filter_json;       /* compact JSON, key order kept; NULL when not given */
	char *collation_json;            /* likewise */
} mig_index;

typedef struct mig_collection {
	char *name;
	unsigned line;
	mig_index *indexes;
	size_t nindexes;
} mig_collection;

typedef struct mig_index_spec {
	char *module;
	char *path; /* the file it came from, for messages */
	mig_collection *collections;
	size_t ncollections;
} mig_index_spec;

/* Parses text (len bytes, need not be NUL-terminated) as the indexes.json of module,
 * naming path in errors. Bad JSON (with line and column), wrong types, unknown keys or
 * options, bad key values and duplicate index names in one collection fail with
 * MIG_EUSAGE and a message ending "(path:line)" or "(path:line:column)".
 * On success *out belongs to the caller: release it with mig_index_spec_free. */
int mig_index_spec_parse(mig_index_spec **out, const char *text, size_t len,
			 const char *path, const char *module, mig_error *err);

/* Reads path and parses it as above; an unreadable file is MIG_EUSAGE naming it. */
int mig_index_spec_load(mig_index_spec **out, const char *path, const char *module,
			mig_error *err);

/* Accepts NULL. */
void mig_index_spec_free(mig_index_spec *spec);

#endif

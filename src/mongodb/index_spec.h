/* The declarative MongoDB spec of one module: migrations/mongodb/<module>/indexes.json,
 * parsed (src/mongodb/index_spec.c, on the JSON reader of ext_json.c) and checked against
 * mongod's rules (index_rules.c) before any connection is opened. Every value is typed here:
 * the driver turns these plain structs into BSON without parsing text again. */
#ifndef MIGRATE_INDEX_SPEC_H
#define MIGRATE_INDEX_SPEC_H

#include <stdbool.h>
#include <stddef.h>

#include "util/error.h"
#include "mongodb/ext_json.h" /* mig_value: partial filters, validators */

typedef enum mig_key_kind {
	MIG_KEY_ASC,      /* 1 */
	MIG_KEY_DESC,     /* -1 */
	MIG_KEY_TEXT,     /* "text" */
	MIG_KEY_2DSPHERE, /* "2dsphere" */
	MIG_KEY_HASHED,   /* "hashed" */
} mig_key_kind;

typedef struct mig_index_key {
	char *field;
	mig_key_kind kind;
} mig_index_key;

/* A collation in mongod's stored form: every field filled in from the locale's defaults
 * (index_collation.c holds the per-locale table, README "Collations" documents it). */
typedef struct mig_collation {
	char *locale;        /* canonical ICU id, never "simple" (that is no collation) */
	bool case_level;
	const char *case_first;   /* "upper", "lower" or "off" (static strings) */
	int strength;             /* 1..5 */
	bool numeric_ordering;
	const char *alternate;    /* "non-ignorable" or "shifted" */
	const char *max_variable; /* "punct" or "space" */
	bool normalization;
	bool backwards;
} mig_collation;

typedef struct mig_text_weight {
	char *field;
	int weight; /* 1..99999 */
} mig_text_weight;

typedef struct mig_index {
	char *name;           /* options.name, else MongoDB's default "field_1_other_-1" */
	unsigned line;        /* line of the index object in the file */
	mig_index_key *keys;  /* in file order: order is significant */
	size_t nkeys;
	int unique, sparse, hidden;      /* -1 when not given, else 0 or 1 */
	bool has_expire_after_seconds;
	long long expire_after_seconds;
	mig_value *partial_filter;       /* an OBJECT; NULL when not given */
	bool has_collation;              /* false for none and for {"locale": "simple"} */
	bool simple_collation;           /* {"locale": "simple"} given: no inheritance */
	mig_collation collation;
	/* text indexes: the text fields with their weights (given or 1) sorted by field,
	 * as mongod stores them; NULL for other kinds */
	mig_text_weight *weights;
	size_t nweights;
	char *default_language;  /* text only: given or "english" */
	char *language_override; /* text only: given or "language" */
	bool wildcard_text;      /* text on "$**" */
} mig_index;

/* Collection options (indexes.json "options" of a collection). */
typedef struct mig_collection_options {
	mig_value *validator;           /* OBJECT or NULL */
	char *validation_level;         /* "off", "strict", "moderate" or NULL */
	char *validation_action;        /* "error", "warn" or NULL */
	bool has_collation;
	mig_collation collation;
	bool capped;
	long long size, max;            /* capped only; 0 when not given */
	char *ts_time_field, *ts_meta_field, *ts_granularity; /* timeseries or NULLs */
	bool has_expire_after_seconds;
	long long expire_after_seconds;
	bool clustered;                 /* clusteredIndex {key: {_id: 1}, unique: true} */
	int change_stream_images;       /* -1 not given, else 0/1 */
} mig_collection_options;

typedef struct mig_collection {
	char *name;
	unsigned line;
	mig_index *indexes;
	size_t nindexes;
	bool has_options;
	mig_collection_options options;
	char **ignore; /* index name patterns (fnmatch) that prune leaves alone */
	size_t nignore;
} mig_collection;

typedef struct mig_index_spec {
	char *module;
	char *path; /* the file it came from, for messages */
	mig_collection *collections;
	size_t ncollections;
} mig_index_spec;

/* Parses text (len bytes, need not be NUL-terminated) as the indexes.json of module,
 * naming path in errors. Bad JSON (with line and column), wrong types, unknown keys or
 * options, bad key values, duplicate index names in one collection and every rule mongod
 * would reject the index for (README "indexes.json") fail with MIG_EUSAGE and a message
 * ending "(path:line)" or "(path:line:column)".
 * On success *out belongs to the caller: release it with mig_index_spec_free. */
int mig_index_spec_parse(mig_index_spec **out, const char *text, size_t len,
			 const char *path, const char *module, mig_error *err);

/* Reads path and parses it as above; an unreadable file is MIG_EUSAGE naming it. */
int mig_index_spec_load(mig_index_spec **out, const char *path, const char *module,
			mig_error *err);

/* Accepts NULL. */
void mig_index_spec_free(mig_index_spec *spec);

#endif

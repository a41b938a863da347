/* The pure half of the MongoDB driver (src/mongodb/mongo_compare.c): turns a parsed index
 * spec and collection options into the BSON mongod is sent, and compares a spec with what
 * listIndexes and listCollections return, the way mongod itself would. libbson only, no server, so cmocka
 * tests it directly (tests/unit/mongodb/test_mongo_compare.c). */
#ifndef MIGRATE_MONGO_COMPARE_H
#define MIGRATE_MONGO_COMPARE_H

#include <bson/bson.h>
#include <stdbool.h>

#include "util/error.h"
#include "mongodb/index_spec.h"

/* Appends v under key (numbers that fit go as int32, like the shell sends them). */
void mig_mongo_append_value(bson_t *doc, const char *key, const mig_value *v);

/* Appends the ten-field stored form of c, less "version" (the server's ICU version). */
void mig_mongo_append_collation(bson_t *doc, const char *key, const mig_collation *c);

/* Fills doc (initialised by the caller) with the createIndexes entry for ix. */
void mig_mongo_index_doc(bson_t *doc, const mig_index *ix);

typedef struct mig_mongo_diff {
	bool differs; /* a difference only a drop and re-create can fix: a conflict */
	bool expire;  /* expireAfterSeconds differs (both set): collMod applies it */
	bool hidden;  /* hidden differs: collMod applies it */
	char detail[MIG_ERROR_MAX]; /* every difference, "; "-separated; "" when none */
} mig_mongo_diff;

/* Compares ix with have, one entry of listIndexes. default_collation is the collection's
 * default (options.collation of listCollections), which mongod copies into every index
 * created without a collation; NULL when it has none. */
void mig_mongo_index_compare(mig_mongo_diff *out, const mig_index *ix, const bson_t *have,
			     const bson_t *default_collation);

/* True when two collations (stored forms) are the same: every field but "version";
 * NULL or {locale: "simple"} is no collation. */
bool mig_mongo_collations_equal(const bson_t *a, const bson_t *b);

/* True when two partial filter expressions are the same match expression as mongod
 * normalises them: nested $and flattened, {f: v} the same as {f: {$eq: v}}, predicates,
 * $or branches and $in lists in any order, numbers by value. */
bool mig_mongo_filters_equal(const bson_t *a, const bson_t *b);

/* Equality of two documents in key order, numbers by value whatever their BSON type. */
bool mig_mongo_docs_equal(const bson_t *a, const bson_t *b);

/* Appends the create command's options for o to cmd (validator, validation settings,
 * collation, capped, timeseries, expireAfterSeconds, clusteredIndex,
 * changeStreamPreAndPostImages). */
void mig_mongo_append_collection_options(bson_t *cmd, const mig_collection_options *o);

/* Compares the declared options o with the server's (listCollections "options", NULL when
 * none): what collMod can change (validator, validationLevel, validationAction) is appended
 * to changes (csize bytes), creation-only differences to conflict (fsize bytes), each
 * ", "-separated; both must hold a string ("" to start). Only declared options are
 * compared. */
void mig_mongo_compare_collection_options(const mig_collection_options *o, const bson_t *have,
					  char *changes, size_t csize, char *conflict,
					  size_t fsize);

#endif

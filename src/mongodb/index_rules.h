/* mongod's rules on an index spec (src/mongodb/index_rules.c), private to src/mongodb/:
 * what index_spec.c checks on the values it has read, before any connection is opened, so
 * that seed never sends what mongod would refuse. Each check returns MIG_OK, or MIG_EUSAGE
 * with doc->err filled and ending "(path:line)" of the value at pos. label names the index
 * in messages ("index 'by_sku'" or "index 2"), coll its collection. */
#ifndef MIGRATE_INDEX_RULES_H
#define MIGRATE_INDEX_RULES_H

#include <stdbool.h>
#include <stddef.h>

#include "mongodb/ext_json.h"
#include "mongodb/index_spec.h"

/* A collection name, len bytes as the JSON string holds it (a NUL inside shows as strlen
 * shorter than len): not empty, no '$' nor NUL, not under the reserved "system." prefix. */
int mig_index_check_collection_name(mig_json_doc *doc, size_t pos, const char *name,
				    size_t len);

/* The key pattern of ix (index_key_validate.cpp, fts_spec.cpp): one special index type per
 * index, text fields next to each other, at most one hashed field. */
int mig_index_check_keys(mig_json_doc *doc, size_t pos, const mig_index *ix, const char *label,
			 const char *coll);

/* A partialFilterExpression (an OBJECT): only the operators mongod accepts there (equality,
 * $eq, $gt, $gte, $lt, $lte, $type, $exists: true, $in, $and, $or), $and/$or nested at most
 * four deep. */
int mig_index_check_partial(mig_json_doc *doc, size_t pos, const mig_value *filter,
			    const char *label, const char *coll);

/* True when s is a language of mongod's text search (default_language). */
bool mig_index_text_language(const char *s);

/* A key kind as MongoDB writes it in an index's default name: "1", "-1", "text",
 * "2dsphere", "hashed". A static string. */
const char *mig_key_kind_name(mig_key_kind k);

#endif

/* The MongoDB module's JSON reader (src/mongodb/ext_json.c), private to src/mongodb/: a JSON
 * text parsed with the line of every value kept, one-line errors ending "(path:line)", and
 * MongoDB Extended JSON values ($date, $oid, $numberLong, $numberDecimal) read into typed
 * mig_values. The index spec reader is built on it; so can any other JSON file of the module
 * be. jansson's json_t is named by its struct tag only: this header needs no <jansson.h>. */
#ifndef MIGRATE_EXT_JSON_H
#define MIGRATE_EXT_JSON_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>

#include "util/error.h"

struct json_t; /* jansson's, complete in the files that include <jansson.h> */

/* A JSON value of a partial filter or validator, with MongoDB's extended JSON wrappers
 * ($date, $oid, $numberLong, $numberDecimal) already read. */
typedef enum mig_value_type {
	MIG_VALUE_NULL,
	MIG_VALUE_BOOL,
	MIG_VALUE_INT,     /* 64-bit; the driver sends int32 when it fits */
	MIG_VALUE_LONG,    /* {"$numberLong": "..."}: always int64 */
	MIG_VALUE_DOUBLE,
	MIG_VALUE_STRING,
	MIG_VALUE_DATE,    /* milliseconds since the epoch, in integer */
	MIG_VALUE_OID,     /* 24 hex digits in string */
	MIG_VALUE_DECIMAL, /* the digits in string */
	MIG_VALUE_ARRAY,
	MIG_VALUE_OBJECT,
} mig_value_type;

typedef struct mig_value mig_value;
struct mig_value {
	mig_value_type type;
	bool boolean;
	long long integer;
	double number;
	char *string;
	char **keys;      /* OBJECT: member names, in file order */
	mig_value *items; /* ARRAY elements or OBJECT member values */
	size_t n;
};

/* True for the values that came from an extended JSON wrapper (DATE, OID, LONG, DECIMAL). */
bool mig_value_is_wrapper(const mig_value *v);

/* Releases v and everything under it. Accepts NULL. */
void mig_value_free(mig_value *v);

/* A parsed JSON text. Values are addressed by their pre-order position: the root is 0, a
 * container's first child is its position + 1, and the next sibling of a value at pos is at
 * pos + mig_json_subtree_size(value). jansson iterates objects in insertion order, so a
 * pre-order walk of the tree meets the values in file order. */
typedef struct mig_json_doc {
	const char *path;     /* named in messages; borrowed */
	struct json_t *root;
	unsigned *lines;      /* line of each value in pre-order (its key's line when it has one) */
	size_t nlines;
	mig_error *err;       /* where mig_json_fail and the readers write; borrowed */
} mig_json_doc;

/* Parses text (len bytes, need not be NUL-terminated; duplicate keys refused) into doc,
 * naming path in errors, which go to err (kept in doc for later failures). A NUL byte or bad
 * JSON is MIG_EUSAGE ending "(path:line)" or "(path:line:column)"; out of memory MIG_EFAIL.
 * Whatever it returns, release doc with mig_json_doc_clear. */
int mig_json_doc_parse(mig_json_doc *doc, const char *text, size_t len, const char *path,
		       mig_error *err);

/* Releases what doc holds (not doc itself). */
void mig_json_doc_clear(mig_json_doc *doc);

/* The line of the value at pos (1 when pos is out of range). */
unsigned mig_json_line(const mig_json_doc *doc, size_t pos);

/* Fills doc->err with MIG_EUSAGE, the message and " (path:line)" of the value at pos, and
 * returns MIG_EUSAGE. */
int mig_json_fail(mig_json_doc *doc, size_t pos, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
int mig_json_vfail(mig_json_doc *doc, size_t pos, const char *fmt, va_list ap)
	__attribute__((format(printf, 3, 0)));

/* Number of JSON values in v's subtree, v included: how far the pre-order position moves
 * when v is skipped. */
size_t mig_json_subtree_size(struct json_t *v);

/* A compact dump of v with key order kept, for messages; the caller frees it. NULL when out
 * of memory. */
char *mig_json_dump(struct json_t *v);

/* Converts v (at position pos) into out, reading the extended JSON wrappers; where names
 * the value in messages ("the validator of collection 'x'"). A malformed wrapper is
 * MIG_EUSAGE. On failure out may hold part of the value: mig_value_free releases it. */
int mig_json_read_value(mig_json_doc *doc, size_t pos, struct json_t *v, mig_value *out,
			const char *where);

/* As mig_json_read_value into a new *out, which must come out an OBJECT ("<where> must be
 * an object" otherwise). *out belongs to the caller, even on failure. */
int mig_json_read_object(mig_json_doc *doc, size_t pos, struct json_t *v, mig_value **out,
			 const char *where);

#endif

/* Writing one JSON document to a stream: what every --format json output ends with.
 * Only JSON writers include this (it brings <jansson.h>). */
#ifndef MIGRATE_JSON_OUT_H
#define MIGRATE_JSON_OUT_H

#include <jansson.h>
#include <stdio.h>

#include "util/error.h"

/* Prints doc (indented, keys in insertion order) and a newline to out, and releases it.
 * doc NULL (a failed json_pack) is MIG_EFAIL "out of memory"; a failed write MIG_EFAIL. */
int mig_json_emit(FILE *out, json_t *doc, mig_error *err);

#endif

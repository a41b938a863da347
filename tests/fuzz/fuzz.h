/* Shared by the fuzz targets: an invariant check that aborts, so libFuzzer records the
 * input, and the entry point's prototype. */
#ifndef MIGRATE_FUZZ_H
#define MIGRATE_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "util/error.h"

#define CHECK(cond)                   \
	do {                          \
		if (!(cond))          \
			abort();      \
	} while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Every failure is a usage or runtime error with a non-empty one-line message; returns
 * its length. */
static inline size_t check_one_line_error(const mig_error *err, int rc)
{
	CHECK(rc == MIG_EUSAGE || rc == MIG_EFAIL);
	CHECK(err->code == rc);
	size_t len = strnlen(err->message, sizeof err->message);
	CHECK(len > 0 && len < sizeof err->message);
	CHECK(!strchr(err->message, '\n') && !strchr(err->message, '\r'));
	return len;
}

#endif

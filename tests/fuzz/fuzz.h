/* Shared by the fuzz targets: an invariant check that aborts, so libFuzzer records the
 * input, and the entry point's prototype. */
#ifndef MIGRATE_FUZZ_H
#define MIGRATE_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#define CHECK(cond)                   \
	do {                          \
		if (!(cond))          \
			abort();      \
	} while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#endif

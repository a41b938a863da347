/* SHA-256 of migration files, recorded in the ledger to detect edits after a run. */
#ifndef MIGRATE_CHECKSUM_H
#define MIGRATE_CHECKSUM_H

#include <stddef.h>

#define MIG_CHECKSUM_HEX 65 /* 64 hex digits and a NUL */

/* Writes the lower-case hex SHA-256 of data[0..len) to out. Returns 0, or -1 when the
 * crypto library fails (out is then ""). */
int mig_sha256_hex(char out[MIG_CHECKSUM_HEX], const void *data, size_t len);

#endif

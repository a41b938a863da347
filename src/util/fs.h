/* File and path helpers shared by the config loader, the planner and the readers. */
#ifndef MIGRATE_FS_H
#define MIGRATE_FS_H

#include <stddef.h>

#include "util/error.h"

/* Reads the regular file path whole into *out (NUL-terminated, caller frees; *len
 * excludes the NUL). A missing, unreadable or non-regular file, or one larger than
 * max_bytes, is MIG_EUSAGE naming it as "<what> '<path>'". */
int mig_read_file(char **out, size_t *len, const char *path, size_t max_bytes,
		  const char *what, mig_error *err);

/* Reads at most cap bytes from the start of the regular file path into buf (not
 * NUL-terminated; *len bytes read). A missing, unreadable or non-regular file (a FIFO is
 * refused, never waited on) is MIG_EUSAGE naming it as "<what> '<path>'". */
int mig_read_prefix(char *buf, size_t cap, size_t *len, const char *path, const char *what,
		    mig_error *err);

/* dir + "/" + name, or NULL when memory runs out; caller frees. */
char *mig_path_join(const char *dir, const char *name);

/* The directory part of path ("." when it has none), or NULL when memory runs out. */
char *mig_path_dirname(const char *path);

#endif

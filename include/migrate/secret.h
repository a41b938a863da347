/* Keeping passwords out of every message: find them in connection strings, scrub them
 * from text, and wipe them from memory when done. */
#ifndef MIGRATE_SECRET_H
#define MIGRATE_SECRET_H

#include <stddef.h>

/* Finds the password of a URI (scheme://user:password@host...) or of a libpq key=value
 * string (password=... or password='...'). Stores up to two strings in found (the text
 * as written and, when it differs, percent-decoded or unquoted; caller frees each) and
 * returns how many; 0 when there is no password or memory runs out. */
int mig_dsn_passwords(const char *dsn, char *found[2]);

/* Replaces each occurrence of secret (ignored when NULL or empty) in text with "***",
 * in place, truncating to size bytes including the NUL. */
void mig_redact(char *text, size_t size, const char *secret);

/* Overwrites n bytes at p with zeros in a way the compiler may not drop. */
void mig_secure_zero(void *p, size_t n);

#endif

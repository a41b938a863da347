/* Keeping passwords out of every message: find them in connection strings, scrub them
 * from text, and wipe them from memory when done. */
#ifndef MIGRATE_SECRET_H
#define MIGRATE_SECRET_H

#include <stddef.h>

#define MIG_DSN_PASSWORDS_MAX 8

/* Finds the passwords of a URI (scheme://user:password@host... and every query value whose
 * key ends in "password", e.g. ?password= or ?sslpassword=) or of a
 * libpq key=value string (password=... or password='...'). Stores each as written and,
 * when it differs, percent-decoded or unquoted in found (caller frees each) and returns
 * how many; 0 when there is none or memory runs out. */
int mig_dsn_passwords(const char *dsn, char *found[MIG_DSN_PASSWORDS_MAX]);

/* Replaces each occurrence of secret (ignored when NULL or empty) in text with "***",
 * in place, truncating to size bytes including the NUL. */
void mig_redact(char *text, size_t size, const char *secret);

/* The passwords of some connection strings: the one owner of what must never be printed
 * (the config's, the library's, a driver's). Zero-initialise; clear when done. */
typedef struct mig_secrets {
	char **items;
	size_t n;
} mig_secrets;

/* Records the passwords of dsn (see mig_dsn_passwords). -1 when memory runs out (the
 * ones already found stay recorded), else 0. */
int mig_secrets_add(mig_secrets *s, const char *dsn);

/* Replaces every recorded password in text with "***" (s may be NULL). */
void mig_secrets_redact(const mig_secrets *s, char *text, size_t size);

/* Wipes and frees every password; s is empty afterwards. */
void mig_secrets_clear(mig_secrets *s);

/* Overwrites n bytes at p with zeros in a way the compiler may not drop. */
void mig_secure_zero(void *p, size_t n);

#endif

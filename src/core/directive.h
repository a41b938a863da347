/* The directives a migration file carries in its leading comment block: whether it runs
 * outside a transaction (ours, and the spellings goose, morph and dbmate write) and
 * which phase it belongs to (expand, or contract). */
#ifndef MIGRATE_DIRECTIVE_H
#define MIGRATE_DIRECTIVE_H

#include <stdbool.h>
#include <stddef.h>

#include "util/error.h"

/* How much of a file mig_directives_read looks at: a leading comment block longer than
 * this is not read past. */
#define MIG_DIRECTIVE_MAX_BYTES 65536

typedef struct mig_directives {
	bool no_transaction; /* `-- migrate:run-in-tx false`, `-- +goose NO TRANSACTION`,
			      * `-- morph:nontransactional`, `-- migrate:up transaction:false` */
	bool contract;       /* `-- migrate:phase contract` */
} mig_directives;

/* Reads the directives from the leading comment block of sql: the lines before the first
 * that is neither blank nor a `--` comment (a UTF-8 byte-order mark is skipped). Never
 * fails. */
void mig_directives_scan(mig_directives *out, const char *sql, size_t len);

/* The same for the file at path, reading only its first MIG_DIRECTIVE_MAX_BYTES; an
 * unreadable file is MIG_EUSAGE naming it. */
int mig_directives_read(mig_directives *out, const char *path, mig_error *err);

#endif

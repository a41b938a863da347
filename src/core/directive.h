/* The directives a migration file carries in its leading comment block: whether it runs
 * outside a transaction (ours, and the spellings goose, morph and dbmate write), which
 * phase it belongs to (expand, or contract) and which environments it is limited to. */
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
	/* `-- migrate:env dev,test`: the list as written (blanks removed), on line env_line;
	 * env_line is 0 when the file has no such line */
	char env[256];
	unsigned env_line;
	bool env_too_long;   /* the list did not fit env */
	/* `-- migrate:after a` lines (repeatables): the names, comma-separated, as written;
	 * after_line is the first such line, 0 when none */
	char after[512];
	unsigned after_line;
	bool after_too_long;
} mig_directives;

/* Reads the directives from the leading comment block of sql: the lines before the first
 * that is neither blank nor a `--` comment (a UTF-8 byte-order mark is skipped). Never
 * fails. */
void mig_directives_scan(mig_directives *out, const char *sql, size_t len);

/* The same for the file at path, reading only its first MIG_DIRECTIVE_MAX_BYTES; an
 * unreadable file is MIG_EUSAGE naming it. */
int mig_directives_read(mig_directives *out, const char *path, mig_error *err);

/* Whether d allows environment: 1 when the file has no `-- migrate:env` line or its list
 * names environment, 0 when it does not (environment NULL matches no list), and
 * MIG_EUSAGE naming path and line when the list is empty, too long or names an invalid
 * environment. */
int mig_directives_env_match(const mig_directives *d, const char *environment,
			     const char *path, mig_error *err);

#endif

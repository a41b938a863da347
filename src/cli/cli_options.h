/* The option table behind every command's parser and help. */
#ifndef MIGRATE_CLI_OPTIONS_H
#define MIGRATE_CLI_OPTIONS_H

#include "cli/cli.h"

typedef struct mig_option_spec {
	mig_option_id id;
	const char *long_name;
	int short_name;       /* 0 when long-only */
	const char *arg_name; /* NULL for a flag */
	const char *help;
} mig_option_spec;

/* All options, MIG_OPT_END-terminated. */
extern const mig_option_spec mig_option_specs[];

/* The row for id, or NULL. Borrowed. */
const mig_option_spec *mig_option_spec_find(mig_option_id id);

#endif

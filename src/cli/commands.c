/* The command table: each row names a command, the options it takes, the setup it
 * needs and its help, so parsing, setup and help all come from one place. */
#include <string.h>

#include "cli/cli.h"

#define COMMON MIG_OPT_CONFIG, MIG_OPT_ROOT, MIG_OPT_HELP
/* the options of commands that act on a fleet (a config with targets:) */
#define FLEET MIG_OPT_TARGET, MIG_OPT_SHARD, MIG_OPT_CANARY, MIG_OPT_PARALLEL, MIG_OPT_MAX_FAILURES

static const mig_option_id up_options[] = {
	MIG_OPT_MODULE, MIG_OPT_DRY_RUN, MIG_OPT_ALLOW_OUT_OF_ORDER, MIG_OPT_FORMAT,
	MIG_OPT_QUIET, MIG_OPT_VERBOSE, FLEET, COMMON, MIG_OPT_END};
static const mig_option_id down_options[] = {
	MIG_OPT_MODULE, MIG_OPT_STEPS, MIG_OPT_DRY_RUN, MIG_OPT_FORMAT, MIG_OPT_QUIET,
	MIG_OPT_VERBOSE, FLEET, COMMON, MIG_OPT_END};
static const mig_option_id status_options[] = {MIG_OPT_FORMAT, FLEET, COMMON, MIG_OPT_END};
static const mig_option_id check_options[] = {MIG_OPT_QUIET, COMMON, MIG_OPT_END};
static const mig_option_id resolve_options[] = {
	MIG_OPT_MODULE, MIG_OPT_VERSION, MIG_OPT_APPLIED, MIG_OPT_ROLLED_BACK, COMMON,
	MIG_OPT_END};
static const mig_option_id seed_options[] = {
	MIG_OPT_DRY_RUN, MIG_OPT_FORMAT, MIG_OPT_QUIET, FLEET, COMMON, MIG_OPT_END};
static const mig_option_id verify_options[] = {MIG_OPT_FORMAT, FLEET, COMMON, MIG_OPT_END};
static const mig_option_id create_options[] = {MIG_OPT_MODULE, MIG_OPT_QUIET, COMMON, MIG_OPT_END};
static const mig_option_id help_options[] = {MIG_OPT_HELP, MIG_OPT_END};

const mig_command mig_commands[] = {
	{"up", "apply every pending migration", "[--module M] [--dry-run] [--allow-out-of-order]",
	 "Applies the pending versions of every enabled module, core first, each file in one\n"
	 "transaction together with its schema_migrations row; stops at the first failure.",
	 "migrate up --config config.yaml", up_options, 0,
	 MIG_NEEDS_CONFIG | MIG_NEEDS_PLAN | MIG_NEEDS_POSTGRES, mig_check_up_args, mig_cmd_up},
	{"down", "roll back the latest version(s) of one module", "--module M [--steps N] [--dry-run]",
	 "Rolls back the highest applied version of M (or N of them) with its .down.sql,\n"
	 "deleting its schema_migrations row in the same transaction.",
	 "migrate down --module catalog --steps 2", down_options, 0,
	 MIG_NEEDS_CONFIG | MIG_NEEDS_PLAN | MIG_NEEDS_POSTGRES, mig_check_down_args, mig_cmd_down},
	{"status", "show applied, latest and pending versions per module", "[--format text|json]",
	 "Shows, per module, the highest applied version, the latest version in the tree,\n"
	 "how many are pending, and any dirty version or applied version whose file is gone.",
	 "migrate status --format json", status_options, 0,
	 MIG_NEEDS_CONFIG | MIG_NEEDS_PLAN | MIG_NEEDS_MONGO_PLAN, NULL, mig_cmd_status},
	{"verify", "check that the databases match the migrations", "[--format text|json]",
	 "PostgreSQL: every applied file still exists unchanged (SHA-256) and no module is\n"
	 "dirty. MongoDB: every collection and index of indexes.json exists with its spec.\n"
	 "Exits 3 naming each difference.",
	 "migrate verify --format json", verify_options, 0,
	 MIG_NEEDS_CONFIG | MIG_NEEDS_PLAN | MIG_NEEDS_MONGO_PLAN, NULL, mig_cmd_verify},
	{"seed", "create the MongoDB collections and indexes of indexes.json",
	 "[--dry-run] [--format text|json]",
	 "Creates the missing collections and indexes of every enabled module's indexes.json.\n"
	 "An index of the same name and spec is skipped; one of the same name and another\n"
	 "spec is a conflict: reported, left alone, the rest still seeded, exit 3.",
	 "migrate seed --dry-run", seed_options, 0,
	 MIG_NEEDS_CONFIG | MIG_NEEDS_MONGODB | MIG_NEEDS_MONGO_PLAN, NULL, mig_cmd_seed},
	{"check", "fail unless the core schema is applied (a startup check)", "",
	 "Succeeds when schema_migrations exists and core has at least version 1; otherwise\n"
	 "exits 3 with \"core schema not applied \xe2\x80\x94 run 'migrate up'\".",
	 "migrate check && exec ./app", check_options, 0, MIG_NEEDS_CONFIG | MIG_NEEDS_POSTGRES,
	 NULL, mig_cmd_check},
	{"resolve", "record a version as applied or rolled back without running SQL",
	 "--module M --version V --applied|--rolled-back",
	 "Marks version V of module M as applied, or removes its record, without running\n"
	 "any SQL; clears a dirty mark left by a failed no-transaction migration.",
	 "migrate resolve --module catalog --version 3 --rolled-back", resolve_options, 0,
	 MIG_NEEDS_CONFIG | MIG_NEEDS_PLAN | MIG_NEEDS_POSTGRES, mig_check_resolve_args,
	 mig_cmd_resolve},
	{"create", "write the next up/down migration pair of a module", "--module M NAME",
	 "Writes <root>/postgres/M/NNN_NAME.up.sql and .down.sql with the next version,\n"
	 "keeping the zero-padding the module's files use (timestamp versions get the current\n"
	 "UTC time). Creates the module directory when it is new; never overwrites.",
	 "migrate create --module catalog add_prices", create_options, 1, MIG_NEEDS_CONFIG,
	 mig_check_create_args, mig_cmd_create},
	{"help", "show help for migrate or one command", "[COMMAND]",
	 "Shows the list of commands, or one command's options and an example.",
	 "migrate help up", help_options, 1, 0, NULL, mig_cmd_help},
	{NULL, NULL, NULL, NULL, NULL, NULL, 0, 0, NULL, NULL},
};

const mig_command *mig_command_find(const char *name)
{
	for (const mig_command *c = mig_commands; c->name; c++)
		if (!strcmp(c->name, name))
			return c;
	return NULL;
}

/* Levenshtein distance, capped: names are short. */
static size_t distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);
	if (la > 32 || lb > 32)
		return 99;
	size_t row[33];
	for (size_t j = 0; j <= lb; j++)
		row[j] = j;
	for (size_t i = 1; i <= la; i++) {
		size_t diag = row[0];
		row[0] = i;
		for (size_t j = 1; j <= lb; j++) {
			size_t up = row[j];
			size_t best = diag + (a[i - 1] != b[j - 1]);
			if (row[j] + 1 < best)
				best = row[j] + 1;
			if (row[j - 1] + 1 < best)
				best = row[j - 1] + 1;
			row[j] = best;
			diag = up;
		}
	}
	return row[lb];
}

const mig_command *mig_command_suggest(const char *name)
{
	const mig_command *best = NULL;
	size_t best_d = 3; /* farther than two edits is not a typo */
	for (const mig_command *c = mig_commands; c->name; c++) {
		size_t d = distance(name, c->name);
		if (d < best_d) {
			best = c;
			best_d = d;
		}
	}
	return best;
}

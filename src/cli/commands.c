/* The command table: each row names a command, the options it takes, the setup it
 * needs and its help, so parsing, setup and help all come from one place. */
#include <string.h>

#include "cli/cli.h"

#define COMMON MIG_OPT_CONFIG, MIG_OPT_ROOT, MIG_OPT_ENV, MIG_OPT_HELP
/* the options of commands that act on a fleet (a config with targets:) */
#define FLEET MIG_OPT_TARGET, MIG_OPT_SHARD, MIG_OPT_CANARY, MIG_OPT_PARALLEL, MIG_OPT_MAX_FAILURES

static const mig_option_id up_options[] = {
	MIG_OPT_MODULE, MIG_OPT_TO, MIG_OPT_DRY_RUN, MIG_OPT_ALLOW_OUT_OF_ORDER, MIG_OPT_FORMAT,
	MIG_OPT_QUIET, MIG_OPT_VERBOSE, MIG_OPT_NO_LINT, MIG_OPT_PHASE, MIG_OPT_SQL, FLEET, COMMON,
	MIG_OPT_END};
static const mig_option_id down_options[] = {
	MIG_OPT_MODULE, MIG_OPT_STEPS, MIG_OPT_TO, MIG_OPT_DRY_RUN, MIG_OPT_FORMAT, MIG_OPT_QUIET,
	MIG_OPT_VERBOSE, FLEET, COMMON, MIG_OPT_END};
static const mig_option_id baseline_options[] = {
	MIG_OPT_MODULE, MIG_OPT_VERSION, MIG_OPT_MONGODB, MIG_OPT_DRY_RUN, MIG_OPT_QUIET, COMMON,
	MIG_OPT_END};
static const mig_option_id status_options[] = {MIG_OPT_FORMAT, FLEET, COMMON, MIG_OPT_END};
static const mig_option_id check_options[] = {MIG_OPT_QUIET, COMMON, MIG_OPT_END};
static const mig_option_id resolve_options[] = {
	MIG_OPT_MODULE, MIG_OPT_VERSION, MIG_OPT_APPLIED, MIG_OPT_ROLLED_BACK, MIG_OPT_MONGODB,
	COMMON, MIG_OPT_END};
static const mig_option_id seed_options[] = {
	MIG_OPT_SEED_DATA, MIG_OPT_MODULE, MIG_OPT_RESET, MIG_OPT_DRY_RUN, MIG_OPT_PRUNE, MIG_OPT_FORMAT, MIG_OPT_QUIET, FLEET, COMMON, MIG_OPT_END};
static const mig_option_id verify_options[] = {MIG_OPT_FORMAT, FLEET, COMMON, MIG_OPT_END};
static const mig_option_id create_options[] = {MIG_OPT_MODULE, MIG_OPT_QUIET, COMMON, MIG_OPT_END};
static const mig_option_id testdb_options[] = {
	MIG_OPT_NAME, MIG_OPT_WITH_SEED, MIG_OPT_OLDER_THAN, MIG_OPT_FORMAT, MIG_OPT_QUIET, COMMON, MIG_OPT_END};
static const mig_option_id reset_options[] = {
	MIG_OPT_FORCE, MIG_OPT_QUIET, MIG_OPT_VERBOSE, COMMON, MIG_OPT_END};
static const mig_option_id drift_options[] = {
	MIG_OPT_MODULE, MIG_OPT_FORMAT, MIG_OPT_QUIET, FLEET, COMMON, MIG_OPT_END};
static const mig_option_id roundtrip_options[] = {
	MIG_OPT_MODULE, MIG_OPT_FROM, MIG_OPT_TO, MIG_OPT_PENDING, MIG_OPT_REQUIRE_DOWN,
	MIG_OPT_STOP_AFTER, MIG_OPT_WORKERS, MIG_OPT_FORMAT, MIG_OPT_QUIET, COMMON, MIG_OPT_END};
static const mig_option_id lint_options[] = {
	MIG_OPT_MODULE, MIG_OPT_ALL, MIG_OPT_OBSERVE, MIG_OPT_DATA, MIG_OPT_PG_VERSION, MIG_OPT_FORMAT,
	COMMON, MIG_OPT_END};
static const mig_option_id wait_options[] = {MIG_OPT_TIMEOUT, MIG_OPT_QUIET, COMMON, MIG_OPT_END};
static const mig_option_id help_options[] = {MIG_OPT_FORMAT, MIG_OPT_HELP, MIG_OPT_END};

const mig_command mig_commands[] = {
	{"up", "apply every pending migration",
	 "[--module M [--to V]] [--phase expand|contract] [--dry-run [--sql]] [--allow-out-of-order] [--format json]",
	 "Applies the pending versions of every enabled module, core first, each file in one\n"
	 "transaction together with its schema_migrations row; stops at the first failure.\n"
	 "With mongodb:, module by module: its SQL files, its MongoDB files (NNN_name.up.json),\n"
	 "then its indexes.json converged as seed does.\n"
	 "--module M --to V applies M's pending versions up to V only, SQL and MongoDB (V must\n"
	 "be one of M's versions; when M is already at or past V there is nothing to apply).\n"
	 "--phase expand stops each module before its first `-- migrate:phase contract` file\n"
	 "(SQL) and before its first {\"phase\": \"contract\", ...} file (MongoDB);\n"
	 "--dry-run --sql prints one psql script to review and run instead; --format json\n"
	 "prints a run report at the end, whatever the outcome. A file tagged\n"
	 "`-- migrate:env dev,test` runs only in those environments (environment: or --env);\n"
	 "in another it is recorded as skipped, and with none set the run is refused.\n"
	 "postgres.hooks run before_up before the first pending file, after_each inside\n"
	 "each file's transaction and after_up after the last. After a module's versions,\n"
	 "its repeatable/<name>.sql files run again when new or changed.",
	 "migrate up --config config.yaml", up_options, 0,
	 MIG_NEEDS_CONFIG | MIG_NEEDS_PLAN | MIG_NEEDS_POSTGRES | MIG_NEEDS_MONGO_PLAN,
	 mig_check_up_args, mig_cmd_up},
	{"down", "roll back the latest version(s) of one module",
	 "--module M [--steps N | --to V] [--dry-run] [--format json]",
	 "Rolls back the highest applied version of M (or N of them) with its .down.sql,\n"
	 "deleting its schema_migrations row in the same transaction; the newest of M's SQL\n"
	 "and MongoDB versions (.down.json) first, by version (on a tie the MongoDB one).\n"
	 "--to V rolls back every applied version of M above V, of either backend (V is one\n"
	 "of M's versions, or 0 for all of them).",
	 "migrate down --module catalog --steps 2", down_options, 0,
	 MIG_NEEDS_CONFIG | MIG_NEEDS_PLAN | MIG_NEEDS_POSTGRES | MIG_NEEDS_MONGO_PLAN,
	 mig_check_down_args, mig_cmd_down},
	{"status", "show applied, latest and pending versions per module", "[--format text|json]",
	 "Shows, per module, the highest applied version, the latest version in the tree,\n"
	 "how many are pending, and any dirty version or applied version whose file is gone.",
	 "migrate status --format json", status_options, 0,
	 MIG_NEEDS_CONFIG | MIG_NEEDS_PLAN | MIG_NEEDS_MONGO_PLAN, NULL, mig_cmd_status},
	{"verify", "check that the databases match the migrations", "[--format text|json]",
	 "PostgreSQL: every applied file still exists unchanged (SHA-256), no module is\n"
	 "dirty, and every object the applied migrations created and did not drop still\n"
	 "exists. MongoDB: every collection and index of indexes.json exists with its spec.\n"
	 "Exits 3 naming each difference (over a fleet, each under its target).",
	 "migrate verify --format json", verify_options, 0,
	 MIG_NEEDS_CONFIG | MIG_NEEDS_PLAN | MIG_NEEDS_MONGO_PLAN, NULL, mig_cmd_verify},
	{"seed", "create the MongoDB indexes of indexes.json; --data: load seed data",
	 "[--dry-run] [--prune] [--format text|json] | --data [--module M] [--reset]",
	 "Creates the missing collections and indexes of every enabled module's indexes.json\n"
	 "and applies expireAfterSeconds, hidden and validator changes with collMod.\n"
	 "An index of the same name and spec is skipped; one of the same name and another\n"
	 "spec is a conflict: reported, left alone, the rest still seeded, exit 3. An index\n"
	 "the server refuses is reported and the rest still seeded, exit 1. Undeclared\n"
	 "indexes are listed as extra; --prune drops them.\n"
	 "--data loads the seed files instead: postgres/<module>/seed/<name>.sql and\n"
	 "mongodb/<module>/seed/<name>.json ({\"collection\", \"env\", \"documents\"}, upserted\n"
	 "by _id), modules in plan order, files in name order, each SQL file in its own\n"
	 "transaction; a file loads again when it changed. Every seed file names its\n"
	 "environments (`-- migrate:env dev,test`, JSON \"env\"); refused (exit 2) while the\n"
	 "environment is unset or production. --reset first empties, in one transaction, the\n"
	 "tables the SQL seeds INSERT into, refusing a foreign key from a table no seed\n"
	 "writes rather than cascading, and the collections of the JSON seeds; then loads.",
	 "migrate seed --data --env dev --reset", seed_options, 0,
	 MIG_NEEDS_CONFIG | MIG_NEEDS_MONGODB | MIG_NEEDS_MONGO_PLAN, mig_check_seed_args,
	 mig_cmd_seed},
	{"check", "fail unless the core schema is applied (a startup check)", "",
	 "Succeeds when schema_migrations exists and core has at least version 1; otherwise\n"
	 "exits 3 with \"core schema not applied \xe2\x80\x94 run 'migrate up'\".",
	 "migrate check && exec ./app", check_options, 0, MIG_NEEDS_CONFIG | MIG_NEEDS_POSTGRES,
	 NULL, mig_cmd_check},
	{"resolve", "record a version as applied or rolled back without running SQL",
	 "--module M --version V --applied|--rolled-back [--mongodb]",
	 "Marks version V of module M as applied, or removes its record, without running\n"
	 "any SQL; clears a dirty mark left by a failed no-transaction migration. A version\n"
	 "that only the module's MongoDB files have (NNN_name.up.json) is resolved in the\n"
	 "MongoDB ledger; --mongodb says so when both backends have that version.",
	 "migrate resolve --module catalog --version 3 --rolled-back", resolve_options, 0,
	 MIG_NEEDS_CONFIG | MIG_NEEDS_PLAN | MIG_NEEDS_POSTGRES | MIG_NEEDS_MONGO_PLAN,
	 mig_check_resolve_args,
	 mig_cmd_resolve},
	{"create", "write the next up/down migration pair of a module", "--module M NAME",
	 "Writes <root>/postgres/M/NNN_NAME.up.sql and .down.sql with the next version,\n"
	 "keeping the zero-padding the module's files use (timestamp versions get the current\n"
	 "UTC time). Creates the module directory when it is new; never overwrites.",
	 "migrate create --module catalog add_prices", create_options, 1, MIG_NEEDS_CONFIG,
	 mig_check_create_args, mig_cmd_create},
	{"testdb", "create, drop or gc test databases cloned from a template of the tree",
	 "create [--name NAME] [--seed] [--format text|json] | drop NAME... | gc [--older-than D]",
	 "create: prints the connection string of a new database holding the whole tree\n"
	 "migrated, cloned from migrate_tpl_<hash> (built by the first create for a tree, under\n"
	 "a lock; later creates clone it in milliseconds). With mongodb:, also seeds a MongoDB\n"
	 "database of the same name. --seed: with the environment's seed data too (a template\n"
	 "of its own, whose name hashes the seed files). drop: drops test databases create\n"
	 "made (only those).\n"
	 "gc: drops templates of other trees, test and shadow databases older than\n"
	 "--older-than (24h), and shadows whose drift or roundtrip process is gone.\n"
	 "Runs on postgres.scratch_dsn, else the server of postgres.dsn; needs CREATEDB there.",
	 "psql \"$(migrate testdb create)\"", testdb_options, 64,
	 MIG_NEEDS_CONFIG | MIG_NEEDS_PLAN | MIG_NEEDS_POSTGRES | MIG_NEEDS_MONGO_PLAN,
	 mig_check_testdb_args, mig_cmd_testdb},
	{"reset", "development: roll every module back, then apply everything again", "--force",
	 "Rolls back every applied version of every enabled module, in reverse plan order,\n"
	 "each with its .down.sql, then applies the whole tree, then loads the seed data again\n"
	 "when the environment is named and not production. Refuses before changing anything\n"
	 "when an applied version has no .down.sql. Without --force, only says what it would do.",
	 "migrate reset --force", reset_options, 0,
	 MIG_NEEDS_CONFIG | MIG_NEEDS_PLAN | MIG_NEEDS_POSTGRES, NULL, mig_cmd_reset},
	{"drift", "compare the live schema with what its applied migrations give",
	 "[--module M] [--format text|json]",
	 "Clones a shadow database (migrate_shadow_...) from the template of the applied\n"
	 "versions of every enabled module (migrate_tpl_<hash>, built on first use, then\n"
	 "cached), snapshots its schema and the live one, and reports each object\n"
	 "missing, extra (in the schemas the migrations use) or changed, with the module and\n"
	 "version that created it. The expected schema is then cached per template\n"
	 "($XDG_CACHE_HOME/migrate/snapshots/), so a second drift of the same history reads\n"
	 "only the live database. With targets:, every target is reported (the expected\n"
	 "schema computed once per distinct applied history). Exits 0 when identical, 3 on\n"
	 "drift, 1 when the shadow cannot be built. Runs on postgres.scratch_dsn, else the\n"
	 "server of postgres.dsn; needs CREATEDB there.",
	 "migrate drift --format json", drift_options, 0,
	 MIG_NEEDS_CONFIG | MIG_NEEDS_PLAN | MIG_NEEDS_POSTGRES, NULL, mig_cmd_drift},
	{"roundtrip", "check on a shadow database that each down undoes its up",
	 "[--module M] [--from V] [--to V] [--pending] [--require-down] [--max-failures N] [--parallel N] [--format text|json]",
	 "For every selected migration in plan order (--module, --from/--to versions, only\n"
	 "those pending against the live database with --pending; the others are applied on\n"
	 "the way): snapshot, up, snapshot, down, snapshot == the first?, up again, snapshot\n"
	 "== the second? Every selected migration is reported: ok, down failed, down does not\n"
	 "restore, up fails after down, up after down differs, irreversible (no .down.sql: a\n"
	 "warning, a failure with --require-down). After a failure the run goes on from a\n"
	 "clone of the history's ups up to that migration, so each one is judged from the\n"
	 "state its predecessors leave. --max-failures N stops after N failed migrations.\n"
	 "--parallel N splits the history into N stretches tested at once, each in a shadow\n"
	 "of its own brought up to its first migration by the ups before it (default: one\n"
	 "per CPU, up to 4, from 64 selected migrations; 1 with --max-failures); the report\n"
	 "is the same as one shadow's.\n"
	 "On a terminal, stderr shows a progress line. Exits 0 clean, 3 on a failure, 1 when\n"
	 "the history's ups do not build. The live database is never changed.",
	 "migrate roundtrip --pending --require-down", roundtrip_options, 0,
	 MIG_NEEDS_CONFIG | MIG_NEEDS_PLAN | MIG_NEEDS_POSTGRES, mig_check_roundtrip_args,
	 mig_cmd_roundtrip},
	{"lint", "find migrations that would lock or rewrite a live table",
	 "[--module M] [--all] [FILE...] [--observe] [--data] [--pg-version V] [--format text|json|github|sarif]",
	 "Parses the pending files of the enabled modules (every file with --all, or when no\n"
	 "database is configured or reachable, or the FILEs named) with PostgreSQL's grammar and\n"
	 "reports each statement that would lock, rewrite or break an existing table: rule,\n"
	 "severity, the lock and what it blocks, the fix. `-- migrate:lint-ignore RULE reason`\n"
	 "suppresses a rule for the next statement, or for the file in its leading comments.\n"
	 "--observe runs each pending file on a clone of the applied schema (rolled back, then\n"
	 "applied there for the next file) and reports the locks and rewrites the server saw;\n"
	 "one that no rule expected is an error. The live database is never changed.\n"
	 "--data probes the rows the pending statements will meet (SET NOT NULL over NULLs, a\n"
	 "unique key over duplicates, a foreign key over orphans): READ ONLY, ACCESS SHARE only,\n"
	 "bounded by postgres.lint_probe_timeout (5s); a statement that would fail is an error.\n"
	 "--format github prints workflow annotations, sarif a SARIF 2.1.0 log for GitHub code\n"
	 "scanning. Exits 3 on a finding of severity error, 2 on a file that does not parse.",
	 "migrate lint --all --format github", lint_options, 1000, 0, mig_check_lint_args,
	 mig_cmd_lint},
	{"baseline", "record an existing schema's versions as applied without running SQL",
	 "--module M --version V [--mongodb] [--dry-run]",
	 "Adopts a database whose schema already exists: records every version of M up to V\n"
	 "as applied, with its checksum, without running any SQL. Refused (exit 2) when M\n"
	 "already has ledger rows or V is not a version of M. --mongodb: the versions of M's\n"
	 "MongoDB files, recorded in the MongoDB ledger.",
	 "migrate baseline --module core --version 12", baseline_options, 0,
	 MIG_NEEDS_CONFIG | MIG_NEEDS_PLAN | MIG_NEEDS_POSTGRES | MIG_NEEDS_MONGO_PLAN,
	 mig_check_baseline_args,
	 mig_cmd_baseline},
	{"wait", "wait until the databases of the config accept connections and answer",
	 "[--timeout D]",
	 "Waits until PostgreSQL (postgres.dsn, then each target database of a fleet)\n"
	 "accepts a connection and answers a query, and MongoDB (mongodb.uri) answers a\n"
	 "ping, when configured; tries every quarter second.\n"
	 "Exits 0 as soon as all answer, 1 after --timeout (default 60s) naming the database\n"
	 "that did not and its last error. For an init container or a CI job that starts\n"
	 "beside its database.",
	 "migrate wait --timeout 2m && migrate up", wait_options, 0, MIG_NEEDS_CONFIG, NULL,
	 mig_cmd_wait},
	{"help", "show help for migrate or one command", "[COMMAND] [--format json]",
	 "Shows the list of commands, or one command's options and an example; for lint,\n"
	 "also its rules (--format json: the rules as JSON, for tools).",
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

/* The option table shared by every command: one row per option drives both getopt_long
 * and the options section of each command's help. */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/cli_options.h"
#include "util/names.h"
#include "fleet/fleet.h"

const mig_option_spec mig_option_specs[] = {
	{MIG_OPT_CONFIG, "config", 'c', "PATH", "config file (else $APP_CONFIG, else ./config.yaml)"},
	{MIG_OPT_ROOT, "root", 'r', "DIR", "migrations tree (else root: in the config, else ./migrations)"},
	{MIG_OPT_ENV, "env", 0, "NAME",
	 "the environment (else environment: in the config): selects `-- migrate:env` files"},
	{MIG_OPT_MODULE, "module", 'm', "M", "only this module"},
	{MIG_OPT_STEPS, "steps", 'n', "N", "how many versions to roll back (default 1)"},
	{MIG_OPT_DRY_RUN, "dry-run", 0, NULL, "print what would run and change nothing"},
	{MIG_OPT_ALLOW_OUT_OF_ORDER, "allow-out-of-order", 0, NULL,
	 "apply pending versions below the highest applied one"},
	{MIG_OPT_FORMAT, "format", 'f', "FMT", "output format: text or json (lint also: github, sarif)"},
	{MIG_OPT_VERSION, "version", 0, "V", "the version to resolve"},
	{MIG_OPT_APPLIED, "applied", 0, NULL, "record the version as applied"},
	{MIG_OPT_ROLLED_BACK, "rolled-back", 0, NULL, "remove the version's record"},
	{MIG_OPT_QUIET, "quiet", 'q', NULL, "print errors only"},
	{MIG_OPT_VERBOSE, "verbose", 'v', NULL, "also print the SQL of each migration as it runs"},
	{MIG_OPT_NAME, "name", 0, "NAME", "the test database's name (migrate_test_...)"},
	{MIG_OPT_OLDER_THAN, "older-than", 0, "DURATION",
	 "drop test databases created longer ago than this (default 24h)"},
	{MIG_OPT_FORCE, "force", 0, NULL, "really do it"},
	{MIG_OPT_PENDING, "pending", 0, NULL,
	 "only the migrations pending against the live database"},
	{MIG_OPT_REQUIRE_DOWN, "require-down", 0, NULL,
	 "a migration without a .down.sql is a failure, not a warning"},
	{MIG_OPT_ALL, "all", 0, NULL, "every file, not only the pending ones"},
	{MIG_OPT_OBSERVE, "observe", 0, NULL,
	 "also run each pending file on a clone of the applied schema: locks and rewrites seen"},
	{MIG_OPT_DATA, "data", 0, NULL,
	 "also probe the live rows each pending statement will meet (NULLs, duplicates, orphans)"},
	{MIG_OPT_PG_VERSION, "pg-version", 0, "V",
	 "the server's major version for version-aware rules (else the connected server's)"},
	{MIG_OPT_NO_LINT, "no-lint", 0, NULL, "skip the lint check of postgres.lint for this run"},
	{MIG_OPT_PRUNE, "prune", 0, NULL,
	 "drop indexes that no indexes.json declares (except \"ignore\" patterns)"},
	{MIG_OPT_PHASE, "phase", 0, "PHASE",
	 "expand: only the versions before each module's first contract file; contract: all"},
	{MIG_OPT_SQL, "sql", 0, NULL, "with --dry-run: print one psql script instead of the list"},
	{MIG_OPT_TARGET, "target", 0, "NAME", "fleets: only this target (repeatable)"},
	{MIG_OPT_SHARD, "shard", 0, "I/N", "fleets: only slice I (0..N-1) of N, by hash of name"},
	{MIG_OPT_CANARY, "canary", 0, "K", "fleets: the first K targets one by one, stop if one fails"},
	{MIG_OPT_PARALLEL, "parallel", 0, "N", "fleets: N targets at once (else targets.parallel, else 4)"},
	{MIG_OPT_MAX_FAILURES, "max-failures", 0, "F",
	 "fleets: start no new target after F failed (default 1)"},
	{MIG_OPT_FROM, "from", 0, "V", "only versions from V on (each module's)"},
	{MIG_OPT_TO, "to", 0, "V", "only versions up to V (roundtrip: each module's; up, down: of --module M)"},
	{MIG_OPT_STOP_AFTER, "max-failures", 0, "N",
	 "stop after N migrations failed (default: no limit; the rest are not tested)"},
	{MIG_OPT_WORKERS, "parallel", 0, "N",
	 "N shadows at once, each testing a stretch of the history (default: up to 4 by CPUs when 64 or more; 1 with --max-failures)"},
	{MIG_OPT_MONGODB, "mongodb", 0, NULL,
	 "the version of the module's MongoDB files (NNN_name.up.json), not of its SQL files"},
	{MIG_OPT_TIMEOUT, "timeout", 't', "DURATION",
	 "give up after this long (default 60s; 0: one attempt)"},
	{MIG_OPT_SEED_DATA, "data", 0, NULL,
	 "load the seed/ files of the current environment instead (never unnamed or production)"},
	{MIG_OPT_RESET, "reset", 0, NULL,
	 "with --data: first empty what the seed files write (refused over an outside foreign key)"},
	{MIG_OPT_WITH_SEED, "seed", 0, NULL,
	 "also load the seed data of the environment (a template of its own)"},
	{MIG_OPT_HELP, "help", 'h', NULL, "show this help"},
	{MIG_OPT_END, NULL, 0, NULL, NULL},
};

const mig_option_spec *mig_option_spec_find(mig_option_id id)
{
	for (const mig_option_spec *s = mig_option_specs; s->id != MIG_OPT_END; s++)
		if (s->id == id)
			return s;
	return NULL;
}

static int parse_count(const char *text, unsigned long *out)
{
	char *end;
	if (!*text || *text == '-' || *text == '+')
		return -1;
	errno = 0;
	unsigned long long v = strtoull(text, &end, 10);
	if (errno || *end || v == 0 || v > INT_MAX)
		return -1;
	*out = (unsigned long)v;
	return 0;
}

static int parse_version(const char *text, long long *out)
{
	char *end;
	if (!*text || *text == '-' || *text == '+')
		return -1;
	errno = 0;
	long long v = strtoll(text, &end, 10);
	if (errno || *end)
		return -1;
	*out = v;
	return 0;
}

static int apply_option(mig_args *args, const mig_option_spec *spec, const char *value,
			const char *cmd, mig_error *err)
{
	switch (spec->id) {
	case MIG_OPT_CONFIG:
		args->config_path = value;
		break;
	case MIG_OPT_ROOT:
		args->root = value;
		break;
	case MIG_OPT_ENV:
		args->env = value;
		break;
	case MIG_OPT_MODULE:
		args->module = value;
		break;
	case MIG_OPT_STEPS:
		if (parse_count(value, &args->steps) < 0)
			return mig_error_set(err, MIG_EUSAGE,
					     "--steps takes a whole number from 1 up, not '%s'", value);
		args->has_steps = true;
		break;
	case MIG_OPT_DRY_RUN:
		args->dry_run = true;
		break;
	case MIG_OPT_PRUNE:
		args->prune = true;
		break;
	case MIG_OPT_ALLOW_OUT_OF_ORDER:
		args->allow_out_of_order = true;
		break;
	case MIG_OPT_FORMAT:
		if (!strcmp(value, "text"))
			args->format = MIG_FORMAT_TEXT;
		else if (!strcmp(value, "json"))
			args->format = MIG_FORMAT_JSON;
		else if (!strcmp(value, "github") && !strcmp(cmd, "lint"))
			args->format = MIG_FORMAT_GITHUB;
		else if (!strcmp(value, "sarif") && !strcmp(cmd, "lint"))
			args->format = MIG_FORMAT_SARIF;
		else
			return mig_error_set(err, MIG_EUSAGE, "--format takes text or json%s, not '%s'",
					     strcmp(cmd, "lint") ? "" : " or github or sarif", value);
		break;
	case MIG_OPT_VERSION:
		if (parse_version(value, &args->version) < 0)
			return mig_error_set(err, MIG_EUSAGE,
					     "--version takes a migration version number, not '%s'",
					     value);
		args->has_version = true;
		break;
	case MIG_OPT_APPLIED:
		args->applied = true;
		break;
	case MIG_OPT_ROLLED_BACK:
		args->rolled_back = true;
		break;
	case MIG_OPT_MONGODB:
		args->mongodb = true;
		break;
	case MIG_OPT_QUIET:
		args->quiet = true;
		break;
	case MIG_OPT_VERBOSE:
		args->verbose = true;
		break;
	case MIG_OPT_HELP:
		args->help = true;
		break;
	case MIG_OPT_NAME:
		args->name = value;
		break;
	case MIG_OPT_OLDER_THAN:
		if (mig_parse_duration_ms(value, &args->older_than_ms) < 0)
			return mig_error_set(err, MIG_EUSAGE,
					     "--older-than takes a duration such as 30m, 24h or 90s, not '%s'",
					     value);
		break;
	case MIG_OPT_TIMEOUT:
		if (mig_parse_duration_ms(value, &args->timeout_ms) < 0)
			return mig_error_set(err, MIG_EUSAGE,
					     "--timeout takes a duration such as 60s, 2m or 500ms, not '%s'",
					     value);
		break;
	case MIG_OPT_FORCE:
		args->force = true;
		break;
	case MIG_OPT_PENDING:
		args->pending = true;
		break;
	case MIG_OPT_REQUIRE_DOWN:
		args->require_down = true;
		break;
	case MIG_OPT_ALL:
		args->all = true;
		break;
	case MIG_OPT_OBSERVE:
		args->observe = true;
		break;
	case MIG_OPT_DATA:
		args->data = true;
		break;
	case MIG_OPT_SEED_DATA:
		args->seed_data = true;
		break;
	case MIG_OPT_RESET:
		args->reset = true;
		break;
	case MIG_OPT_WITH_SEED:
		args->with_seed = true;
		break;
	case MIG_OPT_NO_LINT:
		args->no_lint = true;
		break;
	case MIG_OPT_PG_VERSION: {
		long long v;
		/* "15", "9.6" (read as 9) or "150004" (server_version_num) */
		char major[16];
		snprintf(major, sizeof major, "%.*s", (int)strcspn(value, "."), value);
		if (parse_version(major, &v) < 0 || v < 9 || (v > 99 && v < 90000) || v > 999999)
			return mig_error_set(err, MIG_EUSAGE,
					     "--pg-version takes a major version such as 15, not '%s'",
					     value);
		args->pg_version = (int)(v > 99 ? v / 10000 : v);
		if (args->pg_version < 10 && v > 99)
			args->pg_version = 9;
		break;
	}
	case MIG_OPT_PHASE:
		if (!strcmp(value, "expand"))
			args->phase = MIG_PHASE_EXPAND;
		else if (!strcmp(value, "contract"))
			args->phase = MIG_PHASE_CONTRACT;
		else
			return mig_error_set(err, MIG_EUSAGE,
					     "--phase takes expand or contract, not '%s'", value);
		break;
	case MIG_OPT_SQL:
		args->sql = true;
		break;
	case MIG_OPT_TARGET:
		if (args->ntargets == MIG_MAX_TARGET_OPTIONS)
			return mig_error_set(err, MIG_EUSAGE, "more than %d --target options",
					     MIG_MAX_TARGET_OPTIONS);
		if (!*value)
			return mig_error_set(err, MIG_EUSAGE, "--target takes a target name, not ''");
		args->targets[args->ntargets++] = value;
		break;
	case MIG_OPT_SHARD:
		if (mig_fleet_parse_shard(value, &args->shard, &args->shards) < 0)
			return mig_error_set(err, MIG_EUSAGE,
					     "--shard takes I/N with 0 <= I < N (e.g. 0/4 .. 3/4), not '%s'",
					     value);
		break;
	case MIG_OPT_CANARY:
		if (parse_count(value, &args->canary) < 0)
			return mig_error_set(err, MIG_EUSAGE,
					     "--canary takes a whole number from 1 up, not '%s'", value);
		break;
	case MIG_OPT_PARALLEL:
		if (parse_count(value, &args->parallel) < 0 || args->parallel > 1024)
			return mig_error_set(err, MIG_EUSAGE,
					     "--parallel takes a whole number from 1 to 1024, not '%s'",
					     value);
		break;
	case MIG_OPT_MAX_FAILURES:
		if (parse_count(value, &args->max_failures) < 0)
			return mig_error_set(err, MIG_EUSAGE,
					     "--max-failures takes a whole number from 1 up, not '%s'",
					     value);
		break;
	case MIG_OPT_WORKERS:
		if (parse_count(value, &args->workers) < 0 || args->workers > 64)
			return mig_error_set(err, MIG_EUSAGE,
					     "--parallel takes a whole number from 1 to 64, not '%s'",
					     value);
		break;
	case MIG_OPT_STOP_AFTER:
		if (parse_count(value, &args->stop_after) < 0)
			return mig_error_set(err, MIG_EUSAGE,
					     "--max-failures takes a whole number from 1 up, not '%s'",
					     value);
		break;
	case MIG_OPT_FROM:
	case MIG_OPT_TO: {
		long long v;
		if (parse_version(value, &v) < 0)
			return mig_error_set(err, MIG_EUSAGE,
					     "--%s takes a migration version number, not '%s'",
					     spec->long_name, value);
		if (spec->id == MIG_OPT_FROM) {
			args->from_version = v;
			args->has_from = true;
		} else {
			args->to_version = v;
			args->has_to = true;
		}
		break;
	}
	case MIG_OPT_END:
	case MIG_OPT_COUNT:
		return mig_error_set(err, MIG_EUSAGE, "bad option for '%s'", cmd);
	}
	return MIG_OK;
}

int mig_args_parse(mig_args *args, const mig_command *cmd, int argc, char **argv,
		   mig_error *err)
{
	struct option longopts[MIG_OPT_COUNT + 1];
	char shortopts[64] = ":"; /* report a missing value as ':' */
	const mig_option_spec *by_val[MIG_OPT_COUNT + 1] = {0};
	size_t nlong = 0, nshort = strlen(shortopts);

	memset(args, 0, sizeof *args);
	args->steps = 1;
	args->older_than_ms = 24LL * 3600 * 1000;
	args->timeout_ms = 60 * 1000;
	for (const mig_option_id *id = cmd->options; *id != MIG_OPT_END; id++) {
		const mig_option_spec *spec = mig_option_spec_find(*id);
		/* getopt_long hands back `val`: the short letter, or 256 + id for long-only */
		int val = spec->short_name ? spec->short_name : 256 + (int)spec->id;
		longopts[nlong++] = (struct option){spec->long_name,
						     spec->arg_name ? required_argument : no_argument,
						     NULL, val};
		by_val[spec->id] = spec;
		if (spec->short_name) {
			shortopts[nshort++] = (char)spec->short_name;
			if (spec->arg_name)
				shortopts[nshort++] = ':';
		}
	}
	longopts[nlong] = (struct option){0};
	shortopts[nshort] = '\0';

	optind = 0; /* GNU getopt: 0 re-initialises, so parsing can run more than once */
	opterr = 0;
	int c, longindex;
	while ((c = getopt_long(argc, argv, shortopts, longopts, &longindex)) != -1) {
		if (c == '?' || c == ':') {
			const char *bad = argv[optind - 1];
			if (c == ':')
				return mig_error_set(err, MIG_EUSAGE, "option '%s' needs a value (see 'migrate %s --help')",
						     bad, cmd->name);
			if (optopt && !(bad[0] == '-' && bad[1] == '-'))
				return mig_error_set(err, MIG_EUSAGE,
						     "unknown option '-%c' for '%s' (see 'migrate %s --help')",
						     optopt, cmd->name, cmd->name);
			return mig_error_set(err, MIG_EUSAGE,
					     "unknown option '%s' for '%s' (see 'migrate %s --help')",
					     bad, cmd->name, cmd->name);
		}
		const mig_option_spec *spec = NULL;
		if (c >= 256)
			spec = by_val[c - 256];
		else
			for (const mig_option_id *id = cmd->options; *id != MIG_OPT_END && !spec; id++)
				if (mig_option_spec_find(*id)->short_name == c)
					spec = mig_option_spec_find(*id);
		if (!spec)
			return mig_error_set(err, MIG_EUSAGE, "unknown option for '%s'", cmd->name);
		int rc = apply_option(args, spec, optarg, cmd->name, err);
		if (rc < 0)
			return rc;
	}
	args->positional = argv + optind;
	args->npositional = argc - optind;
	return MIG_OK;
}

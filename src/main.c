/* migrate's entry point: global options, command lookup, and the mapping from a
 * command's result to the exit status. Everything else lives in libmigrate. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"

static int finish(int rc, const mig_error *err, const mig_config *cfg)
{
	/* what the command printed comes before its error line when both go to one pipe */
	bool flushed = fflush(stdout) == 0;
	if (rc < 0) {
		char line[MIG_ERROR_MAX];
		snprintf(line, sizeof line, "%s", err->message);
		/* the last guard: no message leaves with a password in it */
		mig_config_redact(cfg, line, sizeof line);
		fprintf(stderr, "migrate: %s\n", line);
	}
	if ((!flushed || fflush(stdout) != 0) && rc == MIG_OK) {
		fprintf(stderr, "migrate: cannot write output\n");
		return 1;
	}
	return mig_exit_status(rc);
}

int main(int argc, char **argv)
{
	/* libmongoc keeps counters in /dev/shm/mongoc-<pid>, which a killed process leaves
	 * behind: when its pid comes back, libmongoc warns on stderr (an extra line before
	 * ours). migrate reads no counters; the process is still ours alone here. */
	setenv("MONGOC_DISABLE_SHM", "1", 0);
	mig_error err = {0};
	if (argc < 2) {
		mig_help_overview(stderr);
		return 2;
	}
	const char *name = argv[1];
	if (!strcmp(name, "--version") || !strcmp(name, "-V")) {
		printf("migrate %s\n", MIG_VERSION_STRING);
		return 0;
	}
	if (!strcmp(name, "-h") || !strcmp(name, "--help")) {
		mig_help_overview(stdout);
		return 0;
	}
	const mig_command *cmd = mig_command_find(name);
	if (!cmd) {
		const mig_command *near = mig_command_suggest(name);
		if (near)
			mig_error_set(&err, MIG_EUSAGE, "unknown command '%s'; did you mean '%s'?",
				      name, near->name);
		else
			mig_error_set(&err, MIG_EUSAGE, "unknown command '%s' (see 'migrate help')",
				      name);
		return finish(MIG_EUSAGE, &err, NULL);
	}

	mig_context ctx = {.out = stdout};
	int rc = mig_args_parse(&ctx.args, cmd, argc - 1, argv + 1, &err);
	if (rc == MIG_OK && ctx.args.help) {
		mig_help_command(cmd, stdout);
		return finish(MIG_OK, &err, NULL);
	}
	if (rc == MIG_OK)
		rc = mig_context_setup(&ctx, cmd, &err);
	if (rc == MIG_OK)
		rc = mig_command_run(&ctx, cmd, &err);
	int status = finish(rc, &err, ctx.cfg);
	mig_context_clear(&ctx);
	return status;
}

/* Help text, generated from the command and option tables. */
#include <string.h>

#include "cli/cli.h"
#include "cli/cli_options.h"

void mig_help_overview(FILE *out)
{
	fprintf(out, "usage: migrate <command> [options]\n\n"
		     "Module-scoped database migrations for PostgreSQL and MongoDB.\n\n"
		     "Commands:\n");
	for (const mig_command *c = mig_commands; c->name; c++)
		fprintf(out, "  %-9s %s\n", c->name, c->summary);
	fprintf(out, "\nEvery command takes --config PATH, --root DIR, --env NAME and -h/--help.\n"
		     "Run 'migrate help <command>' for its options and an example.\n"
		     "Exit status: 0 success, 1 runtime failure, 2 usage or configuration error,\n"
		     "3 check/verify found the schema wrong or seed left a conflict.\n");
}

void mig_help_command(const mig_command *cmd, FILE *out)
{
	fprintf(out, "usage: migrate %s %s\n\n%s\n\nOptions:\n", cmd->name, cmd->usage,
		cmd->details);
	for (const mig_option_id *id = cmd->options; *id != MIG_OPT_END; id++) {
		const mig_option_spec *spec = mig_option_spec_find(*id);
		char flag[64];
		if (spec->short_name)
			snprintf(flag, sizeof flag, "-%c, --%s%s%s", spec->short_name,
				 spec->long_name, spec->arg_name ? " " : "",
				 spec->arg_name ? spec->arg_name : "");
		else
			snprintf(flag, sizeof flag, "    --%s%s%s", spec->long_name,
				 spec->arg_name ? " " : "", spec->arg_name ? spec->arg_name : "");
		fprintf(out, "  %-28s %s\n", flag, spec->help);
	}
	fprintf(out, "\nExample:\n  %s\n", cmd->example);
}

int mig_cmd_help(mig_context *ctx, mig_error *err)
{
	if (ctx->args.npositional == 0) {
		mig_help_overview(ctx->out);
		return MIG_OK;
	}
	const char *name = ctx->args.positional[0];
	const mig_command *cmd = mig_command_find(name);
	if (!cmd) {
		const mig_command *near = mig_command_suggest(name);
		if (near)
			return mig_error_set(err, MIG_EUSAGE,
					     "unknown command '%s'; did you mean '%s'?", name,
					     near->name);
		return mig_error_set(err, MIG_EUSAGE, "unknown command '%s' (see 'migrate help')",
				     name);
	}
	mig_help_command(cmd, ctx->out);
	return MIG_OK;
}

/* Help text, generated from the command and option tables. */
#include <string.h>

#include "cli/cli.h"
#include "cli/cli_options.h"
#include "util/json_out.h"
#include "lint/lint.h"

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
		     "3 check/verify/drift/roundtrip/lint found a problem or seed left a conflict,\n"
		     "4 another run held the migration lock for all of lock_wait (nothing changed;\n"
		     "retry later).\n");
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

static const char *severity_name(mig_lint_severity s)
{
	return s == MIG_LINT_ERROR ? "error" : "warning";
}

/* `migrate help lint`: the rule table after the options, one rule a line. */
static void help_lint_rules(FILE *out)
{
	fprintf(out, "\nRules (severity, what each catches):\n");
	for (const mig_lint_rule *r = mig_lint_rules; r->id; r++)
		fprintf(out, "  %-46s %-7s %s\n", r->id, severity_name(r->severity), r->summary);
}

/* `migrate help lint --format json`: {"rules": [{"id", "severity", "summary", "fix",
 * "rewrites"}...]}, in the table's order, for tools and the test suite to read. */
static int help_lint_json(FILE *out, mig_error *err)
{
	json_t *rules = json_array();
	if (!rules)
		return mig_error_set(err, MIG_EFAIL, "out of memory");
	for (const mig_lint_rule *r = mig_lint_rules; r->id; r++) {
		json_t *rule = json_pack("{s:s, s:s, s:s, s:s, s:b}", "id", r->id, "severity",
					 severity_name(r->severity), "summary", r->summary, "fix",
					 r->fix ? r->fix : "", "rewrites", r->rewrites);
		if (!rule || json_array_append_new(rules, rule)) {
			json_decref(rules);
			return mig_error_set(err, MIG_EFAIL, "out of memory");
		}
	}
	return mig_json_emit(out, json_pack("{s:o}", "rules", rules), err);
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
	bool lint = !strcmp(cmd->name, "lint");
	if (ctx->args.format == MIG_FORMAT_JSON) {
		if (!lint)
			return mig_error_set(err, MIG_EUSAGE,
					     "'help --format json' lists lint's rules only: "
					     "migrate help lint --format json");
		return help_lint_json(ctx->out, err);
	}
	mig_help_command(cmd, ctx->out);
	if (lint)
		help_lint_rules(ctx->out);
	return MIG_OK;
}

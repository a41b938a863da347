/* Shadow sessions for drift and roundtrip: migrations reach a shadow exactly as they
 * reach the live database with `up` (session, preflight, mig_engine_execute), so what
 * the shadow holds is what the history gives. */
#include <string.h>

#include "cli/shadow_run.h"

int mig_shadow_session_open(mig_session *s, mig_context *ctx, mig_shadow *shadow,
			    mig_error *err)
{
	return mig_session_open(s, ctx->registry, &mig_shadow_config(shadow)->pg,
				MIG_SESSION_PREPARE, err);
}

int mig_shadow_step(mig_session *s, const mig_module_plan *mod, const mig_migration *m,
		    bool up, mig_error *err)
{
	mig_run_item item = {mod, m};
	mig_run run = {.up = up, .items = &item, .nitems = 1};
	int rc = mig_engine_preflight(&run, err);
	if (rc == MIG_OK)
		rc = mig_engine_execute(s->drv, s->conn, &run, NULL, err);
	return rc;
}

static void quoted(FILE *out, const char *v)
{
	if (!v) {
		fputs("none", out);
		return;
	}
	fputc('"', out);
	for (const char *p = v; *p; p++)
		fputs(*p == '\n' ? "\\n" : *p == '"' ? "\\\"" : (char[]){*p, 0}, out);
	fputc('"', out);
}

void mig_diff_print_text(FILE *out, const mig_diff *diff, const char *indent)
{
	for (size_t i = 0; i < diff->n; i++) {
		const mig_difference *d = &diff->items[i];
		fprintf(out, "%s%-8s %s %s.%s", indent, mig_diff_kind_name(d->kind),
			d->object_type, d->schema, d->name);
		if (d->kind == MIG_DIFF_CHANGED) {
			fprintf(out, ": %s expected ", d->attribute);
			quoted(out, d->expected);
			fputs(", actual ", out);
			quoted(out, d->actual);
		}
		if (d->module)
			fprintf(out, " (%s/%lld)", d->module, d->version);
		fputc('\n', out);
	}
}

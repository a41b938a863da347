/* Schema differences as text: `changed  column app.users.score: type expected
 * "integer", actual "bigint" (core/1)`, values quoted with newlines escaped. */
#include "report/diff_text.h"

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

/* Printing lint findings: one block per finding for people, one `::error` or
 * `::warning` line per finding for GitHub Actions. */
#include <stdlib.h>
#include <string.h>

#include "lint/lint_report.h"

int mig_lint_report_add(mig_lint_report *rep, const char *path, bool syntax,
			mig_lint_result *result)
{
	mig_lint_report_file *grown = realloc(rep->files, (rep->nfiles + 1) * sizeof *grown);
	if (!grown)
		return -1;
	rep->files = grown;
	char *copy = strdup(path);
	if (!copy)
		return -1;
	grown[rep->nfiles++] = (mig_lint_report_file){.path = copy, .syntax = syntax, .result = *result};
	memset(result, 0, sizeof *result);
	return 0;
}

void mig_lint_report_clear(mig_lint_report *rep)
{
	for (size_t i = 0; i < rep->nfiles; i++) {
		free(rep->files[i].path);
		mig_lint_result_clear(&rep->files[i].result);
		mig_observation_clear(&rep->files[i].observation);
	}
	free(rep->files);
	rep->files = NULL;
	rep->nfiles = 0;
}

static void rows_text(char *buf, size_t size, double rows)
{
	if (rows < 0)
		buf[0] = '\0';
	else if (rows >= 1e6)
		snprintf(buf, size, "; ~%.1fM rows", rows / 1e6);
	else if (rows >= 1e3)
		snprintf(buf, size, "; ~%.0fk rows", rows / 1e3);
	else
		snprintf(buf, size, "; ~%.0f rows", rows);
}

/* One observed statement, for people: what the server did next to what the rules
 * expected. Prints nothing for a statement that touched no existing table and of which
 * nothing was expected. */
static void observed_text(FILE *out, const mig_lint_report_file *f, const mig_observed_stmt *st,
			  const char *before, const char *after)
{
	const mig_lint_claim *c = mig_lint_claim_at(&f->result, st->line);
	bool expect_ae = c && c->lock && !strcmp(c->lock, "ACCESS EXCLUSIVE");
	bool expect_rw = c && c->rewrites;
	if (!st->nlocks && !st->nrewritten && !expect_ae && !expect_rw)
		return;
	fputs(before, out);
	fputs("observed ", out);
	for (size_t i = 0; i < st->nlocks; i++)
		fprintf(out, "%s%s", i ? ", " : "", st->locks[i]);
	if (!st->nlocks)
		fputs("no lock on an existing table", out);
	fputs("; ", out);
	for (size_t i = 0; i < st->nrewritten; i++)
		fprintf(out, "%s%s", i ? ", " : "rewrote ", st->rewritten[i]);
	if (!st->nrewritten)
		fputs("no rewrite", out);
	fprintf(out, "; rules expected %s, %s%s", expect_ae ? "ACCESS EXCLUSIVE" : "no ACCESS EXCLUSIVE",
		expect_rw ? "a rewrite" : "no rewrite", after);
}

static void observation_text(FILE *out, const mig_lint_report_file *f)
{
	char before[64];
	if (f->not_observed)
		fprintf(out, "%s: not observed: %s\n", f->path, f->not_observed);
	for (size_t i = 0; f->observed && i < f->observation.nstmts; i++) {
		const mig_observed_stmt *st = &f->observation.stmts[i];
		snprintf(before, sizeof before, "  line %u: ", st->line);
		if (i == 0)
			fprintf(out, "%s: observed on a clone of the applied schema:\n", f->path);
		observed_text(out, f, st, before, "\n");
	}
}

void mig_lint_report_text(FILE *out, const mig_lint_report *rep)
{
	size_t errors = 0, warnings = 0, broken = 0;
	for (size_t i = 0; i < rep->nfiles; i++) {
		const mig_lint_report_file *f = &rep->files[i];
		if (f->syntax) {
			broken++;
			fprintf(out, "%s:%u:%u: syntax error: %s\n", f->path, f->result.syntax_line,
				f->result.syntax_column, f->result.syntax_message);
		}
		for (size_t k = 0; k < f->result.nfindings; k++) {
			const mig_lint_finding *x = &f->result.findings[k];
			bool error = x->rule->severity == MIG_LINT_ERROR;
			errors += error;
			warnings += !error;
			char rows[48];
			rows_text(rows, sizeof rows, x->rows);
			fprintf(out, "%s:%u:%u: %s [%s] %s\n", f->path, x->line, x->column,
				error ? "error" : "warning", x->rule->id, x->message);
			if (x->lock)
				fprintf(out, "  lock: %s; rewrites the table: %s%s\n", x->lock,
					x->rule->rewrites ? "yes" : "no", rows);
			fprintf(out, "  fix: %s\n", x->rule->fix);
		}
		observation_text(out, f);
	}
	if (errors + warnings + broken == 0)
		fprintf(out, "no findings in %zu file%s\n", rep->nfiles, rep->nfiles == 1 ? "" : "s");
	else
		fprintf(out, "%zu error%s, %zu warning%s%s in %zu file%s\n", errors,
			errors == 1 ? "" : "s", warnings, warnings == 1 ? "" : "s",
			broken ? ", and files that do not parse" : "", rep->nfiles,
			rep->nfiles == 1 ? "" : "s");
}

/* Workflow-command escaping: data escapes %, CR, LF; properties also ':' and ','. */
static void escaped(FILE *out, const char *s, bool property)
{
	for (; *s; s++) {
		if (*s == '%')
			fputs("%25", out);
		else if (*s == '\r')
			fputs("%0D", out);
		else if (*s == '\n')
			fputs("%0A", out);
		else if (property && *s == ':')
			fputs("%3A", out);
		else if (property && *s == ',')
			fputs("%2C", out);
		else
			fputc(*s, out);
	}
}

void mig_lint_report_github(FILE *out, const mig_lint_report *rep)
{
	for (size_t i = 0; i < rep->nfiles; i++) {
		const mig_lint_report_file *f = &rep->files[i];
		if (f->syntax) {
			fputs("::error file=", out);
			escaped(out, f->path, true);
			fprintf(out, ",line=%u,col=%u,title=syntax error::", f->result.syntax_line,
				f->result.syntax_column);
			escaped(out, f->result.syntax_message, false);
			fputc('\n', out);
		}
		for (size_t k = 0; k < f->result.nfindings; k++) {
			const mig_lint_finding *x = &f->result.findings[k];
			fprintf(out, "::%s file=", x->rule->severity == MIG_LINT_ERROR ? "error" : "warning");
			escaped(out, f->path, true);
			fprintf(out, ",line=%u,col=%u,title=", x->line, x->column);
			escaped(out, x->rule->id, true);
			fputs("::", out);
			escaped(out, x->message, false);
			if (x->lock) {
				fputs(" (", out);
				escaped(out, x->lock, false);
				fputs(x->rule->rewrites ? "; rewrites the table)" : ")", out);
			}
			fputs(". Fix: ", out);
			escaped(out, x->rule->fix, false);
			fputc('\n', out);
		}
		if (f->not_observed) {
			fputs("::notice file=", out);
			escaped(out, f->path, true);
			fputs(",title=not observed::", out);
			escaped(out, f->not_observed, false);
			fputc('\n', out);
		}
		for (size_t k = 0; f->observed && k < f->observation.nstmts; k++) {
			const mig_observed_stmt *st = &f->observation.stmts[k];
			char *text = NULL;
			size_t size = 0;
			FILE *mem = open_memstream(&text, &size);
			if (!mem)
				continue;
			observed_text(mem, f, st, "", "");
			fclose(mem);
			if (size) {
				fputs("::notice file=", out);
				escaped(out, f->path, true);
				fprintf(out, ",line=%u,title=observed::", st->line);
				escaped(out, text, false);
				fputc('\n', out);
			}
			free(text);
		}
	}
}

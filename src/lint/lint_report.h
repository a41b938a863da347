/* The findings of a lint run over many files, and their printed forms: text for
 * people, GitHub workflow annotations, JSON (lint_json.c) and SARIF (lint_sarif.c). */
#ifndef MIGRATE_LINT_REPORT_H
#define MIGRATE_LINT_REPORT_H

#include <stdio.h>

#include "lint/lint.h"
#include "driver/observe.h"

typedef struct mig_lint_report_file {
	char *path;
	bool syntax;            /* it did not parse: result.syntax_* say where */
	mig_lint_result result;
	/* lint --observe */
	bool observed;               /* run on the clone: observation holds what it did */
	const char *not_observed;    /* why it was not (static text), else NULL */
	mig_observation observation;
} mig_lint_report_file;

typedef struct mig_lint_report {
	mig_lint_report_file *files;
	size_t nfiles;
} mig_lint_report;

/* Appends a file's result (taking it over); -1 when memory runs out. */
int mig_lint_report_add(mig_lint_report *rep, const char *path, bool syntax,
			mig_lint_result *result);

/* Safe on a zeroed report. */
void mig_lint_report_clear(mig_lint_report *rep);

void mig_lint_report_text(FILE *out, const mig_lint_report *rep);
void mig_lint_report_github(FILE *out, const mig_lint_report *rep);
int mig_lint_report_json(FILE *out, const mig_lint_report *rep, mig_error *err);
/* SARIF 2.1.0 for GitHub code scanning (lint/lint_sarif.c). MIG_EFAIL when it cannot be
 * written. */
int mig_lint_report_sarif(FILE *out, const mig_lint_report *rep, mig_error *err);

#endif

/* `migrate lint --format json`: the findings of a run as one JSON document (jansson). */
#include <jansson.h>

#include "lint/lint_report.h"

static json_t *strings(char **list, size_t n)
{
	json_t *a = json_array();
	for (size_t i = 0; a && i < n; i++)
		json_array_append_new(a, json_string(list[i]));
	return a;
}

/* lint --observe: "observed" (one entry per statement, what the server did and what
 * the rules expected) and "not_observed" (files with the reason). */
static int observation_json(json_t *root, const mig_lint_report_file *f)
{
	if (f->not_observed) {
		json_t *list = json_object_get(root, "not_observed");
		if (!list) {
			list = json_array();
			json_object_set_new(root, "not_observed", list);
		}
		json_t *o = json_pack("{s:s, s:s}", "file", f->path, "reason", f->not_observed);
		if (!list || !o || json_array_append_new(list, o) < 0)
			return -1;
	}
	if (!f->observed)
		return 0;
	json_t *list = json_object_get(root, "observed");
	if (!list) {
		list = json_array();
		if (!list || json_object_set_new(root, "observed", list) < 0)
			return -1;
	}
	for (size_t k = 0; k < f->observation.nstmts; k++) {
		const mig_observed_stmt *st = &f->observation.stmts[k];
		const mig_lint_claim *c = mig_lint_claim_at(&f->result, st->line);
		json_t *o = json_pack("{s:s, s:i, s:o, s:o, s:b}", "file", f->path, "line",
				      (json_int_t)st->line, "locks", strings(st->locks, st->nlocks),
				      "rewritten", strings(st->rewritten, st->nrewritten),
				      "expected_rewrite", c && c->rewrites);
		if (!o)
			return -1;
		json_object_set_new(o, "expected_lock", c && c->lock ? json_string(c->lock) : json_null());
		if (json_array_append_new(list, o) < 0)
			return -1;
	}
	return 0;
}

int mig_lint_report_json(FILE *out, const mig_lint_report *rep, mig_error *err)
{
	json_t *root = json_object(), *list = json_array();
	size_t errors = 0, warnings = 0;
	if (!root || !list)
		goto oom;
	json_object_set_new(root, "findings", list);
	for (size_t i = 0; i < rep->nfiles; i++) {
		const mig_lint_report_file *f = &rep->files[i];
		for (size_t k = 0; k < f->result.nfindings; k++) {
			const mig_lint_finding *x = &f->result.findings[k];
			bool error = x->rule->severity == MIG_LINT_ERROR;
			errors += error;
			warnings += !error;
			json_t *o = json_pack("{s:s, s:i, s:i, s:s, s:s, s:s, s:b, s:s}", "file", f->path,
					      "line", (json_int_t)x->line, "column", (json_int_t)x->column,
					      "rule", x->rule->id, "severity", error ? "error" : "warning",
					      "message", x->message, "rewrites", x->rule->rewrites, "fix",
					      x->rule->fix);
			if (!o)
				goto oom;
			json_object_set_new(o, "lock", x->lock ? json_string(x->lock) : json_null());
			json_object_set_new(o, "table", x->table ? json_string(x->table) : json_null());
			json_object_set_new(o, "rows", x->rows >= 0 ? json_real(x->rows) : json_null());
			json_array_append_new(list, o);
		}
		if (f->syntax) {
			json_t *o = json_pack("{s:s, s:i, s:i, s:s}", "file", f->path, "line",
					      (json_int_t)f->result.syntax_line, "column",
					      (json_int_t)f->result.syntax_column, "message",
					      f->result.syntax_message);
			if (!o)
				goto oom;
			json_t *syn = json_object_get(root, "syntax_errors");
			if (!syn) {
				syn = json_array();
				json_object_set_new(root, "syntax_errors", syn);
			}
			json_array_append_new(syn, o);
		}
	}
	for (size_t i = 0; i < rep->nfiles; i++)
		if (observation_json(root, &rep->files[i]) < 0)
			goto oom;
	json_object_set_new(root, "files", json_integer((json_int_t)rep->nfiles));
	json_object_set_new(root, "errors", json_integer((json_int_t)errors));
	json_object_set_new(root, "warnings", json_integer((json_int_t)warnings));
	if (json_dumpf(root, out, JSON_INDENT(2)) < 0)
		goto oom;
	fputc('\n', out);
	json_decref(root);
	return MIG_OK;
oom:
	json_decref(root);
	return mig_error_set(err, MIG_EFAIL, "cannot write the lint report");
}

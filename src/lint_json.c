/* `migrate lint --format json`: the findings of a run as one JSON document (jansson). */
#include <jansson.h>

#include "lint_report.h"

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

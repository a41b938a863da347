/* The one place JSON output is written (see json_out.h). */
#include "util/json_out.h"

int mig_json_emit(FILE *out, json_t *doc, mig_error *err)
{
	if (!doc)
		return mig_error_set(err, MIG_EFAIL, "out of memory");
	int rc = json_dumpf(doc, out, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	json_decref(doc);
	if (rc < 0)
		return mig_error_set(err, MIG_EFAIL, "cannot write JSON output");
	fputc('\n', out);
	return MIG_OK;
}

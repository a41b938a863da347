/* Snapshots, drift differences and round-trip results as JSON, built with jansson so
 * escaping is always right. Absent values are null, never left out, so every object of
 * a list has the same keys. */
#include "schema/snapshot_json.h"

#include "util/json_out.h"

static json_t *str_or_null(const char *s)
{
	return s ? json_string(s) : json_null();
}

int mig_snapshot_print_json(FILE *out, const mig_snapshot *snap, mig_error *err)
{
	json_t *list = json_array();
	for (size_t i = 0; list && i < snap->nobjects; i++) {
		const mig_snap_object *o = &snap->objects[i];
		json_t *attrs = json_object();
		for (size_t k = 0; attrs && k < o->nattrs; k++)
			json_object_set_new(attrs, o->attrs[k].key, str_or_null(o->attrs[k].value));
		json_array_append_new(list, json_pack("{s:s, s:s, s:s, s:o*}", "type", o->type,
						      "schema", o->schema, "name", o->name,
						      "attributes", attrs));
	}
	return mig_json_emit(out, list ? json_pack("{s:o}", "objects", list) : NULL, err);
}

static json_t *differences(const mig_diff *diff)
{
	json_t *list = json_array();
	for (size_t i = 0; list && i < diff->n; i++) {
		const mig_difference *d = &diff->items[i];
		json_array_append_new(
			list, json_pack("{s:s, s:s, s:s, s:s, s:o, s:o, s:o, s:o, s:o}", "kind",
					mig_diff_kind_name(d->kind), "object_type", d->object_type,
					"schema", d->schema, "name", d->name, "attribute",
					str_or_null(d->attribute), "expected", str_or_null(d->expected),
					"actual", str_or_null(d->actual), "module",
					str_or_null(d->module),
					"version", d->module ? json_integer(d->version) : json_null()));
	}
	return list;
}

int mig_diff_print_json(FILE *out, const mig_diff *diff, mig_error *err)
{
	return mig_json_emit(out, json_pack("{s:b, s:o*}", "ok", diff->n == 0, "differences",
				   differences(diff)),
		    err);
}

int mig_roundtrip_print_json(FILE *out, const mig_roundtrip_result *results, size_t n,
			     size_t tested, size_t failed, size_t not_tested, mig_error *err)
{
	json_t *list = json_array();
	for (size_t i = 0; list && i < n; i++) {
		const mig_roundtrip_result *r = &results[i];
		json_array_append_new(
			list, json_pack("{s:s, s:I, s:s, s:s, s:o, s:o*}", "module", r->module,
					"version", (json_int_t)r->version, "name", r->name, "status",
					r->status, "error", str_or_null(r->message), "differences",
					differences(&r->diff)));
	}
	return mig_json_emit(out, list ? json_pack("{s:b, s:I, s:I, s:I, s:o}", "ok", failed == 0,
					  "tested", (json_int_t)tested, "failed",
					  (json_int_t)failed, "not_tested",
					  (json_int_t)not_tested, "results", list)
			      : NULL,
		    err);
}

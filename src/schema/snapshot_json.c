/* Snapshots, drift differences and round-trip results as JSON, built with jansson so
 * escaping is always right. Absent values are null, never left out, so every object of
 * a list has the same keys. */
#include <stdlib.h>
#include <string.h>

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

json_t *mig_diff_to_json(const mig_diff *diff)
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
				   mig_diff_to_json(diff)),
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
					mig_diff_to_json(&r->diff)));
	}
	return mig_json_emit(out, list ? json_pack("{s:b, s:I, s:I, s:I, s:o}", "ok", failed == 0,
					  "tested", (json_int_t)tested, "failed",
					  (json_int_t)failed, "not_tested",
					  (json_int_t)not_tested, "results", list)
			      : NULL,
		    err);
}

/* The cache document is compact, lists rather than objects, as it is read on every
 * warm drift: {"key": key, "objects": [[type, schema, name, [key, value, ...]], ...],
 * "origins": [[kind, schema, name, module, version], ...]}. */
int mig_snapshot_cache_encode(char **out, const char *key, const mig_snapshot *snap,
			      const mig_object_origin *origins, size_t norigins, mig_error *err)
{
	*out = NULL;
	json_t *objects = json_array(), *list = json_array();
	bool oom = !objects || !list;
	for (size_t i = 0; !oom && i < snap->nobjects; i++) {
		const mig_snap_object *o = &snap->objects[i];
		json_t *attrs = json_array();
		for (size_t k = 0; attrs && k < o->nattrs; k++)
			oom |= json_array_append_new(attrs, json_string(o->attrs[k].key)) < 0 ||
			       json_array_append_new(attrs, str_or_null(o->attrs[k].value)) < 0;
		oom |= !attrs || json_array_append_new(objects, json_pack("[s, s, s, o]", o->type,
									  o->schema, o->name,
									  attrs)) < 0;
	}
	for (size_t i = 0; !oom && i < norigins; i++) {
		const mig_object_origin *g = &origins[i];
		oom |= json_array_append_new(list, json_pack("[s, s, s, s, I]", g->kind, g->schema,
							     g->name, g->module,
							     (json_int_t)g->version)) < 0;
	}
	json_t *doc = oom ? NULL : json_pack("{s:s, s:O, s:O}", "key", key, "objects", objects,
					     "origins", list);
	json_decref(objects);
	json_decref(list);
	if (doc)
		*out = json_dumps(doc, JSON_COMPACT);
	json_decref(doc);
	return *out ? MIG_OK : mig_error_set(err, MIG_EFAIL, "out of memory");
}

/* A string member of a list, or NULL when it is JSON null; *bad when it is neither. */
static const char *list_string(const json_t *list, size_t i, bool *bad)
{
	const json_t *v = json_array_get(list, i);
	if (json_is_null(v))
		return NULL;
	if (!json_is_string(v))
		*bad = true;
	return json_string_value(v);
}

int mig_snapshot_cache_decode(mig_snapshot *snap, mig_object_origin **origins,
			      size_t *norigins, bool *match, const char *text, size_t len,
			      const char *key, mig_error *err)
{
	memset(snap, 0, sizeof *snap);
	*origins = NULL;
	*norigins = 0;
	*match = false;
	json_t *doc = json_loadb(text, len, 0, NULL);
	const json_t *objects = json_object_get(doc, "objects"),
		     *list = json_object_get(doc, "origins");
	const char *have = json_string_value(json_object_get(doc, "key"));
	int rc = MIG_OK;
	if (!have || strcmp(have, key) != 0 || !json_is_array(objects) || !json_is_array(list))
		goto done; /* another format or another build: not a match, not an error */
	bool bad = false;
	const char **keys = NULL, **values = NULL;
	size_t cap = 0;
	for (size_t i = 0; rc == MIG_OK && !bad && i < json_array_size(objects); i++) {
		const json_t *o = json_array_get(objects, i), *attrs = json_array_get(o, 3);
		size_t n = json_array_size(attrs) / 2;
		if (n > cap) {
			const char **k = realloc(keys, n * sizeof *k), **v = NULL;
			if (k)
				keys = k;
			if (k && (v = realloc(values, n * sizeof *v)))
				values = v;
			if (!k || !v) {
				rc = mig_error_set(err, MIG_EFAIL, "out of memory");
				break;
			}
			cap = n;
		}
		for (size_t a = 0; a < n; a++) {
			keys[a] = list_string(attrs, 2 * a, &bad);
			values[a] = list_string(attrs, 2 * a + 1, &bad);
			bad |= !keys[a];
		}
		const char *type = list_string(o, 0, &bad), *schema = list_string(o, 1, &bad),
			   *name = list_string(o, 2, &bad);
		bad |= !type || !json_is_array(attrs);
		if (!bad)
			rc = mig_snapshot_add(snap, type, schema, name, n, keys, values, err);
	}
	free(keys);
	free(values);
	size_t n = json_array_size(list);
	if (rc == MIG_OK && !bad && n && !(*origins = calloc(n, sizeof **origins)))
		rc = mig_error_set(err, MIG_EFAIL, "out of memory");
	for (size_t i = 0; rc == MIG_OK && !bad && i < n; i++) {
		const json_t *g = json_array_get(list, i);
		const char *f[4];
		for (size_t k = 0; k < 4; k++) {
			f[k] = list_string(g, k, &bad);
			if (!f[k])
				bad = true;
		}
		if (bad || !json_is_integer(json_array_get(g, 4)))
			break;
		mig_object_origin *o = &(*origins)[(*norigins)++];
		o->version = json_integer_value(json_array_get(g, 4));
		if (!(o->kind = strdup(f[0])) || !(o->schema = strdup(f[1])) ||
		    !(o->name = strdup(f[2])) || !(o->module = strdup(f[3])))
			rc = mig_error_set(err, MIG_EFAIL, "out of memory");
	}
	*match = rc == MIG_OK && !bad;
	if (*match)
		mig_snapshot_sort(snap);
	else {
		mig_snapshot_clear(snap);
		mig_object_origins_free(*origins, *norigins);
		*origins = NULL;
		*norigins = 0;
	}
done:
	json_decref(doc);
	return rc;
}

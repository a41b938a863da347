/* Schema snapshots compared by name: the model's storage, a merge walk of two sorted
 * snapshots yielding missing, extra and changed objects, and the attribution of each
 * difference to the migration that created its object. No database code here. */
#include <stdlib.h>
#include <string.h>

#include "schema/snapshot.h"

static char *dup_or_null(const char *s, bool *oom)
{
	if (!s)
		return NULL;
	char *d = strdup(s);
	if (!d)
		*oom = true;
	return d;
}

static void object_clear(mig_snap_object *o)
{
	for (size_t i = 0; i < o->nattrs; i++) {
		free(o->attrs[i].key);
		free(o->attrs[i].value);
	}
	free(o->attrs);
	free(o->type);
	free(o->schema);
	free(o->name);
}

int mig_snapshot_add(mig_snapshot *snap, const char *type, const char *schema,
		     const char *name, size_t nattrs, const char *const *keys,
		     const char *const *values, mig_error *err)
{
	if (snap->nobjects == snap->cap) {
		size_t cap = snap->cap ? snap->cap * 2 : 256;
		mig_snap_object *grown = realloc(snap->objects, cap * sizeof *grown);
		if (!grown)
			return mig_error_set(err, MIG_EFAIL, "out of memory");
		snap->objects = grown;
		snap->cap = cap;
	}
	bool oom = false;
	mig_snap_object o = {0};
	o.type = dup_or_null(type, &oom);
	o.schema = dup_or_null(schema ? schema : "", &oom);
	o.name = dup_or_null(name ? name : "", &oom);
	if (nattrs && !(o.attrs = calloc(nattrs, sizeof *o.attrs)))
		oom = true;
	for (size_t i = 0; !oom && i < nattrs; i++) {
		o.attrs[i].key = dup_or_null(keys[i], &oom);
		o.attrs[i].value = dup_or_null(values[i], &oom);
		o.nattrs = i + 1;
	}
	if (oom) {
		object_clear(&o);
		return mig_error_set(err, MIG_EFAIL, "out of memory");
	}
	snap->objects[snap->nobjects++] = o;
	return MIG_OK;
}

static int object_cmp(const mig_snap_object *a, const mig_snap_object *b)
{
	int c = strcmp(a->type, b->type);
	if (!c)
		c = strcmp(a->schema, b->schema);
	if (!c)
		c = strcmp(a->name, b->name);
	return c;
}

static int object_qcmp(const void *a, const void *b)
{
	return object_cmp(a, b);
}

void mig_snapshot_sort(mig_snapshot *snap)
{
	if (snap->nobjects > 1)
		qsort(snap->objects, snap->nobjects, sizeof *snap->objects, object_qcmp);
}

static int owner_qcmp(const void *a, const void *b)
{
	long long x = *(const long long *)a, y = *(const long long *)b;
	return (x > y) - (x < y);
}

static bool owned_by(long long owner, const long long *owners, size_t n)
{
	return n && bsearch(&owner, owners, n, sizeof *owners, owner_qcmp) != NULL;
}

static int reserve(mig_snapshot *snap, size_t more, mig_error *err)
{
	if (snap->nobjects + more <= snap->cap)
		return MIG_OK;
	size_t cap = snap->nobjects + more;
	mig_snap_object *grown = realloc(snap->objects, cap * sizeof *grown);
	if (!grown)
		return mig_error_set(err, MIG_EFAIL, "out of memory");
	snap->objects = grown;
	snap->cap = cap;
	return MIG_OK;
}

int mig_snapshot_select(mig_snapshot *view, const mig_snapshot *src, const long long *owners,
			size_t n, bool inside, mig_error *err)
{
	size_t count = 0;
	for (size_t i = 0; i < src->nobjects; i++)
		count += owned_by(src->objects[i].owner, owners, n) == inside;
	int rc = reserve(view, count, err);
	for (size_t i = 0; rc == MIG_OK && i < src->nobjects; i++)
		if (owned_by(src->objects[i].owner, owners, n) == inside)
			view->objects[view->nobjects++] = src->objects[i];
	return rc;
}

void mig_snapshot_view_free(mig_snapshot *view)
{
	free(view->objects);
	memset(view, 0, sizeof *view);
}

int mig_snapshot_patch(mig_snapshot *snap, const long long *owners, size_t n,
		       mig_snapshot *fresh, mig_error *err)
{
	int rc = reserve(snap, fresh->nobjects, err);
	if (rc < 0)
		return rc;
	size_t kept = 0;
	for (size_t i = 0; i < snap->nobjects; i++) {
		if (owned_by(snap->objects[i].owner, owners, n))
			object_clear(&snap->objects[i]);
		else
			snap->objects[kept++] = snap->objects[i];
	}
	/* both sorted: merged from the end, in place (a patch is small, the rest is not) */
	mig_snapshot_sort(fresh);
	size_t i = kept, k = fresh->nobjects, to = kept + fresh->nobjects;
	while (k) {
		if (i && object_cmp(&snap->objects[i - 1], &fresh->objects[k - 1]) > 0)
			snap->objects[--to] = snap->objects[--i];
		else
			snap->objects[--to] = fresh->objects[--k];
	}
	snap->nobjects = kept + fresh->nobjects;
	free(fresh->objects);
	memset(fresh, 0, sizeof *fresh);
	return MIG_OK;
}

void mig_snapshot_drop_attr(mig_snapshot *snap, const char *key)
{
	for (size_t i = 0; i < snap->nobjects; i++) {
		mig_snap_object *o = &snap->objects[i];
		size_t kept = 0;
		for (size_t k = 0; k < o->nattrs; k++) {
			if (!strcmp(o->attrs[k].key, key)) {
				free(o->attrs[k].key);
				free(o->attrs[k].value);
			} else {
				o->attrs[kept++] = o->attrs[k];
			}
		}
		o->nattrs = kept;
	}
}

void mig_snapshot_clear(mig_snapshot *snap)
{
	for (size_t i = 0; i < snap->nobjects; i++)
		object_clear(&snap->objects[i]);
	free(snap->objects);
	memset(snap, 0, sizeof *snap);
}

static int diff_add(mig_diff *d, mig_diff_kind kind, const mig_snap_object *o,
		    const char *attribute, const char *expected, const char *actual,
		    mig_error *err)
{
	if (d->n == d->cap) {
		size_t cap = d->cap ? d->cap * 2 : 16;
		mig_difference *grown = realloc(d->items, cap * sizeof *grown);
		if (!grown)
			return mig_error_set(err, MIG_EFAIL, "out of memory");
		d->items = grown;
		d->cap = cap;
	}
	bool oom = false;
	mig_difference x = {.kind = kind};
	x.object_type = dup_or_null(o->type, &oom);
	x.schema = dup_or_null(o->schema, &oom);
	x.name = dup_or_null(o->name, &oom);
	x.attribute = dup_or_null(attribute, &oom);
	x.expected = dup_or_null(expected, &oom);
	x.actual = dup_or_null(actual, &oom);
	d->items[d->n++] = x; /* cleared with the rest even when a copy failed */
	return oom ? mig_error_set(err, MIG_EFAIL, "out of memory") : MIG_OK;
}

static const mig_snap_attr *attr_find(const mig_snap_object *o, const char *key)
{
	for (size_t i = 0; i < o->nattrs; i++)
		if (!strcmp(o->attrs[i].key, key))
			return &o->attrs[i];
	return NULL;
}

static bool same_value(const char *a, const char *b)
{
	return a == b || (a && b && !strcmp(a, b));
}

/* Every attribute of either side, in expected's order then actual's extras. */
static int compare_attrs(mig_diff *d, const mig_snap_object *e, const mig_snap_object *a,
			 mig_error *err)
{
	int rc = MIG_OK;
	for (size_t i = 0; rc == MIG_OK && i < e->nattrs; i++) {
		const mig_snap_attr *other = attr_find(a, e->attrs[i].key);
		const char *av = other ? other->value : NULL;
		if (!same_value(e->attrs[i].value, av))
			rc = diff_add(d, MIG_DIFF_CHANGED, e, e->attrs[i].key, e->attrs[i].value,
				      av, err);
	}
	for (size_t i = 0; rc == MIG_OK && i < a->nattrs; i++)
		if (!attr_find(e, a->attrs[i].key) && a->attrs[i].value)
			rc = diff_add(d, MIG_DIFF_CHANGED, e, a->attrs[i].key, NULL,
				      a->attrs[i].value, err);
	return rc;
}

/* Whether the history puts anything in schema. `public` exists in every new database:
 * it counts only when something expected is in it. */
static bool schema_used(const mig_snapshot *s, const char *schema)
{
	for (size_t i = 0; i < s->nobjects; i++) {
		const mig_snap_object *o = &s->objects[i];
		if (!strcmp(o->schema, schema) &&
		    !(!strcmp(o->type, "schema") && !strcmp(o->name, "public")))
			return true;
	}
	return false;
}

static void difference_clear(mig_difference *d);

/* Whether d is a part (column, constraint, index, trigger, policy) of a table, view or
 * domain that is itself missing or extra: reported once, as its holder. */
static bool part_of_reported(const mig_diff *diff, size_t from, const mig_difference *d)
{
	const char *dot = strchr(d->name, '.');
	if (d->kind == MIG_DIFF_CHANGED || !dot)
		return false;
	size_t len = (size_t)(dot - d->name);
	for (size_t i = from; i < diff->n; i++) {
		const mig_difference *h = &diff->items[i];
		if (h->kind == d->kind && !strcmp(h->schema, d->schema) &&
		    strlen(h->name) == len && !strncmp(h->name, d->name, len) &&
		    (!strcmp(h->object_type, "table") || !strcmp(h->object_type, "view") ||
		     !strcmp(h->object_type, "materialized view") ||
		     !strcmp(h->object_type, "type")))
			return true;
	}
	return false;
}

/* Drops, from the differences appended since from, the parts of missing or extra
 * holders (decided for all first, then removed). */
static int fold_parts(mig_diff *diff, size_t from, mig_error *err)
{
	if (diff->n == from)
		return MIG_OK;
	bool *drop = calloc(diff->n - from, sizeof *drop);
	if (!drop)
		return mig_error_set(err, MIG_EFAIL, "out of memory");
	for (size_t i = from; i < diff->n; i++)
		drop[i - from] = part_of_reported(diff, from, &diff->items[i]);
	size_t kept = from;
	for (size_t i = from; i < diff->n; i++) {
		if (drop[i - from])
			difference_clear(&diff->items[i]);
		else
			diff->items[kept++] = diff->items[i];
	}
	diff->n = kept;
	free(drop);
	return MIG_OK;
}

int mig_snapshot_diff(mig_diff *out, const mig_snapshot *expected, const mig_snapshot *actual,
		      bool limit_extra, mig_error *err)
{
	size_t from = out->n;
	size_t i = 0, j = 0;
	int rc = MIG_OK;
	/* the schemas the history uses, checked per extra object: extras are few */
	while (rc == MIG_OK && (i < expected->nobjects || j < actual->nobjects)) {
		const mig_snap_object *e = i < expected->nobjects ? &expected->objects[i] : NULL;
		const mig_snap_object *a = j < actual->nobjects ? &actual->objects[j] : NULL;
		int c = !e ? 1 : !a ? -1 : object_cmp(e, a);
		if (c < 0) {
			rc = diff_add(out, MIG_DIFF_MISSING, e, NULL, NULL, NULL, err);
			i++;
		} else if (c > 0) {
			if (!limit_extra || schema_used(expected, a->schema))
				rc = diff_add(out, MIG_DIFF_EXTRA, a, NULL, NULL, NULL, err);
			j++;
		} else {
			rc = compare_attrs(out, e, a, err);
			i++;
			j++;
		}
	}
	if (rc == MIG_OK)
		rc = fold_parts(out, from, err);
	return rc;
}

void mig_object_origins_free(mig_object_origin *origins, size_t n)
{
	for (size_t i = 0; origins && i < n; i++) {
		free(origins[i].kind);
		free(origins[i].schema);
		free(origins[i].name);
		free(origins[i].module);
	}
	free(origins);
}

static const mig_object_origin *origin_find(const mig_object_origin *o, size_t n,
					    const char *kind, const char *schema,
					    const char *name, size_t name_len)
{
	for (size_t i = 0; i < n; i++)
		if (!strcmp(o[i].kind, kind) && !strcmp(o[i].schema, schema) &&
		    strlen(o[i].name) == name_len && !strncmp(o[i].name, name, name_len))
			return &o[i];
	return NULL;
}

/* The tracking kind an object type is recorded under, or NULL for parts of a table. */
static const char *tracked_kind(const char *type)
{
	static const char *const same[] = {"table", "view", "materialized view", "sequence",
					   "type", "function", NULL};
	for (size_t i = 0; same[i]; i++)
		if (!strcmp(type, same[i]))
			return same[i];
	if (!strcmp(type, "procedure") || !strcmp(type, "aggregate"))
		return "function";
	return NULL;
}

int mig_diff_attribute(mig_diff *diff, const mig_object_origin *origins, size_t n,
		       mig_error *err)
{
	for (size_t k = 0; k < diff->n; k++) {
		mig_difference *d = &diff->items[k];
		if (d->module)
			continue;
		const mig_object_origin *o = NULL;
		const char *kind = tracked_kind(d->object_type);
		const char *dot = strchr(d->name, '.');
		if (kind)
			o = origin_find(origins, n, kind, d->schema, d->name, strlen(d->name));
		else if (dot) {
			/* an index or a trigger by its own name first (a trigger's is
			 * "table.trigger", as here), then whatever holds it */
			if (!strcmp(d->object_type, "index"))
				o = origin_find(origins, n, "index", d->schema, dot + 1,
						strlen(dot + 1));
			else if (!strcmp(d->object_type, "trigger"))
				o = origin_find(origins, n, "trigger", d->schema, d->name,
						strlen(d->name));
			for (const char *h = "table"; !o && h;
			     h = !strcmp(h, "table") ? "materialized view"
			       : !strcmp(h, "materialized view") ? "view" : NULL)
				o = origin_find(origins, n, h, d->schema, d->name,
						(size_t)(dot - d->name));
		}
		if (!o)
			continue;
		if (!(d->module = strdup(o->module)))
			return mig_error_set(err, MIG_EFAIL, "out of memory");
		d->version = o->version;
	}
	return MIG_OK;
}

static void difference_clear(mig_difference *d)
{
	free(d->object_type);
	free(d->schema);
	free(d->name);
	free(d->attribute);
	free(d->expected);
	free(d->actual);
	free(d->module);
}

void mig_diff_keep_module(mig_diff *diff, const char *module)
{
	size_t kept = 0;
	for (size_t i = 0; i < diff->n; i++) {
		if (diff->items[i].module && !strcmp(diff->items[i].module, module))
			diff->items[kept++] = diff->items[i];
		else
			difference_clear(&diff->items[i]);
	}
	diff->n = kept;
}

const char *mig_diff_kind_name(mig_diff_kind kind)
{
	switch (kind) {
	case MIG_DIFF_MISSING:
		return "missing";
	case MIG_DIFF_EXTRA:
		return "extra";
	case MIG_DIFF_CHANGED:
		return "changed";
	}
	return "changed";
}

void mig_diff_clear(mig_diff *diff)
{
	for (size_t i = 0; i < diff->n; i++)
		difference_clear(&diff->items[i]);
	free(diff->items);
	memset(diff, 0, sizeof *diff);
}

void mig_roundtrip_results_free(mig_roundtrip_result *results, size_t n)
{
	for (size_t i = 0; results && i < n; i++) {
		free(results[i].message);
		mig_diff_clear(&results[i].diff);
	}
	free(results);
}

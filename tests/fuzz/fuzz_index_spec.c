/* libFuzzer target for mig_index_spec_parse on arbitrary bytes (not NUL-terminated). On success:
 * every collection and index has a non-empty unique name and a line inside the file, every index
 * has >= 1 key with a known value, options are in range; on failure a one-line message. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "mongodb/index_spec.h"
#include "fuzz.h"


static int known_kind(mig_key_kind k)
{
	return k >= MIG_KEY_ASC && k <= MIG_KEY_HASHED;
}

static int tristate(int v)
{
	return v == -1 || v == 0 || v == 1;
}

/* A typed value tree is well formed: objects have a name per member, arrays none. */
static void check_value(const mig_value *v, int depth)
{
	CHECK(depth < 4096);
	CHECK(v->type >= MIG_VALUE_NULL && v->type <= MIG_VALUE_OBJECT);
	if (v->type == MIG_VALUE_OBJECT)
		CHECK(v->n == 0 || v->keys);
	if (v->type == MIG_VALUE_ARRAY)
		CHECK(!v->keys);
	if (v->type == MIG_VALUE_STRING || v->type == MIG_VALUE_OID ||
	    v->type == MIG_VALUE_DECIMAL)
		CHECK(v->string != NULL);
	for (size_t i = 0; i < v->n; i++) {
		if (v->keys)
			CHECK(v->keys[i] != NULL);
		check_value(&v->items[i], depth + 1);
	}
}

/* A collation is in mongod's full stored form. */
static void check_collation(const mig_collation *c)
{
	CHECK(c->locale && *c->locale && strcmp(c->locale, "simple"));
	CHECK(c->strength >= 1 && c->strength <= 5);
	CHECK(c->case_first && c->alternate && c->max_variable);
	CHECK(!(c->backwards && c->strength == 1));
}

static void check_spec(const mig_index_spec *spec, unsigned max_line)
{
	CHECK(spec->path && !strcmp(spec->path, "indexes.json"));
	CHECK(spec->module && !strcmp(spec->module, "fuzz"));
	CHECK((spec->ncollections == 0) || spec->collections);
	for (size_t i = 0; i < spec->ncollections; i++) {
		const mig_collection *c = &spec->collections[i];
		CHECK(c->name && *c->name && !strchr(c->name, '$'));
		CHECK(strncmp(c->name, "system.", 7) != 0);
		CHECK(c->line >= 1 && c->line <= max_line);
		for (size_t j = 0; j < i; j++)
			CHECK(strcmp(spec->collections[j].name, c->name) != 0);
		CHECK(c->nindexes == 0 || c->indexes);
		for (size_t k = 0; k < c->nindexes; k++) {
			const mig_index *ix = &c->indexes[k];
			CHECK(ix->name && *ix->name);
			CHECK(ix->line >= 1 && ix->line <= max_line);
			CHECK(ix->line >= c->line);
			CHECK(ix->nkeys >= 1 && ix->keys);
			for (size_t m = 0; m < ix->nkeys; m++) {
				CHECK(ix->keys[m].field && *ix->keys[m].field);
				CHECK(known_kind(ix->keys[m].kind));
			}
			for (size_t m = 0; m < k; m++)
				CHECK(strcmp(c->indexes[m].name, ix->name) != 0);
			CHECK(tristate(ix->unique) && tristate(ix->sparse) && tristate(ix->hidden));
			if (ix->has_expire_after_seconds)
				CHECK(ix->expire_after_seconds >= 0 &&
				      ix->expire_after_seconds <= 2147483647LL);
			else
				CHECK(ix->expire_after_seconds == 0);
			if (ix->partial_filter) {
				CHECK(ix->partial_filter->type == MIG_VALUE_OBJECT);
				CHECK(ix->sparse != 1);
				check_value(ix->partial_filter, 0);
			}
			if (ix->has_collation) {
				check_collation(&ix->collation);
				CHECK(!ix->weights);
			}
			if (ix->has_expire_after_seconds)
				CHECK(ix->nkeys == 1);
			CHECK(strcmp(ix->name, "*") != 0);
		}
	}
}

static int same_spec(const mig_index_spec *a, const mig_index_spec *b)
{
	if (a->ncollections != b->ncollections)
		return 0;
	for (size_t i = 0; i < a->ncollections; i++) {
		const mig_collection *x = &a->collections[i], *y = &b->collections[i];
		if (strcmp(x->name, y->name) || x->line != y->line || x->nindexes != y->nindexes)
			return 0;
		for (size_t k = 0; k < x->nindexes; k++)
			if (strcmp(x->indexes[k].name, y->indexes[k].name) ||
			    x->indexes[k].line != y->indexes[k].line ||
			    x->indexes[k].nkeys != y->indexes[k].nkeys)
				return 0;
	}
	return 1;
}

static void check_error(const mig_error *err, int rc)
{
	size_t len = check_one_line_error(err, rc);
	/* "... (path:line)" or "(path:line:column)" unless cut at the buffer's end */
	if (rc == MIG_EUSAGE && len + 1 < sizeof err->message)
		CHECK(err->message[len - 1] == ')' && strstr(err->message, "(indexes.json:"));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* an exact-size copy without a terminator, so any read past size is caught */
	char *text = malloc(size ? size : 1);
	if (!text)
		return 0;
	if (size)
		memcpy(text, data, size);

	unsigned max_line = 1;
	for (size_t i = 0; i < size; i++)
		max_line += text[i] == '\n';

	mig_index_spec *spec = (mig_index_spec *)1;
	mig_error err = {0};
	int rc = mig_index_spec_parse(&spec, text, size, "indexes.json", "fuzz", &err);
	if (rc != MIG_OK) {
		CHECK(spec == NULL);
		check_error(&err, rc);
		free(text);
		return 0;
	}
	CHECK(spec != NULL);
	check_spec(spec, max_line);

	/* the same bytes parse the same way again */
	mig_index_spec *again = NULL;
	mig_error err2 = {0};
	CHECK(mig_index_spec_parse(&again, text, size, "indexes.json", "fuzz", &err2) == MIG_OK);
	CHECK(same_spec(spec, again));
	mig_index_spec_free(again);

	mig_index_spec_free(spec);
	free(text);
	return 0;
}

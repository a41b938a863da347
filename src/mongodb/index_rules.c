/* mongod's rules on what it accepts in an index spec, checked on the values index_spec.c has
 * read (index_rules.h): collection names, key patterns, partial filter operators, text
 * search languages. A refusal is MIG_EUSAGE ending with the line of the value, as the JSON
 * reader (ext_json.c) reports it. */
#include "mongodb/index_rules.h"

#include <stdarg.h>
#include <stdint.h>
#include <string.h>

/* mig_json_fail, under the short name of the checks below. */
static int fail(mig_json_doc *p, size_t pos, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int fail(mig_json_doc *p, size_t pos, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int rc = mig_json_vfail(p, pos, fmt, ap);
	va_end(ap);
	return rc;
}

int mig_index_check_collection_name(mig_json_doc *p, size_t pos, const char *s, size_t len)
{
	if (!*s)
		return fail(p, pos, "empty collection name");
	if (strlen(s) != len || strchr(s, '$'))
		return fail(p, pos, "invalid collection name '%s': '$' and NUL are not allowed", s);
	if (!strncmp(s, "system.", 7))
		return fail(p, pos,
			    "invalid collection name '%s': the 'system.' prefix is reserved", s);
	return MIG_OK;
}

/* Operators mongod accepts in a partialFilterExpression ($or and $in from 6.0 on). */
static const char *const partial_ops[] = {"$eq", "$gt", "$gte", "$lt", "$lte", "$type",
					  "$exists", "$in", NULL};

/* mongod refuses a partial filter with any other operator (code 67); so does this. */
static int check_partial(mig_json_doc *p, size_t pos, const mig_value *f, const char *label,
			 const char *coll, int depth)
{
	for (size_t i = 0; i < f->n; i++) {
		const char *k = f->keys[i];
		const mig_value *c = &f->items[i];
		if (!strcmp(k, "$and") || !strcmp(k, "$or")) {
			if (c->type != MIG_VALUE_ARRAY || !c->n)
				return fail(p, pos,
					    "'%s' in the partialFilterExpression of %s in collection "
					    "'%s' must be a non-empty array of objects",
					    k, label, coll);
			for (size_t j = 0; j < c->n; j++) {
				int rc;
				if (c->items[j].type != MIG_VALUE_OBJECT)
					return fail(p, pos,
						    "'%s' in the partialFilterExpression of %s in "
						    "collection '%s' must be a non-empty array of "
						    "objects",
						    k, label, coll);
				if (depth > 3)
					return fail(p, pos,
						    "the partialFilterExpression of %s in collection "
						    "'%s' nests '$and'/'$or' too deeply for mongod",
						    label, coll);
				if ((rc = check_partial(p, pos, &c->items[j], label, coll,
							depth + 1)))
					return rc;
			}
			continue;
		}
		if (k[0] == '$')
			return fail(p, pos,
				    "operator '%s' is not supported in the partialFilterExpression "
				    "of %s in collection '%s' (mongod accepts equality, $eq, $gt, "
				    "$gte, $lt, $lte, $type, $exists: true, $in, $and, $or)",
				    k, label, coll);
		if (c->type != MIG_VALUE_OBJECT || !c->n || c->keys[0][0] != '$' ||
		    mig_value_is_wrapper(c))
			continue; /* equality */
		for (size_t j = 0; j < c->n; j++) {
			const char *op = c->keys[j];
			size_t o = 0;
			while (partial_ops[o] && strcmp(partial_ops[o], op))
				o++;
			if (!partial_ops[o])
				return fail(p, pos,
					    "operator '%s' on '%s' is not supported in the "
					    "partialFilterExpression of %s in collection '%s' (mongod "
					    "accepts equality, $eq, $gt, $gte, $lt, $lte, $type, "
					    "$exists: true, $in, $and, $or)",
					    op, k, label, coll);
			if (!strcmp(op, "$exists") &&
			    !(c->items[j].type == MIG_VALUE_BOOL ? c->items[j].boolean
								  : c->items[j].type == MIG_VALUE_INT &&
									    c->items[j].integer))
				return fail(p, pos,
					    "'$exists: false' on '%s' is not supported in the "
					    "partialFilterExpression of %s in collection '%s'",
					    k, label, coll);
			if (!strcmp(op, "$in") && c->items[j].type != MIG_VALUE_ARRAY)
				return fail(p, pos,
					    "'$in' on '%s' in the partialFilterExpression of %s in "
					    "collection '%s' needs an array",
					    k, label, coll);
		}
	}
	return MIG_OK;
}

int mig_index_check_partial(mig_json_doc *p, size_t pos, const mig_value *f, const char *label,
			    const char *coll)
{
	return check_partial(p, pos, f, label, coll, 0);
}

const char *mig_key_kind_name(mig_key_kind k)
{
	static const char *const names[] = {"1", "-1", "text", "2dsphere", "hashed"};
	return names[k];
}

/* mongod's key pattern rules (index_key_validate.cpp, fts_spec.cpp): one special index
 * type per key, text fields adjacent, at most one hashed field. */
int mig_index_check_keys(mig_json_doc *p, size_t pos, const mig_index *ix, const char *label,
			 const char *coll)
{
	int special = -1, hashed = 0;
	size_t first_text = SIZE_MAX, last_text = 0;
	for (size_t i = 0; i < ix->nkeys; i++) {
		mig_key_kind k = ix->keys[i].kind;
		if (k == MIG_KEY_ASC || k == MIG_KEY_DESC)
			continue;
		if (special >= 0 && special != (int)k)
			return fail(p, pos,
				    "%s in collection '%s' mixes index types \"%s\" and \"%s\": "
				    "mongod allows one per index",
				    label, coll, mig_key_kind_name((mig_key_kind)special),
				    mig_key_kind_name(k));
		special = (int)k;
		hashed += k == MIG_KEY_HASHED;
		if (k == MIG_KEY_TEXT) {
			if (first_text == SIZE_MAX)
				first_text = i;
			else if (last_text + 1 != i)
				return fail(p, pos,
					    "the text fields of %s in collection '%s' must be next "
					    "to each other in 'keys'",
					    label, coll);
			last_text = i;
		}
	}
	if (hashed > 1)
		return fail(p, pos, "%s in collection '%s' has more than one hashed field", label,
			    coll);
	return MIG_OK;
}

/* The languages of mongod's text search (fts_language.cpp), short and long names. */
bool mig_index_text_language(const char *s)
{
	static const char *const langs[] = {
		"none", "da", "danish", "nl", "dutch", "en", "english", "fi", "finnish", "fr",
		"french", "de", "german", "hu", "hungarian", "it", "italian", "nb", "norwegian",
		"pt", "portuguese", "ro", "romanian", "ru", "russian", "es", "spanish", "sv",
		"swedish", "tr", "turkish"};
	for (size_t i = 0; i < sizeof langs / sizeof *langs; i++)
		if (!strcmp(langs[i], s))
			return true;
	return false;
}

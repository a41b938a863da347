/* Test-only helpers (mongo_test_util.h): raw commands, drops and index inspection through
 * libmongoc, so that the integration test can set up and verify the server around the
 * public API it tests. Each call opens and closes its own client: slow, but independent. */
#define _POSIX_C_SOURCE 200809L /* libmongoc's headers need struct addrinfo */

#include "mongo_test_util.h"

#include <mongoc/mongoc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static mongoc_client_t *open_client(const char *uri)
{
	mongoc_client_t *c;
	mongoc_init(); /* once-guarded inside libmongoc */
	c = mongoc_client_new(uri);
	if (c)
		mongoc_client_set_error_api(c, MONGOC_ERROR_API_VERSION_2);
	return c;
}

static char *dup_free_bson(char *s)
{
	char *d = s ? strdup(s) : NULL;
	bson_free(s);
	return d;
}

int mtu_command(const char *uri, const char *db, const char *json, char **reply)
{
	mongoc_client_t *c = open_client(uri);
	bson_error_t e;
	bson_t *cmd = NULL, r;
	int rc = -1;

	if (reply)
		*reply = NULL;
	if (!c)
		return -1;
	if (!(cmd = bson_new_from_json((const uint8_t *)json, -1, &e))) {
		fprintf(stderr, "mtu_command: bad JSON %s: %s\n", json, e.message);
		goto done;
	}
	if (mongoc_client_command_simple(c, db, cmd, NULL, &r, &e))
		rc = 0;
	else
		rc = e.domain == MONGOC_ERROR_SERVER ? (int)e.code : -1;
	if (reply)
		*reply = rc == 0 ? dup_free_bson(bson_as_relaxed_extended_json(&r, NULL))
				 : strdup(e.message);
	bson_destroy(&r);
done:
	if (cmd)
		bson_destroy(cmd);
	mongoc_client_destroy(c);
	return rc;
}

int mtu_drop_database(const char *uri, const char *db)
{
	return mtu_command(uri, db, "{\"dropDatabase\": 1}", NULL);
}

bool mtu_collection_exists(const char *uri, const char *db, const char *coll)
{
	mongoc_client_t *c = open_client(uri);
	mongoc_database_t *d;
	bson_error_t e;
	char **names;
	bool found = false;

	if (!c)
		return false;
	d = mongoc_client_get_database(c, db);
	names = mongoc_database_get_collection_names_with_opts(d, NULL, &e);
	for (size_t i = 0; names && names[i]; i++)
		if (!strcmp(names[i], coll))
			found = true;
	bson_strfreev(names);
	mongoc_database_destroy(d);
	mongoc_client_destroy(c);
	return found;
}

static void append(char *buf, size_t size, const char *s)
{
	size_t used = strlen(buf);
	if (used + 1 < size)
		snprintf(buf + used, size - used, "%s", s);
}

static void append_doc_json(char *buf, size_t size, const char *label, const bson_iter_t *it)
{
	const uint8_t *data;
	uint32_t len;
	bson_t sub;
	char *json;

	bson_iter_document(it, &len, &data);
	bson_init_static(&sub, data, len);
	json = bson_as_relaxed_extended_json(&sub, NULL);
	append(buf, size, label);
	append(buf, size, json);
	bson_free(json);
}

/* "{a:1,b:-1}" from a key pattern, numbers printed by value whatever their BSON type; or
 * "{f,g}" (names only) for weights. */
static void append_fields(char *buf, size_t size, const bson_iter_t *doc, bool values)
{
	bson_iter_t it;
	bool first = true;
	bson_iter_recurse(doc, &it);
	append(buf, size, "{");
	while (bson_iter_next(&it)) {
		char v[64];
		if (!first)
			append(buf, size, ",");
		first = false;
		append(buf, size, bson_iter_key(&it));
		if (!values)
			continue;
		if (BSON_ITER_HOLDS_UTF8(&it))
			snprintf(v, sizeof v, ":%s", bson_iter_utf8(&it, NULL));
		else
			snprintf(v, sizeof v, ":%g", bson_iter_as_double(&it));
		append(buf, size, v);
	}
	append(buf, size, "}");
}

char *mtu_index_describe(const char *uri, const char *db, const char *coll, const char *name)
{
	mongoc_client_t *c = open_client(uri);
	mongoc_collection_t *col;
	mongoc_cursor_t *cur;
	const bson_t *doc;
	char buf[4096] = "";
	bool found = false;

	if (!c)
		return NULL;
	col = mongoc_client_get_collection(c, db, coll);
	cur = mongoc_collection_find_indexes_with_opts(col, NULL);
	while (!found && mongoc_cursor_next(cur, &doc)) {
		bson_iter_t it;
		if (!bson_iter_init_find(&it, doc, "name") ||
		    strcmp(bson_iter_utf8(&it, NULL), name))
			continue;
		found = true;
		if (bson_iter_init_find(&it, doc, "key")) {
			append(buf, sizeof buf, "key=");
			append_fields(buf, sizeof buf, &it, true);
		}
		if (bson_iter_init_find(&it, doc, "unique") && bson_iter_as_bool(&it))
			append(buf, sizeof buf, " unique");
		if (bson_iter_init_find(&it, doc, "sparse") && bson_iter_as_bool(&it))
			append(buf, sizeof buf, " sparse");
		if (bson_iter_init_find(&it, doc, "hidden") && bson_iter_as_bool(&it))
			append(buf, sizeof buf, " hidden");
		if (bson_iter_init_find(&it, doc, "expireAfterSeconds")) {
			char v[64];
			snprintf(v, sizeof v, " expire=%g", bson_iter_as_double(&it));
			append(buf, sizeof buf, v);
		}
		if (bson_iter_init_find(&it, doc, "partialFilterExpression"))
			append_doc_json(buf, sizeof buf, " partial=", &it);
		if (bson_iter_init_find(&it, doc, "collation"))
			append_doc_json(buf, sizeof buf, " collation=", &it);
		if (bson_iter_init_find(&it, doc, "weights")) {
			append(buf, sizeof buf, " weights=");
			append_fields(buf, sizeof buf, &it, false);
		}
	}
	mongoc_cursor_destroy(cur);
	mongoc_collection_destroy(col);
	mongoc_client_destroy(c);
	return found ? strdup(buf) : NULL;
}

static long long sum_write_metrics(const char *json)
{
	static const char *const writes[] = {"create",       "createIndexes", "drop",
					     "dropDatabase", "dropIndexes",   "insert",
					     "delete",       "update"};
	bson_t *b = bson_new_from_json((const uint8_t *)json, -1, NULL);
	long long total = 0;
	if (!b)
		return -1;
	for (size_t i = 0; i < sizeof writes / sizeof *writes; i++) {
		char path[96];
		bson_iter_t it, found;
		snprintf(path, sizeof path, "metrics.commands.%s.total", writes[i]);
		if (bson_iter_init(&it, b) && bson_iter_find_descendant(&it, path, &found))
			total += bson_iter_as_int64(&found);
	}
	bson_destroy(b);
	return total;
}

long long mtu_write_count(const char *uri)
{
	char *reply = NULL;
	long long n = -1;
	int rc = mtu_command(uri, "admin", "{\"standinStats\": 1}", &reply);

	if (rc == 0) {
		bson_t *b = bson_new_from_json((const uint8_t *)reply, -1, NULL);
		bson_iter_t it;
		if (b && bson_iter_init_find(&it, b, "writes"))
			n = bson_iter_as_int64(&it);
		if (b)
			bson_destroy(b);
	} else if (rc == 59) { /* CommandNotFound: a real mongod */
		free(reply);
		reply = NULL;
		if (mtu_command(uri, "admin", "{\"serverStatus\": 1}", &reply) == 0)
			n = sum_write_metrics(reply);
	}
	free(reply);
	return n;
}

long long mtu_command_count(const char *uri, const char *name)
{
	char *reply = NULL, path[128];
	long long n = -1;
	bson_t *b;
	bson_iter_t it, found;
	int rc = mtu_command(uri, "admin", "{\"standinStats\": 1}", &reply);

	if (rc == 59) { /* CommandNotFound: a real mongod */
		free(reply);
		reply = NULL;
		rc = mtu_command(uri, "admin", "{\"serverStatus\": 1}", &reply);
		snprintf(path, sizeof path, "metrics.commands.%s.total", name);
	} else {
		snprintf(path, sizeof path, "commands.%s", name);
	}
	if (rc == 0 && (b = bson_new_from_json((const uint8_t *)reply, -1, NULL))) {
		n = bson_iter_init(&it, b) && bson_iter_find_descendant(&it, path, &found)
			    ? bson_iter_as_int64(&found)
			    : 0; /* never received yet */
		bson_destroy(b);
	}
	free(reply);
	return n;
}

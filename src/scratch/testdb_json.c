/* `migrate testdb create --format json`: the new database as one JSON document, written
 * with jansson like every other JSON output. */
#include "scratch/testdb.h"

#include "util/json_out.h"

int mig_testdb_print_json(FILE *out, const mig_testdb *db, const char *dsn, mig_error *err)
{
	json_t *doc = json_pack("{s:s, s:s, s:s, s:b, s:f}", "dsn", dsn, "database", db->database,
				"template", db->template_name, "template_built", db->template_built,
				"ms", (double)(long long)(db->ms * 10 + 0.5) / 10);
	if (doc && db->mongo_database)
		json_object_set_new(doc, "mongodb_database", json_string(db->mongo_database));
	return mig_json_emit(out, doc, err);
}

/* libFuzzer target for mig_pg_drop_names: whatever the bytes, it returns 0 and every
 * line it appends is "kind\tschema\tname\n" with a known kind, a non-empty name, fields
 * of at most 63 bytes without tabs or newlines, and no schema for DROP SCHEMA. Then the
 * whole scan (mig_pg_track_scan, ALTER TABLE's words included) over the same statement:
 * it names the same objects, and only as a statement that may drop. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "postgres/pg_track.h"
#include "fuzz.h"

static int known_kind(const char *k, size_t len)
{
	static const char *const kinds[] = {"table", "view", "materialized view", "index",
					    "sequence", "type", "function", "schema"};
	for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++)
		if (strlen(kinds[i]) == len && !memcmp(kinds[i], k, len))
			return 1;
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *stmt = malloc(size + 1);
	if (!stmt)
		return 0;
	memcpy(stmt, data, size);
	stmt[size] = '\0';
	char *named = NULL;
	CHECK(mig_pg_drop_names(&named, stmt) == 0);
	for (const char *line = named; line && *line;) {
		const char *end = strchr(line, '\n');
		CHECK(end != NULL);
		const char *t1 = memchr(line, '\t', (size_t)(end - line));
		CHECK(t1 != NULL);
		const char *t2 = memchr(t1 + 1, '\t', (size_t)(end - t1 - 1));
		CHECK(t2 != NULL);
		CHECK(!memchr(t2 + 1, '\t', (size_t)(end - t2 - 1)));
		CHECK(known_kind(line, (size_t)(t1 - line)));
		CHECK(t2 - t1 - 1 <= 63 && end - t2 - 1 <= 63 && end - t2 - 1 > 0);
		if (t1 - line == 6 && !memcmp(line, "schema", 6))
			CHECK(t2 == t1 + 1);
		line = end + 1;
	}
	mig_sql_stmt one = {.offset = 0, .length = size};
	mig_step step = {.module = "m", .version = 1, .up = true};
	mig_pg_track_step s;
	CHECK(mig_pg_track_scan(&s, &step, stmt, &one, 1, NULL) == MIG_OK);
	CHECK(!named || s.drops);
	CHECK(!s.named == !named && (!named || !strcmp(s.named, named)));
	mig_pg_track_step_clear(&s);
	free(named);
	free(stmt);
	return 0;
}

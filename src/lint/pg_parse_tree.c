/* The names written in libpg_query's parse tree (pg_parse_private.h): a RangeVar's
 * "schema.name", a qualified name's parts, quoted where PostgreSQL would need quotes. */
#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "lint/pg_parse_private.h"

static bool needs_quotes(const char *s)
{
	if (!*s || !((*s >= 'a' && *s <= 'z') || *s == '_'))
		return true;
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') || *s == '_' || *s == '$'))
			return true;
	return false;
}

/* Appends ident to buf (quoted when PostgreSQL would need it). */
static void append_ident(char *buf, size_t size, const char *ident)
{
	size_t n = strlen(buf);
	if (!needs_quotes(ident)) {
		snprintf(buf + n, size - n, "%s", ident);
		return;
	}
	if (n + 1 < size)
		buf[n++] = '"';
	for (; *ident && n + 2 < size; ident++) {
		if (*ident == '"')
			buf[n++] = '"';
		buf[n++] = *ident;
	}
	if (n + 1 < size)
		buf[n++] = '"';
	buf[n] = '\0';
}

char *mig_pg_range_var_name(const json_t *rv)
{
	const char *rel = get_str(rv, "relname");
	if (!rel)
		return NULL;
	char buf[512] = "";
	const char *schema = get_str(rv, "schemaname");
	if (schema) {
		append_ident(buf, sizeof buf, schema);
		strncat(buf, ".", sizeof buf - strlen(buf) - 1);
	}
	append_ident(buf, sizeof buf, rel);
	return strdup(buf);
}

/* A list of {"String": {"sval": ...}}: its parts joined with '.', quoted as needed. */
char *mig_pg_qualified_name(const json_t *list)
{
	char buf[512] = "";
	size_t i;
	json_t *item;
	json_array_foreach(list, i, item) {
		const char *part = get_str(as(item, "String"), "sval");
		if (!part)
			continue;
		if (*buf)
			strncat(buf, ".", sizeof buf - strlen(buf) - 1);
		append_ident(buf, sizeof buf, part);
	}
	return *buf ? strdup(buf) : NULL;
}

const char *mig_pg_last_string(const json_t *list)
{
	size_t n = json_array_size(list);
	return n ? get_str(as(json_array_get(list, n - 1), "String"), "sval") : NULL;
}

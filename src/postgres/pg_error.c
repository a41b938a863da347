/* Error attribution for failed migration statements (see pg_error.h): pure string work
 * over the fields the server returned, tested in tests/unit/postgres/test_pg_error.c. */
#include "postgres/pg_error.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void mig_pg_first_line(char *dst, size_t size, const char *msg)
{
	snprintf(dst, size, "%s", msg ? msg : "");
	size_t n = strlen(dst);
	while (n && (dst[n - 1] == '\n' || dst[n - 1] == ' '))
		dst[--n] = '\0';
}

/* Number of bytes of the first `chars` UTF-8 characters of s[0..len). */
static size_t utf8_prefix_bytes(const char *s, size_t len, long chars)
{
	size_t i = 0;
	while (i < len && chars > 0) {
		i++;
		while (i < len && ((unsigned char)s[i] & 0xC0) == 0x80)
			i++;
		chars--;
	}
	return i;
}

int mig_pg_step_error(const mig_step *step, const char *stmt_text, const mig_sql_stmt *stmt,
		      const mig_pg_failure *f, mig_error *err)
{
	char msg[512], detail[256] = "";
	mig_pg_first_line(msg, sizeof msg, f->primary ? f->primary : f->whole);
	if (f->detail) {
		char d[200];
		mig_pg_first_line(d, sizeof d, f->detail);
		snprintf(detail, sizeof detail, " (%s)", d);
	}
	unsigned line = stmt ? stmt->line : 1;
	char at[64] = "";
	if (stmt && stmt_text && f->position) {
		/* the position counts characters from the start of the failing statement */
		size_t bytes = utf8_prefix_bytes(stmt_text, stmt->length,
						 strtol(f->position, NULL, 10) - 1);
		unsigned token_line = line - 1 + mig_sql_line_at(stmt_text, stmt->length, bytes);
		if (token_line != line)
			snprintf(at, sizeof at, ", at line %u", token_line);
	}
	const char *state = f->sqlstate ? f->sqlstate : "?????";
	int rc = mig_error_set(err, MIG_EFAIL, "%s/%lld %s: %s%s, SQLSTATE %s%s (%s:%u)",
			       step->module, step->version, step->up ? "failed" : "rollback failed",
			       msg, detail, state, at, step->path, line);
	if (err) {
		snprintf(err->sqlstate, sizeof err->sqlstate, "%s", f->sqlstate ? f->sqlstate : "");
		err->line = line;
	}
	return rc;
}

int mig_pg_check_version(int version, mig_error *err)
{
	if (version >= MIG_PG_OLDEST_MAJOR * 10000)
		return MIG_OK;
	char v[32];
	if (version <= 0)
		snprintf(v, sizeof v, "an unknown version");
	else if (version >= 100000)
		snprintf(v, sizeof v, "%d.%d", version / 10000, version % 10000);
	else
		snprintf(v, sizeof v, "%d.%d.%d", version / 10000, version / 100 % 100, version % 100);
	return mig_error_set(err, MIG_EFAIL,
			     "the server runs PostgreSQL %s: migrate needs PostgreSQL %d or later", v,
			     MIG_PG_OLDEST_MAJOR);
}

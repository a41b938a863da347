/* libFuzzer target for the lint rule engine (libpg_query's parse tree read into typed
 * statements, then the rules and lint-ignore directives): whatever the bytes, it parses
 * or names a syntax error inside the text, and every finding has a known rule, a
 * one-line message and a position inside the text. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "lint/lint.h"

static unsigned count_lines(const char *s, size_t len)
{
	unsigned n = 1;
	for (size_t i = 0; i < len; i++)
		n += s[i] == '\n';
	return n;
}

static void check(const char *sql, size_t len, const mig_lint_context *ctx)
{
	mig_lint_result r;
	int rc = mig_lint_sql(&r, sql, len, ctx);
	CHECK(rc == MIG_OK || rc == MIG_ESCHEMA);
	unsigned lines = count_lines(sql, len);
	if (rc == MIG_ESCHEMA) {
		CHECK(r.nfindings == 0);
		CHECK(r.syntax_line >= 1 && r.syntax_line <= lines && r.syntax_column >= 1);
		CHECK(r.syntax_message[0] != '\0');
	}
	for (size_t i = 0; i < r.nfindings; i++) {
		const mig_lint_finding *f = &r.findings[i];
		CHECK(f->rule && mig_lint_rule_find(f->rule->id) == f->rule);
		CHECK(f->line >= 1 && f->line <= lines && f->column >= 1);
		CHECK(i == 0 || f->line >= r.findings[i - 1].line);
		CHECK(f->message && f->message[0] && !strchr(f->message, '\n'));
		CHECK(!f->lock || (f->lock[0] && !strchr(f->lock, '\n')));
		CHECK(f->rows == -1);
	}
	for (size_t i = 0; i < r.nclaims; i++) {
		const mig_lint_claim *c = &r.claims[i];
		CHECK(c->line >= 1 && c->line <= lines);
		CHECK(i == 0 || c->line >= r.claims[i - 1].line);
		CHECK(mig_lint_claim_at(&r, c->line) != NULL);
	}
	CHECK(mig_lint_has_error(&r) == (rc == MIG_OK && r.nfindings &&
					 mig_lint_has_error(&r)));
	mig_lint_result_clear(&r);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *sql = malloc(size + 1);
	if (!sql)
		return 0;
	memcpy(sql, data, size);
	sql[size] = '\0';
	check(sql, size, &(mig_lint_context){.in_transaction = true, .lock_timeout_ms = -1});
	check(sql, size, &(mig_lint_context){.in_transaction = false, .lock_timeout_ms = 5000,
					     .pg_major = 10, .contract = true});
	free(sql);
	return 0;
}

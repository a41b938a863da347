/* Suppression: the `-- migrate:lint-ignore RULE[,RULE] reason` comments of a file, read
 * from the gaps between its statements (before the first one: file-wide; else: for the
 * statement that follows), and whether one of them suppresses a finding. A directive that
 * names no rule or gives no reason is a finding itself, never suppressed. */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "lint/lint.h"
#include "lint/lint_private.h"
#include "lint/lint_rules.h"
#include "lint/pg_parse.h"

static unsigned line_of(const char *sql, size_t pos)
{
	unsigned line = 1;
	for (size_t i = 0; i < pos; i++)
		line += sql[i] == '\n';
	return line;
}

static bool is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\r';
}

/* Reads the directives in sql[from..to), the gap before statement `stmt`. */
void mig_lint_read_ignores(walk *w, ignore **list, size_t *n, size_t from, size_t to, size_t stmt,
			   const mig_pg_stmt *st)
{
	static const char directive[] = "migrate:lint-ignore";
	unsigned line = line_of(w->sql, from);
	for (size_t p = from; p < to; line++) {
		size_t end = p;
		while (end < to && w->sql[end] != '\n')
			end++;
		size_t q = p;
		while (q < end && is_space(w->sql[q]))
			q++;
		if (end - q >= 2 && w->sql[q] == '-' && w->sql[q + 1] == '-') {
			q += 2;
			while (q < end && is_space(w->sql[q]))
				q++;
			if ((size_t)(end - q) >= sizeof directive - 1 &&
			    !memcmp(w->sql + q, directive, sizeof directive - 1) &&
			    (q + sizeof directive - 1 == end || is_space(w->sql[q + sizeof directive - 1]))) {
				q += sizeof directive - 1;
				ignore *grown = realloc(*list, (*n + 1) * sizeof *grown);
				if (!grown) {
					w->oom = true;
					return;
				}
				*list = grown;
				ignore *ig = memset(&grown[(*n)++], 0, sizeof *ig);
				ig->line = line;
				ig->file_wide = stmt == 0;
				ig->stmt = stmt;
				while (q < end && is_space(w->sql[q]))
					q++;
				/* RULE[,RULE]: commas, optionally followed by spaces */
				for (;;) {
					size_t s = q;
					while (q < end && !is_space(w->sql[q]) && w->sql[q] != ',')
						q++;
					if (q > s) {
						char id[96];
						size_t l = q - s < sizeof id - 1 ? q - s : sizeof id - 1;
						memcpy(id, w->sql + s, l);
						id[l] = '\0';
						mig_lint_remember(w, &ig->rules, &ig->nrules, id);
						mig_pg_stmt at = {.line = line, .column = 1};
						if (!mig_lint_rule_find(id))
							mig_lint_add(w, &at, R_IGNORE_UNKNOWN, NULL, NULL,
							    "lint-ignore names '%s', which is no rule", id);
					}
					if (q < end && w->sql[q] == ',') {
						q++;
						while (q < end && is_space(w->sql[q]))
							q++;
						continue;
					}
					break;
				}
				while (q < end && is_space(w->sql[q]))
					q++;
				if (q == end) {
					mig_pg_stmt at = {.line = line, .column = 1};
					mig_lint_add(w, &at, R_IGNORE_REASON, NULL, NULL,
					    "lint-ignore without a reason: say why after the rule list");
				}
			}
		}
		p = end + 1;
	}
	(void)st;
}

bool mig_lint_suppressed(const ignore *list, size_t n, const mig_lint_finding *f, size_t stmt)
{
	if (f->rule == &mig_lint_rules[R_IGNORE_REASON] || f->rule == &mig_lint_rules[R_IGNORE_UNKNOWN])
		return false;
	for (size_t i = 0; i < n; i++) {
		if (!list[i].file_wide && list[i].stmt != stmt)
			continue;
		for (size_t k = 0; k < list[i].nrules; k++)
			if (!strcmp(list[i].rules[k], f->rule->id))
				return true;
	}
	return false;
}

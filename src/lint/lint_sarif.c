/* `migrate lint --format sarif`: the findings of a run as one SARIF 2.1.0 log (OASIS
 * Static Analysis Results Interchange Format), what GitHub code scanning takes through
 * github/codeql-action/upload-sarif. One run; its tool lists every rule, so each result's
 * ruleIndex points into it; a file that does not parse is a result of rule "syntax-error".
 * Written with jansson, like every JSON the tool prints. */
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "lint/lint_report.h"
#include "migrate/version.h"

#define SARIF_SCHEMA \
	"https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
#define SYNTAX_RULE "syntax-error"

/* A file path as a SARIF artifact URI: relative paths stay relative (GitHub resolves
 * them against the checkout), absolute ones become file:// URIs; every byte outside
 * RFC 3986's unreserved set and '/' is percent-encoded. NULL when memory runs out. */
static char *path_uri(const char *path)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t n = strlen(path);
	char *out = malloc(3 * n + sizeof "file://");
	if (!out)
		return NULL;
	char *p = out;
	if (path[0] == '/')
		p += sprintf(p, "file://");
	for (const unsigned char *s = (const unsigned char *)path; *s; s++) {
		if ((*s >= 'A' && *s <= 'Z') || (*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') ||
		    strchr("-._~/", *s)) {
			*p++ = (char)*s;
		} else {
			*p++ = '%';
			*p++ = hex[*s >> 4];
			*p++ = hex[*s & 15];
		}
	}
	*p = '\0';
	return out;
}

static json_t *rule_json(const char *id, const char *summary, const char *fix, bool error)
{
	return json_pack("{s:s, s:{s:s}, s:{s:s}, s:{s:s}}", "id", id, "shortDescription", "text",
			 summary, "help", "text", fix, "defaultConfiguration", "level",
			 error ? "error" : "warning");
}

/* One result: rule, level, message and where. */
static json_t *result_json(const char *rule, size_t index, bool error, const char *message,
			   const char *path, unsigned line, unsigned column)
{
	char *uri = path_uri(path);
	if (!uri)
		return NULL;
	json_t *region = json_pack("{s:i}", "startLine", (json_int_t)(line ? line : 1));
	if (region && column)
		json_object_set_new(region, "startColumn", json_integer((json_int_t)column));
	json_t *r = region ? json_pack("{s:s, s:i, s:s, s:{s:s}, s:[{s:{s:{s:s}, s:o}}]}", "ruleId",
				       rule, "ruleIndex", (json_int_t)index, "level",
				       error ? "error" : "warning", "message", "text", message,
				       "locations", "physicalLocation", "artifactLocation", "uri",
				       uri, "region", region)
			   : NULL;
	free(uri);
	return r;
}

/* The rule's position in the tool's rule list (mig_lint_rules order, syntax-error last). */
static size_t rule_index(const mig_lint_rule *rule)
{
	size_t i = 0;
	while (mig_lint_rules[i].id && &mig_lint_rules[i] != rule)
		i++;
	return i;
}

int mig_lint_report_sarif(FILE *out, const mig_lint_report *rep, mig_error *err)
{
	json_t *log = NULL, *rules = json_array(), *results = json_array();
	if (!rules || !results)
		goto oom;
	size_t nrules = 0;
	for (const mig_lint_rule *r = mig_lint_rules; r->id; r++, nrules++)
		if (json_array_append_new(rules, rule_json(r->id, r->summary, r->fix,
							   r->severity == MIG_LINT_ERROR)) < 0)
			goto oom;
	if (json_array_append_new(rules, rule_json(SYNTAX_RULE,
						   "the file does not parse with PostgreSQL's grammar",
						   "correct the statement at the line given", true)) < 0)
		goto oom;
	for (size_t i = 0; i < rep->nfiles; i++) {
		const mig_lint_report_file *f = &rep->files[i];
		if (f->syntax &&
		    json_array_append_new(results, result_json(SYNTAX_RULE, nrules, true,
							       f->result.syntax_message, f->path,
							       f->result.syntax_line,
							       f->result.syntax_column)) < 0)
			goto oom;
		for (size_t k = 0; k < f->result.nfindings; k++) {
			const mig_lint_finding *x = &f->result.findings[k];
			char *text = NULL;
			size_t size = 0;
			FILE *mem = open_memstream(&text, &size);
			if (!mem)
				goto oom;
			fputs(x->message, mem);
			if (x->lock)
				fprintf(mem, " (%s%s)", x->lock, x->rule->rewrites ? "; rewrites the table" : "");
			fprintf(mem, ". Fix: %s", x->rule->fix);
			if (fclose(mem) != 0) {
				free(text);
				goto oom;
			}
			json_t *r = result_json(x->rule->id, rule_index(x->rule),
						x->rule->severity == MIG_LINT_ERROR, text, f->path,
						x->line, x->column);
			free(text);
			if (json_array_append_new(results, r) < 0)
				goto oom;
		}
	}
	log = json_pack("{s:s, s:s, s:[{s:{s:{s:s, s:s, s:o}}, s:s, s:o}]}", "$schema",
			SARIF_SCHEMA, "version", "2.1.0", "runs", "tool", "driver", "name", "migrate",
			"version", MIGRATE_VERSION_STRING, "rules", rules, "columnKind",
			"unicodeCodePoints", "results", results);
	rules = results = NULL; /* the log owns them now, or json_pack released them */
	if (!log || json_dumpf(log, out, JSON_INDENT(2)) < 0)
		goto oom;
	fputc('\n', out);
	json_decref(log);
	return MIG_OK;
oom:
	json_decref(rules);
	json_decref(results);
	json_decref(log);
	return mig_error_set(err, MIG_EFAIL, "cannot write the SARIF report");
}

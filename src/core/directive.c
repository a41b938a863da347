/* Directives in a migration file's leading comment block. Only that block is looked at,
 * so a directive-like comment in the middle of a file's SQL changes nothing, and deciding
 * a phase reads a few hundred bytes of a file, not all of it. */
#include "core/directive.h"

#include "core/config.h"
#include "util/fs.h"
#include "util/names.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Whether the text [p, end) starts with word, and if so moves p past it and any blanks. */
static bool take(const char **p, const char *end, const char *word)
{
	size_t k = strlen(word);
	if ((size_t)(end - *p) < k || memcmp(*p, word, k) != 0)
		return false;
	*p += k;
	while (*p < end && (**p == ' ' || **p == '\t'))
		(*p)++;
	return true;
}

/* Whether only blanks (and a carriage return) remain in [p, end). */
static bool at_end(const char *p, const char *end)
{
	while (p < end && (*p == ' ' || *p == '\t' || *p == '\r'))
		p++;
	return p == end;
}

/* Whether [p, end) holds word as a whole blank-separated token. */
static bool has_token(const char *p, const char *end, const char *word)
{
	size_t k = strlen(word);
	for (const char *q = p; q + k <= end; q++)
		if (!memcmp(q, word, k) && (q == p || q[-1] == ' ' || q[-1] == '\t') &&
		    (q + k == end || q[k] == ' ' || q[k] == '\t' || q[k] == '\r'))
			return true;
	return false;
}

/* One comment line's text after "--", on line `line` of the file. */
static void comment_line(mig_directives *out, const char *p, const char *end, unsigned line)
{
	while (p < end && (*p == ' ' || *p == '\t'))
		p++;
	const char *start = p;
	if (take(&p, end, "migrate:run-in-tx") && take(&p, end, "false") && at_end(p, end)) {
		out->no_transaction = true;
		return;
	}
	p = start;
	if ((take(&p, end, "+goose NO TRANSACTION") || take(&p, end, "morph:nontransactional")) &&
	    at_end(p, end)) {
		out->no_transaction = true;
		return;
	}
	p = start;
	/* dbmate: "-- migrate:up transaction:false" (options after the section marker) */
	if (take(&p, end, "migrate:up") && (p == end || p[-1] == ' ' || p[-1] == '\t')) {
		if (has_token(p, end, "transaction:false"))
			out->no_transaction = true;
		return;
	}
	p = start;
	if (take(&p, end, "migrate:env") && (p == end || p[-1] == ' ' || p[-1] == '\t')) {
		size_t k = 0;
		out->env_line = line;
		out->env_too_long = false;
		for (; p < end && *p != '\r'; p++) {
			if (*p == ' ' || *p == '\t')
				continue;
			if (k + 1 >= sizeof out->env) {
				out->env_too_long = true;
				break;
			}
			out->env[k++] = *p;
		}
		out->env[k] = '\0';
		return;
	}
	p = start;
	if (take(&p, end, "migrate:after") && (p == end || p[-1] == ' ' || p[-1] == '\t')) {
		size_t k = strlen(out->after);
		if (!out->after_line)
			out->after_line = line;
		else if (k + 1 < sizeof out->after)
			out->after[k++] = ',';
		for (; p < end && *p != '\r'; p++) {
			if (*p == ' ' || *p == '\t')
				continue;
			if (k + 1 >= sizeof out->after) {
				out->after_too_long = true;
				break;
			}
			out->after[k++] = *p;
		}
		out->after[k] = '\0';
		return;
	}
	p = start;
	if (take(&p, end, "migrate:phase")) {
		if (take(&p, end, "contract") && at_end(p, end))
			out->contract = true;
		return;
	}
}

void mig_directives_scan(mig_directives *out, const char *sql, size_t len)
{
	memset(out, 0, sizeof *out);
	const char *p = sql, *end = sql + len;
	if (len >= 3 && !memcmp(sql, "\xEF\xBB\xBF", 3))
		p += 3; /* a UTF-8 byte-order mark is not part of the first line */
	unsigned line = 0;
	while (p < end) {
		line++;
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *eol = nl ? nl : end;
		const char *q = p;
		while (q < eol && (*q == ' ' || *q == '\t' || *q == '\r'))
			q++;
		if (q < eol) {
			if (eol - q < 2 || q[0] != '-' || q[1] != '-')
				return; /* the first line of SQL ends the block */
			comment_line(out, q + 2, eol, line);
		}
		if (!nl)
			break;
		p = nl + 1;
	}
}

int mig_directives_env_match(const mig_directives *d, const char *environment,
			     const char *path, mig_error *err)
{
	if (!d->env_line)
		return 1;
	if (d->env_too_long)
		return mig_error_set(err, MIG_EUSAGE,
				     "the environment list of '-- migrate:env' is too long (%s:%u)",
				     path, d->env_line);
	if (!d->env[0])
		return mig_error_set(err, MIG_EUSAGE,
				     "'-- migrate:env' names no environment: write e.g. "
				     "'-- migrate:env dev,test' (%s:%u)",
				     path, d->env_line);
	int match = 0;
	const char *p = d->env;
	while (*p) {
		const char *comma = strchr(p, ',');
		size_t n = comma ? (size_t)(comma - p) : strlen(p);
		char name[sizeof d->env];
		memcpy(name, p, n);
		name[n] = '\0';
		if (!mig_environment_name_valid(name))
			return mig_error_set(err, MIG_EUSAGE,
					     "'-- migrate:env' names '%.100s', not an environment name "
					     "(letters, digits, '_' or '-') (%s:%u)",
					     name, path, d->env_line);
		if (environment && !strcmp(name, environment))
			match = 1;
		p += n;
		if (*p == ',')
			p++;
	}
	return match;
}

int mig_directives_read(mig_directives *out, const char *path, mig_error *err)
{
	memset(out, 0, sizeof *out);
	char *buf = malloc(MIG_DIRECTIVE_MAX_BYTES);
	if (!buf)
		return mig_error_set(err, MIG_EFAIL, "out of memory");
	size_t n;
	int rc = mig_read_prefix(buf, MIG_DIRECTIVE_MAX_BYTES, &n, path, "migration file", err);
	if (rc == MIG_OK)
		mig_directives_scan(out, buf, n);
	free(buf);
	return rc;
}

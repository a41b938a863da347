/* ${VAR} and ${VAR:-default} expansion, the shell's subset that configs need.
 * Kept apart from the YAML walker so it can be tested and fuzzed on its own. */
#include "util/expand.h"

#include <ctype.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

typedef struct buf {
	char *data;
	size_t len, cap;
} buf;

static int buf_add(buf *b, const char *s, size_t n)
{
	if (b->len + n + 1 > b->cap) {
		size_t cap = b->cap ? b->cap : 64;
		while (cap < b->len + n + 1)
			cap *= 2;
		char *p = realloc(b->data, cap);
		if (!p)
			return -1;
		b->data = p;
		b->cap = cap;
	}
	memcpy(b->data + b->len, s, n);
	b->len += n;
	b->data[b->len] = '\0';
	return 0;
}

static bool is_name_start(char c)
{
	return c == '_' || isalpha((unsigned char)c);
}

static bool is_name_char(char c)
{
	return c == '_' || isalnum((unsigned char)c);
}

static const char *env_lookup(void *ctx, const char *name)
{
	(void)ctx;
	return getenv(name);
}

int mig_expand_env(char **out, const char *text, mig_error *err)
{
	return mig_expand_with(out, text, NULL, NULL, "environment variable", err);
}

int mig_expand_with(char **out, const char *text, mig_expand_lookup_fn lookup, void *ctx,
		    const char *what, mig_error *err)
{
	if (!lookup)
		lookup = env_lookup;
	buf b = {0};
	int rc = MIG_OK;
	*out = NULL;
	if (buf_add(&b, "", 0) < 0)
		return mig_error_set(err, MIG_EFAIL, "out of memory");

	for (const char *p = text; *p;) {
		if (p[0] != '$' || p[1] != '{') {
			const char *next = strchr(p + 1, '$');
			size_t n = next ? (size_t)(next - p) : strlen(p);
			if (buf_add(&b, p, n) < 0)
				goto nomem;
			p += n;
			continue;
		}
		const char *name = p + 2;
		const char *close = strchr(name, '}');
		if (!close) {
			/* never quote the text itself: it may hold a password */
			rc = mig_error_set(err, MIG_EUSAGE, "unclosed '${'");
			goto done;
		}
		const char *q = name;
		if (!is_name_start(*q)) {
			rc = mig_error_set(err, MIG_EUSAGE, "bad variable name in '%.*s'",
					   (int)(close - p + 1), p);
			goto done;
		}
		while (is_name_char(*q))
			q++;
		size_t name_len = (size_t)(q - name);
		const char *fallback = NULL, *required = NULL;
		if (q[0] == ':' && q[1] == '-') {
			fallback = q + 2;
		} else if (q[0] == '?') {
			required = q + 1;
		} else if (q != close) {
			rc = mig_error_set(err, MIG_EUSAGE, "bad variable reference '%.*s'",
					   (int)(close - p + 1), p);
			goto done;
		}

		char var[256];
		if (name_len >= sizeof var) {
			rc = mig_error_set(err, MIG_EUSAGE, "variable name too long");
			goto done;
		}
		memcpy(var, name, name_len);
		var[name_len] = '\0';
		const char *value = lookup(ctx, var);
		if (required && (!value || !*value)) {
			rc = close > required
				     ? mig_error_set(err, MIG_EUSAGE, "%s '%s': %.*s", what, var,
						     (int)(close - required), required)
				     : mig_error_set(err, MIG_EUSAGE, "%s '%s' is not set", what, var);
			goto done;
		}
		if (fallback && (!value || !*value)) {
			if (buf_add(&b, fallback, (size_t)(close - fallback)) < 0)
				goto nomem;
		} else if (value) {
			if (buf_add(&b, value, strlen(value)) < 0)
				goto nomem;
		} else {
			rc = mig_error_set(err, MIG_EUSAGE, "%s '%s' is not set", what, var);
			goto done;
		}
		p = close + 1;
	}
	*out = b.data;
	return MIG_OK;
nomem:
	rc = mig_error_set(err, MIG_EFAIL, "out of memory");
done:
	free(b.data);
	return rc;
}

/* Whether [p, end) is `-- migrate:envsub WORD` with blanks around. */
static bool span_line(const char *p, const char *end, const char *word)
{
	while (p < end && (*p == ' ' || *p == '\t'))
		p++;
	while (end > p && (end[-1] == ' ' || end[-1] == '\t' || end[-1] == '\r'))
		end--;
	static const char head[] = "-- migrate:envsub ";
	size_t hn = sizeof head - 1, wn = strlen(word);
	return (size_t)(end - p) == hn + wn && !memcmp(p, head, hn) && !memcmp(p + hn, word, wn);
}

int mig_expand_spans(char **out, size_t *out_len, const char *text, size_t len,
		     mig_expand_lookup_fn lookup, void *ctx, unsigned *line, mig_error *err)
{
	*out = NULL;
	*out_len = 0;
	*line = 0;
	/* the common case, a file without spans, costs one scan and no copy */
	static const char marker[] = "-- migrate:envsub on";
	bool any = false;
	for (const char *q = text; !any && (q = memchr(q, '-', (size_t)(text + len - q)));) {
		any = (size_t)(text + len - q) >= sizeof marker - 1 &&
		      !memcmp(q, marker, sizeof marker - 1);
		q++;
	}
	if (!any)
		return MIG_OK;
	buf b = {0};
	if (buf_add(&b, "", 0) < 0)
		return mig_error_set(err, MIG_EFAIL, "out of memory");
	bool in_span = false;
	unsigned n = 0;
	for (const char *p = text, *end = text + len; p < end;) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *eol = nl ? nl + 1 : end;
		n++;
		if (!in_span && span_line(p, nl ? nl : end, "on")) {
			in_span = true;
		} else if (in_span && span_line(p, nl ? nl : end, "off")) {
			in_span = false;
		} else if (in_span && memchr(p, '$', (size_t)(eol - p))) {
			size_t k = (size_t)(eol - p);
			if (memchr(p, '\0', k)) {
				*line = n;
				free(b.data);
				return mig_error_set(err, MIG_EUSAGE, "a NUL byte inside an envsub span");
			}
			char *one = malloc(k + 1), *done = NULL;
			if (!one) {
				free(b.data);
				return mig_error_set(err, MIG_EFAIL, "out of memory");
			}
			memcpy(one, p, k);
			one[k] = '\0';
			int rc = mig_expand_with(&done, one, lookup, ctx, "placeholder", err);
			free(one);
			if (rc == MIG_OK && buf_add(&b, done, strlen(done)) < 0)
				rc = mig_error_set(err, MIG_EFAIL, "out of memory");
			free(done);
			if (rc < 0) {
				*line = n;
				free(b.data);
				return rc;
			}
			p = eol;
			continue;
		}
		if (buf_add(&b, p, (size_t)(eol - p)) < 0) {
			free(b.data);
			return mig_error_set(err, MIG_EFAIL, "out of memory");
		}
		p = eol;
	}
	*out = b.data;
	*out_len = b.len;
	return MIG_OK;
}

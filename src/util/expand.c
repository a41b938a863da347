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

int mig_expand_env(char **out, const char *text, mig_error *err)
{
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
		const char *fallback = NULL;
		if (q[0] == ':' && q[1] == '-') {
			fallback = q + 2;
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
		const char *value = getenv(var);
		if (fallback && (!value || !*value)) {
			if (buf_add(&b, fallback, (size_t)(close - fallback)) < 0)
				goto nomem;
		} else if (value) {
			if (buf_add(&b, value, strlen(value)) < 0)
				goto nomem;
		} else {
			rc = mig_error_set(err, MIG_EUSAGE, "environment variable '%s' is not set",
					   var);
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

/* Finds passwords in connection strings and scrubs them from text: every message the
 * tool prints passes through here first, so a DSN quoted by a server or a YAML error
 * cannot leak a credential. */
#include "util/secret.h"

#include <ctype.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static int hex_value(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = (char)tolower((unsigned char)c);
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

static char *percent_decode(const char *s, size_t n)
{
	char *out = malloc(n + 1);
	if (!out)
		return NULL;
	size_t j = 0;
	for (size_t i = 0; i < n; i++) {
		int hi, lo;
		if (s[i] == '%' && i + 2 < n && (hi = hex_value(s[i + 1])) >= 0 &&
		    (lo = hex_value(s[i + 2])) >= 0) {
			out[j++] = (char)(hi * 16 + lo);
			i += 2;
		} else {
			out[j++] = s[i];
		}
	}
	out[j] = '\0';
	return out;
}

static int add_pair(char *found[2], char *raw, char *decoded)
{
	if (!raw || !decoded || !*raw) {
		free(raw);
		free(decoded);
		return 0;
	}
	found[0] = raw;
	if (strcmp(raw, decoded) != 0) {
		found[1] = decoded;
		return 2;
	}
	free(decoded);
	return 1;
}

static int uri_password(const char *authority, char *found[2])
{
	/* userinfo ends at the last '@' before the query: not at the first '/', so that a
	 * password with a raw '/' (invalid, but written) is still covered */
	size_t end = strcspn(authority, "?#");
	const char *at = NULL;
	for (const char *p = authority; p < authority + end; p++)
		if (*p == '@')
			at = p;
	if (!at)
		return 0;
	const char *colon = memchr(authority, ':', (size_t)(at - authority));
	if (!colon)
		return 0;
	const char *pw = colon + 1;
	size_t n = (size_t)(at - pw);
	return add_pair(found, strndup(pw, n), percent_decode(pw, n));
}

static int keyword_password(const char *dsn, char *found[2])
{
	for (const char *p = dsn; (p = strstr(p, "password")) != NULL; p += 8) {
		if (p != dsn && !isspace((unsigned char)p[-1]))
			continue;
		const char *q = p + 8;
		while (isspace((unsigned char)*q))
			q++;
		if (*q != '=')
			continue;
		q++;
		while (isspace((unsigned char)*q))
			q++;
		if (*q == '\'') {
			const char *start = ++q;
			char *value = malloc(strlen(start) + 1);
			if (!value)
				return 0;
			size_t j = 0;
			for (; *q && *q != '\''; q++) {
				if (*q == '\\' && q[1])
					q++;
				value[j++] = *q;
			}
			value[j] = '\0';
			return add_pair(found, strndup(start, (size_t)(q - start)), value);
		}
		size_t n = strcspn(q, " \t\r\n");
		return add_pair(found, strndup(q, n), strndup(q, n));
	}
	return 0;
}

/* Whether key[0..n) ends in "password", in any case (password, sslpassword,
 * tlsCertificateKeyFilePassword: all are secrets). */
static bool is_password_key(const char *key, size_t n)
{
	return n >= 8 && !strncasecmp(key + n - 8, "password", 8);
}

/* Adds the value of every query parameter named like a password to found, up to
 * room entries; returns how many it added. */
static int query_passwords(const char *query, char **found, int room)
{
	int n = 0;
	for (const char *p = query + 1; *p && n + 2 <= room;) {
		size_t len = strcspn(p, "&;#");
		const char *eq = memchr(p, '=', len);
		if (eq && is_password_key(p, (size_t)(eq - p))) {
			const char *v = eq + 1;
			size_t vlen = len - (size_t)(v - p);
			n += add_pair(found + n, strndup(v, vlen), percent_decode(v, vlen));
		}
		p += len;
		if (*p == '#')
			break;
		if (*p)
			p++;
	}
	return n;
}

int mig_dsn_passwords(const char *dsn, char *found[MIG_DSN_PASSWORDS_MAX])
{
	memset(found, 0, MIG_DSN_PASSWORDS_MAX * sizeof *found);
	const char *scheme_end = strstr(dsn, "://");
	if (!scheme_end || scheme_end == dsn)
		return keyword_password(dsn, found);
	for (const char *p = dsn; p < scheme_end; p++)
		if (!isalnum((unsigned char)*p) && *p != '+' && *p != '-' && *p != '.')
			return keyword_password(dsn, found);
	/* libpq lets ?password= override the userinfo: record both when both are there */
	int n = uri_password(scheme_end + 3, found);
	const char *q = strchr(scheme_end, '?');
	return q ? n + query_passwords(q, found + n, MIG_DSN_PASSWORDS_MAX - n) : n;
}

void mig_redact(char *text, size_t size, const char *secret)
{
	if (!secret || !*secret || size == 0)
		return;
	static const char mask[] = "***";
	size_t slen = strlen(secret), mlen = sizeof mask - 1;
	char *p = text;
	while ((p = strstr(p, secret)) != NULL) {
		size_t tail = strlen(p + slen);
		size_t offset = (size_t)(p - text);
		/* room left for mask + tail + NUL; cut the tail when the mask is longer */
		size_t room = size - offset;
		if (mlen >= room) {
			memcpy(p, mask, room - 1);
			text[size - 1] = '\0';
			return;
		}
		if (mlen + tail + 1 > room)
			tail = room - mlen - 1;
		memmove(p + mlen, p + slen, tail);
		memcpy(p, mask, mlen);
		p[mlen + tail] = '\0';
		p += mlen;
	}
}

void mig_secure_zero(void *p, size_t n)
{
	volatile unsigned char *v = p;
	while (n--)
		*v++ = 0;
}

int mig_secrets_add(mig_secrets *s, const char *dsn)
{
	char *found[MIG_DSN_PASSWORDS_MAX] = {0};
	int n = mig_dsn_passwords(dsn, found);
	for (int i = 0; i < n; i++) {
		char **grown = realloc(s->items, (s->n + 1) * sizeof *grown);
		if (!grown) {
			for (int j = i; j < n; j++) {
				mig_secure_zero(found[j], strlen(found[j]));
				free(found[j]);
			}
			return -1;
		}
		s->items = grown;
		s->items[s->n++] = found[i];
	}
	return 0;
}

void mig_secrets_redact(const mig_secrets *s, char *text, size_t size)
{
	for (size_t i = 0; s && i < s->n; i++)
		mig_redact(text, size, s->items[i]);
}

void mig_secrets_clear(mig_secrets *s)
{
	for (size_t i = 0; i < s->n; i++) {
		mig_secure_zero(s->items[i], strlen(s->items[i]));
		free(s->items[i]);
	}
	free(s->items);
	s->items = NULL;
	s->n = 0;
}

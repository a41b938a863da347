/* libFuzzer target for mig_filename_parse and mig_migration_name_valid on NUL-terminated
 * strings: UP/DOWN results have a non-empty name without '/' or control characters inside the input, a version >= 0 and
 * a width matching the digits; parsing is deterministic and round-trips through its parts. */
#include <ctype.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/plan.h"
#include "fuzz.h"


static int ends_with(const char *s, const char *suffix)
{
	size_t n = strlen(s), k = strlen(suffix);
	return n >= k && !memcmp(s + n - k, suffix, k);
}

static int name_char(char c)
{
	return isalnum((unsigned char)c) || c == '_' || c == '-';
}

/* what the parser accepts inside a name: anything but '/' and control characters */
static int file_name_char(char c)
{
	unsigned char u = (unsigned char)c;
	return u != '/' && u >= 0x20 && u != 0x7f;
}

static int same(const mig_filename *a, const mig_filename *b)
{
	return a->kind == b->kind && a->version == b->version && a->width == b->width &&
	       a->name == b->name && a->name_len == b->name_len && a->why == b->why;
}

static void check_parse(const char *s)
{
	size_t n = strlen(s);
	mig_filename f, g;
	mig_file_kind kind = mig_filename_parse(s, &f);
	CHECK(kind == f.kind);
	mig_filename_parse(s, &g);
	CHECK(same(&f, &g));

	switch (kind) {
	case MIG_FILE_OTHER:
		CHECK(!ends_with(s, ".sql"));
		CHECK(f.why == NULL && f.name == NULL);
		return;
	case MIG_FILE_BAD:
		CHECK(ends_with(s, ".sql"));
		CHECK(f.why != NULL && *f.why);
		CHECK(f.name == NULL && f.name_len == 0);
		return;
	case MIG_FILE_UP:
	case MIG_FILE_DOWN:
		break;
	default:
		CHECK(0);
	}

	const char *suffix = kind == MIG_FILE_UP ? ".up.sql" : ".down.sql";
	CHECK(ends_with(s, suffix));
	CHECK(f.why == NULL);
	CHECK(f.version >= 0);
	CHECK(f.width > 0 && f.width < n);
	for (unsigned i = 0; i < f.width; i++)
		CHECK(isdigit((unsigned char)s[i]));
	CHECK(s[f.width] == '_');
	CHECK(f.name_len > 0);
	CHECK(f.name == s + f.width + 1);
	CHECK(f.name >= s && f.name_len <= n && f.name <= s + n - f.name_len);
	CHECK(f.name + f.name_len + strlen(suffix) == s + n); /* the name runs up to the suffix */
	for (size_t i = 0; i < f.name_len; i++)
		CHECK(file_name_char(f.name[i]));

	/* the parts put back together give the same string */
	size_t cap = n + 32;
	char *again = malloc(cap);
	CHECK(again != NULL);
	int len = snprintf(again, cap, "%0*lld_%.*s%s", (int)f.width, f.version, (int)f.name_len,
			   f.name, suffix);
	CHECK(len >= 0 && (size_t)len == n && !strcmp(again, s));
	free(again);

	/* a name create accepts is one the parser accepts (not the other way round) */
	char *name = strndup(f.name, f.name_len);
	CHECK(name != NULL);
	int strict = 1;
	for (size_t i = 0; i < f.name_len; i++)
		strict = strict && name_char(f.name[i]);
	CHECK(mig_migration_name_valid(name) == strict);
	free(name);
}

/* A valid name makes a file name that parses back to it. */
static void check_name(const char *s)
{
	if (!mig_migration_name_valid(s))
		return;
	size_t n = strlen(s);
	CHECK(n > 0);
	for (size_t i = 0; i < n; i++)
		CHECK(name_char(s[i]));
	char *file = malloc(n + 32);
	CHECK(file != NULL);
	snprintf(file, n + 32, "042_%s.down.sql", s);
	mig_filename f;
	CHECK(mig_filename_parse(file, &f) == MIG_FILE_DOWN);
	CHECK(f.version == 42 && f.width == 3);
	CHECK(f.name == file + 4 && f.name_len == n && !memcmp(f.name, s, n));
	free(file);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* an exact-size NUL-terminated copy, so any read past the terminator is caught */
	char *s = malloc(size + 1);
	if (!s)
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';

	check_parse(s);
	check_name(s);

	free(s);
	return 0;
}

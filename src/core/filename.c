/* The migration file-name grammar: NNN_<name>.up.sql and NNN_<name>.down.sql. The
 * version is read from the front and the suffix from the back; <name> may hold any
 * character but '/' and control characters, so other tools' trees (golang-migrate's
 * `000015_upgrade_v6.0.up.sql`) are taken as they are. `migrate create` keeps the
 * stricter [A-Za-z0-9_-] rule for the names it writes. */
#include "core/plan.h"

#include <ctype.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>

static bool ends_with(const char *s, size_t n, const char *suffix)
{
	size_t k = strlen(suffix);
	return n >= k && !memcmp(s + n - k, suffix, k);
}

static bool name_char(char c)
{
	return isalnum((unsigned char)c) || c == '_' || c == '-';
}

bool mig_migration_name_valid(const char *name)
{
	/* no length limit of our own: the planner accepts any name the file system holds */
	if (!*name)
		return false;
	for (const char *p = name; *p; p++)
		if (!name_char(*p))
			return false;
	return true;
}

static mig_file_kind bad(mig_filename *out, const char *why)
{
	out->kind = MIG_FILE_BAD;
	out->why = why;
	return MIG_FILE_BAD;
}

mig_file_kind mig_filename_parse(const char *filename, mig_filename *out)
{
	return mig_filename_parse_ext(filename, ".sql", out);
}

mig_file_kind mig_filename_parse_ext(const char *filename, const char *ext, mig_filename *out)
{
	memset(out, 0, sizeof *out);
	size_t n = strlen(filename);
	bool sql = !strcmp(ext, ".sql");
	char up[16], down[16];
	snprintf(up, sizeof up, ".up%s", ext);
	snprintf(down, sizeof down, ".down%s", ext);
	/* every .sql file must be a migration; among .json files only those that say .up or
	 * .down are (a MongoDB module also holds indexes.json) */
	if (!ends_with(filename, n, ext) ||
	    (!sql && !ends_with(filename, n, up) && !ends_with(filename, n, down))) {
		out->kind = MIG_FILE_OTHER;
		return MIG_FILE_OTHER;
	}
	size_t stem;
	mig_file_kind kind;
	if (ends_with(filename, n, up)) {
		kind = MIG_FILE_UP;
		stem = n - strlen(up);
	} else if (ends_with(filename, n, down)) {
		kind = MIG_FILE_DOWN;
		stem = n - strlen(down);
	} else {
		return bad(out, "expected NNN_<name>.up.sql or NNN_<name>.down.sql");
	}

	size_t i = 0;
	long long version = 0;
	for (; i < stem && isdigit((unsigned char)filename[i]); i++) {
		int digit = filename[i] - '0';
		if (version > (LLONG_MAX - digit) / 10)
			return bad(out, "version does not fit in 64 bits");
		version = version * 10 + digit;
	}
	if (i == 0)
		return bad(out, "expected the version number first: NNN_<name>");
	if (i >= stem || filename[i] != '_')
		return bad(out, "expected '_' and a name after the version: NNN_<name>");
	size_t name_start = i + 1;
	if (name_start >= stem)
		return bad(out, "the name after NNN_ is empty");
	for (size_t j = name_start; j < stem; j++) {
		unsigned char c = (unsigned char)filename[j];
		if (c == '/' || c < 0x20 || c == 0x7f)
			return bad(out, "names may not hold '/' or control characters");
	}

	out->kind = kind;
	out->version = version;
	out->width = (unsigned)i;
	out->name = filename + name_start;
	out->name_len = stem - name_start;
	return kind;
}

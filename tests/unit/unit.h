/* Shared by the cmocka unit tests: the assertions and scratch-directory helpers each
 * test file used to carry its own copy of. Header-only (static), included after
 * <cmocka.h>. */
#ifndef MIGRATE_TEST_UNIT_H
#define MIGRATE_TEST_UNIT_H

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define assert_contains(hay, needle)                                                      \
	do {                                                                              \
		const char *h_ = (hay), *n_ = (needle);                                   \
		if (!strstr(h_, n_))                                                      \
			fail_msg("'%s' does not contain '%s'", h_, n_);                  \
	} while (0)

/* base + "/" + rel; the caller frees. */
static inline char *unit_join(const char *base, const char *rel)
{
	size_t n = strlen(base) + strlen(rel) + 2;
	char *p = malloc(n);
	assert_non_null(p);
	snprintf(p, n, "%s/%s", base, rel);
	return p;
}

/* Writes len bytes of data to path, replacing it. */
static inline void unit_write_file(const char *path, const char *data, size_t len)
{
	FILE *f = fopen(path, "wb");
	assert_non_null(f);
	assert_int_equal(fwrite(data, 1, len, f), len);
	assert_int_equal(fclose(f), 0);
}

/* Makes every directory of root/rel (rel ending in '/' makes rel itself too). */
static inline void unit_make_dirs(const char *root, const char *rel)
{
	char *path = unit_join(root, rel);
	for (char *p = path + strlen(root) + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(path, 0700) < 0)
			assert_int_equal(access(path, F_OK), 0);
		*p = '/';
	}
	free(path);
}

/* Creates root/rel holding text (NULL: empty) with its directories; "dir/" makes a
 * directory only. */
static inline void unit_put(const char *root, const char *rel, const char *text)
{
	unit_make_dirs(root, rel);
	if (rel[strlen(rel) - 1] == '/')
		return;
	char *path = unit_join(root, rel);
	unit_write_file(path, text ? text : "", text ? strlen(text) : 0);
	free(path);
}

/* rm -rf path (never follows links). */
static inline void unit_remove_tree(const char *path)
{
	struct stat st;
	if (lstat(path, &st) < 0)
		return;
	if (S_ISDIR(st.st_mode)) {
		DIR *d = opendir(path);
		if (d) {
			struct dirent *de;
			while ((de = readdir(d)) != NULL) {
				if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
					continue;
				char *child = unit_join(path, de->d_name);
				unit_remove_tree(child);
				free(child);
			}
			closedir(d);
		}
		rmdir(path);
	} else {
		unlink(path);
	}
}

/* cmocka setup/teardown pair: *state becomes a fresh directory under /tmp, removed
 * with everything in it afterwards. */
static inline int unit_scratch_setup(void **state)
{
	char *dir = strdup("/tmp/migrate-unit-XXXXXX");
	if (!dir || !mkdtemp(dir)) {
		free(dir);
		return -1;
	}
	*state = dir;
	return 0;
}

static inline int unit_scratch_teardown(void **state)
{
	unit_remove_tree(*state);
	int gone = access(*state, F_OK) < 0;
	free(*state);
	return gone ? 0 : -1;
}

#endif

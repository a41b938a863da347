/* The expected schema of a template, cached in a file so a second drift of the same
 * history reads no shadow: ${XDG_CACHE_HOME:-$HOME/.cache}/migrate/snapshots/<template>.json.
 * The template's name is the hash of what decides its schema; the file also carries a
 * key naming the format and the migrate build that read it (its version and the
 * executable's size and time), so another build's queries never supply the expected
 * side. Written to a temporary file and renamed, so a reader sees a whole file or none. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "schema/snapshot_json.h"
#include "scratch/snapshot_cache.h"
#include "util/fs.h"

#define CACHE_FORMAT "migrate expected-schema cache 1"
#define CACHE_MAX_BYTES (1024u * 1024 * 1024)

/* The cache directory (created with its parents when create), or NULL when the user
 * has none (no XDG_CACHE_HOME nor HOME) or it cannot be made. Caller frees. */
static char *cache_dir(bool create)
{
	const char *xdg = getenv("XDG_CACHE_HOME"), *home = getenv("HOME");
	char base[4096];
	if (xdg && *xdg == '/')
		snprintf(base, sizeof base, "%s", xdg);
	else if (home && *home)
		snprintf(base, sizeof base, "%s/.cache", home);
	else
		return NULL;
	char path[4200];
	snprintf(path, sizeof path, "%s/migrate/snapshots", base);
	if (create) {
		for (char *p = path + 1; *p; p++) {
			if (*p != '/')
				continue;
			*p = '\0';
			if (mkdir(path, 0700) != 0 && errno != EEXIST)
				return NULL;
			*p = '/';
		}
		if (mkdir(path, 0700) != 0 && errno != EEXIST)
			return NULL;
	}
	return strdup(path);
}

static char *cache_path(const char *tpl, bool create)
{
	char *dir = cache_dir(create), name[MIG_SCRATCH_NAME_MAX + 8];
	if (!dir)
		return NULL;
	snprintf(name, sizeof name, "%s.json", tpl);
	char *path = mig_path_join(dir, name);
	free(dir);
	return path;
}

/* What the file must have been written by: this format, this build. */
static void cache_key(char *out, size_t size)
{
	struct stat st;
	char exe[4096];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
	if (n > 0) {
		exe[n] = '\0';
		if (stat(exe, &st) != 0)
			n = -1;
	}
	snprintf(out, size, "%s; migrate %s; build %lld.%lld", CACHE_FORMAT,
		 MIGRATE_VERSION_STRING, n > 0 ? (long long)st.st_size : -1LL,
		 n > 0 ? (long long)st.st_mtime : -1LL);
}

int mig_snapshot_cache_load(mig_snapshot *snap, mig_object_origin **origins, size_t *n,
			    bool *hit, const char *tpl, mig_error *err)
{
	memset(snap, 0, sizeof *snap);
	*origins = NULL;
	*n = 0;
	*hit = false;
	char *path = cache_path(tpl, false);
	if (!path || access(path, R_OK) != 0) {
		free(path);
		return MIG_OK;
	}
	char *text = NULL, key[256];
	size_t len = 0;
	int rc = MIG_OK;
	/* unreadable: a miss, and the next store replaces it */
	if (mig_read_file(&text, &len, path, CACHE_MAX_BYTES, "cache file", NULL) == MIG_OK) {
		cache_key(key, sizeof key);
		rc = mig_snapshot_cache_decode(snap, origins, n, hit, text, len, key, err);
	}
	free(text);
	free(path);
	return rc;
}

int mig_snapshot_cache_store(const char *tpl, const mig_snapshot *snap,
			     const mig_object_origin *origins, size_t n, mig_error *err)
{
	char *path = cache_path(tpl, true), key[256], *text = NULL;
	if (!path)
		return MIG_OK; /* no cache directory: every drift reads a shadow */
	cache_key(key, sizeof key);
	int rc = mig_snapshot_cache_encode(&text, key, snap, origins, n, err);
	size_t len = text ? strlen(text) : 0;
	char *tmp = rc == MIG_OK ? malloc(strlen(path) + 32) : NULL;
	if (rc == MIG_OK && !tmp)
		rc = mig_error_set(err, MIG_EFAIL, "out of memory");
	if (rc == MIG_OK) {
		sprintf(tmp, "%s.%ld.tmp", path, (long)getpid());
		FILE *f = fopen(tmp, "wb");
		bool ok = f && fwrite(text, 1, len, f) == len;
		ok = (f && fclose(f) == 0) && ok;
		if (!ok || rename(tmp, path) != 0) {
			rc = mig_error_set(err, MIG_EFAIL, "cannot write the schema cache '%s': %s",
					   path, strerror(errno));
			unlink(tmp);
		}
	}
	free(tmp);
	free(text);
	free(path);
	return rc;
}

void mig_snapshot_cache_forget(const char *tpl)
{
	char *path = cache_path(tpl, false);
	if (path)
		unlink(path);
	free(path);
}

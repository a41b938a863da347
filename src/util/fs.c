/* File reading with a size bound and one-line errors, and small path helpers. */
#include "util/fs.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int mig_read_file(char **out, size_t *len, const char *path, size_t max_bytes,
		  const char *what, mig_error *err)
{
	int rc = MIG_OK;
	char *data = NULL;
	*out = NULL;
	*len = 0;
	/* O_NONBLOCK: opening a FIFO must not hang; regular files ignore it */
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0)
		return mig_error_set(err, MIG_EUSAGE, "cannot read %s '%s': %s", what, path,
				     strerror(errno));
	struct stat st;
	if (fstat(fd, &st) < 0) {
		rc = mig_error_set(err, MIG_EUSAGE, "cannot read %s '%s': %s", what, path,
				   strerror(errno));
		goto done;
	}
	if (S_ISDIR(st.st_mode)) {
		rc = mig_error_set(err, MIG_EUSAGE, "cannot read %s '%s': Is a directory", what,
				   path);
		goto done;
	}
	if (!S_ISREG(st.st_mode)) {
		rc = mig_error_set(err, MIG_EUSAGE, "cannot read %s '%s': not a regular file", what,
				   path);
		goto done;
	}
	if ((unsigned long long)st.st_size > max_bytes) {
		rc = mig_error_set(err, MIG_EUSAGE, "%s '%s' is too large (%lld bytes, limit %zu)",
				   what, path, (long long)st.st_size, max_bytes);
		goto done;
	}
	/* read to EOF rather than trusting st_size: the file may change under us */
	size_t cap = (size_t)st.st_size + 1, used = 0;
	data = malloc(cap);
	if (!data) {
		rc = mig_error_set(err, MIG_EFAIL, "out of memory reading '%s'", path);
		goto done;
	}
	for (;;) {
		if (used + 1 >= cap) {
			if (cap > max_bytes) {
				rc = mig_error_set(err, MIG_EUSAGE,
						   "%s '%s' is too large (limit %zu bytes)", what,
						   path, max_bytes);
				goto done;
			}
			char *grown = realloc(data, cap * 2);
			if (!grown) {
				rc = mig_error_set(err, MIG_EFAIL, "out of memory reading '%s'", path);
				goto done;
			}
			data = grown;
			cap *= 2;
		}
		ssize_t n = read(fd, data + used, cap - used - 1);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			rc = mig_error_set(err, MIG_EUSAGE, "cannot read %s '%s': %s", what, path,
					   strerror(errno));
			goto done;
		}
		if (n == 0)
			break;
		used += (size_t)n;
	}
	data[used] = '\0';
	*out = data;
	*len = used;
	data = NULL;
done:
	free(data);
	close(fd);
	return rc;
}

char *mig_path_join(const char *dir, const char *name)
{
	size_t a = strlen(dir), b = strlen(name);
	bool slash = a > 0 && dir[a - 1] != '/';
	char *p = malloc(a + slash + b + 1);
	if (!p)
		return NULL;
	memcpy(p, dir, a);
	if (slash)
		p[a] = '/';
	memcpy(p + a + slash, name, b + 1);
	return p;
}

char *mig_path_dirname(const char *path)
{
	const char *slash = strrchr(path, '/');
	if (!slash)
		return strdup(".");
	if (slash == path)
		return strdup("/");
	return strndup(path, (size_t)(slash - path));
}

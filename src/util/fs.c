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

/* Opens path for reading when it is a regular file: a FIFO must not hang the opener
 * (O_NONBLOCK, which regular files ignore), a directory or device is refused. Returns the
 * descriptor (the caller's) with *st filled, or MIG_EUSAGE naming "<what> '<path>'". */
static int open_regular(const char *path, const char *what, struct stat *st, mig_error *err)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0)
		return mig_error_set(err, MIG_EUSAGE, "cannot read %s '%s': %s", what, path,
				     strerror(errno));
	const char *why = NULL;
	if (fstat(fd, st) < 0)
		why = strerror(errno);
	else if (S_ISDIR(st->st_mode))
		why = "Is a directory";
	else if (!S_ISREG(st->st_mode))
		why = "not a regular file";
	if (why) {
		close(fd);
		return mig_error_set(err, MIG_EUSAGE, "cannot read %s '%s': %s", what, path, why);
	}
	return fd;
}

int mig_read_prefix(char *buf, size_t cap, size_t *len, const char *path, const char *what,
		    mig_error *err)
{
	struct stat st;
	*len = 0;
	int fd = open_regular(path, what, &st, err);
	if (fd < 0)
		return fd;
	while (*len < cap) {
		ssize_t n = read(fd, buf + *len, cap - *len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			int e = errno;
			close(fd);
			return mig_error_set(err, MIG_EUSAGE, "cannot read %s '%s': %s", what, path,
					     strerror(e));
		}
		if (n == 0)
			break;
		*len += (size_t)n;
	}
	close(fd);
	return MIG_OK;
}

int mig_read_file(char **out, size_t *len, const char *path, size_t max_bytes,
		  const char *what, mig_error *err)
{
	int rc = MIG_OK;
	char *data = NULL;
	*out = NULL;
	*len = 0;
	struct stat st;
	int fd = open_regular(path, what, &st, err);
	if (fd < 0)
		return fd;
	if ((unsigned long long)st.st_size > max_bytes) {
		rc = mig_error_set(err, MIG_EUSAGE, "%s '%s' is too large (%lld bytes, limit %zu)",
				   what, path, (long long)st.st_size, max_bytes);
		goto done;
	}
	/* read to EOF rather than trusting st_size: the file may change under us. Room for
	 * one byte more than fstat saw, so that a read returning no more than that size
	 * (with room left) is the end of the file, without a second read to find it: a
	 * file that grew fills the room and is read on, one that shrank reads 0 next. */
	size_t cap = (size_t)st.st_size + 2, used = 0;
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
		if (used >= (size_t)st.st_size && used + 1 < cap)
			break; /* a short read at (or past) the size fstat saw: the end */
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

/* `migrate create --module M NAME`: writes the next NNN_NAME.up.sql and .down.sql of a
 * module, keeping the zero-padding its files already use; timestamp-versioned modules
 * get the current UTC time as their next version. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cli/cli.h"
#include "util/fs.h"
#include "util/names.h"

/* Versions at least this wide are timestamps (YYYYMMDDHHMMSS). */
#define TIMESTAMP_WIDTH 14

int mig_check_create_args(const mig_args *args, mig_error *err)
{
	if (!args->module)
		return mig_error_set(err, MIG_EUSAGE, "'migrate create' needs --module M");
	if (!mig_module_name_valid(args->module))
		return mig_error_set(err, MIG_EUSAGE, "bad module name '%s': use [a-z0-9_]+",
				     args->module);
	if (args->npositional != 1)
		return mig_error_set(err, MIG_EUSAGE,
				     "'migrate create' needs one NAME, e.g. 'migrate create --module %s add_orders'",
				     args->module);
	if (!mig_migration_name_valid(args->positional[0]))
		return mig_error_set(err, MIG_EUSAGE,
				     "bad migration name '%s': use letters, digits, '_' and '-'",
				     args->positional[0]);
	return MIG_OK;
}

/* mkdir -p for the module directory (root must exist). */
static int make_dirs(const char *root, const char *module, char **dir, mig_error *err)
{
	int rc = mig_plan_check_root(root, err);
	if (rc < 0)
		return rc;
	char *pg = mig_path_join(root, "postgres");
	*dir = pg ? mig_path_join(pg, module) : NULL;
	if (!pg || !*dir)
		rc = mig_error_set(err, MIG_EFAIL, "out of memory");
	else if ((mkdir(pg, 0777) < 0 && errno != EEXIST) || (mkdir(*dir, 0777) < 0 && errno != EEXIST))
		rc = mig_error_set(err, MIG_EFAIL, "cannot create '%s': %s", *dir, strerror(errno));
	free(pg);
	return rc;
}

static int write_new(const char *path, const char *text, mig_error *err)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
	if (fd < 0)
		return mig_error_set(err, errno == EEXIST ? MIG_EUSAGE : MIG_EFAIL,
				     "cannot create '%s': %s", path, strerror(errno));
	size_t len = strlen(text);
	ssize_t n = write(fd, text, len);
	int closed = close(fd);
	if (n < 0 || (size_t)n != len || closed < 0) {
		unlink(path);
		return mig_error_set(err, MIG_EFAIL, "cannot write '%s'", path);
	}
	return MIG_OK;
}

int mig_cmd_create(mig_context *ctx, mig_error *err)
{
	const char *module = ctx->args.module, *name = ctx->args.positional[0];
	const char *root = mig_plan_choose_root(ctx->args.root, ctx->cfg);
	char *dir = NULL, up[4096], down[4096], body[512];
	long long version = 0;
	unsigned width = 3;
	int rc = make_dirs(root, module, &dir, err);
	if (rc == MIG_OK)
		rc = mig_plan_highest_version(dir, &version, &width, err);
	if (rc < 0)
		goto done;
	long long next = version + 1;
	if (width >= TIMESTAMP_WIDTH) {
		time_t now = time(NULL);
		struct tm tm;
		char stamp[32];
		gmtime_r(&now, &tm);
		strftime(stamp, sizeof stamp, "%Y%m%d%H%M%S", &tm);
		if (strtoll(stamp, NULL, 10) > version)
			next = strtoll(stamp, NULL, 10);
	}
	snprintf(up, sizeof up, "%s/%0*lld_%s.up.sql", dir, (int)width, next, name);
	snprintf(down, sizeof down, "%s/%0*lld_%s.down.sql", dir, (int)width, next, name);
	snprintf(body, sizeof body, "-- %s/%0*lld_%s: what this migration changes, and why\n",
		 module, (int)width, next, name);
	if ((rc = write_new(up, body, err)) < 0)
		goto done;
	snprintf(body, sizeof body, "-- reverts %s/%0*lld_%s\n", module, (int)width, next, name);
	if ((rc = write_new(down, body, err)) < 0) {
		unlink(up);
		goto done;
	}
	if (!ctx->args.quiet)
		fprintf(ctx->out, "created %s\ncreated %s\n", up, down);
done:
	free(dir);
	return rc;
}

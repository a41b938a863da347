/* Which targets a fleet run takes: the config's static list, then what targets.query
 * returns on the control database, checked (names, columns, duplicates), then narrowed
 * by --target and --shard. Every error here comes before anything runs. */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fleet/fleet.h"

void mig_fleet_targets_clear(mig_fleet_targets *t)
{
	for (size_t i = 0; i < t->n; i++)
		mig_target_clear(&t->items[i]);
	free(t->items);
	t->items = NULL;
	t->n = 0;
}

unsigned long mig_fleet_shard_of(const char *name, unsigned long shards)
{
	uint64_t h = 14695981039346656037ull;
	for (const unsigned char *p = (const unsigned char *)name; *p; p++) {
		h ^= *p;
		h *= 1099511628211ull;
	}
	return shards ? (unsigned long)(h % shards) : 0;
}

static int parse_ulong(const char *text, size_t len, unsigned long *out)
{
	if (len == 0 || len > 9)
		return -1;
	unsigned long v = 0;
	for (size_t i = 0; i < len; i++) {
		if (text[i] < '0' || text[i] > '9')
			return -1;
		v = v * 10 + (unsigned long)(text[i] - '0');
	}
	*out = v;
	return 0;
}

int mig_fleet_parse_shard(const char *text, unsigned long *shard, unsigned long *shards)
{
	const char *slash = strchr(text, '/');
	if (!slash || parse_ulong(text, (size_t)(slash - text), shard) < 0 ||
	    parse_ulong(slash + 1, strlen(slash + 1), shards) < 0)
		return -1;
	if (*shards == 0 || *shards > 100000 || *shard >= *shards)
		return -1;
	return 0;
}

static int copy_target(mig_target *dst, const char *name, const char *dsn, const char *mongo,
		       unsigned line)
{
	memset(dst, 0, sizeof *dst);
	dst->line = line;
	dst->name = strdup(name);
	dst->dsn = dsn ? strdup(dsn) : NULL;
	dst->mongodb_database = mongo ? strdup(mongo) : NULL;
	if (!dst->name || (dsn && !dst->dsn) || (mongo && !dst->mongodb_database)) {
		mig_target_clear(dst);
		return -1;
	}
	return 0;
}

/* Runs targets.query on the control database and appends its rows to t. */
static int read_query(mig_fleet_targets *t, size_t *cap, const mig_config *cfg,
		      const mig_registry *reg, mig_secrets *secrets, mig_error *err)
{
	const mig_sql_driver *drv;
	int rc = mig_registry_sql(&drv, reg, cfg->pg.backend, err);
	if (rc < 0)
		return rc;
	if (!drv->targets_read)
		return mig_error_set(err, MIG_EUSAGE, "the '%s' driver cannot read 'targets.query'",
				     drv->name);
	void *conn = NULL;
	if ((rc = drv->connect(&conn, &cfg->pg, err)) < 0)
		return rc;
	char **cells = NULL;
	size_t rows = 0, cols = 0;
	rc = drv->targets_read(conn, cfg->targets.query, &cells, &rows, &cols, err);
	drv->disconnect(conn);
	if (rc < 0) {
		if (!err || rc != MIG_EUSAGE)
			return rc;
		char line[MIG_ERROR_MAX];
		snprintf(line, sizeof line, "%.700s", err->message);
		return mig_error_set(err, rc, "%s (%.200s:%u)", line, cfg->path,
				     cfg->targets.query_line);
	}
	bool schema = cfg->targets.kind == MIG_TARGET_SCHEMA;
	if (rows && (schema ? cols != 1 : (cols < 2 || cols > 3)))
		rc = mig_error_set(err, MIG_EUSAGE,
				   "'targets.query' returns %zu column%s; kind: %s needs %s (%s:%u)", cols,
				   cols == 1 ? "" : "s", schema ? "schema" : "database",
				   schema ? "1 (the schema name)"
					  : "2 or 3 (name, dsn[, mongodb_database])",
				   cfg->path, cfg->targets.query_line);
	if (rc == MIG_OK && t->n + rows > *cap) {
		size_t ncap = t->n + rows;
		mig_target *grown = realloc(t->items, (ncap ? ncap : 1) * sizeof *grown);
		if (!grown)
			rc = mig_error_set(err, MIG_EFAIL, "out of memory");
		else {
			t->items = grown;
			*cap = ncap;
		}
	}
	for (size_t r = 0; r < rows && rc == MIG_OK; r++) {
		char **row = cells + r * cols;
		if (!schema && mig_secrets_add(secrets, row[1]) < 0)
			rc = mig_error_set(err, MIG_EFAIL, "out of memory");
		else if (copy_target(&t->items[t->n], row[0], schema ? NULL : row[1],
				     cols == 3 && row[2][0] ? row[2] : NULL, 0) < 0)
			rc = mig_error_set(err, MIG_EFAIL, "out of memory");
		else
			t->n++;
	}
	for (size_t i = 0; i < rows * cols; i++)
		free(cells[i]);
	free(cells);
	return rc;
}

typedef struct indexed {
	const char *name;
	size_t position;
} indexed;

static int compare_indexed(const void *a, const void *b)
{
	const indexed *x = a, *y = b;
	int c = strcmp(x->name, y->name);
	return c ? c : (x->position > y->position) - (x->position < y->position);
}

/* Bad names from the query, and duplicates across list and query. */
static int check_names(const mig_fleet_targets *t, const mig_config *cfg, mig_error *err)
{
	for (size_t i = 0; i < t->n; i++)
		if (!mig_target_name_valid(t->kind, t->items[i].name))
			return mig_error_set(err, MIG_EUSAGE,
					     "'targets.query' returned a bad target name '%.100s': %s (%s:%u)",
					     t->items[i].name,
					     t->kind == MIG_TARGET_SCHEMA
						     ? "a schema name is [A-Za-z_][A-Za-z0-9_]*, at most 63 bytes"
						     : "use 1-200 printable characters without spaces",
					     cfg->path, cfg->targets.query_line);
	if (t->n < 2)
		return MIG_OK;
	indexed *names = malloc(t->n * sizeof *names);
	if (!names)
		return mig_error_set(err, MIG_EFAIL, "out of memory");
	for (size_t i = 0; i < t->n; i++)
		names[i] = (indexed){t->items[i].name, i};
	qsort(names, t->n, sizeof *names, compare_indexed);
	int rc = MIG_OK;
	for (size_t i = 1; i < t->n && rc == MIG_OK; i++) {
		if (strcmp(names[i].name, names[i - 1].name) != 0)
			continue;
		const mig_target *first = &t->items[names[i - 1].position];
		if (first->line)
			rc = mig_error_set(err, MIG_EUSAGE,
					   "duplicate target name '%.100s': listed at %s:%u and returned by 'targets.query'",
					   names[i].name, cfg->path, first->line);
		else
			rc = mig_error_set(err, MIG_EUSAGE,
					   "duplicate target name '%.100s': returned twice by 'targets.query' (%s:%u)",
					   names[i].name, cfg->path, cfg->targets.query_line);
	}
	free(names);
	return rc;
}

/* Keeps the targets --target names and --shard takes, in fleet order. */
static int apply_filter(mig_fleet_targets *t, const mig_fleet_filter *f, mig_error *err)
{
	for (size_t j = 0; f && j < f->nnames; j++) {
		bool found = false;
		for (size_t i = 0; i < t->n && !found; i++)
			found = !strcmp(t->items[i].name, f->names[j]);
		if (!found)
			return mig_error_set(err, MIG_EUSAGE, "unknown target '%.100s' (--target)",
					     f->names[j]);
	}
	size_t kept = 0;
	for (size_t i = 0; i < t->n; i++) {
		bool keep = true;
		if (f && f->nnames) {
			keep = false;
			for (size_t j = 0; j < f->nnames && !keep; j++)
				keep = !strcmp(t->items[i].name, f->names[j]);
		}
		if (keep && f && f->shards)
			keep = mig_fleet_shard_of(t->items[i].name, f->shards) == f->shard;
		if (keep)
			t->items[kept++] = t->items[i];
		else
			mig_target_clear(&t->items[i]);
	}
	t->n = kept;
	return MIG_OK;
}

int mig_fleet_targets_read(mig_fleet_targets *out, const mig_config *cfg,
			   const mig_registry *reg, const mig_fleet_filter *filter,
			   mig_secrets *secrets, mig_error *err)
{
	memset(out, 0, sizeof *out);
	out->kind = cfg->targets.kind;
	size_t cap = cfg->targets.nlist;
	out->items = calloc(cap ? cap : 1, sizeof *out->items);
	if (!out->items)
		return mig_error_set(err, MIG_EFAIL, "out of memory");
	int rc = MIG_OK;
	for (size_t i = 0; i < cfg->targets.nlist && rc == MIG_OK; i++) {
		const mig_target *t = &cfg->targets.list[i];
		if (copy_target(&out->items[out->n], t->name, t->dsn, t->mongodb_database, t->line) < 0)
			rc = mig_error_set(err, MIG_EFAIL, "out of memory");
		else
			out->n++;
	}
	if (rc == MIG_OK && cfg->targets.query)
		rc = read_query(out, &cap, cfg, reg, secrets, err);
	if (rc == MIG_OK)
		rc = check_names(out, cfg, err);
	if (rc == MIG_OK)
		rc = apply_filter(out, filter, err);
	if (rc < 0)
		mig_fleet_targets_clear(out);
	return rc;
}

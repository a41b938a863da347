/* Walks <root>/postgres/<module>/ for every module that runs and builds the ordered
 * plan. Only names are read here; file contents are read when a migration runs. */
#include "core/plan.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "util/fs.h"
#include "util/names.h"

const char *mig_plan_choose_root(const char *explicit_root, const mig_config *cfg)
{
	if (explicit_root)
		return explicit_root;
	if (cfg && cfg->root)
		return cfg->root;
	return "migrations";
}

/* One .sql file seen in a module directory, before up/down pairing. */
typedef struct entry {
	mig_filename parsed;
	char *file; /* the directory entry's name */
} entry;

static int compare_entries(const void *a, const void *b)
{
	const entry *x = a, *y = b;
	if (x->parsed.version != y->parsed.version)
		return x->parsed.version < y->parsed.version ? -1 : 1;
	if (x->parsed.kind != y->parsed.kind)
		return x->parsed.kind == MIG_FILE_UP ? -1 : 1;
	return strcmp(x->file, y->file);
}

static void free_entries(entry *entries, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(entries[i].file);
	free(entries);
}

/* Reads the .sql names of one module directory into *out (sorted). A directory that
 * does not exist is an empty module: the module may live in MongoDB only. */
static int scan_module(entry **out, size_t *count, const char *dir, const char *ext,
		       mig_error *err)
{
	*out = NULL;
	*count = 0;
	DIR *d = opendir(dir);
	if (!d) {
		if (errno == ENOENT)
			return MIG_OK;
		return mig_error_set(err, MIG_EUSAGE, "cannot read '%s': %s", dir, strerror(errno));
	}
	entry *entries = NULL;
	size_t n = 0, cap = 0;
	int rc = MIG_OK;
	struct dirent *de;
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		mig_filename parsed;
		mig_file_kind kind = mig_filename_parse_ext(de->d_name, ext, &parsed);
		if (kind == MIG_FILE_OTHER)
			continue;
		/* d_type spares a stat per file (10,000 files: most of `status`'s time); only
		 * links and file systems that do not fill it in need one */
		bool is_dir = de->d_type == DT_DIR;
		if (de->d_type != DT_REG && de->d_type != DT_DIR) {
			char *path = mig_path_join(dir, de->d_name);
			if (!path) {
				rc = mig_error_set(err, MIG_EFAIL, "out of memory");
				goto done;
			}
			struct stat st;
			if (stat(path, &st) < 0) {
				rc = mig_error_set(err, MIG_EUSAGE, "cannot read '%s': %s", path,
						   strerror(errno));
				free(path);
				goto done;
			}
			free(path);
			is_dir = S_ISDIR(st.st_mode);
		}
		if (is_dir)
			continue; /* subdirectories are never followed, whatever their name */
		if (kind == MIG_FILE_BAD) {
			rc = mig_error_set(err, MIG_EUSAGE, "bad migration file name '%s/%s': %s", dir,
					   de->d_name, parsed.why);
			goto done;
		}
		if (n == cap) {
			size_t grown_cap = cap ? cap * 2 : 16;
			entry *grown = realloc(entries, grown_cap * sizeof *grown);
			if (!grown) {
				rc = mig_error_set(err, MIG_EFAIL, "out of memory");
				goto done;
			}
			entries = grown;
			cap = grown_cap;
		}
		entries[n].file = strdup(de->d_name);
		if (!entries[n].file) {
			rc = mig_error_set(err, MIG_EFAIL, "out of memory");
			goto done;
		}
		/* re-point the parsed name into our own copy: readdir's buffer is reused */
		mig_filename_parse_ext(entries[n].file, ext, &entries[n].parsed);
		n++;
	}
	if (n > 1) /* qsort must not see NULL, even for zero items */
		qsort(entries, n, sizeof *entries, compare_entries);
done:
	closedir(d);
	if (rc < 0) {
		free_entries(entries, n);
		return rc;
	}
	*out = entries;
	*count = n;
	return MIG_OK;
}

int mig_plan_highest_version(const char *dir, long long *version, unsigned *width,
			     mig_error *err)
{
	entry *entries;
	size_t n;
	*version = 0;
	*width = 3;
	int rc = scan_module(&entries, &n, dir, ".sql", err);
	if (rc < 0)
		return rc;
	if (n) { /* sorted ascending: the last is the highest */
		*version = entries[n - 1].parsed.version;
		*width = entries[n - 1].parsed.width;
	}
	free_entries(entries, n);
	return MIG_OK;
}

static void free_module(mig_module_plan *mod)
{
	for (size_t i = 0; i < mod->nmigrations; i++) {
		free(mod->migrations[i].name);
		free(mod->migrations[i].up_path);
		free(mod->migrations[i].down_path);
	}
	free(mod->migrations);
	for (size_t i = 0; i < mod->nrepeatables; i++) {
		free(mod->repeatables[i].as_migration.name);
		free(mod->repeatables[i].as_migration.up_path);
	}
	free(mod->repeatables);
	free(mod->name);
	free(mod->dir);
}

static int compare_repeatables(const void *a, const void *b)
{
	return strcmp(((const mig_repeatable *)a)->as_migration.name,
		      ((const mig_repeatable *)b)->as_migration.name);
}

/* <dir>/repeatable/: every <name>.sql ([A-Za-z0-9_-]+), sorted by name. Another .sql
 * name is MIG_EUSAGE naming it; other files are ignored; no directory, no repeatables. */
static int scan_repeatables(mig_module_plan *mod, mig_error *err)
{
	char *dir = mig_path_join(mod->dir, "repeatable");
	if (!dir)
		return mig_error_set(err, MIG_EFAIL, "out of memory");
	DIR *d = opendir(dir);
	if (!d) {
		int rc = errno == ENOENT || errno == ENOTDIR
				 ? MIG_OK
				 : mig_error_set(err, MIG_EUSAGE, "cannot read '%s': %s", dir,
						 strerror(errno));
		free(dir);
		return rc;
	}
	int rc = MIG_OK;
	size_t cap = 0;
	struct dirent *de;
	while (rc == MIG_OK && (de = readdir(d)) != NULL) {
		size_t len = strlen(de->d_name);
		if (de->d_name[0] == '.' || len < 4 || strcmp(de->d_name + len - 4, ".sql") != 0)
			continue;
		char *name = strndup(de->d_name, len - 4);
		char *path = mig_path_join(dir, de->d_name);
		if (!name || !path) {
			rc = mig_error_set(err, MIG_EFAIL, "out of memory");
		} else if (!mig_migration_name_valid(name)) {
			rc = mig_error_set(err, MIG_EUSAGE,
					   "bad repeatable migration name '%s': use [A-Za-z0-9_-]+.sql",
					   path);
		} else if (mod->nrepeatables == cap) {
			size_t grown_cap = cap ? cap * 2 : 16;
			mig_repeatable *grown =
				realloc(mod->repeatables, grown_cap * sizeof *grown);
			if (!grown)
				rc = mig_error_set(err, MIG_EFAIL, "out of memory");
			else {
				mod->repeatables = grown;
				cap = grown_cap;
			}
		}
		if (rc == MIG_OK) {
			mod->repeatables[mod->nrepeatables++] =
				(mig_repeatable){{.name = name, .up_path = path}};
			continue;
		}
		free(name);
		free(path);
	}
	closedir(d);
	free(dir);
	if (mod->nrepeatables)
		qsort(mod->repeatables, mod->nrepeatables, sizeof *mod->repeatables,
		      compare_repeatables);
	return rc;
}

/* Pairs sorted entries into migrations, refusing duplicates and orphan down files. */
static int pair_entries(mig_module_plan *mod, entry *entries, size_t n, const char *ext,
			mig_error *err)
{
	mod->migrations = calloc(n ? n : 1, sizeof *mod->migrations);
	if (!mod->migrations)
		return mig_error_set(err, MIG_EFAIL, "out of memory");
	for (size_t i = 0; i < n; i++) {
		entry *e = &entries[i];
		if (i > 0 && entries[i - 1].parsed.version == e->parsed.version &&
		    entries[i - 1].parsed.kind == e->parsed.kind)
			return mig_error_set(err, MIG_EUSAGE,
					     "duplicate version %lld in module '%s': '%s/%s' and '%s/%s'",
					     e->parsed.version, mod->name, mod->dir,
					     entries[i - 1].file, mod->dir, e->file);
		char *path = mig_path_join(mod->dir, e->file);
		if (!path)
			return mig_error_set(err, MIG_EFAIL, "out of memory");
		if (e->parsed.kind == MIG_FILE_UP) {
			mig_migration *m = &mod->migrations[mod->nmigrations++];
			m->version = e->parsed.version;
			m->width = e->parsed.width;
			m->up_path = path;
			m->name = strndup(e->parsed.name, e->parsed.name_len);
			if (!m->name)
				return mig_error_set(err, MIG_EFAIL, "out of memory");
			continue;
		}
		mig_migration *m = mod->nmigrations ? &mod->migrations[mod->nmigrations - 1] : NULL;
		if (!m || m->version != e->parsed.version) {
			mig_error_set(err, MIG_EUSAGE, "'%s' has no matching .up%s", path, ext);
			free(path);
			return MIG_EUSAGE;
		}
		/* both names must agree, or the pair is two different migrations */
		if (strlen(m->name) != e->parsed.name_len ||
		    memcmp(m->name, e->parsed.name, e->parsed.name_len)) {
			mig_error_set(err, MIG_EUSAGE,
				      "'%s' does not match '%s': one version, two names", path,
				      m->up_path);
			free(path);
			return MIG_EUSAGE;
		}
		m->down_path = path;
	}
	return MIG_OK;
}

int mig_plan_check_root(const char *root, mig_error *err)
{
	struct stat st;
	if (stat(root, &st) < 0)
		return mig_error_set(err, MIG_EUSAGE, "cannot read migrations root '%s': %s", root,
				     strerror(errno));
	if (!S_ISDIR(st.st_mode))
		return mig_error_set(err, MIG_EUSAGE, "migrations root '%s' is not a directory",
				     root);
	return MIG_OK;
}

int mig_plan_check_module_dirs(const char *pg_dir, mig_error *err)
{
	DIR *d = opendir(pg_dir);
	if (!d) {
		if (errno == ENOENT)
			return MIG_OK;
		return mig_error_set(err, MIG_EUSAGE, "cannot read '%s': %s", pg_dir, strerror(errno));
	}
	int rc = MIG_OK;
	struct dirent *de;
	while (rc == MIG_OK && (de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		char *path = mig_path_join(pg_dir, de->d_name);
		if (!path) {
			rc = mig_error_set(err, MIG_EFAIL, "out of memory");
			break;
		}
		struct stat st;
		if (stat(path, &st) == 0 && S_ISDIR(st.st_mode) && !mig_module_name_valid(de->d_name))
			rc = mig_error_set(err, MIG_EUSAGE,
					   "bad module directory name '%s': use [a-z0-9_]+", path);
		free(path);
	}
	closedir(d);
	return rc;
}

int mig_tree_walk(const mig_config *cfg, const char *root, const char *backend,
		  mig_tree_visit_fn visit, void *ctx, mig_error *err)
{
	int rc = mig_plan_check_root(root, err);
	if (rc < 0)
		return rc;
	const char **order = NULL;
	size_t norder = 0;
	if ((rc = mig_module_order(&order, &norder, cfg, err)) < 0)
		return rc;
	char *dir = mig_path_join(root, backend);
	rc = dir ? mig_plan_check_module_dirs(dir, err) : mig_error_set(err, MIG_EFAIL, "out of memory");
	for (size_t i = 0; rc == MIG_OK && i < norder; i++) {
		char *module_dir = mig_path_join(dir, order[i]);
		rc = module_dir ? visit(ctx, order[i], module_dir, i, norder, err)
				: mig_error_set(err, MIG_EFAIL, "out of memory");
		free(module_dir);
	}
	free(dir);
	free(order);
	return rc;
}

/* One module of the SQL plan: its migrations, paired and ordered. */
static int plan_module(void *ctx, const char *module, const char *dir, size_t index,
		       size_t count, mig_error *err)
{
	mig_plan *plan = ctx;
	if (index == 0 && !(plan->modules = calloc(count, sizeof *plan->modules)))
		return mig_error_set(err, MIG_EFAIL, "out of memory");
	mig_module_plan *mod = &plan->modules[plan->nmodules++];
	mod->name = strdup(module);
	mod->dir = strdup(dir);
	if (!mod->name || !mod->dir)
		return mig_error_set(err, MIG_EFAIL, "out of memory");
	entry *entries;
	size_t n;
	int rc = scan_module(&entries, &n, mod->dir, plan->ext, err);
	if (rc < 0)
		return rc;
	rc = pair_entries(mod, entries, n, plan->ext, err);
	free_entries(entries, n);
	if (rc == MIG_OK)
		rc = scan_repeatables(mod, err);
	return rc;
}

static int build(mig_plan **out, const mig_config *cfg, const char *root, const char *backend,
		 const char *ext, mig_error *err)
{
	*out = NULL;
	mig_plan *plan = calloc(1, sizeof *plan);
	if (!plan)
		return mig_error_set(err, MIG_EFAIL, "out of memory");
	plan->ext = ext;
	int rc = mig_tree_walk(cfg, root, backend, plan_module, plan, err);
	if (rc < 0) {
		mig_plan_free(plan);
		return rc;
	}
	*out = plan;
	return MIG_OK;
}

int mig_plan_build(mig_plan **out, const mig_config *cfg, const char *root, mig_error *err)
{
	return build(out, cfg, root, "postgres", ".sql", err);
}

int mig_plan_build_mongo(mig_plan **out, const mig_config *cfg, const char *root,
			 mig_error *err)
{
	return build(out, cfg, root, "mongodb", ".json", err);
}

const mig_module_plan *mig_plan_module(const mig_plan *plan, const char *name)
{
	for (size_t i = 0; i < plan->nmodules; i++)
		if (!strcmp(plan->modules[i].name, name))
			return &plan->modules[i];
	return NULL;
}

void mig_plan_free(mig_plan *plan)
{
	if (!plan)
		return;
	for (size_t i = 0; i < plan->nmodules; i++)
		free_module(&plan->modules[i]);
	free(plan->modules);
	free(plan);
}

/* The planner: what migrations/postgres/<module>/ holds, validated and ordered.
 * It reads directory listings only (never file contents) and never touches a database. */
#ifndef MIGRATE_PLAN_H
#define MIGRATE_PLAN_H

#include <stdbool.h>
#include <stddef.h>

#include "core/config.h"
#include "util/error.h"

typedef enum mig_file_kind {
	MIG_FILE_OTHER, /* not a .sql file: ignored (README.md, .gitkeep) */
	MIG_FILE_UP,
	MIG_FILE_DOWN,
	MIG_FILE_BAD,   /* a .sql file whose name is not NNN_<name>.up|down.sql */
} mig_file_kind;

typedef struct mig_filename {
	mig_file_kind kind;
	long long version; /* the integer value of NNN */
	unsigned width;    /* how many digits NNN has, to keep zero-padding */
	const char *name;  /* points into the parsed string; not NUL-terminated */
	size_t name_len;
	const char *why;   /* MIG_FILE_BAD: what is wrong (static string) */
} mig_filename;

/* Classifies a file name. Names hold any character but '/' and control characters;
 * versions must fit a signed 64-bit integer. Never fails: a bad .sql name comes back as MIG_FILE_BAD with why set. */
mig_file_kind mig_filename_parse(const char *filename, mig_filename *out);

/* The same for another extension: ".json" classifies NNN_<name>.up.json / .down.json
 * (other .json files, such as indexes.json, are MIG_FILE_OTHER). */
mig_file_kind mig_filename_parse_ext(const char *filename, const char *ext, mig_filename *out);

/* Whether name may be the <name> part of a migration file ([A-Za-z0-9_-]+). */
bool mig_migration_name_valid(const char *name);

typedef struct mig_migration {
	long long version;
	unsigned width;
	char *name;      /* the <name> part */
	char *up_path;
	char *down_path; /* NULL when there is no .down.sql */
} mig_migration;

/* A repeatable migration: <dir>/repeatable/<name>.sql, applied by `up` after the
 * module's versioned files whenever it is new or changed. Its `as_migration` (version 0,
 * no down file) lets the engine run it as it runs a versioned file. */
typedef struct mig_repeatable {
	mig_migration as_migration; /* .name and .up_path are the repeatable's */
} mig_repeatable;

typedef struct mig_module_plan {
	char *name;
	char *dir;                 /* <root>/postgres/<name>; may not exist */
	mig_migration *migrations; /* ascending by version */
	size_t nmigrations;
	mig_repeatable *repeatables; /* <dir>/repeatable/<name>.sql, in name order */
	size_t nrepeatables;
} mig_module_plan;

typedef struct mig_plan {
	mig_module_plan *modules; /* core first, then the config's order as `requires` allows */
	size_t nmodules;
	const char *ext; /* ".sql" (postgres/) or ".json" (mongodb/ versioned files) */
} mig_plan;

/* The root to use: explicit (--root, relative to the current directory) if non-NULL,
 * else the config's `root:` (already resolved against the config file), else
 * "migrations". Borrowed. */
const char *mig_plan_choose_root(const char *explicit_root, const mig_config *cfg);

/* Orders the modules that run: core first, then enabled modules in config order,
 * each moved later only as far as its `requires` demands. A cycle, or a requirement
 * on an unknown or disabled module, is MIG_EUSAGE naming the modules. *names holds
 * borrowed strings (from cfg, or "core"); free only the array. */
int mig_module_order(const char ***names, size_t *count, const mig_config *cfg,
		     mig_error *err);

/* MIG_OK when root is a directory, else MIG_EUSAGE naming it. */
int mig_plan_check_root(const char *root, mig_error *err);

/* Checks that every directory in dir (<root>/postgres or <root>/mongodb) has a module
 * name ([a-z0-9_]+; entries starting with '.' are ignored): MIG_EUSAGE naming the first
 * that does not. A missing dir is fine. */
int mig_plan_check_module_dirs(const char *dir, mig_error *err);

/* Called by mig_tree_walk for each module that runs, in run order (index of count),
 * with its directory <root>/<backend>/<module> (which may not exist). */
typedef int (*mig_tree_visit_fn)(void *ctx, const char *module, const char *dir, size_t index,
				 size_t count, mig_error *err);

/* The one walk of the tree that both backends' plans use: checks root, orders the
 * modules (mig_module_order), checks the module directory names of <root>/<backend>,
 * then visits each module. Stops at the first negative return of visit, and returns it. */
int mig_tree_walk(const mig_config *cfg, const char *root, const char *backend,
		  mig_tree_visit_fn visit, void *ctx, mig_error *err);

/* Walks <root>/postgres/ and builds the plan of every module that runs. A missing
 * root, a bad module directory name, a bad or duplicate file, or a .down.sql without
 * its .up.sql is MIG_EUSAGE naming the path. */
int mig_plan_build(mig_plan **out, const mig_config *cfg, const char *root, mig_error *err);

/* The same for <root>/mongodb/: the versioned NNN_<name>.up.json / .down.json files. */
int mig_plan_build_mongo(mig_plan **out, const mig_config *cfg, const char *root,
			 mig_error *err);

/* The highest version among dir's migration files and the number of digits it is
 * written with (0 and 3 when there is none, or no dir); the planner's own scan, so a
 * bad file name is MIG_EUSAGE naming it. */
int mig_plan_highest_version(const char *dir, long long *version, unsigned *width,
			     mig_error *err);

/* The module's plan, or NULL when it does not run. Borrowed. */
const mig_module_plan *mig_plan_module(const mig_plan *plan, const char *name);

/* Accepts NULL. */
void mig_plan_free(mig_plan *plan);

#endif

/* Loads config.yaml with libyaml (the only file that includes <yaml.h>) into a
 * mig_config, checking every key, type and variable before anything connects.
 * The walk follows the fixed shape of the schema, so an alias can only name a node
 * the schema already bounds: a small file cannot grow into a huge tree. */
#include "core/config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <yaml.h>

#include "util/expand.h"
#include "util/fs.h"
#include "util/names.h"
#include "util/secret.h"

typedef struct walker {
	yaml_document_t *doc;
	const char *name; /* file name for messages */
	mig_config *cfg;
	mig_error *err;
} walker;

static unsigned line_of(const yaml_node_t *node)
{
	return (unsigned)node->start_mark.line + 1;
}

static int fail_at(walker *w, const yaml_node_t *node, const char *fmt, const char *what)
{
	char msg[MIG_ERROR_MAX / 2];
	snprintf(msg, sizeof msg, fmt, what);
	return mig_error_set(w->err, MIG_EUSAGE, "%s (%s:%u)", msg, w->name, line_of(node));
}

static const char *node_kind(const yaml_node_t *node)
{
	switch (node->type) {
	case YAML_MAPPING_NODE:
		return "a mapping";
	case YAML_SEQUENCE_NODE:
		return "a list";
	default:
		return "a scalar";
	}
}

/* The expanded text of a scalar node (caller frees), or an error naming key. */
static int scalar_value(walker *w, const yaml_node_t *node, const char *key, char **out)
{
	*out = NULL;
	if (node->type != YAML_SCALAR_NODE) {
		char msg[MIG_ERROR_MAX / 2];
		snprintf(msg, sizeof msg, "'%s' must be a scalar, not %s", key, node_kind(node));
		return mig_error_set(w->err, MIG_EUSAGE, "%s (%s:%u)", msg, w->name, line_of(node));
	}
	const char *raw = (const char *)node->data.scalar.value;
	if (strlen(raw) != node->data.scalar.length)
		return fail_at(w, node, "'%s' contains a NUL byte", key);
	mig_error inner;
	if (mig_expand_env(out, raw, &inner) < 0)
		return mig_error_set(w->err, inner.code, "%s in '%s' (%s:%u)", inner.message, key,
				     w->name, line_of(node));
	return MIG_OK;
}

static int string_value(walker *w, const yaml_node_t *node, const char *key, char **out)
{
	return scalar_value(w, node, key, out);
}

static int bool_value(walker *w, const yaml_node_t *node, const char *key, bool *out)
{
	char *text;
	int rc = scalar_value(w, node, key, &text);
	if (rc < 0)
		return rc;
	if (!strcmp(text, "true") || !strcmp(text, "True") || !strcmp(text, "TRUE")) {
		*out = true;
	} else if (!strcmp(text, "false") || !strcmp(text, "False") || !strcmp(text, "FALSE")) {
		*out = false;
	} else {
		char msg[MIG_ERROR_MAX / 2];
		snprintf(msg, sizeof msg, "'%s' must be true or false, not '%.100s'", key, text);
		rc = mig_error_set(w->err, MIG_EUSAGE, "%s (%s:%u)", msg, w->name, line_of(node));
	}
	free(text);
	return rc;
}

static int duration_value(walker *w, const yaml_node_t *node, const char *key, long long *out)
{
	char *text;
	int rc = scalar_value(w, node, key, &text);
	if (rc < 0)
		return rc;
	if (mig_parse_duration_ms(text, out) < 0) {
		char msg[MIG_ERROR_MAX / 2];
		snprintf(msg, sizeof msg,
			 "'%s' must be a duration such as 500ms, 10s, 5m or 0, not '%.100s'", key,
			 text);
		rc = mig_error_set(w->err, MIG_EUSAGE, "%s (%s:%u)", msg, w->name, line_of(node));
	}
	free(text);
	return rc;
}

/* A whole number from 0 to 100. */
static int count_value(walker *w, const yaml_node_t *node, const char *key, long long *out)
{
	char *text;
	int rc = scalar_value(w, node, key, &text);
	if (rc < 0)
		return rc;
	char *end = NULL;
	long v = (*text >= '0' && *text <= '9') ? strtol(text, &end, 10) : -1;
	if (v < 0 || v > 100 || !end || *end) {
		char msg[MIG_ERROR_MAX / 2];
		snprintf(msg, sizeof msg, "'%s' must be a whole number from 0 to 100, not '%.100s'",
			 key, text);
		rc = mig_error_set(w->err, MIG_EUSAGE, "%s (%s:%u)", msg, w->name, line_of(node));
	} else {
		*out = v;
	}
	free(text);
	return rc;
}

typedef struct keyed {
	const yaml_node_t *node;
	size_t position;
} keyed;

static int compare_keyed(const void *a, const void *b)
{
	const keyed *x = a, *y = b;
	int c = strcmp((const char *)x->node->data.scalar.value,
		       (const char *)y->node->data.scalar.value);
	if (c)
		return c;
	return x->position < y->position ? -1 : x->position > y->position;
}

/* Refuses a mapping that repeats a key, naming the second occurrence. Sorting keeps a
 * mapping of many thousand keys linearithmic rather than quadratic. */
static int check_duplicate_keys(walker *w, const yaml_node_t *map)
{
	size_t n = (size_t)(map->data.mapping.pairs.top - map->data.mapping.pairs.start);
	if (n < 2)
		return MIG_OK;
	keyed *keys = malloc(n * sizeof *keys);
	if (!keys)
		return mig_error_set(w->err, MIG_EFAIL, "out of memory");
	size_t m = 0;
	for (size_t i = 0; i < n; i++) {
		yaml_node_t *key = yaml_document_get_node(w->doc, map->data.mapping.pairs.start[i].key);
		if (key && key->type == YAML_SCALAR_NODE)
			keys[m++] = (keyed){key, i};
	}
	qsort(keys, m, sizeof *keys, compare_keyed);
	/* equal keys sit side by side, later ones after; report the earliest repeat */
	const keyed *dup = NULL;
	for (size_t i = 1; i < m; i++)
		if (!strcmp((const char *)keys[i].node->data.scalar.value,
			    (const char *)keys[i - 1].node->data.scalar.value) &&
		    (!dup || keys[i].position < dup->position))
			dup = &keys[i];
	int rc = MIG_OK;
	if (dup)
		rc = fail_at(w, dup->node, "duplicate key '%s'",
			     (const char *)dup->node->data.scalar.value);
	free(keys);
	return rc;
}

/* Calls visit(w, key, key_node, value_node, ctx) for each pair of a mapping, refusing
 * non-mappings and duplicate keys. */
typedef int (*pair_fn)(walker *w, const char *key, const yaml_node_t *key_node,
		       const yaml_node_t *value, void *ctx);

static int each_pair(walker *w, const yaml_node_t *map, const char *what, pair_fn visit,
		     void *ctx)
{
	if (map->type != YAML_MAPPING_NODE) {
		char msg[MIG_ERROR_MAX / 2];
		snprintf(msg, sizeof msg, "'%s' must be a mapping, not %s", what, node_kind(map));
		return mig_error_set(w->err, MIG_EUSAGE, "%s (%s:%u)", msg, w->name, line_of(map));
	}
	int rc = check_duplicate_keys(w, map);
	if (rc < 0)
		return rc;
	for (yaml_node_pair_t *pair = map->data.mapping.pairs.start;
	     pair < map->data.mapping.pairs.top; pair++) {
		yaml_node_t *key = yaml_document_get_node(w->doc, pair->key);
		yaml_node_t *value = yaml_document_get_node(w->doc, pair->value);
		if (!key || !value)
			return mig_error_set(w->err, MIG_EUSAGE, "malformed mapping in '%s' (%s:%u)",
					     what, w->name, line_of(map));
		if (key->type != YAML_SCALAR_NODE)
			return fail_at(w, key, "a key in '%s' must be a scalar", what);
		const char *k = (const char *)key->data.scalar.value;
		rc = visit(w, k, key, value, ctx);
		if (rc < 0)
			return rc;
	}
	return MIG_OK;
}

static int unknown_key(walker *w, const yaml_node_t *key_node, const char *section,
		       const char *key)
{
	char msg[MIG_ERROR_MAX / 2];
	if (section)
		snprintf(msg, sizeof msg, "unknown key '%s.%.100s'", section, key);
	else
		snprintf(msg, sizeof msg, "unknown key '%.100s'", key);
	return mig_error_set(w->err, MIG_EUSAGE, "%s (%s:%u)", msg, w->name, line_of(key_node));
}

/* A DSN or URI: its password is registered the moment it is known, so that any later
 * error in the file is scrubbed of it too. */
static int connection_string(walker *w, const yaml_node_t *node, const char *key, char **out)
{
	int rc = string_value(w, node, key, out);
	if (rc == MIG_OK && mig_secrets_add(&w->cfg->secrets, *out) < 0)
		rc = mig_error_set(w->err, MIG_EFAIL, "out of memory");
	return rc;
}

static int hooks_pair(walker *w, const char *key, const yaml_node_t *key_node,
		      const yaml_node_t *value, void *ctx)
{
	mig_config *cfg = w->cfg;
	(void)ctx;
	char **slot = !strcmp(key, "before_up")    ? &cfg->hook_before_up
		      : !strcmp(key, "after_each") ? &cfg->hook_after_each
		      : !strcmp(key, "after_up")   ? &cfg->hook_after_up
						   : NULL;
	if (!slot)
		return unknown_key(w, key_node, "postgres.hooks", key);
	char path[64];
	snprintf(path, sizeof path, "postgres.hooks.%s", key);
	int rc = string_value(w, value, path, slot);
	if (rc == MIG_OK && (!**slot || **slot == '/'))
		rc = fail_at(w, value, "'%s' must be a file relative to the tree root", path);
	return rc;
}

static int postgres_pair(walker *w, const char *key, const yaml_node_t *key_node,
			 const yaml_node_t *value, void *ctx)
{
	mig_config *cfg = w->cfg;
	(void)ctx;
	if (!strcmp(key, "hooks"))
		return each_pair(w, value, "postgres.hooks", hooks_pair, NULL);
	if (!strcmp(key, "dsn"))
		return connection_string(w, value, "postgres.dsn", &cfg->pg.dsn);
	if (!strcmp(key, "scratch_dsn"))
		return connection_string(w, value, "postgres.scratch_dsn", &cfg->pg.scratch_dsn);
	if (!strcmp(key, "lock_wait"))
		return duration_value(w, value, "postgres.lock_wait", &cfg->pg.lock_wait_ms);
	if (!strcmp(key, "lock_timeout"))
		return duration_value(w, value, "postgres.lock_timeout", &cfg->pg.lock_timeout_ms);
	if (!strcmp(key, "statement_timeout"))
		return duration_value(w, value, "postgres.statement_timeout",
				      &cfg->pg.statement_timeout_ms);
	if (!strcmp(key, "lock_lease")) {
		int rc = duration_value(w, value, "postgres.lock_lease", &cfg->pg.lock_lease_ms);
		if (rc == MIG_OK && cfg->pg.lock_lease_ms < 1000)
			rc = fail_at(w, value, "'%s' must be at least 1s", "postgres.lock_lease");
		return rc;
	}
	if (!strcmp(key, "lock_retry_backoff"))
		return duration_value(w, value, "postgres.lock_retry_backoff",
				      &cfg->pg.lock_retry_backoff_ms);
	if (!strcmp(key, "lock_retries"))
		return count_value(w, value, "postgres.lock_retries", &cfg->pg.lock_retries);
	if (!strcmp(key, "lock")) {
		char *mode;
		int rc = string_value(w, value, "postgres.lock", &mode);
		if (rc < 0)
			return rc;
		if (!strcmp(mode, "advisory"))
			cfg->pg.lock_mode = MIG_LOCK_ADVISORY;
		else if (!strcmp(mode, "table"))
			cfg->pg.lock_mode = MIG_LOCK_TABLE;
		else
			rc = fail_at(w, value, "'postgres.lock' must be advisory or table, not '%.100s'",
				     mode);
		free(mode);
		return rc;
	}
	if (!strcmp(key, "lint")) {
		char *mode;
		int rc = string_value(w, value, "postgres.lint", &mode);
		if (rc < 0)
			return rc;
		if (!strcmp(mode, "off"))
			cfg->lint_mode = MIG_LINT_OFF;
		else if (!strcmp(mode, "warn"))
			cfg->lint_mode = MIG_LINT_WARN;
		else if (!strcmp(mode, "error"))
			cfg->lint_mode = MIG_LINT_REFUSE;
		else
			rc = fail_at(w, value, "'postgres.lint' must be off, warn or error, not '%.100s'",
				     mode);
		free(mode);
		return rc;
	}
	if (!strcmp(key, "drift_privileges"))
		return bool_value(w, value, "postgres.drift_privileges", &cfg->drift_privileges);
	if (!strcmp(key, "lint_data")) {
		char *mode;
		int rc = string_value(w, value, "postgres.lint_data", &mode);
		if (rc < 0)
			return rc;
		if (!strcmp(mode, "on") || !strcmp(mode, "off"))
			cfg->lint_data = !strcmp(mode, "on");
		else
			rc = fail_at(w, value, "'postgres.lint_data' must be off or on, not '%.100s'", mode);
		free(mode);
		return rc;
	}
	if (!strcmp(key, "lint_probe_timeout"))
		return duration_value(w, value, "postgres.lint_probe_timeout", &cfg->lint_probe_timeout_ms);
	if (!strcmp(key, "lint_min_rows")) {
		char *text;
		int rc = string_value(w, value, "postgres.lint_min_rows", &text);
		if (rc < 0)
			return rc;
		char *end;
		errno = 0;
		long long rows = strtoll(text, &end, 10);
		if (errno || end == text || *end || rows < 0)
			rc = fail_at(w, value,
				     "'postgres.lint_min_rows' must be a whole number of rows, not '%.100s'",
				     text);
		else
			cfg->lint_min_rows = rows;
		free(text);
		return rc;
	}
	return unknown_key(w, key_node, "postgres", key);
}

static int mongodb_pair(walker *w, const char *key, const yaml_node_t *key_node,
			const yaml_node_t *value, void *ctx)
{
	(void)ctx;
	if (!strcmp(key, "uri"))
		return connection_string(w, value, "mongodb.uri", &w->cfg->mongo_uri);
	if (!strcmp(key, "database"))
		return string_value(w, value, "mongodb.database", &w->cfg->mongo_database);
	mig_doc_run_config *rc = &w->cfg->mongo_run;
	if (!strcmp(key, "lock_wait"))
		return duration_value(w, value, "mongodb.lock_wait", &rc->lock_wait_ms);
	if (!strcmp(key, "lock_lease")) {
		int r = duration_value(w, value, "mongodb.lock_lease", &rc->lock_lease_ms);
		if (r == MIG_OK && rc->lock_lease_ms < 1000)
			r = fail_at(w, value, "'%s' must be at least 1s", "mongodb.lock_lease");
		return r;
	}
	if (!strcmp(key, "max_time_ms")) {
		/* milliseconds, as mongod's maxTimeMS, or a duration with its unit */
		char *text;
		int r = string_value(w, value, "mongodb.max_time_ms", &text);
		if (r < 0)
			return r;
		errno = 0;
		long long ms = strspn(text, "0123456789") == strlen(text) && *text
				       ? strtoll(text, NULL, 10)
				       : -1;
		if (ms < 0 && mig_parse_duration_ms(text, &ms) < 0)
			ms = -1;
		free(text);
		if (ms < 0 || errno || ms > 2147483647LL)
			return fail_at(w, value,
				       "'%s' must be a number of milliseconds (or 10s, 5m), at most 2147483647",
				       "mongodb.max_time_ms");
		rc->max_time_ms = ms;
		return MIG_OK;
	}
	if (!strcmp(key, "write_concern") || !strcmp(key, "commit_quorum")) {
		bool wc = key[0] == 'w';
		const char *name = wc ? "mongodb.write_concern" : "mongodb.commit_quorum";
		char *text;
		int r = string_value(w, value, name, &text);
		if (r < 0)
			return r;
		/* what mongod takes: a number of members, "majority", or (commitQuorum)
		 * "votingMembers"; a replica set's custom tag names are not offered */
		bool number = text[0] != '\0' && strspn(text, "0123456789") == strlen(text) &&
			      strlen(text) <= 3;
		if (!number && strcmp(text, "majority") && (wc || strcmp(text, "votingMembers"))) {
			free(text);
			return fail_at(w, value,
				       wc ? "'%s' must be majority or a number of members"
					  : "'%s' must be majority, votingMembers or a number of members",
				       name);
		}
		char **slot = wc ? &rc->write_concern : &rc->commit_quorum;
		free(*slot);
		*slot = text;
		return MIG_OK;
	}
	return unknown_key(w, key_node, "mongodb", key);
}

static int requires_list(walker *w, const yaml_node_t *value, mig_module_config *mod)
{
	char key[160];
	snprintf(key, sizeof key, "modules.%s.requires", mod->name);
	if (value->type != YAML_SEQUENCE_NODE) {
		char msg[MIG_ERROR_MAX / 2];
		snprintf(msg, sizeof msg, "'%s' must be a list, not %s", key, node_kind(value));
		return mig_error_set(w->err, MIG_EUSAGE, "%s (%s:%u)", msg, w->name,
				     line_of(value));
	}
	size_t n = (size_t)(value->data.sequence.items.top - value->data.sequence.items.start);
	mod->requires = calloc(n ? n : 1, sizeof *mod->requires);
	if (!mod->requires)
		return mig_error_set(w->err, MIG_EFAIL, "out of memory");
	for (size_t i = 0; i < n; i++) {
		yaml_node_t *item = yaml_document_get_node(w->doc, value->data.sequence.items.start[i]);
		if (!item)
			return fail_at(w, value, "malformed list in '%s'", key);
		char *name;
		int rc = string_value(w, item, key, &name);
		if (rc < 0)
			return rc;
		mod->requires[mod->nrequires++] = name;
		if (!mig_module_name_valid(name))
			return mig_error_set(w->err, MIG_EUSAGE,
					     "bad module name '%.100s' in '%s': use [a-z0-9_]+ (%s:%u)",
					     name, key, w->name, line_of(item));
	}
	return MIG_OK;
}

static int module_pair(walker *w, const char *key, const yaml_node_t *key_node,
		       const yaml_node_t *value, void *ctx)
{
	mig_module_config *mod = ctx;
	if (!strcmp(key, "enabled")) {
		char name[160];
		snprintf(name, sizeof name, "modules.%s.enabled", mod->name);
		return bool_value(w, value, name, &mod->enabled);
	}
	if (!strcmp(key, "requires"))
		return requires_list(w, value, mod);
	if (!strcmp(key, "scope")) {
		char name[160], *scope;
		snprintf(name, sizeof name, "modules.%s.scope", mod->name);
		int rc = string_value(w, value, name, &scope);
		if (rc < 0)
			return rc;
		if (!strcmp(scope, "control"))
			mod->control = true;
		else if (strcmp(scope, "target") != 0) {
			char msg[MIG_ERROR_MAX / 2];
			snprintf(msg, sizeof msg, "'%s' must be control or target, not '%.100s'", name,
				 scope);
			rc = mig_error_set(w->err, MIG_EUSAGE, "%s (%s:%u)", msg, w->name,
					   line_of(value));
		}
		free(scope);
		return rc;
	}
	char section[160];
	snprintf(section, sizeof section, "modules.%s", mod->name);
	return unknown_key(w, key_node, section, key);
}

static int modules_pair(walker *w, const char *key, const yaml_node_t *key_node,
			const yaml_node_t *value, void *ctx)
{
	mig_config *cfg = w->cfg;
	(void)ctx;
	if (!mig_module_name_valid(key))
		return fail_at(w, key_node, "bad module name '%.100s': use [a-z0-9_]+", key);
	mig_module_config *mod = &cfg->modules[cfg->nmodules++];
	mod->name = strdup(key);
	mod->enabled = true; /* listing a module means running it unless it says otherwise */
	mod->line = line_of(key_node);
	if (!mod->name)
		return mig_error_set(w->err, MIG_EFAIL, "out of memory");
	/* `name:` with nothing after it reads as an empty mapping: enabled, no requires */
	if (value->type == YAML_SCALAR_NODE && value->data.scalar.length == 0 &&
	    value->data.scalar.style == YAML_PLAIN_SCALAR_STYLE)
		return MIG_OK;
	char what[160];
	snprintf(what, sizeof what, "modules.%s", key);
	return each_pair(w, value, what, module_pair, mod);
}

bool mig_target_name_valid(mig_target_kind kind, const char *name)
{
	size_t n = strlen(name);
	if (kind == MIG_TARGET_SCHEMA)
		return mig_schema_name_valid(name);
	if (n == 0 || n > 200)
		return false;
	for (const unsigned char *p = (const unsigned char *)name; *p; p++)
		if (*p <= ' ' || *p == 0x7f)
			return false;
	return true;
}

void mig_target_clear(mig_target *t)
{
	free(t->name);
	free(t->dsn);
	free(t->mongodb_database);
	memset(t, 0, sizeof *t);
}

typedef struct target_item {
	mig_target *t;
	size_t index;
	const yaml_node_t *dsn_node; /* to name it when kind: schema takes none */
} target_item;

static int target_pair(walker *w, const char *key, const yaml_node_t *key_node,
		       const yaml_node_t *value, void *ctx)
{
	target_item *it = ctx;
	char name[96];
	snprintf(name, sizeof name, "targets.list[%zu].%.40s", it->index, key);
	if (!strcmp(key, "name"))
		return string_value(w, value, name, &it->t->name);
	if (!strcmp(key, "dsn")) {
		it->dsn_node = value;
		return connection_string(w, value, name, &it->t->dsn);
	}
	if (!strcmp(key, "mongodb_database"))
		return string_value(w, value, name, &it->t->mongodb_database);
	snprintf(name, sizeof name, "targets.list[%zu]", it->index);
	return unknown_key(w, key_node, name, key);
}

static int targets_list(walker *w, const yaml_node_t *value, const yaml_node_t ***dsn_nodes)
{
	mig_targets_config *tc = &w->cfg->targets;
	if (value->type != YAML_SEQUENCE_NODE)
		return fail_at(w, value, "'%s' must be a list", "targets.list");
	size_t n = (size_t)(value->data.sequence.items.top - value->data.sequence.items.start);
	tc->list = calloc(n ? n : 1, sizeof *tc->list);
	*dsn_nodes = calloc(n ? n : 1, sizeof **dsn_nodes);
	if (!tc->list || !*dsn_nodes)
		return mig_error_set(w->err, MIG_EFAIL, "out of memory");
	for (size_t i = 0; i < n; i++) {
		yaml_node_t *item = yaml_document_get_node(w->doc, value->data.sequence.items.start[i]);
		if (!item)
			return fail_at(w, value, "malformed list in '%s'", "targets.list");
		mig_target *t = &tc->list[tc->nlist++];
		t->line = line_of(item);
		char what[64];
		snprintf(what, sizeof what, "targets.list[%zu]", i);
		target_item it = {t, i, NULL};
		int rc = each_pair(w, item, what, target_pair, &it);
		if (rc < 0)
			return rc;
		(*dsn_nodes)[i] = it.dsn_node;
		if (!t->name)
			return mig_error_set(w->err, MIG_EUSAGE, "'%s.name' is required (%s:%u)", what,
					     w->name, t->line);
	}
	return MIG_OK;
}

static int targets_pair(walker *w, const char *key, const yaml_node_t *key_node,
			const yaml_node_t *value, void *ctx)
{
	mig_targets_config *tc = &w->cfg->targets;
	const yaml_node_t ***dsn_nodes = ctx;
	if (!strcmp(key, "kind")) {
		char *kind;
		int rc = string_value(w, value, "targets.kind", &kind);
		if (rc < 0)
			return rc;
		if (!strcmp(kind, "database"))
			tc->kind = MIG_TARGET_DATABASE;
		else if (!strcmp(kind, "schema"))
			tc->kind = MIG_TARGET_SCHEMA;
		else
			rc = fail_at(w, value, "'targets.kind' must be database or schema, not '%.100s'",
				     kind);
		free(kind);
		return rc;
	}
	if (!strcmp(key, "list"))
		return targets_list(w, value, dsn_nodes);
	if (!strcmp(key, "query")) {
		tc->query_line = line_of(value);
		int rc = string_value(w, value, "targets.query", &tc->query);
		if (rc == MIG_OK && !tc->query[0])
			rc = fail_at(w, value, "'%s' is empty", "targets.query");
		return rc;
	}
	if (!strcmp(key, "parallel")) {
		char *text, *end;
		int rc = string_value(w, value, "targets.parallel", &text);
		if (rc < 0)
			return rc;
		errno = 0;
		unsigned long long v = strtoull(text, &end, 10);
		if (!*text || *text == '-' || *text == '+' || *end || errno || v == 0 || v > 1024)
			rc = mig_error_set(w->err, MIG_EUSAGE,
					   "'targets.parallel' must be a whole number from 1 to 1024, not '%.100s' (%s:%u)",
					   text, w->name, line_of(value));
		else
			tc->parallel = (unsigned long)v;
		free(text);
		return rc;
	}
	return unknown_key(w, key_node, "targets", key);
}

typedef struct named_line {
	const char *name;
	unsigned line;
	size_t position;
} named_line;

static int compare_named(const void *a, const void *b)
{
	const named_line *x = a, *y = b;
	int c = strcmp(x->name, y->name);
	return c ? c : (x->position > y->position) - (x->position < y->position);
}

/* Checks the static targets once the whole section (and so its kind) is known. */
static int check_targets(walker *w, const yaml_node_t **dsn_nodes)
{
	mig_targets_config *tc = &w->cfg->targets;
	if (!tc->nlist && !tc->query)
		return mig_error_set(w->err, MIG_EUSAGE,
				     "'targets' needs a 'list' or a 'query' (%s:%u)", w->name, tc->line);
	for (size_t i = 0; i < tc->nlist; i++) {
		mig_target *t = &tc->list[i];
		if (!mig_target_name_valid(tc->kind, t->name))
			return mig_error_set(w->err, MIG_EUSAGE, "bad target name '%.100s' in 'targets.list[%zu].name': %s (%s:%u)",
					     t->name, i,
					     tc->kind == MIG_TARGET_SCHEMA
						     ? "a schema name is [A-Za-z_][A-Za-z0-9_]*, at most 63 bytes"
						     : "use 1-200 printable characters without spaces",
					     w->name, t->line);
		if (tc->kind == MIG_TARGET_SCHEMA && (t->dsn || t->mongodb_database))
			return mig_error_set(w->err, MIG_EUSAGE,
					     "'targets.list[%zu].%s' is not taken by kind: schema (a schema target has only a name) (%s:%u)",
					     i, t->dsn ? "dsn" : "mongodb_database", w->name,
					     dsn_nodes[i] ? line_of(dsn_nodes[i]) : t->line);
		if (tc->kind == MIG_TARGET_DATABASE && !t->dsn)
			return mig_error_set(w->err, MIG_EUSAGE,
					     "'targets.list[%zu].dsn' is required for kind: database (%s:%u)",
					     i, w->name, t->line);
	}
	if (tc->nlist < 2)
		return MIG_OK;
	named_line *names = malloc(tc->nlist * sizeof *names);
	if (!names)
		return mig_error_set(w->err, MIG_EFAIL, "out of memory");
	for (size_t i = 0; i < tc->nlist; i++)
		names[i] = (named_line){tc->list[i].name, tc->list[i].line, i};
	qsort(names, tc->nlist, sizeof *names, compare_named);
	int rc = MIG_OK;
	for (size_t i = 1; i < tc->nlist && rc == MIG_OK; i++)
		if (!strcmp(names[i].name, names[i - 1].name))
			rc = mig_error_set(w->err, MIG_EUSAGE,
					   "duplicate target name '%.100s' (%s:%u and %s:%u)",
					   names[i].name, w->name, names[i - 1].line, w->name,
					   names[i].line);
	free(names);
	return rc;
}

static bool placeholder_name_valid(const char *name)
{
	if (!(*name == '_' || (*name >= 'A' && *name <= 'Z') || (*name >= 'a' && *name <= 'z')))
		return false;
	for (const char *p = name; *p; p++)
		if (!(*p == '_' || (*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') ||
		      (*p >= '0' && *p <= '9')))
			return false;
	return strlen(name) < 256;
}

static int placeholders_pair(walker *w, const char *key, const yaml_node_t *key_node,
			     const yaml_node_t *value, void *ctx)
{
	mig_config *cfg = w->cfg;
	(void)ctx;
	if (!placeholder_name_valid(key)) {
		char msg[MIG_ERROR_MAX / 2];
		snprintf(msg, sizeof msg,
			 "placeholder name '%.100s' must be a letter or '_' then letters, digits or '_'",
			 key);
		return mig_error_set(w->err, MIG_EUSAGE, "%s (%s:%u)", msg, w->name,
				     line_of(key_node));
	}
	char path[300];
	snprintf(path, sizeof path, "placeholders.%s", key);
	char *text = NULL, *name = strdup(key);
	int rc = name ? scalar_value(w, value, path, &text)
		      : mig_error_set(w->err, MIG_EFAIL, "out of memory");
	size_t n = cfg->nplaceholders;
	char **names = rc == MIG_OK ? realloc(cfg->placeholder_names, (n + 1) * sizeof *names) : NULL;
	if (names)
		cfg->placeholder_names = names;
	char **values = names ? realloc(cfg->placeholder_values, (n + 1) * sizeof *values) : NULL;
	if (values)
		cfg->placeholder_values = values;
	if (rc == MIG_OK && !values)
		rc = mig_error_set(w->err, MIG_EFAIL, "out of memory");
	if (rc < 0) {
		free(name);
		free(text);
		return rc;
	}
	cfg->placeholder_names[n] = name;
	cfg->placeholder_values[n] = text;
	cfg->nplaceholders = n + 1;
	return MIG_OK;
}

const char *mig_config_placeholder(void *ctx, const char *name)
{
	const mig_config *cfg = ctx;
	for (size_t i = 0; cfg && i < cfg->nplaceholders; i++)
		if (!strcmp(cfg->placeholder_names[i], name))
			return cfg->placeholder_values[i];
	return getenv(name);
}

static int top_pair(walker *w, const char *key, const yaml_node_t *key_node,
		    const yaml_node_t *value, void *ctx)
{
	mig_config *cfg = w->cfg;
	(void)ctx;
	bool empty = value->type == YAML_SCALAR_NODE && value->data.scalar.length == 0 &&
		     value->data.scalar.style == YAML_PLAIN_SCALAR_STYLE;
	if (!strcmp(key, "postgres")) {
		cfg->has_postgres = true;
		if (empty)
			return MIG_OK; /* `postgres:` alone: libpq defaults */
		return each_pair(w, value, "postgres", postgres_pair, NULL);
	}
	if (!strcmp(key, "mongodb")) {
		cfg->has_mongodb = true;
		if (empty)
			return MIG_OK; /* then the missing uri is named below */
		return each_pair(w, value, "mongodb", mongodb_pair, NULL);
	}
	if (!strcmp(key, "root"))
		return string_value(w, value, "root", &cfg->root);
	if (!strcmp(key, "placeholders")) {
		if (empty)
			return MIG_OK;
		return each_pair(w, value, "placeholders", placeholders_pair, NULL);
	}
	if (!strcmp(key, "environment")) {
		int rc = string_value(w, value, "environment", &cfg->environment);
		if (rc < 0)
			return rc;
		if (!cfg->environment[0]) { /* `${MIGRATE_ENV:-}` with nothing set: unset */
			free(cfg->environment);
			cfg->environment = NULL;
			return MIG_OK;
		}
		if (!mig_environment_name_valid(cfg->environment)) {
			char msg[MIG_ERROR_MAX / 2];
			snprintf(msg, sizeof msg,
				 "'environment' must be 1-63 letters, digits, '_' or '-', not '%.100s'",
				 cfg->environment);
			return mig_error_set(w->err, MIG_EUSAGE, "%s (%s:%u)", msg, w->name,
					     line_of(value));
		}
		return MIG_OK;
	}
	if (!strcmp(key, "targets")) {
		cfg->targets.present = true;
		cfg->targets.line = line_of(key_node);
		const yaml_node_t **dsn_nodes = NULL;
		int rc = each_pair(w, value, "targets", targets_pair, &dsn_nodes);
		if (rc == MIG_OK)
			rc = check_targets(w, dsn_nodes);
		free(dsn_nodes);
		return rc;
	}
	if (!strcmp(key, "modules")) {
		if (empty)
			return MIG_OK; /* `modules:` with nothing under it */
		if (value->type != YAML_MAPPING_NODE)
			return each_pair(w, value, "modules", modules_pair, NULL);
		size_t n = (size_t)(value->data.mapping.pairs.top - value->data.mapping.pairs.start);
		cfg->modules = calloc(n ? n : 1, sizeof *cfg->modules);
		if (!cfg->modules)
			return mig_error_set(w->err, MIG_EFAIL, "out of memory");
		return each_pair(w, value, "modules", modules_pair, NULL);
	}
	return unknown_key(w, key_node, NULL, key);
}

static int resolve_root(mig_config *cfg, const char *dir, mig_error *err)
{
	if (!cfg->root || cfg->root[0] == '/' || !dir || !*dir)
		return MIG_OK;
	char *joined = mig_path_join(dir, cfg->root);
	if (!joined)
		return mig_error_set(err, MIG_EFAIL, "out of memory");
	free(cfg->root);
	cfg->root = joined;
	return MIG_OK;
}

static int yaml_failure(const yaml_parser_t *parser, const char *text, size_t len,
			const char *name, mig_error *err)
{
	const yaml_mark_t *mark = parser->problem ? &parser->problem_mark : &parser->context_mark;
	const char *problem = parser->problem ? parser->problem : "invalid YAML";
	size_t line = mark->line + 1;
	if (parser->error == YAML_MEMORY_ERROR)
		return mig_error_set(err, MIG_EFAIL, "out of memory reading '%s'", name);
	if (parser->error == YAML_READER_ERROR) {
		/* the reader (bad UTF-8, control characters) reports a byte offset, not a mark */
		line = 1;
		for (size_t i = 0; i < parser->problem_offset && i < len; i++)
			line += text[i] == '\n';
	}
	if (parser->context)
		return mig_error_set(err, MIG_EUSAGE, "YAML error: %s %s (%s:%zu)", problem,
				     parser->context, name, line);
	return mig_error_set(err, MIG_EUSAGE, "YAML error: %s (%s:%zu)", problem, name, line);
}

/* How deep a config can nest: its schema needs four levels. */
#define MAX_DEPTH 32

/* A first pass over the events that stops at the first level deeper than any config
 * needs: libyaml's scanner slows down sharply with deep flow nesting, and a loaded
 * tree of it is no config anyway. */
static int check_depth(const char *text, size_t len, const char *name, mig_error *err)
{
	yaml_parser_t parser;
	if (!yaml_parser_initialize(&parser))
		return mig_error_set(err, MIG_EFAIL, "out of memory");
	yaml_parser_set_input_string(&parser, (const unsigned char *)text, len);
	int rc = MIG_OK, depth = 0;
	for (;;) {
		yaml_event_t event;
		if (!yaml_parser_parse(&parser, &event)) {
			rc = yaml_failure(&parser, text, len, name, err);
			break;
		}
		yaml_event_type_t type = event.type;
		size_t line = event.start_mark.line + 1;
		yaml_event_delete(&event);
		if (type == YAML_SEQUENCE_START_EVENT || type == YAML_MAPPING_START_EVENT) {
			if (++depth > MAX_DEPTH) {
				rc = mig_error_set(err, MIG_EUSAGE,
						   "YAML error: nesting deeper than %d levels (%s:%zu)", MAX_DEPTH,
						   name, line);
				break;
			}
		} else if (type == YAML_SEQUENCE_END_EVENT || type == YAML_MAPPING_END_EVENT) {
			depth--;
		} else if (type == YAML_STREAM_END_EVENT) {
			break;
		}
	}
	yaml_parser_delete(&parser);
	return rc;
}

int mig_config_parse(mig_config **out, const char *text, size_t len, const char *name,
		     const char *dir, mig_error *err)
{
	yaml_parser_t parser;
	yaml_document_t doc;
	bool have_doc = false;
	int rc = MIG_OK;
	*out = NULL;

	mig_config *cfg = calloc(1, sizeof *cfg);
	if (!cfg)
		return mig_error_set(err, MIG_EFAIL, "out of memory");
	cfg->pg.lock_wait_ms = 60 * 1000;
	cfg->pg.lock_timeout_ms = -1; /* not set: keep the server's own setting */
	cfg->pg.statement_timeout_ms = -1;
	cfg->pg.lock_mode = MIG_LOCK_ADVISORY;
	cfg->pg.lock_lease_ms = 5 * 60 * 1000;
	cfg->pg.lock_retry_backoff_ms = 1000;
	cfg->pg.backend = "postgres";
	cfg->mongo_run.lock_wait_ms = 60 * 1000;
	cfg->mongo_run.lock_lease_ms = 5 * 60 * 1000;
	cfg->lint_mode = MIG_LINT_WARN;
	cfg->lint_min_rows = 10000;
	cfg->drift_privileges = true;
	cfg->lint_probe_timeout_ms = 5000;
	cfg->path = strdup(name);
	if (!cfg->path || !yaml_parser_initialize(&parser)) {
		free(cfg->path);
		free(cfg);
		return mig_error_set(err, MIG_EFAIL, "out of memory");
	}
	if (memchr(text, '\0', len)) {
		rc = mig_error_set(err, MIG_EUSAGE, "'%s' is not a text file (it contains NUL bytes)",
				   name);
		goto done;
	}
	if ((rc = check_depth(text, len, name, err)) < 0)
		goto done;
	yaml_parser_set_input_string(&parser, (const unsigned char *)text, len);
	if (!yaml_parser_load(&parser, &doc)) {
		rc = yaml_failure(&parser, text, len, name, err);
		goto done;
	}
	have_doc = true;
	yaml_node_t *root = yaml_document_get_root_node(&doc);
	if (!root) {
		rc = mig_error_set(err, MIG_EUSAGE, "'%s' is empty", name);
		goto done;
	}
	/* a second document would be silently ignored by the loader: refuse it instead */
	yaml_document_t extra;
	if (!yaml_parser_load(&parser, &extra)) {
		rc = yaml_failure(&parser, text, len, name, err);
		goto done;
	}
	bool second = yaml_document_get_root_node(&extra) != NULL;
	size_t second_line = extra.start_mark.line + 1;
	yaml_document_delete(&extra);
	if (second) {
		rc = mig_error_set(err, MIG_EUSAGE, "more than one YAML document (%s:%zu)", name,
				   second_line);
		goto done;
	}

	walker w = {.doc = &doc, .name = name, .cfg = cfg, .err = err};
	if (root->type != YAML_MAPPING_NODE) {
		rc = mig_error_set(err, MIG_EUSAGE, "'%s' must hold a mapping at the top, not %s (%s:%u)",
				   name, node_kind(root), name, line_of(root));
		goto done;
	}
	rc = each_pair(&w, root, "config", top_pair, NULL);
	if (rc < 0)
		goto done;
	if (cfg->has_postgres && !cfg->pg.dsn && !(cfg->pg.dsn = strdup(""))) {
		rc = mig_error_set(err, MIG_EFAIL, "out of memory");
		goto done;
	}
	if (cfg->targets.present && !cfg->has_postgres) {
		rc = mig_error_set(err, MIG_EUSAGE,
				   "'targets' needs a 'postgres:' section: its dsn is the control database (%s:%u)",
				   name, cfg->targets.line);
		goto done;
	}
	if (cfg->has_mongodb && (!cfg->mongo_uri || !cfg->mongo_database)) {
		rc = mig_error_set(err, MIG_EUSAGE, "'mongodb.%s' is required (%s)",
				   cfg->mongo_uri ? "database" : "uri", name);
		goto done;
	}
	rc = resolve_root(cfg, dir, err);
done:
	if (have_doc)
		yaml_document_delete(&doc);
	yaml_parser_delete(&parser);
	if (rc < 0) {
		/* a message may quote a scalar that held a password: scrub what we know */
		if (err)
			mig_config_redact(cfg, err->message, sizeof err->message);
		mig_config_free(cfg);
		return rc;
	}
	*out = cfg;
	return MIG_OK;
}

int mig_config_load(mig_config **out, const char *path, mig_error *err)
{
	char *text = NULL;
	size_t len = 0;
	*out = NULL;
	if (!*path)
		return mig_error_set(err, MIG_EUSAGE, "config path is empty");
	int rc = mig_read_file(&text, &len, path, MIG_CONFIG_MAX_BYTES, "config file", err);
	if (rc < 0)
		return rc;
	char *dir = mig_path_dirname(path);
	if (!dir) {
		free(text);
		return mig_error_set(err, MIG_EFAIL, "out of memory");
	}
	if (len == 0)
		rc = mig_error_set(err, MIG_EUSAGE, "config file '%s' is empty", path);
	else
		rc = mig_config_parse(out, text, len, path, dir, err);
	free(dir);
	free(text);
	return rc;
}

const char *mig_config_choose_path(const char *explicit_path)
{
	if (explicit_path)
		return explicit_path;
	const char *env = getenv("APP_CONFIG");
	if (env && *env)
		return env;
	return "config.yaml";
}

const mig_module_config *mig_config_module(const mig_config *cfg, const char *name)
{
	for (size_t i = 0; i < cfg->nmodules; i++)
		if (!strcmp(cfg->modules[i].name, name))
			return &cfg->modules[i];
	return NULL;
}

bool mig_config_module_enabled(const mig_config *cfg, const char *name)
{
	if (!strcmp(name, "core"))
		return true;
	const mig_module_config *mod = mig_config_module(cfg, name);
	return mod && mod->enabled;
}

void mig_config_redact(const mig_config *cfg, char *text, size_t size)
{
	if (!cfg)
		return;
	mig_secrets_redact(&cfg->secrets, text, size);
}

int mig_config_set_environment(mig_config *cfg, const char *name, mig_error *err)
{
	if (!mig_environment_name_valid(name))
		return mig_error_set(err, MIG_EUSAGE,
				     "--env takes 1-63 letters, digits, '_' or '-', not '%.100s'",
				     name);
	char *copy = strdup(name);
	if (!copy)
		return mig_error_set(err, MIG_EFAIL, "out of memory");
	free(cfg->environment);
	cfg->environment = copy;
	return MIG_OK;
}

void mig_config_free(mig_config *cfg)
{
	if (!cfg)
		return;
	free(cfg->environment);
	free(cfg->hook_before_up);
	free(cfg->hook_after_each);
	free(cfg->hook_after_up);
	for (size_t i = 0; i < cfg->nplaceholders; i++) {
		free(cfg->placeholder_names[i]);
		free(cfg->placeholder_values[i]);
	}
	free(cfg->placeholder_names);
	free(cfg->placeholder_values);
	for (size_t i = 0; i < cfg->nmodules; i++) {
		for (size_t j = 0; j < cfg->modules[i].nrequires; j++)
			free(cfg->modules[i].requires[j]);
		free(cfg->modules[i].requires);
		free(cfg->modules[i].name);
	}
	for (size_t i = 0; i < cfg->targets.nlist; i++)
		mig_target_clear(&cfg->targets.list[i]);
	free(cfg->targets.list);
	free(cfg->targets.query);
	mig_secrets_clear(&cfg->secrets);
	free(cfg->modules);
	free(cfg->path);
	free(cfg->root);
	free(cfg->pg.dsn);
	free(cfg->pg.scratch_dsn);
	free(cfg->mongo_uri);
	free(cfg->mongo_database);
	free(cfg->mongo_run.write_concern);
	free(cfg->mongo_run.commit_quorum);
	free(cfg);
}

/* Scratch databases on top of src/postgres/pg_scratch.c: template names from a hash of
 * what decides the schema, the locked build-then-rename of a template by the engine's
 * normal up, clones marked with their creation time, and the drop and gc rules (only
 * databases with migrate's prefixes, only those it marked). */
#include <ctype.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "util/checksum.h"
#include "driver/driver.h"
#include "postgres/pg_scratch.h"
#include "util/fs.h"
#include "util/names.h"
#include "scratch/scratch.h"
#include "core/seed.h"
#include "core/session.h"

/* Bump when what a template holds changes for the same files (e.g. the ledger's shape). */
#define TEMPLATE_FORMAT "migrate template 1"
#define MARK_PREFIX "migrate scratch database, created="
#define HOST_MAX 64 /* of the host name kept in a mark */

struct mig_scratch {
	const mig_config *cfg;
	mig_pg_admin *admin;
	mig_seeds *seeds; /* testdb create --seed: templates hold the SQL seed data too */
};

void mig_scratch_set_seeds(mig_scratch *sc, mig_seeds *seeds)
{
	sc->seeds = seeds;
}

int mig_scratch_open(mig_scratch **out, const mig_config *cfg, mig_error *err)
{
	*out = NULL;
	mig_scratch *sc = calloc(1, sizeof *sc);
	if (!sc)
		return mig_error_set(err, MIG_EFAIL, "out of memory");
	sc->cfg = cfg;
	int rc = mig_pg_admin_connect(&sc->admin, &cfg->pg, err);
	if (rc == MIG_OK)
		rc = mig_pg_admin_check_createdb(sc->admin, err);
	if (rc < 0) {
		mig_scratch_close(sc);
		return rc;
	}
	*out = sc;
	return MIG_OK;
}

void mig_scratch_close(mig_scratch *sc)
{
	if (!sc)
		return;
	mig_pg_admin_close(sc->admin);
	free(sc);
}

/* Appends text to the growing buffer; -1 when memory runs out. */
static int append(char **buf, size_t *len, size_t *cap, const char *text)
{
	size_t n = strlen(text);
	if (*len + n + 1 > *cap) {
		size_t grown = (*cap + n + 1) * 2;
		char *p = realloc(*buf, grown);
		if (!p)
			return -1;
		*buf = p;
		*cap = grown;
	}
	memcpy(*buf + *len, text, n + 1);
	*len += n;
	return 0;
}

int mig_scratch_template_name(char out[MIG_SCRATCH_NAME_MAX], mig_scratch *sc,
			      const mig_plan *plan, const mig_run *run, mig_error *err)
{
	char *text = NULL, line[512];
	size_t len = 0, cap = 0;
	int rc = MIG_OK;
	out[0] = '\0';
	/* the role owns everything in a template, so it is part of what a template holds:
	 * a clone made for another role could not even read its ledger */
	snprintf(line, sizeof line, "%s\nserver %d\nrole %.200s\nmodules", TEMPLATE_FORMAT,
		 mig_pg_admin_server_major(sc->admin), mig_pg_admin_user(sc->admin));
	bool oom = append(&text, &len, &cap, line) < 0;
	/* a schema fleet's expected schema is built in a schema of its own: another template */
	if (!oom && sc->cfg->pg.schema)
		oom = append(&text, &len, &cap, "\nschema ") < 0 ||
		      append(&text, &len, &cap, sc->cfg->pg.schema) < 0;
	for (size_t i = 0; !oom && i < plan->nmodules; i++)
		oom = append(&text, &len, &cap, " ") < 0 ||
		      append(&text, &len, &cap, plan->modules[i].name) < 0;
	oom = oom || append(&text, &len, &cap, "\n") < 0;
	/* one line per file: its own hash stands for its contents */
	for (size_t i = 0; !oom && i < run->nitems; i++) {
		const mig_migration *m = run->items[i].migration;
		char *sql = NULL, sum[MIG_CHECKSUM_HEX];
		size_t n = 0;
		rc = mig_read_file(&sql, &n, m->up_path, MIG_SQL_MAX_BYTES, "migration file", err);
		if (rc < 0)
			break;
		/* the text as it will run: a changed placeholder builds another template */
		char *rendered = NULL;
		size_t rn = 0;
		if (!run->items[i].skip)
			rc = mig_engine_render(&rendered, &rn, m->up_path, sql, n, run->vars, err);
		if (rc == MIG_OK && mig_sha256_hex(sum, rendered ? rendered : sql, rendered ? rn : n) < 0)
			rc = mig_error_set(err, MIG_EFAIL, "cannot compute the checksum of '%s'",
					   m->up_path);
		free(rendered);
		free(sql);
		if (rc < 0)
			break;
		/* a version skipped in this environment builds another template */
		snprintf(line, sizeof line, "%s %lld %s%s\n", run->items[i].module->name, m->version,
			 sum, run->items[i].skip ? " skipped" : "");
		oom = append(&text, &len, &cap, line) < 0;
	}
	/* a template with seed data is another template, and so is one whose seed files (or
	 * the environment choosing them) changed */
	if (rc == MIG_OK && !oom && sc->seeds)
		oom = append(&text, &len, &cap, "seed data\n") < 0 ||
		      mig_seeds_describe_sql(sc->seeds, &text, &len, &cap) < 0;
	if (rc == MIG_OK && oom)
		rc = mig_error_set(err, MIG_EFAIL, "out of memory");
	char sum[MIG_CHECKSUM_HEX];
	if (rc == MIG_OK && mig_sha256_hex(sum, text, len) < 0)
		rc = mig_error_set(err, MIG_EFAIL, "cannot compute the template hash");
	if (rc == MIG_OK)
		snprintf(out, MIG_SCRATCH_NAME_MAX, "%s%.12s", MIG_SCRATCH_TPL_PREFIX, sum);
	free(text);
	return rc;
}

int mig_scratch_conninfo(char **out, const mig_scratch *sc, const char *name,
			 bool with_password, mig_error *err)
{
	return mig_pg_scratch_conninfo(out, &sc->cfg->pg, name, with_password, err);
}

/* The engine's normal run into database dbname: the one place a template's contents
 * are made (repoint it when the engine's up sequence moves). */
int mig_scratch_apply(mig_scratch *sc, const char *dbname, const mig_run *run, mig_error *err)
{
	char *conninfo = NULL;
	int rc = mig_scratch_conninfo(&conninfo, sc, dbname, true, err);
	if (rc < 0)
		return rc;
	mig_sql_config pg = sc->cfg->pg;
	pg.dsn = conninfo;
	pg.lock_mode = MIG_LOCK_ADVISORY; /* nobody else sees this database */
	mig_session s;
	rc = mig_session_open(&s, NULL, &pg, 0, err);
	if (rc == MIG_OK)
		rc = mig_session_prepare(&s, err);
	if (rc == MIG_OK)
		rc = mig_engine_apply(&s, run, NULL, err);
	if (rc == MIG_OK && sc->seeds) {
		rc = mig_seeds_open(sc->seeds, sc->cfg, NULL, &s, NULL, MIG_SEEDS_SQL, err);
		mig_seeds_reload_all(sc->seeds);
		if (rc == MIG_OK)
			rc = mig_seeds_apply(sc->seeds, NULL, true, err);
		mig_seeds_release(sc->seeds);
	}
	mig_session_close(&s);
	free(conninfo);
	return rc;
}

int mig_scratch_template(char out[MIG_SCRATCH_NAME_MAX], bool *built, mig_scratch *sc,
			 const mig_plan *plan, const mig_run *run, mig_error *err)
{
	*built = false;
	int rc = mig_engine_preflight(run, err);
	if (rc == MIG_OK)
		rc = mig_scratch_template_name(out, sc, plan, run, err);
	if (rc < 0)
		return rc;
	bool exists;
	if ((rc = mig_pg_admin_exists(sc->admin, out, &exists, NULL, err)) < 0 || exists)
		return rc;
	if ((rc = mig_pg_admin_lock(sc->admin, err)) < 0)
		return rc;
	/* another run may have built it while this one waited for the lock */
	if ((rc = mig_pg_admin_exists(sc->admin, out, &exists, NULL, err)) < 0 || exists)
		goto unlock;
	char tmp[MIG_SCRATCH_NAME_MAX];
	snprintf(tmp, sizeof tmp, "%s_tmp", out);
	/* what a killed build left: never renamed, so never used; start over */
	if ((rc = mig_pg_admin_drop(sc->admin, tmp, err)) < 0 ||
	    (rc = mig_pg_admin_create(sc->admin, tmp, err)) < 0)
		goto unlock;
	rc = mig_scratch_apply(sc, tmp, run, err);
	if (rc == MIG_OK)
		rc = mig_pg_admin_seal(sc->admin, tmp, out, err);
	if (rc < 0) {
		mig_pg_admin_drop(sc->admin, tmp, NULL);
		goto unlock;
	}
	*built = true;
unlock:
	if (rc < 0)
		mig_pg_admin_unlock(sc->admin, NULL);
	else
		rc = mig_pg_admin_unlock(sc->admin, err);
	return rc;
}

int mig_scratch_template_lookup(char out[MIG_SCRATCH_NAME_MAX], bool *exists, mig_scratch *sc,
				const mig_plan *plan, const mig_run *run, mig_error *err)
{
	*exists = false;
	int rc = mig_scratch_template_name(out, sc, plan, run, err);
	return rc < 0 ? rc : mig_pg_admin_exists(sc->admin, out, exists, NULL, err);
}

void mig_scratch_new_name(char out[MIG_SCRATCH_NAME_MAX], const char *prefix)
{
	unsigned char rnd[6] = {0};
	FILE *f = fopen("/dev/urandom", "rb");
	size_t got = f ? fread(rnd, 1, sizeof rnd, f) : 0;
	if (f)
		fclose(f);
	if (got != sizeof rnd) {
		struct timespec ts;
		clock_gettime(CLOCK_REALTIME, &ts);
		unsigned long long x = (unsigned long long)ts.tv_nsec * 2654435761u ^ (unsigned)getpid();
		for (size_t i = 0; i < sizeof rnd; i++)
			rnd[i] = (unsigned char)(x >> (8 * i));
	}
	snprintf(out, MIG_SCRATCH_NAME_MAX, "%s%lld_%02x%02x%02x%02x%02x%02x", prefix,
		 (long long)time(NULL), rnd[0], rnd[1], rnd[2], rnd[3], rnd[4], rnd[5]);
}

static bool has_prefix(const char *s, const char *prefix)
{
	return !strncmp(s, prefix, strlen(prefix));
}

bool mig_scratch_name_valid(const char *name)
{
	/* a module name's alphabet and length are a database name's too */
	return (has_prefix(name, MIG_SCRATCH_TEST_PREFIX) ||
		has_prefix(name, MIG_SCRATCH_SHADOW_PREFIX) ||
		has_prefix(name, MIG_SCRATCH_TPL_PREFIX)) &&
	       mig_module_name_valid(name);
}

static void this_host(char out[HOST_MAX])
{
	char host[256] = "";
	if (gethostname(host, sizeof host) != 0 || !host[0])
		snprintf(host, sizeof host, "unknown");
	host[sizeof host - 1] = '\0';
	host[strcspn(host, " ")] = '\0';
	snprintf(out, HOST_MAX, "%.*s", HOST_MAX - 1, host); /* a long name is cut, as the mark keeps it */
}

/* The comment marking a database as migrate's: when, and which process of which host
 * made it (a shadow whose process is gone was left by a killed run). */
static void make_mark(char *out, size_t size, const char *tpl)
{
	char host[HOST_MAX];
	this_host(host);
	snprintf(out, size, MARK_PREFIX "%lld host=%s pid=%ld%s%s", (long long)time(NULL), host,
		 (long)getpid(), tpl ? " template=" : "", tpl ? tpl : "");
}

/* Marks a database just made as migrate's (made from tpl, or empty), or drops it: an
 * unmarked scratch database must not outlive the call that made it. */
static int mark_or_drop(mig_scratch *sc, const char *name, const char *tpl, mig_error *err)
{
	char mark[256];
	make_mark(mark, sizeof mark, tpl);
	int rc = mig_pg_admin_comment(sc->admin, name, mark, err);
	if (rc < 0)
		mig_pg_admin_drop(sc->admin, name, NULL);
	return rc;
}

int mig_scratch_clone(mig_scratch *sc, const char *tpl, const char *name, mig_error *err)
{
	int rc = mig_pg_admin_clone(sc->admin, tpl, name, err);
	return rc < 0 ? rc : mark_or_drop(sc, name, tpl, err);
}

int mig_scratch_create(mig_scratch *sc, const char *name, mig_error *err)
{
	if (!mig_scratch_name_valid(name))
		return mig_error_set(err, MIG_EUSAGE, "'%s' is not a name for a scratch database",
				     name);
	int rc = mig_pg_admin_create(sc->admin, name, err);
	return rc < 0 ? rc : mark_or_drop(sc, name, NULL, err);
}

/* When a test or shadow database was created: its mark, else -1 (never marked). */
static long long created_at(const char *comment)
{
	if (!comment || !has_prefix(comment, MARK_PREFIX))
		return -1;
	return strtoll(comment + strlen(MARK_PREFIX), NULL, 10);
}

/* Whether the mark names a process of this host that no longer exists. Marks of
 * other hosts, and those without a creator (made before marks had one), cannot tell. */
static bool creator_gone(const char *comment)
{
	if (created_at(comment) < 0)
		return false;
	const char *h = strstr(comment, " host="), *p = strstr(comment, " pid=");
	if (!h || !p)
		return false;
	h += strlen(" host=");
	char host[HOST_MAX];
	this_host(host);
	size_t n = strcspn(h, " ");
	if (n != strlen(host) || strncmp(h, host, n) != 0)
		return false;
	long pid = strtol(p + strlen(" pid="), NULL, 10);
	if (pid <= 0 || (pid_t)pid == getpid())
		return false;
	return kill((pid_t)pid, 0) != 0 && errno == ESRCH;
}

int mig_scratch_sweep_shadows(mig_scratch *sc, mig_error *err)
{
	mig_pg_database *dbs = NULL;
	size_t n = 0;
	int rc = mig_pg_admin_list(sc->admin, MIG_SCRATCH_SHADOW_PREFIX, &dbs, &n, err);
	for (size_t i = 0; rc == MIG_OK && i < n; i++)
		if (creator_gone(dbs[i].comment))
			rc = mig_pg_admin_drop(sc->admin, dbs[i].name, err);
	mig_pg_databases_free(dbs, n);
	return rc;
}

int mig_scratch_drop(mig_scratch *sc, char *const *names, size_t count, mig_error *err)
{
	int rc = MIG_OK;
	for (size_t i = 0; i < count && rc == MIG_OK; i++) {
		const char *name = names[i];
		if (!mig_scratch_name_valid(name) || has_prefix(name, MIG_SCRATCH_TPL_PREFIX))
			return mig_error_set(err, MIG_EUSAGE,
					     "refusing to drop '%s': not a test database migrate created (migrate_test_…); nothing dropped",
					     name);
		bool exists;
		char *comment = NULL;
		rc = mig_pg_admin_exists(sc->admin, name, &exists, &comment, err);
		if (rc == MIG_OK && !exists)
			rc = mig_error_set(err, MIG_EUSAGE,
					   "database '%s' does not exist; nothing dropped", name);
		else if (rc == MIG_OK && created_at(comment) < 0)
			rc = mig_error_set(err, MIG_EUSAGE,
					   "refusing to drop '%s': 'migrate testdb create' did not make it; nothing dropped",
					   name);
		free(comment);
	}
	for (size_t i = 0; i < count && rc == MIG_OK; i++)
		rc = mig_pg_admin_drop(sc->admin, names[i], err);
	return rc;
}

static int gc_drop(mig_scratch_gc_result *out, mig_scratch *sc, const char *name,
		   mig_error *err)
{
	char **grown = realloc(out->dropped, (out->ndropped + 1) * sizeof *grown);
	if (!grown)
		return mig_error_set(err, MIG_EFAIL, "out of memory");
	out->dropped = grown;
	if (!(grown[out->ndropped] = strdup(name)))
		return mig_error_set(err, MIG_EFAIL, "out of memory");
	int rc = mig_pg_admin_drop(sc->admin, name, err);
	if (rc == MIG_OK)
		out->ndropped++;
	else
		free(grown[out->ndropped]);
	return rc;
}

int mig_scratch_gc(mig_scratch_gc_result *out, mig_scratch *sc, const char *keep_template,
		   long long older_than_ms, mig_error *err)
{
	memset(out, 0, sizeof *out);
	mig_pg_database *dbs = NULL;
	size_t n = 0;
	long long now = (long long)time(NULL);
	/* under the build lock: no template is half built while its leftovers are judged */
	int rc = mig_pg_admin_lock(sc->admin, err);
	if (rc < 0)
		return rc;
	rc = mig_pg_admin_list(sc->admin, "migrate_", &dbs, &n, err);
	for (size_t i = 0; rc == MIG_OK && i < n; i++) {
		const char *name = dbs[i].name;
		bool drop = false;
		if (has_prefix(name, MIG_SCRATCH_TPL_PREFIX)) {
			drop = !keep_template || strcmp(name, keep_template) != 0;
		} else if (has_prefix(name, MIG_SCRATCH_TEST_PREFIX) ||
			   has_prefix(name, MIG_SCRATCH_SHADOW_PREFIX)) {
			long long at = created_at(dbs[i].comment);
			drop = at < 0 || (now - at) * 1000 >= older_than_ms;
			/* a shadow lives as long as its drift or roundtrip run */
			if (has_prefix(name, MIG_SCRATCH_SHADOW_PREFIX))
				drop = drop || creator_gone(dbs[i].comment);
		}
		if (drop)
			rc = gc_drop(out, sc, name, err);
	}
	mig_pg_databases_free(dbs, n);
	if (rc < 0)
		mig_pg_admin_unlock(sc->admin, NULL);
	else
		rc = mig_pg_admin_unlock(sc->admin, err);
	return rc;
}

void mig_scratch_gc_free(mig_scratch_gc_result *res)
{
	if (!res)
		return;
	for (size_t i = 0; i < res->ndropped; i++)
		free(res->dropped[i]);
	free(res->dropped);
	res->dropped = NULL;
	res->ndropped = 0;
}

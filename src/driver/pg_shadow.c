/* Shadow databases (src/shadow.h) on the server of postgres.dsn, through the maintenance
 * database `postgres`. A shadow's name carries a hash of the host and the creating
 * process id (migrate_shadow_<host 4 hex><pid 8 hex><random 8 hex>), so a later run on
 * the same host drops the shadows whose creator is dead: a run killed with SIGKILL
 * leaves its shadow for at most one more run. */
#include <errno.h>
#include <libpq-fe.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "shadow.h"

#define PREFIX "migrate_shadow_"

struct mig_shadow {
	mig_config cfg;     /* a shallow copy of the live config, pg.dsn pointing here */
	char *dsn;          /* the shadow's conninfo */
	char *maintenance;  /* conninfo of the `postgres` database */
	char name[64];
};

static void first_line(char *dst, size_t size, const char *msg)
{
	snprintf(dst, size, "%s", msg ? msg : "");
	dst[strcspn(dst, "\n")] = '\0';
}

/* Appends key='value' (quotes and backslashes escaped) to a growing string. */
static int append_kv(char **buf, size_t *len, size_t *cap, const char *key, const char *value)
{
	size_t need = strlen(key) + 2 * strlen(value) + 5;
	if (*len + need >= *cap) {
		size_t ncap = (*cap + need) * 2;
		char *grown = realloc(*buf, ncap);
		if (!grown)
			return -1;
		*buf = grown;
		*cap = ncap;
	}
	char *p = *buf + *len;
	p += sprintf(p, "%s%s='", *len ? " " : "", key);
	for (const char *v = value; *v; v++) {
		if (*v == '\'' || *v == '\\')
			*p++ = '\\';
		*p++ = *v;
	}
	*p++ = '\'';
	*p = '\0';
	*len = (size_t)(p - *buf);
	return 0;
}

/* The conninfo of dsn with its dbname replaced, or NULL (out of memory, bad dsn). */
static char *with_dbname(const char *dsn, const char *dbname, char *why, size_t why_size)
{
	char *errmsg = NULL;
	PQconninfoOption *opts = PQconninfoParse(dsn ? dsn : "", &errmsg);
	if (!opts) {
		first_line(why, why_size, errmsg ? errmsg : "out of memory");
		PQfreemem(errmsg);
		return NULL;
	}
	char *buf = NULL;
	size_t len = 0, cap = 0;
	int bad = append_kv(&buf, &len, &cap, "dbname", dbname);
	for (PQconninfoOption *o = opts; !bad && o->keyword; o++)
		if (o->val && strcmp(o->keyword, "dbname") != 0)
			bad = append_kv(&buf, &len, &cap, o->keyword, o->val);
	PQconninfoFree(opts);
	if (bad) {
		free(buf);
		first_line(why, why_size, "out of memory");
		return NULL;
	}
	return buf;
}

static PGconn *connect_to(const char *conninfo)
{
	const char *keys[] = {"dbname", "application_name", NULL};
	const char *values[] = {conninfo, "migrate", NULL};
	return PQconnectdbParams(keys, values, 1);
}

static unsigned host_hash(void)
{
	char host[256] = "";
	if (gethostname(host, sizeof host) != 0)
		return 0;
	host[sizeof host - 1] = '\0';
	unsigned h = 2166136261u; /* FNV-1a */
	for (const char *p = host; *p; p++)
		h = (h ^ (unsigned char)*p) * 16777619u;
	return (h ^ (h >> 16)) & 0xffff;
}

/* Drops a shadow: plainly first, which also stops autovacuum workers in it (FORCE
 * would refuse them to a non-superuser), then with FORCE for sessions of a dead run
 * still busy in it. Best effort. */
static void drop_db(PGconn *conn, const char *name)
{
	char sql[128];
	snprintf(sql, sizeof sql, "DROP DATABASE IF EXISTS %s", name);
	PGresult *res = PQexec(conn, sql);
	bool dropped = PQresultStatus(res) == PGRES_COMMAND_OK;
	PQclear(res);
	if (dropped)
		return;
	snprintf(sql, sizeof sql, "DROP DATABASE IF EXISTS %s WITH (FORCE)", name);
	PQclear(PQexec(conn, sql));
}

/* Drops (forcibly if need be: their creator is gone) this host's shadows whose process is dead.
 * Best effort: a failure here must not stop the run. */
static void sweep(PGconn *conn, unsigned host)
{
	PGresult *res = PQexec(conn, "SELECT datname FROM pg_database WHERE datname ~ "
				     "'^" PREFIX "[0-9a-f]{20}$'");
	if (PQresultStatus(res) != PGRES_TUPLES_OK) {
		PQclear(res);
		return;
	}
	for (int i = 0; i < PQntuples(res); i++) {
		const char *name = PQgetvalue(res, i, 0);
		const char *hex = name + strlen(PREFIX);
		char part[9];
		memcpy(part, hex, 4);
		part[4] = '\0';
		if (strtoul(part, NULL, 16) != host)
			continue;
		memcpy(part, hex + 4, 8);
		part[8] = '\0';
		pid_t pid = (pid_t)strtoul(part, NULL, 16);
		if (pid > 0 && (kill(pid, 0) == 0 || errno != ESRCH))
			continue;
		drop_db(conn, name);
	}
	PQclear(res);
}

int mig_shadow_create(mig_shadow **out, const mig_config *cfg, mig_error *err)
{
	*out = NULL;
	char why[512] = "";
	mig_shadow *s = calloc(1, sizeof *s);
	if (!s)
		return mig_error_set(err, MIG_EFAIL, "out of memory");
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	unsigned host = host_hash();
	unsigned rnd = (unsigned)ts.tv_nsec ^ (unsigned)((uintptr_t)s >> 4) ^
		       ((unsigned)ts.tv_sec << 7);
	snprintf(s->name, sizeof s->name, PREFIX "%04x%08x%08x", host,
		 (unsigned)getpid() & 0xffffffffu, rnd);
	s->maintenance = with_dbname(cfg->pg.dsn, "postgres", why, sizeof why);
	s->dsn = s->maintenance ? with_dbname(cfg->pg.dsn, s->name, why, sizeof why) : NULL;
	if (!s->dsn) {
		mig_shadow_drop(s);
		return mig_error_set(err, MIG_EFAIL, "cannot build a shadow database: %s", why);
	}
	PGconn *conn = connect_to(s->maintenance);
	int rc = MIG_OK;
	if (PQstatus(conn) != CONNECTION_OK) {
		first_line(why, sizeof why, PQerrorMessage(conn));
		rc = mig_error_set(err, MIG_EFAIL,
				   "cannot build a shadow database: cannot connect to the maintenance database 'postgres': %s",
				   why);
	} else {
		sweep(conn, host);
		char sql[128];
		snprintf(sql, sizeof sql, "CREATE DATABASE %s", s->name);
		PGresult *res = PQexec(conn, sql);
		if (PQresultStatus(res) != PGRES_COMMAND_OK) {
			first_line(why, sizeof why, PQresultErrorMessage(res));
			rc = mig_error_set(err, MIG_EFAIL,
					   "cannot create the shadow database '%s': %s", s->name, why);
		}
		PQclear(res);
	}
	PQfinish(conn);
	if (rc < 0) {
		free(s->dsn);
		free(s->maintenance);
		free(s);
		return rc;
	}
	s->cfg = *cfg;
	s->cfg.pg.dsn = s->dsn;
	s->cfg.pg.lock_mode = MIG_LOCK_ADVISORY; /* nobody else reaches a shadow */
	*out = s;
	return MIG_OK;
}

mig_config *mig_shadow_config(mig_shadow *s)
{
	return &s->cfg;
}

const char *mig_shadow_name(const mig_shadow *s)
{
	return s->name;
}

void mig_shadow_drop(mig_shadow *s)
{
	if (!s)
		return;
	if (s->maintenance && s->cfg.pg.dsn) {
		PGconn *conn = connect_to(s->maintenance);
		if (PQstatus(conn) == CONNECTION_OK)
			drop_db(conn, s->name);
		PQfinish(conn);
	}
	free(s->dsn);
	free(s->maintenance);
	free(s);
}

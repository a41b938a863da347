/* A command that pg_apply.c pipelines on behalf of another part of the PostgreSQL driver, and
 * the fixed statements a session prepares on their first use (the tracking commands of
 * pg_track.c, the ledger change of pg_apply.c): planning them on every migration cost more
 * than running them. */
#ifndef MIGRATE_DRIVER_PG_CMD_H
#define MIGRATE_DRIVER_PG_CMD_H

#include <stdbool.h>
#include <stddef.h>

/* One command to send: a query with params; or (prepare) the preparing of statement
 * `name` as sql with nparams parameters, after whose success the sender sets bit `id`
 * of *prepared; or (name without prepare) the execution of that statement. */
typedef struct mig_pg_cmd {
	const char *sql;
	const char *name;
	bool prepare;
	unsigned *prepared; /* the session's set of prepared statements, for a prepare */
	int id;
	int nparams;
	const char *const *params;
} mig_pg_cmd;

static inline mig_pg_cmd mig_pg_query(const char *sql, int nparams, const char *const *params)
{
	return (mig_pg_cmd){.sql = sql, .nparams = nparams, .params = params};
}

/* Writes at out[k] the prepare of statement id (name, sql) when bit id of *prepared
 * is clear: the session has not prepared it yet. Returns the new k. */
static inline size_t mig_pg_prepare_once(mig_pg_cmd *out, size_t k, unsigned *prepared,
					 int id, const char *name, const char *sql, int nparams)
{
	if (!(*prepared & (1u << id)))
		out[k++] = (mig_pg_cmd){.sql = sql, .name = name, .prepare = true,
					.prepared = prepared, .id = id, .nparams = nparams};
	return k;
}

static inline mig_pg_cmd mig_pg_run_prepared(const char *name, int nparams,
					     const char *const *params)
{
	return (mig_pg_cmd){.name = name, .nparams = nparams, .params = params};
}

/* Writes at out[k] what runs the fixed statement id with params: with may_prepare its
 * prepare (the first time) and its execution, else the plain query. Returns the new
 * k. */
static inline size_t mig_pg_fixed(mig_pg_cmd *out, size_t k, unsigned *prepared, int id,
				  const char *name, const char *sql, int nparams,
				  const char *const *params, bool may_prepare)
{
	if (!may_prepare) {
		out[k++] = mig_pg_query(sql, nparams, params);
		return k;
	}
	k = mig_pg_prepare_once(out, k, prepared, id, name, sql, nparams);
	out[k++] = mig_pg_run_prepared(name, nparams, params);
	return k;
}

#endif

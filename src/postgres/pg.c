/* The PostgreSQL driver's table of operations (mig_pg_driver): each slot names the
 * function of the file that owns it (pg_conn.c, pg_lock.c, pg_ledger.c, pg_apply.c and the
 * other pg_*.c), with the thin glue that hands them the session's connection. */
#include "driver/driver.h"
#include "postgres/pg_conn.h"
#include "postgres/pg_fleet.h"
#include "postgres/pg_lint.h"
#include "postgres/pg_probe.h"
#include "postgres/pg_script.h"
#include "postgres/pg_seed.h"
#include "postgres/pg_track.h"

static int pg_targets_read(void *conn, const char *query, char ***cells, size_t *nrows,
			   size_t *ncols, mig_error *err)
{
	return mig_pg_targets_read(((mig_pg_conn *)conn)->conn, query, cells, nrows, ncols, err);
}

static int pg_objects_missing(void *conn, mig_missing_object **out, size_t *count,
			      mig_error *err)
{
	mig_pg_conn *pc = conn;
	int rc = mig_pg_track_ready(pc, err);
	return rc < 0 ? rc : mig_pg_track_missing(out, count, &pc->track, pc->conn, err);
}

static int pg_table_facts(void *conn, mig_table_fact *facts, size_t n, int *server_major,
			  mig_error *err)
{
	return mig_pg_table_facts(((mig_pg_conn *)conn)->conn, facts, n, server_major, err);
}

static int pg_data_probe(void *conn, mig_data_probe *probes, size_t n, long long timeout_ms,
			 mig_error *err)
{
	return mig_pg_data_probe(((mig_pg_conn *)conn)->conn, probes, n, timeout_ms, err);
}

static int pg_schema_snapshot(void *conn, mig_snapshot *out, mig_error *err)
{
	return mig_pg_lint_schema(((mig_pg_conn *)conn)->conn, out, err);
}

static int pg_seeds_read(void *conn, mig_repeatable_ledger *out, mig_error *err)
{
	return mig_pg_seeds_read(((mig_pg_conn *)conn)->conn, out, err);
}

static int pg_seed_reset(void *conn, const char *const *tables, size_t ntables,
			 const char *const *modules, const char *const *names, size_t nfiles,
			 mig_error *err)
{
	mig_pg_conn *pc = conn;
	int rc = mig_pg_renew_lease(pc, err);
	if (rc < 0)
		return rc;
	return mig_pg_seed_reset(pc->conn, tables, ntables, modules, names, nfiles, err);
}

const mig_sql_driver mig_pg_driver = {
	.version = MIG_SQL_DRIVER_VERSION,
	.name = "postgres",
	.connect = mig_pg_connect,
	.disconnect = mig_pg_disconnect,
	.lock = mig_pg_lock,
	.ledger_prepare = mig_pg_ledger_prepare,
	.ledger_read = mig_pg_ledger_read,
	.ledger_head = mig_pg_ledger_head,
	.apply = mig_pg_apply,
	.resolve = mig_pg_resolve,
	.objects_missing = pg_objects_missing,
	.table_facts = pg_table_facts,
	.script = mig_pg_script,
	.targets_read = pg_targets_read,
	.run_hook = mig_pg_run_hook,
	.repeatables_read = mig_pg_repeatables_read,
	.data_probe = pg_data_probe,
	.schema_snapshot = pg_schema_snapshot,
	.seeds_read = pg_seeds_read,
	.seed_reset = pg_seed_reset,
};

/* The ledger on PostgreSQL: its tables (schema_migrations, schema_migrations_repeatable,
 * schema_migrations_seeds and tracking's), the statements that read and change them
 * (pg_apply.c sends the changes with each migration), and reading, heads and resolve. */
#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "postgres/pg_conn.h"
#include "postgres/pg_script.h"
#include "postgres/pg_seed.h"
#include "postgres/pg_track.h"

static const char ledger_ddl[] =
	"CREATE TABLE IF NOT EXISTS schema_migrations ("
	" module text NOT NULL,"
	" version bigint NOT NULL,"
	" name text NOT NULL DEFAULT '',"
	" checksum text NOT NULL DEFAULT '',"
	" dirty boolean NOT NULL DEFAULT false,"
	" applied_at timestamptz NOT NULL DEFAULT now(),"
	" duration_ms bigint,"
	" skipped boolean NOT NULL DEFAULT false,"
	" rendered_checksum text NOT NULL DEFAULT '',"
	" PRIMARY KEY (module, version));"
	/* a ledger created before environments and placeholders had neither column */
	"ALTER TABLE schema_migrations ADD COLUMN IF NOT EXISTS"
	" skipped boolean NOT NULL DEFAULT false;"
	"ALTER TABLE schema_migrations ADD COLUMN IF NOT EXISTS"
	" rendered_checksum text NOT NULL DEFAULT '';"
	"CREATE TABLE IF NOT EXISTS schema_migrations_repeatable ("
	" module text NOT NULL,"
	" name text NOT NULL,"
	" checksum text NOT NULL DEFAULT '',"
	" rendered_checksum text NOT NULL DEFAULT '',"
	" failed_checksum text NOT NULL DEFAULT '',"
	" applied_at timestamptz NOT NULL DEFAULT now(),"
	" duration_ms bigint,"
	" PRIMARY KEY (module, name));"
	"CREATE TABLE IF NOT EXISTS schema_migrations_seeds ("
	" module text NOT NULL,"
	" name text NOT NULL,"
	" checksum text NOT NULL DEFAULT '',"
	" rendered_checksum text NOT NULL DEFAULT '',"
	" applied_at timestamptz NOT NULL DEFAULT now(),"
	" duration_ms bigint,"
	" PRIMARY KEY (module, name));" MIG_PG_TRACK_DDL;

/* sorted as strcmp sorts, so mig_ledger_find can binary-search */
const char mig_pg_ledger_select[] =
	"SELECT module, version, name, checksum, dirty,"
	" (SELECT to_regclass('" MIG_PG_TRACK_LAST_DDL "') IS NOT NULL"
	"  AND to_regclass('schema_migrations_repeatable') IS NOT NULL"
	"  AND to_regclass('schema_migrations_seeds') IS NOT NULL), skipped,"
	" rendered_checksum"
	" FROM schema_migrations ORDER BY module COLLATE \"C\", version";

/* The same for a ledger from before those columns (then not complete: preparing it
 * adds them). */
static const char ledger_select_legacy[] =
	"SELECT module, version, name, checksum, dirty, false, false, ''"
	" FROM schema_migrations ORDER BY module COLLATE \"C\", version";

/* The startup check's one query: a module's highest clean and highest dirty version, in
 * one pass over the module's rows through the primary key (module, version) — one short
 * row back, whatever the size of the ledger. (A dirty mark may sit under a clean head, after
 * an out-of-order run, so every row of the module is looked at; one aggregate plans
 * faster on a new connection than two max() subqueries.) */
static const char ledger_head_select[] =
	"SELECT max(version) FILTER (WHERE NOT dirty), max(version) FILTER (WHERE dirty)"
	" FROM schema_migrations WHERE module = $1";

/* A version whose `-- migrate:env` excludes the environment: recorded, never run. */
const char mig_pg_ledger_insert_skipped[] =
	"INSERT INTO schema_migrations (module, version, name, checksum, duration_ms, skipped)"
	" VALUES ($1, $2, $3, $4, 0, true)";

/* module, version, name, checksum, rendered checksum; duration measured by the server
 * inside the same transaction, from its start to this insert */
const char mig_pg_ledger_insert[] =
	"INSERT INTO schema_migrations (module, version, name, checksum, rendered_checksum,"
	" duration_ms) VALUES ($1, $2, $3, $4, $5,"
	" (extract(epoch FROM clock_timestamp() - now()) * 1000)::bigint)";

const char mig_pg_ledger_delete[] =
	"DELETE FROM schema_migrations WHERE module = $1 AND version = $2";

/* A repeatable migration's row: module, name, checksum, rendered checksum. */
const char mig_pg_ledger_repeatable[] =
	"INSERT INTO schema_migrations_repeatable"
	" (module, name, checksum, rendered_checksum, failed_checksum, applied_at, duration_ms)"
	" VALUES ($1, $2, $3, $4, '', now(),"
	" (extract(epoch FROM clock_timestamp() - now()) * 1000)::bigint)"
	" ON CONFLICT (module, name) DO UPDATE SET checksum = EXCLUDED.checksum,"
	" rendered_checksum = EXCLUDED.rendered_checksum, failed_checksum = '',"
	" applied_at = EXCLUDED.applied_at, duration_ms = EXCLUDED.duration_ms";

/* A seed file's row (seed --data): module, name, checksum, rendered checksum. */
const char mig_pg_ledger_seed[] =
	"INSERT INTO schema_migrations_seeds"
	" (module, name, checksum, rendered_checksum, applied_at, duration_ms)"
	" VALUES ($1, $2, $3, $4, now(),"
	" (extract(epoch FROM clock_timestamp() - now()) * 1000)::bigint)"
	" ON CONFLICT (module, name) DO UPDATE SET checksum = EXCLUDED.checksum,"
	" rendered_checksum = EXCLUDED.rendered_checksum,"
	" applied_at = EXCLUDED.applied_at, duration_ms = EXCLUDED.duration_ms";

/* After a repeatable failed (and rolled back): module, name, the failed file's checksum. */
const char mig_pg_ledger_repeatable_failed[] =
	"INSERT INTO schema_migrations_repeatable (module, name, failed_checksum)"
	" VALUES ($1, $2, $3)"
	" ON CONFLICT (module, name) DO UPDATE SET failed_checksum = EXCLUDED.failed_checksum";

/* A down step of module: what its repeatables created may have gone with it, so they
 * apply again at the next up (their rows stay, with no checksum). */
const char mig_pg_repeatables_forget[] =
	"UPDATE schema_migrations_repeatable SET checksum = '', rendered_checksum = ''"
	" WHERE module = $1";

const char mig_pg_repeatable_select[] =
	"SELECT module, name, checksum, rendered_checksum, failed_checksum"
	" FROM schema_migrations_repeatable ORDER BY module COLLATE \"C\", name COLLATE \"C\"";

const char mig_pg_ledger_mark_dirty[] =
	"INSERT INTO schema_migrations (module, version, name, checksum, rendered_checksum, dirty)"
	" VALUES ($1, $2, $3, $4, $5, true)"
	" ON CONFLICT (module, version) DO UPDATE SET dirty = true";

const char mig_pg_ledger_mark_clean[] =
	"UPDATE schema_migrations SET dirty = false, applied_at = now(), duration_ms = $3"
	" WHERE module = $1 AND version = $2";

static const char ledger_resolve_applied[] =
	"INSERT INTO schema_migrations (module, version, name, checksum)"
	" VALUES ($1, $2, $3, $4)"
	" ON CONFLICT (module, version) DO UPDATE SET dirty = false, skipped = false";

/* A schema target's schema, created when missing (its name was validated at connect). */
int mig_pg_create_schema(mig_pg_conn *pc, mig_error *err)
{
	if (!pc->cfg->schema)
		return MIG_OK;
	char sql[128];
	snprintf(sql, sizeof sql, "CREATE SCHEMA IF NOT EXISTS \"%s\"", pc->cfg->schema);
	return mig_pg_exec_simple(pc, sql, "cannot create the target's schema", err);
}

int mig_pg_ledger_prepare(void *conn, mig_error *err)
{
	int rc = mig_pg_create_schema(conn, err);
	if (rc < 0)
		return rc;
	return mig_pg_exec_simple(conn, ledger_ddl, "cannot create schema_migrations", err);
}

/* The rows pg_lock.c read in the lock's round trip (*ahead, taken: NULL after), else
 * the result of sql run now. */
static PGresult *read_ahead_or_now(mig_pg_conn *pc, PGresult **ahead, const char *sql)
{
	PGresult *res = *ahead ? *ahead : PQexec(pc->conn, sql);
	*ahead = NULL;
	return res;
}

int mig_pg_ledger_read(void *conn, mig_ledger *ledger, mig_error *err)
{
	mig_pg_conn *pc = conn;
	memset(ledger, 0, sizeof *ledger);
	PGresult *res = read_ahead_or_now(pc, &pc->ledger_ahead, mig_pg_ledger_select);
	const char *undefined = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
	if (undefined && !strcmp(undefined, "42703")) { /* undefined_column: an older ledger */
		PQclear(res);
		res = PQexec(pc->conn, ledger_select_legacy);
	}
	if (PQresultStatus(res) != PGRES_TUPLES_OK) {
		const char *state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
		int rc = MIG_OK;
		if (state && !strcmp(state, "42P01")) /* undefined_table: never migrated */
			rc = MIG_OK;
		else
			rc = mig_pg_result_error(pc->conn, res, "cannot read schema_migrations",
						 err);
		PQclear(res);
		return rc;
	}
	int n = PQntuples(res);
	ledger->exists = true;
	/* with no rows we cannot tell; preparing again costs nothing but a round trip */
	ledger->complete = n > 0 && PQgetvalue(res, 0, 5)[0] == 't';
	ledger->rows = calloc(n ? (size_t)n : 1, sizeof *ledger->rows);
	if (!ledger->rows) {
		PQclear(res);
		return mig_error_set(err, MIG_EFAIL, "out of memory");
	}
	for (int i = 0; i < n; i++) {
		mig_applied *row = &ledger->rows[ledger->nrows++];
		row->module = strdup(PQgetvalue(res, i, 0));
		row->version = strtoll(PQgetvalue(res, i, 1), NULL, 10);
		row->name = strdup(PQgetvalue(res, i, 2));
		snprintf(row->checksum, sizeof row->checksum, "%s", PQgetvalue(res, i, 3));
		row->dirty = PQgetvalue(res, i, 4)[0] == 't';
		row->skipped = PQgetvalue(res, i, 6)[0] == 't';
		snprintf(row->rendered, sizeof row->rendered, "%s", PQgetvalue(res, i, 7));
		if (!row->module || !row->name) {
			PQclear(res);
			mig_ledger_clear(ledger);
			return mig_error_set(err, MIG_EFAIL, "out of memory");
		}
	}
	PQclear(res);
	return MIG_OK;
}

int mig_pg_ledger_head(void *conn, const char *module, mig_ledger_head *head,
		       mig_error *err)
{
	mig_pg_conn *pc = conn;
	memset(head, 0, sizeof *head);
	const char *params[] = {module};
	PGresult *res = PQexecParams(pc->conn, ledger_head_select, 1, NULL, params, NULL, NULL, 0);
	if (PQresultStatus(res) != PGRES_TUPLES_OK) {
		const char *state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
		int rc = MIG_OK; /* undefined_table: never migrated */
		if (!state || strcmp(state, "42P01") != 0)
			rc = mig_pg_result_error(pc->conn, res, "cannot read schema_migrations",
						 err);
		PQclear(res);
		return rc;
	}
	head->exists = true;
	if (PQntuples(res) == 1) {
		if (!PQgetisnull(res, 0, 0))
			head->applied = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
		head->dirty = !PQgetisnull(res, 0, 1);
		if (head->dirty)
			head->dirty_version = strtoll(PQgetvalue(res, 0, 1), NULL, 10);
	}
	PQclear(res);
	return MIG_OK;
}

int mig_pg_repeatables_read(void *conn, mig_repeatable_ledger *out, mig_error *err)
{
	mig_pg_conn *pc = conn;
	memset(out, 0, sizeof *out);
	PGresult *res = read_ahead_or_now(pc, &pc->repeatables_ahead, mig_pg_repeatable_select);
	if (PQresultStatus(res) != PGRES_TUPLES_OK) {
		const char *state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
		int rc = state && !strcmp(state, "42P01") /* never created: nothing applied */
				 ? MIG_OK
				 : mig_pg_result_error(pc->conn, res,
						       "cannot read schema_migrations_repeatable", err);
		PQclear(res);
		return rc;
	}
	int rc = mig_pg_repeatable_rows(res, out, err);
	PQclear(res);
	return rc;
}

int mig_pg_resolve(void *conn, const char *module, long long version, const char *name,
		   const char *checksum, bool applied, mig_error *err)
{
	char v[24];
	snprintf(v, sizeof v, "%lld", version);
	const char *params[] = {module, v, name ? name : "", checksum ? checksum : ""};
	if (applied)
		return mig_pg_exec_params(conn, ledger_resolve_applied, 4, params,
					  "cannot record the migration", err);
	return mig_pg_exec_params(conn, mig_pg_ledger_delete, 2, params,
				  "cannot delete the ledger row", err);
}

const char *const mig_pg_ledger_ddl = ledger_ddl;

/* The PostgreSQL driver's session, private to the files that make up mig_pg_driver:
 * the connection and its helpers (pg_conn.c), the one-migrator lock (pg_lock.c), the
 * ledger's tables and statements (pg_ledger.c), running a migration (pg_apply.c), and
 * the table of operations that names them (pg.c). */
#ifndef MIGRATE_PG_CONN_H
#define MIGRATE_PG_CONN_H

#include <libpq-fe.h>
#include <stdbool.h>

#include "driver/driver.h"
#include "postgres/pg_lease.h"
#include "postgres/pg_result.h"
#include "postgres/pg_track.h"

typedef struct mig_pg_conn {
	PGconn *conn;
	const mig_sql_config *cfg; /* the postgres: section, owned by the caller */
	bool locked;
	mig_pg_keeper *keeper; /* lock: table: renews the lease while migrations run */
	char holder[96]; /* "pid:random": who we are in schema_migrations_lock */
	char host[64];
	mig_pg_track track; /* what each migration created and dropped (pg_track.c) */
	bool track_ready; /* track's SQL filled in: at the first migration or objects check, so
			   * a session that runs none (check, status) does not pay for it */
	char lock_key[24]; /* the advisory lock key, as SQL text */
	/* the ledger rows read in the same round trip as the advisory lock (mig_pg_lock), for
	 * the mig_pg_ledger_read that follows it; NULL once taken */
	PGresult *ledger_ahead;
	PGresult *repeatables_ahead; /* schema_migrations_repeatable, read with the ledger */
	unsigned ledger_prepared; /* bit per ledger_cmds entry prepared in this session */
} mig_pg_conn;

/* pg_conn.c: connecting, and running commands whose failure becomes one line naming
 * what (every one returns MIG_OK or MIG_EFAIL with err filled). */
int mig_pg_connect(void **out, const mig_sql_config *cfg, mig_error *err);
void mig_pg_disconnect(void *conn);
int mig_pg_conn_error(mig_pg_conn *pc, const char *what, mig_error *err);
int mig_pg_exec_simple(mig_pg_conn *pc, const char *sql, const char *what, mig_error *err);
int mig_pg_exec_params(mig_pg_conn *pc, const char *sql, int n, const char *const *values,
		       const char *what, mig_error *err);

/* pg_lock.c: the advisory or leased lock. */
int mig_pg_lock(void *conn, mig_error *err);
int mig_pg_release_lock(void *conn, mig_error *err);
int mig_pg_renew_lease(mig_pg_conn *pc, mig_error *err);

/* pg_ledger.c: the ledger's statements (what each is, beside its text there) ... */
extern const char mig_pg_ledger_select[];
extern const char mig_pg_repeatable_select[];
extern const char mig_pg_ledger_insert_skipped[];
extern const char mig_pg_ledger_insert[];
extern const char mig_pg_ledger_delete[];
extern const char mig_pg_ledger_repeatable[];
extern const char mig_pg_ledger_seed[];
extern const char mig_pg_ledger_repeatable_failed[];
extern const char mig_pg_repeatables_forget[];
extern const char mig_pg_ledger_mark_dirty[];
extern const char mig_pg_ledger_mark_clean[];
/* ... and the operations that create, read and resolve it */
int mig_pg_create_schema(mig_pg_conn *pc, mig_error *err);
int mig_pg_ledger_prepare(void *conn, mig_error *err);
int mig_pg_ledger_read(void *conn, mig_ledger *ledger, mig_error *err);
int mig_pg_ledger_head(void *conn, const char *module, mig_ledger_head *head, mig_error *err);
int mig_pg_repeatables_read(void *conn, mig_repeatable_ledger *out, mig_error *err);
int mig_pg_resolve(void *conn, const char *module, long long version, const char *name,
		   const char *checksum, bool applied, mig_error *err);

/* pg_apply.c: running a migration file, a repeatable, a seed file or a hook. */
int mig_pg_track_ready(mig_pg_conn *pc, mig_error *err);
int mig_pg_apply(void *conn, const mig_step *step, mig_error *err);
int mig_pg_run_hook(void *conn, const mig_hook *hook, mig_error *err);

#endif

/* The postgres: section of config.yaml in the form the SQL driver is given: the driver
 * interface's input, so it lives beside the interface (src/driver/driver.h) and the
 * config reader (src/core/config.c) fills it. */
#ifndef MIGRATE_SQL_CONFIG_H
#define MIGRATE_SQL_CONFIG_H

#include <stdbool.h>

typedef enum mig_lock_mode {
	MIG_LOCK_ADVISORY, /* pg_try_advisory_lock polling: needs a session-pooled connection */
	MIG_LOCK_TABLE,    /* a leased row in schema_migrations_lock: works through PgBouncer */
} mig_lock_mode;

/* The postgres: section: all that the SQL driver is given (never the whole config). */
typedef struct mig_sql_config {
	const char *backend;            /* registry name of the driver: "postgres" */
	char *dsn;                      /* expanded; "" means libpq defaults */
	char *scratch_dsn;              /* server for template, test and shadow databases;
					 * NULL: dsn's */
	long long lock_wait_ms;         /* default 60 s */
	long long lock_timeout_ms;      /* -1 = not set (server default), 0 = none */
	long long statement_timeout_ms; /* likewise */
	mig_lock_mode lock_mode;
	long long lock_lease_ms;        /* lock: table lease, default 5 min, renewed every third */
	long long lock_retries;         /* retries of a transactional file failing with 55P03 */
	long long lock_retry_backoff_ms; /* first retry's pause, doubled and jittered, capped 30 s */
	/* a fleet's `kind: schema` target: search_path, ledger and lock live in this schema
	 * (created when the ledger is); NULL for the database's default. Borrowed. */
	const char *schema;
	/* the tree has repeatable migrations: the driver may read their ledger together
	 * with its own (set by up before connecting) */
	bool read_repeatables;
	/* seconds libpq may spend on one connection attempt, overriding the DSN's
	 * connect_timeout; 0 leaves the DSN's (or libpq's: none). Set by `migrate wait`. */
	int connect_timeout_s;
} mig_sql_config;

#endif

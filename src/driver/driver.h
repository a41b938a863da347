/* The interface between the engine and a SQL backend (today PostgreSQL, src/postgres/pg.c).
 * A backend is a versioned table of purpose-built operations, never a "run any SQL"
 * call; a new backend is one new file and one line in src/driver/registry.c, and the
 * engine's logic is tested above a scripted fake of this table (tests/unit/core/test_fake_backend.c). */
#ifndef MIGRATE_DRIVER_H
#define MIGRATE_DRIVER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "util/checksum.h"
#include "driver/sql_config.h"
#include "schema/snapshot.h"
#include "util/error.h"

/* Bumped whenever a slot is added, removed or changes meaning; the registry refuses a
 * driver built for another version. */
#define MIG_SQL_DRIVER_VERSION 7

/* One row of schema_migrations. */
typedef struct mig_applied {
	char *module;
	long long version;
	char *name;
	char checksum[MIG_CHECKSUM_HEX]; /* "" when unknown */
	bool dirty;                      /* a no-transaction migration began and did not end */
	char rendered[MIG_CHECKSUM_HEX]; /* SHA-256 of the text as rendered (envsub spans);
					  * "" when the file had none */
	bool skipped;                    /* recorded without running: its `-- migrate:env`
					  * excluded the environment */
} mig_applied;

/* The ledger as read once per run, sorted by module then version. */
typedef struct mig_ledger {
	bool exists;   /* false when schema_migrations has never been created */
	bool complete; /* every companion table exists too (else prepare before writing) */
	mig_applied *rows;
	size_t nrows;
} mig_ledger;

void mig_ledger_clear(mig_ledger *ledger);

/* The applied row of (module, version), or NULL. Borrowed. */
const mig_applied *mig_ledger_find(const mig_ledger *ledger, const char *module,
				   long long version);

/* What the startup check needs of one module's ledger rows, and no more. */
typedef struct mig_ledger_head {
	bool exists;       /* false when schema_migrations has never been created */
	long long applied; /* the highest version without a dirty mark; 0 when none */
	bool dirty;        /* some version of the module has a dirty mark */
	long long dirty_version; /* the highest such version (when dirty) */
} mig_ledger_head;

/* One row of schema_migrations_repeatable: what a repeatable migration last ran as. */
typedef struct mig_repeatable_row {
	char *module;
	char *name;
	char checksum[MIG_CHECKSUM_HEX]; /* of the file that last applied; "" when none did */
	char rendered[MIG_CHECKSUM_HEX]; /* of its rendered text ("" without envsub spans) */
	char failed[MIG_CHECKSUM_HEX];   /* of the file whose last attempt failed; "" after a
					  * success */
} mig_repeatable_row;

/* The repeatables' ledger, sorted by module then name. */
typedef struct mig_repeatable_ledger {
	mig_repeatable_row *rows;
	size_t nrows;
} mig_repeatable_ledger;

void mig_repeatable_ledger_clear(mig_repeatable_ledger *l);

/* The row of (module, name), or NULL. Borrowed. */
const mig_repeatable_row *mig_repeatable_ledger_find(const mig_repeatable_ledger *l,
						     const char *module, const char *name);

/* An object an applied migration created that is gone, or an index left invalid. */
typedef struct mig_missing_object {
	char *module;  /* "" for an invalid index */
	long long version;
	char *kind;    /* table, view, materialized view, index, sequence, type, function,
			* or "invalid index" */
	char *schema;
	char *name;
} mig_missing_object;

void mig_missing_objects_free(mig_missing_object *objects, size_t n);

/* A file of postgres.hooks as the run will send it (read and rendered up front). */
typedef struct mig_hook {
	const char *name; /* "before_up", "after_each" or "after_up" */
	const char *path; /* for messages */
	const char *sql;  /* NULL when this hook is not configured */
	size_t len;
} mig_hook;

/* One migration file to run, up or down. */
typedef struct mig_step {
	const char *module;
	long long version;
	const char *name;
	const char *path;        /* the file, for messages */
	const char *sql;         /* its contents */
	size_t sql_len;
	bool up;                 /* up: insert the ledger row; down: delete it */
	bool in_transaction;     /* false for `-- migrate:run-in-tx false` files */
	const char *checksum;    /* up: SHA-256 of the up file, recorded with the row */
	const char *rendered_checksum; /* up: SHA-256 of sql as rendered from the file's
					* envsub spans, recorded too; "" without spans */
	bool last;               /* the last step of the run: its commit waits for the disk
				  * and so makes every earlier commit of the run durable */
	const mig_hook *after_each; /* up: run inside the step's transaction (or, for a
				     * no-transaction file, after its statements) before its
				     * ledger row; its failure fails the step. NULL: none */
	bool repeatable;         /* a repeatable migration (version 0): always in one
				  * transaction, recorded in schema_migrations_repeatable
				  * (upserted), not tracked; a failure records its checksum
				  * as failed */
	bool seed;               /* a seed file (seed --data, version 0): in one
				  * transaction, recorded (upserted) in
				  * schema_migrations_seeds with its checksums, not tracked */
	bool skip;               /* only the ledger row: up records it as skipped (its
				  * `-- migrate:env` excludes the environment), down deletes
				  * a skipped row; no SQL of the file runs */
} mig_step;

/* What lint asks about one table it has a finding on. */
typedef struct mig_table_fact {
	const char *name; /* in: as written in SQL ("users", "app.users"); borrowed */
	bool exists;      /* out */
	double rows;      /* out: the planner's estimate of its rows; -1 when it does not exist */
} mig_table_fact;

/* lint --data: one check of the rows a pending statement will meet. */
typedef enum mig_probe_kind {
	MIG_PROBE_NOT_NULL, /* SET NOT NULL, PRIMARY KEY: rows whose columns[0] is NULL */
	MIG_PROBE_UNIQUE,   /* UNIQUE, PRIMARY KEY, unique index: duplicate values of columns */
	MIG_PROBE_FOREIGN,  /* FOREIGN KEY: rows whose columns match no row of ref_table */
	MIG_PROBE_CHECK,    /* CHECK: rows for which expr is false */
	MIG_PROBE_CAST,     /* ALTER COLUMN columns[0] TYPE type [USING columns[0]::cast_type]:
			     * rows whose value does not convert */
} mig_probe_kind;

typedef enum mig_probe_outcome {
	MIG_PROBE_PASSES,
	MIG_PROBE_WOULD_FAIL,
	MIG_PROBE_NOT_CHECKED,
} mig_probe_outcome;

typedef struct mig_data_probe {
	mig_probe_kind kind;
	const char *table;            /* in: as written in SQL; borrowed */
	char *const *columns;         /* in: column names; borrowed */
	size_t ncolumns;
	const char *ref_table;        /* FOREIGN: the referenced table */
	char *const *ref_columns;     /* FOREIGN: its columns (none: its primary key) */
	size_t nref_columns;
	const char *constraint;       /* CHECK: the constraint's name, for messages (may be NULL) */
	const char *expr;             /* CHECK: the condition, SQL text */
	const char *type;             /* CAST: the new type, SQL text ("int4", "varchar(10)") */
	const char *cast_type;        /* CAST: the type of USING's explicit cast, or NULL */
	mig_probe_outcome outcome;    /* out */
	char detail[512];             /* out: `3 rows of users have NULL email (id 17, 42, 99)` */
} mig_data_probe;

typedef struct mig_sql_driver {
	int version;      /* MIG_SQL_DRIVER_VERSION */
	const char *name; /* the registry name, and the backend named in reports */

	/* MUST: opens a session with the section's DSN and timeouts (the driver may keep
	 * the pointer: the section outlives the session). A connection failure is
	 * MIG_EFAIL naming host, port and database but never the password. */
	int (*connect)(void **conn, const mig_sql_config *cfg, mig_error *err);
	/* MUST: accepts NULL. Releases the lock if still held. */
	void (*disconnect)(void *conn);
	/* MUST: takes the one-migrator-per-database lock, waiting at most cfg->lock_wait_ms
	 * and naming the holder when it gives up (MIG_EBUSY, having changed nothing; any
	 * other failure is MIG_EFAIL); disconnect releases it. */
	int (*lock)(void *conn, mig_error *err);
	/* MUST: creates schema_migrations (and its companions) when missing. */
	int (*ledger_prepare)(void *conn, mig_error *err);
	/* MUST: reads every ledger row in one query; ledger->exists false when there is none. */
	int (*ledger_read)(void *conn, mig_ledger *ledger, mig_error *err);
	/* MAY (NULL: the caller reads the whole ledger instead): module's highest clean and
	 * highest dirty version in one query, for the startup check; head->exists false when
	 * there is no ledger. Reads nothing else. */
	int (*ledger_head)(void *conn, const char *module, mig_ledger_head *head,
			   mig_error *err);
	/* MUST: runs one step and records it in the ledger (a step->skip only records or
	 * deletes the row, marked skipped): in one transaction when
	 * step->in_transaction, else statement by statement between a dirty mark and its
	 * clearing. A failure is MIG_EFAIL naming the file and line, the server's message
	 * and SQLSTATE; a transactional step then leaves no trace. */
	int (*apply)(void *conn, const mig_step *step, mig_error *err);
	/* MUST: records (applied) or deletes (!applied) a ledger row without running SQL,
	 * clearing any dirty mark. */
	int (*resolve)(void *conn, const char *module, long long version, const char *name,
		       const char *checksum, bool applied, mig_error *err);
	/* MAY (NULL when the backend does not track objects): the objects the applied
	 * migrations created, did not drop, and that no longer exist; and invalid indexes.
	 * *out is the caller's (mig_missing_objects_free). */
	int (*objects_missing)(void *conn, mig_missing_object **out, size_t *count,
			       mig_error *err);
	/* MAY (NULL when the backend cannot tell; lint then assumes every table exists and
	 * is large): the server's major version and, in one query, whether each of
	 * facts[0..n) exists and its estimated rows. */
	int (*table_facts)(void *conn, mig_table_fact *facts, size_t n, int *server_major,
			   mig_error *err);
	/* MAY (NULL when the backend cannot): writes to out one script for the backend's
	 * own client that applies steps (all up) as apply would, ledger rows and checksums
	 * included, with the hooks before_up and after_up (NULL or sql NULL: none) around
	 * them, after a guard that stops it unless the ledger still holds exactly
	 * `ledger`. Touches no database. */
	int (*script)(FILE *out, const mig_sql_config *cfg, const mig_ledger *ledger,
		      const mig_step *steps, size_t n, const mig_hook *before_up,
		      const mig_hook *after_up, mig_error *err);
	/* MAY (NULL when the backend has no fleets): runs a config's `targets.query` and
	 * hands back its rows as text, row-major (*cells holds nrows * ncols strings;
	 * free each and the array). A failing query, or a NULL cell, is MIG_EUSAGE naming
	 * the server's message or the row. */
	int (*targets_read)(void *conn, const char *query, char ***cells, size_t *nrows,
			    size_t *ncols, mig_error *err);
	/* MAY (NULL when the backend has no hooks; a config with hooks is then refused): runs
	 * a before_up or after_up hook file in one transaction of its own, recording nothing.
	 * A failure is MIG_EFAIL naming the hook, its file and line, the server's message and
	 * SQLSTATE, and leaves no trace. */
	int (*run_hook)(void *conn, const mig_hook *hook, mig_error *err);
	/* MAY (NULL when the backend has no repeatable migrations; a tree with some is then
	 * refused): reads schema_migrations_repeatable in one query (no rows when it does
	 * not exist). */
	int (*repeatables_read)(void *conn, mig_repeatable_ledger *out, mig_error *err);
	/* MAY (NULL when the backend has no seed data; `seed --data` is then refused): reads
	 * schema_migrations_seeds in one query (no rows when it does not exist), in the
	 * repeatables' row type (failed always ""). */
	int (*seeds_read)(void *conn, mig_repeatable_ledger *out, mig_error *err);
	/* MAY (as seeds_read): `seed --data --reset`, in one transaction: refuses (MIG_EUSAGE,
	 * nothing changed) when a foreign key of a table not among tables[0..ntables) (as
	 * written in SQL, resolved with the session's search_path) references one of them,
	 * naming both and the constraint; a table that does not exist is MIG_EUSAGE naming it;
	 * else empties them all and deletes the schema_migrations_seeds rows of
	 * (modules[i], names[i]) for i < nfiles, so that a load that fails afterwards is seen
	 * as not loaded. */
	int (*seed_reset)(void *conn, const char *const *tables, size_t ntables,
			  const char *const *modules, const char *const *names, size_t nfiles,
			  mig_error *err);
	/* MAY (NULL when the backend cannot): runs probes[0..n) in one read-only
	 * transaction that takes no lock stronger than ACCESS SHARE, each bounded by
	 * timeout_ms and a short lock_timeout; fills each probe's outcome and detail. An
	 * error is returned only when the transaction itself cannot be run. */
	int (*data_probe)(void *conn, mig_data_probe *probes, size_t n, long long timeout_ms,
			  mig_error *err);
	/* MAY (NULL when the backend cannot; lint then knows the schema from the tree's
	 * history alone): the database's schema as drift reads it (schema/snapshot.h), in one
	 * read-only transaction; *out is the caller's (mig_snapshot_clear). */
	int (*schema_snapshot)(void *conn, mig_snapshot *out, mig_error *err);
} mig_sql_driver;

/* The PostgreSQL backend; only src/driver/registry.c names it. */
extern const mig_sql_driver mig_pg_driver;

#endif

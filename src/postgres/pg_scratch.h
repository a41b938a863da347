/* Server administration for scratch databases (src/postgres/pg_scratch.c, libpq): one
 * session on the maintenance database of the scratch server that creates, seals, clones,
 * marks, lists and drops databases. Purpose-built calls only; names are checked by the
 * caller (src/scratch/scratch.c) and quoted here. */
#ifndef MIGRATE_PG_SCRATCH_H
#define MIGRATE_PG_SCRATCH_H

#include <stdbool.h>
#include <stddef.h>

#include "driver/sql_config.h"
#include "util/error.h"

typedef struct mig_pg_admin mig_pg_admin;

/* Builds a libpq conninfo (key=value) for database dbname on the scratch server:
 * cfg->scratch_dsn when set, else cfg->dsn, with dbname replaced (NULL keeps it).
 * with_password false leaves the password out, for printing. *out is the caller's
 * (free()). A DSN libpq cannot parse is MIG_EUSAGE naming the key. */
int mig_pg_scratch_conninfo(char **out, const mig_sql_config *cfg, const char *dbname,
			    bool with_password, mig_error *err);

/* Connects to the maintenance database `postgres` of the scratch server (or the
 * database postgres.scratch_dsn names). MIG_EFAIL when it cannot, never showing the
 * password. */
int mig_pg_admin_connect(mig_pg_admin **out, const mig_sql_config *cfg, mig_error *err);

/* Accepts NULL. Closing releases the build lock too. */
void mig_pg_admin_close(mig_pg_admin *a);

/* The server's major version (15 for 15.4). */
int mig_pg_admin_server_major(const mig_pg_admin *a);

/* The role the admin session logged in as (borrowed). */
const char *mig_pg_admin_user(const mig_pg_admin *a);

/* MIG_EFAIL "role 'x' lacks the CREATEDB privilege on …" unless the session's role may
 * create databases (CREATEDB or superuser). */
int mig_pg_admin_check_createdb(mig_pg_admin *a, mig_error *err);

/* Takes (waiting) / releases the server-wide session lock around template builds. */
int mig_pg_admin_lock(mig_pg_admin *a, mig_error *err);
int mig_pg_admin_unlock(mig_pg_admin *a, mig_error *err);

/* Whether database name exists; *comment (may be NULL) gets its COMMENT (caller frees;
 * NULL when none). */
int mig_pg_admin_exists(mig_pg_admin *a, const char *name, bool *exists, char **comment,
			mig_error *err);

/* CREATE DATABASE name (from the server's default template). */
int mig_pg_admin_create(mig_pg_admin *a, const char *name, mig_error *err);

/* Marks from a template that accepts no connections, then renames it to name: the
 * rename is what makes a finished template visible. */
int mig_pg_admin_seal(mig_pg_admin *a, const char *from, const char *name, mig_error *err);

/* CREATE DATABASE name TEMPLATE tpl, retrying for about two seconds while PostgreSQL
 * reports the template in use (SQLSTATE 55006), then MIG_EFAIL saying what to do. */
int mig_pg_admin_clone(mig_pg_admin *a, const char *tpl, const char *name, mig_error *err);

/* COMMENT ON DATABASE name IS text. */
int mig_pg_admin_comment(mig_pg_admin *a, const char *name, const char *text, mig_error *err);

/* Drops name when it exists (a template is unmarked first; sessions on it are ended). */
int mig_pg_admin_drop(mig_pg_admin *a, const char *name, mig_error *err);

typedef struct mig_pg_database {
	char *name;
	char *comment; /* NULL when none */
} mig_pg_database;

/* The databases whose names start with prefix (matched literally), by name. *out is the
 * caller's: mig_pg_databases_free. */
int mig_pg_admin_list(mig_pg_admin *a, const char *prefix, mig_pg_database **out,
		      size_t *count, mig_error *err);

void mig_pg_databases_free(mig_pg_database *dbs, size_t count);

#endif

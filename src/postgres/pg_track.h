/* Object tracking for the PostgreSQL driver (internal to src/driver/pg*.c): which
 * objects each migration created and dropped, kept in schema_migrations_objects so that
 * `verify` can name an object that vanished with no applied migration dropping it. Its
 * cost per migration follows what the migration touches, not the length of the history.
 * pg_apply.c sends the commands described here inside its own pipeline. */
#ifndef MIGRATE_DRIVER_PG_TRACK_H
#define MIGRATE_DRIVER_PG_TRACK_H

#include <libpq-fe.h>
#include <stdbool.h>
#include <stddef.h>

#include "driver/driver.h"
#include "postgres/pg_cmd.h"
#include "util/sql_split.h"

/* What each migration created; dropped_* names the applied migration that dropped it
 * again, so verify does not report it. Part of the ledger's DDL. The index on (schema,
 * name) finds the tracked objects a re-created object belongs to. */
#define MIG_PG_TRACK_DDL                                                                   \
	"CREATE TABLE IF NOT EXISTS schema_migrations_objects ("                           \
	" module text NOT NULL,"                                                           \
	" version bigint NOT NULL,"                                                        \
	" kind text NOT NULL,"                                                             \
	" schema text NOT NULL,"                                                           \
	" name text NOT NULL,"                                                             \
	" oid oid NOT NULL,"                                                               \
	" dropped_module text,"                                                            \
	" dropped_version bigint,"                                                         \
	" PRIMARY KEY (module, version, kind, schema, name));"                             \
	"CREATE INDEX IF NOT EXISTS schema_migrations_objects_name"                        \
	" ON schema_migrations_objects (schema, name)"

/* The relation whose presence says the ledger has every table and index above (its
 * absence: an older migrate made it; the DDL above brings it up to date). */
#define MIG_PG_TRACK_LAST_DDL "schema_migrations_objects_name"

/* The tracking state of one session. */
typedef struct mig_pg_track {
	char *insert_from_guc, *insert_from_param;     /* created objects, watermark as GUC / $3 */
	char *reattach_from_guc, *reattach_from_param; /* re-created by a down, the same */
	char *dropped_from_guc, *dropped_from_param;   /* measured drops, gated / always */
	char *renamed; /* names and schemas followed after a file that may rename */
	char *missing; /* verify's query */
	unsigned prepared; /* bit per statement of pg_track.c prepared in this session */
	bool have_gone; /* gone holds the objects already gone when this session began */
	char *gone;     /* their OIDs, comma-separated ("" for none) */
} mig_pg_track;

/* What tracking one migration needs, decided from its statements (pure). */
typedef struct mig_pg_track_step {
	bool up;
	bool creates; /* some statement may create an object */
	bool drops;   /* some statement may drop one (up files only) */
	bool renames; /* some statement may rename one or move it to another schema */
	char *named;  /* "kind\tschema\tname\n" per object its DROP statements name, or NULL */
	bool forgets_prepared; /* some statement may DEALLOCATE or DISCARD prepared ones */
	char version[24];
	/* the commands' parameters: module, version and the watermark / the gone OIDs /
	 * the named objects */
	const char *params[3], *gone_params[3], *named_params[3];
} mig_pg_track_step;

/* Most commands one call below returns. */
#define MIG_PG_TRACK_MAX_CMDS 4

/* Formats the session's statements; with schema (a fleet's schema target, a valid
 * identifier), they record and check that schema's objects only. MIG_OK or MIG_EFAIL
 * (out of memory). */
int mig_pg_track_init(mig_pg_track *t, const char *schema, mig_error *err);
void mig_pg_track_clear(mig_pg_track *t);

/* Decides what tracking step needs from its statements (text as pg_apply.c splits it: each
 * statement NUL-terminated). Fills *s (clear it with mig_pg_track_step_clear); MIG_OK
 * or MIG_EFAIL when memory runs out. */
int mig_pg_track_scan(mig_pg_track_step *s, const mig_step *step, const char *text,
		      const mig_sql_stmt *stmts, size_t n, mig_error *err);
void mig_pg_track_step_clear(mig_pg_track_step *s);

/* The objects a DROP statement names, appended to *named as "kind\tschema\tname\n"
 * lines (schema "" when unqualified; kind one of table, view, materialized view,
 * index, sequence, type, function, schema). *named grows by realloc; the caller frees
 * it. Statements that are not DROP, or that it cannot read, add nothing. Returns 0, or
 * -1 when memory runs out. */
int mig_pg_drop_names(char **named, const char *stmt);

/* Once per session (a round trip, a pass over the tracked objects): tracked objects
 * whose OID is gone but whose name exists again take that object's OID; those gone
 * altogether are kept in t->gone, and a later drop check does not count them as its
 * migration's drops. Call before a step with s->drops, outside a pipeline. MIG_OK or
 * MIG_EFAIL. */
int mig_pg_track_begin(mig_pg_track *t, PGconn *conn, const mig_pg_track_step *s,
		       mig_error *err);

/* The commands to send before the migration's statements, inside its transaction
 * (pipelined). With may_prepare, each fixed command is prepared once per session (the
 * prepare is among the commands the first time): planning them every time cost more
 * than running them. Returns how many it wrote to out. */
size_t mig_pg_track_before(mig_pg_cmd *out, mig_pg_track *t, mig_pg_track_step *s,
			   bool may_prepare);

/* The SQL whose one value is the watermark, for a file run outside a transaction. */
extern const char mig_pg_track_watermark_sql[];

/* The commands to send after the migration's statements (before the ledger change):
 * with watermark NULL inside the transaction that ran them, else after a file run
 * outside one, with the watermark read before it. Returns how many it wrote to out. */
size_t mig_pg_track_after(mig_pg_cmd *out, mig_pg_track *t, mig_pg_track_step *s,
			  const char *watermark, bool may_prepare);

/* Tracked objects of applied migrations that no applied migration dropped and that no
 * longer exist, and invalid indexes. *out is the caller's (mig_missing_objects_free).
 * MIG_OK or MIG_EFAIL. */
int mig_pg_track_missing(mig_missing_object **out, size_t *count, const mig_pg_track *t,
			 PGconn *conn, mig_error *err);

#endif

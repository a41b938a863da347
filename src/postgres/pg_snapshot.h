/* Reading a schema snapshot and object-tracking origins from a PostgreSQL database
 * (src/postgres/pg_snapshot.c): one connection, a fixed number of catalog queries sent
 * in one round trip whatever the schema's size. */
#ifndef MIGRATE_PG_SNAPSHOT_H
#define MIGRATE_PG_SNAPSHOT_H

#include <stdbool.h>

#include "util/error.h"
#include "schema/snapshot.h"

typedef struct mig_pg_reader mig_pg_reader;

/* Connects to conninfo (a libpq URI or key=value string). A failure is MIG_EFAIL naming
 * what (`live` or `shadow`) could not be reached; the password never appears. *out is
 * the caller's: mig_pg_reader_close. */
int mig_pg_reader_open(mig_pg_reader **out, const char *conninfo, const char *what,
		       mig_error *err);

/* Accepts NULL. */
void mig_pg_reader_close(mig_pg_reader *r);

/* The server's major version (13 ... 18). */
int mig_pg_reader_major(const mig_pg_reader *r);

/* The words the server's quote_ident quotes although they are lower case (its keywords
 * but the unreserved ones), sorted bytewise, into *words: the caller frees each and the
 * array. A name's quoting differs between versions as their keywords do. */
int mig_pg_reader_keywords(char ***words, size_t *n, mig_pg_reader *r, mig_error *err);

/* Reads the snapshot into *out (zeroed first; sorted) in one read-only transaction. */
int mig_pg_snapshot_read(mig_snapshot *out, mig_pg_reader *r, mig_error *err);

/* The same in two halves, so two databases' servers work at once: send the queries,
 * then receive the snapshot (exactly one receive after each successful send). */
int mig_pg_snapshot_send(mig_pg_reader *r, mig_error *err);
int mig_pg_snapshot_receive(mig_snapshot *out, mig_pg_reader *r, mig_error *err);

/* Roundtrip's scoped snapshots. Each entry of a snapshot carries its owner (the
 * relation of a column, index, constraint, trigger or policy; the schema, relation,
 * type, function or extension itself). mig_pg_fingerprints_reset records a fingerprint
 * of every owner's catalog rows in a temporary table of r's session; each
 * mig_pg_changes_read then lists the owners whose rows changed since the previous call
 * (created, altered or dropped), plus every owner whose definitions name one that was
 * altered (pg_depend, followed to any depth), and brings the fingerprints up to date.
 * full: roles, a schema or a catalog no owner explains changed: only a whole snapshot
 * is exact then. */
typedef struct mig_pg_changes {
	long long *owners; /* sorted, unique */
	size_t n;
	bool full;
} mig_pg_changes;

int mig_pg_fingerprints_reset(mig_pg_reader *r, mig_error *err);
int mig_pg_changes_read(mig_pg_changes *out, mig_pg_reader *r, mig_error *err);
void mig_pg_changes_clear(mig_pg_changes *c);

/* The snapshot of the entries of owners (sorted) alone. */
int mig_pg_snapshot_read_owned(mig_snapshot *out, mig_pg_reader *r, const long long *owners,
			       size_t n, mig_error *err);

/* The live (not dropped) rows of schema_migrations_objects: who created what. None
 * (n 0) when the table does not exist. *out is the caller's (mig_object_origins_free). */
int mig_pg_origins_read(mig_object_origin **out, size_t *n, mig_pg_reader *r,
			mig_error *err);

#endif

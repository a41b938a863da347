/* The schema a statement meets, as lint knows it: the tables (columns with their type,
 * typmods and NOT NULL), indexes, foreign keys and views that the earlier statements
 * created, read from their parse trees (pg_parse.h) — the tree's history (every earlier
 * file of the plan), then the earlier statements and files of the same run. The rules
 * consult it (lint.c) and it adds the findings that only it can make: an object that does
 * not exist, a drop that views or foreign keys depend on. Pure: no I/O, no database. */
#ifndef MIGRATE_LINT_MODEL_H
#define MIGRATE_LINT_MODEL_H

#include <stdbool.h>
#include <stddef.h>

#include "driver/driver.h"
#include "lint/lint.h"
#include "lint/pg_parse.h"
#include "schema/snapshot.h"

typedef struct mig_lint_model mig_lint_model;

/* A new empty model; NULL when memory runs out. authoritative: it is built from the whole
 * history of the tree, so a table it does not know does not exist (false for `lint FILE...`,
 * where the files named may alter tables created elsewhere). */
mig_lint_model *mig_lint_model_new(bool authoritative);

/* Accepts NULL. */
void mig_lint_model_free(mig_lint_model *m);

/* Whether the statements applied from now on belong to the run being linted (tables they
 * create are new: nothing to lock, no rows) or to the history before it. */
void mig_lint_model_set_run(mig_lint_model *m, bool in_run);

/* Applies one file of the history: parsed, every statement applied. A file that does not
 * parse is skipped and makes the model no longer authoritative. MIG_EFAIL on no memory. */
int mig_lint_model_apply_sql(mig_lint_model *m, const char *sql, size_t len);

/* Applies the schema of a live database (a snapshot read by the backend, the one drift
 * compares): its tables with their columns, types and NOT NULL, constraints, indexes and
 * views, as if created by the history. Objects of default_schema (and of "public") are
 * named without their schema, as migrations write them. The model becomes authoritative
 * (a table the database lacks does not exist) when authoritative is true. A definition
 * the parser cannot read is left out. MIG_EFAIL on no memory. */
int mig_lint_model_apply_snapshot(mig_lint_model *m, const mig_snapshot *snap,
				  const char *default_schema, bool authoritative);

/* Applies what st does to the schema. -1 when memory runs out. */
int mig_lint_model_apply(mig_lint_model *m, const mig_pg_stmt *st);

/* The type of table.column as the model knows it, or NULL. */
const mig_pg_type *mig_lint_model_column_type(const mig_lint_model *m, const char *table,
					      const char *column);

/* Whether table.column is known to be NOT NULL already. */
bool mig_lint_model_not_null(const mig_lint_model *m, const char *table, const char *column);

/* Whether table was created by the run (by an earlier statement or file of it). */
bool mig_lint_model_fresh(const mig_lint_model *m, const char *table);

/* Adds to out the findings the model makes about st before it runs (unknown-object,
 * drop-with-dependents), and, when probes are wanted, records the data probes st needs.
 * -1 when memory runs out. */
int mig_lint_model_check(mig_lint_model *m, const mig_pg_stmt *st, mig_lint_result *out);

/* lint --data: a check of existing rows that a statement of the run needs. */
typedef struct mig_lint_probe {
	mig_probe_kind kind;
	unsigned line, column;   /* of the statement */
	char *table, *ref_table; /* as written */
	char **columns, **ref_columns;
	size_t ncolumns, nref_columns;
	char *constraint;        /* CHECK: its name, or NULL */
	char *expr;              /* CHECK: the condition as written */
	char *type;              /* CAST: the new type as SQL */
	char *cast_type;         /* CAST: USING col::cast_type, or NULL */
	const char *not_checked; /* static: why no probe can tell (a column the run adds), or NULL */
} mig_lint_probe;

/* From now on, mig_lint_model_check records the probes of the statements it sees. */
void mig_lint_model_want_probes(mig_lint_model *m);

/* Hands over the probes recorded since the last call (*out: mig_lint_probes_free). */
void mig_lint_model_take_probes(mig_lint_model *m, mig_lint_probe **out, size_t *n);

void mig_lint_probes_free(mig_lint_probe *probes, size_t n);

#endif

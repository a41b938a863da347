/* A migration file as PostgreSQL's own grammar reads it (libpg_query, wrapped in
 * pg_parse.c alone): each statement reduced to the typed facts the lint rules look at
 * (its kind, the tables it names, the sub-commands of an ALTER TABLE, where it starts),
 * so no rule ever sees the parse tree itself. */
#ifndef MIGRATE_PG_PARSE_H
#define MIGRATE_PG_PARSE_H

#include <stdbool.h>
#include <stddef.h>

typedef enum mig_pg_kind {
	MIG_PG_OTHER,
	MIG_PG_CREATE_TABLE,
	MIG_PG_CREATE_INDEX,
	MIG_PG_DROP_INDEX,
	MIG_PG_DROP_TABLE,
	MIG_PG_ALTER_TABLE,
	MIG_PG_RENAME_TABLE,
	MIG_PG_RENAME_COLUMN,
	MIG_PG_TRUNCATE,
	MIG_PG_VACUUM,
	MIG_PG_CLUSTER,
	MIG_PG_REINDEX,
	MIG_PG_ENUM_ADD_VALUE,
	MIG_PG_UPDATE,
	MIG_PG_DELETE,
	MIG_PG_INSERT,
	MIG_PG_SET,       /* SET [LOCAL] name ..., or SELECT set_config('name', ...) */
	MIG_PG_BEGIN,
	MIG_PG_COMMIT,    /* COMMIT or ROLLBACK */
	MIG_PG_CREATE_VIEW, /* CREATE [OR REPLACE] VIEW: relations = the tables it reads,
			     * columns = the column names it mentions, star = it uses `*` */
	MIG_PG_DROP_VIEW,   /* relations = the views named */
} mig_pg_kind;

typedef enum mig_pg_action_kind {
	MIG_PG_ACT_OTHER,
	MIG_PG_ACT_COLUMN,          /* a column: CREATE TABLE element or ALTER TABLE ADD COLUMN */
	MIG_PG_ACT_DROP_COLUMN,
	MIG_PG_ACT_ALTER_TYPE,
	MIG_PG_ACT_SET_NOT_NULL,
	MIG_PG_ACT_CONSTRAINT,      /* a table constraint: CREATE TABLE element or ADD CONSTRAINT */
	MIG_PG_ACT_VALIDATE,        /* VALIDATE CONSTRAINT name */
	MIG_PG_ACT_SET_DEFAULT,     /* ALTER COLUMN SET/DROP DEFAULT: metadata only */
	MIG_PG_ACT_LIGHT,           /* a sub-command taking less than ACCESS EXCLUSIVE
				     * (SET STATISTICS, SET (fillfactor...), ...) */
	MIG_PG_ACT_DROP_NOT_NULL,   /* ALTER COLUMN DROP NOT NULL */
	MIG_PG_ACT_DROP_CONSTRAINT, /* DROP CONSTRAINT conname */
} mig_pg_action_kind;

typedef enum mig_pg_constraint {
	MIG_PG_CON_NONE,
	MIG_PG_CON_CHECK,
	MIG_PG_CON_FOREIGN,
	MIG_PG_CON_UNIQUE,
	MIG_PG_CON_PRIMARY,
	MIG_PG_CON_EXCLUSION,
	MIG_PG_CON_OTHER,
} mig_pg_constraint;

/* A type as written: the last name part, lower case ("int4", "varchar", "text",
 * "serial", "my_enum"), with up to two numeric modifiers. */
typedef struct mig_pg_type {
	char *name;    /* NULL when none */
	int ntypmods;
	long typmods[2];
	bool array;
} mig_pg_type;

typedef struct mig_pg_action {
	mig_pg_action_kind kind;
	char *column;          /* COLUMN, DROP_COLUMN, ALTER_TYPE, SET_NOT_NULL, SET_DEFAULT */
	mig_pg_type type;      /* COLUMN, ALTER_TYPE */
	bool has_using;        /* ALTER_TYPE ... USING expr */
	char *using_column;    /* ... when expr is `col::type` or CAST(col AS type): col */
	mig_pg_type using_type; /* ... and that type */
	/* COLUMN: its inline constraints */
	bool not_null, has_default, default_volatile, generated_stored, primary_key, unique;
	bool references;       /* inline REFERENCES */
	/* CONSTRAINT (and a column's inline FOREIGN KEY / CHECK) */
	mig_pg_constraint contype;
	char *conname;         /* CONSTRAINT/VALIDATE: the name, NULL when unnamed */
	bool not_valid;        /* NOT VALID */
	bool using_index;      /* UNIQUE/PRIMARY KEY USING INDEX */
	char *not_null_check;  /* CHECK (col IS NOT NULL): col; else NULL */
	char *check_expr;      /* CHECK (expr) of a table constraint: expr as written */
	char **keys;           /* PRIMARY KEY / UNIQUE / FOREIGN KEY columns */
	size_t nkeys;
	char *ref_table;       /* FOREIGN KEY (or inline REFERENCES): the table referenced */
	char **ref_keys;       /* ... and its columns as written (none: its primary key) */
	size_t nref_keys;
	bool missing_ok;       /* DROP COLUMN / DROP CONSTRAINT IF EXISTS */
} mig_pg_action;

typedef struct mig_pg_stmt {
	mig_pg_kind kind;
	size_t offset;         /* first significant byte (after comments) */
	size_t length;
	unsigned line, column; /* 1-based, of offset; column counts characters */
	char *relation;        /* the table it works on, "schema.name" as written (quoted
				* when needed); NULL when none */
	char **relations;      /* DROP TABLE / TRUNCATE: every table named */
	size_t nrelations;
	char *name;            /* index, type, SET parameter, new name of a RENAME */
	char *value;           /* SET: the value as text; ENUM_ADD_VALUE: the new label */
	bool concurrently, full, has_where, local, set_to_zero, temp;
	mig_pg_action *actions; /* CREATE_TABLE elements, ALTER_TABLE sub-commands */
	size_t nactions;
	char **strings;        /* every string constant the statement uses */
	size_t nstrings;
	char **columns;        /* CREATE_VIEW: every column name its query mentions;
				* CREATE_INDEX: its columns, when all are plain columns */
	size_t ncolumns;
	bool star;             /* CREATE_VIEW: its query uses `*` */
	bool missing_ok;       /* IF EXISTS (DROP, ALTER TABLE, RENAME) */
	bool unique;           /* CREATE UNIQUE INDEX */
	bool opaque;           /* may create or change tables in ways no parse shows: DO, CALL,
				* CREATE EXTENSION, EXECUTE, a SELECT calling functions ... */
} mig_pg_stmt;

typedef struct mig_pg_file {
	mig_pg_stmt *stmts;
	size_t nstmts;
} mig_pg_file;

typedef struct mig_pg_syntax_error {
	char message[256];
	unsigned line, column;
} mig_pg_syntax_error;

/* Parses sql[0..len) (NUL-terminated at len) with PostgreSQL 15's grammar. MIG_OK and
 * *out (the caller's: mig_pg_file_free) on success; MIG_ESCHEMA with *syntax filled when
 * the text does not parse; MIG_EFAIL when memory runs out. */
int mig_pg_parse(mig_pg_file **out, mig_pg_syntax_error *syntax, const char *sql, size_t len);

/* A statement the grammar refused, set aside by mig_pg_parse_lenient: where it starts
 * and the parser's message. */
typedef struct mig_pg_unparsed {
	unsigned line, column;
	char message[256];
} mig_pg_unparsed;

/* Like mig_pg_parse, for a server whose grammar may be newer than PostgreSQL 15's: a
 * statement (as mig_sql_split cuts them) the grammar refuses is set aside, recorded in
 * *unparsed (the caller's, free(); *nunparsed of them) and the rest parsed, each at its
 * place in the file. MIG_ESCHEMA (with *syntax, and no unparsed list) only for what no
 * PostgreSQL reads: invalid UTF-8, a NUL byte, an error outside any statement. */
int mig_pg_parse_lenient(mig_pg_file **out, mig_pg_unparsed **unparsed, size_t *nunparsed,
			 mig_pg_syntax_error *syntax, const char *sql, size_t len);

/* The major version of the grammar libpg_query was built from (15). */
int mig_pg_grammar_major(void);

/* Accepts NULL. */
void mig_pg_file_free(mig_pg_file *file);

#endif

/* Private to src/lint/'s parser wrapper (pg_parse.h): what its files share.
 * pg_parse.c calls libpg_query (the only file that includes <pg_query.h>) and walks the
 * statements of its JSON parse tree; pg_parse_stmt.c reads one statement node (its kind,
 * relation, names, values); pg_parse_table.c the parts of a table (columns, constraints,
 * ALTER TABLE sub-commands, types); pg_parse_tree.c the names written in the tree;
 * pg_parse_text.c reads the SQL text as written (comments and quotes, a CHECK's condition,
 * UTF-8, lines and columns). Nothing of the tree escapes these files. */
#ifndef MIGRATE_LINT_PG_PARSE_PRIVATE_H
#define MIGRATE_LINT_PG_PARSE_PRIVATE_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <string.h>

#include "lint/pg_parse.h"

/* ---- small readers of the tree ---- */

static inline const char *get_str(const json_t *o, const char *key)
{
	return json_string_value(json_object_get(o, key));
}

static inline bool get_bool(const json_t *o, const char *key)
{
	return json_is_true(json_object_get(o, key));
}

/* A node is {"TypeName": {...}}: the inner object when it is of that type. */
static inline json_t *as(const json_t *node, const char *type)
{
	return json_object_get(node, type);
}

static inline char *dup(const char *s)
{
	return s ? strdup(s) : NULL;
}

/* ---- pg_parse_tree.c: names as written, quoted when PostgreSQL needs it ---- */

/* A RangeVar's "schema.name"; NULL when it has none or memory runs out. */
char *mig_pg_range_var_name(const json_t *rv);

/* A list of {"String": {"sval": ...}}: its parts joined with '.', quoted as needed. */
char *mig_pg_qualified_name(const json_t *list);

/* The last String of a list (a type's or function's name without its schema), or NULL. */
const char *mig_pg_last_string(const json_t *list);

/* ---- pg_parse_stmt.c ---- */

/* Fills st from one {"<Kind>Stmt": {...}} node; sql[0..len) is the file it was parsed
 * from. -1 when memory runs out. */
int mig_pg_read_stmt(mig_pg_stmt *st, const json_t *node, const char *sql, size_t len);

/* ---- pg_parse_table.c: -1 when memory runs out ---- */

/* A column: {"ColumnDef": {...}} with its inline constraints. */
int mig_pg_read_column(mig_pg_action *a, const json_t *cd);

/* A table constraint: {"Constraint": {...}}; sql[0..len) is the text it was parsed from. */
int mig_pg_read_constraint(mig_pg_action *a, const json_t *c, const char *sql, size_t len);

/* An ALTER TABLE sub-command: {"AlterTableCmd": {...}}. */
int mig_pg_read_alter_cmd(mig_pg_action *a, const json_t *cmd, const char *sql, size_t len);

/* ---- pg_parse_text.c: the SQL text as written ---- */

/* The first byte in [pos, len) that is neither white space nor inside a comment, else len. */
size_t mig_pg_skip_space_and_comments(const char *sql, size_t len, size_t pos);

/* CHECK's condition as written, from the CHECK keyword at or after sql[pos]; NULL when it
 * cannot be found; -1 in *rc when memory runs out. */
char *mig_pg_check_condition(const char *sql, size_t len, size_t pos, int *rc);

/* Control characters of a parser message become spaces: one line. */
void mig_pg_one_line(char *s);

/* The 1-based line and column (in characters) of byte pos. */
void mig_pg_line_column(const char *sql, size_t pos, unsigned *line, unsigned *column);

/* Byte offset of the 1-based character position chars (libpg_query counts characters). */
size_t mig_pg_char_to_byte(const char *sql, size_t len, int chars);

/* What no PostgreSQL accepts, whatever its grammar (bytes that are not UTF-8, a NUL):
 * MIG_ESCHEMA with *syntax filled, else MIG_OK. */
int mig_pg_check_text(mig_pg_syntax_error *syntax, const char *sql, size_t len);

#endif

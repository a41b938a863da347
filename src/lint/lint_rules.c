/* The lint rules as data: id, severity, what each finds and how to do it safely, in the
 * order `migrate help lint` lists them. Adding a rule is a row here, an index in
 * lint_rules.h and the statement check that raises it in lint.c. */
#include <stddef.h>
#include <string.h>

#include "lint/lint.h"
#include "lint/lint_rules.h"

#define E MIG_LINT_ERROR
#define W MIG_LINT_WARNING
const mig_lint_rule mig_lint_rules[] = {
	[R_INDEX] = {"require-concurrent-index-creation", E,
		     "CREATE INDEX without CONCURRENTLY on an existing table",
		     "CREATE INDEX CONCURRENTLY in a `-- migrate:run-in-tx false` file", false},
	[R_CONCURRENTLY_IN_TX] = {"ban-concurrent-index-creation-in-transaction", E,
				  "CONCURRENTLY in a file that runs in a transaction: it fails",
				  "put `-- migrate:run-in-tx false` on the file's first line", false},
	[R_DROP_INDEX] = {"require-concurrent-index-deletion", W, "DROP INDEX without CONCURRENTLY",
			  "DROP INDEX CONCURRENTLY in a `-- migrate:run-in-tx false` file", false},
	[R_FIELD_DEFAULT] = {"adding-field-with-default", E,
			     "ADD COLUMN with a volatile default or a stored generated value",
			     "add the column without a default, set the default, backfill in batches",
			     true},
	[R_REQUIRED_FIELD] = {"adding-required-field", E,
			      "ADD COLUMN NOT NULL without a default: fails on a non-empty table",
			      "add it nullable or with a constant default", false},
	[R_SET_NOT_NULL] = {"adding-not-nullable-field", E,
			    "SET NOT NULL without a validated CHECK (col IS NOT NULL): scans under ACCESS EXCLUSIVE",
			    "ADD CONSTRAINT c CHECK (col IS NOT NULL) NOT VALID; VALIDATE CONSTRAINT c; then SET NOT NULL",
			    false},
	[R_FOREIGN_KEY] = {"adding-foreign-key-constraint", E,
			   "foreign key added without NOT VALID: validates every row while locked",
			   "ADD CONSTRAINT ... NOT VALID, then VALIDATE CONSTRAINT in a later statement",
			   false},
	[R_CHECK_NOT_VALID] = {"constraint-missing-not-valid", E,
			       "CHECK constraint added without NOT VALID: scans under ACCESS EXCLUSIVE",
			       "ADD CONSTRAINT ... NOT VALID, then VALIDATE CONSTRAINT in a later statement",
			       false},
	[R_UNIQUE] = {"disallowed-unique-constraint", E,
		      "UNIQUE or PRIMARY KEY added without USING INDEX: builds the index under ACCESS EXCLUSIVE",
		      "CREATE UNIQUE INDEX CONCURRENTLY, then ADD CONSTRAINT ... USING INDEX", false},
	[R_COLUMN_TYPE] = {"changing-column-type", E, "ALTER COLUMN TYPE that rewrites the table",
			   "add a new column, backfill it in batches, switch readers, drop the old one",
			   true},
	[R_RENAME_TABLE] = {"renaming-table", W, "RENAME of a table breaks the running code",
			    "create a view under the old name, or expand/contract over two deploys", false},
	[R_RENAME_COLUMN] = {"renaming-column", W, "RENAME of a column breaks the running code",
			     "add the new column, write both, switch readers, then drop the old one",
			     false},
	[R_DROP_TABLE] = {"ban-drop-table", E, "DROP TABLE of an existing table loses its data",
			  "stop using it first and drop it in a later contract migration (lint-ignore with a reason)",
			  false},
	[R_DROP_COLUMN] = {"ban-drop-column", E, "DROP COLUMN breaks code that still reads it",
			   "stop reading it first and drop it in a later contract migration (lint-ignore with a reason)",
			   false},
	[R_TRUNCATE] = {"ban-truncate", E, "TRUNCATE of an existing table loses its data",
			"DELETE in batches, or lint-ignore with a reason", false},
	[R_VACUUM_FULL] = {"ban-vacuum-full", E, "VACUUM FULL rewrites the table under ACCESS EXCLUSIVE",
			   "plain VACUUM, or pg_repack outside the migration", true},
	[R_CLUSTER] = {"ban-cluster", E, "CLUSTER rewrites the table under ACCESS EXCLUSIVE",
		       "pg_repack outside the migration", true},
	[R_REINDEX] = {"require-concurrent-reindex", E, "REINDEX without CONCURRENTLY",
		       "REINDEX ... CONCURRENTLY in a `-- migrate:run-in-tx false` file", false},
	[R_ENUM_VALUE] = {"enum-value-used-in-transaction", E,
			  "ALTER TYPE ... ADD VALUE used in the same transaction: it fails",
			  "add the value in its own migration, use it in a later one", false},
	[R_LOCK_TIMEOUT] = {"require-lock-timeout", W,
			    "ACCESS EXCLUSIVE on an existing table with no lock_timeout: queues every query behind it",
			    "set postgres.lock_timeout in the config, or SET lock_timeout = '5s' first",
			    false},
	[R_UPDATE_ALL] = {"update-without-where", E,
			  "UPDATE without WHERE on an existing table: locks and rewrites every row",
			  "backfill in batches by key range, outside the schema migration", false},
	[R_DELETE_ALL] = {"delete-without-where", E,
			  "DELETE without WHERE on an existing table: locks every row",
			  "delete in batches by key range, or lint-ignore with a reason", false},
	[R_PRIMARY_KEY] = {"require-primary-key", W, "new table without a primary key",
			   "add `id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY`", false},
	[R_BIGINT] = {"prefer-bigint-over-int", W, "int or smallint key column: runs out at 2^31",
		      "use bigint", false},
	[R_IDENTITY] = {"prefer-identity", W, "serial key column",
			"use bigint GENERATED ALWAYS AS IDENTITY", false},
	[R_IGNORE_REASON] = {"lint-ignore-without-reason", E,
			     "a migrate:lint-ignore directive without a reason",
			     "write why after the rule list: `-- migrate:lint-ignore RULE reason`", false},
	[R_IGNORE_UNKNOWN] = {"lint-ignore-unknown-rule", E,
			      "a migrate:lint-ignore directive naming no known rule",
			      "use a rule id from the README's lint section", false},
	[R_DESTRUCTIVE] = {"destructive-in-expand", E,
			   "DROP TABLE/COLUMN, RENAME, SET NOT NULL or a narrowing type change in an expand file: "
			   "breaks the application still running",
			   "move it to a later file whose leading comments hold `-- migrate:phase contract`",
			   false},
	/* raised by `lint --observe` only (src/cli/lint_observe.c), never by mig_lint_sql */
	[R_OBSERVED_LOCK] = {"observed-unexplained-lock", E,
			     "a statement took ACCESS EXCLUSIVE on an existing table that no rule expected",
			     "read what the statement does; split it or lint-ignore it with a reason", false},
	[R_OBSERVED_REWRITE] = {"observed-unexplained-rewrite", E,
				"a statement rewrote an existing table that no rule expected to",
				"rewrite in batches into a new column or table instead", true},
	/* a statement of newer syntax than libpg_query's grammar, when the server may have it */
	[R_UNPARSED] = {"unparsed", W,
			"a statement the linter's grammar (PostgreSQL 15's) cannot parse: not linted",
			"review it by hand, or run `migrate lint --observe` to see what it locks on a clone; "
			"with --pg-version 15 or older it is a syntax error",
			false},
	/* raised from the schema model (lint_model.c) */
	[R_UNKNOWN_OBJECT] = {"unknown-object", E,
			      "ALTER, RENAME or DROP of a table, column or view no earlier migration creates: it fails",
			      "fix the name, or use IF EXISTS where it may be absent", false},
	[R_DROP_DEPENDENTS] = {"drop-with-dependents", E,
			       "DROP of a table, view or column that views or foreign keys depend on: "
			       "fails, or CASCADE drops them too",
			       "drop or change the dependents first, in the same contract migration", false},
	/* raised by `lint --data` only (src/cli/cmd_lint.c), from probes of the live rows */
	[R_DATA_FAIL] = {"data-would-fail", E,
			 "the rows already there make the statement fail: NULLs, duplicates, orphans, check violations, values that do not convert",
			 "fix the rows first (backfill, dedupe, delete orphans), in a migration before it",
			 false},
	[R_DATA_NOT_CHECKED] = {"data-not-checked", W,
				"lint --data could not probe the rows the statement meets",
				"run the probe's query by hand, or raise postgres.lint_probe_timeout", false},
	[R_COUNT] = {NULL, 0, NULL, NULL, false},
};
#undef E
#undef W

const mig_lint_rule *mig_lint_rule_find(const char *id)
{
	for (const mig_lint_rule *r = mig_lint_rules; r->id; r++)
		if (!strcmp(r->id, id))
			return r;
	return NULL;
}

/* The lint rules: what a migration file's statements will lock, rewrite or break on a
 * live PostgreSQL database, decided from the typed statements of pg_parse.h and a small
 * context (does the file run in a transaction, what lock_timeout the runner sets, which
 * server version). Pure logic: no I/O, no database; facts about live tables are applied
 * afterwards by the caller (mig_lint_finding.table names the table each is about). */
#ifndef MIGRATE_LINT_H
#define MIGRATE_LINT_H

#include <stdbool.h>
#include <stddef.h>

#include "util/error.h"

typedef struct mig_lint_model mig_lint_model; /* lint_model.h */

typedef enum mig_lint_severity { MIG_LINT_WARNING, MIG_LINT_ERROR } mig_lint_severity;

typedef struct mig_lint_rule {
	const char *id;      /* kebab-case, squawk's name where squawk has the rule */
	mig_lint_severity severity;
	const char *summary; /* what it catches, one line */
	const char *fix;     /* the safe way, one line */
	bool rewrites;       /* what it flags rewrites the whole table */
} mig_lint_rule;

/* The ids of the two rules only `lint --observe` raises. */
#define MIG_LINT_OBSERVED_LOCK "observed-unexplained-lock"
#define MIG_LINT_OBSERVED_REWRITE "observed-unexplained-rewrite"

/* Every rule, NULL-id terminated. */
extern const mig_lint_rule mig_lint_rules[];

/* The rule with that id, or NULL. */
const mig_lint_rule *mig_lint_rule_find(const char *id);

typedef struct mig_lint_context {
	bool in_transaction;     /* false for `-- migrate:run-in-tx false` files */
	bool contract;           /* `-- migrate:phase contract`: destructive statements allowed */
	long long lock_timeout_ms; /* postgres.lock_timeout: -1 unset, 0 none */
	int pg_major;            /* server major version (11, 15 ...); 0 when unknown: newest */
	int server_major;        /* the connected server's, for messages; 0 when not connected */
	mig_lint_model *model;   /* the schema before the file (lint_model.h), updated as the
				  * file goes; NULL: only what the file itself does is known */
} mig_lint_context;

typedef struct mig_lint_finding {
	const mig_lint_rule *rule;
	unsigned line, column; /* of the statement (or of the lint-ignore directive) */
	char *message;         /* one line */
	char *lock;            /* `ACCESS EXCLUSIVE on "t": blocks reads and writes`; NULL if none */
	char *table;           /* the existing table it is about, NULL when none */
	double rows;           /* the planner's estimate once facts are known, else -1 */
} mig_lint_finding;

/* What the rules expect of one statement, whether or not it raised a finding: what
 * `lint --observe` compares with what the server did. */
typedef struct mig_lint_claim {
	unsigned line;          /* of the statement */
	const char *lock;       /* the strongest lock expected ("ACCESS EXCLUSIVE"), or NULL */
	bool rewrites;          /* a finding on it says it rewrites (or replaces) a table */
	bool ignore_lock;       /* lint-ignore names observed-unexplained-lock for it */
	bool ignore_rewrite;    /* ... observed-unexplained-rewrite */
} mig_lint_claim;

typedef struct mig_lint_result {
	mig_lint_finding *findings; /* by line */
	size_t nfindings;
	mig_lint_claim *claims;     /* one per statement, in order */
	size_t nclaims;
	/* when the file does not parse (mig_lint_sql returned MIG_ESCHEMA) */
	unsigned syntax_line, syntax_column;
	char syntax_message[256];
} mig_lint_result;

/* Lints sql[0..len), which must be NUL-terminated at len. MIG_OK with out's findings
 * (possibly none); MIG_ESCHEMA with out->syntax_* set when it does not parse; MIG_EFAIL
 * when memory runs out. When ctx->pg_major is 0 or newer than the parser's grammar
 * (PostgreSQL 15), a statement the grammar refuses is an `unparsed` warning, not a
 * syntax error, and the others are linted. Release out with mig_lint_result_clear either way. */
int mig_lint_sql(mig_lint_result *out, const char *sql, size_t len, const mig_lint_context *ctx);

/* The claim about the statement starting on line, or NULL. */
const mig_lint_claim *mig_lint_claim_at(const mig_lint_result *r, unsigned line);

/* Whether any finding is of severity error. */
bool mig_lint_has_error(const mig_lint_result *r);

/* Safe on a zeroed result. */
void mig_lint_result_clear(mig_lint_result *r);

#endif

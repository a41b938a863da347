/* The observing core of `lint --observe` against a real server: given the DSN of a
 * database holding a populated table users(id int, email text), checks that SET NOT
 * NULL is seen taking ACCESS EXCLUSIVE, that ALTER COLUMN ... TYPE bigint is seen
 * rewriting the table, that ADD COLUMN ... DEFAULT 0 rewrites nothing, and that all of it
 * was rolled back. Run by tests/integration/test_lint.sh, which creates the database.
 * Prints one line per failed check; exit status 0 only when all hold. */
#include <stdio.h>
#include <string.h>

#include "postgres/pg_lint.h"

static int failures;

#define EXPECT(cond, ...)                                   \
	do {                                                \
		if (!(cond)) {                              \
			printf("FAILED: " __VA_ARGS__);     \
			putchar('\n');                      \
			failures++;                         \
		}                                           \
	} while (0)

static bool has(char **list, size_t n, const char *s)
{
	for (size_t i = 0; i < n; i++)
		if (!strcmp(list[i], s))
			return true;
	return false;
}

static void observe(mig_observation *obs, const char *dsn, const char *sql)
{
	mig_error err = {0};
	int rc = mig_pg_observe(obs, dsn, sql, strlen(sql), &err);
	EXPECT(rc == MIG_OK, "observing '%s': %s", sql, err.message);
}

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: pg_observe_check DSN\n");
		return 2;
	}
	const char *dsn = argv[1];
	mig_observation obs;

	observe(&obs, dsn, "SELECT 1;\nALTER TABLE users ALTER COLUMN email SET NOT NULL;\n");
	EXPECT(obs.nstmts == 2, "two statements, got %zu", obs.nstmts);
	if (obs.nstmts == 2) {
		EXPECT(obs.stmts[0].nlocks == 0, "SELECT 1 locked nothing");
		EXPECT(obs.stmts[1].line == 2, "second statement on line 2");
		EXPECT(has(obs.stmts[1].locks, obs.stmts[1].nlocks, "ACCESS EXCLUSIVE on users"),
		       "SET NOT NULL seen taking ACCESS EXCLUSIVE on users");
		EXPECT(obs.stmts[1].nrewritten == 0, "SET NOT NULL rewrote nothing");
	}
	mig_observation_clear(&obs);

	observe(&obs, dsn, "ALTER TABLE users ALTER COLUMN id TYPE bigint;");
	EXPECT(obs.nstmts == 1 && has(obs.stmts[0].rewritten, obs.stmts[0].nrewritten, "users"),
	       "ALTER COLUMN id TYPE bigint seen rewriting users");
	mig_observation_clear(&obs);

	observe(&obs, dsn, "ALTER TABLE users ADD COLUMN score integer DEFAULT 0;");
	EXPECT(obs.nstmts == 1 && obs.stmts[0].nrewritten == 0,
	       "ADD COLUMN ... DEFAULT 0 rewrote nothing");
	EXPECT(obs.nstmts == 1 &&
		       has(obs.stmts[0].locks, obs.stmts[0].nlocks, "ACCESS EXCLUSIVE on users"),
	       "ADD COLUMN seen taking ACCESS EXCLUSIVE");
	mig_observation_clear(&obs);

	/* rolled back: the column is not there, so adding it again works and is seen again */
	observe(&obs, dsn, "ALTER TABLE users ADD COLUMN score integer DEFAULT 0;");
	EXPECT(obs.nstmts == 1, "the earlier ADD COLUMN was rolled back");
	mig_observation_clear(&obs);

	/* a failing statement names its line and leaves nothing behind */
	mig_error err = {0};
	const char *bad = "ALTER TABLE users ADD COLUMN x int;\nSELECT nope;";
	int rc = mig_pg_observe(&obs, dsn, bad, strlen(bad), &err);
	EXPECT(rc == MIG_EFAIL && strstr(err.message, "line 2"), "failure names line 2: %s",
	       err.message);
	EXPECT(obs.nstmts == 0, "no observation after a failure");
	return failures ? 1 : 0;
}

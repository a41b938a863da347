/* Test-only access to a MongoDB server, beside the public API under test (mongo.h): set-up
 * and inspection that migrate itself never needs (drop, raw commands, listIndexes).
 * Implemented with libmongoc in mongo_test_util.c; never linked into migrate. */
#ifndef MIGRATE_MONGO_TEST_UTIL_H
#define MIGRATE_MONGO_TEST_UTIL_H

#include <stdbool.h>

/* Runs the command given as (relaxed extended) JSON on db. Returns 0 when the server
 * answers ok, else the server's error code (or -1 for a client-side failure). When reply
 * is not NULL, *reply gets the reply (or error) as JSON; free it with free(). */
int mtu_command(const char *uri, const char *db, const char *json, char **reply);

/* Drops db; 0 on success. */
int mtu_drop_database(const char *uri, const char *db);

bool mtu_collection_exists(const char *uri, const char *db, const char *coll);

/* The index named name of db.coll as one normalised line, or NULL when it does not exist:
 * "key={a:1,b:-1}" then, when set, " unique", " sparse", " hidden", " expire=N",
 * " partial=<JSON>", " collation=<JSON>", " weights={f,g}" (text). Free it with free(). */
char *mtu_index_describe(const char *uri, const char *db, const char *coll, const char *name);

/* Number of write commands the server has received so far: the stand-in's standinStats
 * "writes", or on a real mongod the sum of serverStatus metrics.commands totals of the write
 * commands. Only differences between two calls are meaningful. -1 on failure. */
long long mtu_write_count(const char *uri);

/* How many name commands the server has received so far: standinStats "commands", or on a
 * real mongod serverStatus metrics.commands.<name>.total. Differences only; -1 on failure. */
long long mtu_command_count(const char *uri, const char *name);

#endif

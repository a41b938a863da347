/* The MongoDB module's transport (mongo_client.h, mongo.h): the client and its connection
 * options, a write command run, libmongoc's and the server's errors turned into one-line
 * mig_errors, and the URI's passwords (util/secret.h) kept out of every message. The
 * seed/verify logic that runs over it is mongo_sync.c. */
/* libmongoc's headers use struct addrinfo, which -std=c11 hides without a POSIX request. */
#define _POSIX_C_SOURCE 200809L

#include "mongodb/mongo_client.h"
#include "util/secret.h"

#include <mongoc/mongoc.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* libmongoc waits 30 s by default before declaring a server unreachable; a migration tool
 * that is run by hand or at deploy time should say so sooner. Used only when the URI does
 * not set serverSelectionTimeoutMS itself (the README documents this). */
#define DEFAULT_SERVER_SELECTION_MS 5000

struct mig_mongo {
	mongoc_client_t *client;
	char *database;
	/* the URI's passwords (as written and decoded, the userinfo one and any
	 * "...password=" query value): never to reach a message */
	mig_secrets secret;
	mig_doc_state *migrations; /* versioned migrations' lock and deferred ledger write */
};

/* ---- memory and message helpers ---- */

static char *dupn(const char *s, size_t n)
{
	char *d = malloc(n + 1);
	if (d) {
		memcpy(d, s, n);
		d[n] = '\0';
	}
	return d;
}

static int oom(mig_error *err)
{
	return mig_error_set(err, MIG_EFAIL, "out of memory");
}

/* Copies msg into out (size outsz) with every secret replaced by "***". */
static void scrub(char *out, size_t outsz, const char *msg, const mig_secrets *sc)
{
	snprintf(out, outsz, "%s", msg);
	mig_secrets_redact(sc, out, outsz);
}

/* Fills err with code and the formatted message, secrets scrubbed. */
static int fail(mig_error *err, int code, const mig_secrets *sc, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
static int fail(mig_error *err, int code, const mig_secrets *sc, const char *fmt, ...)
{
	char raw[MIG_ERROR_MAX], clean[MIG_ERROR_MAX];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(raw, sizeof raw, fmt, ap);
	va_end(ap);
	scrub(clean, sizeof clean, raw, sc);
	return mig_error_set(err, code, "%s", clean);
}

int mig_mongo_fail_command(const mig_mongo *m, mig_error *err, const bson_error_t *e,
			   const char *what, const char *coll)
{
	if (e->domain == MONGOC_ERROR_SERVER_SELECTION)
		return fail(err, MIG_EFAIL, &m->secret, "cannot reach MongoDB: %s", e->message);
	if (e->domain == MONGOC_ERROR_SERVER || e->domain == MONGOC_ERROR_WRITE_CONCERN)
		return fail(err, MIG_EFAIL, &m->secret, "%s on '%s%s%s' failed: %s (code %u)", what,
			    m->database, coll ? "." : "", coll ? coll : "", e->message, e->code);
	return fail(err, MIG_EFAIL, &m->secret, "%s on '%s%s%s' failed: %s", what, m->database,
		    coll ? "." : "", coll ? coll : "", e->message);
}

/* ---- connect ---- */

/* MongoDB database names may not contain these (nor be empty). */
static bool valid_database_name(const char *s)
{
	return *s && !strpbrk(s, "/\\. \"$");
}

int mig_mongo_connect(mig_mongo **out, const char *uri, const char *database, mig_error *err)
{
	mig_mongo *m = NULL;
	mongoc_uri_t *u = NULL;
	bson_error_t e;
	int rc;

	*out = NULL;
	/* libmongoc's global set-up (SSL, SASL, handshake data) runs once per process however
	 * often this is called: mongoc_init guards itself with a once-flag, so no state of ours is
	 * needed. The matching mongoc_cleanup is mig_mongo_global_cleanup. */
	mongoc_init();
	/* libmongoc logs warnings and errors to stderr by default ("Port could not be parsed"),
	 * which would break migrate's one-line error rule; everything it says there also comes
	 * back in the bson_error_t we report. Setting the library's handler to none is idempotent
	 * and holds no state of ours. */
	mongoc_log_set_handler(NULL, NULL);

	if (!(m = calloc(1, sizeof *m)) || mig_secrets_add(&m->secret, uri) < 0) {
		rc = oom(err);
		goto done;
	}
	if (!valid_database_name(database)) {
		rc = fail(err, MIG_EUSAGE, &m->secret, "invalid MongoDB database name '%s'",
			  database);
		goto done;
	}
	if (!(m->database = dupn(database, strlen(database)))) {
		rc = oom(err);
		goto done;
	}
	if (!(u = mongoc_uri_new_with_error(uri, &e))) {
		rc = fail(err, MIG_EUSAGE, &m->secret, "invalid MongoDB URI '%s': %s", uri,
			  e.message);
		goto done;
	}
	if (!mongoc_uri_has_option(u, MONGOC_URI_SERVERSELECTIONTIMEOUTMS))
		mongoc_uri_set_option_as_int32(u, MONGOC_URI_SERVERSELECTIONTIMEOUTMS,
					       DEFAULT_SERVER_SELECTION_MS);
	/* A connection attempt that hangs (packets dropped) would otherwise wait libmongoc's
	 * 10 s connectTimeoutMS whatever the server-selection timeout says. */
	if (!mongoc_uri_has_option(u, MONGOC_URI_CONNECTTIMEOUTMS))
		mongoc_uri_set_option_as_int32(
			u, MONGOC_URI_CONNECTTIMEOUTMS,
			mongoc_uri_get_option_as_int32(u, MONGOC_URI_SERVERSELECTIONTIMEOUTMS,
						       DEFAULT_SERVER_SELECTION_MS));
	/* createIndexes blocks for the whole build: libmongoc's 5-minute socket timeout would
	 * cut long builds off. 0 means "the default" to libmongoc, so the largest value it
	 * takes (24 days) stands for no limit. */
	if (!mongoc_uri_has_option(u, MONGOC_URI_SOCKETTIMEOUTMS))
		mongoc_uri_set_option_as_int32(u, MONGOC_URI_SOCKETTIMEOUTMS, INT32_MAX);
	/* Shows up in the server's log and currentOp; a user-given appName wins. */
	if (!mongoc_uri_get_appname(u))
		mongoc_uri_set_appname(u, "migrate");
	if (!(m->client = mongoc_client_new_from_uri_with_error(u, &e))) {
		rc = fail(err, MIG_EUSAGE, &m->secret, "invalid MongoDB URI '%s': %s", uri,
			  e.message);
		goto done;
	}
	/* Version 2 reports server errors in MONGOC_ERROR_SERVER with the server's own code,
	 * which is how 85/86 (index conflicts) are told apart from real failures. */
	mongoc_client_set_error_api(m->client, MONGOC_ERROR_API_VERSION_2);
	*out = m;
	m = NULL;
	rc = MIG_OK;
done:
	mongoc_uri_destroy(u);
	mig_mongo_free(m);
	return rc;
}

void mig_mongo_free(mig_mongo *m)
{
	if (!m)
		return;
	mig_doc_state_free(m->migrations); /* gives the lock back first, if held */
	if (m->client)
		mongoc_client_destroy(m->client);
	free(m->database);
	mig_secrets_clear(&m->secret);
	free(m);
}

int mig_mongo_drop_database(mig_mongo *m, mig_error *err)
{
	bson_error_t e;
	mongoc_database_t *db = mongoc_client_get_database(m->client, m->database);
	bool ok = db && mongoc_database_drop_with_opts(db, NULL, &e);
	int rc = ok ? MIG_OK : fail(err, MIG_EFAIL, &m->secret, "cannot drop MongoDB database '%s': %s",
				    m->database, db ? e.message : "out of memory");
	mongoc_database_destroy(db);
	return rc;
}

int mig_mongo_ping(mig_mongo *m, mig_error *err)
{
	bson_error_t e;
	bson_t reply;
	bson_t *cmd = BCON_NEW("ping", BCON_INT32(1));
	if (!cmd)
		return oom(err);
	bool ok = mongoc_client_command_simple(m->client, "admin", cmd, NULL, &reply, &e);
	bson_destroy(&reply);
	bson_destroy(cmd);
	return ok ? MIG_OK : mig_mongo_fail_command(m, err, &e, "ping", NULL);
}

void mig_mongo_global_cleanup(void)
{
	mongoc_cleanup();
}

/* ---- what the sync logic runs over (mongo_client.h) ---- */

mongoc_database_t *mig_mongo_database(mig_mongo *m)
{
	return mongoc_client_get_database(m->client, m->database);
}

const char *mig_mongo_database_name(const mig_mongo *m)
{
	return m->database;
}

bool mig_mongo_run_write(mongoc_database_t *db, const bson_t *cmd, bson_error_t *e,
			 uint32_t *server_code)
{
	bson_t reply;
	bool ok = mongoc_database_write_command_with_opts(db, cmd, NULL, &reply, e);
	bson_destroy(&reply);
	*server_code = ok || e->domain != MONGOC_ERROR_SERVER ? 0 : e->code;
	return ok;
}

void mig_mongo_scrub(const mig_mongo *m, char *out, size_t outsz, const char *msg)
{
	scrub(out, outsz, msg, &m->secret);
}


mongoc_client_t *mig_mongo_client(mig_mongo *m)
{
	return m->client;
}

mig_doc_state **mig_mongo_migration_state(mig_mongo *m)
{
	return &m->migrations;
}

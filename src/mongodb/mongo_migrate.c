/* Versioned MongoDB migrations (SPEC.md; README "MongoDB: versioned migrations").
 *
 * A file is a JSON array of database commands as db.runCommand takes them, in MongoDB
 * Extended JSON v2 (canonical or relaxed), or {"transaction": true, "commands": [...]}.
 * libbson reads the Extended JSON (key order kept, relaxed $date accepted); a small scan of
 * the text finds where each command starts, so an error names its line and element index.
 *
 * The ledger is the collection schema_migrations of the connection's database, one document
 * per version: {_id: "<module>/<version>", module, version, name, checksum, applied_at, ms,
 * dirty}. The lock is the document {_id: "lock"} of schema_migrations_lock: owner (host,
 * pid and a random tag), expiresAt; a thread with its own client renews it every third of
 * mongodb.lock_lease, an expired one may be taken over, and a TTL index on expiresAt
 * removes what a killed run left behind.
 *
 * A file without a transaction runs command by command between a dirty mark and its
 * clearing. The clearing is deferred: it travels in the same `update` as the next
 * version's mark (or is sent by finish), so applying N one-command files sends N commands
 * and N ledger writes, plus one. */
/* libmongoc's headers use struct addrinfo, which -std=c11 hides without a POSIX request. */
#define _POSIX_C_SOURCE 200809L

#include "mongodb/mongo_migrate.h"
#include "mongodb/mongo_client.h"
#include "util/fs.h"

#include <errno.h>
#include <mongoc/mongoc.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define MAX_FILE_BYTES ((size_t)64 << 20)
#define LEDGER "schema_migrations"
#define LOCK_COLL "schema_migrations_lock"
#define LOCK_ID "lock"
#define CODE_DUPLICATE_KEY 11000
#define CODE_INDEX_OPTIONS_CONFLICT 85
#define CODE_INDEX_KEY_SPECS_CONFLICT 86

struct mig_doc_file {
	char *path;
	bool transaction;
	bool contract; /* "phase": "contract" */
	bson_t **commands;
	unsigned *lines; /* where each command starts */
	size_t n;
};

typedef struct keeper {
	mongoc_client_t *client; /* the keeper's own: a client is not shared between threads */
	pthread_t thread;
	pthread_mutex_t mu;
	pthread_cond_t wake;
	bool running, stop, lost;
	char why[400];
} keeper;

struct mig_doc_state {
	mig_mongo *m;
	long long lock_wait_ms, lock_lease_ms, max_time_ms;
	char write_concern[16];  /* "" = majority */
	char commit_quorum[16];  /* "" = the server's default */
	char owner[160];
	char host[128];
	bool locked;
	keeper keep;
	/* the deferred clearing of the last applied version's dirty mark */
	bool pending;
	char pending_id[256];
	long long pending_ms;
};

/* ---- helpers ---- */

static int oom(mig_error *err)
{
	return mig_error_set(err, MIG_EFAIL, "out of memory");
}

static int fail(mig_mongo *m, mig_error *err, int code, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
static int fail(mig_mongo *m, mig_error *err, int code, const char *fmt, ...)
{
	char raw[MIG_ERROR_MAX];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(raw, sizeof raw, fmt, ap);
	va_end(ap);
	char clean[MIG_ERROR_MAX];
	if (m)
		mig_mongo_scrub(m, clean, sizeof clean, raw);
	return mig_error_set(err, code, "%s", m ? clean : raw);
}

static long long now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static long long mono_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void sleep_ms(long long ms)
{
	struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000};
	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

static mig_doc_state *state(mig_mongo *m)
{
	mig_doc_state **slot = mig_mongo_migration_state(m);
	if (!*slot && (*slot = calloc(1, sizeof **slot))) {
		(*slot)->m = m;
		(*slot)->lock_wait_ms = 60 * 1000;
		(*slot)->lock_lease_ms = 5 * 60 * 1000;
	}
	return *slot;
}

/* ---- reading a file ---- */

static unsigned line_at(const char *text, size_t pos)
{
	unsigned line = 1;
	for (size_t i = 0; i < pos && text[i]; i++)
		line += text[i] == '\n';
	return line;
}

/* The start of every element of the commands array: the top-level array, or the array
 * under the top-level key "commands". text has already been read as JSON by libbson, so
 * only token boundaries matter here. Returns how many starts were found (at most cap). */
static size_t element_starts(const char *text, size_t len, size_t *starts, size_t cap)
{
	size_t depth = 0, target = 0, found = 0;
	bool in_string = false, escape = false, object_root = false, in_elem = false;
	bool done = false;
	size_t key_start = 0, key_len = 0, str_start = 0;
	for (size_t i = 0; i < len && !done; i++) {
		char c = text[i];
		if (in_string) {
			if (escape)
				escape = false;
			else if (c == '\\')
				escape = true;
			else if (c == '"') {
				in_string = false;
				if (depth == 1 && object_root) {
					key_start = str_start + 1;
					key_len = i - key_start;
				}
			}
			continue;
		}
		if (c == ' ' || c == '\t' || c == '\n' || c == '\r')
			continue;
		if (target && depth == target && !in_elem && c != ',' && c != ']') {
			if (found < cap)
				starts[found] = i;
			found++;
			in_elem = true;
		}
		if (c == '"') {
			in_string = true;
			str_start = i;
		} else if (c == '[' || c == '{') {
			if (depth == 0) {
				object_root = c == '{';
				if (!object_root)
					target = 1;
			} else if (depth == 1 && object_root && c == '[' && !target && key_len == 8 &&
				   !memcmp(text + key_start, "commands", 8)) {
				target = 2;
			}
			depth++;
		} else if (c == ']' || c == '}') {
			if (target && depth == target && c == ']') {
				done = true; /* the commands array closes */
				break;
			}
			depth--;
		} else if (c == ',' && target && depth == target) {
			in_elem = false;
		}
	}
	return found;
}

/* Where libbson says a syntax error is ("... position N: ..."), or -1. */
static long error_position(const char *msg)
{
	const char *p = strstr(msg, "position ");
	if (!p)
		return -1;
	char *end;
	long pos = strtol(p + strlen("position "), &end, 10);
	return end == p + strlen("position ") ? -1 : pos;
}

/* Commands that may run inside a multi-document transaction (mongod's list, less the
 * cursor and session commands migrate sends itself). aggregate is checked for $out and
 * $merge separately. */
static bool allowed_in_transaction(const char *name)
{
	static const char *const ok[] = {"insert", "update", "delete", "findAndModify",
					 "findandmodify", "find", "aggregate", "distinct",
					 "bulkWrite"};
	for (size_t i = 0; i < sizeof ok / sizeof *ok; i++)
		if (!strcmp(name, ok[i]))
			return true;
	return false;
}

/* Fields migrate sets itself: a file that sets them would run outside its lock, ledger
 * and transaction bookkeeping. */
static const char *managed_field(const bson_t *cmd)
{
	static const char *const managed[] = {"lsid", "txnNumber", "startTransaction",
					      "autocommit", "$db", "$clusterTime"};
	for (size_t i = 0; i < sizeof managed / sizeof *managed; i++)
		if (bson_has_field(cmd, managed[i]))
			return managed[i];
	return NULL;
}

/* The stage of an aggregate pipeline that writes ($out, $merge), or NULL. */
static const char *writing_stage(const bson_t *cmd)
{
	bson_iter_t it, stages;
	if (!bson_iter_init_find(&it, cmd, "pipeline") || !BSON_ITER_HOLDS_ARRAY(&it) ||
	    !bson_iter_recurse(&it, &stages))
		return NULL;
	while (bson_iter_next(&stages)) {
		bson_iter_t stage;
		if (!BSON_ITER_HOLDS_DOCUMENT(&stages) || !bson_iter_recurse(&stages, &stage) ||
		    !bson_iter_next(&stage))
			continue;
		const char *k = bson_iter_key(&stage);
		if (!strcmp(k, "$out") || !strcmp(k, "$merge"))
			return k;
	}
	return NULL;
}

static const char *command_name(const bson_t *cmd)
{
	bson_iter_t it;
	return bson_iter_init(&it, cmd) && bson_iter_next(&it) ? bson_iter_key(&it) : "";
}

static bool is_txn_control(const char *name)
{
	return !strcmp(name, "commitTransaction") || !strcmp(name, "abortTransaction") ||
	       !strcmp(name, "endSessions") || !strcmp(name, "startSession");
}

/* Checks one element and keeps a copy of it. */
static int take_command(mig_doc_file *f, size_t i, bson_iter_t *it, mig_error *err)
{
	unsigned line = f->lines[i];
	if (!BSON_ITER_HOLDS_DOCUMENT(it))
		return mig_error_set(err, MIG_EUSAGE,
				     "element %zu is not a command document (%s:%u)", i, f->path, line);
	uint32_t dlen;
	const uint8_t *data;
	bson_iter_document(it, &dlen, &data);
	bson_t *cmd = bson_new_from_data(data, dlen);
	if (!cmd)
		return oom(err);
	f->commands[f->n++] = cmd;
	if (bson_count_keys(cmd) == 0)
		return mig_error_set(err, MIG_EUSAGE, "element %zu is an empty command (%s:%u)", i,
				     f->path, line);
	const char *name = command_name(cmd);
	const char *managed = managed_field(cmd);
	if (managed)
		return mig_error_set(err, MIG_EUSAGE,
				     "element %zu ('%s') sets '%s', which migrate sets itself (%s:%u)",
				     i, name, managed, f->path, line);
	if (is_txn_control(name))
		return mig_error_set(err, MIG_EUSAGE,
				     "element %zu: '%s' is not a migration command: use "
				     "{\"transaction\": true, \"commands\": [...]} (%s:%u)",
				     i, name, f->path, line);
	if (f->transaction) {
		const char *stage = !strcmp(name, "aggregate") ? writing_stage(cmd) : NULL;
		if (!allowed_in_transaction(name) || stage)
			return mig_error_set(
				err, MIG_EUSAGE,
				"element %zu: '%s%s%s' cannot run inside a transaction (DDL and "
				"$out/$merge run only outside one): put it in a file without "
				"\"transaction\": true (%s:%u)",
				i, name, stage ? "' with '" : "", stage ? stage : "", f->path, line);
		if (bson_has_field(cmd, "writeConcern"))
			return mig_error_set(err, MIG_EUSAGE,
					     "element %zu ('%s') sets writeConcern, which a transaction "
					     "takes only at its commit (mongodb.write_concern) (%s:%u)",
					     i, name, f->path, line);
	}
	return MIG_OK;
}

/* The top-level object form: {"transaction": bool, "phase": "expand"|"contract",
 * "commands": [...]}. */
static int object_form(mig_doc_file *f, const bson_t *root, bson_iter_t *commands,
		       const char *text, mig_error *err)
{
	bson_iter_t it;
	bool have_commands = false;
	bson_iter_init(&it, root);
	while (bson_iter_next(&it)) {
		const char *k = bson_iter_key(&it);
		if (!strcmp(k, "transaction")) {
			if (!BSON_ITER_HOLDS_BOOL(&it))
				return mig_error_set(err, MIG_EUSAGE,
						     "'transaction' must be true or false (%s:1)",
						     f->path);
			f->transaction = bson_iter_bool(&it);
		} else if (!strcmp(k, "phase")) {
			const char *v = BSON_ITER_HOLDS_UTF8(&it) ? bson_iter_utf8(&it, NULL) : NULL;
			if (!v || (strcmp(v, "expand") && strcmp(v, "contract"))) {
				const char *at = strstr(text, "\"phase\"");
				return mig_error_set(err, MIG_EUSAGE,
						     "'phase' must be \"expand\" or \"contract\" (%s:%u)",
						     f->path,
						     at ? line_at(text, (size_t)(at - text)) : 1);
			}
			f->contract = !strcmp(v, "contract");
		} else if (!strcmp(k, "commands")) {
			if (!BSON_ITER_HOLDS_ARRAY(&it))
				return mig_error_set(err, MIG_EUSAGE,
						     "'commands' must be an array of commands (%s:1)",
						     f->path);
			*commands = it;
			have_commands = true;
		} else {
			const char *at = strstr(text, k);
			return mig_error_set(err, MIG_EUSAGE,
					     "unknown key '%s': a migration file is an array of commands "
					     "or {\"transaction\": true, \"phase\": \"contract\", "
					     "\"commands\": [...]} (%s:%u)",
					     k, f->path, at ? line_at(text, (size_t)(at - text)) : 1);
		}
	}
	if (!have_commands)
		return mig_error_set(err, MIG_EUSAGE, "'commands' is missing (%s:1)", f->path);
	return MIG_OK;
}

/* libbson refused the whole text: name the line, or the element whose text it refuses. */
static int json_error(const mig_doc_file *f, const char *text, size_t len,
		      const bson_error_t *e, mig_error *err)
{
	long pos = error_position(e->message);
	if (pos >= 0)
		return mig_error_set(err, MIG_EUSAGE, "invalid JSON: %s (%s:%u)", e->message, f->path,
				     line_at(text, (size_t)pos));
	/* an Extended JSON value it cannot read ($date it cannot parse...): find which element */
	size_t starts[4096];
	size_t n = element_starts(text, len, starts, sizeof starts / sizeof *starts);
	if (n > sizeof starts / sizeof *starts)
		n = sizeof starts / sizeof *starts;
	for (size_t i = 0; i < n; i++) {
		size_t end = i + 1 < n ? starts[i + 1] : len;
		/* the element's text runs to the next one's start, less the comma between */
		while (end > starts[i] && text[end - 1] != '}')
			end--;
		bson_error_t ee;
		bson_t *one = bson_new_from_json((const uint8_t *)text + starts[i],
						 (ssize_t)(end - starts[i]), &ee);
		if (!one)
			return mig_error_set(err, MIG_EUSAGE, "element %zu: %s (%s:%u)", i, ee.message,
					     f->path, line_at(text, starts[i]));
		bson_destroy(one);
	}
	return mig_error_set(err, MIG_EUSAGE, "invalid Extended JSON: %s (%s:1)", e->message,
			     f->path);
}

static int parse(mig_doc_file *f, const char *text, size_t len, mig_error *err)
{
	size_t first = 0;
	while (first < len && strchr(" \t\r\n", text[first]))
		first++;
	if (first == len || (text[first] != '[' && text[first] != '{'))
		return mig_error_set(err, MIG_EUSAGE,
				     "a migration file is a JSON array of commands or "
				     "{\"transaction\": true, \"commands\": [...]} (%s:%u)",
				     f->path, line_at(text, first));
	if (memchr(text, '\0', len))
		return mig_error_set(err, MIG_EUSAGE, "invalid JSON: a NUL byte (%s:%u)", f->path,
				     line_at(text, (size_t)((const char *)memchr(text, '\0', len) - text)));
	bson_error_t e;
	bson_t *root = bson_new_from_json((const uint8_t *)text, (ssize_t)len, &e);
	if (!root)
		return json_error(f, text, len, &e, err);
	int rc = MIG_OK;
	bson_iter_t commands;
	if (text[first] == '{')
		rc = object_form(f, root, &commands, text, err);
	else
		bson_iter_init(&commands, root);
	bson_iter_t it;
	if (rc == MIG_OK && text[first] == '{' && !bson_iter_recurse(&commands, &it))
		rc = mig_error_set(err, MIG_EUSAGE, "'commands' is not an array (%s:1)", f->path);
	if (rc == MIG_OK && text[first] == '[')
		it = commands;
	size_t count = 0;
	if (rc == MIG_OK) {
		bson_iter_t c = it;
		while (bson_iter_next(&c))
			count++;
		f->commands = calloc(count ? count : 1, sizeof *f->commands);
		f->lines = calloc(count ? count : 1, sizeof *f->lines);
		size_t *starts = calloc(count ? count : 1, sizeof *starts);
		if (!f->commands || !f->lines || !starts) {
			rc = oom(err);
		} else {
			size_t found = element_starts(text, len, starts, count);
			/* starts ascend: one pass counts the lines of all of them */
			unsigned line = 1;
			size_t pos = 0;
			for (size_t i = 0; i < count; i++) {
				for (; found == count && pos < starts[i]; pos++)
					line += text[pos] == '\n';
				f->lines[i] = found == count ? line : 1;
			}
		}
		free(starts);
	}
	if (rc == MIG_OK && count == 0)
		rc = mig_error_set(err, MIG_EUSAGE, "the file holds no command (%s:%u)", f->path,
				   line_at(text, first));
	for (size_t i = 0; rc == MIG_OK && bson_iter_next(&it); i++)
		rc = take_command(f, i, &it, err);
	bson_destroy(root);
	return rc;
}

int mig_doc_file_load(mig_doc_file **out, const char *path, mig_error *err)
{
	*out = NULL;
	mig_doc_file *f = calloc(1, sizeof *f);
	if (!f || !(f->path = strdup(path))) {
		free(f);
		return oom(err);
	}
	char *text = NULL;
	size_t len = 0;
	int rc = mig_read_file(&text, &len, path, MAX_FILE_BYTES, "migration file", err);
	if (rc == MIG_OK)
		rc = parse(f, text, len, err);
	free(text);
	if (rc < 0) {
		mig_doc_file_free(f);
		return rc;
	}
	*out = f;
	return MIG_OK;
}

void mig_doc_file_free(mig_doc_file *f)
{
	if (!f)
		return;
	for (size_t i = 0; i < f->n; i++)
		bson_destroy(f->commands[i]);
	free(f->commands);
	free(f->lines);
	free(f->path);
	free(f);
}

size_t mig_doc_file_commands(const mig_doc_file *f)
{
	return f->n;
}

bool mig_doc_file_transaction(const mig_doc_file *f)
{
	return f->transaction;
}

bool mig_doc_file_contract(const mig_doc_file *f)
{
	return f->contract;
}

/* ---- settings ---- */

void mig_doc_configure(mig_mongo *m, const mig_doc_run_config *cfg)
{
	mig_doc_state *st = state(m);
	if (!st)
		return; /* out of memory: the first call that needs the state says so */
	st->lock_wait_ms = cfg->lock_wait_ms;
	st->lock_lease_ms = cfg->lock_lease_ms;
	st->max_time_ms = cfg->max_time_ms;
	snprintf(st->write_concern, sizeof st->write_concern, "%s",
		 cfg->write_concern ? cfg->write_concern : "");
	snprintf(st->commit_quorum, sizeof st->commit_quorum, "%s",
		 cfg->commit_quorum ? cfg->commit_quorum : "");
}

/* {w: "majority"} or {w: N} */
static void append_write_concern(bson_t *doc, const mig_doc_state *st)
{
	bson_t wc;
	BSON_APPEND_DOCUMENT_BEGIN(doc, "writeConcern", &wc);
	if (st->write_concern[0] && strcmp(st->write_concern, "majority"))
		BSON_APPEND_INT32(&wc, "w", atoi(st->write_concern));
	else
		BSON_APPEND_UTF8(&wc, "w", "majority");
	bson_append_document_end(doc, &wc);
}

static mongoc_write_concern_t *write_concern(const mig_doc_state *st)
{
	mongoc_write_concern_t *wc = mongoc_write_concern_new();
	if (st->write_concern[0] && strcmp(st->write_concern, "majority"))
		mongoc_write_concern_set_w(wc, atoi(st->write_concern));
	else
		mongoc_write_concern_set_wmajority(wc, 0);
	return wc;
}

/* ---- running a command and reading its reply ---- */

/* What went wrong in a reply that came back: writeErrors, writeConcernError. */
static bool reply_failed(const bson_t *reply, char *why, size_t size, long long *code)
{
	bson_iter_t it, sub, e;
	if (bson_iter_init_find(&it, reply, "writeErrors") && BSON_ITER_HOLDS_ARRAY(&it) &&
	    bson_iter_recurse(&it, &sub) && bson_iter_next(&sub) && BSON_ITER_HOLDS_DOCUMENT(&sub)) {
		long long index = 0;
		const char *msg = "";
		*code = 0;
		bson_iter_recurse(&sub, &e);
		while (bson_iter_next(&e)) {
			if (!strcmp(bson_iter_key(&e), "index"))
				index = bson_iter_as_int64(&e);
			else if (!strcmp(bson_iter_key(&e), "code"))
				*code = bson_iter_as_int64(&e);
			else if (!strcmp(bson_iter_key(&e), "errmsg") && BSON_ITER_HOLDS_UTF8(&e))
				msg = bson_iter_utf8(&e, NULL);
		}
		snprintf(why, size, "write error at its item %lld: %s (code %lld)", index, msg, *code);
		return true;
	}
	if (bson_iter_init_find(&it, reply, "writeConcernError") && BSON_ITER_HOLDS_DOCUMENT(&it) &&
	    bson_iter_recurse(&it, &e)) {
		const char *msg = "";
		*code = 0;
		while (bson_iter_next(&e)) {
			if (!strcmp(bson_iter_key(&e), "code"))
				*code = bson_iter_as_int64(&e);
			else if (!strcmp(bson_iter_key(&e), "errmsg") && BSON_ITER_HOLDS_UTF8(&e))
				msg = bson_iter_utf8(&e, NULL);
		}
		snprintf(why, size, "write concern error: %s (code %lld)", msg, *code);
		return true;
	}
	return false;
}

static long long reply_int(const bson_t *reply, const char *path, long long dflt)
{
	bson_iter_t it, f;
	if (bson_iter_init(&it, reply) && bson_iter_find_descendant(&it, path, &f) &&
	    (BSON_ITER_HOLDS_NUMBER(&f) || BSON_ITER_HOLDS_BOOL(&f)))
		return bson_iter_as_int64(&f);
	return dflt;
}

static void count_reply(mig_doc_count *c, const char *name, const bson_t *reply)
{
	snprintf(c->name, sizeof c->name, "%s", name);
	bool fam = !strcmp(name, "findAndModify") || !strcmp(name, "findandmodify");
	c->n = reply_int(reply, fam ? "lastErrorObject.n" : "n", -1);
	c->modified = reply_int(reply, "nModified", -1);
	c->upserted = 0;
	bson_iter_t it, sub;
	if (bson_iter_init_find(&it, reply, "upserted") && BSON_ITER_HOLDS_ARRAY(&it) &&
	    bson_iter_recurse(&it, &sub))
		while (bson_iter_next(&sub))
			c->upserted++;
	if (fam && reply_int(reply, "lastErrorObject.upserted", 0))
		c->upserted = 1;
	if (fam && reply_int(reply, "lastErrorObject.updatedExisting", -1) >= 0)
		c->modified = reply_int(reply, "lastErrorObject.updatedExisting", 0) ? c->n : 0;
}

/* Runs cmd against db (or admin) with opts; false with why and code filled when the
 * server refused it, or its reply carries writeErrors or a writeConcernError. */
static bool run(mongoc_client_t *client, const char *db, const bson_t *cmd, const bson_t *opts,
		bson_t *reply, char *why, size_t size, long long *code)
{
	bson_error_t e;
	mongoc_database_t *d = mongoc_client_get_database(client, db);
	bool ok = mongoc_database_command_with_opts(d, cmd, NULL, opts, reply, &e);
	mongoc_database_destroy(d);
	*code = 0;
	if (!ok) {
		if (e.domain == MONGOC_ERROR_SERVER_SELECTION)
			snprintf(why, size, "cannot reach MongoDB: %s", e.message);
		else if (e.domain == MONGOC_ERROR_SERVER || e.domain == MONGOC_ERROR_WRITE_CONCERN)
			snprintf(why, size, "%s (code %u)", e.message, e.code);
		else
			snprintf(why, size, "%s", e.message);
		*code = e.code;
		/* a reply may still hold the writeErrors that explain it */
		char more[400];
		long long c2;
		if (reply_failed(reply, more, sizeof more, &c2)) {
			snprintf(why, size, "%s", more);
			*code = c2;
		}
		return false;
	}
	return !reply_failed(reply, why, size, code);
}

/* A ledger or lock command on the connection's database; MIG_EFAIL naming what. */
static int run_own(mig_mongo *m, const bson_t *cmd, bson_t *reply, const char *what,
		   long long *code, mig_error *err)
{
	char why[600];
	long long c = 0;
	bool ok = run(mig_mongo_client(m), mig_mongo_database_name(m), cmd, NULL, reply, why,
		      sizeof why, &c);
	if (code)
		*code = c;
	if (ok)
		return MIG_OK;
	return fail(m, err, MIG_EFAIL, "%s on '%s' failed: %s", what, mig_mongo_database_name(m),
		    why);
}

/* ---- the lock ---- */

static void lock_doc(bson_t *d, const mig_doc_state *st, long long now)
{
	BSON_APPEND_UTF8(d, "owner", st->owner);
	BSON_APPEND_UTF8(d, "host", st->host);
	BSON_APPEND_INT64(d, "pid", (int64_t)getpid());
	BSON_APPEND_DATE_TIME(d, "acquiredAt", now);
	BSON_APPEND_DATE_TIME(d, "expiresAt", now + st->lock_lease_ms);
}

/* One renewal from the keeper's own client: false with why when the lease is gone. */
static bool renew(mig_doc_state *st, char *why, size_t size)
{
	bson_t *cmd = BCON_NEW("update", BCON_UTF8(LOCK_COLL), "updates", "[", "{", "q", "{", "_id",
			       BCON_UTF8(LOCK_ID), "owner", BCON_UTF8(st->owner), "}", "u", "{",
			       "$set", "{", "expiresAt", BCON_DATE_TIME(now_ms() + st->lock_lease_ms),
			       "}", "}", "}", "]");
	append_write_concern(cmd, st);
	bson_t reply;
	long long code;
	char msg[300];
	bool ok = run(st->keep.client, mig_mongo_database_name(st->m), cmd, NULL, &reply, msg,
		      sizeof msg, &code);
	if (!ok)
		snprintf(why, size, "lost the MongoDB migration lock: cannot renew its lease: %s", msg);
	else if (reply_int(&reply, "n", 0) != 1) {
		snprintf(why, size,
			 "lost the MongoDB migration lock: another run took its lease (%s)", LOCK_COLL);
		ok = false;
	}
	bson_destroy(&reply);
	bson_destroy(cmd);
	return ok;
}

static void *keeper_main(void *arg)
{
	mig_doc_state *st = arg;
	keeper *k = &st->keep;
	long long every = st->lock_lease_ms / 3 > 0 ? st->lock_lease_ms / 3 : 1;
	pthread_mutex_lock(&k->mu);
	while (!k->stop) {
		struct timespec until;
		clock_gettime(CLOCK_REALTIME, &until);
		long long ns = until.tv_nsec + (every % 1000) * 1000000;
		until.tv_sec += every / 1000 + ns / 1000000000;
		until.tv_nsec = ns % 1000000000;
		while (!k->stop && pthread_cond_timedwait(&k->wake, &k->mu, &until) != ETIMEDOUT)
			;
		if (k->stop)
			break;
		pthread_mutex_unlock(&k->mu);
		char why[400];
		bool ok = renew(st, why, sizeof why);
		pthread_mutex_lock(&k->mu);
		if (!ok) {
			k->lost = true;
			snprintf(k->why, sizeof k->why, "%s", why);
			break;
		}
	}
	pthread_mutex_unlock(&k->mu);
	return NULL;
}

static int keeper_start(mig_doc_state *st, mig_error *err)
{
	keeper *k = &st->keep;
	const mongoc_uri_t *uri = mongoc_client_get_uri(mig_mongo_client(st->m));
	bson_error_t e;
	if (!(k->client = mongoc_client_new_from_uri_with_error(uri, &e)))
		return fail(st->m, err, MIG_EFAIL, "cannot open the lease keeper's client: %s",
			    e.message);
	mongoc_client_set_error_api(k->client, MONGOC_ERROR_API_VERSION_2);
	mongoc_client_set_appname(k->client, "migrate-lease");
	pthread_mutex_init(&k->mu, NULL);
	pthread_cond_init(&k->wake, NULL);
	k->stop = k->lost = false;
	if (pthread_create(&k->thread, NULL, keeper_main, st) != 0) {
		pthread_mutex_destroy(&k->mu);
		pthread_cond_destroy(&k->wake);
		mongoc_client_destroy(k->client);
		k->client = NULL;
		return fail(st->m, err, MIG_EFAIL, "cannot start the lease keeper: %s",
			    strerror(errno));
	}
	k->running = true;
	return MIG_OK;
}

static void keeper_stop(keeper *k)
{
	if (!k->running)
		return;
	pthread_mutex_lock(&k->mu);
	k->stop = true;
	pthread_cond_signal(&k->wake);
	pthread_mutex_unlock(&k->mu);
	pthread_join(k->thread, NULL);
	pthread_mutex_destroy(&k->mu);
	pthread_cond_destroy(&k->wake);
	mongoc_client_destroy(k->client);
	k->client = NULL;
	k->running = false;
}

/* MIG_EFAIL when the keeper lost the lease: the run stops before its next command. */
static int check_lease(mig_doc_state *st, mig_error *err)
{
	if (!st->locked || !st->keep.running)
		return MIG_OK;
	pthread_mutex_lock(&st->keep.mu);
	bool lost = st->keep.lost;
	char why[400];
	snprintf(why, sizeof why, "%s", st->keep.why);
	pthread_mutex_unlock(&st->keep.mu);
	return lost ? fail(st->m, err, MIG_EFAIL, "%s", why) : MIG_OK;
}

/* Who holds the lock, for the message of a run that gave up waiting. */
static void holder(mig_mongo *m, char *out, size_t size)
{
	out[0] = '\0';
	bson_t *cmd = BCON_NEW("find", BCON_UTF8(LOCK_COLL), "filter", "{", "_id",
			       BCON_UTF8(LOCK_ID), "}", "limit", BCON_INT32(1));
	bson_t reply;
	bson_error_t e;
	mongoc_database_t *d = mongoc_client_get_database(mig_mongo_client(m),
							   mig_mongo_database_name(m));
	if (mongoc_database_command_with_opts(d, cmd, NULL, NULL, &reply, &e)) {
		bson_iter_t it, doc;
		if (bson_iter_init(&it, &reply) &&
		    bson_iter_find_descendant(&it, "cursor.firstBatch.0", &doc) &&
		    BSON_ITER_HOLDS_DOCUMENT(&doc)) {
			bson_iter_t f;
			const char *owner = "";
			long long expires = 0;
			bson_iter_recurse(&doc, &f);
			while (bson_iter_next(&f)) {
				if (!strcmp(bson_iter_key(&f), "owner") && BSON_ITER_HOLDS_UTF8(&f))
					owner = bson_iter_utf8(&f, NULL);
				else if (!strcmp(bson_iter_key(&f), "expiresAt") &&
					 BSON_ITER_HOLDS_DATE_TIME(&f))
					expires = bson_iter_date_time(&f);
			}
			snprintf(out, size, "held by %s, lease ends in %lld ms", owner,
				 expires - now_ms());
		}
	}
	bson_destroy(&reply);
	mongoc_database_destroy(d);
	bson_destroy(cmd);
}

/* One attempt: insert the lock document, or take over one whose lease has ended. */
static int try_lock(mig_doc_state *st, bool *got, mig_error *err)
{
	long long now = now_ms();
	bson_t *cmd = BCON_NEW("insert", BCON_UTF8(LOCK_COLL));
	bson_t docs, doc;
	BSON_APPEND_ARRAY_BEGIN(cmd, "documents", &docs);
	BSON_APPEND_DOCUMENT_BEGIN(&docs, "0", &doc);
	BSON_APPEND_UTF8(&doc, "_id", LOCK_ID);
	lock_doc(&doc, st, now);
	bson_append_document_end(&docs, &doc);
	bson_append_array_end(cmd, &docs);
	append_write_concern(cmd, st);
	bson_t reply;
	long long code = 0;
	mig_error ignored = {0};
	int rc = run_own(st->m, cmd, &reply, "taking the lock", &code, &ignored);
	bson_destroy(&reply);
	bson_destroy(cmd);
	*got = rc == MIG_OK;
	if (rc == MIG_OK)
		return MIG_OK;
	if (code != CODE_DUPLICATE_KEY)
		return mig_error_set(err, ignored.code, "%s", ignored.message);
	/* held: take it over only when its lease has ended */
	bson_t set = BSON_INITIALIZER;
	lock_doc(&set, st, now);
	cmd = BCON_NEW("update", BCON_UTF8(LOCK_COLL), "updates", "[", "{", "q", "{", "_id",
		       BCON_UTF8(LOCK_ID), "expiresAt", "{", "$lt", BCON_DATE_TIME(now), "}", "}",
		       "u", "{", "$set", BCON_DOCUMENT(&set), "}", "}", "]");
	append_write_concern(cmd, st);
	rc = run_own(st->m, cmd, &reply, "taking over an expired lock", NULL, err);
	if (rc == MIG_OK)
		*got = reply_int(&reply, "n", 0) == 1;
	bson_destroy(&reply);
	bson_destroy(cmd);
	bson_destroy(&set);
	return rc;
}

int mig_doc_lock(mig_mongo *m, mig_error *err)
{
	mig_doc_state *st = state(m);
	if (!st)
		return oom(err);
	if (st->locked)
		return MIG_OK;
	if (gethostname(st->host, sizeof st->host) < 0)
		snprintf(st->host, sizeof st->host, "unknown");
	st->host[sizeof st->host - 1] = '\0';
	unsigned tag = (unsigned)now_ms() ^ ((unsigned)getpid() << 16);
	snprintf(st->owner, sizeof st->owner, "%s:%ld:%08x", st->host, (long)getpid(), tag);
	long long deadline = mono_ms() + st->lock_wait_ms;
	long long pause = 20;
	for (;;) {
		bool got = false;
		int rc = try_lock(st, &got, err);
		if (rc < 0)
			return rc;
		if (got)
			break;
		long long left = deadline - mono_ms();
		if (left <= 0) {
			char who[300];
			holder(m, who, sizeof who);
			/* busy, not broken: taken before anything is applied (exit 4) */
			return fail(m, err, MIG_EBUSY,
				    "another migrate run holds the MongoDB lock%s%s%s; gave up after "
				    "%lld ms (mongodb.lock_wait)",
				    who[0] ? " (" : "", who, who[0] ? ")" : "", st->lock_wait_ms);
		}
		sleep_ms(pause < left ? pause : left);
		if (pause < 500)
			pause *= 2;
	}
	st->locked = true;
	/* the backstop: mongod removes a lock document whose lease ended, even if no run
	 * comes to take it over */
	bson_t *cmd = BCON_NEW("createIndexes", BCON_UTF8(LOCK_COLL), "indexes", "[", "{", "key",
			       "{", "expiresAt", BCON_INT32(1), "}", "name", BCON_UTF8("expiresAt_1"),
			       "expireAfterSeconds", BCON_INT32(0), "}", "]");
	append_write_concern(cmd, st);
	bson_t reply;
	long long code = 0;
	mig_error ierr = {0};
	int rc = run_own(m, cmd, &reply, "creating the lock's TTL index", &code, &ierr);
	bson_destroy(&reply);
	bson_destroy(cmd);
	/* an index of that name made otherwise by someone else is theirs to keep */
	if (rc < 0 && code != CODE_INDEX_OPTIONS_CONFLICT && code != CODE_INDEX_KEY_SPECS_CONFLICT) {
		mig_error_set(err, ierr.code, "%s", ierr.message);
		mig_doc_unlock(m);
		return rc;
	}
	if ((rc = keeper_start(st, err)) < 0) {
		mig_doc_unlock(m);
		return rc;
	}
	return MIG_OK;
}

void mig_doc_unlock(mig_mongo *m)
{
	mig_doc_state *st = *mig_mongo_migration_state(m);
	if (!st || !st->locked)
		return;
	keeper_stop(&st->keep);
	bson_t *cmd = BCON_NEW("delete", BCON_UTF8(LOCK_COLL), "deletes", "[", "{", "q", "{", "_id",
			       BCON_UTF8(LOCK_ID), "owner", BCON_UTF8(st->owner), "}", "limit",
			       BCON_INT32(1), "}", "]");
	append_write_concern(cmd, st);
	bson_t reply;
	mig_error ignored = {0};
	/* a failure leaves the document to lapse at expiresAt (and the TTL index) */
	run_own(m, cmd, &reply, "releasing the lock", NULL, &ignored);
	bson_destroy(&reply);
	bson_destroy(cmd);
	st->locked = false;
}

void mig_doc_state_free(mig_doc_state *st)
{
	if (!st)
		return;
	if (st->locked)
		mig_doc_unlock(st->m);
	free(st);
}

/* ---- the ledger ---- */

static int compare_applied(const void *a, const void *b)
{
	const mig_applied *x = a, *y = b;
	int c = strcmp(x->module, y->module);
	if (c)
		return c;
	return x->version < y->version ? -1 : x->version > y->version;
}

int mig_doc_ledger_read(mig_mongo *m, mig_ledger *out, mig_error *err)
{
	memset(out, 0, sizeof *out);
	mongoc_collection_t *coll = mongoc_client_get_collection(mig_mongo_client(m),
								 mig_mongo_database_name(m), LEDGER);
	bson_t filter = BSON_INITIALIZER;
	/* one reply for the whole ledger: mongod caps a batch at 16 MB (some 60,000 rows) */
	bson_t *opts = BCON_NEW("batchSize", BCON_INT32(1000000));
	mongoc_cursor_t *cur = mongoc_collection_find_with_opts(coll, &filter, opts, NULL);
	const bson_t *doc;
	size_t cap = 0;
	int rc = MIG_OK;
	while (rc == MIG_OK && mongoc_cursor_next(cur, &doc)) {
		bson_iter_t it;
		const char *module = NULL, *name = "", *checksum = "";
		long long version = -1;
		bool dirty = false;
		bson_iter_init(&it, doc);
		while (bson_iter_next(&it)) {
			const char *k = bson_iter_key(&it);
			if (!strcmp(k, "module") && BSON_ITER_HOLDS_UTF8(&it))
				module = bson_iter_utf8(&it, NULL);
			else if (!strcmp(k, "version") && BSON_ITER_HOLDS_NUMBER(&it))
				version = bson_iter_as_int64(&it);
			else if (!strcmp(k, "name") && BSON_ITER_HOLDS_UTF8(&it))
				name = bson_iter_utf8(&it, NULL);
			else if (!strcmp(k, "checksum") && BSON_ITER_HOLDS_UTF8(&it))
				checksum = bson_iter_utf8(&it, NULL);
			else if (!strcmp(k, "dirty") && BSON_ITER_HOLDS_BOOL(&it))
				dirty = bson_iter_bool(&it);
		}
		if (!module || version < 0) {
			char *j = bson_as_relaxed_extended_json(doc, NULL);
			rc = fail(m, err, MIG_EFAIL,
				  "'%s.%s' holds a document that is not a migration record: %.200s",
				  mig_mongo_database_name(m), LEDGER, j ? j : "?");
			bson_free(j);
			break;
		}
		if (out->nrows == cap) {
			cap = cap ? cap * 2 : 64;
			mig_applied *grown = realloc(out->rows, cap * sizeof *grown);
			if (!grown) {
				rc = oom(err);
				break;
			}
			out->rows = grown;
		}
		mig_applied *row = &out->rows[out->nrows];
		memset(row, 0, sizeof *row);
		row->module = strdup(module);
		row->name = strdup(name);
		if (!row->module || !row->name) {
			free(row->module);
			free(row->name);
			rc = oom(err);
			break;
		}
		row->version = version;
		row->dirty = dirty;
		snprintf(row->checksum, sizeof row->checksum, "%s", checksum);
		out->nrows++;
	}
	bson_error_t e;
	if (rc == MIG_OK && mongoc_cursor_error(cur, &e))
		rc = fail(m, err, MIG_EFAIL, "reading '%s.%s' failed: %s%s", mig_mongo_database_name(m),
			  LEDGER, e.domain == MONGOC_ERROR_SERVER_SELECTION ? "cannot reach MongoDB: " : "",
			  e.message);
	mongoc_cursor_destroy(cur);
	bson_destroy(opts);
	bson_destroy(&filter);
	mongoc_collection_destroy(coll);
	if (rc < 0) {
		mig_ledger_clear(out);
		return rc;
	}
	if (out->nrows > 1)
		qsort(out->rows, out->nrows, sizeof *out->rows, compare_applied);
	out->exists = true;
	out->complete = true;
	return MIG_OK;
}

int mig_doc_transactions_supported(mig_mongo *m, bool *out, mig_error *err)
{
	bson_t *cmd = BCON_NEW("hello", BCON_INT32(1));
	bson_t reply;
	bson_error_t e;
	mongoc_database_t *d = mongoc_client_get_database(mig_mongo_client(m), "admin");
	bool ok = mongoc_database_command_simple(d, cmd, NULL, &reply, &e);
	int rc = MIG_OK;
	if (!ok) {
		rc = fail(m, err, MIG_EFAIL, "asking MongoDB what it is failed: %s", e.message);
	} else {
		bson_iter_t it;
		bool set = bson_iter_init_find(&it, &reply, "setName") && BSON_ITER_HOLDS_UTF8(&it);
		bool mongos = bson_iter_init_find(&it, &reply, "msg") && BSON_ITER_HOLDS_UTF8(&it) &&
			      !strcmp(bson_iter_utf8(&it, NULL), "isdbgrid");
		*out = set || mongos;
	}
	bson_destroy(&reply);
	bson_destroy(cmd);
	mongoc_database_destroy(d);
	return rc;
}

/* ---- applying a file ---- */

static void ledger_id(char *out, size_t size, const char *module, long long version)
{
	snprintf(out, size, "%s/%lld", module, version);
}

/* The update statement that clears the deferred dirty mark. */
static void append_clear(bson_t *updates, const char *key, const mig_doc_state *st)
{
	bson_t *stmt = BCON_NEW("q", "{", "_id", BCON_UTF8(st->pending_id), "}", "u", "{", "$set",
				"{", "dirty", BCON_BOOL(false), "ms", BCON_INT64(st->pending_ms), "}",
				"}");
	BSON_APPEND_DOCUMENT(updates, key, stmt);
	bson_destroy(stmt);
}

/* The update statement that records step (upsert) with dirty set. */
static void append_record(bson_t *updates, const char *key, const mig_doc_step *s,
			  const char *id, bool dirty, long long ms)
{
	bson_t *stmt = BCON_NEW("q", "{", "_id", BCON_UTF8(id), "}", "u", "{", "$set", "{",
				"module", BCON_UTF8(s->module), "version", BCON_INT64(s->version),
				"name", BCON_UTF8(s->name), "checksum",
				BCON_UTF8(s->checksum ? s->checksum : ""), "applied_at",
				BCON_DATE_TIME(now_ms()), "ms", BCON_INT64(ms), "dirty",
				BCON_BOOL(dirty), "}", "}", "upsert", BCON_BOOL(true));
	BSON_APPEND_DOCUMENT(updates, key, stmt);
	bson_destroy(stmt);
}

/* Sends one ledger update with the deferred clearing first (when any) and then, when
 * step is non-NULL, step's record. */
static int ledger_update(mig_doc_state *st, const mig_doc_step *step, const char *id,
			 bool dirty, long long ms, const bson_t *session_opts, mig_error *err)
{
	bson_t *cmd = BCON_NEW("update", BCON_UTF8(LEDGER), "ordered", BCON_BOOL(true));
	bson_t updates;
	int k = 0;
	char key[16];
	BSON_APPEND_ARRAY_BEGIN(cmd, "updates", &updates);
	if (st->pending) {
		snprintf(key, sizeof key, "%d", k++);
		append_clear(&updates, key, st);
	}
	if (step) {
		snprintf(key, sizeof key, "%d", k++);
		append_record(&updates, key, step, id, dirty, ms);
	}
	bson_append_array_end(cmd, &updates);
	if (!session_opts)
		append_write_concern(cmd, st);
	bson_t reply;
	char why[600];
	long long code;
	bool ok = run(mig_mongo_client(st->m), mig_mongo_database_name(st->m), cmd, session_opts,
		      &reply, why, sizeof why, &code);
	bson_destroy(&reply);
	bson_destroy(cmd);
	if (!ok)
		return fail(st->m, err, MIG_EFAIL, "recording the migration in '%s.%s' failed: %s",
			    mig_mongo_database_name(st->m), LEDGER, why);
	st->pending = false;
	return MIG_OK;
}

static int ledger_delete(mig_doc_state *st, const char *id, const bson_t *session_opts,
			 long long *deleted, mig_error *err)
{
	bson_t *cmd = BCON_NEW("delete", BCON_UTF8(LEDGER), "deletes", "[", "{", "q", "{", "_id",
			       BCON_UTF8(id), "}", "limit", BCON_INT32(1), "}", "]");
	if (!session_opts)
		append_write_concern(cmd, st);
	bson_t reply;
	char why[600];
	long long code;
	bool ok = run(mig_mongo_client(st->m), mig_mongo_database_name(st->m), cmd, session_opts,
		      &reply, why, sizeof why, &code);
	if (ok && deleted)
		*deleted = reply_int(&reply, "n", 0);
	bson_destroy(&reply);
	bson_destroy(cmd);
	if (!ok)
		return fail(st->m, err, MIG_EFAIL, "removing '%s' from '%s.%s' failed: %s", id,
			    mig_mongo_database_name(st->m), LEDGER, why);
	return MIG_OK;
}

static bool is_write_command(const char *name, const bson_t *cmd)
{
	static const char *const writes[] = {
		"insert", "update", "delete", "findAndModify", "findandmodify", "create", "drop",
		"collMod", "createIndexes", "dropIndexes", "renameCollection", "dropDatabase",
		"convertToCapped", "cloneCollectionAsCapped"};
	for (size_t i = 0; i < sizeof writes / sizeof *writes; i++)
		if (!strcmp(name, writes[i]))
			return true;
	return !strcmp(name, "aggregate") && writing_stage(cmd);
}

/* "coll" -> "<db>.coll" for renameCollection, which runs against admin with namespaces. */
static void append_namespace(bson_t *out, const char *key, const bson_iter_t *it, const char *db)
{
	if (BSON_ITER_HOLDS_UTF8(it) && !strchr(bson_iter_utf8(it, NULL), '.')) {
		char ns[512];
		snprintf(ns, sizeof ns, "%s.%s", db, bson_iter_utf8(it, NULL));
		BSON_APPEND_UTF8(out, key, ns);
	} else {
		bson_append_iter(out, key, -1, it);
	}
}

/* The command as sent: the file's, with the database's namespaces for renameCollection,
 * and mongodb.write_concern, max_time_ms and commit_quorum where the file sets none. */
static bson_t *prepare(const mig_doc_state *st, const bson_t *cmd, bool in_txn)
{
	const char *name = command_name(cmd);
	bool rename = !strcmp(name, "renameCollection");
	bson_t *out = bson_new();
	bson_iter_t it;
	bson_iter_init(&it, cmd);
	while (bson_iter_next(&it)) {
		const char *k = bson_iter_key(&it);
		if (rename && (!strcmp(k, "renameCollection") || !strcmp(k, "to")))
			append_namespace(out, k, &it, mig_mongo_database_name(st->m));
		else
			bson_append_iter(out, k, -1, &it);
	}
	if (!in_txn && is_write_command(name, cmd) && !bson_has_field(cmd, "writeConcern"))
		append_write_concern(out, st);
	if (st->max_time_ms > 0 && !bson_has_field(cmd, "maxTimeMS"))
		BSON_APPEND_INT64(out, "maxTimeMS", st->max_time_ms);
	if (st->commit_quorum[0] && !strcmp(name, "createIndexes") &&
	    !bson_has_field(cmd, "commitQuorum")) {
		if (strspn(st->commit_quorum, "0123456789") == strlen(st->commit_quorum))
			BSON_APPEND_INT32(out, "commitQuorum", atoi(st->commit_quorum));
		else
			BSON_APPEND_UTF8(out, "commitQuorum", st->commit_quorum);
	}
	return out;
}

/* What a failing command was, for its message: its name and collection. */
static void describe(char *out, size_t size, const bson_t *cmd)
{
	bson_iter_t it;
	const char *name = command_name(cmd);
	if (bson_iter_init_find(&it, cmd, name) && BSON_ITER_HOLDS_UTF8(&it))
		snprintf(out, size, "'%s' on '%s'", name, bson_iter_utf8(&it, NULL));
	else
		snprintf(out, size, "'%s'", name);
}

static int run_commands(mig_doc_state *st, const mig_doc_step *s, const bson_t *session_opts,
			mig_doc_result *res, mig_error *err)
{
	const mig_doc_file *f = s->file;
	res->counts = calloc(f->n ? f->n : 1, sizeof *res->counts);
	if (!res->counts)
		return oom(err);
	for (size_t i = 0; i < f->n; i++) {
		int rc = check_lease(st, err);
		if (rc < 0)
			return rc;
		bson_t *cmd = prepare(st, f->commands[i], session_opts != NULL);
		const char *name = command_name(cmd);
		const char *db = !strcmp(name, "renameCollection") ? "admin"
								   : mig_mongo_database_name(st->m);
		bson_t reply;
		char why[600];
		long long code;
		bool ok = run(mig_mongo_client(st->m), db, cmd, session_opts, &reply, why, sizeof why,
			      &code);
		if (ok)
			count_reply(&res->counts[res->ncounts++], name, &reply);
		bson_destroy(&reply);
		if (!ok) {
			char what[200];
			describe(what, sizeof what, f->commands[i]);
			bson_destroy(cmd);
			return fail(st->m, err, MIG_EFAIL, "element %zu, %s, failed: %s (%s:%u)", i,
				    what, why, s->path, f->lines[i]);
		}
		bson_destroy(cmd);
	}
	return MIG_OK;
}

/* A file with "transaction": true: its commands and its ledger write in one transaction,
 * committed with mongodb.write_concern, or aborted so that nothing stays. */
static int apply_transaction(mig_doc_state *st, const mig_doc_step *s, const char *id,
			     mig_doc_result *res, long long start, mig_error *err)
{
	mongoc_client_t *client = mig_mongo_client(st->m);
	bson_error_t e;
	mongoc_client_session_t *cs = mongoc_client_start_session(client, NULL, &e);
	if (!cs)
		return fail(st->m, err, MIG_EFAIL, "cannot start a session: %s (%s)", e.message,
			    s->path);
	mongoc_transaction_opt_t *topts = mongoc_transaction_opts_new();
	mongoc_write_concern_t *wc = write_concern(st);
	mongoc_transaction_opts_set_write_concern(topts, wc);
	bson_t opts = BSON_INITIALIZER;
	int rc = MIG_OK;
	if (!mongoc_client_session_start_transaction(cs, topts, &e) ||
	    !mongoc_client_session_append(cs, &opts, &e))
		rc = fail(st->m, err, MIG_EFAIL, "cannot start a transaction: %s (%s)", e.message,
			  s->path);
	if (rc == MIG_OK)
		rc = run_commands(st, s, &opts, res, err);
	if (rc == MIG_OK && s->up)
		rc = ledger_update(st, s, id, false, mono_ms() - start, &opts, err);
	if (rc == MIG_OK && !s->up)
		rc = ledger_delete(st, id, &opts, NULL, err);
	if (rc == MIG_OK) {
		bson_t reply;
		if (!mongoc_client_session_commit_transaction(cs, &reply, &e))
			rc = fail(st->m, err, MIG_EFAIL, "committing the transaction failed: %s (%s)",
				  e.message, s->path);
		bson_destroy(&reply);
	}
	if (rc < 0 && mongoc_client_session_in_transaction(cs))
		mongoc_client_session_abort_transaction(cs, NULL);
	bson_destroy(&opts);
	mongoc_write_concern_destroy(wc);
	mongoc_transaction_opts_destroy(topts);
	mongoc_client_session_destroy(cs);
	return rc;
}

int mig_doc_apply(mig_mongo *m, const mig_doc_step *s, mig_doc_result *res, mig_error *err)
{
	memset(res, 0, sizeof *res);
	mig_doc_state *st = state(m);
	if (!st)
		return oom(err);
	int rc = check_lease(st, err);
	if (rc < 0)
		return rc;
	char id[256];
	ledger_id(id, sizeof id, s->module, s->version);
	long long start = mono_ms();
	if (s->file->transaction) {
		/* the deferred clearing goes first, outside the transaction */
		if (st->pending && (rc = ledger_update(st, NULL, NULL, false, 0, NULL, err)) < 0)
			return rc;
		rc = apply_transaction(st, s, id, res, start, err);
		res->ms = mono_ms() - start;
		return rc;
	}
	/* the dirty mark (with the previous version's clearing) */
	if (s->up)
		rc = ledger_update(st, s, id, true, 0, NULL, err);
	else if (!st->pending || (rc = ledger_update(st, NULL, NULL, false, 0, NULL, err)) == MIG_OK) {
		bson_t *cmd = BCON_NEW("update", BCON_UTF8(LEDGER), "updates", "[", "{", "q", "{",
				       "_id", BCON_UTF8(id), "}", "u", "{", "$set", "{", "dirty",
				       BCON_BOOL(true), "}", "}", "}", "]");
		append_write_concern(cmd, st);
		bson_t reply;
		rc = run_own(m, cmd, &reply, "marking the version dirty", NULL, err);
		bson_destroy(&reply);
		bson_destroy(cmd);
	}
	if (rc == MIG_OK)
		rc = run_commands(st, s, NULL, res, err);
	res->ms = mono_ms() - start;
	if (rc < 0)
		return rc; /* the version stays dirty: `migrate resolve` clears it */
	if (!s->up)
		return ledger_delete(st, id, NULL, NULL, err);
	st->pending = true;
	snprintf(st->pending_id, sizeof st->pending_id, "%s", id);
	st->pending_ms = res->ms;
	return MIG_OK;
}

int mig_doc_finish(mig_mongo *m, mig_error *err)
{
	mig_doc_state *st = *mig_mongo_migration_state(m);
	if (!st || !st->pending)
		return MIG_OK;
	return ledger_update(st, NULL, NULL, false, 0, NULL, err);
}

int mig_doc_record(mig_mongo *m, const char *module, long long version, const char *name,
		   const char *checksum, bool applied, mig_error *err)
{
	mig_doc_state *st = state(m);
	if (!st)
		return oom(err);
	char id[256];
	ledger_id(id, sizeof id, module, version);
	if (applied) {
		mig_doc_step s = {.module = module, .version = version, .name = name,
				  .checksum = checksum, .up = true};
		return ledger_update(st, &s, id, false, 0, NULL, err);
	}
	long long deleted = 0;
	int rc = ledger_delete(st, id, NULL, &deleted, err);
	if (rc == MIG_OK && deleted == 0)
		rc = mig_error_set(err, MIG_EUSAGE,
				   "%s/%lld is not recorded as applied in MongoDB: nothing to roll back",
				   module, version);
	return rc;
}

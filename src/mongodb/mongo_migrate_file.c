/* Versioned MongoDB migrations: reading and checking a file (see mongo_migrate.c for the
 * whole). A file is a JSON array of database commands as db.runCommand takes them, in
 * MongoDB Extended JSON v2 (canonical or relaxed), or {"transaction": true, "commands":
 * [...]}. libbson reads the Extended JSON (key order kept, relaxed $date accepted); a small
 * scan of the text finds where each command starts, so an error names its line and element
 * index. Nothing here touches a database. */
/* libmongoc's headers use struct addrinfo, which -std=c11 hides without a POSIX request. */
#define _POSIX_C_SOURCE 200809L

#include "mongodb/mongo_migrate_private.h"
#include "util/fs.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_FILE_BYTES ((size_t)64 << 20)

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
const char *mig_doc_writing_stage(const bson_t *cmd)
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

const char *mig_doc_command_name(const bson_t *cmd)
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
		return mig_doc_oom(err);
	f->commands[f->n++] = cmd;
	if (bson_count_keys(cmd) == 0)
		return mig_error_set(err, MIG_EUSAGE, "element %zu is an empty command (%s:%u)", i,
				     f->path, line);
	const char *name = mig_doc_command_name(cmd);
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
		const char *stage = !strcmp(name, "aggregate") ? mig_doc_writing_stage(cmd) : NULL;
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
			rc = mig_doc_oom(err);
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
		return mig_doc_oom(err);
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

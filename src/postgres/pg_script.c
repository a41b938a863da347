/* The script a DBA can review and run with `psql -v ON_ERROR_STOP=1 -f`: a guard that
 * stops unless schema_migrations holds exactly the rows the plan was made from, then per
 * migration what pg_apply.c does, ledger row and checksum included. Object tracking
 * (schema_migrations_objects) is not written: verify checks such migrations' checksums
 * and dirty marks, but cannot name objects they created that are dropped later. */
#include "postgres/pg_script.h"

#include <stdlib.h>
#include <string.h>

#include "util/checksum.h"
#include "util/sql_split.h"

/* text as a standard-conforming SQL literal */
static void literal(FILE *out, const char *text)
{
	fputc('\'', out);
	for (const char *p = text; *p; p++) {
		if (*p == '\'')
			fputc('\'', out);
		fputc(*p, out);
	}
	fputc('\'', out);
}

/* The digest the guard compares: one "module version checksum[ dirty]" line per row, in
 * the ledger's order (module as strcmp sorts, then version). */
static int ledger_digest(char hex[MIG_CHECKSUM_HEX], const mig_ledger *ledger, mig_error *err)
{
	hex[0] = '\0';
	if (!ledger->nrows)
		return MIG_OK;
	size_t cap = 0;
	for (size_t i = 0; i < ledger->nrows; i++)
		cap += strlen(ledger->rows[i].module) + strlen(ledger->rows[i].checksum) + 48;
	char *text = malloc(cap);
	if (!text)
		return mig_error_set(err, MIG_EFAIL, "out of memory");
	size_t used = 0;
	for (size_t i = 0; i < ledger->nrows; i++) {
		const mig_applied *r = &ledger->rows[i];
		used += (size_t)snprintf(text + used, cap - used, "%s%s %lld %s%s", i ? "\n" : "",
					 r->module, r->version, r->checksum, r->dirty ? " dirty" : "");
	}
	int rc = mig_sha256_hex(hex, text, used) < 0
			 ? mig_error_set(err, MIG_EFAIL, "cannot compute the ledger digest")
			 : MIG_OK;
	free(text);
	return rc;
}

static void guard(FILE *out, const mig_sql_config *cfg, const char *digest, size_t nrows)
{
	fputs("\\set ON_ERROR_STOP on\n"
	      "SET standard_conforming_strings = on;\n"
	      "SET client_encoding = 'UTF8';\n",
	      out);
	if (cfg->lock_mode == MIG_LOCK_ADVISORY)
		fprintf(out,
			"-- the lock `migrate up` takes: held by this psql session until it ends\n"
			"DO $migrate_lock$ BEGIN\n"
			"  IF NOT pg_try_advisory_lock(%lld) THEN\n"
			"    RAISE EXCEPTION 'another migrate run holds the lock: run this script later';\n"
			"  END IF;\n"
			"END $migrate_lock$;\n",
			mig_pg_lock_key(cfg));
	fprintf(out,
		"-- stop unless schema_migrations holds exactly the %zu row%s this script was written for\n"
		"DO $migrate_guard$\n"
		"DECLARE found text := '';\n"
		"BEGIN\n"
		"  IF to_regclass('schema_migrations') IS NOT NULL THEN\n"
		"    SELECT coalesce(encode(sha256(convert_to(string_agg(module || ' ' || version || ' '\n"
		"           || checksum || CASE WHEN dirty THEN ' dirty' ELSE '' END, E'\\n'\n"
		"           ORDER BY module COLLATE \"C\", version), 'UTF8')), 'hex'), '')\n"
		"      INTO found FROM schema_migrations;\n"
		"  END IF;\n"
		"  IF found IS DISTINCT FROM '%s' THEN\n"
		"    RAISE EXCEPTION 'schema_migrations changed since this script was written: write it again with migrate up --dry-run --sql';\n"
		"  END IF;\n"
		"END $migrate_guard$;\n\n",
		nrows, nrows == 1 ? "" : "s", digest);
	fprintf(out, "%s;\n\n", mig_pg_ledger_ddl);
}

/* The file's SQL (without a byte-order mark), ended so that what follows is a new
 * statement. */
static void body(FILE *out, const mig_step *step)
{
	const char *sql = step->sql;
	size_t len = step->sql_len;
	if (len >= 3 && !memcmp(sql, "\xEF\xBB\xBF", 3)) {
		sql += 3;
		len -= 3;
	}
	fwrite(sql, 1, len, out);
	if (len && sql[len - 1] != '\n')
		fputc('\n', out);
	/* a last statement without its ';' gets one on a line of its own (after any
	 * trailing comment), so the ledger insert is not glued to it */
	mig_sql_stmt *stmts = NULL;
	size_t n = 0;
	if (mig_sql_split(&stmts, &n, sql, len) < 0 ||
	    (n && sql[stmts[n - 1].offset + stmts[n - 1].length - 1] != ';'))
		fputs(";\n", out);
	free(stmts);
}

/* as pg_apply.c: what the file SET for the session is undone before the ledger row */
static const char reset_session[] = "RESET search_path;\nRESET ROLE;\n";

static void timeouts(FILE *out, const mig_sql_config *cfg, const char *scope)
{
	if (cfg->lock_timeout_ms >= 0)
		fprintf(out, "%s lock_timeout = %lld;\n", scope, cfg->lock_timeout_ms);
	if (cfg->statement_timeout_ms >= 0)
		fprintf(out, "%s statement_timeout = %lld;\n", scope, cfg->statement_timeout_ms);
}

static void key(FILE *out, const mig_step *step, bool with_name)
{
	literal(out, step->module);
	fprintf(out, ", %lld", step->version);
	if (with_name) {
		fputs(", ", out);
		literal(out, step->name);
		fputs(", ", out);
		literal(out, step->checksum ? step->checksum : "");
		fputs(", ", out);
		literal(out, step->rendered_checksum ? step->rendered_checksum : "");
	}
}

/* The text of a hook as body() writes a file's. */
static void hook_body(FILE *out, const mig_hook *hook)
{
	mig_step as_step = {.sql = hook->sql, .sql_len = hook->len};
	body(out, &as_step);
}

/* before_up / after_up: its own transaction, as pg_apply.c's mig_pg_run_hook */
static void hook_transaction(FILE *out, const mig_sql_config *cfg, const mig_hook *hook)
{
	if (!hook || !hook->sql)
		return;
	fprintf(out, "-- postgres.hooks.%s (%s)\nBEGIN;\n", hook->name, hook->path);
	timeouts(out, cfg, "SET LOCAL");
	hook_body(out, hook);
	fputs("COMMIT;\n", out);
	fputs(reset_session, out);
	fputc('\n', out);
}

int mig_pg_script(FILE *out, const mig_sql_config *cfg, const mig_ledger *ledger,
		  const mig_step *steps, size_t n, const mig_hook *before_up,
		  const mig_hook *after_up, mig_error *err)
{
	char digest[MIG_CHECKSUM_HEX];
	int rc = ledger_digest(digest, ledger, err);
	if (rc < 0)
		return rc;
	fprintf(out, "-- written by migrate up --dry-run --sql: %zu migration%s\n"
		     "-- run with: psql -v ON_ERROR_STOP=1 -f FILE\n",
		n, n == 1 ? "" : "s");
	guard(out, cfg, digest, ledger->nrows);
	hook_transaction(out, cfg, before_up);
	for (size_t i = 0; i < n; i++) {
		const mig_step *s = &steps[i];
		if (s->skip) { /* as pg_apply.c: the row alone, marked skipped */
			fprintf(out,
				"-- %s/%lld_%s (%s): skipped, its -- migrate:env excludes this environment\n"
				"INSERT INTO schema_migrations (module, version, name, checksum,"
				" rendered_checksum, duration_ms, skipped) VALUES (",
				s->module, s->version, s->name, s->path);
			key(out, s, true);
			fputs(", 0, true);\n\n", out);
			continue;
		}
		if (s->repeatable)
			fprintf(out, "-- repeatable %s/%s (%s)\n", s->module, s->name, s->path);
		else
			fprintf(out, "-- %s/%lld_%s (%s)%s\n", s->module, s->version, s->name,
				s->path, s->in_transaction ? "" : ", outside a transaction");
		if (s->in_transaction) {
			fputs("BEGIN;\n", out);
			timeouts(out, cfg, "SET LOCAL");
			body(out, s);
			if (s->after_each && s->after_each->sql) {
				fprintf(out, "-- postgres.hooks.after_each (%s)\n", s->after_each->path);
				hook_body(out, s->after_each);
			}
			fputs(reset_session, out);
			if (s->repeatable) { /* as pg_ledger.c's mig_pg_ledger_repeatable */
				fputs("INSERT INTO schema_migrations_repeatable (module, name, checksum,"
				      " rendered_checksum, failed_checksum, applied_at, duration_ms)"
				      " VALUES (", out);
				literal(out, s->module);
				fputs(", ", out);
				literal(out, s->name);
				fputs(", ", out);
				literal(out, s->checksum ? s->checksum : "");
				fputs(", ", out);
				literal(out, s->rendered_checksum ? s->rendered_checksum : "");
				fputs(", '', now(), (extract(epoch FROM clock_timestamp() - now()) * 1000)::bigint)\n"
				      "  ON CONFLICT (module, name) DO UPDATE SET checksum = EXCLUDED.checksum,"
				      " rendered_checksum = EXCLUDED.rendered_checksum, failed_checksum = '',"
				      " applied_at = EXCLUDED.applied_at, duration_ms = EXCLUDED.duration_ms;\n"
				      "COMMIT;\n\n", out);
				continue;
			}
			fputs("INSERT INTO schema_migrations (module, version, name, checksum,"
			      " rendered_checksum, duration_ms) VALUES (", out);
			key(out, s, true);
			fputs(", (extract(epoch FROM clock_timestamp() - now()) * 1000)::bigint);\n"
			      "COMMIT;\n\n", out);
			continue;
		}
		/* dirty until the last statement succeeds, as `migrate up` marks it */
		fputs("INSERT INTO schema_migrations (module, version, name, checksum, rendered_checksum,"
		      " dirty) VALUES (", out);
		key(out, s, true);
		fputs(", true)\n  ON CONFLICT (module, version) DO UPDATE SET dirty = true;\n", out);
		timeouts(out, cfg, "SET");
		body(out, s);
		if (s->after_each && s->after_each->sql) {
			fprintf(out, "-- postgres.hooks.after_each (%s)\n", s->after_each->path);
			hook_body(out, s->after_each);
		}
		fputs(reset_session, out);
		if (cfg->lock_timeout_ms >= 0)
			fputs("RESET lock_timeout;\n", out);
		if (cfg->statement_timeout_ms >= 0)
			fputs("RESET statement_timeout;\n", out);
		fputs("UPDATE schema_migrations SET dirty = false, applied_at = now(),\n"
		      "  duration_ms = (extract(epoch FROM clock_timestamp() - applied_at) * 1000)::bigint\n"
		      "  WHERE module = ", out);
		literal(out, s->module);
		fprintf(out, " AND version = %lld;\n\n", s->version);
	}
	hook_transaction(out, cfg, after_up);
	if (fflush(out) != 0 || ferror(out))
		return mig_error_set(err, MIG_EFAIL, "cannot write the script");
	return MIG_OK;
}

/* `migrate lint`: the lint rules over the pending files (or every file, or the files
 * named), sharpened by what the database says about each table; and the same check as
 * `up`'s guard, which only speaks about tables that exist and are large. */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "cli/cmd_lint.h"
#include "core/directive.h"
#include "core/engine.h"
#include "util/fs.h"
#include "lint/lint.h"
#include "lint/lint_report.h"

int mig_check_lint_args(const mig_args *args, mig_error *err)
{
	if (args->npositional && (args->all || args->module))
		return mig_error_set(err, MIG_EUSAGE,
				     "'lint FILE...' lints the files named: drop --all and --module");
	if (args->observe && (args->npositional || args->all))
		return mig_error_set(err, MIG_EUSAGE,
				     "'lint --observe' observes the pending files on a clone of the "
				     "database: drop %s", args->all ? "--all" : "the files named");
	return MIG_OK;
}

/* Lints one file into rep: a file that does not parse is recorded, not an error here. */
static int lint_file(mig_lint_report *rep, const char *path, const mig_lint_context *base,
		     const mig_config *cfg, mig_error *err)
{
	char *sql = NULL, *rendered = NULL;
	size_t len = 0, rendered_len = 0;
	int rc = mig_read_file(&sql, &len, path, MIG_SQL_MAX_BYTES, "migration file", err);
	if (rc < 0)
		return rc;
	/* the text as `up` would run it: envsub spans rendered, every line where it was */
	if ((rc = mig_engine_render(&rendered, &rendered_len, path, sql, len, cfg, err)) < 0) {
		free(sql);
		return rc;
	}
	if (rendered) {
		free(sql);
		sql = rendered;
		len = rendered_len;
	}
	mig_lint_context ctx = *base;
	mig_directives dirs;
	mig_directives_scan(&dirs, sql, len);
	ctx.in_transaction = !mig_sql_wants_no_transaction(sql, len);
	ctx.contract = dirs.contract;
	mig_lint_result result;
	rc = mig_lint_sql(&result, sql, len, &ctx);
	free(sql);
	if (rc == MIG_EFAIL) {
		mig_lint_result_clear(&result);
		return mig_error_set(err, MIG_EFAIL, "out of memory linting '%s'", path);
	}
	if (mig_lint_report_add(rep, path, rc == MIG_ESCHEMA, &result) < 0) {
		mig_lint_result_clear(&result);
		return mig_error_set(err, MIG_EFAIL, "out of memory");
	}
	return MIG_OK;
}

typedef enum keep_rule {
	KEEP_UNLESS_MISSING, /* lint: drop findings on tables the database does not have yet */
	KEEP_LARGE_ONLY,     /* up: keep only findings on existing tables of >= min_rows */
} keep_rule;

/* Asks the database about every table a finding names (one query), records the row
 * estimates and drops the findings keep says to. */
static int apply_facts(mig_lint_report *rep, const mig_session *s, keep_rule keep,
		       long long min_rows, mig_error *err)
{
	size_t n = 0, cap = 0;
	mig_table_fact *facts = NULL;
	for (size_t i = 0; i < rep->nfiles; i++)
		for (size_t k = 0; k < rep->files[i].result.nfindings; k++) {
			const char *t = rep->files[i].result.findings[k].table;
			bool seen = !t;
			for (size_t j = 0; j < n && !seen; j++)
				seen = !strcmp(facts[j].name, t);
			if (seen)
				continue;
			if (n == cap) {
				cap = cap ? 2 * cap : 16;
				mig_table_fact *grown = realloc(facts, cap * sizeof *facts);
				if (!grown) {
					for (size_t j = 0; j < n; j++)
						free((char *)facts[j].name);
					free(facts);
					return mig_error_set(err, MIG_EFAIL, "out of memory");
				}
				facts = grown;
			}
			/* a copy: the findings that name it may be dropped below */
			char *name = strdup(t);
			if (!name) {
				for (size_t j = 0; j < n; j++)
					free((char *)facts[j].name);
				free(facts);
				return mig_error_set(err, MIG_EFAIL, "out of memory");
			}
			facts[n++] = (mig_table_fact){name, false, -1};
		}
	int major;
	int rc = n ? s->drv->table_facts(s->conn, facts, n, &major, err) : MIG_OK;
	for (size_t i = 0; rc == MIG_OK && i < rep->nfiles; i++) {
		mig_lint_result *r = &rep->files[i].result;
		size_t kept = 0;
		for (size_t k = 0; k < r->nfindings; k++) {
			mig_lint_finding *f = &r->findings[k];
			const mig_table_fact *fact = NULL;
			for (size_t j = 0; f->table && j < n && !fact; j++)
				if (!strcmp(facts[j].name, f->table))
					fact = &facts[j];
			if (fact && fact->exists)
				f->rows = fact->rows;
			bool drop = keep == KEEP_LARGE_ONLY
					    ? !fact || !fact->exists || fact->rows < (double)min_rows
					    : fact && !fact->exists;
			if (drop) {
				free(f->message);
				free(f->lock);
				free(f->table);
			} else {
				r->findings[kept++] = *f;
			}
		}
		r->nfindings = kept;
	}
	for (size_t j = 0; j < n; j++)
		free((char *)facts[j].name);
	free(facts);
	return rc;
}

/* The outcome of a run: 2 naming the first file that does not parse, 3 on an error. */
static int outcome(const mig_lint_report *rep, mig_error *err)
{
	size_t errors = 0;
	for (size_t i = 0; i < rep->nfiles; i++) {
		const mig_lint_report_file *f = &rep->files[i];
		if (f->syntax)
			return mig_error_set(err, MIG_EUSAGE, "cannot parse '%s:%u': %s", f->path,
					     f->result.syntax_line, f->result.syntax_message);
		for (size_t k = 0; k < f->result.nfindings; k++)
			errors += f->result.findings[k].rule->severity == MIG_LINT_ERROR;
	}
	if (errors)
		return mig_error_set(err, MIG_ESCHEMA, "lint found %zu error%s", errors,
				     errors == 1 ? "" : "s");
	return MIG_OK;
}

/* Whether a config file should be read for `lint FILE...`: one was asked for, or the
 * default one is there. */
static bool config_wanted(const mig_args *a)
{
	if (!a->npositional || a->config_path)
		return true;
	const char *env = getenv("APP_CONFIG");
	return (env && *env) || access(mig_config_choose_path(NULL), F_OK) == 0;
}

int mig_cmd_lint(mig_context *ctx, mig_error *err)
{
	const mig_args *a = &ctx->args;
	mig_session s = {0};
	mig_lint_report rep = {0};
	bool connected = false, all = a->all;
	int rc = MIG_OK;
	if (config_wanted(a) &&
	    (rc = mig_config_load(&ctx->cfg, mig_config_choose_path(a->config_path), err)) < 0)
		return rc;
	const mig_config *cfg = ctx->cfg;
	mig_lint_context base = {.in_transaction = true,
				 .lock_timeout_ms = cfg ? cfg->pg.lock_timeout_ms : -1,
				 .pg_major = a->pg_version};
	if (cfg && cfg->has_postgres) {
		mig_error conn_err = {0};
		if (mig_session_open(&s, ctx->registry, &cfg->pg, 0, &conn_err) == MIG_OK) {
			connected = true;
		} else if (a->observe) {
			*err = conn_err;
			return mig_error_set(err, MIG_EFAIL, "'lint --observe' needs the database: %s",
					     conn_err.message);
		} else if (!all && !a->npositional) {
			fprintf(stderr, "migrate: note: %s: linting every file\n", conn_err.message);
			all = true;
		}
	} else if (a->observe) {
		return mig_error_set(err, MIG_EUSAGE,
				     "'lint --observe' needs a postgres: section in the config");
	} else {
		all = true;
	}
	bool facts = connected && s.drv->table_facts;
	int major = 0;
	if (facts && s.drv->table_facts(s.conn, NULL, 0, &major, err) == MIG_OK)
		base.server_major = major;
	if (!base.pg_major)
		base.pg_major = base.server_major; /* --pg-version wins over the server's */
	if (a->npositional) {
		for (int i = 0; i < a->npositional && rc == MIG_OK; i++)
			rc = lint_file(&rep, a->positional[i], &base, cfg, err);
	} else {
		if ((rc = mig_plan_build(&ctx->plan, cfg, mig_plan_choose_root(a->root, cfg), err)) < 0)
			goto done;
		if (a->module && !mig_plan_module(ctx->plan, a->module)) {
			rc = mig_error_set(err, MIG_EUSAGE, "module '%s' is not enabled in the config",
					   a->module);
			goto done;
		}
		for (size_t i = 0; i < ctx->plan->nmodules && rc == MIG_OK; i++) {
			const mig_module_plan *mod = &ctx->plan->modules[i];
			if (a->module && strcmp(a->module, mod->name))
				continue;
			for (size_t k = 0; k < mod->nmigrations && rc == MIG_OK; k++) {
				const mig_migration *m = &mod->migrations[k];
				if (!all && mig_ledger_find(&s.ledger, mod->name, m->version))
					continue;
				rc = lint_file(&rep, m->up_path, &base, cfg, err);
			}
			/* repeatables run again whenever they change: every one is linted */
			for (size_t k = 0; k < mod->nrepeatables && rc == MIG_OK; k++)
				rc = lint_file(&rep, mod->repeatables[k].as_migration.up_path, &base,
					       cfg, err);
		}
	}
	if (rc == MIG_OK && a->observe)
		rc = mig_lint_observe(&rep, ctx, &s, err);
	if (rc == MIG_OK && facts)
		rc = apply_facts(&rep, &s, KEEP_UNLESS_MISSING, 0, err);
	if (rc < 0)
		goto done;
	if (a->format == MIG_FORMAT_JSON)
		rc = mig_lint_report_json(ctx->out, &rep, err);
	else if (a->format == MIG_FORMAT_GITHUB)
		mig_lint_report_github(ctx->out, &rep);
	else if (a->format == MIG_FORMAT_SARIF)
		rc = mig_lint_report_sarif(ctx->out, &rep, err);
	else
		mig_lint_report_text(ctx->out, &rep);
	if (rc == MIG_OK)
		rc = outcome(&rep, err);
done:
	mig_lint_report_clear(&rep);
	mig_session_close(&s);
	return rc;
}

int mig_lint_guard_up(void *vet_ctx, mig_session *s, const mig_run *run, mig_error *err)
{
	mig_context *ctx = vet_ctx;
	const mig_config *cfg = ctx->cfg;
	if (ctx->args.no_lint || !cfg || cfg->lint_mode == MIG_LINT_OFF || !run->nitems ||
	    !s->drv->table_facts)
		return MIG_OK;
	mig_lint_report rep = {0};
	mig_lint_context base = {.in_transaction = true, .lock_timeout_ms = cfg->pg.lock_timeout_ms};
	int rc = s->drv->table_facts(s->conn, NULL, 0, &base.pg_major, err);
	base.server_major = base.pg_major;
	for (size_t i = 0; rc == MIG_OK && i < run->nitems; i++)
		if (!run->items[i].skip) /* recorded, never run: nothing to warn about */
			rc = lint_file(&rep, run->items[i].migration->up_path, &base, cfg, err);
	if (rc == MIG_OK)
		rc = apply_facts(&rep, s, KEEP_LARGE_ONLY, cfg->lint_min_rows, err);
	size_t found = 0;
	bool refuse = cfg->lint_mode == MIG_LINT_REFUSE;
	for (size_t i = 0; rc == MIG_OK && i < rep.nfiles; i++) {
		const mig_lint_report_file *f = &rep.files[i];
		for (size_t k = 0; k < f->result.nfindings; k++) {
			const mig_lint_finding *x = &f->result.findings[k];
			found++;
			if (ctx->args.quiet && !refuse)
				continue;
			fprintf(stderr, "migrate: lint: %s:%u:%u: %s [%s] %s (%s; ~%.0f rows)\n", f->path,
				x->line, x->column, x->rule->severity == MIG_LINT_ERROR ? "error" : "warning",
				x->rule->id, x->message, x->lock ? x->lock : "no lock", x->rows);
			fprintf(stderr, "migrate: lint:   fix: %s\n", x->rule->fix);
		}
	}
	mig_lint_report_clear(&rep);
	if (rc == MIG_OK && found && refuse)
		rc = mig_error_set(err, MIG_EUSAGE,
				   "lint found %zu risky statement%s on large tables (postgres.lint: error): "
				   "nothing applied; fix, add '-- migrate:lint-ignore RULE reason', or run "
				   "'up --no-lint'",
				   found, found == 1 ? "" : "s");
	return rc;
}

/* `migrate lint --observe`: each pending transactional file run on a clone of the live
 * database's applied schema (a scratch template of the applied versions, cloned under a
 * migrate_shadow_ name and dropped on every exit path), its locks and rewrites read
 * from the server by mig_pg_observe, then applied for real so the next file sees it;
 * what the server did that no rule expected becomes a finding of its own. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cmd_lint.h"
#include "core/directive.h"
#include "util/fs.h"
#include "lint/lint.h"
#include "scratch/scratch.h"

/* Puts "what 'path': " before the message err holds. */
static int prefixed(mig_error *err, int rc, const char *what, const char *path)
{
	char cause[sizeof err->message];
	snprintf(cause, sizeof cause, "%s", err->message);
	return mig_error_set(err, rc, "%s '%s': %s", what, path, cause);
}

/* Appends a finding (an observed-* rule) to result; -1 when memory runs out. */
static int add_finding(mig_lint_result *r, const char *rule, unsigned line, const char *table,
		       const char *message, const char *lock)
{
	mig_lint_finding *grown = realloc(r->findings, (r->nfindings + 1) * sizeof *grown);
	if (!grown)
		return -1;
	r->findings = grown;
	mig_lint_finding f = {.rule = mig_lint_rule_find(rule), .line = line, .column = 1, .rows = -1};
	f.message = strdup(message);
	f.table = table ? strdup(table) : NULL;
	f.lock = lock ? strdup(lock) : NULL;
	if (!f.rule || !f.message || (table && !f.table) || (lock && !f.lock)) {
		free(f.message);
		free(f.table);
		free(f.lock);
		return -1;
	}
	grown[r->nfindings++] = f;
	return 0;
}

static int by_line(const void *a, const void *b)
{
	const mig_lint_finding *x = a, *y = b;
	return x->line != y->line ? (x->line < y->line ? -1 : 1) : (x->rule > y->rule) - (x->rule < y->rule);
}

/* Compares what the server did with what the rules expected, statement by statement. */
static int explain(mig_lint_report_file *f, mig_error *err)
{
	mig_lint_result *r = &f->result;
	char message[512], lock[512];
	for (size_t i = 0; i < f->observation.nstmts; i++) {
		const mig_observed_stmt *st = &f->observation.stmts[i];
		const mig_lint_claim *c = mig_lint_claim_at(r, st->line);
		bool expect_ae = c && c->lock && !strcmp(c->lock, "ACCESS EXCLUSIVE");
		static const char ae[] = "ACCESS EXCLUSIVE on ";
		for (size_t k = 0; !expect_ae && !(c && c->ignore_lock) && k < st->nlocks; k++) {
			if (strncmp(st->locks[k], ae, sizeof ae - 1))
				continue;
			const char *table = st->locks[k] + sizeof ae - 1;
			snprintf(message, sizeof message,
				 "the server took ACCESS EXCLUSIVE on %s for this statement, and no rule expected it",
				 table);
			snprintf(lock, sizeof lock, "ACCESS EXCLUSIVE on \"%s\": blocks reads and writes",
				 table);
			if (add_finding(r, MIG_LINT_OBSERVED_LOCK, st->line, table, message, lock) < 0)
				return mig_error_set(err, MIG_EFAIL, "out of memory");
			break; /* one finding per statement */
		}
		if (st->nrewritten && !(c && (c->rewrites || c->ignore_rewrite))) {
			snprintf(message, sizeof message,
				 "the server rewrote %s for this statement, and no rule expected it",
				 st->rewritten[0]);
			if (add_finding(r, MIG_LINT_OBSERVED_REWRITE, st->line, st->rewritten[0], message,
					NULL) < 0)
				return mig_error_set(err, MIG_EFAIL, "out of memory");
		}
	}
	if (r->nfindings > 1)
		qsort(r->findings, r->nfindings, sizeof *r->findings, by_line);
	return MIG_OK;
}

static mig_lint_report_file *report_file(mig_lint_report *rep, const char *path)
{
	for (size_t i = 0; i < rep->nfiles; i++)
		if (!strcmp(rep->files[i].path, path))
			return &rep->files[i];
	return NULL;
}

/* Observes one pending file on the clone, then applies it there. */
static int observe_one(mig_lint_report *rep, mig_scratch *sc, const char *clone,
		       const char *conninfo, const mig_module_plan *mod, const mig_migration *m,
		       mig_error *err)
{
	mig_lint_report_file *f = report_file(rep, m->up_path);
	char *sql = NULL;
	size_t len = 0;
	int rc = mig_read_file(&sql, &len, m->up_path, MIG_SQL_MAX_BYTES, "migration file", err);
	if (rc < 0)
		return rc;
	if (f && f->syntax) {
		f->not_observed = "it does not parse";
	} else if (f && mig_sql_wants_no_transaction(sql, len)) {
		f->not_observed = "it runs outside a transaction (applied to the clone as it is)";
	} else if (f) {
		rc = mig_pg_observe(&f->observation, conninfo, sql, len, err);
		if (rc < 0)
			rc = prefixed(err, rc, "cannot observe", m->up_path);
		else
			f->observed = true;
		if (rc == MIG_OK)
			rc = explain(f, err);
	}
	free(sql);
	if (rc < 0 || (f && f->syntax))
		return rc;
	mig_run_item item = {.module = mod, .migration = m};
	mig_run one = {.up = true, .items = &item, .nitems = 1};
	rc = mig_scratch_apply(sc, clone, &one, err);
	return rc < 0 ? prefixed(err, rc, "cannot apply to the clone", m->up_path) : rc;
}

int mig_lint_observe(mig_lint_report *rep, mig_context *ctx, const mig_session *live,
		     mig_error *err)
{
	const mig_args *a = &ctx->args;
	mig_run applied = {0};
	mig_scratch *sc = NULL;
	char tpl[MIG_SCRATCH_NAME_MAX], clone[MIG_SCRATCH_NAME_MAX];
	char *conninfo = NULL;
	bool built, cloned = false;
	int rc = mig_engine_plan_applied(&applied, ctx->plan, &live->ledger,
					 "clone the applied schema", err);
	applied.vars = ctx->cfg;
	if (rc == MIG_OK)
		rc = mig_scratch_open(&sc, ctx->cfg, err);
	if (rc == MIG_OK)
		rc = mig_scratch_template(tpl, &built, sc, ctx->plan, &applied, err);
	if (rc == MIG_OK) {
		mig_scratch_new_name(clone, MIG_SCRATCH_SHADOW_PREFIX);
		rc = mig_scratch_clone(sc, tpl, clone, err);
		cloned = rc == MIG_OK;
	}
	if (rc == MIG_OK)
		rc = mig_scratch_conninfo(&conninfo, sc, clone, true, err);
	for (size_t i = 0; rc == MIG_OK && i < ctx->plan->nmodules; i++) {
		const mig_module_plan *mod = &ctx->plan->modules[i];
		if (a->module && strcmp(a->module, mod->name))
			continue;
		for (size_t k = 0; rc == MIG_OK && k < mod->nmigrations; k++) {
			const mig_migration *m = &mod->migrations[k];
			if (!mig_ledger_find(&live->ledger, mod->name, m->version))
				rc = observe_one(rep, sc, clone, conninfo, mod, m, err);
		}
	}
	if (cloned) {
		char *names[1] = {clone};
		mig_error drop_err = {0};
		if (mig_scratch_drop(sc, names, 1, &drop_err) < 0)
			fprintf(stderr, "migrate: warning: %s\n", drop_err.message);
	}
	if (conninfo) {
		memset(conninfo, 0, strlen(conninfo)); /* it holds the password */
		free(conninfo);
	}
	mig_scratch_close(sc);
	mig_run_clear(&applied);
	return rc;
}

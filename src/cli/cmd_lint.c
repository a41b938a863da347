/* `migrate lint`: the lint rules over the pending files (or every file, or the files
 * named), sharpened by what the database says about each table; and the same check as
 * `up`'s guard, which only speaks about tables that exist and are large. */
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "cli/cmd_lint.h"
#include "core/directive.h"
#include "core/engine.h"
#include "util/fs.h"
#include "lint/lint.h"
#include "lint/lint_model.h"
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

/* A migration file's text as `up` would run it: envsub spans rendered, every line where it
 * was. *sql is the caller's (free). */
static int read_as_run(char **sql, size_t *len, const char *path, const mig_config *cfg,
		       mig_error *err)
{
	char *rendered = NULL;
	size_t rendered_len = 0;
	*sql = NULL;
	*len = 0;
	int rc = mig_read_file(sql, len, path, MIG_SQL_MAX_BYTES, "migration file", err);
	if (rc < 0)
		return rc;
	if ((rc = mig_engine_render(&rendered, &rendered_len, path, *sql, *len, cfg, err)) < 0) {
		free(*sql);
		*sql = NULL;
		return rc;
	}
	if (rendered) {
		free(*sql);
		*sql = rendered;
		*len = rendered_len;
	}
	return MIG_OK;
}

/* Reads a file of the history into the model (no findings). */
static int model_file(mig_lint_model *model, const char *path, const mig_config *cfg,
		      mig_error *err)
{
	char *sql;
	size_t len;
	int rc = read_as_run(&sql, &len, path, cfg, err);
	if (rc < 0)
		return rc;
	rc = mig_lint_model_apply_sql(model, sql, len);
	free(sql);
	return rc < 0 ? mig_error_set(err, MIG_EFAIL, "out of memory reading '%s'", path) : MIG_OK;
}

/* The schema model's base from the live database's catalog (the snapshot drift reads),
 * when the backend can read one: *read says whether it did. A database that cannot be
 * read leaves the model to the tree's history, with a note. */
static int model_catalog(mig_lint_model *model, const mig_session *s, const mig_config *cfg,
			 bool authoritative, bool *read, mig_error *err)
{
	*read = false;
	if (!s->drv->schema_snapshot)
		return MIG_OK;
	mig_snapshot snap = {0};
	mig_error snap_err = {0};
	if (s->drv->schema_snapshot(s->conn, &snap, &snap_err) < 0) {
		fprintf(stderr, "migrate: note: %s: lint knows the schema from the migrations alone\n",
			snap_err.message);
		return MIG_OK;
	}
	int rc = mig_lint_model_apply_snapshot(model, &snap, cfg ? cfg->pg.schema : NULL, authoritative);
	mig_snapshot_clear(&snap);
	if (rc < 0)
		return mig_error_set(err, MIG_EFAIL, "out of memory reading the database's schema");
	*read = true;
	return MIG_OK;
}

/* Lints one file into rep: a file that does not parse is recorded, not an error here. */
static int lint_file(mig_lint_report *rep, const char *path, const mig_lint_context *base,
		     const mig_config *cfg, mig_error *err)
{
	char *sql;
	size_t len;
	int rc = read_as_run(&sql, &len, path, cfg, err);
	if (rc < 0)
		return rc;
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

/* lint --data: the probes of each linted file (file: its index in the report). */
typedef struct probe_set {
	struct {
		size_t file;
		mig_lint_probe *probes;
		size_t n;
	} *files;
	size_t nfiles;
} probe_set;

static void probe_set_clear(probe_set *ps)
{
	for (size_t i = 0; i < ps->nfiles; i++)
		mig_lint_probes_free(ps->files[i].probes, ps->files[i].n);
	free(ps->files);
}

/* Takes the probes the model recorded while linting the report's last file. */
static int collect_probes(probe_set *ps, const mig_lint_report *rep, mig_lint_model *model,
			  mig_error *err)
{
	mig_lint_probe *probes;
	size_t n;
	mig_lint_model_take_probes(model, &probes, &n);
	if (!n)
		return MIG_OK;
	void *grown = realloc(ps->files, (ps->nfiles + 1) * sizeof *ps->files);
	if (!grown) {
		mig_lint_probes_free(probes, n);
		return mig_error_set(err, MIG_EFAIL, "out of memory");
	}
	ps->files = grown;
	ps->files[ps->nfiles].file = rep->nfiles - 1;
	ps->files[ps->nfiles].probes = probes;
	ps->files[ps->nfiles++].n = n;
	return MIG_OK;
}

static int add_data_finding(mig_lint_result *r, const mig_lint_probe *p, bool fail,
			    const char *detail)
{
	mig_lint_finding *grown = realloc(r->findings, (r->nfindings + 1) * sizeof *grown);
	if (!grown)
		return -1;
	r->findings = grown;
	mig_lint_finding f = {.rule = mig_lint_rule_find(fail ? "data-would-fail" : "data-not-checked"),
			      .line = p->line, .column = p->column, .rows = -1};
	size_t size = strlen(detail) + 32;
	f.message = malloc(size);
	f.table = strdup(p->table);
	if (!f.message || !f.table) {
		free(f.message);
		free(f.table);
		return -1;
	}
	snprintf(f.message, size, "%s: %s", fail ? "would fail" : "not checked", detail);
	r->findings[r->nfindings++] = f;
	return 0;
}

static int by_line(const void *a, const void *b)
{
	const mig_lint_finding *x = a, *y = b;
	return x->line != y->line ? (x->line < y->line ? -1 : 1) : (x->column > y->column) - (x->column < y->column);
}

/* Runs every probe in one read-only transaction and records what they found. */
static int run_probes(mig_lint_report *rep, probe_set *ps, const mig_session *s,
		      long long timeout_ms, mig_error *err)
{
	size_t total = 0;
	for (size_t i = 0; i < ps->nfiles; i++)
		total += ps->files[i].n;
	if (!total)
		return MIG_OK;
	mig_data_probe *dp = calloc(total, sizeof *dp);
	if (!dp)
		return mig_error_set(err, MIG_EFAIL, "out of memory");
	size_t k = 0, nrun = 0;
	for (size_t i = 0; i < ps->nfiles; i++)
		for (size_t j = 0; j < ps->files[i].n; j++, k++) {
			const mig_lint_probe *p = &ps->files[i].probes[j];
			dp[k] = (mig_data_probe){.kind = p->kind, .table = p->table, .columns = p->columns,
						 .ncolumns = p->ncolumns, .ref_table = p->ref_table,
						 .ref_columns = p->ref_columns,
						 .nref_columns = p->nref_columns,
						 .constraint = p->constraint, .expr = p->expr,
						 .type = p->type, .cast_type = p->cast_type,
						 .outcome = MIG_PROBE_NOT_CHECKED};
			if (p->not_checked)
				snprintf(dp[k].detail, sizeof dp[k].detail, "%s", p->not_checked);
			else
				nrun++;
		}
	/* the probes to run first, together; the others keep their reason */
	mig_data_probe *torun = calloc(nrun ? nrun : 1, sizeof *torun);
	int rc = torun ? MIG_OK : mig_error_set(err, MIG_EFAIL, "out of memory");
	size_t r = 0;
	k = 0;
	for (size_t i = 0; rc == MIG_OK && i < ps->nfiles; i++)
		for (size_t j = 0; j < ps->files[i].n; j++, k++)
			if (!ps->files[i].probes[j].not_checked)
				torun[r++] = dp[k];
	if (rc == MIG_OK && nrun)
		rc = s->drv->data_probe(s->conn, torun, nrun, timeout_ms, err);
	k = r = 0;
	for (size_t i = 0; rc == MIG_OK && i < ps->nfiles; i++) {
		mig_lint_result *res = &rep->files[ps->files[i].file].result;
		for (size_t j = 0; j < ps->files[i].n && rc == MIG_OK; j++, k++) {
			const mig_lint_probe *p = &ps->files[i].probes[j];
			const mig_data_probe *d = p->not_checked ? &dp[k] : &torun[r++];
			if (d->outcome != MIG_PROBE_PASSES &&
			    add_data_finding(res, p, d->outcome == MIG_PROBE_WOULD_FAIL, d->detail) < 0)
				rc = mig_error_set(err, MIG_EFAIL, "out of memory");
		}
		if (res->nfindings > 1)
			qsort(res->findings, res->nfindings, sizeof *res->findings, by_line);
	}
	free(torun);
	free(dp);
	return rc;
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
			/* the model said no migration creates it: the database knows better (a
			 * table made outside the migrations); up's guard leaves it to the server */
			if (!strcmp(f->rule->id, "unknown-object"))
				drop = keep == KEEP_LARGE_ONLY || (fact && fact->exists);
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
	probe_set probes = {0};
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
		} else if (a->data) {
			*err = conn_err;
			return mig_error_set(err, MIG_EFAIL, "'lint --data' needs the database: %s",
					     conn_err.message);
		} else if (!all && !a->npositional) {
			fprintf(stderr, "migrate: note: %s: linting every file\n", conn_err.message);
			all = true;
		}
	} else if (a->observe || a->data) {
		return mig_error_set(err, MIG_EUSAGE, "'lint --%s' needs a postgres: section in the config",
				     a->observe ? "observe" : "data");
	} else {
		all = true;
	}
	bool facts = connected && s.drv->table_facts;
	int major = 0;
	if (facts && s.drv->table_facts(s.conn, NULL, 0, &major, err) == MIG_OK)
		base.server_major = major;
	if (!base.pg_major)
		base.pg_major = base.server_major; /* --pg-version wins over the server's */
	/* the schema model: the files named form one run; else the plan's history (every file
	 * before the first pending one, in plan order) then the pending files as the run.
	 * With --all every file is judged as its own deploy: nothing is new to the next file. */
	if (!(base.model = mig_lint_model_new(!a->npositional))) {
		rc = mig_error_set(err, MIG_EFAIL, "out of memory");
		goto done;
	}
	if (a->data) {
		if (!s.drv->data_probe) {
			rc = mig_error_set(err, MIG_EUSAGE, "'lint --data': the %s backend cannot probe rows",
					   s.drv->name);
			goto done;
		}
		mig_lint_model_want_probes(base.model);
	}
	/* connected: the database's catalog is what the pending files meet (the files named,
	 * or the pending ones); --all judges each file as its own deploy, from the history */
	bool catalog = false;
	if (connected && !all &&
	    (rc = model_catalog(base.model, &s, cfg, !a->npositional, &catalog, err)) < 0)
		goto done;
	if (a->npositional) {
		mig_lint_model_set_run(base.model, true);
		for (int i = 0; i < a->npositional && rc == MIG_OK; i++)
			if ((rc = lint_file(&rep, a->positional[i], &base, cfg, err)) == MIG_OK)
				rc = collect_probes(&probes, &rep, base.model, err);
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
			bool selected = !a->module || !strcmp(a->module, mod->name);
			for (size_t k = 0; k < mod->nmigrations && rc == MIG_OK; k++) {
				const mig_migration *m = &mod->migrations[k];
				bool applied = !all && mig_ledger_find(&s.ledger, mod->name, m->version);
				mig_lint_model_set_run(base.model, !all && !applied);
				if (applied && catalog)
					continue; /* the catalog has what it made */
				if (applied || !selected)
					rc = model_file(base.model, m->up_path, cfg, err);
				else if ((rc = lint_file(&rep, m->up_path, &base, cfg, err)) == MIG_OK)
					rc = collect_probes(&probes, &rep, base.model, err);
			}
			/* repeatables run again whenever they change: every one is linted */
			for (size_t k = 0; k < mod->nrepeatables && rc == MIG_OK; k++)
				if ((rc = lint_file(&rep, mod->repeatables[k].as_migration.up_path, &base,
						    cfg, err)) == MIG_OK)
					rc = collect_probes(&probes, &rep, base.model, err);
		}
	}
	if (rc == MIG_OK && a->observe)
		rc = mig_lint_observe(&rep, ctx, &s, err);
	if (rc == MIG_OK && a->data)
		rc = run_probes(&rep, &probes, &s, cfg->lint_probe_timeout_ms, err);
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
	probe_set_clear(&probes);
	mig_lint_model_free(base.model);
	mig_lint_report_clear(&rep);
	mig_session_close(&s);
	return rc;
}

int mig_lint_guard_up(void *vet_ctx, mig_session *s, const mig_run *run, mig_error *err)
{
	mig_context *ctx = vet_ctx;
	const mig_config *cfg = ctx->cfg;
	bool data = cfg && cfg->lint_data && s->drv->data_probe;
	if (ctx->args.no_lint || !cfg || (cfg->lint_mode == MIG_LINT_OFF && !data) || !run->nitems ||
	    !s->drv->table_facts)
		return MIG_OK;
	mig_lint_report rep = {0};
	probe_set probes = {0};
	mig_lint_context base = {.in_transaction = true, .lock_timeout_ms = cfg->pg.lock_timeout_ms};
	int rc = s->drv->table_facts(s->conn, NULL, 0, &base.pg_major, err);
	base.server_major = base.pg_major;
	/* the schema model: the database's catalog with lint_data (else the plan's applied
	 * files) and the plan's other files are the history, the run's files the run */
	bool catalog = false;
	if (rc == MIG_OK && !(base.model = mig_lint_model_new(ctx->plan != NULL)))
		rc = mig_error_set(err, MIG_EFAIL, "out of memory");
	/* the catalog only for the data probes: a schema read on every `up` costs more than
	 * the precision it adds to warnings about large tables */
	if (rc == MIG_OK && data)
		rc = model_catalog(base.model, s, cfg, ctx->plan != NULL, &catalog, err);
	for (size_t i = 0; rc == MIG_OK && ctx->plan && i < ctx->plan->nmodules; i++) {
		const mig_module_plan *mod = &ctx->plan->modules[i];
		for (size_t k = 0; rc == MIG_OK && k < mod->nmigrations; k++) {
			bool in_run = false;
			for (size_t j = 0; j < run->nitems && !in_run; j++)
				in_run = run->items[j].migration == &mod->migrations[k];
			if (catalog && mig_ledger_find(&s->ledger, mod->name, mod->migrations[k].version))
				continue; /* the catalog has what it made */
			if (!in_run)
				rc = model_file(base.model, mod->migrations[k].up_path, cfg, err);
		}
	}
	mig_lint_model_set_run(base.model, true);
	if (data && base.model)
		mig_lint_model_want_probes(base.model);
	for (size_t i = 0; rc == MIG_OK && i < run->nitems; i++)
		if (!run->items[i].skip && /* recorded, never run: nothing to warn about */
		    (rc = lint_file(&rep, run->items[i].migration->up_path, &base, cfg, err)) == MIG_OK)
			rc = collect_probes(&probes, &rep, base.model, err);
	mig_lint_model_free(base.model);
	if (rc == MIG_OK)
		rc = apply_facts(&rep, s, KEEP_LARGE_ONLY,
				 cfg->lint_mode == MIG_LINT_OFF ? LLONG_MAX : cfg->lint_min_rows, err);
	/* postgres.lint_data: on: the rows every statement meets, whatever the table's size */
	if (rc == MIG_OK && data)
		rc = run_probes(&rep, &probes, s, cfg->lint_probe_timeout_ms, err);
	probe_set_clear(&probes);
	size_t found = 0, failing = 0;
	bool refuse = cfg->lint_mode == MIG_LINT_REFUSE;
	for (size_t i = 0; rc == MIG_OK && i < rep.nfiles; i++) {
		const mig_lint_report_file *f = &rep.files[i];
		for (size_t k = 0; k < f->result.nfindings; k++) {
			const mig_lint_finding *x = &f->result.findings[k];
			bool probed = !strncmp(x->rule->id, "data-", 5);
			failing += !strcmp(x->rule->id, "data-would-fail");
			found += !probed;
			if (ctx->args.quiet && !refuse && !probed)
				continue;
			if (probed)
				fprintf(stderr, "migrate: lint: %s:%u:%u: %s [%s] %s\n", f->path, x->line,
					x->column, x->rule->severity == MIG_LINT_ERROR ? "error" : "warning",
					x->rule->id, x->message);
			else
				fprintf(stderr, "migrate: lint: %s:%u:%u: %s [%s] %s (%s; ~%.0f rows)\n",
					f->path, x->line, x->column,
					x->rule->severity == MIG_LINT_ERROR ? "error" : "warning", x->rule->id,
					x->message, x->lock ? x->lock : "no lock", x->rows);
			fprintf(stderr, "migrate: lint:   fix: %s\n", x->rule->fix);
		}
	}
	mig_lint_report_clear(&rep);
	if (rc == MIG_OK && failing)
		rc = mig_error_set(err, MIG_ESCHEMA,
				   "%zu statement%s would fail on the rows already there "
				   "(postgres.lint_data: on): nothing applied",
				   failing, failing == 1 ? "" : "s");
	else if (rc == MIG_OK && found && refuse)
		rc = mig_error_set(err, MIG_EUSAGE,
				   "lint found %zu risky statement%s on large tables (postgres.lint: error): "
				   "nothing applied; fix, add '-- migrate:lint-ignore RULE reason', or run "
				   "'up --no-lint'",
				   found, found == 1 ? "" : "s");
	return rc;
}

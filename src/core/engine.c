/* What to run, decided from the plan and the ledger without touching a database, and
 * the loop that runs it through a driver. Every refusal happens before the first
 * migration runs, so a refused command changes nothing. */
#include "core/engine.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "util/checksum.h"
#include "util/clock.h"
#include "core/directive.h"
#include "util/expand.h"
#include "util/fs.h"

void mig_run_clear(mig_run *run)
{
	free(run->items);
	memset(run, 0, sizeof *run);
}

size_t mig_run_module_items(const mig_run *run, size_t at, const char *module)
{
	size_t n = 0;
	while (at + n < run->nitems && !strcmp(run->items[at + n].module->name, module))
		n++;
	return n;
}

/* The file of run->items[i]: the up file, or the down file (a skipped version's down
 * step has none: its up file stands in, only to be checked). */
static const char *item_path(const mig_run *run, size_t i)
{
	const mig_migration *m = run->items[i].migration;
	return run->up || (run->items[i].skip && !m->down_path) ? m->up_path : m->down_path;
}

static int run_add(mig_run *run, size_t *cap, const mig_module_plan *mod,
		   const mig_migration *m, mig_error *err)
{
	if (run->nitems == *cap) {
		size_t grown_cap = *cap ? *cap * 2 : 32;
		mig_run_item *grown = realloc(run->items, grown_cap * sizeof *grown);
		if (!grown)
			return mig_error_set(err, MIG_EFAIL, "out of memory");
		run->items = grown;
		*cap = grown_cap;
	}
	run->items[run->nitems].module = mod;
	run->items[run->nitems].migration = m;
	run->items[run->nitems].skip = false;
	run->items[run->nitems].repeatable = false;
	run->nitems++;
	return MIG_OK;
}

/* The ledger rows of module: a contiguous range, since rows are sorted by module. */
static const mig_applied *module_rows(const mig_ledger *ledger, const char *module,
				      size_t *count)
{
	size_t i = 0;
	while (i < ledger->nrows && strcmp(ledger->rows[i].module, module) != 0)
		i++;
	size_t j = i;
	while (j < ledger->nrows && !strcmp(ledger->rows[j].module, module))
		j++;
	*count = j - i;
	return *count ? &ledger->rows[i] : NULL;
}

static int refuse_dirty(const char *module, const mig_applied *rows, size_t n, mig_error *err)
{
	for (size_t i = 0; i < n; i++)
		if (rows[i].dirty)
			return mig_error_set(err, MIG_EFAIL,
					     "module '%s' is dirty: version %lld began without a transaction and did not finish; repair the database by hand, then run 'migrate resolve --module %s --version %lld --applied' (or --rolled-back)",
					     module, rows[i].version, module, rows[i].version);
	return MIG_OK;
}

int mig_engine_plan_applied(mig_run *out, const mig_plan *plan, const mig_ledger *ledger,
			    const char *purpose, mig_error *err)
{
	size_t n = ledger->nrows; /* at most one item per applied row */
	*out = (mig_run){.up = true};
	if (n && !(out->items = calloc(n, sizeof *out->items)))
		return mig_error_set(err, MIG_EFAIL, "out of memory");
	for (size_t i = 0; i < plan->nmodules; i++) {
		const mig_module_plan *mod = &plan->modules[i];
		for (size_t k = 0; k < mod->nmigrations && out->nitems < n; k++) {
			const mig_applied *row =
				mig_ledger_find(ledger, mod->name, mod->migrations[k].version);
			if (row)
				out->items[out->nitems++] =
					(mig_run_item){.module = mod,
						       .migration = &mod->migrations[k],
						       .skip = row->skipped};
		}
	}
	for (size_t i = 0; i < ledger->nrows; i++) {
		const mig_applied *row = &ledger->rows[i];
		const mig_module_plan *mod = mig_plan_module(plan, row->module);
		bool found = !mod; /* a module the config no longer runs: not part of the history */
		for (size_t k = 0; mod && k < mod->nmigrations && !found; k++)
			found = mod->migrations[k].version == row->version;
		if (!found)
			return mig_error_set(err, MIG_EFAIL,
					     "cannot %s: applied version %s/%lld has no file in '%s'",
					     purpose, row->module, row->version, mod->dir);
	}
	return MIG_OK;
}

int mig_engine_plan_up(mig_run *out, const mig_plan *plan, const mig_ledger *ledger,
		       const char *only_module, bool allow_out_of_order, mig_error *err)
{
	memset(out, 0, sizeof *out);
	out->up = true;
	size_t cap = 0;
	if (only_module && !mig_plan_module(plan, only_module))
		return mig_error_set(err, MIG_EUSAGE,
				     "module '%s' is not enabled in the config", only_module);
	for (size_t i = 0; i < plan->nmodules; i++) {
		const mig_module_plan *mod = &plan->modules[i];
		if (only_module && strcmp(mod->name, only_module) != 0)
			continue;
		size_t napplied;
		const mig_applied *rows = module_rows(ledger, mod->name, &napplied);
		int rc = refuse_dirty(mod->name, rows, napplied, err);
		if (rc < 0)
			goto fail;
		long long highest = napplied ? rows[napplied - 1].version : 0;
		for (size_t j = 0; j < mod->nmigrations; j++) {
			const mig_migration *m = &mod->migrations[j];
			if (mig_ledger_find(ledger, mod->name, m->version))
				continue;
			if (m->version < highest && !allow_out_of_order) {
				rc = mig_error_set(err, MIG_EUSAGE,
						   "%s/%lld is pending but %s/%lld is already applied: rename it above %lld, or run 'migrate up --allow-out-of-order' (%s)",
						   mod->name, m->version, mod->name, highest,
						   highest, m->up_path);
				goto fail;
			}
			if ((rc = run_add(out, &cap, mod, m, err)) < 0)
				goto fail;
		}
		continue;
	fail:
		mig_run_clear(out);
		return rc;
	}
	return MIG_OK;
}

int mig_engine_check_to(const mig_plan *plan, const char *module, long long to,
			mig_error *err)
{
	const mig_module_plan *mod = mig_plan_module(plan, module);
	if (!mod)
		return mig_error_set(err, MIG_EUSAGE, "module '%s' is not enabled in the config",
				     module);
	for (size_t j = 0; j < mod->nmigrations; j++)
		if (mod->migrations[j].version == to)
			return MIG_OK;
	if (!mod->nmigrations)
		return mig_error_set(err, MIG_EUSAGE, "--to %lld: module '%s' has no versions (%s)",
				     to, module, mod->dir);
	return mig_error_set(err, MIG_EUSAGE,
			     "--to %lld: module '%s' has no version %lld (its versions run from %lld to %lld in %s)",
			     to, module, to, mod->migrations[0].version,
			     mod->migrations[mod->nmigrations - 1].version, mod->dir);
}

void mig_engine_stop_at(mig_run *run, long long to)
{
	size_t kept = 0;
	for (size_t i = 0; i < run->nitems; i++)
		if (run->items[i].migration->version <= to)
			run->items[kept++] = run->items[i];
	run->nitems = kept;
}

int mig_engine_plan_down(mig_run *out, const mig_plan *plan, const mig_ledger *ledger,
			 const char *module, unsigned long steps, mig_error *err)
{
	memset(out, 0, sizeof *out);
	out->up = false;
	size_t cap = 0;
	const mig_module_plan *mod = mig_plan_module(plan, module);
	if (!mod)
		return mig_error_set(err, MIG_EUSAGE, "module '%s' is not enabled in the config",
				     module);
	size_t napplied;
	const mig_applied *rows = module_rows(ledger, module, &napplied);
	int rc = refuse_dirty(module, rows, napplied, err);
	if (rc < 0)
		return rc;
	for (size_t k = 0; k < steps && k < napplied; k++) {
		const mig_applied *row = &rows[napplied - 1 - k];
		const mig_migration *m = NULL;
		for (size_t j = 0; j < mod->nmigrations && !m; j++)
			if (mod->migrations[j].version == row->version)
				m = &mod->migrations[j];
		if (!m)
			rc = mig_error_set(err, MIG_EUSAGE,
					   "cannot roll back %s/%lld: its files are gone from '%s'",
					   module, row->version, mod->dir);
		else if (row->skipped) { /* never ran: only its row goes, no .down.sql needed */
			if ((rc = run_add(out, &cap, mod, m, err)) == MIG_OK)
				out->items[out->nitems - 1].skip = true;
		} else if (!m->down_path)
			rc = mig_error_set(err, MIG_EUSAGE,
					   "cannot roll back %s/%lld: there is no %s beside '%s'",
					   module, row->version, plan->ext && !strcmp(plan->ext, ".json")
						   ? ".down.json" : ".down.sql", m->up_path);
		else
			rc = run_add(out, &cap, mod, m, err);
		if (rc < 0) {
			mig_run_clear(out);
			return rc;
		}
	}
	return MIG_OK;
}

static int status_add(mig_module_status **rows, size_t *n, size_t *cap, mig_error *err)
{
	if (*n == *cap) {
		size_t grown_cap = *cap ? *cap * 2 : 8;
		mig_module_status *grown = realloc(*rows, grown_cap * sizeof *grown);
		if (!grown)
			return mig_error_set(err, MIG_EFAIL, "out of memory");
		*rows = grown;
		*cap = grown_cap;
	}
	memset(&(*rows)[*n], 0, sizeof **rows);
	(*n)++;
	return MIG_OK;
}

int mig_engine_status(mig_module_status **out, size_t *count, const mig_plan *plan,
		      const mig_ledger *ledger, mig_error *err)
{
	mig_module_status *rows = NULL;
	size_t n = 0, cap = 0;
	*out = NULL;
	*count = 0;
	for (size_t i = 0; i < plan->nmodules; i++) {
		const mig_module_plan *mod = &plan->modules[i];
		if (status_add(&rows, &n, &cap, err) < 0)
			goto nomem;
		mig_module_status *st = &rows[n - 1];
		st->module = mod->name;
		st->enabled = true;
		st->latest = mod->nmigrations ? mod->migrations[mod->nmigrations - 1].version : 0;
		for (size_t j = 0; j < mod->nmigrations; j++)
			if (!mig_ledger_find(ledger, mod->name, mod->migrations[j].version))
				st->pending++;
		size_t napplied;
		const mig_applied *applied = module_rows(ledger, mod->name, &napplied);
		st->napplied = napplied;
		st->applied = napplied ? applied[napplied - 1].version : 0;
		/* walk both sorted lists together to find applied versions with no file */
		size_t j = 0;
		for (size_t k = 0; k < napplied; k++) {
			if (applied[k].dirty)
				st->dirty = applied[k].version;
			st->skipped += applied[k].skipped;
			while (j < mod->nmigrations && mod->migrations[j].version < applied[k].version)
				j++;
			if (j == mod->nmigrations || mod->migrations[j].version != applied[k].version) {
				if (!st->missing++)
					st->first_missing = applied[k].version;
			}
		}
	}
	/* modules the ledger knows but the config no longer runs */
	for (size_t i = 0; i < ledger->nrows; i++) {
		const char *module = ledger->rows[i].module;
		if ((i > 0 && !strcmp(ledger->rows[i - 1].module, module)) ||
		    mig_plan_module(plan, module))
			continue;
		if (status_add(&rows, &n, &cap, err) < 0)
			goto nomem;
		mig_module_status *st = &rows[n - 1];
		size_t napplied;
		const mig_applied *applied = module_rows(ledger, module, &napplied);
		st->module = module;
		st->napplied = napplied;
		st->applied = applied[napplied - 1].version;
		for (size_t k = 0; k < napplied; k++)
			if (applied[k].dirty)
				st->dirty = applied[k].version;
	}
	*out = rows;
	*count = n;
	return MIG_OK;
nomem:
	free(rows);
	return MIG_EFAIL;
}

bool mig_sql_wants_no_transaction(const char *sql, size_t len)
{
	mig_directives d;
	mig_directives_scan(&d, sql, len);
	return d.no_transaction;
}

int mig_engine_preflight(const mig_run *run, mig_error *err)
{
	for (size_t i = 0; i < run->nitems; i++) {
		const char *path = item_path(run, i);
		int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
		if (fd < 0)
			return mig_error_set(err, MIG_EUSAGE, "cannot read migration file '%s': %s",
					     path, strerror(errno));
		struct stat st;
		int rc = MIG_OK;
		if (fstat(fd, &st) < 0)
			rc = mig_error_set(err, MIG_EUSAGE, "cannot read migration file '%s': %s",
					   path, strerror(errno));
		else if (!S_ISREG(st.st_mode))
			rc = mig_error_set(err, MIG_EUSAGE,
					   "cannot read migration file '%s': not a regular file", path);
		else if ((unsigned long long)st.st_size > MIG_SQL_MAX_BYTES)
			rc = mig_error_set(err, MIG_EUSAGE,
					   "migration file '%s' is too large (%lld bytes, limit %u)", path,
					   (long long)st.st_size, MIG_SQL_MAX_BYTES);
		close(fd);
		if (rc < 0)
			return rc;
	}
	return MIG_OK;
}

long long mig_elapsed_ms(const struct timespec *start)
{
	struct timespec now;
	clock_gettime(CLOCK_MONOTONIC, &now);
	return (long long)(now.tv_sec - start->tv_sec) * 1000 +
	       (now.tv_nsec - start->tv_nsec) / 1000000;
}

/* Reads path and its SHA-256 (hex); *sql is the caller's, or freed here when sql is NULL. */
static int read_and_hash(char **sql, size_t *len, char hex[MIG_CHECKSUM_HEX], const char *path,
			 mig_error *err)
{
	char *text = NULL;
	size_t n = 0;
	int rc = mig_read_file(&text, &n, path, MIG_SQL_MAX_BYTES, "migration file", err);
	if (rc < 0)
		return rc;
	if (mig_sha256_hex(hex, text, n) < 0) {
		free(text);
		return mig_error_set(err, MIG_EFAIL, "cannot compute the checksum of '%s'", path);
	}
	if (len)
		*len = n;
	if (sql)
		*sql = text;
	else
		free(text);
	return MIG_OK;
}

int mig_engine_render(char **out, size_t *out_len, const char *path, const char *text,
		      size_t len, const mig_config *vars, mig_error *err)
{
	unsigned line = 0;
	mig_error inner = {0};
	int rc = mig_expand_spans(out, out_len, text, len, mig_config_placeholder, (void *)vars,
				  &line, &inner);
	if (rc < 0)
		return mig_error_set(err, inner.code, "%s (%s:%u)", inner.message, path, line);
	return MIG_OK;
}

/* Reads the file of run->items[i] into a step (the caller frees *sql): rendered when it
 * has envsub spans, with the rendered text's SHA-256 in rendered ("" otherwise). */
static int load_step(mig_step *step, char **sql, char checksum[MIG_CHECKSUM_HEX],
		     char rendered[MIG_CHECKSUM_HEX], const mig_run *run, size_t i,
		     mig_error *err)
{
	const mig_module_plan *mod = run->items[i].module;
	const mig_migration *m = run->items[i].migration;
	const char *path = item_path(run, i);
	size_t len = 0;
	checksum[0] = '\0';
	/* a down step records no checksum, but hashing it costs next to reading it */
	int rc = read_and_hash(sql, &len, checksum, path, err);
	if (rc < 0)
		return rc;
	rendered[0] = '\0';
	char *text = NULL;
	size_t text_len = 0;
	/* a skipped version's SQL never runs: its placeholders need not be set */
	if (!run->items[i].skip &&
	    (rc = mig_engine_render(&text, &text_len, path, *sql, len, run->vars, err)) < 0) {
		free(*sql);
		*sql = NULL;
		return rc;
	}
	if (text) { /* what runs is the rendered text; the ledger keeps both hashes */
		free(*sql);
		*sql = text;
		len = text_len;
		if (mig_sha256_hex(rendered, text, text_len) < 0)
			return mig_error_set(err, MIG_EFAIL, "cannot compute the checksum of '%s'",
					     path);
	}
	if (!run->up)
		checksum[0] = rendered[0] = '\0';
	*step = (mig_step){
		.module = mod->name,
		.version = m->version,
		.name = m->name,
		.path = path,
		.sql = *sql,
		.sql_len = len,
		.up = run->up,
		.in_transaction = run->items[i].repeatable || !mig_sql_wants_no_transaction(*sql, len),
		.repeatable = run->items[i].repeatable,
		.checksum = checksum,
		.last = i + 1 == run->nitems,
		.skip = run->items[i].skip,
		.rendered_checksum = rendered,
	};
	return MIG_OK;
}

long long mig_retry_wait_ms(const mig_retry_policy *p, unsigned k, unsigned *seed)
{
	long long wait = p->backoff_ms > 0 ? p->backoff_ms : 0;
	for (unsigned n = 1; n < k && wait < MIG_RETRY_BACKOFF_CAP_MS; n++)
		wait *= 2;
	if (wait > MIG_RETRY_BACKOFF_CAP_MS)
		wait = MIG_RETRY_BACKOFF_CAP_MS;
	/* jitter, so runs that timed out together do not retry together */
	wait += (long long)((double)wait * (rand_r(seed) / ((double)RAND_MAX + 1.0)));
	return wait > MIG_RETRY_BACKOFF_CAP_MS ? MIG_RETRY_BACKOFF_CAP_MS : wait;
}

/* Runs the before_up or after_up hook through drv, telling obs. */
static int run_hook(const mig_sql_driver *drv, void *conn, const mig_hook *hook,
		    const mig_observer *obs, mig_error *err)
{
	struct timespec start;
	clock_gettime(CLOCK_MONOTONIC, &start);
	int rc = drv->run_hook(conn, hook, err);
	if (obs && obs->hook_end)
		obs->hook_end(obs->ctx, hook, mig_elapsed_ms(&start), rc < 0 ? err : NULL);
	return rc;
}

int mig_engine_execute_retrying(const mig_sql_driver *drv, void *conn, const mig_run *run,
				const mig_retry_policy *policy, const mig_observer *obs,
				mig_error *err)
{
	const mig_hooks *hooks = run->up ? run->hooks : NULL;
	size_t runs_sql = 0; /* files that run SQL: skipped versions only record a row */
	for (size_t i = 0; i < run->nitems; i++)
		runs_sql += !run->items[i].skip;
	if (mig_hooks_any(hooks) && !drv->run_hook)
		return mig_error_set(err, MIG_EUSAGE, "the '%s' backend cannot run postgres.hooks",
				     drv->name);
	if (hooks && hooks->before_up.sql && runs_sql) {
		int rc = run_hook(drv, conn, &hooks->before_up, obs, err);
		if (rc < 0)
			return rc;
	}
	struct timespec now;
	clock_gettime(CLOCK_REALTIME, &now);
	unsigned seed = (unsigned)now.tv_nsec ^ (unsigned)getpid();
	unsigned retries = policy ? policy->retries : 0;
	for (size_t i = 0; i < run->nitems; i++) {
		mig_step step;
		char *sql = NULL;
		char checksum[MIG_CHECKSUM_HEX], rendered[MIG_CHECKSUM_HEX];
		int rc = load_step(&step, &sql, checksum, rendered, run, i, err);
		if (rc < 0)
			return rc;
		if (hooks && hooks->after_each.sql && !step.skip)
			step.after_each = &hooks->after_each;
		struct timespec start;
		clock_gettime(CLOCK_MONOTONIC, &start);
		if (obs && obs->step_begin)
			obs->step_begin(obs->ctx, run, i, sql, step.sql_len);
		/* a failed transactional attempt rolled back whole: running it again is safe */
		for (unsigned attempt = 1;; attempt++) {
			rc = drv->apply(conn, &step, err);
			if (rc == MIG_OK || !step.in_transaction || attempt > retries || !err ||
			    strcmp(err->sqlstate, "55P03") != 0)
				break;
			long long wait = mig_retry_wait_ms(policy, attempt, &seed);
			if (obs && obs->step_retry)
				obs->step_retry(obs->ctx, run, i, attempt + 1, retries + 1, wait, err);
			mig_sleep_ms(wait);
		}
		free(sql);
		if (obs && obs->step_end)
			obs->step_end(obs->ctx, run, i, mig_elapsed_ms(&start), rc < 0 ? err : NULL);
		if (rc < 0)
			return rc;
	}
	if (hooks && hooks->after_up.sql && runs_sql) {
		int rc = run_hook(drv, conn, &hooks->after_up, obs, err);
		if (rc < 0 && err) {
			/* the migrations committed before it: say so, or the user retries them */
			size_t used = strlen(err->message);
			snprintf(err->message + used, sizeof err->message - used,
				 "; the %zu migration%s of this run %s applied", run->nitems,
				 run->nitems == 1 ? "" : "s", run->nitems == 1 ? "was" : "were");
		}
		return rc;
	}
	return MIG_OK;
}

int mig_engine_execute(const mig_sql_driver *drv, void *conn, const mig_run *run,
		       const mig_observer *obs, mig_error *err)
{
	return mig_engine_execute_retrying(drv, conn, run, NULL, obs, err);
}

int mig_engine_apply(mig_session *s, const mig_run *run, const mig_observer *obs,
		     mig_error *err)
{
	/* every refusal comes before the first change, the ledger table included */
	int rc = mig_engine_preflight(run, err);
	if (rc == MIG_OK && obs && obs->vet)
		rc = obs->vet(obs->vet_ctx, s, run, err);
	if (rc == MIG_OK && run->nitems)
		rc = mig_session_prepare(s, err);
	mig_retry_policy policy = {0};
	if (s->cfg)
		policy = (mig_retry_policy){(unsigned)s->cfg->lock_retries,
					    s->cfg->lock_retry_backoff_ms};
	if (rc == MIG_OK)
		rc = mig_engine_execute_retrying(s->drv, s->conn, run, &policy, obs, err);
	return rc;
}

static int problem_add(mig_problem **list, size_t *n, mig_problem p, mig_error *err)
{
	mig_problem *grown = realloc(*list, (*n + 1) * sizeof *grown);
	if (!grown)
		return mig_error_set(err, MIG_EFAIL, "out of memory");
	grown[(*n)++] = p;
	*list = grown;
	return MIG_OK;
}

/* Whether path, unchanged since it ran (sum), renders as it did (row->rendered). */
static int rendered_same(bool *same, const char *path, const mig_applied *row,
			 const mig_config *vars, mig_error *err)
{
	char *text = NULL, *out = NULL;
	size_t len = 0, out_len = 0;
	*same = true;
	int rc = mig_read_file(&text, &len, path, MIG_SQL_MAX_BYTES, "migration file", err);
	if (rc == MIG_OK)
		rc = mig_engine_render(&out, &out_len, path, text, len, vars, err);
	char sum[MIG_CHECKSUM_HEX];
	if (rc == MIG_OK && out) {
		if (mig_sha256_hex(sum, out, out_len) < 0)
			rc = mig_error_set(err, MIG_EFAIL, "cannot compute the checksum of '%s'", path);
		else
			*same = !strcmp(sum, row->rendered);
	}
	free(out);
	free(text);
	return rc;
}

int mig_engine_verify_files(mig_problem **out, size_t *count, size_t *checked,
			    const mig_plan *plan, const mig_ledger *ledger, const mig_config *vars,
			    mig_error *err)
{
	mig_problem *list = NULL;
	size_t n = 0;
	int rc = MIG_OK;
	*checked = 0;
	for (size_t i = 0; rc == MIG_OK && i < plan->nmodules; i++) {
		const mig_module_plan *mod = &plan->modules[i];
		size_t napplied;
		const mig_applied *rows = module_rows(ledger, mod->name, &napplied);
		size_t j = 0;
		for (size_t k = 0; rc == MIG_OK && k < napplied; k++) {
			const mig_applied *row = &rows[k];
			(*checked)++;
			if (row->dirty)
				rc = problem_add(&list, &n,
						 (mig_problem){MIG_PROBLEM_DIRTY, mod->name, row->version,
							       mod->dir},
						 err);
			while (j < mod->nmigrations && mod->migrations[j].version < row->version)
				j++;
			if (rc < 0)
				break;
			if (j == mod->nmigrations || mod->migrations[j].version != row->version) {
				rc = problem_add(&list, &n,
						 (mig_problem){MIG_PROBLEM_FILE_GONE, mod->name,
							       row->version, mod->dir},
						 err);
				continue;
			}
			const mig_migration *m = &mod->migrations[j];
			char sum[MIG_CHECKSUM_HEX];
			if ((rc = read_and_hash(NULL, NULL, sum, m->up_path, err)) < 0)
				break;
			/* an empty checksum was recorded by `resolve` without a file: nothing to compare */
			bool same = true;
			if (row->checksum[0] && strcmp(sum, row->checksum) != 0)
				rc = problem_add(&list, &n,
						 (mig_problem){MIG_PROBLEM_CHANGED, mod->name, row->version,
							       m->up_path},
						 err);
			else if (row->rendered[0] && !row->skipped &&
				 (rc = rendered_same(&same, m->up_path, row, vars, err)) == MIG_OK &&
				 !same)
				rc = problem_add(&list, &n,
						 (mig_problem){MIG_PROBLEM_RENDERED, mod->name,
							       row->version, m->up_path},
						 err);
		}
	}
	if (rc < 0) {
		free(list);
		return rc;
	}
	*out = list;
	*count = n;
	return MIG_OK;
}

int mig_engine_refuse_required(const mig_config *cfg, const mig_ledger *ledger,
			       const char *module, mig_error *err)
{
	for (size_t i = 0; i < cfg->nmodules; i++) {
		const mig_module_config *mod = &cfg->modules[i];
		bool requires = false;
		for (size_t r = 0; r < mod->nrequires && !requires; r++)
			requires = !strcmp(mod->requires[r], module);
		if (!requires || !mod->enabled)
			continue;
		for (size_t k = 0; k < ledger->nrows; k++)
			if (!strcmp(ledger->rows[k].module, mod->name))
				return mig_error_set(err, MIG_EUSAGE,
						     "cannot roll back module '%s': module '%s' requires it and has applied versions; roll back '%s' first (%s:%u)",
						     module, mod->name, mod->name, cfg->path, mod->line);
	}
	return MIG_OK;
}

int mig_engine_resolve_prepare(mig_resolution *out, const mig_plan *plan, const char *module,
			       long long version, bool applied, mig_error *err)
{
	memset(out, 0, sizeof *out);
	out->module = module;
	out->version = version;
	out->applied = applied;
	out->name = "";
	const mig_module_plan *mod = mig_plan_module(plan, module);
	if (!mod)
		return mig_error_set(err, MIG_EUSAGE, "module '%s' is not enabled in the config",
				     module);
	const mig_migration *m = NULL;
	for (size_t i = 0; i < mod->nmigrations && !m; i++)
		if (mod->migrations[i].version == version)
			m = &mod->migrations[i];
	if (m)
		out->name = m->name;
	if (!applied)
		return MIG_OK;
	if (!m)
		return mig_error_set(err, MIG_EUSAGE, "there is no %s/%lld in '%s'", module, version,
				     mod->dir);
	return read_and_hash(NULL, NULL, out->checksum, m->up_path, err);
}

int mig_engine_resolve(mig_session *s, const mig_resolution *r, mig_error *err)
{
	if (!r->applied && !mig_ledger_find(&s->ledger, r->module, r->version))
		return mig_error_set(err, MIG_EUSAGE, "%s/%lld is not recorded as applied", r->module,
				     r->version);
	return s->drv->resolve(s->conn, r->module, r->version, r->name, r->checksum, r->applied,
			       err);
}

int mig_engine_script(FILE *out, mig_session *s, const mig_run *run, mig_error *err)
{
	if (!s->drv->script)
		return mig_error_set(err, MIG_EUSAGE, "the '%s' backend cannot write a script",
				     s->drv->name);
	int rc = mig_engine_preflight(run, err);
	if (rc < 0)
		return rc;
	mig_step *steps = calloc(run->nitems ? run->nitems : 1, sizeof *steps);
	char **texts = calloc(run->nitems ? run->nitems : 1, sizeof *texts);
	char (*sums)[MIG_CHECKSUM_HEX] = calloc(run->nitems ? run->nitems : 1, sizeof *sums);
	char (*renders)[MIG_CHECKSUM_HEX] = calloc(run->nitems ? run->nitems : 1, sizeof *renders);
	if (!steps || !texts || !sums || !renders)
		rc = mig_error_set(err, MIG_EFAIL, "out of memory");
	for (size_t i = 0; rc == MIG_OK && i < run->nitems; i++)
		rc = load_step(&steps[i], &texts[i], sums[i], renders[i], run, i, err);
	const mig_hooks *hooks = run->hooks;
	for (size_t i = 0; rc == MIG_OK && hooks && hooks->after_each.sql && i < run->nitems; i++)
		if (!steps[i].skip)
			steps[i].after_each = &hooks->after_each;
	bool runs_sql = false;
	for (size_t i = 0; i < run->nitems; i++)
		runs_sql = runs_sql || !run->items[i].skip;
	if (rc == MIG_OK)
		rc = s->drv->script(out, s->cfg, &s->ledger, steps, run->nitems,
				    hooks && runs_sql ? &hooks->before_up : NULL,
				    hooks && runs_sql ? &hooks->after_up : NULL, err);
	for (size_t i = 0; texts && i < run->nitems; i++)
		free(texts[i]);
	free(texts);
	free(steps);
	free(sums);
	free(renders);
	return rc;
}

static void slice_begin(void *ctx, const mig_run *run, size_t i, const char *sql, size_t len)
{
	(void)run;
	mig_slice_observer *o = ctx;
	if (o->inner->step_begin)
		o->inner->step_begin(o->inner->ctx, o->whole, o->offset + i, sql, len);
}

static void slice_end(void *ctx, const mig_run *run, size_t i, long long ms,
		      const mig_error *failed)
{
	(void)run;
	mig_slice_observer *o = ctx;
	if (o->inner->step_end)
		o->inner->step_end(o->inner->ctx, o->whole, o->offset + i, ms, failed);
}

static void slice_retry(void *ctx, const mig_run *run, size_t i, unsigned attempt,
			unsigned attempts, long long wait_ms, const mig_error *why)
{
	(void)run;
	mig_slice_observer *o = ctx;
	if (o->inner->step_retry)
		o->inner->step_retry(o->inner->ctx, o->whole, o->offset + i, attempt, attempts,
				     wait_ms, why);
}

mig_observer mig_observer_for_slice(mig_slice_observer *so, const mig_observer *inner,
				    const mig_run *whole, size_t offset)
{
	*so = (mig_slice_observer){inner, whole, offset};
	return (mig_observer){.ctx = so,
			      .step_begin = slice_begin,
			      .step_end = slice_end,
			      .step_retry = slice_retry};
}

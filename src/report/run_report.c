/* The run report's collector: an engine observer that records state, time, attempts and
 * the error of each migration, so the JSON document can be written once at the end,
 * whatever the outcome. */
#include "report/run_report.h"
#include "report/report.h"

#include <stdlib.h>
#include <string.h>

void mig_run_report_init(mig_run_report *r)
{
	memset(r, 0, sizeof *r);
	clock_gettime(CLOCK_MONOTONIC, &r->start);
}

void mig_run_report_clear(mig_run_report *r)
{
	free(r->items);
	r->items = NULL;
	r->nitems = 0;
}

/* The result of item i, or NULL when memory ran out (the report then says less). */
static mig_step_result *item(mig_run_report *r, const mig_run *run, size_t i)
{
	if (!r->items) {
		r->items = calloc(run->nitems ? run->nitems : 1, sizeof *r->items);
		if (!r->items)
			return NULL;
		r->nitems = run->nitems;
	}
	return i < r->nitems ? &r->items[i] : NULL;
}

static void on_begin(void *ctx, const mig_run *run, size_t i, const char *sql, size_t len)
{
	(void)sql;
	(void)len;
	mig_step_result *res = item(ctx, run, i);
	if (!res)
		return;
	res->attempts = 1;
	clock_gettime(CLOCK_MONOTONIC, &res->begin);
}

static void on_retry(void *ctx, const mig_run *run, size_t i, unsigned attempt,
		     unsigned attempts, long long wait_ms, const mig_error *why)
{
	(void)why;
	mig_run_report *r = ctx;
	if (r->notes)
		mig_report_retry(r->notes, run, i, attempt, attempts, wait_ms);
	mig_step_result *res = item(ctx, run, i);
	if (!res)
		return;
	res->attempts = attempt;
	res->retry_until_ms = mig_elapsed_ms(&res->begin) + wait_ms;
}

static void on_end(void *ctx, const mig_run *run, size_t i, long long ms,
		   const mig_error *failed)
{
	mig_run_report *r = ctx;
	mig_step_result *res = item(r, run, i);
	r->files_executed++;
	if (!res)
		return;
	res->ms = ms;
	res->lock_wait_ms = res->retry_until_ms;
	res->state = failed ? MIG_STEP_FAILED : MIG_STEP_DONE;
	if (failed)
		res->error = *failed;
}

static void on_hook(void *ctx, const mig_hook *hook, long long ms, const mig_error *failed)
{
	mig_run_report *r = ctx;
	mig_hook_result *h = !strcmp(hook->name, "before_up") ? &r->before_up : &r->after_up;
	h->ran = true;
	h->ms = ms;
	h->failed = failed != NULL;
	if (failed)
		h->error = *failed;
}

mig_observer mig_run_report_observer(mig_run_report *r)
{
	return (mig_observer){.ctx = r,
			      .step_begin = on_begin,
			      .step_end = on_end,
			      .step_retry = on_retry,
			      .hook_end = on_hook};
}

/* Text reports of a fleet run: one line per target as it finishes ("acme: applied 3 in
 * 41 ms", "beta: failed: ..."), a "[130/1200 targets, 2 failed]" line redrawn on a
 * terminal, and a summary line. */
#include <unistd.h>

#include "report/diff_text.h"
#include "report/report_fleet.h"

mig_fleet_reporter mig_fleet_reporter_for(FILE *out, mig_fleet_op op, bool quiet,
					  mig_format format)
{
	mig_fleet_reporter rep = {.op = op};
	if (format == MIG_FORMAT_TEXT && !quiet)
		rep.out = out;
	if (isatty(fileno(stderr)))
		rep.progress = stderr;
	return rep;
}

static void target_line(FILE *out, mig_fleet_op op, const mig_fleet_result *r)
{
	fprintf(out, "%s: ", r->name);
	if (r->state == MIG_TARGET_FAILED) {
		fprintf(out, "failed: %s (%lld ms)\n", r->error.message, r->ms);
		return;
	}
	switch (op) {
	case MIG_FLEET_UP:
	case MIG_FLEET_DOWN:
		if (!r->napplied) {
			fprintf(out, "%s (%lld ms)\n",
				op == MIG_FLEET_UP ? "up to date" : "nothing to roll back", r->ms);
			break;
		}
		fprintf(out, "%s %zu (", op == MIG_FLEET_UP ? "applied" : "rolled back",
			r->napplied);
		for (size_t i = 0; i < r->napplied && i < 4; i++)
			fprintf(out, "%s%s/%lld", i ? ", " : "", r->applied[i].module,
				r->applied[i].version);
		fprintf(out, "%s) in %lld ms\n", r->napplied > 4 ? ", ..." : "", r->ms);
		break;
	case MIG_FLEET_STATUS:
		if (r->behind)
			fprintf(out, "%zu pending%s (%lld ms)\n", r->pending,
				r->pending ? "" : ", dirty or missing files", r->ms);
		else
			fprintf(out, "up to date (%lld ms)\n", r->ms);
		break;
	case MIG_FLEET_VERIFY:
		if (r->problems)
			fprintf(out, "%zu problem%s (%lld ms)\n", r->problems,
				r->problems == 1 ? "" : "s", r->ms);
		else
			fprintf(out, "ok (%lld ms)\n", r->ms);
		/* each one named, under its target, as verify names them for one database */
		mig_report_sql_problems(out, "    ", "postgres", r->files, r->nfiles, r->objects,
					r->nobjects);
		break;
	case MIG_FLEET_SEED:
		fprintf(out, "%zu created, %zu conflict%s (%lld ms)\n", r->created, r->problems,
			r->problems == 1 ? "" : "s", r->ms);
		break;
	case MIG_FLEET_DRIFT:
		if (r->drift.n)
			fprintf(out, "%zu difference%s (%lld ms)\n", r->drift.n,
				r->drift.n == 1 ? "" : "s", r->ms);
		else
			fprintf(out, "no drift (%lld ms)\n", r->ms);
		mig_diff_print_text(out, &r->drift, "    ");
		break;
	}
}

static void reporter_end(void *ctx, const mig_fleet_result *r, size_t done, size_t failed,
			 size_t total)
{
	mig_fleet_reporter *rep = ctx;
	if (rep->progress)
		fputs("\r\033[K", rep->progress);
	if (rep->out) {
		target_line(rep->out, rep->op, r);
		fflush(rep->out);
	}
	if (rep->progress) {
		fprintf(rep->progress, "[%zu/%zu targets, %zu failed]", done, total, failed);
		fflush(rep->progress);
	}
}

mig_fleet_observer mig_fleet_reporter_observer(mig_fleet_reporter *rep)
{
	return (mig_fleet_observer){.ctx = rep, .target_end = reporter_end};
}

int mig_fleet_report_summary(FILE *out, const mig_fleet_report *r, mig_fleet_op op,
			     mig_format format, bool quiet, mig_error *err)
{
	if (format == MIG_FORMAT_JSON)
		return mig_fleet_report_json(out, r, op, err);
	if (isatty(fileno(stderr)))
		fputs("\r\033[K", stderr);
	if (quiet)
		return MIG_OK;
	fprintf(out, "fleet: %zu target%s, %zu ok, %zu failed, %zu skipped", r->n,
		r->n == 1 ? "" : "s", r->ok, r->failed, r->skipped);
	if ((op == MIG_FLEET_STATUS || op == MIG_FLEET_VERIFY || op == MIG_FLEET_DRIFT) &&
	    r->behind)
		fprintf(out, ", %zu %s", r->behind,
			op == MIG_FLEET_STATUS ? "not up to date"
			: op == MIG_FLEET_DRIFT ? "with drift"
						: "with problems");
	if (r->has_control && r->control.state == MIG_TARGET_FAILED)
		fputs(" (the control database failed: no target was started)", out);
	fprintf(out, " in %lld ms\n", r->ms);
	return MIG_OK;
}

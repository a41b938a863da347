/* Commands over a fleet: with targets: in the config, up, down, status, verify and seed
 * act on the control database and then on every target (src/fleet/fleet.c), reporting one
 * line per target and a summary (src/report/report_fleet.c). drift checks each target
 * through its cmd_drift.c hook. */
#include <string.h>

#include "cli/cli.h"
#include "core/mongo_versions.h"
#include "fleet/fleet.h"
#include "report/report_fleet.h"

static const struct {
	const char *command;
	mig_fleet_op op;
} fleet_ops[] = {
	{"up", MIG_FLEET_UP},         {"down", MIG_FLEET_DOWN},     {"status", MIG_FLEET_STATUS},
	{"verify", MIG_FLEET_VERIFY}, {"seed", MIG_FLEET_SEED},     {"drift", MIG_FLEET_DRIFT},
};

static bool fleet_options_given(const mig_args *a)
{
	return a->ntargets || a->shards || a->canary || a->parallel || a->max_failures;
}

/* Every target that failed (the control database too) failed only because another run
 * held its lock: nothing changed there, so the run as a whole is "busy" (exit 4) and a
 * retry finishes the job. */
static bool all_busy(const mig_fleet_report *r)
{
	bool any = false;
	if (r->has_control && r->control.state == MIG_TARGET_FAILED) {
		if (r->control.error.code != MIG_EBUSY)
			return false;
		any = true;
	}
	for (size_t i = 0; i < r->n; i++) {
		if (r->results[i].state != MIG_TARGET_FAILED)
			continue;
		if (r->results[i].error.code != MIG_EBUSY)
			return false;
		any = true;
	}
	return any;
}

static int run_fleet(mig_context *ctx, mig_fleet_op op, mig_error *err)
{
	const mig_args *a = &ctx->args;
	mig_config *cfg = ctx->cfg;
	if (a->dry_run && op != MIG_FLEET_SEED)
		return mig_error_set(err, MIG_EUSAGE,
				     "--dry-run does not act on a fleet yet: use 'migrate status' to see what is pending");
	if ((op == MIG_FLEET_UP || op == MIG_FLEET_DOWN) && a->module &&
	    !mig_plan_module(ctx->plan, a->module))
		return mig_error_set(err, MIG_EUSAGE, "module '%s' is not enabled in the config",
				     a->module);
	/* the versioned MongoDB files, read once for every target: --to V may name one */
	mig_mongo_versions versions = {0};
	int rc = mig_mongo_versions_plan(&versions, cfg, mig_plan_choose_root(a->root, cfg), err);
	if (rc == MIG_OK && (op == MIG_FLEET_UP || op == MIG_FLEET_DOWN) && a->has_to)
		rc = mig_mongo_versions_check_to(ctx->plan, &versions, a->module, a->to_version,
						 op == MIG_FLEET_DOWN, err);
	if (rc < 0) {
		mig_mongo_versions_close(&versions);
		return rc;
	}
	mig_fleet_filter filter = {a->targets, a->ntargets, a->shard, a->shards};
	mig_fleet_targets targets;
	rc = mig_fleet_targets_read(&targets, cfg, ctx->registry, &filter, &cfg->secrets, err);
	if (rc < 0) {
		mig_mongo_versions_close(&versions);
		return rc;
	}
	mig_plan none = {0};
	mig_fleet_options opts = {
		.op = op,
		.parallel = a->parallel ? a->parallel : cfg->targets.parallel ? cfg->targets.parallel : 4,
		.canary = a->canary,
		.max_failures = a->max_failures ? a->max_failures : 1,
		.module = a->module,
		.steps = a->steps,
		.has_to = a->has_to,
		.to = a->to_version,
		.allow_out_of_order = a->allow_out_of_order,
		.phase = a->phase,
		.dry_run = a->dry_run,
		.mongo_versions = versions.plan,
	};
	mig_drift_fleet *drift = NULL;
	if (op == MIG_FLEET_DRIFT) {
		if ((rc = mig_drift_fleet_new(&drift, ctx, targets.kind == MIG_TARGET_SCHEMA,
					      err)) < 0) {
			mig_fleet_targets_clear(&targets);
			mig_mongo_versions_close(&versions);
			return rc;
		}
		opts.check = mig_drift_fleet_check;
		opts.check_ctx = drift;
	}
	mig_fleet_reporter rep = mig_fleet_reporter_for(ctx->out, op, a->quiet, a->format);
	mig_fleet_observer obs = mig_fleet_reporter_observer(&rep);
	mig_fleet_report report;
	rc = mig_fleet_run(&report, cfg, ctx->registry, ctx->plan ? ctx->plan : &none,
			   ctx->mongo_plan, &targets, &opts, &obs, err);
	if (rc == MIG_OK)
		rc = mig_fleet_report_summary(ctx->out, &report, op, a->format, a->quiet, err);
	if (rc == MIG_OK) {
		size_t failed = report.failed + (report.has_control &&
						 report.control.state == MIG_TARGET_FAILED);
		if (failed)
			rc = mig_error_set(err, all_busy(&report) ? MIG_EBUSY : MIG_EFAIL,
					   "%zu of %zu target%s failed%s", failed,
					   targets.n + report.has_control,
					   targets.n + report.has_control == 1 ? "" : "s",
					   report.skipped ? ", the rest skipped (see above)" : " (see above)");
		else if (report.behind && op != MIG_FLEET_UP && op != MIG_FLEET_DOWN)
			rc = mig_error_set(err, MIG_ESCHEMA, "%zu target%s %s (see above)",
					   report.behind, report.behind == 1 ? "" : "s",
					   op == MIG_FLEET_STATUS ? "not up to date"
					   : op == MIG_FLEET_SEED ? "with conflicting indexes"
					   : op == MIG_FLEET_DRIFT ? "with drift"
								 : "with problems");
	}
	mig_fleet_report_clear(&report);
	mig_drift_fleet_free(drift);
	mig_fleet_targets_clear(&targets);
	mig_mongo_versions_close(&versions);
	return rc;
}

int mig_command_run(mig_context *ctx, const mig_command *cmd, mig_error *err)
{
	bool fleet = ctx->cfg && ctx->cfg->targets.present;
	if (fleet && ctx->args.seed_data)
		return mig_error_set(err, MIG_EUSAGE,
				     "seed --data does not run over a fleet ('targets:' in the config): seed data is for one development or test database");
	for (size_t i = 0; fleet && i < sizeof fleet_ops / sizeof *fleet_ops; i++)
		if (!strcmp(cmd->name, fleet_ops[i].command))
			return run_fleet(ctx, fleet_ops[i].op, err);
	if (fleet_options_given(&ctx->args))
		return mig_error_set(err, MIG_EUSAGE,
				     "--target, --shard, --canary, --parallel and --max-failures need a 'targets:' section in the config");
	return cmd->run(ctx, err);
}

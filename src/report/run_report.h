/* What happened to each migration of a run, collected by an engine observer for the
 * `up`/`down --format json` run report (written by report_json.c). */
#ifndef MIGRATE_RUN_REPORT_H
#define MIGRATE_RUN_REPORT_H

#include <stdbool.h>
#include <stdio.h>
#include <time.h>

#include "core/engine.h"

typedef enum mig_step_state {
	MIG_STEP_SKIPPED = 0, /* never started: an earlier one failed, or the run never began */
	MIG_STEP_DONE,        /* applied (up) or rolled back (down) */
	MIG_STEP_FAILED,
} mig_step_state;

typedef struct mig_step_result {
	mig_step_state state;
	long long ms;           /* from the first attempt's start to the end */
	unsigned attempts;      /* 1 unless lock timeouts were retried */
	long long lock_wait_ms; /* time lost to lock timeouts: failed attempts and the waits */
	mig_error error;        /* MIG_STEP_FAILED: why */
	struct timespec begin;
	long long retry_until_ms; /* since begin: when the latest retry's wait ends */
} mig_step_result;

/* How the before_up or after_up hook went. */
typedef struct mig_hook_result {
	bool ran;
	long long ms;
	bool failed;
	mig_error error;
} mig_hook_result;

typedef struct mig_run_report {
	mig_step_result *items; /* one per run item, allocated at the first step (NULL before) */
	size_t nitems;
	mig_hook_result before_up, after_up;
	size_t files_executed;
	struct timespec start;
	FILE *notes; /* where each lock-timeout retry is said as it happens (stderr while
		      * stdout carries the JSON), or NULL */
} mig_run_report;

/* Starts the clock of the run. */
void mig_run_report_init(mig_run_report *r);

/* The observer that fills r (which must outlive the run). */
mig_observer mig_run_report_observer(mig_run_report *r);

void mig_run_report_clear(mig_run_report *r);

#endif

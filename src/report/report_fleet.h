/* Reporting a fleet run: for people, one line per target as it finishes, a progress
 * line on a terminal and a summary (report_fleet.c); for programs, one JSON document
 * at the end (report_fleet_json.c). */
#ifndef MIGRATE_REPORT_FLEET_H
#define MIGRATE_REPORT_FLEET_H

#include <stdbool.h>
#include <stdio.h>

#include "fleet/fleet.h"
#include "report/report.h"

typedef struct mig_fleet_reporter {
	FILE *out;      /* per-target lines; NULL when quiet or for JSON */
	FILE *progress; /* "[130/1200 targets, 2 failed]" redrawn on a terminal; else NULL */
	mig_fleet_op op;
} mig_fleet_reporter;

/* A reporter for out: the progress line only when stderr is a terminal. */
mig_fleet_reporter mig_fleet_reporter_for(FILE *out, mig_fleet_op op, bool quiet,
					  mig_format format);

/* The fleet observer that prints through rep (which must outlive the run). */
mig_fleet_observer mig_fleet_reporter_observer(mig_fleet_reporter *rep);

/* The summary (text) or the whole document (JSON). */
int mig_fleet_report_summary(FILE *out, const mig_fleet_report *r, mig_fleet_op op,
			     mig_format format, bool quiet, mig_error *err);

int mig_fleet_report_json(FILE *out, const mig_fleet_report *r, mig_fleet_op op,
			  mig_error *err);

#endif

/* Schema differences (drift, roundtrip, drift over a fleet) as text lines. */
#ifndef MIGRATE_REPORT_DIFF_TEXT_H
#define MIGRATE_REPORT_DIFF_TEXT_H

#include <stdio.h>

#include "schema/snapshot.h"

/* Prints differences one a line: kind, type, schema.name, attribute and both values,
 * and module/version when known; each line indented by indent. */
void mig_diff_print_text(FILE *out, const mig_diff *diff, const char *indent);

#endif

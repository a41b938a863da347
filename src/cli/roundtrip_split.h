/* How `migrate roundtrip --parallel` shares a history among its shadows
 * (src/cli/cmd_roundtrip.c): the selected migrations cut into stretches of plan order,
 * one per shadow, so that the costliest is as cheap as it can be. */
#ifndef MIGRATE_CLI_ROUNDTRIP_SPLIT_H
#define MIGRATE_CLI_ROUNDTRIP_SPLIT_H

#include <stddef.h>

#include "util/error.h"

/* The estimate the split balances: a round trip at plan position p costs about
 * ROUND_COST + p (its change queries read every catalog row of the shadow, which grows
 * with the history: on the benchmark's tree 25 ms + 0.12 ms per earlier migration), an
 * up applied on the way, or to bring a stretch's shadow to its start, UP_COST. */
enum { MIG_ROUNDTRIP_ROUND_COST = 200, MIG_ROUNDTRIP_UP_COST = 30 };

/* The estimated cost of the stretch that tests sel[a .. b] (b included; sel: the
 * selected plan positions, increasing), its shadow starting empty: the sum itself,
 * which the split computes from prefix sums and its unit tests check it against. */
unsigned long long mig_roundtrip_stretch_cost(const size_t *sel, size_t a, size_t b);

/* Cuts sel[0 .. m) (m >= 1) into at most w (>= 1) stretches whose costliest costs the
 * least possible: first[0 .. *n) receive where each begins (first[0] == 0). */
int mig_roundtrip_split(const size_t *sel, size_t m, size_t w, size_t *first, size_t *n,
			mig_error *err);

#endif

/* The split of a roundtrip among its shadows (src/cli/roundtrip_split.h). A stretch's
 * cost only grows as it reaches further and only falls as it starts later, so "can w
 * stretches of cost <= x cover everything" is answered exactly by taking each stretch
 * as long as x allows, and the least such x is found by bisection. */
#include <stdbool.h>
#include <stdlib.h>

#include "cli/roundtrip_split.h"

/* pre[k]: the cost of the round trips of sel[0 .. k) */
static unsigned long long cost(const size_t *sel, const unsigned long long *pre, size_t a,
			       size_t b)
{
	/* the ups of every item before sel[b] that the stretch does not test, then its
	 * round trips */
	return (unsigned long long)MIG_ROUNDTRIP_UP_COST * (sel[b] - (b - a)) + pre[b + 1] - pre[a];
}

static bool fits(const size_t *sel, const unsigned long long *pre, size_t m, size_t w,
		 unsigned long long x, size_t *first, size_t *n)
{
	size_t k = 0;
	for (size_t a = 0; a < m; k++) {
		if (k == w || cost(sel, pre, a, a) > x)
			return false;
		if (first)
			first[k] = a;
		size_t b = a;
		while (b + 1 < m && cost(sel, pre, a, b + 1) <= x)
			b++;
		a = b + 1;
	}
	if (n)
		*n = k;
	return true;
}

static unsigned long long *prefix(const size_t *sel, size_t m)
{
	unsigned long long *pre = malloc((m + 1) * sizeof *pre);
	if (!pre)
		return NULL;
	pre[0] = 0;
	for (size_t k = 0; k < m; k++)
		pre[k + 1] = pre[k] + MIG_ROUNDTRIP_ROUND_COST + sel[k];
	return pre;
}

unsigned long long mig_roundtrip_stretch_cost(const size_t *sel, size_t a, size_t b)
{
	unsigned long long c = (unsigned long long)MIG_ROUNDTRIP_UP_COST * (sel[b] - (b - a));
	for (size_t k = a; k <= b; k++)
		c += MIG_ROUNDTRIP_ROUND_COST + sel[k];
	return c;
}

int mig_roundtrip_split(const size_t *sel, size_t m, size_t w, size_t *first, size_t *n,
			mig_error *err)
{
	unsigned long long *pre = prefix(sel, m);
	if (!pre)
		return mig_error_set(err, MIG_EFAIL, "out of memory");
	unsigned long long lo = 0, hi = cost(sel, pre, 0, m - 1);
	while (lo < hi) {
		unsigned long long mid = lo + (hi - lo) / 2;
		if (fits(sel, pre, m, w, mid, NULL, NULL))
			hi = mid;
		else
			lo = mid + 1;
	}
	fits(sel, pre, m, w, hi, first, n);
	free(pre);
	return MIG_OK;
}

// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * libnuq: mixed precision under a size budget.  Start every layer at its
 * smallest option, then keep buying the upgrade (to any larger option of
 * any layer) that removes the most error per byte and still fits.  Looking
 * past the next option keeps the greedy choice sane when a layer's error
 * curve is not convex (a method that gains little at one more bit and a
 * lot at two).
 */
#include <errno.h>
#include <stdlib.h>

#include <nuq/nuqfile.h>

int nuq_mixed_precision(size_t nlayers, unsigned int nopts, const double *err,
			const double *bytes, double budget, unsigned int *choice)
{
	double used = 0;
	size_t l;

	if (!nopts)
		return -EINVAL;
	for (l = 0; l < nlayers; l++) {
		choice[l] = 0;
		used += bytes[l * nopts];
	}
	if (used > budget)
		return -ENOSPC;
	for (;;) {
		double best = 0;
		size_t bl = 0;
		unsigned int bo = 0, o;

		for (l = 0; l < nlayers; l++) {
			const double *e = err + l * nopts, *b = bytes + l * nopts;
			unsigned int c = choice[l];

			for (o = c + 1; o < nopts; o++) {
				double db = b[o] - b[c], gain = e[c] - e[o];

				if (gain <= 0 || used + db > budget)
					continue;
				if (db <= 0 || gain / db > best) {
					best = db <= 0 ? 1e300 : gain / db;
					bl = l;
					bo = o;
				}
			}
		}
		if (!bo)
			return 0;
		used += bytes[bl * nopts + bo] - bytes[bl * nopts + choice[bl]];
		choice[bl] = bo;
	}
}

// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * libnuq: OpenBLAS when the program is linked with it (the Makefile
 * links -lopenblas into dynamic builds; static builds are not, and their
 * weak references stay NULL): sgemm for the fp32 executor, the Cholesky
 * factor and inverse for data-aware rounding.
 */
#include <stdlib.h>
#include <string.h>

#include "openblas.h"

void openblas_set_num_threads(int n);
#pragma weak openblas_set_num_threads

int nuq_openblas_use(int linked, const char *knob)
{
	static int threads_set;
	const char *e = getenv(knob);

	if (!linked || (e && !strcmp(e, "own")))
		return 0;
	if (!__atomic_exchange_n(&threads_set, 1, __ATOMIC_SEQ_CST) && openblas_set_num_threads &&
	    !getenv("OPENBLAS_NUM_THREADS") && !getenv("OMP_NUM_THREADS"))
		openblas_set_num_threads(1);
	return 1;
}

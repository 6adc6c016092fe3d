// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * libnuq: single-precision matrix product for the fp32 executor.
 *
 * Not a BLAS: the reference executor needs to be right and fast enough
 * to evaluate a few hundred text lines, no more.  The inner loop runs
 * over contiguous columns of B and C so the compiler vectorises it; the
 * function is built for AVX2+FMA and for baseline x86-64, and the
 * loader picks one at run time (GCC target_clones).
 */
#include <string.h>

#include "graph_priv.h"

#define KB	256	/* rows of B per block: a block of B stays in L2 */
#define NB	512	/* columns per block */

#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
#define NUQ_CLONES __attribute__((target_clones("arch=x86-64-v3", "default"), optimize("O3")))
#else
#define NUQ_CLONES
#endif

NUQ_CLONES
void nuq_sgemm(size_t m, size_t n, size_t k, const float *a, size_t lda, const float *b,
	       size_t ldb, float *c, size_t ldc, int acc)
{
	size_t i, p, j, p0, j0;

	if (!acc)
		for (i = 0; i < m; i++)
			memset(c + i * ldc, 0, n * sizeof(float));
	for (j0 = 0; j0 < n; j0 += NB) {
		size_t jn = n - j0 < NB ? n - j0 : NB;

		for (p0 = 0; p0 < k; p0 += KB) {
			size_t pn = k - p0 < KB ? k - p0 : KB;

			for (i = 0; i < m; i++) {
				float *restrict cr = c + i * ldc + j0;
				const float *ar = a + i * lda + p0;

				for (p = 0; p < pn; p++) {
					const float *restrict br = b + (p0 + p) * ldb + j0;
					float av = ar[p];

					if (av == 0.0f)
						continue;
					for (j = 0; j < jn; j++)
						cr[j] += av * br[j];
				}
			}
		}
	}
}

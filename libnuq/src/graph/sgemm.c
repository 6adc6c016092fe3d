// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * libnuq: single-precision matrix product for the fp32 executor.
 *
 * OpenBLAS's cblas_sgemm when the program is linked with it (the
 * Makefile links -lopenblas into dynamic builds): it is several times
 * faster than the loop below on whole models (Documentation/performance.rst).
 * The reference is a weak one, so static builds (no -lopenblas) and
 * NUQ_SGEMM=own in the environment use nuq's own loop instead.
 *
 * nuq's own loop is not a BLAS: it runs over contiguous columns of B and C
 * so the compiler vectorises it; it is built for AVX2+FMA and for baseline
 * x86-64, and the loader picks one at run time (GCC target_clones).
 */
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "graph_priv.h"
#include "openblas.h"

#if defined(__has_include) && __has_include(<cblas.h>)
#include <cblas.h>
#pragma weak cblas_sgemm
#define NUQ_HAVE_CBLAS 1
#endif

#define KB	256	/* rows of B per block: a block of B stays in L2 */
#define NB	512	/* columns per block */

#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
#define NUQ_CLONES __attribute__((target_clones("arch=x86-64-v3", "default"), optimize("O3")))
#else
#define NUQ_CLONES
#endif

NUQ_CLONES
static void sgemm_own(size_t m, size_t n, size_t k, const float *a, size_t lda, const float *b,
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

#ifdef NUQ_HAVE_CBLAS
/* 1 when cblas_sgemm is linked in and NUQ_SGEMM is not "own" (read once). */
static int use_blas(void)
{
	static int use = -1;

	if (use < 0)
		use = nuq_openblas_use(cblas_sgemm != NULL, "NUQ_SGEMM");
	return use;
}
#endif

void nuq_sgemm(size_t m, size_t n, size_t k, const float *a, size_t lda, const float *b,
	       size_t ldb, float *c, size_t ldc, int acc)
{
#ifdef NUQ_HAVE_CBLAS
	/* BLAS takes int sizes and refuses empty ones (leading dims below 1). */
	if (use_blas() && m && n && k && m <= INT_MAX && n <= INT_MAX && k <= INT_MAX &&
	    lda <= INT_MAX && ldb <= INT_MAX && ldc <= INT_MAX) {
		cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)m, (int)n, (int)k,
			    1.0f, a, (int)lda, b, (int)ldb, acc ? 1.0f : 0.0f, c, (int)ldc);
		return;
	}
#endif
	sgemm_own(m, n, k, a, lda, b, ldb, c, ldc, acc);
}

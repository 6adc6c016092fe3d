// SPDX-License-Identifier: GPL-2.0
/*
 * nuq run: each graph output of the quantized model against fp32 -
 * SQNR, the largest difference, and whether the strongest entries (a
 * classifier's classes, a detector's best anchor) are the same - and
 * outputs saved as .npy for the user's own tools.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model_io.h"

#define TOP_K	5

void print_shape(FILE *f, const struct nuq_tensor *t)
{
	unsigned int i;

	if (!t->ndims)
		fprintf(f, "scalar");
	for (i = 0; i < t->ndims; i++)
		fprintf(f, "%s%lld", i ? "x" : "", (long long)t->dims[i]);
}

/* Indices of the @k largest of @v[0..n), largest first. */
static void top_k(const float *v, size_t n, size_t *idx, size_t k)
{
	size_t i, j, m;

	for (m = 0; m < k; m++)
		idx[m] = (size_t)-1;
	for (i = 0; i < n; i++) {
		for (m = 0; m < k; m++)
			if (idx[m] == (size_t)-1 || v[i] > v[idx[m]])
				break;
		if (m == k)
			continue;
		for (j = k - 1; j > m; j--)
			idx[j] = idx[j - 1];
		idx[m] = i;
	}
}

static void compare_ints(FILE *f, const struct nuq_tensor *ref, const struct nuq_tensor *q,
			 size_t n)
{
	size_t i, same = 0;

	for (i = 0; i < n; i++)
		same += ref->i[i] == q->i[i];
	fprintf(f, "  %zu of %zu equal\n", same, n);
}

void compare_output(FILE *f, const char *name, const struct nuq_tensor *ref,
		    const struct nuq_tensor *q)
{
	size_t n = nuq_tensor_count(ref), i, k = n < TOP_K ? n : TOP_K, shared = 0, a, b;
	size_t ti[TOP_K], tq[TOP_K];
	double sig = 0, err = 0, maxd = 0, maxr = 0;

	fprintf(f, "  %-24s ", name);
	print_shape(f, ref);
	if (q->ndims != ref->ndims || nuq_tensor_count(q) != n || q->dtype != ref->dtype) {
		fprintf(f, "  the quantized output is ");
		print_shape(f, q);
		fprintf(f, " (%s)\n", q->dtype != ref->dtype ? "another type" : "another shape");
		return;
	}
	if (ref->dtype != NUQ_DT_FLOAT || !ref->f || !q->f) {
		compare_ints(f, ref, q, ref->i && q->i ? n : 0);
		return;
	}
	for (i = 0; i < n; i++) {
		double d = (double)q->f[i] - ref->f[i];

		sig += (double)ref->f[i] * ref->f[i];
		err += d * d;
		maxd = fmax(maxd, fabs(d));
		maxr = fmax(maxr, fabs(ref->f[i]));
	}
	if (err == 0)
		fprintf(f, "  identical");
	else if (sig == 0)
		fprintf(f, "  SQNR -inf (fp32 is all zero)");
	else
		fprintf(f, "  SQNR %6.2f dB", 10 * log10(sig / err));
	fprintf(f, "  max |diff| %.4g (max |fp32| %.4g)", maxd, maxr);
	if (n >= 2) {
		top_k(ref->f, n, ti, k);
		top_k(q->f, n, tq, k);
		for (a = 0; a < k; a++)
			for (b = 0; b < k; b++)
				shared += ti[a] == tq[b];
		fprintf(f, "  top-1 %s (#%zu", ti[0] == tq[0] ? "same" : "differs", ti[0]);
		if (ti[0] != tq[0])
			fprintf(f, " vs #%zu", tq[0]);
		fprintf(f, "), top-%zu %zu/%zu", k, shared, k);
	}
	fprintf(f, "\n");
}

int save_output(const char *dir, const char *name, const char *suffix,
		const struct nuq_tensor *t, char *msg, size_t msglen)
{
	char path[1024], *p;
	size_t off = (size_t)snprintf(path, sizeof(path), "%s/", dir);

	if (off >= sizeof(path) ||
	    (size_t)snprintf(path + off, sizeof(path) - off, "%s%s.npy", name, suffix) >=
		    sizeof(path) - off)
		return -ENAMETOOLONG;
	for (p = path + off; *p; p++)
		if (*p == '/' || *p == ':')
			*p = '_';
	return nuq_npy_write(path, t, msg, msglen);
}

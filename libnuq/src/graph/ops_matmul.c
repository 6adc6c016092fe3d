// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * libnuq: MatMul (numpy semantics, batched with broadcasting) and Gemm.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "graph_priv.h"

int nuq_broadcast_shape(const struct nuq_tensor *a, const struct nuq_tensor *b,
			unsigned int *ndims, int64_t *dims);

static const char *const no_attrs[] = { NULL };
/* broadcast: opsets 1-6 (C always broadcasts to M x N here, as from opset 7). */
static const char *const gemm_attrs[] = { "alpha", "beta", "transA", "transB", "broadcast", NULL };

/* The batch dims of @t (all but the last two) as a tensor shape. */
static void batch_shape(const struct nuq_tensor *t, struct nuq_tensor *s)
{
	memset(s, 0, sizeof(*s));
	s->ndims = t->ndims > 2 ? t->ndims - 2 : 0;
	memcpy(s->dims, t->dims, s->ndims * sizeof(int64_t));
}

static int matmul_run(struct nuq_node *n, struct nuq_tensor **in, struct nuq_tensor **out,
		      char *msg, size_t msglen)
{
	struct nuq_tensor A = *in[0], B = *in[1], ba, bb;
	int64_t dims[NUQ_ONNX_MAX_DIMS], M, K, N, batches = 1, bi;
	unsigned int bnd, d, nd;
	int ret;

	if (A.dtype != NUQ_DT_FLOAT || B.dtype != NUQ_DT_FLOAT || !A.ndims || !B.ndims)
		return nuq_node_fail(n, msg, msglen, -EINVAL, "inputs must be float tensors");
	/* 1-D operands are promoted as numpy does. */
	if (A.ndims == 1) {
		A.dims[1] = A.dims[0];
		A.dims[0] = 1;
		A.ndims = 2;
	}
	if (B.ndims == 1) {
		B.dims[1] = 1;
		B.ndims = 2;
	}
	M = A.dims[A.ndims - 2], K = A.dims[A.ndims - 1], N = B.dims[B.ndims - 1];
	if (B.dims[B.ndims - 2] != K)
		return nuq_node_fail(n, msg, msglen, -EINVAL, "inner dimensions %lld and %lld differ",
				     (long long)K, (long long)B.dims[B.ndims - 2]);
	batch_shape(&A, &ba);
	batch_shape(&B, &bb);
	if (nuq_broadcast_shape(&ba, &bb, &bnd, dims) || bnd + 2 > NUQ_ONNX_MAX_DIMS)
		return nuq_node_fail(n, msg, msglen, -EINVAL, "batch dimensions do not broadcast");
	for (d = 0; d < bnd; d++)
		batches *= dims[d];
	nd = bnd;
	if (in[0]->ndims > 1)
		dims[nd++] = M;
	if (in[1]->ndims > 1)
		dims[nd++] = N;
	ret = nuq_tensor_alloc(out[0], NUQ_DT_FLOAT, nd, dims);
	if (ret)
		return ret;
	for (bi = 0; bi < batches; bi++) {
		int64_t rem = bi, ai = 0, bj = 0, sa = 1, sb = 1;
		int dd;

		/* Map the output batch index to each operand's (broadcast) batch. */
		for (dd = (int)bnd - 1; dd >= 0; dd--) {
			int64_t i = rem % dims[dd];
			int ia = dd - (int)(bnd - ba.ndims), ib = dd - (int)(bnd - bb.ndims);

			rem /= dims[dd];
			if (ia >= 0) {
				ai += (ba.dims[ia] == 1 ? 0 : i) * sa;
				sa *= ba.dims[ia];
			}
			if (ib >= 0) {
				bj += (bb.dims[ib] == 1 ? 0 : i) * sb;
				sb *= bb.dims[ib];
			}
		}
		nuq_sgemm((size_t)M, (size_t)N, (size_t)K, A.f + ai * M * K, (size_t)K,
			  B.f + bj * K * N, (size_t)N, out[0]->f + bi * M * N, (size_t)N, 0);
	}
	return 0;
}

static int gemm_prepare(struct nuq_graph *g, struct nuq_node *n, char *msg, size_t msglen)
{
	(void)g;
	n->a.alpha = nuq_attr_float(n, "alpha", 1.0f);
	n->a.beta = nuq_attr_float(n, "beta", 1.0f);
	n->a.trans_a = (int)nuq_attr_int(n, "transA", 0);
	n->a.trans_b = (int)nuq_attr_int(n, "transB", 0);
	if (n->nin < 2)
		return nuq_node_fail(n, msg, msglen, -EINVAL, "needs A and B");
	return 0;
}

static float *transposed(const float *x, int64_t r, int64_t c)
{
	float *t = malloc((size_t)(r * c) * sizeof(float) + 1);
	int64_t i, j;

	if (t)
		for (i = 0; i < r; i++)
			for (j = 0; j < c; j++)
				t[j * r + i] = x[i * c + j];
	return t;
}

static int gemm_run(struct nuq_node *n, struct nuq_tensor **in, struct nuq_tensor **out,
		    char *msg, size_t msglen)
{
	const struct nuq_tensor *A = in[0], *B = in[1], *C = n->nin > 2 ? in[2] : NULL;
	int64_t M, K, N, kb, i, j;
	float *ta = NULL, *tb = NULL;
	struct nuq_tensor cs;
	unsigned int nd;
	int64_t bd[NUQ_ONNX_MAX_DIMS];
	int ret;

	if (A->ndims != 2 || B->ndims != 2)
		return nuq_node_fail(n, msg, msglen, -EINVAL, "A and B must be 2-D");
	M = A->dims[n->a.trans_a ? 1 : 0], K = A->dims[n->a.trans_a ? 0 : 1];
	kb = B->dims[n->a.trans_b ? 1 : 0], N = B->dims[n->a.trans_b ? 0 : 1];
	if (K != kb)
		return nuq_node_fail(n, msg, msglen, -EINVAL, "inner dimensions differ");
	memset(&cs, 0, sizeof(cs));
	cs.ndims = 2;
	cs.dims[0] = M;
	cs.dims[1] = N;
	if (C && (nuq_broadcast_shape(C, &cs, &nd, bd) || nd != 2 || bd[0] != M || bd[1] != N))
		return nuq_node_fail(n, msg, msglen, -EINVAL, "C does not broadcast to %lldx%lld",
				     (long long)M, (long long)N);
	ret = nuq_tensor_alloc(out[0], NUQ_DT_FLOAT, 2, cs.dims);
	if (ret)
		return ret;
	if (n->a.trans_a)
		ta = transposed(A->f, K, M);
	if (n->a.trans_b)
		tb = transposed(B->f, N, K);
	if ((n->a.trans_a && !ta) || (n->a.trans_b && !tb)) {
		free(ta);
		free(tb);
		return -ENOMEM;
	}
	nuq_sgemm((size_t)M, (size_t)N, (size_t)K, ta ? ta : A->f, (size_t)K, tb ? tb : B->f,
		  (size_t)N, out[0]->f, (size_t)N, 0);
	free(ta);
	free(tb);
	for (i = 0; i < M; i++)
		for (j = 0; j < N; j++) {
			float cv = 0;

			if (C) {
				int64_t ci = (C->ndims == 2 ? (C->dims[0] == 1 ? 0 : i) * C->dims[1] : 0) +
					     (C->ndims >= 1 && C->dims[C->ndims - 1] != 1 ? j : 0);
				cv = C->f[ci];
			}
			out[0]->f[i * N + j] = n->a.alpha * out[0]->f[i * N + j] + n->a.beta * cv;
		}
	return 0;
}

const struct nuq_op nuq_ops_matmul[] = {
	{ "MatMul", no_attrs, NULL, matmul_run, 2, 0, 0, 0 },
	{ "Gemm", gemm_attrs, gemm_prepare, gemm_run, 2, 0, 0, 0 },
	{ NULL, NULL, NULL, NULL, 0, 0, 0, 0 },
};

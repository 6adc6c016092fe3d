// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * libnuq: the quantized executor - which nodes become jobs, calibration,
 * and the graph hook that runs them.
 */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "msg.h"
#include "qexec_priv.h"

/*
 * Inputs the bias correction's means are measured on (the first ones).
 * They run in lockstep, every input's activations alive at once, so their
 * total size is capped too (2^23 input elements: three 960x960 pages, or
 * hundreds of text lines).
 */
#define CALIB_MEAN_INPUTS	24
#define CALIB_MEAN_ELEMENTS	(1ULL << 23)

static int is_op(const struct nuq_node *n, const char *op)
{
	return !strcmp(n->op->name, op);
}

static const struct nuq_qlayer *find_layer(const struct nuq_qlayer *layers, size_t n,
					   const char *name)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (!strcmp(layers[i].name, name))
			return &layers[i];
	return NULL;
}

/* Overwrite @n floats at @dst with @src, keeping the old ones to restore. */
static int replace_floats(struct nuq_qexec *q, float *dst, const float *src, size_t n)
{
	struct backup *b = realloc(q->bk, (q->nbk + 1) * sizeof(*b));

	if (!b)
		return -ENOMEM;
	q->bk = b;
	b = &q->bk[q->nbk];
	b->saved = malloc(n * sizeof(float));
	if (!b->saved)
		return -ENOMEM;
	memcpy(b->saved, dst, n * sizeof(float));
	b->dst = dst;
	b->n = n;
	q->nbk++;
	memcpy(dst, src, n * sizeof(float));
	return 0;
}

/*
 * A layer that holds its BatchNormalization folded (NUQ_QLAYER_BN_FOLDED)
 * brings the folded bias too: it replaces the one the import computed
 * from the ONNX file's bias and BatchNormalization, which are not read.
 * A layer that holds its Conv's own bias (NUQ_QLAYER_BIAS) likewise.
 */
static int use_folded_bias(struct nuq_qexec *q, struct qnode *qn, char *msg, size_t msglen)
{
	const struct nuq_qlayer *l = qn->l;
	struct nuq_node *n = qn->n;
	float *b;
	size_t r;
	int ret;

	if (l->flags & NUQ_QLAYER_BN_FOLDED &&
	    (!n->folded_bn || !n->has_bias || nuq_tensor_count(&n->b) != l->rows))
		return nuq_node_fail(n, msg, msglen, -EINVAL,
				     "quantized layer '%s' holds a folded BatchNormalization, but in this model no BatchNormalization follows its Conv",
				     l->name);
	/* NUQ_QLAYER_BIAS: the Conv's own bias, so the import folded nothing into it */
	if (l->flags & NUQ_QLAYER_BIAS &&
	    (n->folded_bn || !n->has_bias || nuq_tensor_count(&n->b) != l->rows))
		return nuq_node_fail(n, msg, msglen, -EINVAL,
				     "quantized layer '%s' holds its Conv's bias, but in this model that Conv %s",
				     l->name, n->folded_bn ? "has a BatchNormalization folded in" :
				     "has no bias");
	b = malloc(l->rows * sizeof(*b));
	if (!b)
		return -ENOMEM;
	for (r = 0; r < l->rows; r++)
		b[r] = nuq_qlayer_bias(l, r);
	ret = replace_floats(q, n->b.f, b, l->rows);
	free(b);
	return ret;
}

/*
 * The fp32 ops (and calibration) see the quantized weights: dequantize
 * the layer into the node's weights (times a folded BatchNormalization's
 * scale) or into the constant that MatMul/Gemm read.
 */
static int use_dequantized(struct nuq_qexec *q, struct qnode *qn, char *msg, size_t msglen)
{
	const struct nuq_qlayer *l = qn->l;
	struct nuq_node *n = qn->n;
	struct nuq_tensor *dst = NULL;
	size_t cnt = (size_t)l->rows * l->cols;
	float *mat, *onnx;
	int ret;

	if (is_op(n, "Conv") || is_op(n, "ConvTranspose"))
		dst = &n->w;
	else if (n->in[1] >= 0 && q->g->values[n->in[1]].is_const)
		dst = &q->g->values[n->in[1]].t;
	if (!dst || dst->dtype != NUQ_DT_FLOAT || nuq_tensor_count(dst) != cnt ||
	    dst->ndims != l->ndims || memcmp(dst->dims, l->dims, l->ndims * sizeof(l->dims[0])))
		return nuq_node_fail(n, msg, msglen, -EINVAL,
				     "quantized layer '%s' does not match the model's weight shape",
				     l->name);
	mat = malloc(cnt * sizeof(float));
	onnx = malloc(cnt * sizeof(float));
	ret = -ENOMEM;
	if (mat && onnx) {
		ret = nuq_qlayer_dequantize(l, mat);
		if (ret)
			ret = nuq_node_fail(n, msg, msglen, ret, "cannot decode layer '%s'", l->name);
	}
	if (!ret) {
		nuq_layout_to_onnx(l->layout, l->dims, l->ndims, mat, onnx);
		if (n->folded_bn && !(l->flags & NUQ_QLAYER_BN_FOLDED))
			nuq_scale_out_channels(n, onnx, n->bn_s.f);
		ret = replace_floats(q, dst->f, onnx, cnt);
		if (!ret && is_op(n, "Conv"))
			qn->orig_w = q->bk[q->nbk - 1].saved;
		if (!ret && l->flags & NUQ_QLAYER_HAS_BIAS)
			ret = use_folded_bias(q, qn, msg, msglen);
	}
	free(mat);
	free(onnx);
	return ret;
}

/*
 * A Gemm is a MatMul with a bias when A is not transposed and alpha is 1:
 * then why_not_gemm() is NULL and a constant C of N values (or none)
 * becomes the job's bias, beta * C.  Otherwise it says why not.
 */
static const char *why_not_gemm(const struct nuq_graph *g, const struct nuq_node *n,
				size_t out_c)
{
	const struct nuq_tensor *c;

	if (n->a.trans_a)
		return "its A input is transposed (transA), which no job takes";
	if (n->a.alpha != 1.0f)
		return "its alpha is not 1, which no job takes";
	if (n->nin < 3 || n->in[2] < 0)
		return NULL;
	c = nuq_const_input(g, n, 2);
	if (!c || c->dtype != NUQ_DT_FLOAT || nuq_tensor_count(c) != out_c ||
	    (c->ndims == 2 && c->dims[0] != 1) || c->ndims > 2 || !isfinite(n->a.beta))
		return "its C input is not a constant of one value per output, which no job takes";
	return NULL;
}

/* The Gemm's beta * C as the node's bias, which the job adds (the fp32 op reads C itself). */
static int gemm_bias(struct nuq_qexec *q, struct qnode *qn)
{
	struct nuq_node *n = qn->n;
	const struct nuq_tensor *c = n->nin > 2 && n->in[2] >= 0 ? nuq_const_input(q->g, n, 2) :
				     NULL;
	int64_t N = qn->l->rows, o;
	int ret;

	if (!c || n->has_bias)
		return 0;
	ret = nuq_tensor_alloc(&n->b, NUQ_DT_FLOAT, 1, &N);
	if (ret)
		return ret;
	for (o = 0; o < N; o++)
		n->b.f[o] = n->a.beta * c->f[o];
	n->has_bias = 1;
	qn->added_bias = 1;
	return 0;
}

/* A Relu, or a Clip whose lower bound is 0, reading only @v. */
static struct nuq_node *fusable_act(struct nuq_graph *g, size_t after, int v, float *lo, float *hi)
{
	size_t i;

	if (g->values[v].uses != 1 || g->values[v].is_output)
		return NULL;
	for (i = after + 1; i < g->nnodes; i++) {
		struct nuq_node *n = &g->nodes[i];

		if (n->nin < 1 || n->in[0] != v)
			continue;
		if (is_op(n, "Relu")) {
			*lo = 0;
			*hi = INFINITY;
			return n;
		}
		if (is_op(n, "Clip") && n->a.min == 0.0f) {
			*lo = 0;
			*hi = n->a.max;
			return n;
		}
		return NULL;
	}
	return NULL;
}

/* Node @i has quantized weights: a Conv/ConvTranspose/MatMul/Gemm whose weight has a layer. */
static int has_layer(const struct nuq_graph *g, size_t i, const struct nuq_qlayer *layers,
		     size_t nlayers)
{
	const struct nuq_node *n = &g->nodes[i];

	if (n->nin < 2 || !n->proto->input[1] ||
	    !(is_op(n, "Conv") || is_op(n, "ConvTranspose") || is_op(n, "MatMul") ||
	      is_op(n, "Gemm")))
		return 0;
	return find_layer(layers, nlayers, n->proto->input[1]) != NULL;
}

/* Node @v's producer index, or -1 for a graph input (or a constant). */
static long producer_of(const struct nuq_graph *g, int v)
{
	size_t i, k;

	for (i = 0; i < g->nnodes; i++)
		for (k = 0; k < g->nodes[i].nout; k++)
			if (g->nodes[i].out[k] == v)
				return (long)i;
	return -1;
}

/*
 * An Add of @v (node @at's only output use) and another activation that
 * exists by the time node @at runs: the residual connection of a ResNet
 * or MobileNetV2 block, which the job can do (NUQ_JOB_F_RESIDUAL).  The
 * other input goes into *@res.
 */
static struct nuq_node *fusable_add(struct nuq_graph *g, size_t at, int v, int *res)
{
	size_t i;

	if (g->values[v].uses != 1 || g->values[v].is_output)
		return NULL;
	for (i = at + 1; i < g->nnodes; i++) {
		struct nuq_node *n = &g->nodes[i];
		int other;

		if (n->nin < 1 || (n->in[0] != v && (n->nin < 2 || n->in[1] != v)))
			continue;
		if (!is_op(n, "Add") || n->nin != 2 || n->nout != 1 || n->out[0] < 0)
			return NULL;
		other = n->in[0] == v ? n->in[1] : n->in[0];
		if (other < 0 || other == v || g->values[other].is_const ||
		    producer_of(g, other) >= (long)at)
			return NULL;
		*res = other;
		return n;
	}
	return NULL;
}

/* Make node @fused (an activation or an Add) pass on @qn's job output. */
static void fuse_into(struct nuq_qexec *q, struct qnode *qn, struct nuq_node *fused, int add)
{
	struct qnode *fq = &q->qn[fused - q->g->nodes];

	fq->n = fused;
	fused->q = fq;
	fq->job_of = qn;
	if (add)
		fq->fused_add = 1;
	else
		fq->fused_act = 1;
}

/*
 * The heads: quantized layers from whose output a graph output is
 * reached through fp32 ops alone (reshapes, concats, activations,
 * elementwise arithmetic, a Softmax...), never through another quantized
 * layer.  Nothing downstream of a head requantizes, so an 8-bit output
 * step would be the answer's own precision: one per-tensor scale over a
 * classifier's logits (background anchors at -600 next to faces near 0)
 * or a heat map leaves a few dozen distinct values.  They run in fp32
 * with their quantized weights.  The nodes are in topological order, so
 * one backward sweep marks every value from which an output is reached.
 * Returns a node flag array (the caller frees), or NULL without memory.
 */
static char *find_heads(const struct nuq_graph *g, const struct nuq_qlayer *layers,
			size_t nlayers)
{
	char *reach = calloc(g->nvalues + 1, 1), *head = calloc(g->nnodes + 1, 1);
	size_t i, k;

	if (!reach || !head) {
		free(reach);
		free(head);
		return NULL;
	}
	for (i = 0; i < g->nvalues; i++)
		reach[i] = !!g->values[i].is_output;
	for (i = g->nnodes; i-- > 0;) {
		const struct nuq_node *n = &g->nodes[i];
		int out = 0;

		for (k = 0; k < n->nout; k++)
			out |= n->out[k] >= 0 && reach[n->out[k]];
		if (!out)
			continue;
		if (has_layer(g, i, layers, nlayers)) {
			head[i] = 1;
			continue;
		}
		for (k = 0; k < n->nin; k++)
			if (n->in[k] >= 0)
				reach[n->in[k]] = 1;
	}
	free(reach);
	return head;
}

static int hook(void *ctx, struct nuq_node *n, struct nuq_tensor **in, struct nuq_tensor **out,
		char *msg, size_t msglen)
{
	struct nuq_qexec *q = ctx;
	struct qnode *qn = n->q;
	int ret;

	if (!q->active || !qn)
		return 0;
	if (qn->lut)
		return nuq_qlut_hook(q, qn, in);
	if (qn->fused_act || qn->fused_add) {
		struct nuq_tensor *t = in[0];

		/* The conv's job ran the clamp or the Add: pass its output on. */
		if (!qn->job_of->ran)
			return 0;	/* it ran in fp32: so does this node */
		if (qn->fused_add && n->in[0] != qn->job_of->n->out[0])
			t = in[1];
		*out[0] = *t;
		memset(t, 0, sizeof(*t));
		return 1;
	}
	if (!qn->device)
		return 0;
	qn->ran = 0;
	ret = nuq_qconv_run(q, qn, in[0], out[0], msg, msglen);
	qn->ran = ret == 0;
	return ret == 2 ? 0 : ret ? ret : 1;
}

static int setup_nodes(struct nuq_qexec *q, const struct nuq_qlayer *layers, size_t nlayers,
		       char *msg, size_t msglen)
{
	struct nuq_graph *g = q->g;
	char *head = find_heads(g, layers, nlayers);
	size_t i;
	int ret = 0;

	if (!head)
		return -ENOMEM;
	for (i = 0; i < g->nnodes && !ret; i++) {
		struct qnode *qn = &q->qn[i];
		struct nuq_node *n = &g->nodes[i];
		const char *wname, *gemm_why;

		qn->n = n;
		n->q = qn;
		if (qn->fused_act || n->nin < 2 || !n->proto->input[1] ||
		    !(is_op(n, "Conv") || is_op(n, "ConvTranspose") || is_op(n, "MatMul") ||
		      is_op(n, "Gemm")))
			continue;
		wname = n->proto->input[1];
		qn->l = find_layer(layers, nlayers, wname);
		if (!qn->l)
			continue;
		ret = use_dequantized(q, qn, msg, msglen);
		if (ret)
			break;
		qn->head = head[i] && !(q->o.flags & NUQ_QEXEC_QUANTIZED_HEADS);
		q->st.head_layers += qn->head;
		if (qn->orig_w && !(q->o.flags & NUQ_QEXEC_NO_BIAS_CORRECTION))
			q->vals[n->in[0]].want_mean = 1;
		gemm_why = is_op(n, "Gemm") ? why_not_gemm(g, n, qn->l->rows) : NULL;
		if ((is_op(n, "Conv") || is_op(n, "ConvTranspose") || is_op(n, "MatMul") ||
		     (is_op(n, "Gemm") && !gemm_why)) &&
		    !(q->o.flags & NUQ_QEXEC_WEIGHTS_ONLY) && !qn->head) {
			ret = is_op(n, "Gemm") ? gemm_bias(q, qn) : 0;
			if (ret)
				break;
			ret = nuq_qconv_setup(q, qn, msg, msglen);
			if (ret < 0)
				break;
			qn->device = ret == 0;
			ret = 0;
		}
		if (!qn->device) {
			if (qn->head)
				qn->why = "a head: a graph output follows through fp32 ops, so it keeps full precision";
			else if (q->o.flags & NUQ_QEXEC_WEIGHTS_ONLY)
				qn->why = "fp32 activations were asked for (weights only)";
			else if (gemm_why)
				qn->why = gemm_why;
			q->st.fp32_layers++;
			continue;
		}
		q->st.device_layers++;
		qn->in_val = n->in[0];
		qn->out_val = n->out[0];
		/* conv -> Add(residual) -> Relu is one job where the device can add. */
		/* (not after a ConvTranspose: its job's pixels are in phase order) */
		qn->add = q->residual_ok && !qn->fc && !qn->convt ?
			  fusable_add(g, i, n->out[0], &qn->res_val) : NULL;
		if (qn->add) {
			fuse_into(q, qn, qn->add, 1);
			qn->out_val = qn->add->out[0];
			q->vals[qn->res_val].tracked = 1;
			q->st.fused_adds++;
		}
		qn->act = fusable_act(g, qn->add ? (size_t)(qn->add - g->nodes) : i, qn->out_val,
				      &qn->clamp_lo, &qn->clamp_hi);
		if (qn->act) {
			fuse_into(q, qn, qn->act, 0);
			qn->out_val = qn->act->out[0];
			q->st.fused_acts++;
		}
		q->vals[qn->in_val].tracked = 1;
		q->vals[qn->out_val].tracked = 1;
	}
	/* Then the elementwise regions the jobs' outputs feed. */
	for (i = 0; i < g->nnodes && !ret; i++)
		if (q->qn[i].device)
			ret = nuq_qlut_find(q, &q->qn[i]);
	free(head);
	return ret;
}

int nuq_qexec_create(struct nuq_graph *g, const struct nuq_qlayer *layers, size_t nlayers,
		     const struct nuq_qexec_opts *o, struct nuq_qexec **out, char *msg,
		     size_t msglen)
{
	struct nuq_qexec *q;
	int ret;

	*out = NULL;
	if (g->run_hook)
		return nuq_fail(msg, msglen, -EBUSY, "the graph already has a quantized executor");
	q = calloc(1, sizeof(*q));
	if (!q)
		return -ENOMEM;
	q->g = g;
	q->o = *o;
	q->qn = calloc(g->nnodes + 1, sizeof(*q->qn));
	q->vals = calloc(g->nvalues + 1, sizeof(*q->vals));
	ret = -ENOMEM;
	if (!q->qn || !q->vals)
		goto fail;
	ret = nuq_device_open(o->device, (o->flags & NUQ_QEXEC_CPU) ? NUQ_OPEN_CPU :
				NUQ_OPEN_CPU_FALLBACK, &q->dev);
	if (ret) {
		nuq_fail(msg, msglen, ret, "cannot open %s: %s", o->device ? o->device : "/dev/nuq0",
			 strerror(-ret));
		goto fail;
	}
	q->st.on_kernel_device = !nuq_device_is_cpu(q->dev);
	{
		struct nuq_info info;

		q->residual_ok = !nuq_device_info(q->dev, &info) && (info.caps & NUQ_CAP_RESIDUAL);
	}
	g->run_hook = hook;
	g->hook_ctx = q;
	ret = setup_nodes(q, layers, nlayers, msg, msglen);
	if (ret)
		goto fail;
	*out = q;
	return 0;
fail:
	nuq_qexec_free(q);
	return ret;
}

void nuq_qexec_free(struct nuq_qexec *q)
{
	size_t i;

	if (!q)
		return;
	for (i = q->nbk; i-- > 0;) {
		memcpy(q->bk[i].dst, q->bk[i].saved, q->bk[i].n * sizeof(float));
		free(q->bk[i].saved);
	}
	free(q->bk);
	if (q->qn) {
		for (i = 0; i < q->g->nnodes; i++) {
			if (q->qn[i].added_bias) {
				nuq_tensor_free(&q->g->nodes[i].b);
				q->g->nodes[i].has_bias = 0;
			}
			if (q->qn[i].bo)
				nuq_bo_free(q->dev, q->qn[i].bo);
			free(q->qn[i].wscale);
			if (q->qn[i].lut_owner)
				free(q->qn[i].lut);
			q->g->nodes[i].q = NULL;
		}
	}
	if (q->vals)
		for (i = 0; i < q->g->nvalues; i++) {
			nuq_act_stats_free(&q->vals[i].st);
			free(q->vals[i].csum);
		}
	if (q->in_bo)
		nuq_bo_free(q->dev, q->in_bo);
	if (q->out_bo)
		nuq_bo_free(q->dev, q->out_bo);
	if (q->res_bo)
		nuq_bo_free(q->dev, q->res_bo);
	if (q->g->hook_ctx == q) {
		q->g->run_hook = NULL;
		q->g->hook_ctx = NULL;
	}
	if (q->dev)
		nuq_device_close(q->dev);
	free(q->qn);
	free(q->vals);
	free(q);
}

/* Per-channel sums of an NCHW tensor, for bias correction. */
static void add_channel_means(struct qval *v, const struct nuq_tensor *t)
{
	int64_t N, C, S, b, c, p;

	if (t->ndims != 4 || !t->f)
		return;
	N = t->dims[0], C = t->dims[1], S = t->dims[2] * t->dims[3];
	if (!v->csum) {
		v->csum = calloc((size_t)C, sizeof(double));
		v->nch = C;
	}
	if (!v->csum || v->nch != C)
		return;
	for (b = 0; b < N; b++)
		for (c = 0; c < C; c++) {
			const float *x = t->f + (b * C + c) * S;
			double s = 0;

			for (p = 0; p < S; p++)
				s += x[p];
			v->csum[c] += s;
		}
	v->cper += (uint64_t)(N * S);
}

static void observe_value(struct nuq_qexec *q, int v, const struct nuq_tensor *t)
{
	if (v < 0 || t->dtype != NUQ_DT_FLOAT || !t->f)
		return;
	if (q->phase == CALIB_RANGES && q->vals[v].tracked)
		nuq_act_stats_add(&q->vals[v].st, t->f, nuq_tensor_count(t));
	if (q->phase == CALIB_MEANS && q->vals[v].want_mean)
		add_channel_means(&q->vals[v], t);
}

static void observe(void *ctx, size_t node, unsigned int idx, const struct nuq_tensor *t)
{
	struct nuq_qexec *q = ctx;

	observe_value(q, q->g->nodes[node].out[idx], t);
}

/* Per-channel mean of value @v's calibration sums (0 without them). */
static double channel_mean(const struct qval *v, int64_t c)
{
	return v->cper ? v->csum[c] / (double)v->cper : 0;
}

/* sum_k w[o][k] * E[x_k]: what a conv's weights add to output channel @o's mean. */
static double weighted_mean(const struct nuq_node *n, const float *w, const struct qval *v,
			    int64_t o)
{
	int64_t Cg = n->w.dims[1], kk = n->w.dims[2] * n->w.dims[3];
	int64_t og = n->w.dims[0] / n->a.group, c, k;
	double d = 0;

	for (c = 0; c < Cg; c++) {
		double mean = channel_mean(v, (o / og) * Cg + c), ws = 0;

		for (k = 0; k < kk; k++)
			ws += w[(o * Cg + c) * kk + k];
		d += ws * mean;
	}
	return d;
}

static int has_means(const struct nuq_qexec *q, const struct qnode *qn)
{
	const struct qval *v = &q->vals[qn->n->in[0]];

	return qn->orig_w && v->csum && v->cper && v->nch == qn->n->w.dims[1] * qn->n->a.group;
}

/*
 * Bias correction: quantizing the weights moves each output channel's
 * mean by sum_k (wq - w)[o][k] * E[x_k]; subtract that from the bias, with
 * E[x] per input channel measured on the calibration set (by the
 * sequential pass below: the input of the quantized, already corrected
 * layers before this one).
 */
int nuq_qexec_correct_bias(struct nuq_qexec *q, struct qnode *qn)
{
	struct nuq_node *n = qn->n;
	const struct qval *v;
	int64_t O, o;
	int ret;

	if (!has_means(q, qn))
		return 0;
	v = &q->vals[n->in[0]];
	O = n->w.dims[0];
	if (!n->has_bias) {
		ret = nuq_tensor_alloc(&n->b, NUQ_DT_FLOAT, 1, &O);
		if (ret)
			return ret;
		n->has_bias = 1;
		qn->added_bias = 1;
	}
	if (!qn->orig_b) {
		ret = replace_floats(q, n->b.f, n->b.f, (size_t)O);
		if (ret)
			return ret;
		qn->orig_b = q->bk[q->nbk - 1].saved;
	}
	for (o = 0; o < O; o++)
		n->b.f[o] = (float)(qn->orig_b[o] + weighted_mean(n, qn->orig_w, v, o) -
				    weighted_mean(n, n->w.f, v, o));
	return 0;
}

/* Ranges and means are known: the scales, then every job's bias and requantization. */
int nuq_qexec_apply(struct nuq_qexec *q)
{
	struct nuq_graph *g = q->g;
	size_t i;
	int ret;

	for (i = 0; i < g->nvalues; i++)
		if (q->vals[i].tracked)
			nuq_act_qparams(q->vals[i].lo, q->vals[i].hi, &q->vals[i].scale,
					&q->vals[i].zp);
	for (i = 0; i < g->nnodes; i++) {
		struct qnode *qn = &q->qn[i];

		if (!qn->device)
			continue;
		ret = nuq_qconv_finalize(q, qn);
		if (ret < 0)
			return ret;
		if (ret == 1) {
			/* Back to fp32 (with the quantized weights), unfused. */
			qn->device = 0;
			q->st.device_layers--;
			q->st.fp32_layers++;
			if (qn->act) {
				((struct qnode *)qn->act->q)->fused_act = 0;
				qn->act = NULL;
				q->st.fused_acts--;
			}
			if (qn->add) {
				((struct qnode *)qn->add->q)->fused_add = 0;
				qn->add = NULL;
				q->st.fused_adds--;
			}
		}
	}
	/* A table that cannot be built leaves its region in fp32. */
	for (i = 0; i < g->nnodes; i++) {
		struct qlut *r = q->qn[i].lut;

		if (r && q->qn[i].lut_owner) {
			r->ready = 0;
			nuq_qlut_build(q, r, NULL, 0);
		}
	}
	q->calibrated = 1;
	return 0;
}

void nuq_qexec_reset(struct nuq_qexec *q)
{
	struct nuq_graph *g = q->g;
	size_t i;

	q->calibrated = 0;
	for (i = 0; i < g->nvalues; i++) {
		nuq_act_stats_free(&q->vals[i].st);
		free(q->vals[i].csum);
		q->vals[i].csum = NULL;
		q->vals[i].cper = 0;
	}
	/* Bias correction starts from the uncorrected model. */
	for (i = 0; i < g->nnodes; i++)
		if (q->qn[i].orig_b)
			memcpy(g->nodes[i].b.f, q->qn[i].orig_b,
			       (size_t)g->nodes[i].w.dims[0] * sizeof(float));
}

static void report(struct nuq_qexec *q, size_t done)
{
	if (q->cb.progress)
		q->cb.progress(q->cb.ctx, done, q->cb.total);
}

/* The graph inputs of run @f (@nfeeds of them) to the observer: no node outputs them. */
static void observe_inputs(struct nuq_qexec *q, const struct nuq_graph_feed *f, size_t nfeeds)
{
	size_t j;

	for (j = 0; j < nfeeds; j++) {
		int in = nuq_graph_find_input(q->g, f[j].name);

		if (in >= 0 && f[j].tensor)
			observe_value(q, q->g->inputs[in], f[j].tensor);
	}
}

/*
 * The ranges: the fp32 graph (quantized weights, corrected biases) over
 * the @n runs; progress counts on from @done.
 */
static int ranges_pass(struct nuq_qexec *q, const struct nuq_graph_feed *feeds, size_t nfeeds,
		       size_t n, size_t done, char *msg, size_t msglen)
{
	struct nuq_graph *g = q->g;
	struct nuq_tensor *y = calloc(g->noutputs + 1, sizeof(*y));
	size_t i, j;
	int ret = 0;

	if (!y)
		return nuq_fail(msg, msglen, -ENOMEM, "out of memory");
	q->phase = CALIB_RANGES;
	nuq_graph_set_observer(g, observe, q);
	for (i = 0; i < n && !ret; i++) {
		observe_inputs(q, feeds + i * nfeeds, nfeeds);
		ret = nuq_graph_run_all(g, feeds + i * nfeeds, nfeeds, y, msg, msglen);
		for (j = 0; !ret && j < g->noutputs; j++)
			nuq_tensor_free(&y[j]);
		report(q, done + i + 1);
	}
	nuq_graph_set_observer(g, NULL, NULL);
	free(y);
	return ret;
}

static int correct_before(void *ctx, size_t node)
{
	struct nuq_qexec *q = ctx;
	int ret = nuq_qexec_correct_bias(q, &q->qn[node]);

	if (ret)
		nuq_fail(q->cb.msg, q->cb.msglen, ret, "out of memory");
	/* Progress: the inputs advance together, one node at a time. */
	report(q, q->cb.inputs * node / q->g->nnodes);
	return ret;
}

/*
 * The quantized model, node by node over the inputs: each conv's bias is
 * corrected from its input means once every layer before it has been, so
 * those means are the corrected model's.  Correcting all layers from one
 * pass of the uncorrected model measures inputs that the corrections
 * upstream then move (3-bit knq/opt: 1-1.5 points of characters).
 */
static int sequential_correction(struct nuq_qexec *q, const struct nuq_graph_feed *feeds,
				 size_t nfeeds, size_t n, char *msg, size_t msglen)
{
	size_t i;
	int ret = 0;

	q->phase = CALIB_MEANS;
	for (i = 0; i < n; i++)
		observe_inputs(q, feeds + i * nfeeds, nfeeds);
	nuq_graph_set_observer(q->g, observe, q);
	q->cb.msg = msg;
	q->cb.msglen = msglen;
	q->cb.inputs = n;
	ret = nuq_graph_run_lockstep_feeds(q->g, feeds, nfeeds, n, correct_before, q, msg,
					   msglen);
	nuq_graph_set_observer(q->g, NULL, NULL);
	return ret;
}

int nuq_qexec_calibrate(struct nuq_qexec *q, const struct nuq_tensor *x, size_t n,
			nuq_progress_fn progress, void *ctx, char *msg, size_t msglen)
{
	struct nuq_graph_feed *feeds;
	int ret;

	if (nuq_graph_ninputs(q->g) != 1)
		return nuq_fail(msg, msglen, -EINVAL,
				"the model has %zu inputs: give each calibration run's as feeds (nuq_qexec_calibrate_feeds)",
				nuq_graph_ninputs(q->g));
	feeds = nuq_graph_feeds_of(q->g, x, n);
	if (!feeds)
		return nuq_fail(msg, msglen, -ENOMEM, "out of memory");
	ret = nuq_qexec_calibrate_feeds(q, feeds, 1, n, progress, ctx, msg, msglen);
	free(feeds);
	return ret;
}

int nuq_qexec_calibrate_feeds(struct nuq_qexec *q, const struct nuq_graph_feed *feeds,
			      size_t nfeeds, size_t n, nuq_progress_fn progress, void *ctx,
			      char *msg, size_t msglen)
{
	struct nuq_graph *g = q->g;
	size_t i, j, nmean = 0;
	unsigned long long elems;
	int ret = 0;

	if (!n)
		return nuq_fail(msg, msglen, -EINVAL, "calibration needs at least one input");
	q->active = 0;
	nuq_qexec_reset(q);
	for (i = 0; i < g->nvalues; i++)
		if (q->vals[i].want_mean)
			nmean = n < CALIB_MEAN_INPUTS ? n : CALIB_MEAN_INPUTS;
	for (i = 0, elems = 0; i < nmean; i++) {
		for (j = 0; j < nfeeds; j++)
			elems += feeds[i * nfeeds + j].tensor ?
				 nuq_tensor_count(feeds[i * nfeeds + j].tensor) : 0;
		if (i && elems > CALIB_MEAN_ELEMENTS)
			nmean = i;
	}
	/*
	 * First the bias correction, then the ranges: the correction moves
	 * the activations, and the ranges must be those the corrected model
	 * produces.
	 */
	q->cb = (struct calib_cb){ .progress = progress, .ctx = ctx, .total = n + nmean };
	if (nmean) {
		ret = sequential_correction(q, feeds, nfeeds, nmean, msg, msglen);
		report(q, nmean);
	}
	if (!ret)
		ret = ranges_pass(q, feeds, nfeeds, n, nmean, msg, msglen);
	if (ret)
		return ret;
	for (i = 0; i < g->nvalues; i++) {
		struct qval *v = &q->vals[i];

		if (!v->tracked)
			continue;
		nuq_act_range(&v->st, q->o.calib, &v->lo, &v->hi);
		nuq_act_stats_free(&v->st);
	}
	return nuq_qexec_apply(q);
}


static int check_calibrated(const struct nuq_qexec *q, char *msg, size_t msglen)
{
	if (q->st.device_layers && !q->calibrated)
		return nuq_fail(msg, msglen, -EINVAL,
				"activation ranges are not calibrated: call nuq_qexec_calibrate first");
	return 0;
}

int nuq_qexec_run(struct nuq_qexec *q, const struct nuq_tensor *x, struct nuq_tensor *y,
		  char *msg, size_t msglen)
{
	int ret = check_calibrated(q, msg, msglen);

	if (ret)
		return ret;
	q->active = 1;
	ret = nuq_graph_run(q->g, x, y, msg, msglen);
	q->active = 0;
	return ret;
}

int nuq_qexec_run_all(struct nuq_qexec *q, const struct nuq_graph_feed *feeds, size_t nfeeds,
		      struct nuq_tensor *outputs, char *msg, size_t msglen)
{
	size_t i;
	int ret = check_calibrated(q, msg, msglen);

	if (ret) {
		for (i = 0; i < nuq_graph_noutputs(q->g); i++)
			memset(&outputs[i], 0, sizeof(outputs[i]));
		return ret;
	}
	q->active = 1;
	ret = nuq_graph_run_all(q->g, feeds, nfeeds, outputs, msg, msglen);
	q->active = 0;
	return ret;
}

void nuq_qexec_stats(const struct nuq_qexec *q, struct nuq_qexec_stats *st)
{
	*st = q->st;
}

size_t nuq_qexec_layers(const struct nuq_qexec *q, struct nuq_qexec_layer *out, size_t max)
{
	size_t i, n = 0;

	for (i = 0; i < q->g->nnodes; i++) {
		const struct qnode *qn = &q->qn[i];
		const struct nuq_node *nd = &q->g->nodes[i];

		if (!qn->l)
			continue;
		if (n < max) {
			out[n].node = i;
			out[n].name = nd->proto->name && *nd->proto->name ? nd->proto->name :
				      nd->proto->n_output ? nd->proto->output[0] : "";
			out[n].op = nd->op->name;
			out[n].device = qn->device;
			out[n].why = qn->device ? NULL : qn->why ? qn->why : "it runs in fp32";
		}
		n++;
	}
	return n;
}

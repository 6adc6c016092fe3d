// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * libnuq: the per-layer error report of the quantized executor - each
 * quantized layer's output against the fp32 model's on the same input.
 */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "msg.h"
#include "qexec_priv.h"

struct err_run {
	struct nuq_qexec *q;
	int *entry;			/* per value: its entry, or -1 */
	struct nuq_qexec_layer_error *e;
	float **ref;			/* per entry: the fp32 run's output */
	size_t *nref;
	int quantized;			/* 0: recording the references */
	int failed;
};

/* The value a layer's output ends in: after its fused Add and activation, if any. */
static int layer_value(const struct qnode *qn)
{
	return qn->device ? qn->out_val : qn->n->out[0];
}

/* Element @i of @t in NCHW order, also from a job's uint8 NHWC output. */
static float value_at(const struct nuq_tensor *t, size_t i)
{
	size_t C, HW, b, c, p;

	if (t->f)
		return t->f[i];
	if (t->ndims != 4)
		return ((int32_t)t->q[i] - t->zp) * t->scale;
	C = (size_t)t->dims[1], HW = (size_t)(t->dims[2] * t->dims[3]);
	b = i / (C * HW), c = i / HW % C, p = i % HW;
	return ((int32_t)t->q[(b * HW + p) * C + c] - t->zp) * t->scale;
}

static void observe(void *ctx, size_t node, unsigned int idx, const struct nuq_tensor *t)
{
	struct err_run *r = ctx;
	int v = r->q->g->nodes[node].out[idx], k = v >= 0 ? r->entry[v] : -1;
	size_t n, i;

	if (k < 0 || t->dtype != NUQ_DT_FLOAT || (!t->f && !t->q))
		return;
	n = nuq_tensor_count(t);
	if (!r->quantized) {
		free(r->ref[k]);
		r->ref[k] = malloc((n ? n : 1) * sizeof(float));
		if (!r->ref[k]) {
			r->failed = 1;
			return;
		}
		for (i = 0; i < n; i++)
			r->ref[k][i] = value_at(t, i);
		r->nref[k] = n;
		return;
	}
	if (!r->ref[k] || r->nref[k] != n)
		return;
	for (i = 0; i < n; i++) {
		double a = r->ref[k][i], d = value_at(t, i) - a;

		r->e[k].signal += a * a;
		r->e[k].noise += d * d;
	}
	r->e[k].count += n;
}

/* Swap the quantized weights and corrected biases with the model's own. */
static void swap_weights(struct nuq_qexec *q)
{
	size_t i, j;

	for (i = 0; i < q->nbk; i++)
		for (j = 0; j < q->bk[i].n; j++) {
			float t = q->bk[i].dst[j];

			q->bk[i].dst[j] = q->bk[i].saved[j];
			q->bk[i].saved[j] = t;
		}
}

static int run_outputs(struct nuq_qexec *q, const struct nuq_graph_feed *feeds, size_t nfeeds,
		       char *msg, size_t msglen)
{
	size_t no = nuq_graph_noutputs(q->g), k;
	struct nuq_tensor *y = calloc(no + 1, sizeof(*y));
	int ret;

	if (!y)
		return -ENOMEM;
	ret = nuq_graph_run_all(q->g, feeds, nfeeds, y, msg, msglen);
	for (k = 0; k < no; k++)
		nuq_tensor_free(&y[k]);
	free(y);
	return ret;
}

static size_t setup_entries(struct err_run *r)
{
	struct nuq_qexec *q = r->q;
	size_t i, m = 0;

	for (i = 0; i < q->g->nvalues; i++)
		r->entry[i] = -1;
	for (i = 0; i < q->g->nnodes; i++) {
		const struct qnode *qn = &q->qn[i];

		if (!qn->l)
			continue;
		r->entry[layer_value(qn)] = (int)m;
		r->e[m] = (struct nuq_qexec_layer_error){
			.node = i, .name = nuq_graph_node_name(q->g, i), .op = qn->n->op->name,
			.device = qn->device, .head = qn->head,
		};
		m++;
	}
	return m;
}

int nuq_qexec_layer_errors(struct nuq_qexec *q, const struct nuq_graph_feed *feeds,
			   size_t nfeeds, struct nuq_qexec_layer_error **errs, size_t *n,
			   char *msg, size_t msglen)
{
	struct err_run r = { .q = q };
	size_t m = 0, i;
	int ret;

	*errs = NULL;
	*n = 0;
	if (q->st.device_layers && !q->calibrated)
		return nuq_fail(msg, msglen, -EINVAL,
				"activation ranges are not calibrated: call nuq_qexec_calibrate first");
	r.entry = calloc(q->g->nvalues + 1, sizeof(*r.entry));
	r.e = calloc(q->g->nnodes + 1, sizeof(*r.e));
	r.ref = calloc(q->g->nnodes + 1, sizeof(*r.ref));
	r.nref = calloc(q->g->nnodes + 1, sizeof(*r.nref));
	ret = -ENOMEM;
	if (r.entry && r.e && r.ref && r.nref) {
		m = setup_entries(&r);
		nuq_graph_set_observer(q->g, observe, &r);
		q->active = 0;
		swap_weights(q);
		ret = run_outputs(q, feeds, nfeeds, msg, msglen);
		swap_weights(q);
		if (!ret && !r.failed) {
			r.quantized = 1;
			q->active = 1;
			ret = run_outputs(q, feeds, nfeeds, msg, msglen);
			q->active = 0;
		} else if (!ret) {
			ret = nuq_fail(msg, msglen, -ENOMEM, "out of memory");
		}
		nuq_graph_set_observer(q->g, NULL, NULL);
	}
	for (i = 0; i < m; i++) {
		struct nuq_qexec_layer_error *e = &r.e[i];

		e->sqnr_db = e->noise > 0 ? 10 * log10(e->signal / e->noise) : INFINITY;
		free(r.ref[i]);
	}
	free(r.entry);
	free(r.ref);
	free(r.nref);
	if (ret) {
		free(r.e);
		return ret;
	}
	*errs = r.e;
	*n = m;
	return 0;
}

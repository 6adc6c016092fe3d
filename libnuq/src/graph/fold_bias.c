// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * libnuq: a conv's bias written as a separate Add, folded back in.
 *
 * Some exporters (PaddleOCR's detector, for its ConvTranspose layers)
 * emit the bias as an Add of a constant [1, O, 1, 1] after the conv.  As
 * the conv's own bias it is added by the conv (and by its job), and the
 * BatchNormalization that often follows can fold into the conv too.
 */
#include <errno.h>
#include <string.h>

#include "graph_priv.h"

/* @t broadcasts along the channels of an NCHW output of @o channels only. */
static int per_channel(const struct nuq_tensor *t, int64_t o)
{
	unsigned int d;

	if (t->dtype != NUQ_DT_FLOAT || t->ndims < 3 || t->ndims > 4 ||
	    t->dims[t->ndims - 3] != o || t->dims[t->ndims - 2] != 1 || t->dims[t->ndims - 1] != 1)
		return 0;
	for (d = 0; d + 3 < t->ndims; d++)
		if (t->dims[d] != 1)
			return 0;
	return 1;
}

/* Node @add's conv: the Conv/ConvTranspose before it whose only use it is, or NULL. */
static struct nuq_node *conv_before(struct nuq_graph *g, size_t kept, int v)
{
	struct nuq_node *n = nuq_graph_sole_producer(g, kept, v);

	return n && n->nout == 1 && n->w.ndims == 4 &&
	       (!strcmp(n->op->name, "Conv") || !strcmp(n->op->name, "ConvTranspose")) ? n : NULL;
}

int nuq_fold_bias_add(struct nuq_graph *g)
{
	size_t i, kept = 0;
	int folded = 0;

	nuq_graph_count_uses(g);
	for (i = 0; i < g->nnodes; i++) {
		struct nuq_node *add = &g->nodes[i], *conv = NULL;
		const struct nuq_tensor *c = NULL;
		int64_t o = 0, oc;
		unsigned int k;

		if (!strcmp(add->op->name, "Add") && add->nin == 2 && add->nout == 1) {
			for (k = 0; k < 2 && !conv; k++) {
				conv = conv_before(g, kept, add->in[k]);
				c = conv ? nuq_const_input(g, add, 1 - k) : NULL;
				if (conv) {
					o = !strcmp(conv->op->name, "Conv") ? conv->w.dims[0] :
					    conv->w.dims[1] * conv->a.group;
					if (!c || !per_channel(c, o))
						conv = NULL;
				}
			}
		}
		if (!conv) {
			g->nodes[kept++] = *add;
			continue;
		}
		if (!conv->has_bias) {
			if (nuq_tensor_alloc(&conv->b, NUQ_DT_FLOAT, 1, &o))
				return -ENOMEM;
			conv->has_bias = 1;
		}
		for (oc = 0; oc < o; oc++)
			conv->b.f[oc] += c->f[oc];
		conv->out[0] = add->out[0];
		folded++;
	}
	g->nnodes = kept;
	return folded;
}

// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * libnuq: ONNX graph import.  Values get dense ids, nodes are put in
 * topological order and prepared (attributes parsed and checked), nodes
 * with constant inputs are folded, and BatchNormalization is folded into
 * the Conv before it.
 */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "graph_priv.h"
#include "msg.h"
#include "onnx/onnx_priv.h"

/* Open-addressing name -> value id map; names are unique per graph. */
struct name_map {
	int *slot;
	size_t mask;
};

static uint64_t hash_name(const char *s)
{
	uint64_t h = 1469598103934665603ULL;

	while (*s)
		h = (h ^ (unsigned char)*s++) * 1099511628211ULL;
	return h;
}

static int map_init(struct name_map *m, size_t want)
{
	size_t n = 64;

	while (n < want * 2)
		n <<= 1;
	m->slot = malloc(n * sizeof(int));
	if (!m->slot)
		return -ENOMEM;
	memset(m->slot, 0xff, n * sizeof(int));
	m->mask = n - 1;
	return 0;
}

static int map_find(const struct name_map *m, const struct nuq_graph *g, const char *name)
{
	size_t i = hash_name(name) & m->mask;

	for (; m->slot[i] >= 0; i = (i + 1) & m->mask)
		if (!strcmp(g->values[m->slot[i]].name, name))
			return m->slot[i];
	return -1;
}

static void map_put(struct name_map *m, const char *name, int id)
{
	size_t i = hash_name(name) & m->mask;

	while (m->slot[i] >= 0)
		i = (i + 1) & m->mask;
	m->slot[i] = id;
}

static int add_value(struct nuq_graph *g, struct name_map *m, const char *name, char *msg,
		     size_t msglen)
{
	struct nuq_value *v;

	if (map_find(m, g, name) >= 0)
		return nuq_fail(msg, msglen, -EINVAL, "value '%s' is defined twice", name);
	if (g->nvalues == g->cap_values)
		return nuq_fail(msg, msglen, -EOVERFLOW, "more values than the graph declared");
	v = &g->values[g->nvalues];
	v->name = strdup(name);
	if (!v->name)
		return -ENOMEM;
	map_put(m, v->name, (int)g->nvalues);
	return (int)g->nvalues++;
}

/*
 * A BOOL, UINT8 or INT8 TensorProto's values, as int64: one byte each in
 * raw_data, or one each in int32_data.  A count other than the dims' is
 * an error naming the tensor.
 */
static int narrow_values(const Onnx__TensorProto *tp, const char *name, int64_t **out,
			 char *msg, size_t msglen)
{
	size_t i, n = 1, have;
	int64_t *v;

	for (i = 0; i < tp->n_dims; i++) {
		if (tp->dims[i] < 0 || (tp->dims[i] && n > nuq_tensor_max_count() / (size_t)tp->dims[i]))
			return nuq_fail(msg, msglen, -EINVAL, "tensor '%s': bad dims", name);
		n *= (size_t)tp->dims[i];
	}
	if (tp->data_location == ONNX__TENSOR_PROTO__DATA_LOCATION__EXTERNAL)
		return nuq_fail(msg, msglen, -EOPNOTSUPP,
				"tensor '%s': external data of type %s is not supported", name,
				nuq_graph_dtype_name(tp->data_type));
	have = tp->has_raw_data ? tp->raw_data.len : tp->n_int32_data;
	if (have != n)
		return nuq_fail(msg, msglen, -EBADMSG, "tensor '%s': %zu values for %zu elements",
				name, have, n);
	v = malloc((n ? n : 1) * sizeof(*v));
	if (!v)
		return -ENOMEM;
	for (i = 0; i < n; i++) {
		int32_t x = tp->has_raw_data ? (int32_t)tp->raw_data.data[i] : tp->int32_data[i];

		if (tp->data_type == ONNX__TENSOR_PROTO__DATA_TYPE__BOOL)
			v[i] = x != 0;
		else if (tp->data_type == ONNX__TENSOR_PROTO__DATA_TYPE__UINT8)
			v[i] = (uint8_t)x;
		else
			v[i] = (int8_t)x;
	}
	*out = v;
	return 0;
}

/* A TensorProto as a constant value. */
static int load_const(struct nuq_value *v, const Onnx__TensorProto *tp, char *msg, size_t msglen)
{
	int64_t dims[NUQ_ONNX_MAX_DIMS];
	size_t i, count;
	int ret;

	if (tp->n_dims > NUQ_ONNX_MAX_DIMS)
		return nuq_fail(msg, msglen, -E2BIG, "tensor '%s' has %zu dims (at most %d)",
				v->name, tp->n_dims, NUQ_ONNX_MAX_DIMS);
	for (i = 0; i < tp->n_dims; i++)
		dims[i] = tp->dims[i];
	v->is_const = 1;
	if (tp->data_type == ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT) {
		ret = nuq_onnx_tensor_float(tp, &v->t.f, &count, msg, msglen);
		v->t.dtype = NUQ_DT_FLOAT;
	} else if (tp->data_type == ONNX__TENSOR_PROTO__DATA_TYPE__INT64 ||
		   tp->data_type == ONNX__TENSOR_PROTO__DATA_TYPE__INT32) {
		ret = nuq_onnx_tensor_int64(tp, &v->t.i, &count, msg, msglen);
		v->t.dtype = NUQ_DT_INT64;
	} else if (nuq_dtype_narrow((enum nuq_dtype)tp->data_type)) {
		ret = narrow_values(tp, v->name, &v->t.i, msg, msglen);
		v->t.dtype = (enum nuq_dtype)tp->data_type;
	} else {
		return nuq_fail(msg, msglen, -EOPNOTSUPP,
				"tensor '%s': data type %d (%s) is not supported "
				"(float32, int64, int32, bool, uint8, int8 are)",
				v->name, tp->data_type, nuq_graph_dtype_name(tp->data_type));
	}
	if (ret)
		return ret;
	v->t.ndims = (unsigned int)tp->n_dims;
	memcpy(v->t.dims, dims, sizeof(dims[0]) * tp->n_dims);
	return 0;
}

static int is_constant_node(const Onnx__NodeProto *np)
{
	return np->op_type && !strcmp(np->op_type, "Constant");
}

static int check_attrs(const struct nuq_node *n, char *msg, size_t msglen)
{
	const char *const *ok;
	size_t i;

	for (i = 0; i < n->proto->n_attribute; i++) {
		const char *name = n->proto->attribute[i]->name;

		for (ok = n->op->attrs; ok && *ok; ok++)
			if (name && !strcmp(*ok, name))
				break;
		if (!ok || !*ok)
			return nuq_node_fail(n, msg, msglen, -EOPNOTSUPP,
					     "attribute '%s' is not supported", name ? name : "");
	}
	return 0;
}

/*
 * Every op reads its required inputs and writes its first output; further
 * outputs are ones it computes (max_out) or, after those, optional ones it
 * does not compute (unused_out), which nothing may read.  Those are
 * dropped from the node.
 */
static int check_io(struct nuq_graph *g, struct nuq_node *n, char *msg, size_t msglen)
{
	unsigned int need = n->op->min_in ? n->op->min_in : 1, j;
	unsigned int outs = n->op->max_out ? n->op->max_out : 1;

	if (n->nin < need)
		return nuq_node_fail(n, msg, msglen, -EINVAL, "needs %u inputs, has %u", need, n->nin);
	for (j = 0; j < need; j++)
		if (n->in[j] < 0)
			return nuq_node_fail(n, msg, msglen, -EINVAL, "input %u is empty", j);
	if (n->nout < 1 || n->out[0] < 0)
		return nuq_node_fail(n, msg, msglen, -EINVAL, "has no output");
	for (j = outs; j < n->nout; j++) {
		const struct nuq_value *v;

		if (n->out[j] < 0)
			continue;
		if (j >= outs + n->op->unused_out)
			return nuq_node_fail(n, msg, msglen, -EOPNOTSUPP,
					     "has %u outputs; nuq's %s has at most %u", n->nout,
					     n->op->name, outs + n->op->unused_out);
		v = &g->values[n->out[j]];
		if (v->uses || v->is_output)
			return nuq_node_fail(n, msg, msglen, -EOPNOTSUPP,
					     "output %u ('%s') is read, but nuq does not compute it",
					     j, v->name);
		n->out[j] = -1;
	}
	return 0;
}

static int op_is_known(const Onnx__NodeProto *np)
{
	return np->op_type && (!np->domain || !*np->domain || !strcmp(np->domain, "ai.onnx")) &&
	       nuq_op_find(np->op_type);
}

/*
 * "; every op it lacks: LSTM (2 nodes), com.x.Foo (1 node)" for the
 * message of the first unsupported node, so that a user sees the whole
 * list at once instead of one op per attempt.
 */
static void list_unknown_ops(const Onnx__GraphProto *gp, char *msg, size_t msglen)
{
	size_t i, j, len, kinds = 0;

	if (!msg || !msglen)
		return;
	len = strlen(msg);
	for (i = 0; i < gp->n_node && len + 1 < msglen; i++) {
		const Onnx__NodeProto *np = gp->node[i];
		size_t count = 0;

		if (is_constant_node(np) || op_is_known(np) || !np->op_type)
			continue;
		for (j = 0; j < i; j++)
			if (!op_is_known(gp->node[j]) && gp->node[j]->op_type &&
			    !strcmp(gp->node[j]->op_type, np->op_type))
				break;
		if (j < i)
			continue;	/* counted with its first node */
		for (j = i; j < gp->n_node; j++)
			count += gp->node[j]->op_type && !strcmp(gp->node[j]->op_type, np->op_type);
		len += snprintf(msg + len, msglen - len, "%s%s%s%s (%zu node%s)",
				kinds++ ? ", " : "; every op the model needs that nuq lacks: ",
				np->domain && *np->domain ? np->domain : "",
				np->domain && *np->domain ? "." : "", np->op_type, count,
				count == 1 ? "" : "s");
	}
}

static int build_nodes(struct nuq_graph *g, struct name_map *m, const Onnx__GraphProto *gp,
		       char *msg, size_t msglen)
{
	size_t i, j;
	int id;

	for (i = 0; i < gp->n_node; i++) {
		const Onnx__NodeProto *np = gp->node[i];
		struct nuq_node *n;

		if (is_constant_node(np))
			continue;
		n = &g->nodes[g->nnodes];
		n->proto = np;
		n->index = i;
		if (!np->op_type)
			return nuq_fail(msg, msglen, -EBADMSG, "node %zu has no op_type", i);
		if (np->domain && *np->domain && strcmp(np->domain, "ai.onnx")) {
			nuq_node_fail(n, msg, msglen, -EOPNOTSUPP, "op domain '%s' is not supported",
				      np->domain);
			list_unknown_ops(gp, msg, msglen);
			return -EOPNOTSUPP;
		}
		n->op = nuq_op_find(np->op_type);
		if (!n->op) {
			nuq_node_fail(n, msg, msglen, -EOPNOTSUPP,
				      "op is not supported by nuq's executor");
			list_unknown_ops(gp, msg, msglen);
			return -EOPNOTSUPP;
		}
		if (np->n_input > NUQ_NODE_MAX_IO || np->n_output > NUQ_NODE_MAX_IO)
			return nuq_node_fail(n, msg, msglen, -E2BIG, "too many inputs or outputs");
		n->nin = (unsigned int)np->n_input;
		n->nout = (unsigned int)np->n_output;
		for (j = 0; j < np->n_output; j++) {
			if (!np->output[j] || !*np->output[j]) {
				n->out[j] = -1;
				continue;
			}
			id = add_value(g, m, np->output[j], msg, msglen);
			if (id < 0)
				return id;
			n->out[j] = id;
		}
		g->nnodes++;
	}
	/* Inputs may name values that later nodes produce: resolve them now. */
	for (i = 0; i < g->nnodes; i++) {
		struct nuq_node *n = &g->nodes[i];

		for (j = 0; j < n->nin; j++) {
			const char *name = n->proto->input[j];

			if (!name || !*name) {
				n->in[j] = -1;
				continue;
			}
			n->in[j] = map_find(m, g, name);
			if (n->in[j] < 0)
				return nuq_node_fail(n, msg, msglen, -EINVAL,
						     "input '%s' is not produced by any node", name);
		}
	}
	return 0;
}

/* Kahn's algorithm over value producers; a cycle is an error. */
static int topo_sort(struct nuq_graph *g, char *msg, size_t msglen)
{
	int *producer, *pending, *done_val;
	struct nuq_node *sorted;
	size_t i, j, count = 0;
	int progress, ret = 0;

	producer = malloc(g->nvalues * sizeof(int));
	pending = calloc(g->nnodes, sizeof(int));
	done_val = calloc(g->nvalues, sizeof(int));
	sorted = calloc(g->nnodes ? g->nnodes : 1, sizeof(*sorted));
	if (!producer || !pending || !done_val || !sorted) {
		ret = -ENOMEM;
		goto out;
	}
	memset(producer, 0xff, g->nvalues * sizeof(int));
	for (i = 0; i < g->nnodes; i++)
		for (j = 0; j < g->nodes[i].nout; j++)
			if (g->nodes[i].out[j] >= 0)
				producer[g->nodes[i].out[j]] = (int)i;
	for (i = 0; i < g->nvalues; i++)
		done_val[i] = producer[i] < 0;
	/* Node lists are nearly always sorted already: sweep until stable. */
	do {
		progress = 0;
		for (i = 0; i < g->nnodes; i++) {
			struct nuq_node *n = &g->nodes[i];
			int ready = 1;

			if (pending[i])
				continue;
			for (j = 0; j < n->nin; j++)
				if (n->in[j] >= 0 && !done_val[n->in[j]])
					ready = 0;
			if (!ready)
				continue;
			pending[i] = 1;
			sorted[count++] = *n;
			for (j = 0; j < n->nout; j++)
				if (n->out[j] >= 0)
					done_val[n->out[j]] = 1;
			progress = 1;
		}
	} while (progress && count < g->nnodes);
	if (count < g->nnodes) {
		for (i = 0; i < g->nnodes && pending[i]; i++)
			;
		ret = nuq_node_fail(&g->nodes[i], msg, msglen, -ELOOP,
				    "the graph has a cycle through this node");
		goto out;
	}
	memcpy(g->nodes, sorted, g->nnodes * sizeof(*sorted));
out:
	free(producer);
	free(pending);
	free(done_val);
	free(sorted);
	return ret;
}

const struct nuq_tensor *nuq_const_input(const struct nuq_graph *g, const struct nuq_node *n,
					 unsigned int i)
{
	if (i >= n->nin || n->in[i] < 0 || !g->values[n->in[i]].is_const)
		return NULL;
	return &g->values[n->in[i]].t;
}

static int all_inputs_const(const struct nuq_graph *g, const struct nuq_node *n)
{
	unsigned int j;

	for (j = 0; j < n->nin; j++)
		if (n->in[j] >= 0 && !g->values[n->in[j]].is_const)
			return 0;
	return 1;
}

/* Evaluate nodes whose inputs are all constant, once, and drop them. */
static int fold_constants(struct nuq_graph *g, char *msg, size_t msglen)
{
	struct nuq_tensor *in[NUQ_NODE_MAX_IO], *out[NUQ_NODE_MAX_IO];
	size_t i, kept = 0;
	unsigned int j;
	int ret;

	for (i = 0; i < g->nnodes; i++) {
		struct nuq_node *n = &g->nodes[i];

		if (!all_inputs_const(g, n) || !strcmp(n->op->name, "Conv") ||
		    !strcmp(n->op->name, "ConvTranspose")) {
			g->nodes[kept++] = *n;
			continue;
		}
		for (j = 0; j < n->nin; j++)
			in[j] = n->in[j] >= 0 ? &g->values[n->in[j]].t : NULL;
		for (j = 0; j < n->nout; j++)
			out[j] = n->out[j] >= 0 ? &g->values[n->out[j]].t : NULL;
		ret = nuq_node_run(n, in, out, msg, msglen);
		if (ret)
			return ret;
		for (j = 0; j < n->nout; j++)
			if (n->out[j] >= 0)
				g->values[n->out[j]].is_const = 1;
		nuq_tensor_free(&n->w);
		nuq_tensor_free(&n->b);
	}
	g->nnodes = kept;
	return 0;
}

void nuq_graph_count_uses(struct nuq_graph *g)
{
	size_t i;
	unsigned int j;

	for (i = 0; i < g->nvalues; i++)
		g->values[i].uses = 0;
	for (i = 0; i < g->nnodes; i++)
		for (j = 0; j < g->nodes[i].nin; j++)
			if (g->nodes[i].in[j] >= 0)
				g->values[g->nodes[i].in[j]].uses++;
}

void nuq_scale_out_channels(const struct nuq_node *n, float *w, const float *s)
{
	int convt = !strcmp(n->op->name, "ConvTranspose");
	size_t o = (size_t)n->w.dims[convt], lead = convt ? (size_t)n->w.dims[0] : 1;
	size_t per = nuq_tensor_count(&n->w) / lead / o, a, c, k;

	for (a = 0; a < lead; a++)
		for (c = 0; c < o; c++)
			for (k = 0; k < per; k++)
				w[(a * o + c) * per + k] *= s[c];
}

struct nuq_node *nuq_graph_sole_producer(struct nuq_graph *g, size_t kept, int v)
{
	size_t k;

	if (v < 0 || g->values[v].uses != 1 || g->values[v].is_output)
		return NULL;
	for (k = kept; k-- > 0;)
		if (g->nodes[k].nout && g->nodes[k].out[0] == v)
			return &g->nodes[k];
	return NULL;
}

/*
 * Conv -> BatchNormalization with constant statistics becomes one Conv:
 * w' = w * s, b' = (b - mean) * s + beta with s = gamma / sqrt(var + eps).
 * So does a ConvTranspose without groups, whose output channel is the
 * weight's dim 1 ([I, O, kh, kw]).
 */
static int fold_batchnorm(struct nuq_graph *g)
{
	size_t i, kept = 0;
	int folded = 0;

	nuq_graph_count_uses(g);
	for (i = 0; i < g->nnodes; i++) {
		struct nuq_node *bn = &g->nodes[i], *conv = NULL;
		const struct nuq_tensor *p[4];
		int cv, ok = 1, convt;
		unsigned int j;
		int64_t oc_dim;

		if (strcmp(bn->op->name, "BatchNormalization") || bn->in[0] < 0)
			goto keep;
		cv = bn->in[0];
		conv = nuq_graph_sole_producer(g, kept, cv);
		if (!conv || conv->nout != 1)
			goto keep;
		convt = !strcmp(conv->op->name, "ConvTranspose");
		if ((strcmp(conv->op->name, "Conv") && !convt) || (convt && conv->a.group != 1) ||
		    conv->w.ndims < 2)
			goto keep;
		oc_dim = conv->w.dims[convt];
		for (j = 0; j < 4; j++) {
			p[j] = nuq_const_input(g, bn, j + 1);
			if (!p[j] || p[j]->dtype != NUQ_DT_FLOAT ||
			    nuq_tensor_count(p[j]) != (size_t)oc_dim)
				ok = 0;
		}
		if (!ok)
			goto keep;
		if (!conv->has_bias) {
			if (nuq_tensor_alloc(&conv->b, NUQ_DT_FLOAT, 1, &oc_dim))
				return -ENOMEM;
			conv->has_bias = 1;
		}
		if (nuq_tensor_alloc(&conv->bn_s, NUQ_DT_FLOAT, 1, &oc_dim))
			return -ENOMEM;
		{
			size_t oc;

			for (oc = 0; oc < (size_t)oc_dim; oc++) {
				float s = p[0]->f[oc] / sqrtf(p[3]->f[oc] + bn->a.epsilon);

				conv->bn_s.f[oc] = s;
				conv->b.f[oc] = (conv->b.f[oc] - p[2]->f[oc]) * s + p[1]->f[oc];
			}
			nuq_scale_out_channels(conv, conv->w.f, conv->bn_s.f);
		}
		conv->out[0] = bn->out[0];
		conv->folded_bn = 1;
		folded++;
		continue;
keep:
		g->nodes[kept++] = *bn;
	}
	g->nnodes = kept;
	return folded;
}

static size_t count_values(const Onnx__GraphProto *gp)
{
	size_t i, n = gp->n_input + gp->n_initializer;

	for (i = 0; i < gp->n_node; i++)
		n += gp->node[i]->n_output;
	return n;
}

static int import_values(struct nuq_graph *g, struct name_map *m, const Onnx__GraphProto *gp,
			 char *msg, size_t msglen)
{
	size_t i;
	int id, ret;

	for (i = 0; i < gp->n_initializer; i++) {
		const Onnx__TensorProto *tp = gp->initializer[i];

		if (!tp->name)
			return nuq_fail(msg, msglen, -EBADMSG, "initializer %zu has no name", i);
		id = add_value(g, m, tp->name, msg, msglen);
		if (id < 0)
			return id;
		ret = load_const(&g->values[id], tp, msg, msglen);
		if (ret)
			return ret;
	}
	for (i = 0; i < gp->n_node; i++) {
		const Onnx__NodeProto *np = gp->node[i];
		const Onnx__AttributeProto *a;

		if (!is_constant_node(np))
			continue;
		a = np->n_attribute == 1 ? np->attribute[0] : NULL;
		if (!a || !a->name || strcmp(a->name, "value") || !a->t || np->n_output != 1 ||
		    !np->output[0])
			return nuq_fail(msg, msglen, -EOPNOTSUPP,
					"Constant node '%s': only a 'value' tensor is supported",
					np->name ? np->name : "");
		id = add_value(g, m, np->output[0], msg, msglen);
		if (id < 0)
			return id;
		ret = load_const(&g->values[id], a->t, msg, msglen);
		if (ret)
			return ret;
	}
	g->input = -1;
	g->inputs = calloc(gp->n_input + 1, sizeof(*g->inputs));
	g->in_info = calloc(gp->n_input + 1, sizeof(*g->in_info));
	if (!g->inputs || !g->in_info)
		return -ENOMEM;
	for (i = 0; i < gp->n_input; i++) {
		if (!gp->input[i]->name)
			return nuq_fail(msg, msglen, -EBADMSG, "graph input %zu has no name", i);
		if (map_find(m, g, gp->input[i]->name) >= 0)
			continue;	/* an initializer listed as input (old exporters) */
		id = add_value(g, m, gp->input[i]->name, msg, msglen);
		if (id < 0)
			return id;
		ret = nuq_graph_describe(&g->in_info[g->ninputs], gp->input[i], g->values[id].name,
					 "input", msg, msglen);
		if (ret)
			return ret;
		g->inputs[g->ninputs++] = id;
	}
	if (!g->ninputs)
		return nuq_fail(msg, msglen, -EINVAL, "the graph has no (non-constant) input");
	g->input = g->inputs[0];
	return 0;
}

/* Every graph output must be a value the graph has: a node's, an input or a constant. */
static int import_outputs(struct nuq_graph *g, struct name_map *m, const Onnx__GraphProto *gp,
			  char *msg, size_t msglen)
{
	size_t i;
	int id, ret;

	if (!gp->n_output)
		return nuq_fail(msg, msglen, -EINVAL, "the graph has no output");
	g->outputs = calloc(gp->n_output, sizeof(*g->outputs));
	g->out_info = calloc(gp->n_output, sizeof(*g->out_info));
	if (!g->outputs || !g->out_info)
		return -ENOMEM;
	for (i = 0; i < gp->n_output; i++) {
		const char *name = gp->output[i]->name;

		id = name ? map_find(m, g, name) : -1;
		if (id < 0)
			return nuq_fail(msg, msglen, -EINVAL,
					"the graph's output '%s' is not produced by any node",
					name ? name : "");
		ret = nuq_graph_describe(&g->out_info[i], gp->output[i], g->values[id].name,
					 "output", msg, msglen);
		if (ret)
			return ret;
		g->values[id].is_output = 1;
		g->outputs[g->noutputs++] = id;
	}
	g->output = g->outputs[0];
	return 0;
}

static int64_t model_opset(const Onnx__ModelProto *mp)
{
	size_t i;

	for (i = 0; i < mp->n_opset_import; i++)
		if (!mp->opset_import[i]->domain || !*mp->opset_import[i]->domain ||
		    !strcmp(mp->opset_import[i]->domain, "ai.onnx"))
			return mp->opset_import[i]->version;
	return 1;
}

int nuq_graph_import(const struct nuq_onnx *model, struct nuq_graph **graph, char *msg,
		     size_t msglen)
{
	const Onnx__GraphProto *gp = nuq_onnx_proto(model)->graph;
	struct name_map map = { 0 };
	struct nuq_graph *g;
	size_t i;
	int ret;

	*graph = NULL;
	g = calloc(1, sizeof(*g));
	if (!g)
		return -ENOMEM;
	g->cap_values = count_values(gp);
	g->values = calloc(g->cap_values ? g->cap_values : 1, sizeof(*g->values));
	g->nodes = calloc(gp->n_node ? gp->n_node : 1, sizeof(*g->nodes));
	ret = -ENOMEM;
	if (!g->values || !g->nodes || map_init(&map, g->cap_values))
		goto fail;
	g->opset = model_opset(nuq_onnx_proto(model));
	ret = import_values(g, &map, gp, msg, msglen);
	if (ret)
		goto fail;
	ret = build_nodes(g, &map, gp, msg, msglen);
	if (ret)
		goto fail;
	ret = import_outputs(g, &map, gp, msg, msglen);
	if (ret)
		goto fail;
	ret = topo_sort(g, msg, msglen);
	if (ret)
		goto fail;
	/* check_io() needs to know which outputs have readers. */
	nuq_graph_count_uses(g);
	for (i = 0; i < g->nnodes; i++) {
		struct nuq_node *n = &g->nodes[i];

		ret = check_io(g, n, msg, msglen);
		if (!ret)
			ret = check_attrs(n, msg, msglen);
		if (!ret && n->op->prepare)
			ret = n->op->prepare(g, n, msg, msglen);
		if (ret)
			goto fail;
	}
	ret = fold_constants(g, msg, msglen);
	if (ret < 0)
		goto fail;
	ret = nuq_fold_bias_add(g);
	if (ret < 0)
		goto fail;
	ret = fold_batchnorm(g);
	if (ret < 0)
		goto fail;
	nuq_graph_count_uses(g);
	if (g->values[g->output].is_const) {
		ret = nuq_fail(msg, msglen, -EINVAL, "the graph's output does not depend on its input");
		goto fail;
	}
	free(map.slot);
	*graph = g;
	return 0;
fail:
	free(map.slot);
	nuq_graph_free(g);
	return ret;
}

void nuq_graph_free(struct nuq_graph *g)
{
	size_t i;

	if (!g)
		return;
	for (i = 0; i < g->nnodes; i++) {
		nuq_tensor_free(&g->nodes[i].w);
		nuq_tensor_free(&g->nodes[i].b);
		nuq_tensor_free(&g->nodes[i].bn_s);
	}
	for (i = 0; i < g->nvalues; i++) {
		free(g->values[i].name);
		nuq_tensor_free(&g->values[i].t);
	}
	free(g->values);
	free(g->nodes);
	free(g->inputs);
	free(g->outputs);
	free(g->in_info);
	free(g->out_info);
	free(g);
}

size_t nuq_graph_nnodes(const struct nuq_graph *g)
{
	return g->nnodes;
}

const char *nuq_graph_node_name(const struct nuq_graph *g, size_t i)
{
	return i < g->nnodes && g->nodes[i].proto->name ? g->nodes[i].proto->name : "";
}

const char *nuq_graph_node_op(const struct nuq_graph *g, size_t i)
{
	return i < g->nnodes ? g->nodes[i].op->name : "";
}

const char *nuq_graph_input_name(const struct nuq_graph *g)
{
	return g->values[g->input].name;
}

const char *nuq_graph_output_name(const struct nuq_graph *g)
{
	return g->values[g->output].name;
}

void nuq_graph_set_observer(struct nuq_graph *g, nuq_graph_observer fn, void *ctx)
{
	g->observe = fn;
	g->observe_ctx = ctx;
}

int nuq_graph_folded_bn(const struct nuq_graph *g, const char *weight, const float **scale,
			const float **bias, size_t *n)
{
	size_t i;

	for (i = 0; i < g->nnodes; i++) {
		const struct nuq_node *nd = &g->nodes[i];

		if (!nd->folded_bn || strcmp(nd->op->name, "Conv") || nd->proto->n_input < 2 ||
		    strcmp(nd->proto->input[1], weight))
			continue;
		*scale = nd->bn_s.f;
		*bias = nd->b.f;
		*n = nuq_tensor_count(&nd->bn_s);
		return 0;
	}
	return -ENOENT;
}

int nuq_graph_conv_bias(const struct nuq_graph *g, const char *weight, const float **bias,
			size_t *n)
{
	size_t i;

	for (i = 0; i < g->nnodes; i++) {
		const struct nuq_node *nd = &g->nodes[i];

		if (nd->folded_bn || !nd->has_bias || strcmp(nd->op->name, "Conv") ||
		    nd->proto->n_input < 3 || !nd->proto->input[2][0] ||
		    strcmp(nd->proto->input[1], weight))
			continue;
		*bias = nd->b.f;
		*n = nuq_tensor_count(&nd->b);
		return 0;
	}
	return -ENOENT;
}

// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * libnuq: running an imported graph.  Values are freed as soon as their
 * last consumer has run, so peak memory is the live set, not the sum of
 * all activations.
 */
#include <errno.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>

#include "graph_priv.h"
#include "msg.h"

static void release_runtime(struct nuq_graph *g)
{
	size_t i;

	for (i = 0; i < g->nvalues; i++) {
		struct nuq_value *v = &g->values[i];

		if (v->live && !v->is_const)
			nuq_tensor_free(&v->t);
		v->live = 0;
	}
}

/* Graph input @k gets a copy of @x, once @x matches what the model declares. */
static int set_input(struct nuq_graph *g, size_t k, const struct nuq_tensor *x, char *msg,
		     size_t msglen)
{
	struct nuq_value *v = &g->values[g->inputs[k]];
	size_t n;
	int ret;

	ret = nuq_graph_check_input(g, k, x, msg, msglen);
	if (ret)
		return ret;
	ret = nuq_tensor_alloc(&v->t, x->dtype, x->ndims, x->dims);
	if (ret)
		return nuq_fail(msg, msglen, ret, "input '%s': bad shape", v->name);
	n = nuq_tensor_count(x);
	if (n)
		memcpy(x->dtype == NUQ_DT_FLOAT ? (void *)v->t.f : (void *)v->t.i,
		       x->dtype == NUQ_DT_FLOAT ? (void *)x->f : (void *)x->i,
		       n * (x->dtype == NUQ_DT_FLOAT ? sizeof(float) : sizeof(int64_t)));
	v->live = 1;
	return 0;
}

/* Every graph input given exactly once, by a name the graph has. */
static int set_inputs(struct nuq_graph *g, const struct nuq_graph_feed *feeds, size_t nfeeds,
		      char *msg, size_t msglen)
{
	size_t i, k;
	int ret;

	for (i = 0; i < nfeeds; i++) {
		int idx = nuq_graph_find_input(g, feeds[i].name);

		if (idx < 0) {
			char names[160] = "";
			size_t len = 0;

			for (k = 0; k < g->ninputs && len < sizeof(names); k++)
				len += (size_t)snprintf(names + len, sizeof(names) - len, "%s'%s'",
							k ? ", " : "", g->in_info[k].name);
			return nuq_fail(msg, msglen, -EINVAL,
					"the graph has no input called '%s' (its inputs: %s)",
					feeds[i].name ? feeds[i].name : "(null)", names);
		}
		if (g->values[g->inputs[idx]].live)
			return nuq_fail(msg, msglen, -EINVAL, "input '%s' is given twice",
					feeds[i].name);
		if (!feeds[i].tensor)
			return nuq_fail(msg, msglen, -EINVAL, "input '%s' has no tensor",
					feeds[i].name);
		ret = set_input(g, (size_t)idx, feeds[i].tensor, msg, msglen);
		if (ret)
			return ret;
	}
	for (k = 0; k < g->ninputs; k++)
		if (!g->values[g->inputs[k]].live)
			return nuq_fail(msg, msglen, -EINVAL, "input '%s' was not given",
					g->in_info[k].name);
	return 0;
}

int nuq_node_run(struct nuq_node *n, struct nuq_tensor **in, struct nuq_tensor **out,
		 char *msg, size_t msglen)
{
	unsigned int j;

	for (j = 0; j < n->nin; j++) {
		enum nuq_dtype dt;

		if (!in[j])
			continue;
		dt = in[j]->dtype;
		if (dt != NUQ_DT_FLOAT && dt != NUQ_DT_INT64 && !nuq_dtype_narrow(dt))
			return nuq_node_fail(n, msg, msglen, -EINVAL, "input %u has no value", j);
		if (j == 0 && !n->op->int_ok && dt != NUQ_DT_FLOAT)
			return nuq_node_fail(n, msg, msglen, -EINVAL, "input must be float");
		/* Arithmetic on int64 would not wrap or saturate as uint8/int8 must. */
		if (j == 0 && n->op->int_ok < 2 && nuq_dtype_narrow(dt))
			return nuq_node_fail(n, msg, msglen, -EOPNOTSUPP,
					     "%s input is not supported (float or int64 only)",
					     nuq_graph_dtype_name((int)dt));
	}
	return n->op->run(n, in, out, msg, msglen);
}

static int run_node(struct nuq_graph *g, size_t idx, char *msg, size_t msglen)
{
	struct nuq_tensor *in[NUQ_NODE_MAX_IO], *out[NUQ_NODE_MAX_IO];
	struct nuq_node *n = &g->nodes[idx];
	double t0, t1;
	unsigned int j;
	int ret = 0;

	for (j = 0; j < n->nin; j++) {
		if (n->in[j] < 0) {
			in[j] = NULL;
			continue;
		}
		if (!g->values[n->in[j]].live && !g->values[n->in[j]].is_const)
			return nuq_node_fail(n, msg, msglen, -EINVAL, "input '%s' was never computed",
					     g->values[n->in[j]].name);
		in[j] = &g->values[n->in[j]].t;
	}
	for (j = 0; j < n->nout; j++)
		out[j] = n->out[j] >= 0 ? &g->values[n->out[j]].t : NULL;
	t0 = g->prof.on ? nuq_prof_now() : 0;
	if (g->run_hook)
		ret = g->run_hook(g->hook_ctx, n, in, out, msg, msglen);
	if (g->prof.on && ret == 1)
		nuq_prof_add(&g->prof, n->op->name, 1, nuq_prof_now() - t0);
	/* fp32 ops read floats: convert inputs a quantized node left behind. */
	for (j = 0; ret == 0 && j < n->nin; j++) {
		if (!in[j])
			continue;
		if (g->prof.on && in[j]->q && !in[j]->f) {
			t1 = nuq_prof_now();
			if (nuq_tensor_need_float(in[j]))
				return nuq_node_fail(n, msg, msglen, -ENOMEM, "out of memory");
			/* The conversion is its own entry, not the op's. */
			t1 = nuq_prof_now() - t1;
			nuq_prof_add(&g->prof, "(to float)", 0, t1);
			t0 += t1;
		} else if (nuq_tensor_need_float(in[j])) {
			return nuq_node_fail(n, msg, msglen, -ENOMEM, "out of memory");
		}
	}
	if (ret == 0) {
		ret = nuq_node_run(n, in, out, msg, msglen);
		if (g->prof.on)
			nuq_prof_add(&g->prof, n->op->name, 0, nuq_prof_now() - t0);
	} else if (ret == 1) {
		ret = 0;
	}
	for (j = 0; j < n->nout; j++)
		if (n->out[j] >= 0)
			g->values[n->out[j]].live = 1;
	if (ret)
		return ret;
	if (g->observe)
		for (j = 0; j < n->nout; j++)
			if (out[j])
				g->observe(g->observe_ctx, idx, j, out[j]);
	/* Free what no later node reads. */
	for (j = 0; j < n->nin; j++) {
		struct nuq_value *v = n->in[j] >= 0 ? &g->values[n->in[j]] : NULL;

		if (v && !v->is_const && !v->is_output && --v->left == 0) {
			nuq_tensor_free(&v->t);
			v->live = 0;
		}
	}
	for (j = 0; j < n->nout; j++) {
		struct nuq_value *v = n->out[j] >= 0 ? &g->values[n->out[j]] : NULL;

		if (v && !v->uses && !v->is_output) {
			nuq_tensor_free(&v->t);
			v->live = 0;
		}
	}
	return 0;
}

static void start_run(struct nuq_graph *g)
{
	size_t i;

	for (i = 0; i < g->nvalues; i++)
		g->values[i].left = g->values[i].uses;
}

/*
 * Output @k's tensor into @y: moved out of the graph, or copied when the
 * value must stay (a constant, an input, a value listed twice).
 */
static int take_output(struct nuq_graph *g, size_t k, struct nuq_tensor *y)
{
	struct nuq_value *v = &g->values[g->outputs[k]];
	size_t j, n;
	int ret, keep = v->is_const;

	for (j = k + 1; j < g->noutputs; j++)
		keep |= g->outputs[j] == g->outputs[k];
	for (j = 0; j < g->ninputs; j++)
		keep |= g->inputs[j] == g->outputs[k];
	ret = nuq_tensor_need_float(&v->t);
	if (ret)
		return ret;
	if (!keep) {
		*y = v->t;
		memset(&v->t, 0, sizeof(v->t));
		v->live = 0;
		return 0;
	}
	ret = nuq_tensor_alloc(y, v->t.dtype, v->t.ndims, v->t.dims);
	if (ret)
		return ret;
	n = nuq_tensor_count(&v->t);
	if (n)
		memcpy(y->dtype == NUQ_DT_FLOAT ? (void *)y->f : (void *)y->i,
		       y->dtype == NUQ_DT_FLOAT ? (void *)v->t.f : (void *)v->t.i,
		       n * (y->dtype == NUQ_DT_FLOAT ? sizeof(float) : sizeof(int64_t)));
	return 0;
}

int nuq_graph_run_all(struct nuq_graph *g, const struct nuq_graph_feed *feeds, size_t nfeeds,
		      struct nuq_tensor *y, char *msg, size_t msglen)
{
	double t0 = g->prof.on ? nuq_prof_now() : 0;
	size_t i;
	int ret;

	for (i = 0; i < g->noutputs; i++)
		memset(&y[i], 0, sizeof(y[i]));
	start_run(g);
	ret = set_inputs(g, feeds, nfeeds, msg, msglen);
	for (i = 0; !ret && i < g->nnodes; i++)
		ret = run_node(g, i, msg, msglen);
	for (i = 0; !ret && i < g->noutputs; i++) {
		ret = take_output(g, i, &y[i]);
		if (ret)
			nuq_fail(msg, msglen, ret, "output '%s': out of memory",
				 g->values[g->outputs[i]].name);
	}
	if (ret)
		for (i = 0; i < g->noutputs; i++)
			nuq_tensor_free(&y[i]);
	release_runtime(g);
	if (g->prof.on) {
		g->prof.runs++;
		g->prof.run_seconds += nuq_prof_now() - t0;
	}
	return ret;
}

int nuq_graph_run(struct nuq_graph *g, const struct nuq_tensor *x, struct nuq_tensor *y,
		  char *msg, size_t msglen)
{
	struct nuq_graph_feed feed = { g->in_info[0].name, x };
	struct nuq_tensor *all;
	size_t i;
	int ret;

	memset(y, 0, sizeof(*y));
	all = calloc(g->noutputs, sizeof(*all));
	if (!all)
		return nuq_fail(msg, msglen, -ENOMEM, "out of memory");
	ret = nuq_graph_run_all(g, &feed, 1, all, msg, msglen);
	if (!ret)
		*y = all[0];
	for (i = ret ? 0 : 1; i < g->noutputs; i++)
		nuq_tensor_free(&all[i]);
	free(all);
	return ret;
}

/* One input's run-time state of a value, while another input's is in the graph. */
struct value_state {
	struct nuq_tensor t;
	int left, live;
};

static void swap_state(struct nuq_value *v, struct value_state *s)
{
	struct value_state t = { v->t, v->left, v->live };

	v->t = s->t;
	v->left = s->left;
	v->live = s->live;
	*s = t;
}

/* Exchange the graph's state of node @n's values with @st (each value once). */
static void swap_node_state(struct nuq_graph *g, const struct nuq_node *n, struct value_state *st)
{
	int ids[2 * NUQ_NODE_MAX_IO];
	unsigned int j, k, m = 0;

	for (j = 0; j < n->nin + n->nout; j++) {
		int id = j < n->nin ? n->in[j] : n->out[j - n->nin];

		if (id < 0 || g->values[id].is_const)
			continue;
		for (k = 0; k < m && ids[k] != id; k++)
			;
		if (k == m)
			ids[m++] = id;
	}
	for (k = 0; k < m; k++)
		swap_state(&g->values[ids[k]], &st[ids[k]]);
}

struct nuq_graph_feed *nuq_graph_feeds_of(const struct nuq_graph *g, const struct nuq_tensor *x,
					  size_t n)
{
	struct nuq_graph_feed *feeds = calloc(n + 1, sizeof(*feeds));
	size_t k;

	for (k = 0; feeds && k < n; k++) {
		feeds[k].name = g->in_info[0].name;
		feeds[k].tensor = &x[k];
	}
	return feeds;
}

int nuq_graph_run_lockstep(struct nuq_graph *g, const struct nuq_tensor *x, size_t count,
			   nuq_graph_before_node before, void *ctx, char *msg, size_t msglen)
{
	struct nuq_graph_feed *feeds;
	int ret;

	if (g->ninputs != 1)
		return nuq_fail(msg, msglen, -EINVAL,
				"the graph has %zu inputs: give each run's as feeds (nuq_graph_run_lockstep_feeds)",
				g->ninputs);
	feeds = nuq_graph_feeds_of(g, x, count);
	if (!feeds)
		return nuq_fail(msg, msglen, -ENOMEM, "out of memory");
	ret = nuq_graph_run_lockstep_feeds(g, feeds, 1, count, before, ctx, msg, msglen);
	free(feeds);
	return ret;
}

int nuq_graph_run_lockstep_feeds(struct nuq_graph *g, const struct nuq_graph_feed *feeds,
				 size_t nfeeds, size_t count, nuq_graph_before_node before,
				 void *ctx, char *msg, size_t msglen)
{
	struct value_state *st;
	size_t i, k, v;
	int ret = 0;

	st = calloc(count * g->nvalues + 1, sizeof(*st));
	if (!st)
		return nuq_fail(msg, msglen, -ENOMEM, "out of memory");
	/* Every run's state starts as a fresh run's, with its inputs set. */
	for (k = 0; k < count && !ret; k++) {
		start_run(g);
		ret = set_inputs(g, feeds + k * nfeeds, nfeeds, msg, msglen);
		for (v = 0; v < g->nvalues; v++)
			if (!g->values[v].is_const)
				swap_state(&g->values[v], &st[k * g->nvalues + v]);
	}
	for (i = 0; !ret && i < g->nnodes; i++) {
		if (before)
			ret = before(ctx, i);
		for (k = 0; k < count && !ret; k++) {
			swap_node_state(g, &g->nodes[i], &st[k * g->nvalues]);
			ret = run_node(g, i, msg, msglen);
			swap_node_state(g, &g->nodes[i], &st[k * g->nvalues]);
		}
	}
	for (k = 0; k < count; k++) {
		for (v = 0; v < g->nvalues; v++)
			if (!g->values[v].is_const)
				swap_state(&g->values[v], &st[k * g->nvalues + v]);
		release_runtime(g);
	}
	free(st);
	return ret;
}

/* SPDX-License-Identifier: LGPL-2.1-or-later */
#ifndef NUQ_GRAPH_PRIV_H
#define NUQ_GRAPH_PRIV_H

#include <nuq/graph.h>

#include "onnx.pb-c.h"

#define NUQ_NODE_MAX_IO	16

/* Attributes of one node, parsed once at import by its op's prepare(). */
struct nuq_attrs {
	int64_t kernel[2], strides[2], dilations[2], pads[4], out_pad[2];
	int64_t group;
	int64_t axis;
	int64_t axes[NUQ_ONNX_MAX_DIMS];
	unsigned int naxes;
	int64_t perm[NUQ_ONNX_MAX_DIMS];
	unsigned int nperm;
	int keepdims;
	int trans_a, trans_b;
	int ceil_mode, count_include_pad;
	int resize_linear;		/* 0 nearest, 1 (bi)linear */
	int resize_coord;		/* enum nuq_resize_coord */
	int nearest_mode;		/* enum nuq_nearest_mode */
	float alpha, beta, min, max, epsilon;
	int64_t to;			/* Cast */
	int coerce_2d;			/* Softmax before opset 13 */
	int auto_pad;			/* enum nuq_auto_pad */
};

/*
 * Conv and pooling auto_pad: SAME_* pads depend on the input size, so
 * nuq_window_auto_pad() fills pads[] from it before each run (and
 * before the quantized executor builds the node's job).
 */
enum nuq_auto_pad {
	NUQ_AUTO_PAD_NOTSET,
	NUQ_AUTO_PAD_SAME_UPPER,
	NUQ_AUTO_PAD_SAME_LOWER,
	NUQ_AUTO_PAD_VALID,
};


struct nuq_graph;
struct nuq_node;

int nuq_parse_window(struct nuq_node *n, int need_kernel, char *msg, size_t msglen);
void nuq_window_auto_pad(struct nuq_node *n, int64_t h, int64_t w);

/*
 * The run profile (nuq_graph_set_profile()), kept inside the graph so
 * that it needs no allocation: every op type twice (fp32, quantized hook)
 * fits, and a further kind would share the last entry.
 */
#define NUQ_PROF_MAX	192

struct nuq_graph_prof {
	int on;
	size_t n;
	struct nuq_graph_profile_entry e[NUQ_PROF_MAX];
	uint64_t runs;
	double run_seconds;
};

/* Monotonic wall time in seconds. */
double nuq_prof_now(void);
/* Add @seconds to the entry of @op (quantized or not), creating it. */
void nuq_prof_add(struct nuq_graph_prof *p, const char *op, int quantized, double seconds);

struct nuq_op {
	const char *name;
	/* Attribute names the op understands; any other one is refused. */
	const char *const *attrs;
	/* Parse and validate attributes and constant inputs; 0 or -errno with @msg. */
	int (*prepare)(struct nuq_graph *g, struct nuq_node *n, char *msg, size_t msglen);
	/* Compute the outputs from the inputs (outputs arrive empty). */
	int (*run)(struct nuq_node *n, struct nuq_tensor **in, struct nuq_tensor **out,
		   char *msg, size_t msglen);
	/* Inputs that must be present (0 means 1). */
	unsigned int min_in;
	/*
	 * 1: the op also works on INT64 tensors (shape arithmetic); 2: on
	 * every integer kind, BOOL, UINT8 and INT8 included (ops that only
	 * move or compare elements); 0: floats only.
	 */
	int int_ok;
	/* Outputs run() computes (0 means 1); trailing ones may be absent. */
	unsigned int max_out;
	/*
	 * Further trailing outputs ONNX makes optional (BatchNormalization's
	 * training statistics) that nuq does not compute: accepted only when
	 * nothing reads them.
	 */
	unsigned int unused_out;
};

/* Check the inputs' types, then op->run (the executor and constant folding). */
int nuq_node_run(struct nuq_node *n, struct nuq_tensor **in, struct nuq_tensor **out,
		 char *msg, size_t msglen);

struct nuq_node {
	const Onnx__NodeProto *proto;
	size_t index;			/* in the model's node list (errors name it) */
	const struct nuq_op *op;
	unsigned int nin, nout;
	int in[NUQ_NODE_MAX_IO];	/* value ids; -1 for an omitted optional input */
	int out[NUQ_NODE_MAX_IO];
	struct nuq_attrs a;
	/* Conv / ConvTranspose: weights (ONNX layout) and bias, BN folded in. */
	struct nuq_tensor w, b;
	int has_bias;
	int folded_bn;			/* a BatchNormalization was folded in */
	struct nuq_tensor bn_s;		/* then its per-channel scale, else empty */
	/* Owned by the quantized executor: how this node runs there. */
	void *q;
};

struct nuq_value {
	char *name;
	struct nuq_tensor t;
	int is_const;
	int is_output;
	int uses;			/* consumers among the nodes */
	int left;			/* consumers still to run (during a run) */
	int live;
};

struct nuq_graph {
	struct nuq_value *values;
	size_t nvalues, cap_values;
	struct nuq_node *nodes;		/* topological order */
	size_t nnodes;
	/* Graph inputs (not initializers) and outputs: value ids and declarations. */
	int *inputs, *outputs;
	struct nuq_graph_io *in_info, *out_info;
	size_t ninputs, noutputs;
	int input, output;		/* the first of each */
	int64_t opset;			/* of the default domain */
	nuq_graph_observer observe;
	void *observe_ctx;
	/*
	 * The quantized executor's hook: when set and it returns 1, the node
	 * ran there; 0 runs the fp32 op.
	 */
	int (*run_hook)(void *ctx, struct nuq_node *n, struct nuq_tensor **in,
			struct nuq_tensor **out, char *msg, size_t msglen);
	void *hook_ctx;
	struct nuq_graph_prof prof;
};

const struct nuq_op *nuq_op_find(const char *name);

/* BOOL, UINT8 or INT8: integer kinds held as int64 in t->i. */
static inline int nuq_dtype_narrow(enum nuq_dtype dt)
{
	return dt == NUQ_DT_BOOL || dt == NUQ_DT_UINT8 || dt == NUQ_DT_INT8;
}

/* @vi's declaration into @io (@what is "input" or "output", for errors). */
int nuq_graph_describe(struct nuq_graph_io *io, const Onnx__ValueInfoProto *vi,
		       const char *name, const char *what, char *msg, size_t msglen);
/* Check @t against input @i's declaration; -EINVAL with a message naming it. */
int nuq_graph_check_input(const struct nuq_graph *g, size_t i, const struct nuq_tensor *t,
			  char *msg, size_t msglen);

/* Attribute helpers (prepare() side). */
const Onnx__AttributeProto *nuq_attr(const struct nuq_node *n, const char *name);
int64_t nuq_attr_int(const struct nuq_node *n, const char *name, int64_t def);
float nuq_attr_float(const struct nuq_node *n, const char *name, float def);
/* Up to @max ints into @out; returns the count, or -1 when there are more. */
int nuq_attr_ints(const struct nuq_node *n, const char *name, int64_t *out, unsigned int max);
/* A string attribute copied into @buf (truncated to @size), or @def. */
const char *nuq_attr_string(const struct nuq_node *n, const char *name, const char *def,
			    char *buf, size_t size);

/*
 * The feeds of @n runs of a one-input graph on @x (exec.c): run k's input
 * is x[k]; NULL without memory.  The caller frees the array.
 */
struct nuq_graph_feed *nuq_graph_feeds_of(const struct nuq_graph *g, const struct nuq_tensor *x,
					  size_t n);
/*
 * Import's folds (import.c): among the first @kept nodes, the one that
 * makes value @v, when @v has that one use and is not a graph output
 * (what a fold may rewrite); else NULL.
 */
struct nuq_node *nuq_graph_sole_producer(struct nuq_graph *g, size_t kept, int v);

/*
 * Multiply each of Conv or ConvTranspose @n's weights @w (its shape, ONNX
 * order) by its output channel's @s (import.c): the channel leads a
 * Conv's [O, I/g, kh, kw] and is the second dim of a ConvTranspose's
 * [I, O, kh, kw] (without groups).
 */
void nuq_scale_out_channels(const struct nuq_node *n, float *w, const float *s);

/* Recount every value's uses (import.c). */
void nuq_graph_count_uses(struct nuq_graph *g);
/*
 * fold_bias.c: Conv/ConvTranspose -> Add of a constant per-channel
 * tensor becomes the conv's bias; returns how many, or -ENOMEM.
 */
int nuq_fold_bias_add(struct nuq_graph *g);

/* A constant input's tensor, or NULL when input @i is not constant. */
const struct nuq_tensor *nuq_const_input(const struct nuq_graph *g, const struct nuq_node *n,
					 unsigned int i);

/*
 * Error helper: "node 'NAME' (OP): reason", or for a node without a name
 * "node #INDEX (OP, output 'OUT'): reason".
 */
int nuq_node_fail(const struct nuq_node *n, char *msg, size_t msglen, int err,
		  const char *fmt, ...) __attribute__((format(printf, 5, 6)));

/* The largest tensor nuq_tensor_alloc() accepts, in elements. */
uint64_t nuq_tensor_max_count(void);
/* Make sure a float tensor's values are in t->f (dequantize if needed). */
int nuq_tensor_need_float(struct nuq_tensor *t);
int nuq_tensor_same_shape(const struct nuq_tensor *a, const struct nuq_tensor *b);

/* C[m x n] = A[m x k] * B[k x n] (+ C when @acc), row-major with leading dims. */
void nuq_sgemm(size_t m, size_t n, size_t k, const float *a, size_t lda, const float *b,
	       size_t ldb, float *c, size_t ldc, int acc);

/* The fp32 conv, shared by the Conv op and the quantized executor's fallback. */
int nuq_conv2d_f32(const struct nuq_node *n, const struct nuq_tensor *x,
		   const struct nuq_tensor *w, const struct nuq_tensor *b, struct nuq_tensor *y,
		   char *msg, size_t msglen);
/* One depthwise channel: @x (@ih x @iw) into @y (@oh x @ow), @w its kernel. */
void nuq_conv_depthwise_f32(const struct nuq_attrs *a, const float *x, int64_t ih, int64_t iw,
			    const float *w, float bias, float *y, int64_t oh, int64_t ow);
/* Output size of a conv/pool along one axis, or -1 when it would be empty. */
int64_t nuq_conv_out_dim(int64_t in, int64_t k, int64_t stride, int64_t dil, int64_t pad0,
			 int64_t pad1, int ceil_mode);

#endif

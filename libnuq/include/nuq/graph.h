/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * libnuq: whole ONNX graphs, imported and executed in fp32.
 *
 * nuq_graph_import() turns a loaded model into a list of nodes in
 * topological order: Constant nodes and initializers become constant
 * values, every node whose inputs are all constant is evaluated once
 * (constant folding, which also resolves Shape/Gather/Slice/Concat chains
 * on static shapes), and a BatchNormalization that follows a Conv is
 * folded into the conv's weights and bias.  Every node is checked at
 * import: an op or an attribute the executor does not implement is an
 * error naming the node, never a silently wrong answer.
 *
 * nuq_graph_run() executes the graph on one input; shapes are inferred
 * node by node from the actual input, so models with dynamic height and
 * width (text detection, recognition) run on any size.
 *
 * Tensors are dense, row-major, in ONNX's own layouts (NCHW).
 */
#ifndef NUQ_GRAPH_H
#define NUQ_GRAPH_H

#include <stddef.h>
#include <stdint.h>
#include <nuq/onnx.h>

struct nuq_graph;

enum nuq_dtype {
	NUQ_DT_FLOAT = 1,	/* ONNX TensorProto.FLOAT */
	NUQ_DT_INT64 = 7,	/* ONNX TensorProto.INT64 (shapes, indices) */
};

/*
 * A tensor.  Float activations may instead be held quantized, as
 * value = (q - zp) * scale with one scale per tensor: the quantized
 * executor keeps conv outputs that way, and the fp32 ops convert them
 * when (and only when) they read them.
 */
struct nuq_tensor {
	enum nuq_dtype dtype;
	unsigned int ndims;
	int64_t dims[NUQ_ONNX_MAX_DIMS];
	float *f;		/* NUQ_DT_FLOAT values, or NULL while only q holds them */
	int64_t *i;		/* NUQ_DT_INT64 values */
	uint8_t *q;		/* quantized activations (4-D ones NHWC), or NULL */
	float scale;
	int32_t zp;
};

/* Elements of @t (product of its dims; 1 for a scalar). */
size_t nuq_tensor_count(const struct nuq_tensor *t);
/* A new float tensor of the given shape, zero-filled. */
int nuq_tensor_alloc(struct nuq_tensor *t, enum nuq_dtype dtype, unsigned int ndims,
		     const int64_t *dims);
void nuq_tensor_free(struct nuq_tensor *t);

int nuq_graph_import(const struct nuq_onnx *model, struct nuq_graph **graph,
		     char *msg, size_t msglen);
void nuq_graph_free(struct nuq_graph *graph);

/* Nodes left after folding, and the op of each (for listings). */
size_t nuq_graph_nnodes(const struct nuq_graph *graph);
const char *nuq_graph_node_name(const struct nuq_graph *graph, size_t i);
const char *nuq_graph_node_op(const struct nuq_graph *graph, size_t i);

/* The graph's first input and output (the PaddleOCR models have one each). */
const char *nuq_graph_input_name(const struct nuq_graph *graph);
const char *nuq_graph_output_name(const struct nuq_graph *graph);

/*
 * Run the graph on @input (float, the shape the model expects); the
 * first graph output is moved into @output, which the caller frees with
 * nuq_tensor_free().  Shape errors name the node.
 */
int nuq_graph_run(struct nuq_graph *graph, const struct nuq_tensor *input,
		  struct nuq_tensor *output, char *msg, size_t msglen);

/*
 * Called after every node with each output it produced (calibration uses
 * it to collect activation statistics).  @node is the index in the list.
 */
typedef void (*nuq_graph_observer)(void *ctx, size_t node, unsigned int out_index,
				   const struct nuq_tensor *t);
void nuq_graph_set_observer(struct nuq_graph *graph, nuq_graph_observer fn, void *ctx);

/*
 * Run @count inputs node by node: all of them pass node i before any
 * passes node i + 1, and @before is called ahead of each node, when the
 * observer has seen every input of that node for all inputs.  A caller
 * can so adjust a node from what the nodes before it produced (sequential
 * calibration).  The outputs are dropped; all live values of all inputs
 * are held at once.  A non-zero return from @before stops the run.
 */
typedef int (*nuq_graph_before_node)(void *ctx, size_t node);
int nuq_graph_run_lockstep(struct nuq_graph *graph, const struct nuq_tensor *inputs,
			   size_t count, nuq_graph_before_node before, void *ctx, char *msg,
			   size_t msglen);

#endif

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
 * nuq_graph_run_all() executes the graph on a set of named inputs and
 * returns every graph output; nuq_graph_run() is the one-input,
 * first-output form.  Shapes are inferred node by node from the actual
 * inputs, so models with dynamic height and width (text detection,
 * recognition) run on any size.  nuq_graph_input_info() and
 * nuq_graph_output_info() describe what the model declares (names,
 * element types, static and symbolic dims), so that a tool can build
 * inputs for a model it has never seen.
 *
 * Tensors are dense, row-major, in ONNX's own layouts (NCHW).
 */
#ifndef NUQ_GRAPH_H
#define NUQ_GRAPH_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <nuq/onnx.h>

struct nuq_graph;

enum nuq_dtype {
	NUQ_DT_FLOAT = 1,	/* ONNX TensorProto.FLOAT */
	NUQ_DT_INT64 = 7,	/* ONNX TensorProto.INT64 (shapes, indices) */
	/*
	 * The narrow integer kinds of masks and shape chains.  Their values
	 * live in @i as int64 like INT64's (0 or 1 for BOOL), so that every
	 * op that moves integers moves them too.
	 */
	NUQ_DT_UINT8 = 2,	/* ONNX TensorProto.UINT8 */
	NUQ_DT_INT8 = 3,	/* ONNX TensorProto.INT8 */
	NUQ_DT_BOOL = 9,	/* ONNX TensorProto.BOOL */
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
 * A graph input or output as the model declares it.  Inputs are the
 * graph inputs that are not initializers, in the model's order; outputs
 * are all graph outputs, in order.  A dim is static (>= 1), or -1 when
 * it is symbolic (then @dim_params names it: "batch", "height") or
 * undeclared; a declared 0 is also taken as unknown, since exporters
 * write it for dynamic axes.  @has_shape is 0 when even the rank is not
 * declared.  The strings live as long as the graph and its model.
 */
struct nuq_graph_io {
	const char *name;
	int elem_type;		/* ONNX TensorProto.DataType; 0 when undeclared */
	int has_shape;
	unsigned int ndims;
	int64_t dims[NUQ_ONNX_MAX_DIMS];
	const char *dim_params[NUQ_ONNX_MAX_DIMS];	/* NULL for static dims */
};

size_t nuq_graph_ninputs(const struct nuq_graph *graph);
size_t nuq_graph_noutputs(const struct nuq_graph *graph);
/* Entry @i, or NULL when out of range. */
const struct nuq_graph_io *nuq_graph_input_info(const struct nuq_graph *graph, size_t i);
const struct nuq_graph_io *nuq_graph_output_info(const struct nuq_graph *graph, size_t i);
/* The index of the input called @name, or -1. */
int nuq_graph_find_input(const struct nuq_graph *graph, const char *name);
/* "float32", "int64", "uint8", ... for an ONNX element type ("type N" if unknown). */
const char *nuq_graph_dtype_name(int elem_type);

/* One input of a run: the graph input called @name gets a copy of @tensor. */
struct nuq_graph_feed {
	const char *name;
	const struct nuq_tensor *tensor;
};

/*
 * Run the graph on @nfeeds named inputs: every graph input exactly once,
 * in any order.  A name the graph does not have, a missing or repeated
 * input, an element type other than the declared one (FLOAT inputs take
 * NUQ_DT_FLOAT tensors, INT64 and INT32 ones NUQ_DT_INT64) and a rank or
 * static dim other than the declared one are refused with -EINVAL and a
 * message naming the input.  On success @outputs[i] (an array of
 * nuq_graph_noutputs() tensors) holds graph output i; the caller frees
 * each with nuq_tensor_free().  On failure they are all empty.
 */
int nuq_graph_run_all(struct nuq_graph *graph, const struct nuq_graph_feed *feeds,
		      size_t nfeeds, struct nuq_tensor *outputs, char *msg, size_t msglen);

/*
 * Run the graph on @input, fed to its first input (the graph must have
 * only one); the first graph output is moved into @output, which the
 * caller frees with nuq_tensor_free().  Shape errors name the node.
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
 * The second moments of the inputs of each weight in @names (the ONNX
 * initializer a Conv, Gemm or MatMul computes with) over runs of the
 * graph on the @n @inputs (graphs with one input): out[i] as
 * <nuq/nuqfile.h> describes it, for data-aware rounding, or empty (h
 * NULL) for a weight whose inputs do not fit the form (ConvTranspose, a
 * transposed Gemm input, a weight the graph does not use, and the
 * weights whose moments would take all of them over 2 GiB).  Positions
 * of large inputs are sampled.
 */
/*
 * The BatchNormalization the import folded into the Conv that computes
 * with the initializer @weight: its per-channel scale and the folded bias
 * (*@n values each, owned by the graph), or -ENOENT when none was folded.
 * A quantizer that folds it into the layer (NUQ_QLAYER_BN_FOLDED) takes
 * both from here, so it folds exactly what the executor folds.
 */
int nuq_graph_folded_bn(const struct nuq_graph *graph, const char *weight, const float **scale,
			const float **bias, size_t *n);
/*
 * The bias of the Conv that computes with @weight, when it has one in the
 * ONNX file and no BatchNormalization was folded into it (as the import
 * computes it: with a per-channel Add after it folded in): *@n values
 * owned by the graph, or -ENOENT.  A quantizer that stores it in the
 * layer (NUQ_QLAYER_BIAS) takes it from here.
 */
int nuq_graph_conv_bias(const struct nuq_graph *graph, const char *weight, const float **bias,
			size_t *n);

struct nuq_moments;
int nuq_graph_weight_moments(struct nuq_graph *graph, const struct nuq_tensor *inputs, size_t n,
			     const char *const *names, size_t nw, struct nuq_moments *out,
			     char *msg, size_t msglen);
/* The same for any graph: run k is @feeds[k * nfeeds] to [k * nfeeds + nfeeds - 1]. */
int nuq_graph_weight_moments_feeds(struct nuq_graph *graph, const struct nuq_graph_feed *feeds,
				   size_t nfeeds, size_t n, const char *const *names, size_t nw,
				   struct nuq_moments *out, char *msg, size_t msglen);

/*
 * Run @count inputs node by node: all of them pass node i before any
 * passes node i + 1, and @before is called ahead of each node, when the
 * observer has seen every input of that node for all inputs.  A caller
 * can so adjust a node from what the nodes before it produced (sequential
 * calibration).  The outputs are dropped; all live values of all inputs
 * are held at once.  A non-zero return from @before stops the run.
 * Like nuq_graph_run(), for graphs with one input; with _feeds, for any
 * graph: run k gets the @nfeeds named inputs @feeds[k * nfeeds] to
 * @feeds[k * nfeeds + nfeeds - 1], checked as nuq_graph_run_all() checks
 * them.
 */
typedef int (*nuq_graph_before_node)(void *ctx, size_t node);
int nuq_graph_run_lockstep(struct nuq_graph *graph, const struct nuq_tensor *inputs,
			   size_t count, nuq_graph_before_node before, void *ctx, char *msg,
			   size_t msglen);
int nuq_graph_run_lockstep_feeds(struct nuq_graph *graph, const struct nuq_graph_feed *feeds,
				 size_t nfeeds, size_t count, nuq_graph_before_node before,
				 void *ctx, char *msg, size_t msglen);

/*
 * Per-op-type profile of runs (off by default).  While on, every node a
 * run (nuq_graph_run*, and so nuq_qexec_run*) executes adds its wall time
 * to its op type's entry; nodes the quantized executor's hook ran (integer
 * jobs, or its fp32 fallback with quantized weights) go to a separate
 * entry of that op with @quantized set, and the conversion of quantized
 * activations to float that an fp32 op needs first to an entry "(to float)".
 * Turning it on clears the totals; turning it off keeps them for reading.
 */
struct nuq_graph_profile_entry {
	const char *op;		/* ONNX op type (static string) */
	int quantized;		/* 1: run by the quantized executor's hook */
	uint64_t calls;
	double seconds;
};

void nuq_graph_set_profile(struct nuq_graph *graph, int on);
/*
 * The entries so far (*@n of them, in the order first met), valid until
 * the next run or nuq_graph_set_profile(); @runs and @run_seconds (either
 * may be NULL) get the number of whole runs and their wall time, which
 * also counts what lies between nodes (inputs, outputs, frees).
 */
const struct nuq_graph_profile_entry *nuq_graph_profile(const struct nuq_graph *graph, size_t *n,
							 uint64_t *runs, double *run_seconds);
/*
 * The profile as a table, slowest op first: op, calls, ms in total, ms per
 * run, % of the nodes' total; then the nodes' and the runs' totals.
 */
void nuq_graph_profile_print(const struct nuq_graph *graph, FILE *f);

#endif

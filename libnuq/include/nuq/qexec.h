/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * libnuq: the quantized executor.
 *
 * Runs an imported graph with its conv and fully connected (MatMul)
 * layers as integer jobs on a nuq device (/dev/nuq0, or libnuq's CPU core with NUQ_QEXEC_CPU), weights
 * taken from quantized layers (a .nuq file, or layers quantized in
 * memory), and every other op in fp32 on the CPU.  A conv's output stays
 * uint8 (with its value's scale and zero point) until an fp32 op reads
 * it, so two device layers in a row exchange 8-bit activations.  A Relu
 * or Clip(0, 6) that is a conv's only consumer is fused into the job's
 * output clamp, and an Add of the conv's output and another activation
 * (a residual connection, perhaps followed by that Relu) into the job's
 * residual input: the block's output comes out of the job in 8 bits,
 * with no fp32 Add, Relu or conversion in between.  A chain of
 * elementwise ops on a job's output and scalar constants (a HardSwish
 * written out as Add, Clip, Div and Mul) becomes a 256-entry table from
 * the job's bytes to the chain's, exact for that quantization.
 *
 * Activation scales come from calibration: nuq_qexec_calibrate() runs
 * the fp32 graph (with the quantized weights) on real inputs and picks
 * each tensor's range with the chosen method.  It also measures each
 * quantized conv's mean input per channel and corrects the conv's bias
 * for the mean shift the weight quantization causes (bias correction,
 * as in Nagel et al. and Banner et al.).
 *
 * Heads keep their precision: a quantized layer from whose output a
 * graph output is reached through fp32 ops alone (Reshape, Transpose,
 * Concat, Add, Sigmoid, Softmax, ...; no other quantized layer on the
 * way) runs in fp32 with its quantized weights, since no job would
 * requantize after it and one per-tensor 8-bit scale over a detector's
 * scores or a heat map is the answer's whole precision.
 * NUQ_QEXEC_QUANTIZED_HEADS runs them as jobs too.
 *
 * Layers that do not map onto a job (ConvTranspose, Gemm, groups
 * of weights smaller than a channel, SVD factors, codebooks that could
 * overflow the 32-bit accumulator) run in fp32 with their quantized
 * weights, so the result always reflects the quantized model; the stats
 * say how many did.
 *
 * While a qexec exists it owns @graph's run hook and weights; freeing it
 * restores the graph.
 */
#ifndef NUQ_QEXEC_H
#define NUQ_QEXEC_H

#include <stddef.h>
#include <stdint.h>
#include <nuq/graph.h>
#include <nuq/nuqfile.h>

struct nuq_qexec;

enum nuq_calib {
	NUQ_CALIB_MINMAX,	/* the observed range */
	NUQ_CALIB_PERCENTILE,	/* the central 99.99% */
	NUQ_CALIB_MSE,		/* the range with the least quantization MSE */
	NUQ_CALIB_KL,		/* the range with the least KL divergence (TensorRT-style) */
	NUQ_CALIB_LAYER,	/* one power-of-two scale per layer from its statistics */
	NUQ_CALIB_COUNT,
};

const char *nuq_calib_name(enum nuq_calib c);
int nuq_calib_parse(const char *name, enum nuq_calib *c);

#define NUQ_QEXEC_CPU		(1u << 0)	/* libnuq's CPU core, never the kernel */
#define NUQ_QEXEC_WEIGHTS_ONLY	(1u << 1)	/* fp32 activations: every layer runs in fp32 */
#define NUQ_QEXEC_NO_BIAS_CORRECTION (1u << 2)	/* keep the biases as they are */
#define NUQ_QEXEC_QUANTIZED_HEADS (1u << 3)	/* heads too run as jobs (8-bit outputs; see above) */

struct nuq_qexec_opts {
	unsigned int flags;
	const char *device;		/* NULL: /dev/nuq0 (CPU core if it is absent) */
	enum nuq_calib calib;
};

struct nuq_qexec_stats {
	unsigned int device_layers;	/* conv layers that run as integer jobs */
	unsigned int fp32_layers;	/* quantized layers that run in fp32 */
	unsigned int fused_acts;	/* Relu/Clip fused into a job */
	uint64_t jobs;			/* jobs run so far */
	uint64_t macs;			/* their multiply-accumulates */
	double device_seconds;		/* wall time inside submit + wait */
	int on_kernel_device;		/* 1 when jobs went to /dev/nuqN */
	unsigned int head_layers;	/* of the fp32 layers: heads (see above) */
	unsigned int fused_adds;	/* residual Adds fused into a job */
	unsigned int fused_tables;	/* elementwise regions after a job run as tables */
};

/*
 * @layers: quantized weights by ONNX tensor name; they must outlive the
 * qexec.  Weights without a layer stay fp32 (and their nodes run in fp32).
 */
int nuq_qexec_create(struct nuq_graph *graph, const struct nuq_qlayer *layers, size_t nlayers,
		     const struct nuq_qexec_opts *opts, struct nuq_qexec **q, char *msg,
		     size_t msglen);
void nuq_qexec_free(struct nuq_qexec *q);

/* Progress of long work: called with done/total after each input. */
typedef void (*nuq_progress_fn)(void *ctx, size_t done, size_t total);

/*
 * Calibrate activation ranges on @n inputs (fp32 graph, quantized
 * weights) of a model with one input; with _feeds, of any model: run k
 * gets the @nfeeds named inputs @feeds[k * nfeeds] to [k * nfeeds +
 * nfeeds - 1] (struct nuq_graph_feed, checked as nuq_graph_run_all()
 * checks them).
 */
int nuq_qexec_calibrate(struct nuq_qexec *q, const struct nuq_tensor *inputs, size_t n,
			nuq_progress_fn progress, void *ctx, char *msg, size_t msglen);
int nuq_qexec_calibrate_feeds(struct nuq_qexec *q, const struct nuq_graph_feed *feeds,
			      size_t nfeeds, size_t n, nuq_progress_fn progress, void *ctx,
			      char *msg, size_t msglen);

/*
 * Calibration results (ranges and the bias correction's input means) to
 * a text file and back, so a model is calibrated once and run anywhere;
 * the loader validates every record against the graph and names the
 * line of any problem.
 */
int nuq_qexec_save_calibration(const struct nuq_qexec *q, const char *path, char *msg,
			       size_t msglen);
int nuq_qexec_load_calibration(struct nuq_qexec *q, const char *path, char *msg,
			       size_t msglen);

/* Run on one input; the output is float (caller frees). */
int nuq_qexec_run(struct nuq_qexec *q, const struct nuq_tensor *x, struct nuq_tensor *y,
		  char *msg, size_t msglen);
/*
 * Run on named inputs and get every graph output, as nuq_graph_run_all()
 * (the same checks of the feeds; @outputs has nuq_graph_noutputs() entries).
 */
int nuq_qexec_run_all(struct nuq_qexec *q, const struct nuq_graph_feed *feeds, size_t nfeeds,
		      struct nuq_tensor *outputs, char *msg, size_t msglen);

void nuq_qexec_stats(const struct nuq_qexec *q, struct nuq_qexec_stats *st);

/*
 * Every quantized layer in graph order: whether it runs as an integer
 * job and, when it does not, why (a head, an op without a job form, SVD
 * factors, a requantization the job cannot express...: static text).
 * Fills at most @max entries of @out and returns how many layers there
 * are; the strings live as long as the graph.
 */
struct nuq_qexec_layer {
	size_t node;		/* index in the graph */
	const char *name;	/* the node's name, else its first output's */
	const char *op;
	int device;		/* 1: an integer job */
	const char *why;	/* NULL for a job */
};

size_t nuq_qexec_layers(const struct nuq_qexec *q, struct nuq_qexec_layer *out, size_t max);

/*
 * Which layer hurts: the graph on @feeds (as nuq_qexec_run_all()) once
 * in fp32 with the model's own (unquantized) weights and biases, once
 * quantized, and per quantized layer the SQNR of its output (after a
 * fused activation) against the fp32 run's, 10 log10(sum ref^2 / sum
 * (out - ref)^2) dB (INFINITY when equal).  The error is the layer's and
 * everything's before it: the first layer where the SQNR falls is the one
 * to look at.  *@errs gets *@n entries in node order (caller frees);
 * calibrate first.
 */
struct nuq_qexec_layer_error {
	size_t node;		/* index in the graph (nuq_graph_node_name()) */
	const char *name;	/* the node's name (valid while the graph is) */
	const char *op;
	int device;		/* 1: an integer job; 0: fp32 with quantized weights */
	int head;		/* a head (fp32, see above) */
	uint64_t count;		/* values compared */
	double signal, noise;	/* sum ref^2, sum (out - ref)^2 */
	double sqnr_db;
};

int nuq_qexec_layer_errors(struct nuq_qexec *q, const struct nuq_graph_feed *feeds,
			   size_t nfeeds, struct nuq_qexec_layer_error **errs, size_t *n,
			   char *msg, size_t msglen);

#endif

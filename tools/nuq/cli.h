/* SPDX-License-Identifier: GPL-2.0 */
/*
 * nuq: the user CLI.  One file per subcommand; shared helpers here.
 */
#ifndef NUQ_CLI_H
#define NUQ_CLI_H

#include <stddef.h>

int cmd_quantize(int argc, char **argv);
int cmd_inspect(int argc, char **argv);
int cmd_run(int argc, char **argv);
int cmd_ocr(int argc, char **argv);
/* nuq calibrate MODEL.onnx ... (calibrate_model.c) */
int calibrate_any_model(int argc, char **argv);
int cmd_calibrate(int argc, char **argv);
int cmd_eval(int argc, char **argv);

/* A model's weights quantized in memory (quantize_model.c). */
struct nuq_onnx;
struct nuq_layer_opts;
struct nuq_qlayer;
struct nuq_layer_stats;
struct nuq_onnx_weight;

struct qmodel {
	struct nuq_qlayer *layers;
	struct nuq_layer_stats *stats;
	const struct nuq_onnx_weight **weights_of;
	size_t n;
	size_t weights;		/* fp32 weights quantized */
	size_t file_bytes;	/* as a .nuq file */
	size_t kept_bytes;	/* what still comes from the ONNX file (nuq_onnx_kept_bytes) */
	size_t fp32_bytes;	/* every parameter of the ONNX file */
};

/*
 * The one default of nuq quantize, nuq run and nuq eval: 4-bit k-means,
 * one codebook per layer over channel-scaled weights, 8-bit codebook
 * entries unless 16 bits are needed.
 */
#define NUQ_DEFAULT_BITS	4
#define NUQ_DEFAULT_GRAN	NUQ_GRAN_CHANNEL_SCALED
#define NUQ_DEFAULT_LAYER_OPTS							\
	{ .q = { .method = NUQ_Q_KNQ, .bits = NUQ_DEFAULT_BITS, .seed = 1 },	\
	  .gran = NUQ_DEFAULT_GRAN, .cb_width = 0 }

/* "all included": 8 * (.nuq bytes + bytes kept in the ONNX file) / weights. */
static inline double bits_per_weight(size_t file_bytes, size_t kept_bytes, size_t weights)
{
	return weights ? 8.0 * ((double)file_bytes + kept_bytes) / weights : 0;
}

/*
 * @budget: 0 quantizes every layer as @o says; > 0 chooses a layout and
 * width (2-8) per layer for that many bits per weight, all included;
 * QUANT_RD_AUTO chooses among o->q.bits - 1 to + 2 for o->q.bits + 0.5
 * (the default of nuq quantize, run and eval).
 */
#define QUANT_RD_AUTO	(-1.0)
int quantize_model(struct nuq_onnx *model, const struct nuq_layer_opts *o, double budget,
		   unsigned int jobs, int show, struct qmodel *out, char *msg, size_t msglen);
/*
 * Inputs of @graph (the model imported) for quantize_model_data() to
 * measure each layer's effect on the output with (quantize_sens.c).
 */
struct nuq_graph;
struct nuq_graph_feed;
struct nuq_tensor;
struct quant_data {
	struct nuq_graph *graph;
	const struct nuq_tensor *inputs;	/* n runs of a one-input graph, or NULL */
	/* or with feeds: run k is feeds[k * nfeeds .. k * nfeeds + nfeeds - 1] */
	const struct nuq_graph_feed *feeds;
	size_t nfeeds;
	size_t n;
	int uncentered;		/* no bias correction follows (--weights-only, --no-bias-correction) */
};
/* quantize_model(), with the choice weighing each layer's error by its measured gain on @d. */
int quantize_model_data(struct nuq_onnx *model, const struct nuq_layer_opts *o, double budget,
			const struct quant_data *d, unsigned int jobs, int show, struct qmodel *out,
			char *msg, size_t msglen);
/* NUQ_GAINS set (and not 0): quantize_model_data() uses its inputs. */
int quant_gains_enabled(void);
/*
 * The candidates quantize_model_data() weighs: nc per weight, candidate k
 * of weight i at [k * nw + i]; onsr gets each one's output
 * noise-to-signal ratio (NaN where the rounding did not apply).
 */
struct quant_cands {
	const struct nuq_onnx_weight *w;
	float *const *mats;
	size_t nw, nc;
	struct nuq_qlayer **layer;
	struct nuq_layer_stats **st;
	double *onsr;
};
/* Round every candidate against its inputs' moments on @d (quantize_gptq.c). */
int quantize_gptq(const struct quant_data *d, const struct quant_cands *c, unsigned int jobs,
		  int show, char *msg, size_t msglen);
/* NUQ_GPTQ unset or not 0: quantize_model_data() rounds with its inputs. */
int quant_gptq_enabled(void);
/* nuq quantize --ocr: the PaddleOCR trio into DIR (quantize_ocr.c); the exit code. */
int quantize_ocr(const char *models, const char *dir, const struct nuq_layer_opts *o,
		 double budget, unsigned int jobs, int quiet);
/* gain[l]: the output's noise-to-signal ratio with layers[l] alone quantized, over its weights'. */
int layer_gains(struct nuq_graph *g, const struct quant_data *d, const struct nuq_qlayer *layers,
		const struct nuq_layer_stats *st, size_t n, double *gain, char *msg, size_t msglen);
void qmodel_free(struct qmodel *m);
/* Strict unsigned parse: 0 on success. */
int parse_uint(const char *s, unsigned long max, unsigned long *v);

/* Shared option parsers (options.c): 0, or 2 after printing the problem. */
enum nuq_qmethod;
enum nuq_calib;
int opt_count(const char *cmd, const char *name, const char *arg, unsigned long max,
	      unsigned long *v);
int opt_method(const char *cmd, const char *arg, enum nuq_qmethod *m);
int opt_bits(const char *cmd, const char *arg, unsigned int *bits);
int opt_calib(const char *cmd, const char *arg, enum nuq_calib *c);

/*
 * @fn(@ctx, i) for i in 0..@n-1 over @jobs threads (at least the caller's),
 * with a progress bar called @what, or none when @what is NULL.
 */
void for_each_parallel(size_t n, unsigned int jobs, const char *what,
		       void (*fn)(void *ctx, size_t i), void *ctx);

/* A progress bar on stderr, drawn only when stderr is a terminal. */
struct progress {
	const char *what;
	size_t total;
	size_t done;
	int tty;
	double started;
};

void progress_start(struct progress *p, const char *what, size_t total);
void progress_step(struct progress *p, size_t done);
void progress_end(struct progress *p);
double now_seconds(void);

#endif

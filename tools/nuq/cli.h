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
};

/* @budget: average bits per weight for mixed precision, or 0. */
int quantize_model(struct nuq_onnx *model, const struct nuq_layer_opts *o, double budget,
		   unsigned int jobs, int show, struct qmodel *out, char *msg, size_t msglen);
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

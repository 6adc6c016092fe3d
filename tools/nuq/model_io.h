/* SPDX-License-Identifier: GPL-2.0 */
/*
 * nuq run / nuq calibrate on any ONNX model: the inputs users name on
 * the command line (pictures or .npy arrays, by position or NAME=FILE)
 * made into the tensors the graph declares, and the outputs compared
 * and saved.
 */
#ifndef NUQ_CLI_MODEL_IO_H
#define NUQ_CLI_MODEL_IO_H

#include <getopt.h>
#include <stdio.h>

#include <nuq/graph.h>
#include <nuq/input.h>

/* One set of graph inputs, in the graph's input order. */
struct model_feed {
	size_t n;
	struct nuq_tensor *t;
	struct nuq_graph_feed *feeds;
	char desc[8][160];	/* how each input was made (first 8 inputs) */
};

/*
 * The option parser of the picture preprocessing options shared by nuq
 * run and nuq calibrate: 1 if @c was one of them (and parsed into @o),
 * 0 if not, 2 after printing the problem.
 */
int image_opt(const char *cmd, int c, const char *arg, struct nuq_input_opts *o);
/* getopt_long entries for image_opt(), ending in an all-zero entry. */
extern const struct option image_longopts[];
extern const char image_opts_help[];
/* The @n entries of @o (no terminator) and image_longopts, for getopt_long; free() it. */
struct option *with_image_longopts(const struct option *o, size_t n);

/*
 * @specs[0..nspecs): "FILE" (the next input in order) or "NAME=FILE".
 * Every graph input must get exactly one.
 */
int model_feed_build(const struct nuq_graph *g, char **specs, size_t nspecs,
		     const struct nuq_input_opts *o, struct model_feed *f, char *msg,
		     size_t msglen);
void model_feed_free(struct model_feed *f);

/* The files of @dir (sorted; pictures and .npy), for nuq calibrate --inputs. */
int list_input_files(const char *dir, char ***files, size_t *n, char *msg, size_t msglen);
void free_file_list(char **files, size_t n);
/*
 * Calibration runs (model_runs.c): @n runs of the graph's @nfeeds inputs,
 * run k's at feeds[k * nfeeds] (pointing into t).
 */
struct model_runs {
	size_t n, nfeeds;
	struct nuq_tensor *t;
	struct nuq_graph_feed *feeds;
};

/*
 * The runs from @dir (when set) or @files: for a one-input graph each
 * picture or .npy file (in @dir, or each of @files) is a run; for a graph
 * with several inputs each subdirectory of @dir is one, with a file per
 * input named after it (NAME.npy, .png, .jpg), or each of @files is one
 * run's comma-separated [NAME=]FILE list.
 */
int load_model_runs(const struct nuq_graph *g, const char *dir, char **files, size_t nfiles,
		    const struct nuq_input_opts *o, struct model_runs *r, char *msg,
		    size_t msglen);
void model_runs_free(struct model_runs *r);

/* Quantized @q against the reference @ref, one output, on @f. */
void compare_output(FILE *f, const char *name, const struct nuq_tensor *ref,
		    const struct nuq_tensor *q);
void print_shape(FILE *f, const struct nuq_tensor *t);
/* @dir/@name@suffix.npy, with '/' and ':' in @name made '_'. */
int save_output(const char *dir, const char *name, const char *suffix,
		const struct nuq_tensor *t, char *msg, size_t msglen);

#endif

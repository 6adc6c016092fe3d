// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * libFuzzer target: the calibration file loader (libnuq/src/qexec/
 * calib_file.c).  One small quantized network (x -> Conv 3x3 3->8 ->
 * Relu -> Conv 1x1 8->5 -> y, weights k-means quantized, jobs on libnuq's
 * CPU core) is built once; every input is written to a memfd and loaded
 * as a calibration file for it.  Whatever loads is run on one input (the
 * loaded ranges become scales and zero points, so hostile but finite
 * numbers reach the arithmetic), saved again with the library's writer,
 * and that file must load too.
 *
 * FUZZ_CALIB_SEEDS=DIR writes seed files made by nuq_qexec_save_calibration()
 * after calibrating with each method (tests/fuzz/corpus/fuzz_calib/);
 * FUZZ_CALIB_VERBOSE=1 says what became of each input.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <nuq/graph.h>
#include <nuq/nuqfile.h>
#include <nuq/onnx.h>
#include <nuq/qexec.h>

/* The builder is a test helper outside libnuq: compile it in. */
#include "graph_build.c"

#define NIN 3

static struct nuq_onnx *model;
static struct nuq_graph *graph;
static struct nuq_qlayer layers[2];
static size_t nlayers;
static struct nuq_qexec *qexec;
static struct nuq_tensor inputs[NIN];
static char mem_path[64], save_path[64];
static int mem_fd = -1, verbose;

static void fill(float *x, size_t n, uint32_t seed, float scale)
{
	size_t i;

	for (i = 0; i < n; i++) {
		seed = seed * 1664525u + 1013904223u;
		x[i] = ((float)(seed >> 8) / (float)(1u << 24) - 0.5f) * scale;
	}
}

/* The network, its quantized weights and a qexec on the CPU core; 0 or -1. */
static int net_build(void)
{
	static float w1[8 * 27], w2[5 * 8], b2[5];
	const struct nuq_onnx_weight *w;
	const uint8_t *buf;
	struct gb *b;
	char msg[256];
	size_t len, i;
	int ret;

	fill(w1, 8 * 27, 11, 0.6f);
	fill(w2, 40, 12, 0.8f);
	fill(b2, 5, 13, 0.4f);
	b = gb_new(11);
	gb_input(b, "x");
	gb_output(b, "y");
	gb_init_f(b, "w1", 4, (int64_t[]){ 8, 3, 3, 3 }, w1);
	gb_init_f(b, "w2", 4, (int64_t[]){ 5, 8, 1, 1 }, w2);
	gb_init_f(b, "b2", 1, (int64_t[]){ 5 }, b2);
	gb_attr_ints(b, gb_node(b, "Conv", "conv1", "x,w1", "c1"), "pads", 4,
		     (int64_t[]){ 1, 1, 1, 1 });
	gb_node(b, "Relu", "relu1", "c1", "r1");
	gb_node(b, "Conv", "conv2", "r1,w2,b2", "y");
	buf = gb_pack(b, &len);
	ret = nuq_onnx_load_mem(buf, len, &model, msg, sizeof(msg));
	gb_free(b);
	if (ret || nuq_graph_import(model, &graph, msg, sizeof(msg)) ||
	    nuq_onnx_weights(model, &w, &nlayers, msg, sizeof(msg)) || nlayers > 2)
		return -1;
	for (i = 0; i < nlayers; i++) {
		struct nuq_layer_opts lo = { .q = { .method = NUQ_Q_KNQ, .bits = 3, .seed = 1 },
					     .gran = NUQ_GRAN_CHANNEL, .cb_width = 16 };
		struct nuq_layer_stats st;
		float *mat;

		if (nuq_onnx_weight_matrix(model, &w[i], &mat, msg, sizeof(msg)))
			return -1;
		ret = nuq_qlayer_quantize(&w[i], mat, &lo, &layers[i], &st, msg, sizeof(msg));
		free(mat);
		if (ret)
			return -1;
	}
	for (i = 0; i < NIN; i++) {
		inputs[i].dtype = NUQ_DT_FLOAT;
		inputs[i].ndims = 4;
		inputs[i].dims[0] = 1;
		inputs[i].dims[1] = 3;
		inputs[i].dims[2] = 8;
		inputs[i].dims[3] = 8;
		inputs[i].f = malloc(3 * 8 * 8 * sizeof(float));
		if (!inputs[i].f)
			return -1;
		fill(inputs[i].f, 3 * 8 * 8, 100 + (uint32_t)i, 2.0f);
	}
	return 0;
}

/* Seeds from the library's writer: one file per calibration method. */
static void write_seeds(const char *dir)
{
	enum nuq_calib m;
	char path[512], msg[256];

	for (m = 0; m < NUQ_CALIB_COUNT; m++) {
		struct nuq_qexec_opts o = { .flags = NUQ_QEXEC_CPU, .calib = m };
		struct nuq_qexec *q;

		if (nuq_qexec_create(graph, layers, nlayers, &o, &q, msg, sizeof(msg)))
			continue;
		snprintf(path, sizeof(path), "%s/%s.calib", dir, nuq_calib_name(m));
		if (nuq_qexec_calibrate(q, inputs, NIN - 1, NULL, NULL, msg, sizeof(msg)) ||
		    nuq_qexec_save_calibration(q, path, msg, sizeof(msg)))
			fprintf(stderr, "seed %s: %s\n", path, msg);
		else
			fprintf(stderr, "wrote %s\n", path);
		nuq_qexec_free(q);
	}
}

int LLVMFuzzerInitialize(int *argc, char ***argv);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	struct nuq_qexec_opts o = { .flags = NUQ_QEXEC_CPU, .calib = NUQ_CALIB_MINMAX };
	const char *seeds = getenv("FUZZ_CALIB_SEEDS");
	char msg[256];

	(void)argc;
	(void)argv;
	if (net_build())
		abort();
	/* Only one qexec may own the graph at a time. */
	if (seeds && *seeds)
		write_seeds(seeds);
	if (nuq_qexec_create(graph, layers, nlayers, &o, &qexec, msg, sizeof(msg)))
		abort();
	mem_fd = memfd_create("calib", 0);
	if (mem_fd < 0)
		abort();
	snprintf(mem_path, sizeof(mem_path), "/proc/self/fd/%d", mem_fd);
	verbose = getenv("FUZZ_CALIB_VERBOSE") != NULL;
	snprintf(save_path, sizeof(save_path), "/tmp/fuzz-calib.%d", (int)getpid());
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct nuq_tensor y;
	char msg[512];

	if (ftruncate(mem_fd, 0) || pwrite(mem_fd, data, size, 0) != (ssize_t)size)
		abort();
	if (nuq_qexec_load_calibration(qexec, mem_path, msg, sizeof(msg))) {
		if (verbose)
			fprintf(stderr, "refused: %s\n", msg);
		return 0;
	}
	if (verbose)
		fprintf(stderr, "loaded\n");
	/* Loaded: the ranges are now scales and zero points of real jobs. */
	if (!nuq_qexec_run(qexec, &inputs[NIN - 1], &y, msg, sizeof(msg)))
		nuq_tensor_free(&y);
	/* What the writer makes of it loads again. */
	if (nuq_qexec_save_calibration(qexec, save_path, msg, sizeof(msg)))
		abort();
	if (nuq_qexec_load_calibration(qexec, save_path, msg, sizeof(msg))) {
		fprintf(stderr, "saved calibration does not load: %s\n", msg);
		abort();
	}
	unlink(save_path);
	return 0;
}

// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * A Conv whose BatchNormalization is folded into its quantized layer
 * (NUQ_QLAYER_BN_FOLDED): the executor computes what the unfolded layer
 * computes, it reads neither the Conv's bias nor the BatchNormalization
 * from the ONNX file (a model whose copies of them are garbage gives the
 * same bits), the size accounting drops them, and a folded layer on a
 * Conv with no BatchNormalization is a clear error.  Likewise a Conv's
 * own bias stored in its layer (NUQ_QLAYER_BIAS).
 */
#include <errno.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <nuq/graph.h>
#include <nuq/nuqfile.h>
#include <nuq/qexec.h>

#include "gauss.h"
#include "graph_build.h"

#define NIN	5
#define C1	8

struct bn_params {
	float b1[C1], g[C1], be[C1], m[C1], v[C1];
};

/* build() gives conv2 a garbage bias (100 per channel) instead of b2. */
static int junk_b2;

struct model {
	struct gb *b;
	struct nuq_onnx *m;
	struct nuq_graph *g;
	char msg[256];
};

/* Gamma of both signs and a wide spread of variances, as trained nets have. */
static void real_bn(struct bn_params *p)
{
	int c;

	test_gaussian(p->b1, C1, 21, 0.3);
	test_gaussian(p->be, C1, 22, 0.5);
	test_gaussian(p->m, C1, 23, 0.4);
	for (c = 0; c < C1; c++) {
		p->g[c] = (c % 3 == 1 ? -1.0f : 1.0f) * (0.5f + 0.25f * c);
		p->v[c] = 0.01f + 0.3f * c * c;
	}
}

/*
 * x[1,3,10,10] -> Conv 3x3 (3->8, pad 1, bias b1) -> BatchNormalization
 * -> Relu -> Conv 1x1 (8->4, bias b2) -> y; @bn NULL leaves out the
 * BatchNormalization.
 */
static void build(struct model *md, const struct bn_params *bn)
{
	float w1[C1 * 27], w2[4 * C1], b2[4];
	int64_t cd[1] = { C1 };
	const uint8_t *buf;
	size_t len;

	memset(md, 0, sizeof(*md));
	test_gaussian(w1, C1 * 27, 31, 0.3);
	test_gaussian(w2, 4 * C1, 32, 0.4);
	test_gaussian(b2, 4, 33, 0.2);
	for (len = 0; junk_b2 && len < 4; len++)
		b2[len] = 100.0f;
	md->b = gb_new(11);
	gb_input(md->b, "x");
	gb_output(md->b, "y");
	gb_init_f(md->b, "w1", 4, (int64_t[]){ C1, 3, 3, 3 }, w1);
	gb_init_f(md->b, "w2", 4, (int64_t[]){ 4, C1, 1, 1 }, w2);
	gb_init_f(md->b, "b2", 1, (int64_t[]){ 4 }, b2);
	if (bn) {
		gb_init_f(md->b, "b1", 1, cd, bn->b1);
		gb_init_f(md->b, "g", 1, cd, bn->g);
		gb_init_f(md->b, "be", 1, cd, bn->be);
		gb_init_f(md->b, "m", 1, cd, bn->m);
		gb_init_f(md->b, "v", 1, cd, bn->v);
	}
	gb_attr_ints(md->b, gb_node(md->b, "Conv", "conv1", bn ? "x,w1,b1" : "x,w1", "c1"),
		     "pads", 4, (int64_t[]){ 1, 1, 1, 1 });
	if (bn)
		gb_attr_f(md->b, gb_node(md->b, "BatchNormalization", "bn", "c1,g,be,m,v", "n1"),
			  "epsilon", 1e-5f);
	gb_node(md->b, "Relu", "relu", bn ? "n1" : "c1", "r1");
	gb_node(md->b, "Conv", "conv2", "r1,w2,b2", "y");
	buf = gb_pack(md->b, &len);
	assert_int_equal(nuq_onnx_load_mem(buf, len, &md->m, md->msg, sizeof(md->msg)), 0);
	assert_int_equal(nuq_graph_import(md->m, &md->g, md->msg, sizeof(md->msg)), 0);
}

static void model_free(struct model *md)
{
	nuq_graph_free(md->g);
	nuq_onnx_free(md->m);
	gb_free(md->b);
}

/*
 * Quantize both weights with one codebook per channel (k-means levels
 * scale with their channel, so folding changes the stored values only by
 * the fixed-point rounding); @fold folds w1's BatchNormalization into
 * layer 0 the way nuq quantize does, from the graph's own fold.
 */
static void quantize(struct model *md, int fold, struct nuq_qlayer *l)
{
	const struct nuq_onnx_weight *w;
	size_t i, nw, r, k, n;

	assert_int_equal(nuq_onnx_weights(md->m, &w, &nw, md->msg, sizeof(md->msg)), 0);
	assert_int_equal(nw, 2);
	for (i = 0; i < nw; i++) {
		struct nuq_layer_opts o = { .q = { .method = NUQ_Q_KNQ, .bits = 6, .seed = 1 },
					    .gran = NUQ_GRAN_CHANNEL, .cb_width = 16 };
		int folds = fold && !strcmp(w[i].name, "w1");
		const float *s = NULL, *bias = NULL;
		struct nuq_layer_stats st;
		float *mat;

		assert_int_equal(nuq_onnx_weight_matrix(md->m, &w[i], &mat, md->msg,
							sizeof(md->msg)), 0);
		if (folds) {
			assert_int_equal(nuq_graph_folded_bn(md->g, "w1", &s, &bias, &n), 0);
			assert_int_equal(n, C1);
			for (r = 0; r < n; r++)
				for (k = 0; k < w[i].cols; k++)
					mat[r * w[i].cols + k] *= s[r];
		}
		assert_int_equal(nuq_qlayer_quantize(&w[i], mat, &o, &l[i], &st, md->msg,
						     sizeof(md->msg)), 0);
		if (folds) {
			assert_int_equal(nuq_qlayer_set_folded_bias(&l[i], bias), 0);
			assert_int_equal(l[i].flags, NUQ_QLAYER_BN_FOLDED);
		}
		free(mat);
	}
	/* the graph folds nothing into w2 */
	assert_int_equal(nuq_graph_folded_bn(md->g, "w2", &(const float *){ NULL },
					     &(const float *){ NULL }, &n), -ENOENT);
}

/* The model with real BatchNormalization, its layers folded (@lf) and not (@lu). */
static void folded_and_not(struct model *md, struct nuq_qlayer *lf, struct nuq_qlayer *lu)
{
	struct bn_params bn;

	real_bn(&bn);
	build(md, &bn);
	quantize(md, 1, lf);
	quantize(md, 0, lu);
}

static void free_both(struct model *md, struct nuq_qlayer *lf, struct nuq_qlayer *lu)
{
	size_t i;

	for (i = 0; i < 2; i++) {
		nuq_qlayer_free(&lf[i]);
		nuq_qlayer_free(&lu[i]);
	}
	model_free(md);
}

static void inputs(struct nuq_tensor *x)
{
	size_t i;

	for (i = 0; i < NIN; i++) {
		memset(&x[i], 0, sizeof(x[i]));
		x[i].dtype = NUQ_DT_FLOAT;
		x[i].ndims = 4;
		x[i].dims[0] = 1, x[i].dims[1] = 3, x[i].dims[2] = 10, x[i].dims[3] = 10;
		x[i].f = malloc(300 * sizeof(float));
		assert_non_null(x[i].f);
		test_gaussian(x[i].f, 300, 200 + i, 1.0);
	}
}

/* Integer jobs calibrated on the first inputs, run on the last one. */
static void run(struct model *md, const struct nuq_qlayer *l, unsigned int flags,
		const struct nuq_tensor *x, struct nuq_tensor *y)
{
	struct nuq_qexec_opts o = { .flags = NUQ_QEXEC_CPU | NUQ_QEXEC_QUANTIZED_HEADS | flags,
				    .calib = NUQ_CALIB_MINMAX };
	struct nuq_qexec_stats st;
	struct nuq_qexec *q;

	if (nuq_qexec_create(md->g, l, 2, &o, &q, md->msg, sizeof(md->msg)))
		fail_msg("%s", md->msg);
	if (nuq_qexec_calibrate(q, x, NIN - 1, NULL, NULL, md->msg, sizeof(md->msg)) ||
	    nuq_qexec_run(q, &x[NIN - 1], y, md->msg, sizeof(md->msg)))
		fail_msg("%s", md->msg);
	nuq_qexec_stats(q, &st);
	assert_int_equal(st.device_layers, 2);
	nuq_qexec_free(q);
}

/* The folded layer computes what the unfolded one does, as integer jobs. */
static void folded_matches_unfolded(void **state)
{
	struct nuq_qlayer lf[2], lu[2];
	struct nuq_tensor x[NIN], yf, yu;
	struct model md;
	double range, err = 0;
	size_t i;

	(void)state;
	folded_and_not(&md, lf, lu);
	inputs(x);
	run(&md, lf, 0, x, &yf);
	run(&md, lu, 0, x, &yu);
	range = gb_max_abs(&yu);
	assert_true(range > 0.5);
	for (i = 0; i < nuq_tensor_count(&yu); i++)
		err = fmax(err, fabs(yf.f[i] - yu.f[i]));
	/* a couple of 8-bit activation steps: the two quantize the same values */
	if (!(err < range * 0.03))
		fail_msg("folded vs unfolded: error %g of range %g", err, range);
	nuq_tensor_free(&yf);
	nuq_tensor_free(&yu);
	for (i = 0; i < NIN; i++)
		free(x[i].f);
	free_both(&md, lf, lu);
}

/*
 * The folded layer is all the executor uses: the same layers on a model
 * whose bias and BatchNormalization are garbage give the same bits.
 * Without bias correction, which reads the model's fp32 weights.
 */
static void onnx_bn_not_read(void **state)
{
	struct nuq_tensor x[NIN], y, yg;
	struct bn_params bn, junk;
	struct model md, mg;
	struct nuq_qlayer l[2];
	size_t i;

	(void)state;
	real_bn(&bn);
	for (i = 0; i < C1; i++) {
		junk.b1[i] = 100.0f;
		junk.g[i] = -7.0f;
		junk.be[i] = 3.0f;
		junk.m[i] = -50.0f;
		junk.v[i] = 1000.0f;
	}
	build(&md, &bn);
	build(&mg, &junk);
	quantize(&md, 1, l);
	inputs(x);
	run(&md, l, NUQ_QEXEC_NO_BIAS_CORRECTION, x, &y);
	run(&mg, l, NUQ_QEXEC_NO_BIAS_CORRECTION, x, &yg);
	assert_int_equal(nuq_tensor_count(&y), nuq_tensor_count(&yg));
	assert_memory_equal(y.f, yg.f, nuq_tensor_count(&y) * sizeof(float));
	assert_true(gb_max_abs(&y) > 0.5);
	nuq_tensor_free(&y);
	nuq_tensor_free(&yg);
	for (i = 0; i < NIN; i++)
		free(x[i].f);
	for (i = 0; i < 2; i++)
		nuq_qlayer_free(&l[i]);
	model_free(&md);
	model_free(&mg);
}

/* Size: the folded parameters (b1, g, be, m, v) are not counted; b2 is. */
static void kept_bytes_drop_the_fold(void **state)
{
	struct nuq_qlayer lf[2], lu[2];
	struct model md;
	uint64_t kept;

	(void)state;
	folded_and_not(&md, lf, lu);
	assert_int_equal(nuq_onnx_kept_bytes(md.m, lf, 2, &kept, md.msg, sizeof(md.msg)), 0);
	assert_int_equal(kept, 4 * 4);
	assert_int_equal(nuq_onnx_kept_bytes(md.m, lu, 2, &kept, md.msg, sizeof(md.msg)), 0);
	assert_int_equal(kept, 4 * 4 + 5 * C1 * 4);
	/* the folded layer costs 2 bytes per channel more in the .nuq file */
	assert_int_equal(nuq_qlayer_file_bytes(&lf[0]) - nuq_qlayer_file_bytes(&lu[0]), 2 * C1);
	free_both(&md, lf, lu);
}

/* A folded layer given to a model without that BatchNormalization is refused. */
static void fold_without_bn_refused(void **state)
{
	struct nuq_qexec_opts o = { .flags = NUQ_QEXEC_CPU };
	struct nuq_qlayer l[2];
	struct bn_params bn;
	struct nuq_qexec *q = NULL;
	struct model md, plain;
	size_t i;

	(void)state;
	real_bn(&bn);
	build(&md, &bn);
	build(&plain, NULL);
	quantize(&md, 1, l);
	assert_int_equal(nuq_qexec_create(plain.g, l, 2, &o, &q, plain.msg, sizeof(plain.msg)),
			 -EINVAL);
	assert_null(q);
	if (!strstr(plain.msg, "'w1' holds a folded BatchNormalization") ||
	    !strstr(plain.msg, "conv1"))
		fail_msg("unexpected message: %s", plain.msg);
	for (i = 0; i < 2; i++)
		nuq_qlayer_free(&l[i]);
	model_free(&md);
	model_free(&plain);
}

/*
 * conv2's own bias stored in layer 1 (NUQ_QLAYER_BIAS, from the graph as
 * nuq quantize takes it): the model's b2 is not read (garbage there, the
 * same bits), not counted, and costs 2 bytes per channel in the file; on
 * a Conv with a BatchNormalization folded in it is refused.
 */
static void own_bias_stored(void **state)
{
	struct nuq_qexec_opts o = { .flags = NUQ_QEXEC_CPU };
	struct nuq_tensor x[NIN], y, yg;
	struct nuq_qexec *q = NULL;
	struct nuq_qlayer l[2];
	struct model md, mg;
	struct bn_params bn;
	const float *b2;
	uint64_t kept;
	size_t i, n, before;

	(void)state;
	real_bn(&bn);
	build(&md, &bn);
	junk_b2 = 1;
	build(&mg, &bn);
	junk_b2 = 0;
	quantize(&md, 1, l);
	assert_int_equal(nuq_graph_conv_bias(md.g, "w1", &b2, &n), -ENOENT);	/* BN folded */
	assert_int_equal(nuq_graph_conv_bias(md.g, "w2", &b2, &n), 0);
	assert_int_equal(n, 4);
	before = nuq_qlayer_file_bytes(&l[1]);
	assert_int_equal(nuq_qlayer_set_bias(&l[1], b2), 0);
	assert_int_equal(l[1].flags, NUQ_QLAYER_BIAS);
	assert_int_equal(nuq_qlayer_file_bytes(&l[1]) - before, 2 * 4);
	assert_int_equal(nuq_onnx_kept_bytes(md.m, l, 2, &kept, md.msg, sizeof(md.msg)), 0);
	assert_int_equal(kept, 0);
	inputs(x);
	run(&md, l, NUQ_QEXEC_NO_BIAS_CORRECTION, x, &y);
	run(&mg, l, NUQ_QEXEC_NO_BIAS_CORRECTION, x, &yg);
	assert_memory_equal(y.f, yg.f, nuq_tensor_count(&y) * sizeof(float));
	assert_true(gb_max_abs(&y) > 0.5);
	nuq_tensor_free(&y);
	nuq_tensor_free(&yg);
	/* layer 0 with its Conv's "own" bias, but the import folds a BatchNormalization there */
	assert_int_equal(nuq_qlayer_set_bias(&l[0], bn.b1), 0);
	assert_int_equal(nuq_qexec_create(md.g, l, 2, &o, &q, md.msg, sizeof(md.msg)), -EINVAL);
	assert_null(q);
	if (!strstr(md.msg, "'w1' holds its Conv's bias, but in this model that Conv has a BatchNormalization folded in"))
		fail_msg("unexpected message: %s", md.msg);
	for (i = 0; i < NIN; i++)
		free(x[i].f);
	for (i = 0; i < 2; i++)
		nuq_qlayer_free(&l[i]);
	model_free(&md);
	model_free(&mg);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(folded_matches_unfolded),
		cmocka_unit_test(onnx_bn_not_read),
		cmocka_unit_test(kept_bytes_drop_the_fold),
		cmocka_unit_test(fold_without_bn_refused),
		cmocka_unit_test(own_bias_stored),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

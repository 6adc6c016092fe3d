// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * ONNX weight loading: Constant nodes and initializers, float_data and
 * raw_data, the matrix layouts, clear errors for malformed files, and the
 * three real PaddleOCR models.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <nuq/onnx.h>

#include "onnx.pb-c.h"
#include "onnx_build.h"

static void weights_and_layouts(void **state)
{
	const struct nuq_onnx_weight *w;
	struct nuq_onnx *m;
	size_t len, n, o, i, s;
	float *mat, back[48];
	uint8_t *buf = test_onnx_model(&len);
	char msg[256];

	(void)state;
	assert_int_equal(nuq_onnx_load_mem(buf, len, &m, msg, sizeof(msg)), 0);
	assert_int_equal(nuq_onnx_weights(m, &w, &n, msg, sizeof(msg)), 0);
	assert_int_equal(n, 3);

	assert_string_equal(w[0].name, "cw");
	assert_string_equal(w[0].node, "conv0");
	assert_int_equal(w[0].layout, NUQ_LAYOUT_OIHW);
	assert_int_equal(w[0].rows, 4);
	assert_int_equal(w[0].cols, 12);
	assert_int_equal(nuq_onnx_weight_matrix(m, &w[0], &mat, msg, sizeof(msg)), 0);
	/* OIHW [4,3,2,2] -> rows of (kh, kw, i): element (o, i, s) moves to o*12 + s*3 + i */
	for (o = 0; o < 4; o++)
		for (i = 0; i < 3; i++)
			for (s = 0; s < 4; s++)
				assert_float_equal(mat[o * 12 + s * 3 + i], (o * 3 + i) * 4 + s, 0);
	nuq_layout_to_onnx(w[0].layout, w[0].dims, w[0].ndims, mat, back);
	for (i = 0; i < 48; i++)
		assert_float_equal(back[i], i, 0);
	free(mat);

	assert_string_equal(w[1].name, "gw");
	assert_int_equal(w[1].layout, NUQ_LAYOUT_NK);
	assert_int_equal(w[1].rows, 5);
	assert_int_equal(w[1].cols, 6);
	assert_int_equal(nuq_onnx_weight_matrix(m, &w[1], &mat, msg, sizeof(msg)), 0);
	for (i = 0; i < 30; i++)
		assert_float_equal(mat[i], 1000 + i, 0);
	free(mat);

	assert_string_equal(w[2].name, "mw");
	assert_int_equal(w[2].layout, NUQ_LAYOUT_KN);
	assert_int_equal(w[2].rows, 7);
	assert_int_equal(w[2].cols, 6);
	assert_int_equal(nuq_onnx_weight_matrix(m, &w[2], &mat, msg, sizeof(msg)), 0);
	/* [K=6, N=7]: row n holds column n */
	for (o = 0; o < 7; o++)
		for (i = 0; i < 6; i++)
			assert_float_equal(mat[o * 6 + i], 2000 + i * 7 + o, 0);
	nuq_layout_to_onnx(w[2].layout, w[2].dims, w[2].ndims, mat, back);
	for (i = 0; i < 42; i++)
		assert_float_equal(back[i], 2000 + i, 0);
	free(mat);
	nuq_onnx_free(m);
	free(buf);
}

static void malformed_files(void **state)
{
	static const uint8_t junk[] = "this is not a protobuf \xff\xff\xff\xff\xff";
	struct nuq_onnx *m;
	Onnx__ModelProto *p;
	size_t len, i, ok = 0;
	uint8_t *buf = test_onnx_model(&len);
	char msg[256];

	(void)state;
	assert_int_equal(nuq_onnx_load_mem(junk, sizeof(junk), &m, msg, sizeof(msg)), -EBADMSG);
	assert_non_null(strstr(msg, "not an ONNX model"));
	assert_null(m);
	assert_int_equal(nuq_onnx_load_mem(junk, 0, &m, msg, sizeof(msg)), -EINVAL);
	assert_int_equal(nuq_onnx_load("/nonexistent/model.onnx", &m, msg, sizeof(msg)), -ENOENT);
	assert_non_null(strstr(msg, "/nonexistent/model.onnx"));

	/* every truncation either fails cleanly or parses to a consistent model */
	for (i = 1; i < len; i++) {
		const struct nuq_onnx_weight *w;
		size_t n, k;

		if (nuq_onnx_load_mem(buf, i, &m, msg, sizeof(msg))) {
			assert_true(strlen(msg) > 0);
			continue;
		}
		ok++;
		if (!nuq_onnx_weights(m, &w, &n, msg, sizeof(msg))) {
			for (k = 0; k < n; k++) {
				float *mat;

				if (!nuq_onnx_weight_matrix(m, &w[k], &mat, msg, sizeof(msg)))
					free(mat);
			}
		}
		nuq_onnx_free(m);
	}
	assert_true(ok < len / 2);

	/* raw_data that disagrees with the dims */
	p = onnx__model_proto__unpack(NULL, len, buf);
	assert_non_null(p);
	p->graph->initializer[0]->raw_data.len -= 4;
	{
		size_t l2 = onnx__model_proto__get_packed_size(p), n;
		uint8_t *b2 = malloc(l2);
		const struct nuq_onnx_weight *w;
		float *mat;

		onnx__model_proto__pack(p, b2);
		assert_int_equal(nuq_onnx_load_mem(b2, l2, &m, msg, sizeof(msg)), 0);
		assert_int_equal(nuq_onnx_weights(m, &w, &n, msg, sizeof(msg)), 0);
		assert_int_equal(nuq_onnx_weight_matrix(m, &w[1], &mat, msg, sizeof(msg)), -EBADMSG);
		assert_non_null(strstr(msg, "tensor gw: raw_data has 116 bytes, dims need 120"));
		nuq_onnx_free(m);
		free(b2);
	}
	p->graph->initializer[0]->raw_data.len += 4;
	/* a negative dim */
	p->graph->initializer[1]->dims[0] = -6;
	{
		size_t l2 = onnx__model_proto__get_packed_size(p), n;
		uint8_t *b2 = malloc(l2);
		const struct nuq_onnx_weight *w;

		onnx__model_proto__pack(p, b2);
		assert_int_equal(nuq_onnx_load_mem(b2, l2, &m, msg, sizeof(msg)), 0);
		assert_int_equal(nuq_onnx_weights(m, &w, &n, msg, sizeof(msg)), -EINVAL);
		assert_non_null(strstr(msg, "negative dim"));
		nuq_onnx_free(m);
		free(b2);
	}
	onnx__model_proto__free_unpacked(p, NULL);
	free(buf);
}

/* The real models that make deps installs. */
static void paddleocr_models(void **state)
{
	static const struct {
		const char *file;
		size_t min_weights;
	} models[] = {
		{ "ch_PP-OCRv4_det_infer.onnx", 50 },
		{ "ch_PP-OCRv4_rec_infer.onnx", 40 },
		{ "ch_ppocr_mobile_v2.0_cls_infer.onnx", 40 },
	};
	const char *dir = getenv("NUQ_MODELS_DIR");
	size_t k;

	(void)state;
	if (!dir)
		fail_msg("NUQ_MODELS_DIR is not set: run the tests through make");
	for (k = 0; k < 3; k++) {
		const struct nuq_onnx_weight *w;
		struct nuq_onnx *m;
		char path[1024], msg[512];
		size_t n, i, total = 0;

		snprintf(path, sizeof(path), "%s/%s", dir, models[k].file);
		if (nuq_onnx_load(path, &m, msg, sizeof(msg)))
			fail_msg("%s", msg);
		assert_int_equal(nuq_onnx_weights(m, &w, &n, msg, sizeof(msg)), 0);
		assert_true(n >= models[k].min_weights);
		for (i = 0; i < n; i++) {
			float *mat;

			assert_int_equal(nuq_onnx_weight_matrix(m, &w[i], &mat, msg, sizeof(msg)), 0);
			total += w[i].rows * w[i].cols;
			free(mat);
		}
		/* PP-OCRv4 det and rec are a few million weights, the classifier far less */
		assert_true(total > 100000);
		nuq_onnx_free(m);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(weights_and_layouts),
		cmocka_unit_test(malformed_files),
		cmocka_unit_test(paddleocr_models),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

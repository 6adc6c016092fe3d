// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * .nuq version 4: one new layout, a ConvTranspose weight by output
 * channel (NUQ_LAYOUT_IOHW_O) - the matrix order element by element,
 * exact round trips, the version the writer picks, the bytes as the
 * format document gives them, and a reader that refuses the layout in an
 * older file and every damaged v4 file.
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

#include <nuq/nuqfile.h>

#include "gauss.h"
#include "nuq_bytes.h"
#include "qlayer_check.h"

#define I	3
#define OG	4
#define KH	2
#define KW	3
#define N	(I * OG * KH * KW)

/* Matrix row o, column (kh, kw, i) is ONNX element [i, o, kh, kw]; and back. */
static void matrix_order(void **state)
{
	const int64_t dims[4] = { I, OG, KH, KW };
	float onnx[N], mat[N], back[N];
	int i, o, s;

	(void)state;
	for (i = 0; i < N; i++)
		onnx[i] = (float)i;
	nuq_layout_from_onnx(NUQ_LAYOUT_IOHW_O, dims, 4, onnx, mat);
	for (o = 0; o < OG; o++)
		for (s = 0; s < KH * KW; s++)
			for (i = 0; i < I; i++)
				assert_true(mat[(o * KH * KW + s) * I + i] ==
					    onnx[(i * OG + o) * KH * KW + s]);
	nuq_layout_to_onnx(NUQ_LAYOUT_IOHW_O, dims, 4, mat, back);
	assert_memory_equal(back, onnx, sizeof(onnx));
}

static void convt_layer(struct nuq_qlayer *l, enum nuq_granularity g)
{
	struct nuq_onnx_weight w = { .name = "up.w", .node = "up", .op = "ConvTranspose",
				     .layout = NUQ_LAYOUT_IOHW_O, .ndims = 4,
				     .dims = { I, OG, KH, KW }, .rows = OG, .cols = I * KH * KW };
	struct nuq_layer_opts o = { .q = { .method = NUQ_Q_KNQ, .bits = 3, .seed = 1 },
				    .gran = g };
	struct nuq_layer_stats st;
	float x[N];
	char msg[256];

	test_gaussian(x, N, 9, 0.4);
	if (nuq_qlayer_quantize(&w, x, &o, l, &st, msg, sizeof(msg)))
		fail_msg("%s", msg);
	assert_int_equal(l->rows, OG);
	assert_int_equal(l->layout, NUQ_LAYOUT_IOHW_O);
}

/* The layout writes version 4 (3 cannot hold it) and reads back exactly. */
static void convt_round_trip(void **state)
{
	static const enum nuq_granularity grans[] = { NUQ_GRAN_CHANNEL, NUQ_GRAN_CHANNEL_SCALED };
	struct nuq_qlayer l;
	struct nuq_file f;
	char msg[256];
	uint8_t *buf;
	size_t len, k;

	(void)state;
	for (k = 0; k < 2; k++) {
		convt_layer(&l, grans[k]);
		assert_int_equal(nuq_file_encode(&l, 1, &buf, &len), 0);
		assert_int_equal(buf[4] | buf[5] << 8, 4);
		if (nuq_file_decode(buf, len, &f, msg, sizeof(msg)))
			fail_msg("%s", msg);
		assert_int_equal(f.version, 4);
		assert_same_values(&l, &f.layers[0]);
		nuq_file_free(&f);
		free(buf);
		assert_int_equal(nuq_file_encode_version(&l, 1, 3, &buf, &len), -EINVAL);
		assert_null(buf);
		nuq_qlayer_free(&l);
	}
}

/* small_v2_payload() as a 2x3x1x1 ConvTranspose weight: rows 3 (dims[1]), cols 2. */
static void small_v4_payload(struct bytes *pl)
{
	small_v2_payload(pl, 0x3800, 0.5f, 0x08);
	pl->b[8] = NUQ_LAYOUT_IOHW_O;
	put32_at(pl->b + 12, 2);	/* dims 2, 3, 1, 1 */
	put32_at(pl->b + 16, 3);
	put32_at(pl->b + 24, 1);
}

static void v4_values_as_documented(void **state)
{
	struct bytes pl, file;
	struct nuq_file f;
	char msg[256];

	(void)state;
	small_v4_payload(&pl);
	wrap(&file, 4, &pl);
	if (nuq_file_decode(file.b, file.n, &f, msg, sizeof(msg)))
		fail_msg("%s", msg);
	assert_int_equal(f.layers[0].layout, NUQ_LAYOUT_IOHW_O);
	assert_int_equal(f.layers[0].rows, 3);
	assert_int_equal(f.layers[0].cols, 2);
	nuq_file_free(&f);
	wrap(&file, 3, &pl);
	expect_refused(&file, -EBADMSG,
		       "section 0 (w0): layout 4 (ConvTranspose by output channel) needs file version 4, the file is version 3");
	put32_at(pl.b + 16, 4);			/* 4 output channels, 3 rows stored */
	wrap(&file, 4, &pl);
	expect_refused(&file, -EBADMSG, "section 0 (w0): shape 3x2 does not match its dims and layout");
	pl.b[8] = NUQ_LAYOUT_IOHW_O + 1;
	wrap(&file, 4, &pl);
	expect_refused(&file, -EBADMSG, "unknown layout 5");
}

/* Every single-byte change and every truncation of a real v4 file is refused. */
static void v4_flips_and_truncations(void **state)
{
	struct nuq_qlayer l;

	(void)state;
	convt_layer(&l, NUQ_GRAN_CHANNEL_SCALED);
	layer_file_damage_refused(&l, 4);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(matrix_order),
		cmocka_unit_test(convt_round_trip),
		cmocka_unit_test(v4_values_as_documented),
		cmocka_unit_test(v4_flips_and_truncations),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

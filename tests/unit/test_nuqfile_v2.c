// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * .nuq version 2: the shared-codebook layout with per-channel float16
 * scales (NUQ_GRAN_CHANNEL_SCALED) - exact round trips at every width,
 * entry width and method, version 1 files still read (hand-made bytes,
 * not this encoder's), and a reader that refuses every damaged v2 file
 * with a message naming the section.
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
#include <zlib.h>
#include <cmocka.h>

#include <nuq/nuqfile.h>

#include "gauss.h"
#include "nuq_bytes.h"
#include "qlayer_check.h"

static struct nuq_onnx_weight conv_weight(const char *name, int64_t o, int64_t i, int64_t k)
{
	struct nuq_onnx_weight w = { .name = name, .node = name, .op = "Conv",
				     .layout = NUQ_LAYOUT_OIHW, .ndims = 4,
				     .dims = { o, i, k, k } };

	w.rows = o;
	w.cols = i * k * k;
	return w;
}

/* Gaussian weights whose channels differ in scale by up to 30x. */
static float *channel_weights(const struct nuq_onnx_weight *w, uint64_t seed)
{
	float *x = malloc(w->rows * w->cols * sizeof(*x));
	size_t r, c;

	assert_non_null(x);
	test_gaussian(x, w->rows * w->cols, seed, 0.1);
	for (r = 0; r < w->rows; r++)
		for (c = 0; c < w->cols; c++)
			x[r * w->cols + c] *= 1.0f + 29.0f * (float)(r % 5) / 4;
	return x;
}

static struct nuq_layer_stats quantize(struct nuq_qlayer *l, const struct nuq_onnx_weight *w,
				       enum nuq_qmethod m, unsigned int bits,
				       enum nuq_granularity g, unsigned int cbw, double svd)
{
	struct nuq_layer_opts o = { .q = { .method = m, .bits = bits, .seed = 1 },
				    .gran = g, .cb_width = cbw, .svd_keep = svd };
	struct nuq_layer_stats st;
	float *x = channel_weights(w, bits * 7 + m);
	char msg[256];

	if (nuq_qlayer_quantize(w, x, &o, l, &st, msg, sizeof(msg)))
		fail_msg("%s", msg);
	assert_int_equal(st.bytes, nuq_qlayer_file_bytes(l));
	free(x);
	return st;
}

static void shared_round_trip(void **state)
{
	static const enum nuq_qmethod methods[] = { NUQ_Q_KNQ, NUQ_Q_KDE, NUQ_Q_UNIFORM_SYM,
						    NUQ_Q_OPT, NUQ_Q_MINIFLOAT };
	static const unsigned int widths[] = { 0, 8, 16 };
	struct nuq_onnx_weight w = conv_weight("conv.s", 12, 4, 3);
	struct nuq_onnx_weight fc = { .name = "fc", .node = "fc", .op = "Gemm",
				      .layout = NUQ_LAYOUT_NK, .ndims = 2, .dims = { 40, 64 },
				      .rows = 40, .cols = 64 };
	struct nuq_qlayer l[3];
	unsigned int bits, k, cw;
	struct nuq_file f;
	uint8_t *buf;
	size_t len, i;
	char msg[256];

	(void)state;
	for (bits = 1; bits <= 8; bits++)
		for (k = 0; k < 5; k++)
			for (cw = 0; cw < 3; cw++) {
				if (methods[k] == NUQ_Q_MINIFLOAT && bits < 3)
					continue;
				quantize(&l[0], &w, methods[k], bits, NUQ_GRAN_CHANNEL_SCALED,
					 widths[cw], 0);
				quantize(&l[1], &w, NUQ_Q_KNQ, bits, NUQ_GRAN_CHANNEL, 16, 0);
				quantize(&l[2], &fc, methods[k], bits, NUQ_GRAN_CHANNEL_SCALED,
					 widths[cw], 0.6);
				strcpy(l[1].name, "conv.c");
				assert_int_equal(l[0].mat[0].ncodebooks, 1);
				assert_int_equal(l[0].mat[0].ngroups, 12);
				assert_true(l[0].cb_width == 8 || l[0].cb_width == 16);
				if (widths[cw])
					assert_int_equal(l[0].cb_width, widths[cw]);
				assert_int_equal(nuq_file_encode(l, 3, &buf, &len), 0);
				assert_int_equal(buf[4], 2);	/* version 2 */
				if (nuq_file_decode(buf, len, &f, msg, sizeof(msg)))
					fail_msg("%u bits: %s", bits, msg);
				assert_int_equal(f.version, 2);
				for (i = 0; i < 3; i++)
					assert_same_values(&l[i], &f.layers[i]);
				nuq_file_free(&f);
				free(buf);
				for (i = 0; i < 3; i++)
					nuq_qlayer_free(&l[i]);
			}
}

/* Files without the new layout stay version 1, readable by older libnuq. */
static void v1_layouts_write_version_1(void **state)
{
	struct nuq_onnx_weight w = conv_weight("conv", 4, 2, 3);
	struct nuq_qlayer l;
	struct nuq_file f;
	uint8_t *buf;
	size_t len;

	(void)state;
	quantize(&l, &w, NUQ_Q_KNQ, 3, NUQ_GRAN_CHANNEL, 16, 0);
	assert_int_equal(nuq_file_encode(&l, 1, &buf, &len), 0);
	assert_int_equal(buf[4] | buf[5] << 8, 1);
	assert_int_equal(nuq_file_decode(buf, len, &f, NULL, 0), 0);
	assert_int_equal(f.version, 1);
	assert_same_values(&l, &f.layers[0]);
	nuq_file_free(&f);
	free(buf);
	/* the same layer in a version 2 file reads back the same */
	assert_int_equal(nuq_file_encode_version(&l, 1, 2, &buf, &len), 0);
	assert_int_equal(buf[4], 2);
	assert_int_equal(nuq_file_decode(buf, len, &f, NULL, 0), 0);
	assert_int_equal(f.version, 2);
	assert_same_values(&l, &f.layers[0]);
	nuq_file_free(&f);
	free(buf);
	assert_int_equal(nuq_file_encode_version(&l, 1, NUQ_FILE_VERSION + 1, &buf, &len), -EINVAL);
	nuq_qlayer_free(&l);
	/* a shared-codebook layer does not fit version 1 */
	quantize(&l, &w, NUQ_Q_KNQ, 3, NUQ_GRAN_CHANNEL_SCALED, 0, 0);
	assert_int_equal(nuq_file_encode_version(&l, 1, 1, &buf, &len), -EINVAL);
	assert_null(buf);
	nuq_qlayer_free(&l);
}

/*
 * A version 1 file written byte by byte from the format document: one
 * 2x2 KNQ layer, per-channel codebooks of 1-bit indices, int8 entries.
 */
static void version_1_bytes_still_read(void **state)
{
	struct bytes pl = { .n = 0 }, file;
	const float want[4] = { 0.5f * 5, 0.5f * -3, 0.25f * 7, 0.25f * -1 };
	struct nuq_file f;
	float got[4];
	char msg[256];

	(void)state;
	p16(&pl, 1);
	p8(&pl, 'w');
	p8(&pl, NUQ_Q_KNQ);
	p8(&pl, NUQ_GRAN_CHANNEL);
	p8(&pl, 1);		/* bits */
	p8(&pl, 8);		/* entry width */
	p8(&pl, NUQ_LAYOUT_OIHW);
	p8(&pl, 4);		/* ndims */
	p16(&pl, 0);
	p32(&pl, 2), p32(&pl, 1), p32(&pl, 1), p32(&pl, 2);
	p32(&pl, 2), p32(&pl, 2), p32(&pl, 0), p32(&pl, 0);	/* rows cols rank rsvd */
	p32(&pl, 2), p32(&pl, 2), p32(&pl, 2), p32(&pl, 2);	/* qmat: rows cols gs groups */
	pf(&pl, 0.5f);
	pf(&pl, 0.25f);
	p16(&pl, 2), p8(&pl, (uint8_t)-3), p8(&pl, 5);
	p16(&pl, 2), p8(&pl, 7), p8(&pl, (uint8_t)-1);
	p8(&pl, 0x01);		/* row 0: indices 1, 0 */
	p8(&pl, 0x02);		/* row 1: indices 0, 1 */
	wrap(&file, 1, &pl);
	if (nuq_file_decode(file.b, file.n, &f, msg, sizeof(msg)))
		fail_msg("%s", msg);
	assert_int_equal(f.version, 1);
	assert_int_equal(f.nlayers, 1);
	assert_int_equal(f.layers[0].gran, NUQ_GRAN_CHANNEL);
	assert_int_equal(nuq_qlayer_dequantize(&f.layers[0], got), 0);
	assert_memory_equal(got, want, sizeof(want));
	nuq_file_free(&f);
}

static void v2_values_as_documented(void **state)
{
	struct bytes pl, file;
	/* weight = base * ratio * entry */
	const float want[6] = { 0.5f * -100, 0.5f * 127, 0.25f * 0, 0.25f * 127,
				0.125f * -100, 0 };
	struct nuq_file f;
	float got[6];
	char msg[256];

	(void)state;
	small_v2_payload(&pl, 0x3800, 0.5f, 0x08);	/* ratio 0.5; indices 0, 2 */
	wrap(&file, 2, &pl);
	if (nuq_file_decode(file.b, file.n, &f, msg, sizeof(msg)))
		fail_msg("%s", msg);
	assert_int_equal(f.layers[0].mat[0].ncodebooks, 1);
	assert_int_equal(nuq_qlayer_dequantize(&f.layers[0], got), 0);
	assert_memory_equal(got, want, sizeof(want));
	nuq_file_free(&f);
}

static void v2_impossible_contents_named(void **state)
{
	struct bytes pl, file;
	char newer[80];

	(void)state;
	small_v2_payload(&pl, 0x3c01, 0.5f, 0x08);	/* a ratio above 1 */
	wrap(&file, 2, &pl);
	expect_refused(&file, -EBADMSG, "section 0 (w0): weights group 1 has scale ratio 0x3c01");
	small_v2_payload(&pl, 0xb800, 0.5f, 0x08);	/* a negative ratio */
	wrap(&file, 2, &pl);
	expect_refused(&file, -EBADMSG, "scale ratio 0xb800");
	small_v2_payload(&pl, 0x7e00, 0.5f, 0x08);	/* nan */
	wrap(&file, 2, &pl);
	expect_refused(&file, -EBADMSG, "scale ratio");
	small_v2_payload(&pl, 0x3800, NAN, 0x08);
	wrap(&file, 2, &pl);
	expect_refused(&file, -EBADMSG, "section 0 (w0): weights has base scale");
	small_v2_payload(&pl, 0x3800, -1.0f, 0x08);
	wrap(&file, 2, &pl);
	expect_refused(&file, -EBADMSG, "base scale");
	small_v2_payload(&pl, 0x3800, 0.5f, 0x0b);	/* index 3, the codebook has 3 levels */
	wrap(&file, 2, &pl);
	expect_refused(&file, -EBADMSG, "has index 3, but its codebook has 3 levels");
	small_v2_payload(&pl, 0x3800, 0.5f, 0x08);
	wrap(&file, 1, &pl);			/* the layout in a version 1 file */
	expect_refused(&file, -EBADMSG, "needs file version 2");
	wrap(&file, NUQ_FILE_VERSION + 1, &pl);
	snprintf(newer, sizeof(newer), "version %d, this libnuq reads versions 1 to %d",
		 NUQ_FILE_VERSION + 1, NUQ_FILE_VERSION);
	expect_refused(&file, -EPROTONOSUPPORT, newer);
	pl.b[4] = NUQ_Q_ASD;			/* ASD has no codebook */
	pl.b[6] = 0;
	pl.b[7] = 0;
	wrap(&file, 2, &pl);
	expect_refused(&file, -EBADMSG, "asd has no codebook to share");
	small_v2_payload(&pl, 0x3800, 0.5f, 0x08);
	put32_at(pl.b + 2 + 2 + 8 + 16 + 16 + 12, 2);	/* 2 groups for 3 rows */
	wrap(&file, 2, &pl);
	expect_refused(&file, -EBADMSG, "impossible for its shape");
	small_v2_payload(&pl, 0x3800, 0.5f, 0x08);
	pl.b[pl.n - 4] = 1;				/* a non-zero unused entry */
	wrap(&file, 2, &pl);
	expect_refused(&file, -EBADMSG, "codebook 0 has a non-zero unused entry 3");
	small_v2_payload(&pl, 0x3800, 0.5f, 0x08);
	pl.b[5] = NUQ_GRAN_COUNT;
	wrap(&file, 2, &pl);
	expect_refused(&file, -EBADMSG, "unknown granularity");
}

/* Every single-byte change and every truncation of a real v2 file is refused. */
static void v2_flips_and_truncations(void **state)
{
	struct nuq_onnx_weight w = conv_weight("w", 3, 2, 1);
	struct nuq_qlayer l;

	(void)state;
	quantize(&l, &w, NUQ_Q_KNQ, 2, NUQ_GRAN_CHANNEL_SCALED, 0, 0);
	layer_file_damage_refused(&l, 2);
}

/*
 * What the layout is for: on channels of different scales it is far
 * better than one codebook per layer, close to one per channel where a
 * channel has enough weights for its own codebook to be no overfit, and
 * on a 1x1 layer (few weights per channel) much smaller than one per
 * channel.
 */
static void shared_layout_error_and_size(void **state)
{
	struct nuq_onnx_weight w = conv_weight("pw", 64, 32, 1), big = conv_weight("c", 10, 64, 3);
	struct nuq_layer_stats sh, ch, ly;
	struct nuq_qlayer l;

	(void)state;
	sh = quantize(&l, &big, NUQ_Q_KNQ, 4, NUQ_GRAN_CHANNEL_SCALED, 0, 0);
	nuq_qlayer_free(&l);
	ch = quantize(&l, &big, NUQ_Q_KNQ, 4, NUQ_GRAN_CHANNEL, 16, 0);
	nuq_qlayer_free(&l);
	ly = quantize(&l, &big, NUQ_Q_KNQ, 4, NUQ_GRAN_LAYER, 16, 0);
	nuq_qlayer_free(&l);
	if (!(sh.sqnr_db > ly.sqnr_db + 1 && sh.sqnr_db > ch.sqnr_db - 1.5 && sh.sqnr_db > 19))
		fail_msg("SQNR shared %.2f dB, per channel %.2f, per layer %.2f", sh.sqnr_db,
			 ch.sqnr_db, ly.sqnr_db);
	sh = quantize(&l, &w, NUQ_Q_KNQ, 4, NUQ_GRAN_CHANNEL_SCALED, 0, 0);
	nuq_qlayer_free(&l);
	ch = quantize(&l, &w, NUQ_Q_KNQ, 4, NUQ_GRAN_CHANNEL, 16, 0);
	nuq_qlayer_free(&l);
	/* indices 64 * 16 bytes; per channel adds 64 * (4 + 2 + 32) bytes */
	assert_true(sh.bytes < 64 * 16 + 64 * 2 + 200);
	assert_true(ch.bytes > 64 * 16 + 64 * 38);
}

static void half_conversions(void **state)
{
	static const float exact[] = { 0, 1, 0.5f, 0.25f, 65504, 6.1035156e-05f, 5.9604645e-08f,
				       -2, 0.099975586f };
	size_t i;
	uint32_t h;

	(void)state;
	for (i = 0; i < sizeof(exact) / sizeof(exact[0]); i++)
		assert_true(nuq_half_to_float(nuq_float_to_half(exact[i])) == exact[i]);
	assert_int_equal(nuq_float_to_half(1.0f), 0x3c00);
	assert_int_equal(nuq_float_to_half(1e6f), 0x7c00);
	assert_int_equal(nuq_float_to_half(1e-9f), 0);
	/* every float16 survives the round trip, and rounding is to the nearest */
	for (h = 0; h < 0x7bff; h++) {
		float f = nuq_half_to_float((uint16_t)h), next = nuq_half_to_float((uint16_t)(h + 1));

		assert_int_equal(nuq_float_to_half(f), h);
		assert_int_equal(nuq_float_to_half(f + (next - f) * 0.4f), h);
		assert_int_equal(nuq_float_to_half(f + (next - f) * 0.6f), h + 1);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(shared_round_trip),
		cmocka_unit_test(v1_layouts_write_version_1),
		cmocka_unit_test(version_1_bytes_still_read),
		cmocka_unit_test(v2_values_as_documented),
		cmocka_unit_test(v2_impossible_contents_named),
		cmocka_unit_test(v2_flips_and_truncations),
		cmocka_unit_test(shared_layout_error_and_size),
		cmocka_unit_test(half_conversions),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

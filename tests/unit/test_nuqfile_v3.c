// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * .nuq version 3: layer flags, and the folded BatchNormalization's
 * float16 biases (NUQ_QLAYER_BN_FOLDED) - exact round trips, files
 * without flags still written as version 1 or 2, the bytes as the format
 * document gives them, and a reader that refuses every damaged v3 file
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
#include <cmocka.h>

#include <nuq/nuqfile.h>

#include "gauss.h"
#include "nuq_bytes.h"
#include "qlayer_check.h"

/* A 6x2x3x3 Conv weight quantized in @g, folded with biases -40.25 .. 1000.5. */
static void folded_layer(struct nuq_qlayer *l, enum nuq_granularity g)
{
	struct nuq_onnx_weight w = { .name = "conv.f", .node = "conv", .op = "Conv",
				     .layout = NUQ_LAYOUT_OIHW, .ndims = 4,
				     .dims = { 6, 2, 3, 3 }, .rows = 6, .cols = 18 };
	struct nuq_layer_opts o = { .q = { .method = NUQ_Q_KNQ, .bits = 3, .seed = 1 },
				    .gran = g };
	const float bias[6] = { -40.25f, 0, 1.0f / 3, 7.5f, -0.001f, 1000.5f };
	struct nuq_layer_stats st;
	float x[108];
	char msg[256];
	size_t before;

	test_gaussian(x, 108, 5, 0.2);
	if (nuq_qlayer_quantize(&w, x, &o, l, &st, msg, sizeof(msg)))
		fail_msg("%s", msg);
	before = nuq_qlayer_file_bytes(l);
	assert_int_equal(nuq_qlayer_set_folded_bias(l, bias), 0);
	assert_int_equal(l->flags, NUQ_QLAYER_BN_FOLDED);
	assert_int_equal(nuq_qlayer_file_bytes(l), before + 2 * 6);
	/* float16: exact where it can be, to 11 bits elsewhere */
	assert_true(nuq_qlayer_bias(l, 0) == -40.25f);
	assert_true(nuq_qlayer_bias(l, 5) == 1000.5f);
	assert_true(fabsf(nuq_qlayer_bias(l, 2) - 1.0f / 3) < 1e-3f);
	assert_true(fabsf(nuq_qlayer_bias(l, 4) + 0.001f) < 1e-6f);
}

static void folded_round_trip(void **state)
{
	static const enum nuq_granularity grans[] = { NUQ_GRAN_CHANNEL, NUQ_GRAN_CHANNEL_SCALED };
	struct nuq_qlayer l[2];
	struct nuq_file f;
	char msg[256];
	uint8_t *buf;
	size_t len, k;

	(void)state;
	for (k = 0; k < 2; k++) {
		folded_layer(&l[0], grans[k]);
		folded_layer(&l[1], grans[k]);
		strcpy(l[1].name, "conv.g");
		nuq_qlayer_free(&l[1]);		/* clears the flag too */
		assert_int_equal(l[1].flags, 0);
		assert_null(l[1].bias16);
		folded_layer(&l[1], grans[k]);
		strcpy(l[1].name, "conv.g");
		assert_int_equal(nuq_file_encode(l, 2, &buf, &len), 0);
		assert_int_equal(buf[4] | buf[5] << 8, 3);
		assert_int_equal(len, NUQ_FILE_HEADER_BYTES + nuq_qlayer_file_bytes(&l[0]) +
				      nuq_qlayer_file_bytes(&l[1]));
		if (nuq_file_decode(buf, len, &f, msg, sizeof(msg)))
			fail_msg("%s", msg);
		assert_int_equal(f.version, 3);
		assert_same_values(&l[0], &f.layers[0]);
		assert_same_values(&l[1], &f.layers[1]);
		assert_true(nuq_qlayer_bias(&f.layers[1], 5) == 1000.5f);
		nuq_file_free(&f);
		/* version 2 cannot hold the flags */
		free(buf);
		assert_int_equal(nuq_file_encode_version(l, 2, 2, &buf, &len), -EINVAL);
		assert_null(buf);
		nuq_qlayer_free(&l[0]);
		nuq_qlayer_free(&l[1]);
	}
}

/* A bias float16 cannot hold is refused and leaves the layer as it was. */
static void unstorable_bias(void **state)
{
	const float big[6] = { 0, 0, 70000.0f, 0, 0, 0 }, nan6[6] = { 0, NAN, 0, 0, 0, 0 };
	struct nuq_qlayer l;
	uint16_t *kept;

	(void)state;
	folded_layer(&l, NUQ_GRAN_CHANNEL);
	kept = l.bias16;
	assert_false(nuq_folded_bias_fits(big, 6));
	assert_false(nuq_folded_bias_fits(nan6, 6));
	assert_true(nuq_folded_bias_fits(big, 2));	/* the values before 70000 */
	assert_int_equal(nuq_qlayer_set_folded_bias(&l, big), -ERANGE);
	assert_int_equal(nuq_qlayer_set_folded_bias(&l, nan6), -ERANGE);
	assert_ptr_equal(l.bias16, kept);
	assert_true(nuq_qlayer_bias(&l, 0) == -40.25f);
	nuq_qlayer_free(&l);
	/* the writer refuses a flag without its biases, or an unknown flag */
	folded_layer(&l, NUQ_GRAN_CHANNEL);
	free(l.bias16);
	l.bias16 = NULL;
	assert_int_equal(nuq_file_encode(&l, 1, &(uint8_t *){ NULL }, &(size_t){ 0 }), -EINVAL);
	l.flags = 0x4;
	assert_int_equal(nuq_file_encode(&l, 1, &(uint8_t *){ NULL }, &(size_t){ 0 }), -EINVAL);
	nuq_qlayer_free(&l);
}

/* small_v2_payload() with the folded flag and three biases after it. */
static void small_v3_payload(struct bytes *pl, uint16_t flags, uint16_t b2)
{
	small_v2_payload(pl, 0x3800, 0.5f, 0x08);
	pl->b[SMALL_LAYER_FLAGS_AT] = (uint8_t)flags;
	pl->b[SMALL_LAYER_FLAGS_AT + 1] = flags >> 8;
	p16(pl, 0x3c00);	/* 1.0 */
	p16(pl, 0xc500);	/* -5.0 */
	p16(pl, b2);
}

static void v3_values_as_documented(void **state)
{
	struct bytes pl, file;
	struct nuq_file f;
	char msg[256];

	(void)state;
	small_v3_payload(&pl, NUQ_QLAYER_BN_FOLDED, 0x3555);	/* 0.333251953125 */
	wrap(&file, 3, &pl);
	if (nuq_file_decode(file.b, file.n, &f, msg, sizeof(msg)))
		fail_msg("%s", msg);
	assert_int_equal(f.layers[0].flags, NUQ_QLAYER_BN_FOLDED);
	assert_true(nuq_qlayer_bias(&f.layers[0], 0) == 1.0f);
	assert_true(nuq_qlayer_bias(&f.layers[0], 1) == -5.0f);
	assert_true(nuq_qlayer_bias(&f.layers[0], 2) == 0.333251953125f);
	nuq_file_free(&f);
	/* a v2 payload in a v3 file: no flags, no biases */
	small_v2_payload(&pl, 0x3800, 0.5f, 0x08);
	wrap(&file, 3, &pl);
	if (nuq_file_decode(file.b, file.n, &f, msg, sizeof(msg)))
		fail_msg("%s", msg);
	assert_int_equal(f.layers[0].flags, 0);
	assert_null(f.layers[0].bias16);
	nuq_file_free(&f);
}

static void v3_impossible_contents_named(void **state)
{
	struct bytes pl, file;

	(void)state;
	small_v3_payload(&pl, NUQ_QLAYER_BN_FOLDED, 0x7c00);	/* +inf */
	wrap(&file, 3, &pl);
	expect_refused(&file, -EBADMSG, "section 0 (w0): folded bias 2 is 0x7c00, not a finite float16");
	small_v3_payload(&pl, NUQ_QLAYER_BN_FOLDED, 0xfe00);	/* nan */
	wrap(&file, 3, &pl);
	expect_refused(&file, -EBADMSG, "folded bias 2 is 0xfe00");
	small_v3_payload(&pl, NUQ_QLAYER_BN_FOLDED, 0);
	wrap(&file, 2, &pl);			/* flags in a version 2 file */
	expect_refused(&file, -EBADMSG, "section 0 (w0): layer flags 0x1 in a version 2 file");
	small_v3_payload(&pl, 0x5, 0);
	wrap(&file, 3, &pl);
	expect_refused(&file, -EBADMSG, "unknown layer flags 0x4");
	small_v3_payload(&pl, NUQ_QLAYER_BN_FOLDED | NUQ_QLAYER_BIAS, 0);
	wrap(&file, 5, &pl);
	expect_refused(&file, -EBADMSG, "layer flags 0x3: a folded BatchNormalization's bias and a Conv's own bias");
	small_v3_payload(&pl, NUQ_QLAYER_BIAS, 0x7c00);
	wrap(&file, 5, &pl);
	expect_refused(&file, -EBADMSG, "section 0 (w0): bias 2 is 0x7c00, not a finite float16");
	small_v3_payload(&pl, NUQ_QLAYER_BIAS, 0);
	pl.n -= 2;
	wrap(&file, 5, &pl);
	expect_refused(&file, -EBADMSG, "truncated in the biases");
	small_v3_payload(&pl, NUQ_QLAYER_BIAS, 0);
	pl.b[8] = NUQ_LAYOUT_NK;		/* a stored bias on a fully connected layer */
	pl.b[9] = 2;
	wrap(&file, 5, &pl);
	expect_refused(&file, -EBADMSG, "a stored bias needs a Conv weight");
	small_v3_payload(&pl, NUQ_QLAYER_BIAS, 0);
	wrap(&file, 4, &pl);			/* the stored bias is version 5's */
	expect_refused(&file, -EBADMSG, "layer flags 0x2: a stored bias needs file version 5, the file is version 4");
	small_v3_payload(&pl, NUQ_QLAYER_BN_FOLDED, 0);
	pl.n -= 2;				/* one bias short */
	wrap(&file, 3, &pl);
	expect_refused(&file, -EBADMSG, "section 0 (w0): truncated in the folded biases");
	small_v3_payload(&pl, NUQ_QLAYER_BN_FOLDED, 0);
	p16(&pl, 0);				/* one bias too many */
	wrap(&file, 3, &pl);
	expect_refused(&file, -EBADMSG, "2 bytes left over");
	small_v3_payload(&pl, NUQ_QLAYER_BN_FOLDED, 0);
	pl.b[8] = NUQ_LAYOUT_NK;		/* a folded fully connected layer */
	pl.b[9] = 2;
	wrap(&file, 3, &pl);
	expect_refused(&file, -EBADMSG, "a folded BatchNormalization needs a Conv weight");
	small_v2_payload(&pl, 0x3800, 0.5f, 0x08);
	wrap(&file, 1, &pl);
	expect_refused(&file, -EBADMSG, "needs file version 2");
}

/* Every single-byte change and every truncation of a real v3 file is refused. */
static void v3_flips_and_truncations(void **state)
{
	struct nuq_qlayer l;

	(void)state;
	folded_layer(&l, NUQ_GRAN_CHANNEL_SCALED);
	layer_file_damage_refused(&l, 3);
}

/*
 * A Conv's own bias (NUQ_QLAYER_BIAS, version 5): the same float16
 * biases, another flag; round trip, version 4 cannot hold it, not both
 * flags in one layer, and damage refused.
 */
static void own_bias_round_trip(void **state)
{
	const float bias[6] = { 0.5f, -1.25f, 3.0f, 0, 7.0f, -0.125f };
	struct nuq_qlayer l;
	struct nuq_file f;
	char msg[256];
	uint8_t *buf;
	size_t len;

	(void)state;
	folded_layer(&l, NUQ_GRAN_CHANNEL_SCALED);
	assert_int_equal(nuq_qlayer_set_bias(&l, bias), 0);
	assert_int_equal(l.flags, NUQ_QLAYER_BIAS);	/* it replaces the folded one */
	assert_true(nuq_qlayer_bias(&l, 1) == -1.25f);
	assert_int_equal(nuq_file_encode(&l, 1, &buf, &len), 0);
	assert_int_equal(buf[4], 5);
	if (nuq_file_decode(buf, len, &f, msg, sizeof(msg)))
		fail_msg("%s", msg);
	assert_int_equal(f.version, 5);
	assert_int_equal(f.layers[0].flags, NUQ_QLAYER_BIAS);
	assert_same_values(&l, &f.layers[0]);
	assert_true(nuq_qlayer_bias(&f.layers[0], 4) == 7.0f);
	nuq_file_free(&f);
	every_flip_and_truncation_refused(buf, len);
	free(buf);
	assert_int_equal(nuq_file_encode_version(&l, 1, 4, &buf, &len), -EINVAL);
	l.flags |= NUQ_QLAYER_BN_FOLDED;
	assert_int_equal(nuq_file_encode(&l, 1, &(uint8_t *){ NULL }, &(size_t){ 0 }), -EINVAL);
	nuq_qlayer_free(&l);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(folded_round_trip),
		cmocka_unit_test(unstorable_bias),
		cmocka_unit_test(v3_values_as_documented),
		cmocka_unit_test(v3_impossible_contents_named),
		cmocka_unit_test(v3_flips_and_truncations),
		cmocka_unit_test(own_bias_round_trip),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

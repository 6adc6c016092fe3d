// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The .nuq file: index packing for every width, exact round trips of
 * every method and granularity, and a reader that refuses every damaged
 * file - each single-byte change, each truncation, and hand-made files
 * whose CRCs are right but whose contents are impossible.
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
#include <unistd.h>
#include <zlib.h>
#include <cmocka.h>

#include <nuq/nuqfile.h>

#include "conv_ref.h"
#include "gauss.h"
#include "nuq_bytes.h"
#include "qlayer_check.h"

static void pack_round_trip(void **state)
{
	struct test_rng r = { 11 };
	uint8_t idx[67], back[67], packed[67];
	unsigned int bits;
	size_t n, i;

	(void)state;
	for (bits = 1; bits <= 8; bits++) {
		for (n = 0; n <= sizeof(idx); n++) {
			for (i = 0; i < n; i++)
				idx[i] = test_rand(&r) & ((1U << bits) - 1);
			memset(packed, 0xaa, sizeof(packed));
			assert_int_equal(nuq_pack_indices(idx, n, bits, packed), (n * bits + 7) / 8);
			/* unused bits of the last byte are zero */
			if ((n * bits) % 8)
				assert_int_equal(packed[n * bits / 8] >> ((n * bits) % 8), 0);
			nuq_unpack_indices(packed, n, bits, back);
			assert_memory_equal(idx, back, n);
		}
	}
	/* the layout itself: 3-bit indices 1..5, LSB first */
	{
		uint8_t v[5] = { 1, 2, 3, 4, 5 }, p[2];

		nuq_pack_indices(v, 5, 3, p);
		assert_int_equal(p[0], 1 | 2 << 3 | (3 & 3) << 6);
		assert_int_equal(p[1], 3 >> 2 | 4 << 1 | 5 << 4);
	}
}

/* A weight description for synthetic matrices. */
static struct nuq_onnx_weight conv_weight(const char *name, int64_t o, int64_t i, int64_t k)
{
	struct nuq_onnx_weight w = { .name = name, .node = name, .op = "Conv",
				     .layout = NUQ_LAYOUT_OIHW, .ndims = 4,
				     .dims = { o, i, k, k } };

	w.rows = o;
	w.cols = i * k * k;
	return w;
}

static void make_layer(struct nuq_qlayer *l, const struct nuq_onnx_weight *w,
		       enum nuq_qmethod m, unsigned int bits, enum nuq_granularity g,
		       size_t group, double svd, uint64_t seed)
{
	struct nuq_layer_opts o = { .q = { .method = m, .bits = bits, .seed = 1 },
				    .gran = g, .group_size = group, .svd_keep = svd };
	size_t n = w->rows * w->cols;
	struct nuq_layer_stats st;
	float *x = malloc(n * sizeof(*x));
	char msg[256];

	assert_non_null(x);
	test_gaussian(x, n, seed, 0.1);
	assert_int_equal(nuq_qlayer_quantize(w, x, &o, l, &st, msg, sizeof(msg)), 0);
	assert_int_equal(st.bytes, nuq_qlayer_file_bytes(l));
	assert_true(st.sqnr_db > (svd > 0 ? 1 : 2));
	free(x);
}

static void file_round_trip(void **state)
{
	struct nuq_onnx_weight w1 = conv_weight("conv.a", 8, 3, 3);
	struct nuq_onnx_weight w2 = conv_weight("conv.b", 16, 24, 1);
	struct nuq_onnx_weight fc = { .name = "fc", .node = "fc", .op = "Gemm",
				      .layout = NUQ_LAYOUT_NK, .ndims = 2, .dims = { 40, 64 },
				      .rows = 40, .cols = 64 };
	struct nuq_qlayer l[8];
	unsigned int bits;
	struct nuq_file f;
	uint8_t *buf;
	size_t len, i;
	char msg[256];

	(void)state;
	for (bits = 1; bits <= 8; bits++) {
		make_layer(&l[0], &w1, NUQ_Q_KNQ, bits, NUQ_GRAN_CHANNEL, 0, 0, bits);
		make_layer(&l[1], &w2, NUQ_Q_OPT, bits, NUQ_GRAN_LAYER, 0, 0, bits + 10);
		make_layer(&l[2], &w2, NUQ_Q_UNIFORM_AFFINE, bits, NUQ_GRAN_GROUP, 5, 0, 3);
		make_layer(&l[3], &w1, NUQ_Q_ASD, 0, NUQ_GRAN_CHANNEL, 0, 0, 4);
		make_layer(&l[4], &fc, NUQ_Q_KDE, bits, NUQ_GRAN_CHANNEL, 0, 0.5, 5);
		make_layer(&l[5], &w1, NUQ_Q_MINIFLOAT, bits < 3 ? 3 : bits, NUQ_GRAN_LAYER, 0, 0, 6);
		strcpy(l[1].name, "conv.b1");
		strcpy(l[2].name, "conv.b2");
		strcpy(l[3].name, "conv.a3");
		strcpy(l[5].name, "conv.a5");
		assert_true(l[4].rank > 0 && l[4].rank < 40);
		assert_int_equal(nuq_file_encode(l, 6, &buf, &len), 0);
		assert_int_equal(nuq_file_decode(buf, len, &f, msg, sizeof(msg)), 0);
		assert_int_equal(f.nlayers, 6);
		for (i = 0; i < 6; i++) {
			assert_same_values(&l[i], &f.layers[i]);
			assert_ptr_equal(nuq_file_find(&f, l[i].name), &f.layers[i]);
		}
		nuq_file_free(&f);
		free(buf);
		for (i = 0; i < 6; i++)
			nuq_qlayer_free(&l[i]);
	}
}

/* A small file for the corruption tests. */
static void small_file(uint8_t **buf, size_t *len)
{
	struct nuq_onnx_weight w1 = conv_weight("w0", 2, 2, 1);
	struct nuq_onnx_weight w2 = conv_weight("w1", 3, 1, 2);
	struct nuq_qlayer l[2];

	make_layer(&l[0], &w1, NUQ_Q_KNQ, 2, NUQ_GRAN_CHANNEL, 0, 0, 1);
	make_layer(&l[1], &w2, NUQ_Q_ASD, 0, NUQ_GRAN_LAYER, 0, 0, 2);
	assert_int_equal(nuq_file_encode(l, 2, buf, len), 0);
	nuq_qlayer_free(&l[0]);
	nuq_qlayer_free(&l[1]);
}

/* Each byte flipped four ways, and each truncation, is refused (nuq_bytes.c). */
static void every_flip_and_truncation_is_caught(void **state)
{
	uint8_t *buf;
	size_t len;

	(void)state;
	small_file(&buf, &len);
	every_flip_and_truncation_refused(buf, len);
	free(buf);
}

/* Rewrite section @s's CRC after an edit, so the check that follows is the one tested. */
static void fix_crc(uint8_t *buf, const struct nuq_section_info *s)
{
	uint32_t crc = crc32(0, buf + s->offset + 16, s->bytes);

	buf[s->offset + 8] = crc;
	buf[s->offset + 9] = crc >> 8;
	buf[s->offset + 10] = crc >> 16;
	buf[s->offset + 11] = crc >> 24;
}

static void expect_error(uint8_t *buf, size_t len, const char *needle)
{
	struct nuq_file f;
	char msg[256] = "";

	assert_int_equal(nuq_file_decode(buf, len, &f, msg, sizeof(msg)), -EBADMSG);
	if (!strstr(msg, needle))
		fail_msg("expected \"%s\" in \"%s\"", needle, msg);
}

static void impossible_contents_named(void **state)
{
	struct nuq_section_info s0;
	struct nuq_file f;
	uint8_t *buf, *copy;
	size_t len, p;

	(void)state;
	small_file(&buf, &len);
	assert_int_equal(nuq_file_decode(buf, len, &f, NULL, 0), 0);
	s0 = f.sections[0];
	nuq_file_free(&f);
	copy = malloc(len);
	/* payload: u16 name_len, "w0", 8 header bytes, 4 dims, rows cols rank rsvd */
	p = s0.offset + 16 + 2 + 2;

	/* unknown method */
	memcpy(copy, buf, len);
	copy[p] = 200;
	fix_crc(copy, &s0);
	expect_error(copy, len, "section 0 (w0): unknown method");

	/* rows that disagree with the dims */
	memcpy(copy, buf, len);
	copy[p + 8 + 16] = 3;
	fix_crc(copy, &s0);
	expect_error(copy, len, "does not match its dims");

	/* a huge dim: the product overflows 32 bits */
	memcpy(copy, buf, len);
	copy[p + 8 + 3] = 0xff;
	copy[p + 8 + 4] = 0xff;
	fix_crc(copy, &s0);
	expect_error(copy, len, "section 0 (w0)");

	/* an index beyond the codebook: knq 2 bits per channel, 2 levels max per
	 * channel of 2 weights; set the first row's index bits to 3 */
	memcpy(copy, buf, len);
	{
		size_t idx = s0.offset + 16 + s0.bytes - 2;	/* two rows of one byte */
		struct nuq_file g;

		assert_int_equal(nuq_file_decode(buf, len, &g, NULL, 0), 0);
		if (g.layers[0].mat[0].nlevels[0] < 4) {
			copy[idx] = 0x0f;
			fix_crc(copy, &s0);
			expect_error(copy, len, "has index");
		}
		copy[idx] = buf[idx] | 0xf0;	/* padding bits of a 4-bit row */
		fix_crc(copy, &s0);
		expect_error(copy, len, "section 0 (w0)");
		nuq_file_free(&g);
	}

	/* a non-zero reserved field */
	memcpy(copy, buf, len);
	copy[s0.offset + 12] = 1;
	expect_error(copy, len, "reserved");

	/* bytes after the last section, with a header that counts them */
	free(copy);
	copy = calloc(1, len + 1);
	memcpy(copy, buf, len);
	copy[16] = (len + 1) & 0xff;
	copy[17] = (len + 1) >> 8;
	{
		uint32_t crc = crc32(0, copy, 28);

		memcpy(copy + 28, &crc, 4);	/* the test host is little-endian */
	}
	expect_error(copy, len + 1, "bytes after the last section");
	free(copy);
	free(buf);
}

static void write_and_read_file(void **state)
{
	char path[] = "/tmp/nuq-test-XXXXXX", msg[256];
	struct nuq_file f;
	struct nuq_qlayer l[1];
	struct nuq_onnx_weight w = conv_weight("w", 4, 4, 3);
	int fd;

	(void)state;
	fd = mkstemp(path);
	assert_true(fd >= 0);
	close(fd);
	make_layer(&l[0], &w, NUQ_Q_KNQ, 3, NUQ_GRAN_CHANNEL, 0, 0, 9);
	assert_int_equal(nuq_file_write(path, l, 1, msg, sizeof(msg)), 0);
	assert_int_equal(nuq_file_read(path, &f, msg, sizeof(msg)), 0);
	assert_same_values(&l[0], &f.layers[0]);
	nuq_file_free(&f);
	truncate(path, 40);
	assert_int_equal(nuq_file_read(path, &f, msg, sizeof(msg)), -EBADMSG);
	assert_non_null(strstr(msg, path));
	unlink(path);
	assert_int_equal(nuq_file_read(path, &f, msg, sizeof(msg)), -ENOENT);
	nuq_qlayer_free(&l[0]);
}

/* ||A - L_r R_r||^2 equals the sum of the discarded sigma^2, for every rank. */
static void check_svd(const float *a, size_t rows, size_t cols)
{
	size_t k = rows < cols ? rows : cols, r, i, j, q;
	float *l = malloc(rows * k * sizeof(*l)), *vt = malloc(k * cols * sizeof(*vt));
	double *sigma = malloc(k * sizeof(*sigma));

	assert_int_equal(nuq_svd(a, rows, cols, sigma, l, vt), 0);
	for (i = 1; i < k; i++)
		assert_true(sigma[i] <= sigma[i - 1]);
	for (r = 1; r <= k; r += 4) {
		double err = 0, tail = 0;

		for (i = 0; i < rows; i++) {
			for (j = 0; j < cols; j++) {
				double v = 0;

				for (q = 0; q < r; q++)
					v += (double)l[i * k + q] * vt[q * cols + j];
				err += (a[i * cols + j] - v) * (a[i * cols + j] - v);
			}
		}
		for (q = r; q < k; q++)
			tail += sigma[q] * sigma[q];
		if (fabs(err - tail) > 1e-3 * tail + 1e-6 * sigma[0] * sigma[0])
			fail_msg("%zux%zu rank %zu: error %g, discarded energy %g", rows, cols, r,
				 err, tail);
	}
	assert_int_equal(nuq_svd_rank_for_energy(sigma, k, 1.0), k);
	assert_int_equal(nuq_svd_rank_for_energy(sigma, k, 0.0), 1);
	free(l);
	free(vt);
	free(sigma);
}

static void svd_error_is_discarded_energy(void **state)
{
	size_t rows = 30, cols = 50, i, j;
	float *a = malloc(rows * cols * sizeof(*a));

	(void)state;
	test_gaussian(a, rows * cols, 77, 1);
	/* a decaying spectrum: a strong rank-one part over the noise */
	for (i = 0; i < rows; i++)
		for (j = 0; j < cols; j++)
			a[i * cols + j] += 5.0f * (float)((int)(i % 3) + 1) * (float)((int)(j % 5) - 2);
	check_svd(a, rows, cols);
	check_svd(a, cols, rows);	/* the transposed path */
	check_svd(a, 1, rows * cols);
	free(a);
}

static void mixed_precision_picks_best_per_byte(void **state)
{
	/* two layers, three options each; layer 1 gains more per byte */
	const double err[] = { 10, 5, 4, /* */ 100, 20, 1 };
	const double bytes[] = { 10, 20, 30, /* */ 10, 20, 30 };
	unsigned int choice[2];

	(void)state;
	assert_int_equal(nuq_mixed_precision(2, 3, err, bytes, 20, choice), 0);
	assert_int_equal(choice[0], 0);
	assert_int_equal(choice[1], 0);
	assert_int_equal(nuq_mixed_precision(2, 3, err, bytes, 30, choice), 0);
	assert_int_equal(choice[1], 1);
	assert_int_equal(nuq_mixed_precision(2, 3, err, bytes, 40, choice), 0);
	assert_int_equal(choice[0] + choice[1], 2);
	assert_int_equal(choice[1], 2);
	assert_int_equal(nuq_mixed_precision(2, 3, err, bytes, 60, choice), 0);
	assert_int_equal(choice[0], 2);
	assert_int_equal(nuq_mixed_precision(2, 3, err, bytes, 19, choice), -ENOSPC);
}

static void non_finite_weights_refused(void **state)
{
	struct nuq_onnx_weight w = conv_weight("bad", 2, 2, 1);
	struct nuq_layer_opts o = { .q = { .method = NUQ_Q_KNQ, .bits = 2 } };
	float x[4] = { 0.1f, NAN, 0.2f, 0.3f };
	struct nuq_layer_stats st;
	struct nuq_qlayer l;
	char msg[128];

	(void)state;
	assert_int_equal(nuq_qlayer_quantize(&w, x, &o, &l, &st, msg, sizeof(msg)), -EINVAL);
	assert_non_null(strstr(msg, "bad"));
	assert_non_null(strstr(msg, "not finite"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(pack_round_trip),
		cmocka_unit_test(file_round_trip),
		cmocka_unit_test(every_flip_and_truncation_is_caught),
		cmocka_unit_test(impossible_contents_named),
		cmocka_unit_test(write_and_read_file),
		cmocka_unit_test(svd_error_is_discarded_energy),
		cmocka_unit_test(mixed_precision_picks_best_per_byte),
		cmocka_unit_test(non_finite_weights_refused),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

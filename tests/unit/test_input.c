// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * <nuq/input.h>: .npy files read and written (every element kind numpy
 * writes that nuq takes, hostile headers refused with a message), and
 * pictures turned into the tensor an input declares (layout, size,
 * channel order and normalisation from the shape and the options).
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
#include <cmocka.h>

#include <nuq/input.h>

/* A .npy image of @hdr (padded as numpy pads) followed by @data. */
static size_t make_npy(uint8_t *buf, unsigned int version, const char *hdr, const void *data,
		       size_t len)
{
	size_t off = version == 1 ? 10 : 12, h = strlen(hdr);

	memcpy(buf, "\x93NUMPY", 6);
	buf[6] = (uint8_t)version;
	buf[7] = 0;
	buf[8] = (uint8_t)h;
	buf[9] = (uint8_t)(h >> 8);
	if (version != 1)
		buf[10] = buf[11] = 0;
	memcpy(buf + off, hdr, h);
	if (len)
		memcpy(buf + off + h, data, len);
	return off + h + len;
}

static void npy_float_round_trip(void **state)
{
	char path[] = "/tmp/nuq-test-npy-XXXXXX", msg[256];
	int64_t dims[3] = { 2, 3, 4 };
	struct nuq_tensor t, back;
	size_t i;
	int fd = mkstemp(path);

	(void)state;
	assert_true(fd >= 0);
	close(fd);
	assert_int_equal(nuq_tensor_alloc(&t, NUQ_DT_FLOAT, 3, dims), 0);
	for (i = 0; i < 24; i++)
		t.f[i] = (float)i * 0.25f - 3.0f;
	assert_int_equal(nuq_npy_write(path, &t, msg, sizeof(msg)), 0);
	assert_int_equal(nuq_npy_read(path, &back, msg, sizeof(msg)), 0);
	assert_int_equal(back.dtype, NUQ_DT_FLOAT);
	assert_int_equal(back.ndims, 3);
	for (i = 0; i < 3; i++)
		assert_int_equal(back.dims[i], dims[i]);
	assert_memory_equal(back.f, t.f, 24 * sizeof(float));
	nuq_tensor_free(&back);
	/* A one-dim array is written "(5,)", as Python spells a 1-tuple. */
	t.ndims = 1;
	t.dims[0] = 5;
	assert_int_equal(nuq_npy_write(path, &t, msg, sizeof(msg)), 0);
	assert_int_equal(nuq_npy_read(path, &back, msg, sizeof(msg)), 0);
	assert_int_equal(back.ndims, 1);
	assert_int_equal(back.dims[0], 5);
	nuq_tensor_free(&back);
	nuq_tensor_free(&t);
	unlink(path);
}

static void npy_element_kinds(void **state)
{
	static uint8_t buf[512];
	const double d[2] = { 1.5, -2.25 };
	const int32_t i4[3] = { -7, 0, 1 << 30 };
	const uint8_t u1[2] = { 200, 3 }, b1[3] = { 0, 1, 2 };
	const int8_t i1[2] = { -100, 5 };
	struct nuq_tensor t;
	char msg[256];
	size_t n;

	(void)state;
	n = make_npy(buf, 1, "{'descr': '<f8', 'fortran_order': False, 'shape': (2,), }\n", d,
		     sizeof(d));
	assert_int_equal(nuq_npy_decode(buf, n, &t, msg, sizeof(msg)), 0);
	assert_int_equal(t.dtype, NUQ_DT_FLOAT);
	assert_true(t.f[0] == 1.5f && t.f[1] == -2.25f);
	nuq_tensor_free(&t);
	/* Keys in another order, version 2's 4-byte header length. */
	n = make_npy(buf, 2, "{'shape': (1, 3), 'fortran_order': False, 'descr': '<i4'}", i4,
		     sizeof(i4));
	assert_int_equal(nuq_npy_decode(buf, n, &t, msg, sizeof(msg)), 0);
	assert_int_equal(t.dtype, NUQ_DT_INT64);
	assert_int_equal(t.ndims, 2);
	assert_true(t.i[0] == -7 && t.i[1] == 0 && t.i[2] == 1 << 30);
	nuq_tensor_free(&t);
	n = make_npy(buf, 1, "{'descr': '|u1', 'fortran_order': False, 'shape': (2,), }", u1, 2);
	assert_int_equal(nuq_npy_decode(buf, n, &t, msg, sizeof(msg)), 0);
	assert_int_equal(t.dtype, NUQ_DT_UINT8);
	assert_true(t.i[0] == 200 && t.i[1] == 3);
	nuq_tensor_free(&t);
	n = make_npy(buf, 1, "{'descr': '|i1', 'fortran_order': False, 'shape': (2,), }", i1, 2);
	assert_int_equal(nuq_npy_decode(buf, n, &t, msg, sizeof(msg)), 0);
	assert_true(t.i[0] == -100 && t.i[1] == 5);
	nuq_tensor_free(&t);
	n = make_npy(buf, 3, "{'descr': '|b1', 'fortran_order': False, 'shape': (3,), }", b1, 3);
	assert_int_equal(nuq_npy_decode(buf, n, &t, msg, sizeof(msg)), 0);
	assert_int_equal(t.dtype, NUQ_DT_BOOL);
	assert_true(t.i[0] == 0 && t.i[1] == 1 && t.i[2] == 1);
	nuq_tensor_free(&t);
	/* A scalar: shape (), one element. */
	n = make_npy(buf, 1, "{'descr': '<f8', 'fortran_order': False, 'shape': (), }", d, 8);
	assert_int_equal(nuq_npy_decode(buf, n, &t, msg, sizeof(msg)), 0);
	assert_int_equal(t.ndims, 0);
	assert_true(t.f[0] == 1.5f);
	nuq_tensor_free(&t);
}

/* @hdr with 8 bytes of data must be refused, with a message containing @why. */
static void refused(const char *hdr, size_t data_len, const char *why)
{
	static uint8_t buf[512];
	static const uint8_t data[64];
	struct nuq_tensor t;
	char msg[256] = "";
	size_t n = make_npy(buf, 1, hdr, data, data_len);

	assert_int_equal(nuq_npy_decode(buf, n, &t, msg, sizeof(msg)), -EINVAL);
	assert_null(t.f);
	assert_null(t.i);
	if (!strstr(msg, why))
		fail_msg("'%s': message '%s' lacks '%s'", hdr, msg, why);
}

static void npy_hostile_headers(void **state)
{
	static uint8_t buf[256];
	struct nuq_tensor t;
	char msg[256];
	size_t n;

	(void)state;
	refused("{'descr': '>f4', 'fortran_order': False, 'shape': (2,), }", 8, "'>f4'");
	refused("{'descr': '<c8', 'fortran_order': False, 'shape': (1,), }", 8, "'<c8'");
	refused("{'descr': '<f4', 'fortran_order': True, 'shape': (2,), }", 8, "Fortran");
	refused("{'descr': '<f4', 'fortran_order': False, 'shape': (3,), }", 8, "3 elements");
	refused("{'descr': '<f4', 'fortran_order': False, 'shape': (2,), }", 9, "9 bytes");
	refused("{'descr': '<f4', 'fortran_order': False}", 8, "header");
	refused("{'descr': '<f4', 'descr': '<f4', 'fortran_order': False, 'shape': (2,)}", 8,
		"header");
	refused("{'descr': '<f4', 'fortran_order': False, 'shape': (1,1,1,1,1,1,1,1,2)}", 8,
		"header");
	refused("{'descr': '<f4', 'fortran_order': False, 'shape': (-2,), }", 8, "header");
	refused("{'descr': '<f4', 'fortran_order': False, 'shape': (99999999999999999999,)}", 8,
		"header");
	refused("{'descr': '<f4', 'fortran_order': False, 'shape': (2,), 'x': 1}", 8, "header");
	/* Huge shapes are refused before anything is allocated. */
	n = make_npy(buf, 1, "{'descr':'<f4','fortran_order':False,'shape':(65536,65536,65536)}",
		     NULL, 0);
	assert_int_equal(nuq_npy_decode(buf, n, &t, msg, sizeof(msg)), -ERANGE);
	assert_non_null(strstr(msg, "too large"));
	/* Magic, version and the header length itself. */
	assert_int_equal(nuq_npy_decode("\x93NUMPX\x01\x00\x00\x00", 10, &t, msg, sizeof(msg)),
			 -EINVAL);
	assert_non_null(strstr(msg, "magic"));
	assert_int_equal(nuq_npy_decode("\x93NUMPY\x07\x00\x00\x00", 10, &t, msg, sizeof(msg)),
			 -EINVAL);
	assert_non_null(strstr(msg, "version 7.0"));
	assert_int_equal(nuq_npy_decode("\x93NUMPY\x01\x00\xff\x00{", 11, &t, msg, sizeof(msg)),
			 -EINVAL);
	assert_non_null(strstr(msg, "truncated"));
	assert_int_equal(nuq_npy_read("/nonexistent/x.npy", &t, msg, sizeof(msg)), -ENOENT);
	assert_non_null(strstr(msg, "/nonexistent/x.npy"));
}

/* A 2x2 picture: red, green / blue, white. */
static const uint8_t px4[12] = { 255, 0, 0, 0, 255, 0, 0, 0, 255, 255, 255, 255 };

static struct nuq_graph_io image_io(int64_t d1, int64_t d2, int64_t d3)
{
	struct nuq_graph_io io = { .name = "x", .elem_type = 1, .has_shape = 1, .ndims = 4 };

	io.dims[0] = 1;
	io.dims[1] = d1;
	io.dims[2] = d2;
	io.dims[3] = d3;
	return io;
}

static void image_layouts_and_values(void **state)
{
	struct nuq_rgb im = { 2, 2, (uint8_t *)px4 };
	struct nuq_graph_io io = image_io(3, 2, 2);
	struct nuq_input_opts o = { 0 };
	struct nuq_tensor t;
	char msg[256];

	(void)state;
	/* NCHW 1x3x2x2, defaults: v / 255. */
	assert_int_equal(nuq_input_from_image(&im, &io, &o, &t, msg, sizeof(msg)), 0);
	assert_int_equal(t.dims[1], 3);
	assert_true(t.f[0] == 1.0f && t.f[1] == 0.0f);		/* R plane: red, green */
	assert_true(t.f[4 + 1] == 1.0f && t.f[8 + 2] == 1.0f);	/* G of green, B of blue */
	nuq_tensor_free(&t);
	/* NHWC, found from the shape; BGR; (v * 2/255 - 1), BlazeFace's range. */
	io = image_io(2, 2, 3);
	o.bgr = 1;
	o.has_scale = 1;
	o.scale = 2.0f / 255;
	o.has_mean = 1;
	o.mean[0] = o.mean[1] = o.mean[2] = 1;
	assert_int_equal(nuq_input_from_image(&im, &io, &o, &t, msg, sizeof(msg)), 0);
	assert_int_equal(t.dims[3], 3);
	assert_true(fabsf(t.f[0] + 1) < 1e-6f && fabsf(t.f[2] - 1) < 1e-6f);	/* red: B, G, R */
	nuq_tensor_free(&t);
	/* Symbolic height and width take the picture's; std divides. */
	io = image_io(3, -1, -1);
	memset(&o, 0, sizeof(o));
	o.has_std = 1;
	o.std[0] = o.std[1] = o.std[2] = o.std[3] = 0.5f;
	assert_int_equal(nuq_input_from_image(&im, &io, &o, &t, msg, sizeof(msg)), 0);
	assert_true(t.dims[2] == 2 && t.dims[3] == 2 && t.f[0] == 2.0f);
	nuq_tensor_free(&t);
	/* A resize to the declared 4x4; a fourth channel of 1.0 (RGBA models). */
	io = image_io(4, 4, 4);
	memset(&o, 0, sizeof(o));
	assert_int_equal(nuq_input_from_image(&im, &io, &o, &t, msg, sizeof(msg)), 0);
	assert_true(t.dims[2] == 4 && t.f[3 * 16] == 1.0f && t.f[3 * 16 + 15] == 1.0f);
	assert_true(t.f[0] == 1.0f);	/* top left stays red */
	nuq_tensor_free(&t);
	/* One channel: grey. */
	io = image_io(1, 2, 2);
	assert_int_equal(nuq_input_from_image(&im, &io, &o, &t, msg, sizeof(msg)), 0);
	assert_true(fabsf(t.f[3] - 1.0f) < 1e-6f && fabsf(t.f[0] - 0.299f) < 1e-3f);
	nuq_tensor_free(&t);
}

static void image_inputs_refused(void **state)
{
	struct nuq_rgb im = { 2, 2, (uint8_t *)px4 };
	struct nuq_graph_io io = image_io(3, 8, 8);
	struct nuq_input_opts o = { .width = 16, .height = 16 };
	struct nuq_tensor t;
	char msg[256];

	(void)state;
	assert_int_equal(nuq_input_from_image(&im, &io, &o, &t, msg, sizeof(msg)), -EINVAL);
	assert_non_null(strstr(msg, "does not fit"));
	io = image_io(3, 8, 8);
	io.ndims = 2;
	memset(&o, 0, sizeof(o));
	assert_int_equal(nuq_input_from_image(&im, &io, &o, &t, msg, sizeof(msg)), -EINVAL);
	assert_non_null(strstr(msg, ".npy"));
	io = image_io(3, 8, 8);
	io.elem_type = 7;
	assert_int_equal(nuq_input_from_image(&im, &io, &o, &t, msg, sizeof(msg)), -EINVAL);
	assert_non_null(strstr(msg, "int64"));
	io = image_io(7, 8, 9);
	assert_int_equal(nuq_input_from_image(&im, &io, &o, &t, msg, sizeof(msg)), -EINVAL);
	assert_non_null(strstr(msg, "channels"));
	io = image_io(3, 8, 8);
	io.dims[0] = 4;
	assert_int_equal(nuq_input_from_image(&im, &io, &o, &t, msg, sizeof(msg)), -EINVAL);
	assert_non_null(strstr(msg, "batch"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(npy_float_round_trip),
		cmocka_unit_test(npy_element_kinds),
		cmocka_unit_test(npy_hostile_headers),
		cmocka_unit_test(image_layouts_and_values),
		cmocka_unit_test(image_inputs_refused),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The OCR helpers: CTC decoding, edit distance, box F1, deterministic
 * FreeType rendering (spacing, rotation, ink and paper levels), PNG I/O,
 * model inputs, and line finding on the real scanned page from opencv-doc.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include <nuq/ocr.h>

#define FONT	"/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"
#define PAGE	"/usr/share/doc/opencv-doc/examples/data/imageTextN.png"

static void ctc_greedy(void **state)
{
	char path[] = "/tmp/nuq-dict-XXXXXX", out[64];
	static const int seq[] = { 1, 1, 0, 2, 4, 3, 3, 0, 3 };
	struct nuq_ctc_dict d;
	struct nuq_tensor p = { .dtype = NUQ_DT_FLOAT, .ndims = 3, .dims = { 1, 9, 5 } };
	int fd = mkstemp(path), t;

	(void)state;
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "a\nb\nc\n", 6), 6);
	close(fd);
	assert_int_equal(nuq_ctc_dict_load(path, &d, NULL, 0), 0);
	unlink(path);
	assert_int_equal(d.n, 4);	/* a b c and the space PaddleOCR appends */
	p.f = calloc(45, sizeof(float));
	for (t = 0; t < 9; t++)
		p.f[t * 5 + seq[t]] = 1.0f;
	assert_int_equal(nuq_ctc_decode(&p, &d, out, sizeof(out)), 0);
	assert_string_equal(out, "ab cc");	/* repeats merge, a blank splits them */
	assert_int_equal(nuq_ctc_decode(&p, &d, out, 3), -ENOSPC);
	p.dims[2] = 6;	/* a model whose classes do not match the dictionary */
	assert_int_equal(nuq_ctc_decode(&p, &d, out, sizeof(out)), -EINVAL);
	free(p.f);
	nuq_ctc_dict_free(&d);
}

static void metrics(void **state)
{
	struct nuq_box a[2] = { { 0, 0, 10, 10, 1 }, { 20, 0, 30, 10, 1 } };
	struct nuq_box b[2] = { { 1, 0, 10, 10, 1 }, { 50, 50, 60, 60, 1 } };

	(void)state;
	assert_int_equal(nuq_edit_distance("kitten", "sitting"), 3);
	assert_int_equal(nuq_edit_distance("", "abc"), 3);
	assert_int_equal(nuq_edit_distance("\xc3\xbc" "ber", "uber"), 1);	/* one code point */
	assert_int_equal(nuq_utf8_len("\xe4\xb8\xad\xe6\x96\x87"), 2);
	assert_true(nuq_box_f1(a, 2, a, 2, 0.5) == 1.0);
	assert_true(nuq_box_f1(a, 2, b, 2, 0.5) == 0.5);	/* one of two matches */
	assert_true(nuq_box_f1(a, 2, b + 1, 1, 0.5) == 0.0);
	assert_true(nuq_box_f1(NULL, 0, NULL, 0, 0.5) == 1.0);
}

static void rendering(void **state)
{
	struct nuq_render_opts o = { .font = FONT, .px = 28, .noise = 6, .blur = 1, .seed = 7 };
	struct nuq_image a, b;
	char msg[256];
	size_t i, dark = 0;

	(void)state;
	assert_int_equal(nuq_render_line("Quantized 4-bit", &o, &a, msg, sizeof(msg)), 0);
	assert_int_equal(nuq_render_line("Quantized 4-bit", &o, &b, msg, sizeof(msg)), 0);
	assert_int_equal(a.w, b.w);
	assert_memory_equal(a.px, b.px, (size_t)a.w * a.h);
	for (i = 0; i < (size_t)a.w * a.h; i++)
		dark += a.px[i] < 100;
	assert_true(dark > 100);
	nuq_image_free(&b);
	o.seed = 8;
	assert_int_equal(nuq_render_line("Quantized 4-bit", &o, &b, msg, sizeof(msg)), 0);
	assert_memory_not_equal(a.px, b.px, (size_t)a.w * a.h);
	nuq_image_free(&a);
	nuq_image_free(&b);
	o.font = "/nonexistent.ttf";
	assert_int_equal(nuq_render_line("x", &o, &a, msg, sizeof(msg)), -ENOENT);
	assert_non_null(strstr(msg, "nonexistent"));
}

/* Darkest and lightest pixel. */
static void levels(const struct nuq_image *im, int *lo, int *hi)
{
	size_t i;

	*lo = 255;
	*hi = 0;
	for (i = 0; i < (size_t)im->w * im->h; i++) {
		*lo = im->px[i] < *lo ? im->px[i] : *lo;
		*hi = im->px[i] > *hi ? im->px[i] : *hi;
	}
}

/* Spacing, rotation, ink and paper levels do what they say; bad values are refused. */
static void rendering_styles(void **state)
{
	struct nuq_render_opts o = { .font = FONT, .px = 30 };
	struct nuq_image plain, im, again;
	const char *text = "Rate: 4.5% (x^2)";
	char msg[256];
	int lo, hi;

	(void)state;
	assert_int_equal(nuq_render_line(text, &o, &plain, msg, sizeof(msg)), 0);
	levels(&plain, &lo, &hi);
	assert_int_equal(lo, 0);
	assert_int_equal(hi, 255);
	/* Three more pixels after each of the 16 characters. */
	o.spacing = 3;
	assert_int_equal(nuq_render_line(text, &o, &im, msg, sizeof(msg)), 0);
	assert_int_equal(im.w, plain.w + 3 * 16);
	assert_int_equal(im.h, plain.h);
	nuq_image_free(&im);
	o.spacing = 0;
	/* Grey paper 215, ink at half its level: nothing outside [107, 215]. */
	o.paper_shade = 40;
	o.contrast = 0.5;
	assert_int_equal(nuq_render_line(text, &o, &im, msg, sizeof(msg)), 0);
	levels(&im, &lo, &hi);
	assert_int_equal(hi, 215);
	assert_true(lo >= 107 && lo <= 110);
	nuq_image_free(&im);
	o.paper_shade = 0;
	o.contrast = 0;
	/* Turned by 3 degrees: the canvas grows to hold the whole line, deterministically. */
	o.angle = 3;
	assert_int_equal(nuq_render_line(text, &o, &im, msg, sizeof(msg)), 0);
	assert_int_equal(nuq_render_line(text, &o, &again, msg, sizeof(msg)), 0);
	assert_true(im.h > plain.h + plain.w / 30);
	assert_true(im.w >= plain.w);
	assert_int_equal(im.w, again.w);
	assert_memory_equal(im.px, again.px, (size_t)im.w * im.h);
	/* Counter-clockwise: the left end of the text sits lower than the right end. */
	{
		long left = 0, right = 0, nl = 0, nr = 0;
		int x, y;

		for (y = 0; y < im.h; y++)
			for (x = 0; x < im.w; x++) {
				if (im.px[y * im.w + x] > 128)
					continue;
				if (x < im.w / 4) {
					left += y;
					nl++;
				} else if (x >= 3 * im.w / 4) {
					right += y;
					nr++;
				}
			}
		assert_true(nl && nr);
		assert_true((double)left / nl > (double)right / nr + 3);
	}
	nuq_image_free(&im);
	nuq_image_free(&again);
	nuq_image_free(&plain);
	o.angle = 11;
	assert_int_equal(nuq_render_line(text, &o, &im, msg, sizeof(msg)), -EINVAL);
	assert_non_null(strstr(msg, "angle"));
	o.angle = 0;
	o.contrast = 1.5;
	assert_int_equal(nuq_render_line(text, &o, &im, msg, sizeof(msg)), -EINVAL);
	assert_non_null(strstr(msg, "contrast"));
	o.contrast = 0;
	o.spacing = -10;
	assert_int_equal(nuq_render_line(text, &o, &im, msg, sizeof(msg)), -EINVAL);
	assert_non_null(strstr(msg, "spacing"));
	o.spacing = 0;
	o.paper_shade = 200;
	assert_int_equal(nuq_render_line(text, &o, &im, msg, sizeof(msg)), -EINVAL);
	o.paper_shade = 0;
	o.noise = -1;
	assert_int_equal(nuq_render_line(text, &o, &im, msg, sizeof(msg)), -EINVAL);
	o.noise = 0;
	o.blur = 9;
	assert_int_equal(nuq_render_line(text, &o, &im, msg, sizeof(msg)), -EINVAL);
	o.blur = 0;
	/* DejaVu Sans has no CJK: a .notdef box would be a wrong ground truth. */
	assert_int_equal(nuq_render_line("OCR \xe4\xb8\xad", &o, &im, msg, sizeof(msg)), -EILSEQ);
	assert_non_null(strstr(msg, "U+4E2D"));
}

static void images_and_inputs(void **state)
{
	char path[] = "/tmp/nuq-png-XXXXXX", msg[256];
	struct nuq_image im, back, r;
	struct nuq_tensor x;
	int fd = mkstemp(path), i;

	(void)state;
	close(fd);
	assert_int_equal(nuq_image_alloc(&im, 100, 20, 255), 0);
	for (i = 0; i < 100 * 20; i++)
		im.px[i] = (uint8_t)(i * 37);
	assert_int_equal(nuq_image_save_png(path, &im), 0);
	assert_int_equal(nuq_image_load_png(path, &back, msg, sizeof(msg)), 0);
	assert_memory_equal(im.px, back.px, 2000);
	nuq_image_free(&back);
	assert_int_equal(truncate(path, 40), 0);
	assert_int_equal(nuq_image_load_png(path, &back, msg, sizeof(msg)), -EBADMSG);
	unlink(path);

	assert_int_equal(nuq_ocr_input(NUQ_OCR_REC, &im, 0, &x), 0);
	assert_int_equal(x.dims[2], 48);
	assert_int_equal(x.dims[3], 240);	/* 48 * 100 / 20 */
	assert_true(x.f[0] >= -1.0f && x.f[0] <= 1.0f);
	nuq_tensor_free(&x);
	assert_int_equal(nuq_ocr_input(NUQ_OCR_CLS, &im, 0, &x), 0);
	assert_int_equal(x.dims[3], 192);	/* 240 wide at height 48: squeezed to 192 */
	nuq_tensor_free(&x);
	assert_int_equal(nuq_image_crop(&im, 0, 0, 40, 20, &r), 0);
	assert_int_equal(nuq_ocr_input(NUQ_OCR_CLS, &r, 0, &x), 0);
	assert_int_equal(x.dims[3], 192);
	assert_true(x.f[95] != 0.0f || x.f[94] != 0.0f);
	assert_true(x.f[96] == 0.0f && x.f[191] == 0.0f);	/* zero padding on the right */
	nuq_tensor_free(&x);
	nuq_image_free(&r);
	assert_int_equal(nuq_image_resize(&im, 1000, 200, &r), 0);
	assert_int_equal(nuq_ocr_input(NUQ_OCR_DET, &r, 960, &x), 0);
	assert_int_equal(x.dims[3] % 32, 0);
	assert_int_equal(x.dims[2] % 32, 0);
	assert_true(x.dims[3] <= 960);
	nuq_tensor_free(&x);
	nuq_image_free(&r);
	nuq_image_rotate180(&im);
	assert_int_equal(im.px[0], (uint8_t)(1999 * 37));
	nuq_image_free(&im);
}

/* The scanned page has 13 lines of text (data/imageTextN.txt). */
static void scanned_page_lines(void **state)
{
	struct nuq_image page;
	struct nuq_box *b;
	size_t n, i;
	char msg[256];

	(void)state;
	assert_int_equal(nuq_image_load_png(PAGE, &page, msg, sizeof(msg)), 0);
	assert_int_equal(nuq_page_lines(&page, &b, &n), 0);
	assert_int_equal(n, 13);
	for (i = 1; i < n; i++) {
		assert_true(b[i].y0 >= b[i - 1].y1 - 6);	/* top to bottom, little overlap */
		assert_true(b[i].y1 - b[i].y0 >= 12 && b[i].y1 - b[i].y0 <= 30);
	}
	free(b);
	nuq_image_free(&page);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(ctc_greedy),
		cmocka_unit_test(metrics),
		cmocka_unit_test(rendering),
		cmocka_unit_test(rendering_styles),
		cmocka_unit_test(images_and_inputs),
		cmocka_unit_test(scanned_page_lines),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

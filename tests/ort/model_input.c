// SPDX-License-Identifier: GPL-2.0
/*
 * One real input for a vision model, as raw float32 for ort_run.js,
 * ort_outputs.js and graph_ref: a JPEG or PNG photo, optionally cropped,
 * resized (bilinear) to W x H, each 8-bit value v written as
 * v * SCALE + OFFSET, in NHWC or NCHW order.
 *
 *   model_input [--crop X,Y,W,H] [--alpha A] [--png OUT.png]
 *               IMAGE W H nhwc|nchw SCALE OFFSET OUT.f32
 *
 * --alpha appends a fourth channel of constant A (M-LSD's RGBA input).
 * --png also writes the resized RGB picture, to look at.
 * Prints the tensor's dims, e.g. 1,128,128,3.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <nuq/input.h>

struct input_spec {
	int crop[4], has_crop, has_alpha, nchw, w, h;
	float alpha, scale, offset;
	const char *png;
};

static int usage(void)
{
	fprintf(stderr, "usage: model_input [--crop X,Y,W,H] [--alpha A] [--png OUT.png] "
		"IMAGE W H nhwc|nchw SCALE OFFSET OUT.f32\n");
	return 2;
}

static int write_tensor(const struct nuq_rgb *im, const struct input_spec *s, const char *out)
{
	int c, nc = 3 + s->has_alpha;
	size_t n = (size_t)im->w * im->h, i;
	float *t = malloc(n * nc * sizeof(*t));
	FILE *f;
	int ok;

	if (!t)
		return -ENOMEM;
	for (i = 0; i < n; i++)
		for (c = 0; c < nc; c++) {
			float v = c < 3 ? im->px[i * 3 + c] * s->scale + s->offset : s->alpha;

			t[s->nchw ? c * n + i : i * nc + c] = v;
		}
	f = fopen(out, "wb");
	ok = f && fwrite(t, sizeof(*t), n * nc, f) == n * nc;
	if (f && fclose(f))
		ok = 0;
	free(t);
	if (!ok)
		return -EIO;
	if (s->nchw)
		printf("1,%d,%d,%d\n", nc, im->h, im->w);
	else
		printf("1,%d,%d,%d\n", im->h, im->w, nc);
	return 0;
}

int main(int argc, char **argv)
{
	struct input_spec s = { .scale = 1 };
	struct nuq_rgb src, crop, sized = { 0 };
	char msg[512], *end;
	int a = 1, ret;

	for (; a + 1 < argc && !strncmp(argv[a], "--", 2); a += 2) {
		if (!strcmp(argv[a], "--crop") &&
		    sscanf(argv[a + 1], "%d,%d,%d,%d", &s.crop[0], &s.crop[1], &s.crop[2],
			   &s.crop[3]) == 4)
			s.has_crop = 1;
		else if (!strcmp(argv[a], "--alpha"))
			s.has_alpha = 1, s.alpha = strtof(argv[a + 1], NULL);
		else if (!strcmp(argv[a], "--png"))
			s.png = argv[a + 1];
		else
			return usage();
	}
	if (argc - a != 7)
		return usage();
	s.w = (int)strtol(argv[a + 1], &end, 10);
	s.h = (int)strtol(argv[a + 2], &end, 10);
	s.nchw = !strcmp(argv[a + 3], "nchw");
	s.scale = strtof(argv[a + 4], NULL);
	s.offset = strtof(argv[a + 5], NULL);
	if (s.w <= 0 || s.h <= 0 || (!s.nchw && strcmp(argv[a + 3], "nhwc")))
		return usage();

	ret = nuq_rgb_load(argv[a], &src, msg, sizeof(msg));
	if (ret) {
		fprintf(stderr, "model_input: %s\n", msg);
		return 1;
	}
	crop = src;
	if (s.has_crop && nuq_rgb_crop(&src, s.crop[0], s.crop[1], s.crop[2], s.crop[3], &crop)) {
		fprintf(stderr, "model_input: crop %d,%d,%d,%d is not inside the %dx%d image\n",
			s.crop[0], s.crop[1], s.crop[2], s.crop[3], src.w, src.h);
		nuq_rgb_free(&src);
		return 1;
	}
	ret = nuq_rgb_resize(&crop, s.w, s.h, &sized);
	if (!ret && s.png)
		ret = nuq_rgb_save_png(s.png, &sized);
	if (!ret)
		ret = write_tensor(&sized, &s, argv[a + 6]);
	if (ret)
		fprintf(stderr, "model_input: %s\n", strerror(-ret));
	if (crop.px != src.px)
		nuq_rgb_free(&crop);
	nuq_rgb_free(&src);
	if (sized.px)
		nuq_rgb_free(&sized);
	return ret ? 1 : 0;
}

/* SPDX-License-Identifier: GPL-2.0 */
/*
 * 8-bit RGB images for the model tests' inputs (tests/ort/model_input.c):
 * JPEG with libjpeg, PNG with libpng, crop and bilinear resize.
 */
#ifndef NUQ_TESTS_RGB_IMAGE_H
#define NUQ_TESTS_RGB_IMAGE_H

#include <stddef.h>
#include <stdint.h>

struct rgb_image {
	int w, h;
	uint8_t *px;	/* w * h * 3, row-major, R G B */
};

/* JPEG or PNG, by content; errno and a message in @msg on failure. */
int rgb_load(const char *path, struct rgb_image *im, char *msg, size_t msglen);
int rgb_save_png(const char *path, const struct rgb_image *im);
void rgb_free(struct rgb_image *im);

/* The rectangle x, y, w, h of @src, which must lie inside it. */
int rgb_crop(const struct rgb_image *src, int x, int y, int w, int h, struct rgb_image *dst);
/* Bilinear, pixel centres aligned (half-pixel), edges clamped. */
int rgb_resize(const struct rgb_image *src, int w, int h, struct rgb_image *dst);

#endif

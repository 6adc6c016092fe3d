// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * libnuq: text boxes - the DB detector's post-processing, and lines of a
 * clean page by projection (which needs no model, so it can cut ground
 * truth lines out of a scanned page).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <nuq/ocr.h>

/* PaddleOCR's DB defaults. */
#define DB_THRESH	0.3f
#define DB_BOX_THRESH	0.6f
#define DB_UNCLIP	1.5f
#define DB_MIN_SIDE	3

static int push_box(struct nuq_box **v, size_t *n, size_t *cap, const struct nuq_box *b)
{
	if (*n == *cap) {
		size_t nc = *cap ? *cap * 2 : 16;
		struct nuq_box *nv = realloc(*v, nc * sizeof(**v));

		if (!nv)
			return -ENOMEM;
		*v = nv;
		*cap = nc;
	}
	(*v)[(*n)++] = *b;
	return 0;
}

int nuq_db_boxes(const struct nuq_tensor *prob, int img_w, int img_h, struct nuq_box **boxes,
		 size_t *n)
{
	int64_t H, W, i, head, tail;
	int32_t *queue;
	uint8_t *seen;
	size_t cap = 0;
	int ret = 0;

	*boxes = NULL;
	*n = 0;
	if (prob->ndims != 4 || prob->dims[0] != 1 || prob->dims[1] != 1 || !prob->f)
		return -EINVAL;
	H = prob->dims[2], W = prob->dims[3];
	seen = calloc((size_t)(H * W), 1);
	queue = malloc((size_t)(H * W) * sizeof(*queue));
	if (!seen || !queue) {
		free(seen);
		free(queue);
		return -ENOMEM;
	}
	for (i = 0; i < H * W && !ret; i++) {
		int x0 = INT32_MAX, y0 = INT32_MAX, x1 = -1, y1 = -1;
		double sum = 0;
		struct nuq_box b;
		float w, h, d, sx, sy;

		if (seen[i] || prob->f[i] <= DB_THRESH)
			continue;
		seen[i] = 1;
		head = tail = 0;
		queue[tail++] = (int32_t)i;
		while (head < tail) {
			int32_t p = queue[head++];
			int px = (int)(p % W), py = (int)(p / W), dx, dy;

			sum += prob->f[p];
			x0 = px < x0 ? px : x0;
			x1 = px > x1 ? px : x1;
			y0 = py < y0 ? py : y0;
			y1 = py > y1 ? py : y1;
			for (dy = -1; dy <= 1; dy++)
				for (dx = -1; dx <= 1; dx++) {
					int qx = px + dx, qy = py + dy;
					int64_t q = (int64_t)qy * W + qx;

					if (qx < 0 || qy < 0 || qx >= W || qy >= H || seen[q] ||
					    prob->f[q] <= DB_THRESH)
						continue;
					seen[q] = 1;
					queue[tail++] = (int32_t)q;
				}
		}
		w = (float)(x1 - x0 + 1);
		h = (float)(y1 - y0 + 1);
		if (w < DB_MIN_SIDE || h < DB_MIN_SIDE || sum / (double)tail < DB_BOX_THRESH)
			continue;
		/* Unclip: grow by area * ratio / perimeter, as DB's polygon offset does. */
		d = w * h * DB_UNCLIP / (2 * (w + h));
		sx = (float)img_w / (float)W;
		sy = (float)img_h / (float)H;
		b.x0 = (int)((x0 - d) * sx);
		b.y0 = (int)((y0 - d) * sy);
		b.x1 = (int)((x1 + 1 + d) * sx + 0.5f);
		b.y1 = (int)((y1 + 1 + d) * sy + 0.5f);
		b.x0 = b.x0 < 0 ? 0 : b.x0;
		b.y0 = b.y0 < 0 ? 0 : b.y0;
		b.x1 = b.x1 > img_w ? img_w : b.x1;
		b.y1 = b.y1 > img_h ? img_h : b.y1;
		b.score = (float)(sum / (double)tail);
		ret = push_box(boxes, n, &cap, &b);
	}
	free(seen);
	free(queue);
	/* Reading order: top to bottom, then left to right. */
	if (!ret) {
		size_t a, c;

		for (a = 1; a < *n; a++)
			for (c = a; c > 0; c--) {
				struct nuq_box *p = &(*boxes)[c - 1], *q = &(*boxes)[c], t;

				if (p->y0 + (p->y1 - p->y0) / 2 < q->y0 ||
				    (q->y0 < p->y1 && p->x0 <= q->x0))
					break;
				t = *p;
				*p = *q;
				*q = t;
			}
	} else {
		free(*boxes);
		*boxes = NULL;
		*n = 0;
	}
	return ret;
}

int nuq_page_lines(const struct nuq_image *page, struct nuq_box **lines, size_t *n)
{
	int y, x, start = -1, ret = 0;
	size_t cap = 0;
	int *ink;

	*lines = NULL;
	*n = 0;
	ink = calloc((size_t)page->h + 1, sizeof(int));
	if (!ink)
		return -ENOMEM;
	for (y = 0; y < page->h; y++)
		for (x = 0; x < page->w; x++)
			ink[y] += page->px[y * page->w + x] < 128;
	for (y = 0; y <= page->h && !ret; y++) {
		int on = y < page->h && ink[y] > 0;

		if (on && start < 0)
			start = y;
		if (!on && start >= 0) {
			struct nuq_box b = { page->w, start, 0, y, 1.0f };
			int yy;

			/* A line is at least 6 rows; shorter runs are dust or i-dots. */
			if (y - start >= 6) {
				for (yy = start; yy < y; yy++)
					for (x = 0; x < page->w; x++)
						if (page->px[yy * page->w + x] < 128) {
							b.x0 = x < b.x0 ? x : b.x0;
							b.x1 = x + 1 > b.x1 ? x + 1 : b.x1;
						}
				/* A margin like the detector's unclip leaves. */
				b.x0 = b.x0 - 4 < 0 ? 0 : b.x0 - 4;
				b.x1 = b.x1 + 4 > page->w ? page->w : b.x1 + 4;
				b.y0 = b.y0 - 3 < 0 ? 0 : b.y0 - 3;
				b.y1 = b.y1 + 3 > page->h ? page->h : b.y1 + 3;
				ret = push_box(lines, n, &cap, &b);
			}
			start = -1;
		}
	}
	free(ink);
	return ret;
}

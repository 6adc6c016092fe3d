// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The reference the core is tested against, written separately from it:
 * weights are decoded to plain integers up front (own bit reader, own ASD
 * decoding by multiplication), the convolution is the textbook loop nest,
 * and requantization is computed from its definition in 128-bit arithmetic:
 *
 *   y = floor((x * M + 2^30) / 2^31)      round to nearest, ties up
 *   z = y / 2^e rounded to nearest, ties away from zero
 */
#include <stdlib.h>
#include <string.h>

#include "conv_ref.h"

uint32_t test_rand(struct test_rng *r)
{
	/* xorshift64* */
	r->s ^= r->s >> 12;
	r->s ^= r->s << 25;
	r->s ^= r->s >> 27;
	return (uint32_t)((r->s * 2685821657736338717ULL) >> 32);
}

int32_t test_range(struct test_rng *r, int32_t lo, int32_t hi)
{
	return lo + (int32_t)(test_rand(r) % (uint32_t)(hi - lo + 1));
}

static int64_t floor_div_pow2(__int128 v, int e)
{
	__int128 d = (__int128)1 << e;
	__int128 q = v / d;

	if (v % d && v < 0)
		q--;
	return (int64_t)q;
}

int32_t ref_requantize(int32_t acc, int32_t multiplier, int32_t shift)
{
	int64_t x = acc, y, z;
	int e = shift < 0 ? -shift : 0;

	if (shift > 0) {
		x = acc * (int64_t)(1LL << shift);
		if (x > INT32_MAX)
			x = INT32_MAX;
		if (x < INT32_MIN)
			x = INT32_MIN;
	}
	y = floor_div_pow2((__int128)x * multiplier + ((__int128)1 << 30), 31);
	if (y > INT32_MAX)
		y = INT32_MAX;
	if (e == 0)
		return (int32_t)y;
	/* ties away from zero */
	z = (llabs(y) + (1LL << (e - 1))) >> e;
	return (int32_t)(y < 0 ? -z : z);
}

static int act_min(uint32_t fmt)
{
	return fmt == NUQ_AFMT_INT8 ? -128 : 0;
}

static int act_max(uint32_t fmt)
{
	return fmt == NUQ_AFMT_INT8 ? 127 : 255;
}

static int32_t act(const uint8_t *p, uint32_t fmt)
{
	return fmt == NUQ_AFMT_INT8 ? (int8_t)*p : *p;
}

static int32_t le32(const uint8_t *p)
{
	int32_t v;

	memcpy(&v, p, 4);
	return v;
}

/* Every weight as an integer, [oc][k]. */
static int decode_weights(const struct nuq_conv_job *job, uint8_t *const buf[], uint64_t k,
			  int64_t *w)
{
	const uint8_t *src = buf[NUQ_T_WEIGHTS];
	uint64_t oc, j;

	for (oc = 0; oc < job->out_c; oc++) {
		for (j = 0; j < k; j++) {
			int64_t v = 0;

			if (job->weight_format == NUQ_WFMT_INT8) {
				v = (int8_t)src[oc * k + j];
			} else if (job->weight_format == NUQ_WFMT_CODEBOOK) {
				uint64_t row = (k * job->weight_bits + 7) / 8, idx = 0, b;
				const uint8_t *cb = buf[NUQ_T_CODEBOOK];
				int wide = job->flags & NUQ_JOB_F_CODEBOOK_INT16;
				uint64_t base = job->flags & NUQ_JOB_F_CODEBOOK_PER_LAYER ? 0 :
						oc << job->weight_bits;

				for (b = 0; b < job->weight_bits; b++) {
					uint64_t bit = j * job->weight_bits + b;

					idx |= (uint64_t)((src[oc * row + bit / 8] >> (bit % 8)) & 1) << b;
				}
				if (wide) {
					int16_t e;

					memcpy(&e, cb + 2 * (base + idx), 2);
					v = e;
				} else {
					v = (int8_t)cb[base + idx];
				}
			} else {
				int d;

				for (d = 0; d < 2; d++) {
					uint8_t byte = src[(oc * k + j) * 2 + d];

					if (!byte)
						continue;
					if (!(byte & 0x40) || (byte & 0x30) || (byte & 15) > 14)
						return -1;
					v += (byte & 0x80 ? -1 : 1) * (int64_t)(1 << (byte & 15));
				}
			}
			w[oc * k + j] = v;
		}
	}
	return 0;
}

int conv_ref(const struct nuq_conv_job *job, uint8_t *const buf[NUQ_T_COUNT], uint8_t *out)
{
	uint32_t icg = job->in_c / job->groups, ocg = job->out_c / job->groups;
	uint64_t k = (uint64_t)job->kernel_h * job->kernel_w * icg;
	int64_t *w = malloc(sizeof(*w) * k * job->out_c);
	uint32_t n, oh, ow, oc, kh, kw, c;

	if (!w || decode_weights(job, buf, k, w)) {
		free(w);
		return -1;
	}
	for (n = 0; n < job->batch; n++)
	for (oh = 0; oh < job->out_h; oh++)
	for (ow = 0; ow < job->out_w; ow++)
	for (oc = 0; oc < job->out_c; oc++) {
		uint32_t g = oc / ocg;
		int64_t acc = buf[NUQ_T_BIAS] ? le32(buf[NUQ_T_BIAS] + 4 * oc) : 0;
		int32_t m = le32(buf[NUQ_T_REQUANT] + 8 * oc);
		int32_t s = le32(buf[NUQ_T_REQUANT] + 8 * oc + 4);
		uint64_t at = (((uint64_t)n * job->out_h + oh) * job->out_w + ow) * job->out_c + oc;
		int64_t v;

		for (kh = 0; kh < job->kernel_h; kh++)
		for (kw = 0; kw < job->kernel_w; kw++)
		for (c = 0; c < icg; c++) {
			int64_t ih = (int64_t)oh * job->stride_h - job->pad_top +
				     (int64_t)kh * job->dilation_h;
			int64_t iw = (int64_t)ow * job->stride_w - job->pad_left +
				     (int64_t)kw * job->dilation_w;
			int32_t x;

			if (ih < 0 || iw < 0 || ih >= job->in_h || iw >= job->in_w)
				continue;
			x = act(buf[NUQ_T_INPUT] + (((uint64_t)n * job->in_h + ih) * job->in_w + iw) *
				job->in_c + g * icg + c, job->in_format);
			acc += (int64_t)(x - job->in_zero_point) *
			       w[oc * k + ((uint64_t)kh * job->kernel_w + kw) * icg + c];
		}
		if (acc > INT32_MAX)
			acc = INT32_MAX;
		if (acc < INT32_MIN)
			acc = INT32_MIN;
		v = (int64_t)ref_requantize((int32_t)acc, m, s) + job->out_zero_point;
		if (job->flags & NUQ_JOB_F_RESIDUAL)
			v += ref_requantize(act(buf[NUQ_T_RESIDUAL] + at, job->out_format) -
					    job->res_zero_point, job->res_multiplier, job->res_shift);
		if (v < job->out_min)
			v = job->out_min;
		if (v > job->out_max)
			v = job->out_max;
		out[at] = (uint8_t)v;
	}
	free(w);
	return 0;
}

static uint32_t extent(uint32_t in, uint32_t pa, uint32_t pb, uint32_t k, uint32_t s, uint32_t d)
{
	int64_t span = (int64_t)(k - 1) * d + 1, padded = (int64_t)in + pa + pb;

	return padded < span ? 0 : (uint32_t)((padded - span) / s + 1);
}

static uint8_t *alloc_rand(size_t n, struct test_rng *r)
{
	uint8_t *p = malloc(n ? n : 1);
	size_t i;

	for (i = 0; p && i < n; i++)
		p[i] = (uint8_t)test_rand(r);
	return p;
}

static uint8_t asd_digit(struct test_rng *r)
{
	if (test_rand(r) % 4 == 0)
		return 0;
	return (uint8_t)(0x40 | (test_rand(r) % 2 ? 0x80 : 0) | test_range(r, 0, 14));
}

int test_job_make(struct test_job *tj, const struct test_shape *s, struct test_rng *r)
{
	struct nuq_conv_job *j = &tj->job;
	uint32_t icg, oc, i;
	uint64_t k;

	memset(tj, 0, sizeof(*tj));
	j->flags = s->flags;
	j->priority = NUQ_PRIO_NORMAL;
	j->weight_format = s->wfmt;
	j->batch = s->batch;
	j->in_h = s->in_h;
	j->in_w = s->in_w;
	j->in_c = s->in_c;
	j->out_c = s->out_c;
	j->kernel_h = s->kh;
	j->kernel_w = s->kw;
	j->stride_h = s->sh;
	j->stride_w = s->sw;
	j->dilation_h = s->dh;
	j->dilation_w = s->dw;
	j->pad_top = s->pt;
	j->pad_bottom = s->pb;
	j->pad_left = s->pl;
	j->pad_right = s->pr;
	j->groups = s->groups;
	j->out_h = extent(s->in_h, s->pt, s->pb, s->kh, s->sh, s->dh);
	j->out_w = extent(s->in_w, s->pl, s->pr, s->kw, s->sw, s->dw);
	if (!j->out_h || !j->out_w || s->in_c % s->groups || s->out_c % s->groups)
		return -1;
	j->weight_bits = s->wfmt == NUQ_WFMT_INT8 ? 8 : s->wfmt == NUQ_WFMT_ASD ? 0 : s->bits;
	j->cb_strategy = s->strategy;
	j->in_format = s->in_fmt;
	j->out_format = s->out_fmt;
	j->in_zero_point = test_range(r, act_min(s->in_fmt), act_max(s->in_fmt));
	j->out_zero_point = test_range(r, act_min(s->out_fmt), act_max(s->out_fmt));
	j->out_min = test_range(r, act_min(s->out_fmt), act_min(s->out_fmt) + 40);
	j->out_max = test_range(r, act_max(s->out_fmt) - 40, act_max(s->out_fmt));

	icg = s->in_c / s->groups;
	k = (uint64_t)s->kh * s->kw * icg;
	tj->size[NUQ_T_INPUT] = (size_t)s->batch * s->in_h * s->in_w * s->in_c;
	tj->size[NUQ_T_OUTPUT] = (size_t)s->batch * j->out_h * j->out_w * s->out_c;
	if (s->wfmt == NUQ_WFMT_INT8)
		tj->size[NUQ_T_WEIGHTS] = s->out_c * k;
	else if (s->wfmt == NUQ_WFMT_ASD)
		tj->size[NUQ_T_WEIGHTS] = s->out_c * k * 2;
	else
		tj->size[NUQ_T_WEIGHTS] = s->out_c * ((k * s->bits + 7) / 8);
	if (s->wfmt == NUQ_WFMT_CODEBOOK)
		tj->size[NUQ_T_CODEBOOK] = ((size_t)1 << s->bits) *
			(s->flags & NUQ_JOB_F_CODEBOOK_PER_LAYER ? 1 : s->out_c) *
			(s->flags & NUQ_JOB_F_CODEBOOK_INT16 ? 2 : 1);
	tj->size[NUQ_T_BIAS] = 4 * s->out_c;
	tj->size[NUQ_T_REQUANT] = 8 * s->out_c;
	if (s->flags & NUQ_JOB_F_RESIDUAL)
		tj->size[NUQ_T_RESIDUAL] = tj->size[NUQ_T_OUTPUT];

	for (i = 0; i < NUQ_T_COUNT; i++) {
		if (!tj->size[i])
			continue;
		tj->buf[i] = alloc_rand(tj->size[i], r);
		j->tensors[i].handle = i + 1;
	}
	if (s->wfmt == NUQ_WFMT_ASD)
		for (i = 0; i < tj->size[NUQ_T_WEIGHTS]; i++)
			tj->buf[NUQ_T_WEIGHTS][i] = asd_digit(r);
	if (s->wfmt == NUQ_WFMT_INT8 || s->wfmt == NUQ_WFMT_CODEBOOK) {
		/* Padding bits past each channel's last index are zero. */
		uint64_t row = tj->size[NUQ_T_WEIGHTS] / s->out_c, used = k * j->weight_bits;

		for (oc = 0; used % 8 && oc < s->out_c; oc++)
			tj->buf[NUQ_T_WEIGHTS][oc * row + row - 1] &= (1 << (used % 8)) - 1;
	}
	/* Bias and requantization so that outputs spread over the range. */
	for (oc = 0; oc < s->out_c; oc++) {
		int32_t bias = test_range(r, -20000, 20000);
		uint32_t scale = s->wfmt == NUQ_WFMT_ASD ? 4096 :
				 (s->flags & NUQ_JOB_F_CODEBOOK_INT16) ? 8192 : 64;
		/* acc is about sqrt(k) * 80 * scale; map that to about +-100. */
		double real = 100.0 / (80.0 * scale * (1.0 + __builtin_sqrt((double)k)));
		int32_t shift = 0, m;

		while (real < 0.5) {
			real *= 2;
			shift--;
		}
		m = (int32_t)(real * 1073741824.0 * 2 - 1);
		if (m < (1 << 30))
			m = 1 << 30;
		shift += test_range(r, -1, 1);
		memcpy(tj->buf[NUQ_T_BIAS] + 4 * oc, &bias, 4);
		memcpy(tj->buf[NUQ_T_REQUANT] + 8 * oc, &m, 4);
		memcpy(tj->buf[NUQ_T_REQUANT] + 8 * oc + 4, &shift, 4);
	}
	if (s->flags & NUQ_JOB_F_RESIDUAL) {
		j->res_zero_point = test_range(r, act_min(s->out_fmt), act_max(s->out_fmt));
		j->res_multiplier = test_range(r, 1 << 30, INT32_MAX);
		j->res_shift = test_range(r, -3, 1);
	}
	return 0;
}

void test_job_free(struct test_job *tj)
{
	int i;

	for (i = 0; i < NUQ_T_COUNT; i++)
		free(tj->buf[i]);
}

// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * libnuq: the fast CPU path's weights.  Every format (int8, codebook,
 * ASD) is decoded once per job into int16 rows, then packed into the
 * layout the dot products or the depthwise kernel read (conv_fast.h).
 */
#include <string.h>

#include "conv_fast.h"

/* Rows w[o][kp] of @ocn channels into the packed layout (conv_fast.h). */
void nuq_fast_pack_weights(const int16_t *w, size_t ocn, size_t kp, int16_t *wp)
{
	size_t nb = (ocn + NUQ_OC_BLOCK - 1) / NUQ_OC_BLOCK, b, k, o;

	for (b = 0; b < nb; b++) {
		for (k = 0; k < kp; k += 2) {
			int16_t *dst = wp + (b * kp / 2 + k / 2) * 2 * NUQ_OC_BLOCK;

			for (o = 0; o < NUQ_OC_BLOCK; o++) {
				size_t oc = b * NUQ_OC_BLOCK + o;

				dst[2 * o] = oc < ocn ? w[oc * kp + k] : 0;
				dst[2 * o + 1] = oc < ocn ? w[oc * kp + k + 1] : 0;
			}
		}
	}
}

/*
 * The value of every ASD digit byte; malformed ones get 2^20, which no
 * sum of two digits can bring back into int16 range.
 */
static void asd_digit_values(int32_t v[256])
{
	int d;

	for (d = 0; d < 256; d++)
		v[d] = !nuq_asd_digit_ok(d) ? 1 << 20 :
		       d ? (d & 0x80 ? -1 : 1) * (1 << (d & 0x0f)) : 0;
}

/* The @k indices of one LSB-first @bits-bit stream, mapped through @table. */
static void unpack_row(const uint8_t *src, uint32_t k, uint32_t bits, const int16_t *table,
		       int16_t *dst)
{
	uint32_t mask = (1U << bits) - 1, have = 0, j;
	uint64_t buf = 0;

	for (j = 0; j < k; j++) {
		if (have < bits) {
			buf |= (uint64_t)*src++ << have;
			have += 8;
		}
		dst[j] = table[buf & mask];
		buf >>= bits;
		have -= bits;
	}
}

/* The largest |w| of @n weights. */
static int32_t max_abs(const int16_t *w, size_t n)
{
	int32_t m = 0, v;
	size_t i;

	for (i = 0; i < n; i++) {
		v = w[i] < 0 ? -w[i] : w[i];
		if (v > m)
			m = v;
	}
	return m;
}

/*
 * Weights as int16 rows of kp, and their largest |w| in *wmax; 1 if some
 * weight does not fit int16 or is malformed.  Codebook rows go through a
 * table of the channel's entries, so no index is decoded twice.
 */
int nuq_fast_decode_weights(const struct nuq_conv_job *job, const struct nuq_conv_plan *plan,
			    void *const t[NUQ_T_COUNT], int16_t *w, size_t kp, int32_t *wmax)
{
	const uint8_t *src = t[NUQ_T_WEIGHTS], *cbs = t[NUQ_T_CODEBOOK];
	uint32_t k = plan->k, oc, j, e;
	int wide = job->flags & NUQ_JOB_F_CODEBOOK_INT16;
	size_t row_bytes = ((size_t)k * job->weight_bits + 7) / 8;
	int32_t m, digit[256];
	int16_t table[256];

	if (job->weight_format == NUQ_WFMT_ASD)
		asd_digit_values(digit);
	*wmax = 0;
	for (oc = 0; oc < job->out_c; oc++) {
		int16_t *dst = w + (size_t)oc * kp;

		switch (job->weight_format) {
		case NUQ_WFMT_INT8:
			for (j = 0; j < k; j++)
				dst[j] = (int8_t)src[(size_t)oc * k + j];
			break;
		case NUQ_WFMT_ASD:
			for (j = 0; j < k; j++) {
				const uint8_t *d = src + 2 * ((size_t)oc * k + j);
				int32_t v = digit[d[0]] + digit[d[1]];

				if (v > 32767 || v < -32768)
					return 1;
				dst[j] = (int16_t)v;
			}
			break;
		default: {
			const uint8_t *cb = cbs;

			if (!(job->flags & NUQ_JOB_F_CODEBOOK_PER_LAYER))
				cb += (size_t)oc * plan->cb_entries * (wide ? 2 : 1);
			for (e = 0; e < plan->cb_entries; e++)
				table[e] = wide ? (int16_t)nuq_ld_s16(cb + 2 * e) : (int8_t)cb[e];
			unpack_row(src + oc * row_bytes, k, job->weight_bits, table, dst);
			break;
		}
		}
		m = max_abs(dst, k);
		if (m > *wmax)
			*wmax = m;
		memset(dst + k, 0, (kp - k) * sizeof(*dst));
	}
	return 0;
}

/* Rows w[c][kp] of a depthwise conv's @taps weights per channel into the dw layout. */
void nuq_fast_pack_dw_weights(const int16_t *w, size_t c, size_t kp, size_t taps, size_t cp,
			      int16_t *wd)
{
	size_t t, ch;

	memset(wd, 0, ((taps + 1) & ~(size_t)1) * cp * sizeof(*wd));
	for (ch = 0; ch < c; ch++)
		for (t = 0; t < taps; t++)
			wd[nuq_dw_pos(t, ch, cp)] = w[ch * kp + t];
}

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
 * weight does not fit int16 or is malformed.  Int8 and codebook rows are
 * the core's own decoding (nuq_weights16()); ASD digits go through a table
 * of their values.
 */
int nuq_fast_decode_weights(const struct nuq_conv_job *job, const struct nuq_conv_plan *plan,
			    void *const t[NUQ_T_COUNT], int16_t *w, size_t kp, int32_t *wmax)
{
	const uint8_t *src = t[NUQ_T_WEIGHTS];
	uint32_t k = plan->k, oc, j;
	int32_t m, digit[256];
	int16_t table[256];

	if (job->weight_format == NUQ_WFMT_ASD)
		asd_digit_values(digit);
	*wmax = 0;
	for (oc = 0; oc < job->out_c; oc++) {
		int16_t *dst = w + (size_t)oc * kp;

		if (job->weight_format != NUQ_WFMT_ASD) {
			m = nuq_weights16(job, plan, t, oc, dst, table);
		} else {
			for (j = 0; j < k; j++) {
				const uint8_t *d = src + 2 * ((size_t)oc * k + j);
				int32_t v = digit[d[0]] + digit[d[1]];

				if (v > 32767 || v < -32768)
					return 1;
				dst[j] = (int16_t)v;
			}
			m = max_abs(dst, k);
		}
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

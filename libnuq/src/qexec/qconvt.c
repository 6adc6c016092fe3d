// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * libnuq: a ConvTranspose as one conv job.
 *
 * A ConvTranspose with stride s and a kernel of k = m s taps (per
 * dimension) writes output row s t + r from kernel taps s u + r only, u
 * in [0, m): each of the s x s phases (r_h, r_w) is an ordinary
 * correlation of the input with an m x m kernel, those taps flipped,
 * over the input padded by m - 1.  So the job is one stride-1 conv with
 * s_h s_w channels per output channel (job channel = phase * O + o), and
 * interleaving its output pixels by phase, then cropping the node's pads,
 * gives the ConvTranspose's output.  The layer's rows are output
 * channels (NUQ_LAYOUT_IOHW_O), so a row's scale is every phase channel's
 * and the job reads the file's codebook and indices as they are, only
 * reordered.  Bias and requantization are the output channel's, per
 * phase channel.  The job does the multiply-adds of the uncropped
 * output, which is the ConvTranspose's own count plus the border.
 */
#include <string.h>

#include "qexec_priv.h"

const char *nuq_qconvt_plan(const struct nuq_node *n, const struct nuq_qlayer *l,
			    struct qconvt *ct)
{
	const struct nuq_attrs *a = &n->a;

	if (l->layout == NUQ_LAYOUT_IOHW)
		return "its weights are stored by input channel (a .nuq file before version 4), which no job takes: quantize the model again";
	if (l->layout != NUQ_LAYOUT_IOHW_O)
		return "its weights' layout is not a ConvTranspose's";
	if (a->group != 1)
		return "it is a grouped ConvTranspose, which has no job form";
	if (a->dilations[0] != 1 || a->dilations[1] != 1)
		return "it is a dilated ConvTranspose, which has no job form";
	if (a->kernel[0] % a->strides[0] || a->kernel[1] % a->strides[1])
		return "its kernel is not a multiple of its stride, which has no job form";
	/* Output padding past the last tap's row would be bias-only pixels. */
	if (a->out_pad[0] > a->pads[2] || a->out_pad[1] > a->pads[3])
		return "its output_padding reaches past its last kernel tap, which has no job form";
	if (n->w.ndims != 4)
		return "it is not 2-D";
	ct->sh = (unsigned int)a->strides[0];
	ct->sw = (unsigned int)a->strides[1];
	ct->kh = (unsigned int)a->kernel[0];
	ct->kw = (unsigned int)a->kernel[1];
	ct->mh = ct->kh / ct->sh;
	ct->mw = ct->kw / ct->sw;
	ct->c = n->w.dims[0];
	ct->o = n->w.dims[1];
	ct->pt = a->pads[0];
	ct->pl = a->pads[1];
	return NULL;
}

/*
 * Job channel @oc's weights (job tap order kernel row, kernel column,
 * input channel, @esize bytes each) from the layer matrix @mat: job tap
 * (v_h, v_w) of phase (r_h, r_w) is kernel tap (s_h (m_h - 1 - v_h) +
 * r_h, s_w (m_w - 1 - v_w) + r_w) of output channel oc % O.
 */
void nuq_qconvt_row(const struct qconvt *ct, int64_t oc, const uint8_t *mat, size_t esize,
		    uint8_t *dst)
{
	unsigned int phase = (unsigned int)(oc / ct->o), rh = phase / ct->sw, rw = phase % ct->sw;
	size_t run = (size_t)ct->c * esize;
	const uint8_t *row = mat + (size_t)(oc % ct->o) * ct->kh * ct->kw * run;
	unsigned int vh, vw;

	for (vh = 0; vh < ct->mh; vh++)
		for (vw = 0; vw < ct->mw; vw++) {
			unsigned int ky = ct->sh * (ct->mh - 1 - vh) + rh;
			unsigned int kx = ct->sw * (ct->mw - 1 - vw) + rw;

			memcpy(dst, row + (size_t)(ky * ct->kw + kx) * run, run);
			dst += run;
		}
}

/*
 * The job's output @src (NHWC, @jh x @jw pixels of s_h s_w O channels)
 * into the ConvTranspose's (NHWC, @oh x @ow of O): output pixel (y, x)
 * is uncropped pixel (y + pad_top, x + pad_left), which is job pixel
 * (y' / s_h, x' / s_w) in phase (y' % s_h, x' % s_w).
 */
void nuq_qconvt_shuffle(const struct qconvt *ct, const uint8_t *src, int64_t nb, int64_t jh,
			int64_t jw, uint8_t *dst, int64_t oh, int64_t ow)
{
	size_t jc = (size_t)ct->o * ct->sh * ct->sw, o = (size_t)ct->o;
	int64_t b, y, x;

	for (b = 0; b < nb; b++)
		for (y = 0; y < oh; y++) {
			int64_t fy = y + ct->pt, t = fy / ct->sh, rh = fy % ct->sh;
			const uint8_t *srow = src + (size_t)((b * jh + t) * jw) * jc + rh * ct->sw * o;

			for (x = 0; x < ow; x++) {
				int64_t fx = x + ct->pl, u = fx / ct->sw, rw = fx % ct->sw;

				memcpy(dst, srow + (size_t)u * jc + (size_t)rw * o, o);
				dst += o;
			}
		}
}

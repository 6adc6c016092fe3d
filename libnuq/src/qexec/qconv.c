// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * libnuq: one conv layer as an integer job.
 *
 * The layer's stored weights go to the device unchanged (codebook
 * indices and entries, or ASD digits); what the quantized model means in
 * real numbers is carried by a per-channel weight scale, into which a
 * folded BatchNormalization simply multiplies.  After calibration the
 * bias and the per-channel requantization (in_scale * w_scale / out_scale)
 * are written next to the weights.
 */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <nuq/conv.h>

#include "msg.h"
#include "qexec_priv.h"

/* |acc| stays below 2^30 for any input: no saturation, room for the bias. */
#define ACC_LIMIT	(1LL << 30)

static uint64_t align8(uint64_t x)
{
	return (x + 7) & ~7ULL;
}

static int32_t round_shift(int32_t v, unsigned int k)
{
	if (!k)
		return v;
	return v >= 0 ? (v + (1 << (k - 1))) >> k : -((-v + (1 << (k - 1))) >> k);
}

/*
 * The weights into the BO and each channel's real scale, with codebook
 * entries shifted right by qn->shift (@indices: also the packed indices
 * or digits, which do not depend on the shift).  A ConvTranspose's job
 * channel reads its taps out of its output channel's row (qconvt.c).
 */
static int write_weights(struct qnode *qn, int indices)
{
	const struct nuq_qlayer *l = qn->l;
	const struct nuq_qmat *m = &l->mat[0];
	int64_t O = qn->job.out_c, K = l->cols / (O / l->rows), oc, i;
	unsigned int b = l->bits;
	uint64_t row = ((uint64_t)K * b + 7) / 8;
	uint8_t *taps = NULL;

	if (qn->convt && indices && b) {
		taps = malloc((size_t)K);
		if (!taps)
			return -ENOMEM;
	}
	for (oc = 0; oc < O; oc++) {
		int64_t r = qn_row(qn, oc);
		float ws = m->scales[m->ngroups == 1 ? 0 : r] *
			   ldexpf(1.0f, (int)qn->shift - (int)qn->up) *
			   qn_bn_scale(qn, r);
		int neg = ws < 0;

		qn->wscale[oc] = neg ? -ws : ws;
		if (!b) {	/* ASD */
			uint8_t *d = qn->map + qn->off_w + 2 * oc * K;

			if (!indices)
				continue;
			if (qn->convt)
				nuq_qconvt_row(&qn->ct, oc, m->digits, 2, d);
			else
				memcpy(d, m->digits + 2 * oc * K, 2 * (size_t)K);
			for (i = 0; neg && i < 2 * K; i++)
				d[i] ^= d[i] ? 0x80 : 0;	/* flip the sign bit */
			/* A zero scale: digit 0 is the value 0, the channel adds nothing. */
			if (ws == 0)
				memset(d, 0, 2 * (size_t)K);
		} else {
			int16_t *cb = (int16_t *)(qn->map + qn->off_cb) + (oc << b);
			const int16_t *src = m->entries + (nuq_qmat_codebook(m, (size_t)r) << b);

			if (indices) {
				if (taps)
					nuq_qconvt_row(&qn->ct, oc, m->idx, 1, taps);
				nuq_pack_indices(taps ? taps : m->idx + oc * K, (size_t)K, b,
						 qn->map + qn->off_w + oc * row);
			}
			if (qn->shared_cb && oc)
				continue;
			for (i = 0; i < (1 << b); i++) {
				int32_t e = round_shift(src[i] * (1 << qn->up), qn->shift);

				cb[i] = (int16_t)(ws == 0 ? 0 : neg ? -e : e);
			}
		}
	}
	free(taps);
	return 0;
}

/* 1 when @qn cannot run as a job (it then runs in fp32); 0 set up; <0 error. */
int nuq_qconv_setup(struct nuq_qexec *q, struct qnode *qn, char *msg, size_t msglen)
{
	const struct nuq_qlayer *l = qn->l;
	const struct nuq_qmat *m = &l->mat[0];
	struct nuq_node *n = qn->n;
	int fc = !strcmp(n->op->name, "MatMul") || !strcmp(n->op->name, "Gemm");
	int convt = !strcmp(n->op->name, "ConvTranspose");
	/* A fully connected layer (MatMul, Gemm) is a 1x1 conv over its rows. */
	int64_t O = fc ? l->rows : n->w.dims[0], Cg = fc ? l->cols : n->w.dims[1];
	int64_t K = fc ? Cg : Cg * n->w.dims[2] * n->w.dims[3], phases = 1;
	int asd = l->bits == 0, per_layer, ret;
	unsigned int shift = 0, up = 0, b = l->bits;
	uint64_t wbytes, cbbytes = 0, row = 0, size;
	int64_t maxabs = 0, i, r;
	struct nuq_conv_job *j = &qn->job;

	if (l->rank) {
		qn->why = "its weights are SVD factors, which no job takes";
		return 1;
	}
	if (convt) {
		/* One job channel per output channel and phase, over the phase's taps. */
		qn->why = nuq_qconvt_plan(n, l, &qn->ct);
		if (qn->why)
			return 1;
		phases = (int64_t)qn->ct.sh * qn->ct.sw;
		O = qn->ct.o * phases;
		Cg = qn->ct.c;
		K = (int64_t)qn->ct.mh * qn->ct.mw * Cg;
	}
	if ((fc ? l->layout != NUQ_LAYOUT_KN && l->layout != NUQ_LAYOUT_NK :
		  l->layout != (convt ? NUQ_LAYOUT_IOHW_O : NUQ_LAYOUT_OIHW)) ||
	    l->rows != (uint32_t)(O / phases) || l->cols != (uint64_t)K * phases ||
	    (m->ngroups != 1 && m->ngroups != l->rows)) {
		qn->why = "its weights' layout (groups of weights smaller than a channel) has no job form";
		return 1;
	}
	/*
	 * The requantization multiplier is positive, so a channel whose scale
	 * is negative (a folded BatchNormalization with gamma < 0) gets its
	 * weights negated instead; a shared codebook then becomes per-channel
	 * copies.
	 */
	/*
	 * One codebook for the layer (with one scale, or a scale per channel
	 * that the requantization multiplier absorbs) runs as a per-layer
	 * codebook job.
	 */
	/*
	 * A channel whose scale is 0 (a pruned channel, or a folded
	 * BatchNormalization's gamma of 0) must add nothing to its
	 * accumulator, since its requantization is the unit path that carries
	 * the bias (nuq_qconv_finalize()): its entries are written as zeros,
	 * which a shared codebook cannot do either.  Multiplying the layer's
	 * entries by that channel's bias path instead saturated M-LSD's dead
	 * channels at the top of their range.
	 */
	per_layer = m->ngroups == 1 || m->ncodebooks == 1;
	for (r = 0; r < l->rows; r++)
		if (!(m->scales[m->ngroups == 1 ? 0 : r] * qn_bn_scale(qn, r) > 0))
			per_layer = 0;
	if (asd) {
		for (i = 0; i < O * K; i++) {
			int64_t v = llabs(nuq_asd_value(m->digits[2 * i], m->digits[2 * i + 1]));

			maxabs = v > maxabs ? v : maxabs;
		}
		if (K * 255 * maxabs >= ACC_LIMIT) {
			qn->why = "its shift-and-add weights could overflow the job's 32-bit sums";
			return 1;
		}
		wbytes = 2 * (uint64_t)(O * K);
	} else {
		for (i = 0; i < (int64_t)(m->ncodebooks ? m->ncodebooks : m->ngroups) << b; i++)
			maxabs = llabs(m->entries[i]) > maxabs ? llabs(m->entries[i]) : maxabs;
		/* Negating -32768 needs one more bit. */
		maxabs = maxabs < 32767 ? maxabs : 32768;
		/*
		 * Small (8-bit) entries move up into the 16-bit range first, so
		 * that the shifts below take low bits off the scaled value, as
		 * for 16-bit entries, instead of zeroing 8-bit ones.
		 */
		while (maxabs && (maxabs << (up + 1)) <= 32767)
			up++;
		maxabs <<= up;
		/* Drop low entry bits until no input can overflow the accumulator. */
		while (K * 255 * ((maxabs >> shift) + 1) >= ACC_LIMIT)
			shift++;
		row = ((uint64_t)K * b + 7) / 8;
		wbytes = row * (uint64_t)O;
		cbbytes = (per_layer ? 1 : (uint64_t)O) * (1ULL << b) * 2;
	}
	qn->off_w = 0;
	qn->off_cb = align8(wbytes);
	qn->off_bias = align8(qn->off_cb + cbbytes);
	qn->off_rq = align8(qn->off_bias + 4 * (uint64_t)O);
	size = qn->off_rq + 8 * (uint64_t)O;
	qn->wscale = calloc((size_t)O, sizeof(float));
	if (!qn->wscale)
		return -ENOMEM;
	ret = nuq_bo_create(q->dev, size, &qn->bo);
	if (!ret)
		ret = nuq_bo_map(q->dev, qn->bo, (void **)&qn->map, NULL);
	if (ret)
		return nuq_node_fail(n, msg, msglen, ret, "cannot allocate a %llu-byte buffer object",
				     (unsigned long long)size);
	qn->shift = shift;
	qn->up = up;
	qn->shared_cb = per_layer;
	qn->convt = convt;
	memset(j, 0, sizeof(*j));
	j->out_c = (uint32_t)O;
	ret = write_weights(qn, 1);
	if (ret)
		return ret;
	j->priority = NUQ_PRIO_NORMAL;
	j->weight_format = asd ? NUQ_WFMT_ASD : NUQ_WFMT_CODEBOOK;
	j->weight_bits = asd ? 0 : b;
	j->cb_strategy = asd ? 0 : NUQ_CB_AUTO;
	j->flags = asd ? 0 : NUQ_JOB_F_CODEBOOK_INT16 | (per_layer ? NUQ_JOB_F_CODEBOOK_PER_LAYER : 0);
	if (fc) {
		j->in_c = (uint32_t)K;
		j->kernel_h = j->kernel_w = j->stride_h = j->stride_w = 1;
		j->dilation_h = j->dilation_w = j->groups = 1;
	} else if (convt) {
		/* Stride 1 over the input padded by m - 1: the uncropped output. */
		j->in_c = (uint32_t)Cg;
		j->kernel_h = qn->ct.mh;
		j->kernel_w = qn->ct.mw;
		j->stride_h = j->stride_w = j->dilation_h = j->dilation_w = j->groups = 1;
		j->pad_top = j->pad_bottom = qn->ct.mh - 1;
		j->pad_left = j->pad_right = qn->ct.mw - 1;
	} else {
		j->in_c = (uint32_t)(Cg * n->a.group);
		j->kernel_h = (uint32_t)n->a.kernel[0];
		j->kernel_w = (uint32_t)n->a.kernel[1];
		j->stride_h = (uint32_t)n->a.strides[0];
		j->stride_w = (uint32_t)n->a.strides[1];
		j->dilation_h = (uint32_t)n->a.dilations[0];
		j->dilation_w = (uint32_t)n->a.dilations[1];
		j->pad_top = (uint32_t)n->a.pads[0];
		j->pad_left = (uint32_t)n->a.pads[1];
		j->pad_bottom = (uint32_t)n->a.pads[2];
		j->pad_right = (uint32_t)n->a.pads[3];
		j->groups = (uint32_t)n->a.group;
	}
	qn->fc = fc;
	j->in_format = NUQ_AFMT_UINT8;
	j->out_format = NUQ_AFMT_UINT8;
	j->tensors[NUQ_T_WEIGHTS].handle = qn->bo;
	j->tensors[NUQ_T_WEIGHTS].offset = qn->off_w;
	if (!asd) {
		j->tensors[NUQ_T_CODEBOOK].handle = qn->bo;
		j->tensors[NUQ_T_CODEBOOK].offset = qn->off_cb;
	}
	j->tensors[NUQ_T_BIAS].handle = qn->bo;
	j->tensors[NUQ_T_BIAS].offset = qn->off_bias;
	j->tensors[NUQ_T_REQUANT].handle = qn->bo;
	j->tensors[NUQ_T_REQUANT].offset = qn->off_rq;
	qn->macs_per_pixel = (uint64_t)(O * K);
	return 0;
}

static int32_t clamp_q(double v)
{
	return (int32_t)(v < 0 ? 0 : v > 255 ? 255 : lround(v));
}

/* 0, or 1 when the requantization cannot be expressed (the node then runs in fp32). */
int nuq_qconv_finalize(struct nuq_qexec *q, struct qnode *qn)
{
	const struct qval *in = &q->vals[qn->in_val], *out = &q->vals[qn->out_val];
	struct nuq_node *n = qn->n;
	int32_t *bias = (int32_t *)(qn->map + qn->off_bias), *rq = (int32_t *)(qn->map + qn->off_rq);
	int shifted = 0;
	uint32_t oc;

	/*
	 * The bias in accumulator units must fit too: a large bias over a
	 * small input step takes more codebook bits off (ASD cannot, and
	 * runs in fp32).
	 */
	for (oc = 0; oc < qn->job.out_c && n->has_bias; oc++) {
		double need = fabs(n->b.f[qn_row(qn, oc)]) / ((double)in->scale * qn->wscale[oc]);

		while (qn->wscale[oc] > 0 && need >= ACC_LIMIT / 2) {
			if (!qn->l->bits || qn->shift >= 15) {
				qn->why = "its bias does not fit the job's 32-bit sums at this input step";
				return 1;
			}
			qn->shift++;
			need /= 2;
			shifted = 1;
		}
	}
	if (shifted)
		write_weights(qn, 0);	/* no indices: cannot fail */
	for (oc = 0; oc < qn->job.out_c; oc++) {
		double ws = qn->wscale[oc], b = n->has_bias ? n->b.f[qn_row(qn, oc)] : 0;
		double acc_scale, bq;

		/* An all-zero channel still outputs its bias: give it a unit path. */
		if (!(ws > 0))
			ws = out->scale / in->scale;
		acc_scale = (double)in->scale * ws;
		if (nuq_quantize_multiplier(acc_scale / out->scale, &rq[2 * oc], &rq[2 * oc + 1])) {
			/*
			 * Too small to express: the weights move the output by less
			 * than half a step, so only a bias could show; without one
			 * the channel is 0.  With one, the layer runs in fp32.
			 */
			if (acc_scale / out->scale < 1.0 && fabs(b) < 0.5 * out->scale) {
				rq[2 * oc] = 0;
				rq[2 * oc + 1] = 0;
				bias[oc] = 0;
				continue;
			}
			qn->why = "its requantization scale is below what a job expresses";
			return 1;
		}
		bq = round(b / acc_scale);
		bias[oc] = (int32_t)(bq > ACC_LIMIT ? ACC_LIMIT : bq < -ACC_LIMIT ? -ACC_LIMIT : bq);
	}
	if (qn->add) {
		/* The Add's other input, rescaled to the output's step by the core. */
		const struct qval *res = &q->vals[qn->res_val];

		if (nuq_quantize_multiplier((double)res->scale / out->scale, &qn->job.res_multiplier,
					    &qn->job.res_shift)) {
			qn->why = "its residual's scale is out of the job's range";
			return 1;
		}
		qn->job.res_zero_point = res->zp;
		qn->job.flags |= NUQ_JOB_F_RESIDUAL;
	}
	qn->job.out_zero_point = out->zp;
	qn->job.in_zero_point = in->zp;
	qn->job.out_min = qn->act ? clamp_q(out->zp + qn->clamp_lo / out->scale) : 0;
	qn->job.out_max = qn->act && isfinite(qn->clamp_hi) ?
			  clamp_q(out->zp + qn->clamp_hi / out->scale) : 255;
	return 0;
}

static int ensure_bo(struct nuq_qexec *q, uint32_t *bo, uint8_t **map, uint64_t *cap,
		     uint64_t need)
{
	int ret;

	if (need <= *cap)
		return 0;
	if (*bo)
		nuq_bo_free(q->dev, *bo);
	*bo = 0;
	*cap = 0;
	need = need < 65536 ? 65536 : need + need / 4;
	ret = nuq_bo_create(q->dev, need, bo);
	if (!ret)
		ret = nuq_bo_map(q->dev, *bo, (void **)map, NULL);
	if (!ret)
		*cap = need;
	return ret;
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec * 1e-9;
}

/* One real value as uint8 with 1 / scale @inv and zero point @zp, saturated. */
static uint8_t quantize_u8(float x, float inv, int32_t zp)
{
	long v = lrintf(x * inv) + zp;

	return (uint8_t)(v < 0 ? 0 : v > 255 ? 255 : v);
}

/* Float rows to uint8 (a fully connected layer's input). */
static void quantize_rows(const float *x, size_t n, float scale, int32_t zp, uint8_t *dst)
{
	float inv = 1.0f / scale;
	size_t i;

	for (i = 0; i < n; i++)
		dst[i] = quantize_u8(x[i], inv, zp);
}

/* Float NCHW to uint8 NHWC with the value's scale and zero point. */
static void quantize_nhwc(const struct nuq_tensor *x, float scale, int32_t zp, uint8_t *dst)
{
	size_t N = (size_t)x->dims[0], C = (size_t)x->dims[1], HW = (size_t)(x->dims[2] * x->dims[3]);
	size_t b, c, p;
	float inv = 1.0f / scale;

	for (b = 0; b < N; b++)
		for (c = 0; c < C; c++) {
			const float *src = x->f + (b * C + c) * HW;

			for (p = 0; p < HW; p++)
				dst[(b * HW + p) * C + c] = quantize_u8(src[p], inv, zp);
		}
}

/*
 * The fused Add's other input into the residual BO, uint8 NHWC in its
 * own scale: a copy when a job left it so, else quantized from float.
 * 2 if it is not the output's shape (a broadcasting Add): then the conv
 * and the Add run in fp32 this time.
 */
static int load_residual(struct nuq_qexec *q, struct qnode *qn, int64_t nb, int64_t oh,
			 int64_t ow, uint64_t bytes)
{
	struct nuq_value *v = &q->g->values[qn->res_val];
	const struct qval *res = &q->vals[qn->res_val];
	struct nuq_tensor *r = &v->t;
	int ret;

	if (!v->live || r->ndims != 4 || r->dims[0] != nb || r->dims[1] != qn->job.out_c ||
	    r->dims[2] != oh || r->dims[3] != ow)
		return 2;
	ret = ensure_bo(q, &q->res_bo, &q->res_map, &q->res_cap, bytes);
	if (ret)
		return ret;
	if (r->q && !r->f && r->scale == res->scale && r->zp == res->zp) {
		memcpy(q->res_map, r->q, bytes);
		return 0;
	}
	ret = nuq_tensor_need_float(r);
	if (ret)
		return ret;
	quantize_nhwc(r, res->scale, res->zp, q->res_map);
	return 0;
}

/*
 * A ConvTranspose's output from its job's (@jh x @jw pixels, a channel
 * per output channel and phase): the node's size, interleaved (qconvt.c).
 */
static int convt_output(struct nuq_qexec *q, struct qnode *qn, const struct nuq_tensor *x,
			struct nuq_tensor *y, int64_t jh, int64_t jw, char *msg, size_t msglen)
{
	const struct nuq_attrs *a = &qn->n->a;
	int64_t nb = x->dims[0], oh, ow;

	oh = a->strides[0] * (x->dims[2] - 1) + a->out_pad[0] + a->kernel[0] - a->pads[0] -
	     a->pads[2];
	ow = a->strides[1] * (x->dims[3] - 1) + a->out_pad[1] + a->kernel[1] - a->pads[1] -
	     a->pads[3];
	if (oh < 1 || ow < 1)
		return nuq_node_fail(qn->n, msg, msglen, -EINVAL, "output would be empty");
	y->dims[1] = qn->ct.o;
	y->dims[2] = oh;
	y->dims[3] = ow;
	y->q = malloc((size_t)(nb * oh * ow * qn->ct.o));
	if (!y->q)
		return -ENOMEM;
	nuq_qconvt_shuffle(&qn->ct, q->out_map, nb, jh, jw, y->q, oh, ow);
	y->scale = q->vals[qn->out_val].scale;
	y->zp = q->vals[qn->out_val].zp;
	q->st.jobs++;
	q->st.macs += (uint64_t)(nb * jh * jw) * qn->macs_per_pixel;
	return 0;
}

int nuq_qconv_run(struct nuq_qexec *q, struct qnode *qn, struct nuq_tensor *x,
		  struct nuq_tensor *y, char *msg, size_t msglen)
{
	const struct qval *in = &q->vals[qn->in_val], *out = &q->vals[qn->out_val];
	struct nuq_conv_job job = qn->job;
	struct nuq_node *n = qn->n;
	struct nuq_submit_error err;
	uint64_t seq, inb, outb, macs;
	int64_t nb, ih, iw, oh, ow;
	int ret, status = 0;
	double t0;

	if (qn->fc) {
		/* Rows of K values, as one image row of M pixels (NHWC = row-major). */
		if (x->ndims < 2 || x->ndims == 4 || x->dims[x->ndims - 1] != job.in_c ||
		    nuq_tensor_count(x) / job.in_c > 65535)
			return 2;
		nb = 1;
		ih = oh = 1;
		iw = ow = (int64_t)(nuq_tensor_count(x) / job.in_c);
	} else {
		if (x->ndims != 4 || x->dims[1] != job.in_c)
			return nuq_node_fail(n, msg, msglen, -EINVAL,
					     "input must be NCHW with %u channels", job.in_c);
		nb = x->dims[0], ih = x->dims[2], iw = x->dims[3];
		if (n->a.auto_pad == NUQ_AUTO_PAD_SAME_UPPER ||
		    n->a.auto_pad == NUQ_AUTO_PAD_SAME_LOWER) {
			/* SAME pads follow the input size: the job takes this run's. */
			nuq_window_auto_pad(n, ih, iw);
			job.pad_top = (uint32_t)n->a.pads[0];
			job.pad_left = (uint32_t)n->a.pads[1];
			job.pad_bottom = (uint32_t)n->a.pads[2];
			job.pad_right = (uint32_t)n->a.pads[3];
		}
		oh = nuq_conv_out_dim(ih, job.kernel_h, job.stride_h, job.dilation_h, job.pad_top,
				      job.pad_bottom, 0);
		ow = nuq_conv_out_dim(iw, job.kernel_w, job.stride_w, job.dilation_w, job.pad_left,
				      job.pad_right, 0);
		if (oh < 1 || ow < 1 || ih > 65535 || iw > 65535)
			return nuq_node_fail(n, msg, msglen, -EINVAL,
					     "input %lldx%lld does not fit the kernel",
					     (long long)ih, (long long)iw);
	}
	inb = nuq_tensor_count(x);
	outb = (uint64_t)(nb * oh * ow) * job.out_c;
	ret = ensure_bo(q, &q->in_bo, &q->in_map, &q->in_cap, inb);
	if (!ret)
		ret = ensure_bo(q, &q->out_bo, &q->out_map, &q->out_cap, outb);
	if (ret)
		return nuq_node_fail(n, msg, msglen, ret, "cannot allocate activation buffers");
	if (x->q && !x->f && x->scale == in->scale && x->zp == in->zp) {
		memcpy(q->in_map, x->q, inb);	/* device to device: stays 8-bit */
	} else {
		ret = nuq_tensor_need_float(x);
		if (ret)
			return ret;
		if (qn->fc)
			quantize_rows(x->f, inb, in->scale, in->zp, q->in_map);
		else
			quantize_nhwc(x, in->scale, in->zp, q->in_map);
	}
	if (qn->add) {
		ret = load_residual(q, qn, nb, oh, ow, outb);
		if (ret)
			return ret == 2 ? 2 : nuq_node_fail(n, msg, msglen, ret,
							     "cannot load the residual");
		job.tensors[NUQ_T_RESIDUAL].handle = q->res_bo;
	}
	job.batch = (uint32_t)nb;
	job.in_h = (uint32_t)ih;
	job.in_w = (uint32_t)iw;
	job.out_h = (uint32_t)oh;
	job.out_w = (uint32_t)ow;
	/*
	 * The driver's default timeout suits fast backends; a software
	 * backend in an emulated VM may do as little as 10 MMAC/s.
	 */
	macs = (uint64_t)(nb * oh * ow) * qn->macs_per_pixel;
	job.timeout_ms = (uint32_t)(macs / 10000 > 590000 ? 600000 : 10000 + macs / 10000);
	job.tensors[NUQ_T_INPUT].handle = q->in_bo;
	job.tensors[NUQ_T_OUTPUT].handle = q->out_bo;
	t0 = now();
	ret = nuq_submit(q->dev, &job, 1, &seq, &err);
	if (ret)
		return nuq_node_fail(n, msg, msglen, ret, "job refused: %s",
				     ret == -EINVAL ? nuq_job_error_str(err.code) : "submit failed");
	ret = nuq_wait(q->dev, seq, -1, &status);
	q->st.device_seconds += now() - t0;
	if (ret || status)
		return nuq_node_fail(n, msg, msglen, ret ? ret : status, "job failed (%d)",
				     ret ? ret : status);
	memset(y, 0, sizeof(*y));
	y->dtype = NUQ_DT_FLOAT;
	y->ndims = x->ndims;
	if (qn->fc) {
		memcpy(y->dims, x->dims, sizeof(y->dims));
		y->dims[y->ndims - 1] = job.out_c;
	} else {
		y->dims[0] = nb;
		y->dims[1] = job.out_c;
		y->dims[2] = oh;
		y->dims[3] = ow;
	}
	if (qn->convt)
		return convt_output(q, qn, x, y, oh, ow, msg, msglen);
	y->q = malloc(outb ? outb : 1);
	if (!y->q)
		return -ENOMEM;
	memcpy(y->q, q->out_map, outb);
	y->scale = out->scale;
	y->zp = out->zp;
	q->st.jobs++;
	q->st.macs += macs;
	return 0;
}

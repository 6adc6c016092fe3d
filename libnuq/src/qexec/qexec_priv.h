/* SPDX-License-Identifier: LGPL-2.1-or-later */
#ifndef NUQ_QEXEC_PRIV_H
#define NUQ_QEXEC_PRIV_H

#include <stdint.h>

#include <nuq/device.h>
#include <nuq/qexec.h>

#include "calib.h"
#include "graph/graph_priv.h"

/* An elementwise region after a job, run as a 256-entry table (lut.c). */
struct qlut {
	int src, out;			/* value ids: the job output it reads, its output */
	size_t nodes[16];		/* its nodes, in graph order */
	size_t n;
	uint8_t table[256];		/* src byte -> out byte */
	int ready;			/* built for the current scales */
	int done;			/* this run: the table made the output */
};

/* A ConvTranspose run as one conv job (qconvt.c). */
struct qconvt {
	unsigned int sh, sw;		/* the strides: s_h x s_w phases */
	unsigned int kh, kw;		/* the node's kernel */
	unsigned int mh, mw;		/* each phase's kernel: kernel / stride */
	int64_t o, c;			/* the node's output and input channels */
	int64_t pt, pl;			/* the output's crop: the top and left pads */
};

/* How one node runs under the quantized executor (nuq_node.q). */
struct qnode {
	struct nuq_node *n;
	const struct nuq_qlayer *l;	/* its weights, or NULL */
	int device;			/* 1: an integer job */
	int fc;				/* a MatMul run as a 1x1 conv over its rows */
	int convt;			/* a ConvTranspose run as a conv (ct) */
	struct qconvt ct;
	int head;			/* a graph output follows through fp32 ops: run in fp32 */
	const char *why;		/* a quantized layer in fp32: the reason (static text) */
	int fused_act;			/* this node is an activation fused into its conv */
	struct nuq_node *act;		/* the fused activation of this conv, or NULL */
	/*
	 * A residual Add fused into this conv's job (the core adds the
	 * Add's other input, requantized, before the clamp), or NULL.
	 */
	struct nuq_node *add;
	int res_val;			/* the Add's other input: the job's residual */
	int fused_add;			/* this node is an Add fused into its conv */
	struct qnode *job_of;		/* fused act/Add: the conv whose job does them */
	int ran;			/* this run: the job ran, fused nodes pass its output on */
	struct qlut *lut;		/* a member of this table region, or NULL */
	int lut_owner;			/* the region's first node: it frees the region */
	int in_val, out_val;		/* value ids the job reads and writes */
	float clamp_lo, clamp_hi;	/* the fused activation's range (real values) */
	/* Device conv: one BO with weights | codebook | bias | requant. */
	struct nuq_conv_job job;
	uint32_t bo;
	uint8_t *map;
	uint64_t off_w, off_cb, off_bias, off_rq;
	float *wscale;			/* real value of weight 1, per output channel */
	unsigned int up;		/* codebook entries first move up this many bits */
	unsigned int shift;		/* then lose this many low bits */
	int shared_cb;			/* one codebook for all channels */
	/* Bias correction: the fp32 weights and bias before quantization. */
	const float *orig_w, *orig_b;
	int added_bias;			/* the node had no bias; the executor gave it one */
	uint64_t macs_per_pixel;	/* per output pixel */
};

/*
 * The scale of the BatchNormalization the import folded into @qn's Conv
 * that its quantized weights still lack: 1 when there is none, or when
 * the layer holds it already (NUQ_QLAYER_BN_FOLDED).
 */
static inline float qn_bn_scale(const struct qnode *qn, int64_t oc)
{
	if (!qn->n->folded_bn || (qn->l && qn->l->flags & NUQ_QLAYER_BN_FOLDED))
		return 1.0f;
	return qn->n->bn_s.f[oc];
}

/* The layer row (output channel) of job channel @oc: one per ConvTranspose phase. */
static inline int64_t qn_row(const struct qnode *qn, int64_t oc)
{
	return qn->convt ? oc % qn->ct.o : oc;
}

/* A float weight array the executor replaced, to restore on free. */
struct backup {
	float *dst;
	float *saved;
	size_t n;
};

struct qval {
	int tracked;			/* a device conv reads or writes it */
	struct nuq_act_stats st;
	int want_mean;			/* a quantized conv reads it: bias correction */
	double *csum;			/* per channel sum over the calibration set */
	uint64_t cper;			/* values summed per channel */
	int64_t nch;
	float lo, hi;			/* the calibrated range */
	float scale;
	int32_t zp;
};

struct nuq_qexec {
	struct nuq_graph *g;
	struct nuq_qexec_opts o;
	struct nuq_device *dev;
	struct qnode *qn;
	size_t nqn;
	struct qval *vals;
	struct backup *bk;
	size_t nbk;
	int active;			/* run quantized (0 while calibrating) */
	enum { CALIB_MEANS, CALIB_RANGES } phase;	/* what the observer collects */
	int calibrated;
	struct calib_cb {		/* for the graph's callbacks while calibrating */
		char *msg;
		size_t msglen;
		nuq_progress_fn progress;
		void *ctx;
		size_t inputs, total;
	} cb;
	uint32_t in_bo, out_bo, res_bo;
	uint8_t *in_map, *out_map, *res_map;
	uint64_t in_cap, out_cap, res_cap;
	int residual_ok;		/* the device does NUQ_JOB_F_RESIDUAL */
	struct nuq_qexec_stats st;
};

/* qexec.c: forget ranges, means and corrected biases (before calibrating or loading). */
void nuq_qexec_reset(struct nuq_qexec *q);
/* qexec.c: apply calibrated ranges and means (also after loading them). */
int nuq_qexec_apply(struct nuq_qexec *q);
int nuq_qexec_correct_bias(struct nuq_qexec *q, struct qnode *qn);

/*
 * lut.c: the region after @qn's job (nuq_qlut_find, 0 or -ENOMEM), its
 * table once scales are known, and the graph hook of its members
 * (1 done, 0 run in fp32, <0 error).
 */
int nuq_qlut_find(struct nuq_qexec *q, struct qnode *qn);
int nuq_qlut_build(struct nuq_qexec *q, struct qlut *r, char *msg, size_t msglen);
int nuq_qlut_hook(struct nuq_qexec *q, struct qnode *qn, struct nuq_tensor **in);

/* qconv.c: weights of a device conv, its requantization, and running it. */
int nuq_qconv_setup(struct nuq_qexec *q, struct qnode *qn, char *msg, size_t msglen);
int nuq_qconv_finalize(struct nuq_qexec *q, struct qnode *qn);
/*
 * qconvt.c: whether @n's ConvTranspose has a job form (NULL, @ct filled)
 * or why not; job channel @oc's weights from the layer matrix; and the
 * job's output interleaved into the node's.
 */
const char *nuq_qconvt_plan(const struct nuq_node *n, const struct nuq_qlayer *l,
			    struct qconvt *ct);
void nuq_qconvt_row(const struct qconvt *ct, int64_t oc, const uint8_t *mat, size_t esize,
		    uint8_t *dst);
void nuq_qconvt_shuffle(const struct qconvt *ct, const uint8_t *src, int64_t nb, int64_t jh,
			int64_t jw, uint8_t *dst, int64_t oh, int64_t ow);

/* 0 done, 2 this input cannot run as a job (run the op in fp32), <0 error. */
int nuq_qconv_run(struct nuq_qexec *q, struct qnode *qn, struct nuq_tensor *x,
		  struct nuq_tensor *y, char *msg, size_t msglen);

#endif

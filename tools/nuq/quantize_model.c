// SPDX-License-Identifier: GPL-2.0
/*
 * nuq: quantize every weight of a model, spread over threads; shared by
 * nuq quantize (which writes the result) and nuq eval / nuq run (which
 * execute it).
 *
 * The rate-distortion choice: each layer is quantized in several
 * candidate layouts (a shared codebook with channel scales, or one
 * codebook per channel) and widths, each giving (bytes of its section,
 * metadata included; noise-to-signal ratio - of the layer's output on the
 * calibration inputs when there are some, its weights rounded on them by
 * quantize_gptq.c, else of its weights), and nuq_mixed_precision()
 * picks one per layer that minimises the summed noise-to-signal ratio of
 * the layers within a byte budget.  The budget is in bits per weight,
 * all included: the file header and what the model still reads from its
 * ONNX file (nuq_onnx_kept_bytes) are taken off it first.  With
 * QUANT_RD_AUTO the candidates are the widths b to b+2 for --bits b (7 and
 * 8 for 8; per channel only up to b) and the budget b + 0.5 (at most 8.4,
 * 3.8x smaller than fp32); if even the smallest candidates do not fit (a
 * small model whose metadata alone eats the half bit: the line classifier
 * has 3148 channels and 54 layers for 124072 weights), the budget becomes
 * the smallest plus the half bit.  Letting layers go one bit below --bits
 * there instead met 4.5 bits per weight and cost the classifier 2.1
 * points (nuq eval, 4826 answers); the raised budget loses none.  An
 * explicit budget tries every width 2-8 and is a hard limit.
 *
 * A Conv's BatchNormalization is folded into its weights first
 * (NUQ_QLAYER_BN_FOLDED), so the layer, not the ONNX file, holds it.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <nuq/nuq.h>
#include <nuq/nuqfile.h>

#include "cli.h"

#define MP_MIN_BITS	2
#define MP_MAX_OPTS	15	/* 2..8 bits x 2 layouts, and uniform int8 */
#define RD_AUTO_SLACK	0.5	/* bits per weight over --bits, all included */
#define RD_AUTO_MAX	8.4	/* and 8 bits at least 3.8x smaller than fp32 */

struct cand {
	unsigned int bits;
	enum nuq_granularity gran;
	enum nuq_qmethod method;
};

struct task {
	const struct nuq_onnx_weight *w;
	const float *mat;
	struct nuq_layer_opts opts;
	struct nuq_qlayer layer;
	struct nuq_layer_stats st;
	int ret;
	char msg[256];
};

struct pool {
	struct task *tasks;
	size_t ntasks;
};

static void quantize_task(void *ctx, size_t i)
{
	struct task *t = &((struct pool *)ctx)->tasks[i];

	t->ret = nuq_qlayer_quantize(t->w, t->mat, &t->opts, &t->layer, &t->st, t->msg,
				     sizeof(t->msg));
}

static int is_codebook(enum nuq_qmethod m)
{
	return m != NUQ_Q_ASD && m != NUQ_Q_ASD1 && m != NUQ_Q_CSD;
}

/* The candidate layouts and widths; returns how many. */
static unsigned int candidates(const struct nuq_layer_opts *o, double budget, struct cand *c)
{
	unsigned int lo = MP_MIN_BITS, hi = 8, b, n = 0;

	for (b = 0; b < MP_MAX_OPTS; b++)
		c[b].method = o->q.method;
	if (budget == 0) {
		c[0].bits = o->q.bits;
		c[0].gran = o->gran;
		return 1;
	}
	if (budget == QUANT_RD_AUTO) {
		/*
		 * Never below --bits (one starved layer - the recogniser's
		 * 6625-way output at 3 bits - ruins a model while the summed
		 * error hardly shows it), except at 8 bits, where 7-bit layers
		 * make room for the metadata.
		 */
		lo = o->q.bits < 8 ? o->q.bits : 7;
		hi = o->q.bits + 2 < 8 ? o->q.bits + 2 : 8;
	}
	for (b = lo; b <= hi; b++) {
		c[n].bits = b;
		c[n++].gran = NUQ_GRAN_CHANNEL_SCALED;
		/*
		 * A codebook per channel pays off only on small channels, at
		 * widths up to --bits (beyond, the shared layout one bit wider
		 * is smaller and as good); skipping the rest halves the work.
		 */
		if (budget != QUANT_RD_AUTO || b <= o->q.bits) {
			c[n].bits = b;
			c[n++].gran = NUQ_GRAN_CHANNEL;
		}
	}
	/*
	 * At 8 bits, uniform int8 with a scale per channel (a uniform shared
	 * codebook: the same size) competes with the method's codebook; the
	 * lower error wins.
	 */
	if (hi == 8 && o->q.method != NUQ_Q_UNIFORM_SYM) {
		c[n].bits = 8;
		c[n].gran = NUQ_GRAN_CHANNEL_SCALED;
		c[n++].method = NUQ_Q_UNIFORM_SYM;
	}
	return n;
}

struct rd_opt {
	double err, bytes;
	size_t task;
};

static int cmp_rd_opt(const void *a, const void *b)
{
	const struct rd_opt *x = a, *y = b;

	return (x->bytes > y->bytes) - (x->bytes < y->bytes);
}

/*
 * Pick one candidate per layer within @budget_bytes for the sections
 * (when the smallest candidates need more, within those plus @raise
 * bytes, if @raise > 0); pick[i] is the chosen task of layer i.  Candidates are sorted by size
 * per layer, as nuq_mixed_precision() wants them.
 */
static int choose_layouts(const struct pool *pool, size_t nw, unsigned int nc, const double *gain,
			  const double *onsr, double budget_bytes, double raise, size_t *pick,
			  char *msg, size_t msglen)
{
	struct rd_opt *opt = calloc(nw * nc, sizeof(*opt));
	double *err = calloc(nw * nc, sizeof(*err)), *bytes = calloc(nw * nc, sizeof(*bytes));
	unsigned int *choice = calloc(nw, sizeof(*choice)), k;
	double smallest = 0;
	size_t i;
	int ret = -ENOMEM;

	if (!opt || !err || !bytes || !choice)
		goto out;
	for (i = 0; i < nw; i++) {
		struct rd_opt *o = opt + i * nc;

		for (k = 0; k < nc; k++) {
			const struct task *t = &pool->tasks[k * nw + i];

			/*
			 * noise-to-signal ratio, so small and large layers weigh
			 * alike: of the layer's output when rounded against its
			 * inputs, else of its weights; with measured gains, times
			 * what of it reaches the model's output
			 */
			o[k].err = onsr && !isnan(onsr[k * nw + i]) ? onsr[k * nw + i] :
				   pow(10, -t->st.sqnr_db / 10);
			o[k].err *= gain ? gain[i] : 1;
			o[k].bytes = (double)t->st.bytes;
			o[k].task = k * nw + i;
		}
		qsort(o, nc, sizeof(*o), cmp_rd_opt);
		smallest += o[0].bytes;
		for (k = 0; k < nc; k++) {
			err[i * nc + k] = o[k].err;
			bytes[i * nc + k] = o[k].bytes;
		}
	}
	if (raise > 0 && budget_bytes < smallest)
		budget_bytes = smallest + raise;
	ret = nuq_mixed_precision(nw, nc, err, bytes, budget_bytes, choice);
	if (ret)
		snprintf(msg, msglen, "the budget leaves %.0f bytes for the weights, the smallest layouts need %.0f",
			 budget_bytes, smallest);
	for (i = 0; !ret && i < nw; i++)
		pick[i] = opt[i * nc + choice[i]].task;
out:
	free(opt);
	free(err);
	free(bytes);
	free(choice);
	return ret;
}

/*
 * NUQ_GAINS=1 weighs the choice by measured gains when inputs are given:
 * off by default, since on nuq eval --quick they did not beat the plain
 * sum (Documentation/quantization.rst, "Measured layer gains").
 */
int quant_gains_enabled(void)
{
	const char *e = getenv("NUQ_GAINS");

	return e && strcmp(e, "0");
}

static int use_gains(const struct quant_data *d)
{
	return d && d->n && quant_gains_enabled();
}

/* Each layer's gain (quantize_sens.c), measured on its first candidate (--bits, shared). */
static int measure_gains(const struct quant_data *d, const struct pool *pool, size_t nw,
			 double **gain, char *msg, size_t msglen)
{
	struct nuq_qlayer *l = calloc(nw, sizeof(*l));
	struct nuq_layer_stats *st = calloc(nw, sizeof(*st));
	size_t i;
	int ret = -ENOMEM;

	*gain = calloc(nw, sizeof(**gain));
	if (l && st && *gain) {
		for (i = 0; i < nw; i++) {
			l[i] = pool->tasks[i].layer;	/* borrowed, not freed here */
			st[i] = pool->tasks[i].st;
		}
		ret = layer_gains(d->graph, d, l, st, nw, *gain, msg, msglen);
		for (i = 0; !ret && getenv("NUQ_SHOW_GAINS") && i < nw; i++)
			fprintf(stderr, "gain %-30s %6.2f dB wNSR %.3g -> x%.3g\n", l[i].name,
				st[i].sqnr_db, pow(10, -st[i].sqnr_db / 10), (*gain)[i]);
	}
	free(l);
	free(st);
	if (ret) {
		free(*gain);
		*gain = NULL;
	}
	return ret;
}

/* quantize_gptq() on the pool's candidates; *@onsr gets their output errors. */
static int round_with_data(const struct quant_data *d, const struct nuq_onnx_weight *w,
			   float *const *mats, struct pool *pool, size_t nw, unsigned int nc,
			   unsigned int jobs, int show, double **onsr, char *msg, size_t msglen)
{
	struct quant_cands c = { .w = w, .mats = mats, .nw = nw, .nc = nc };
	size_t i;
	int ret = -ENOMEM;

	c.layer = calloc(pool->ntasks, sizeof(*c.layer));
	c.st = calloc(pool->ntasks, sizeof(*c.st));
	*onsr = calloc(pool->ntasks, sizeof(**onsr));
	c.onsr = *onsr;
	if (c.layer && c.st && c.onsr) {
		for (i = 0; i < pool->ntasks; i++) {
			c.layer[i] = &pool->tasks[i].layer;
			c.st[i] = &pool->tasks[i].st;
		}
		ret = quantize_gptq(d, &c, jobs, show, msg, msglen);
	} else {
		snprintf(msg, msglen, "out of memory");
	}
	free(c.layer);
	free(c.st);
	return ret;
}

/* NUQ_FOLD_BN=0 leaves BatchNormalization in the ONNX file (for comparisons). */
static int fold_enabled(void)
{
	const char *e = getenv("NUQ_FOLD_BN");

	return !e || strcmp(e, "0");
}

/*
 * Fold the BatchNormalization after each Conv into its weights, as the
 * executor's import does, so the layer stores it (NUQ_QLAYER_BN_FOLDED):
 * mats[i] becomes the weights times the per-channel scale and bias[i] the
 * folded bias, from @g (the model's graph; a model nuq cannot run folds
 * nothing).  A Conv without one stores its own bias (NUQ_QLAYER_BIAS,
 * own[i] set): 2 bytes a channel in the file instead of 4 in the ONNX
 * file.  A bias beyond float16 leaves that layer as it was.
 */
static int fold_batchnorms(const struct nuq_graph *g, const struct nuq_onnx_weight *w, size_t nw,
			   float **mats, float **bias, char *own)
{
	const float *s, *b;
	size_t i, r, k, n;

	for (i = 0; g && i < nw; i++) {
		if (w[i].layout != NUQ_LAYOUT_OIHW)
			continue;
		s = NULL;
		if (nuq_graph_folded_bn(g, w[i].name, &s, &b, &n) &&
		    nuq_graph_conv_bias(g, w[i].name, &b, &n))
			continue;
		if (n != w[i].rows || !nuq_folded_bias_fits(b, n))
			continue;
		bias[i] = malloc(n * sizeof(*bias[i]));
		if (!bias[i])
			return -ENOMEM;
		memcpy(bias[i], b, n * sizeof(*b));
		own[i] = !s;
		for (r = 0; s && r < n; r++)
			for (k = 0; k < w[i].cols; k++)
				mats[i][r * w[i].cols + k] *= s[r];
	}
	return 0;
}

/* Quantize every task, each a candidate of a weight, and check them. */
static int run_tasks(struct pool *pool, unsigned int jobs, int show, char *msg, size_t msglen)
{
	size_t i;

	for_each_parallel(pool->ntasks, jobs, show ? "quantize" : NULL, quantize_task, pool);
	for (i = 0; i < pool->ntasks; i++) {
		if (pool->tasks[i].ret) {
			snprintf(msg, msglen, "%s", pool->tasks[i].msg);
			return pool->tasks[i].ret;
		}
	}
	return 0;
}

/* Every candidate of a folded weight stores the folded (or own) bias; its size counts it. */
static int attach_folded_bias(struct pool *pool, size_t nw, float *const *bias, const char *own,
			      char *msg, size_t msglen)
{
	size_t i;
	int ret;

	for (i = 0; i < pool->ntasks; i++) {
		struct task *t = &pool->tasks[i];

		if (!bias[i % nw])
			continue;
		ret = own[i % nw] ? nuq_qlayer_set_bias(&t->layer, bias[i % nw]) :
		      nuq_qlayer_set_folded_bias(&t->layer, bias[i % nw]);
		if (ret) {
			snprintf(msg, msglen, "weight %s: cannot store its bias: %s",
				 t->layer.name, strerror(-ret));
			return ret;
		}
		t->st.bytes = nuq_qlayer_file_bytes(&t->layer);
	}
	return 0;
}

/*
 * What the model still reads from its ONNX file with the layers the pool
 * holds (their names and flags are the same in every candidate), or
 * with @folded 0, as if no layer held its BatchNormalization.
 */
static int kept_bytes(struct nuq_onnx *model, const struct pool *pool, size_t nw, int folded,
		      uint64_t *bytes, char *msg, size_t msglen)
{
	struct nuq_qlayer *names = calloc(nw, sizeof(*names));
	size_t i;
	int ret;

	if (!names) {
		snprintf(msg, msglen, "out of memory");
		return -ENOMEM;
	}
	for (i = 0; i < nw; i++) {
		strcpy(names[i].name, pool->tasks[i].layer.name);
		names[i].flags = folded ? pool->tasks[i].layer.flags : 0;
	}
	ret = nuq_onnx_kept_bytes(model, names, nw, bytes, msg, msglen);
	free(names);
	return ret;
}

/*
 * What folding the BatchNormalizations saved: the kept bytes they no
 * longer cost (@kept is with the fold), less the float16 biases the
 * layers store instead.  The default budget keeps it as a smaller file
 * rather than wider layers: spending it (13 KB on the recogniser) moved
 * the choice - its 240x120 attention layer from 5 bits to 4, three convs
 * wider - and cost 0.56 points (nuq eval, 2800 lines: -0.92 against fp32
 * where the unfolded choice gives -0.36), while the summed error called
 * it better.
 */
static int fold_saving(struct nuq_onnx *model, const struct pool *pool, size_t nw,
		       float *const *bias, uint64_t kept, double *saved, char *msg, size_t msglen)
{
	uint64_t unfolded;
	size_t i;
	int ret = kept_bytes(model, pool, nw, 0, &unfolded, msg, msglen);

	*saved = 0;
	if (ret)
		return ret;
	*saved = (double)unfolded - (double)kept;
	for (i = 0; i < nw; i++)
		if (bias[i])
			*saved -= 2.0 * (double)pool->tasks[i].layer.rows;
	*saved = fmax(*saved, 0);
	return 0;
}

int quantize_model(struct nuq_onnx *model, const struct nuq_layer_opts *o, double budget,
		   unsigned int jobs, int show, struct qmodel *out, char *msg, size_t msglen)
{
	return quantize_model_data(model, o, budget, NULL, jobs, show, out, msg, msglen);
}

int quantize_model_data(struct nuq_onnx *model, const struct nuq_layer_opts *o, double budget,
			const struct quant_data *d, unsigned int jobs, int show, struct qmodel *out,
			char *msg, size_t msglen)
{
	double *gain = NULL, *onsr = NULL;
	const struct nuq_onnx_weight *w;
	struct cand cand[MP_MAX_OPTS];
	unsigned int nc;
	uint64_t kept;
	struct pool pool = { 0 };
	float **mats = NULL, **bias = NULL;
	char *own_bias = NULL;
	double budget_bytes, saved;
	struct nuq_graph *own = NULL, *g;
	size_t nw = 0, i, *pick = NULL;
	int ret;

	memset(out, 0, sizeof(*out));
	ret = nuq_onnx_weights(model, &w, &nw, msg, msglen);
	if (ret)
		return ret;
	if (!nw) {
		snprintf(msg, msglen, "the model has no Conv/Gemm/MatMul weights");
		return -ENOENT;
	}
	ret = -ENOMEM;
	mats = calloc(nw, sizeof(*mats));
	bias = calloc(nw, sizeof(*bias));
	own_bias = calloc(nw + 1, 1);
	pick = calloc(nw, sizeof(*pick));
	out->layers = calloc(nw, sizeof(*out->layers));
	out->stats = calloc(nw, sizeof(*out->stats));
	out->weights_of = calloc(nw, sizeof(*out->weights_of));
	nc = candidates(o, is_codebook(o->q.method) ? budget : 0, cand);
	pool.ntasks = nw * nc;
	pool.tasks = calloc(pool.ntasks, sizeof(*pool.tasks));
	if (!mats || !bias || !own_bias || !pick || !out->layers || !out->stats || !out->weights_of || !pool.tasks) {
		snprintf(msg, msglen, "out of memory");
		goto out;
	}
	out->file_bytes = NUQ_FILE_HEADER_BYTES;
	for (i = 0; i < nw; i++) {
		ret = nuq_onnx_weight_matrix(model, &w[i], &mats[i], msg, msglen);
		if (ret)
			goto out;
		out->weights += w[i].rows * w[i].cols;
		out->weights_of[i] = &w[i];
	}
	/* a model nuq cannot run keeps its BatchNormalization as it is */
	g = d && d->graph ? d->graph : NULL;
	if (!g && fold_enabled() && !nuq_graph_import(model, &own, NULL, 0))
		g = own;
	ret = fold_enabled() ? fold_batchnorms(g, w, nw, mats, bias, own_bias) : 0;
	if (ret) {
		snprintf(msg, msglen, "out of memory");
		goto out;
	}
	for (i = 0; i < pool.ntasks; i++) {
		struct task *t = &pool.tasks[i];

		t->w = &w[i % nw];
		t->mat = mats[i % nw];
		t->opts = *o;
		t->opts.q.bits = cand[i / nw].bits;
		t->opts.gran = cand[i / nw].gran;
		t->opts.q.method = cand[i / nw].method;
	}
	ret = run_tasks(&pool, jobs, show, msg, msglen);
	if (!ret)
		ret = attach_folded_bias(&pool, nw, bias, own_bias, msg, msglen);
	if (ret)
		goto out;
	for (i = 0; i < nw; i++)
		pick[i] = i;
	ret = kept_bytes(model, &pool, nw, 1, &kept, msg, msglen);
	if (ret)
		goto out;
	out->kept_bytes = kept;
	ret = nuq_onnx_kept_bytes(model, NULL, 0, &kept, msg, msglen);
	if (ret)
		goto out;
	out->fp32_bytes = kept;
	budget_bytes = (budget == QUANT_RD_AUTO ? fmin(o->q.bits + RD_AUTO_SLACK, RD_AUTO_MAX) :
			budget) * out->weights / 8 - (double)out->kept_bytes - NUQ_FILE_HEADER_BYTES;
	if (budget == QUANT_RD_AUTO) {
		ret = fold_saving(model, &pool, nw, bias, out->kept_bytes, &saved, msg, msglen);
		if (ret)
			goto out;
		budget_bytes -= saved;
	}
	if (d && d->n && quant_gptq_enabled()) {
		ret = round_with_data(d, w, mats, &pool, nw, nc, jobs, show, &onsr, msg, msglen);
		if (ret)
			goto out;
	}
	if (nc > 1) {
		if (use_gains(d)) {
			ret = measure_gains(d, &pool, nw, &gain, msg, msglen);
			if (ret)
				goto out;
		}
		ret = choose_layouts(&pool, nw, nc, gain, onsr, budget_bytes,
				     budget == QUANT_RD_AUTO ? RD_AUTO_SLACK * out->weights / 8 : 0,
				     pick, msg, msglen);
		if (ret)
			goto out;
	}
	/* Move the chosen layers out; the pool frees the rest. */
	for (i = 0; i < nw; i++) {
		struct task *t = &pool.tasks[pick[i]];

		out->layers[i] = t->layer;
		out->stats[i] = t->st;
		out->file_bytes += t->st.bytes;
		memset(&t->layer, 0, sizeof(t->layer));
	}
	out->n = nw;
	ret = 0;
out:
	for (i = 0; pool.tasks && i < pool.ntasks; i++)
		nuq_qlayer_free(&pool.tasks[i].layer);
	for (i = 0; mats && i < nw; i++)
		free(mats[i]);
	for (i = 0; bias && i < nw; i++)
		free(bias[i]);
	free(bias);
	free(own_bias);
	nuq_graph_free(own);
	free(pool.tasks);
	free(gain);
	free(onsr);
	free(mats);
	free(pick);
	if (ret)
		qmodel_free(out);
	return ret;
}

void qmodel_free(struct qmodel *m)
{
	size_t i;

	for (i = 0; m->layers && i < m->n; i++)
		nuq_qlayer_free(&m->layers[i]);
	free(m->layers);
	free(m->stats);
	free(m->weights_of);
	memset(m, 0, sizeof(*m));
}

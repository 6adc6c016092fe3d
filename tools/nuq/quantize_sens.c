// SPDX-License-Identifier: GPL-2.0
/*
 * nuq: how much each layer's weight error reaches the model's output.
 *
 * The rate-distortion choice sums the layers' weight noise-to-signal
 * ratios, as if every layer passed its noise on unchanged.  They do not:
 * on a recogniser line, the 4-bit conv2d_170 (18.3 dB of weight SQNR)
 * takes the output SQNR from 21.5 dB before it to 10.4 dB after it, while
 * a layer in a residual branch passes on a fraction.  So, when inputs are
 * at hand and NUQ_GAINS=1, each layer is quantized alone (its smallest
 * candidate, all else fp32, fp32 activations) and the output's
 * noise-to-signal ratio over the weights' is that layer's gain; the
 * choice then minimises the summed output noise (sum of gain x weight
 * NSR) - a measured stand-in for the Hessian weighting of HAWQ-style
 * mixed precision.  On nuq eval --quick it helped the classifier and hurt
 * the recogniser (Documentation/quantization.rst), hence opt-in.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <nuq/nuq.h>

#include "cli.h"

/*
 * Probabilities (every value in [0, 1]: softmax, sigmoid) are compared as
 * logarithms: a saturated softmax hides in 0.9999 vs 0.99995 the change of
 * the logits that decides the next input's answer.
 */
static int is_prob(const struct nuq_tensor *t)
{
	size_t n = nuq_tensor_count(t), i;

	for (i = 0; i < n; i++)
		if (!(t->f[i] >= 0 && t->f[i] <= 1))
			return 0;
	return 1;
}

static double value(float v, int logs)
{
	return logs ? log(fmax(v, 1e-30)) : v;
}

/* Sum of squares of @y - @ref and of @ref (shapes must agree). */
static int nsr_terms(const struct nuq_tensor *y, const struct nuq_tensor *ref, double *noise,
		     double *signal)
{
	size_t n = nuq_tensor_count(ref), i;
	int logs;

	if (!y->f || !ref->f || nuq_tensor_count(y) != n)
		return -EINVAL;
	logs = is_prob(ref);
	for (i = 0; i < n; i++) {
		double r = value(ref->f[i], logs), d = value(y->f[i], logs) - r;

		*noise += d * d;
		*signal += r * r;
	}
	return 0;
}

int layer_gains(struct nuq_graph *g, const struct quant_data *d, const struct nuq_qlayer *layers,
		const struct nuq_layer_stats *st, size_t n, double *gain, char *msg, size_t msglen)
{
	struct nuq_qexec_opts qo = {
		.flags = NUQ_QEXEC_CPU | NUQ_QEXEC_WEIGHTS_ONLY | NUQ_QEXEC_NO_BIAS_CORRECTION,
	};
	struct nuq_tensor *ref;
	size_t l, k;
	int ret = 0;

	if (!d->inputs) {
		snprintf(msg, msglen, "NUQ_GAINS takes models with one input");
		return -EOPNOTSUPP;
	}
	ref = calloc(d->n, sizeof(*ref));
	if (!ref)
		return -ENOMEM;
	for (k = 0; !ret && k < d->n; k++)
		ret = nuq_graph_run(g, &d->inputs[k], &ref[k], msg, msglen);
	for (l = 0; !ret && l < n; l++) {
		double noise = 0, signal = 0, wnsr = pow(10, -st[l].sqnr_db / 10);
		struct nuq_qexec *q;

		ret = nuq_qexec_create(g, &layers[l], 1, &qo, &q, msg, msglen);
		if (ret)
			break;
		for (k = 0; !ret && k < d->n; k++) {
			struct nuq_tensor y = { 0 };

			ret = nuq_qexec_run(q, &d->inputs[k], &y, msg, msglen);
			if (!ret)
				ret = nsr_terms(&y, &ref[k], &noise, &signal);
			nuq_tensor_free(&y);
		}
		nuq_qexec_free(q);
		/* a layer without weight error (or output) counts as passing it on */
		gain[l] = wnsr > 0 && signal > 0 ? noise / signal / wnsr : 1;
	}
	for (k = 0; k < d->n; k++)
		nuq_tensor_free(&ref[k]);
	free(ref);
	return ret;
}

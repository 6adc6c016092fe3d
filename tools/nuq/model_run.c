// SPDX-License-Identifier: GPL-2.0
/*
 * nuq run MODEL.onnx: import, quantize (or read the .nuq), calibrate,
 * run both models on the same inputs, compare, report.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <nuq/nuq.h>

#include "cli.h"
#include "model_run.h"

struct loaded {
	struct nuq_onnx *onnx;
	struct nuq_graph *g;
	struct model_feed feed;
	struct qmodel qm;
	struct nuq_file file;
	struct nuq_qexec *q;
	struct nuq_tensor *ref, *out;	/* fp32 and quantized outputs */
	size_t nout;
	double t_import, t_quantize, t_calib, t_fp32, t_quant;
	char *prof_fp32, *prof_quant;	/* the --profile tables, printed last */
	size_t weights, fp32_bytes, bytes, ncalib;
	const char *calib_from;
	/*
	 * The calibration runs (gather_calib()), also what the weights are
	 * rounded on: ncx runs of nfeeds inputs at cfeeds, cx the tensors of a
	 * one-input model's (NULL for several inputs); own (cx_own) or the
	 * run's own input set.
	 */
	struct model_runs runs;
	const struct nuq_graph_feed *cfeeds;
	size_t nfeeds;
	const struct nuq_tensor *cx;
	size_t ncx;
	int cx_own;
	size_t rounded_on;		/* the weights were rounded on this many inputs */
};

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static void free_outputs(struct nuq_tensor *t, size_t n)
{
	size_t i;

	for (i = 0; t && i < n; i++)
		nuq_tensor_free(&t[i]);
}

/* The profile table as a string (freed by the caller), or NULL. */
static char *profile_text(const struct nuq_graph *g)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	if (!f)
		return NULL;
	nuq_graph_profile_print(g, f);
	fclose(f);
	return buf;
}

/*
 * @repeat runs; the last one's outputs stay in @out; the median time in
 * @secs; with --profile the table in @prof.
 */
static int run_timed(struct loaded *l, struct nuq_qexec *q, const struct run_setup *s,
		     struct nuq_tensor *out, double *secs, char **prof, char *msg, size_t msglen)
{
	double *t = calloc(s->repeat, sizeof(*t));
	unsigned int r;
	int ret = 0;

	if (!t)
		return -ENOMEM;
	if (s->profile)
		nuq_graph_set_profile(l->g, 1);
	for (r = 0; r < s->repeat && !ret; r++) {
		double t0 = now_seconds();

		if (r)
			free_outputs(out, l->nout);
		ret = q ? nuq_qexec_run_all(q, l->feed.feeds, l->feed.n, out, msg, msglen) :
			  nuq_graph_run_all(l->g, l->feed.feeds, l->feed.n, out, msg, msglen);
		t[r] = now_seconds() - t0;
	}
	if (s->profile) {
		nuq_graph_set_profile(l->g, 0);
		*prof = profile_text(l->g);
	}
	qsort(t, s->repeat, sizeof(*t), cmp_double);
	*secs = t[s->repeat / 2];
	free(t);
	return ret;
}

static int load_model(struct loaded *l, const struct run_setup *s, int need_inputs, char *msg,
		      size_t msglen)
{
	double t0 = now_seconds();
	int ret;

	ret = nuq_onnx_load(s->model, &l->onnx, msg, msglen);
	if (!ret)
		ret = nuq_graph_import(l->onnx, &l->g, msg, msglen);
	if (ret)
		return ret;
	l->t_import = now_seconds() - t0;
	l->nout = nuq_graph_noutputs(l->g);
	l->ref = calloc(l->nout + 1, sizeof(*l->ref));
	l->out = calloc(l->nout + 1, sizeof(*l->out));
	if (!l->ref || !l->out)
		return -ENOMEM;
	if (!need_inputs)
		return 0;
	if (!s->inputs.n && nuq_graph_ninputs(l->g))
		return nuq_graph_ninputs(l->g) == 1 ?
			(snprintf(msg, msglen, "the model takes input '%s': give it with --input FILE",
				  nuq_graph_input_info(l->g, 0)->name), -EINVAL) :
			(snprintf(msg, msglen, "the model takes %zu inputs: give each with --input NAME=FILE",
				  nuq_graph_ninputs(l->g)), -EINVAL);
	return model_feed_build(l->g, s->inputs.v, s->inputs.n, &s->image, &l->feed, msg, msglen);
}

static int quantize_weights(struct loaded *l, const struct run_setup *s, char *msg,
			    size_t msglen)
{
	const struct nuq_onnx_weight *w;
	const struct nuq_qlayer *layers;
	double t0 = now_seconds();
	uint64_t kept;
	struct stat st;
	size_t nw, n, k;
	int ret;

	ret = nuq_onnx_weights(l->onnx, &w, &nw, msg, msglen);
	if (ret)
		return ret;
	for (k = 0; k < nw; k++)
		l->weights += w[k].rows * w[k].cols;
	if (s->nuq_file) {
		ret = nuq_file_read(s->nuq_file, &l->file, msg, msglen);
		if (ret)
			return ret;
		layers = l->file.layers;
		n = l->file.nlayers;
		l->bytes = stat(s->nuq_file, &st) ? 0 : (size_t)st.st_size;
	} else {
		struct quant_data d = { .graph = l->g, .inputs = l->cx, .n = l->ncx,
					.feeds = l->cfeeds, .nfeeds = l->nfeeds,
					.uncentered = !!(s->qe.flags & (NUQ_QEXEC_WEIGHTS_ONLY |
									NUQ_QEXEC_NO_BIAS_CORRECTION)) };
		struct nuq_layer_opts o = s->opts;
		enum nuq_qmethod m = o.q.method;
		int asd = m == NUQ_Q_ASD || m == NUQ_Q_ASD1 || m == NUQ_Q_CSD;

		/* Shift-and-add weights have no codebook to share: a scale per channel. */
		if (asd)
			o.gran = NUQ_GRAN_CHANNEL;
		ret = quantize_model_data(l->onnx, &o, asd ? 0 : QUANT_RD_AUTO, &d, 2, 1, &l->qm, msg,
					  msglen);
		l->rounded_on = !asd && quant_gptq_enabled() ? d.n : 0;
		if (ret)
			return ret;
		layers = l->qm.layers;
		n = l->qm.n;
		l->bytes = l->qm.file_bytes;
	}
	l->t_quantize = now_seconds() - t0;
	ret = nuq_onnx_kept_bytes(l->onnx, layers, n, &kept, msg, msglen);
	if (ret)
		return ret;
	l->bytes += kept;
	ret = nuq_onnx_kept_bytes(l->onnx, NULL, 0, &kept, msg, msglen);
	if (ret)
		return ret;
	l->fp32_bytes = kept;	/* every parameter, the folded ones too */
	return nuq_qexec_create(l->g, layers, n, &s->qe, &l->q, msg, msglen);
}

static void show_progress(void *ctx, size_t done, size_t total)
{
	struct progress *p = ctx;

	if (done == 1 && !p->total)
		progress_start(p, p->what, total);
	progress_step(p, done);
}

/* M.nuq -> M.calib, if that file exists. */
static int calib_next_to(const char *nuq, char *buf, size_t len)
{
	size_t n = strlen(nuq);

	if (n < 4 || strcmp(nuq + n - 4, ".nuq") || n + 3 > len)
		return 0;
	snprintf(buf, len, "%.*s.calib", (int)(n - 4), nuq);
	return !access(buf, R_OK);
}

/*
 * The calibration inputs: --calib-input files, a --calib-dir, or else the
 * run's own input (said so in the report).  Quantizing the weights rounds
 * them on these too (quantize_gptq.c), so they are read once, first.
 */
static int gather_calib(struct loaded *l, const struct run_setup *s, char *msg, size_t msglen)
{
	int ret;

	if (!s->calib_dir && !s->calib_inputs.n) {
		if (l->feed.n && l->feed.feeds[0].tensor) {
			l->cfeeds = l->feed.feeds;
			l->nfeeds = l->feed.n;
			l->cx = l->feed.n == 1 ? l->feed.feeds[0].tensor : NULL;
			l->ncx = 1;
		}
		return 0;
	}
	l->cx_own = 1;
	ret = load_model_runs(l->g, s->calib_dir, s->calib_inputs.v, s->calib_inputs.n, &s->image,
			      &l->runs, msg, msglen);
	if (ret)
		return ret;
	l->cfeeds = l->runs.feeds;
	l->nfeeds = l->runs.nfeeds;
	l->cx = l->runs.nfeeds == 1 ? l->runs.t : NULL;
	l->ncx = l->runs.n;
	return 0;
}

static void free_calib(struct loaded *l)
{
	model_runs_free(&l->runs);
	l->cfeeds = NULL;
	l->cx = NULL;
	l->ncx = 0;
}

static int calibrate(struct loaded *l, const struct run_setup *s, char *msg, size_t msglen)
{
	struct progress pr = { .what = "calibrate" };
	static char next_to[1024];
	double t0 = now_seconds();
	int ret;

	if (s->qe.flags & NUQ_QEXEC_WEIGHTS_ONLY)
		return 0;
	if (s->calib_file || (s->nuq_file && !s->recalibrate &&
			      calib_next_to(s->nuq_file, next_to, sizeof(next_to)))) {
		l->calib_from = s->calib_file ? s->calib_file : next_to;
		return nuq_qexec_load_calibration(l->q, l->calib_from, msg, msglen);
	}
	if (!l->ncx) {
		snprintf(msg, msglen, "no calibration inputs: give --calib-input FILE or --calib-dir DIR");
		return -EINVAL;
	}
	l->calib_from = !l->cx_own ? NULL : s->calib_dir ? s->calib_dir : "--calib-input";
	ret = nuq_qexec_calibrate_feeds(l->q, l->cfeeds, l->nfeeds, l->ncx,
					l->cx_own ? show_progress : NULL, &pr, msg, msglen);
	if (pr.total)
		progress_end(&pr);
	l->ncalib = l->ncx;
	l->t_calib = now_seconds() - t0;
	return ret;
}

static void report_setup(const struct loaded *l, const struct run_setup *s)
{
	size_t i;

	printf("%s: %zu input%s, %zu output%s, %zu nodes\n", s->model, l->feed.n,
	       l->feed.n == 1 ? "" : "s", l->nout, l->nout == 1 ? "" : "s",
	       nuq_graph_nnodes(l->g));
	for (i = 0; i < l->feed.n; i++) {
		printf("  input '%s' ", l->feed.feeds[i].name);
		print_shape(stdout, &l->feed.t[i]);
		printf("  from %s\n", i < 8 ? l->feed.desc[i] : "");
	}
	if (s->fp32_only)
		return;
	if (s->nuq_file)
		printf("weights from %s", s->nuq_file);
	else if (s->opts.q.method == NUQ_Q_ASD || s->opts.q.method == NUQ_Q_ASD1 ||
		 s->opts.q.method == NUQ_Q_CSD)
		printf("weights %s (signed power-of-two digits), a scale per channel",
		       nuq_qmethod_name(s->opts.q.method));
	else if (l->rounded_on)
		printf("weights %s %u-bit, layout chosen per layer, rounded on %zu input%s",
		       nuq_qmethod_name(s->opts.q.method), s->opts.q.bits, l->rounded_on,
		       l->rounded_on == 1 ? "" : "s");
	else
		printf("weights %s %u-bit, layout chosen per layer, each to its nearest level",
		       nuq_qmethod_name(s->opts.q.method), s->opts.q.bits);
	printf(": %.2f MB -> %.2f MB (%.2fx smaller, %.2f bits per weight, all included)\n",
	       l->fp32_bytes / 1e6, l->bytes / 1e6, l->bytes ? (double)l->fp32_bytes / l->bytes : 0,
	       bits_per_weight(l->bytes, 0, l->weights));
	if (s->qe.flags & NUQ_QEXEC_WEIGHTS_ONLY)
		printf("activations fp32 (--weights-only)\n");
	else if (s->calib_file || (s->nuq_file && l->calib_from && !l->ncalib))
		printf("activations: ranges from %s\n", l->calib_from);
	else if (l->calib_from)
		printf("activations %s-calibrated on %zu input%s (%s)\n", nuq_calib_name(s->qe.calib),
		       l->ncalib, l->ncalib == 1 ? "" : "s", l->calib_from);
	else
		printf("activations %s-calibrated on the input itself (--calib-input or --calib-dir\n"
		       "  calibrate on other data, as a deployed model would be)\n",
		       nuq_calib_name(s->qe.calib));
}

/* --per-layer-error: which layer hurts, in graph order. */
static int report_layer_errors(struct loaded *l, char *msg, size_t msglen)
{
	struct nuq_qexec_layer_error *e;
	size_t n, i;
	int ret;

	ret = nuq_qexec_layer_errors(l->q, l->feed.feeds, l->feed.n, &e, &n, msg, msglen);
	if (ret)
		return ret;
	printf("per-layer SQNR against fp32 (each layer's output, with every error before it):\n");
	printf("  %5s  %-40s %-12s %-9s %9s\n", "node", "name", "op", "runs as", "SQNR dB");
	for (i = 0; i < n; i++) {
		const char *name = e[i].name && *e[i].name ? e[i].name : "(unnamed)";
		size_t len = strlen(name);

		/* Exported names share long prefixes: the end tells layers apart. */
		printf("  %5zu  %s%-*s %-12s %-9s %9.2f\n", e[i].node, len > 40 ? "..." : "",
		       len > 40 ? 37 : 40, len > 40 ? name + len - 37 : name, e[i].op,
		       e[i].device ? "job" : e[i].head ? "fp32 head" : "fp32", e[i].sqnr_db);
	}
	free(e);
	return 0;
}

/* The quantized layers that stayed in fp32, and why (at most a screenful). */
static void report_fp32_layers(const struct loaded *l)
{
	size_t n = nuq_qexec_layers(l->q, NULL, 0), i, shown = 0;
	struct nuq_qexec_layer *e = calloc(n + 1, sizeof(*e));

	if (!e)
		return;
	nuq_qexec_layers(l->q, e, n);
	for (i = 0; i < n; i++) {
		size_t len = strlen(e[i].name);

		if (e[i].device)
			continue;
		if (shown++ == 12) {
			printf("  ... and more in fp32 (--per-layer-error lists every layer)\n");
			break;
		}
		printf("  in fp32: %s%s (%s): %s\n", len > 40 ? "..." : "",
		       len > 40 ? e[i].name + len - 37 : e[i].name, e[i].op, e[i].why);
	}
	free(e);
}

static void report_run(const struct loaded *l, const struct run_setup *s)
{
	struct nuq_qexec_stats st;
	char def[64];
	size_t i;

	if (!s->fp32_only) {
		nuq_qexec_stats(l->q, &st);
		printf("layers: %u as integer jobs on %s, %u in fp32 with quantized weights",
		       st.device_layers,
		       st.on_kernel_device ? (s->qe.device ? s->qe.device :
					      nuq_device_default(def, sizeof(def))) :
					     "libnuq's CPU core",
		       st.fp32_layers);
		if (st.head_layers)
			printf(" (%u of them heads, whose outputs keep full precision)",
			       st.head_layers);
		printf(", %u activation%s and %u residual Add%s fused, %u elementwise region%s as tables\n",
		       st.fused_acts, st.fused_acts == 1 ? "" : "s", st.fused_adds,
		       st.fused_adds == 1 ? "" : "s", st.fused_tables, st.fused_tables == 1 ? "" : "s");
	}
	if (!s->fp32_only)
		report_fp32_layers(l);
	printf("time: import %.2f s", l->t_import);
	if (!s->fp32_only)
		printf(", quantize %.2f s, calibrate %.2f s", l->t_quantize, l->t_calib);
	if (!s->no_fp32)
		printf(", fp32 run %.1f ms", l->t_fp32 * 1e3);
	if (!s->fp32_only)
		printf(", quantized run %.1f ms", l->t_quant * 1e3);
	printf("%s\n", s->repeat > 1 ? " (median of the runs)" : "");
	printf(s->fp32_only || s->no_fp32 ? "outputs:\n" : "outputs, quantized against fp32:\n");
	for (i = 0; i < l->nout; i++) {
		const char *name = nuq_graph_output_info(l->g, i)->name;

		if (s->fp32_only || s->no_fp32) {
			printf("  %-24s ", name);
			print_shape(stdout, s->fp32_only ? &l->ref[i] : &l->out[i]);
			printf("\n");
		} else {
			compare_output(stdout, name, &l->ref[i], &l->out[i]);
		}
	}
}

static int save_all(const struct loaded *l, const struct run_setup *s, char *msg, size_t msglen)
{
	size_t i;
	int ret = 0;

	for (i = 0; i < l->nout && !ret; i++) {
		const char *name = nuq_graph_output_info(l->g, i)->name;

		if (!s->no_fp32)
			ret = save_output(s->save_dir, name, "", &l->ref[i], msg, msglen);
		if (!ret && !s->fp32_only)
			ret = save_output(s->save_dir, name, ".nuq", &l->out[i], msg, msglen);
	}
	if (!ret)
		printf("outputs saved in %s as NAME.npy (fp32) and NAME.nuq.npy (quantized)\n",
		       s->save_dir);
	return ret;
}

static void loaded_free(struct loaded *l)
{
	free_outputs(l->ref, l->nout);
	free_outputs(l->out, l->nout);
	free(l->ref);
	free(l->out);
	free(l->prof_fp32);
	free(l->prof_quant);
	nuq_qexec_free(l->q);
	qmodel_free(&l->qm);
	nuq_file_free(&l->file);
	free_calib(l);
	model_feed_free(&l->feed);
	nuq_graph_free(l->g);
	nuq_onnx_free(l->onnx);
}

int model_run(const struct run_setup *s)
{
	struct loaded l = { 0 };
	char msg[1024] = "";
	int ret;

	ret = load_model(&l, s, 1, msg, sizeof(msg));
	if (!ret && !s->no_fp32) {
		ret = run_timed(&l, NULL, s, l.ref, &l.t_fp32, &l.prof_fp32, msg, sizeof(msg));
	}
	if (!ret && !s->fp32_only) {
		ret = gather_calib(&l, s, msg, sizeof(msg));
		if (!ret)
			ret = quantize_weights(&l, s, msg, sizeof(msg));
		if (!ret)
			ret = calibrate(&l, s, msg, sizeof(msg));
		if (!ret)
			ret = run_timed(&l, l.q, s, l.out, &l.t_quant, &l.prof_quant, msg,
					sizeof(msg));
	}
	if (!ret) {
		report_setup(&l, s);
		report_run(&l, s);
		if (s->save_dir)
			ret = save_all(&l, s, msg, sizeof(msg));
		if (!ret && s->layer_errors && !s->fp32_only)
			ret = report_layer_errors(&l, msg, sizeof(msg));
		if (l.prof_fp32)
			printf("profile of the fp32 run%s:\n%s", s->repeat > 1 ? "s" : "", l.prof_fp32);
		if (l.prof_quant)
			printf("profile of the quantized run%s:\n%s", s->repeat > 1 ? "s" : "",
			       l.prof_quant);
	}
	if (ret)
		fprintf(stderr, "nuq run: %s\n", msg[0] ? msg : strerror(-ret));
	loaded_free(&l);
	return ret ? 1 : 0;
}

int model_calibrate(const struct run_setup *s, const char *out)
{
	struct loaded l = { 0 };
	char msg[1024] = "";
	int ret;

	ret = load_model(&l, s, 0, msg, sizeof(msg));
	if (!ret)
		ret = gather_calib(&l, s, msg, sizeof(msg));
	if (!ret)
		ret = quantize_weights(&l, s, msg, sizeof(msg));
	if (!ret)
		ret = calibrate(&l, s, msg, sizeof(msg));
	if (!ret)
		ret = nuq_qexec_save_calibration(l.q, out, msg, sizeof(msg));
	if (ret)
		fprintf(stderr, "nuq calibrate: %s\n", msg[0] ? msg : strerror(-ret));
	else
		printf("wrote %s (%s, %zu input%s from %s, %.1f s)\n", out,
		       nuq_calib_name(s->qe.calib), l.ncalib, l.ncalib == 1 ? "" : "s", l.calib_from,
		       l.t_calib);
	loaded_free(&l);
	return ret ? 1 : 0;
}

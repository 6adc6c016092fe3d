// SPDX-License-Identifier: GPL-2.0
/*
 * nuq eval: what accuracy each quantization method keeps on real text.
 *
 * Data (see data/README.rst): text lines rendered with FreeType (ground
 * truth by construction; 2800 by default, --quick the first 60 of them),
 * the lines of a real scanned page from opencv-doc with their
 * transcription, the same lines rotated by 180 degrees for the
 * classifier, and for the detector the scanned page, a skewed scan and
 * rendered pages, scored against the fp32 model's boxes.  Each accuracy
 * comes with a 95% interval over lines and the paired difference against
 * fp32 with its own (eval_report.c).
 *
 * Every configuration quantizes the three models, calibrates their
 * activations on a separate rendered set and runs them on the quantized
 * executor (libnuq's CPU core unless --device is given), several
 * configurations at a time on separate threads.  The result is a
 * markdown table, a data file and a gnuplot PNG of accuracy vs bits.
 */
#include <errno.h>
#include <getopt.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <nuq/nuq.h>

#include "dataset.h"
#include "eval.h"
#include "quantized.h"

#define MAX_TEXT	1024

static void usage(FILE *f)
{
	fprintf(f,
		"usage: nuq eval [options]\n"
		"  Accuracy of the OCR models under every quantization method.\n"
		"      --models DIR      the PaddleOCR ONNX models (default $NUQ_MODELS_DIR)\n"
		"      --scan-truth F    transcription of the scanned page (default data/imageTextN.txt)\n"
		"      --lines N         rendered text lines to score (default 2800, --quick 60)\n"
		"      --seed N          another draw of the rendered lines (default 0xe7a1)\n"
		"      --quick           fp32, uniform 8/4 bits, knq 4/3, kde 4, opt 3\n"
		"      --only LIST       just these configurations (and fp32), comma-separated\n"
		"                        names as in the table, e.g. --only 'knq 3,opt 3'\n"
		"      --no-bias-correction  keep the biases as quantization left them\n"
		"      --calib C         activation ranges (default percentile)\n"
		"      --weights-only    fp32 activations: the weights' share of the loss\n"
		"      --calib-lines N   rendered lines to calibrate on (default 48)\n"
		"  -o, --out DIR         write eval.md, eval.dat and eval.png there (default .)\n"
		"      --device PATH     run the jobs on a nuq device (default: libnuq's CPU core)\n"
		"  -j, --jobs N          configurations evaluated at once (default: CPUs)\n"
		"      --list-lines      print the text of the calibration and evaluation lines\n"
		"                        (\"calib\" or \"eval\", a tab, the text) and exit\n"
		"      --save-lines DIR  write the rendered evaluation lines as DIR/NNNN.png with\n"
		"                        DIR/lines.txt and exit\n");
}

static void add_cfg(struct eval *e, const char *name, int fp32, enum nuq_qmethod m,
		    unsigned int bits, double budget)
{
	struct config *c = &e->cfg[e->ncfg++];

	snprintf(c->name, sizeof(c->name), "%s", name);
	c->fp32 = fp32;
	c->method = m;
	c->bits = bits;
	c->budget = budget;
}

/* Method @m at @bits per weight, named as in the table ("knq 4"). */
static void add_method(struct eval *e, enum nuq_qmethod m, unsigned int bits)
{
	char name[48];

	snprintf(name, sizeof(name), "%s %u", nuq_qmethod_name(m), bits);
	add_cfg(e, name, 0, m, bits, 0);
}

static void build_configs(struct eval *e, int quick)
{
	static const enum nuq_qmethod full[] = { NUQ_Q_DBC, NUQ_Q_ENQ, NUQ_Q_KNQ, NUQ_Q_KDE,
						 NUQ_Q_OPT, NUQ_Q_MINIFLOAT };
	/* --quick: the methods and bits the targets in the README are about. */
	static const struct { enum nuq_qmethod m; unsigned int bits; } fast[] = {
		{ NUQ_Q_KNQ, 4 }, { NUQ_Q_KNQ, 3 }, { NUQ_Q_KDE, 4 }, { NUQ_Q_OPT, 3 },
	};
	static const unsigned int full_bits[] = { 8, 4, 3, 2 };
	size_t i, j;

	add_cfg(e, "fp32", 1, NUQ_Q_KNQ, 32, 0);
	add_cfg(e, "uniform min-max 8", 0, NUQ_Q_UNIFORM_SYM, 8, 0);
	add_cfg(e, "uniform min-max 4", 0, NUQ_Q_UNIFORM_SYM, 4, 0);
	if (quick) {
		for (i = 0; i < sizeof(fast) / sizeof(fast[0]); i++)
			add_method(e, fast[i].m, fast[i].bits);
		return;
	}
	add_cfg(e, "uniform min-max 3", 0, NUQ_Q_UNIFORM_SYM, 3, 0);
	for (i = 0; i < sizeof(full) / sizeof(full[0]); i++)
		for (j = 0; j < sizeof(full_bits) / sizeof(full_bits[0]); j++)
			add_method(e, full[i], full_bits[j]);
	add_cfg(e, "asd (2 digits)", 0, NUQ_Q_ASD, 0, 0);
	add_cfg(e, "csd (2 digits)", 0, NUQ_Q_CSD, 0, 0);
	add_cfg(e, "asd1 (1 digit)", 0, NUQ_Q_ASD1, 0, 0);
	/*
	 * No --budget-bits row: the budget now counts every byte, and the
	 * classifier's fp32 leftovers alone take 2.5 bits per weight, so any
	 * budget low enough to be interesting is refused for it (the default
	 * already chooses layout and width per layer).
	 */
}

/*
 * Keep fp32 (the detector's reference) and the configurations named in
 * @list; a name that matches nothing is an error, not an empty table.
 */
static int filter_configs(struct eval *e, const char *list, char *msg, size_t msglen)
{
	char buf[512], *tok, *save;
	unsigned char keep[MAX_CONFIGS] = { 1 };
	size_t i, n = 0;

	snprintf(buf, sizeof(buf), "%s", list);
	for (tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		for (i = 0; i < e->ncfg; i++)
			if (!strcmp(e->cfg[i].name, tok))
				break;
		if (i == e->ncfg) {
			snprintf(msg, msglen, "--only: no configuration named '%s' (see the table "
				 "of a full run for the names)", tok);
			return -EINVAL;
		}
		keep[i] = 1;
	}
	for (i = 0; i < e->ncfg; i++)
		if (keep[i])
			e->cfg[n++] = e->cfg[i];
	e->ncfg = n;
	return 0;
}

/* CPU time of the calling thread: a configuration runs on one, whatever the load. */
static double thread_cpu_seconds(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static int score(struct eval *e, struct ocr_models *m, struct config *c)
{
	size_t i, exact = 0, scan_edits = 0, scan_chars = 0;
	double f1 = 0;
	char text[MAX_TEXT];
	int ret, r;

	c->edits = calloc(e->lines.n + 1, sizeof(*c->edits));
	c->cls_ok = calloc(e->lines.n + 1, sizeof(*c->cls_ok));
	if (!c->edits || !c->cls_ok)
		return -ENOMEM;
	for (i = 0; i < e->lines.n; i++) {
		const struct sample *s = &e->lines.s[i];
		struct nuq_image flipped;
		size_t d;

		ret = ocr_recognize(m, &s->im, text, sizeof(text), c->msg, sizeof(c->msg));
		if (ret)
			return ret;
		d = nuq_edit_distance(s->text, text);
		c->edits[i] = (double)d;
		/* What fp32 read, for eval-lines.tsv. */
		if (c->fp32 && !(e->fp32_read[i] = strdup(text)))
			return -ENOMEM;
		exact += d == 0;
		if (i >= e->nrendered) {
			scan_edits += d;
			scan_chars += nuq_utf8_len(s->text);
		}
		/* The classifier: upright must read 0, upside down 180. */
		r = ocr_is_rotated(m, &s->im, 0.5f, c->msg, sizeof(c->msg));
		if (r < 0)
			return r;
		c->cls_ok[i] += r == 0;
		ret = nuq_image_crop(&s->im, 0, 0, s->im.w, s->im.h, &flipped);
		if (ret)
			return ret;
		nuq_image_rotate180(&flipped);
		r = ocr_is_rotated(m, &flipped, 0.5f, c->msg, sizeof(c->msg));
		nuq_image_free(&flipped);
		if (r < 0)
			return r;
		c->cls_ok[i] += r == 1;
	}
	c->det_cpu_seconds = thread_cpu_seconds();
	for (i = 0; i < e->npages; i++) {
		struct nuq_box *b;
		size_t nb;

		ret = ocr_detect(m, &e->pages[i], &b, &nb, c->msg, sizeof(c->msg));
		if (ret)
			return ret;
		if (c->fp32) {
			e->ref_boxes[i] = b;
			e->nref[i] = nb;
		} else {
			f1 += nuq_box_f1(e->ref_boxes[i], e->nref[i], b, nb, 0.5);
			free(b);
		}
	}
	c->det_cpu_seconds = thread_cpu_seconds() - c->det_cpu_seconds;
	c->rec_line = 100.0 * exact / (e->lines.n ? e->lines.n : 1);
	c->rec_char_scan = 100.0 * (1.0 - (double)scan_edits / (scan_chars ? scan_chars : 1));
	c->det_f1 = c->fp32 ? 100.0 : 100.0 * f1 / (e->npages ? e->npages : 1);
	ret = eval_intervals(e, c);
	if (ret)
		snprintf(c->msg, sizeof(c->msg), "confidence intervals: %s", strerror(-ret));
	return ret;
}

/* Every weight the models have (what "bits per weight" divides by). */
static size_t count_weights(struct ocr_models *m)
{
	const struct nuq_onnx_weight *w;
	size_t nw, k, n = 0;
	int i;

	for (i = 0; i < M_COUNT && !nuq_onnx_weights(m->onnx[i], &w, &nw, NULL, 0); i++)
		for (k = 0; k < nw; k++)
			n += w[k].rows * w[k].cols;
	return n;
}

static void eval_config(struct eval *e, struct ocr_models *m, struct config *c)
{
	/* The layout nuq quantize and nuq run default to (cli.h), at this method and width. */
	struct quant_setup s = {
		.opts = NUQ_DEFAULT_LAYER_OPTS,
		/* 0: the rate-distortion choice nuq quantize makes by default */
		.budget = c->budget ? c->budget : QUANT_RD_AUTO, .qe = e->qe,
		.calib_lines = e->calib_lines, .calib_pages = 2,
		.jobs = 1,
	};
	struct quantized qz;
	double t0 = now_seconds(), c0 = thread_cpu_seconds();
	int i;

	s.opts.q.method = c->method;
	s.opts.q.bits = c->bits ? c->bits : NUQ_DEFAULT_BITS;
	c->weights = count_weights(m);
	if (c->fp32) {
		c->bytes = c->fp32_bytes = 4 * c->weights;
		c->ret = score(e, m, c);
		c->seconds = now_seconds() - t0;
		c->cpu_seconds = thread_cpu_seconds() - c0;
		return;
	}
	c->ret = quantized_setup(m, &s, &qz, c->msg, sizeof(c->msg));
	if (c->ret)
		return;
	c->setup_seconds = now_seconds() - t0;
	c->setup_cpu_seconds = thread_cpu_seconds() - c0;
	c->ret = score(e, m, c);
	for (i = 0; i < M_COUNT; i++) {
		struct nuq_qexec_stats st;

		nuq_qexec_stats(m->q[i], &st);
		c->device_layers += st.device_layers;
		c->fp32_layers += st.fp32_layers;
		/*
		 * The size as quantized_setup() counts it (quantize_model()'s
		 * .nuq bytes, plus what stays in the ONNX file once
		 * quantized.c adds it): "bits/weight (all)" is 8 * bytes / weights.
		 */
		c->bytes += qz.bytes[i];
		c->fp32_bytes += qz.fp32_bytes[i];
	}
	quantized_free(m, &qz);
	c->seconds = now_seconds() - t0;
	c->cpu_seconds = thread_cpu_seconds() - c0;
}

struct worker_arg {
	struct eval *e;
	int ret;
	char msg[256];
};

static void *worker(void *arg)
{
	struct worker_arg *w = arg;
	struct eval *e = w->e;
	struct ocr_models m;
	size_t i;

	w->ret = ocr_models_load(e->models, &m, w->msg, sizeof(w->msg));
	if (w->ret) {
		/* Let the others finish the work. */
		return NULL;
	}
	while ((i = atomic_fetch_add(&e->next, 1)) < e->ncfg) {
		eval_config(e, &m, &e->cfg[i]);
		atomic_fetch_add(&e->done, 1);
	}
	ocr_models_free(&m);
	return NULL;
}

static int load_data(struct eval *e, const char *truth, size_t nlines, uint64_t seed, char *msg,
		     size_t msglen)
{
	struct ocr_models m;
	struct dataset scan;
	size_t k;
	int ret, i;

	ret = ocr_models_load(e->models, &m, msg, msglen);
	if (ret)
		return ret;
	ret = dataset_lines(DATASET_EVAL, nlines, seed, &m.dict, &e->lines, msg, msglen);
	if (!ret)
		ret = dataset_scanned_lines(NUQ_SCAN_PAGE, truth, &scan, msg, msglen);
	if (!ret) {
		struct sample *all = realloc(e->lines.s, (e->lines.n + scan.n) * sizeof(*all));

		if (!all) {
			dataset_free(&scan);
			ret = -ENOMEM;
		} else {
			e->lines.s = all;
			memcpy(all + e->lines.n, scan.s, scan.n * sizeof(*all));
			e->nrendered = e->lines.n;
			e->lines.n += scan.n;
			free(scan.s);
		}
	}
	e->chars = ret ? NULL : calloc(e->lines.n + 1, sizeof(*e->chars));
	e->fp32_read = ret ? NULL : calloc(e->lines.n + 1, sizeof(*e->fp32_read));
	if (!ret && (!e->chars || !e->fp32_read))
		ret = -ENOMEM;
	for (k = 0; !ret && k < e->lines.n; k++)
		e->chars[k] = (double)nuq_utf8_len(e->lines.s[k].text);
	if (!ret)
		ret = nuq_image_load_png(NUQ_SCAN_PAGE, &e->pages[e->npages++], msg, msglen);
	if (!ret)
		ret = nuq_image_load_png(NUQ_SKEW_PAGE, &e->pages[e->npages++], msg, msglen);
	for (i = 0; !ret && i < 2; i++)
		ret = dataset_page(DATASET_EVAL, 6, seed + 1 + i, &m.dict, &e->pages[e->npages++],
				   msg, msglen);
	ocr_models_free(&m);
	return ret;
}

/* The recogniser's dictionary alone: what the data sets need of the models. */
static int load_dict(const char *models, struct nuq_ctc_dict *d, char *msg, size_t msglen)
{
	char path[1024];

	if (!models)
		models = getenv("NUQ_MODELS_DIR");
	if (!models) {
		snprintf(msg, msglen, "no model directory: pass --models DIR or set NUQ_MODELS_DIR");
		return -ENOENT;
	}
	snprintf(path, sizeof(path), "%s/ppocr_keys_v1.txt", models);
	return nuq_ctc_dict_load(path, d, msg, msglen);
}

/* --list-lines: the texts of both sets, so that anyone can check they never meet. */
static int list_lines(const char *models, size_t nlines, uint64_t seed, size_t calib_lines)
{
	struct nuq_ctc_dict d;
	char msg[512], **t;
	size_t i, n = nlines > calib_lines ? nlines : calib_lines;
	int ret;

	ret = load_dict(models, &d, msg, sizeof(msg));
	if (ret) {
		fprintf(stderr, "nuq eval: %s\n", msg);
		return 1;
	}
	t = calloc(n + 1, sizeof(*t));
	ret = t ? dataset_texts(DATASET_CALIB, calib_lines, DATASET_CALIB_SEED, &d, t, msg,
				sizeof(msg)) : -ENOMEM;
	for (i = 0; !ret && i < calib_lines; i++) {
		printf("calib\t%s\n", t[i]);
		free(t[i]);
	}
	if (!ret)
		ret = dataset_texts(DATASET_EVAL, nlines, seed, &d, t, msg, sizeof(msg));
	for (i = 0; !ret && i < nlines; i++) {
		printf("eval\t%s\n", t[i]);
		free(t[i]);
	}
	if (ret)
		fprintf(stderr, "nuq eval: %s\n", ret == -ENOMEM ? strerror(ENOMEM) : msg);
	free(t);
	nuq_ctc_dict_free(&d);
	return ret ? 1 : 0;
}

/* --save-lines DIR: the rendered evaluation lines as PNGs, to look at. */
static int save_lines(const char *models, const char *dir, size_t nlines, uint64_t seed)
{
	struct nuq_ctc_dict d;
	struct dataset ds = { 0 };
	char msg[512], path[1200];
	FILE *f = NULL;
	size_t i;
	int ret;

	ret = load_dict(models, &d, msg, sizeof(msg));
	if (ret) {
		fprintf(stderr, "nuq eval: %s\n", msg);
		return 1;
	}
	ret = dataset_lines(DATASET_EVAL, nlines, seed, &d, &ds, msg, sizeof(msg));
	nuq_ctc_dict_free(&d);
	if (ret) {
		fprintf(stderr, "nuq eval: %s\n", msg);
		return 1;
	}
	mkdir(dir, 0755);
	snprintf(path, sizeof(path), "%s/lines.txt", dir);
	f = fopen(path, "w");
	for (i = 0; f && i < ds.n; i++) {
		fprintf(f, "%04zu.png\t%s\n", i, ds.s[i].text);
		snprintf(path, sizeof(path), "%s/%04zu.png", dir, i);
		if (nuq_image_save_png(path, &ds.s[i].im))
			break;
	}
	if (!f || i < ds.n) {
		fprintf(stderr, "nuq eval: cannot write %s: %s\n", path, strerror(errno));
		ret = 1;
	}
	if (f)
		fclose(f);
	dataset_free(&ds);
	return ret ? 1 : 0;
}

int cmd_eval(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "models", required_argument, NULL, 'M' },
		{ "scan-truth", required_argument, NULL, 'T' },
		{ "lines", required_argument, NULL, 'n' },
		{ "quick", no_argument, NULL, 'Q' },
		{ "only", required_argument, NULL, 'O' },
		{ "calib", required_argument, NULL, 'c' },
		{ "weights-only", no_argument, NULL, 'W' },
		{ "calib-lines", required_argument, NULL, 'l' },
		{ "out", required_argument, NULL, 'o' },
		{ "device", required_argument, NULL, 'd' },
		{ "jobs", required_argument, NULL, 'j' },
		{ "no-bias-correction", no_argument, NULL, 'X' },
		{ "seed", required_argument, NULL, 'S' },
		{ "list-lines", no_argument, NULL, 'L' },
		{ "save-lines", required_argument, NULL, 'D' },
		{ "help", no_argument, NULL, 'h' },
		{}
	};
	const char *truth = "data/imageTextN.txt", *out = ".", *only = NULL, *save = NULL;
	long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
	unsigned int jobs = ncpu > 0 ? (unsigned int)ncpu : 1, t, started = 0;
	struct worker_arg wa[16];
	pthread_t th[16];
	struct progress pr;
	struct eval *e;
	unsigned long v;
	size_t nlines = 0, i;
	uint64_t seed = DATASET_EVAL_SEED;
	int c, quick = 0, list = 0, ret = 1;
	char msg[512];

	e = calloc(1, sizeof(*e));
	if (!e)
		return 1;
	e->qe.flags = NUQ_QEXEC_CPU;
	e->calib_lines = 48;
	e->qe.calib = NUQ_CALIB_PERCENTILE;
	optind = 1;
	while ((c = getopt_long(argc, argv, "o:j:h", longopts, NULL)) != -1) {
		switch (c) {
		case 'M':
			e->models = optarg;
			break;
		case 'T':
			truth = optarg;
			break;
		case 'n':
			if (opt_count("eval", "lines", optarg, 10000, &v)) {
				ret = 2;
				goto out;
			}
			nlines = v;
			break;
		case 'Q':
			quick = 1;
			break;
		case 'O':
			only = optarg;
			break;
		case 'c':
			if (opt_calib("eval", optarg, &e->qe.calib)) {
				ret = 2;
				goto out;
			}
			break;
		case 'W':
			e->qe.flags |= NUQ_QEXEC_WEIGHTS_ONLY;
			break;
		case 'l':
			if (opt_count("eval", "calib-lines", optarg, 10000, &v)) {
				ret = 2;
				goto out;
			}
			e->calib_lines = v;
			break;
		case 'o':
			out = optarg;
			break;
		case 'd':
			e->qe.device = optarg;
			e->qe.flags &= ~NUQ_QEXEC_CPU;
			break;
		case 'j':
			if (opt_count("eval", "jobs", optarg, 16, &v)) {
				ret = 2;
				goto out;
			}
			jobs = (unsigned int)v;
			break;
		case 'X':
			e->qe.flags |= NUQ_QEXEC_NO_BIAS_CORRECTION;
			break;
		case 'S':
			if (parse_uint(optarg, ~0UL, &v)) {
				fprintf(stderr, "nuq eval: --seed '%s' is not a number\n", optarg);
				ret = 2;
				goto out;
			}
			seed = v;
			break;
		case 'L':
			list = 1;
			break;
		case 'D':
			save = optarg;
			break;
		case 'h':
			usage(stdout);
			ret = 0;
			goto out;
		default:
			usage(stderr);
			ret = 2;
			goto out;
		}
	}
	if (optind != argc) {
		usage(stderr);
		ret = 2;
		goto out;
	}
	jobs = jobs > 16 ? 16 : jobs;
	if (!nlines)
		nlines = quick ? EVAL_QUICK_LINES : EVAL_LINES;
	if (list) {
		ret = list_lines(e->models, nlines, seed, e->calib_lines);
		goto out;
	}
	if (save) {
		ret = save_lines(e->models, save, nlines, seed);
		goto out;
	}
	{
		/* mkdir -p */
		char dir[1024], *p;

		snprintf(dir, sizeof(dir), "%s", out);
		for (p = dir + 1; *p; p++)
			if (*p == '/') {
				*p = 0;
				mkdir(dir, 0755);
				*p = '/';
			}
		mkdir(dir, 0755);
	}
	build_configs(e, quick && !only);
	if (only && filter_configs(e, only, msg, sizeof(msg))) {
		fprintf(stderr, "nuq eval: %s\n", msg);
		ret = 2;
		goto out;
	}
	if (load_data(e, truth, nlines, seed, msg, sizeof(msg))) {
		fprintf(stderr, "nuq eval: %s\n", msg);
		goto out;
	}
	fprintf(stderr, "nuq eval: %zu configurations, %zu text lines (%zu rendered, %zu scanned), "
		"%zu pages, %u at a time\n", e->ncfg, e->lines.n, e->nrendered,
		e->lines.n - e->nrendered, e->npages, jobs);
	/* fp32 first: it provides the detector's reference boxes. */
	{
		struct worker_arg one = { .e = e };
		struct ocr_models m;

		one.ret = ocr_models_load(e->models, &m, one.msg, sizeof(one.msg));
		if (one.ret) {
			fprintf(stderr, "nuq eval: %s\n", one.msg);
			goto out;
		}
		eval_config(e, &m, &e->cfg[0]);
		ocr_models_free(&m);
		if (e->cfg[0].ret) {
			fprintf(stderr, "nuq eval: fp32: %s\n", e->cfg[0].msg);
			goto out;
		}
		atomic_store(&e->next, 1);
		atomic_store(&e->done, 1);
	}
	progress_start(&pr, "eval", e->ncfg);
	for (t = 0; t < jobs; t++) {
		wa[t].e = e;
		if (!pthread_create(&th[t], NULL, worker, &wa[t]))
			started++;
	}
	if (!started) {
		wa[0].e = e;
		worker(&wa[0]);
	}
	while (atomic_load(&e->done) < e->ncfg && started) {
		progress_step(&pr, atomic_load(&e->done));
		usleep(200000);
	}
	for (t = 0; t < started; t++)
		pthread_join(th[t], NULL);
	progress_end(&pr);
	for (t = 0; t < started; t++)
		if (wa[t].ret)
			fprintf(stderr, "nuq eval: thread %u: %s\n", t, wa[t].msg);
	eval_print_table(stdout, e);
	if (eval_write_outputs(e, out))
		fprintf(stderr, "nuq eval: cannot write to %s\n", out);
	ret = 0;
	for (i = 0; i < e->ncfg; i++) {
		const struct config *k = &e->cfg[i];

		if (k->ret)
			ret = 1;
		else
			/* Quantization runs on a worker thread: only scoring is timed in CPU. */
			fprintf(stderr, "nuq eval: %s: %.1f s wall (%.1f s before scoring); "
				"%.3f s CPU per line (rec, cls upright and upside down)\n",
				k->name, k->seconds, k->setup_seconds, (k->cpu_seconds -
				k->setup_cpu_seconds - k->det_cpu_seconds) / e->lines.n);
	}
out:
	if (e) {
		for (i = 0; i < e->ncfg; i++) {
			free(e->cfg[i].edits);
			free(e->cfg[i].cls_ok);
		}
		for (i = 0; e->fp32_read && i < e->lines.n; i++)
			free(e->fp32_read[i]);
		free(e->fp32_read);
		free(e->chars);
		dataset_free(&e->lines);
		for (i = 0; i < e->npages; i++) {
			nuq_image_free(&e->pages[i]);
			free(e->ref_boxes[i]);
		}
	}
	free(e);
	return ret;
}

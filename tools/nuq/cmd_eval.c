// SPDX-License-Identifier: GPL-2.0
/*
 * nuq eval: what accuracy each quantization method keeps on real text.
 *
 * Data (see data/README.rst): text lines rendered with FreeType (ground
 * truth by construction), the lines of a real scanned page from
 * opencv-doc with their transcription, the same lines rotated by 180
 * degrees for the classifier, and for the detector the scanned page, a
 * skewed scan and rendered pages, scored against the fp32 model's boxes.
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
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <nuq/nuq.h>

#include "dataset.h"
#include "quantized.h"

#define EVAL_SEED	0xe7a1
#define MAX_TEXT	1024
#define MAX_CONFIGS	64

struct config {
	char name[48];
	int fp32;
	enum nuq_qmethod method;
	unsigned int bits;		/* 0 for ASD variants */
	double budget;			/* mixed precision */
	/* results */
	double rec_char, rec_line, rec_char_scan, cls_acc, det_f1, seconds;
	size_t bytes, fp32_bytes;
	unsigned int device_layers, fp32_layers;
	int ret;
	char msg[256];
};

struct eval {
	const char *models;
	struct nuq_qexec_opts qe;
	struct dataset lines;		/* rendered + scanned, for rec and cls */
	size_t nrendered;
	struct nuq_image pages[4];
	size_t npages;
	/* fp32 boxes per page: the detector's reference */
	struct nuq_box *ref_boxes[4];
	size_t nref[4];
	size_t calib_lines;
	struct config cfg[MAX_CONFIGS];
	size_t ncfg;
	atomic_size_t next, done;
};

static void usage(FILE *f)
{
	fprintf(f,
		"usage: nuq eval [options]\n"
		"  Accuracy of the OCR models under every quantization method.\n"
		"      --models DIR      the PaddleOCR ONNX models (default $NUQ_MODELS_DIR)\n"
		"      --scan-truth F    transcription of the scanned page (default data/imageTextN.txt)\n"
		"      --lines N         rendered text lines to score (default 20)\n"
		"      --quick           fp32, uniform 8/4 bits, knq 4/3, kde 4, opt 3, mixed 3.5\n"
		"      --only LIST       just these configurations (and fp32), comma-separated\n"
		"                        names as in the table, e.g. --only 'knq 3,opt 3'\n"
		"      --no-bias-correction  keep the biases as quantization left them\n"
		"      --calib C         activation ranges (default percentile)\n"
		"      --weights-only    fp32 activations: the weights' share of the loss\n"
		"      --calib-lines N   rendered lines to calibrate on (default 48)\n"
		"  -o, --out DIR         write eval.md, eval.dat and eval.png there (default .)\n"
		"      --device PATH     run the jobs on a nuq device (default: libnuq's CPU core)\n"
		"  -j, --jobs N          configurations evaluated at once (default: CPUs)\n");
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
		add_cfg(e, "knq mixed 3.5", 0, NUQ_Q_KNQ, 0, 3.5);
		return;
	}
	add_cfg(e, "uniform min-max 3", 0, NUQ_Q_UNIFORM_SYM, 3, 0);
	for (i = 0; i < sizeof(full) / sizeof(full[0]); i++)
		for (j = 0; j < sizeof(full_bits) / sizeof(full_bits[0]); j++)
			add_method(e, full[i], full_bits[j]);
	add_cfg(e, "asd (2 digits)", 0, NUQ_Q_ASD, 0, 0);
	add_cfg(e, "csd (2 digits)", 0, NUQ_Q_CSD, 0, 0);
	add_cfg(e, "asd1 (1 digit)", 0, NUQ_Q_ASD1, 0, 0);
	add_cfg(e, "knq mixed 3.5", 0, NUQ_Q_KNQ, 0, 3.5);
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

static int score(struct eval *e, struct ocr_models *m, struct config *c)
{
	size_t i, edits = 0, chars = 0, exact = 0, scan_edits = 0, scan_chars = 0, cls_ok = 0;
	double f1 = 0;
	char text[MAX_TEXT];
	int ret, r;

	for (i = 0; i < e->lines.n; i++) {
		const struct sample *s = &e->lines.s[i];
		struct nuq_image flipped;
		size_t d, len = nuq_utf8_len(s->text);

		ret = ocr_recognize(m, &s->im, text, sizeof(text), c->msg, sizeof(c->msg));
		if (ret)
			return ret;
		d = nuq_edit_distance(s->text, text);
		edits += d;
		chars += len;
		exact += d == 0;
		if (i >= e->nrendered) {
			scan_edits += d;
			scan_chars += len;
		}
		/* The classifier: upright must read 0, upside down 180. */
		r = ocr_is_rotated(m, &s->im, 0.5f, c->msg, sizeof(c->msg));
		if (r < 0)
			return r;
		cls_ok += r == 0;
		ret = nuq_image_crop(&s->im, 0, 0, s->im.w, s->im.h, &flipped);
		if (ret)
			return ret;
		nuq_image_rotate180(&flipped);
		r = ocr_is_rotated(m, &flipped, 0.5f, c->msg, sizeof(c->msg));
		nuq_image_free(&flipped);
		if (r < 0)
			return r;
		cls_ok += r == 1;
	}
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
	c->rec_char = 100.0 * (1.0 - (double)edits / (chars ? chars : 1));
	c->rec_line = 100.0 * exact / (e->lines.n ? e->lines.n : 1);
	c->rec_char_scan = 100.0 * (1.0 - (double)scan_edits / (scan_chars ? scan_chars : 1));
	c->cls_acc = 100.0 * cls_ok / (2 * (e->lines.n ? e->lines.n : 1));
	c->det_f1 = c->fp32 ? 100.0 : 100.0 * f1 / (e->npages ? e->npages : 1);
	return 0;
}

static void eval_config(struct eval *e, struct ocr_models *m, struct config *c)
{
	struct quant_setup s = {
		.opts = { .q = { .method = c->method, .bits = c->bits ? c->bits : 4, .seed = 1 },
			  .gran = NUQ_GRAN_CHANNEL, .cb_width = 16 },
		.budget = c->budget, .qe = e->qe, .calib_lines = e->calib_lines, .calib_pages = 2,
		.jobs = 1,
	};
	struct quantized qz;
	double t0 = now_seconds();
	int i;

	if (c->fp32) {
		const struct nuq_onnx_weight *w;
		size_t nw, k;

		c->ret = score(e, m, c);
		for (i = 0; i < M_COUNT && !nuq_onnx_weights(m->onnx[i], &w, &nw, NULL, 0); i++)
			for (k = 0; k < nw; k++)
				c->bytes += 4 * w[k].rows * w[k].cols;
		c->fp32_bytes = c->bytes;
		c->seconds = now_seconds() - t0;
		return;
	}
	c->ret = quantized_setup(m, &s, &qz, c->msg, sizeof(c->msg));
	if (c->ret)
		return;
	c->ret = score(e, m, c);
	for (i = 0; i < M_COUNT; i++) {
		struct nuq_qexec_stats st;

		nuq_qexec_stats(m->q[i], &st);
		c->device_layers += st.device_layers;
		c->fp32_layers += st.fp32_layers;
		c->bytes += qz.bytes[i];
		c->fp32_bytes += qz.fp32_bytes[i];
	}
	quantized_free(m, &qz);
	c->seconds = now_seconds() - t0;
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

static int load_data(struct eval *e, const char *truth, size_t nlines, char *msg, size_t msglen)
{
	struct ocr_models m;
	struct dataset scan;
	int ret, i;

	ret = ocr_models_load(e->models, &m, msg, msglen);
	if (ret)
		return ret;
	ret = dataset_rendered_lines(nlines, EVAL_SEED, &m.dict, &e->lines, msg, msglen);
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
	if (!ret)
		ret = nuq_image_load_png(NUQ_SCAN_PAGE, &e->pages[e->npages++], msg, msglen);
	if (!ret)
		ret = nuq_image_load_png(NUQ_SKEW_PAGE, &e->pages[e->npages++], msg, msglen);
	for (i = 0; !ret && i < 2; i++)
		ret = dataset_rendered_page(6, EVAL_SEED + 1 + i, &m.dict, &e->pages[e->npages++],
					    msg, msglen);
	ocr_models_free(&m);
	return ret;
}

static void print_table(FILE *f, const struct eval *e)
{
	size_t i;

	fprintf(f, "| configuration | weights MB | smaller | rec char %% | rec line %% | "
		   "rec char %% (scan) | cls %% | det F1 %% | jobs/fp32 layers |\n");
	fprintf(f, "|---|---:|---:|---:|---:|---:|---:|---:|---:|\n");
	for (i = 0; i < e->ncfg; i++) {
		const struct config *c = &e->cfg[i];

		if (c->ret) {
			fprintf(f, "| %s | failed: %s |||||||\n", c->name, c->msg);
			continue;
		}
		fprintf(f, "| %s | %.2f | %.2fx | %.2f | %.1f | %.2f | %.1f | %.1f | %u/%u |\n",
			c->name, c->bytes / 1e6, c->bytes ? (double)c->fp32_bytes / c->bytes : 0,
			c->rec_char, c->rec_line, c->rec_char_scan, c->cls_acc, c->det_f1,
			c->device_layers, c->fp32_layers);
	}
}

static int write_outputs(const struct eval *e, const char *dir)
{
	char path[1024];
	FILE *f;
	size_t i;

	snprintf(path, sizeof(path), "%s/eval.md", dir);
	f = fopen(path, "w");
	if (!f)
		return -errno;
	print_table(f, e);
	fclose(f);
	snprintf(path, sizeof(path), "%s/eval.dat", dir);
	f = fopen(path, "w");
	if (!f)
		return -errno;
	fprintf(f, "# method bits rec_char rec_line cls det_f1 mbytes\n");
	for (i = 0; i < e->ncfg; i++) {
		const struct config *c = &e->cfg[i];
		char m[32];

		if (c->ret || c->fp32 || c->budget || !c->bits)
			continue;
		snprintf(m, sizeof(m), "%s", c->name);
		m[strcspn(m, " ")] = 0;
		if (c->method == NUQ_Q_UNIFORM_SYM)
			snprintf(m, sizeof(m), "uniform-minmax");
		fprintf(f, "%s %u %.3f %.3f %.3f %.3f %.4f\n", m, c->bits, c->rec_char, c->rec_line,
			c->cls_acc, c->det_f1, c->bytes / 1e6);
	}
	fclose(f);
	/* The plot: one line per method, fp32 as a reference line. */
	snprintf(path, sizeof(path),
		 "gnuplot -e \"set terminal png size 900,560; set output '%s/eval.png';"
		 "set title 'PP-OCRv4 recogniser: character accuracy vs weight bits';"
		 "set xlabel 'bits per weight index'; set ylabel 'character accuracy %%';"
		 "set key bottom right; set grid; set yrange [0:100];"
		 "plot for [m in 'uniform-minmax dbc enq knq kde opt minifloat'] "
		 "'< grep \\\"^'.m.' \\\" %s/eval.dat | sort -k2 -n' using 2:3 with linespoints title m,"
		 " %f title 'fp32' dt 2\" 2>/dev/null",
		 dir, dir, e->cfg[0].rec_char);
	if (system(path))
		fprintf(stderr, "nuq eval: gnuplot failed or is missing; no eval.png\n");
	return 0;
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
		{ "help", no_argument, NULL, 'h' },
		{}
	};
	const char *truth = "data/imageTextN.txt", *out = ".", *only = NULL;
	long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
	unsigned int jobs = ncpu > 0 ? (unsigned int)ncpu : 1, t, started = 0;
	struct worker_arg wa[16];
	pthread_t th[16];
	struct progress pr;
	struct eval *e;
	unsigned long v;
	size_t nlines = 20, i;
	int c, quick = 0, ret = 1;
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
	if (load_data(e, truth, nlines, msg, sizeof(msg))) {
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
	print_table(stdout, e);
	if (write_outputs(e, out))
		fprintf(stderr, "nuq eval: cannot write to %s\n", out);
	ret = 0;
	for (i = 0; i < e->ncfg; i++)
		if (e->cfg[i].ret)
			ret = 1;
out:
	if (e) {
		dataset_free(&e->lines);
		for (i = 0; i < e->npages; i++) {
			nuq_image_free(&e->pages[i]);
			free(e->ref_boxes[i]);
		}
	}
	free(e);
	return ret;
}

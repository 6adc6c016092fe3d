// SPDX-License-Identifier: GPL-2.0
/*
 * nuq eval: confidence intervals and the outputs - the markdown table,
 * the data file and the gnuplot PNG.
 *
 * Every interval is a 95% percentile bootstrap over text lines (the
 * characters of a line are not independent), rendered and scanned lines
 * resampled separately.  "vs fp32" is the paired difference on the same
 * lines, which is what an accuracy target is about: it is much tighter
 * than the two accuracies' own intervals, because a line that is hard
 * for fp32 is hard for the quantized model too.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "eval.h"

#define RESAMPLES	2000
#define LEVEL		0.95
#define CI_SEED		0xb007

/*
 * @num[i] / @den[i] summed, scaled to points: accuracy = @sign * ratio + @base
 * (recogniser: 100 - 100 * edits / chars; classifier: 100 * right / 2).
 */
static int interval(const struct eval *e, const double *num, const double *den, double base,
		    double scale, struct nuq_interval *out)
{
	size_t strata[2] = { e->nrendered, e->lines.n };
	struct nuq_interval r;
	int ret;

	ret = nuq_ratio_interval(num, den, e->lines.n, strata, e->nrendered < e->lines.n ? 2 : 1,
				 RESAMPLES, LEVEL, CI_SEED, &r);
	if (ret)
		return ret;
	out->est = base + scale * r.est;
	out->lo = base + scale * (scale < 0 ? r.hi : r.lo);
	out->hi = base + scale * (scale < 0 ? r.lo : r.hi);
	out->se = (scale < 0 ? -scale : scale) * r.se;
	return 0;
}

int eval_intervals(const struct eval *e, struct config *c)
{
	const struct config *f = &e->cfg[0];
	size_t n = e->lines.n, i;
	double *d, *two;
	int ret;

	d = calloc(n + 1, sizeof(*d));
	two = calloc(n + 1, sizeof(*two));
	if (!d || !two) {
		free(d);
		free(two);
		return -ENOMEM;
	}
	for (i = 0; i < n; i++)
		two[i] = 2;
	ret = interval(e, c->edits, e->chars, 100, -100, &c->rec);
	if (!ret)
		ret = interval(e, c->cls_ok, two, 0, 100, &c->cls);
	/* Paired: quantized minus fp32, line by line. */
	for (i = 0; !ret && i < n; i++)
		d[i] = f->edits[i] - c->edits[i];
	if (!ret)
		ret = interval(e, d, e->chars, 0, 100, &c->rec_delta);
	for (i = 0; !ret && i < n; i++)
		d[i] = c->cls_ok[i] - f->cls_ok[i];
	if (!ret)
		ret = interval(e, d, two, 0, 100, &c->cls_delta);
	free(d);
	free(two);
	return ret;
}

/* "bits per weight, all included": every byte of the weights' storage over the weights. */
static double bits_per_weight_of(const struct config *c)
{
	return c->weights ? 8.0 * c->bytes / c->weights : 0;
}

void eval_print_table(FILE *f, const struct eval *e)
{
	size_t i;

	fprintf(f, "| configuration | bits/weight (all) | weights MB | smaller | "
		   "rec char %% [95%% CI] | rec vs fp32 [95%% CI] | rec line %% | "
		   "rec char %% (scan) | cls %% [95%% CI] | cls vs fp32 [95%% CI] | det F1 %% | "
		   "jobs/fp32 layers |\n");
	fprintf(f, "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n");
	for (i = 0; i < e->ncfg; i++) {
		const struct config *c = &e->cfg[i];

		if (c->ret) {
			fprintf(f, "| %s | failed: %s ||||||||||\n", c->name, c->msg);
			continue;
		}
		fprintf(f, "| %s | %.2f | %.2f | %.2fx | %.2f [%.2f, %.2f] | %+.2f [%+.2f, %+.2f] | "
			   "%.1f | %.2f | %.1f [%.1f, %.1f] | %+.1f [%+.1f, %+.1f] | %.1f | %u/%u |\n",
			c->name, bits_per_weight_of(c), c->bytes / 1e6,
			c->bytes ? (double)c->fp32_bytes / c->bytes : 0, c->rec.est, c->rec.lo,
			c->rec.hi, c->rec_delta.est, c->rec_delta.lo, c->rec_delta.hi, c->rec_line,
			c->rec_char_scan, c->cls.est, c->cls.lo, c->cls.hi, c->cls_delta.est,
			c->cls_delta.lo, c->cls_delta.hi, c->det_f1, c->device_layers,
			c->fp32_layers);
	}
	fprintf(f, "\nrec and cls: %zu rendered + %zu scanned text lines (cls: each upright and "
		   "upside down); intervals: 95%% percentile bootstrap over lines, %d resamples, "
		   "rendered and scanned resampled separately; \"vs fp32\": the paired difference "
		   "on the same lines, in points.\n", e->nrendered, e->lines.n - e->nrendered,
		RESAMPLES);
}

static void dat_row(FILE *f, const char *m, const struct config *c)
{
	fprintf(f, "%s %u %.3f %.3f %.3f %.3f %.4f %.3f %.3f %.3f %.3f %.3f %.3f %.3f %.3f %.3f "
		   "%.3f %.3f\n", m, c->bits, c->rec.est, c->rec_line, c->cls.est, c->det_f1,
		c->bytes / 1e6, c->rec.lo, c->rec.hi, c->rec_delta.est, c->rec_delta.lo,
		c->rec_delta.hi, c->cls.lo, c->cls.hi, c->cls_delta.est, c->cls_delta.lo,
		c->cls_delta.hi, bits_per_weight_of(c));
}

/* One row per line: its source, characters, truth, fp32's reading, then per configuration. */
static int write_lines(const struct eval *e, const char *dir)
{
	char path[1024];
	size_t i, k;
	FILE *f;

	snprintf(path, sizeof(path), "%s/eval-lines.tsv", dir);
	f = fopen(path, "w");
	if (!f)
		return -errno;
	fprintf(f, "line\tsource\tchars\ttruth\tfp32 read");
	for (k = 0; k < e->ncfg; k++)
		fprintf(f, "\t%s edits\t%s cls", e->cfg[k].name, e->cfg[k].name);
	fprintf(f, "\n");
	for (i = 0; i < e->lines.n; i++) {
		fprintf(f, "%zu\t%s\t%.0f\t%s\t%s", i, i < e->nrendered ? "rendered" : "scanned",
			e->chars[i], e->lines.s[i].text, e->fp32_read[i] ? e->fp32_read[i] : "");
		for (k = 0; k < e->ncfg; k++) {
			const struct config *c = &e->cfg[k];

			if (c->ret || !c->edits)
				fprintf(f, "\t\t");
			else
				fprintf(f, "\t%.0f\t%.0f", c->edits[i], c->cls_ok[i]);
		}
		fprintf(f, "\n");
	}
	fclose(f);
	return 0;
}

int eval_write_outputs(const struct eval *e, const char *dir)
{
	char path[1024];
	FILE *f;
	size_t i;

	snprintf(path, sizeof(path), "%s/eval.md", dir);
	f = fopen(path, "w");
	if (!f)
		return -errno;
	eval_print_table(f, e);
	fclose(f);
	snprintf(path, sizeof(path), "%s/eval.dat", dir);
	f = fopen(path, "w");
	if (!f)
		return -errno;
	fprintf(f, "# %zu rendered + %zu scanned lines; intervals 95%% bootstrap over lines; "
		   "d*: paired difference against fp32\n"
		   "# method bits rec_char rec_line cls det_f1 mbytes rec_lo rec_hi drec drec_lo "
		   "drec_hi cls_lo cls_hi dcls dcls_lo dcls_hi bits_per_weight_all\n",
		e->nrendered, e->lines.n - e->nrendered);
	if (!e->cfg[0].ret) {
		fprintf(f, "# ");
		dat_row(f, "fp32", &e->cfg[0]);
	}
	for (i = 0; i < e->ncfg; i++) {
		const struct config *c = &e->cfg[i];
		char m[32];

		if (c->ret || c->fp32 || c->budget || !c->bits)
			continue;
		snprintf(m, sizeof(m), "%s", c->name);
		m[strcspn(m, " ")] = 0;
		if (c->method == NUQ_Q_UNIFORM_SYM)
			snprintf(m, sizeof(m), "uniform-minmax");
		dat_row(f, m, c);
	}
	fclose(f);
	if (write_lines(e, dir))
		return -errno;
	/* The plot: one line per method, fp32 as a reference line. */
	snprintf(path, sizeof(path),
		 "gnuplot -e \"set terminal png size 900,560; set output '%s/eval.png';"
		 "set title 'PP-OCRv4 recogniser: character accuracy vs weight bits';"
		 "set xlabel 'bits per weight index'; set ylabel 'character accuracy %%';"
		 "set key bottom right; set grid; set yrange [0:100];"
		 "plot for [m in 'uniform-minmax dbc enq knq kde opt minifloat'] "
		 "'< grep \\\"^'.m.' \\\" %s/eval.dat | sort -k2 -n' using 2:3:8:9 with yerrorlines title m,"
		 " %f title 'fp32' dt 2\" 2>/dev/null",
		 dir, dir, e->cfg[0].rec.est);
	if (system(path))
		fprintf(stderr, "nuq eval: gnuplot failed or is missing; no eval.png\n");
	return 0;
}

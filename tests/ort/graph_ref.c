// SPDX-License-Identifier: GPL-2.0
/*
 * Helper of tests/cli/nuq_ocr.sh: real model inputs as raw float32, the
 * nuq graph executor on them, and the comparison with onnxruntime's
 * output (tests/ort/ort_run.js).
 *
 *   graph_ref input det|cls|cls180|rec PAGE.png LINE OUT.f32   prints the shape
 *   graph_ref run MODEL.onnx IN.f32 D0,D1,D2,D3 OUT.f32
 *   graph_ref cmp REF.f32 OUT.f32 TOLERANCE
 *   graph_ref runall MODEL.onnx IN.f32 D0,D1,D2,D3 OUTDIR   every output, as
 *	OUTDIR/NAME.f32 (':' and '/' in NAME become '_', as ort_outputs.js writes)
 *   graph_ref rcmp REF.f32 OUT.f32 TOLERANCE   max |diff| / max |ref| <= TOLERANCE
 *   graph_ref peaks REF.f32 OUT.f32 TOLERANCE LOW   a peak-suppressed map (zero
 *	except at local maxima): where both are non-zero as rcmp; a peak that only
 *	one side keeps (a near-tie with a neighbour, decided by rounding) must be
 *	below LOW, far under any detection threshold
 *   graph_ref qrunall MODEL.onnx MODEL.nuq CALIB_LIST EVAL_LIST D0,D1,D2,D3 OUTDIR [OPT...]
 *	the quantized executor (CPU path) calibrated on the float32 inputs
 *	listed in CALIB_LIST (one path a line), every output of each input in
 *	EVAL_LIST as OUTDIR/K/NAME.f32 (K = 0, 1, ...); OPT: calib=METHOD,
 *	heads=quantized, weights-only (fp32 activations), no-bias-correction, save=FILE (the
 *	calibration, nuq_qexec_save_calibration())
 *   graph_ref qlayers MODEL.onnx MODEL.nuq CALIB_LIST IN.f32 D0,D1,D2,D3 [OPT...]
 *	nuq_qexec_layer_errors(): each quantized layer's SQNR on IN
 *   graph_ref sqnr REF.f32 OUT.f32 MIN_DB [sigmoid]   prints the SQNR in dB (of
 *	both sides' sigmoids: logits as the probabilities they stand for),
 *	fails below MIN_DB
 *   graph_ref top1 REF.f32 OUT.f32   prints each one's argmax, fails when they differ
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sys/stat.h>

#include <nuq/graph.h>
#include <nuq/nuqfile.h>
#include <nuq/ocr.h>
#include <nuq/qexec.h>

static int write_f32(const char *path, const float *v, size_t n)
{
	FILE *f = fopen(path, "wb");
	int ok = f && fwrite(v, sizeof(float), n, f) == n;

	if (f && fclose(f))
		ok = 0;
	return ok ? 0 : -EIO;
}

static float *read_f32(const char *path, size_t *n)
{
	FILE *f = fopen(path, "rb");
	float *v;
	long len;

	if (!f)
		return NULL;
	fseek(f, 0, SEEK_END);
	len = ftell(f);
	fseek(f, 0, SEEK_SET);
	v = malloc((size_t)len + 4);
	*n = v ? fread(v, sizeof(float), (size_t)len / 4, f) : 0;
	fclose(f);
	return v;
}

static int make_input(const char *kind, const char *png, int line, const char *out)
{
	struct nuq_image page, crop;
	struct nuq_box *b = NULL;
	struct nuq_tensor x;
	enum nuq_ocr_model m;
	char msg[256];
	size_t n;
	int ret;

	ret = nuq_image_load_png(png, &page, msg, sizeof(msg));
	if (ret) {
		fprintf(stderr, "%s\n", msg);
		return 1;
	}
	if (!strcmp(kind, "det")) {
		m = NUQ_OCR_DET;
		crop = page;
	} else {
		m = strcmp(kind, "rec") ? NUQ_OCR_CLS : NUQ_OCR_REC;
		if (nuq_page_lines(&page, &b, &n) || line < 0 || (size_t)line >= n ||
		    nuq_image_crop(&page, b[line].x0, b[line].y0, b[line].x1 - b[line].x0,
				   b[line].y1 - b[line].y0, &crop)) {
			fprintf(stderr, "no line %d in %s\n", line, png);
			return 1;
		}
		if (!strcmp(kind, "cls180"))
			nuq_image_rotate180(&crop);
	}
	ret = nuq_ocr_input(m, &crop, 960, &x);
	if (!ret)
		ret = write_f32(out, x.f, nuq_tensor_count(&x));
	if (!ret)
		printf("%lld,%lld,%lld,%lld\n", (long long)x.dims[0], (long long)x.dims[1],
		       (long long)x.dims[2], (long long)x.dims[3]);
	nuq_tensor_free(&x);
	if (crop.px != page.px)
		nuq_image_free(&crop);
	nuq_image_free(&page);
	free(b);
	return ret ? 1 : 0;
}

/*
 * The float32 NCHW input @in of shape "D0,D1,D2,D3" into @x (its dtype
 * and ndims set); 0, 2 for a malformed shape, 1 for a file that does not
 * hold that many values.
 */
static int read_input(const char *in, const char *shape, struct nuq_tensor *x)
{
	long long d[4];
	size_t n;

	if (sscanf(shape, "%lld,%lld,%lld,%lld", &d[0], &d[1], &d[2], &d[3]) != 4)
		return 2;
	x->dims[0] = d[0], x->dims[1] = d[1], x->dims[2] = d[2], x->dims[3] = d[3];
	x->f = read_f32(in, &n);
	if (!x->f || n != nuq_tensor_count(x)) {
		free(x->f);
		x->f = NULL;
		fprintf(stderr, "%s: not %s float32 values\n", in, shape);
		return 1;
	}
	return 0;
}

static int run_model(const char *model, const char *in, const char *shape, const char *out)
{
	struct nuq_tensor x = { .dtype = NUQ_DT_FLOAT, .ndims = 4 }, y;
	struct nuq_onnx *m;
	struct nuq_graph *g;
	char msg[512];
	int ret;

	ret = read_input(in, shape, &x);
	if (ret)
		return ret;
	ret = nuq_onnx_load(model, &m, msg, sizeof(msg));
	if (!ret) {
		ret = nuq_graph_import(m, &g, msg, sizeof(msg));
		if (!ret) {
			ret = nuq_graph_run(g, &x, &y, msg, sizeof(msg));
			if (!ret)
				ret = write_f32(out, y.f, nuq_tensor_count(&y));
			nuq_tensor_free(&y);
			nuq_graph_free(g);
		}
		nuq_onnx_free(m);
	}
	free(x.f);
	if (ret)
		fprintf(stderr, "%s\n", msg);
	return ret ? 1 : 0;
}

/* Outputs @y of @g as DIR/NAME.f32 (':' and '/' in NAME become '_'). */
static int write_outputs(struct nuq_graph *g, const struct nuq_tensor *y, const char *dir,
			 char *msg, size_t msglen)
{
	char path[400], *c;
	size_t k;
	int ret = 0;

	for (k = 0; !ret && k < nuq_graph_noutputs(g); k++) {
		snprintf(path, sizeof(path), "%s/%s.f32", dir, nuq_graph_output_info(g, k)->name);
		for (c = path + strlen(dir) + 1; *c; c++)
			if (*c == ':' || *c == '/')
				*c = '_';
		ret = y[k].dtype == NUQ_DT_FLOAT ? write_f32(path, y[k].f, nuq_tensor_count(&y[k])) :
		      -EINVAL;
		if (ret)
			snprintf(msg, msglen, "%.300s: cannot write a float32 output", path);
	}
	return ret;
}

/* Every graph output of MODEL on one float32 input, each into OUTDIR. */
static int run_all(const char *model, const char *in, const char *shape, const char *dir)
{
	struct nuq_tensor x = { .dtype = NUQ_DT_FLOAT, .ndims = 4 }, *y = NULL;
	struct nuq_graph_feed feed;
	struct nuq_onnx *m;
	struct nuq_graph *g;
	char msg[512];
	size_t k, no = 0;
	int ret;

	ret = read_input(in, shape, &x);
	if (ret)
		return ret;
	ret = nuq_onnx_load(model, &m, msg, sizeof(msg));
	if (!ret) {
		ret = nuq_graph_import(m, &g, msg, sizeof(msg));
		if (!ret) {
			no = nuq_graph_noutputs(g);
			y = calloc(no, sizeof(*y));
			feed.name = nuq_graph_input_name(g);
			feed.tensor = &x;
			ret = y ? nuq_graph_run_all(g, &feed, 1, y, msg, sizeof(msg)) : -ENOMEM;
			if (!ret)
				ret = write_outputs(g, y, dir, msg, sizeof(msg));
			for (k = 0; y && k < no; k++)
				nuq_tensor_free(&y[k]);
			free(y);
			nuq_graph_free(g);
		}
		nuq_onnx_free(m);
	}
	free(x.f);
	if (ret)
		fprintf(stderr, "%s\n", msg);
	return ret ? 1 : 0;
}

/* The quantized model: its graph, its .nuq weights and the executor. */
struct qmodel {
	struct nuq_onnx *m;
	struct nuq_graph *g;
	struct nuq_file f;
	struct nuq_qexec *q;
};

static void qmodel_free(struct qmodel *qm)
{
	nuq_qexec_free(qm->q);
	if (qm->g)
		nuq_graph_free(qm->g);
	nuq_file_free(&qm->f);
	if (qm->m)
		nuq_onnx_free(qm->m);
}

/* The float32 inputs listed one a line in @list, each of shape @shape. */
static int read_list(const char *list, const char *shape, struct nuq_tensor **x, size_t *n)
{
	FILE *f = fopen(list, "r");
	char line[1024];
	int ret = 0;

	*x = NULL;
	*n = 0;
	if (!f) {
		fprintf(stderr, "cannot open %s\n", list);
		return 1;
	}
	while (!ret && fgets(line, sizeof(line), f)) {
		struct nuq_tensor *t;

		line[strcspn(line, "\n")] = 0;
		if (!*line)
			continue;
		t = realloc(*x, (*n + 1) * sizeof(*t));
		if (!t) {
			ret = 1;
			break;
		}
		*x = t;
		t = &t[*n];
		memset(t, 0, sizeof(*t));
		t->dtype = NUQ_DT_FLOAT;
		t->ndims = 4;
		ret = read_input(line, shape, t);
		if (!ret)
			(*n)++;
	}
	fclose(f);
	if (!ret && !*n) {
		fprintf(stderr, "%s lists no inputs\n", list);
		ret = 1;
	}
	return ret;
}

static void free_list(struct nuq_tensor *x, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		nuq_tensor_free(&x[i]);
	free(x);
}

/*
 * MODEL with the weights of NUQ on the quantized executor (CPU path),
 * calibrated on the inputs in CALIB_LIST; @opts: "calib=METHOD",
 * "heads=quantized" (NUQ_QEXEC_QUANTIZED_HEADS) and "weights-only".
 */
static int qmodel_open(struct qmodel *qm, const char *model, const char *nuq, const char *list,
		       const char *shape, char **opts, int nopts, char *msg, size_t msglen)
{
	struct nuq_qexec_opts o = { .flags = NUQ_QEXEC_CPU, .calib = NUQ_CALIB_PERCENTILE };
	struct nuq_qexec_stats st;
	const char *save = NULL;
	struct nuq_tensor *x;
	size_t n;
	int i, ret;

	memset(qm, 0, sizeof(*qm));
	for (i = 0; i < nopts; i++) {
		if (!strncmp(opts[i], "save=", 5)) {
			save = opts[i] + 5;
			continue;
		}
		if (!strncmp(opts[i], "calib=", 6) && !nuq_calib_parse(opts[i] + 6, &o.calib))
			continue;
		if (!strcmp(opts[i], "heads=quantized")) {
			o.flags |= NUQ_QEXEC_QUANTIZED_HEADS;
			continue;
		}
		if (!strcmp(opts[i], "weights-only")) {
			o.flags |= NUQ_QEXEC_WEIGHTS_ONLY;
			continue;
		}
		if (!strcmp(opts[i], "no-bias-correction")) {
			o.flags |= NUQ_QEXEC_NO_BIAS_CORRECTION;
			continue;
		}
		snprintf(msg, msglen, "unknown option %s", opts[i]);
		return -EINVAL;
	}
	ret = read_list(list, shape, &x, &n);
	if (ret) {
		snprintf(msg, msglen, "no calibration inputs");
		return -EINVAL;
	}
	ret = nuq_onnx_load(model, &qm->m, msg, msglen);
	if (!ret)
		ret = nuq_graph_import(qm->m, &qm->g, msg, msglen);
	if (!ret)
		ret = nuq_file_read(nuq, &qm->f, msg, msglen);
	if (!ret)
		ret = nuq_qexec_create(qm->g, qm->f.layers, qm->f.nlayers, &o, &qm->q, msg, msglen);
	if (!ret)
		ret = nuq_qexec_calibrate(qm->q, x, n, NULL, NULL, msg, msglen);
	free_list(x, n);
	if (!ret && save)
		ret = nuq_qexec_save_calibration(qm->q, save, msg, msglen);
	if (!ret) {
		nuq_qexec_stats(qm->q, &st);
		fprintf(stderr, "%u integer jobs, %u layers in fp32 (%u heads), calibrated on %zu inputs (%s)\n",
			st.device_layers, st.fp32_layers, st.head_layers, n, nuq_calib_name(o.calib));
	}
	return ret;
}

/* The quantized model's outputs on each input of EVAL_LIST into OUTDIR/K/ (K from 0). */
static int qrun_all(char **argv, int argc)
{
	struct nuq_tensor *x = NULL, *y = NULL;
	struct nuq_graph_feed feed;
	struct qmodel qm;
	char msg[512], dir[300];
	size_t nx = 0, i, k, no;
	int ret;

	ret = qmodel_open(&qm, argv[0], argv[1], argv[2], argv[4], argv + 6, argc - 6, msg,
			  sizeof(msg));
	if (!ret && read_list(argv[3], argv[4], &x, &nx)) {
		snprintf(msg, sizeof(msg), "no inputs to run");
		ret = -EINVAL;
	}
	no = ret ? 0 : nuq_graph_noutputs(qm.g);
	y = calloc(no + 1, sizeof(*y));
	feed.name = ret ? NULL : nuq_graph_input_name(qm.g);
	for (i = 0; !ret && i < nx; i++) {
		feed.tensor = &x[i];
		snprintf(dir, sizeof(dir), "%s/%zu", argv[5], i);
		ret = mkdir(dir, 0755) && errno != EEXIST ? -errno : 0;
		if (!ret)
			ret = nuq_qexec_run_all(qm.q, &feed, 1, y, msg, sizeof(msg));
		if (!ret)
			ret = write_outputs(qm.g, y, dir, msg, sizeof(msg));
		for (k = 0; k < no; k++)
			nuq_tensor_free(&y[k]);
	}
	free(y);
	free_list(x, nx);
	qmodel_free(&qm);
	if (ret)
		fprintf(stderr, "%s\n", msg);
	return ret ? 1 : 0;
}

/* The per-layer error report on IN (nuq_qexec_layer_errors()). */
static int qlayers(char **argv, int argc)
{
	struct nuq_tensor x = { .dtype = NUQ_DT_FLOAT, .ndims = 4 };
	struct nuq_qexec_layer_error *e = NULL;
	struct nuq_graph_feed feed;
	struct qmodel qm;
	char msg[512];
	size_t n = 0, i;
	int ret;

	ret = qmodel_open(&qm, argv[0], argv[1], argv[2], argv[4], argv + 5, argc - 5, msg,
			  sizeof(msg));
	if (!ret && read_input(argv[3], argv[4], &x)) {
		snprintf(msg, sizeof(msg), "no input");
		ret = -EINVAL;
	}
	if (!ret) {
		feed.name = nuq_graph_input_name(qm.g);
		feed.tensor = &x;
		ret = nuq_qexec_layer_errors(qm.q, &feed, 1, &e, &n, msg, sizeof(msg));
	}
	for (i = 0; i < n; i++)
		printf("%4zu %-12s %-6s %6.1f dB  %s\n", e[i].node, e[i].op,
		       e[i].head ? "head" : e[i].device ? "job" : "fp32", e[i].sqnr_db, e[i].name);
	free(e);
	free(x.f);
	qmodel_free(&qm);
	if (ret)
		fprintf(stderr, "%s\n", msg);
	return ret ? 1 : 0;
}

static double sigmoid(double x)
{
	return 1 / (1 + exp(-x));
}

/* SQNR of OUT against REF in dB (of their sigmoids with @sig); 1 when below MIN_DB. */
static int sqnr(const char *ref, const char *out, double min_db, int sig)
{
	size_t na, nb, i;
	float *a = read_f32(ref, &na), *b = read_f32(out, &nb);
	double s = 0, e = 0, db;
	int ret = 1;

	if (a && b && na == nb && na) {
		for (i = 0; i < na; i++) {
			double x = sig ? sigmoid(a[i]) : a[i], y = sig ? sigmoid(b[i]) : b[i];

			s += x * x;
			e += (y - x) * (y - x);
		}
		db = e > 0 ? 10 * log10(s / e) : INFINITY;
		printf("%.1f\n", db);
		ret = isnan(db) || db < min_db;
	} else {
		fprintf(stderr, "outputs differ in size (%zu vs %zu values)\n", na, nb);
	}
	free(a);
	free(b);
	return ret;
}

/* Index of the largest value of each; 0 when they are the same. */
static int top1(const char *ref, const char *out)
{
	size_t na, nb, i, ia = 0, ib = 0;
	float *a = read_f32(ref, &na), *b = read_f32(out, &nb);
	int ret = 1;

	if (a && b && na == nb && na) {
		for (i = 1; i < na; i++) {
			ia = a[i] > a[ia] ? i : ia;
			ib = b[i] > b[ib] ? i : ib;
		}
		printf("%zu %zu\n", ia, ib);
		ret = ia != ib;
	} else {
		fprintf(stderr, "outputs differ in size (%zu vs %zu values)\n", na, nb);
	}
	free(a);
	free(b);
	return ret;
}

static int compare(const char *ref, const char *out, double tol, int relative)
{
	size_t na, nb, i;
	float *a = read_f32(ref, &na), *b = read_f32(out, &nb);
	double md = 0, mr = 0;
	int ret;

	if (!a || !b || na != nb || !na) {
		fprintf(stderr, "outputs differ in size (%zu vs %zu values)\n", na, nb);
		return 1;
	}
	for (i = 0; i < na; i++) {
		md = fmax(md, fabs((double)a[i] - b[i]));
		mr = fmax(mr, fabs(a[i]));
		if (isnan(b[i]))
			md = INFINITY;
	}
	printf("%zu values, max |nuq - onnxruntime| = %.3g (max |onnxruntime| = %.3g, relative %.3g)\n",
	       na, md, mr, mr > 0 ? md / mr : md);
	ret = (relative ? md <= tol * mr : md <= tol) ? 0 : 1;
	free(a);
	free(b);
	return ret;
}

static int compare_peaks(const char *ref, const char *out, double tol, double low)
{
	size_t na, nb, i, flips = 0, peaks = 0;
	float *a = read_f32(ref, &na), *b = read_f32(out, &nb);
	double md = 0, mr = 0, mf = 0;
	int ret;

	if (!a || !b || na != nb || !na) {
		fprintf(stderr, "outputs differ in size (%zu vs %zu values)\n", na, nb);
		free(a);
		free(b);
		return 1;
	}
	for (i = 0; i < na; i++) {
		mr = fmax(mr, fabs(a[i]));
		peaks += a[i] != 0;
		if (isnan(b[i]))
			md = INFINITY;
		else if ((a[i] != 0) == (b[i] != 0))
			md = fmax(md, fabs((double)a[i] - b[i]));
		else
			flips++, mf = fmax(mf, fmax(fabs(a[i]), fabs(b[i])));
	}
	printf("%zu values, %zu peaks; where both keep one, max |nuq - onnxruntime| = %.3g "
	       "(relative %.3g); kept by one side only: %zu, the largest %.3g\n",
	       na, peaks, md, mr > 0 ? md / mr : md, flips, mf);
	ret = md <= tol * mr && mf < low ? 0 : 1;
	free(a);
	free(b);
	return ret;
}

int main(int argc, char **argv)
{
	if (argc == 6 && !strcmp(argv[1], "input"))
		return make_input(argv[2], argv[3], atoi(argv[4]), argv[5]);
	if (argc == 6 && !strcmp(argv[1], "run"))
		return run_model(argv[2], argv[3], argv[4], argv[5]);
	if (argc == 5 && !strcmp(argv[1], "cmp"))
		return compare(argv[2], argv[3], atof(argv[4]), 0);
	if (argc == 5 && !strcmp(argv[1], "rcmp"))
		return compare(argv[2], argv[3], atof(argv[4]), 1);
	if (argc == 6 && !strcmp(argv[1], "peaks"))
		return compare_peaks(argv[2], argv[3], atof(argv[4]), atof(argv[5]));
	if (argc == 6 && !strcmp(argv[1], "runall"))
		return run_all(argv[2], argv[3], argv[4], argv[5]);
	if (argc >= 8 && !strcmp(argv[1], "qrunall"))
		return qrun_all(argv + 2, argc - 2);
	if (argc >= 7 && !strcmp(argv[1], "qlayers"))
		return qlayers(argv + 2, argc - 2);
	if (argc == 5 && !strcmp(argv[1], "sqnr"))
		return sqnr(argv[2], argv[3], atof(argv[4]), 0);
	if (argc == 6 && !strcmp(argv[1], "sqnr") && !strcmp(argv[5], "sigmoid"))
		return sqnr(argv[2], argv[3], atof(argv[4]), 1);
	if (argc == 4 && !strcmp(argv[1], "top1"))
		return top1(argv[2], argv[3]);
	fprintf(stderr, "usage: see tests/ort/graph_ref.c\n");
	return 2;
}

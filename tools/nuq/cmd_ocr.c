// SPDX-License-Identifier: GPL-2.0
/*
 * nuq ocr: OCR on a page - text detection, 0/180 classification and
 * recognition - in fp32 and with the quantized models on /dev/nuq0 (or
 * libnuq's CPU core), printed side by side with the size saved and what
 * the device did.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <nuq/nuq.h>

#include "cli.h"
#include "quantized.h"

#define MAX_TEXT	1024

struct page_text {
	size_t n;
	char (*line)[MAX_TEXT];
	int *rotated;
	double seconds;
};

static void usage(FILE *f)
{
	fprintf(f,
		"usage: nuq ocr PAGE.png [options]\n"
		"  OCR on PAGE in fp32 and with quantized weights, side by side.\n"
		"      --models DIR      the PaddleOCR ONNX models (default $NUQ_MODELS_DIR)\n"
		"      --nuq DIR         quantized weights from DIR/<model>.nuq (nuq quantize);\n"
		"                        otherwise the models are quantized now with:\n"
		"  -m, --method M        quantization method (default knq)\n"
		"  -b, --bits B          bits per weight index (default 4)\n"
		"  (default: each layer's layout and width chosen within bits + 0.5 bits per\n"
		"   weight, all included, as nuq quantize does; or one layout for all:)\n"
		"      --shared          one codebook per layer over channel-scaled weights\n"
		"      --per-channel     one codebook and scale per output channel\n"
		"      --per-layer       one codebook and one scale per layer\n"
		"      --no-bias-correction  keep the biases as quantization left them\n"
		"      --calib C         activation ranges: minmax, percentile, mse, kl, layer\n"
		"                        (default percentile)\n"
		"      --device PATH     the nuq device (default: the first NPU, else /dev/nuq0)\n"
		"      --cpu             run the integer jobs on libnuq's CPU core, not a device\n"
		"      --weights-only    quantized weights, fp32 activations (no jobs)\n"
		"      --fp32            only the fp32 models\n"
		"      --no-fp32         only the quantized models\n"
		"      --fp32-text FILE  the fp32 lines from FILE (one per line, e.g. from\n"
		"                        nuq ocr --fp32 --text on a faster machine)\n"
		"      --text            print the recognised lines only\n"
		"      --region X,Y,W,H  read only this part of the page\n"
		"  With --nuq DIR, DIR/<model>.calib (nuq calibrate) replaces calibration.\n");
}

static int ocr_page(struct ocr_models *m, const struct nuq_image *page, struct page_text *t,
		    char *msg, size_t msglen)
{
	struct nuq_box *b = NULL;
	size_t i;
	double t0 = now_seconds();
	int ret;

	memset(t, 0, sizeof(*t));
	ret = ocr_detect(m, page, &b, &t->n, msg, msglen);
	if (ret)
		return ret;
	t->line = calloc(t->n + 1, sizeof(*t->line));
	t->rotated = calloc(t->n + 1, sizeof(int));
	if (!t->line || !t->rotated) {
		free(b);
		return -ENOMEM;
	}
	for (i = 0; i < t->n && !ret; i++) {
		struct nuq_image crop;

		ret = nuq_image_crop(page, b[i].x0, b[i].y0, b[i].x1 - b[i].x0, b[i].y1 - b[i].y0,
				     &crop);
		if (ret)
			break;
		ret = ocr_is_rotated(m, &crop, OCR_CLS_THRESH, msg, msglen);
		if (ret > 0) {
			t->rotated[i] = 1;
			nuq_image_rotate180(&crop);
		}
		if (ret >= 0)
			ret = ocr_recognize(m, &crop, t->line[i], MAX_TEXT, msg, msglen);
		nuq_image_free(&crop);
	}
	free(b);
	t->seconds = now_seconds() - t0;
	return ret;
}

/* Lines of a text file as a page's recognised text. */
static int read_lines(const char *path, struct page_text *t, char *msg, size_t msglen)
{
	char buf[MAX_TEXT];
	FILE *f = fopen(path, "r");
	size_t cap = 0;

	memset(t, 0, sizeof(*t));
	if (!f) {
		snprintf(msg, msglen, "%s: %s", path, strerror(errno));
		return -errno;
	}
	while (fgets(buf, sizeof(buf), f)) {
		if (t->n == cap) {
			void *p = realloc(t->line, (cap = cap ? 2 * cap : 32) * sizeof(*t->line));

			if (!p) {
				fclose(f);
				return -ENOMEM;
			}
			t->line = p;
		}
		buf[strcspn(buf, "\n")] = 0;
		memcpy(t->line[t->n++], buf, sizeof(buf));
	}
	fclose(f);
	return 0;
}

static void page_text_free(struct page_text *t)
{
	free(t->line);
	free(t->rotated);
}

/* @device: what --device named, or NULL for the default device. */
static void print_stats(const struct ocr_models *m, const struct quantized *qz,
			const char *device)
{
	char def[64];
	size_t fp = 0, q = 0, w = 0;
	uint64_t jobs = 0, macs = 0;
	double secs = 0;
	unsigned int dev = 0, cpu = 0;
	int i, kernel = 0;

	for (i = 0; i < M_COUNT; i++) {
		struct nuq_qexec_stats st;

		nuq_qexec_stats(m->q[i], &st);
		printf("  %-4s weights %8.2f MB -> %6.2f MB (%5.2fx, %.2f bits per weight, all included)"
		       "  layers: %u as jobs, %u fp32, %u activations fused\n", ocr_model_names[i],
		       qz->fp32_bytes[i] / 1e6, qz->bytes[i] / 1e6,
		       qz->bytes[i] ? (double)qz->fp32_bytes[i] / qz->bytes[i] : 0,
		       qz->weights[i] ? 8.0 * qz->bytes[i] / qz->weights[i] : 0,
		       st.device_layers, st.fp32_layers, st.fused_acts);
		w += qz->weights[i];
		fp += qz->fp32_bytes[i];
		q += qz->bytes[i];
		jobs += st.jobs;
		macs += st.macs;
		secs += st.device_seconds;
		dev += st.device_layers;
		cpu += st.fp32_layers;
		kernel = st.on_kernel_device;
	}
	printf("  all  weights %8.2f MB -> %6.2f MB (%5.2fx smaller, %.2f bits per weight, all included)\n",
	       fp / 1e6, q / 1e6, q ? (double)fp / q : 0, w ? 8.0 * q / w : 0);
	printf("  (all included: the .nuq bytes plus what the model still reads from its ONNX\n"
	       "   file - biases, BatchNormalization, layers not quantized; fp32 counts the same)\n");
	if (!device)
		device = nuq_device_default(def, sizeof(def));
	printf("  jobs: %llu on %s, %.2f GMAC in %.2f s (%.2f GMAC/s)\n", (unsigned long long)jobs,
	       kernel ? device : "libnuq's CPU core", macs / 1e9, secs,
	       secs > 0 ? macs / 1e9 / secs : 0);
}

int cmd_ocr(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "models", required_argument, NULL, 'M' },
		{ "nuq", required_argument, NULL, 'N' },
		{ "method", required_argument, NULL, 'm' },
		{ "bits", required_argument, NULL, 'b' },
		{ "per-layer", no_argument, NULL, 'L' },
		{ "per-channel", no_argument, NULL, 'C' },
		{ "shared", no_argument, NULL, 'H' },
		{ "calib", required_argument, NULL, 'c' },
		{ "device", required_argument, NULL, 'd' },
		{ "cpu", no_argument, NULL, 'P' },
		{ "fp32", no_argument, NULL, 'F' },
		{ "no-fp32", no_argument, NULL, 'n' },
		{ "fp32-text", required_argument, NULL, 'R' },
		{ "text", no_argument, NULL, 't' },
		{ "region", required_argument, NULL, 'g' },
		{ "weights-only", no_argument, NULL, 'W' },
		{ "no-bias-correction", no_argument, NULL, 'X' },
		{ "help", no_argument, NULL, 'h' },
		{}
	};
	struct quant_setup s = {
		.opts = NUQ_DEFAULT_LAYER_OPTS, .budget = QUANT_RD_AUTO,
		.qe = { .calib = NUQ_CALIB_PERCENTILE },
		.calib_lines = 48, .calib_pages = 2, .jobs = 2, .progress = 1,
	};
	struct page_text ft = { 0 }, qt = { 0 };
	struct ocr_models m;
	struct quantized qz;
	struct nuq_image page;
	const char *models = NULL;
	int c, fp32_only = 0, no_fp32 = 0, text_only = 0, have_qz = 0, ret;
	int region[4], use_region = 0;
	char junk;
	const char *fp32_text = NULL;
	char msg[512];
	size_t i;

	optind = 1;
	while ((c = getopt_long(argc, argv, "m:b:h", longopts, NULL)) != -1) {
		switch (c) {
		case 'M':
			models = optarg;
			break;
		case 'N':
			s.nuq_dir = optarg;
			break;
		case 'm':
			if (opt_method("ocr", optarg, &s.opts.q.method))
				return 2;
			break;
		case 'b':
			if (opt_bits("ocr", optarg, &s.opts.q.bits))
				return 2;
			break;
		case 'L':
			s.opts.gran = NUQ_GRAN_LAYER;
			s.budget = 0;
			break;
		case 'C':
			s.opts.gran = NUQ_GRAN_CHANNEL;
			s.budget = 0;
			break;
		case 'H':
			s.opts.gran = NUQ_GRAN_CHANNEL_SCALED;
			s.budget = 0;
			break;
		case 'c':
			if (opt_calib("ocr", optarg, &s.qe.calib))
				return 2;
			break;
		case 'd':
			s.qe.device = optarg;
			break;
		case 'P':
			s.qe.flags |= NUQ_QEXEC_CPU;
			break;
		case 'F':
			fp32_only = 1;
			break;
		case 'n':
			no_fp32 = 1;
			break;
		case 'R':
			fp32_text = optarg;
			no_fp32 = 1;
			break;
		case 't':
			text_only = 1;
			break;
		case 'g':
			if (sscanf(optarg, "%d,%d,%d,%d%c", &region[0], &region[1], &region[2],
				   &region[3], &junk) != 4) {
				fprintf(stderr, "nuq ocr: --region takes X,Y,WIDTH,HEIGHT\n");
				return 2;
			}
			use_region = 1;
			break;
		case 'W':
			s.qe.flags |= NUQ_QEXEC_WEIGHTS_ONLY;
			break;
		case 'X':
			s.qe.flags |= NUQ_QEXEC_NO_BIAS_CORRECTION;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind != argc - 1) {
		usage(stderr);
		return 2;
	}
	ret = nuq_image_load_png(argv[optind], &page, msg, sizeof(msg));
	if (ret) {
		fprintf(stderr, "nuq ocr: %s\n", msg);
		return 1;
	}
	if (use_region) {
		struct nuq_image part;

		if (nuq_image_crop(&page, region[0], region[1], region[2], region[3], &part)) {
			fprintf(stderr, "nuq ocr: --region %d,%d,%d,%d is not inside the %dx%d page\n",
				region[0], region[1], region[2], region[3], page.w, page.h);
			nuq_image_free(&page);
			return 2;
		}
		nuq_image_free(&page);
		page = part;
	}
	ret = ocr_models_load(models, &m, msg, sizeof(msg));
	if (ret) {
		fprintf(stderr, "nuq ocr: %s\n", msg);
		nuq_image_free(&page);
		return 1;
	}
	if (fp32_only && no_fp32) {
		fprintf(stderr, "nuq ocr: --fp32 and --no-fp32/--fp32-text exclude each other\n");
		ret = 2;
		goto out;
	}
	ret = s.nuq_dir && !fp32_only ? quantized_check_files(s.nuq_dir, msg, sizeof(msg)) : 0;
	/* fp32 first: quantized_setup() puts the quantized weights into the graphs. */
	if (!ret && fp32_text)
		ret = read_lines(fp32_text, &ft, msg, sizeof(msg));
	else if (!ret && !no_fp32)
		ret = ocr_page(&m, &page, &ft, msg, sizeof(msg));
	if (!ret && !fp32_only) {
		ret = quantized_setup(&m, &s, &qz, msg, sizeof(msg));
		have_qz = !ret;
		if (!ret)
			ret = ocr_page(&m, &page, &qt, msg, sizeof(msg));
	}
	if (ret) {
		fprintf(stderr, "nuq ocr: %s\n", msg);
		ret = 1;
		goto out;
	}
	if (text_only) {
		const struct page_text *t = fp32_only ? &ft : &qt;

		for (i = 0; i < t->n; i++)
			printf("%s\n", t->line[i]);
		goto done;
	}
	printf("%s: %dx%d, %zu text lines (fp32%s, %.2f s)", argv[optind], page.w, page.h, ft.n,
	       fp32_text ? " from a file" : no_fp32 ? " not run" : "", ft.seconds);
	if (!fp32_only)
		printf(", %zu (quantized, %.2f s)", qt.n, qt.seconds);
	printf("\n");
	for (i = 0; i < ft.n || (!fp32_only && i < qt.n); i++) {
		const char *a = i < ft.n ? ft.line[i] : "", *b = i < qt.n ? qt.line[i] : "";

		printf("%3zu fp32 : %s%s\n", i + 1, a,
		       i < ft.n && ft.rotated && ft.rotated[i] ? "  (was upside down)" : "");
		if (!fp32_only)
			printf("    nuq  : %s%s\n", b, strcmp(a, b) ? "" : "  (same)");
	}
	if (!fp32_only) {
		if (s.nuq_dir)
			printf("weights from %s/*.nuq, activations %s-calibrated:\n", s.nuq_dir,
			       nuq_calib_name(s.qe.calib));
		else
			printf("weights %s %u-bit, layout %s, activations %s-calibrated:\n",
			       nuq_qmethod_name(s.opts.q.method), s.opts.q.bits,
			       s.budget ? "chosen per layer" : nuq_gran_name(s.opts.gran),
			       nuq_calib_name(s.qe.calib));
		print_stats(&m, &qz, s.qe.device);
	}
done:
	ret = 0;
out:
	if (have_qz)
		quantized_free(&m, &qz);
	page_text_free(&ft);
	page_text_free(&qt);
	ocr_models_free(&m);
	nuq_image_free(&page);
	return ret;
}

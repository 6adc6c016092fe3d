// SPDX-License-Identifier: GPL-2.0
/*
 * nuq run / nuq calibrate: the model inputs named on the command line.
 * A file is a .npy array if it starts with numpy's magic, else a picture
 * (JPEG or PNG), made into the declared tensor by <nuq/input.h> with the
 * preprocessing options below.
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model_io.h"

enum {
	OPT_SIZE = 0x100, OPT_LAYOUT, OPT_BGR, OPT_SCALE, OPT_MEAN, OPT_STD, OPT_ALPHA,
};

const struct option image_longopts[] = {
	{ "size", required_argument, NULL, OPT_SIZE },
	{ "layout", required_argument, NULL, OPT_LAYOUT },
	{ "bgr", no_argument, NULL, OPT_BGR },
	{ "scale", required_argument, NULL, OPT_SCALE },
	{ "mean", required_argument, NULL, OPT_MEAN },
	{ "std", required_argument, NULL, OPT_STD },
	{ "alpha", required_argument, NULL, OPT_ALPHA },
	{}
};

const char image_opts_help[] =
	"  Pictures (JPEG, PNG) become the tensor the input declares; defaults from its shape:\n"
	"      --size WxH        resize to W x H (default: the declared size, else the picture's)\n"
	"      --layout L        nchw or nhwc (default: where the shape has 1, 3 or 4 channels)\n"
	"      --bgr             channels in B, G, R order (default R, G, B)\n"
	"      --scale S         value = pixel * S (default 1/255: 0..1)\n"
	"      --mean M[,M,M]    then minus the mean, per channel (default 0)\n"
	"      --std S[,S,S]     then divided by the std, per channel (default 1)\n"
	"      --alpha A         a fourth channel's value, for RGBA inputs (default 1)\n";

struct option *with_image_longopts(const struct option *o, size_t n)
{
	size_t b = 0;
	struct option *all;

	while (image_longopts[b].name)
		b++;
	all = calloc(n + b + 1, sizeof(*all));
	if (all) {
		memcpy(all, o, n * sizeof(*all));
		memcpy(all + n, image_longopts, b * sizeof(*all));
	}
	return all;
}

/* "A" or "A,B,C" into v[0..3] (one value stands for every channel). */
static int parse_floats(const char *s, float *v)
{
	char *end;
	int n = 0;

	for (;;) {
		errno = 0;
		v[n] = strtof(s, &end);
		if (errno || end == s || n == 4)
			return -1;
		n++;
		if (!*end)
			break;
		if (*end != ',')
			return -1;
		s = end + 1;
	}
	if (n == 1)
		v[1] = v[2] = v[3] = v[0];
	return n == 2 ? -1 : 0;
}

int image_opt(const char *cmd, int c, const char *arg, struct nuq_input_opts *o)
{
	char junk;

	switch (c) {
	case OPT_SIZE:
		if (sscanf(arg, "%dx%d%c", &o->width, &o->height, &junk) != 2 || o->width <= 0 ||
		    o->height <= 0 || o->width > 16384 || o->height > 16384) {
			fprintf(stderr, "nuq %s: --size takes WIDTHxHEIGHT, e.g. 224x224\n", cmd);
			return 2;
		}
		return 1;
	case OPT_LAYOUT:
		if (!strcmp(arg, "nchw")) {
			o->layout = NUQ_INPUT_NCHW;
		} else if (!strcmp(arg, "nhwc")) {
			o->layout = NUQ_INPUT_NHWC;
		} else {
			fprintf(stderr, "nuq %s: --layout is nchw or nhwc\n", cmd);
			return 2;
		}
		return 1;
	case OPT_BGR:
		o->bgr = 1;
		return 1;
	case OPT_SCALE:
	case OPT_ALPHA: {
		float v[4];

		if (parse_floats(arg, v) || strchr(arg, ',')) {
			fprintf(stderr, "nuq %s: --%s takes one number\n", cmd,
				c == OPT_SCALE ? "scale" : "alpha");
			return 2;
		}
		if (c == OPT_SCALE) {
			o->has_scale = 1;
			o->scale = v[0];
		} else {
			o->has_alpha = 1;
			o->alpha = v[0];
		}
		return 1;
	}
	case OPT_MEAN:
	case OPT_STD:
		if (parse_floats(arg, c == OPT_MEAN ? o->mean : o->std)) {
			fprintf(stderr, "nuq %s: --%s takes one number or one per channel (R,G,B)\n",
				cmd, c == OPT_MEAN ? "mean" : "std");
			return 2;
		}
		*(c == OPT_MEAN ? &o->has_mean : &o->has_std) = 1;
		if (c == OPT_STD)
			o->std[3] = 1.0f;
		return 1;
	}
	return 0;
}

static int is_npy(const char *path)
{
	unsigned char b[6] = { 0 };
	FILE *f = fopen(path, "rb");
	size_t n;

	if (!f)
		return 0;
	n = fread(b, 1, sizeof(b), f);
	fclose(f);
	return n == 6 && !memcmp(b, "\x93NUMPY", 6);
}

/* Input @i of the graph from @path. */
static int load_one(const struct nuq_graph *g, size_t i, const char *path,
		    const struct nuq_input_opts *o, struct model_feed *f, char *msg, size_t msglen)
{
	const struct nuq_graph_io *io = nuq_graph_input_info(g, i);
	char why[400];
	struct nuq_rgb im;
	int ret;

	if (is_npy(path)) {
		ret = nuq_npy_read(path, &f->t[i], msg, msglen);
		if (!ret && i < 8)
			snprintf(f->desc[i], sizeof(f->desc[i]), "%s (.npy)", path);
		return ret;
	}
	ret = nuq_rgb_load(path, &im, why, sizeof(why));
	if (ret) {
		snprintf(msg, msglen, "%s (not a .npy file either)", why);
		return ret;
	}
	ret = nuq_input_from_image(&im, io, o, &f->t[i], why, sizeof(why));
	if (ret)
		snprintf(msg, msglen, "%s: %s", path, why);
	else if (i < 8)
		nuq_input_describe(io, o, &f->t[i], f->desc[i], sizeof(f->desc[i]));
	nuq_rgb_free(&im);
	return ret;
}

int model_feed_build(const struct nuq_graph *g, char **specs, size_t nspecs,
		     const struct nuq_input_opts *o, struct model_feed *f, char *msg,
		     size_t msglen)
{
	size_t n = nuq_graph_ninputs(g), next = 0, k;
	int ret = 0;

	memset(f, 0, sizeof(*f));
	f->t = calloc(n + 1, sizeof(*f->t));
	f->feeds = calloc(n + 1, sizeof(*f->feeds));
	if (!f->t || !f->feeds) {
		model_feed_free(f);
		return -ENOMEM;
	}
	f->n = n;
	for (k = 0; k < nspecs && !ret; k++) {
		const char *eq = strchr(specs[k], '=');
		int i = -1;

		if (eq) {
			char name[256];

			snprintf(name, sizeof(name), "%.*s", (int)(eq - specs[k]), specs[k]);
			i = nuq_graph_find_input(g, name);
			if (i < 0) {
				snprintf(msg, msglen, "--input %s: the model has no input '%s'", specs[k],
					 name);
				ret = -EINVAL;
				break;
			}
		} else {
			while (next < n && f->feeds[next].name)
				next++;
			i = (int)next;
		}
		if ((size_t)i >= n) {
			snprintf(msg, msglen, "--input %s: the model has only %zu input%s", specs[k], n,
				 n == 1 ? "" : "s");
			ret = -EINVAL;
		} else if (f->feeds[i].name) {
			snprintf(msg, msglen, "--input %s: input '%s' is given twice", specs[k],
				 nuq_graph_input_info(g, i)->name);
			ret = -EINVAL;
		} else {
			ret = load_one(g, i, eq ? eq + 1 : specs[k], o, f, msg, msglen);
			f->feeds[i].name = nuq_graph_input_info(g, i)->name;
			f->feeds[i].tensor = &f->t[i];
		}
	}
	for (k = 0; k < n && !ret; k++)
		if (!f->feeds[k].name) {
			snprintf(msg, msglen, "input '%s' has no --input (the model takes %zu)",
				 nuq_graph_input_info(g, k)->name, n);
			ret = -EINVAL;
		}
	if (ret)
		model_feed_free(f);
	return ret;
}

void model_feed_free(struct model_feed *f)
{
	size_t i;

	for (i = 0; f->t && i < f->n; i++)
		nuq_tensor_free(&f->t[i]);
	free(f->t);
	free(f->feeds);
	memset(f, 0, sizeof(*f));
}

static int by_name(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int list_input_files(const char *dir, char ***files, size_t *n, char *msg, size_t msglen)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	size_t cap = 0;
	char **v = NULL;

	*files = NULL;
	*n = 0;
	if (!d) {
		snprintf(msg, msglen, "%s: %s", dir, strerror(errno));
		return -errno;
	}
	while ((e = readdir(d))) {
		const char *dot = strrchr(e->d_name, '.');

		if (e->d_name[0] == '.' || !dot ||
		    (strcasecmp(dot, ".png") && strcasecmp(dot, ".jpg") &&
		     strcasecmp(dot, ".jpeg") && strcasecmp(dot, ".npy")))
			continue;
		if (*n == cap) {
			void *p = realloc(v, (cap = cap ? 2 * cap : 16) * sizeof(*v));

			if (!p)
				goto nomem;
			v = p;
		}
		if (asprintf(&v[*n], "%s/%s", dir, e->d_name) < 0)
			goto nomem;
		(*n)++;
	}
	closedir(d);
	if (!*n) {
		free(v);
		snprintf(msg, msglen, "%s: no .png, .jpg or .npy files", dir);
		return -ENOENT;
	}
	qsort(v, *n, sizeof(*v), by_name);
	*files = v;
	return 0;
nomem:
	closedir(d);
	free_file_list(v, *n);
	*n = 0;
	return -ENOMEM;
}

void free_file_list(char **files, size_t n)
{
	size_t i;

	for (i = 0; files && i < n; i++)
		free(files[i]);
	free(files);
}

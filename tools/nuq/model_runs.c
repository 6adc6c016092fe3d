// SPDX-License-Identifier: GPL-2.0
/*
 * nuq: the calibration runs of any model - for a model with one input,
 * each picture or .npy file is a run; for a model with several, each
 * subdirectory of --calib-dir (in name order) is a run holding one file
 * per input called after it (NAME.npy, NAME.png, NAME.jpg; '/' and ':'
 * in NAME as '_', as --save writes them), or each --calib-input is one
 * run's files, comma-separated, as --input takes them ([NAME=]FILE).
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "model_io.h"

/* Run @k's inputs from @specs (as --input takes them) into @r. */
static int load_run(const struct nuq_graph *g, char **specs, size_t nspecs,
		    const struct nuq_input_opts *o, struct model_runs *r, size_t k, char *msg,
		    size_t msglen)
{
	struct model_feed f;
	size_t j;
	int ret;

	ret = model_feed_build(g, specs, nspecs, o, &f, msg, msglen);
	if (ret)
		return ret;
	for (j = 0; j < r->nfeeds; j++) {
		r->t[k * r->nfeeds + j] = f.t[j];
		memset(&f.t[j], 0, sizeof(f.t[j]));
		r->feeds[k * r->nfeeds + j].name = f.feeds[j].name;
		r->feeds[k * r->nfeeds + j].tensor = &r->t[k * r->nfeeds + j];
	}
	model_feed_free(&f);
	r->n = k + 1;
	return 0;
}

/* @dir/@name.EXT for the first EXT that exists, as a "NAME=PATH" spec (malloc'd). */
static char *input_file(const char *dir, const char *name)
{
	static const char *const exts[] = { "npy", "png", "jpg", "jpeg" };
	char base[256], *spec;
	size_t i;

	snprintf(base, sizeof(base), "%s", name);
	for (i = 0; base[i]; i++)
		if (base[i] == '/' || base[i] == ':')
			base[i] = '_';
	for (i = 0; i < 4; i++) {
		if (asprintf(&spec, "%s=%s/%s.%s", name, dir, base, exts[i]) < 0)
			return NULL;
		if (!access(strchr(spec, '=') + 1, R_OK))
			return spec;
		free(spec);
	}
	return NULL;
}

static int by_name(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The subdirectories of @dir, sorted. */
static int list_subdirs(const char *dir, char ***out, size_t *n, char *msg, size_t msglen)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	char **v = NULL;
	size_t cap = 0;

	*n = 0;
	if (!d) {
		snprintf(msg, msglen, "%s: %s", dir, strerror(errno));
		return -errno;
	}
	while ((e = readdir(d))) {
		char *path;
		DIR *sub;

		if (e->d_name[0] == '.' || asprintf(&path, "%s/%s", dir, e->d_name) < 0)
			continue;
		sub = opendir(path);
		if (!sub) {
			free(path);
			continue;
		}
		closedir(sub);
		if (*n == cap) {
			char **p = realloc(v, (cap = cap ? 2 * cap : 16) * sizeof(*v));

			if (!p) {
				free(path);
				break;
			}
			v = p;
		}
		v[(*n)++] = path;
	}
	closedir(d);
	if (!*n) {
		free(v);
		snprintf(msg, msglen,
			 "%s: the model has several inputs, so each calibration run is a subdirectory holding one file per input (NAME.npy, .png or .jpg); there are none",
			 dir);
		return -ENOENT;
	}
	qsort(v, *n, sizeof(*v), by_name);
	*out = v;
	return 0;
}

/* The runs of a model with several inputs. */
static int load_multi(const struct nuq_graph *g, const char *dir, char **files, size_t nfiles,
		      const struct nuq_input_opts *o, struct model_runs *r, char *msg,
		      size_t msglen)
{
	char **subs = NULL, *specs[64];
	size_t nruns = nfiles, k, j, ns;
	int ret = 0;

	if (r->nfeeds > 64) {
		snprintf(msg, msglen, "calibrating a model with %zu inputs (more than 64)", r->nfeeds);
		return -EOPNOTSUPP;
	}
	if (dir) {
		ret = list_subdirs(dir, &subs, &nruns, msg, msglen);
		if (ret)
			return ret;
	}
	r->t = calloc(nruns * r->nfeeds + 1, sizeof(*r->t));
	r->feeds = calloc(nruns * r->nfeeds + 1, sizeof(*r->feeds));
	if (!r->t || !r->feeds)
		ret = -ENOMEM;
	for (k = 0; !ret && k < nruns; k++) {
		char *list = NULL, *save, *tok;

		ns = 0;
		if (subs) {
			for (j = 0; !ret && j < r->nfeeds; j++) {
				const char *name = nuq_graph_input_info(g, j)->name;

				specs[ns] = input_file(subs[k], name);
				if (!specs[ns]) {
					snprintf(msg, msglen, "%s: no %s.npy, .png or .jpg for input '%s'",
						 subs[k], name, name);
					ret = -ENOENT;
				} else {
					ns++;
				}
			}
		} else {
			list = strdup(files[k]);
			if (!list)
				ret = -ENOMEM;
			for (tok = list ? strtok_r(list, ",", &save) : NULL; tok && ns < 64;
			     tok = strtok_r(NULL, ",", &save))
				specs[ns++] = tok;
		}
		if (!ret)
			ret = load_run(g, specs, ns, o, r, k, msg, msglen);
		if (subs)
			for (j = 0; j < ns; j++)
				free(specs[j]);
		free(list);
	}
	free_file_list(subs, subs ? nruns : 0);
	return ret;
}

int load_model_runs(const struct nuq_graph *g, const char *dir, char **files, size_t nfiles,
		    const struct nuq_input_opts *o, struct model_runs *r, char *msg,
		    size_t msglen)
{
	char **listed = NULL;
	size_t k;
	int ret = 0;

	memset(r, 0, sizeof(*r));
	r->nfeeds = nuq_graph_ninputs(g);
	if (r->nfeeds != 1) {
		ret = load_multi(g, dir, files, nfiles, o, r, msg, msglen);
		goto out;
	}
	if (dir) {
		ret = list_input_files(dir, &listed, &nfiles, msg, msglen);
		if (ret)
			return ret;
		files = listed;
	}
	r->t = calloc(nfiles + 1, sizeof(*r->t));
	r->feeds = calloc(nfiles + 1, sizeof(*r->feeds));
	if (!r->t || !r->feeds)
		ret = -ENOMEM;
	for (k = 0; !ret && k < nfiles; k++)
		ret = load_run(g, &files[k], 1, o, r, k, msg, msglen);
	free_file_list(listed, listed ? nfiles : 0);
out:
	if (ret)
		model_runs_free(r);
	return ret;
}

void model_runs_free(struct model_runs *r)
{
	size_t k;

	for (k = 0; r->t && k < r->n * r->nfeeds; k++)
		nuq_tensor_free(&r->t[k]);
	free(r->t);
	free(r->feeds);
	memset(r, 0, sizeof(*r));
}

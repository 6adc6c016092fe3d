// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * libnuq: calibration results in a file, so a model is calibrated once
 * (on a fast machine) and run anywhere.  The format is text, one record
 * per line (Documentation/models.rst):
 *
 *	nuq-calibration 1
 *	method percentile
 *	range VALUE LO HI
 *	mean VALUE N M0 M1 ... M(N-1)
 *
 * The loader checks every record against the graph: unknown values,
 * wrong channel counts, non-finite numbers, duplicates and missing
 * ranges are errors naming the line.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "msg.h"
#include "qexec_priv.h"

#define CALIB_MAGIC	"nuq-calibration 1"
#define CALIB_MAX_LINE	(1u << 20)

int nuq_qexec_save_calibration(const struct nuq_qexec *q, const char *path, char *msg,
			       size_t msglen)
{
	const struct nuq_graph *g = q->g;
	char tmp[4096];
	size_t i;
	int64_t c;
	FILE *f;

	if (!q->calibrated)
		return nuq_fail(msg, msglen, -EINVAL, "nothing to save: not calibrated");
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	f = fopen(tmp, "w");
	if (!f)
		return nuq_fail(msg, msglen, -errno, "%s: %s", tmp, strerror(errno));
	fprintf(f, "%s\nmethod %s\n", CALIB_MAGIC, nuq_calib_name(q->o.calib));
	for (i = 0; i < g->nvalues; i++) {
		const struct qval *v = &q->vals[i];

		if (v->tracked)
			fprintf(f, "range %s %.9g %.9g\n", g->values[i].name, v->lo, v->hi);
		if (v->want_mean && v->csum && v->cper) {
			fprintf(f, "mean %s %lld", g->values[i].name, (long long)v->nch);
			for (c = 0; c < v->nch; c++)
				fprintf(f, " %.9g", v->csum[c] / (double)v->cper);
			fputc('\n', f);
		}
	}
	if (fclose(f) || rename(tmp, path)) {
		int err = -errno;

		unlink(tmp);
		return nuq_fail(msg, msglen, err, "%s: %s", path, strerror(-err));
	}
	return 0;
}

static int find_value(const struct nuq_graph *g, const char *name)
{
	size_t i;

	for (i = 0; i < g->nvalues; i++)
		if (!strcmp(g->values[i].name, name))
			return (int)i;
	return -1;
}

/* Channels the conv reading @v expects, or -1. */
static int64_t conv_channels(const struct nuq_qexec *q, int v)
{
	size_t i;

	for (i = 0; i < q->g->nnodes; i++) {
		const struct nuq_node *n = &q->g->nodes[i];

		if (n->nin && n->in[0] == v && q->qn[i].orig_w)
			return n->w.dims[1] * n->a.group;
	}
	return -1;
}

static int parse_line(struct nuq_qexec *q, char *line, char *seen, char *msg, size_t msglen)
{
	char *save, *kind = strtok_r(line, " \t\n", &save), *name, *tok, *end;
	struct qval *v;
	long long n, c;
	int id;

	if (!kind || *kind == '#')
		return 0;
	if (!strcmp(kind, "method")) {
		enum nuq_calib m;

		tok = strtok_r(NULL, " \t\n", &save);
		return tok && !nuq_calib_parse(tok, &m) ? 0 :
		       nuq_fail(msg, msglen, -EINVAL, "unknown calibration method");
	}
	name = strtok_r(NULL, " \t\n", &save);
	if (!name)
		return nuq_fail(msg, msglen, -EINVAL, "'%s' without a value name", kind);
	id = find_value(q->g, name);
	if (id < 0)
		return nuq_fail(msg, msglen, -ENOENT, "the model has no value '%s'", name);
	v = &q->vals[id];
	if (!strcmp(kind, "range")) {
		float r[2];

		if (!v->tracked)
			return nuq_fail(msg, msglen, -EINVAL, "'%s' is not an input or output of a job",
					name);
		for (c = 0; c < 2; c++) {
			tok = strtok_r(NULL, " \t\n", &save);
			r[c] = tok ? strtof(tok, &end) : NAN;
			if (!tok || *end || !isfinite(r[c]))
				return nuq_fail(msg, msglen, -EINVAL, "bad range for '%s'", name);
		}
		if (r[0] > r[1] || (seen[id] & 1))
			return nuq_fail(msg, msglen, -EINVAL, "empty or repeated range for '%s'", name);
		v->lo = r[0];
		v->hi = r[1];
		seen[id] |= 1;
		return 0;
	}
	if (strcmp(kind, "mean"))
		return nuq_fail(msg, msglen, -EINVAL, "unknown record '%s'", kind);
	tok = strtok_r(NULL, " \t\n", &save);
	n = tok ? strtoll(tok, &end, 10) : -1;
	if (!tok || *end || !v->want_mean || n != conv_channels(q, id) || (seen[id] & 2))
		return nuq_fail(msg, msglen, -EINVAL,
				"means for '%s' do not match a quantized conv's input", name);
	free(v->csum);
	v->csum = calloc((size_t)n, sizeof(double));
	if (!v->csum)
		return -ENOMEM;
	for (c = 0; c < n; c++) {
		tok = strtok_r(NULL, " \t\n", &save);
		v->csum[c] = tok ? strtod(tok, &end) : NAN;
		if (!tok || *end || !isfinite(v->csum[c]))
			return nuq_fail(msg, msglen, -EINVAL, "bad mean %lld for '%s'", c, name);
	}
	if (strtok_r(NULL, " \t\n", &save))
		return nuq_fail(msg, msglen, -EINVAL, "more than %lld means for '%s'", n, name);
	v->nch = n;
	v->cper = 1;
	seen[id] |= 2;
	return 0;
}

int nuq_qexec_load_calibration(struct nuq_qexec *q, const char *path, char *msg, size_t msglen)
{
	struct nuq_graph *g = q->g;
	char *line = NULL, *seen;
	size_t cap = 0, i, lineno = 0;
	ssize_t len;
	int ret = 0;
	FILE *f;

	f = fopen(path, "r");
	if (!f)
		return nuq_fail(msg, msglen, -errno, "%s: %s", path, strerror(errno));
	seen = calloc(g->nvalues + 1, 1);
	if (!seen) {
		fclose(f);
		return -ENOMEM;
	}
	nuq_qexec_reset(q);
	while (!ret && (len = getline(&line, &cap, f)) >= 0) {
		lineno++;
		if ((size_t)len > CALIB_MAX_LINE)
			ret = nuq_fail(msg, msglen, -E2BIG, "line too long");
		else if (lineno == 1)
			ret = strncmp(line, CALIB_MAGIC, strlen(CALIB_MAGIC)) ?
			      nuq_fail(msg, msglen, -EBADMSG, "not a nuq calibration file") : 0;
		else
			ret = parse_line(q, line, seen, msg, msglen);
	}
	for (i = 0; !ret && i < g->nvalues; i++)
		if (q->vals[i].tracked && !(seen[i] & 1)) {
			ret = nuq_fail(msg, msglen, -EINVAL, "no range for '%s'", g->values[i].name);
			lineno = 0;
		}
	if (!ret && !lineno)
		ret = nuq_fail(msg, msglen, -EBADMSG, "empty file");
	free(line);
	free(seen);
	fclose(f);
	if (ret) {
		char reason[256];

		snprintf(reason, sizeof(reason), "%s", msg ? msg : "");
		if (lineno)
			nuq_fail(msg, msglen, ret, "%s:%zu: %s", path, lineno, reason);
		else
			nuq_fail(msg, msglen, ret, "%s: %s", path, reason);
		return ret;
	}
	for (i = 0; i < g->nnodes; i++) {
		ret = nuq_qexec_correct_bias(q, &q->qn[i]);
		if (ret)
			return nuq_fail(msg, msglen, ret, "out of memory");
	}
	return nuq_qexec_apply(q);
}

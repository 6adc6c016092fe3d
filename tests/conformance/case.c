// SPDX-License-Identifier: GPL-2.0
/*
 * One conformance case: import model.onnx, and for every test_data_set_N
 * feed input_*.pb to the fp32 executor and compare each graph output
 * with output_*.pb as ONNX's backend tests do (same shape, same kind of
 * element, |out - ref| <= atol + rtol * |ref|, NaN equal to NaN).
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "conformance.h"
#include "onnx.pb-c.h"

#define MAX_IO	64

static int is_float_type(int t)
{
	return t == ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT ||
	       t == ONNX__TENSOR_PROTO__DATA_TYPE__DOUBLE ||
	       t == ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT16 ||
	       t == ONNX__TENSOR_PROTO__DATA_TYPE__BFLOAT16;
}

static void shape_str(char *buf, size_t size, unsigned int nd, const int64_t *dims)
{
	size_t len = (size_t)snprintf(buf, size, "[");
	unsigned int d;

	for (d = 0; d < nd && len < size; d++)
		len += (size_t)snprintf(buf + len, size - len, "%s%lld", d ? "," : "",
					(long long)dims[d]);
	if (len < size)
		snprintf(buf + len, size - len, "]");
}

/* 0 when @out matches @ref; else 1 with the first difference in @why. */
static int compare(const char *name, const struct nuq_tensor *out, const struct pb_tensor *ref,
		   char *why, size_t whylen)
{
	char a[96], b[96];
	size_t i, bad = 0, first = 0;
	double worst = 0;

	if (out->ndims != ref->ndims ||
	    memcmp(out->dims, ref->dims, ref->ndims * sizeof(ref->dims[0]))) {
		shape_str(a, sizeof(a), out->ndims, out->dims);
		shape_str(b, sizeof(b), ref->ndims, ref->dims);
		snprintf(why, whylen, "output '%s' has shape %s, expected %s", name, a, b);
		return 1;
	}
	if ((out->dtype == NUQ_DT_FLOAT) != is_float_type(ref->elem_type)) {
		snprintf(why, whylen, "output '%s' is %s, expected %s", name,
			 out->dtype == NUQ_DT_FLOAT ? "float32" : "int64",
			 nuq_graph_dtype_name(ref->elem_type));
		return 1;
	}
	for (i = 0; i < ref->count; i++) {
		if (out->dtype == NUQ_DT_FLOAT) {
			double o = out->f[i], r = ref->v[i], d = fabs(o - r);

			if ((isnan(o) && isnan(r)) || o == r)
				continue;
			if (!isnan(d) && d <= CONF_ATOL + CONF_RTOL * fabs(r))
				continue;
			if (!bad || isnan(d) || d > worst)
				worst = isnan(d) ? INFINITY : d;
		} else if (out->i[i] == ref->iv[i]) {
			continue;
		}
		if (!bad++)
			first = i;
	}
	if (!bad)
		return 0;
	if (out->dtype == NUQ_DT_FLOAT)
		snprintf(why, whylen,
			 "output '%s': %zu of %zu elements differ, first [%zu] %.7g expected %.7g, "
			 "max |diff| %.3g", name, bad, ref->count, first, out->f[first],
			 ref->v[first], worst);
	else
		snprintf(why, whylen, "output '%s': %zu of %zu elements differ, first [%zu] %lld expected %lld",
			 name, bad, ref->count, first, (long long)out->i[first],
			 (long long)ref->iv[first]);
	return 1;
}

static int file_exists(const char *path)
{
	return access(path, R_OK) == 0;
}

/* Inputs of one data set as feeds; CASE_PASS when all are ready. */
static enum case_result read_inputs(const struct nuq_graph *g, const char *set,
				    struct nuq_tensor *xs, struct nuq_graph_feed *feeds,
				    size_t *nfeeds, char *why, size_t whylen)
{
	char path[4096];
	size_t k;

	for (k = 0; k < MAX_IO; k++) {
		const struct nuq_graph_io *io;
		struct pb_tensor t;
		int idx, ret;

		if (snprintf(path, sizeof(path), "%s/input_%zu.pb", set, k) >= (int)sizeof(path) ||
		    !file_exists(path))
			break;
		ret = pb_tensor_read(path, &t, why, whylen);
		/* By name when the file has one the graph knows, else by position. */
		idx = nuq_graph_find_input(g, t.name);
		if (idx < 0)
			idx = (int)k;
		io = nuq_graph_input_info(g, (size_t)idx);
		if (ret && ret != -EOPNOTSUPP)
			return CASE_WRONG;	/* a broken file of the suite's own */
		if (!ret)
			ret = pb_tensor_to_nuq(&t, &xs[k]);
		if (ret == -EOPNOTSUPP)
			snprintf(why, whylen, "input '%s' is %s; nuq's executor takes float32, "
				 "int64 and int32 inputs", io ? io->name : "?",
				 nuq_graph_dtype_name(io && io->elem_type ? io->elem_type : t.elem_type));
		else if (ret)
			snprintf(why, whylen, "input %zu: cannot allocate", k);
		pb_tensor_free(&t);
		if (ret) {
			*nfeeds = k;
			return CASE_REFUSED;
		}
		feeds[k].name = io ? io->name : "(extra input)";
		feeds[k].tensor = &xs[k];
	}
	*nfeeds = k;
	return CASE_PASS;
}

static enum case_result run_set(struct nuq_graph *g, const char *set, char *why, size_t whylen)
{
	struct nuq_tensor xs[MAX_IO], ys[MAX_IO];
	struct nuq_graph_feed feeds[MAX_IO];
	size_t nfeeds = 0, nref, k, nout = nuq_graph_noutputs(g);
	enum case_result res;
	char path[4096];

	memset(xs, 0, sizeof(xs));
	memset(ys, 0, sizeof(ys));
	res = read_inputs(g, set, xs, feeds, &nfeeds, why, whylen);
	if (res == CASE_PASS && nout > MAX_IO) {
		snprintf(why, whylen, "%zu outputs (the runner takes %d)", nout, MAX_IO);
		res = CASE_WRONG;
	}
	if (res == CASE_PASS && nuq_graph_run_all(g, feeds, nfeeds, ys, why, whylen))
		res = CASE_REFUSED;
	for (nref = 0; res == CASE_PASS; nref++) {
		struct pb_tensor ref;

		if (snprintf(path, sizeof(path), "%s/output_%zu.pb", set, nref) >=
		    (int)sizeof(path) || !file_exists(path))
			break;
		if (nref >= nout) {
			snprintf(why, whylen, "the graph has %zu outputs, the data set more", nout);
			res = CASE_WRONG;
		} else if (pb_tensor_read(path, &ref, why, whylen)) {
			res = CASE_WRONG;
		} else {
			if (compare(nuq_graph_output_info(g, nref)->name, &ys[nref], &ref, why,
				    whylen))
				res = CASE_WRONG;
			pb_tensor_free(&ref);
		}
	}
	if (res == CASE_PASS && nref != nout) {
		snprintf(why, whylen, "the graph has %zu outputs, the data set %zu", nout, nref);
		res = CASE_WRONG;
	}
	for (k = 0; k < MAX_IO; k++) {
		nuq_tensor_free(&xs[k]);
		nuq_tensor_free(&ys[k]);
	}
	return res;
}

enum case_result case_run(const char *dir, char *why, size_t whylen)
{
	enum case_result res = CASE_PASS;
	struct nuq_onnx *m = NULL;
	struct nuq_graph *g = NULL;
	char path[4096];
	size_t k;

	snprintf(path, sizeof(path), "%s/model.onnx", dir);
	if (!file_exists(path)) {
		snprintf(why, whylen, "no model.onnx");
		return CASE_SKIP;
	}
	if (nuq_onnx_load(path, &m, why, whylen) || nuq_graph_import(m, &g, why, whylen)) {
		nuq_onnx_free(m);
		return CASE_REFUSED;
	}
	for (k = 0; res == CASE_PASS; k++) {
		snprintf(path, sizeof(path), "%s/test_data_set_%zu", dir, k);
		if (!file_exists(path))
			break;
		res = run_set(g, path, why, whylen);
	}
	if (res == CASE_PASS && !k) {
		snprintf(why, whylen, "no test_data_set_0");
		res = CASE_SKIP;
	}
	nuq_graph_free(g);
	nuq_onnx_free(m);
	return res;
}

// SPDX-License-Identifier: GPL-2.0
/*
 * TensorProto files of the conformance suite, decoded here rather than
 * by libnuq: the expected outputs come in every ONNX element type (bool,
 * uint8, double, float16...), and widening them all to double lets one
 * comparison serve every case, whatever nuq itself can represent.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conformance.h"
#include "onnx.pb-c.h"

static uint8_t *read_file(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	uint8_t *buf = NULL;
	long size;

	if (!f)
		return NULL;
	if (fseek(f, 0, SEEK_END) == 0 && (size = ftell(f)) >= 0 && fseek(f, 0, SEEK_SET) == 0) {
		buf = malloc((size_t)size + 1);
		if (buf && fread(buf, 1, (size_t)size, f) != (size_t)size) {
			free(buf);
			buf = NULL;
		}
		*len = (size_t)size;
	}
	fclose(f);
	return buf;
}

static double half_to_double(uint16_t h)
{
	int e = (h >> 10) & 0x1f, m = h & 0x3ff;
	double v;

	if (e == 0)
		v = ldexp(m, -24);
	else if (e == 31)
		v = m ? NAN : INFINITY;
	else
		v = ldexp(m | 0x400, e - 25);
	return h & 0x8000 ? -v : v;
}

static double bf16_to_double(uint16_t b)
{
	uint32_t u = (uint32_t)b << 16;
	float f;

	memcpy(&f, &u, sizeof(f));
	return f;
}

/* Bytes per element in raw_data, or 0 for types this reader does not decode. */
static size_t raw_size(int type)
{
	switch (type) {
	case ONNX__TENSOR_PROTO__DATA_TYPE__UINT8:
	case ONNX__TENSOR_PROTO__DATA_TYPE__INT8:
	case ONNX__TENSOR_PROTO__DATA_TYPE__BOOL:
		return 1;
	case ONNX__TENSOR_PROTO__DATA_TYPE__UINT16:
	case ONNX__TENSOR_PROTO__DATA_TYPE__INT16:
	case ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT16:
	case ONNX__TENSOR_PROTO__DATA_TYPE__BFLOAT16:
		return 2;
	case ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT:
	case ONNX__TENSOR_PROTO__DATA_TYPE__INT32:
	case ONNX__TENSOR_PROTO__DATA_TYPE__UINT32:
		return 4;
	case ONNX__TENSOR_PROTO__DATA_TYPE__INT64:
	case ONNX__TENSOR_PROTO__DATA_TYPE__UINT64:
	case ONNX__TENSOR_PROTO__DATA_TYPE__DOUBLE:
		return 8;
	default:
		return 0;
	}
}

/* One little-endian raw element (x86 is little-endian, as the format). */
static double raw_elem(int type, const uint8_t *p)
{
	union { uint8_t u8; int8_t i8; uint16_t u16; int16_t i16; uint32_t u32; int32_t i32;
		uint64_t u64; int64_t i64; float f; double d; } u;

	memcpy(&u, p, raw_size(type));
	switch (type) {
	case ONNX__TENSOR_PROTO__DATA_TYPE__UINT8:
	case ONNX__TENSOR_PROTO__DATA_TYPE__BOOL:
		return u.u8;
	case ONNX__TENSOR_PROTO__DATA_TYPE__INT8:
		return u.i8;
	case ONNX__TENSOR_PROTO__DATA_TYPE__UINT16:
		return u.u16;
	case ONNX__TENSOR_PROTO__DATA_TYPE__INT16:
		return u.i16;
	case ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT16:
		return half_to_double(u.u16);
	case ONNX__TENSOR_PROTO__DATA_TYPE__BFLOAT16:
		return bf16_to_double(u.u16);
	case ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT:
		return u.f;
	case ONNX__TENSOR_PROTO__DATA_TYPE__INT32:
		return u.i32;
	case ONNX__TENSOR_PROTO__DATA_TYPE__UINT32:
		return u.u32;
	case ONNX__TENSOR_PROTO__DATA_TYPE__INT64:
		return (double)u.i64;
	case ONNX__TENSOR_PROTO__DATA_TYPE__UINT64:
		return (double)u.u64;
	default:
		return u.d;
	}
}

/* The typed repeated fields, by the rules of onnx.proto. */
static int typed_elems(const Onnx__TensorProto *tp, double *v, size_t count)
{
	int type = tp->data_type;
	size_t i;

	switch (type) {
	case ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT:
		if (tp->n_float_data != count)
			return -EBADMSG;
		for (i = 0; i < count; i++)
			v[i] = tp->float_data[i];
		return 0;
	case ONNX__TENSOR_PROTO__DATA_TYPE__DOUBLE:
		if (tp->n_double_data != count)
			return -EBADMSG;
		for (i = 0; i < count; i++)
			v[i] = tp->double_data[i];
		return 0;
	case ONNX__TENSOR_PROTO__DATA_TYPE__INT64:
		if (tp->n_int64_data != count)
			return -EBADMSG;
		for (i = 0; i < count; i++)
			v[i] = (double)tp->int64_data[i];
		return 0;
	case ONNX__TENSOR_PROTO__DATA_TYPE__UINT32:
	case ONNX__TENSOR_PROTO__DATA_TYPE__UINT64:
		if (tp->n_uint64_data != count)
			return -EBADMSG;
		for (i = 0; i < count; i++)
			v[i] = (double)tp->uint64_data[i];
		return 0;
	default:
		if (!raw_size(type) || tp->n_int32_data != count)
			return raw_size(type) ? -EBADMSG : -EOPNOTSUPP;
		for (i = 0; i < count; i++) {
			int32_t x = tp->int32_data[i];

			v[i] = type == ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT16 ?
			       half_to_double((uint16_t)x) :
			       type == ONNX__TENSOR_PROTO__DATA_TYPE__BFLOAT16 ?
			       bf16_to_double((uint16_t)x) : x;
		}
		return 0;
	}
}

int pb_tensor_read(const char *path, struct pb_tensor *t, char *msg, size_t msglen)
{
	Onnx__TensorProto *tp;
	size_t len = 0, i, es;
	uint8_t *buf;
	int ret = 0;

	memset(t, 0, sizeof(*t));
	buf = read_file(path, &len);
	if (!buf) {
		snprintf(msg, msglen, "%s: cannot read", path);
		return -EIO;
	}
	tp = onnx__tensor_proto__unpack(NULL, len, buf);
	free(buf);
	if (!tp || tp->n_dims > NUQ_ONNX_MAX_DIMS) {
		snprintf(msg, msglen, "%s: not a TensorProto of at most %d dims", path,
			 NUQ_ONNX_MAX_DIMS);
		if (tp)
			onnx__tensor_proto__free_unpacked(tp, NULL);
		return -EBADMSG;
	}
	t->elem_type = tp->data_type;
	t->name = tp->name && *tp->name ? strdup(tp->name) : NULL;
	t->ndims = (unsigned int)tp->n_dims;
	t->count = 1;
	for (i = 0; i < tp->n_dims; i++) {
		t->dims[i] = tp->dims[i];
		t->count *= (size_t)tp->dims[i];
	}
	t->v = calloc(t->count + 1, sizeof(double));
	t->iv = calloc(t->count + 1, sizeof(int64_t));
	if (!t->v || !t->iv) {
		ret = -ENOMEM;
	} else if (tp->has_raw_data) {
		es = raw_size(t->elem_type);
		if (!es)
			ret = -EOPNOTSUPP;
		else if (tp->raw_data.len != t->count * es)
			ret = -EBADMSG;
		for (i = 0; !ret && i < t->count; i++)
			t->v[i] = raw_elem(t->elem_type, tp->raw_data.data + i * es);
		for (i = 0; !ret && t->elem_type == ONNX__TENSOR_PROTO__DATA_TYPE__INT64 &&
			    i < t->count; i++)
			memcpy(&t->iv[i], tp->raw_data.data + i * 8, 8);
	} else {
		ret = typed_elems(tp, t->v, t->count);
		for (i = 0; !ret && t->elem_type == ONNX__TENSOR_PROTO__DATA_TYPE__INT64 &&
			    i < t->count; i++)
			t->iv[i] = tp->int64_data[i];
	}
	/* Narrower integers are exact in a double. */
	for (i = 0; !ret && t->elem_type != ONNX__TENSOR_PROTO__DATA_TYPE__INT64 && i < t->count;
	     i++)
		t->iv[i] = isfinite(t->v[i]) && fabs(t->v[i]) < 9e18 ? (int64_t)t->v[i] : 0;
	onnx__tensor_proto__free_unpacked(tp, NULL);
	if (ret) {
		snprintf(msg, msglen, "%s: %s tensor %s", path, nuq_graph_dtype_name(t->elem_type),
			 ret == -EOPNOTSUPP ? "is not readable here" : "has the wrong data size");
		pb_tensor_free(t);
	}
	return ret;
}

void pb_tensor_free(struct pb_tensor *t)
{
	free(t->name);
	free(t->v);
	free(t->iv);
	memset(t, 0, sizeof(*t));
}

/* BOOL, UINT8 and INT8: nuq holds them as themselves (values in t->i). */
static int nuq_dtype_is_narrow_elem(int et)
{
	return et == NUQ_DT_BOOL || et == NUQ_DT_UINT8 || et == NUQ_DT_INT8;
}

int pb_tensor_to_nuq(const struct pb_tensor *t, struct nuq_tensor *out)
{
	enum nuq_dtype dt;
	size_t i;
	int ret;

	if (t->elem_type == ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT)
		dt = NUQ_DT_FLOAT;
	else if (t->elem_type == ONNX__TENSOR_PROTO__DATA_TYPE__INT64 ||
		 t->elem_type == ONNX__TENSOR_PROTO__DATA_TYPE__INT32)
		dt = NUQ_DT_INT64;
	else if (nuq_dtype_is_narrow_elem(t->elem_type))
		dt = (enum nuq_dtype)t->elem_type;
	else
		return -EOPNOTSUPP;
	ret = nuq_tensor_alloc(out, dt, t->ndims, t->dims);
	if (ret)
		return ret;
	for (i = 0; i < t->count; i++) {
		if (dt == NUQ_DT_FLOAT)
			out->f[i] = (float)t->v[i];
		else
			out->i[i] = t->iv[i];
	}
	return 0;
}

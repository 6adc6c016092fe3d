// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * libnuq: numpy's .npy files (format versions 1.0, 2.0 and 3.0), the
 * tensors users already have.  The header is a Python dict literal;
 * only the three keys numpy writes are accepted, in any order, and the
 * data must be exactly as long as the shape says.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <nuq/input.h>

#include "../msg.h"

static const char npy_magic[6] = { '\x93', 'N', 'U', 'M', 'P', 'Y' };

struct npy_kind {
	const char *descr;
	unsigned int size;
	enum nuq_dtype dtype;
};

static const struct npy_kind npy_kinds[] = {
	{ "<f4", 4, NUQ_DT_FLOAT }, { "<f8", 8, NUQ_DT_FLOAT },
	{ "<i8", 8, NUQ_DT_INT64 }, { "<i4", 4, NUQ_DT_INT64 },
	{ "|u1", 1, NUQ_DT_UINT8 }, { "|i1", 1, NUQ_DT_INT8 },
	{ "|b1", 1, NUQ_DT_BOOL },
};

struct npy_header {
	const struct npy_kind *kind;
	int fortran, has_descr, has_order, has_shape;
	unsigned int ndims;
	int64_t dims[NUQ_ONNX_MAX_DIMS];
};

static const char *skip_space(const char *p, const char *end)
{
	while (p < end && (*p == ' ' || *p == '\n'))
		p++;
	return p;
}

/* A quoted string ('...'), copied into @out. */
static const char *parse_string(const char *p, const char *end, char *out, size_t len)
{
	size_t n = 0;

	if (p >= end || *p != '\'')
		return NULL;
	for (p++; p < end && *p != '\''; p++) {
		if (n + 1 >= len)
			return NULL;
		out[n++] = *p;
	}
	out[n] = 0;
	return p < end ? p + 1 : NULL;
}

static const char *parse_shape(const char *p, const char *end, struct npy_header *h)
{
	if (p >= end || *p++ != '(')
		return NULL;
	h->ndims = 0;
	for (;;) {
		int64_t v = 0;

		p = skip_space(p, end);
		if (p < end && *p == ')')
			return p + 1;
		if (p >= end || *p < '0' || *p > '9' || h->ndims == NUQ_ONNX_MAX_DIMS)
			return NULL;
		while (p < end && *p >= '0' && *p <= '9') {
			if (v > (INT64_MAX - 9) / 10)
				return NULL;
			v = v * 10 + (*p++ - '0');
		}
		h->dims[h->ndims++] = v;
		p = skip_space(p, end);
		if (p < end && *p == ',')
			p++;
		else if (p >= end || *p != ')')
			return NULL;
	}
}

/* One "'key': value" entry of the header dict. */
static const char *parse_entry(const char *p, const char *end, struct npy_header *h,
			       char *msg, size_t msglen, const char *what)
{
	char key[16], val[16];
	size_t i;

	p = parse_string(p, end, key, sizeof(key));
	if (!p)
		return NULL;
	p = skip_space(p, end);
	if (p >= end || *p++ != ':')
		return NULL;
	p = skip_space(p, end);
	if (!strcmp(key, "descr") && !h->has_descr) {
		p = parse_string(p, end, val, sizeof(val));
		if (!p)
			return NULL;
		for (i = 0; i < sizeof(npy_kinds) / sizeof(npy_kinds[0]); i++)
			if (!strcmp(val, npy_kinds[i].descr))
				h->kind = &npy_kinds[i];
		if (!h->kind) {
			nuq_fail(msg, msglen, -EINVAL,
				 "%s: element type '%s' is not one nuq reads (float32, float64, int64, int32, uint8, int8, bool; little-endian)",
				 what, val);
			return NULL;
		}
		h->has_descr = 1;
		return p;
	}
	if (!strcmp(key, "fortran_order") && !h->has_order) {
		h->has_order = 1;
		if (end - p >= 5 && !strncmp(p, "False", 5))
			return p + 5;
		if (end - p >= 4 && !strncmp(p, "True", 4)) {
			h->fortran = 1;
			return p + 4;
		}
		return NULL;
	}
	if (!strcmp(key, "shape") && !h->has_shape) {
		h->has_shape = 1;
		return parse_shape(p, end, h);
	}
	return NULL;
}

static int parse_header(const char *p, const char *end, struct npy_header *h, char *msg,
			size_t msglen, const char *what)
{
	memset(h, 0, sizeof(*h));
	p = skip_space(p, end);
	if (p >= end || *p++ != '{')
		goto bad;
	for (;;) {
		p = skip_space(p, end);
		if (p < end && *p == '}')
			break;
		p = parse_entry(p, end, h, msg, msglen, what);
		if (!p)
			goto bad;
		p = skip_space(p, end);
		if (p < end && *p == ',')
			p++;
		else if (p >= end || *p != '}')
			goto bad;
	}
	if (!h->has_descr || !h->has_order || !h->has_shape)
		goto bad;
	if (h->fortran)
		return nuq_fail(msg, msglen, -EINVAL,
				"%s: Fortran-order arrays are not read; save with numpy.ascontiguousarray()",
				what);
	return 0;
bad:
	if (msg && msglen && !msg[0])
		nuq_fail(msg, msglen, -EINVAL, "%s: the .npy header is not a dict of descr, fortran_order and shape",
			 what);
	return -EINVAL;
}

static int64_t get_int(const uint8_t *p, unsigned int size)
{
	int64_t v = 0;
	int32_t v32;

	if (size == 8) {
		memcpy(&v, p, 8);
		return v;
	}
	memcpy(&v32, p, 4);
	return v32;
}

static int decode_named(const void *buf, size_t len, struct nuq_tensor *t, char *msg,
			size_t msglen, const char *what)
{
	const uint8_t *b = buf;
	struct npy_header h;
	size_t hlen, off, count, i;
	int ret;

	memset(t, 0, sizeof(*t));
	if (msg && msglen)
		msg[0] = 0;
	if (len < 10 || memcmp(b, npy_magic, sizeof(npy_magic)))
		return nuq_fail(msg, msglen, -EINVAL, "%s: not a .npy file (no \\x93NUMPY magic)", what);
	if (b[6] == 1) {
		hlen = b[8] | (size_t)b[9] << 8;
		off = 10;
	} else if (b[6] == 2 || b[6] == 3) {
		if (len < 12)
			return nuq_fail(msg, msglen, -EINVAL, "%s: truncated .npy header", what);
		hlen = b[8] | (size_t)b[9] << 8 | (size_t)b[10] << 16 | (size_t)b[11] << 24;
		off = 12;
	} else {
		return nuq_fail(msg, msglen, -EINVAL, "%s: .npy format version %u.%u is not one nuq reads (1-3)",
				what, b[6], b[7]);
	}
	if (hlen > len - off)
		return nuq_fail(msg, msglen, -EINVAL, "%s: truncated .npy header (%zu bytes of %zu)",
				what, len - off, hlen);
	ret = parse_header((const char *)b + off, (const char *)b + off + hlen, &h, msg, msglen,
			   what);
	if (ret)
		return ret;
	off += hlen;
	ret = nuq_tensor_alloc(t, h.kind->dtype == NUQ_DT_FLOAT ? NUQ_DT_FLOAT : NUQ_DT_INT64,
			       h.ndims, h.dims);
	if (ret)
		return nuq_fail(msg, msglen, ret, "%s: a tensor of this shape is %s", what,
				ret == -ENOMEM ? "more memory than there is" : "too large for nuq");
	t->dtype = h.kind->dtype;
	count = nuq_tensor_count(t);
	if ((len - off) / h.kind->size != count || (len - off) % h.kind->size) {
		nuq_tensor_free(t);
		return nuq_fail(msg, msglen, -EINVAL,
				"%s: the shape says %zu elements of %u bytes, the file holds %zu bytes",
				what, count, h.kind->size, len - off);
	}
	for (i = 0; i < count; i++) {
		const uint8_t *p = b + off + i * h.kind->size;

		if (h.kind->dtype == NUQ_DT_FLOAT && h.kind->size == 4) {
			memcpy(&t->f[i], p, 4);
		} else if (h.kind->dtype == NUQ_DT_FLOAT) {
			double d;

			memcpy(&d, p, 8);
			t->f[i] = (float)d;
		} else if (h.kind->size == 1) {
			t->i[i] = h.kind->dtype == NUQ_DT_INT8 ? (int8_t)*p :
				  h.kind->dtype == NUQ_DT_BOOL ? *p != 0 : *p;
		} else {
			t->i[i] = get_int(p, h.kind->size);
		}
	}
	return 0;
}

int nuq_npy_decode(const void *buf, size_t len, struct nuq_tensor *t, char *msg, size_t msglen)
{
	return decode_named(buf, len, t, msg, msglen, ".npy");
}

/* .npy files larger than this are refused before they are read. */
#define NPY_MAX_BYTES	(1ULL << 30)

int nuq_npy_read(const char *path, struct nuq_tensor *t, char *msg, size_t msglen)
{
	FILE *f = fopen(path, "rb");
	long size;
	void *buf;
	int ret;

	memset(t, 0, sizeof(*t));
	if (!f)
		return nuq_fail(msg, msglen, -errno, "%s: %s", path, strerror(errno));
	if (fseek(f, 0, SEEK_END) || (size = ftell(f)) < 0 || fseek(f, 0, SEEK_SET)) {
		ret = -errno;
		fclose(f);
		return nuq_fail(msg, msglen, ret, "%s: %s", path, strerror(-ret));
	}
	if ((unsigned long long)size > NPY_MAX_BYTES) {
		fclose(f);
		return nuq_fail(msg, msglen, -EFBIG, "%s: %ld bytes is more than nuq reads", path,
				size);
	}
	buf = malloc(size ? (size_t)size : 1);
	if (!buf) {
		fclose(f);
		return nuq_fail(msg, msglen, -ENOMEM, "%s: out of memory", path);
	}
	if (fread(buf, 1, (size_t)size, f) != (size_t)size) {
		free(buf);
		fclose(f);
		return nuq_fail(msg, msglen, -EIO, "%s: read error", path);
	}
	fclose(f);
	ret = decode_named(buf, (size_t)size, t, msg, msglen, path);
	free(buf);
	return ret;
}

int nuq_npy_write(const char *path, const struct nuq_tensor *t, char *msg, size_t msglen)
{
	char hdr[512], shape[256] = "";
	size_t count = nuq_tensor_count(t), n, pad, off = 0, i;
	int is_float = t->dtype == NUQ_DT_FLOAT;
	FILE *f;
	int ok;

	if ((is_float && !t->f) || (!is_float && !t->i))
		return nuq_fail(msg, msglen, -EINVAL, "%s: the tensor holds no values", path);
	for (i = 0; i < t->ndims; i++)
		off += snprintf(shape + off, sizeof(shape) - off, "%lld,%s",
				(long long)t->dims[i], i + 1 < t->ndims ? " " : "");
	if (t->ndims > 1)
		shape[strlen(shape) - 1] = 0;	/* (2, 3), but (5,) */
	n = snprintf(hdr, sizeof(hdr), "{'descr': '%s', 'fortran_order': False, 'shape': (%s), }",
		     is_float ? "<f4" : "<i8", shape);
	/* Magic, version and length are 10 bytes; the data starts 64-aligned. */
	pad = 63 - (10 + n) % 64;
	memset(hdr + n, ' ', pad);
	hdr[n + pad] = '\n';
	n += pad + 1;
	f = fopen(path, "wb");
	if (!f)
		return nuq_fail(msg, msglen, -errno, "%s: %s", path, strerror(errno));
	ok = fwrite(npy_magic, 1, 6, f) == 6 && fputc(1, f) != EOF && fputc(0, f) != EOF &&
	     fputc((int)(n & 0xff), f) != EOF && fputc((int)(n >> 8), f) != EOF &&
	     fwrite(hdr, 1, n, f) == n;
	if (ok && is_float)
		ok = fwrite(t->f, sizeof(float), count, f) == count;
	else if (ok)
		ok = fwrite(t->i, sizeof(int64_t), count, f) == count;
	if (fclose(f))
		ok = 0;
	return ok ? 0 : nuq_fail(msg, msglen, -EIO, "%s: write error", path);
}

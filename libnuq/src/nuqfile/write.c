// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * libnuq: writing .nuq files.  The encoder sizes everything first, so
 * the file is built in one buffer and written with one call; a layer
 * that would not fit the format is refused before anything is written.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include <nuq/nuqfile.h>

#include "format.h"
#include "msg.h"
#include "quant/quant_priv.h"

static uint8_t *put16(uint8_t *p, uint32_t v)
{
	p[0] = v;
	p[1] = v >> 8;
	return p + 2;
}

static uint8_t *put32(uint8_t *p, uint32_t v)
{
	p = put16(p, v);
	return put16(p, v >> 16);
}

static uint8_t *putf(uint8_t *p, float f)
{
	uint32_t u;

	memcpy(&u, &f, 4);
	return put32(p, u);
}

static size_t qmat_bytes(const struct nuq_qmat *m, const struct nuq_qlayer *l)
{
	size_t n = (size_t)m->rows * m->cols, b = 16, ncb = m->ngroups;

	if (l->gran == NUQ_GRAN_CHANNEL_SCALED) {
		b += 4 + 2 * (size_t)m->ngroups;	/* base scale, float16 ratios */
		ncb = 1;
	} else {
		b += 4 * (size_t)m->ngroups;
	}
	if (nuq_qmethod_is_asd(l->method))
		return b + 2 * n;
	return b + ncb * (2 + ((size_t)1 << l->bits) * (l->cb_width / 8)) +
	       (size_t)m->rows * (((size_t)m->cols * l->bits + 7) / 8);
}

static size_t payload_bytes(const struct nuq_qlayer *l)
{
	size_t b = 2 + strlen(l->name) + NUQ_LAYER_FIXED_BYTES + 4 * l->ndims;

	b += qmat_bytes(&l->mat[0], l);
	if (l->rank)
		b += qmat_bytes(&l->mat[1], l);
	if (l->flags & NUQ_QLAYER_HAS_BIAS)
		b += 2 * (size_t)l->rows;	/* float16 biases */
	return b;
}

size_t nuq_qlayer_file_bytes(const struct nuq_qlayer *l)
{
	return NUQ_SECTION_HEADER_BYTES + payload_bytes(l);
}

static uint8_t *put_qmat(uint8_t *p, const struct nuq_qmat *m, const struct nuq_qlayer *l)
{
	size_t e = (size_t)1 << l->bits, g, i, r, ncb = m->ngroups;

	p = put32(p, m->rows);
	p = put32(p, m->cols);
	p = put32(p, m->group_size);
	p = put32(p, m->ngroups);
	if (l->gran == NUQ_GRAN_CHANNEL_SCALED) {
		p = putf(p, m->base_scale);
		for (g = 0; g < m->ngroups; g++)
			p = put16(p, m->ratio16[g]);
		ncb = 1;
	} else {
		for (g = 0; g < m->ngroups; g++)
			p = putf(p, m->scales[g]);
	}
	if (nuq_qmethod_is_asd(l->method)) {
		memcpy(p, m->digits, 2 * (size_t)m->rows * m->cols);
		return p + 2 * (size_t)m->rows * m->cols;
	}
	for (g = 0; g < ncb; g++) {
		p = put16(p, m->nlevels[g]);
		for (i = 0; i < e; i++) {
			if (l->cb_width == 16)
				p = put16(p, (uint16_t)m->entries[g * e + i]);
			else
				*p++ = (uint8_t)m->entries[g * e + i];
		}
	}
	for (r = 0; r < m->rows; r++)
		p += nuq_pack_indices(m->idx + r * m->cols, m->cols, l->bits, p);
	return p;
}

static int layer_ok(const struct nuq_qlayer *l)
{
	size_t len = strlen(l->name);

	if (!len || len > NUQ_NAME_MAX || l->ndims > NUQ_ONNX_MAX_DIMS || !l->rows || !l->cols ||
	    (unsigned int)l->gran >= NUQ_GRAN_COUNT)
		return 0;
	if (l->gran == NUQ_GRAN_CHANNEL_SCALED &&
	    (nuq_qmethod_is_asd(l->method) || !l->mat[0].ratio16 ||
	     (l->rank && !l->mat[1].ratio16)))
		return 0;
	if ((l->flags & ~NUQ_QLAYER_FLAGS) ||
	    (l->flags & NUQ_QLAYER_HAS_BIAS && (l->layout != NUQ_LAYOUT_OIHW || !l->bias16)) ||
	    (l->flags & NUQ_QLAYER_HAS_BIAS) == NUQ_QLAYER_HAS_BIAS)
		return 0;
	if (nuq_qmethod_is_asd(l->method))
		return l->bits == 0 && l->cb_width == 0;
	return l->bits >= 1 && l->bits <= 8 && (l->cb_width == 8 || l->cb_width == 16);
}

/*
 * The oldest version that holds @layers: files without the version-2
 * granularity, version-3 flags, the version-4 layout or the version-5
 * stored bias stay readable by older libnuq.
 */
static unsigned int layer_version(const struct nuq_qlayer *l)
{
	if (l->flags & NUQ_QLAYER_BIAS)
		return 5;
	if (l->layout == NUQ_LAYOUT_IOHW_O)
		return 4;
	if (l->flags)
		return 3;
	return l->gran == NUQ_GRAN_CHANNEL_SCALED ? 2 : 1;
}

static unsigned int file_version(const struct nuq_qlayer *layers, uint32_t n)
{
	unsigned int v = 1, lv;
	uint32_t i;

	for (i = 0; i < n; i++) {
		lv = layer_version(&layers[i]);
		v = lv > v ? lv : v;
	}
	return v;
}

int nuq_file_encode(const struct nuq_qlayer *layers, uint32_t n, uint8_t **buf, size_t *len)
{
	return nuq_file_encode_version(layers, n, file_version(layers, n), buf, len);
}

int nuq_file_encode_version(const struct nuq_qlayer *layers, uint32_t n, unsigned int version,
			    uint8_t **buf, size_t *len)
{
	size_t total = NUQ_FILE_HEADER_BYTES, i;
	uint8_t *p, *out;

	*buf = NULL;
	if (version < file_version(layers, n) || version > NUQ_FILE_VERSION)
		return -EINVAL;
	for (i = 0; i < n; i++) {
		if (!layer_ok(&layers[i]) || payload_bytes(&layers[i]) > NUQ_SECTION_MAX_BYTES)
			return -EINVAL;
		total += nuq_qlayer_file_bytes(&layers[i]);
	}
	out = calloc(1, total);
	if (!out)
		return -ENOMEM;
	memcpy(out, NUQ_FILE_MAGIC, 4);
	p = put16(out + 4, version);
	p = put16(p, NUQ_FILE_HEADER_BYTES);
	p = put32(p, n);
	p = put32(p, 0);
	p = put32(p, (uint32_t)total);
	p = put32(p, (uint32_t)((uint64_t)total >> 32));
	p = put32(p, 0);
	p = put32(p, crc32(0, out, 28));

	for (i = 0; i < n; i++) {
		const struct nuq_qlayer *l = &layers[i];
		size_t pb = payload_bytes(l), name = strlen(l->name), d;
		uint8_t *start = p + NUQ_SECTION_HEADER_BYTES, *q = start;

		q = put16(q, name);
		memcpy(q, l->name, name);
		q += name;
		*q++ = l->method;
		*q++ = l->gran;
		*q++ = l->bits;
		*q++ = l->cb_width;
		*q++ = l->layout;
		*q++ = l->ndims;
		q = put16(q, l->flags);
		for (d = 0; d < l->ndims; d++)
			q = put32(q, (uint32_t)l->dims[d]);
		q = put32(q, l->rows);
		q = put32(q, l->cols);
		q = put32(q, l->rank);
		q = put32(q, 0);
		q = put_qmat(q, &l->mat[0], l);
		if (l->rank)
			q = put_qmat(q, &l->mat[1], l);
		for (d = 0; l->flags & NUQ_QLAYER_HAS_BIAS && d < l->rows; d++)
			q = put16(q, l->bias16[d]);
		if ((size_t)(q - start) != pb) {
			free(out);
			return -EFAULT;
		}
		put32(p, NUQ_SECTION_LAYER);
		put32(p + 4, pb);
		put32(p + 8, crc32(0, start, pb));
		put32(p + 12, 0);
		p = q;
	}
	*buf = out;
	*len = total;
	return 0;
}

int nuq_file_write(const char *path, const struct nuq_qlayer *layers, uint32_t n,
		   char *msg, size_t msglen)
{
	size_t len, done = 0;
	char tmp[4096];
	uint8_t *buf;
	int fd, ret;

	ret = nuq_file_encode(layers, n, &buf, &len);
	if (ret)
		return nuq_fail(msg, msglen, ret, "%s: cannot encode the layers: %s", path,
				strerror(-ret));
	/* write a temporary file and rename it: never leave half a file behind */
	if (snprintf(tmp, sizeof(tmp), "%s.tmp.XXXXXX", path) >= (int)sizeof(tmp)) {
		free(buf);
		return nuq_fail(msg, msglen, -ENAMETOOLONG, "%s: name too long", path);
	}
	fd = mkstemp(tmp);
	if (fd < 0) {
		ret = -errno;
		free(buf);
		return nuq_fail(msg, msglen, ret, "%s: %s", tmp, strerror(-ret));
	}
	while (done < len) {
		ssize_t w = write(fd, buf + done, len - done);

		if (w < 0) {
			ret = -errno;
			break;
		}
		done += w;
	}
	free(buf);
	if (!ret && fchmod(fd, 0644))
		ret = -errno;
	if (!ret && fsync(fd))
		ret = -errno;
	if (close(fd) && !ret)
		ret = -errno;
	if (!ret && rename(tmp, path))
		ret = -errno;
	if (ret) {
		unlink(tmp);
		return nuq_fail(msg, msglen, ret, "%s: %s", path, strerror(-ret));
	}
	return 0;
}

// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * libnuq: reading .nuq files.  Nothing in the file is trusted: every
 * size is checked against the bytes that remain before it is used, every
 * allocation is bounded by the file's own size, every CRC is verified
 * before its section is parsed, and every value (index, digit, scale,
 * shape) is checked against what the format allows.  The first problem
 * ends the read with an errno and a message naming the section.
 */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include <nuq/nuqfile.h>

#include "file.h"
#include "format.h"
#include "msg.h"
#include "nuq_conv.h"
#include "quant/quant_priv.h"

/* The largest file the reader accepts (sections have 32-bit sizes anyway). */
#define NUQ_FILE_MAX_BYTES	(1ULL << 34)

struct cursor {
	const uint8_t *p;
	size_t left;
	char *msg;
	size_t msglen;
	const char *where;	/* "section 3 (name)" */
	unsigned int version;	/* of the file */
};

static int need(struct cursor *c, size_t n, const char *what)
{
	if (c->left < n)
		return nuq_fail(c->msg, c->msglen, -EBADMSG, "%s: truncated in %s", c->where,
				what);
	return 0;
}

static uint32_t get16(struct cursor *c)
{
	uint32_t v = c->p[0] | c->p[1] << 8;

	c->p += 2;
	c->left -= 2;
	return v;
}

static uint32_t get32(struct cursor *c)
{
	uint32_t v = get16(c);

	return v | get16(c) << 16;
}

#define bad(c, ...) nuq_fail((c)->msg, (c)->msglen, -EBADMSG, __VA_ARGS__)

/* NUQ_GRAN_CHANNEL_SCALED: a float32 base scale and a float16 ratio per group. */
static int read_ratios(struct cursor *c, struct nuq_qmat *m, const char *which)
{
	uint32_t u = get32(c);
	size_t g;

	memcpy(&m->base_scale, &u, 4);
	if (!isfinite(m->base_scale) || m->base_scale < 0)
		return bad(c, "%s: %s has base scale %g, not a finite value >= 0", c->where, which,
			   m->base_scale);
	m->ratio16 = malloc(m->ngroups * sizeof(*m->ratio16));
	if (!m->ratio16)
		return -ENOMEM;
	for (g = 0; g < m->ngroups; g++) {
		m->ratio16[g] = get16(c);
		/* float16 0 to 1.0: no sign, no inf or nan */
		if (m->ratio16[g] > 0x3c00)
			return bad(c, "%s: %s group %zu has scale ratio 0x%04x, not a float16 in [0, 1]",
				   c->where, which, g, m->ratio16[g]);
		m->scales[g] = nuq_qmat_group_scale(m, g);
	}
	return 0;
}

static int read_qmat(struct cursor *c, const struct nuq_qlayer *l, struct nuq_qmat *m,
		     uint32_t rows, uint32_t cols, const char *which)
{
	int asd = nuq_qmethod_is_asd(l->method), scaled = l->gran == NUQ_GRAN_CHANNEL_SCALED;
	size_t e = (size_t)1 << l->bits, n, per_row, g, i, r, ngroups, row_bytes;
	uint64_t need_bytes;
	int ret;

	ret = need(c, 16, which);
	if (ret)
		return ret;
	m->rows = get32(c);
	m->cols = get32(c);
	m->group_size = get32(c);
	m->ngroups = get32(c);
	if (m->rows != rows || m->cols != cols)
		return bad(c, "%s: %s is %ux%u, expected %ux%u", c->where, which, m->rows,
			   m->cols, rows, cols);
	n = (size_t)rows * cols;
	switch (l->gran) {
	case NUQ_GRAN_LAYER:
		ngroups = 1;
		ret = m->group_size != n;
		break;
	case NUQ_GRAN_CHANNEL:
	case NUQ_GRAN_CHANNEL_SCALED:
		ngroups = rows;
		ret = m->group_size != cols;
		break;
	default:
		ret = !m->group_size || m->group_size > cols;
		per_row = ret ? 0 : (cols + m->group_size - 1) / m->group_size;
		ngroups = (size_t)rows * per_row;
		break;
	}
	if (ret || m->ngroups != ngroups)
		return bad(c, "%s: %s has group size %u and %u groups, impossible for its shape",
			   c->where, which, m->group_size, m->ngroups);

	/* Size everything from the header before allocating anything. */
	m->ncodebooks = scaled ? 1 : ngroups;
	row_bytes = ((size_t)cols * l->bits + 7) / 8;
	need_bytes = (scaled ? 4 + 2ULL * ngroups : 4ULL * ngroups) + (asd ? 2ULL * n :
		     m->ncodebooks * (2 + e * (l->cb_width / 8)) + (uint64_t)rows * row_bytes);
	ret = need(c, need_bytes, which);
	if (ret)
		return ret;

	m->scales = malloc(ngroups * sizeof(*m->scales));
	if (!m->scales)
		return -ENOMEM;
	if (scaled) {
		ret = read_ratios(c, m, which);
		if (ret)
			return ret;
	}
	for (g = 0; g < ngroups && !scaled; g++) {
		uint32_t u = get32(c);

		memcpy(&m->scales[g], &u, 4);
		if (!isfinite(m->scales[g]) || m->scales[g] < 0)
			return bad(c, "%s: %s group %zu has scale %g, not a finite value >= 0",
				   c->where, which, g, m->scales[g]);
	}
	if (asd) {
		m->digits = malloc(2 * n);
		if (!m->digits)
			return -ENOMEM;
		memcpy(m->digits, c->p, 2 * n);
		c->p += 2 * n;
		c->left -= 2 * n;
		for (i = 0; i < 2 * n; i++)
			if (!nuq_asd_digit_ok(m->digits[i]))
				return bad(c, "%s: %s weight %zu has a malformed ASD digit 0x%02x",
					   c->where, which, i / 2, m->digits[i]);
		return 0;
	}

	m->nlevels = malloc(m->ncodebooks * sizeof(*m->nlevels));
	m->entries = calloc(m->ncodebooks * e, sizeof(*m->entries));
	m->idx = malloc(n);
	if (!m->nlevels || !m->entries || !m->idx)
		return -ENOMEM;
	for (g = 0; g < m->ncodebooks; g++) {
		m->nlevels[g] = get16(c);
		if (m->nlevels[g] < 1 || m->nlevels[g] > e)
			return bad(c, "%s: %s codebook %zu has %u levels, must be 1 to %zu",
				   c->where, which, g, m->nlevels[g], e);
		for (i = 0; i < e; i++) {
			int16_t v = l->cb_width == 16 ? (int16_t)get16(c) : (int8_t)*c->p;

			if (l->cb_width == 8) {
				c->p++;
				c->left--;
			}
			if (i >= m->nlevels[g] && v)
				return bad(c, "%s: %s codebook %zu has a non-zero unused entry %zu",
					   c->where, which, g, i);
			m->entries[g * e + i] = v;
		}
	}
	for (r = 0; r < rows; r++) {
		uint8_t *idx = m->idx + r * cols;
		size_t used = (size_t)cols * l->bits;

		nuq_unpack_indices(c->p, cols, l->bits, idx);
		if (used % 8 && c->p[row_bytes - 1] >> (used % 8))
			return bad(c, "%s: %s row %zu has non-zero padding bits", c->where, which,
				   r);
		for (i = 0; i < cols; i++) {
			g = l->gran == NUQ_GRAN_LAYER || scaled ? 0 : l->gran == NUQ_GRAN_CHANNEL ? r :
			    r * ((cols + m->group_size - 1) / m->group_size) + i / m->group_size;
			if (idx[i] >= m->nlevels[g])
				return bad(c, "%s: %s weight (%zu, %zu) has index %u, but its codebook has %u levels",
					   c->where, which, r, i, idx[i], m->nlevels[g]);
		}
		c->p += row_bytes;
		c->left -= row_bytes;
	}
	return 0;
}

static int name_ok(const uint8_t *p, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (p[i] < 0x20 || p[i] == 0x7f)
			return 0;
	return 1;
}

/* Rows and columns the layout implies for the dims. */
static int layout_shape(const struct nuq_qlayer *l, uint64_t *rows, uint64_t *cols)
{
	uint64_t n = 1;
	unsigned int i;

	for (i = 0; i < l->ndims; i++) {
		if (!l->dims[i] || n > UINT32_MAX / (uint64_t)l->dims[i])
			return 0;
		n *= l->dims[i];
	}
	switch (l->layout) {
	case NUQ_LAYOUT_OIHW:
	case NUQ_LAYOUT_IOHW:
		if (l->ndims < 3)
			return 0;
		*rows = l->dims[0];
		break;
	case NUQ_LAYOUT_IOHW_O:
		if (l->ndims < 3)
			return 0;
		*rows = l->dims[1];
		break;
	case NUQ_LAYOUT_KN:
		if (l->ndims != 2)
			return 0;
		*rows = l->dims[1];
		break;
	case NUQ_LAYOUT_NK:
		if (l->ndims != 2)
			return 0;
		*rows = l->dims[0];
		break;
	default:
		return 0;
	}
	*cols = n / *rows;
	return 1;
}

/* NUQ_QLAYER_HAS_BIAS: a float16 bias per output channel, finite. */
static int read_bias(struct cursor *c, struct nuq_qlayer *l)
{
	const char *what = l->flags & NUQ_QLAYER_BN_FOLDED ? "folded bias" : "bias";
	size_t r;
	int ret;

	ret = need(c, 2 * (size_t)l->rows,
		   l->flags & NUQ_QLAYER_BN_FOLDED ? "the folded biases" : "the biases");
	if (ret)
		return ret;
	l->bias16 = malloc(2 * (size_t)l->rows);
	if (!l->bias16)
		return nuq_fail(c->msg, c->msglen, -ENOMEM, "%s: out of memory", c->where);
	for (r = 0; r < l->rows; r++) {
		l->bias16[r] = get16(c);
		if ((l->bias16[r] & 0x7c00) == 0x7c00)
			return bad(c, "%s: %s %zu is 0x%04x, not a finite float16",
				   c->where, what, r, l->bias16[r]);
	}
	return 0;
}

static int read_layer(struct cursor *c, struct nuq_qlayer *l)
{
	uint64_t rows, cols;
	size_t name, d;
	int ret;

	ret = need(c, 2, "the name length");
	if (ret)
		return ret;
	name = get16(c);
	if (!name || name > NUQ_NAME_MAX)
		return bad(c, "%s: name length %zu, must be 1 to %d", c->where, name, NUQ_NAME_MAX);
	ret = need(c, name + 8, "the name");
	if (ret)
		return ret;
	if (!name_ok(c->p, name))
		return bad(c, "%s: the name has control characters", c->where);
	memcpy(l->name, c->p, name);
	l->name[name] = 0;
	c->p += name;
	c->left -= name;
	l->method = c->p[0];
	l->gran = c->p[1];
	l->bits = c->p[2];
	l->cb_width = c->p[3];
	l->layout = c->p[4];
	l->ndims = c->p[5];
	c->p += 6;
	c->left -= 6;
	l->flags = get16(c);
	if (l->flags && c->version < 3)
		return bad(c, "%s: layer flags 0x%x in a version %u file (flags need version 3; before, these bytes are reserved and zero)",
			   c->where, l->flags, c->version);
	if (l->flags & ~NUQ_QLAYER_FLAGS)
		return bad(c, "%s: unknown layer flags 0x%x", c->where,
			   l->flags & ~NUQ_QLAYER_FLAGS);
	if (l->method >= NUQ_Q_COUNT)
		return bad(c, "%s: unknown method %u", c->where, l->method);
	if (l->gran >= NUQ_GRAN_COUNT)
		return bad(c, "%s: unknown granularity %u", c->where, l->gran);
	if (l->gran == NUQ_GRAN_CHANNEL_SCALED && c->version < 2)
		return bad(c, "%s: granularity %u (shared codebook, channel scales) needs file version 2, the file is version %u",
			   c->where, l->gran, c->version);
	if (l->gran == NUQ_GRAN_CHANNEL_SCALED && nuq_qmethod_is_asd(l->method))
		return bad(c, "%s: %s has no codebook to share across channels", c->where,
			   nuq_qmethod_name(l->method));
	if (nuq_qmethod_is_asd(l->method) ? l->bits || l->cb_width :
	    l->bits < 1 || l->bits > 8 || (l->cb_width != 8 && l->cb_width != 16))
		return bad(c, "%s: %s with %u bits and %u-bit codebook entries is not a valid combination",
			   c->where, nuq_qmethod_name(l->method), l->bits, l->cb_width);
	if (l->layout >= NUQ_LAYOUT_COUNT)
		return bad(c, "%s: unknown layout %u", c->where, l->layout);
	if (l->layout == NUQ_LAYOUT_IOHW_O && c->version < 4)
		return bad(c, "%s: layout %u (ConvTranspose by output channel) needs file version 4, the file is version %u",
			   c->where, l->layout, c->version);
	if ((l->flags & NUQ_QLAYER_HAS_BIAS) == NUQ_QLAYER_HAS_BIAS)
		return bad(c, "%s: layer flags 0x%x: a folded BatchNormalization's bias and a Conv's own bias (one holds the other)",
			   c->where, l->flags);
	if (l->flags & NUQ_QLAYER_BIAS && c->version < 5)
		return bad(c, "%s: layer flags 0x%x: a stored bias needs file version 5, the file is version %u",
			   c->where, l->flags, c->version);
	if (l->flags & NUQ_QLAYER_BIAS && l->layout != NUQ_LAYOUT_OIHW)
		return bad(c, "%s: a stored bias needs a Conv weight (layout %u), the layout is %u",
			   c->where, NUQ_LAYOUT_OIHW, l->layout);
	if (l->flags & NUQ_QLAYER_BN_FOLDED && l->layout != NUQ_LAYOUT_OIHW)
		return bad(c, "%s: a folded BatchNormalization needs a Conv weight (layout %u), the layout is %u",
			   c->where, NUQ_LAYOUT_OIHW, l->layout);
	if (l->ndims < 2 || l->ndims > NUQ_ONNX_MAX_DIMS)
		return bad(c, "%s: %u dims, must be 2 to %d", c->where, l->ndims,
			   NUQ_ONNX_MAX_DIMS);
	ret = need(c, 4 * l->ndims + 16, "the shape");
	if (ret)
		return ret;
	for (d = 0; d < l->ndims; d++)
		l->dims[d] = get32(c);
	l->rows = get32(c);
	l->cols = get32(c);
	l->rank = get32(c);
	if (get32(c))
		return bad(c, "%s: reserved field after the shape is not zero", c->where);
	if (!layout_shape(l, &rows, &cols) || rows != l->rows || cols != l->cols)
		return bad(c, "%s: shape %ux%u does not match its dims and layout", c->where,
			   l->rows, l->cols);
	if (l->rank && (l->rank > l->rows || l->rank > l->cols))
		return bad(c, "%s: SVD rank %u exceeds the shape %ux%u", c->where, l->rank,
			   l->rows, l->cols);
	ret = read_qmat(c, l, &l->mat[0], l->rows, l->rank ? l->rank : l->cols,
			l->rank ? "factor L" : "weights");
	if (!ret && l->rank)
		ret = read_qmat(c, l, &l->mat[1], l->rank, l->cols, "factor R");
	if (!ret && l->flags & NUQ_QLAYER_HAS_BIAS)
		ret = read_bias(c, l);
	if (!ret && c->left)
		ret = bad(c, "%s: %zu bytes left over at the end", c->where, c->left);
	return ret;
}

int nuq_file_decode(const uint8_t *buf, size_t len, struct nuq_file *f, char *msg,
		    size_t msglen)
{
	struct cursor c = { .p = buf, .left = len, .msg = msg, .msglen = msglen,
			    .where = "file header" };
	uint32_t n, i, version, hdr;
	uint64_t total;
	char where[NUQ_NAME_MAX + 64];
	int ret;

	memset(f, 0, sizeof(*f));
	if (len < NUQ_FILE_HEADER_BYTES)
		return bad(&c, "file header: truncated (%zu bytes, the header alone is %d)", len,
			   NUQ_FILE_HEADER_BYTES);
	if (memcmp(buf, NUQ_FILE_MAGIC, 4))
		return bad(&c, "file header: bad magic, not a .nuq file");
	if (crc32(0, buf, 28) != (buf[28] | buf[29] << 8 | buf[30] << 16 | (uint32_t)buf[31] << 24))
		return bad(&c, "file header: CRC mismatch");
	c.p += 4;
	c.left -= 4;
	version = get16(&c);
	hdr = get16(&c);
	n = get32(&c);
	if (version < NUQ_FILE_VERSION_MIN || version > NUQ_FILE_VERSION)
		return nuq_fail(msg, msglen, -EPROTONOSUPPORT,
				"file header: version %u, this libnuq reads versions %d to %d",
				version, NUQ_FILE_VERSION_MIN, NUQ_FILE_VERSION);
	c.version = version;
	if (hdr != NUQ_FILE_HEADER_BYTES || get32(&c))
		return bad(&c, "file header: unexpected header size or flags");
	total = get32(&c);
	total |= (uint64_t)get32(&c) << 32;
	if (get32(&c))
		return bad(&c, "file header: reserved field is not zero");
	get32(&c);
	if (total != len)
		return bad(&c, "file header: says %llu bytes, the file has %zu (truncated?)",
			   (unsigned long long)total, len);
	if (n > (len - NUQ_FILE_HEADER_BYTES) / NUQ_SECTION_HEADER_BYTES)
		return bad(&c, "file header: %u sections cannot fit in %zu bytes", n, len);

	f->layers = calloc(n ? n : 1, sizeof(*f->layers));
	f->sections = calloc(n ? n : 1, sizeof(*f->sections));
	if (!f->layers || !f->sections) {
		nuq_file_free(f);
		return -ENOMEM;
	}
	for (i = 0; i < n; i++) {
		struct nuq_section_info *s = &f->sections[i];
		uint32_t type, crc, rsvd;
		struct cursor sc;

		snprintf(where, sizeof(where), "section %u", i);
		c.where = where;
		s->offset = c.p - buf;
		ret = need(&c, NUQ_SECTION_HEADER_BYTES, "the section header");
		if (ret)
			goto fail;
		type = get32(&c);
		s->bytes = get32(&c);
		crc = get32(&c);
		rsvd = get32(&c);
		ret = -EBADMSG;
		if (type != NUQ_SECTION_LAYER) {
			bad(&c, "%s: unknown section type %u", where, type);
			goto fail;
		}
		if (rsvd) {
			bad(&c, "%s: reserved field is not zero", where);
			goto fail;
		}
		ret = need(&c, s->bytes, "the payload");
		if (ret)
			goto fail;
		s->crc = crc32(0, c.p, s->bytes);
		if (s->crc != crc) {
			bad(&c, "%s at offset %llu: CRC mismatch (stored %08x, computed %08x)", where,
			    (unsigned long long)s->offset, crc, s->crc);
			ret = -EBADMSG;
			goto fail;
		}
		sc = c;
		sc.left = s->bytes;
		if (s->bytes >= 2 && s->bytes - 2 >= (size_t)(c.p[0] | c.p[1] << 8)) {
			size_t nl = c.p[0] | c.p[1] << 8;

			snprintf(where, sizeof(where), "section %u (%.*s)", i,
				 (int)(nl > NUQ_NAME_MAX ? NUQ_NAME_MAX : nl), (const char *)c.p + 2);
		}
		ret = read_layer(&sc, &f->layers[i]);
		f->nlayers = i + 1;
		if (ret)
			goto fail;
		c.p += s->bytes;
		c.left -= s->bytes;
	}
	if (c.left) {
		ret = bad(&c, "file: %zu bytes after the last section", c.left);
		goto fail;
	}
	f->nlayers = n;
	f->version = version;
	return 0;
fail:
	nuq_file_free(f);
	return ret;
}

int nuq_file_read(const char *path, struct nuq_file *f, char *msg, size_t msglen)
{
	uint8_t *buf;
	size_t len;
	int ret;

	memset(f, 0, sizeof(*f));
	ret = nuq_read_file(path, NUQ_FILE_MAX_BYTES, &buf, &len, msg, msglen);
	if (ret)
		return ret;
	ret = nuq_file_decode(buf, len, f, msg, msglen);
	free(buf);
	if (ret)
		nuq_msg_prefix_path(msg, msglen, path);
	return ret;
}

const struct nuq_qlayer *nuq_file_find(const struct nuq_file *f, const char *name)
{
	uint32_t i;

	for (i = 0; i < f->nlayers; i++)
		if (!strcmp(f->layers[i].name, name))
			return &f->layers[i];
	return NULL;
}

void nuq_file_free(struct nuq_file *f)
{
	uint32_t i;

	for (i = 0; i < f->nlayers; i++)
		nuq_qlayer_free(&f->layers[i]);
	free(f->layers);
	free(f->sections);
	memset(f, 0, sizeof(*f));
}

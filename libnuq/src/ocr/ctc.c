// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * libnuq: CTC greedy decoding with PaddleOCR's character dictionary.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <nuq/ocr.h>

#include "file.h"
#include "msg.h"

#define NUQ_DICT_MAX_BYTES	(4u << 20)

int nuq_ctc_dict_load(const char *path, struct nuq_ctc_dict *d, char *msg, size_t msglen)
{
	uint8_t *buf;
	size_t len, i, lines = 0;
	char *p;
	int ret;

	memset(d, 0, sizeof(*d));
	ret = nuq_read_file(path, NUQ_DICT_MAX_BYTES, &buf, &len, msg, msglen);
	if (ret)
		return ret;
	d->buf = realloc(buf, len + 3);
	if (!d->buf) {
		free(buf);
		return -ENOMEM;
	}
	d->buf[len] = 0;
	for (i = 0; i < len; i++)
		lines += d->buf[i] == '\n';
	d->chars = calloc(lines + 3, sizeof(char *));
	if (!d->chars) {
		nuq_ctc_dict_free(d);
		return -ENOMEM;
	}
	for (p = d->buf; *p;) {
		char *nl = strchr(p, '\n');

		if (nl)
			*nl = 0;
		if (nl && nl > p && nl[-1] == '\r')
			nl[-1] = 0;
		if (!*p) {
			nuq_ctc_dict_free(d);
			return nuq_fail(msg, msglen, -EBADMSG, "%s: empty line %zu", path, d->n + 1);
		}
		d->chars[d->n++] = p;
		if (!nl)
			break;
		p = nl + 1;
	}
	/* PaddleOCR's use_space_char: the last class is a space. */
	d->chars[d->n++] = (char *)" ";
	return 0;
}

void nuq_ctc_dict_free(struct nuq_ctc_dict *d)
{
	free(d->chars);
	free(d->buf);
	memset(d, 0, sizeof(*d));
}

int nuq_ctc_dict_has(const struct nuq_ctc_dict *d, const char *c, size_t len)
{
	size_t i;

	for (i = 0; i < d->n; i++)
		if (strlen(d->chars[i]) == len && !memcmp(d->chars[i], c, len))
			return 1;
	return 0;
}

int nuq_ctc_decode(const struct nuq_tensor *probs, const struct nuq_ctc_dict *d, char *out,
		   size_t outlen)
{
	int64_t T, C, t, k, prev = 0;
	size_t used = 0;

	if (!outlen)
		return -EINVAL;
	out[0] = 0;
	if (probs->ndims != 3 || probs->dims[0] != 1 || !probs->f)
		return -EINVAL;
	T = probs->dims[1], C = probs->dims[2];
	if ((size_t)C != d->n + 1)
		return -EINVAL;
	for (t = 0; t < T; t++) {
		const float *row = probs->f + t * C;
		int64_t best = 0;

		for (k = 1; k < C; k++)
			if (row[k] > row[best])
				best = k;
		if (best && best != prev) {
			size_t l = strlen(d->chars[best - 1]);

			if (used + l + 1 > outlen)
				return -ENOSPC;
			memcpy(out + used, d->chars[best - 1], l);
			used += l;
			out[used] = 0;
		}
		prev = best;
	}
	return 0;
}

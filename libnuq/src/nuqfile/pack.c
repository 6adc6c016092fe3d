// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * libnuq: bit-packed codebook indices.  Index i of a b-bit stream takes
 * bits [i*b, i*b + b) of the stream, stream bit k being bit k % 8 of
 * byte k / 8 - the layout the conv core reads (nuq_index() in
 * core/nuq_conv_run.c, which unpacking calls).  Unused bits of the last
 * byte are zero.
 */
#include <string.h>

#include <nuq/nuqfile.h>

#include "nuq_conv.h"

size_t nuq_pack_indices(const uint8_t *idx, size_t n, unsigned int bits, uint8_t *out)
{
	size_t bytes = (n * bits + 7) / 8, i;

	memset(out, 0, bytes);
	for (i = 0; i < n; i++) {
		size_t bit = i * bits;
		unsigned int v = (idx[i] & ((1U << bits) - 1)) << (bit & 7);

		out[bit >> 3] |= (uint8_t)v;
		if ((bit & 7) + bits > 8)
			out[(bit >> 3) + 1] |= (uint8_t)(v >> 8);
	}
	return bytes;
}

void nuq_unpack_indices(const uint8_t *in, size_t n, unsigned int bits, uint8_t *idx)
{
	size_t i;

	/* every 8 indices start on a byte boundary, so j stays small for any n */
	for (i = 0; i < n; i++)
		idx[i] = nuq_index(in + (i / 8) * bits, i % 8, bits);
}

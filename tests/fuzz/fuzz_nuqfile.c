// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * libFuzzer target: the .nuq reader.  Random bytes almost never carry
 * valid CRCs, so for inputs whose first byte is odd the target first
 * rewrites the header CRC and every section CRC it can find: the fuzzer
 * then reaches the payload parser, where the interesting checks are.
 * Whatever decodes is also dequantized and encoded again in the file's
 * version, which must reproduce the input exactly.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include <nuq/nuqfile.h>

static void put32(uint8_t *p, uint32_t v)
{
	p[0] = v;
	p[1] = v >> 8;
	p[2] = v >> 16;
	p[3] = v >> 24;
}

static uint32_t get32(const uint8_t *p)
{
	return p[0] | p[1] << 8 | p[2] << 16 | (uint32_t)p[3] << 24;
}

static void fix_crcs(uint8_t *b, size_t len)
{
	size_t off = 32;

	if (len < 32)
		return;
	put32(b + 28, crc32(0, b, 28));
	while (off + 16 <= len) {
		uint32_t n = get32(b + off + 4);

		if (n > len - off - 16)
			return;
		put32(b + off + 8, crc32(0, b + off + 16, n));
		off += 16 + n;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct nuq_file f;
	uint8_t *buf, *again;
	size_t len, i;
	char msg[512];

	if (!size)
		return 0;
	buf = malloc(size);
	if (!buf)
		return 0;
	memcpy(buf, data + 1, size - 1);
	if (data[0] & 1)
		fix_crcs(buf, size - 1);
	if (!nuq_file_decode(buf, size - 1, &f, msg, sizeof(msg))) {
		for (i = 0; i < f.nlayers; i++) {
			const struct nuq_qlayer *l = &f.layers[i];
			float *out = malloc((size_t)l->rows * l->cols * sizeof(*out));

			if (out && (size_t)l->rows * l->cols <= (1U << 20))
				nuq_qlayer_dequantize(l, out);
			free(out);
		}
		if (!nuq_file_encode_version(f.layers, f.nlayers, f.version, &again, &len)) {
			if (len != size - 1 || memcmp(again, buf, len))
				abort();
			free(again);
		}
		nuq_file_free(&f);
	}
	free(buf);
	return 0;
}

// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Hand-made .nuq bytes for the format tests: little-endian writers, a
 * header and section header with the right CRCs, and a small layer
 * written field by field from Documentation/nuq-file-format.rst.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>
#include <cmocka.h>

#include <nuq/nuqfile.h>

#include "nuq_bytes.h"

void p8(struct bytes *o, uint32_t v)
{
	o->b[o->n++] = (uint8_t)v;
}

void p16(struct bytes *o, uint32_t v)
{
	p8(o, v & 0xff);
	p8(o, v >> 8);
}

void p32(struct bytes *o, uint32_t v)
{
	p16(o, v & 0xffff);
	p16(o, v >> 16);
}

void pf(struct bytes *o, float f)
{
	uint32_t u;

	memcpy(&u, &f, 4);
	p32(o, u);
}

void put32_at(uint8_t *p, uint32_t v)
{
	p[0] = v;
	p[1] = v >> 8;
	p[2] = v >> 16;
	p[3] = v >> 24;
}

void wrap(struct bytes *file, unsigned int version, const struct bytes *payload)
{
	file->n = 0;
	memcpy(file->b, "NUQW", 4);
	file->n = 4;
	p16(file, version);
	p16(file, 32);
	p32(file, 1);
	p32(file, 0);
	p32(file, 32 + 16 + (uint32_t)payload->n);
	p32(file, 0);
	p32(file, 0);
	p32(file, (uint32_t)crc32(0, file->b, 28));
	p32(file, 1);
	p32(file, (uint32_t)payload->n);
	p32(file, (uint32_t)crc32(0, payload->b, payload->n));
	p32(file, 0);
	memcpy(file->b + file->n, payload->b, payload->n);
	file->n += payload->n;
}

void small_v2_payload(struct bytes *pl, uint16_t ratio1, float base, unsigned int idx)
{
	pl->n = 0;
	p16(pl, 2);
	p8(pl, 'w'), p8(pl, '0');
	p8(pl, NUQ_Q_KNQ);
	p8(pl, NUQ_GRAN_CHANNEL_SCALED);
	p8(pl, 2);
	p8(pl, 8);
	p8(pl, NUQ_LAYOUT_OIHW);
	p8(pl, 4);
	p16(pl, 0);
	p32(pl, 3), p32(pl, 1), p32(pl, 1), p32(pl, 2);
	p32(pl, 3), p32(pl, 2), p32(pl, 0), p32(pl, 0);
	p32(pl, 3), p32(pl, 2), p32(pl, 2), p32(pl, 3);
	pf(pl, base);
	p16(pl, 0x3c00);	/* 1.0 */
	p16(pl, ratio1);
	p16(pl, 0x3400);	/* 0.25 */
	p16(pl, 3);		/* three levels */
	p8(pl, (uint8_t)-100), p8(pl, 0), p8(pl, 127), p8(pl, 0);
	p8(pl, idx);
	p8(pl, 0x09);		/* indices 1, 2 */
	p8(pl, 0x04);		/* indices 0, 1 */
}


void expect_refused(const struct bytes *file, int err, const char *needle)
{
	struct nuq_file f;
	char msg[256] = "";

	assert_int_equal(nuq_file_decode(file->b, file->n, &f, msg, sizeof(msg)), err);
	if (!strstr(msg, needle))
		fail_msg("expected \"%s\" in \"%s\"", needle, msg);
	assert_int_equal(f.nlayers, 0);
}

void every_flip_and_truncation_refused(uint8_t *buf, size_t len)
{
	static const uint8_t flips[] = { 0x01, 0x10, 0x80, 0xff };
	struct nuq_file f;
	char msg[256];
	size_t i, k;

	assert_int_equal(nuq_file_decode(buf, len, &f, msg, sizeof(msg)), 0);
	nuq_file_free(&f);
	for (i = 0; i < len; i++) {
		for (k = 0; k < sizeof(flips); k++) {
			int ret;

			buf[i] ^= flips[k];
			msg[0] = 0;
			ret = nuq_file_decode(buf, len, &f, msg, sizeof(msg));
			if (ret != -EBADMSG && ret != -EPROTONOSUPPORT)
				fail_msg("byte %zu ^ 0x%02x: got %d (%s)", i, flips[k], ret, msg);
			assert_true(strlen(msg) > 10);
			assert_int_equal(f.nlayers, 0);
			buf[i] ^= flips[k];
		}
		assert_int_equal(nuq_file_decode(buf, i, &f, msg, sizeof(msg)), -EBADMSG);
		assert_true(strstr(msg, "truncated") || strstr(msg, "says"));
	}
}

void layer_file_damage_refused(struct nuq_qlayer *l, unsigned int version)
{
	uint8_t *buf;
	size_t len;

	assert_int_equal(nuq_file_encode(l, 1, &buf, &len), 0);
	nuq_qlayer_free(l);
	assert_int_equal(buf[4] | buf[5] << 8, version);
	every_flip_and_truncation_refused(buf, len);
	free(buf);
}

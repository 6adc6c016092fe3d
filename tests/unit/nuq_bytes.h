/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Hand-made .nuq bytes for the format tests (nuq_bytes.c). */
#ifndef NUQ_TEST_NUQ_BYTES_H
#define NUQ_TEST_NUQ_BYTES_H

#include <stddef.h>
#include <stdint.h>

struct bytes {
	uint8_t b[512];
	size_t n;
};

void p8(struct bytes *o, uint32_t v);
void p16(struct bytes *o, uint32_t v);
void p32(struct bytes *o, uint32_t v);
void pf(struct bytes *o, float f);
void put32_at(uint8_t *p, uint32_t v);
/* Header and section header around @payload, CRCs right. */
void wrap(struct bytes *file, unsigned int version, const struct bytes *payload);
/*
 * A small v2 layer payload: one 3x2 shared-codebook layer "w0", 2-bit
 * indices, int8 entries; group 1's scale ratio @ratio1, base scale
 * @base, row 0's index byte @idx.
 */
void small_v2_payload(struct bytes *pl, uint16_t ratio1, float base, unsigned int idx);
/* Where small_v2_payload() puts the layer flags (version 3; reserved before). */
#define SMALL_LAYER_FLAGS_AT	10

/* nuq_file_decode() of @file fails with @err and a message containing @needle. */
void expect_refused(const struct bytes *file, int err, const char *needle);
/* The file @buf decodes; each byte flipped four ways, and each truncation, does not. */
void every_flip_and_truncation_refused(uint8_t *buf, size_t len);
struct nuq_qlayer;
/* @l (freed) alone in a file of version @version, which every_flip_and_truncation_refused(). */
void layer_file_damage_refused(struct nuq_qlayer *l, unsigned int version);

#endif

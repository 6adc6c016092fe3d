/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * libnuq: packed weights of recent jobs (conv_fast_cache.c).
 */
#ifndef NUQ_CONV_FAST_CACHE_H
#define NUQ_CONV_FAST_CACHE_H

#include <stddef.h>
#include <stdint.h>

/* What the packed form depends on besides the bytes; no padding (compared with memcmp). */
struct nuq_wcache_key {
	uint32_t layout;	/* which packing (conv_fast.c) */
	uint32_t weight_format, weight_bits, flags;
	uint32_t out_c, k, groups, reserved;
	uint64_t weight_bytes, codebook_bytes;
};

/* Packed weights: @n int16 values, and the largest |w| (the exactness bound). */
struct nuq_packed {
	int16_t *w;
	size_t n;
	int32_t wmax;
};

/*
 * The packed weights of a job with @key whose weight and codebook bytes
 * equal @weights and @codebook, held until nuq_wcache_release(); or NULL.
 */
struct nuq_packed *nuq_wcache_get(const struct nuq_wcache_key *key, const void *weights,
				  const void *codebook);

/*
 * Keep @packed (the cache takes packed->w) for later jobs; returns the
 * cache's copy, held until nuq_wcache_release(), or NULL when it was not
 * kept (the caller still owns packed->w).
 */
struct nuq_packed *nuq_wcache_put(const struct nuq_wcache_key *key, const void *weights,
				  const void *codebook, const struct nuq_packed *packed);

void nuq_wcache_release(struct nuq_packed *packed);

#endif

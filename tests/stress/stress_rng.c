// SPDX-License-Identifier: GPL-2.0
/*
 * nuq-stress: the per-thread PRNG (xoshiro256**, seeded through splitmix64
 * from the run's seed and the thread's coordinates).
 */
#include "stress.h"

static uint64_t splitmix64(uint64_t *x)
{
	uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

void rng_init(struct rng *r, uint64_t seed, uint64_t a, uint64_t b, uint64_t c)
{
	uint64_t x = seed;
	int i;

	/* Mix each coordinate in separately so (1,0) and (0,1) differ. */
	x = splitmix64(&x) ^ (a * 0xd1342543de82ef95ULL);
	x = splitmix64(&x) ^ (b * 0xaf251af3b0f025b5ULL);
	x = splitmix64(&x) ^ (c * 0x9fb21c651e98df25ULL);
	for (i = 0; i < 4; i++)
		r->s[i] = splitmix64(&x);
}

static inline uint64_t rotl(uint64_t v, int k)
{
	return (v << k) | (v >> (64 - k));
}

uint64_t rng_next(struct rng *r)
{
	uint64_t *s = r->s;
	uint64_t res = rotl(s[1] * 5, 7) * 9, t = s[1] << 17;

	s[2] ^= s[0];
	s[3] ^= s[1];
	s[1] ^= s[2];
	s[0] ^= s[3];
	s[2] ^= t;
	s[3] = rotl(s[3], 45);
	return res;
}

uint32_t rng_below(struct rng *r, uint32_t n)
{
	return n ? (uint32_t)(((rng_next(r) >> 32) * (uint64_t)n) >> 32) : 0;
}

uint32_t rng_range(struct rng *r, uint32_t lo, uint32_t hi)
{
	return lo + rng_below(r, hi - lo + 1);
}

int rng_chance(struct rng *r, uint32_t one_in)
{
	return rng_below(r, one_in) == 0;
}

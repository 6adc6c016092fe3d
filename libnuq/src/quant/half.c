// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * libnuq: IEEE 754 binary16, bit by bit (no dependence on the compiler's
 * _Float16), so every build stores and reads the same channel scales.
 */
#include <math.h>
#include <string.h>

#include <nuq/quant.h>

uint16_t nuq_float_to_half(float f)
{
	uint32_t u, sign, mant;
	int exp;

	memcpy(&u, &f, 4);
	sign = (u >> 16) & 0x8000;
	exp = (int)((u >> 23) & 0xff) - 127 + 15;
	mant = u & 0x7fffff;
	if (((u >> 23) & 0xff) == 0xff)		/* inf, nan */
		return (uint16_t)(sign | 0x7c00 | (mant ? 0x200 : 0));
	if (exp >= 31)
		return (uint16_t)(sign | 0x7c00);	/* overflow to inf */
	if (exp <= 0) {				/* subnormal or zero */
		uint32_t m, shift, half, rest;

		if (exp < -10)
			return (uint16_t)sign;
		m = mant | 0x800000;
		shift = (uint32_t)(14 - exp);
		half = 1U << (shift - 1);
		rest = m & ((1U << shift) - 1);
		m >>= shift;
		if (rest > half || (rest == half && (m & 1)))
			m++;
		return (uint16_t)(sign | m);
	}
	{
		uint32_t h = sign | (uint32_t)exp << 10 | mant >> 13, rest = mant & 0x1fff;

		/* round to nearest even; a carry into the exponent is still right */
		if (rest > 0x1000 || (rest == 0x1000 && (h & 1)))
			h++;
		return (uint16_t)h;
	}
}

float nuq_half_to_float(uint16_t h)
{
	uint32_t sign = (uint32_t)(h & 0x8000) << 16, exp = (h >> 10) & 0x1f, mant = h & 0x3ff, u;
	float f;

	if (exp == 0) {
		f = ldexpf((float)mant, -24);
		return sign ? -f : f;
	}
	if (exp == 31)
		u = sign | 0x7f800000 | mant << 13;
	else
		u = sign | (exp - 15 + 127) << 23 | mant << 13;
	memcpy(&f, &u, 4);
	return f;
}

// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * nuq integer convolution core: which requantization parameters are valid.
 * The arithmetic itself is inline in nuq_conv.h.
 */

#include "nuq_conv.h"

int nuq_requant_ok(__s32 multiplier, __s32 shift)
{
	return (multiplier == 0 || multiplier >= (1 << 30)) && shift >= -31 && shift <= 30;
}

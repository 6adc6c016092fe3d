/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * libnuq: userspace library of nuq.  Umbrella header.
 *
 * Every function that can fail returns 0 or a negative errno value;
 * nuq_strerror() turns one into text.
 */
#ifndef NUQ_NUQ_H
#define NUQ_NUQ_H

#include <nuq/conv.h>
#include <nuq/device.h>
#include <nuq/info.h>

const char *nuq_strerror(int err);

#endif

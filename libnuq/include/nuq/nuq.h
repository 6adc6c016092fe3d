/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * libnuq: userspace library of nuq.  Umbrella header: every public header.
 *
 * Every function that can fail returns 0 or a negative errno value;
 * nuq_strerror() turns one into text.
 */
#ifndef NUQ_NUQ_H
#define NUQ_NUQ_H

#include <nuq/conv.h>
#include <nuq/device.h>
#include <nuq/graph.h>
#include <nuq/info.h>
#include <nuq/input.h>
#include <nuq/nuqfile.h>
#include <nuq/ocr.h>
#include <nuq/onnx.h>
#include <nuq/qexec.h>
#include <nuq/quant.h>
#include <nuq/version.h>

const char *nuq_strerror(int err);

#endif

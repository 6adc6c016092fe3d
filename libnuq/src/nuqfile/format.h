/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * libnuq: constants of the .nuq format (Documentation/nuq-file-format.rst).
 */
#ifndef NUQ_FILE_FORMAT_H
#define NUQ_FILE_FORMAT_H

#define NUQ_SECTION_LAYER	1
/* Fixed part of a layer payload besides name and dims: method..reserved. */
#define NUQ_LAYER_FIXED_BYTES	24
/* A section payload is at most this big (its size field is 32 bits). */
#define NUQ_SECTION_MAX_BYTES	0xffffffffULL

#endif

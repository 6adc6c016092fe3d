/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * libnuq: the optional message buffer of functions that parse files.
 * Parsers return a negative errno and, when the caller passed a buffer,
 * one line naming what was wrong and where.
 */
#ifndef NUQ_MSG_H
#define NUQ_MSG_H

#include <stdarg.h>
#include <stdio.h>

__attribute__((format(printf, 4, 5)))
static inline int nuq_fail(char *msg, size_t len, int err, const char *fmt, ...)
{
	va_list ap;

	if (msg && len) {
		va_start(ap, fmt);
		vsnprintf(msg, len, fmt, ap);
		va_end(ap);
	}
	return err;
}

#endif

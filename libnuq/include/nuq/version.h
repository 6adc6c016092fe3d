/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * libnuq: its release, and the interface versions it speaks.
 */
#ifndef NUQ_VERSION_H
#define NUQ_VERSION_H

#define NUQ_VERSION_MAJOR	0
#define NUQ_VERSION_MINOR	5
#define NUQ_VERSION_PATCH	0
#define NUQ_VERSION_STRING	"0.5.0"

/*
 * The library's release, which may differ from NUQ_VERSION_STRING of
 * the headers an application was built with (shared library).
 */
const char *nuq_version(void);

#endif

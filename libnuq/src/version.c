// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * libnuq: its release string.
 */
#include <nuq/version.h>

const char *nuq_version(void)
{
	return NUQ_VERSION_STRING;
}

// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * libnuq: error strings.  libnuq reports failures as negative errno
 * values; the few codes whose generic text would mislead get a nuq
 * specific one.
 */
#include <errno.h>
#include <string.h>

#include <nuq/nuq.h>

const char *nuq_strerror(int err)
{
	if (err < 0)
		err = -err;
	switch (err) {
	case 0:
		return "success";
	case ENOTTY:
		return "not a nuq device, or the driver lacks this ioctl";
	case EPROTO:
		return "driver and libnuq UAPI versions are incompatible";
	default:
		return strerror(err);
	}
}

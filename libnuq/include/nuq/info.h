/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * libnuq: what a nuq device is (NUQ_IOCTL_GET_INFO) in words.
 */
#ifndef NUQ_INFO_H
#define NUQ_INFO_H

#include <stddef.h>
#include <linux/nuq.h>

/* Query /dev/nuqN behind an open file descriptor. */
int nuq_query_info(int fd, struct nuq_info *info);

/* Check that the driver's UAPI major matches the one libnuq was built for. */
int nuq_info_check_version(const struct nuq_info *info);

const char *nuq_backend_name(unsigned int backend);
const char *nuq_weight_format_name(unsigned int fmt);

/*
 * Describe @info as "key: value" lines into @buf (always NUL-terminated).
 * Returns the length the full text needs, like snprintf().
 */
int nuq_info_format(const struct nuq_info *info, char *buf, size_t len);

#endif

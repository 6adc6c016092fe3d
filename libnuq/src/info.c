// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * libnuq: query and describe a device (NUQ_IOCTL_GET_INFO).
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>

#include <nuq/nuq.h>

int nuq_query_info(int fd, struct nuq_info *info)
{
	memset(info, 0, sizeof(*info));
	if (ioctl(fd, NUQ_IOCTL_GET_INFO, info) < 0)
		return -errno;
	return nuq_info_check_version(info);
}

int nuq_info_check_version(const struct nuq_info *info)
{
	if ((info->uapi_version >> 16) != NUQ_UAPI_VERSION_MAJOR)
		return -EPROTO;
	return 0;
}

const char *nuq_backend_name(unsigned int backend)
{
	switch (backend) {
	case NUQ_BACKEND_SOFTWARE:
		return "software";
	case NUQ_BACKEND_NPU:
		return "npu";
	default:
		return "unknown";
	}
}

const char *nuq_weight_format_name(unsigned int fmt)
{
	switch (fmt) {
	case NUQ_WFMT_INT8:
		return "int8";
	case NUQ_WFMT_CODEBOOK:
		return "codebook";
	case NUQ_WFMT_ASD:
		return "asd";
	default:
		return NULL;
	}
}

struct out {
	char *buf;
	size_t len;
	int need;
};

__attribute__((format(printf, 2, 3)))
static void put(struct out *o, const char *fmt, ...)
{
	size_t used = (size_t)o->need < o->len ? (size_t)o->need : o->len;
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(o->buf ? o->buf + used : NULL, o->len - used, fmt, ap);
	va_end(ap);
	if (n > 0)
		o->need += n;
}

static const struct {
	unsigned long long bit;
	const char *name;
} caps[] = {
	{ NUQ_CAP_JOBS, "jobs" },
	{ NUQ_CAP_URING_CMD, "uring_cmd" },
	{ NUQ_CAP_DMABUF, "dmabuf" },
	{ NUQ_CAP_RESIDUAL, "residual" },
};

int nuq_info_format(const struct nuq_info *info, char *buf, size_t len)
{
	struct out o = { buf, len, 0 };
	unsigned int i, n;

	if (buf && len)
		buf[0] = '\0';
	put(&o, "name: %.*s\n", (int)sizeof(info->name), info->name);
	put(&o, "index: %u\n", info->index);
	put(&o, "uapi: %u.%u\n", info->uapi_version >> 16, info->uapi_version & 0xffff);
	put(&o, "backend: %s\n", nuq_backend_name(info->backend));

	put(&o, "caps:");
	for (i = 0, n = 0; i < sizeof(caps) / sizeof(caps[0]); i++)
		if (info->caps & caps[i].bit)
			put(&o, "%s%s", n++ ? "," : " ", caps[i].name);
	put(&o, "%s\n", n ? "" : " none");

	put(&o, "max_bo_size: %llu\n", (unsigned long long)info->max_bo_size);
	put(&o, "max_jobs_in_flight: %u\n", info->max_jobs_in_flight);

	put(&o, "weight_formats:");
	for (i = 0, n = 0; i < 32; i++)
		if ((info->weight_formats & (1u << i)) && nuq_weight_format_name(i))
			put(&o, "%s%s", n++ ? "," : " ", nuq_weight_format_name(i));
	put(&o, "%s\n", n ? "" : " none");

	put(&o, "weight_bits:");
	for (i = 1, n = 0; i <= 16; i++)
		if (info->weight_bits & (1u << i))
			put(&o, "%s%u", n++ ? "," : " ", i);
	put(&o, "%s\n", n ? "" : " none");

	put(&o, "act_formats:%s%s\n",
	    info->act_formats & (1u << NUQ_AFMT_INT8) ? " int8" : "",
	    info->act_formats & (1u << NUQ_AFMT_UINT8) ? " uint8" : "");
	return o.need;
}

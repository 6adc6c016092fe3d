// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * libnuq: reading the model and .nuq files that parsers then check.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "file.h"
#include "msg.h"

int nuq_read_file(const char *path, unsigned long long max, uint8_t **buf, size_t *len,
		  char *msg, size_t msglen)
{
	struct stat st;
	size_t done = 0;
	uint8_t *b;
	int fd, ret;

	*buf = NULL;
	*len = 0;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return nuq_fail(msg, msglen, -errno, "%s: %s", path, strerror(errno));
	if (fstat(fd, &st) || !S_ISREG(st.st_mode)) {
		close(fd);
		return nuq_fail(msg, msglen, -EINVAL, "%s: not a regular file", path);
	}
	if ((unsigned long long)st.st_size > max) {
		close(fd);
		return nuq_fail(msg, msglen, -EFBIG, "%s: larger than %llu bytes", path, max);
	}
	b = malloc(st.st_size ? st.st_size : 1);
	if (!b) {
		close(fd);
		return -ENOMEM;
	}
	while (done < (size_t)st.st_size) {
		ssize_t r = read(fd, b + done, st.st_size - done);

		if (r <= 0) {
			ret = r ? -errno : -EIO;
			free(b);
			close(fd);
			return nuq_fail(msg, msglen, ret, "%s: read failed", path);
		}
		done += r;
	}
	close(fd);
	*buf = b;
	*len = done;
	return 0;
}

void nuq_msg_prefix_path(char *msg, size_t msglen, const char *path)
{
	char tmp[512];

	if (!msg || !msglen)
		return;
	snprintf(tmp, sizeof(tmp), "%s", msg);
	snprintf(msg, msglen, "%s: %s", path, tmp);
}

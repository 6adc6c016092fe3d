// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * libnuq: loading an ONNX model file with protobuf-c.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "msg.h"
#include "onnx_priv.h"

/* protobuf-c cannot unpack messages over 2 GiB, nor can ONNX files hold them. */
#define NUQ_ONNX_MAX_FILE	(2ULL << 30)

int nuq_onnx_load_mem(const void *buf, size_t len, struct nuq_onnx **model,
		      char *msg, size_t msglen)
{
	struct nuq_onnx *m;
	Onnx__ModelProto *p;

	*model = NULL;
	if (!buf || !len)
		return nuq_fail(msg, msglen, -EINVAL, "empty file: not an ONNX model");
	if (len > NUQ_ONNX_MAX_FILE)
		return nuq_fail(msg, msglen, -EFBIG, "file over 2 GiB: not supported");
	p = onnx__model_proto__unpack(NULL, len, buf);
	if (!p)
		return nuq_fail(msg, msglen, -EBADMSG,
				"not an ONNX model: protobuf decoding failed (truncated or corrupt)");
	if (!p->graph) {
		onnx__model_proto__free_unpacked(p, NULL);
		return nuq_fail(msg, msglen, -EBADMSG, "ONNX model has no graph");
	}
	m = calloc(1, sizeof(*m));
	if (!m) {
		onnx__model_proto__free_unpacked(p, NULL);
		return -ENOMEM;
	}
	m->proto = p;
	*model = m;
	return 0;
}

int nuq_onnx_load(const char *path, struct nuq_onnx **model, char *msg, size_t msglen)
{
	struct stat st;
	size_t done = 0;
	uint8_t *buf;
	int fd, ret;

	*model = NULL;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return nuq_fail(msg, msglen, -errno, "%s: %s", path, strerror(errno));
	if (fstat(fd, &st) || !S_ISREG(st.st_mode)) {
		close(fd);
		return nuq_fail(msg, msglen, -EINVAL, "%s: not a regular file", path);
	}
	if ((unsigned long long)st.st_size > NUQ_ONNX_MAX_FILE) {
		close(fd);
		return nuq_fail(msg, msglen, -EFBIG, "%s: over 2 GiB", path);
	}
	buf = malloc(st.st_size ? st.st_size : 1);
	if (!buf) {
		close(fd);
		return -ENOMEM;
	}
	while (done < (size_t)st.st_size) {
		ssize_t r = read(fd, buf + done, st.st_size - done);

		if (r <= 0) {
			ret = r ? -errno : -EIO;
			free(buf);
			close(fd);
			return nuq_fail(msg, msglen, ret, "%s: read failed", path);
		}
		done += r;
	}
	close(fd);
	ret = nuq_onnx_load_mem(buf, done, model, msg, msglen);
	free(buf);
	if (ret && msg && msglen) {
		char tmp[256];

		snprintf(tmp, sizeof(tmp), "%s", msg);
		snprintf(msg, msglen, "%s: %s", path, tmp);
	}
	return ret;
}

void nuq_onnx_free(struct nuq_onnx *m)
{
	if (!m)
		return;
	onnx__model_proto__free_unpacked(m->proto, NULL);
	free(m->weights);
	free(m);
}

const struct Onnx__ModelProto *nuq_onnx_proto(const struct nuq_onnx *m)
{
	return m->proto;
}

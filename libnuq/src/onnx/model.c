// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * libnuq: loading an ONNX model file with protobuf-c.
 */
#include <errno.h>
#include <stdlib.h>

#include "file.h"
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
	uint8_t *buf;
	size_t len;
	int ret;

	*model = NULL;
	ret = nuq_read_file(path, NUQ_ONNX_MAX_FILE, &buf, &len, msg, msglen);
	if (ret)
		return ret;
	ret = nuq_onnx_load_mem(buf, len, model, msg, msglen);
	free(buf);
	if (ret)
		nuq_msg_prefix_path(msg, msglen, path);
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

// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * libFuzzer target: the .npy reader (libnuq/src/input/npy.c), which
 * takes whatever file a user passes to nuq run --input.  Whatever
 * decodes is written again with nuq_npy_write() and read back: the
 * values and shape must survive (floats as float32, the integer and
 * bool kinds as int64).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <nuq/input.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char path[64];
	struct nuq_tensor t, back;
	char msg[256];
	size_t n;

	if (nuq_npy_decode(data, size, &t, msg, sizeof(msg)))
		return 0;
	if (!path[0])
		snprintf(path, sizeof(path), "/tmp/fuzz_npy.%d.npy", (int)getpid());
	if (t.dtype != NUQ_DT_FLOAT)
		t.dtype = NUQ_DT_INT64;
	if (nuq_npy_write(path, &t, msg, sizeof(msg)) ||
	    nuq_npy_read(path, &back, msg, sizeof(msg)))
		abort();
	n = nuq_tensor_count(&t);
	if (back.ndims != t.ndims || memcmp(back.dims, t.dims, t.ndims * sizeof(t.dims[0])) ||
	    back.dtype != t.dtype ||
	    (t.f && memcmp(back.f, t.f, n * sizeof(float))) ||
	    (t.i && memcmp(back.i, t.i, n * sizeof(int64_t))))
		abort();
	nuq_tensor_free(&back);
	nuq_tensor_free(&t);
	return 0;
}

// SPDX-License-Identifier: LGPL-2.1-or-later
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "qexec_run.h"

void qexec_run_one(struct nuq_graph *g, const struct nuq_qlayer *layer, const struct nuq_tensor *x,
		   size_t n, unsigned int flags, struct nuq_tensor *y, struct nuq_qexec_stats *qs,
		   struct nuq_qexec_layer *info)
{
	struct nuq_qexec_opts o = { .flags = NUQ_QEXEC_CPU | NUQ_QEXEC_QUANTIZED_HEADS | flags,
				    .calib = NUQ_CALIB_MINMAX };
	struct nuq_qexec *q;
	char msg[256];

	if (nuq_qexec_create(g, layer, 1, &o, &q, msg, sizeof(msg)))
		fail_msg("create: %s", msg);
	if (nuq_qexec_calibrate(q, x, n, NULL, NULL, msg, sizeof(msg)))
		fail_msg("calibrate: %s", msg);
	if (nuq_qexec_run(q, &x[n - 1], y, msg, sizeof(msg)))
		fail_msg("run: %s", msg);
	nuq_qexec_stats(q, qs);
	assert_int_equal(nuq_qexec_layers(q, info, 1), 1);
	nuq_qexec_free(q);
}

// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * libnuq: the table of ops the executor implements.
 */
#include <string.h>

#include "graph_priv.h"

extern const struct nuq_op nuq_op_conv, nuq_op_convtranspose;
extern const struct nuq_op nuq_ops_eltwise[], nuq_ops_shape[], nuq_ops_pool[],
	nuq_ops_matmul[], nuq_ops_resize[], nuq_ops_unary[], nuq_ops_variadic[],
	nuq_ops_tensor[], nuq_ops_pad[], nuq_ops_reduce[], nuq_ops_norm[], nuq_ops_split[],
	nuq_ops_compare[], nuq_ops_argmax[];

const struct nuq_op *nuq_op_find(const char *name)
{
	const struct nuq_op *const tables[] = {
		nuq_ops_eltwise, nuq_ops_shape, nuq_ops_pool, nuq_ops_matmul, nuq_ops_resize,
		nuq_ops_unary, nuq_ops_variadic, nuq_ops_tensor, nuq_ops_pad, nuq_ops_reduce,
		nuq_ops_norm, nuq_ops_split, nuq_ops_compare, nuq_ops_argmax,
	};
	const struct nuq_op *op;
	size_t t;

	if (!strcmp(name, "Conv"))
		return &nuq_op_conv;
	if (!strcmp(name, "ConvTranspose"))
		return &nuq_op_convtranspose;
	for (t = 0; t < sizeof(tables) / sizeof(tables[0]); t++)
		for (op = tables[t]; op->name; op++)
			if (!strcmp(op->name, name))
				return op;
	return NULL;
}

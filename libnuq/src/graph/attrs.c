// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * libnuq: reading node attributes, and naming the node in errors.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "graph_priv.h"

const Onnx__AttributeProto *nuq_attr(const struct nuq_node *n, const char *name)
{
	size_t i;

	for (i = 0; i < n->proto->n_attribute; i++)
		if (n->proto->attribute[i]->name && !strcmp(n->proto->attribute[i]->name, name))
			return n->proto->attribute[i];
	return NULL;
}

int64_t nuq_attr_int(const struct nuq_node *n, const char *name, int64_t def)
{
	const Onnx__AttributeProto *a = nuq_attr(n, name);

	return a && a->has_i ? a->i : def;
}

float nuq_attr_float(const struct nuq_node *n, const char *name, float def)
{
	const Onnx__AttributeProto *a = nuq_attr(n, name);

	return a && a->has_f ? a->f : def;
}

int nuq_attr_ints(const struct nuq_node *n, const char *name, int64_t *out, unsigned int max)
{
	const Onnx__AttributeProto *a = nuq_attr(n, name);
	size_t i;

	if (!a)
		return 0;
	if (a->n_ints > max)
		return -1;
	for (i = 0; i < a->n_ints; i++)
		out[i] = a->ints[i];
	return (int)a->n_ints;
}

const char *nuq_attr_string(const struct nuq_node *n, const char *name, const char *def,
			    char *buf, size_t size)
{
	const Onnx__AttributeProto *a = nuq_attr(n, name);
	size_t len;

	if (!a || !a->has_s)
		return def;
	len = a->s.len < size - 1 ? a->s.len : size - 1;
	memcpy(buf, a->s.data, len);
	buf[len] = 0;
	return buf;
}

int nuq_node_fail(const struct nuq_node *n, char *msg, size_t msglen, int err,
		  const char *fmt, ...)
{
	char reason[192];
	const char *op;
	va_list ap;

	if (!msg || !msglen)
		return err;
	va_start(ap, fmt);
	vsnprintf(reason, sizeof(reason), fmt, ap);
	va_end(ap);
	op = n->proto->op_type ? n->proto->op_type : "?";
	if (n->proto->name && *n->proto->name)
		snprintf(msg, msglen, "node '%s' (%s): %s", n->proto->name, op, reason);
	else if (n->proto->n_output && n->proto->output[0] && *n->proto->output[0])
		/* Exporters often leave nodes unnamed: the index and output still find it. */
		snprintf(msg, msglen, "node #%zu (%s, output '%s'): %s", n->index, op,
			 n->proto->output[0], reason);
	else
		snprintf(msg, msglen, "node #%zu (%s): %s", n->index, op, reason);
	return err;
}

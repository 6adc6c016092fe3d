// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The graph executor's per-op-type profile (nuq_graph_set_profile()):
 * calls counted per op type over several runs, nothing counted while it
 * is off, totals cleared when it is turned on again, and the printed
 * table naming every op.  Times are only checked to be consistent (the
 * nodes' total within the runs' wall time), never against a speed.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <nuq/graph.h>

#include "graph_build.h"

/* Relu -> Mul (one value read twice) -> Add -> Relu: two Relus a run. */
static struct gb *small_graph(void)
{
	struct gb *b = gb_new(13);

	gb_input(b, "x");
	gb_output(b, "y");
	gb_node(b, "Relu", "relu1", "x", "a");
	gb_node(b, "Mul", "square", "a,a", "s");
	gb_node(b, "Add", "add", "s,x", "t");
	gb_node(b, "Relu", "relu2", "t", "y");
	return b;
}

static const struct nuq_graph_profile_entry *entry(const struct nuq_graph *g, const char *op)
{
	const struct nuq_graph_profile_entry *e;
	size_t n, i;

	e = nuq_graph_profile(g, &n, NULL, NULL);
	for (i = 0; i < n; i++)
		if (!strcmp(e[i].op, op) && !e[i].quantized)
			return &e[i];
	return NULL;
}

static void run_times(struct gb_run *r, const struct nuq_tensor *x, int times)
{
	struct nuq_tensor y;
	int k;

	for (k = 0; k < times; k++) {
		assert_int_equal(nuq_graph_run(r->g, x, &y, r->msg, sizeof(r->msg)), 0);
		nuq_tensor_free(&y);
	}
}

static void counts_calls(void **state)
{
	float xv[6] = { -1, 2, -3, 4, 0.5f, -0.25f };
	struct nuq_tensor x = { .dtype = NUQ_DT_FLOAT, .ndims = 2, .dims = { 2, 3 }, .f = xv };
	const struct nuq_graph_profile_entry *e;
	struct gb *b = small_graph();
	double wall, nodes = 0;
	struct gb_run r;
	uint64_t runs;
	size_t n, i;

	(void)state;
	assert_int_equal(gb_run(b, &x, &r), 0);
	/* Off by default: gb_run's own run left nothing. */
	nuq_graph_profile(r.g, &n, &runs, NULL);
	assert_int_equal(n, 0);
	assert_int_equal(runs, 0);

	nuq_graph_set_profile(r.g, 1);
	run_times(&r, &x, 3);
	e = nuq_graph_profile(r.g, &n, &runs, &wall);
	assert_int_equal(n, 3);
	assert_int_equal(runs, 3);
	assert_int_equal(entry(r.g, "Relu")->calls, 6);
	assert_int_equal(entry(r.g, "Mul")->calls, 3);
	assert_int_equal(entry(r.g, "Add")->calls, 3);
	for (i = 0; i < n; i++) {
		assert_false(e[i].quantized);
		assert_true(e[i].seconds >= 0);
		nodes += e[i].seconds;
	}
	assert_true(nodes <= wall);

	/* Off: the totals stay as they were. */
	nuq_graph_set_profile(r.g, 0);
	run_times(&r, &x, 2);
	nuq_graph_profile(r.g, &n, &runs, NULL);
	assert_int_equal(runs, 3);
	assert_int_equal(entry(r.g, "Relu")->calls, 6);

	/* On again: counting starts from zero. */
	nuq_graph_set_profile(r.g, 1);
	run_times(&r, &x, 1);
	nuq_graph_profile(r.g, &n, &runs, NULL);
	assert_int_equal(runs, 1);
	assert_int_equal(entry(r.g, "Relu")->calls, 2);
	assert_int_equal(entry(r.g, "Add")->calls, 1);
	gb_run_free(&r);
	gb_free(b);
}

static void prints_table(void **state)
{
	float xv[6] = { -1, 2, -3, 4, 0.5f, -0.25f };
	struct nuq_tensor x = { .dtype = NUQ_DT_FLOAT, .ndims = 2, .dims = { 2, 3 }, .f = xv };
	struct gb *b = small_graph();
	struct gb_run r;
	char *buf = NULL;
	size_t len = 0;
	FILE *f;

	(void)state;
	assert_int_equal(gb_run(b, &x, &r), 0);
	nuq_graph_set_profile(r.g, 1);
	run_times(&r, &x, 4);
	f = open_memstream(&buf, &len);
	assert_non_null(f);
	nuq_graph_profile_print(r.g, f);
	fclose(f);
	/* A header, one row per op type, the nodes' and the runs' totals. */
	assert_non_null(strstr(buf, "\nRelu "));
	assert_non_null(strstr(buf, "\nMul "));
	assert_non_null(strstr(buf, "\nAdd "));
	assert_non_null(strstr(buf, "\nruns (wall) "));
	assert_non_null(strstr(strstr(buf, "\nRelu "), " 8 "));
	free(buf);
	gb_run_free(&r);
	gb_free(b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(counts_calls),
		cmocka_unit_test(prints_table),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

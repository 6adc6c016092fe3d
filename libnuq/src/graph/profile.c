// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * libnuq: the per-op-type run profile of a graph (nuq_graph_set_profile()),
 * which tells where a whole model's time goes.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "graph_priv.h"

double nuq_prof_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

void nuq_prof_add(struct nuq_graph_prof *p, const char *op, int quantized, double seconds)
{
	struct nuq_graph_profile_entry *e;
	size_t i;

	/* Op names are static strings: a pointer compare finds most entries. */
	for (i = 0; i < p->n; i++)
		if ((p->e[i].op == op || !strcmp(p->e[i].op, op)) && p->e[i].quantized == quantized)
			break;
	if (i == p->n) {
		if (p->n == NUQ_PROF_MAX)
			i = NUQ_PROF_MAX - 1;
		else
			p->e[p->n++] = (struct nuq_graph_profile_entry){ op, quantized, 0, 0 };
	}
	e = &p->e[i];
	e->calls++;
	e->seconds += seconds;
}

void nuq_graph_set_profile(struct nuq_graph *g, int on)
{
	if (on)
		memset(&g->prof, 0, sizeof(g->prof));
	g->prof.on = !!on;
}

const struct nuq_graph_profile_entry *nuq_graph_profile(const struct nuq_graph *g, size_t *n,
							 uint64_t *runs, double *run_seconds)
{
	*n = g->prof.n;
	if (runs)
		*runs = g->prof.runs;
	if (run_seconds)
		*run_seconds = g->prof.run_seconds;
	return g->prof.e;
}

static int slower_first(const void *a, const void *b)
{
	const struct nuq_graph_profile_entry *x = a, *y = b;

	return (x->seconds < y->seconds) - (x->seconds > y->seconds);
}

void nuq_graph_profile_print(const struct nuq_graph *g, FILE *f)
{
	struct nuq_graph_profile_entry e[NUQ_PROF_MAX];
	const struct nuq_graph_prof *p = &g->prof;
	double total = 0, runs = p->runs ? (double)p->runs : 1;
	char name[64];
	size_t i;

	memcpy(e, p->e, p->n * sizeof(e[0]));
	qsort(e, p->n, sizeof(e[0]), slower_first);
	for (i = 0; i < p->n; i++)
		total += e[i].seconds;
	fprintf(f, "%-28s %10s %12s %12s %7s\n", "op", "calls", "total ms", "ms/run", "%");
	for (i = 0; i < p->n; i++) {
		snprintf(name, sizeof(name), "%s%s", e[i].op, e[i].quantized ? " (qexec)" : "");
		fprintf(f, "%-28s %10llu %12.3f %12.3f %6.1f%%\n", name,
			(unsigned long long)e[i].calls, e[i].seconds * 1e3,
			e[i].seconds * 1e3 / runs, total > 0 ? 100 * e[i].seconds / total : 0.0);
	}
	fprintf(f, "%-28s %10s %12.3f %12.3f %6.1f%%\n", "nodes", "", total * 1e3,
		total * 1e3 / runs, total > 0 ? 100.0 : 0.0);
	fprintf(f, "%-28s %10llu %12.3f %12.3f\n", "runs (wall)", (unsigned long long)p->runs,
		p->run_seconds * 1e3, p->run_seconds * 1e3 / runs);
}

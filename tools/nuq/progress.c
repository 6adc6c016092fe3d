// SPDX-License-Identifier: GPL-2.0
/*
 * nuq: progress bar.  Redrawn in place with a carriage return; nothing at
 * all when stderr is not a terminal, so logs and pipes stay clean.
 */
#include <stdio.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"

double now_seconds(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec * 1e-9;
}

void progress_start(struct progress *p, const char *what, size_t total)
{
	p->what = what;
	p->total = total ? total : 1;
	p->done = 0;
	p->tty = isatty(STDERR_FILENO);
	p->started = now_seconds();
	progress_step(p, 0);
}

void progress_step(struct progress *p, size_t done)
{
	int width = 30, fill, i;

	p->done = done;
	if (!p->tty)
		return;
	fill = (int)(width * done / p->total);
	fprintf(stderr, "\r%-10s [", p->what);
	for (i = 0; i < width; i++)
		fputc(i < fill ? '#' : '.', stderr);
	fprintf(stderr, "] %zu/%zu %.1fs", done, p->total, now_seconds() - p->started);
	fflush(stderr);
}

void progress_end(struct progress *p)
{
	if (p->tty)
		fprintf(stderr, "\r%*s\r", 70, "");
}

/* SPDX-License-Identifier: GPL-2.0 */
/*
 * nuq: the user CLI.  One file per subcommand; shared helpers here.
 */
#ifndef NUQ_CLI_H
#define NUQ_CLI_H

#include <stddef.h>

int cmd_quantize(int argc, char **argv);
int cmd_inspect(int argc, char **argv);

/* A progress bar on stderr, drawn only when stderr is a terminal. */
struct progress {
	const char *what;
	size_t total;
	size_t done;
	int tty;
	double started;
};

void progress_start(struct progress *p, const char *what, size_t total);
void progress_step(struct progress *p, size_t done);
void progress_end(struct progress *p);
double now_seconds(void);

#endif

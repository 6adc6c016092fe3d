// SPDX-License-Identifier: GPL-2.0
/*
 * nuq-stress: seeded random-syscall stress of /dev/nuqN.
 *
 *   nuq-stress [--seed S] [--seconds N] [--procs P] [--threads T]
 *              [--devices 0,1] [--no-kill]
 *
 * Defaults come from STRESS_SEED (random if unset), STRESS_SECONDS (20),
 * STRESS_PROCS (3), STRESS_THREADS (3), STRESS_DEVICES (nuq0 and the first
 * NPU) and STRESS_NO_KILL.  Exits 0 when every check passed; on failure the
 * last line is "stress: FAILED seed S".
 */
#include <stdlib.h>

#include "stress.h"

int main(int argc, char **argv)
{
	struct stress_opts o;

	stress_defaults(&o);
	if (stress_parse(&o, argc, argv)) {
		fprintf(stderr, "usage: %s [--seed S] [--seconds N] [--procs P] [--threads T] "
			"[--devices N,M] [--no-kill]\n", argv[0]);
		return 2;
	}
	if (stress_find_devs(&o)) {
		fprintf(stderr, "nuq-stress: no /dev/nuqN\n");
		return 2;
	}
	return stress_run(&o) ? 1 : 0;
}

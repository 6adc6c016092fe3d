// SPDX-License-Identifier: GPL-2.0
/*
 * nuq: parsers for the options several commands share.  Each prints
 * "nuq CMD: what is wrong" and returns 2 (the usage exit code) on error.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include <nuq/nuq.h>
#include <nuq/qexec.h>

#include "cli.h"

int parse_uint(const char *s, unsigned long max, unsigned long *v)
{
	char *end;

	errno = 0;
	*v = strtoul(s, &end, 0);
	return errno || end == s || *end || *v > max || s[0] == '-';
}

int opt_count(const char *cmd, const char *name, const char *arg, unsigned long max,
	      unsigned long *v)
{
	if (parse_uint(arg, max, v) || !*v) {
		fprintf(stderr, "nuq %s: --%s must be 1 to %lu\n", cmd, name, max);
		return 2;
	}
	return 0;
}

int opt_method(const char *cmd, const char *arg, enum nuq_qmethod *m)
{
	if (nuq_qmethod_parse(arg, m)) {
		fprintf(stderr, "nuq %s: unknown method '%s'\n", cmd, arg);
		return 2;
	}
	return 0;
}

int opt_bits(const char *cmd, const char *arg, unsigned int *bits)
{
	unsigned long v;

	if (opt_count(cmd, "bits", arg, 8, &v))
		return 2;
	*bits = (unsigned int)v;
	return 0;
}

int opt_calib(const char *cmd, const char *arg, enum nuq_calib *c)
{
	if (nuq_calib_parse(arg, c)) {
		fprintf(stderr, "nuq %s: unknown calibration '%s' (minmax, percentile, mse, kl, layer)\n",
			cmd, arg);
		return 2;
	}
	return 0;
}

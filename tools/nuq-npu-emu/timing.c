// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * Clocks, logging and the optional timing model: a job takes at least
 * latency + MACs / rate + bytes / bandwidth, so that queueing on the
 * emulator behaves like slower hardware would.
 */
#include <stdarg.h>
#include <stdio.h>
#include <time.h>

#include "emu.h"

int emu_quiet;

void emu_log(const char *fmt, ...)
{
	char buf[512];
	va_list ap;

	if (emu_quiet)
		return;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	/* One write per line, so lines of several threads do not interleave. */
	fprintf(stderr, "nuq-npu-emu: %s\n", buf);
}

uint64_t emu_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

void emu_sleep_ns(uint64_t ns)
{
	struct timespec ts = { .tv_sec = (time_t)(ns / 1000000000ull),
			       .tv_nsec = (long)(ns % 1000000000ull) };

	while (nanosleep(&ts, &ts))
		;
}

uint64_t emu_model_ns(const struct emu_config *cfg, uint64_t macs, uint64_t bytes)
{
	double ns = (double)cfg->job_latency_ns;

	/* GMAC/s and GB/s are per nanosecond already. */
	if (cfg->mac_rate > 0)
		ns += (double)macs / cfg->mac_rate;
	if (cfg->bandwidth > 0)
		ns += (double)bytes / cfg->bandwidth;
	return (uint64_t)ns;
}

// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * Fault injection: the state the engines consult, and the line protocol
 * that sets it (from --fault on the command line and the control socket).
 * Every command gets exactly one reply line, "ok ..." or "err ...", so a
 * guest test can write a line to its serial port and read one back.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "emu.h"

/* Consume one of *@counter: 1 when a fault is due now. */
int emu_fault_take(struct emu_dev *dev, unsigned int *counter)
{
	int due = 0;

	if (!__atomic_load_n(counter, __ATOMIC_RELAXED))
		return 0;
	pthread_mutex_lock(&dev->fault_lock);
	if (*counter) {
		/* Atomic too: the check above reads it without the lock. */
		__atomic_store_n(counter, *counter - 1, __ATOMIC_RELAXED);
		due = 1;
	}
	pthread_mutex_unlock(&dev->fault_lock);
	if (due)
		__atomic_add_fetch(&dev->stats.faults_injected, 1, __ATOMIC_RELAXED);
	return due;
}

#define MAX_WORDS	5

struct cmd {
	char *w[MAX_WORDS];
	int n;
};

static enum emu_ctl_result reply(char *buf, size_t len, enum emu_ctl_result r,
				 const char *fmt, ...) __attribute__((format(printf, 4, 5)));

static enum emu_ctl_result reply(char *buf, size_t len, enum emu_ctl_result r,
				 const char *fmt, ...)
{
	size_t at = (size_t)snprintf(buf, len, "%s ", r == EMU_CTL_ERR ? "err" : "ok");
	va_list ap;

	if (at < len) {
		va_start(ap, fmt);
		vsnprintf(buf + at, len - at, fmt, ap);
		va_end(ap);
	}
	return r;
}

/* A whole-word unsigned number in [0, max]. */
static int parse_num(const char *s, unsigned long max, unsigned long *out)
{
	char *end;

	if (!s || !*s || *s == '-' || *s == '+')
		return -1;
	*out = strtoul(s, &end, 10);
	return *end || *out > max ? -1 : 0;
}

/* "E" (an engine, or a vector with @vectors) and an optional count "[N]" (default 1). */
static int parse_target(const struct emu_dev *dev, const struct cmd *c, int vectors,
			unsigned long *e, unsigned long *n)
{
	unsigned long max = vectors ? dev->nr_vec - 1 : dev->cfg.engines - 1;

	if (c->n < 2 || c->n > 3 || parse_num(c->w[1], max, e))
		return -1;
	*n = 1;
	return c->n == 3 ? parse_num(c->w[2], 1000000, n) : 0;
}

/* Set a counter of the fault state under its lock. */
static void set_counter(struct emu_dev *dev, unsigned int *counter, unsigned long n)
{
	pthread_mutex_lock(&dev->fault_lock);
	__atomic_store_n(counter, (unsigned int)n, __ATOMIC_RELAXED);
	pthread_mutex_unlock(&dev->fault_lock);
}

/* fail, drop-irq, corrupt-cqe, mmu-fault: "CMD E [N]". */
static enum emu_ctl_result counted(struct emu_dev *dev, const struct cmd *c, char *buf,
				   size_t len)
{
	int irq = !strcmp(c->w[0], "drop-irq");
	unsigned long e, n;
	unsigned int *counter;

	if (parse_target(dev, c, irq, &e, &n))
		return reply(buf, len, EMU_CTL_ERR, "usage: %s %s [N]", c->w[0],
			     irq ? "VECTOR" : "ENGINE");
	if (irq)
		counter = &dev->faults.drop_irq[e];
	else if (!strcmp(c->w[0], "fail"))
		counter = &dev->faults.eng[e].fail;
	else if (!strcmp(c->w[0], "corrupt-cqe"))
		counter = &dev->faults.eng[e].corrupt_cqe;
	else
		counter = &dev->faults.eng[e].mmu_fault;
	set_counter(dev, counter, n);
	emu_log("fault armed: %s %lu %lu", c->w[0], e, n);
	return reply(buf, len, EMU_CTL_OK, "%s %lu %lu", c->w[0], e, n);
}

static enum emu_ctl_result hang_stall(struct emu_dev *dev, const struct cmd *c, char *buf,
				      size_t len)
{
	int stall = !strcmp(c->w[0], "stall");
	unsigned long e, ms = 0;

	if (c->n != 2 + stall || parse_num(c->w[1], dev->cfg.engines - 1, &e) ||
	    (stall && parse_num(c->w[2], 3600000, &ms)))
		return reply(buf, len, EMU_CTL_ERR, stall ? "usage: stall ENGINE MS" :
			     "usage: hang ENGINE");
	if (stall)
		__atomic_store_n(&dev->faults.eng[e].stall_ms, (uint64_t)ms, __ATOMIC_RELEASE);
	else
		__atomic_store_n(&dev->faults.eng[e].hang, 1, __ATOMIC_RELEASE);
	__atomic_add_fetch(&dev->stats.faults_injected, 1, __ATOMIC_RELAXED);
	if (stall) {
		emu_log("fault armed: stall %lu %lu ms", e, ms);
		return reply(buf, len, EMU_CTL_OK, "stall %lu %lu", e, ms);
	}
	emu_log("fault armed: hang %lu", e);
	return reply(buf, len, EMU_CTL_OK, "hang %lu", e);
}

static enum emu_ctl_result on_off(struct emu_dev *dev, const struct cmd *c, char *buf,
				  size_t len)
{
	int hb = !strcmp(c->w[0], "heartbeat");
	const char *on = hb ? "stop" : "on", *off = hb ? "start" : "off";
	int v;

	if (c->n != 2 || (strcmp(c->w[1], on) && strcmp(c->w[1], off)))
		return reply(buf, len, EMU_CTL_ERR, "usage: %s %s|%s", c->w[0], on, off);
	v = !strcmp(c->w[1], on);
	__atomic_store_n(hb ? &dev->faults.heartbeat_stopped : &dev->faults.fuzz, v,
			 __ATOMIC_RELEASE);
	if (v)
		__atomic_add_fetch(&dev->stats.faults_injected, 1, __ATOMIC_RELAXED);
	emu_log("fault %s: %s %s", v ? "armed" : "cleared", c->w[0], c->w[1]);
	return reply(buf, len, EMU_CTL_OK, "%s %s", c->w[0], c->w[1]);
}

static enum emu_ctl_result reset_cmd(struct emu_dev *dev, const struct cmd *c, char *buf,
				     size_t len)
{
	unsigned long n = 1;

	if (c->n == 2 && !strcmp(c->w[1], "ok")) {
		pthread_mutex_lock(&dev->fault_lock);
		__atomic_store_n(&dev->faults.reset_refuse, 0, __ATOMIC_RELAXED);
		__atomic_store_n(&dev->faults.reset_delay_ms, 0, __ATOMIC_RELAXED);
		pthread_mutex_unlock(&dev->fault_lock);
		emu_log("fault cleared: reset ok");
		return reply(buf, len, EMU_CTL_OK, "reset ok");
	}
	if ((c->n == 2 || c->n == 3) && !strcmp(c->w[1], "refuse") &&
	    (c->n == 2 || !parse_num(c->w[2], 1000000, &n))) {
		set_counter(dev, &dev->faults.reset_refuse, n);
		emu_log("fault armed: reset refuse %lu", n);
		return reply(buf, len, EMU_CTL_OK, "reset refuse %lu", n);
	}
	if (c->n == 3 && !strcmp(c->w[1], "delay") && !parse_num(c->w[2], 600000, &n)) {
		__atomic_store_n(&dev->faults.reset_delay_ms, (unsigned int)n, __ATOMIC_RELEASE);
		__atomic_add_fetch(&dev->stats.faults_injected, 1, __ATOMIC_RELAXED);
		emu_log("fault armed: reset delay %lu ms", n);
		return reply(buf, len, EMU_CTL_OK, "reset delay %lu", n);
	}
	return reply(buf, len, EMU_CTL_ERR, "usage: reset refuse [N] | reset delay MS | reset ok");
}

/* Everything back to a healthy device (a hang is also ended by a reset). */
static enum emu_ctl_result clear_all(struct emu_dev *dev, char *buf, size_t len)
{
	unsigned int e;

	pthread_mutex_lock(&dev->fault_lock);
	for (e = 0; e < NUQ_NPU_MAX_ENGINES; e++) {
		__atomic_store_n(&dev->faults.eng[e].hang, 0, __ATOMIC_RELEASE);
		__atomic_store_n(&dev->faults.eng[e].stall_ms, 0, __ATOMIC_RELEASE);
		__atomic_store_n(&dev->faults.eng[e].fail, 0, __ATOMIC_RELAXED);
		__atomic_store_n(&dev->faults.eng[e].corrupt_cqe, 0, __ATOMIC_RELAXED);
		__atomic_store_n(&dev->faults.eng[e].mmu_fault, 0, __ATOMIC_RELAXED);
	}
	for (e = 0; e < EMU_NR_VEC_MAX; e++)
		__atomic_store_n(&dev->faults.drop_irq[e], 0, __ATOMIC_RELAXED);
	__atomic_store_n(&dev->faults.reset_refuse, 0, __ATOMIC_RELAXED);
	__atomic_store_n(&dev->faults.reset_delay_ms, 0, __ATOMIC_RELEASE);
	__atomic_store_n(&dev->faults.heartbeat_stopped, 0, __ATOMIC_RELEASE);
	__atomic_store_n(&dev->faults.fuzz, 0, __ATOMIC_RELEASE);
	pthread_mutex_unlock(&dev->fault_lock);
	emu_log("faults cleared");
	return reply(buf, len, EMU_CTL_OK, "clear");
}

#define STAT(f) ((unsigned long long)__atomic_load_n(&s->f, __ATOMIC_RELAXED))

/*
 * One line, short enough for a guest reading 256 bytes: job fates, lost
 * interrupts, resets, faults injected, and bands (row/image/tile).
 */
static enum emu_ctl_result stats(struct emu_dev *dev, char *buf, size_t len)
{
	const struct emu_stats *s = &dev->stats;

	return reply(buf, len, EMU_CTL_OK,
		     "jobs=%llu ok=%llu invalid=%llu mmu=%llu deverr=%llu aborted=%llu "
		     "dropped=%llu irqs=%llu lost_irqs=%llu resets=%llu eng_resets=%llu "
		     "refused=%llu ring_err=%llu injected=%llu bands=%llu/%llu/%llu",
		     STAT(jobs), STAT(jobs_ok), STAT(jobs_invalid), STAT(jobs_mmu_fault),
		     STAT(jobs_device_error), STAT(jobs_aborted), STAT(jobs_dropped), STAT(irqs),
		     STAT(irqs_dropped), STAT(resets), STAT(eng_resets), STAT(resets_refused),
		     STAT(ring_errors), STAT(faults_injected), STAT(row_bands), STAT(image_bands),
		     STAT(tile_bands));
}

static enum emu_ctl_result unplug(struct emu_dev *dev, char *buf, size_t len)
{
	char cmd[128], out[256];

	if (!dev->cfg.qemu_monitor)
		return reply(buf, len, EMU_CTL_ERR, "unplug needs --qemu-monitor PATH");
	snprintf(cmd, sizeof(cmd), "device_del %s", dev->cfg.qemu_device_id);
	emu_log("fault: unplug: sending '%s' to %s", cmd, dev->cfg.qemu_monitor);
	if (emu_monitor_command(dev->cfg.qemu_monitor, cmd, out, sizeof(out)))
		return reply(buf, len, EMU_CTL_ERR, "unplug: %s", out);
	__atomic_add_fetch(&dev->stats.faults_injected, 1, __ATOMIC_RELAXED);
	return reply(buf, len, EMU_CTL_OK, "unplug %s", dev->cfg.qemu_device_id);
}

static const char help_text[] =
	"hang E | stall E MS | fail E [N] | drop-irq V [N] | corrupt-cqe E [N] | "
	"mmu-fault E [N] | heartbeat stop|start | reset refuse [N]|delay MS|ok | "
	"fuzz on|off | unplug | exit | clear | stats";

/*
 * Run one command line; the reply (no newline) goes to @buf.  EMU_CTL_EXIT
 * asks the caller to send the reply and then _exit() like a crash.
 */
enum emu_ctl_result emu_control_exec(struct emu_dev *dev, const char *line, char *buf, size_t len)
{
	char copy[256], *save = NULL, *w;
	struct cmd c = { .n = 0 };

	if (strlen(line) >= sizeof(copy))
		return reply(buf, len, EMU_CTL_ERR, "line too long");
	strcpy(copy, line);
	for (w = strtok_r(copy, " \t\r\n", &save); w; w = strtok_r(NULL, " \t\r\n", &save)) {
		if (c.n == MAX_WORDS)
			return reply(buf, len, EMU_CTL_ERR, "too many words");
		c.w[c.n++] = w;
	}
	if (!c.n)
		return reply(buf, len, EMU_CTL_ERR, "empty command (try 'help')");
	if (!strcmp(c.w[0], "fail") || !strcmp(c.w[0], "drop-irq") ||
	    !strcmp(c.w[0], "corrupt-cqe") || !strcmp(c.w[0], "mmu-fault"))
		return counted(dev, &c, buf, len);
	if (!strcmp(c.w[0], "hang") || !strcmp(c.w[0], "stall"))
		return hang_stall(dev, &c, buf, len);
	if (!strcmp(c.w[0], "heartbeat") || !strcmp(c.w[0], "fuzz"))
		return on_off(dev, &c, buf, len);
	if (!strcmp(c.w[0], "reset"))
		return reset_cmd(dev, &c, buf, len);
	if (c.n == 1 && !strcmp(c.w[0], "clear"))
		return clear_all(dev, buf, len);
	if (c.n == 1 && !strcmp(c.w[0], "stats"))
		return stats(dev, buf, len);
	if (c.n == 1 && !strcmp(c.w[0], "unplug"))
		return unplug(dev, buf, len);
	if (c.n == 1 && !strcmp(c.w[0], "help"))
		return reply(buf, len, EMU_CTL_OK, "%s", help_text);
	if (c.n == 1 && !strcmp(c.w[0], "exit")) {
		emu_log("fault: exit requested: dying without cleanup");
		reply(buf, len, EMU_CTL_OK, "exit");
		return EMU_CTL_EXIT;
	}
	return reply(buf, len, EMU_CTL_ERR, "unknown command '%s' (try 'help')", c.w[0]);
}

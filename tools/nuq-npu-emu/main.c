// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * nuq-npu-emu: command line, start-up order and shutdown.
 *
 * Start-up order matters: QEMU reads the ivshmem setup during device
 * realize and connects the control chardev at start, so both sockets
 * listen (and BAR2 is READY) before we print the one line the harness
 * waits for.
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include "emu.h"

#define MAX_FAULTS	32

struct opts {
	struct emu_config cfg;
	const char *socket, *ram, *control;
	const char *faults[MAX_FAULTS];
	int nfaults;
};

static void usage(FILE *f)
{
	fprintf(f,
		"usage: nuq-npu-emu --socket PATH --guest-ram FILE [options]\n"
		"\n"
		"Emulates the nuq PCIe NPU (kmod/hw/nuq_npu_regs.h) as the ivshmem server\n"
		"of a QEMU ivshmem-doorbell device with vectors=ENGINES+1.\n"
		"\n"
		"  --socket PATH          ivshmem server socket (QEMU: -chardev socket,path=PATH)\n"
		"  --guest-ram FILE       QEMU's memory-backend-file (share=on); guest-physical\n"
		"                         address == file offset\n"
		"  --engines N            engines, 1-%d (default 2)\n"
		"  --ring-entries N       entries per SQ and CQ, a power of two 2-1024 (default 64)\n"
		"  --control PATH         control socket: one command per line, one reply line\n"
		"  --fault 'CMD'          run a control command at start (repeatable)\n"
		"  --mac-rate GMACS       timing model: at most this many GMAC/s per engine\n"
		"  --bandwidth GBPS       timing model: at most this many GB/s of tensor traffic\n"
		"  --job-latency-us US    timing model: fixed cost per job\n"
		"  --band-macs N          MACs per band of output rows (default %u)\n"
		"  --qemu-monitor PATH    QEMU human monitor socket, for the 'unplug' command\n"
		"  --qemu-device-id ID    device to unplug (default npu0)\n"
		"  --quiet                no log lines on stderr\n"
		"  --help                 this text\n"
		"\n"
		"Control commands: hang E | stall E MS | fail E [N] | drop-irq V [N] |\n"
		"  corrupt-cqe E [N] | mmu-fault E [N] | heartbeat stop|start |\n"
		"  reset refuse [N] | reset delay MS | reset ok | fuzz on|off | unplug | exit |\n"
		"  clear | stats | help\n"
		"\n"
		"Prints 'nuq-npu-emu: listening on PATH' once ready; exits 0 on SIGTERM,\n"
		"SIGINT or when QEMU disconnects.\n",
		NUQ_NPU_MAX_ENGINES, EMU_BAND_MACS_DEFAULT);
}

static int die(const char *fmt, const char *arg)
{
	fprintf(stderr, "nuq-npu-emu: ");
	fprintf(stderr, fmt, arg);
	fprintf(stderr, "\n");
	exit(2);
}

static unsigned long num(const char *opt, const char *s, unsigned long lo, unsigned long hi)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(s, &end, 0);
	if (errno || !*s || *end || *s == '-' || v < lo || v > hi) {
		fprintf(stderr, "nuq-npu-emu: %s %s: expected a number in %lu..%lu\n", opt, s, lo, hi);
		exit(2);
	}
	return v;
}

static double rate(const char *opt, const char *s)
{
	char *end;
	double v = strtod(s, &end);

	if (!*s || *end || !(v > 0) || v > 1e6) {
		fprintf(stderr, "nuq-npu-emu: %s %s: expected a positive number\n", opt, s);
		exit(2);
	}
	return v;
}

static void parse(int argc, char **argv, struct opts *o)
{
	static const struct option longopts[] = {
		{ "socket", required_argument, NULL, 's' },
		{ "guest-ram", required_argument, NULL, 'r' },
		{ "engines", required_argument, NULL, 'e' },
		{ "ring-entries", required_argument, NULL, 'n' },
		{ "control", required_argument, NULL, 'c' },
		{ "fault", required_argument, NULL, 'f' },
		{ "mac-rate", required_argument, NULL, 'M' },
		{ "bandwidth", required_argument, NULL, 'B' },
		{ "job-latency-us", required_argument, NULL, 'L' },
		{ "band-macs", required_argument, NULL, 'b' },
		{ "qemu-monitor", required_argument, NULL, 'm' },
		{ "qemu-device-id", required_argument, NULL, 'd' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 }
	};
	int c;

	memset(o, 0, sizeof(*o));
	o->cfg.engines = 2;
	o->cfg.ring_entries = 64;
	o->cfg.band_macs = EMU_BAND_MACS_DEFAULT;
	o->cfg.qemu_device_id = "npu0";
	while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (c) {
		case 's': o->socket = optarg; break;
		case 'r': o->ram = optarg; break;
		case 'c': o->control = optarg; break;
		case 'm': o->cfg.qemu_monitor = optarg; break;
		case 'd': o->cfg.qemu_device_id = optarg; break;
		case 'q': emu_quiet = 1; break;
		case 'e':
			o->cfg.engines = (unsigned int)num("--engines", optarg, 1, NUQ_NPU_MAX_ENGINES);
			break;
		case 'n':
			o->cfg.ring_entries = (unsigned int)num("--ring-entries", optarg, 2, 1024);
			if (o->cfg.ring_entries & (o->cfg.ring_entries - 1))
				die("--ring-entries %s: must be a power of two", optarg);
			break;
		case 'f':
			if (o->nfaults == MAX_FAULTS)
				die("too many --fault options (at most %s)", "32");
			o->faults[o->nfaults++] = optarg;
			break;
		case 'M': o->cfg.mac_rate = rate("--mac-rate", optarg); break;
		case 'B': o->cfg.bandwidth = rate("--bandwidth", optarg); break;
		case 'L':
			o->cfg.job_latency_ns = num("--job-latency-us", optarg, 0, 60000000) * 1000;
			break;
		case 'b': o->cfg.band_macs = num("--band-macs", optarg, 1, 1ul << 40); break;
		case 'h': usage(stdout); exit(0);
		default: usage(stderr); exit(2);
		}
	}
	if (optind < argc)
		die("unexpected argument '%s' (see --help)", argv[optind]);
	if (!o->socket)
		die("%s", "--socket PATH is required (see --help)");
	if (!o->ram)
		die("%s", "--guest-ram FILE is required (see --help)");
}

static int listen_or_die(const char *what, const char *path)
{
	int fd = emu_unix_listen(path);

	if (fd < 0) {
		fprintf(stderr, "nuq-npu-emu: %s %s: %s\n", what, path, strerror(errno));
		exit(1);
	}
	return fd;
}

int main(int argc, char **argv)
{
	static struct emu_dev dev;	/* large (seen_ns per slot): not on the stack */
	int ivfd, ctlfd = -1, sigfd, i, ret;
	struct opts o;
	sigset_t set;

	parse(argc, argv, &o);
	ret = emu_dev_init(&dev, &o.cfg, o.ram);
	if (ret) {
		fprintf(stderr, "nuq-npu-emu: --guest-ram %s: %s\n", o.ram,
			dev.ram.base ? "cannot set up the device" : strerror(-ret));
		return 1;
	}
	for (i = 0; i < o.nfaults; i++) {
		char reply[512];

		if (emu_control_exec(&dev, o.faults[i], reply, sizeof(reply)) != EMU_CTL_OK) {
			fprintf(stderr, "nuq-npu-emu: --fault '%s': %s\n", o.faults[i], reply);
			return 2;
		}
	}
	/* Signals go to the main loop only, as a file descriptor. */
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigprocmask(SIG_BLOCK, &set, NULL);
	signal(SIGPIPE, SIG_IGN);
	sigfd = signalfd(-1, &set, SFD_CLOEXEC);
	if (sigfd < 0) {
		perror("nuq-npu-emu: signalfd");
		return 1;
	}
	if (o.control)
		ctlfd = listen_or_die("--control", o.control);
	ivfd = listen_or_die("--socket", o.socket);
	if (emu_dev_start(&dev)) {
		fprintf(stderr, "nuq-npu-emu: cannot start the engine threads\n");
		return 1;
	}
	emu_log("%u engines, %u ring entries, BAR2 %zu KiB, guest RAM %llu MiB", dev.cfg.engines,
		dev.cfg.ring_entries, dev.bar2_size >> 10, (unsigned long long)(dev.ram.size >> 20));
	printf("nuq-npu-emu: listening on %s\n", o.socket);
	fflush(stdout);

	ret = emu_server_run(&dev, ivfd, ctlfd, sigfd);
	emu_log("shutting down: %llu jobs, %llu doorbells, %llu interrupts, %llu suppressed",
		(unsigned long long)dev.stats.jobs, (unsigned long long)dev.stats.doorbells,
		(unsigned long long)dev.stats.irqs, (unsigned long long)dev.stats.irqs_suppressed);
	emu_dev_stop(&dev);
	emu_dev_destroy(&dev);
	close(ivfd);
	unlink(o.socket);
	if (ctlfd >= 0) {
		close(ctlfd);
		unlink(o.control);
	}
	return ret ? 1 : 0;
}

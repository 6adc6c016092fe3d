// SPDX-License-Identifier: GPL-2.0
/*
 * nuqctl: administer nuq devices.
 *
 *   nuqctl list              every /dev/nuqN with its name and backend
 *   nuqctl default           the device applications get when they name none
 *   nuqctl info [DEVICE]     what NUQ_IOCTL_GET_INFO reports
 *   nuqctl stats [DEVICE]    job and memory counters from sysfs
 *   nuqctl reset [DEVICE]    cancel every queued and running job (root)
 *
 * DEVICE defaults to nuq_device_default(): $NUQ_DEVICE, else the first NPU,
 * else /dev/nuq0.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <nuq/nuq.h>

static int open_device(const char *path, struct nuq_info *info)
{
	int fd, ret;

	fd = open(path, O_RDWR | O_CLOEXEC);
	if (fd < 0) {
		ret = -errno;
		fprintf(stderr, "nuqctl: %s: %s%s\n", path, nuq_strerror(ret),
			ret == -ENOENT ? " (is nuq.ko loaded? try 'modprobe nuq')" : "");
		return ret;
	}
	ret = nuq_query_info(fd, info);
	close(fd);
	if (ret)
		fprintf(stderr, "nuqctl: %s: GET_INFO: %s\n", path, nuq_strerror(ret));
	return ret;
}

static int cmd_info(int argc, char **argv)
{
	struct nuq_info info;
	char buf[2048], def[64];
	const char *path = argc > 1 ? argv[1] : nuq_device_default(def, sizeof(def));

	if (argc > 2) {
		fprintf(stderr, "usage: nuqctl info [DEVICE]\n");
		return 2;
	}
	if (open_device(path, &info))
		return 1;
	nuq_info_format(&info, buf, sizeof(buf));
	fputs(buf, stdout);
	return 0;
}

static int is_nuq_node(const struct dirent *d)
{
	return !strncmp(d->d_name, "nuq", 3) && d->d_name[3] >= '0' && d->d_name[3] <= '9';
}

static int cmd_list(int argc, char **argv)
{
	struct dirent **names;
	int i, n, failed = 0;

	(void)argv;
	if (argc > 1) {
		fprintf(stderr, "usage: nuqctl list\n");
		return 2;
	}
	n = scandir("/dev", &names, is_nuq_node, versionsort);
	if (n < 0) {
		perror("nuqctl: /dev");
		return 1;
	}
	if (n == 0)
		fprintf(stderr, "nuqctl: no /dev/nuqN devices (is nuq.ko loaded?)\n");
	for (i = 0; i < n; i++) {
		struct nuq_info info;
		char path[300];

		snprintf(path, sizeof(path), "/dev/%s", names[i]->d_name);
		if (open_device(path, &info) == 0)
			printf("%-12s %-16.*s %s\n", path, (int)sizeof(info.name), info.name,
			       nuq_backend_name(info.backend));
		else
			failed = 1;
		free(names[i]);
	}
	free(names);
	return n == 0 || failed;
}

/* "/dev/nuq3" or "nuq3" -> "/sys/class/nuq/nuq3" */
static int sysfs_dir(const char *dev, char *buf, size_t len)
{
	const char *base = strrchr(dev, '/');

	base = base ? base + 1 : dev;
	if (strncmp(base, "nuq", 3) || !base[3] || strspn(base + 3, "0123456789") != strlen(base + 3)) {
		fprintf(stderr, "nuqctl: '%s' is not a nuq device name\n", dev);
		return -1;
	}
	snprintf(buf, len, "/sys/class/nuq/%s", base);
	if (access(buf, F_OK)) {
		fprintf(stderr, "nuqctl: %s: %s (is nuq.ko loaded?)\n", buf, strerror(errno));
		return -1;
	}
	return 0;
}

static const char *const stat_names[] = {
	"backend", "contexts", "queue_depth", "jobs_running", "jobs_submitted",
	"jobs_completed", "jobs_failed", "jobs_timed_out", "jobs_cancelled",
	"busy_ns", "bo_bytes",
};

/* Counters only NPU devices have (Documentation/npu.rst). */
static const char *const npu_stat_names[] = {
	"npu_engines", "npu_depth", "npu_dead", "npu_resets", "npu_engine_resets",
	"npu_hangs", "npu_device_errors", "npu_mmu_faults", "npu_resubmits", "npu_lost_irqs",
};

/* The NPU's counters and its own per-engine performance counters (debugfs, root). */
static void print_npu_stats(const char *dir)
{
	char path[300], value[256];
	unsigned int i;
	FILE *f;

	for (i = 0; i < sizeof(npu_stat_names) / sizeof(npu_stat_names[0]); i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, npu_stat_names[i]);
		f = fopen(path, "r");
		if (!f)
			return;	/* not an NPU */
		if (fgets(value, sizeof(value), f))
			printf("%s: %s", npu_stat_names[i], value);
		fclose(f);
	}
	snprintf(path, sizeof(path), "/sys/kernel/debug/nuq/%s/npu/perf", strrchr(dir, '/') + 1);
	f = fopen(path, "r");
	if (!f)
		return;
	printf("npu perf (the device's counters):\n");
	while (fgets(value, sizeof(value), f))
		printf("  %s", value);
	fclose(f);
}

static int cmd_stats(int argc, char **argv)
{
	char dir[256], path[300], value[64], def[64];
	unsigned int i;

	if (argc > 2) {
		fprintf(stderr, "usage: nuqctl stats [DEVICE]\n");
		return 2;
	}
	if (sysfs_dir(argc > 1 ? argv[1] : nuq_device_default(def, sizeof(def)), dir, sizeof(dir)))
		return 1;
	for (i = 0; i < sizeof(stat_names) / sizeof(stat_names[0]); i++) {
		FILE *f;

		snprintf(path, sizeof(path), "%s/%s", dir, stat_names[i]);
		f = fopen(path, "r");
		if (!f || !fgets(value, sizeof(value), f)) {
			fprintf(stderr, "nuqctl: %s: %s\n", path, strerror(errno));
			if (f)
				fclose(f);
			return 1;
		}
		fclose(f);
		printf("%s: %s", stat_names[i], value);
	}
	print_npu_stats(dir);
	return 0;
}

static int cmd_reset(int argc, char **argv)
{
	char dir[256], path[300], def[64];
	FILE *f;

	if (argc > 2) {
		fprintf(stderr, "usage: nuqctl reset [DEVICE]\n");
		return 2;
	}
	if (sysfs_dir(argc > 1 ? argv[1] : nuq_device_default(def, sizeof(def)), dir, sizeof(dir)))
		return 1;
	snprintf(path, sizeof(path), "%s/reset", dir);
	f = fopen(path, "w");
	if (!f || fputs("1\n", f) < 0 || fclose(f)) {
		fprintf(stderr, "nuqctl: %s: %s\n", path, strerror(errno));
		return 1;
	}
	printf("%s: every queued and running job cancelled\n", dir);
	return 0;
}

static int cmd_default(int argc, char **argv)
{
	char def[64];

	(void)argv;
	if (argc > 1) {
		fprintf(stderr, "usage: nuqctl default\n");
		return 2;
	}
	puts(nuq_device_default(def, sizeof(def)));
	return 0;
}

static void usage(FILE *f)
{
	fprintf(f, "usage: nuqctl COMMAND [ARGS]\n"
		   "  list            list nuq devices\n"
		   "  default         the device applications get when they name none\n"
		   "  info [DEVICE]   show what a device is and can do\n"
		   "  stats [DEVICE]  job and memory counters\n"
		   "  reset [DEVICE]  cancel every queued and running job (root)\n"
		   "DEVICE defaults to $NUQ_DEVICE, else the first NPU, else /dev/nuq0.\n");
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		usage(stderr);
		return 2;
	}
	if (!strcmp(argv[1], "info"))
		return cmd_info(argc - 1, argv + 1);
	if (!strcmp(argv[1], "default"))
		return cmd_default(argc - 1, argv + 1);
	if (!strcmp(argv[1], "list"))
		return cmd_list(argc - 1, argv + 1);
	if (!strcmp(argv[1], "stats"))
		return cmd_stats(argc - 1, argv + 1);
	if (!strcmp(argv[1], "reset"))
		return cmd_reset(argc - 1, argv + 1);
	if (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help")) {
		usage(stdout);
		return 0;
	}
	fprintf(stderr, "nuqctl: unknown command '%s'\n", argv[1]);
	usage(stderr);
	return 2;
}

// SPDX-License-Identifier: GPL-2.0
/*
 * nuqctl: administer nuq devices.
 *
 *   nuqctl list              every /dev/nuqN with its name and backend
 *   nuqctl info [DEVICE]     what NUQ_IOCTL_GET_INFO reports (default /dev/nuq0)
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
	const char *path = argc > 1 ? argv[1] : "/dev/nuq0";
	struct nuq_info info;
	char buf[2048];

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

static void usage(FILE *f)
{
	fprintf(f, "usage: nuqctl COMMAND [ARGS]\n"
		   "  list            list nuq devices\n"
		   "  info [DEVICE]   show what a device is and can do (default /dev/nuq0)\n");
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		usage(stderr);
		return 2;
	}
	if (!strcmp(argv[1], "info"))
		return cmd_info(argc - 1, argv + 1);
	if (!strcmp(argv[1], "list"))
		return cmd_list(argc - 1, argv + 1);
	if (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help")) {
		usage(stdout);
		return 0;
	}
	fprintf(stderr, "nuqctl: unknown command '%s'\n", argv[1]);
	usage(stderr);
	return 2;
}

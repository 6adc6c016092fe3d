// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * The control socket's connections (QEMU connects as a chardev client and
 * wires it to a guest serial port; tests may connect directly), and the
 * QEMU human monitor for "unplug".
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "emu.h"

#define MONITOR_TIMEOUT_MS	2000

static int write_all(int fd, const char *p, size_t n)
{
	while (n) {
		ssize_t w = send(fd, p, n, MSG_NOSIGNAL);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

static void run_line(struct emu_dev *dev, struct emu_ctl_conn *c, char *line)
{
	char out[768];
	enum emu_ctl_result r;
	size_t n;

	/* A serial line may bring \r, and terminals send blank lines: skip those. */
	line[strcspn(line, "\r")] = 0;
	if (!line[strspn(line, " \t")])
		return;
	r = emu_control_exec(dev, line, out, sizeof(out) - 1);
	n = strlen(out);
	out[n++] = '\n';
	if (write_all(c->fd, out, n))
		emu_log("control: reply lost: %s", strerror(errno));
	if (r == EMU_CTL_EXIT)
		_exit(1);
}

/* Read what is there and run every complete line; -1 at EOF or error. */
int emu_ctl_input(struct emu_dev *dev, struct emu_ctl_conn *c)
{
	char tmp[256];
	ssize_t n;
	ssize_t i;

	n = read(c->fd, tmp, sizeof(tmp));
	if (n < 0 && (errno == EINTR || errno == EAGAIN))
		return 0;
	if (n <= 0)
		return -1;
	for (i = 0; i < n; i++) {
		if (tmp[i] == '\n') {
			c->buf[c->len] = 0;
			if (c->overflow) {
				char err[] = "err line too long\n";

				write_all(c->fd, err, sizeof(err) - 1);
			} else {
				run_line(dev, c, c->buf);
			}
			c->len = 0;
			c->overflow = 0;
		} else if (c->len < sizeof(c->buf) - 1) {
			c->buf[c->len++] = tmp[i];
		} else {
			c->overflow = 1;
		}
	}
	return 0;
}

/* Read into @buf until @until appears or the monitor goes quiet. */
static size_t read_until(int fd, char *buf, size_t len, const char *until)
{
	size_t have = 0;

	buf[0] = 0;
	while (have < len - 1 && !strstr(buf, until)) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		ssize_t n;

		if (poll(&p, 1, MONITOR_TIMEOUT_MS) <= 0)
			break;
		n = read(fd, buf + have, len - 1 - have);
		if (n <= 0)
			break;
		have += (size_t)n;
		buf[have] = 0;
	}
	return have;
}

/*
 * Send one command to QEMU's human monitor (-monitor unix:PATH,server):
 * wait for the prompt, send the line, wait for the next prompt.  0, or -1
 * with the reason in @reply.
 */
int emu_monitor_command(const char *path, const char *cmd, char *reply, size_t len)
{
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	char buf[4096], line[256];
	int fd;

	snprintf(reply, len, "ok");
	if (strlen(path) >= sizeof(addr.sun_path)) {
		snprintf(reply, len, "monitor path too long");
		return -1;
	}
	strcpy(addr.sun_path, path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&addr, sizeof(addr))) {
		snprintf(reply, len, "cannot connect to %s: %s", path, strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	read_until(fd, buf, sizeof(buf), "(qemu)");
	snprintf(line, sizeof(line), "%s\n", cmd);
	if (write_all(fd, line, strlen(line))) {
		snprintf(reply, len, "cannot write to %s: %s", path, strerror(errno));
		close(fd);
		return -1;
	}
	/* The monitor echoes the line, prints any error, then a new prompt. */
	read_until(fd, buf, sizeof(buf), "(qemu)");
	close(fd);
	if (strstr(buf, "Error") || strstr(buf, "error")) {
		char *e = strstr(buf, "rror") - 1;

		e[strcspn(e, "\r\n")] = 0;
		snprintf(reply, len, "%s", e);
		return -1;
	}
	return 0;
}

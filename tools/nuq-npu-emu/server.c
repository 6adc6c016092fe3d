// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * The main loop: accept ivshmem clients (QEMU) and control connections,
 * serve control lines, and return when told to stop or when an ivshmem
 * client disconnects - that is how we notice QEMU went away.
 */
#include <errno.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "emu.h"

#define MAX_CLIENTS	EMU_MAX_PEERS
#define MAX_CTL		8

struct server {
	int clients[MAX_CLIENTS];
	struct emu_ctl_conn ctl[MAX_CTL];
};

static void add_fd(int *fds, int n, int fd)
{
	int i;

	for (i = 0; i < n; i++)
		if (fds[i] < 0) {
			fds[i] = fd;
			return;
		}
	close(fd);
}

static void accept_control(struct server *s, int control_fd)
{
	int fd = accept4(control_fd, NULL, NULL, SOCK_CLOEXEC), i;

	if (fd < 0)
		return;
	for (i = 0; i < MAX_CTL; i++)
		if (s->ctl[i].fd < 0) {
			memset(&s->ctl[i], 0, sizeof(s->ctl[i]));
			s->ctl[i].fd = fd;
			emu_log("control connection accepted");
			return;
		}
	emu_log("too many control connections; refusing one");
	close(fd);
}

/* An ivshmem client sends nothing after setup: data is ignored, EOF ends us. */
static int client_gone(int fd)
{
	char buf[64];
	ssize_t n = recv(fd, buf, sizeof(buf), MSG_DONTWAIT);

	return n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR);
}

int emu_server_run(struct emu_dev *dev, int ivshmem_fd, int control_fd, int stop_fd)
{
	struct pollfd p[3 + MAX_CLIENTS + MAX_CTL];
	struct server s;
	int i, n, ret = 0, done = 0;

	for (i = 0; i < MAX_CLIENTS; i++)
		s.clients[i] = -1;
	for (i = 0; i < MAX_CTL; i++)
		s.ctl[i].fd = -1;
	while (!done) {
		n = 0;
		p[n++] = (struct pollfd){ .fd = stop_fd, .events = POLLIN };
		p[n++] = (struct pollfd){ .fd = ivshmem_fd, .events = POLLIN };
		p[n++] = (struct pollfd){ .fd = control_fd, .events = POLLIN };
		for (i = 0; i < MAX_CLIENTS; i++)
			p[n++] = (struct pollfd){ .fd = s.clients[i], .events = POLLIN };
		for (i = 0; i < MAX_CTL; i++)
			p[n++] = (struct pollfd){ .fd = s.ctl[i].fd, .events = POLLIN };
		if (poll(p, (nfds_t)n, -1) < 0) {
			if (errno == EINTR)
				continue;
			ret = -1;
			break;
		}
		if (p[0].revents)
			break;
		if (p[1].revents & POLLIN) {
			int fd = emu_ivshmem_accept(dev, ivshmem_fd);

			if (fd >= 0)
				add_fd(s.clients, MAX_CLIENTS, fd);
		}
		if (p[2].revents & POLLIN)
			accept_control(&s, control_fd);
		for (i = 0; i < MAX_CLIENTS; i++) {
			if (!p[3 + i].revents || !client_gone(s.clients[i]))
				continue;
			emu_ivshmem_drop(dev, s.clients[i]);	/* closes the socket */
			s.clients[i] = -1;
			done = 1;
		}
		for (i = 0; i < MAX_CTL; i++) {
			struct emu_ctl_conn *c = &s.ctl[i];

			if (!p[3 + MAX_CLIENTS + i].revents || emu_ctl_input(dev, c) == 0)
				continue;
			emu_log("control connection closed");
			close(c->fd);
			c->fd = -1;
		}
	}
	for (i = 0; i < MAX_CTL; i++)
		if (s.ctl[i].fd >= 0)
			close(s.ctl[i].fd);
	return ret;
}

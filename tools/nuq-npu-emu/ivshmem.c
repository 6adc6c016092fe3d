// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * The ivshmem server protocol (QEMU's docs/specs/ivshmem-spec.txt, as
 * contrib/ivshmem-server speaks it).  Each message is an int64 in little
 * endian, optionally with one fd by SCM_RIGHTS.  On a connection:
 *
 *   0 (protocol version), fd -1
 *   the client's peer id, fd -1
 *   -1 with the shared memory (our BAR2 memfd)
 *   for every other peer, one message per vector: its id with an eventfd
 *	(peer 0 is the emulator: QEMU writes these when the guest rings it)
 *   for the client itself, one message per vector: its id with an eventfd
 *	(QEMU raises MSI-X vector n when we write the n-th)
 *
 * QEMU reads the first three during device realize, so we must listen
 * before it starts.  Peer 0 exists from the start; clients get 1, 2, ...
 */
#include <errno.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "emu.h"

int emu_unix_listen(const char *path)
{
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	struct stat st;
	int fd;

	if (strlen(path) >= sizeof(addr.sun_path)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	strcpy(addr.sun_path, path);
	/* A stale socket of an earlier run is ours to replace; any other file is not. */
	if (!lstat(path, &st)) {
		if (!S_ISSOCK(st.st_mode)) {
			errno = EEXIST;
			return -1;
		}
		unlink(path);
	}
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	if (bind(fd, (struct sockaddr *)&addr, sizeof(addr)) || listen(fd, 8)) {
		int err = errno;

		close(fd);
		errno = err;
		return -1;
	}
	return fd;
}

int emu_ivshmem_send(int sock, int64_t msg, int fd)
{
	union {
		struct cmsghdr h;
		char buf[CMSG_SPACE(sizeof(int))];
	} ctl;
	struct iovec iov = { .iov_base = &msg, .iov_len = sizeof(msg) };
	struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1 };
	ssize_t n;

	/* The host is little-endian (emu.h), so msg is already in wire order. */
	memset(&ctl, 0, sizeof(ctl));
	if (fd >= 0) {
		struct cmsghdr *c;

		m.msg_control = ctl.buf;
		m.msg_controllen = sizeof(ctl.buf);
		c = CMSG_FIRSTHDR(&m);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(c), &fd, sizeof(int));
	}
	do
		n = sendmsg(sock, &m, MSG_NOSIGNAL);
	while (n < 0 && errno == EINTR);
	return n == (ssize_t)sizeof(msg) ? 0 : -1;
}

static void peer_close(struct emu_dev *dev, struct emu_peer *p)
{
	unsigned int v;

	for (v = 0; v < dev->nr_vec; v++)
		if (p->irq[v] >= 0)
			close(p->irq[v]);
	if (p->sock >= 0)
		close(p->sock);
	memset(p, 0, sizeof(*p));
}

static int send_setup(struct emu_dev *dev, const struct emu_peer *p)
{
	unsigned int v;

	if (emu_ivshmem_send(p->sock, 0, -1) || emu_ivshmem_send(p->sock, p->id, -1) ||
	    emu_ivshmem_send(p->sock, -1, dev->shm_fd))
		return -1;
	for (v = 0; v < dev->nr_vec; v++)
		if (emu_ivshmem_send(p->sock, 0, dev->doorbell[v]))
			return -1;
	for (v = 0; v < dev->nr_vec; v++)
		if (emu_ivshmem_send(p->sock, p->id, p->irq[v]))
			return -1;
	return 0;
}

/*
 * Accept a client, send it the setup and keep its interrupt eventfds.
 * Returns the connection (watched for EOF by the caller) or -1.
 */
int emu_ivshmem_accept(struct emu_dev *dev, int listen_fd)
{
	struct emu_peer *p = NULL;
	unsigned int v;
	int sock, i;

	sock = accept4(listen_fd, NULL, NULL, SOCK_CLOEXEC);
	if (sock < 0)
		return -1;
	pthread_mutex_lock(&dev->peers_lock);
	for (i = 0; i < EMU_MAX_PEERS && !p; i++)
		if (!dev->peers[i].used)
			p = &dev->peers[i];
	if (!p) {
		pthread_mutex_unlock(&dev->peers_lock);
		emu_log("too many ivshmem clients; refusing one");
		close(sock);
		return -1;
	}
	memset(p, 0, sizeof(*p));
	p->sock = sock;
	for (v = 0; v < EMU_NR_VEC_MAX; v++)
		p->irq[v] = -1;
	p->id = dev->next_peer_id++;
	for (v = 0; v < dev->nr_vec; v++) {
		p->irq[v] = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
		if (p->irq[v] < 0)
			goto fail;
	}
	if (send_setup(dev, p))
		goto fail;
	/* Only now may interrupts go to it. */
	p->used = 1;
	pthread_mutex_unlock(&dev->peers_lock);
	emu_log("ivshmem client connected as peer %d", p->id);
	return sock;
fail:
	emu_log("ivshmem setup of peer %d failed: %s", p->id, strerror(errno));
	peer_close(dev, p);
	pthread_mutex_unlock(&dev->peers_lock);
	return -1;
}

/* The client of connection @sock went away. */
void emu_ivshmem_drop(struct emu_dev *dev, int sock)
{
	int i;

	pthread_mutex_lock(&dev->peers_lock);
	for (i = 0; i < EMU_MAX_PEERS; i++)
		if (dev->peers[i].used && dev->peers[i].sock == sock) {
			emu_log("ivshmem peer %d disconnected", dev->peers[i].id);
			peer_close(dev, &dev->peers[i]);
		}
	pthread_mutex_unlock(&dev->peers_lock);
}

// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * The device as a whole: BAR2 (a memfd, so QEMU can map it), guest RAM,
 * peer 0's doorbell eventfds, and the threads.  Nothing here needs QEMU.
 */
#include <errno.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <unistd.h>

#include "emu.h"

static void close_fd(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

static int make_bar2(struct emu_dev *dev)
{
	void *p;

	dev->shm_fd = memfd_create("nuq-npu-bar2", MFD_CLOEXEC);
	if (dev->shm_fd < 0)
		return -errno;
	if (ftruncate(dev->shm_fd, (off_t)dev->bar2_size))
		return -errno;
	p = mmap(NULL, dev->bar2_size, PROT_READ | PROT_WRITE, MAP_SHARED, dev->shm_fd, 0);
	if (p == MAP_FAILED)
		return -errno;
	dev->bar2 = p;
	return 0;
}

int emu_dev_init(struct emu_dev *dev, const struct emu_config *cfg, const char *ram_path)
{
	unsigned int i;
	int ret;

	memset(dev, 0, sizeof(*dev));
	dev->cfg = *cfg;
	dev->shm_fd = dev->stop_fd = -1;
	for (i = 0; i < EMU_NR_VEC_MAX; i++)
		dev->doorbell[i] = -1;
	for (i = 0; i < NUQ_NPU_MAX_ENGINES; i++)
		dev->eng[i].wake_fd = -1;
	pthread_mutex_init(&dev->reg_lock, NULL);
	pthread_mutex_init(&dev->fault_lock, NULL);
	pthread_mutex_init(&dev->peers_lock, NULL);
	dev->next_peer_id = 1;
	if (!dev->cfg.band_macs)
		dev->cfg.band_macs = EMU_BAND_MACS_DEFAULT;
	if (emu_layout(cfg->engines, cfg->ring_entries, dev->sq_off, dev->cq_off, &dev->bar2_size))
		return -EINVAL;
	dev->nr_vec = NUQ_NPU_NR_VECTORS(cfg->engines);
	ret = emu_guestmem_open(&dev->ram, ram_path);
	if (ret)
		return ret;
	ret = make_bar2(dev);
	if (ret)
		return ret;
	dev->stop_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (dev->stop_fd < 0)
		return -errno;
	for (i = 0; i < dev->nr_vec; i++) {
		dev->doorbell[i] = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
		if (dev->doorbell[i] < 0)
			return -errno;
	}
	for (i = 0; i < cfg->engines; i++) {
		struct emu_engine *eng = &dev->eng[i];

		eng->dev = dev;
		eng->idx = i;
		pthread_mutex_init(&eng->lock, NULL);
		pthread_cond_init(&eng->cond, NULL);
		eng->wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
		if (eng->wake_fd < 0)
			return -errno;
	}
	emu_regs_init(dev);
	return 0;
}

int emu_dev_start(struct emu_dev *dev)
{
	unsigned int e;

	for (e = 0; e < dev->cfg.engines; e++)
		if (emu_engine_start(&dev->eng[e]))
			goto fail;
	if (pthread_create(&dev->ctrl_thread, NULL, emu_ctrl_thread, dev))
		goto fail;
	if (pthread_create(&dev->hb_thread, NULL, emu_heartbeat_thread, dev)) {
		dev->threads_started = 1;	/* the control thread, for emu_dev_stop() */
		goto fail;
	}
	dev->threads_started = 2;
	return 0;
fail:
	emu_dev_stop(dev);
	return -EAGAIN;
}

void emu_dev_stop(struct emu_dev *dev)
{
	uint64_t one = 1;
	unsigned int e;

	__atomic_store_n(&dev->stopping, 1, __ATOMIC_RELEASE);
	if (write(dev->stop_fd, &one, sizeof(one)) < 0)
		emu_log("cannot wake the control thread");
	for (e = 0; e < dev->cfg.engines; e++) {
		struct emu_engine *eng = &dev->eng[e];

		if (!eng->started)
			continue;
		emu_engine_kick(eng);
		pthread_mutex_lock(&eng->lock);
		pthread_cond_broadcast(&eng->cond);
		pthread_mutex_unlock(&eng->lock);
	}
	if (dev->threads_started >= 1)
		pthread_join(dev->ctrl_thread, NULL);
	if (dev->threads_started >= 2)
		pthread_join(dev->hb_thread, NULL);
	dev->threads_started = 0;
	for (e = 0; e < dev->cfg.engines; e++) {
		if (dev->eng[e].started)
			pthread_join(dev->eng[e].thread, NULL);
		dev->eng[e].started = 0;
	}
}

void emu_dev_destroy(struct emu_dev *dev)
{
	unsigned int i, v;

	for (i = 0; i < EMU_MAX_PEERS; i++) {
		if (!dev->peers[i].used)
			continue;
		for (v = 0; v < dev->nr_vec; v++)
			close_fd(&dev->peers[i].irq[v]);
		close_fd(&dev->peers[i].sock);
		dev->peers[i].used = 0;
	}
	for (i = 0; i < EMU_NR_VEC_MAX; i++)
		close_fd(&dev->doorbell[i]);
	for (i = 0; i < NUQ_NPU_MAX_ENGINES; i++)
		close_fd(&dev->eng[i].wake_fd);
	close_fd(&dev->stop_fd);
	if (dev->bar2)
		munmap(dev->bar2, dev->bar2_size);
	dev->bar2 = NULL;
	close_fd(&dev->shm_fd);
	emu_guestmem_close(&dev->ram);
}

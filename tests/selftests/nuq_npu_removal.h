/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The NPU taken away under load: shared by the unplug and emulator-death
 * selftests, which each run in a VM of their own (the device does not come
 * back).  Worker processes keep jobs in flight through ioctl and io_uring
 * while the device goes; every job must end with success (and the right
 * bytes) or a defined error, every worker must get out, and the module must
 * unload afterwards.
 */
#ifndef NUQ_NPU_REMOVAL_H
#define NUQ_NPU_REMOVAL_H

#include <signal.h>
#include <sys/wait.h>

#include <nuq/conv.h>

#include "nuq_npu.h"

#define REMOVAL_WORKERS	3

/* Exit codes of a worker. */
enum { WORKER_OK = 0, WORKER_BAD_STATUS = 10, WORKER_BAD_BYTES, WORKER_SETUP };

/* A status a job may end with once its device is going away. */
static inline int removal_status_ok(int status)
{
	return status == 0 || status == -ENODEV || status == -ECANCELED ||
	       status == -ETIMEDOUT || status == -EIO;
}

/*
 * Submit jobs until the device refuses with ENODEV; half the workers use
 * io_uring.  Writes how many jobs ended and how to the pipe @out.
 */
static inline int removal_worker(int index, int id, int use_uring)
{
	struct test_job tj;
	struct dev_job dj;
	int fd = npu_open(index), err, n = 0;
	uint8_t *want;

	if (fd < 0 || long_job(&tj, 8, 100 + id) || dev_job_upload(fd, &tj, &dj))
		return WORKER_SETUP;
	want = malloc(tj.size[NUQ_T_OUTPUT]);
	if (!want || nuq_conv_run_cpu(&tj.job, (void *const *)tj.buf, tj.size, &err))
		return WORKER_SETUP;
	memcpy(want, tj.buf[NUQ_T_OUTPUT], tj.size[NUQ_T_OUTPUT]);

	for (;; n++) {
		int status, ret = 0;
		uint64_t seq;

		memset(dj.map[NUQ_T_OUTPUT], 0, tj.size[NUQ_T_OUTPUT]);
		if (use_uring) {
			struct io_uring ring;
			struct io_uring_cqe *cqe;

			if (io_uring_queue_init(4, &ring, 0))
				return WORKER_SETUP;
			prep_nuq_cmd(&ring, fd, NUQ_URING_CMD_SUBMIT, &dj.job, sizeof(dj.job), 1);
			io_uring_submit(&ring);
			if (io_uring_wait_cqe(&ring, &cqe))
				return WORKER_SETUP;
			status = cqe->res;
			io_uring_cqe_seen(&ring, cqe);
			io_uring_queue_exit(&ring);
		} else {
			ret = submit(fd, &dj.job, 1, &seq, NULL);
			status = ret ? ret : wait_job(fd, seq, -1);
		}
		if (status == -ENODEV && (ret || n > 0))
			break;	/* the device is gone: the expected end */
		if (!removal_status_ok(status)) {
			fprintf(stderr, "# worker %d: job %d ended %d\n", id, n, status);
			return WORKER_BAD_STATUS;
		}
		if (!status && memcmp(dj.map[NUQ_T_OUTPUT], want, tj.size[NUQ_T_OUTPUT])) {
			fprintf(stderr, "# worker %d: job %d: wrong bytes\n", id, n);
			return WORKER_BAD_BYTES;
		}
	}
	fprintf(stderr, "# worker %d: %d jobs before the device went\n", id, n);
	close(fd);
	return WORKER_OK;
}

static inline pid_t removal_spawn(int index, int id)
{
	pid_t pid = fork();

	if (pid == 0)
		_exit(removal_worker(index, id, id % 2));
	return pid;
}

/* Wait for every worker for up to @secs; 0 when all exited WORKER_OK. */
static inline int removal_reap(pid_t *pids, int n, double secs)
{
	double end = now_s() + secs;
	int i, left = n, bad = 0, st;

	while (left && now_s() < end) {
		for (i = 0; i < n; i++) {
			if (!pids[i] || waitpid(pids[i], &st, WNOHANG) != pids[i])
				continue;
			if (!WIFEXITED(st) || WEXITSTATUS(st) != WORKER_OK) {
				fprintf(stderr, "# worker %d: status 0x%x\n", i, st);
				bad = 1;
			}
			pids[i] = 0;
			left--;
		}
		usleep(50000);
	}
	for (i = 0; i < n; i++) {
		if (pids[i]) {
			fprintf(stderr, "# worker %d is stuck\n", i);
			kill(pids[i], SIGKILL);
			waitpid(pids[i], &st, 0);
			bad = 1;
		}
	}
	return bad;
}

#endif

// SPDX-License-Identifier: GPL-2.0
/*
 * nuq NPU: debugfs, /sys/kernel/debug/nuq/nuqN/npu/
 *
 *   regs     the device's registers, global and per engine
 *   perf     the device's performance counters per engine
 *   latency  where a job's time goes, averages in microseconds; a write
 *            starts them afresh
 *   engines  the driver's view: ring indices and the jobs in flight
 *   recover  write 1: reset engine 0, 2: reset the device
 *   mmu_probe  write N: the next job's output is moved N handles on (the
 *	     MMU isolation test: the device must fault, not write)
 *
 * The files are removed before the device is unbound, so they never read
 * the BARs of a removed device.
 */

#include <linux/debugfs.h>
#include <linux/fs.h>
#include <linux/kernel.h>
#include <linux/math64.h>
#include <linux/seq_file.h>
#include <linux/uaccess.h>

#include "nuq_drv.h"
#include "nuq_npu.h"

static int nuq_npu_regs_show(struct seq_file *m, void *unused)
{
	struct nuq_npu *npu = m->private;
	unsigned int e;

	seq_printf(m, "magic          %#010x\n", nuq_npu_rd32(npu, NUQ_NPU_REG_MAGIC));
	seq_printf(m, "version        %#010x\n", nuq_npu_rd32(npu, NUQ_NPU_REG_VERSION));
	seq_printf(m, "caps           %#010x\n", nuq_npu_rd32(npu, NUQ_NPU_REG_CAPS));
	seq_printf(m, "num_engines    %u\n", nuq_npu_rd32(npu, NUQ_NPU_REG_NUM_ENGINES));
	seq_printf(m, "ring_entries   %u\n", nuq_npu_rd32(npu, NUQ_NPU_REG_RING_ENTRIES));
	seq_printf(m, "weight_formats %#x\n", nuq_npu_rd32(npu, NUQ_NPU_REG_WEIGHT_FORMATS));
	seq_printf(m, "weight_bits    %#x\n", nuq_npu_rd32(npu, NUQ_NPU_REG_WEIGHT_BITS));
	seq_printf(m, "act_formats    %#x\n", nuq_npu_rd32(npu, NUQ_NPU_REG_ACT_FORMATS));
	seq_printf(m, "max_job_macs   %llu\n", nuq_npu_rd64(npu, NUQ_NPU_REG_MAX_JOB_MACS));
	seq_printf(m, "device_peer    %u\n", nuq_npu_rd32(npu, NUQ_NPU_REG_DEVICE_PEER));
	seq_printf(m, "reset_time_ms  %u\n", nuq_npu_rd32(npu, NUQ_NPU_REG_RESET_TIME_MS));
	seq_printf(m, "heartbeat_us   %u\n", nuq_npu_rd32(npu, NUQ_NPU_REG_HEARTBEAT_US));
	seq_printf(m, "status         %#x\n", nuq_npu_rd32(npu, NUQ_NPU_REG_STATUS));
	seq_printf(m, "error_code     %u\n", nuq_npu_rd32(npu, NUQ_NPU_REG_ERROR_CODE));
	seq_printf(m, "heartbeat      %u\n", nuq_npu_rd32(npu, NUQ_NPU_REG_HEARTBEAT));
	seq_printf(m, "reset_ack      %u\n", nuq_npu_rd32(npu, NUQ_NPU_REG_RESET_ACK));
	seq_printf(m, "reset_done     %u\n", nuq_npu_rd32(npu, NUQ_NPU_REG_RESET_DONE));
	seq_printf(m, "mmu_faults     %u\n", nuq_npu_rd32(npu, NUQ_NPU_REG_MMU_FAULTS));
	seq_printf(m, "events         %u\n", nuq_npu_rd32(npu, NUQ_NPU_REG_EVENTS));
	seq_printf(m, "ctrl           %#x\n", nuq_npu_rd32(npu, NUQ_NPU_REG_CTRL));
	seq_printf(m, "reset_req      %u\n", nuq_npu_rd32(npu, NUQ_NPU_REG_RESET_REQ));
	for (e = 0; e < npu->num_engines; e++) {
		struct nuq_npu_engine *eng = &npu->engines[e];

		seq_printf(m, "engine %u: sq %#x cq %#x sq_tail %u sq_head %u cq_tail %u cq_head %u\n",
			   e, nuq_npu_eng_rd32(eng, NUQ_NPU_ENG_SQ_OFFSET),
			   nuq_npu_eng_rd32(eng, NUQ_NPU_ENG_CQ_OFFSET),
			   nuq_npu_eng_rd32(eng, NUQ_NPU_ENG_SQ_TAIL),
			   nuq_npu_eng_rd32(eng, NUQ_NPU_ENG_SQ_HEAD),
			   nuq_npu_eng_rd32(eng, NUQ_NPU_ENG_CQ_TAIL),
			   nuq_npu_eng_rd32(eng, NUQ_NPU_ENG_CQ_HEAD));
		seq_printf(m, "          progress %u state %u cur_job %#llx abort %u/%u reset %u/%u/%u\n",
			   nuq_npu_eng_rd32(eng, NUQ_NPU_ENG_PROGRESS),
			   nuq_npu_eng_rd32(eng, NUQ_NPU_ENG_STATE),
			   nuq_npu_eng_rd64(eng, NUQ_NPU_ENG_CUR_JOB),
			   nuq_npu_eng_rd32(eng, NUQ_NPU_ENG_ABORT_REQ),
			   nuq_npu_eng_rd32(eng, NUQ_NPU_ENG_ABORT_ACK),
			   nuq_npu_eng_rd32(eng, NUQ_NPU_ENG_RESET_REQ),
			   nuq_npu_eng_rd32(eng, NUQ_NPU_ENG_RESET_ACK),
			   nuq_npu_eng_rd32(eng, NUQ_NPU_ENG_RESET_DONE));
	}
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(nuq_npu_regs);

static int nuq_npu_perf_show(struct seq_file *m, void *unused)
{
	struct nuq_npu *npu = m->private;
	unsigned int e;

	seq_puts(m, "engine jobs macs busy_ns tiles\n");
	for (e = 0; e < npu->num_engines; e++) {
		struct nuq_npu_engine *eng = &npu->engines[e];

		seq_printf(m, "%u %llu %llu %llu %llu\n", e,
			   nuq_npu_eng_rd64(eng, NUQ_NPU_ENG_PERF_JOBS),
			   nuq_npu_eng_rd64(eng, NUQ_NPU_ENG_PERF_MACS),
			   nuq_npu_eng_rd64(eng, NUQ_NPU_ENG_PERF_BUSY_NS),
			   nuq_npu_eng_rd64(eng, NUQ_NPU_ENG_PERF_TILES));
	}
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(nuq_npu_perf);

static void nuq_npu_lat_line(struct seq_file *m, const char *name, u64 sum, u64 count)
{
	u64 ns = count ? div64_u64(sum, count) : 0;

	seq_printf(m, "%-20s %llu.%03llu\n", name, ns / 1000, ns % 1000);
}

static int nuq_npu_latency_show(struct seq_file *m, void *unused)
{
	struct nuq_npu *npu = m->private;
	struct nuq_npu_lat sum = { 0 };
	unsigned int e;

	for (e = 0; e < npu->num_engines; e++) {
		struct nuq_npu_engine *eng = &npu->engines[e];

		spin_lock(&eng->lock);
		sum.count += eng->lat.count;
		sum.queue_ns += eng->lat.queue_ns;
		sum.wait_ns += eng->lat.wait_ns;
		sum.exec_ns += eng->lat.exec_ns;
		sum.irq_ns += eng->lat.irq_ns;
		sum.complete_ns += eng->lat.complete_ns;
		spin_unlock(&eng->lock);
	}
	seq_printf(m, "jobs                 %llu\n", sum.count);
	seq_puts(m, "# averages in us\n");
	nuq_npu_lat_line(m, "submit_to_doorbell", sum.queue_ns, sum.count);
	nuq_npu_lat_line(m, "doorbell_to_start", sum.wait_ns, sum.count);
	nuq_npu_lat_line(m, "execution", sum.exec_ns, sum.count);
	nuq_npu_lat_line(m, "end_to_irq", sum.irq_ns, sum.count);
	nuq_npu_lat_line(m, "irq_to_completion", sum.complete_ns, sum.count);
	return 0;
}

static int nuq_npu_latency_open(struct inode *inode, struct file *file)
{
	return single_open(file, nuq_npu_latency_show, inode->i_private);
}

/* Any write starts the averages afresh (a benchmark measures one phase). */
static ssize_t nuq_npu_latency_write(struct file *file, const char __user *ubuf,
				     size_t len, loff_t *ppos)
{
	struct nuq_npu *npu = ((struct seq_file *)file->private_data)->private;
	unsigned int e;

	for (e = 0; e < npu->num_engines; e++) {
		struct nuq_npu_engine *eng = &npu->engines[e];

		spin_lock(&eng->lock);
		memset(&eng->lat, 0, sizeof(eng->lat));
		spin_unlock(&eng->lock);
	}
	return len;
}

static const struct file_operations nuq_npu_latency_fops = {
	.owner = THIS_MODULE,
	.open = nuq_npu_latency_open,
	.read = seq_read,
	.write = nuq_npu_latency_write,
	.llseek = seq_lseek,
	.release = single_release,
};

static int nuq_npu_engines_show(struct seq_file *m, void *unused)
{
	struct nuq_npu *npu = m->private;
	ktime_t now = ktime_get();
	unsigned int e;

	seq_printf(m, "depth %u, %s\n", npu->depth, npu->nr_vectors ? "msi-x" : "polling");
	for (e = 0; e < npu->num_engines; e++) {
		struct nuq_npu_engine *eng = &npu->engines[e];
		struct nuq_npu_slot *slot;

		spin_lock(&eng->lock);
		seq_printf(m, "engine %u: %s, sq_tail %u cq_head %u, %u in flight, %llu completed\n",
			   e, eng->accepting ? "accepting" : "stopped", eng->sq_tail, eng->cq_head,
			   eng->nr_inflight, eng->completed);
		list_for_each_entry(slot, &eng->inflight, node)
			seq_printf(m, "  job %#llx ctx %u prio %u, %lld ms on the ring%s%s\n",
				   slot->job_id, slot->job->ctx->id, slot->job->prio,
				   ktime_ms_delta(now, slot->t_doorbell),
				   slot->abort_sent ? ", abort sent" : "",
				   slot->guilty ? ", guilty" : "");
		spin_unlock(&eng->lock);
	}
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(nuq_npu_engines);

static ssize_t nuq_npu_recover_write(struct file *file, const char __user *ubuf,
				     size_t len, loff_t *ppos)
{
	struct nuq_npu *npu = file->private_data;
	unsigned int what;
	int ret;

	ret = kstrtouint_from_user(ubuf, len, 0, &what);
	if (ret)
		return ret;
	if (what == 1)
		ret = nuq_npu_recover(npu, 0, "forced engine reset (debugfs)");
	else if (what == 2)
		ret = nuq_npu_recover(npu, -1, "forced device reset (debugfs)");
	else
		return -EINVAL;
	return ret ?: len;
}

static const struct file_operations nuq_npu_recover_fops = {
	.owner = THIS_MODULE,
	.open = simple_open,
	.write = nuq_npu_recover_write,
};

void nuq_npu_debugfs_init(struct nuq_npu *npu)
{
	npu->debugfs = debugfs_create_dir("npu", npu->ndev->debugfs);
	debugfs_create_file("regs", 0400, npu->debugfs, npu, &nuq_npu_regs_fops);
	debugfs_create_file("perf", 0444, npu->debugfs, npu, &nuq_npu_perf_fops);
	debugfs_create_file("latency", 0644, npu->debugfs, npu, &nuq_npu_latency_fops);
	debugfs_create_file("engines", 0400, npu->debugfs, npu, &nuq_npu_engines_fops);
	debugfs_create_file("recover", 0200, npu->debugfs, npu, &nuq_npu_recover_fops);
	debugfs_create_atomic_t("mmu_probe", 0600, npu->debugfs, &npu->mmu_probe);
}

/* Waits for readers: afterwards no file reads the BARs. */
void nuq_npu_debugfs_fini(struct nuq_npu *npu)
{
	debugfs_remove_recursive(npu->debugfs);
	npu->debugfs = NULL;
}

// SPDX-License-Identifier: GPL-2.0
/*
 * nuq: debugfs.  /sys/kernel/debug/nuq/nuqN/ holds the fault knob and one
 * directory per open context with its state.
 */

#include <linux/debugfs.h>
#include <linux/seq_file.h>

#include "nuq_drv.h"

static struct dentry *nuq_debugfs_root;

void nuq_debugfs_init(void)
{
	nuq_debugfs_root = debugfs_create_dir("nuq", NULL);
}

void nuq_debugfs_fini(void)
{
	debugfs_remove_recursive(nuq_debugfs_root);
}

void nuq_debugfs_device(struct nuq_device *ndev)
{
	char name[16];

	snprintf(name, sizeof(name), "nuq%u", ndev->index);
	ndev->debugfs = debugfs_create_dir(name, nuq_debugfs_root);
	nuq_fault_debugfs(&ndev->fault, ndev->debugfs);
}

static int nuq_ctx_state_show(struct seq_file *m, void *unused)
{
	struct nuq_ctx *ctx = m->private;
	int p;

	seq_printf(m, "tgid: %d\n", ctx->tgid);
	seq_printf(m, "bo_count: %d\n", atomic_read(&ctx->bo_count));
	seq_printf(m, "bo_bytes: %lld\n", (long long)atomic64_read(&ctx->bo_bytes));
	spin_lock(&ctx->lock);
	seq_printf(m, "jobs_inflight: %u\n", ctx->inflight);
	seq_printf(m, "jobs_unreaped: %u\n", ctx->unreaped);
	seq_printf(m, "last_seqno: %llu\n", ctx->last_seqno);
	spin_unlock(&ctx->lock);
	spin_lock(&ctx->ndev->sched.lock);
	for (p = 0; p < NUQ_NR_PRIOS; p++)
		seq_printf(m, "vtime[%d]: %llu\n", p, ctx->sched.vtime[p]);
	spin_unlock(&ctx->ndev->sched.lock);
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(nuq_ctx_state);

void nuq_debugfs_ctx_add(struct nuq_ctx *ctx)
{
	char name[16];

	snprintf(name, sizeof(name), "ctx%u", ctx->id);
	ctx->debugfs = debugfs_create_dir(name, ctx->ndev->debugfs);
	debugfs_create_file("state", 0400, ctx->debugfs, ctx, &nuq_ctx_state_fops);
}

/* Waits for readers of the files: afterwards @ctx may be freed. */
void nuq_debugfs_ctx_remove(struct nuq_ctx *ctx)
{
	debugfs_remove_recursive(ctx->debugfs);
}

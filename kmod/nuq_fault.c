// SPDX-License-Identifier: GPL-2.0
/*
 * nuq: fault injection knob.
 *
 * /sys/kernel/debug/nuq/nuqN/fault/ holds, like the kernel's fault_inject
 * attributes: kind (none, hang, fail, slow), probability (percent),
 * interval, times (-1: unlimited) and slow_ms.  The backend asks
 * nuq_fault_next() once per job.
 */

#include <linux/debugfs.h>
#include <linux/fs.h>
#include <linux/kernel.h>
#include <linux/random.h>
#include <linux/string.h>
#include <linux/uaccess.h>

#include "nuq_fault.h"

static const char *const nuq_fault_names[] = {
	[NUQ_FAULT_NONE] = "none",
	[NUQ_FAULT_HANG] = "hang",
	[NUQ_FAULT_FAIL] = "fail",
	[NUQ_FAULT_SLOW] = "slow",
};

void nuq_fault_init(struct nuq_fault *f)
{
	f->kind = NUQ_FAULT_NONE;
	f->probability = 100;
	f->interval = 1;
	atomic_set(&f->times, -1);
	f->slow_ms = 10;
	atomic64_set(&f->count, 0);
}

enum nuq_fault_kind nuq_fault_next(struct nuq_fault *f)
{
	u32 kind = READ_ONCE(f->kind);
	u32 interval = max_t(u32, READ_ONCE(f->interval), 1);
	u64 n = atomic64_inc_return(&f->count);

	if (kind == NUQ_FAULT_NONE || kind >= ARRAY_SIZE(nuq_fault_names))
		return NUQ_FAULT_NONE;
	if (n % interval)
		return NUQ_FAULT_NONE;
	if (get_random_u32() % 100 >= READ_ONCE(f->probability))
		return NUQ_FAULT_NONE;
	/* times: a negative count never runs out, zero means no more. */
	if (atomic_read(&f->times) < 0)
		return kind;
	return atomic_add_unless(&f->times, -1, 0) ? kind : NUQ_FAULT_NONE;
}

static ssize_t nuq_fault_kind_read(struct file *file, char __user *buf,
				   size_t len, loff_t *pos)
{
	struct nuq_fault *f = file->private_data;
	u32 kind = READ_ONCE(f->kind);
	char text[16];
	int n;

	n = scnprintf(text, sizeof(text), "%s\n",
		      kind < ARRAY_SIZE(nuq_fault_names) ? nuq_fault_names[kind] : "?");
	return simple_read_from_buffer(buf, len, pos, text, n);
}

static ssize_t nuq_fault_kind_write(struct file *file, const char __user *buf,
				    size_t len, loff_t *pos)
{
	struct nuq_fault *f = file->private_data;
	char text[16];
	int i;

	if (len >= sizeof(text))
		return -EINVAL;
	if (copy_from_user(text, buf, len))
		return -EFAULT;
	text[len] = '\0';
	i = sysfs_match_string(nuq_fault_names, text);
	if (i < 0)
		return i;
	WRITE_ONCE(f->kind, i);
	return len;
}

static const struct file_operations nuq_fault_kind_fops = {
	.owner = THIS_MODULE,
	.open = simple_open,
	.read = nuq_fault_kind_read,
	.write = nuq_fault_kind_write,
	.llseek = default_llseek,
};

void nuq_fault_debugfs(struct nuq_fault *f, struct dentry *parent)
{
	struct dentry *dir = debugfs_create_dir("fault", parent);

	debugfs_create_file("kind", 0600, dir, f, &nuq_fault_kind_fops);
	debugfs_create_u32("probability", 0600, dir, &f->probability);
	debugfs_create_u32("interval", 0600, dir, &f->interval);
	debugfs_create_atomic_t("times", 0600, dir, &f->times);
	debugfs_create_u32("slow_ms", 0600, dir, &f->slow_ms);
}

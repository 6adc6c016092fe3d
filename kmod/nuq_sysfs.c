// SPDX-License-Identifier: GPL-2.0
/*
 * nuq: per device attributes in /sys/class/nuq/nuqN/, read by nuqctl.
 *
 * Counters only grow; queue_depth, jobs_running, contexts and bo_bytes
 * are current values.  Writing 1 to reset (root's file, and CAP_SYS_ADMIN)
 * cancels every queued and running job of the device with -ECANCELED.
 */

#include <linux/capability.h>
#include <linux/device.h>
#include <linux/kernel.h>
#include <linux/sysfs.h>

#include "nuq_drv.h"

#define NUQ_STAT_ATTR(name, field)					\
static ssize_t name##_show(struct device *dev,				\
			   struct device_attribute *attr, char *buf)	\
{									\
	struct nuq_device *ndev = dev_get_drvdata(dev);			\
									\
	return sysfs_emit(buf, "%lld\n",				\
			  (long long)atomic64_read(&ndev->stats.field));\
}									\
static DEVICE_ATTR_RO(name)

NUQ_STAT_ATTR(jobs_submitted, submitted);
NUQ_STAT_ATTR(jobs_completed, completed);
NUQ_STAT_ATTR(jobs_failed, failed);
NUQ_STAT_ATTR(jobs_timed_out, timed_out);
NUQ_STAT_ATTR(jobs_cancelled, cancelled);
NUQ_STAT_ATTR(busy_ns, busy_ns);
NUQ_STAT_ATTR(bo_bytes, bo_bytes);

static ssize_t queue_depth_show(struct device *dev, struct device_attribute *attr, char *buf)
{
	struct nuq_device *ndev = dev_get_drvdata(dev);

	return sysfs_emit(buf, "%u\n", READ_ONCE(ndev->sched.queued));
}
static DEVICE_ATTR_RO(queue_depth);

static ssize_t jobs_running_show(struct device *dev, struct device_attribute *attr, char *buf)
{
	struct nuq_device *ndev = dev_get_drvdata(dev);

	return sysfs_emit(buf, "%u\n", READ_ONCE(ndev->sched.running));
}
static DEVICE_ATTR_RO(jobs_running);

static ssize_t contexts_show(struct device *dev, struct device_attribute *attr, char *buf)
{
	struct nuq_device *ndev = dev_get_drvdata(dev);

	return sysfs_emit(buf, "%u\n", READ_ONCE(ndev->nr_contexts));
}
static DEVICE_ATTR_RO(contexts);

static ssize_t backend_show(struct device *dev, struct device_attribute *attr, char *buf)
{
	struct nuq_device *ndev = dev_get_drvdata(dev);

	return sysfs_emit(buf, "%s\n", ndev->backend_ops->name);
}
static DEVICE_ATTR_RO(backend);

static ssize_t reset_store(struct device *dev, struct device_attribute *attr,
			   const char *buf, size_t len)
{
	struct nuq_device *ndev = dev_get_drvdata(dev);
	bool doit;
	int ret;

	/* The mode (0200, root's) is not enough: uid 0 may have dropped it. */
	if (!capable(CAP_SYS_ADMIN))
		return -EPERM;
	ret = kstrtobool(buf, &doit);
	if (ret)
		return ret;
	if (doit)
		nuq_sched_reset(ndev);
	return len;
}
static DEVICE_ATTR_WO(reset);

static struct attribute *nuq_attrs[] = {
	&dev_attr_jobs_submitted.attr,
	&dev_attr_jobs_completed.attr,
	&dev_attr_jobs_failed.attr,
	&dev_attr_jobs_timed_out.attr,
	&dev_attr_jobs_cancelled.attr,
	&dev_attr_busy_ns.attr,
	&dev_attr_bo_bytes.attr,
	&dev_attr_queue_depth.attr,
	&dev_attr_jobs_running.attr,
	&dev_attr_contexts.attr,
	&dev_attr_backend.attr,
	&dev_attr_reset.attr,
	NULL
};

static const struct attribute_group nuq_attr_group = {
	.attrs = nuq_attrs,
};

const struct attribute_group *nuq_sysfs_groups[] = {
	&nuq_attr_group,
	&nuq_npu_attr_group,	/* NPU devices only */
	NULL
};

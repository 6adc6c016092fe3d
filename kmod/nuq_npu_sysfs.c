// SPDX-License-Identifier: GPL-2.0
/*
 * nuq NPU: the NPU's attributes in /sys/class/nuq/nuqN/ (NPU devices only).
 *
 *   npu_engines, npu_ring_entries, npu_depth   what the driver uses
 *	(npu_depth: jobs on an engine's ring at once)
 *   npu_dead          1 once the device is dead or removed
 *   npu_resets        device resets attempted
 *   npu_engine_resets engine resets attempted
 *   npu_hangs         jobs that made no progress or ran past their timeout
 *   npu_device_errors DEVICE_ERROR completions and refused device input
 *   npu_mmu_faults    MMU_FAULT completions
 *   npu_resubmits     innocent jobs rerun after a reset
 *   npu_lost_irqs     completions the watchdog found, not an interrupt
 *	(approximate: a watchdog pass may race with an interrupt)
 */

#include <linux/device.h>
#include <linux/sysfs.h>

#include "nuq_drv.h"
#include "nuq_npu.h"

static struct nuq_npu *nuq_npu_from_dev(struct device *dev)
{
	struct nuq_device *ndev = dev_get_drvdata(dev);

	return ndev->backend_priv;
}

#define NUQ_NPU_CNT_ATTR(name)						\
static ssize_t npu_##name##_show(struct device *dev,			\
				 struct device_attribute *attr, char *buf)\
{									\
	return sysfs_emit(buf, "%lld\n", (long long)			\
			  atomic64_read(&nuq_npu_from_dev(dev)->cnt.name));\
}									\
static DEVICE_ATTR_RO(npu_##name)

NUQ_NPU_CNT_ATTR(resets);
NUQ_NPU_CNT_ATTR(engine_resets);
NUQ_NPU_CNT_ATTR(hangs);
NUQ_NPU_CNT_ATTR(device_errors);
NUQ_NPU_CNT_ATTR(mmu_faults);
NUQ_NPU_CNT_ATTR(resubmits);
NUQ_NPU_CNT_ATTR(lost_irqs);

static ssize_t npu_ring_entries_show(struct device *dev, struct device_attribute *attr,
				     char *buf)
{
	return sysfs_emit(buf, "%u\n", nuq_npu_from_dev(dev)->ring_entries);
}
static DEVICE_ATTR_RO(npu_ring_entries);

static ssize_t npu_depth_show(struct device *dev, struct device_attribute *attr, char *buf)
{
	return sysfs_emit(buf, "%u\n", nuq_npu_from_dev(dev)->depth);
}
static DEVICE_ATTR_RO(npu_depth);

static ssize_t npu_engines_show(struct device *dev, struct device_attribute *attr, char *buf)
{
	return sysfs_emit(buf, "%u\n", nuq_npu_from_dev(dev)->num_engines);
}
static DEVICE_ATTR_RO(npu_engines);

static ssize_t npu_dead_show(struct device *dev, struct device_attribute *attr, char *buf)
{
	struct nuq_device *ndev = dev_get_drvdata(dev);

	return sysfs_emit(buf, "%d\n", nuq_device_dead(ndev));
}
static DEVICE_ATTR_RO(npu_dead);

static struct attribute *nuq_npu_attrs[] = {
	&dev_attr_npu_engines.attr,
	&dev_attr_npu_ring_entries.attr,
	&dev_attr_npu_depth.attr,
	&dev_attr_npu_dead.attr,
	&dev_attr_npu_resets.attr,
	&dev_attr_npu_engine_resets.attr,
	&dev_attr_npu_hangs.attr,
	&dev_attr_npu_device_errors.attr,
	&dev_attr_npu_mmu_faults.attr,
	&dev_attr_npu_resubmits.attr,
	&dev_attr_npu_lost_irqs.attr,
	NULL
};

static umode_t nuq_npu_attr_visible(struct kobject *kobj, struct attribute *attr, int n)
{
	struct nuq_device *ndev = dev_get_drvdata(kobj_to_dev(kobj));

	return ndev->backend == NUQ_BACKEND_NPU ? attr->mode : 0;
}

const struct attribute_group nuq_npu_attr_group = {
	.attrs = nuq_npu_attrs,
	.is_visible = nuq_npu_attr_visible,
};

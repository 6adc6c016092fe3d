// SPDX-License-Identifier: GPL-2.0
/*
 * nuq: quantized CNN accelerator driver - module and device lifetime.
 *
 * Every device instance is a character device /dev/nuqN in class "nuq".
 * The software instances are created at load time (nr_devices); NPUs get
 * the following indices as the PCI driver binds them (nuq_npu_pci.c), and
 * may go away while their files are open.  Each open file gets its own
 * context (see nuq_file.c).
 */

#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/debugfs.h>
#include <linux/fs.h>
#include <linux/module.h>
#include <linux/slab.h>

#include "nuq_compat.h"
#include "nuq_drv.h"

static unsigned int nr_devices = 1;
module_param(nr_devices, uint, 0444);
MODULE_PARM_DESC(nr_devices, "Number of software device instances (1-16, default 1)");

unsigned long nuq_max_bo_size = 256UL << 20;
module_param_named(max_bo_size, nuq_max_bo_size, ulong, 0444);
MODULE_PARM_DESC(max_bo_size, "Largest buffer object in bytes (default 256 MiB)");

unsigned int nuq_max_jobs_in_flight = 256;
module_param_named(max_jobs_in_flight, nuq_max_jobs_in_flight, uint, 0444);
MODULE_PARM_DESC(max_jobs_in_flight, "Per-context cap on queued and running jobs (default 256)");

static dev_t nuq_devt;
static struct class *nuq_class;
/* nuq_devices[N] is /dev/nuqN until its last reference is gone. */
static DEFINE_MUTEX(nuq_devices_lock);
static struct nuq_device *nuq_devices[NUQ_MAX_DEVICES];

void nuq_device_get(struct nuq_device *ndev)
{
	kref_get(&ndev->ref);
}

/* Frees the memory once the cdev has let go too (see nuq_device.kobj). */
static void nuq_device_kobj_release(struct kobject *kobj)
{
	kfree(container_of(kobj, struct nuq_device, kobj));
}

static const struct kobj_type nuq_device_ktype = {
	.release = nuq_device_kobj_release,
};

static void nuq_device_release(struct kref *ref)
{
	struct nuq_device *ndev = container_of(ref, struct nuq_device, ref);

	WARN_ON(!list_empty(&ndev->contexts));
	/* Only now: contexts had their debugfs directories in it. */
	debugfs_remove_recursive(ndev->debugfs);
	if (ndev->backend_ops->release)
		ndev->backend_ops->release(ndev);
	mutex_lock(&nuq_devices_lock);
	nuq_devices[ndev->index] = NULL;
	mutex_unlock(&nuq_devices_lock);
	mutex_destroy(&ndev->ctx_lock);
	kobject_put(&ndev->kobj);
}

void nuq_device_put(struct nuq_device *ndev)
{
	kref_put(&ndev->ref, nuq_device_release);
}

/* @index, or the first free one at or above @first; under nuq_devices_lock. */
static int nuq_device_index(int index, int first)
{
	if (index >= 0)
		return nuq_devices[index] ? -EBUSY : index;
	for (index = first; index < NUQ_MAX_DEVICES; index++)
		if (!nuq_devices[index])
			return index;
	return -ENOSPC;
}

static struct nuq_device *nuq_device_create(int want, const struct nuq_backend_ops *ops,
					    void *priv, struct device *parent)
{
	struct nuq_device *ndev;
	dev_t devt;
	int index, ret;

	ndev = kzalloc(sizeof(*ndev), GFP_KERNEL);
	if (!ndev)
		return ERR_PTR(-ENOMEM);
	kobject_init(&ndev->kobj, &nuq_device_ktype);

	mutex_lock(&nuq_devices_lock);
	index = nuq_device_index(want, nr_devices);
	if (index >= 0)
		nuq_devices[index] = ndev;
	mutex_unlock(&nuq_devices_lock);
	if (index < 0) {
		kobject_put(&ndev->kobj);
		return ERR_PTR(index);
	}
	devt = MKDEV(MAJOR(nuq_devt), index);

	kref_init(&ndev->ref);
	mutex_init(&ndev->ctx_lock);
	INIT_LIST_HEAD(&ndev->contexts);
	ndev->index = index;
	ndev->backend_ops = ops;
	ndev->backend_priv = priv;
	ndev->backend = ndev->backend_ops->kind;
	snprintf(ndev->name, sizeof(ndev->name), "nuq-sw%u", index);
	ndev->caps = NUQ_CAP_JOBS | NUQ_CAP_URING_CMD | NUQ_CAP_RESIDUAL;
	ndev->weight_formats = BIT(NUQ_WFMT_INT8) | BIT(NUQ_WFMT_CODEBOOK) | BIT(NUQ_WFMT_ASD);
	ndev->weight_bits = GENMASK(8, 1);
	ndev->act_formats = BIT(NUQ_AFMT_INT8) | BIT(NUQ_AFMT_UINT8);
	nuq_sched_init(&ndev->sched);
	nuq_fault_init(&ndev->fault);
	nuq_debugfs_device(ndev);

	ret = ndev->backend_ops->start(ndev);
	if (ret)
		goto err_put;

	cdev_init(&ndev->cdev, &nuq_fops);
	ndev->cdev.owner = THIS_MODULE;
	cdev_set_parent(&ndev->cdev, &ndev->kobj);
	ret = cdev_add(&ndev->cdev, devt, 1);
	if (ret)
		goto err_stop;

	ndev->dev = device_create_with_groups(nuq_class, parent, devt, ndev, nuq_sysfs_groups,
					      "nuq%u", index);
	if (IS_ERR(ndev->dev)) {
		ret = PTR_ERR(ndev->dev);
		ndev->dev = NULL;
		goto err_cdev;
	}
	return ndev;

err_cdev:
	cdev_del(&ndev->cdev);
err_stop:
	ndev->backend_ops->stop(ndev);
err_put:
	/* The caller still owns @priv. */
	ndev->backend_priv = NULL;
	nuq_device_put(ndev);
	return ERR_PTR(ret);
}

/*
 * A device of another backend (an NPU), at the first free index after
 * the software devices.  On success the device owns @priv: the backend's
 * release frees it with the last reference.
 */
struct nuq_device *nuq_device_add(const struct nuq_backend_ops *ops, void *priv,
				  struct device *parent)
{
	return nuq_device_create(-1, ops, priv, parent);
}

/*
 * Stop the backend, then remove the node; open files keep the device until
 * they close (the backend makes them fail with -ENODEV).  The backend goes
 * first because its last word may be a uevent on the class device
 * ("NUQ_EVENT=dead"), which device_destroy() frees.
 */
void nuq_device_remove(struct nuq_device *ndev)
{
	ndev->backend_ops->stop(ndev);
	device_destroy(nuq_class, ndev->cdev.dev);
	ndev->dev = NULL;
	cdev_del(&ndev->cdev);
	nuq_device_put(ndev);
}

/* Software devices, at module unload only: no file is open. */
static void nuq_destroy_all(void)
{
	struct nuq_device *ndev;
	int i;

	for (i = NUQ_MAX_DEVICES - 1; i >= 0; i--) {
		mutex_lock(&nuq_devices_lock);
		ndev = nuq_devices[i];
		mutex_unlock(&nuq_devices_lock);
		if (ndev)
			nuq_device_remove(ndev);
	}
}

static int nuq_check_params(void)
{
	if (nr_devices < 1 || nr_devices > NUQ_MAX_DEVICES) {
		pr_err("nr_devices=%u out of range 1-%d\n", nr_devices, NUQ_MAX_DEVICES);
		return -EINVAL;
	}
	if (nuq_max_bo_size < PAGE_SIZE || nuq_max_bo_size > (1UL << 32)) {
		pr_err("max_bo_size=%lu out of range %lu-%lu\n",
		       nuq_max_bo_size, PAGE_SIZE, 1UL << 32);
		return -EINVAL;
	}
	if (nuq_max_jobs_in_flight < 1 || nuq_max_jobs_in_flight > 65536) {
		pr_err("max_jobs_in_flight=%u out of range 1-65536\n",
		       nuq_max_jobs_in_flight);
		return -EINVAL;
	}
	return 0;
}

static int __init nuq_init(void)
{
	unsigned int i;
	int ret;

	ret = nuq_check_params();
	if (ret)
		return ret;

	ret = alloc_chrdev_region(&nuq_devt, 0, NUQ_MAX_DEVICES, NUQ_DRIVER_NAME);
	if (ret)
		return ret;

	nuq_class = nuq_class_create(NUQ_DRIVER_NAME);
	if (IS_ERR(nuq_class)) {
		ret = PTR_ERR(nuq_class);
		goto err_region;
	}
	nuq_debugfs_init();

	for (i = 0; i < nr_devices; i++) {
		struct nuq_device *ndev = nuq_device_create(i, &nuq_sw_backend, NULL, NULL);

		if (IS_ERR(ndev)) {
			ret = PTR_ERR(ndev);
			pr_err("creating nuq%u failed: %d\n", i, ret);
			goto err_devices;
		}
	}
	ret = nuq_npu_init();
	if (ret)
		goto err_devices;

	pr_info("%u software device(s), UAPI %u.%u\n", nr_devices,
		NUQ_UAPI_VERSION_MAJOR, NUQ_UAPI_VERSION_MINOR);
	return 0;

err_devices:
	nuq_destroy_all();
	nuq_debugfs_fini();
	class_destroy(nuq_class);
err_region:
	unregister_chrdev_region(nuq_devt, NUQ_MAX_DEVICES);
	return ret;
}

static void __exit nuq_exit(void)
{
	nuq_npu_exit();
	nuq_destroy_all();
	nuq_debugfs_fini();
	class_destroy(nuq_class);
	unregister_chrdev_region(nuq_devt, NUQ_MAX_DEVICES);
}

module_init(nuq_init);
module_exit(nuq_exit);

MODULE_AUTHOR("The nuq developers");
MODULE_DESCRIPTION("nuq quantized CNN accelerator driver");
MODULE_LICENSE("GPL");

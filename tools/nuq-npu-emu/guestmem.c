// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * Guest RAM and the device MMU.  QEMU runs with a shared memory-backend-file,
 * so guest-physical address == file offset (RAM below 2 GiB); we map the
 * same file and do real DMA into it.  Anything outside the file faults.
 *
 * Translation walks the job's four-level table for every page, every job:
 * no translation cache survives a job, so the driver may reuse page-table
 * pages as soon as a job completes.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "emu.h"

int emu_guestmem_open(struct emu_guestmem *ram, const char *path)
{
	struct stat st;
	void *p;
	int fd;

	fd = open(path, O_RDWR | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) || st.st_size < (off_t)NUQ_NPU_PAGE_SIZE) {
		close(fd);
		return -EINVAL;
	}
	p = mmap(NULL, (size_t)st.st_size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	close(fd);
	if (p == MAP_FAILED)
		return -errno;
	ram->base = p;
	ram->size = (uint64_t)st.st_size;
	return 0;
}

void emu_guestmem_close(struct emu_guestmem *ram)
{
	if (ram->base)
		munmap(ram->base, ram->size);
	ram->base = NULL;
	ram->size = 0;
}

static int in_ram(const struct emu_guestmem *ram, uint64_t pa, uint64_t len)
{
	return pa <= ram->size && len <= ram->size - pa;
}

/*
 * The host address of device VA @va, or a NUQ_NPU_FAULT_*.  Reserved bits
 * are checked on every entry read, valid or not, as the header says "any
 * other bit set"; a table outside RAM is a malformed entry (PTE), a data
 * page outside RAM an access fault like an unmapped one.
 */
static int walk(const struct emu_guestmem *ram, uint64_t pt_root, uint64_t va, int write,
		uint8_t **host)
{
	int access = write ? NUQ_NPU_FAULT_WRITE : NUQ_NPU_FAULT_READ;
	uint64_t table = pt_root, pte = 0;
	int level;

	if (va >> NUQ_NPU_VA_BITS)
		return access;
	if (pt_root & ~NUQ_NPU_PTE_ADDR_MASK)
		return NUQ_NPU_FAULT_PTE;
	for (level = 0; level < NUQ_NPU_PT_LEVELS; level++) {
		uint64_t at = table + 8 * NUQ_NPU_PT_INDEX(va, level);

		if (!in_ram(ram, table, NUQ_NPU_PAGE_SIZE))
			return NUQ_NPU_FAULT_PTE;
		/* One load: the guest may be changing the table under us. */
		pte = __atomic_load_n((uint64_t *)(void *)(ram->base + at), __ATOMIC_RELAXED);
		if (pte & NUQ_NPU_PTE_RSVD_MASK)
			return NUQ_NPU_FAULT_PTE;
		if (!(pte & NUQ_NPU_PTE_VALID))
			return access;
		/* WRITE means something on level 3 only; above it is ignored. */
		if (level == NUQ_NPU_PT_LEVELS - 1 && write && !(pte & NUQ_NPU_PTE_WRITE))
			return NUQ_NPU_FAULT_WRITE;
		table = pte & NUQ_NPU_PTE_ADDR_MASK;
	}
	if (!in_ram(ram, table, NUQ_NPU_PAGE_SIZE))
		return access;
	*host = ram->base + table + (va & (NUQ_NPU_PAGE_SIZE - 1));
	return 0;
}

/*
 * Translate [va, va + bytes) page by page into @x.  All of a range is
 * translated before any byte moves, so a faulting job reads or writes
 * nothing; *fault_va is the first address of the range in the faulting page.
 */
int emu_mmu_translate(const struct emu_guestmem *ram, uint64_t pt_root, uint64_t va,
		      uint64_t bytes, int write, struct emu_xlate *x, uint64_t *fault_va)
{
	uint64_t end, pos, n;
	size_t i = 0;
	int ret;

	memset(x, 0, sizeof(*x));
	if (!bytes)
		return 0;
	if (__builtin_add_overflow(va, bytes, &end)) {
		*fault_va = va;
		return write ? NUQ_NPU_FAULT_WRITE : NUQ_NPU_FAULT_READ;
	}
	n = ((end - 1) >> NUQ_NPU_PAGE_SHIFT) - (va >> NUQ_NPU_PAGE_SHIFT) + 1;
	x->host = malloc(n * sizeof(*x->host));
	x->len = malloc(n * sizeof(*x->len));
	if (!x->host || !x->len) {
		emu_xlate_free(x);
		*fault_va = va;
		return -ENOMEM;
	}
	for (pos = va; pos < end; i++) {
		uint64_t next = (pos | (NUQ_NPU_PAGE_SIZE - 1)) + 1;

		if (next > end)
			next = end;
		ret = walk(ram, pt_root, pos, write, &x->host[i]);
		if (ret) {
			emu_xlate_free(x);
			*fault_va = pos;
			return ret;
		}
		x->len[i] = (uint32_t)(next - pos);
		pos = next;
	}
	x->pieces = i;
	return 0;
}

void emu_xlate_free(struct emu_xlate *x)
{
	free(x->host);
	free(x->len);
	memset(x, 0, sizeof(*x));
}

void emu_xlate_gather(const struct emu_xlate *x, uint8_t *dst)
{
	size_t i;

	for (i = 0; i < x->pieces; i++) {
		memcpy(dst, x->host[i], x->len[i]);
		dst += x->len[i];
	}
}

void emu_xlate_scatter(const struct emu_xlate *x, const uint8_t *src)
{
	size_t i;

	for (i = 0; i < x->pieces; i++) {
		memcpy(x->host[i], src, x->len[i]);
		src += x->len[i];
	}
}

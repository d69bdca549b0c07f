// SPDX-License-Identifier: MIT
/*
 * madvise(2) (the kernel's mm/madvise.c): advice that changes VMA flags
 * (NORMAL, RANDOM, SEQUENTIAL, DONTFORK, DOFORK) goes through the same
 * merge-or-split as mprotect and touches no page table; DONTNEED zaps the
 * pages of a range (and frees the PTE tables it empties); REMOVE punches a
 * hole in the shmem file behind a shared mapping, in every mapping of it;
 * WILLNEED (read-ahead, which mmsim has nothing to read for) does
 * nothing.  The last three do not touch the VMAs.
 */
#include <mmsim/strategy.h>

#include "mm/internal.h"

static bool madvise_behavior_valid(int behavior)
{
	switch (behavior) {
	case MADV_NORMAL:
	case MADV_RANDOM:
	case MADV_SEQUENTIAL:
	case MADV_WILLNEED:
	case MADV_DONTNEED:
	case MADV_REMOVE:
	case MADV_DONTFORK:
	case MADV_DOFORK:
		return true;
	default:
		return false;
	}
}

/* Which advice needs the mmap lock for writing (it changes VMAs). */
static bool madvise_need_mmap_write(int behavior)
{
	return behavior != MADV_WILLNEED && behavior != MADV_DONTNEED &&
	       behavior != MADV_REMOVE;
}

/* New flags of a VMA under behavior, or -errno. */
static long madvise_new_flags(struct vm_area_struct *vma, int behavior)
{
	unsigned long new_flags = vma->vm_flags;

	switch (behavior) {
	case MADV_NORMAL:
		return new_flags & ~(VM_RAND_READ | VM_SEQ_READ);
	case MADV_SEQUENTIAL:
		return (new_flags & ~VM_RAND_READ) | VM_SEQ_READ;
	case MADV_RANDOM:
		return (new_flags & ~VM_SEQ_READ) | VM_RAND_READ;
	case MADV_DONTFORK:
		return new_flags | VM_DONTCOPY;
	case MADV_DOFORK:
		if (new_flags & VM_IO)
			return -EINVAL;
		return new_flags & ~VM_DONTCOPY;
	}
	BUG();
}

/*
 * MADV_DONTNEED on [start, end) of vma (madvise_dontneed_single_vma): a
 * locked or PFN-mapped VMA refuses; otherwise the range's pages are
 * zapped, their TLB entries flushed and the pages freed (the next access
 * faults in a zero-filled page, or the shmem page again).  The VMA stays.
 * As in Linux 6.14 with CONFIG_PT_RECLAIM, the PTE tables the zap empties
 * (those wholly inside the range) are freed too.  The caller holds the
 * mmap lock for reading.
 */
static int madvise_dontneed(struct vm_area_struct *vma, unsigned long start,
			    unsigned long end)
{
	static const struct zap_details details = { .reclaim_pt = true };

	mmap_assert_locked(vma->vm_mm);
	if (vma->vm_flags & (VM_LOCKED | VM_PFNMAP | VM_HUGETLB))
		return -EINVAL;
	zap_page_range_single_details(vma, start, end - start, &details);
	return 0;
}

/*
 * MADV_REMOVE on [start, end) of vma (madvise_remove): free the file's
 * pages behind the range, in every VMA of every mm that maps them; the
 * next access faults in zeros.  Only a shared mapping that may write its
 * file: a private one gets -EACCES, an anonymous or locked one -EINVAL.
 * The hole is punched without the mmap lock, as the kernel's
 * vfs_fallocate() runs: the lock is dropped and taken again, so the walk
 * must look the VMAs up afresh (*prev = NULL says so), and the file is
 * pinned because the VMA may go meanwhile.
 */
static int madvise_remove(struct vm_area_struct *vma,
			  struct vm_area_struct **prev, unsigned long start,
			  unsigned long end)
{
	struct mm_struct *mm = vma->vm_mm;
	unsigned long pgoff;
	struct file *file;

	*prev = NULL;
	if (vma->vm_flags & VM_LOCKED)
		return -EINVAL;
	file = vma->vm_file;
	if (!file)
		return -EINVAL;
	if ((vma->vm_flags & (VM_SHARED | VM_MAYWRITE)) !=
	    (VM_SHARED | VM_MAYWRITE))
		return -EACCES;
	pgoff = vma->vm_pgoff + ((start - vma->vm_start) >> PAGE_SHIFT);
	get_file(file);
	mmap_read_unlock(mm);
	shmem_punch_hole(file, pgoff, (end - start) >> PAGE_SHIFT);
	fput(file);
	mmap_read_lock(mm);
	return 0;
}

/*
 * Apply behavior to [start, end) inside vma (madvise_vma_behavior).  *prev
 * is the VMA before on entry, the one holding the range on return.
 */
static int madvise_vma_behavior(struct vm_area_struct *vma,
				struct vm_area_struct **prev,
				unsigned long start, unsigned long end,
				int behavior)
{
	struct vm_area_struct *before = *prev;
	long new_flags;

	*prev = vma;
	switch (behavior) {
	case MADV_WILLNEED:
		return 0;	/* read-ahead: no pages to read in mmsim */
	case MADV_DONTNEED:
		return madvise_dontneed(vma, start, end);
	case MADV_REMOVE:
		return madvise_remove(vma, prev, start, end);
	}

	new_flags = madvise_new_flags(vma, behavior);
	if (new_flags < 0)
		return (int)new_flags;
	if ((unsigned long)new_flags == vma->vm_flags)
		return 0;
	vma = vma_modify_flags(before, vma, start, end, new_flags);
	if (IS_ERR_VALUE((unsigned long)vma))
		return (int)(long)vma;
	/* A fault reads vm_flags: the mmap write lock alone is not enough. */
	vma_start_write(vma);
	vm_write_begin(vma);
	WRITE_ONCE(vma->vm_flags, (unsigned long)new_flags);
	vm_write_end(vma);
	*prev = vma;
	return 0;
}

/*
 * Visit the VMAs of [start, end) (madvise_walk_vmas).  Holes are skipped
 * and reported as -ENOMEM at the end, unless an advice failed first.
 */
static int madvise_walk_vmas(struct mm_struct *mm, unsigned long start,
			     unsigned long end, int behavior)
{
	struct vm_area_struct *vma, *prev;
	int unmapped_error = 0, error;
	unsigned long tmp;

	vma = find_vma_prev(mm, start, &prev);
	if (vma && start > vma->vm_start)
		prev = vma;

	for (;;) {
		if (!vma)
			return -ENOMEM;
		if (start < vma->vm_start) {
			unmapped_error = -ENOMEM;
			start = vma->vm_start;
			if (start >= end)
				break;
		}
		tmp = min(vma->vm_end, end);
		error = madvise_vma_behavior(vma, &prev, start, tmp, behavior);
		if (error)
			return error;
		start = tmp;
		if (prev && start < prev->vm_end)
			start = prev->vm_end;
		if (start >= end)
			break;
		vma = find_vma(mm, prev ? prev->vm_end : start);
	}
	return unmapped_error;
}

/*
 * madvise(2) for the simulated task.  Returns 0 or a negative errno.
 */
int sys_madvise(struct mm_struct *mm, unsigned long start, unsigned long len_in,
		int behavior)
{
	unsigned long end, len;
	int error;

	if (!madvise_behavior_valid(behavior))
		return -EINVAL;
	if (offset_in_page(start))
		return -EINVAL;
	len = PAGE_ALIGN(len_in);
	if (len_in && !len)		/* rounded up from -PAGE_SIZE..-1 */
		return -EINVAL;
	end = start + len;
	if (end < start)
		return -EINVAL;
	if (end == start)
		return 0;

	if (madvise_need_mmap_write(behavior)) {
		mmap_write_lock(mm);
		error = madvise_walk_vmas(mm, start, end, behavior);
		mmap_write_unlock(mm);
	} else {
		mmap_read_lock(mm);
		error = madvise_walk_vmas(mm, start, end, behavior);
		mmap_read_unlock(mm);
	}
	return error;
}

// SPDX-License-Identifier: MIT
/*
 * Faulting a range in on behalf of the kernel (the kernel's mm/gup.c, for
 * mlock and MAP_POPULATE).  Until page tables exist the only lasting effect
 * of a fault is that a write fault prepares the anon_vma of a private VMA,
 * which decides later merges: so that is what populating does.
 */
#include "mm/internal.h"

/*
 * Fault in [start, end) of vma as mlock does: writable private mappings
 * with write faults (to break COW now), the rest with read faults, nothing
 * for VM_LOCKONFAULT.  Returns the number of pages, or -EFAULT for a VMA
 * that cannot be accessed at all (PROT_NONE).  The caller holds the mmap
 * lock.
 */
long populate_vma_page_range(struct vm_area_struct *vma, unsigned long start,
			     unsigned long end)
{
	long nr_pages = (end - start) >> PAGE_SHIFT;
	int err;

	mmap_assert_locked(vma->vm_mm);
	VM_BUG_ON(start < vma->vm_start || end > vma->vm_end);
	if (vma->vm_flags & VM_LOCKONFAULT)
		return nr_pages;
	if (!(vma->vm_flags & VM_ACCESS_FLAGS))
		return -EFAULT;
	/* A shmem page past the end of the file faults with SIGBUS. */
	if (vma->vm_file && vma->vm_pgoff + ((end - vma->vm_start) >> PAGE_SHIFT) >
	    (vma->vm_file->i_size + PAGE_SIZE - 1) >> PAGE_SHIFT)
		return -EFAULT;
	if ((vma->vm_flags & (VM_WRITE | VM_SHARED)) == VM_WRITE) {
		err = anon_vma_prepare(vma);
		if (err)
			return err;
	}
	return nr_pages;
}

/*
 * Populate [start, start + len) VMA by VMA (__mm_populate).  Stops at the
 * first error unless ignore_errors.  The caller holds the mmap lock.
 */
int mm_populate_range(struct mm_struct *mm, unsigned long start,
		      unsigned long len)
{
	unsigned long end = start + len, nstart, nend;
	struct vm_area_struct *vma;
	long ret = 0;

	mmap_assert_locked(mm);
	for (nstart = start; nstart < end; nstart = nend) {
		vma = find_vma_intersection(mm, nstart, end);
		if (!vma)
			break;
		nend = min(end, vma->vm_end);
		if (vma->vm_flags & (VM_IO | VM_PFNMAP))
			continue;
		if (nstart < vma->vm_start)
			nstart = vma->vm_start;
		ret = populate_vma_page_range(vma, nstart, nend);
		if (ret < 0)
			break;
		ret = 0;
	}
	return ret;
}

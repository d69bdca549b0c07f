// SPDX-License-Identifier: MIT
/*
 * Faulting a range in on behalf of the kernel (the kernel's mm/gup.c, for
 * mlock, MAP_POPULATE and MAP_LOCKED): every page of the range gets a
 * present PTE, through the same handle_mm_fault() a task's access takes.
 */
#include "mm/internal.h"

/*
 * Is the page of addr mapped as populate wants it: present, and writable
 * if write (follow_page_pte()).  Reads the PTE under its table's lock.
 */
static bool populate_pte_ready(struct vm_area_struct *vma, unsigned long addr,
			       bool write)
{
	struct mm_struct *mm = vma->vm_mm;
	spinlock_t *ptl;
	pte_t *ptep, pte;
	pmd_t *pmd;

	pmd = mm_find_pmd(mm, addr);
	if (!pmd || pmd_none(pmdp_get(pmd)))
		return false;
	ptep = pte_offset_map_lock(mm, pmd, addr, &ptl);
	if (!ptep)
		return false;
	pte = ptep_get(ptep);
	pte_unmap_unlock(ptep, ptl);
	return pte_present(pte) && !pte_protnone(pte) &&
	       (!write || pte_write(pte));
}

/* The errno of a failed fault, as faultin_page() turns it into one. */
static long vm_fault_to_errno(vm_fault_t ret)
{
	if (ret & VM_FAULT_OOM)
		return -ENOMEM;
	if (ret & (VM_FAULT_SIGBUS | VM_FAULT_SIGSEGV | VM_FAULT_HWPOISON))
		return -EFAULT;
	return 0;
}

/*
 * Fault in [start, end) of vma as mlock does (populate_vma_page_range):
 * writable private mappings with write faults, to break COW now; the
 * rest, shared ones included (which need no COW, nor dirtying for
 * nothing), with read faults; nothing for VM_LOCKONFAULT (which has never
 * broken COW here).  A VMA that cannot be accessed at all (PROT_NONE) is
 * -EFAULT, as is a page past the end of a shmem file (SIGBUS).
 *
 * Returns the number of pages populated: all of them, or those before the
 * first failure; a failure on the first page returns its errno (-ENOMEM
 * for VM_FAULT_OOM, -EFAULT for SIGBUS and SIGSEGV), as __get_user_pages()
 * does.  The caller holds the mmap lock (either mode); no FAULT_FLAG_
 * ALLOW_RETRY is passed, so the fault never drops it.
 */
long populate_vma_page_range(struct vm_area_struct *vma, unsigned long start,
			     unsigned long end)
{
	long nr_pages = (end - start) >> PAGE_SHIFT, done = 0;
	bool write = (vma->vm_flags & (VM_WRITE | VM_SHARED)) == VM_WRITE;
	unsigned long addr;

	mmap_assert_locked(vma->vm_mm);
	VM_BUG_ON(start < vma->vm_start || end > vma->vm_end);
	VM_BUG_ON(!PAGE_ALIGNED(start) || !PAGE_ALIGNED(end));
	if (vma->vm_flags & VM_LOCKONFAULT)
		return nr_pages;
	if (!(vma->vm_flags & VM_ACCESS_FLAGS))
		return -EFAULT;

	for (addr = start; addr < end; addr += PAGE_SIZE, done++) {
		vm_fault_t ret;
		long err;

		if (populate_pte_ready(vma, addr, write))
			continue;
		ret = handle_mm_fault(vma, addr, write ? FAULT_FLAG_WRITE : 0,
				      NULL);
		err = vm_fault_to_errno(ret);
		if (err)
			return done ? done : err;
	}
	return done;
}

/*
 * Populate [start, start + len) VMA by VMA (__mm_populate).  After a
 * partial populate the walk resumes at the page that failed, which then
 * fails alone and ends the walk with its errno.  VM_IO and VM_PFNMAP
 * VMAs are skipped.  The caller holds the mmap lock.
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
		nend = nstart + ((unsigned long)ret << PAGE_SHIFT);
		ret = 0;
	}
	return ret;
}

// SPDX-License-Identifier: MIT
/*
 * One access of the simulated task, modelled at the VMA level until the
 * MMU and the page tables exist (the next layer replaces this with
 * do_user_addr_fault).  It takes the decisions a fault would take and
 * leaves the same lasting state: the rights check of access_error(), stack
 * expansion, SIGBUS past the end of a shmem file, and the anon_vma that a
 * write fault on private memory prepares.
 */
#include "mm/internal.h"

/* x86's access_error(): may this access fault in a page of vma? */
static bool access_error(bool write, struct vm_area_struct *vma)
{
	if (write)
		return !(vma->vm_flags & VM_WRITE);
	return !(vma->vm_flags & VM_ACCESS_FLAGS);
}

/* Is the page of addr beyond the end of the shmem file? */
static bool beyond_eof(struct vm_area_struct *vma, unsigned long addr)
{
	unsigned long index, size_pages;

	if (!vma->vm_file)
		return false;
	index = vma->vm_pgoff + ((addr - vma->vm_start) >> PAGE_SHIFT);
	size_pages = (vma->vm_file->i_size + PAGE_SIZE - 1) >> PAGE_SHIFT;
	return index >= size_pages;
}

/*
 * The task reads (or writes) the byte at addr.  Returns 0, SIGSEGV or
 * SIGBUS.  Takes the mmap lock for reading, and for writing only while
 * the stack grows.
 */
int mmsim_access(struct mm_struct *mm, unsigned long addr, bool write)
{
	struct vm_area_struct *vma;
	int ret = 0;

	mmap_read_lock(mm);
	vma = find_vma(mm, addr);
	if (vma && addr < vma->vm_start) {
		/*
		 * Below a VMA: only a stack may grow down over addr, and only
		 * under the write lock (StackRot).  expand_stack() drops our
		 * read lock and returns with it held again, or without it.
		 */
		vma = expand_stack(mm, addr);
		if (!vma)
			return SIGSEGV;
	}
	if (!vma || access_error(write, vma)) {
		ret = SIGSEGV;
		goto out;
	}
	if (beyond_eof(vma, addr)) {
		ret = SIGBUS;
		goto out;
	}
	if (write && !(vma->vm_flags & VM_SHARED) && anon_vma_prepare(vma))
		ret = SIGBUS;	/* VM_FAULT_OOM: the task is killed */
out:
	mmap_read_unlock(mm);
	return ret;
}

// SPDX-License-Identifier: MIT
/*
 * mprotect(2) (the kernel's mm/mprotect.c): change the access rights of a
 * range VMA by VMA, merging or splitting as the new flags require, and
 * keeping the commit charge of private writable memory right.
 */
#include "mm/internal.h"

/* x86: any bit besides rwx (and PROT_SEM) is invalid. */
#define PROT_SEM	0x8

/*
 * Give [start, end) of vma the flags newflags (mprotect_fixup).  *pprev is
 * the VMA before the range on entry and the VMA holding the range on
 * return.  The caller holds the mmap lock for writing.
 */
static int mprotect_fixup(struct vm_area_struct *vma,
			  struct vm_area_struct **pprev, unsigned long start,
			  unsigned long end, unsigned long newflags)
{
	struct mm_struct *mm = vma->vm_mm;
	unsigned long oldflags = vma->vm_flags;
	long nrpages = (end - start) >> PAGE_SHIFT;
	unsigned long charged = 0;

	mmap_assert_write_locked(mm);
	if (newflags == oldflags) {
		*pprev = vma;
		return 0;
	}

	/*
	 * Making private memory writable commits it.  Making it read-only
	 * again gives the charge back only while no page was ever written
	 * (no anon_vma): after that, COW copies may exist.
	 */
	if (newflags & VM_WRITE) {
		if (!may_expand_vm(mm, newflags, nrpages) &&
		    may_expand_vm(mm, oldflags, nrpages))
			return -ENOMEM;
		if (!(oldflags & (VM_ACCOUNT | VM_WRITE | VM_HUGETLB |
				  VM_SHARED | VM_NORESERVE))) {
			charged = nrpages;
			if (security_vm_enough_memory_mm(mm, charged))
				return -ENOMEM;
			newflags |= VM_ACCOUNT;
		}
	} else if ((oldflags & VM_ACCOUNT) && vma_is_anonymous(vma) &&
		   !vma->anon_vma) {
		newflags &= ~VM_ACCOUNT;
	}

	vma = vma_modify_flags(*pprev, vma, start, end, newflags);
	if (IS_ERR_VALUE((unsigned long)vma)) {
		if (charged)
			vm_unacct_memory(charged);
		return (int)(long)vma;
	}
	*pprev = vma;

	vma->vm_flags = newflags;
	vma->vm_page_prot.pgprot = newflags & (VM_ACCESS_FLAGS | VM_SHARED);
	/* change_protection() of the PTEs goes here with page tables. */

	if ((oldflags & VM_ACCOUNT) && !(newflags & VM_ACCOUNT))
		vm_unacct_memory(nrpages);
	/* A locked private VMA turning writable breaks COW now. */
	if ((oldflags & (VM_WRITE | VM_SHARED | VM_LOCKED)) == VM_LOCKED &&
	    (newflags & VM_WRITE))
		populate_vma_page_range(vma, start, end);

	vm_stat_account(mm, oldflags, -nrpages);
	vm_stat_account(mm, newflags, nrpages);
	return 0;
}

/* The walk of do_mprotect_pkey() over the VMAs of [start, end). */
static int mprotect_range(struct mm_struct *mm, unsigned long start,
			  unsigned long end, unsigned long prot)
{
	struct vm_area_struct *vma, *prev;
	unsigned long nstart, tmp, newflags;
	int error = -ENOMEM;

	vma = find_vma_intersection(mm, start, end);
	if (!vma || vma->vm_start > start)
		return -ENOMEM;
	prev = start > vma->vm_start ? vma : vma->vm_prev;

	nstart = start;
	tmp = vma->vm_start;
	for (; vma && vma->vm_start < end; vma = prev->vm_next) {
		if (vma->vm_start != tmp)
			return -ENOMEM;		/* a hole */
		newflags = calc_vm_prot_bits(prot) |
			   (vma->vm_flags & ~VM_ACCESS_FLAGS);
		/* newflags >> 4 puts the VM_MAY* bits over the VM_* ones. */
		if ((newflags & ~(newflags >> 4)) & VM_ACCESS_FLAGS)
			return -EACCES;
		tmp = min(vma->vm_end, end);
		error = mprotect_fixup(vma, &prev, nstart, tmp, newflags);
		if (error)
			return error;
		tmp = prev->vm_end;
		nstart = tmp;
	}
	if (tmp < end)
		return -ENOMEM;
	return 0;
}

/*
 * mprotect(2) for the simulated task.  Returns 0 or a negative errno; on a
 * hole the VMAs before it keep their new rights, as in the kernel.
 */
int sys_mprotect(struct mm_struct *mm, unsigned long start, unsigned long len,
		 unsigned long prot)
{
	const unsigned long grows = prot & (PROT_GROWSDOWN | PROT_GROWSUP);
	unsigned long end;
	int error;

	prot &= ~(PROT_GROWSDOWN | PROT_GROWSUP);
	if (grows == (PROT_GROWSDOWN | PROT_GROWSUP))
		return -EINVAL;
	if (offset_in_page(start))
		return -EINVAL;
	if (!len)
		return 0;
	len = PAGE_ALIGN(len);
	end = start + len;
	if (end <= start)
		return -ENOMEM;
	if (prot & ~(PROT_READ | PROT_WRITE | PROT_EXEC | PROT_SEM))
		return -EINVAL;
	if (grows)
		return -EINVAL;	/* PROT_GROWSDOWN: not modelled */

	mmap_write_lock(mm);
	error = mprotect_range(mm, start, end, prot);
	mmap_write_unlock(mm);
	return error;
}

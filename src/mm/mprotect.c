// SPDX-License-Identifier: MIT
/*
 * mprotect(2) (the kernel's mm/mprotect.c): change the access rights of a
 * range VMA by VMA, merging or splitting as the new flags require,
 * keeping the commit charge of private writable memory right, and
 * rewriting the PTEs already mapped (change_protection) so that the MMU
 * enforces the new rights at once.
 */
#include <mmsim/mutant.h>
#include <mmsim/strategy.h>

#include "mm/internal.h"

/* x86: any bit besides rwx (and PROT_SEM) is invalid. */
#define PROT_SEM	0x8

/*
 * The new value of one mapped PTE: the rights of newprot, the pfn and the
 * accessed/dirty bits of old.  A private mapping's PTE never becomes
 * writable here (its vm_page_prot has no RW anyway): a write fault decides
 * whether the page can be reused or must be copied.
 */
static pte_t mprotect_new_pte(pte_t old, pgprot_t newprot, bool private)
{
	pte_t new = pte_modify(old, newprot);

	if (private)
		new = pte_wrprotect(new);
	return new;
}

/*
 * Rewrite the PTEs of [addr, end), all in the table pmd points to
 * (change_pte_range).  Takes the table's PTE lock: faults and zaps of the
 * same table wait; only the MMU of another CPU may still set the accessed
 * or dirty bit of an entry meanwhile, which the compare-and-swap keeps.
 * Returns the number of entries changed.
 */
static long change_pte_range(struct mmu_gather *tlb,
			     struct vm_area_struct *vma, pmd_t *pmd,
			     unsigned long addr, unsigned long end,
			     pgprot_t newprot, bool private)
{
	struct mm_struct *mm = vma->vm_mm;
	spinlock_t *ptl;
	pte_t *pte;
	long pages = 0;

	pte = pte_offset_map_lock(mm, pmd, addr, &ptl);
	if (!pte)
		return 0;	/* the table went away: nothing mapped */
	for (; addr < end; pte++, addr += PAGE_SIZE) {
		pte_t old = ptep_get(pte), new;

		/* PROT_NONE PTEs are present too; mmsim has no swap entries. */
		if (!pte_present(old))
			continue;
		do {
			new = mprotect_new_pte(old, newprot, private);
			if (pte_same(new, old))
				break;
		} while (!__atomic_compare_exchange_n(&pte->pte, &old.pte,
						      new.pte, false,
						      __ATOMIC_ACQ_REL,
						      __ATOMIC_ACQUIRE));
		if (pte_same(new, old))
			continue;
		tlb_flush_pte_range(tlb, addr, PAGE_SIZE);
		pages++;
	}
	pte_unmap_unlock(pte - 1, ptl);
	return pages;
}

/*
 * Give the mapped pages of [start, end) of vma the rights of newflags
 * (change_protection): walk the page tables without allocating any, and
 * rewrite every mapped PTE under its table's lock.  The pfns stay; the
 * changed translations are queued on tlb, which the caller flushes
 * (tlb_finish_mmu) before mprotect returns.  Returns the number of PTEs
 * changed.  The caller holds the mmap lock for writing.
 */
long change_protection(struct mmu_gather *tlb, struct vm_area_struct *vma,
		       unsigned long start, unsigned long end,
		       unsigned long newflags)
{
	struct mm_struct *mm = vma->vm_mm;
	pgprot_t newprot = vm_get_page_prot(newflags);
	bool private = !(newflags & VM_SHARED);
	unsigned long addr, next;
	long pages = 0;

	mmap_assert_write_locked(mm);
	VM_BUG_ON(start < vma->vm_start || end > vma->vm_end || start >= end);
	for (addr = start; addr < end; addr = next) {
		pmd_t *pmd;

		next = (addr + PMD_SIZE) & PMD_MASK;
		if (!next || next > end)
			next = end;
		pmd = mm_find_pmd(mm, addr);
		if (!pmd || pmd_none(pmdp_get(pmd)))
			continue;
		pages += change_pte_range(tlb, vma, pmd, addr, next, newprot,
					  private);
	}
	return pages;
}

/*
 * Give [start, end) of vma the flags newflags (mprotect_fixup), and its
 * mapped pages the matching rights (their flush is queued on tlb).  *pprev
 * is the VMA before the range on entry and the VMA holding the range on
 * return.  The caller holds the mmap lock for writing.
 */
static int mprotect_fixup(struct mmu_gather *tlb, struct vm_area_struct *vma,
			  struct vm_area_struct **pprev, unsigned long start,
			  unsigned long end, unsigned long newflags)
{
	struct mm_struct *mm = vma->vm_mm;
	unsigned long oldflags = vma->vm_flags;
	long nrpages = (end - start) >> PAGE_SHIFT;
	unsigned long charged = 0;
	bool seq;

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

	/*
	 * The rights change under vma's vm_sequence, PTEs included: a
	 * speculative fault that read the old flags, or a PTE
	 * change_protection() is about to rewrite, must not install a PTE
	 * with the old rights (the series' mprotect_fixup).
	 */
	seq = !mmsim_mutant_is(MUTANT_NO_SEQ_MPROTECT);
	vma_start_write(vma);
	if (seq)
		vm_write_begin(vma);
	WRITE_ONCE(vma->vm_flags, newflags);
	WRITE_ONCE(vma->vm_page_prot.pgprot, vm_get_page_prot(newflags).pgprot);
	change_protection(tlb, vma, start, end, newflags);
	if (seq)
		vm_write_end(vma);

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

/*
 * The walk of do_mprotect_pkey() over the VMAs of [start, end).  The PTEs
 * changed are gathered in tlb, which the caller flushes.
 */
static int mprotect_range(struct mmu_gather *tlb, struct mm_struct *mm,
			  unsigned long start, unsigned long end,
			  unsigned long prot)
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
		error = mprotect_fixup(tlb, vma, &prev, nstart, tmp, newflags);
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
	struct mmu_gather tlb;
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
	/*
	 * One gather for the whole range: every translation that lost a
	 * right is flushed from every TLB before mprotect returns, on
	 * success or failure alike.
	 */
	tlb_gather_mmu(&tlb, mm);
	error = mprotect_range(&tlb, mm, start, end, prot);
	tlb_finish_mmu(&tlb);
	mmap_write_unlock(mm);
	return error;
}

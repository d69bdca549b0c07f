// SPDX-License-Identifier: MIT
/*
 * The classic page-fault handlers, zapping and fork's copy of the page
 * tables (the kernel's mm/memory.c).
 *
 * A fault walks pgd -> p4d -> pud -> pmd (allocating what is missing),
 * reads the PTE once without its lock (vmf->orig_pte), decides what to do
 * from that snapshot, and only then takes the PTE lock.  Every time a
 * handler takes the PTE lock after working without it (allocating or
 * copying a page, asking the file for its page) it first checks that the
 * PTE is still what it decided on (pte_same / pte_none): someone else may
 * have handled the same fault meanwhile, and then we back off and return
 * 0, letting the access retry.  That is what lets the speculative paths
 * reuse these handlers.  The handlers use vmf->vma_flags and
 * vmf->vma_page_prot, a snapshot of the VMA, rather than the VMA itself,
 * for the same reason.
 *
 * Speculative faults (FAULT_FLAG_SPECULATIVE, spf-srcu: SPF RFC v5 patches
 * 02-09, docs/strategies.md) run these handlers without the mmap lock, on an
 * anonymous private VMA that handle_speculative_fault() found and validated,
 * with its PTE already read.  Every place that takes the PTE lock goes
 * through pte_spinlock() or pte_map_lock(), which for such a fault check
 * under the lock that neither the VMA (vma_has_changed) nor the PMD changed
 * since, and fail instead of waiting; the handler then gives up with
 * VM_FAULT_RETRY and the fault is done again the classic way.  A
 * speculative fault never allocates a page table and never prepares an
 * anon_vma (the VMA has one).
 *
 * The mmap read lock does not keep a PTE table either: MADV_DONTNEED
 * frees the tables it empties (pt_reclaim, as Linux 6.14 does, under the
 * PMD and PTE locks, the table freed after the TLB flush and an RCU grace
 * period).  A classic fault reads the PTE in an RCU read side and checks
 * the PMD again under the PTE lock (pte_spinlock, pte_offset_map_lock);
 * if the table went, it returns 0 and the access faults again, into a
 * new table.
 *
 * Pages hold one reference per PTE that maps them (and shmem pages one
 * more for the page cache); _mapcount counts the PTEs (see rmap.c).  A
 * page unmapped from a PTE is freed only after every TLB that may cache
 * the PTE was flushed: zapping goes through an mmu_gather, a COW break
 * through ptep_clear_flush().
 */
#include <limits.h>
#include <mmsim/mutant.h>
#include <mmsim/sched.h>
#include <mmsim/strategy.h>

#include "mm/internal.h"

/* --- small helpers (<linux/mm.h>, <linux/pgtable.h>) ----------------------- */

/* A private mapping that may become writable: its pages are COWed. */
static inline bool is_cow_mapping(unsigned long flags)
{
	return (flags & (VM_SHARED | VM_MAYWRITE)) == VM_MAYWRITE;
}

/* The only files of mmsim are shmem files: their pages count as shmem. */
static inline int mm_counter_file(struct page *page)
{
	return MM_SHMEMPAGES;
}

/* The RSS counter a mapped page counts in. */
static inline int mm_counter(struct page *page)
{
	return PageAnon(page) ? MM_ANONPAGES : mm_counter_file(page);
}

static void add_mm_rss_vec(struct mm_struct *mm, const int *rss)
{
	for (int i = 0; i < NR_MM_COUNTERS; i++)
		if (rss[i])
			add_mm_counter(mm, i, rss[i]);
}

/* The page index of address in vma's file (or anon_vma). */
static inline pgoff_t linear_page_index(struct vm_area_struct *vma,
					unsigned long address)
{
	return ((address - vma->vm_start) >> PAGE_SHIFT) + vma->vm_pgoff;
}

/* Writable only if the VMA allows writing (vm_flags: the fault's snapshot). */
static inline pte_t maybe_mkwrite(pte_t pte, unsigned long vm_flags)
{
	if (likely(vm_flags & VM_WRITE))
		pte = pte_mkwrite(pte);
	return pte;
}

/*
 * The end of the table entry of 2^shift bytes that holds addr, or end if
 * that comes first (the kernel's p?d_addr_end()).  The "- 1"s make an end
 * of 0 (the top of the address space) compare above everything.
 */
static inline unsigned long pt_addr_end(unsigned long addr, unsigned long end,
					unsigned int shift)
{
	unsigned long boundary = (addr + (1UL << shift)) & ~((1UL << shift) - 1);

	return boundary - 1 < end - 1 ? boundary : end;
}

/* The P4D level is folded into the PGD with 4 levels: one entry per PGD. */
static inline unsigned int p4d_shift(struct mm_struct *mm)
{
	return pgtable_l5_enabled(mm) ? P4D_SHIFT : pgdir_shift(mm);
}

/*
 * The PTE lock is held and *ptep is entry with some of A, D and RW
 * cleared: set them (ptep_set_access_flags).  Only the MMU may change the
 * PTE meanwhile, and it only sets A and D, so or-ing the bits in keeps
 * both its updates and ours.  Returns whether the PTE changed.  No TLB
 * flush: rights only grow, and a CPU with a weaker cached entry faults,
 * which drops that entry (the MMU does it, as x86 does).
 */
static bool ptep_set_access_flags(struct vm_area_struct *vma,
				  unsigned long address, pte_t *ptep,
				  pte_t entry, bool dirty)
{
	pte_t old = ptep_get(ptep);

	VM_BUG_ON(pte_pfn(old) != pte_pfn(entry));
	if (pte_same(old, entry))
		return false;
	__atomic_fetch_or(&ptep->pte, entry.pte, __ATOMIC_ACQ_REL);
	return true;
}

/*
 * Clear the PTE and flush it out of every TLB of the mm before the caller
 * maps something else there or frees the page (ptep_clear_flush).  The
 * caller holds the PTE lock; the flush waits for the other CPUs with it
 * held, as the kernel does.
 */
static pte_t ptep_clear_flush(struct vm_area_struct *vma, unsigned long address,
			      pte_t *ptep)
{
	pte_t pte = ptep_get_and_clear(vma->vm_mm, address, ptep);

	if (pte_present(pte))
		flush_tlb_page(vma, address);
	return pte;
}

/* --- taking the PTE lock, speculatively or not ------------------------ */

/*
 * Lock the PTE table that a speculative fault walked to (vmf->orig_pmd),
 * if the VMA and the PMD are still what the fault validated; count the
 * reason and return false if not.
 *
 * Interrupts stay disabled from the first check to the second.  The first
 * proves that the table was current; page tables are freed only after a
 * TLB shootdown that this CPU (running the mm) must acknowledge, so with
 * interrupts off the table and its lock stay allocated (in the RCU
 * table-free mode, our srcu_read_lock(&vma_srcu) is an RCU reader and
 * holds them).  The second check, under the lock, proves that nothing
 * changed before we got it; from then on a zap or a table free must wait
 * for our lock (SPF RFC v5 patch 08).  The lock is only tried: the CPU that
 * holds it may be waiting for us to acknowledge its shootdown, which we
 * cannot do with interrupts off (patch 09, docs/races.md race 1).  The PMD is
 * compared because a PMD cleared or replaced under a VMA that did not
 * change (a collapse, or MADV_DONTNEED reclaiming the emptied table:
 * neither writes vm_sequence) would leave us locking a dead table (race
 * 3), and compared twice: before locking, so that the lock we take is
 * that of a table still allocated (interrupts are off from that check
 * on), and again under the lock, because the table may have been
 * unlinked between the first check and the lock (the reclaim clears the
 * PMD holding the PTE lock, then waits for our interrupts in its flush:
 * the table is dead but not yet freed, and its lock free).  Once we hold
 * the lock and the PMD still points to the table, nobody can unlink it.
 * The mutant no-pmd-same drops both comparisons.
 */
static bool spf_pte_trylock(struct vm_fault *vmf)
{
	struct vm_area_struct *vma = vmf->vma;
	unsigned int abort;
	spinlock_t *ptl;

	local_irq_disable();
	if (vma_has_changed(vmf)) {
		abort = SPF_VMA_CHANGED;
		goto out_abort;
	}
	if (!mmsim_mutant_is(MUTANT_NO_PMD_SAME) &&
	    !pmd_same(pmdp_get(vmf->pmd), vmf->orig_pmd)) {
		abort = SPF_PMD_CHANGED;
		goto out_abort;
	}
	mmsim_sched_point(SCHED_FAULT_PTE, vma);
	ptl = pte_lockptr(vma->vm_mm, vmf->orig_pmd);
	if (mmsim_mutant_is(MUTANT_PTE_SPIN_IRQOFF)) {
		spin_lock(ptl);
	} else if (!spin_trylock(ptl)) {
		abort = SPF_PTE_LOCK;
		goto out_abort;
	}
	if (!mmsim_mutant_is(MUTANT_NO_SECOND_VMA_CHECK) &&
	    vma_has_changed(vmf)) {
		spin_unlock(ptl);
		abort = SPF_VMA_CHANGED;
		goto out_abort;
	}
	if (!mmsim_mutant_is(MUTANT_NO_PMD_SAME) &&
	    !pmd_same(pmdp_get(vmf->pmd), vmf->orig_pmd)) {
		spin_unlock(ptl);
		abort = SPF_PMD_CHANGED;
		goto out_abort;
	}
	vmf->ptl = ptl;
	local_irq_enable();
	return true;

out_abort:
	local_irq_enable();
	count_fault_event(abort);
	return false;
}

/*
 * Lock the PTE that vmf->pte points to (pte_spinlock), in the table
 * vmf->orig_pmd names.  False when the fault must stop: a speculative one
 * gives up (VM_FAULT_RETRY), a classic one returns 0 and the access
 * faults again, because the table is no longer the PMD's.
 *
 * A classic fault comes here inside the RCU read side fault_read_pte()
 * began, and ends it: the mmap read lock does not keep the table (an
 * MADV_DONTNEED may reclaim it and free it after a grace period), the
 * read side does until we hold its lock and have seen the PMD still
 * point to it; from then on nobody can unlink it.
 */
static bool pte_spinlock(struct vm_fault *vmf)
{
	bool same;

	if (vmf->flags & FAULT_FLAG_SPECULATIVE)
		return spf_pte_trylock(vmf);
	vmf->ptl = pte_lockptr(vmf->vma->vm_mm, vmf->orig_pmd);
	spin_lock(vmf->ptl);
	same = pmd_same(pmdp_get(vmf->pmd), vmf->orig_pmd);
	if (!same)
		spin_unlock(vmf->ptl);
	rcu_read_unlock();
	return same;
}

/* What a handler returns when pte_spinlock()/pte_map_lock() failed. */
static inline vm_fault_t pte_lock_failed(struct vm_fault *vmf)
{
	return (vmf->flags & FAULT_FLAG_SPECULATIVE) ? VM_FAULT_RETRY : 0;
}

/*
 * Map and lock the PTE of vmf->address again, after working without the
 * lock (pte_map_lock).  A classic fault always gets true, and vmf->pte is
 * NULL if the PMD no longer points to a table; a speculative one gets
 * false when it must give up, and otherwise the PTE in the table it
 * walked to.
 */
static bool pte_map_lock(struct vm_fault *vmf)
{
	if (!(vmf->flags & FAULT_FLAG_SPECULATIVE)) {
		vmf->pte = pte_offset_map_lock(vmf->vma->vm_mm, vmf->pmd,
					       vmf->address, &vmf->ptl);
		return true;
	}
	if (!spf_pte_trylock(vmf))
		return false;
	vmf->pte = pte_offset_kernel(vmf->orig_pmd, vmf->address);
	return true;
}

/*
 * Called with the PTE lock held, right before a handler checks that the
 * PTE is still what it decided on without the lock (pte_none/pte_same)
 * and then sets it.  For a fault without the mmap lock (speculative, or
 * under a VMA lock) this is a race window of its own: another fault may
 * have set the PTE since we read it, and what the mmap lock would have
 * held off (a fork write-protecting the PTEs, race 5) may be half done.
 * The mutant no-final-pte-same drops the speculative fault's check.
 * Returns whether to skip it.
 */
static bool skip_final_pte_check(struct vm_fault *vmf)
{
	if (!(vmf->flags & (FAULT_FLAG_SPECULATIVE | FAULT_FLAG_VMA_LOCK)))
		return false;
	mmsim_sched_point(SCHED_FAULT_FINAL, vmf->vma);
	return (vmf->flags & FAULT_FLAG_SPECULATIVE) &&
	       mmsim_mutant_is(MUTANT_NO_FINAL_PTE_SAME);
}

/*
 * The anon_vma that a speculative fault's page joins.  The VMA had one
 * when the fault validated it, and vma_has_changed() found no writer
 * since, under the PTE lock we hold; but writers change the field without
 * that lock, hence READ_ONCE (acquire: anon_vma_prepare() publishes it
 * with a release).  NULL only if the VMA changed after all.
 */
static struct anon_vma *spf_anon_vma(struct vm_fault *vmf)
{
	return __atomic_load_n(&vmf->vma->anon_vma, __ATOMIC_ACQUIRE);
}

/* page->mapping of an exclusive anonymous page of anon_vma. */
static void set_page_anon_rmap(struct page *page, struct anon_vma *anon_vma)
{
	__atomic_store_n(&page->mapping,
			 (void *)((unsigned long)anon_vma | PAGE_MAPPING_ANON),
			 __ATOMIC_RELEASE);
	SetPageFlag(page, PG_anon_exclusive);
}

/*
 * Give page, new and about to be mapped at vmf->address, its anonymous
 * rmap (page_add_new_anon_rmap).  A speculative fault does it from its
 * validated snapshot (the series' __page_add_new_anon_rmap): a split may
 * move the VMA's bounds under us even while we hold the PTE lock (it
 * takes none), but both halves keep the anon_vma and the page index.
 * Returns false, having done nothing, if a speculative fault's VMA lost
 * its anon_vma.  The caller holds the PTE lock.
 */
static bool fault_add_new_anon_rmap(struct vm_fault *vmf, struct page *page)
{
	struct anon_vma *anon_vma;

	if (!(vmf->flags & FAULT_FLAG_SPECULATIVE)) {
		page_add_new_anon_rmap(page, vmf->vma, vmf->address);
		return true;
	}
	anon_vma = spf_anon_vma(vmf);
	if (!anon_vma)
		return false;
	atomic_store_explicit(&page->_mapcount, 0, memory_order_relaxed);
	page->index = vmf->pgoff;
	set_page_anon_rmap(page, anon_vma);
	return true;
}

/*
 * A reused anonymous page becomes the VMA's own (page_move_anon_rmap).
 * Returns false, having done nothing, if a speculative fault's VMA lost
 * its anon_vma.  The caller holds the PTE lock.
 */
static bool fault_move_anon_rmap(struct vm_fault *vmf, struct page *page)
{
	struct anon_vma *anon_vma;

	if (!(vmf->flags & FAULT_FLAG_SPECULATIVE)) {
		page_move_anon_rmap(page, vmf->vma);
		return true;
	}
	anon_vma = spf_anon_vma(vmf);
	if (!anon_vma)
		return false;
	set_page_anon_rmap(page, anon_vma);
	return true;
}

/* --- anonymous faults ------------------------------------------------------ */

/*
 * A fault on a PTE that was never set in an anonymous private VMA.  A read
 * maps the shared zero page read-only; a write maps a new zeroed page.
 *
 * We enter with the mmap lock held for reading (or, speculatively, inside
 * the SRCU read side) and the PTE not mapped (vmf->pte is NULL); we return
 * with it unmapped and unlocked.  VM_FAULT_RETRY only from a speculative
 * fault that gave up.
 */
vm_fault_t do_anonymous_page(struct vm_fault *vmf)
{
	struct vm_area_struct *vma = vmf->vma;
	struct mm_struct *mm = vma->vm_mm;
	bool spf = vmf->flags & FAULT_FLAG_SPECULATIVE;
	vm_fault_t ret = 0;
	struct page *page;
	pte_t entry;

	/* Shared anonymous memory is shmem (vm_ops set): not ours. */
	if (vmf->vma_flags & VM_SHARED)
		return VM_FAULT_SIGBUS;
	/*
	 * __handle_mm_fault() allocated the table; a collapse may have gone.
	 * Never speculatively: a table allocated after free_pgtables() ran
	 * would never be freed; pte_map_lock() checks the PMD instead.
	 */
	if (!spf && pmd_none(pmdp_get(vmf->pmd)) && __pte_alloc(mm, vmf->pmd))
		return VM_FAULT_OOM;

	if (!(vmf->flags & FAULT_FLAG_WRITE)) {
		entry = pte_mkspecial(pfn_pte(page_to_pfn(ZERO_PAGE(vmf->address)),
					      vmf->vma_page_prot));
		if (!pte_map_lock(vmf))
			return VM_FAULT_RETRY;
		if (!vmf->pte)
			return 0;
		/* Another fault got there first: its PTE stands. */
		if (!skip_final_pte_check(vmf) && !pte_none(ptep_get(vmf->pte)))
			goto unlock;
		goto setpte;
	}

	/* The page will need an anon_vma to belong to. */
	if (!spf && unlikely(anon_vma_prepare(vma)))
		return VM_FAULT_OOM;
	page = alloc_page(GFP_HIGHUSER_MOVABLE);
	if (!page)
		return VM_FAULT_OOM;
	/* Zeroed before the PTE is set: set_pte's release publishes it. */
	clear_user_highpage(page, vmf->address);
	entry = mk_pte(page, vmf->vma_page_prot);
	if (vmf->vma_flags & VM_WRITE)
		entry = pte_mkwrite(pte_mkdirty(entry));

	if (!pte_map_lock(vmf)) {
		ret = VM_FAULT_RETRY;
		goto release;
	}
	if (!vmf->pte)
		goto release;
	if (!skip_final_pte_check(vmf) && !pte_none(ptep_get(vmf->pte)))
		goto release_unlock;
	if (!fault_add_new_anon_rmap(vmf, page)) {
		count_fault_event(SPF_VMA_CHANGED);
		ret = VM_FAULT_RETRY;
		goto release_unlock;
	}
	inc_mm_counter(mm, MM_ANONPAGES);
setpte:
	mmsim_sched_point(SCHED_PTE, vmf->pte);
	set_pte_at(mm, vmf->address, vmf->pte, entry);
unlock:
	pte_unmap_unlock(vmf->pte, vmf->ptl);
	return 0;

release_unlock:
	pte_unmap_unlock(vmf->pte, vmf->ptl);
release:
	put_page(page);
	return ret;
}

/* --- write-protect faults ---------------------------------------------------- */

/*
 * The faulting PTE keeps its page and becomes writable (and dirty and
 * young): the page is ours alone, or the mapping is shared.
 *
 * We enter with the PTE mapped and locked; we return with it unlocked.
 */
static vm_fault_t wp_page_reuse(struct vm_fault *vmf)
{
	pte_t entry;

	lockdep_assert_held(vmf->ptl);
	entry = pte_mkyoung(vmf->orig_pte);
	entry = maybe_mkwrite(pte_mkdirty(entry), vmf->vma_flags);
	ptep_set_access_flags(vmf->vma, vmf->address, vmf->pte, entry, true);
	pte_unmap_unlock(vmf->pte, vmf->ptl);
	return 0;
}

/*
 * A write to a read-only PTE of a shared mapping (wp_page_shared): no copy,
 * every mapper sees the write.  shmem has no ->page_mkwrite, so the PTE is
 * made writable and the page dirty.
 *
 * We enter with the PTE mapped and locked; we return with it unlocked.
 */
static vm_fault_t wp_page_shared(struct vm_fault *vmf)
{
	SetPageFlag(vmf->page, PG_dirty);
	return wp_page_reuse(vmf);
}

/*
 * Break COW: copy the page the PTE maps (vmf->page, on which we hold a
 * reference; NULL for the zero page) into a new anonymous page and map
 * that one writable instead.  The old PTE is cleared and flushed from
 * every TLB before the new one is set, so no CPU goes on writing the old
 * page through a stale entry; the old page's reference from the PTE is
 * dropped only after that flush.
 *
 * We enter with the mmap lock held for reading (or speculatively) and the
 * PTE unlocked; we return with it unlocked.  Returns 0 also when the PTE
 * changed meanwhile (the access retries), VM_FAULT_OOM, or VM_FAULT_RETRY
 * from a speculative fault that gave up.
 */
static vm_fault_t wp_page_copy(struct vm_fault *vmf)
{
	struct vm_area_struct *vma = vmf->vma;
	struct mm_struct *mm = vma->vm_mm;
	struct page *old_page = vmf->page;
	struct page *new_page;
	vm_fault_t ret = 0;
	pte_t entry;

	/* A speculative fault's VMA has its anon_vma already. */
	if (!(vmf->flags & FAULT_FLAG_SPECULATIVE) &&
	    unlikely(anon_vma_prepare(vma)))
		goto oom;
	new_page = alloc_page(GFP_HIGHUSER_MOVABLE);
	if (!new_page)
		goto oom;
	if (old_page)
		copy_user_highpage(new_page, old_page, vmf->address);
	else
		clear_user_highpage(new_page, vmf->address);

	if (!pte_map_lock(vmf)) {
		ret = VM_FAULT_RETRY;
		goto out_free_new;
	}
	if (!vmf->pte)
		goto out_free_new;
	mmsim_sched_point(SCHED_PTE, vmf->pte);
	/* Someone else handled it (or zapped it) while we copied. */
	if (!skip_final_pte_check(vmf) &&
	    !pte_same(ptep_get(vmf->pte), vmf->orig_pte))
		goto out_unlock;
	if (!fault_add_new_anon_rmap(vmf, new_page)) {
		count_fault_event(SPF_VMA_CHANGED);
		ret = VM_FAULT_RETRY;
		goto out_unlock;
	}
	if (!old_page) {
		inc_mm_counter(mm, MM_ANONPAGES);
	} else if (!PageAnon(old_page)) {
		dec_mm_counter(mm, mm_counter_file(old_page));
		inc_mm_counter(mm, MM_ANONPAGES);
	}
	entry = mk_pte(new_page, vmf->vma_page_prot);
	entry = maybe_mkwrite(pte_mkdirty(entry), vmf->vma_flags);
	/* Flushed under the PTE lock, before the new PTE is visible. */
	ptep_clear_flush(vma, vmf->address, vmf->pte);
	set_pte_at(mm, vmf->address, vmf->pte, entry);
	if (old_page)
		page_remove_rmap(old_page, vma);
	pte_unmap_unlock(vmf->pte, vmf->ptl);
	if (old_page) {
		/* The reference of the PTE we replaced (TLBs are flushed). */
		put_page(old_page);
		/* And ours, from do_wp_page(). */
		put_page(old_page);
	}
	return 0;

out_unlock:
	pte_unmap_unlock(vmf->pte, vmf->ptl);
out_free_new:
	put_page(new_page);
	if (old_page)
		put_page(old_page);
	return ret;
oom:
	if (old_page)
		put_page(old_page);
	return VM_FAULT_OOM;
}

/*
 * May a write fault reuse this anonymous page instead of copying it
 * (wp_can_reuse_anon_folio)?  Yes when it is known to be exclusive to
 * this mm, or when this PTE is its only mapping and its only reference:
 * then no other mm and no pending free can see it.  A fork copying the
 * PTE takes both under our PTE lock, so the answer holds while we hold it.
 */
static bool wp_can_reuse_anon_page(struct page *page)
{
	if (PageAnonExclusive(page))
		return true;
	/*
	 * Acquire: pairs with the release of put_page(), so whatever the
	 * last other user did with the page happens before we write to it.
	 */
	return page_mapcount(page) == 1 &&
	       atomic_load_explicit(&page->_refcount, memory_order_acquire) == 1;
}

/*
 * A write fault on a present, read-only PTE (do_wp_page): reuse the page
 * when the mapping is shared or the page is ours alone, copy it otherwise
 * (the zero page, a page shared with a forked mm, a page-cache page of a
 * private file mapping).
 *
 * We enter with the mmap lock held for reading (or speculatively) and the
 * PTE mapped and locked (vmf->orig_pte is its value); we return with it
 * unlocked.  VM_FAULT_RETRY only from a speculative fault that gave up.
 */
vm_fault_t do_wp_page(struct vm_fault *vmf)
{
	struct page *page;

	lockdep_assert_held(vmf->ptl);
	vmf->page = vm_normal_page(vmf->vma, vmf->address, vmf->orig_pte);
	if (!vmf->page) {
		/* The zero page, mmsim's only special PTE: copy from zeros. */
		pte_unmap_unlock(vmf->pte, vmf->ptl);
		return wp_page_copy(vmf);
	}
	page = vmf->page;
	if (vmf->vma_flags & (VM_SHARED | VM_MAYSHARE))
		return wp_page_shared(vmf);
	if (PageAnon(page) && wp_can_reuse_anon_page(page)) {
		if (!PageAnonExclusive(page) &&
		    !fault_move_anon_rmap(vmf, page)) {
			pte_unmap_unlock(vmf->pte, vmf->ptl);
			count_fault_event(SPF_VMA_CHANGED);
			return VM_FAULT_RETRY;
		}
		return wp_page_reuse(vmf);
	}
	/* Keep the page alive while we copy it without the lock. */
	get_page(page);
	pte_unmap_unlock(vmf->pte, vmf->ptl);
	return wp_page_copy(vmf);
}

/* --- file (shmem) faults ------------------------------------------------------ */

/*
 * Ask the file for the page at vmf->pgoff (__do_fault): vmf->page, with a
 * reference for us.  With VM_FAULT_RETRY the mmap lock is gone.
 */
static vm_fault_t __do_fault(struct vm_fault *vmf)
{
	return vmf->vma->vm_ops->fault(vmf);
}

/*
 * Fill the PTE with page (do_set_pte): a private write maps the COW copy
 * as a new anonymous page, anything else maps the page-cache page with
 * the VMA's rights (read-only in a private VMA, so that a later write
 * copies it).  The caller holds the PTE lock and has seen it none.
 */
static void do_set_pte(struct vm_fault *vmf, struct page *page)
{
	struct vm_area_struct *vma = vmf->vma;
	bool write = vmf->flags & FAULT_FLAG_WRITE;
	pte_t entry;

	lockdep_assert_held(vmf->ptl);
	entry = mk_pte(page, vmf->vma_page_prot);
	if (write)
		entry = maybe_mkwrite(pte_mkdirty(entry), vmf->vma_flags);
	if (write && !(vmf->vma_flags & VM_SHARED)) {
		inc_mm_counter(vma->vm_mm, MM_ANONPAGES);
		page_add_new_anon_rmap(page, vma, vmf->address);
	} else {
		inc_mm_counter(vma->vm_mm, mm_counter_file(page));
		page_add_file_rmap(page, vma);
	}
	mmsim_sched_point(SCHED_PTE, vmf->pte);
	set_pte_at(vma->vm_mm, vmf->address, vmf->pte, entry);
}

/*
 * Is the page-cache page we are about to map still the file's?  A hole
 * punched since we found it (shmem_punch_hole) took it out of the cache,
 * cleared its mapping, and then zaps the range under each PTE lock: with
 * the PTE lock held, either that zap is still to come and will clear our
 * PTE, or it is done and we see the mapping cleared (the kernel checks
 * folio->mapping under the folio lock).  A private COW copy is a new
 * anonymous page made from it, which a hole punch leaves anyway.
 */
static bool page_still_cached(struct vm_fault *vmf, struct page *page)
{
	lockdep_assert_held(vmf->ptl);
	return page == vmf->cow_page ||
	       READ_ONCE(page->mapping) == vmf->vma->vm_file;
}

/*
 * Map the page a file fault prepared (finish_fault), if the PTE is still
 * none.  Returns 0, VM_FAULT_NOPAGE when someone else mapped it first (the
 * caller drops its page), or VM_FAULT_OOM.
 *
 * We enter with the mmap lock held for reading and the PTE unmapped; we
 * return with it unmapped.
 */
static vm_fault_t finish_fault(struct vm_fault *vmf)
{
	struct mm_struct *mm = vmf->vma->vm_mm;
	struct page *page;
	vm_fault_t ret;

	if ((vmf->flags & FAULT_FLAG_WRITE) && !(vmf->vma_flags & VM_SHARED))
		page = vmf->cow_page;
	else
		page = vmf->page;

	if (pmd_none(pmdp_get(vmf->pmd)) && __pte_alloc(mm, vmf->pmd))
		return VM_FAULT_OOM;
	/* File faults are never speculative: this always locks. */
	if (!pte_map_lock(vmf))
		return VM_FAULT_RETRY;
	if (!vmf->pte)
		return VM_FAULT_NOPAGE;
	if (likely(pte_none(ptep_get(vmf->pte)) && page_still_cached(vmf, page))) {
		do_set_pte(vmf, page);
		ret = 0;
	} else {
		ret = VM_FAULT_NOPAGE;
	}
	pte_unmap_unlock(vmf->pte, vmf->ptl);
	return ret;
}

#define FAULT_NOT_MAPPED (VM_FAULT_ERROR | VM_FAULT_NOPAGE | VM_FAULT_RETRY)

/* A read fault maps the page-cache page (do_read_fault). */
static vm_fault_t do_read_fault(struct vm_fault *vmf)
{
	vm_fault_t ret;

	ret = __do_fault(vmf);
	if (unlikely(ret & FAULT_NOT_MAPPED))
		return ret;
	ret |= finish_fault(vmf);
	/* Not mapped: the reference the PTE would have held goes. */
	if (unlikely(ret & FAULT_NOT_MAPPED))
		put_page(vmf->page);
	return ret;
}

/*
 * A write fault in a private file mapping (do_cow_fault): the page-cache
 * page is copied into a new anonymous page, which is what gets mapped.
 */
static vm_fault_t do_cow_fault(struct vm_fault *vmf)
{
	vm_fault_t ret;

	if (unlikely(anon_vma_prepare(vmf->vma)))
		return VM_FAULT_OOM;
	vmf->cow_page = alloc_page(GFP_HIGHUSER_MOVABLE);
	if (!vmf->cow_page)
		return VM_FAULT_OOM;

	ret = __do_fault(vmf);
	if (unlikely(ret & (FAULT_NOT_MAPPED | VM_FAULT_DONE_COW)))
		goto uncharge_out;
	copy_user_highpage(vmf->cow_page, vmf->page, vmf->address);
	ret |= finish_fault(vmf);
	put_page(vmf->page);
	if (unlikely(ret & FAULT_NOT_MAPPED))
		goto uncharge_out;
	return ret;

uncharge_out:
	put_page(vmf->cow_page);
	return ret;
}

/*
 * A write fault in a shared file mapping (do_shared_fault): the page-cache
 * page is mapped writable and becomes dirty.
 */
static vm_fault_t do_shared_fault(struct vm_fault *vmf)
{
	vm_fault_t ret;

	ret = __do_fault(vmf);
	if (unlikely(ret & FAULT_NOT_MAPPED))
		return ret;
	ret |= finish_fault(vmf);
	if (unlikely(ret & FAULT_NOT_MAPPED)) {
		put_page(vmf->page);
		return ret;
	}
	SetPageFlag(vmf->page, PG_dirty);	/* fault_dirty_shared_page */
	return ret;
}

/*
 * A fault on a PTE that was never set in a file-backed VMA (do_fault).
 *
 * We enter with the mmap lock held for reading and the PTE unmapped; we
 * return with it unmapped, and with the mmap lock released if the result
 * has VM_FAULT_RETRY.
 */
static vm_fault_t do_fault(struct vm_fault *vmf)
{
	if (!vmf->vma->vm_ops->fault)
		return VM_FAULT_SIGBUS;
	if (!(vmf->flags & FAULT_FLAG_WRITE))
		return do_read_fault(vmf);
	if (!(vmf->vma_flags & VM_SHARED))
		return do_cow_fault(vmf);
	return do_shared_fault(vmf);
}

/* --- the fault entry points ------------------------------------------------------ */

/*
 * A protnone PTE: it maps a page but the MMU cannot use it (_PAGE_PROTNONE
 * without _PAGE_PRESENT, as on x86).  mmsim has no NUMA balancing: the only
 * such entry is one that mprotect(PROT_NONE) made, seen in a VMA that
 * allows access again.  Like the kernel's do_numa_page() for a
 * protnone PTE, give it the VMA's rights back.
 *
 * We enter with the PTE mapped and unlocked; we return with it unlocked.
 */
static vm_fault_t do_prot_none_page(struct vm_fault *vmf)
{
	struct mm_struct *mm = vmf->vma->vm_mm;

	if (!pte_spinlock(vmf))
		return pte_lock_failed(vmf);
	if (pte_same(ptep_get(vmf->pte), vmf->orig_pte) &&
	    pmd_same(pmdp_get(vmf->pmd), vmf->orig_pmd))
		set_pte_at(mm, vmf->address, vmf->pte,
			   pte_modify(vmf->orig_pte, vmf->vma_page_prot));
	pte_unmap_unlock(vmf->pte, vmf->ptl);
	return 0;
}

/*
 * Read the PMD and then the PTE of vmf->address once each, without their
 * locks: vmf->orig_pmd, vmf->orig_pte, and vmf->pte mapped in the table
 * orig_pmd names, or NULL when the PTE is none or no table is there (the
 * handlers allocate one, or find that another fault did).  False when the
 * PMD is no table entry.  The caller is in an RCU read side: the table
 * may be reclaimed meanwhile, not freed.
 */
static bool fault_read_pte(struct vm_fault *vmf)
{
	vmf->orig_pmd = pmdp_get(vmf->pmd);
	if (unlikely(pmd_none(vmf->orig_pmd))) {
		vmf->pte = NULL;
		return true;
	}
	if (unlikely(pmd_bad(vmf->orig_pmd)))
		return false;
	vmf->pte = pte_offset_kernel(vmf->orig_pmd, vmf->address);
	vmf->orig_pte = ptep_get(vmf->pte);
	/* From here to pte_spinlock() the PTE and its table may change. */
	mmsim_sched_point(SCHED_PTE, vmf->pte);
	if (pte_none(vmf->orig_pte)) {
		pte_unmap(vmf->pte);
		vmf->pte = NULL;
	}
	return true;
}

/*
 * Handle the fault described by vmf, whose vmf->pmd points to a PTE table
 * (or is none, on a path that does not allocate tables).  Reads the PTE
 * once, unlocked, and dispatches on that value; a present PTE is handled
 * under its lock after checking it did not change.
 *
 * We enter with the mmap lock held for reading; we return with the PTE
 * unmapped and unlocked, and with the mmap lock released if the result has
 * VM_FAULT_RETRY.  A speculative fault enters without the mmap lock, with
 * the PTE already read (vmf->orig_pte; vmf->pte NULL if none) by
 * handle_speculative_fault(), and VM_FAULT_RETRY means it gave up.
 */
vm_fault_t handle_pte_fault(struct vm_fault *vmf)
{
	bool write = vmf->flags & FAULT_FLAG_WRITE;
	bool spf = vmf->flags & FAULT_FLAG_SPECULATIVE;
	pte_t entry;

	/*
	 * A speculative fault read it already, with interrupts off.  A
	 * classic one reads it in an RCU read side, which pte_spinlock()
	 * ends, or right here if there is no PTE to lock.
	 */
	if (!spf) {
		rcu_read_lock();
		if (unlikely(!fault_read_pte(vmf))) {
			rcu_read_unlock();
			return 0;	/* not a table: fault again */
		}
		if (!vmf->pte)
			rcu_read_unlock();
	}

	if (!vmf->pte) {
		/* Speculative faults are only tried in anonymous VMAs. */
		if (spf || vma_is_anonymous(vmf->vma))
			return do_anonymous_page(vmf);
		return do_fault(vmf);
	}
	if (pte_protnone(vmf->orig_pte))
		return do_prot_none_page(vmf);

	if (!pte_spinlock(vmf))
		return pte_lock_failed(vmf);
	entry = vmf->orig_pte;
	if (unlikely(!pte_same(ptep_get(vmf->pte), entry) ||
		     !pmd_same(pmdp_get(vmf->pmd), vmf->orig_pmd)))
		goto unlock;	/* someone else handled it (or the MMU set A/D) */
	if (write) {
		if (!pte_write(entry))
			return do_wp_page(vmf);
		entry = pte_mkdirty(entry);
	}
	entry = pte_mkyoung(entry);
	/*
	 * Nothing to do if nothing changed (a spurious fault): the MMU has
	 * dropped the stale TLB entry that made it fault.
	 */
	ptep_set_access_flags(vmf->vma, vmf->address, vmf->pte, entry, write);
unlock:
	pte_unmap_unlock(vmf->pte, vmf->ptl);
	return 0;
}

/* p4d_alloc(): the P4D entry of address, allocating its table (5 levels). */
static p4d_t *fault_p4d_alloc(struct mm_struct *mm, pgd_t *pgd,
			      unsigned long address)
{
	if (pgtable_l5_enabled(mm) && pgd_none(pgdp_get(pgd)) &&
	    __p4d_alloc(mm, pgd, address))
		return NULL;
	return p4d_offset(mm, pgd, address);
}

/* pud_alloc(): the PUD entry of address, allocating its table. */
static pud_t *fault_pud_alloc(struct mm_struct *mm, p4d_t *p4d,
			      unsigned long address)
{
	if (p4d_none(p4dp_get(p4d)) && __pud_alloc(mm, p4d, address))
		return NULL;
	return pud_offset(p4d, address);
}

/* pmd_alloc(): the PMD entry of address, allocating its table. */
static pmd_t *fault_pmd_alloc(struct mm_struct *mm, pud_t *pud,
			      unsigned long address)
{
	if (pud_none(pudp_get(pud)) && __pmd_alloc(mm, pud, address))
		return NULL;
	return pmd_offset(pud, address);
}

/*
 * Walk to the PMD of address, allocating the missing tables down to and
 * including the PTE table, fill a struct vm_fault and handle it.
 */
static vm_fault_t __handle_mm_fault(struct vm_area_struct *vma,
				    unsigned long address, unsigned int flags)
{
	struct vm_fault vmf = {
		.vma = vma,
		.address = address & PAGE_MASK,
		.real_address = address,
		.flags = flags,
		.pgoff = linear_page_index(vma, address),
		.vma_flags = vma->vm_flags,
		.vma_page_prot = vma->vm_page_prot,
	};
	struct mm_struct *mm = vma->vm_mm;
	pgd_t *pgd;
	p4d_t *p4d;
	pud_t *pud;

	pgd = pgd_offset(mm, address);
	p4d = fault_p4d_alloc(mm, pgd, address);
	if (!p4d)
		return VM_FAULT_OOM;
	pud = fault_pud_alloc(mm, p4d, address);
	if (!pud)
		return VM_FAULT_OOM;
	vmf.pmd = fault_pmd_alloc(mm, pud, address);
	if (!vmf.pmd)
		return VM_FAULT_OOM;
	/*
	 * The classic path allocates the PTE table too, before looking.  It
	 * may be reclaimed again before handle_pte_fault() reads the PMD:
	 * then the handlers allocate it once more, or fault again.
	 */
	if (pmd_none(pmdp_get(vmf.pmd)) && __pte_alloc(mm, vmf.pmd))
		return VM_FAULT_OOM;
	return handle_pte_fault(&vmf);
}

/*
 * Handle a fault at address of vma (the caller holds the mmap lock for
 * reading, and has checked the access against the VMA as the arch fault
 * handler does).  Returns VM_FAULT_* bits; with VM_FAULT_RETRY the mmap
 * lock has been released and vma may be gone.
 */
vm_fault_t handle_mm_fault(struct vm_area_struct *vma, unsigned long address,
			   unsigned int flags, void *regs)
{
	atomic_fetch_add_explicit(&this_cpu()->nr_faults, 1,
				  memory_order_relaxed);
	vma_assert_fault_locked(vma->vm_mm, vma);

	/*
	 * Callers other than the arch handler (tests, populate) may ask for
	 * what the VMA does not allow: refuse as access_error() would,
	 * rather than loop on a PTE that can never let the access through.
	 */
	if (address < vma->vm_start || address >= vma->vm_end)
		return VM_FAULT_SIGSEGV;
	if ((flags & FAULT_FLAG_WRITE) && !(vma->vm_flags & VM_WRITE))
		return VM_FAULT_SIGSEGV;
	if (!(vma->vm_flags & VM_ACCESS_FLAGS))
		return VM_FAULT_SIGSEGV;

	/* Past this call vma must not be touched: a retry dropped the lock. */
	return __handle_mm_fault(vma, address, flags);
}

/* --- zapping ------------------------------------------------------------------------ */

/*
 * May a zap of [addr, end), all in one PTE table, reclaim that table?
 * Only if asked to (MADV_DONTNEED) and the range is the whole table: the
 * rest may belong to another VMA, or be outside what was asked
 * (reclaim_pt_is_enabled).
 */
static bool zap_may_reclaim_pt(unsigned long addr, unsigned long end,
			       const struct zap_details *details)
{
	return details && details->reclaim_pt && end - addr >= PMD_SIZE;
}

/*
 * Does this zap clear ptent (should_zap_folio)?  A zap of a file's pages
 * (unmap_mapping_range) leaves a private COW copy, an anonymous page,
 * unless asked for even_cows: a hole punched in the file does not take
 * what a private mapping made its own.  Every other zap clears all.
 */
static bool zap_pte_wanted(struct vm_area_struct *vma, unsigned long addr,
			   pte_t ptent, const struct zap_details *details)
{
	struct page *page;

	if (!details || !details->zap_mapping || details->even_cows)
		return true;
	page = vm_normal_page(vma, addr, ptent);
	return !page || !PageAnon(page);
}

/*
 * One pass over [addr, end), all in the table *pmd points to, under its
 * lock: each cleared PTE is noted for the TLB flush, each page it mapped
 * is uncounted and queued in the gather, to be freed after the flush.
 * When the gather's batch fills, the TLBs are flushed right here, still
 * under the PTE lock (the kernel's order, which docs/races.md race 1 needs),
 * and the pages are freed after the unlock.  Returns where it stopped:
 * end, or the address after the PTE that filled the batch, or addr with
 * *gone set if the table went away (another zap reclaimed it).
 *
 * *reclaim (in and out): the table is to be reclaimed and its PTE lock
 * was held from its first PTE on.  A pass that clears the last PTE with
 * that still true unlinks the table right away, under the same lock
 * (*cleared, the old PMD in *pmdval), if it gets the PMD lock.
 */
static unsigned long zap_pte_pass(struct mmu_gather *tlb,
				  struct vm_area_struct *vma, pmd_t *pmd,
				  unsigned long addr, unsigned long end,
				  const struct zap_details *details,
				  bool *reclaim, bool *cleared, pmd_t *pmdval,
				  bool *gone)
{
	struct mm_struct *mm = tlb->mm;
	int rss[NR_MM_COUNTERS] = { 0 };
	bool force_flush = false;
	pte_t *start_pte, *pte;
	spinlock_t *ptl;

	start_pte = pte = pte_offset_map_lock(mm, pmd, addr, &ptl);
	if (!pte) {
		*gone = true;
		return addr;
	}
	do {
		pte_t ptent = ptep_get(pte);
		struct page *page;

		if (pte_none(ptent))
			continue;
		if (!zap_pte_wanted(vma, addr, ptent, details))
			continue;
		mmsim_sched_point(SCHED_PTE, pte);
		/* The value cleared, with the A/D bits the MMU may have set. */
		ptent = ptep_get_and_clear(mm, addr, pte);
		tlb_flush_pte_range(tlb, addr, PAGE_SIZE);
		page = vm_normal_page(vma, addr, ptent);
		if (unlikely(!page))
			continue;	/* the zero page */
		if (!PageAnon(page) && pte_dirty(ptent))
			SetPageFlag(page, PG_dirty);
		rss[mm_counter(page)]--;
		page_remove_rmap(page, vma);
		if (unlikely(__tlb_remove_page(tlb, page))) {
			force_flush = true;
			addr += PAGE_SIZE;
			break;
		}
	} while (pte++, addr += PAGE_SIZE, addr != end);

	/* Every PTE of the table cleared under this one hold of its lock. */
	if (*reclaim && addr == end)
		*cleared = pt_reclaim_clear_pmd(mm, pmd, pmdval);
	else
		*reclaim = false;
	add_mm_rss_vec(mm, rss);
	/* Flush before anyone can see the PTE lock free (and the PTEs none). */
	if (force_flush)
		tlb_flush_mmu_tlbonly(tlb);
	pte_unmap_unlock(start_pte, ptl);
	/* Now free the batch; the TLBs no longer map its pages. */
	if (force_flush)
		tlb_flush_mmu(tlb);
	return addr;
}

/*
 * Clear the PTEs of [addr, end), all in the table *pmd points to, a
 * gather batch at a time (zap_pte_range).  With details->reclaim_pt and
 * the whole table zapped, the table goes too, as Linux 6.14 does for
 * MADV_DONTNEED (CONFIG_PT_RECLAIM): unlinked at once if no fault can
 * have refilled it (the fast path above), else only if it is still empty
 * once both the PMD and the PTE locks are held; then freed through the
 * gather, after the TLB flush and a grace period (pt_reclaim_free).
 *
 * The caller holds the mmap lock, for reading at least.  Faults may run
 * beside us, in this table too: a classic fault rechecks the PMD under
 * the PTE lock (pte_offset_map_lock, pte_spinlock), a speculative one
 * too (spf_pte_trylock), so whichever takes the PTE lock after the PMD
 * was cleared backs off and faults again into a new table.
 */
static void zap_pte_range(struct mmu_gather *tlb, struct vm_area_struct *vma,
			  pmd_t *pmd, unsigned long addr, unsigned long end,
			  const struct zap_details *details)
{
	bool may_reclaim = zap_may_reclaim_pt(addr, end, details);
	bool direct = may_reclaim, cleared = false, gone = false;
	unsigned long start = addr;
	pmd_t pmdval;

	while (addr != end && !gone)
		addr = zap_pte_pass(tlb, vma, pmd, addr, end, details, &direct,
				    &cleared, &pmdval, &gone);
	if (!may_reclaim || gone)
		return;
	if (!cleared)
		cleared = pt_reclaim_try_clear(tlb->mm, pmd, &pmdval);
	if (cleared)
		pt_reclaim_free(tlb, pmdval, start);
}

static void zap_pmd_range(struct mmu_gather *tlb, struct vm_area_struct *vma,
			  pud_t *pud, unsigned long addr, unsigned long end,
			  const struct zap_details *details)
{
	pmd_t *pmd = pmd_offset(pud, addr);
	unsigned long next;

	for (; addr != end; pmd++, addr = next) {
		next = pt_addr_end(addr, end, PMD_SHIFT);
		if (!pmd_none(pmdp_get(pmd)))
			zap_pte_range(tlb, vma, pmd, addr, next, details);
	}
}

static void zap_pud_range(struct mmu_gather *tlb, struct vm_area_struct *vma,
			  p4d_t *p4d, unsigned long addr, unsigned long end,
			  const struct zap_details *details)
{
	pud_t *pud = pud_offset(p4d, addr);
	unsigned long next;

	do {
		next = pt_addr_end(addr, end, PUD_SHIFT);
		if (pud_none(pudp_get(pud)))
			continue;
		zap_pmd_range(tlb, vma, pud, addr, next, details);
	} while (pud++, addr = next, addr != end);
}

static void zap_p4d_range(struct mmu_gather *tlb, struct vm_area_struct *vma,
			  pgd_t *pgd, unsigned long addr, unsigned long end,
			  const struct zap_details *details)
{
	struct mm_struct *mm = vma->vm_mm;
	p4d_t *p4d = p4d_offset(mm, pgd, addr);
	unsigned long next;

	do {
		next = pt_addr_end(addr, end, p4d_shift(mm));
		if (p4d_none(p4dp_get(p4d)))
			continue;
		zap_pud_range(tlb, vma, p4d, addr, next, details);
	} while (p4d++, addr = next, addr != end);
}

/*
 * A zap holds the mmap lock, or is unmap_mapping_range()'s, which holds
 * the file's i_mmap_rwsem (that keeps vma in place) and no mmap lock.
 */
static void zap_assert_locked(struct vm_area_struct *vma)
{
	if (!vma_i_mmap_held_by_me(vma))
		mmap_assert_locked(vma->vm_mm);
}

/*
 * Does a zap of vma write its vm_sequence (SPF RFC v5 patch 04), so that a
 * speculative fault that validated the VMA before sees it changing while
 * its PTEs go?  A seqcount takes one writer at a time, so we write it
 * when that is sure: the mmap lock is held for writing (the series zapped
 * only so), or the VMA is out of the tree, which since 4.20 munmap zaps
 * after downgrading to the read lock: nobody else can reach a detached
 * VMA to write it.  MADV_DONTNEED zaps a VMA in the tree under the read
 * lock, which two threads may do at once; it leaves the count alone: it
 * changes no field of the VMA, the PTEs it clears go under their lock,
 * which a speculative fault takes and checks too, as a classic fault
 * racing with MADV_DONTNEED does, and a PTE table it reclaims is unlinked
 * under that lock too, which a speculative fault notices by comparing
 * the PMD before and after taking it (spf_pte_trylock).
 *
 * unmap_mapping_range() writes it as the series did (the zap of a file's
 * VMA under i_mmap_rwsem, with no mmap lock: docs/races.md race 2 is about
 * that section).  Speculative faults give up on file VMAs, so it is not
 * needed for them; it makes two writers possible, the mmap-lock holder
 * and this one (or two of these), which vm_write_begin() allows.
 */
static bool zap_writes_vm_sequence(struct vm_area_struct *vma)
{
	if (mmsim_mutant_is(MUTANT_NO_SEQ_UNMAP))
		return false;
	return RB_EMPTY_NODE(&vma->vm_rb) ||
	       rwsem_is_write_locked_by_me(&vma->vm_mm->mmap_lock) ||
	       vma_i_mmap_held_by_me(vma);
}

/* unmap_page_range() with details (NULL: clear the PTEs, nothing more). */
static void __unmap_page_range(struct mmu_gather *tlb,
			       struct vm_area_struct *vma, unsigned long addr,
			       unsigned long end,
			       const struct zap_details *details)
{
	struct mm_struct *mm = vma->vm_mm;
	bool seq = zap_writes_vm_sequence(vma);
	pgd_t *pgd;
	unsigned long next;

	zap_assert_locked(vma);
	VM_BUG_ON(addr >= end || addr < vma->vm_start || end > vma->vm_end);
	if (seq)
		vm_write_begin(vma);
	pgd = pgd_offset(mm, addr);
	do {
		next = pt_addr_end(addr, end, pgdir_shift(mm));
		if (pgd_none(pgdp_get(pgd)))
			continue;
		zap_p4d_range(tlb, vma, pgd, addr, next, details);
	} while (pgd++, addr = next, addr != end);
	if (seq)
		vm_write_end(vma);
}

/*
 * Zap [addr, end) of vma (inside it): walk the tables without allocating
 * and clear every PTE.  The caller holds the mmap lock, and finishes the
 * gather (which flushes the TLBs and frees the pages).  No table is
 * freed here: munmap frees them with free_pgtables() once the VMAs are
 * gone.
 */
void unmap_page_range(struct mmu_gather *tlb, struct vm_area_struct *vma,
		      unsigned long addr, unsigned long end)
{
	__unmap_page_range(tlb, vma, addr, end, NULL);
}

/* __unmap_page_range() over the part of vma inside [start, end), if any. */
static void unmap_single_vma(struct mmu_gather *tlb,
			     struct vm_area_struct *vma, unsigned long start,
			     unsigned long end, const struct zap_details *details)
{
	start = max(start, vma->vm_start);
	end = min(end, vma->vm_end);
	if (start >= end)
		return;
	__unmap_page_range(tlb, vma, start, end, details);
}

/*
 * Zap [start, end) in every VMA from vma on (along vm_next) that meets
 * it.  The caller holds the mmap lock (for writing when the VMAs are
 * going away) and finishes the gather.
 */
void unmap_vmas(struct mmu_gather *tlb, struct vm_area_struct *vma,
		unsigned long start, unsigned long end)
{
	for (; vma && vma->vm_start < end; vma = vma->vm_next)
		unmap_single_vma(tlb, vma, start, end, NULL);
}

/*
 * Zap the pages of [address, address + size) of vma: the VMA stays, a
 * later access faults in fresh pages.  With details->reclaim_pt, the PTE
 * tables emptied (those that map only this range) go too.  The caller
 * holds the mmap lock (for reading is enough).
 */
void zap_page_range_single_details(struct vm_area_struct *vma,
				   unsigned long address, unsigned long size,
				   const struct zap_details *details)
{
	unsigned long end = address + size;
	struct mmu_gather tlb;

	zap_assert_locked(vma);
	if (end < address)	/* wrapped: nothing sensible to zap */
		return;
	tlb_gather_mmu(&tlb, vma->vm_mm);
	unmap_single_vma(&tlb, vma, address, end, details);
	tlb_finish_mmu(&tlb);
}

/* The same, clearing PTEs only: every table stays. */
void zap_page_range_single(struct vm_area_struct *vma, unsigned long address,
			   unsigned long size)
{
	zap_page_range_single_details(vma, address, size, NULL);
}

/* --- unmap_mapping_range ------------------------------------------------------------ */

/*
 * Zap the pages of [first, last] of the file in every VMA that maps some
 * of them (unmap_mapping_range_tree).  The VMAs may be of any mm; we hold
 * none of their mmap locks, only i_mmap_rwsem, which keeps each VMA on the
 * list, at its place, with its tables (munmap unlinks a VMA from i_mmap
 * before it frees them, and __vma_adjust changes a range under the lock
 * held for writing).  Each zap writes the VMA's vm_sequence, after our
 * i_mmap_rwsem: the order __vma_adjust() must keep too (race 2).
 */
static void unmap_mapping_range_list(struct address_space *mapping,
				     unsigned long first, unsigned long last,
				     const struct zap_details *details)
{
	struct vm_area_struct *vma;

	lockdep_assert_held(&mapping->i_mmap_rwsem);
	list_for_each_entry(vma, &mapping->i_mmap, shared) {
		unsigned long vba = vma->vm_pgoff;
		unsigned long vea = vba + vma_pages(vma) - 1;
		unsigned long zba = max(first, vba), zea = min(last, vea);

		if (zba > zea)
			continue;
		zap_page_range_single_details(vma,
			vma->vm_start + ((zba - vba) << PAGE_SHIFT),
			(zea - zba + 1) << PAGE_SHIFT, details);
	}
}

void unmap_mapping_pages(struct address_space *mapping, unsigned long start,
			 unsigned long nr, bool even_cows)
{
	struct zap_details details = {
		.zap_mapping = mapping, .even_cows = even_cows,
	};
	unsigned long last = start + nr - 1;

	if (last < start)	/* nr 0, or past the largest index */
		last = ULONG_MAX;
	i_mmap_lock_read(mapping);
	unmap_mapping_range_list(mapping, start, last, &details);
	i_mmap_unlock_read(mapping);
}

/*
 * Bytes to pages as the kernel rounds them: the first page that holds
 * holebegin, and enough pages to cover holelen from there.
 */
void unmap_mapping_range(struct address_space *mapping,
			 unsigned long holebegin, unsigned long holelen,
			 int even_cows)
{
	unsigned long hba = holebegin >> PAGE_SHIFT;
	unsigned long hlen = (holelen >> PAGE_SHIFT) +
			     !!(holelen & ~PAGE_MASK);

	unmap_mapping_pages(mapping, hba, hlen, even_cows);
}

/* --- fork ---------------------------------------------------------------------------- */

/*
 * Copy one non-none PTE of the parent (copy_present_pte).  A page gets one
 * more mapping and reference, and stops being exclusive to the parent; in
 * a COW mapping a writable PTE is write-protected in both, so that the
 * first write on either side copies.  The zero page is copied as it is.
 * Both PTE locks are held.
 */
static void copy_present_pte(struct vm_area_struct *dst_vma,
			     struct vm_area_struct *src_vma, pte_t *dst_pte,
			     pte_t *src_pte, unsigned long addr, int *rss)
{
	struct mm_struct *src_mm = src_vma->vm_mm;
	pte_t pte = ptep_get(src_pte);
	struct page *page;

	page = vm_normal_page(src_vma, addr, pte);
	if (page) {
		get_page(page);
		page_dup_rmap(page);
		if (PageAnon(page))
			ClearPageFlag(page, PG_anon_exclusive);
		rss[mm_counter(page)]++;
	}
	if (is_cow_mapping(src_vma->vm_flags) && pte_write(pte)) {
		/* The parent's TLBs are flushed by dup_mmap, after the copy. */
		ptep_set_wrprotect(src_mm, addr, src_pte);
		pte = pte_wrprotect(pte);
	}
	/* A shared mapping's page is clean in the child. */
	if (src_vma->vm_flags & VM_SHARED)
		pte = pte_mkclean(pte);
	pte = pte_mkold(pte);
	set_pte_at(dst_vma->vm_mm, addr, dst_pte, pte);
}

/*
 * Copy the PTEs of [addr, end), all in the table *src_pmd points to, into
 * the child's table *dst_pmd (allocated if missing).  Takes the parent's
 * PTE lock, then the child's (the child is not running yet: no other
 * order can exist).  0 or -ENOMEM.
 */
static int copy_pte_range(struct vm_area_struct *dst_vma,
			  struct vm_area_struct *src_vma, pmd_t *dst_pmd,
			  pmd_t *src_pmd, unsigned long addr,
			  unsigned long end)
{
	struct mm_struct *dst_mm = dst_vma->vm_mm;
	struct mm_struct *src_mm = src_vma->vm_mm;
	int rss[NR_MM_COUNTERS] = { 0 };
	pte_t *src_pte, *dst_pte, *orig_src_pte, *orig_dst_pte;
	spinlock_t *src_ptl, *dst_ptl;

	if (pmd_none(pmdp_get(dst_pmd)) && __pte_alloc(dst_mm, dst_pmd))
		return -ENOMEM;
	orig_src_pte = src_pte = pte_offset_map_lock(src_mm, src_pmd, addr,
						     &src_ptl);
	if (!src_pte)
		return 0;	/* the table went away: nothing to copy */
	orig_dst_pte = dst_pte = pte_offset_map_lock(dst_mm, dst_pmd, addr,
						     &dst_ptl);
	if (!dst_pte) {
		pte_unmap_unlock(orig_src_pte, src_ptl);
		return -ENOMEM;
	}
	do {
		if (pte_none(ptep_get(src_pte)))
			continue;
		copy_present_pte(dst_vma, src_vma, dst_pte, src_pte, addr, rss);
	} while (dst_pte++, src_pte++, addr += PAGE_SIZE, addr != end);

	add_mm_rss_vec(dst_mm, rss);
	pte_unmap_unlock(orig_dst_pte, dst_ptl);
	pte_unmap_unlock(orig_src_pte, src_ptl);
	return 0;
}

static int copy_pmd_range(struct vm_area_struct *dst_vma,
			  struct vm_area_struct *src_vma, pud_t *src_pud,
			  unsigned long addr, unsigned long end)
{
	pmd_t *src_pmd = pmd_offset(src_pud, addr), *dst_pmd;
	unsigned long next;

	do {
		next = pt_addr_end(addr, end, PMD_SHIFT);
		if (pmd_none(pmdp_get(src_pmd)))
			continue;
		dst_pmd = mm_alloc_pmd(dst_vma->vm_mm, addr);
		if (!dst_pmd)
			return -ENOMEM;
		if (copy_pte_range(dst_vma, src_vma, dst_pmd, src_pmd, addr,
				   next))
			return -ENOMEM;
	} while (src_pmd++, addr = next, addr != end);
	return 0;
}

static int copy_pud_range(struct vm_area_struct *dst_vma,
			  struct vm_area_struct *src_vma, p4d_t *src_p4d,
			  unsigned long addr, unsigned long end)
{
	pud_t *src_pud = pud_offset(src_p4d, addr);
	unsigned long next;

	do {
		next = pt_addr_end(addr, end, PUD_SHIFT);
		if (pud_none(pudp_get(src_pud)))
			continue;
		if (copy_pmd_range(dst_vma, src_vma, src_pud, addr, next))
			return -ENOMEM;
	} while (src_pud++, addr = next, addr != end);
	return 0;
}

static int copy_p4d_range(struct vm_area_struct *dst_vma,
			  struct vm_area_struct *src_vma, pgd_t *src_pgd,
			  unsigned long addr, unsigned long end)
{
	struct mm_struct *src_mm = src_vma->vm_mm;
	p4d_t *src_p4d = p4d_offset(src_mm, src_pgd, addr);
	unsigned long next;

	do {
		next = pt_addr_end(addr, end, p4d_shift(src_mm));
		if (p4d_none(p4dp_get(src_p4d)))
			continue;
		if (copy_pud_range(dst_vma, src_vma, src_p4d, addr, next))
			return -ENOMEM;
	} while (src_p4d++, addr = next, addr != end);
	return 0;
}

/*
 * fork: copy src_vma's PTEs into dst_vma's mm at the same addresses
 * (copy_page_range).  Private anonymous pages end up shared read-only
 * (COW) by both mms; the caller flushes the parent's TLBs once the whole
 * mm is copied.  0 or -ENOMEM (the child keeps what was copied, counted,
 * for its exit_mmap to undo).  Both mms are write-locked.
 */
int copy_page_range(struct vm_area_struct *dst_vma,
		    struct vm_area_struct *src_vma)
{
	struct mm_struct *src_mm = src_vma->vm_mm;
	unsigned long addr = src_vma->vm_start, end = src_vma->vm_end, next;
	pgd_t *src_pgd;

	mmap_assert_write_locked(src_mm);
	mmap_assert_write_locked(dst_vma->vm_mm);
	VM_BUG_ON(dst_vma->vm_start != addr || dst_vma->vm_end != end);
	src_pgd = pgd_offset(src_mm, addr);
	do {
		next = pt_addr_end(addr, end, pgdir_shift(src_mm));
		if (pgd_none(pgdp_get(src_pgd)))
			continue;
		if (copy_p4d_range(dst_vma, src_vma, src_pgd, addr, next))
			return -ENOMEM;
	} while (src_pgd++, addr = next, addr != end);
	return 0;
}

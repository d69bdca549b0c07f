// SPDX-License-Identifier: MIT
/*
 * spf-srcu: speculative page faults as in Laurent Dufour's RFC v5 (the
 * series of docs/strategies.md, patches 02-10).
 *
 * Write side: every change of what a fault reads of a VMA is bracketed by
 * vm_sequence (vm_write_begin/end), every change of the VMA tree by the
 * mm_seq seqlock, and VMAs are freed after an SRCU grace period, with
 * their file reference, so a lockless reader that found one can still
 * look at it.
 *
 * Fault side (handle_speculative_fault): inside the SRCU read side, find
 * the VMA without the mmap lock (find_vma_srcu), sample its vm_sequence,
 * check that the fault can be handled there, walk the page tables with
 * interrupts off without allocating, and run the classic handlers with
 * FAULT_FLAG_SPECULATIVE; they lock the PTE only if nothing changed since
 * (pte_map_lock, pte_spinlock in src/mm/memory.c).  Anything unexpected
 * gives up with VM_FAULT_RETRY, counting why (the series' trace events),
 * and the arch handler takes the classic path.
 */
#include <stdlib.h>

#include <mmsim/cpu.h>
#include <mmsim/mutant.h>
#include <mmsim/rcupdate.h>
#include <mmsim/sched.h>
#include <mmsim/strategy.h>

#include "mm/internal.h"

/* The SRCU domain of VMAs (the series' vma_srcu). */
DEFINE_SRCU(vma_srcu);

/*
 * Writers of vm_sequence.  Changes of a VMA hold the mmap lock for
 * writing.  Two writers hold less: munmap zaps the pages of the VMAs it
 * took out of the tree after downgrading to the read lock, as the kernel
 * does since 4.20 (the series, on 4.12, zapped under the write lock); and
 * unmap_mapping_range() zaps the VMAs of a file holding only the file's
 * i_mmap_rwsem, as in the series (and docs/races.md race 2).  The last may run
 * beside any other writer, and beside itself.
 *
 * So sections nest and may overlap (vm_write_nest; the series' seqcount
 * did neither, and two of its writers at once could lose an increment):
 * the count turns odd when the first section opens and even when the
 * last one closes, both under vm_sequence_lock, so it is odd while any
 * writer is inside.  mremap's move_vma keeps the source's section open
 * until munmap has taken it out of the tree, and that munmap opens and
 * closes its own sections on the same VMA (split, zap).
 */
static void spf_assert_may_write(struct vm_area_struct *vma)
{
	struct mm_struct *mm = vma->vm_mm;

	if (vma_i_mmap_held_by_me(vma))
		return;
	mmap_assert_locked(mm);
	VM_BUG_ON(!rwsem_is_write_locked_by_me(&mm->mmap_lock) &&
		  !RB_EMPTY_NODE(&vma->vm_rb));
}

static void spf_vma_write_begin(struct vm_area_struct *vma)
{
	spf_assert_may_write(vma);
	spin_lock(&vma->vm_sequence_lock);
	if (vma->vm_write_nest++ == 0)
		raw_write_seqcount_begin(&vma->vm_sequence);
	spin_unlock(&vma->vm_sequence_lock);
}

static void spf_vma_write_end(struct vm_area_struct *vma)
{
	spin_lock(&vma->vm_sequence_lock);
	VM_BUG_ON(vma->vm_write_nest == 0);
	if (--vma->vm_write_nest == 0)
		raw_write_seqcount_end(&vma->vm_sequence);
	spin_unlock(&vma->vm_sequence_lock);
}

/* A writer keeps VMAs it unmaps until it is done with them. */
static int spf_vma_free_defer_begin(void)
{
	return srcu_read_lock(&vma_srcu);
}

static void spf_vma_free_defer_end(int idx)
{
	srcu_read_unlock(&vma_srcu, idx);
}

static void spf_tree_write_begin(struct mm_struct *mm)
{
	write_seqlock(&mm->mm_seq);
}

static void spf_tree_write_end(struct mm_struct *mm)
{
	write_sequnlock(&mm->mm_seq);
}

static void __spf_vma_free(struct rcu_head *head)
{
	struct vm_area_struct *vma = (struct vm_area_struct *)
		((char *)head - offsetof(struct vm_area_struct, vm_rcu));

	vma_put_file(vma);
	__vm_area_free(&spf_srcu_strategy, vma);
}

/*
 * A lockless reader may still hold vma: free it (and drop its file) once
 * every SRCU reader that could have found it is gone.
 */
static void spf_vma_free(struct vm_area_struct *vma)
{
	if (mmsim_mutant_is(MUTANT_NO_GRACE_PERIOD)) {
		__spf_vma_free(&vma->vm_rcu);
		return;
	}
	call_srcu(&vma_srcu, &vma->vm_rcu, __spf_vma_free);
}

/* --- the fault side ------------------------------------------------------ */

/*
 * The series' find_vma_srcu(): the lockless walk, retried on mm_seq (the
 * writers store every link and bound with WRITE_ONCE).
 */
struct vm_area_struct *find_vma_srcu(struct mm_struct *mm, unsigned long addr)
{
	return find_vma_lockless(mm, addr, &mm->mm_seq.seqcount);
}

/* VMAs whose faults need more than anonymous pages (or userfaultfd). */
#define SPF_VM_NOTSUP	(VM_SHARED | VM_MAYSHARE | VM_SPECIAL | \
			 VM_HUGETLB | VM_UFFD_MISSING)

/*
 * Is the VMA one whose faults we handle speculatively: anonymous and
 * private (no vm_ops, no file)?  The fields are read once each; the
 * caller validates them all with vm_sequence.
 */
static bool spf_vma_supported(struct vm_area_struct *vma,
			      unsigned long vm_flags)
{
	return !READ_ONCE(vma->vm_ops) && !READ_ONCE(vma->vm_file) &&
	       !(vm_flags & SPF_VM_NOTSUP);
}

/*
 * Walk mm's page tables to the PMD entry of address without allocating
 * anything (the gup_fast walk).  Each level is read once and the next
 * table found from that value, never by reading the entry again.  The
 * caller has interrupts disabled, which keeps every table we reach
 * allocated.  Returns the PMD entry and its value (*pmdval), or NULL if a
 * level is missing: the first fault in a PMD goes the classic way, which
 * allocates under the mmap lock (a table allocated here after
 * free_pgtables() ran would never be freed).
 */
static pmd_t *spf_walk_pmd(struct mm_struct *mm, unsigned long address,
			   pmd_t *pmdval)
{
	pgd_t *pgd = pgd_offset(mm, address);
	pgd_t pgdval = pgdp_get(pgd);
	p4d_t *p4d, p4dval;
	pud_t *pud, pudval;
	pmd_t *pmd;

	if (!pgd_present(pgdval))
		return NULL;
	if (pgtable_l5_enabled(mm)) {
		p4d = (p4d_t *)page_address(pgd_page(pgdval)) +
		      p4d_index(address);
		p4dval = p4dp_get(p4d);
	} else {
		p4dval = (p4d_t){ pgdval.pgd };		/* folded */
	}
	if (!p4d_present(p4dval))
		return NULL;
	pud = (pud_t *)page_address(p4d_page(p4dval)) + pud_index(address);
	pudval = pudp_get(pud);
	if (!pud_present(pudval))
		return NULL;
	pmd = (pmd_t *)page_address(pud_page(pudval)) + pmd_index(address);
	*pmdval = pmdp_get(pmd);
	if (pmd_none(*pmdval) || pmd_bad(*pmdval))
		return NULL;
	return pmd;
}

/*
 * The mutant spf-pte-alloc: the walk allocates missing tables as the
 * classic one does, which leaks a table allocated after free_pgtables()
 * emptied the range of a VMA that was being unmapped.
 */
static pmd_t *spf_walk_pmd_alloc(struct mm_struct *mm, unsigned long address,
				 pmd_t *pmdval)
{
	pmd_t *pmd = mm_alloc_pmd(mm, address);

	if (!pmd)
		return NULL;
	if (pmd_none(pmdp_get(pmd)) && __pte_alloc(mm, pmd))
		return NULL;
	*pmdval = pmdp_get(pmd);
	if (pmd_none(*pmdval) || pmd_bad(*pmdval))
		return NULL;
	return pmd;
}

/*
 * Find the PMD of vmf->address and read the PTE, with interrupts off so
 * that the tables stay (see spf_walk_pmd).  vma: the VMA just validated.  Fills vmf->pmd, orig_pmd, pte
 * (NULL when the PTE is none) and orig_pte.  False if a level is missing.
 */
static bool spf_read_pte(struct mm_struct *mm, struct vm_area_struct *vma,
			 struct vm_fault *vmf)
{
	/*
	 * The VMA was valid a moment ago; munmap may take it out of the tree
	 * and free its tables (free_pgtables) before we walk.  The walk only
	 * reads, and pte_map_lock() will see the VMA changed; a walk that
	 * allocated (the mutant) would hang a table under no VMA.
	 */
	mmsim_sched_point(SCHED_FAULT_WALK, vma);
	local_irq_disable();
	if (unlikely(mmsim_mutant_is(MUTANT_SPF_PTE_ALLOC)))
		vmf->pmd = spf_walk_pmd_alloc(mm, vmf->address, &vmf->orig_pmd);
	else
		vmf->pmd = spf_walk_pmd(mm, vmf->address, &vmf->orig_pmd);
	if (!vmf->pmd) {
		local_irq_enable();
		return false;
	}
	vmf->pte = pte_offset_kernel(vmf->orig_pmd, vmf->address);
	vmf->orig_pte = ptep_get(vmf->pte);
	local_irq_enable();
	/* From here to pte_map_lock(), the tables may change under us. */
	mmsim_sched_point(SCHED_PTE, vmf->pte);
	if (pte_none(vmf->orig_pte)) {
		pte_unmap(vmf->pte);
		vmf->pte = NULL;
	}
	return true;
}

/*
 * Handle a user fault of mm at address without the mmap lock (SPF RFC
 * v5 patch 08, with the trylock of patch 09).  The calling CPU runs mm (it is
 * in mm_cpumask(mm), so shootdowns wait for it) and holds no lock.
 *
 * Returns the handlers' VM_FAULT_* bits, or VM_FAULT_RETRY when it gave
 * up: a single-threaded mm (nothing to gain, and nobody to race with), a
 * VMA that changed or is not anonymous private with an anon_vma, an access
 * the VMA refuses (the classic path delivers the signal), a PMD to
 * allocate, a PTE lock to wait for.  Each reason is counted.
 */
vm_fault_t handle_speculative_fault(struct mm_struct *mm,
				    unsigned long address, unsigned int flags)
{
	struct vm_fault vmf = {
		.address = address & PAGE_MASK,
		.real_address = address,
	};
	struct vm_area_struct *vma;
	unsigned long vm_start, vm_end;
	unsigned int abort;
	vm_fault_t ret;
	unsigned int seq;
	int idx;

	count_fault_event(SPF_ATTEMPT);
	if (atomic_load_explicit(&mm->mm_users, memory_order_relaxed) == 1) {
		count_fault_event(SPF_SINGLE_THREAD);
		return VM_FAULT_RETRY;
	}
	VM_BUG_ON(!cpumask_test_cpu(smp_processor_id(), mm_cpumask(mm)));
	/* Without the mmap lock there is no lock to drop and retry with. */
	flags &= ~(FAULT_FLAG_ALLOW_RETRY | FAULT_FLAG_KILLABLE);
	flags |= FAULT_FLAG_SPECULATIVE;

	idx = srcu_read_lock(&vma_srcu);
	vma = find_vma_srcu(mm, address);
	if (!vma) {
		abort = SPF_VMA_NOTSUP;	/* the classic path: SIGSEGV */
		goto out_abort;
	}
	mmsim_sched_point(SCHED_FAULT_LOOKUP, vma);

	/* Odd: a writer is changing it.  Cleared node: out of the tree. */
	seq = raw_read_seqcount(&vma->vm_sequence);
	if ((seq & 1) || RB_EMPTY_NODE(&vma->vm_rb)) {
		abort = SPF_VMA_CHANGED;
		goto out_abort;
	}
	/*
	 * A snapshot of what the handlers need from the VMA, validated as a
	 * whole by the vm_sequence retry below.
	 */
	vmf.vma_flags = READ_ONCE(vma->vm_flags);
	vmf.vma_page_prot.pgprot = READ_ONCE(vma->vm_page_prot.pgprot);
	vm_start = READ_ONCE(vma->vm_start);
	vm_end = READ_ONCE(vma->vm_end);
	vmf.pgoff = ((vmf.address - vm_start) >> PAGE_SHIFT) +
		    READ_ONCE(vma->vm_pgoff);
	/* Below a stack VMA: expand_stack() needs the mmap lock. */
	if (address < vm_start || address >= vm_end) {
		abort = SPF_VMA_NOTSUP;
		goto out_abort;
	}
	if (!spf_vma_supported(vma, vmf.vma_flags)) {
		abort = SPF_VMA_NOTSUP;
		goto out_abort;
	}
	/* The first write fault prepares it, under the mmap lock. */
	if (!__atomic_load_n(&vma->anon_vma, __ATOMIC_ACQUIRE)) {
		abort = SPF_VMA_NOANON;
		goto out_abort;
	}
	if (fault_access_error(flags, vmf.vma_flags)) {
		abort = SPF_VMA_ACCESS;
		goto out_abort;
	}
	/* Bounds and flags belong together only if no writer ran since. */
	if (read_seqcount_retry(&vma->vm_sequence, seq)) {
		abort = SPF_VMA_CHANGED;
		goto out_abort;
	}

	if (!spf_read_pte(mm, vma, &vmf)) {
		abort = SPF_PMD_CHANGED;
		goto out_abort;
	}
	vmf.vma = vma;
	vmf.sequence = seq;
	vmf.flags = flags;
	/* Gives up (counting why) in pte_map_lock()/pte_spinlock(). */
	ret = handle_pte_fault(&vmf);
	if (!(ret & (VM_FAULT_RETRY | VM_FAULT_ERROR))) {
		count_fault_event(SPF_COMPLETED);
		atomic_fetch_add_explicit(&this_cpu()->nr_faults, 1,
					  memory_order_relaxed);
	}
	srcu_read_unlock(&vma_srcu, idx);
	return ret;

out_abort:
	count_fault_event(abort);
	srcu_read_unlock(&vma_srcu, idx);
	return VM_FAULT_RETRY;
}

static const char *const spf_event_names[] = {
	[SPF_ATTEMPT - FAULT_STRATEGY_EVENTS] = "spf_attempt",
	[SPF_COMPLETED - FAULT_STRATEGY_EVENTS] = "spf_completed",
	[SPF_VMA_CHANGED - FAULT_STRATEGY_EVENTS] = "spf_vma_changed",
	[SPF_VMA_NOANON - FAULT_STRATEGY_EVENTS] = "spf_vma_noanon",
	[SPF_VMA_NOTSUP - FAULT_STRATEGY_EVENTS] = "spf_vma_notsup",
	[SPF_VMA_ACCESS - FAULT_STRATEGY_EVENTS] = "spf_vma_access",
	[SPF_PMD_CHANGED - FAULT_STRATEGY_EVENTS] = "spf_pmd_changed",
	[SPF_PTE_LOCK - FAULT_STRATEGY_EVENTS] = "spf_pte_lock",
	[SPF_SINGLE_THREAD - FAULT_STRATEGY_EVENTS] = "spf_single_thread",
};

#define SPF_ABORTS	(1UL << SPF_VMA_CHANGED | 1UL << SPF_VMA_NOANON | \
			 1UL << SPF_VMA_NOTSUP | 1UL << SPF_VMA_ACCESS | \
			 1UL << SPF_PMD_CHANGED | 1UL << SPF_PTE_LOCK)

const struct fault_strategy spf_srcu_strategy = {
	.name = "spf-srcu",
	.help = "speculative faults, SPF RFC v5 (vm_sequence, mm_seq, SRCU)",
	.lockless_fault = handle_speculative_fault,
	.vm_write_begin = spf_vma_write_begin,
	.vm_write_end = spf_vma_write_end,
	.tree_write_begin = spf_tree_write_begin,
	.tree_write_end = spf_tree_write_end,
	.vma_free = spf_vma_free,
	.vma_free_defer_begin = spf_vma_free_defer_begin,
	.vma_free_defer_end = spf_vma_free_defer_end,
	.events = spf_event_names,
	.nr_events = NR_SPF_EVENTS - FAULT_STRATEGY_EVENTS,
	.event_lockless = SPF_COMPLETED,
	.abort_events = SPF_ABORTS,
};

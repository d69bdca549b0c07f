// SPDX-License-Identifier: MIT
/*
 * The core's mutants and the one that runs (see <mmsim/mutant.h>).
 * Selecting one by name, among the strategies' too, is in
 * src/mm/strategy.c, which knows the strategies.
 */
#include <mmsim/mutant.h>

/* The strategies with VMA write locks. */
#define VMA_LOCKS	"per-vma-lock per-vma-refcnt"

const struct mmsim_mutant_desc mmsim_core_mutants[NR_MUTANTS] = {
	[MUTANT_NONE] = { "none", "the correct code" },
	[MUTANT_NO_REMOTE_FLUSH] = { "no-remote-flush",
		"TLB flushes skip the shootdown IPIs (stale translations)" },
	[MUTANT_FREE_BEFORE_FLUSH] = { "free-before-flush",
		"mmu_gather frees pages before the TLB flush (use after free)" },
	[MUTANT_PTE_SPIN_IRQOFF] = { "pte-spin-irqoff",
		"PTE lock with interrupts off spins, no trylock (race 1: deadlock)",
		"spf-srcu" },
	[MUTANT_LAZY_TLB_NO_FLUSH] = { "lazy-tlb-no-flush",
		"a CPU waking from lazy TLB mode skips the flush it owes" },
	[MUTANT_RWSEM_NO_READER_TURN] = { "rwsem-no-reader-turn",
		"readers waiting on an rw_semaphore get no turn when a writer leaves" },
	[MUTANT_NO_SECOND_VMA_CHECK] = { "no-second-vma-check",
		"pte_map_lock does not recheck vma_has_changed under the lock",
		"spf-srcu" },
	[MUTANT_NO_SEQ_MPROTECT] = { "no-seq-mprotect",
		"mprotect changes a VMA without writing vm_sequence", "spf-srcu" },
	[MUTANT_NO_SEQ_UNMAP] = { "no-seq-unmap",
		"unmap_page_range zaps without writing vm_sequence", "spf-srcu" },
	[MUTANT_RB_CLEAR_EARLY] = { "rb-clear-early",
		"RB_CLEAR_NODE before the mm_seq write of the erase", "spf-srcu" },
	[MUTANT_NO_GRACE_PERIOD] = { "no-grace-period",
		"VMAs freed at once, without an SRCU grace period", "spf-srcu" },
	[MUTANT_NO_PMD_SAME] = { "no-pmd-same",
		"the speculative PTE lock does not check pmd_same(orig_pmd)",
		"spf-srcu" },
	[MUTANT_SPF_PTE_ALLOC] = { "spf-pte-alloc",
		"the speculative walk allocates page tables", "spf-srcu" },
	[MUTANT_NO_FINAL_PTE_SAME] = { "no-final-pte-same",
		"no pte_same() recheck under the PTE lock", "spf-srcu" },
	[MUTANT_SEQ_BEFORE_MAPPING_LOCK] = { "seq-before-mapping-lock",
		"__vma_adjust begins vm_sequence before i_mmap_rwsem (race 2)",
		"spf-srcu" },
	[MUTANT_MREMAP_SECTION_EARLY] = { "mremap-section-early",
		"mremap ends the source's vm_sequence before unmapping it",
		"spf-srcu" },
	[MUTANT_FORK_NO_VMA_WRITE] = { "fork-no-vma-write",
		"fork copies the parent's VMAs without write-locking them (race 5)",
		VMA_LOCKS },
	[MUTANT_STACK_NO_VMA_WRITE] = { "stack-no-vma-write",
		"the stack VMA grows without its write lock (race 7)", VMA_LOCKS },
	[MUTANT_MMAP_PUBLISH_EARLY] = { "mmap-publish-early",
		"mmap_region links a new VMA before write-locking it (race 8)",
		VMA_LOCKS },
	[MUTANT_MERGE_NO_VMA_WRITE] = { "merge-no-vma-write",
		"a merge changes a neighbour it did not write-lock (race 10)",
		VMA_LOCKS },
};

const struct mmsim_mutant_desc *mmsim_active_mutant =
	&mmsim_core_mutants[MUTANT_NONE];

void mmsim_mutant_select(const struct mmsim_mutant_desc *m)
{
	if (!m)
		m = &mmsim_core_mutants[MUTANT_NONE];
	__atomic_store_n(&mmsim_active_mutant, m, __ATOMIC_RELAXED);
}

/* SPDX-License-Identifier: MIT */
/*
 * Mutants: deliberately broken variants of the machinery, each putting one
 * known bug back, so that a test can show it would catch that bug.
 *
 * A mutant is chosen at run time (mmsim stress --mutant NAME, or a test).
 * Each check sits on a slow path (once per TLB flush, once per gather
 * batch), never in the per-access or per-PTE hot path.
 */
#ifndef MMSIM_MUTANT_H
#define MMSIM_MUTANT_H

#include <stdbool.h>

enum mmsim_mutant {
	MUTANT_NONE,
	/* flush_tlb_mm_range() flushes only the local TLB: no shootdown IPIs. */
	MUTANT_NO_REMOTE_FLUSH,
	/* The mmu_gather frees pages before flushing the TLBs. */
	MUTANT_FREE_BEFORE_FLUSH,
	/*
	 * races.md race 1: a PTE lock taken with interrupts disabled spins
	 * instead of giving up (spin_trylock) — a CPU waiting for our IPI
	 * acknowledgement while holding that lock deadlocks with us.
	 */
	MUTANT_PTE_SPIN_IRQOFF,
	/*
	 * A CPU that slept on a rw_semaphore in lazy TLB mode wakes without
	 * flushing, though a shootdown skipped it meanwhile.
	 */
	MUTANT_LAZY_TLB_NO_FLUSH,
	/*
	 * The rw_semaphore gives waiting readers no turn when a writer
	 * leaves: a stream of writers starves them (mmsim's old lock).
	 */
	MUTANT_RWSEM_NO_READER_TURN,
	/* The speculative fault's historical bugs (seed 001, races.md). */
	MUTANT_NO_SECOND_VMA_CHECK,	/* pte_map_lock skips vma_has_changed after locking */
	MUTANT_NO_SEQ_MPROTECT,		/* mprotect does not write vm_sequence */
	MUTANT_NO_SEQ_UNMAP,		/* unmap_page_range does not write vm_sequence */
	MUTANT_RB_CLEAR_EARLY,		/* RB_CLEAR_NODE before the mm_seq write */
	MUTANT_NO_GRACE_PERIOD,		/* VMAs freed without an SRCU grace period */
	MUTANT_NO_PMD_SAME,		/* pte_map_lock does not check pmd_same */
	MUTANT_SPF_PTE_ALLOC,		/* the speculative walk allocates page tables */
	MUTANT_NO_FINAL_PTE_SAME,	/* no pte_same() recheck under the PTE lock */
	MUTANT_SEQ_BEFORE_MAPPING_LOCK,	/* race 2: vm_sequence begun before i_mmap_rwsem */
	/*
	 * mremap ends the source's vm_sequence section before it unmaps the
	 * source, as the series did: a speculative store between the two is
	 * lost (mmsim's stress test found it).
	 */
	MUTANT_MREMAP_SECTION_EARLY,
	NR_MUTANTS
};

extern enum mmsim_mutant mmsim_mutant;

static inline bool mmsim_mutant_is(enum mmsim_mutant m)
{
	return __builtin_expect(__atomic_load_n(&mmsim_mutant,
						__ATOMIC_RELAXED) == m, 0);
}

/* Kebab-case names ("no-remote-flush"); "none" for MUTANT_NONE. */
const char *mmsim_mutant_name(enum mmsim_mutant m);
/* Select by name; returns 0, or -EINVAL for an unknown name. */
int mmsim_set_mutant(const char *name);
/* One-line description of each, for --help. */
const char *mmsim_mutant_help(enum mmsim_mutant m);

#endif /* MMSIM_MUTANT_H */

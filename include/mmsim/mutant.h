/* SPDX-License-Identifier: MIT */
/*
 * Mutants: deliberately broken variants of the machinery, each putting one
 * known bug back, so that a test can show it would catch that bug.
 *
 * A mutant is chosen at run time (mmsim stress --mutant NAME, or a test).
 * Mutants of the core (this enum) sit at call sites any strategy shares;
 * a strategy's own are declared in its file (struct fault_strategy).
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
	 * docs/races.md race 1: a PTE lock taken with interrupts disabled spins
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
	/* The speculative fault's historical bugs (SPF RFC v5, docs/races.md). */
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
	/*
	 * The VMA write locks' historical bugs (Linux 6.4, docs/races.md):
	 * sites that change a VMA without vma_start_write().
	 */
	MUTANT_FORK_NO_VMA_WRITE,	/* race 5: fork leaves the parent's VMAs unlocked */
	MUTANT_STACK_NO_VMA_WRITE,	/* race 7: the stack grows without the VMA lock */
	MUTANT_MMAP_PUBLISH_EARLY,	/* race 8: a new VMA linked before it is locked */
	MUTANT_MERGE_NO_VMA_WRITE,	/* race 10: a merge changes a VMA it did not lock */
	NR_MUTANTS
};

/*
 * One mutant: its name (kebab-case, "no-remote-flush"), a line for
 * --help, and, for a mutant of the core, the strategies it applies to
 * (stress and explore refuse the others): NULL for every strategy,
 * "lockless" for every strategy with a lockless fault side, or names
 * separated by spaces.  A strategy's own mutants (struct
 * fault_strategy's mutants[]) apply to it alone.
 */
struct mmsim_mutant_desc {
	const char *name;
	const char *help;
	const char *strategies;
};

/* The core's mutants, indexed by enum mmsim_mutant. */
extern const struct mmsim_mutant_desc mmsim_core_mutants[NR_MUTANTS];
/* The one that runs (&mmsim_core_mutants[MUTANT_NONE] for none). */
extern const struct mmsim_mutant_desc *mmsim_active_mutant;

static inline bool mmsim_mutant_active(const struct mmsim_mutant_desc *m)
{
	return __builtin_expect(__atomic_load_n(&mmsim_active_mutant,
						__ATOMIC_RELAXED) == m, 0);
}

static inline bool mmsim_mutant_is(enum mmsim_mutant m)
{
	return mmsim_mutant_active(&mmsim_core_mutants[m]);
}

static inline const char *mmsim_mutant_name(enum mmsim_mutant m)
{
	return m < NR_MUTANTS ? mmsim_core_mutants[m].name : "?";
}

static inline const char *mmsim_mutant_help(enum mmsim_mutant m)
{
	return m < NR_MUTANTS ? mmsim_core_mutants[m].help : "?";
}

/* Run m from now on (NULL: the correct code). */
void mmsim_mutant_select(const struct mmsim_mutant_desc *m);
/*
 * Select by name, among the core's and every registered strategy's
 * mutants; "none" for the correct code.  Returns 0, or -EINVAL for an
 * unknown name.
 */
int mmsim_set_mutant(const char *name);

#endif /* MMSIM_MUTANT_H */

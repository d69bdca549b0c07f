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

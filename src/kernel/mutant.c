// SPDX-License-Identifier: MIT
/*
 * The selected mutant (see <mmsim/mutant.h>).
 */
#include <errno.h>
#include <stdbool.h>
#include <string.h>

#include <mmsim/mutant.h>

enum mmsim_mutant mmsim_mutant = MUTANT_NONE;

static const struct {
	const char *name;
	const char *help;
} mutants[NR_MUTANTS] = {
	[MUTANT_NONE] = { "none", "the correct code" },
	[MUTANT_NO_REMOTE_FLUSH] = { "no-remote-flush",
		"TLB flushes skip the shootdown IPIs (stale translations)" },
	[MUTANT_FREE_BEFORE_FLUSH] = { "free-before-flush",
		"mmu_gather frees pages before the TLB flush (use after free)" },
	[MUTANT_PTE_SPIN_IRQOFF] = { "pte-spin-irqoff",
		"PTE lock with interrupts off spins, no trylock (race 1: deadlock)" },
	[MUTANT_LAZY_TLB_NO_FLUSH] = { "lazy-tlb-no-flush",
		"a CPU waking from lazy TLB mode skips the flush it owes" },
	[MUTANT_RWSEM_NO_READER_TURN] = { "rwsem-no-reader-turn",
		"readers waiting on an rw_semaphore get no turn when a writer leaves" },
	[MUTANT_NO_SECOND_VMA_CHECK] = { "no-second-vma-check",
		"pte_map_lock does not recheck vma_has_changed under the lock" },
	[MUTANT_NO_SEQ_MPROTECT] = { "no-seq-mprotect",
		"mprotect changes a VMA without writing vm_sequence" },
	[MUTANT_NO_SEQ_UNMAP] = { "no-seq-unmap",
		"unmap_page_range zaps without writing vm_sequence" },
	[MUTANT_RB_CLEAR_EARLY] = { "rb-clear-early",
		"RB_CLEAR_NODE before the mm_seq write of the erase" },
	[MUTANT_NO_GRACE_PERIOD] = { "no-grace-period",
		"VMAs freed at once, without an SRCU grace period" },
	[MUTANT_NO_PMD_SAME] = { "no-pmd-same",
		"the speculative PTE lock does not check pmd_same(orig_pmd)" },
	[MUTANT_SPF_PTE_ALLOC] = { "spf-pte-alloc",
		"the speculative walk allocates page tables" },
	[MUTANT_NO_FINAL_PTE_SAME] = { "no-final-pte-same",
		"no pte_same() recheck under the PTE lock" },
	[MUTANT_SEQ_BEFORE_MAPPING_LOCK] = { "seq-before-mapping-lock",
		"__vma_adjust begins vm_sequence before i_mmap_rwsem (race 2)" },
	[MUTANT_MREMAP_SECTION_EARLY] = { "mremap-section-early",
		"mremap ends the source's vm_sequence before unmapping it" },
};

const char *mmsim_mutant_name(enum mmsim_mutant m)
{
	return m < NR_MUTANTS ? mutants[m].name : "?";
}

const char *mmsim_mutant_help(enum mmsim_mutant m)
{
	return m < NR_MUTANTS ? mutants[m].help : "?";
}

int mmsim_set_mutant(const char *name)
{
	for (int m = 0; m < NR_MUTANTS; m++) {
		if (!strcmp(name, mutants[m].name)) {
			__atomic_store_n(&mmsim_mutant, m, __ATOMIC_RELAXED);
			return 0;
		}
	}
	return -EINVAL;
}

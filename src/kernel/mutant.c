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

// SPDX-License-Identifier: MIT
/*
 * The registry of fault-locking strategies, the classic strategy, and the
 * per-CPU fault event counters (see <mmsim/strategy.h>).
 */
#include <stdlib.h>
#include <string.h>

#include <mmsim/strategy.h>

#include "mm/internal.h"

_Static_assert(NR_FAULT_EVENTS <= MMSIM_MAX_FAULT_EVENTS,
	       "struct mmsim_cpu has room for every fault event");

/* The classic strategy frees a VMA at once: only mmap-lock holders see it. */
static void classic_vma_free(struct vm_area_struct *vma)
{
	if (vma->vm_file)
		fput(vma->vm_file);
	vm_area_free(vma);
}

const struct fault_strategy classic_strategy = {
	.name = "classic",
	.vma_free = classic_vma_free,
};

static const struct fault_strategy *const strategies[] = {
	&classic_strategy,
	&spf_srcu_strategy,
};

const char *const fault_strategy_names[] = { "classic", "spf-srcu", NULL };

const struct fault_strategy *fault_strategy_find(const char *name)
{
	for (size_t i = 0; i < sizeof(strategies) / sizeof(strategies[0]); i++)
		if (!strcmp(strategies[i]->name, name))
			return strategies[i];
	return NULL;
}

const struct fault_strategy *fault_strategy_default(void)
{
	const char *name = getenv("MMSIM_STRATEGY");
	const struct fault_strategy *s;

	if (!name || !*name)
		return &classic_strategy;
	s = fault_strategy_find(name);
	BUG_ON(!s);	/* a typo must not silently test the wrong thing */
	return s;
}

/* --- fault events ---------------------------------------------------------- */

const char *const fault_event_names[NR_FAULT_EVENTS] = {
	[FAULT_PAGE_FAULTS] = "page-faults",
	[SPF_ATTEMPT] = "spf_attempt",
	[SPF_COMPLETED] = "spf_completed",
	[SPF_VMA_CHANGED] = "spf_vma_changed",
	[SPF_VMA_NOANON] = "spf_vma_noanon",
	[SPF_VMA_NOTSUP] = "spf_vma_notsup",
	[SPF_VMA_ACCESS] = "spf_vma_access",
	[SPF_PMD_CHANGED] = "spf_pmd_changed",
	[SPF_PTE_LOCK] = "spf_pte_lock",
	[SPF_SINGLE_THREAD] = "spf_single_thread",
};

void count_fault_event(enum fault_event ev)
{
	atomic_fetch_add_explicit(&this_cpu()->fault_events[ev], 1,
				  memory_order_relaxed);
}

void fault_events_read(unsigned long out[NR_FAULT_EVENTS])
{
	memset(out, 0, NR_FAULT_EVENTS * sizeof(out[0]));
	for (int cpu = 0; cpu < NR_CPUS; cpu++)
		for (int ev = 0; ev < NR_FAULT_EVENTS; ev++)
			out[ev] += atomic_load_explicit(
				&mmsim_cpus[cpu].fault_events[ev],
				memory_order_relaxed);
}

void fault_events_reset(void)
{
	for (int cpu = 0; cpu < NR_CPUS; cpu++)
		for (int ev = 0; ev < NR_FAULT_EVENTS; ev++)
			atomic_store_explicit(&mmsim_cpus[cpu].fault_events[ev],
					      0, memory_order_relaxed);
}

/* Counts, right-aligned, with the share of all page faults, as perf stat. */
void fault_events_print(FILE *out, const unsigned long ev[NR_FAULT_EVENTS])
{
	unsigned long total = ev[FAULT_PAGE_FAULTS];

	fprintf(out, "\n Fault events:\n\n");
	for (int i = 0; i < NR_FAULT_EVENTS; i++) {
		fprintf(out, "  %15lu      %-20s", ev[i], fault_event_names[i]);
		if (i != FAULT_PAGE_FAULTS && total)
			fprintf(out, " # %6.2f%% of page-faults",
				100.0 * ev[i] / total);
		fputc('\n', out);
	}
	fputc('\n', out);
}

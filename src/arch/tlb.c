// SPDX-License-Identifier: MIT
/*
 * Per-CPU TLBs and their shootdown (arch/x86/mm/tlb.c).
 *
 * Each CPU caches translations of its active_mm in a small set-associative
 * TLB (struct mmsim_tlb).  Only the CPU itself touches its TLB: lookups and
 * fills happen with its interrupts (soft-)disabled, remote flushes run in
 * its IPI handler, so no lock is needed.  A remote CPU's stale entry
 * survives until that CPU acknowledges the flush IPI, exactly the window
 * that the kernel's flush-then-free order closes.
 *
 * Lazy TLB mode (x86 since 4.19, native_flush_tlb_multi()): a CPU whose
 * task sleeps (waits for a sleeping lock: enter_lazy_tlb() ..
 * leave_lazy_tlb()) runs no user code until it wakes, so a shootdown that
 * frees no page table does not interrupt it; it flushes its whole TLB on
 * waking instead, if a shootdown skipped it meanwhile.  A shootdown that
 * freed tables interrupts every CPU of the mm, lazy or not, as on x86
 * (a sleeping CPU may still hold paging-structure caches).
 */
#include <string.h>

#include <mmsim/cpu.h>
#include <mmsim/mm.h>
#include <mmsim/mutant.h>
#include <mmsim/pgtable.h>
#include <mmsim/tlb.h>

#include "arch/tlb.h"
#include "kernel/bug.h"

/* Above this many pages a range flush empties the whole TLB (x86's ceiling). */
#define TLB_FLUSH_ALL_CEILING	33

struct tlb_entry *tlb_lookup(struct mmsim_tlb *tlb, unsigned long vpn)
{
	struct tlb_entry *set = tlb->set[vpn % TLB_SETS];

	for (int w = 0; w < TLB_WAYS; w++)
		if (set[w].valid && set[w].vpn == vpn)
			return &set[w];
	return NULL;
}

void tlb_fill(struct mmsim_tlb *tlb, unsigned long vpn, unsigned long pte)
{
	unsigned int s = vpn % TLB_SETS;
	struct tlb_entry *set = tlb->set[s];
	int w;

	for (w = 0; w < TLB_WAYS; w++)
		if (!set[w].valid || set[w].vpn == vpn)
			break;
	if (w == TLB_WAYS) {
		w = tlb->next_victim[s];
		tlb->next_victim[s] = (w + 1) % TLB_WAYS;
	}
	set[w].vpn = vpn;
	set[w].pte = pte;
	set[w].valid = true;
}

void tlb_invalidate(struct mmsim_tlb *tlb, unsigned long vpn)
{
	struct tlb_entry *e = tlb_lookup(tlb, vpn);

	if (e)
		e->valid = false;
}

void local_flush_tlb_all(void)
{
	struct mmsim_tlb *tlb = &this_cpu()->tlb;

	for (int s = 0; s < TLB_SETS; s++)
		for (int w = 0; w < TLB_WAYS; w++)
			tlb->set[s][w].valid = false;
	tlb->flushes++;
}

void local_flush_tlb_range(unsigned long start, unsigned long end)
{
	struct mmsim_tlb *tlb = &this_cpu()->tlb;
	unsigned long vpn;

	if (end <= start)
		return;
	if ((end - start) >> PAGE_SHIFT > TLB_FLUSH_ALL_CEILING) {
		local_flush_tlb_all();
		return;
	}
	for (vpn = start >> PAGE_SHIFT; vpn < (end + PAGE_SIZE - 1) >> PAGE_SHIFT; vpn++)
		tlb_invalidate(tlb, vpn);
	tlb->flushes++;
}

/* A CPU's lazy-TLB state: one word, changed by atomic RMWs only. */
enum { TLB_ACTIVE, TLB_LAZY, TLB_LAZY_STALE };

static struct {
	_Alignas(64) atomic_int state;
} cpu_tlbstate[NR_CPUS];

void enter_lazy_tlb(void)
{
	atomic_store_explicit(&cpu_tlbstate[smp_processor_id()].state,
			      TLB_LAZY, memory_order_seq_cst);
}

/*
 * Awake again, before any user access: flush what a skipped shootdown
 * would have flushed.  The exchange is ordered against the senders' CAS
 * on the same word: a shootdown either marked us stale before it (we
 * flush here) or finds us active after it (and interrupts us).
 */
void leave_lazy_tlb(void)
{
	unsigned long flags;

	if (atomic_exchange_explicit(&cpu_tlbstate[smp_processor_id()].state,
				     TLB_ACTIVE, memory_order_acq_rel) !=
	    TLB_LAZY_STALE)
		return;
	if (mmsim_mutant_is(MUTANT_LAZY_TLB_NO_FLUSH))
		return;
	local_irq_save(flags);
	local_flush_tlb_all();
	local_irq_restore(flags);
}

/* Is cpu asleep, and now marked to flush when it wakes? */
static bool tlb_flush_on_wakeup(int cpu)
{
	atomic_int *state = &cpu_tlbstate[cpu].state;
	int s = atomic_load_explicit(state, memory_order_acquire);

	if (s == TLB_ACTIVE)
		return false;
	if (s == TLB_LAZY &&
	    !atomic_compare_exchange_strong_explicit(state, &s,
			TLB_LAZY_STALE, memory_order_acq_rel,
			memory_order_acquire))
		return s == TLB_LAZY_STALE;	/* s is what we found */
	return true;
}

struct flush_tlb_info {
	struct mm_struct *mm;
	unsigned long start, end;
};

/* Runs on each target CPU, interrupts off (in its IPI handler). */
static void flush_tlb_func(void *arg)
{
	struct flush_tlb_info *info = arg;

	/* A CPU that switched to another mm flushed when it switched. */
	if (this_cpu()->active_mm != info->mm)
		return;
	local_flush_tlb_range(info->start, info->end);
}

/*
 * Flush [start, end) of mm here and on every other CPU in mm_cpumask(mm),
 * and return only when each has done it.  The caller's interrupts must be
 * on (it waits for the others' acknowledgements); it may hold spinlocks,
 * as zap_pte_range holds the PTE lock — race 1 of docs/races.md.
 */
void flush_tlb_mm_range(struct mm_struct *mm, unsigned long start,
			unsigned long end, unsigned int stride_shift,
			bool freed_tables)
{
	struct flush_tlb_info info = { .mm = mm, .start = start, .end = end };
	cpumask_t targets;
	unsigned long flags;
	int cpu, me;

	local_irq_save(flags);
	flush_tlb_func(&info);
	local_irq_restore(flags);
	if (mmsim_mutant_is(MUTANT_NO_REMOTE_FLUSH))
		return;
	me = smp_processor_id();
	cpumask_clear(&targets);
	for_each_cpu(cpu, mm_cpumask(mm))
		if (cpu != me && (freed_tables || !tlb_flush_on_wakeup(cpu)))
			cpumask_set_cpu(cpu, &targets);
	smp_call_function_many(&targets, flush_tlb_func, &info, true);
}

void flush_tlb_mm(struct mm_struct *mm)
{
	flush_tlb_mm_range(mm, 0, ~0UL, PAGE_SHIFT, true);
}

void flush_tlb_range(struct vm_area_struct *vma, unsigned long start,
		     unsigned long end)
{
	flush_tlb_mm_range(vma->vm_mm, start, end, PAGE_SHIFT, false);
}

void flush_tlb_page(struct vm_area_struct *vma, unsigned long addr)
{
	addr &= PAGE_MASK;
	flush_tlb_mm_range(vma->vm_mm, addr, addr + PAGE_SIZE, PAGE_SHIFT, false);
}

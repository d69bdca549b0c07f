// SPDX-License-Identifier: MIT
/*
 * The mmu_gather (mm/mmu_gather.c): what an unmap collects between
 * clearing PTEs and freeing memory.
 *
 * The rule it enforces: a page that a PTE mapped, and a page-table page
 * that an upper entry pointed to, is freed only after every CPU that may
 * cache the translation has flushed it.  Before that flush another CPU
 * may still write the page through its TLB, or walk the table with
 * interrupts disabled (a lockless walk, docs/races.md race 4): the flush waits
 * for that CPU to take the IPI, that is, for the walk to end.  With
 * mm->pt_free_rcu, tables wait an RCU grace period as well, for walkers
 * that hold rcu_read_lock() instead of disabling interrupts.  Tables that
 * MADV_DONTNEED reclaims (pt_reclaim) always wait for both: it runs under
 * the mmap read lock, beside walkers that hold nothing else.
 */
#include <limits.h>
#include <stddef.h>

#include <mmsim/mutant.h>

#include "mm/internal.h"
#include "mm/page_alloc.h"

/* An empty range: start above end. */
static void __tlb_reset_range(struct mmu_gather *tlb)
{
	tlb->start = ULONG_MAX;
	tlb->end = 0;
	tlb->need_flush = false;
	tlb->freed_tables = false;
}

static void __tlb_gather_mmu(struct mmu_gather *tlb, struct mm_struct *mm,
			     bool fullmm)
{
	tlb->mm = mm;
	tlb->fullmm = fullmm;
	tlb->nr = 0;
	tlb->max = MMU_GATHER_BATCH;
	tlb->nr_tables = 0;
	tlb->rcu_tables = false;
	tlb->nr_flushes = 0;
	__tlb_reset_range(tlb);
}

/* Start gathering for an unmap of part of mm. */
void tlb_gather_mmu(struct mmu_gather *tlb, struct mm_struct *mm)
{
	__tlb_gather_mmu(tlb, mm, false);
}

/* Start gathering for the teardown of the whole mm (exit_mmap). */
void tlb_gather_mmu_fullmm(struct mmu_gather *tlb, struct mm_struct *mm)
{
	__tlb_gather_mmu(tlb, mm, true);
}

void tlb_flush_pte_range(struct mmu_gather *tlb, unsigned long addr,
			 unsigned long size)
{
	if (addr < tlb->start)
		tlb->start = addr;
	if (addr + size > tlb->end)
		tlb->end = addr + size;
	tlb->need_flush = true;
}

/*
 * Queue page, whose PTE the caller cleared, to be put after the flush.
 * The batch must not be full (the previous call returned true and the
 * caller did not flush).
 */
bool __tlb_remove_page(struct mmu_gather *tlb, struct page *page)
{
	VM_BUG_ON(tlb->nr >= tlb->max);
	tlb->pages[tlb->nr++] = page;
	return tlb->nr == tlb->max;
}

static void pagetable_free_rcu(struct rcu_head *head)
{
	pagetable_free((struct page *)((char *)head -
				       offsetof(struct page, rcu)));
	__atomic_fetch_sub(&pagetables_rcu_pending, 1, __ATOMIC_RELEASE);
}

/* Free the queued tables.  The TLB flush that covers them is done. */
static void tlb_free_tables(struct mmu_gather *tlb)
{
	bool rcu = tlb->mm->pt_free_rcu || tlb->rcu_tables;

	for (unsigned int i = 0; i < tlb->nr_tables; i++) {
		struct page *table = tlb->tables[i];

		if (rcu) {
			__atomic_fetch_add(&pagetables_rcu_pending, 1,
					   __ATOMIC_RELAXED);
			call_rcu(&table->rcu, pagetable_free_rcu);
		}
		else
			pagetable_free(table);
	}
	tlb->nr_tables = 0;
}

/*
 * Queue a table page whose upper entry the caller cleared.  It leaves
 * its mm's count now (pt_mm cleared): it may be freed after the mm.
 * Freeing a table always needs a flush, even where no PTE was present:
 * a lockless walker may be inside it.
 */
void tlb_remove_table(struct mmu_gather *tlb, struct page *table)
{
	VM_BUG_ON(!PageTable(table));
	if (table->pt_mm) {
		atomic_fetch_sub(&table->pt_mm->pgtables_bytes, PAGE_SIZE);
		table->pt_mm = NULL;
	}
	if (tlb->nr_tables == MMU_GATHER_TABLES) {
		/* Those queued so far were unlinked before this flush. */
		tlb->need_flush = true;
		tlb->freed_tables = true;
		tlb_flush_mmu_tlbonly(tlb);
		tlb_free_tables(tlb);
	}
	tlb->tables[tlb->nr_tables++] = table;
	tlb->need_flush = true;
	tlb->freed_tables = true;
}

/* Flush the gathered range from every CPU's TLB, if anything needs it. */
void tlb_flush_mmu_tlbonly(struct mmu_gather *tlb)
{
	if (!tlb->need_flush)
		return;
	if (tlb->fullmm || tlb->start >= tlb->end)
		flush_tlb_mm(tlb->mm);
	else
		flush_tlb_mm_range(tlb->mm, tlb->start, tlb->end, PAGE_SHIFT,
				   tlb->freed_tables);
	tlb->nr_flushes++;
	__tlb_reset_range(tlb);
}

/* Flush, then drop the references of the queued pages. */
static void tlb_batch_pages_flush(struct mmu_gather *tlb)
{
	for (unsigned int i = 0; i < tlb->nr; i++)
		put_page(tlb->pages[i]);
	tlb->nr = 0;
}

void tlb_flush_mmu(struct mmu_gather *tlb)
{
	/* The mutant frees while other CPUs may still map the pages. */
	if (mmsim_mutant_is(MUTANT_FREE_BEFORE_FLUSH))
		tlb_batch_pages_flush(tlb);
	tlb_flush_mmu_tlbonly(tlb);
	tlb_batch_pages_flush(tlb);
}

/* Flush, free the pages and then the tables: the gather is over. */
void tlb_finish_mmu(struct mmu_gather *tlb)
{
	tlb_flush_mmu(tlb);
	tlb_free_tables(tlb);
}

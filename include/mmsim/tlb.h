/* SPDX-License-Identifier: MIT */
/*
 * TLB flushing (<asm/tlbflush.h>) and the mmu_gather (<asm-generic/tlb.h>,
 * mm/mmu_gather.c).
 *
 * The order is the kernel's: clear the PTEs (under the PTE lock), flush
 * the TLBs of every CPU in mm_cpumask (IPIs, waiting for each
 * acknowledgement), and only then free the pages that were mapped and the
 * page-table pages that were emptied.  When the gather's page batch fills
 * in the middle of zap_pte_range, the flush happens right there, with the
 * PTE lock held, as in the kernel: that is where docs/races.md race 1 lives.
 */
#ifndef MMSIM_TLB_H
#define MMSIM_TLB_H

#include <stdbool.h>
#include <mmsim/mm_types.h>

struct page;

/* Flush the translations of [start, end) of mm on every CPU that ran it. */
void flush_tlb_mm_range(struct mm_struct *mm, unsigned long start,
			unsigned long end, unsigned int stride_shift,
			bool freed_tables);
void flush_tlb_mm(struct mm_struct *mm);
void flush_tlb_range(struct vm_area_struct *vma, unsigned long start,
		     unsigned long end);
void flush_tlb_page(struct vm_area_struct *vma, unsigned long addr);
/* This CPU's TLB only. */
void local_flush_tlb_all(void);
void local_flush_tlb_range(unsigned long start, unsigned long end);
/*
 * The calling CPU's task starts / stops sleeping (waits for a sleeping
 * lock): lazy TLB mode, src/arch/tlb.c.  Shootdowns that free no page
 * table skip the CPU meanwhile, and it flushes its TLB on waking if one
 * did.  Between the two calls the CPU touches no user memory.
 */
void enter_lazy_tlb(void);
void leave_lazy_tlb(void);

#define MMU_GATHER_BATCH	64	/* pages per batch (kernel: ~500) */
#define MMU_GATHER_TABLES	64

struct mmu_gather {
	struct mm_struct *mm;
	unsigned long start, end;	/* range to flush */
	bool fullmm;			/* the whole mm is going away */
	bool freed_tables;
	bool need_flush;
	unsigned int nr, max;		/* pages in the batch, batch size */
	struct page *pages[MMU_GATHER_BATCH];
	unsigned int nr_tables;
	struct page *tables[MMU_GATHER_TABLES];
	/*
	 * Free the tables after an RCU grace period too (as mm->pt_free_rcu
	 * does for every gather of the mm): set when a zap reclaims an
	 * empty PTE table under the mmap read lock, which walkers that hold
	 * only that lock may still be looking at (pt_reclaim_free()).
	 */
	bool rcu_tables;
	unsigned long nr_flushes;	/* TLB flushes this gather did */
};

void tlb_gather_mmu(struct mmu_gather *tlb, struct mm_struct *mm);
void tlb_gather_mmu_fullmm(struct mmu_gather *tlb, struct mm_struct *mm);
/* Note that the translation of addr (one page) must be flushed. */
void tlb_flush_pte_range(struct mmu_gather *tlb, unsigned long addr,
			 unsigned long size);
/*
 * Queue page to be put after the flush.  Returns true when the batch is
 * full: the caller must tlb_flush_mmu() before queueing more (the kernel's
 * __tlb_remove_page / force_flush).
 */
bool __tlb_remove_page(struct mmu_gather *tlb, struct page *page);
/* Queue a page-table page to be freed after the flush. */
void tlb_remove_table(struct mmu_gather *tlb, struct page *table);
/* Flush the TLBs, then free the queued pages (not the tables). */
void tlb_flush_mmu(struct mmu_gather *tlb);
void tlb_flush_mmu_tlbonly(struct mmu_gather *tlb);
/* Flush, free pages and tables, end the gather. */
void tlb_finish_mmu(struct mmu_gather *tlb);

#endif /* MMSIM_TLB_H */

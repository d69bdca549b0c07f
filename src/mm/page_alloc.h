/* SPDX-License-Identifier: MIT */
/*
 * Private to src/mm/page_alloc.c and src/mm/pgtable.c: where frame data
 * lives, which the rest of mm does not need to know.
 *
 * All frame data is one host mapping, frame pfn at pfn * PAGE_SIZE from its
 * start, in both modes.  In metadata-only mode the data pages never get
 * their frame (page->virtual stays NULL) but page-table pages and the zero
 * page do, so that virt_to_page() works for every entry pointer.
 */
#ifndef MMSIM_MM_PAGE_ALLOC_H
#define MMSIM_MM_PAGE_ALLOC_H

#include <mmsim/page.h>

/* The page whose frame data holds addr (a page-table entry, usually). */
struct page *virt_to_page(const void *addr);

/*
 * Metadata-only mode: give a freshly allocated page its frame, zeroed.
 * The page keeps it until it is freed.  A no-op when it has one.
 */
void page_attach_frame(struct page *page);

/*
 * Page tables queued by call_rcu() and not freed yet (mmu_gather.c counts
 * them), so that replacing or freeing the RAM waits for them, and only
 * then: a run that never frees tables by RCU never waits.
 */
extern long pagetables_rcu_pending;

#endif /* MMSIM_MM_PAGE_ALLOC_H */

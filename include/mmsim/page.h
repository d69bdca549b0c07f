/* SPDX-License-Identifier: MIT */
/*
 * Physical memory: struct page and the frame allocator (<linux/mm_types.h>,
 * mm/page_alloc.c).
 *
 * The simulated RAM is sized at start-up (mem_init).  Each frame has a
 * struct page in mem_map[] and, unless the run is metadata-only, 4 KiB of
 * data.  Freed frames are poisoned (PAGE_POISON bytes) and their
 * generation advances, so a stale reference shows up as wrong data.
 * Page-table pages always have data (a walk needs the entries), allocated
 * on the side in metadata-only mode.
 */
#ifndef MMSIM_PAGE_H
#define MMSIM_PAGE_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <mmsim/spinlock.h>
#include <mmsim/rcupdate.h>

#define PAGE_POISON	0xaa

/* page->flags bits */
enum pageflags {
	PG_locked,
	PG_referenced,
	PG_uptodate,
	PG_dirty,
	PG_reserved,		/* the zero page: never freed */
	PG_table,		/* a page-table page */
	PG_anon_exclusive,	/* this anon page is mapped by one mm only */
	PG_buddy,		/* free, in the allocator */
	NR_PAGEFLAGS
};

/* page->mapping of an anonymous page: the anon_vma with this bit set. */
#define PAGE_MAPPING_ANON	0x1UL

struct mm_struct;

struct page {
	unsigned long flags;		/* atomic bit operations */
	atomic_int _refcount;
	atomic_int _mapcount;		/* -1: not mapped by any PTE */
	void *mapping;			/* struct file * or anon_vma | ANON */
	unsigned long index;		/* offset in mapping, in pages */
	unsigned long generation;	/* advanced at every free */
	void *virtual;			/* the data; NULL when metadata-only */
	struct page *next;		/* free lists */

	/* Page-table pages (PG_table) */
	spinlock_t ptl;			/* split PTE lock / split PMD lock */
	struct mm_struct *pt_mm;
	int pt_level;			/* 1 = PTE ... 5 = PGD */
	struct rcu_head rcu;		/* RCU-delayed page-table free */
};

/* gfp flags */
#define __GFP_ZERO	0x1u
#define GFP_KERNEL	0x0u
#define GFP_HIGHUSER_MOVABLE 0x0u
#define GFP_PGTABLE	__GFP_ZERO

/* mem_init flags */
#define MEM_METADATA_ONLY	0x1u
/*
 * Do not poison freed frames (the kernel's default: page poisoning is a
 * debug option).  For benchmarks; tests and stress runs keep poisoning.
 */
#define MEM_NO_POISON		0x2u

/*
 * Create the simulated RAM: ram_bytes of frames (rounded down to pages).
 * May be called again after every page is free (tests resize it).
 * Returns 0 or -ENOMEM.
 */
int mem_init(unsigned long ram_bytes, unsigned int flags);
void mem_exit(void);
/* mem_init(default) unless done: 512 MiB, or $MMSIM_RAM_MB. */
void mem_init_default(void);
bool mem_metadata_only(void);

extern struct page *mem_map;
extern unsigned long max_pfn;

static inline unsigned long page_to_pfn(const struct page *page)
{
	return page - mem_map;
}

static inline struct page *pfn_to_page(unsigned long pfn)
{
	return mem_map + pfn;
}

static inline void *page_address(const struct page *page)
{
	return page->virtual;
}

/* NULL when no frame is free: the fault returns VM_FAULT_OOM. */
struct page *alloc_page(unsigned int gfp);
void __free_page(struct page *page);
/* Free frames, counting those in per-CPU lists. */
unsigned long nr_free_pages(void);
unsigned long totalram_pages(void);
/* Return this CPU's per-CPU free pages to the global pool. */
void drain_local_pages(void);
void drain_all_pages(void);

/* The shared zero page, mapped read-only by read faults on anon memory. */
extern struct page *empty_zero_page;
#define ZERO_PAGE(vaddr) (empty_zero_page)
static inline bool is_zero_page(const struct page *page)
{
	return page == empty_zero_page;
}

static inline void get_page(struct page *page)
{
	atomic_fetch_add_explicit(&page->_refcount, 1, memory_order_relaxed);
}

/* Drop a reference; the last one frees the frame. */
void put_page(struct page *page);

static inline int page_ref_count(const struct page *page)
{
	return atomic_load_explicit((atomic_int *)&page->_refcount,
				    memory_order_relaxed);
}

static inline int page_mapcount(const struct page *page)
{
	return atomic_load_explicit((atomic_int *)&page->_mapcount,
				    memory_order_relaxed) + 1;
}

static inline bool PageFlag(const struct page *page, enum pageflags f)
{
	return __atomic_load_n(&page->flags, __ATOMIC_RELAXED) & (1UL << f);
}

static inline void SetPageFlag(struct page *page, enum pageflags f)
{
	__atomic_fetch_or(&page->flags, 1UL << f, __ATOMIC_RELAXED);
}

static inline void ClearPageFlag(struct page *page, enum pageflags f)
{
	__atomic_fetch_and(&page->flags, ~(1UL << f), __ATOMIC_RELAXED);
}

/* mapping changes under the PTE lock while others test it: READ_ONCE. */
#define PageAnon(p)	(((unsigned long)__atomic_load_n(&(p)->mapping, \
			  __ATOMIC_RELAXED) & PAGE_MAPPING_ANON) != 0)
#define PageTable(p)	PageFlag((p), PG_table)
#define PageAnonExclusive(p) PageFlag((p), PG_anon_exclusive)

/* Copy or clear a frame's data (nothing in metadata-only mode). */
void clear_user_highpage(struct page *page, unsigned long vaddr);
void copy_user_highpage(struct page *to, struct page *from,
			unsigned long vaddr);

#endif /* MMSIM_PAGE_H */

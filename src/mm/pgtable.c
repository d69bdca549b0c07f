// SPDX-License-Identifier: MIT
/*
 * Page tables: protections, allocation of each level, the split locks,
 * walking, and freeing the tables of an unmapped range (the kernel's
 * arch/x86/mm/pgtable.c, mm/pgtable-generic.c and the page-table parts of
 * mm/memory.c).
 *
 * A table page is allocated zeroed, filled in by the walk that needed it,
 * and published by one release store of the upper entry, so that a
 * lockless walker that sees the entry sees an initialized table.  It is
 * unlinked by clearing that entry and freed only after the mmu_gather's
 * TLB flush (or an RCU grace period after it): a walker that runs with
 * interrupts disabled holds up the flush, so the table it walks stays
 * alive (docs/races.md race 4).
 *
 * munmap and exit unlink tables of VMAs already out of the tree; the mmap
 * lock keeps everyone else away from them.  MADV_DONTNEED, under the read
 * lock, also unlinks the PTE tables it empties (pt_reclaim, Linux 6.14),
 * under the PMD lock and the table's PTE lock, and those always wait for
 * a grace period after the flush too: whoever walks to a PTE table under
 * the mmap read lock alone (pte_offset_map_lock, the classic fault's
 * unlocked PTE read) does it in an RCU read side, then takes the PTE lock
 * and checks that the PMD still points to the table.
 *
 * Level numbers (page->pt_level): 1 PTE, 2 PMD, 3 PUD, 4 P4D, 5 PGD.
 */
#include <stdint.h>

#include <mmsim/rcupdate.h>

#include <mmsim/strategy.h>

#include "mm/internal.h"
#include "mm/page_alloc.h"

/* --- protections ---------------------------------------------------------- */

/*
 * x86's protection_map, indexed by VM_READ | VM_WRITE | VM_EXEC |
 * VM_SHARED.  A private writable mapping starts read-only: its first write
 * faults and breaks copy-on-write.  x86 cannot map write-only or
 * exec-only, so those read too; without any access, PAGE_NONE.
 */
static const pgprot_t protection_map[16] = {
	[VM_NONE]				= PAGE_NONE,
	[VM_READ]				= PAGE_READONLY,
	[VM_WRITE]				= PAGE_COPY,
	[VM_WRITE | VM_READ]			= PAGE_COPY,
	[VM_EXEC]				= PAGE_READONLY_EXEC,
	[VM_EXEC | VM_READ]			= PAGE_READONLY_EXEC,
	[VM_EXEC | VM_WRITE]			= PAGE_COPY_EXEC,
	[VM_EXEC | VM_WRITE | VM_READ]		= PAGE_COPY_EXEC,
	[VM_SHARED]				= PAGE_NONE,
	[VM_SHARED | VM_READ]			= PAGE_READONLY,
	[VM_SHARED | VM_WRITE]			= PAGE_SHARED,
	[VM_SHARED | VM_WRITE | VM_READ]	= PAGE_SHARED,
	[VM_SHARED | VM_EXEC]			= PAGE_READONLY_EXEC,
	[VM_SHARED | VM_EXEC | VM_READ]		= PAGE_READONLY_EXEC,
	[VM_SHARED | VM_EXEC | VM_WRITE]	= PAGE_SHARED_EXEC,
	[VM_SHARED | VM_EXEC | VM_WRITE | VM_READ] = PAGE_SHARED_EXEC,
};

pgprot_t vm_get_page_prot(unsigned long vm_flags)
{
	return protection_map[vm_flags &
			      (VM_READ | VM_WRITE | VM_EXEC | VM_SHARED)];
}

/* --- table pages ---------------------------------------------------------- */

/* An upper entry pointing to the table page. */
static unsigned long mk_table_entry(struct page *table)
{
	return _PAGE_TABLE | (page_to_pfn(table) << PAGE_SHIFT);
}

/* Not a table entry (the kernel's p?d_bad), with NX ignored. */
static bool entry_bad(unsigned long val)
{
	return (val & ~PTE_PFN_MASK & ~_PAGE_NX) != _PAGE_TABLE;
}

/* log2 of the bytes of address space the mm's page tables translate. */
static unsigned long pgtable_span_shift(const struct mm_struct *mm)
{
	return pgdir_shift(mm) + 9;
}

static bool addr_translatable(const struct mm_struct *mm, unsigned long addr)
{
	return (addr >> pgtable_span_shift(mm)) == 0;
}

/*
 * A zeroed table page for level of mm, counted in mm->pgtables_bytes.
 * Its lock (page->ptl) was initialized with the RAM and is free: a page
 * is never freed with its lock held, unless a walker touches a table it
 * must no longer reach, which the warning reports.
 */
struct page *pagetable_alloc(struct mm_struct *mm, int level)
{
	struct page *page;

	VM_BUG_ON(level < 1 || level > 5);
	page = alloc_page(GFP_PGTABLE);
	if (!page)
		return NULL;
	page_attach_frame(page);	/* metadata-only: a frame for entries */
	VM_WARN_ON(spin_is_locked(&page->ptl));
	page->pt_mm = mm;
	page->pt_level = level;
	SetPageFlag(page, PG_table);
	if (mm)
		atomic_fetch_add(&mm->pgtables_bytes, PAGE_SIZE);
	return page;
}

/*
 * Free a table page nobody can reach any more.  It is uncounted from its
 * mm unless tlb_remove_table() did it already (and cleared pt_mm).
 */
void pagetable_free(struct page *page)
{
	VM_BUG_ON(!PageTable(page));
	if (page->pt_mm)
		atomic_fetch_sub(&page->pt_mm->pgtables_bytes, PAGE_SIZE);
	page->pt_mm = NULL;
	ClearPageFlag(page, PG_table);
	__free_page(page);
}

/*
 * The top table of mm.  Also initializes mm->page_table_lock, which the
 * lower levels' allocation takes.  Returns 0 or -ENOMEM.
 */
int pgd_alloc(struct mm_struct *mm)
{
	struct page *page;

	spin_lock_init(&mm->page_table_lock);
	page = pagetable_alloc(mm, 5);
	if (!page)
		return -ENOMEM;
	mm->pgd_page = page;
	mm->pgd = page_address(page);
	return 0;
}

/* Free table and every table below it; returns how many that were. */
static unsigned long free_table_tree(struct page *table, int level)
{
	unsigned long *entry = page_address(table);
	unsigned long n = 1;

	for (int i = 0; level > 1 && i < PTRS_PER_PTE; i++) {
		unsigned long val = __atomic_load_n(&entry[i],
						    __ATOMIC_RELAXED);
		struct page *child = pfn_to_page(PHYS_PFN(val & PTE_PFN_MASK));

		if (val && !entry_bad(val))
			n += free_table_tree(child, level - 1);
	}
	pagetable_free(table);
	return n;
}

/*
 * Free the top table of a dead mm.  exit_mmap's free_pgtables left it
 * empty; tables still hanging from it are a leak of the unmap path,
 * reported and freed.
 */
void pgd_free(struct mm_struct *mm)
{
	int child_level = pgtable_l5_enabled(mm) ? 4 : 3;
	unsigned long leaked = 0;

	if (!mm->pgd)
		return;
	for (int i = 0; i < PTRS_PER_PGD; i++) {
		pgd_t pgd = pgdp_get(&mm->pgd[i]);

		if (pgd_none(pgd))
			continue;
		set_pgd(&mm->pgd[i], (pgd_t){ 0 });
		if (!entry_bad(pgd.pgd))
			leaked += free_table_tree(pgd_page(pgd), child_level);
	}
	WARN_ON(leaked != 0);
	pagetable_free(mm->pgd_page);
	mm->pgd = NULL;
	mm->pgd_page = NULL;
}

/* --- allocating a level --------------------------------------------------- */

/*
 * Each __p?d_alloc allocates the table an empty entry should point to,
 * then populates the entry under the lock that serializes it, unless
 * another thread populated it meanwhile: then our table goes back.
 * Returns 0 (the entry points to a table) or -ENOMEM.
 */

/*
 * A table below the PGD, for a walk that holds the mmap lock: faults on
 * the classic path, gup, mremap, fork (both mms).  A speculative fault
 * holds no lock and must never get here (SPF RFC v5: the first fault in a
 * PMD goes the classic way): the table it hung could land under a VMA
 * that munmap is tearing down, where nothing would free it.  Only a
 * warning, as lockdep's would be, so the damage still shows; the stress
 * test fails on any warning.  A strategy's own fault lock (a VMA lock)
 * allows it too: that VMA, and so its page tables, cannot go meanwhile.
 */
static struct page *pagetable_alloc_locked(struct mm_struct *mm, int level)
{
	WARN_ON(!mmsim_lock_held_by_me(&mm->mmap_lock) &&
		!vma_fault_locked_by_me(mm, NULL));
	return pagetable_alloc(mm, level);
}

/* The P4D table under pgd; nothing to do when the P4D is folded. */
int __p4d_alloc(struct mm_struct *mm, pgd_t *pgd, unsigned long addr)
{
	struct page *new;

	if (!pgtable_l5_enabled(mm))
		return 0;
	new = pagetable_alloc_locked(mm, 4);
	if (!new)
		return -ENOMEM;
	spin_lock(&mm->page_table_lock);
	if (pgd_none(pgdp_get(pgd))) {
		set_pgd(pgd, (pgd_t){ mk_table_entry(new) });
		new = NULL;
	}
	spin_unlock(&mm->page_table_lock);
	if (new)
		pagetable_free(new);
	return 0;
}

int __pud_alloc(struct mm_struct *mm, p4d_t *p4d, unsigned long addr)
{
	struct page *new = pagetable_alloc_locked(mm, 3);

	if (!new)
		return -ENOMEM;
	spin_lock(&mm->page_table_lock);
	if (p4d_none(p4dp_get(p4d))) {
		set_p4d(p4d, (p4d_t){ mk_table_entry(new) });
		new = NULL;
	}
	spin_unlock(&mm->page_table_lock);
	if (new)
		pagetable_free(new);
	return 0;
}

/* x86 takes mm->page_table_lock for a PUD entry (pud_lock). */
int __pmd_alloc(struct mm_struct *mm, pud_t *pud, unsigned long addr)
{
	struct page *new = pagetable_alloc_locked(mm, 2);

	if (!new)
		return -ENOMEM;
	spin_lock(&mm->page_table_lock);
	if (pud_none(pudp_get(pud))) {
		set_pud(pud, (pud_t){ mk_table_entry(new) });
		new = NULL;
	}
	spin_unlock(&mm->page_table_lock);
	if (new)
		pagetable_free(new);
	return 0;
}

/* A PMD entry is populated under the split lock of its PMD page. */
int __pte_alloc(struct mm_struct *mm, pmd_t *pmd)
{
	struct page *new = pagetable_alloc_locked(mm, 1);
	spinlock_t *ptl;

	if (!new)
		return -ENOMEM;
	ptl = pmd_lock(mm, pmd);
	if (pmd_none(pmdp_get(pmd))) {
		set_pmd(pmd, (pmd_t){ mk_table_entry(new) });
		new = NULL;
	}
	spin_unlock(ptl);
	if (new)
		pagetable_free(new);
	return 0;
}

/*
 * Walk down to the PMD entry of addr, allocating the P4D, PUD and PMD
 * tables that are missing.  NULL when out of memory or when addr is
 * beyond what the mm's tables translate.
 */
pmd_t *mm_alloc_pmd(struct mm_struct *mm, unsigned long addr)
{
	pgd_t *pgd;
	p4d_t *p4d;
	pud_t *pud;

	if (!addr_translatable(mm, addr))
		return NULL;
	pgd = pgd_offset(mm, addr);
	if (pgd_none(pgdp_get(pgd)) && __p4d_alloc(mm, pgd, addr))
		return NULL;
	p4d = p4d_offset(mm, pgd, addr);
	if (p4d_none(p4dp_get(p4d)) && __pud_alloc(mm, p4d, addr))
		return NULL;
	pud = pud_offset(p4d, addr);
	if (pud_none(pudp_get(pud)) && __pmd_alloc(mm, pud, addr))
		return NULL;
	return pmd_offset(pud, addr);
}

/*
 * The PMD entry of addr if its PMD table exists (the entry itself may be
 * none), else NULL.  Allocates nothing.  Each level is read once, so a
 * concurrent unlink gives NULL or the old table, never a mix.
 */
pmd_t *mm_find_pmd(struct mm_struct *mm, unsigned long addr)
{
	pgd_t *pgdp;
	p4d_t *p4dp, p4d;
	pud_t *pudp, pud;

	if (!addr_translatable(mm, addr))
		return NULL;
	pgdp = pgd_offset(mm, addr);
	if (pgtable_l5_enabled(mm)) {
		pgd_t pgd = pgdp_get(pgdp);

		if (!pgd_present(pgd) || entry_bad(pgd.pgd))
			return NULL;
		p4dp = (p4d_t *)page_address(pgd_page(pgd)) + p4d_index(addr);
	} else {
		p4dp = (p4d_t *)pgdp;
	}
	p4d = p4dp_get(p4dp);
	if (!p4d_present(p4d) || entry_bad(p4d.p4d))
		return NULL;
	pudp = (pud_t *)page_address(p4d_page(p4d)) + pud_index(addr);
	pud = pudp_get(pudp);
	if (!pud_present(pud) || entry_bad(pud.pud))
		return NULL;
	return (pmd_t *)page_address(pud_page(pud)) + pmd_index(addr);
}

/* --- PTE maps and locks --------------------------------------------------- */

/* The PTE of addr, or NULL when *pmd is not a PTE table.  No lock taken. */
pte_t *pte_offset_map(pmd_t *pmd, unsigned long addr)
{
	pmd_t pmdval = pmdp_get(pmd);

	if (pmd_none(pmdval) || pmd_bad(pmdval))
		return NULL;
	return pte_offset_kernel(pmdval, addr);
}

/*
 * Map the PTE of addr and lock its table.  The PMD is read once, the lock
 * of the table it names is taken, and the PMD is checked again: if it
 * changed meanwhile (the table was freed or replaced), the lock we hold
 * may not be the one protecting addr, so start over.  Returns NULL, with
 * nothing locked, when the PMD no longer points to a PTE table.
 *
 * The mmap lock does not keep a PTE table: MADV_DONTNEED, under the read
 * lock, frees tables it empties (pt_reclaim).  Those are freed after an
 * RCU grace period, so the table whose lock we take stays allocated
 * inside our RCU read side until the recheck; once the lock is held and
 * the PMD still points to the table, nobody can unlink it (unlinking
 * takes this lock) and the read side may end (the kernel's
 * pte_offset_map_lock holds it to pte_unmap, which mmsim does not need).
 */
pte_t *pte_offset_map_lock(struct mm_struct *mm, pmd_t *pmd,
			   unsigned long addr, spinlock_t **ptlp)
{
	pmd_t pmdval;
	spinlock_t *ptl;

	rcu_read_lock();
	for (;;) {
		pmdval = pmdp_get(pmd);
		if (pmd_none(pmdval) || pmd_bad(pmdval)) {
			rcu_read_unlock();
			return NULL;
		}
		ptl = pte_lockptr(mm, pmdval);
		spin_lock(ptl);
		if (likely(pmd_same(pmdval, pmdp_get(pmd))))
			break;
		spin_unlock(ptl);
	}
	rcu_read_unlock();
	*ptlp = ptl;
	return pte_offset_kernel(pmdval, addr);
}

/* The split lock of the PMD page that holds the entry pmd. */
spinlock_t *pmd_lockptr(struct mm_struct *mm, pmd_t *pmd)
{
	struct page *table = virt_to_page(pmd);

	VM_BUG_ON(!PageTable(table) || table->pt_level != 2);
	return &table->ptl;
}

spinlock_t *pmd_lock(struct mm_struct *mm, pmd_t *pmd)
{
	spinlock_t *ptl = pmd_lockptr(mm, pmd);

	spin_lock(ptl);
	return ptl;
}

/*
 * The struct page a present PTE maps, or NULL when there is none to
 * refcount: a special mapping, the zero page, or a pfn beyond the RAM
 * (a corrupt PTE, reported).
 */
struct page *vm_normal_page(struct vm_area_struct *vma, unsigned long addr,
			    pte_t pte)
{
	unsigned long pfn = pte_pfn(pte);

	if (pte_special(pte))
		return NULL;
	if (WARN_ON(pfn >= max_pfn))
		return NULL;
	if (is_zero_page(pfn_to_page(pfn)))
		return NULL;
	return pfn_to_page(pfn);
}

/* --- freeing the tables of an unmapped range ------------------------------ */

/* The end of the size-aligned block after addr, or end if that is first. */
static unsigned long block_end(unsigned long addr, unsigned long end,
			       unsigned long size)
{
	unsigned long boundary = (addr + size) & ~(size - 1);

	/* The -1s make a boundary that wrapped to 0 compare as the top. */
	return boundary - 1 < end - 1 ? boundary : end;
}

/*
 * May the table that maps the mask-aligned block around [start, end) go?
 * Only if that whole block lies within [floor, ceiling) (ceiling 0 being
 * the top of the address space): a table reaching below floor or above
 * ceiling may still serve a neighbouring VMA.  end is the end of the
 * range walked, at most the block's end.
 */
static bool table_freeable(unsigned long start, unsigned long end,
			   unsigned long floor, unsigned long ceiling,
			   unsigned long mask)
{
	start &= mask;
	if (start < floor)
		return false;
	if (ceiling) {
		ceiling &= mask;
		if (!ceiling)
			return false;
	}
	return end - 1 <= ceiling - 1;
}

/* Is the entry empty?  A corrupt one is reported and cleared. */
static bool entry_none_or_clear_bad(unsigned long *entry)
{
	unsigned long val = __atomic_load_n(entry, __ATOMIC_ACQUIRE);

	if (!val)
		return true;
	if (WARN_ON(entry_bad(val))) {
		__atomic_store_n(entry, 0UL, __ATOMIC_RELEASE);
		return true;
	}
	return false;
}

/*
 * Hand an unlinked table to the gather: it is freed after the TLB flush,
 * which must cover addr (the first address the table mapped).
 */
static void pagetable_remove_tlb(struct mmu_gather *tlb, struct page *table,
				 unsigned long addr)
{
	tlb_flush_pte_range(tlb, addr, PAGE_SIZE);
	tlb_remove_table(tlb, table);
}

/* The zap left the PTE table empty; anything else is a leaked mapping. */
static void check_pte_table_empty(struct page *table)
{
	pte_t *pte = page_address(table);
	int mapped = 0;

	for (int i = 0; i < PTRS_PER_PTE; i++)
		mapped += !pte_none(ptep_get(&pte[i]));
	WARN_ON(mapped);
}

static void free_pte_range(struct mmu_gather *tlb, pmd_t *pmd,
			   unsigned long addr)
{
	struct page *table = pmd_page(pmdp_get(pmd));

	check_pte_table_empty(table);
	set_pmd(pmd, (pmd_t){ 0 });
	pagetable_remove_tlb(tlb, table, addr);
}

static void free_pmd_range(struct mmu_gather *tlb, pud_t *pud,
			   unsigned long addr, unsigned long end,
			   unsigned long floor, unsigned long ceiling)
{
	unsigned long start = addr, next;
	pmd_t *pmd = pmd_offset(pud, addr);
	struct page *table;

	do {
		next = block_end(addr, end, PMD_SIZE);
		if (!entry_none_or_clear_bad(&pmd->pmd))
			free_pte_range(tlb, pmd, addr);
	} while (pmd++, addr = next, addr != end);

	if (!table_freeable(start, end, floor, ceiling, PUD_MASK))
		return;
	table = pud_page(pudp_get(pud));
	set_pud(pud, (pud_t){ 0 });
	pagetable_remove_tlb(tlb, table, start & PUD_MASK);
}

static void free_pud_range(struct mmu_gather *tlb, p4d_t *p4d,
			   unsigned long addr, unsigned long end,
			   unsigned long floor, unsigned long ceiling)
{
	unsigned long start = addr, next;
	pud_t *pud = pud_offset(p4d, addr);
	struct page *table;

	do {
		next = block_end(addr, end, PUD_SIZE);
		if (!entry_none_or_clear_bad(&pud->pud))
			free_pmd_range(tlb, pud, addr, next, floor, ceiling);
	} while (pud++, addr = next, addr != end);

	if (!table_freeable(start, end, floor, ceiling, P4D_MASK))
		return;
	/* With 4 levels p4d is the PGD entry: this frees the PUD table. */
	table = p4d_page(p4dp_get(p4d));
	set_p4d(p4d, (p4d_t){ 0 });
	pagetable_remove_tlb(tlb, table, start & P4D_MASK);
}

static void free_p4d_range(struct mmu_gather *tlb, pgd_t *pgd,
			   unsigned long addr, unsigned long end,
			   unsigned long floor, unsigned long ceiling)
{
	struct mm_struct *mm = tlb->mm;
	unsigned long start = addr, next;
	unsigned long pgdir_mask = ~((1UL << pgdir_shift(mm)) - 1);
	p4d_t *p4d = p4d_offset(mm, pgd, addr);
	struct page *table;

	do {
		next = block_end(addr, end, P4D_SIZE);
		if (!entry_none_or_clear_bad(&p4d->p4d))
			free_pud_range(tlb, p4d, addr, next, floor, ceiling);
	} while (p4d++, addr = next, addr != end);

	/* A folded P4D is the PGD itself, which only pgd_free() frees. */
	if (!pgtable_l5_enabled(mm))
		return;
	if (!table_freeable(start, end, floor, ceiling, pgdir_mask))
		return;
	table = pgd_page(pgdp_get(pgd));
	set_pgd(pgd, (pgd_t){ 0 });
	pagetable_remove_tlb(tlb, table, start & pgdir_mask);
}

/*
 * Free the page tables that map only [addr, end) and nothing of what
 * lies below floor or from ceiling up (ceiling 0: the top), the kernel's
 * free_pgd_range.  The range is first shrunk to whole PMDs inside
 * [floor, ceiling): the PTE tables at its ends may be shared with a
 * neighbour.  Each upper level then frees its table only when the whole
 * block that table maps fits.  The caller holds the mmap lock and has
 * zapped the PTEs of the range.
 */
void free_pgd_range(struct mmu_gather *tlb, unsigned long addr,
		    unsigned long end, unsigned long floor,
		    unsigned long ceiling)
{
	struct mm_struct *mm = tlb->mm;
	unsigned long pgdir_size = 1UL << pgdir_shift(mm);
	unsigned long next;
	pgd_t *pgd;

	mmap_assert_locked(mm);
	if (WARN_ON(addr >= end || (end - 1) >> pgtable_span_shift(mm)))
		return;

	addr &= PMD_MASK;
	if (addr < floor) {
		addr += PMD_SIZE;
		if (!addr)
			return;
	}
	if (ceiling) {
		ceiling &= PMD_MASK;
		if (!ceiling)
			return;
	}
	if (end - 1 > ceiling - 1)
		end -= PMD_SIZE;
	if (addr > end - 1)
		return;

	pgd = pgd_offset(mm, addr);
	do {
		next = block_end(addr, end, pgdir_size);
		if (!entry_none_or_clear_bad(&pgd->pgd))
			free_p4d_range(tlb, pgd, addr, next, floor, ceiling);
	} while (pgd++, addr = next, addr != end);
}

/*
 * Free the page tables of vma and of every VMA after it on its vm_next
 * chain: the VMAs being removed, already unlinked from the mm.  floor is
 * the end of the VMA that stays below them (or the lowest user address),
 * ceiling the start of the one that stays above (0: none).  Between two
 * removed VMAs nothing stays, so each VMA's range is bounded by floor
 * below and by the next removed VMA's start above: the table they share
 * goes with the later one.  VMAs less than a PMD apart are walked as one.
 * Each VMA leaves its file's i_mmap first, as in the kernel.
 */
void free_pgtables(struct mmu_gather *tlb, struct vm_area_struct *vma,
		   unsigned long floor, unsigned long ceiling)
{
	while (vma) {
		struct vm_area_struct *next = vma->vm_next;
		unsigned long addr = vma->vm_start;

		/* unmap_mapping_range() must not walk the tables from now. */
		unlink_file_vma(vma);
		while (next && next->vm_start <= vma->vm_end + PMD_SIZE) {
			vma = next;
			next = vma->vm_next;
			unlink_file_vma(vma);
		}
		free_pgd_range(tlb, addr, vma->vm_end, floor,
			       next ? next->vm_start : ceiling);
		vma = next;
	}
}

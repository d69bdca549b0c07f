// SPDX-License-Identifier: MIT
/*
 * validate_mm() and the dump helpers (the kernel's mm/debug.c and the
 * CONFIG_DEBUG_VM_RB checks of mm/mmap.c): every invariant of the VMA tree
 * recomputed from scratch, and the page tables checked against the VMAs
 * and the struct pages they map.  Tests call it after every operation.
 */
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>

#include "mm/internal.h"

struct validate_state {
	FILE *out;
	int bugs;
};

static void report(struct validate_state *st, const char *fmt, ...)
{
	va_list ap;

	st->bugs++;
	if (!st->out)
		return;
	fprintf(st->out, "validate_mm: ");
	va_start(ap, fmt);
	vfprintf(st->out, fmt, ap);
	va_end(ap);
	fputc('\n', st->out);
}

/* Check the augment of every node; returns the subtree's true max gap. */
static unsigned long check_gaps(struct validate_state *st, struct rb_node *node)
{
	struct vm_area_struct *vma;
	unsigned long expect;

	if (!node)
		return 0;
	vma = rb_entry(node, struct vm_area_struct, vm_rb);
	check_gaps(st, node->rb_left);
	check_gaps(st, node->rb_right);
	expect = vma_compute_subtree_gap(vma);
	if (vma->rb_subtree_gap != expect)
		report(st, "vma %lx-%lx rb_subtree_gap %lx, should be %lx",
		       vma->vm_start, vma->vm_end, vma->rb_subtree_gap, expect);
	return expect;
}

static void check_anon_vma(struct validate_state *st,
			   struct vm_area_struct *vma)
{
	struct anon_vma_chain *avc;
	bool found = false;

	list_for_each_entry(avc, &vma->anon_vma_chain, same_vma) {
		if (avc->vma != vma)
			report(st, "vma %lx avc points elsewhere", vma->vm_start);
		if (avc->anon_vma == vma->anon_vma)
			found = true;
	}
	if (vma->anon_vma && !found)
		report(st, "vma %lx-%lx anon_vma not on its chain",
		       vma->vm_start, vma->vm_end);
	if (!vma->anon_vma && !list_empty(&vma->anon_vma_chain))
		report(st, "vma %lx-%lx chain without anon_vma",
		       vma->vm_start, vma->vm_end);
	if (vma->anon_vma && (vma->vm_flags & VM_SHARED))
		report(st, "shared vma %lx has an anon_vma", vma->vm_start);
}

/* --- the VMAs of a file (i_mmap) ----------------------------------------- */

static int cmp_file_ptr(const void *a, const void *b)
{
	uintptr_t x = (uintptr_t)*(struct file *const *)a;
	uintptr_t y = (uintptr_t)*(struct file *const *)b;

	return (x > y) - (x < y);
}

/* Is vma on mapping's i_mmap?  i_mmap_rwsem is held. */
static bool on_i_mmap(struct address_space *mapping,
		      struct vm_area_struct *vma)
{
	struct vm_area_struct *v;

	lockdep_assert_held(&mapping->i_mmap_rwsem);
	list_for_each_entry(v, &mapping->i_mmap, shared)
		if (v == vma)
			return true;
	return false;
}

/*
 * The VMAs of mm on file's i_mmap: each must be one of mm's VMAs, mapping
 * that file.  Returns how many there are.  Only mm's own entries are
 * looked at closely: the others belong to mms whose locks we do not hold
 * (their vm_mm and vm_file do not change while they are listed).  We hold
 * mm's mmap lock; i_mmap_rwsem (taken here) nests inside it.
 */
static int check_i_mmap_of(struct validate_state *st, struct mm_struct *mm,
			   struct file *file)
{
	struct address_space *mapping = &file->f_mapping;
	struct vm_area_struct *v, *found;
	int n = 0;

	i_mmap_lock_read(mapping);
	list_for_each_entry(v, &mapping->i_mmap, shared) {
		if (v->vm_mm != mm)
			continue;
		n++;
		if (v->vm_file != file)
			report(st, "vma %lx-%lx is on the i_mmap of file %p, "
			       "maps file %p", v->vm_start, v->vm_end,
			       (void *)file, (void *)v->vm_file);
		found = find_vma(mm, v->vm_start);
		if (found != v)
			report(st, "file %p: i_mmap holds vma %p (%lx-%lx), "
			       "which is not in the mm", (void *)file,
			       (void *)v, v->vm_start, v->vm_end);
	}
	i_mmap_unlock_read(mapping);
	return n;
}

/* Name every file VMA of mm missing from its file's i_mmap (slow path). */
static void report_missing_from_i_mmap(struct validate_state *st,
				       struct mm_struct *mm)
{
	struct vm_area_struct *vma;
	struct address_space *mapping;

	for (vma = mm->mmap; vma; vma = vma->vm_next) {
		if (!vma->vm_file)
			continue;
		mapping = &vma->vm_file->f_mapping;
		i_mmap_lock_read(mapping);
		if (!on_i_mmap(mapping, vma))
			report(st, "vma %lx-%lx is not on its file's i_mmap",
			       vma->vm_start, vma->vm_end);
		i_mmap_unlock_read(mapping);
	}
}

/*
 * Every VMA of mm that maps a file is on that file's i_mmap, and mm has no
 * other entry there (vma_link / __vma_adjust / dup_mmap link them,
 * free_pgtables and a merge unlink them).  Each file's list is walked once:
 * its entries of mm, all VMAs of mm mapping it, add up to the VMAs of mm
 * with a file; a list_head is on one list at most, so equal counts mean
 * each is on its own file's list.  A stale entry of a freed VMA cannot be
 * seen cheaply (ASan does).  The caller holds mm's mmap lock.
 */
static void check_i_mmap(struct validate_state *st, struct mm_struct *mm)
{
	struct vm_area_struct *vma;
	struct file **files;
	int nr_file_vmas = 0, listed = 0, nr = 0, i;

	for (vma = mm->mmap; vma; vma = vma->vm_next) {
		if (vma->vm_file)
			nr_file_vmas++;
		else if (!list_empty(&vma->shared))
			report(st, "vma %lx-%lx without a file is on an i_mmap",
			       vma->vm_start, vma->vm_end);
	}
	if (!nr_file_vmas)
		return;
	files = calloc(nr_file_vmas, sizeof(*files));
	if (!files) {
		report_missing_from_i_mmap(st, mm);
		return;
	}
	for (vma = mm->mmap; vma && nr < nr_file_vmas; vma = vma->vm_next)
		if (vma->vm_file)
			files[nr++] = vma->vm_file;
	qsort(files, nr, sizeof(*files), cmp_file_ptr);
	for (i = 0; i < nr; i++)
		if (!i || files[i] != files[i - 1])
			listed += check_i_mmap_of(st, mm, files[i]);
	free(files);
	if (listed != nr_file_vmas) {
		report(st, "%d VMAs map files, their files' i_mmap list %d",
		       nr_file_vmas, listed);
		report_missing_from_i_mmap(st, mm);
	}
}

/* Statistics as vm_stat_account() keeps them, recounted. */
struct vm_counts {
	unsigned long total, locked, data, exec, stack;
};

static void count_vma(struct vm_counts *c, struct vm_area_struct *vma)
{
	unsigned long pages = vma_pages(vma);

	c->total += pages;
	if (vma->vm_flags & VM_LOCKED)
		c->locked += pages;
	if (is_exec_mapping(vma->vm_flags))
		c->exec += pages;
	else if (is_stack_mapping(vma->vm_flags))
		c->stack += pages;
	else if (is_data_mapping(vma->vm_flags))
		c->data += pages;
}

static void check_counts(struct validate_state *st, struct mm_struct *mm,
			 struct vm_counts *c)
{
	if (c->total != mm->total_vm)
		report(st, "total_vm %lu, VMAs add up to %lu", mm->total_vm, c->total);
	/*
	 * locked_vm may exceed the locked VMAs, never fall short: like the
	 * kernel, mremap(MREMAP_DONTUNMAP) of a locked VMA clears VM_LOCKED on
	 * the source without uncounting it (Linux 6.18's VmLck shows the
	 * same excess, and keeps it after both VMAs are unmapped).
	 */
	if (c->locked > mm->locked_vm)
		report(st, "locked_vm %lu, VMAs add up to %lu", mm->locked_vm, c->locked);
	if (c->data != mm->data_vm)
		report(st, "data_vm %lu, VMAs add up to %lu", mm->data_vm, c->data);
	if (c->exec != mm->exec_vm)
		report(st, "exec_vm %lu, VMAs add up to %lu", mm->exec_vm, c->exec);
	if (c->stack != mm->stack_vm)
		report(st, "stack_vm %lu, VMAs add up to %lu", mm->stack_vm, c->stack);
}

/*
 * Between operations no write section may be left open on a VMA, but a
 * file's hole punch (unmap_mapping_range()) enters one on every VMA of
 * the file, of any mm, holding only i_mmap_rwsem, whenever it likes (the
 * 30-minute TSan campaign of issue 11 caught fork's validation seeing
 * the child's shared VMA inside such a section).  So an odd count of a
 * file VMA is a section left open only if it is still odd once we hold
 * i_mmap_rwsem for writing, which no punch can then hold; tried, never
 * waited for (the caller may hold it already).
 */
static bool vm_sequence_left_open(struct vm_area_struct *vma)
{
	struct rw_semaphore *i_mmap;
	bool odd;

	if (!(seqcount_peek(&vma->vm_sequence) & 1))
		return false;
	if (!vma->vm_file)
		return true;
	i_mmap = &vma->vm_file->f_mapping.i_mmap_rwsem;
	if (!down_write_trylock(i_mmap))
		return false;
	odd = seqcount_peek(&vma->vm_sequence) & 1;
	up_write(i_mmap);
	return odd;
}

/* Walk list and tree together: same VMAs, same order, no overlap. */
static void check_list(struct validate_state *st, struct mm_struct *mm)
{
	struct vm_area_struct *vma, *prev = NULL;
	struct rb_node *node = rb_first(&mm->mm_rb);
	struct vm_counts c = { 0 };
	unsigned long highest = 0;
	int count = 0;

	for (vma = mm->mmap; vma; prev = vma, vma = vma->vm_next) {
		if (vma->vm_prev != prev)
			report(st, "vma %lx vm_prev broken", vma->vm_start);
		if (&vma->vm_rb != node)
			report(st, "vma %lx-%lx: list and tree disagree",
			       vma->vm_start, vma->vm_end);
		node = node ? rb_next(node) : NULL;
		if (vma->vm_start >= vma->vm_end || !PAGE_ALIGNED(vma->vm_start) ||
		    !PAGE_ALIGNED(vma->vm_end))
			report(st, "vma %lx-%lx malformed", vma->vm_start, vma->vm_end);
		if (vma->vm_end > mm->task_size)
			report(st, "vma %lx-%lx beyond TASK_SIZE", vma->vm_start,
			       vma->vm_end);
		if (prev && prev->vm_end > vma->vm_start)
			report(st, "vma %lx-%lx overlaps %lx-%lx", prev->vm_start,
			       prev->vm_end, vma->vm_start, vma->vm_end);
		if (vma->vm_mm != mm)
			report(st, "vma %lx belongs to another mm", vma->vm_start);
		if ((vma->vm_flags & VM_SHARED) && !vma->vm_file)
			report(st, "shared vma %lx has no file", vma->vm_start);
		if (RB_EMPTY_NODE(&vma->vm_rb))
			report(st, "vma %lx-%lx is listed, its rb node cleared",
			       vma->vm_start, vma->vm_end);
		if (vm_sequence_left_open(vma))
			report(st, "vma %lx-%lx vm_sequence %u is odd",
			       vma->vm_start, vma->vm_end,
			       seqcount_peek(&vma->vm_sequence));
		check_anon_vma(st, vma);
		count_vma(&c, vma);
		highest = vm_end_gap(vma);
		count++;
	}
	if (node)
		report(st, "tree has VMAs the list does not");
	if (count != mm->map_count)
		report(st, "map_count %d, list has %d", mm->map_count, count);
	if (highest != mm->highest_vm_end)
		report(st, "highest_vm_end %lx, should be %lx",
		       mm->highest_vm_end, highest);
	check_counts(st, mm, &c);
}

/* --- page tables against VMAs and struct pages ---------------------------- */

/*
 * One walk of an mm's page tables.  mapped[] (NULL in the per-mm check)
 * counts, per pfn, the PTEs that map it across every mm walked.
 */
struct pt_check {
	struct validate_state *st;
	struct mm_struct *mm;
	long rss[NR_MM_COUNTERS];
	unsigned long nr_tables;	/* below the PGD */
	int *mapped;
};

static const char *const pt_level_name[] = {
	[1] = "PTE", [2] = "PMD", [3] = "PUD", [4] = "P4D", [5] = "PGD",
};

/*
 * An upper-level entry must point to a page-table page of this mm, of the
 * level below.  Returns that page, or NULL (reported) if it does not.
 */
static struct page *check_table_entry(struct pt_check *pc, unsigned long val,
				      int level, unsigned long addr)
{
	unsigned long pfn = (val & PTE_PFN_MASK) >> PAGE_SHIFT;
	struct page *page;

	if ((val & ~PTE_PFN_MASK & ~_PAGE_NX) != _PAGE_TABLE) {
		report(pc->st, "mm %p: %s entry for %lx is bad: %lx",
		       (void *)pc->mm, pt_level_name[level + 1], addr, val);
		return NULL;
	}
	if (pfn >= max_pfn) {
		report(pc->st, "mm %p: %s entry for %lx points past RAM: %lx",
		       (void *)pc->mm, pt_level_name[level + 1], addr, val);
		return NULL;
	}
	page = pfn_to_page(pfn);
	if (!PageTable(page) || PageFlag(page, PG_buddy))
		report(pc->st, "mm %p: %s table of %lx (pfn %lx) is not a "
		       "page-table page", (void *)pc->mm, pt_level_name[level],
		       addr, pfn);
	else if (page->pt_mm != pc->mm)
		report(pc->st, "mm %p: %s table of %lx belongs to mm %p",
		       (void *)pc->mm, pt_level_name[level], addr,
		       (void *)page->pt_mm);
	else if (page->pt_level != level)
		report(pc->st, "mm %p: %s table of %lx has level %d",
		       (void *)pc->mm, pt_level_name[level], addr,
		       page->pt_level);
	pc->nr_tables++;
	return page;
}

/* Is page's anon_vma one of those on vma's chain? */
static bool anon_vma_on_chain(struct vm_area_struct *vma, struct page *page)
{
	struct anon_vma *anon_vma = (struct anon_vma *)
		((unsigned long)page->mapping & ~PAGE_MAPPING_ANON);
	struct anon_vma_chain *avc;

	list_for_each_entry(avc, &vma->anon_vma_chain, same_vma)
		if (avc->anon_vma == anon_vma)
			return true;
	return false;
}

/* The rights of a mapped PTE against its VMA's flags. */
static void check_pte_rights(struct pt_check *pc, struct vm_area_struct *vma,
			     unsigned long addr, pte_t pte)
{
	unsigned long flags = vma->vm_flags;

	if (pte_protnone(pte)) {
		if (flags & VM_ACCESS_FLAGS)
			report(pc->st, "mm %p: PROT_NONE PTE %lx of %lx in an "
			       "accessible VMA", (void *)pc->mm, pte.pte, addr);
		return;
	}
	if (!(flags & VM_ACCESS_FLAGS))
		report(pc->st, "mm %p: PTE %lx of %lx accessible in a "
		       "PROT_NONE VMA", (void *)pc->mm, pte.pte, addr);
	if (!(pte.pte & _PAGE_USER))
		report(pc->st, "mm %p: PTE %lx of %lx not a user mapping",
		       (void *)pc->mm, pte.pte, addr);
	if (pte_write(pte) && !(flags & VM_WRITE))
		report(pc->st, "mm %p: PTE %lx of %lx writable in a VMA "
		       "without VM_WRITE", (void *)pc->mm, pte.pte, addr);
	if (pte_exec(pte) && !(flags & VM_EXEC))
		report(pc->st, "mm %p: PTE %lx of %lx executable in a VMA "
		       "without VM_EXEC", (void *)pc->mm, pte.pte, addr);
}

/*
 * The page a PTE maps: an anonymous page belongs to one of the VMA's
 * anon_vmas, a shmem page to the VMA's file, both at the index the
 * address has in the VMA; a private VMA may write only to an anonymous
 * page that no one else maps (COW).
 */
static void check_pte_page(struct pt_check *pc, struct vm_area_struct *vma,
			   unsigned long addr, pte_t pte, struct page *page)
{
	unsigned long index = vma->vm_pgoff +
			      ((addr - vma->vm_start) >> PAGE_SHIFT);
	bool private = !(vma->vm_flags & VM_SHARED);

	if (PageFlag(page, PG_buddy) || PageTable(page)) {
		report(pc->st, "mm %p: %lx maps pfn %lx, a %s page",
		       (void *)pc->mm, addr, page_to_pfn(page),
		       PageTable(page) ? "page-table" : "free");
		return;
	}
	if (PageAnon(page)) {
		pc->rss[MM_ANONPAGES]++;
		if (!private)
			report(pc->st, "mm %p: %lx maps an anonymous page in a "
			       "shared VMA", (void *)pc->mm, addr);
		else if (!anon_vma_on_chain(vma, page))
			report(pc->st, "mm %p: %lx maps an anonymous page of "
			       "another anon_vma", (void *)pc->mm, addr);
	} else if (page->mapping) {
		pc->rss[MM_SHMEMPAGES]++;
		if (page->mapping != vma->vm_file)
			report(pc->st, "mm %p: %lx maps a page of another file",
			       (void *)pc->mm, addr);
	} else {
		report(pc->st, "mm %p: %lx maps pfn %lx, which has no mapping",
		       (void *)pc->mm, addr, page_to_pfn(page));
		return;
	}
	if (page->index != index)
		report(pc->st, "mm %p: %lx maps a page of index %lx, should "
		       "be %lx", (void *)pc->mm, addr, page->index, index);
	if (page_mapcount(page) < 1 ||
	    page_ref_count(page) < page_mapcount(page))
		report(pc->st, "mm %p: %lx maps pfn %lx with mapcount %d "
		       "refcount %d", (void *)pc->mm, addr, page_to_pfn(page),
		       page_mapcount(page), page_ref_count(page));
	if (private && pte_write(pte) &&
	    (!PageAnon(page) || page_mapcount(page) != 1 ||
	     !PageAnonExclusive(page)))
		report(pc->st, "mm %p: %lx writable in a private VMA, but its "
		       "page is %s", (void *)pc->mm, addr,
		       !PageAnon(page) ? "a shmem page" :
		       page_mapcount(page) != 1 ? "mapped more than once" :
		       "not exclusive");
	if (PageAnon(page) && PageAnonExclusive(page) &&
	    page_mapcount(page) != 1)
		report(pc->st, "mm %p: %lx maps an exclusive anonymous page "
		       "with mapcount %d", (void *)pc->mm, addr,
		       page_mapcount(page));
}

/* One mapped PTE (not none) of addr. */
static void check_pte(struct pt_check *pc, unsigned long addr, pte_t pte)
{
	struct vm_area_struct *vma = find_vma(pc->mm, addr);
	unsigned long pfn = pte_pfn(pte);
	struct page *page;

	if (!vma || vma->vm_start > addr) {
		report(pc->st, "mm %p: PTE %lx of %lx outside every VMA",
		       (void *)pc->mm, pte.pte, addr);
		return;
	}
	if (!pte_present(pte)) {
		/* Not none, not present: a swap entry, which mmsim has not. */
		report(pc->st, "mm %p: PTE %lx of %lx neither none nor present",
		       (void *)pc->mm, pte.pte, addr);
		return;
	}
	check_pte_rights(pc, vma, addr, pte);
	if (pfn >= max_pfn) {
		report(pc->st, "mm %p: PTE %lx of %lx points past RAM",
		       (void *)pc->mm, pte.pte, addr);
		return;
	}
	page = pfn_to_page(pfn);
	if (is_zero_page(page)) {
		/* Shared by everyone, never counted, never written. */
		if ((vma->vm_flags & VM_SHARED) || pte_write(pte))
			report(pc->st, "mm %p: zero page at %lx %s",
			       (void *)pc->mm, addr, pte_write(pte) ?
			       "writable" : "in a shared VMA");
		return;
	}
	if (pte_special(pte))
		return;		/* no struct page to account */
	check_pte_page(pc, vma, addr, pte, page);
	if (pc->mapped)
		pc->mapped[pfn]++;
}

static void walk_pte_table(struct pt_check *pc, struct page *table,
			   unsigned long base)
{
	pte_t *ptes = page_address(table);
	int i;

	for (i = 0; i < PTRS_PER_PTE; i++) {
		pte_t pte = ptep_get(&ptes[i]);

		if (!pte_none(pte))
			check_pte(pc, base + ((unsigned long)i << PAGE_SHIFT),
				  pte);
	}
}

static void walk_pmd_table(struct pt_check *pc, struct page *table,
			   unsigned long base)
{
	pmd_t *pmds = page_address(table);
	int i;

	for (i = 0; i < PTRS_PER_PMD; i++) {
		unsigned long addr = base + ((unsigned long)i << PMD_SHIFT);
		pmd_t pmd = pmdp_get(&pmds[i]);
		struct page *pt;

		if (pmd_none(pmd))
			continue;
		pt = check_table_entry(pc, pmd.pmd, 1, addr);
		if (pt)
			walk_pte_table(pc, pt, addr);
	}
}

static void walk_pud_table(struct pt_check *pc, struct page *table,
			   unsigned long base)
{
	pud_t *puds = page_address(table);
	int i;

	for (i = 0; i < PTRS_PER_PUD; i++) {
		unsigned long addr = base + ((unsigned long)i << PUD_SHIFT);
		pud_t pud = pudp_get(&puds[i]);
		struct page *pmdt;

		if (pud_none(pud))
			continue;
		pmdt = check_table_entry(pc, pud.pud, 2, addr);
		if (pmdt)
			walk_pmd_table(pc, pmdt, addr);
	}
}

static void walk_p4d_table(struct pt_check *pc, struct page *table,
			   unsigned long base)
{
	p4d_t *p4ds = page_address(table);
	int i;

	for (i = 0; i < PTRS_PER_P4D; i++) {
		unsigned long addr = base + ((unsigned long)i << P4D_SHIFT);
		p4d_t p4d = p4dp_get(&p4ds[i]);
		struct page *pudt;

		if (p4d_none(p4d))
			continue;
		pudt = check_table_entry(pc, p4d.p4d, 3, addr);
		if (pudt)
			walk_pud_table(pc, pudt, addr);
	}
}

/*
 * Walk every table of pc->mm from the PGD down.  With 4 levels the P4D
 * is folded: a PGD entry points to a PUD table.
 */
static void walk_pgd(struct pt_check *pc)
{
	struct mm_struct *mm = pc->mm;
	unsigned int shift = pgdir_shift(mm);
	int i;

	if (!mm->pgd)
		return;
	if (mm->pgd_page && (!PageTable(mm->pgd_page) ||
			     mm->pgd_page->pt_mm != mm ||
			     mm->pgd_page->pt_level != 5))
		report(pc->st, "mm %p: PGD is not its level-5 table page",
		       (void *)mm);
	for (i = 0; i < PTRS_PER_PGD; i++) {
		unsigned long addr = (unsigned long)i << shift;
		pgd_t pgd = pgdp_get(&mm->pgd[i]);
		struct page *next;

		if (pgd_none(pgd))
			continue;
		if (pgtable_l5_enabled(mm)) {
			next = check_table_entry(pc, pgd.pgd, 4, addr);
			if (next)
				walk_p4d_table(pc, next, addr);
		} else {
			next = check_table_entry(pc, pgd.pgd, 3, addr);
			if (next)
				walk_pud_table(pc, next, addr);
		}
	}
}

/* RSS counters as the PTEs count them (the zero page is not counted). */
static void check_rss(struct pt_check *pc)
{
	static const char *const names[NR_MM_COUNTERS] = {
		[MM_FILEPAGES] = "MM_FILEPAGES",
		[MM_ANONPAGES] = "MM_ANONPAGES",
		[MM_SWAPENTS] = "MM_SWAPENTS",
		[MM_SHMEMPAGES] = "MM_SHMEMPAGES",
	};
	int i;

	for (i = 0; i < NR_MM_COUNTERS; i++) {
		long have = get_mm_counter(pc->mm, i);

		if (have != pc->rss[i])
			report(pc->st, "mm %p: %s %ld, PTEs count %ld",
			       (void *)pc->mm, names[i], have, pc->rss[i]);
	}
}

/*
 * The per-mm part of the page checks: every table and every PTE of mm.
 * mapped may be NULL (no cross-mm map count).
 */
static void check_page_tables(struct validate_state *st, struct mm_struct *mm,
			      int *mapped)
{
	struct pt_check pc = { .st = st, .mm = mm, .mapped = mapped };

	walk_pgd(&pc);
	check_rss(&pc);
	/* Every table is counted from its allocation, the PGD too. */
	if (mm->pgd && atomic_load(&mm->pgtables_bytes) !=
	    (long)((pc.nr_tables + 1) << PAGE_SHIFT))
		report(st, "mm %p: pgtables_bytes %ld, tables add up to %lu",
		       (void *)mm, atomic_load(&mm->pgtables_bytes),
		       (pc.nr_tables + 1) << PAGE_SHIFT);
}

/*
 * Check the page tables of mms[0..n) against their VMAs and the struct
 * pages they map; each page's map count must equal the number of PTEs
 * mapping it in these mms (so pass every mm that maps them, e.g. a parent
 * and its forked child).  Problems are printed on stderr; returns their
 * number.  The caller holds every mm's mmap lock, or owns the mms: no
 * fault may run meanwhile.
 */
int validate_mm_pages(struct mm_struct **mms, int n)
{
	struct validate_state st = { .out = stderr };
	int *mapped = calloc(max_pfn ? max_pfn : 1, sizeof(*mapped));
	unsigned long pfn;
	int i;

	if (!mapped)
		report(&st, "no memory to count map counts");
	for (i = 0; i < n; i++)
		check_page_tables(&st, mms[i], mapped);
	for (pfn = 0; mapped && pfn < max_pfn; pfn++) {
		struct page *page = pfn_to_page(pfn);

		if (mapped[pfn] && page_mapcount(page) != mapped[pfn])
			report(&st, "pfn %lx mapped by %d PTEs, mapcount %d",
			       pfn, mapped[pfn], page_mapcount(page));
	}
	free(mapped);
	return st.bugs;
}

int validate_mm_verbose(struct mm_struct *mm, FILE *out)
{
	struct validate_state st = { .out = out };

	if (rb_check_tree(&mm->mm_rb) < 0)
		report(&st, "rbtree colours or links broken");
	if (raw_read_seqcount(&mm->mm_seq.seqcount) & 1)
		report(&st, "mm_seq is odd: a tree write section was left open");
	check_list(&st, mm);
	check_gaps(&st, mm->mm_rb.rb_node);
	check_i_mmap(&st, mm);
	check_page_tables(&st, mm, NULL);
	return st.bugs;
}

/*
 * Check every invariant of mm's VMA tree and page tables (all of
 * validate_mm_pages() but the map-count equality, which needs every mm
 * mapping the pages); print what is wrong on stderr.  Returns the number
 * of problems found.  The caller holds the mmap lock or owns mm
 * exclusively, and no fault runs meanwhile.
 */
int validate_mm(struct mm_struct *mm)
{
	return validate_mm_verbose(mm, stderr);
}

void dump_vma(FILE *out, const struct vm_area_struct *vma)
{
	char flags[160];

	fprintf(out, "vma %lx-%lx pgoff %lx flags %s%s anon_vma %p file %p "
		"seq %u\n",
		vma->vm_start, vma->vm_end, vma->vm_pgoff,
		show_smap_vma_flags(vma->vm_flags, flags, sizeof(flags)),
		vma->vm_flags & VM_SHARED ? " (shared)" : "",
		(void *)vma->anon_vma, (void *)vma->vm_file,
		raw_read_seqcount(&vma->vm_sequence));
}

void dump_mm(FILE *out, struct mm_struct *mm)
{
	struct vm_area_struct *vma;

	fprintf(out, "mm %p: %d VMAs, total_vm %lu locked_vm %lu data_vm %lu "
		"exec_vm %lu stack_vm %lu mmap_base %lx highest_vm_end %lx\n",
		(void *)mm, mm->map_count, mm->total_vm, mm->locked_vm,
		mm->data_vm, mm->exec_vm, mm->stack_vm, mm->mmap_base,
		mm->highest_vm_end);
	for (vma = mm->mmap; vma; vma = vma->vm_next)
		dump_vma(out, vma);
}

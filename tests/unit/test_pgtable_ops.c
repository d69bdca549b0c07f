// SPDX-License-Identifier: MIT
/*
 * The address-space system calls acting on the page tables: munmap (and
 * MAP_FIXED) zap the pages and free the tables only the range used,
 * mprotect rewrites the mapped PTEs, mremap moves them (and moves them
 * back when it cannot finish), MADV_DONTNEED zaps (and frees the PTE
 * tables it empties, racing with a fault too), mlock and
 * MAP_POPULATE fault every page in, and exit gives every frame back.
 *
 * Frames are counted with nr_free_pages(): a leaked page or table shows up
 * as a difference, and the teardown of every test checks that the whole
 * run gave back what it took.  Every step also runs validate_mm_pages().
 */
#include <pthread.h>

#include <mmsim/sched.h>

#include "helpers.h"

#define B	TEST_BASE
#define RW	(PROT_READ | PROT_WRITE)
#define ANON	(MAP_PRIVATE | MAP_ANONYMOUS)
#define GiB	(1UL << 30)

/* --- helpers -------------------------------------------------------------- */

/* Is there a PTE table for addr at all? */
static bool has_pte_table(struct mm_struct *mm, unsigned long addr)
{
	pmd_t *pmd = mm_find_pmd(mm, addr);

	return pmd && pmd_present(pmdp_get(pmd));
}

#define assert_pages_valid(mm) \
	assert_int_equal(validate_mm_pages(&(mm), 1), 0)

/* Write a value that names the page into each page of [start, end). */
static void fill_pages(struct mm_struct *mm, unsigned long base,
		       unsigned long start, unsigned long end)
{
	unsigned long i;

	for (i = start; i < end; i++)
		write_ul(mm, PG(base, i), 0x1000 + i);
}

/* Each page of [start, end) holds what fill_pages() wrote at from + i. */
static void check_pages(struct mm_struct *mm, unsigned long base,
			unsigned long start, unsigned long end,
			unsigned long from)
{
	unsigned long i;

	for (i = start; i < end; i++)
		assert_int_equal(read_ul(mm, PG(base, i)),
				 0x1000 + from + (i - start));
}

/* --- munmap --------------------------------------------------------------- */

/*
 * Unmapping a faulted range gives back its pages and, with nothing else
 * mapped, every table under the PGD: the free count is what it was.
 * The range crosses a PMD boundary, so it has two PTE tables.
 */
static void munmap_frees_pages_and_tables(void **state)
{
	struct mm_struct *mm = test_mm(state);
	unsigned long free0 = nr_free_pages();

	map_anon(mm, B, 500, 530, RW);
	fill_pages(mm, B, 500, 530);
	assert_pages_valid(mm);
	assert_int_equal(get_mm_counter(mm, MM_ANONPAGES), 30);
	/* 30 pages, 2 PTE tables, a PMD table, a PUD table at least */
	assert_true(nr_free_pages() <= free0 - 34);

	unmap_pages(mm, B, 500, 530);
	assert_int_equal(get_mm_counter(mm, MM_ANONPAGES), 0);
	assert_false(has_pte_table(mm, PG(B, 500)));
	assert_false(has_pte_table(mm, PG(B, 520)));
	assert_int_equal(nr_free_pages(), free0);
	assert_pages_valid(mm);
}

/*
 * A VMA further on in the same PTE table keeps the table (the ceiling of
 * free_pgtables() is its start): only the pages come back.  Once it goes
 * too, the table goes with it.
 *
 *	|-- X --|.......|-- Y --|      one PTE table
 *	0       4       8       12
 */
static void munmap_keeps_table_of_neighbour(void **state)
{
	struct mm_struct *mm = test_mm(state);
	unsigned long free0 = nr_free_pages(), free1;

	map_anon(mm, B, 0, 4, RW);
	map_anon(mm, B, 8, 12, RW);
	fill_pages(mm, B, 0, 4);
	fill_pages(mm, B, 8, 12);
	free1 = nr_free_pages();

	unmap_pages(mm, B, 0, 4);
	assert_int_equal(nr_free_pages(), free1 + 4);
	assert_true(has_pte_table(mm, PG(B, 8)));
	check_pages(mm, B, 8, 12, 8);
	assert_pages_valid(mm);

	unmap_pages(mm, B, 8, 12);
	assert_int_equal(nr_free_pages(), free0);
}

/*
 * A neighbour in the next PMD keeps the PMD table but not the PTE table
 * of the range: pages plus one table come back.  The same below: the
 * floor is the end of the VMA before.
 */
static void munmap_frees_own_pte_table_only(void **state)
{
	struct mm_struct *mm = test_mm(state);
	unsigned long free0 = nr_free_pages(), free1;

	map_anon(mm, B, 0, 4, RW);
	map_anon(mm, B, 512, 516, RW);
	map_anon(mm, B, 1024, 1028, RW);
	fill_pages(mm, B, 0, 4);
	fill_pages(mm, B, 512, 516);
	fill_pages(mm, B, 1024, 1028);
	free1 = nr_free_pages();

	unmap_pages(mm, B, 512, 516);
	assert_int_equal(nr_free_pages(), free1 + 4 + 1);
	assert_false(has_pte_table(mm, PG(B, 512)));
	check_pages(mm, B, 0, 4, 0);
	check_pages(mm, B, 1024, 1028, 1024);

	unmap_pages(mm, B, 0, 4);
	assert_int_equal(nr_free_pages(), free1 + 2 * (4 + 1));
	assert_pages_valid(mm);
	unmap_pages(mm, B, 1024, 1028);
	assert_int_equal(nr_free_pages(), free0);
}

/* Unmapping the middle of a VMA splits it; the pages around stay mapped. */
static void munmap_middle_keeps_the_rest(void **state)
{
	struct mm_struct *mm = test_mm(state);
	unsigned long free1;

	map_anon(mm, B, 0, 8, RW);
	fill_pages(mm, B, 0, 8);
	free1 = nr_free_pages();
	unmap_pages(mm, B, 2, 4);
	assert_int_equal(nr_free_pages(), free1 + 2);
	assert_true(pte_none(pte_of(mm, PG(B, 2))));
	assert_true(pte_none(pte_of(mm, PG(B, 3))));
	check_pages(mm, B, 0, 2, 0);
	check_pages(mm, B, 4, 8, 4);
	assert_int_equal(get_mm_counter(mm, MM_ANONPAGES), 6);
	assert_pages_valid(mm);
	unmap_pages(mm, B, 0, 8);
}

/* MAP_FIXED over faulted pages unmaps them: the new mapping reads zeros. */
static void map_fixed_replaces_pages(void **state)
{
	struct mm_struct *mm = test_mm(state);
	unsigned long free1;

	map_anon(mm, B, 0, 4, RW);
	fill_pages(mm, B, 0, 4);
	free1 = nr_free_pages();
	map_anon(mm, B, 1, 3, RW);
	assert_int_equal(nr_free_pages(), free1 + 2);
	assert_true(pte_none(pte_of(mm, PG(B, 1))));
	assert_int_equal(read_ul(mm, PG(B, 1)), 0);
	assert_int_equal(read_ul(mm, PG(B, 3)), 0x1003);
	assert_pages_valid(mm);
	unmap_pages(mm, B, 0, 4);
}

/* --- mprotect ------------------------------------------------------------- */

/*
 * Read-only: the mapped PTE loses RW at once (a store faults), keeps its
 * pfn and its dirty bit.  Back to read-write, a private PTE stays
 * read-only until the write fault, which reuses the exclusive page.
 */
static void mprotect_private_ro_and_back(void **state)
{
	struct mm_struct *mm = test_mm(state);
	unsigned long pfn;
	pte_t pte;

	map_anon(mm, B, 0, 4, RW);
	fill_pages(mm, B, 0, 4);
	pfn = pte_pfn(pte_of(mm, PG(B, 1)));
	assert_true(pte_write(pte_of(mm, PG(B, 1))));

	protect_pages(mm, B, 1, 2, PROT_READ);
	pte = pte_of(mm, PG(B, 1));
	assert_true(pte_present(pte));
	assert_false(pte_write(pte));
	assert_true(pte_dirty(pte));
	assert_int_equal(pte_pfn(pte), pfn);
	assert_true(pte_write(pte_of(mm, PG(B, 0))));
	assert_true(pte_write(pte_of(mm, PG(B, 2))));
	assert_int_equal(store_ul(mm, PG(B, 1), 1), SIGSEGV);
	assert_int_equal(read_ul(mm, PG(B, 1)), 0x1001);
	assert_pages_valid(mm);

	protect_pages(mm, B, 1, 2, RW);
	pte = pte_of(mm, PG(B, 1));
	assert_false(pte_write(pte));
	assert_int_equal(pte_pfn(pte), pfn);
	write_ul(mm, PG(B, 1), 7);
	pte = pte_of(mm, PG(B, 1));
	assert_true(pte_write(pte));
	assert_int_equal(pte_pfn(pte), pfn);	/* reused, not copied */
	assert_int_equal(get_mm_counter(mm, MM_ANONPAGES), 4);
	assert_pages_valid(mm);
	unmap_pages(mm, B, 0, 4);
}

/* A shared mapping's PTE becomes writable again at once. */
static void mprotect_shared_ro_and_back(void **state)
{
	struct mm_struct *mm = test_mm(state);
	unsigned long pfn;

	map_shared(mm, B, 0, 2, RW);
	fill_pages(mm, B, 0, 2);
	pfn = pte_pfn(pte_of(mm, PG(B, 0)));
	assert_int_equal(get_mm_counter(mm, MM_SHMEMPAGES), 2);

	protect_pages(mm, B, 0, 2, PROT_READ);
	assert_false(pte_write(pte_of(mm, PG(B, 0))));
	assert_int_equal(store_ul(mm, PG(B, 0), 1), SIGSEGV);
	protect_pages(mm, B, 0, 2, RW);
	assert_true(pte_write(pte_of(mm, PG(B, 0))));
	assert_int_equal(pte_pfn(pte_of(mm, PG(B, 0))), pfn);
	write_ul(mm, PG(B, 0), 9);
	assert_int_equal(read_ul(mm, PG(B, 0)), 9);
	assert_pages_valid(mm);
	unmap_pages(mm, B, 0, 2);
}

/*
 * PROT_NONE keeps the page mapped (present for the kernel, _PAGE_PRESENT
 * clear for the MMU, as x86 does it); access comes back with the rights,
 * and munmap still frees the page.
 */
static void mprotect_none_keeps_page(void **state)
{
	struct mm_struct *mm = test_mm(state);
	unsigned long free0 = nr_free_pages(), pfn;
	int sig;
	pte_t pte;

	map_anon(mm, B, 0, 2, RW);
	fill_pages(mm, B, 0, 2);
	pfn = pte_pfn(pte_of(mm, PG(B, 0)));
	protect_pages(mm, B, 0, 2, PROT_NONE);
	pte = pte_of(mm, PG(B, 0));
	assert_true(pte_protnone(pte));
	assert_false(pte.pte & _PAGE_PRESENT);
	assert_int_equal(pte_pfn(pte), pfn);
	load_ul(mm, PG(B, 0), &sig);
	assert_int_equal(sig, SIGSEGV);
	assert_pages_valid(mm);

	protect_pages(mm, B, 0, 2, PROT_READ);
	assert_true(pte_of(mm, PG(B, 0)).pte & _PAGE_PRESENT);
	assert_false(pte_protnone(pte_of(mm, PG(B, 0))));
	assert_int_equal(read_ul(mm, PG(B, 0)), 0x1000);
	protect_pages(mm, B, 0, 1, PROT_NONE);
	unmap_pages(mm, B, 0, 2);
	assert_int_equal(nr_free_pages(), free0);
}

/* Adding PROT_EXEC clears NX on the mapped PTEs; removing it sets it. */
static void mprotect_exec(void **state)
{
	struct mm_struct *mm = test_mm(state);

	map_anon(mm, B, 0, 1, PROT_READ);
	assert_int_equal(read_ul(mm, PG(B, 0)), 0);	/* the zero page */
	assert_false(pte_exec(pte_of(mm, PG(B, 0))));
	protect_pages(mm, B, 0, 1, PROT_READ | PROT_EXEC);
	assert_true(pte_exec(pte_of(mm, PG(B, 0))));
	assert_true(pte_present(pte_of(mm, PG(B, 0))));
	protect_pages(mm, B, 0, 1, PROT_READ);
	assert_false(pte_exec(pte_of(mm, PG(B, 0))));
	assert_pages_valid(mm);
	unmap_pages(mm, B, 0, 1);
}

/* --- mremap --------------------------------------------------------------- */

/*
 * A move takes the PTEs along: same pfns at the new address, the data
 * follows, nothing left at the old one.  The source's tables are freed
 * and the destination got as many: the free count does not change.
 */
static void mremap_moves_ptes(void **state)
{
	struct mm_struct *mm = test_mm(state);
	unsigned long pfn[8], free1, ret, i;

	map_anon(mm, B, 0, 8, RW);
	fill_pages(mm, B, 0, 8);
	for (i = 0; i < 8; i++)
		pfn[i] = pte_pfn(pte_of(mm, PG(B, i)));
	free1 = nr_free_pages();

	ret = sys_mremap(mm, B, PG(0, 8), PG(0, 8),
			 MREMAP_MAYMOVE | MREMAP_FIXED, B + GiB);
	assert_int_equal(ret, B + GiB);
	assert_valid(mm);
	assert_pages_valid(mm);
	for (i = 0; i < 8; i++) {
		assert_true(pte_none(pte_of(mm, PG(B, i))));
		assert_int_equal(pte_pfn(pte_of(mm, PG(B + GiB, i))), pfn[i]);
	}
	assert_false(has_pte_table(mm, B));
	check_pages(mm, B + GiB, 0, 8, 0);
	assert_int_equal(nr_free_pages(), free1);
	assert_int_equal(get_mm_counter(mm, MM_ANONPAGES), 8);
	unmap_pages(mm, B + GiB, 0, 8);
}

/*
 * A move that overlaps its own PMD and crosses PMD boundaries on both
 * sides, with a hole: the moved part and the hole keep their places.
 */
static void mremap_moves_across_pmds(void **state)
{
	struct mm_struct *mm = test_mm(state);
	unsigned long ret;

	map_anon(mm, B, 508, 520, RW);
	fill_pages(mm, B, 508, 512);
	fill_pages(mm, B, 516, 520);
	ret = sys_mremap(mm, PG(B, 508), PG(0, 12), PG(0, 12),
			 MREMAP_MAYMOVE | MREMAP_FIXED, PG(B, 1020));
	assert_int_equal(ret, PG(B, 1020));
	assert_pages_valid(mm);
	check_pages(mm, B, 1020, 1024, 508);
	assert_true(pte_none(pte_of(mm, PG(B, 1025))));
	assert_int_equal(read_ul(mm, PG(B, 1025)), 0);
	check_pages(mm, B, 1028, 1032, 516);
	assert_true(pte_none(pte_of(mm, PG(B, 510))));
	unmap_pages(mm, B, 1020, 1032);
}

/* Growing in place leaves the PTEs alone; shrinking frees the tail. */
static void mremap_grow_and_shrink_in_place(void **state)
{
	struct mm_struct *mm = test_mm(state);
	unsigned long pfn, free1, ret;

	map_anon(mm, B, 0, 4, RW);
	fill_pages(mm, B, 0, 4);
	pfn = pte_pfn(pte_of(mm, PG(B, 3)));
	ret = sys_mremap(mm, B, PG(0, 4), PG(0, 8), 0, 0);
	assert_int_equal(ret, B);
	assert_int_equal(pte_pfn(pte_of(mm, PG(B, 3))), pfn);
	assert_true(pte_none(pte_of(mm, PG(B, 5))));
	check_pages(mm, B, 0, 4, 0);
	assert_pages_valid(mm);

	free1 = nr_free_pages();
	ret = sys_mremap(mm, B, PG(0, 8), PG(0, 2), 0, 0);
	assert_int_equal(ret, B);
	assert_int_equal(nr_free_pages(), free1 + 2);
	assert_true(pte_none(pte_of(mm, PG(B, 3))));
	assert_int_equal(get_mm_counter(mm, MM_ANONPAGES), 2);
	assert_pages_valid(mm);
	unmap_pages(mm, B, 0, 2);
}

/*
 * MREMAP_DONTUNMAP: the PTEs move, the source stays mapped and empty (a
 * read there finds the zero page, not the old data).
 */
static void mremap_dontunmap_leaves_source_empty(void **state)
{
	struct mm_struct *mm = test_mm(state);
	unsigned long pfn, ret;

	map_anon(mm, B, 0, 4, RW);
	fill_pages(mm, B, 0, 4);
	pfn = pte_pfn(pte_of(mm, PG(B, 2)));
	ret = sys_mremap(mm, B, PG(0, 4), PG(0, 4),
			 MREMAP_MAYMOVE | MREMAP_FIXED | MREMAP_DONTUNMAP,
			 PG(B, 100));
	assert_int_equal(ret, PG(B, 100));
	assert_pages_valid(mm);
	assert_non_null(vma_at(mm, B));
	assert_true(pte_none(pte_of(mm, PG(B, 2))));
	assert_int_equal(pte_pfn(pte_of(mm, PG(B, 102))), pfn);
	check_pages(mm, B, 100, 104, 0);
	assert_int_equal(read_ul(mm, PG(B, 2)), 0);
	assert_int_equal(get_mm_counter(mm, MM_ANONPAGES), 4);
	assert_pages_valid(mm);
	unmap_pages(mm, B, 0, 104);
}

/*
 * Use up all but target free frames by writing pages of a filler
 * mapping at filler, whose two PTE tables are made first so that every
 * later write takes exactly one frame.
 */
static void fill_memory(struct mm_struct *mm, unsigned long filler,
			unsigned long target)
{
	unsigned long i;

	write_ul(mm, PG(filler, 0), 1);
	write_ul(mm, PG(filler, 512), 1);
	for (i = 1; nr_free_pages() > target; i++) {
		assert_true(i < 1024);
		if (i != 512)
			write_ul(mm, PG(filler, i), 1);
	}
	assert_int_equal(nr_free_pages(), target);
}

/*
 * Out of memory half-way: the source crosses a PMD boundary, and the
 * destination (in another PMD table) gets its PMD table and the first
 * PTE table but not the second.  The PTEs moved come back, the copy is
 * unmapped, mremap fails with -ENOMEM and the source is as it was.
 */
static void mremap_enomem_moves_back(void **state)
{
	struct mm_struct *mm = test_mm(state);
	unsigned long filler = B + 2 * GiB, pfn[8], ret, i;

	map_anon(mm, B, 508, 516, RW);
	fill_pages(mm, B, 508, 516);
	for (i = 0; i < 8; i++)
		pfn[i] = pte_pfn(pte_of(mm, PG(B, 508 + i)));
	map_anon(mm, filler, 0, 1024, RW);
	fill_memory(mm, filler, 2);

	ret = sys_mremap(mm, PG(B, 508), PG(0, 8), PG(0, 8),
			 MREMAP_MAYMOVE | MREMAP_FIXED, B + GiB + PG(0, 508));
	assert_int_equal(ret, -ENOMEM);
	assert_valid(mm);
	assert_pages_valid(mm);
	assert_layout_in(mm, B, 0, 1024, { 508, 516, VMA_RW });
	assert_null(vma_at(mm, B + GiB + PG(0, 508)));
	for (i = 0; i < 8; i++)
		assert_int_equal(pte_pfn(pte_of(mm, PG(B, 508 + i))), pfn[i]);
	assert_int_equal(nr_free_pages(), 2);
	check_pages(mm, B, 508, 516, 508);
	unmap_pages(mm, filler, 0, 1024);
	unmap_pages(mm, B, 508, 516);
}

/* --- madvise -------------------------------------------------------------- */

/* MADV_DONTNEED frees the pages: the next read finds zeros. */
static void madvise_dontneed_zaps(void **state)
{
	struct mm_struct *mm = test_mm(state);
	unsigned long free1;

	map_anon(mm, B, 0, 4, RW);
	fill_pages(mm, B, 0, 4);
	free1 = nr_free_pages();
	assert_int_equal(sys_madvise(mm, PG(B, 1), PG(0, 2), MADV_DONTNEED), 0);
	assert_int_equal(nr_free_pages(), free1 + 2);
	assert_true(pte_none(pte_of(mm, PG(B, 1))));
	assert_true(pte_none(pte_of(mm, PG(B, 2))));
	assert_false(pte_none(pte_of(mm, PG(B, 3))));
	assert_int_equal(get_mm_counter(mm, MM_ANONPAGES), 2);
	assert_pages_valid(mm);
	assert_int_equal(read_ul(mm, PG(B, 1)), 0);
	assert_int_equal(read_ul(mm, PG(B, 3)), 0x1003);
	assert_layout(mm, B, { 0, 4, VMA_RW });
	unmap_pages(mm, B, 0, 4);
}

/* A shared mapping's pages live on in the page cache: the data stays. */
static void madvise_dontneed_shared_keeps_data(void **state)
{
	struct mm_struct *mm = test_mm(state);

	map_shared(mm, B, 0, 2, RW);
	fill_pages(mm, B, 0, 2);
	assert_int_equal(sys_madvise(mm, B, PG(0, 2), MADV_DONTNEED), 0);
	assert_true(pte_none(pte_of(mm, PG(B, 0))));
	assert_int_equal(get_mm_counter(mm, MM_SHMEMPAGES), 0);
	assert_pages_valid(mm);
	check_pages(mm, B, 0, 2, 0);
	unmap_pages(mm, B, 0, 2);
}

/* --- empty PTE-table reclaim (MADV_DONTNEED, pt_reclaim) ---------------- */

static long pt_bytes(struct mm_struct *mm)
{
	return atomic_load(&mm->pgtables_bytes);
}

/*
 * MADV_DONTNEED of the whole range of a PTE table, in one VMA, frees the
 * table with the pages (Linux 6.14's CONFIG_PT_RECLAIM): the PMD is
 * cleared, pgtables_bytes drops by a page, and after a grace period the
 * frame is back.  The table of the next PMD, only partly zapped, stays.
 * The next access allocates a table again and finds zeros.
 */
static void madvise_dontneed_reclaims_empty_table(void **state)
{
	struct mm_struct *mm = test_mm(state);
	unsigned long free1;
	long bytes1;

	map_anon(mm, B, 0, 1024, RW);		/* two PTE tables */
	fill_pages(mm, B, 0, 16);
	fill_pages(mm, B, 512, 528);
	bytes1 = pt_bytes(mm);
	free1 = nr_free_pages();
	assert_int_equal(sys_madvise(mm, B, PG(0, 520), MADV_DONTNEED), 0);
	assert_false(has_pte_table(mm, PG(B, 0)));
	assert_true(has_pte_table(mm, PG(B, 512)));
	assert_int_equal(pt_bytes(mm), bytes1 - PAGE_SIZE);
	assert_int_equal(get_mm_counter(mm, MM_ANONPAGES), 8);
	assert_valid(mm);
	assert_pages_valid(mm);
	rcu_barrier();		/* the table waits for a grace period */
	assert_int_equal(nr_free_pages(), free1 + 16 + 8 + 1);

	assert_int_equal(read_ul(mm, PG(B, 3)), 0);	/* the zero page */
	assert_true(has_pte_table(mm, PG(B, 0)));
	assert_int_equal(pt_bytes(mm), bytes1);
	write_ul(mm, PG(B, 5), 0x55);
	assert_int_equal(read_ul(mm, PG(B, 5)), 0x55);
	check_pages(mm, B, 520, 528, 520);
	assert_valid(mm);
	assert_pages_valid(mm);
	unmap_pages(mm, B, 0, 1024);
}

/*
 * The table stays when one PTE of it stays: the zap did not cover its
 * whole range, or the range is shared by two VMAs (neither VMA's zap
 * covers the table, although the advice covers both).
 */
static void madvise_dontneed_keeps_table_in_use(void **state)
{
	struct mm_struct *mm = test_mm(state);
	long bytes1;

	map_anon(mm, B, 0, 512, RW);
	fill_pages(mm, B, 0, 4);
	fill_pages(mm, B, 511, 512);
	bytes1 = pt_bytes(mm);
	assert_int_equal(sys_madvise(mm, B, PG(0, 511), MADV_DONTNEED), 0);
	assert_true(has_pte_table(mm, B));
	assert_int_equal(pt_bytes(mm), bytes1);
	check_pages(mm, B, 511, 512, 511);
	assert_int_equal(read_ul(mm, PG(B, 0)), 0);

	/* Two VMAs (different rights) share the table. */
	protect_pages(mm, B, 256, 512, PROT_READ);
	fill_pages(mm, B, 0, 2);
	assert_int_equal(sys_madvise(mm, B, PG(0, 512), MADV_DONTNEED), 0);
	assert_true(has_pte_table(mm, B));
	assert_int_equal(pt_bytes(mm), bytes1);
	assert_true(pte_none(pte_of(mm, PG(B, 511))));
	assert_int_equal(get_mm_counter(mm, MM_ANONPAGES), 0);
	assert_valid(mm);
	assert_pages_valid(mm);
	unmap_pages(mm, B, 0, 512);
	assert_false(has_pte_table(mm, B));
}

/*
 * More pages than a gather batch: the zap drops the PTE lock to flush on
 * the way, so a fault may have refilled a PTE; the table is freed only
 * after all its entries were seen none again under the PMD and PTE locks.
 */
static void madvise_dontneed_reclaims_after_batches(void **state)
{
	struct mm_struct *mm = test_mm(state);
	unsigned long free1;
	long bytes1;

	map_anon(mm, B, 0, 512, RW);
	fill_pages(mm, B, 0, 3 * MMU_GATHER_BATCH + 5);
	bytes1 = pt_bytes(mm);
	free1 = nr_free_pages();
	assert_int_equal(sys_madvise(mm, B, PMD_SIZE, MADV_DONTNEED), 0);
	assert_false(has_pte_table(mm, B));
	assert_int_equal(pt_bytes(mm), bytes1 - PAGE_SIZE);
	rcu_barrier();
	assert_int_equal(nr_free_pages(), free1 + 3 * MMU_GATHER_BATCH + 5 + 1);
	assert_valid(mm);
	assert_pages_valid(mm);
	unmap_pages(mm, B, 0, 512);
}

/*
 * The slow path itself (pt_reclaim_try_clear): a table with one PTE left
 * is not unlinked; once that PTE is zapped too, it is, and the gather
 * frees it after its flush.
 */
static void pt_reclaim_checks_every_entry(void **state)
{
	struct mm_struct *mm = test_mm(state);
	struct mmu_gather tlb;
	pmd_t *pmd, pmdval;
	unsigned long free1;
	long bytes1;

	map_anon(mm, B, 0, 512, RW);
	fill_pages(mm, B, 300, 301);
	pmd = mm_find_pmd(mm, B);
	assert_non_null(pmd);
	bytes1 = pt_bytes(mm);
	mmap_read_lock(mm);
	assert_false(pt_reclaim_try_clear(mm, pmd, &pmdval));
	mmap_read_unlock(mm);
	assert_true(has_pte_table(mm, B));
	check_pages(mm, B, 300, 301, 300);

	/* A zap of that page alone leaves the table (it is not all zapped). */
	assert_int_equal(sys_madvise(mm, PG(B, 300), PAGE_SIZE,
				     MADV_DONTNEED), 0);
	assert_true(has_pte_table(mm, B));
	free1 = nr_free_pages();
	mmap_read_lock(mm);
	assert_true(pt_reclaim_try_clear(mm, pmd, &pmdval));
	tlb_gather_mmu(&tlb, mm);
	pt_reclaim_free(&tlb, pmdval, B);
	tlb_finish_mmu(&tlb);
	mmap_read_unlock(mm);
	assert_false(has_pte_table(mm, B));
	assert_int_equal(pt_bytes(mm), bytes1 - PAGE_SIZE);
	rcu_barrier();
	assert_int_equal(nr_free_pages(), free1 + 1);
	assert_valid(mm);
	/* Nothing left to reclaim: no PMD entry, nothing done. */
	mmap_read_lock(mm);
	assert_false(pt_reclaim_try_clear(mm, pmd, &pmdval));
	mmap_read_unlock(mm);
	unmap_pages(mm, B, 0, 512);
}

/* --- a classic fault racing with the reclaim -------------------------------- */

static struct mm_struct *race_mm;
static __thread bool race_thread;
static atomic_int race_fired;

static void dontneed_whole_table(void *arg)
{
	assert_int_equal(sys_madvise(race_mm, B, PMD_SIZE, MADV_DONTNEED), 0);
}

/*
 * At the first SCHED_PTE of this thread's fault (right after it read the
 * PTE without the lock), another CPU zaps the whole table and frees it.
 */
static void reclaim_hook(enum mmsim_sched_event ev, const void *obj)
{
	if (!race_thread || ev != SCHED_PTE || atomic_exchange(&race_fired, 1))
		return;
	run_on_other_cpu(dontneed_whole_table, NULL);
}

/*
 * A classic write fault read a present PTE (the zero page) under the
 * mmap read lock; before it takes the PTE lock, MADV_DONTNEED on another
 * CPU (also under the read lock) empties and unlinks the table.  The
 * fault must see the PMD changed under the PTE lock and return 0 (the
 * access faults again), without writing into the dead table, which is
 * freed only after the grace period the fault is in.  The retried access
 * maps a page in a new table.
 */
static void classic_fault_races_reclaim(void **state)
{
	struct mm_struct *mm = test_mm(state);
	struct vm_area_struct *vma;
	vm_fault_t ret;
	long bytes1;

	map_anon(mm, B, 0, 512, RW);
	assert_int_equal(read_ul(mm, PG(B, 1)), 0);	/* the zero page */
	fill_pages(mm, B, 7, 8);
	bytes1 = pt_bytes(mm);
	race_mm = mm;
	race_thread = true;
	atomic_store(&race_fired, 0);
	mmsim_set_sched_hook(reclaim_hook);
	mmap_read_lock(mm);
	vma = find_vma(mm, PG(B, 1));
	ret = handle_mm_fault(vma, PG(B, 1), FAULT_FLAG_USER | FAULT_FLAG_WRITE,
			      NULL);
	mmap_read_unlock(mm);
	mmsim_set_sched_hook(NULL);
	race_thread = false;
	assert_true(atomic_load(&race_fired));
	assert_int_equal(ret, 0);
	assert_false(has_pte_table(mm, B));
	assert_int_equal(pt_bytes(mm), bytes1 - PAGE_SIZE);
	assert_int_equal(get_mm_counter(mm, MM_ANONPAGES), 0);
	assert_valid(mm);
	assert_pages_valid(mm);

	write_ul(mm, PG(B, 1), 0x11);
	assert_int_equal(read_ul(mm, PG(B, 1)), 0x11);
	assert_int_equal(read_ul(mm, PG(B, 7)), 0);
	assert_int_equal(pt_bytes(mm), bytes1);
	assert_valid(mm);
	assert_pages_valid(mm);
	unmap_pages(mm, B, 0, 512);
}

/* A locked VMA refuses MADV_DONTNEED (-EINVAL) and keeps its pages. */
static void madvise_dontneed_locked_refused(void **state)
{
	struct mm_struct *mm = test_mm(state);

	map_anon(mm, B, 0, 2, RW);
	assert_int_equal(sys_mlock(mm, B, PG(0, 2)), 0);
	assert_int_equal(sys_madvise(mm, B, PG(0, 2), MADV_DONTNEED), -EINVAL);
	assert_true(pte_present(pte_of(mm, PG(B, 0))));
	assert_true(pte_present(pte_of(mm, PG(B, 1))));
	assert_pages_valid(mm);
	unmap_pages(mm, B, 0, 2);
}

/* --- populate ------------------------------------------------------------- */

/*
 * mlock of a private writable range faults every page in for writing:
 * present, writable, each its own anonymous page.
 */
static void mlock_populates_private_writable(void **state)
{
	struct mm_struct *mm = test_mm(state);
	unsigned long i;

	map_anon(mm, B, 0, 8, RW);
	assert_int_equal(sys_mlock(mm, PG(B, 2), PG(0, 4)), 0);
	for (i = 0; i < 8; i++) {
		pte_t pte = pte_of(mm, PG(B, i));

		if (i >= 2 && i < 6) {
			assert_true(pte_present(pte));
			assert_true(pte_write(pte));
		} else {
			assert_true(pte_none(pte));
		}
	}
	assert_int_equal(get_mm_counter(mm, MM_ANONPAGES), 4);
	assert_pages_valid(mm);
	unmap_pages(mm, B, 0, 8);
}

/*
 * Read-only private memory populates with read faults (the zero page);
 * shared memory with read faults too, which map its shmem pages.
 */
static void mlock_populates_readonly_and_shared(void **state)
{
	struct mm_struct *mm = test_mm(state);

	map_anon(mm, B, 0, 2, PROT_READ);
	map_shared(mm, B, 4, 6, RW);
	assert_int_equal(sys_mlock(mm, B, PG(0, 6)), -ENOMEM);	/* hole */
	assert_int_equal(sys_mlock(mm, B, PG(0, 2)), 0);
	assert_int_equal(sys_mlock(mm, PG(B, 4), PG(0, 2)), 0);
	assert_true(pte_present(pte_of(mm, PG(B, 1))));
	assert_int_equal(pte_pfn(pte_of(mm, PG(B, 1))),
			 page_to_pfn(ZERO_PAGE(0)));
	assert_true(pte_present(pte_of(mm, PG(B, 5))));
	assert_int_equal(get_mm_counter(mm, MM_ANONPAGES), 0);
	assert_int_equal(get_mm_counter(mm, MM_SHMEMPAGES), 2);
	assert_pages_valid(mm);
	unmap_pages(mm, B, 0, 6);
}

/* MLOCK_ONFAULT and PROT_NONE populate nothing (the latter fails). */
static void mlock_onfault_and_prot_none(void **state)
{
	struct mm_struct *mm = test_mm(state);

	map_anon(mm, B, 0, 2, RW);
	map_anon(mm, B, 4, 6, PROT_NONE);
	assert_int_equal(sys_mlock2(mm, B, PG(0, 2), MLOCK_ONFAULT), 0);
	assert_true(pte_none(pte_of(mm, PG(B, 0))));
	assert_int_equal(sys_mlock(mm, PG(B, 4), PG(0, 2)), -ENOMEM);
	assert_true(pte_none(pte_of(mm, PG(B, 4))));
	assert_int_equal(get_mm_counter(mm, MM_ANONPAGES), 0);
	assert_pages_valid(mm);
	unmap_pages(mm, B, 0, 6);
}

/* MAP_POPULATE and MAP_LOCKED map every page at mmap time. */
static void mmap_populate_and_locked(void **state)
{
	struct mm_struct *mm = test_mm(state);
	unsigned long addr;

	addr = sys_mmap(mm, B, PG(0, 3), RW, ANON | MAP_FIXED | MAP_POPULATE,
			NULL, 0);
	assert_int_equal(addr, B);
	addr = sys_mmap(mm, PG(B, 8), PG(0, 3), RW,
			ANON | MAP_FIXED | MAP_LOCKED, NULL, 0);
	assert_int_equal(addr, PG(B, 8));
	assert_true(pte_write(pte_of(mm, PG(B, 2))));
	assert_true(pte_write(pte_of(mm, PG(B, 10))));
	assert_int_equal(get_mm_counter(mm, MM_ANONPAGES), 6);
	assert_pages_valid(mm);
	unmap_pages(mm, B, 0, 11);
}

/*
 * A shared mapping grown past its file: mlock faults in the pages before
 * the end of the file, then fails (SIGBUS, reported as -ENOMEM).
 */
static void mlock_shared_past_eof(void **state)
{
	struct mm_struct *mm = test_mm(state);
	unsigned long ret;

	map_shared(mm, B, 0, 2, RW);
	ret = sys_mremap(mm, B, PG(0, 2), PG(0, 4), 0, 0);
	assert_int_equal(ret, B);
	assert_int_equal(sys_mlock(mm, B, PG(0, 4)), -ENOMEM);
	assert_true(pte_present(pte_of(mm, PG(B, 1))));
	assert_true(pte_none(pte_of(mm, PG(B, 2))));
	assert_pages_valid(mm);
	unmap_pages(mm, B, 0, 4);
}

/* --- exit ----------------------------------------------------------------- */

/* mmput() of an mm with every kind of mapping gives back every frame. */
static void exit_returns_every_frame(void **state)
{
	struct test_env *env = *state;
	struct mm_struct *mm = env->mm;

	map_anon(mm, B, 0, 600, RW);
	fill_pages(mm, B, 0, 600);
	map_shared(mm, B + GiB, 0, 4, RW);
	fill_pages(mm, B + GiB, 0, 4);
	map_anon(mm, B + 2 * GiB, 0, 4, RW);
	fill_pages(mm, B + 2 * GiB, 0, 4);
	protect_pages(mm, B + 2 * GiB, 0, 2, PROT_NONE);
	map_anon(mm, B + 3 * GiB, 0, 2, PROT_READ);
	assert_int_equal(sys_mlock(mm, B + 3 * GiB, PG(0, 2)), 0);
	assert_pages_valid(mm);
	assert_true(nr_free_pages() < env->free_pages - 600);

	mmsim_switch_mm(NULL);
	mmput(mm);
	env->mm = NULL;
	rcu_barrier();	/* spf-srcu: the shmem file goes after a grace period */
	assert_int_equal(nr_free_pages(), env->free_pages);
}

/* The same on 5 levels, with a mapping above 47 bits. */
static void exit_returns_every_frame_5level(void **state)
{
	struct test_env *env = *state;
	struct mm_struct *mm = env->mm;
	unsigned long high = 1UL << 52;

	assert_int_equal(sys_mmap(mm, high, PG(0, 2), RW, ANON | MAP_FIXED,
				  NULL, 0), high);
	map_anon(mm, B, 0, 2, RW);
	fill_pages(mm, high, 0, 2);
	fill_pages(mm, B, 0, 2);
	assert_pages_valid(mm);
	mmsim_switch_mm(NULL);
	mmput(mm);
	env->mm = NULL;
	rcu_barrier();	/* spf-srcu: the shmem file goes after a grace period */
	assert_int_equal(nr_free_pages(), env->free_pages);
}

/* --- the validator itself ------------------------------------------------- */

/*
 * validate_mm_pages() sees a writable PTE in a read-only VMA, an RSS
 * counter that does not match, and a wrong map count.
 */
static void validate_catches_bad_ptes(void **state)
{
	struct mm_struct *mm = test_mm(state);
	struct page *page;
	pmd_t *pmd;
	pte_t *ptep;

	map_anon(mm, B, 0, 1, RW);
	write_ul(mm, B, 1);
	protect_pages(mm, B, 0, 1, PROT_READ);
	pmd = mm_find_pmd(mm, B);
	assert_non_null(pmd);
	ptep = pte_offset_kernel(pmdp_get(pmd), B);

	fprintf(stderr, "(problems expected below)\n");
	set_pte(ptep, pte_mkwrite(ptep_get(ptep)));
	assert_int_equal(validate_mm_pages(&mm, 1), 1);
	set_pte(ptep, pte_wrprotect(ptep_get(ptep)));

	inc_mm_counter(mm, MM_ANONPAGES);
	assert_int_equal(validate_mm(mm), 1);
	dec_mm_counter(mm, MM_ANONPAGES);

	/*
	 * One more map count (and reference, so that only the map count is
	 * wrong): the count differs from the PTEs, and an exclusive page
	 * looks mapped twice.
	 */
	page = pte_page(ptep_get(ptep));
	atomic_fetch_add(&page->_refcount, 1);
	atomic_fetch_add(&page->_mapcount, 1);
	assert_int_equal(validate_mm_pages(&mm, 1), 2);
	atomic_fetch_sub(&page->_mapcount, 1);
	atomic_fetch_sub(&page->_refcount, 1);
	fprintf(stderr, "(no more problems expected)\n");

	assert_pages_valid(mm);
	unmap_pages(mm, B, 0, 1);
}

/* Tests that switch to their mm leave no CPU on it for the teardown. */
static int pt_teardown(void **state)
{
	mmsim_switch_mm(NULL);
	return mm_teardown(state);
}

#define PT_TEST(fn) cmocka_unit_test_setup_teardown(fn, mm_setup, pt_teardown)
#define PT5_TEST(fn) cmocka_unit_test_setup_teardown(fn, mm_setup5, pt_teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		PT_TEST(munmap_frees_pages_and_tables),
		PT_TEST(munmap_keeps_table_of_neighbour),
		PT_TEST(munmap_frees_own_pte_table_only),
		PT_TEST(munmap_middle_keeps_the_rest),
		PT_TEST(map_fixed_replaces_pages),
		PT_TEST(mprotect_private_ro_and_back),
		PT_TEST(mprotect_shared_ro_and_back),
		PT_TEST(mprotect_none_keeps_page),
		PT_TEST(mprotect_exec),
		PT_TEST(mremap_moves_ptes),
		PT_TEST(mremap_moves_across_pmds),
		PT_TEST(mremap_grow_and_shrink_in_place),
		PT_TEST(mremap_dontunmap_leaves_source_empty),
		cmocka_unit_test_setup_teardown(mremap_enomem_moves_back,
						small_ram_setup,
						small_ram_teardown),
		PT_TEST(madvise_dontneed_zaps),
		PT_TEST(madvise_dontneed_shared_keeps_data),
		PT_TEST(madvise_dontneed_locked_refused),
		PT_TEST(madvise_dontneed_reclaims_empty_table),
		PT_TEST(madvise_dontneed_keeps_table_in_use),
		PT_TEST(madvise_dontneed_reclaims_after_batches),
		PT_TEST(pt_reclaim_checks_every_entry),
		PT_TEST(classic_fault_races_reclaim),
		PT_TEST(mlock_populates_private_writable),
		PT_TEST(mlock_populates_readonly_and_shared),
		PT_TEST(mlock_onfault_and_prot_none),
		PT_TEST(mmap_populate_and_locked),
		PT_TEST(mlock_shared_past_eof),
		PT_TEST(exit_returns_every_frame),
		PT5_TEST(exit_returns_every_frame_5level),
		PT_TEST(validate_catches_bad_ptes),
	};

	mem_init(64UL << 20, 0);
	return cmocka_run_group_tests(tests, NULL, NULL);
}

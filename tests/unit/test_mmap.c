// SPDX-License-Identifier: MIT
/*
 * Unit tests for src/mm/mmap.c and the lookups of src/mm/vma_tree.c:
 * where a new mapping is placed (top-down from mmap_base, hints, the gap
 * augment, the 5-level window), stack growth and its guard gap, find_vma
 * and its relatives on holes and edges, and mms with many VMAs.
 *
 * Where the host kernel could say, it did: the expected placements and
 * stack decisions were checked with the real system calls on Linux 6.18.
 */
#include "helpers.h"

#define B	TEST_BASE
#define RW	(PROT_READ | PROT_WRITE)
#define RX	(PROT_READ | PROT_EXEC)
#define ANON	(MAP_PRIVATE | MAP_ANONYMOUS)

/* Top of the 4-level map window: hintless mappings stay below it. */
#define MAP_WINDOW_47	(1UL << 47)

/* A hintless anonymous private mapping of npages; returns its address. */
static unsigned long __map_anywhere(struct mm_struct *mm, unsigned long hint,
				    unsigned long npages, unsigned long prot,
				    const char *file, int line)
{
	unsigned long addr;

	addr = sys_mmap(mm, hint, npages << PAGE_SHIFT, prot, ANON, NULL, 0);
	_assert_true(!IS_ERR_VALUE(addr), "mmap failed", file, line);
	__assert_valid(mm, file, line);
	return addr;
}

#define map_anywhere(mm, npages, prot) \
	__map_anywhere(mm, 0, npages, prot, __FILE__, __LINE__)
#define map_hint(mm, hint, npages, prot) \
	__map_anywhere(mm, hint, npages, prot, __FILE__, __LINE__)

/* --- placement ------------------------------------------------------------ */

/*
 * Two hintless mmaps, top-down: the first ends at mmap_base, the second
 * ends where the first starts.
 *
 *                    second     first
 *              ... |--------|----------|  mmap_base
 */
static void topdown_below_mmap_base(void **state)
{
	struct mm_struct *mm = test_mm(state);
	unsigned long first, second;

	first = map_anywhere(mm, 4, RW);
	assert_int_equal(first, mm->mmap_base - PG(0, 4));
	second = map_anywhere(mm, 2, PROT_READ);
	assert_int_equal(second, first - PG(0, 2));
	assert_layout(mm, second, { 0, 2, VMA_R }, { 2, 6, VMA_RW });
}

/* A hint in free space is where the mapping goes. */
static void hint_free_is_honoured(void **state)
{
	struct mm_struct *mm = test_mm(state);
	unsigned long addr;

	addr = map_hint(mm, PG(B, 100), 3, RW);
	assert_int_equal(addr, PG(B, 100));
	/* Right after a mapping, and right before one. */
	addr = map_hint(mm, PG(B, 103), 1, PROT_READ);
	assert_int_equal(addr, PG(B, 103));
	addr = map_hint(mm, PG(B, 98), 2, PROT_READ);
	assert_int_equal(addr, PG(B, 98));
	assert_layout(mm, B, { 98, 100, VMA_R }, { 100, 103, VMA_RW },
		      { 103, 104, VMA_R });
}

/*
 * x86 rounds a hint down to its page (arch_get_unmapped_area_topdown:
 * addr &= PAGE_MASK): on Linux 6.18, mmap(0x300000000064, 4096, ...)
 * returns 0x300000000000.
 */
static void hint_unaligned_rounded_down(void **state)
{
	struct mm_struct *mm = test_mm(state);
	unsigned long addr;

	addr = map_hint(mm, PG(B, 100) + 100, 1, RW);
	assert_int_equal(addr, PG(B, 100));
}

/* A hint below mmap_min_addr is moved up to it (round_hint_to_min). */
static void hint_below_mmap_min_addr(void **state)
{
	struct mm_struct *mm = test_mm(state);

	assert_int_equal(map_hint(mm, PAGE_SIZE, 1, RW), mm->mmap_min_addr);
}

/*
 * A hint that overlaps a mapping, or reaches into it, is ignored: the
 * mapping goes where a hintless one would.
 */
static void hint_occupied_falls_back(void **state)
{
	struct mm_struct *mm = test_mm(state);
	unsigned long addr;

	map_anon(mm, B, 100, 104, RW);
	addr = map_hint(mm, PG(B, 101), 1, PROT_READ);
	assert_int_equal(addr, mm->mmap_base - PAGE_SIZE);
	addr = map_hint(mm, PG(B, 98), 3, PROT_READ);
	assert_int_equal(addr, mm->mmap_base - PG(0, 4));
	assert_layout(mm, B, { 100, 104, VMA_RW });
}

/*
 * The guard gap below a stack is not free space: a hint inside it is
 * ignored, one just below it is honoured.
 *
 *      hint ok        gap (256 pages)      stack
 *   |----|.......|######################|--------|
 *   700          744                    1000
 */
static void hint_in_stack_guard_gap_falls_back(void **state)
{
	struct mm_struct *mm = test_mm(state);
	unsigned long gap_pages = mm->stack_guard_gap >> PAGE_SHIFT;
	unsigned long ret;

	ret = sys_mmap(mm, PG(B, 1000), PG(0, 16), RW,
		       ANON | MAP_FIXED | MAP_GROWSDOWN, NULL, 0);
	assert_int_equal(ret, PG(B, 1000));
	assert_valid(mm);
	assert_layout(mm, B, { 1000, 1016, VMA_RW | VM_GROWSDOWN });

	ret = map_hint(mm, PG(B, 1000 - gap_pages), 1, PROT_READ);
	assert_int_equal(ret, mm->mmap_base - PAGE_SIZE);
	ret = map_hint(mm, PG(B, 1000 - gap_pages - 1), 1, PROT_READ);
	assert_int_equal(ret, PG(B, 1000 - gap_pages - 1));
}

/*
 * Map A, B and C top-down, unmap B: a mapping of B's size goes back into
 * B's hole, the highest gap that fits; one page larger it does not fit
 * there and goes below C.
 *
 *       C        B        A
 *   |------|.........|------|  mmap_base
 */
static void gap_augment_finds_hole_abc(void **state)
{
	struct mm_struct *mm = test_mm(state);
	unsigned long a, b, c;

	a = map_anywhere(mm, 4, RW);
	b = map_anywhere(mm, 3, PROT_READ);
	c = map_anywhere(mm, 4, RW);
	assert_int_equal(b, a - PG(0, 3));
	assert_int_equal(c, b - PG(0, 4));
	assert_int_equal(sys_munmap(mm, b, PG(0, 3)), 0);
	assert_valid(mm);

	assert_int_equal(map_anywhere(mm, 4, RX), c - PG(0, 4));
	assert_int_equal(map_anywhere(mm, 3, RX), b);
	assert_layout_in(mm, c - PG(0, 4), 0, 15,
			 { 0, 4, VMA_RX }, { 4, 8, VMA_RW },
			 { 8, 11, VMA_RX }, { 11, 15, VMA_RW });
}

/*
 * Deep in a tree of 301 one-page VMAs packed below mmap_base, holes of 1,
 * 2 and 4 pages (k counts pages down from mmap_base):
 *
 *   mmap_base
 *   k: 0 .. 9 [10] 11 .. 19 [20 21] 22 .. 149 [150 .. 153] 154 .. 300
 *
 * Top-down, each mapping goes into the highest hole big enough, found by
 * following rb_subtree_gap down the tree past the holes too small; when
 * no hole fits, below the lowest VMA.
 */
static void gap_augment_finds_deep_hole(void **state)
{
	struct mm_struct *mm = test_mm(state);
	unsigned long top = mm->mmap_base, lowest = 0;
	int k;

	/* [top - (k + 1) pages, top - k pages) is VMA k. */
#define K(k)	(top - PG(0, (k) + 1))
	for (k = 0; k <= 300; k++) {
		lowest = sys_mmap(mm, 0, PAGE_SIZE, k & 1 ? RW : PROT_READ,
				  ANON, NULL, 0);
		assert_int_equal(lowest, K(k));
		assert_valid(mm);
	}
	assert_int_equal(mm->map_count, 301);

	assert_int_equal(sys_munmap(mm, K(10), PAGE_SIZE), 0);
	assert_valid(mm);
	assert_int_equal(sys_munmap(mm, K(21), PG(0, 2)), 0);
	assert_valid(mm);
	assert_int_equal(sys_munmap(mm, K(153), PG(0, 4)), 0);
	assert_valid(mm);

	/* 3 pages: the top of the 4-page hole, 1 page left below. */
	assert_int_equal(map_anywhere(mm, 3, RX), K(152));
	/* 2 pages: the 2-page hole, higher than the rest of the 4-page one. */
	assert_int_equal(map_anywhere(mm, 2, RX), K(21));
	/* 1 page: the highest hole of all. */
	assert_int_equal(map_anywhere(mm, 1, RX), K(10));
	/* 2 pages: no hole left that fits, so below everything. */
	assert_int_equal(map_anywhere(mm, 2, RX), lowest - PG(0, 2));
	/* 1 page: what is left of the 4-page hole (and merges up). */
	assert_int_equal(map_anywhere(mm, 1, RX), K(153));
	assert_int_equal(mm->map_count, 301 - 7 + 5 - 1);
#undef K
}

/*
 * A 5-level mm still maps below 47 bits unless asked: hintless mappings
 * stay under the 4-level window, a hint above it is honoured (also when
 * it is far up), and an occupied hint above it falls back to the top of
 * the full address space rather than below 47 bits.
 */
static void five_level_window(void **state)
{
	struct mm_struct *mm = test_mm(state);
	unsigned long addr;

	assert_int_equal(mm->pgtable_levels, 5);
	addr = map_anywhere(mm, 4, RW);
	assert_true(addr + PG(0, 4) <= MAP_WINDOW_47);
	assert_int_equal(addr, mm->mmap_base - PG(0, 4));

	addr = map_hint(mm, 1UL << 50, 4, RW);
	assert_int_equal(addr, 1UL << 50);
	addr = map_hint(mm, 1UL << 55, 1, PROT_READ);
	assert_int_equal(addr, 1UL << 55);
	/* high_limit = mmap_base + TASK_SIZE_MAX - DEFAULT_MAP_WINDOW */
	addr = map_hint(mm, (1UL << 50) + PAGE_SIZE, 1, PROT_READ);
	assert_int_equal(addr, mm->mmap_base + (1UL << 56) - MAP_WINDOW_47 -
			 PAGE_SIZE);

	/* The same hint on a 4-level mm is beyond TASK_SIZE: ignored. */
	{
		struct mm_struct *mm4 = mm_alloc(4);

		assert_non_null(mm4);
		addr = map_hint(mm4, 1UL << 50, 1, RW);
		assert_int_equal(addr, mm4->mmap_base - PAGE_SIZE);
		mmput(mm4);
	}
}

/* --- the stack ------------------------------------------------------------ */

static unsigned long make_stack(struct mm_struct *mm, unsigned long top,
				unsigned long npages)
{
	int err;

	mmap_write_lock(mm);
	err = setup_stack(mm, top, PG(0, npages));
	mmap_write_unlock(mm);
	assert_int_equal(err, 0);
	assert_valid(mm);
	return top - PG(0, npages);
}

/*
 * An access below the stack grows it down to the page of the access.
 *
 *        grown        stack
 *   |.............|-----------|  top
 *   ^ access
 */
static void stack_grows_on_access(void **state)
{
	struct mm_struct *mm = test_mm(state);
	unsigned long top = mm->task_size, start, pgoff;
	struct vm_area_struct *vma;

	start = make_stack(mm, top, 16);
	vma = vma_at(mm, start);
	assert_non_null(vma);
	assert_true(vma->vm_flags & VM_GROWSDOWN);
	pgoff = vma->vm_pgoff;

	assert_int_equal(mmsim_access(mm, start - PG(0, 20) + 123, true), 0);
	assert_valid(mm);
	assert_ptr_equal(vma_at(mm, start - PG(0, 20)), vma);
	assert_int_equal(vma->vm_start, start - PG(0, 20));
	assert_int_equal(vma->vm_end, top);
	assert_int_equal(vma->vm_pgoff, pgoff - 20);
	assert_int_equal(mm->stack_vm, 36);
	assert_non_null(vma->anon_vma);

	/* A read inside it changes nothing. */
	assert_int_equal(mmsim_access(mm, start, false), 0);
	assert_int_equal(vma->vm_start, start - PG(0, 20));
}

/*
 * The stack keeps stack_guard_gap free above an accessible mapping below
 * it: an access that would grow it into the gap is SIGSEGV and changes
 * nothing; one exactly a gap above the mapping is fine.  A PROT_NONE
 * mapping below (a guard page of its own) needs no gap.
 *
 *     M         gap (256 pages)          stack
 *   |---|##########################|...|-------|
 *   0   1                          257 300     316
 */
static void stack_guard_gap(void **state)
{
	struct mm_struct *mm = test_mm(state);
	struct mm_snapshot snap;

	map_anon(mm, B, 0, 1, PROT_READ);
	make_stack(mm, PG(B, 316), 16);
	assert_int_equal(mm->stack_guard_gap, PG(0, 256));

	take_snapshot(mm, &snap);
	assert_int_equal(mmsim_access(mm, PG(B, 100), true), SIGSEGV);
	assert_unchanged(mm, &snap);
	take_snapshot(mm, &snap);
	assert_int_equal(mmsim_access(mm, PG(B, 256) + 100, true), SIGSEGV);
	assert_unchanged(mm, &snap);

	assert_int_equal(mmsim_access(mm, PG(B, 257), true), 0);
	assert_valid(mm);
	assert_layout_in(mm, B, 0, 400, { 0, 1, VMA_R },
			 { 257, 316, VMA_RW | VM_GROWSDOWN });

	/* M made inaccessible: the stack may grow right up to it. */
	protect_pages(mm, B, 0, 1, PROT_NONE);
	assert_int_equal(mmsim_access(mm, PG(B, 1), false), 0);
	assert_valid(mm);
	assert_layout_in(mm, B, 0, 400, { 0, 1, VMA_NONE },
			 { 1, 316, VMA_RW | VM_GROWSDOWN });
}

/* Below a VMA that is not a stack, an access is SIGSEGV. */
static void no_growth_below_plain_vma(void **state)
{
	struct mm_struct *mm = test_mm(state);
	struct mm_snapshot snap;

	map_anon(mm, B, 10, 12, RW);
	take_snapshot(mm, &snap);
	assert_int_equal(mmsim_access(mm, PG(B, 9), true), SIGSEGV);
	assert_unchanged(mm, &snap);
}

/* --- lookups -------------------------------------------------------------- */

/*
 *            first              second
 *   .....|---------|.........|---------|.....
 *   0    10        12        20        22
 */
static void lookups_on_holes_and_edges(void **state)
{
	struct mm_struct *mm = test_mm(state);
	struct vm_area_struct *first, *second, *prev = (void *)1;

	map_anon(mm, B, 10, 12, RW);
	map_anon(mm, B, 20, 22, RW);
	first = vma_at(mm, PG(B, 10));
	second = vma_at(mm, PG(B, 20));
	assert_non_null(first);
	assert_non_null(second);
	assert_ptr_not_equal(first, second);

	/* find_vma: the first VMA ending above addr. */
	assert_ptr_equal(test_find_vma(mm, 0), first);
	assert_ptr_equal(test_find_vma(mm, PG(B, 10) - 1), first);
	assert_ptr_equal(test_find_vma(mm, PG(B, 10)), first);
	assert_ptr_equal(test_find_vma(mm, PG(B, 12) - 1), first);
	assert_ptr_equal(test_find_vma(mm, PG(B, 12)), second);
	assert_ptr_equal(test_find_vma(mm, PG(B, 21)), second);
	assert_null(test_find_vma(mm, PG(B, 22)));
	assert_null(test_find_vma(mm, ~0UL));

	/* find_vma_prev: the same, and the VMA before it. */
	assert_ptr_equal(test_find_vma_prev(mm, PG(B, 5), &prev), first);
	assert_null(prev);
	assert_ptr_equal(test_find_vma_prev(mm, PG(B, 11), &prev), first);
	assert_null(prev);
	assert_ptr_equal(test_find_vma_prev(mm, PG(B, 12), &prev), second);
	assert_ptr_equal(prev, first);
	assert_ptr_equal(test_find_vma_prev(mm, PG(B, 20), &prev), second);
	assert_ptr_equal(prev, first);
	assert_null(test_find_vma_prev(mm, PG(B, 22), &prev));
	assert_ptr_equal(prev, second);

	/* find_vma_intersection: [start, end) meets a VMA. */
	assert_null(test_find_vma_intersection(mm, PG(B, 0), PG(B, 10)));
	assert_ptr_equal(test_find_vma_intersection(mm, PG(B, 0),
						    PG(B, 10) + 1), first);
	assert_ptr_equal(test_find_vma_intersection(mm, PG(B, 11),
						    PG(B, 12)), first);
	assert_null(test_find_vma_intersection(mm, PG(B, 12), PG(B, 20)));
	assert_ptr_equal(test_find_vma_intersection(mm, PG(B, 12),
						    PG(B, 30)), second);
	assert_ptr_equal(test_find_vma_intersection(mm, PG(B, 0),
						    PG(B, 30)), first);
	assert_null(test_find_vma_intersection(mm, PG(B, 22), PG(B, 30)));

	/* vma_lookup: the VMA containing addr. */
	assert_null(test_vma_lookup(mm, 0));
	assert_null(test_vma_lookup(mm, PG(B, 10) - 1));
	assert_ptr_equal(test_vma_lookup(mm, PG(B, 10)), first);
	assert_ptr_equal(test_vma_lookup(mm, PG(B, 12) - 1), first);
	assert_null(test_vma_lookup(mm, PG(B, 12)));
	assert_null(test_vma_lookup(mm, PG(B, 20) - 1));
	assert_ptr_equal(test_vma_lookup(mm, PG(B, 20)), second);
	assert_null(test_vma_lookup(mm, PG(B, 22)));
}

/* An empty mm finds nothing anywhere. */
static void lookups_in_empty_mm(void **state)
{
	struct mm_struct *mm = test_mm(state);
	struct vm_area_struct *prev = (void *)1;

	assert_null(test_find_vma(mm, 0));
	assert_null(test_find_vma_prev(mm, PG(B, 1), &prev));
	assert_null(prev);
	assert_null(test_find_vma_intersection(mm, 0, mm->task_size));
	assert_null(test_vma_lookup(mm, PG(B, 1)));
}

/* --- many VMAs ------------------------------------------------------------ */

#define NR_MANY		10000

/*
 * 10,000 one-page VMAs of alternating rights, packed: then every other
 * one unmapped, which leaves 5,000 VMAs with one-page holes between them.
 */
static void many_vmas(void **state)
{
	struct mm_struct *mm = test_mm(state);
	struct vm_area_struct *vma;
	unsigned long i, ret;

	for (i = 0; i < NR_MANY; i++) {
		ret = sys_mmap(mm, PG(B, i), PAGE_SIZE,
			       i & 1 ? PROT_READ : RW,
			       ANON | MAP_FIXED, NULL, 0);
		assert_int_equal(ret, PG(B, i));
		if (i % 1000 == 999)
			assert_valid(mm);
	}
	assert_valid(mm);
	assert_int_equal(mm->map_count, NR_MANY);
	assert_int_equal(mm->total_vm, NR_MANY);

	for (i = 1; i < NR_MANY; i += 2) {
		assert_int_equal(sys_munmap(mm, PG(B, i), PAGE_SIZE), 0);
		if (i % 1000 == 999)
			assert_valid(mm);
	}
	assert_valid(mm);
	assert_int_equal(mm->map_count, NR_MANY / 2);

	for (i = 0; i < NR_MANY - 1; i++) {
		vma = test_find_vma(mm, PG(B, i));
		assert_non_null(vma);
		assert_int_equal(vma->vm_start, PG(B, i + (i & 1)));
		assert_int_equal(vma->vm_end, vma->vm_start + PAGE_SIZE);
	}
	assert_null(test_find_vma(mm, PG(B, NR_MANY - 1)));

	/* The holes are far below mmap_base: a new mapping goes on top. */
	assert_int_equal(map_anywhere(mm, 1, RW), mm->mmap_base - PAGE_SIZE);
}

/*
 * mmput of an mm with thousands of VMAs of every kind (private faulted,
 * shared, locked, stack) frees every anon_vma, shmem file and commit.
 */
static void mmput_many_vmas_leaks_nothing(void **state)
{
	long anon_vmas = anon_vma_live_count();
	long files = shmem_live_files();
	long committed = vm_committed_pages();
	struct mm_struct *mm = mm_alloc(4);
	unsigned long i, ret;

	(void)state;
	assert_non_null(mm);
	for (i = 0; i < 3000; i++) {
		unsigned long type = i % 3 == 2 ? MAP_SHARED : MAP_PRIVATE;

		ret = sys_mmap(mm, PG(B, 2 * i), PAGE_SIZE,
			       i % 4 ? RW : PROT_READ,
			       type | MAP_ANONYMOUS | MAP_FIXED, NULL, 0);
		assert_int_equal(ret, PG(B, 2 * i));
		if (i % 5 == 0 && (i % 4) && type == MAP_PRIVATE)
			assert_int_equal(mmsim_access(mm, PG(B, 2 * i), true),
					 0);
	}
	for (i = 0; i < 50; i++)
		assert_int_equal(sys_mlock(mm, PG(B, 6 * i), PAGE_SIZE), 0);
	make_stack(mm, mm->task_size, 8);
	assert_int_equal(mmsim_access(mm, mm->task_size - PG(0, 10), true), 0);
	assert_valid(mm);
	assert_true(anon_vma_live_count() > anon_vmas);
	assert_int_equal(shmem_live_files(), files + 1000);

	mmput(mm);
	rcu_barrier();	/* spf-srcu frees VMAs after a grace period */
	assert_int_equal(anon_vma_live_count(), anon_vmas);
	assert_int_equal(shmem_live_files(), files);
	assert_int_equal(vm_committed_pages(), committed);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		MM_TEST(topdown_below_mmap_base),
		MM_TEST(hint_free_is_honoured),
		MM_TEST(hint_unaligned_rounded_down),
		MM_TEST(hint_below_mmap_min_addr),
		MM_TEST(hint_occupied_falls_back),
		MM_TEST(hint_in_stack_guard_gap_falls_back),
		MM_TEST(gap_augment_finds_hole_abc),
		MM_TEST(gap_augment_finds_deep_hole),
		MM5_TEST(five_level_window),
		MM_TEST(stack_grows_on_access),
		MM_TEST(stack_guard_gap),
		MM_TEST(no_growth_below_plain_vma),
		MM_TEST(lookups_on_holes_and_edges),
		MM_TEST(lookups_in_empty_mm),
		MM_TEST(many_vmas),
		MM_TEST(mmput_many_vmas_leaks_nothing),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

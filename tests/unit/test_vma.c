// SPDX-License-Identifier: MIT
/*
 * Unit tests for the merges and splits of src/mm/vma.c: one test per
 * layout, each deciding as Linux 6.x decides (every expected layout here
 * was first produced by the host kernel and read back from
 * /proc/self/smaps).
 *
 * In the drawings, numbers are pages from TEST_BASE, "....." is the range
 * the operation works on, and letters below a VMA name its anon_vma (none
 * until a write fault).
 */
#include "helpers.h"

#define B	TEST_BASE
#define RW	(PROT_READ | PROT_WRITE)
#define RWX	(PROT_READ | PROT_WRITE | PROT_EXEC)

static unsigned long pgoff_of(unsigned long base, long page)
{
	return (base >> PAGE_SHIFT) + page;
}

/*
 *   prev      new
 * |-------|.......|    ->    |---------------|
 * 0       2       4          0               4
 */
static void merge_new_prev(void **state)
{
	struct mm_struct *mm = test_mm(state);

	map_anon(mm, B, 0, 2, RW);
	map_anon(mm, B, 2, 4, RW);
	assert_layout(mm, B, { 0, 4, VMA_RW });
	assert_int_equal(vma_at(mm, B)->vm_pgoff, pgoff_of(B, 0));
	assert_int_equal(mm->map_count, 1);
}

/*
 *   new      next
 * |.......|-------|    ->    |---------------|
 * 0       2       4          0               4
 */
static void merge_new_next(void **state)
{
	struct mm_struct *mm = test_mm(state);

	map_anon(mm, B, 2, 4, RW);
	map_anon(mm, B, 0, 2, RW);
	assert_layout(mm, B, { 0, 4, VMA_RW });
	/* next grew down: its pgoff follows its new start. */
	assert_int_equal(vma_at(mm, B)->vm_pgoff, pgoff_of(B, 0));
}

/*
 *   prev      new      next
 * |-------|.......|-------|    ->    |-----------------------|
 * 0       2       4       6          0                       6
 */
static void merge_new_both(void **state)
{
	struct mm_struct *mm = test_mm(state);

	map_anon(mm, B, 0, 2, RW);
	map_anon(mm, B, 4, 6, RW);
	map_anon(mm, B, 2, 4, RW);
	assert_layout(mm, B, { 0, 6, VMA_RW });
	assert_int_equal(mm->map_count, 1);
}

/*
 * prev and next were faulted apart, so each has its own anon_vma: the new
 * range may join either, but prev and next may not be joined to each
 * other.  prev is tried first and wins.
 *
 *   prev      new      next              prev          next
 * |-------|.......|-------|    ->    |---------------|-------|
 * 0   A   2       4   B   6          0       A       4   B   6
 */
static void merge_new_both_different_anon_vma(void **state)
{
	struct mm_struct *mm = test_mm(state);
	long anon_vmas = anon_vma_live_count();
	struct anon_vma *a, *b;

	map_anon(mm, B, 0, 2, RW);
	write_touch(mm, PG(B, 0));
	map_anon(mm, B, 4, 6, RW);
	write_touch(mm, PG(B, 4));
	a = vma_at(mm, PG(B, 0))->anon_vma;
	b = vma_at(mm, PG(B, 4))->anon_vma;
	assert_non_null(a);
	assert_non_null(b);
	assert_ptr_not_equal(a, b);
	assert_int_equal(anon_vma_live_count(), anon_vmas + 2);

	map_anon(mm, B, 2, 4, RW);
	assert_layout(mm, B, { 0, 4, VMA_RW }, { 4, 6, VMA_RW });
	assert_ptr_equal(vma_at(mm, PG(B, 2))->anon_vma, a);
	assert_ptr_equal(vma_at(mm, PG(B, 4))->anon_vma, b);
}

/*
 * Only next has an anon_vma: nothing stands in the way, and the merged
 * VMA (prev, grown) takes next's anon_vma.
 *
 *   prev      new      next
 * |-------|.......|-------|    ->    |-----------------------|
 * 0       2       4   B   6          0           B           6
 */
static void merge_new_both_next_faulted(void **state)
{
	struct mm_struct *mm = test_mm(state);
	struct anon_vma *b;

	map_anon(mm, B, 0, 2, RW);
	map_anon(mm, B, 4, 6, RW);
	write_touch(mm, PG(B, 5));
	b = vma_at(mm, PG(B, 4))->anon_vma;
	assert_non_null(b);

	map_anon(mm, B, 2, 4, RW);
	assert_layout(mm, B, { 0, 6, VMA_RW });
	assert_ptr_equal(vma_at(mm, PG(B, 0))->anon_vma, b);
}

/*
 * mprotect of the start of a VMA to prev's rights: prev grows over the
 * range, the VMA shrinks.
 *
 *   prev    vma                     prev         vma
 * |------|.......-------|    ->   |-------------|-------|
 * 0  rw  2       4  r   6         0     rw      4   r   6
 */
static void merge_existing_left_partial(void **state)
{
	struct mm_struct *mm = test_mm(state);
	struct vm_area_struct *prev, *vma;

	map_anon(mm, B, 0, 2, RW);
	map_anon(mm, B, 2, 6, PROT_READ);
	prev = vma_at(mm, PG(B, 0));
	vma = vma_at(mm, PG(B, 2));

	protect_pages(mm, B, 2, 4, RW);
	assert_layout(mm, B, { 0, 4, VMA_RW }, { 4, 6, VMA_R });
	/* The same two VMAs, with the boundary moved. */
	assert_ptr_equal(vma_at(mm, PG(B, 0)), prev);
	assert_ptr_equal(vma_at(mm, PG(B, 4)), vma);
	assert_int_equal(vma->vm_pgoff, pgoff_of(B, 4));
	assert_true(prev->vm_flags & VM_ACCOUNT);
	assert_false(vma->vm_flags & VM_ACCOUNT);
}

/*
 * mprotect of the end of a VMA to next's rights: next grows down over the
 * range, the VMA shrinks.
 *
 *     vma          next              vma         next
 * |-------.......|------|    ->   |-------|-------------|
 * 0   r   2      4  rw  6         0   r   2     rw      6
 */
static void merge_existing_right_partial(void **state)
{
	struct mm_struct *mm = test_mm(state);
	struct vm_area_struct *vma, *next;

	map_anon(mm, B, 0, 4, PROT_READ);
	map_anon(mm, B, 4, 6, RW);
	vma = vma_at(mm, PG(B, 0));
	next = vma_at(mm, PG(B, 4));

	protect_pages(mm, B, 2, 4, RW);
	assert_layout(mm, B, { 0, 2, VMA_R }, { 2, 6, VMA_RW });
	assert_ptr_equal(vma_at(mm, PG(B, 0)), vma);
	assert_ptr_equal(vma_at(mm, PG(B, 2)), next);
	assert_int_equal(next->vm_pgoff, pgoff_of(B, 2));
}

/*
 * mprotect of a whole VMA back to the rights of both its neighbours: the
 * three become one (prev grows, vma and next go).
 *
 *   prev     vma      next
 * |------|.......|-------|    ->    |----------------------|
 * 0  rw  2   r   4  rw   6          0          rw          6
 */
static void merge_existing_both(void **state)
{
	struct mm_struct *mm = test_mm(state);
	struct vm_area_struct *prev;

	map_anon(mm, B, 0, 2, RW);
	map_anon(mm, B, 2, 4, PROT_READ);
	map_anon(mm, B, 4, 6, RW);
	assert_layout(mm, B, { 0, 2, VMA_RW }, { 2, 4, VMA_R },
		      { 4, 6, VMA_RW });
	prev = vma_at(mm, PG(B, 0));

	protect_pages(mm, B, 2, 4, RW);
	assert_layout(mm, B, { 0, 6, VMA_RW });
	assert_ptr_equal(vma_at(mm, PG(B, 5)), prev);
	assert_int_equal(prev->vm_pgoff, pgoff_of(B, 0));
	assert_int_equal(mm->map_count, 1);
}

/*
 * The same, after a write fault: the pieces share the anon_vma of the VMA
 * they were split from, keep VM_ACCOUNT while read-only (pages may have
 * been written), and merge back.
 *
 * |----------------------|    ->  |------|-------|------|  ->  |------...
 * 0          A           6        0  A   2   A   4  A   6      0   A
 */
static void merge_existing_both_faulted(void **state)
{
	struct mm_struct *mm = test_mm(state);
	long anon_vmas = anon_vma_live_count();
	struct anon_vma *a;

	map_anon(mm, B, 0, 6, RW);
	write_touch(mm, PG(B, 0));
	a = vma_at(mm, PG(B, 0))->anon_vma;
	assert_non_null(a);

	protect_pages(mm, B, 2, 4, PROT_READ);
	assert_layout(mm, B, { 0, 2, VMA_RW }, { 2, 4, VMA_R },
		      { 4, 6, VMA_RW });
	assert_ptr_equal(vma_at(mm, PG(B, 2))->anon_vma, a);
	assert_ptr_equal(vma_at(mm, PG(B, 4))->anon_vma, a);
	assert_true(vma_at(mm, PG(B, 2))->vm_flags & VM_ACCOUNT);

	protect_pages(mm, B, 2, 4, RW);
	assert_layout(mm, B, { 0, 6, VMA_RW });
	assert_ptr_equal(vma_at(mm, PG(B, 0))->anon_vma, a);
	assert_int_equal(anon_vma_live_count(), anon_vmas + 1);
}

/*
 * mprotect of the middle of a VMA splits it in three, each piece with a
 * linear pgoff; a read-only piece never written gives its commit back.
 *
 * |-------.......-------|    ->   |-------|-------|-------|
 * 0  rw   2      4  rw  6         0  rw   2   r   4  rw   6
 */
static void mprotect_split_middle(void **state)
{
	struct mm_struct *mm = test_mm(state);
	long committed = vm_committed_pages();

	map_anon(mm, B, 0, 6, RW);
	assert_int_equal(vm_committed_pages(), committed + 6);

	protect_pages(mm, B, 2, 4, PROT_READ);
	assert_layout(mm, B, { 0, 2, VMA_RW }, { 2, 4, VMA_R },
		      { 4, 6, VMA_RW });
	assert_int_equal(vma_at(mm, PG(B, 0))->vm_pgoff, pgoff_of(B, 0));
	assert_int_equal(vma_at(mm, PG(B, 2))->vm_pgoff, pgoff_of(B, 2));
	assert_int_equal(vma_at(mm, PG(B, 4))->vm_pgoff, pgoff_of(B, 4));
	assert_false(vma_at(mm, PG(B, 2))->vm_flags & VM_ACCOUNT);
	assert_int_equal(vm_committed_pages(), committed + 4);
	assert_int_equal(mm->map_count, 3);
}

/*
 * munmap of the middle of a VMA leaves two.
 *
 * |-------.......-------|    ->   |-------|       |-------|
 * 0       2      4      6         0       2       4       6
 */
static void munmap_middle_splits(void **state)
{
	struct mm_struct *mm = test_mm(state);
	long committed = vm_committed_pages();

	map_anon(mm, B, 0, 6, RW);
	write_touch(mm, PG(B, 3));
	unmap_pages(mm, B, 2, 4);
	assert_layout(mm, B, { 0, 2, VMA_RW }, { 4, 6, VMA_RW });
	assert_no_vmas(mm, B, 2, 4);
	assert_int_equal(vma_at(mm, PG(B, 4))->vm_pgoff, pgoff_of(B, 4));
	assert_int_equal(mm->total_vm, 4);
	assert_int_equal(vm_committed_pages(), committed + 4);
}

/*
 * Two shared anonymous mmaps are two shmem files: adjacent and alike,
 * they stay apart.
 *
 *  shared 1  shared 2
 * |-------|.......|    ->    |-------|-------|
 * 0       2       4          0   f1  2   f2  4
 */
static void shared_anon_different_mmaps_do_not_merge(void **state)
{
	struct mm_struct *mm = test_mm(state);
	long files = shmem_live_files();
	struct vm_area_struct *a, *b;

	map_shared(mm, B, 0, 2, RW);
	map_shared(mm, B, 2, 4, RW);
	assert_layout(mm, B, { 0, 2, VMA_RW | VM_SHARED },
		      { 2, 4, VMA_RW | VM_SHARED });
	a = vma_at(mm, PG(B, 0));
	b = vma_at(mm, PG(B, 2));
	assert_non_null(a->vm_file);
	assert_non_null(b->vm_file);
	assert_ptr_not_equal(a->vm_file, b->vm_file);
	assert_int_equal(a->vm_pgoff, 0);
	assert_int_equal(b->vm_pgoff, 0);
	assert_int_equal(shmem_live_files(), files + 2);
	assert_null(a->anon_vma);
}

/*
 * Pieces of one shared anonymous mapping share its file with contiguous
 * offsets: split by mprotect, they merge back when the rights agree.
 *
 * |-------.......-------|  ->  |------|-------|------|  ->  |-------...
 * 0       2  f   4      6      0 f:0  2  f:2  4 f:4  6      0   f:0
 */
static void shared_anon_same_mapping_merges_back(void **state)
{
	struct mm_struct *mm = test_mm(state);
	long files = shmem_live_files();
	struct file *file;

	map_shared(mm, B, 0, 6, RW);
	file = vma_at(mm, PG(B, 0))->vm_file;
	assert_int_equal(shmem_live_files(), files + 1);

	protect_pages(mm, B, 2, 4, PROT_READ);
	assert_layout(mm, B, { 0, 2, VMA_RW | VM_SHARED },
		      { 2, 4, VMA_R | VM_SHARED },
		      { 4, 6, VMA_RW | VM_SHARED });
	assert_ptr_equal(vma_at(mm, PG(B, 2))->vm_file, file);
	assert_ptr_equal(vma_at(mm, PG(B, 4))->vm_file, file);
	assert_int_equal(vma_at(mm, PG(B, 2))->vm_pgoff, 2);
	assert_int_equal(vma_at(mm, PG(B, 4))->vm_pgoff, 4);
	assert_int_equal(atomic_load(&file->f_count), 3);

	protect_pages(mm, B, 2, 4, RW);
	assert_layout(mm, B, { 0, 6, VMA_RW | VM_SHARED });
	assert_int_equal(vma_at(mm, PG(B, 0))->vm_pgoff, 0);
	rcu_barrier();	/* spf-srcu drops merged VMAs' files after a grace period */
	assert_int_equal(atomic_load(&file->f_count), 1);
	assert_int_equal(shmem_live_files(), files + 1);
}

/*
 * An anonymous private VMA's pgoff is its address in pages, so that
 * neighbours mapped apart can merge.  A VMA moved by mremap after a write
 * fault keeps the pgoff its pages were filed under, so it does not merge
 * with an unfaulted neighbour at its new place; moved before any write,
 * it takes the pgoff of its new address and does.
 *
 *   A (faulted)               A'          C
 * |-------|  ...  mremap ->  |-------|-------|
 * 0       2                  10      12      14
 *
 *   D (not faulted)           D'          E
 * |-------|  ...  mremap ->  |---------------|
 * 20      22                 30              34
 */
static void anon_vma_keeps_pgoff(void **state)
{
	struct mm_struct *mm = test_mm(state);
	unsigned long ret;

	map_anon(mm, B, 5, 7, RW);
	assert_int_equal(vma_at(mm, PG(B, 5))->vm_pgoff, pgoff_of(B, 5));

	map_anon(mm, B, 0, 2, RW);
	write_touch(mm, PG(B, 0));
	map_anon(mm, B, 12, 14, RW);
	ret = sys_mremap(mm, PG(B, 0), PG(0, 2), PG(0, 2),
			 MREMAP_MAYMOVE | MREMAP_FIXED, PG(B, 10));
	assert_int_equal(ret, PG(B, 10));
	assert_valid(mm);
	assert_int_equal(vma_at(mm, PG(B, 10))->vm_pgoff, pgoff_of(B, 0));

	map_anon(mm, B, 20, 22, RW);
	map_anon(mm, B, 32, 34, RW);
	ret = sys_mremap(mm, PG(B, 20), PG(0, 2), PG(0, 2),
			 MREMAP_MAYMOVE | MREMAP_FIXED, PG(B, 30));
	assert_int_equal(ret, PG(B, 30));
	assert_valid(mm);

	assert_layout(mm, B, { 5, 7, VMA_RW }, { 10, 12, VMA_RW },
		      { 12, 14, VMA_RW }, { 30, 34, VMA_RW });
	assert_int_equal(vma_at(mm, PG(B, 30))->vm_pgoff, pgoff_of(B, 30));
}

/*
 * A write fault next to a VMA that differs only in its rights and was
 * faulted already reuses that VMA's anon_vma (find_mergeable_anon_vma),
 * so that an mprotect to the same rights later can merge the two.
 *
 *    prev       vma                              one VMA
 * |--------|--------|  -> write 2 ->  ...  -> |-----------------|
 * 0 rw  A  2  rwx   4                         0       rw A      4
 */
static void anon_vma_reuse_prev_faulted(void **state)
{
	struct mm_struct *mm = test_mm(state);
	long anon_vmas = anon_vma_live_count();
	struct vm_area_struct *prev, *vma;
	struct anon_vma *reusable;

	map_anon(mm, B, 0, 2, RW);
	map_anon(mm, B, 2, 4, RWX);
	assert_layout(mm, B, { 0, 2, VMA_RW }, { 2, 4, VMA_RWX });
	prev = vma_at(mm, PG(B, 0));
	vma = vma_at(mm, PG(B, 2));
	write_touch(mm, PG(B, 1));
	assert_non_null(prev->anon_vma);

	mmap_read_lock(mm);
	reusable = find_mergeable_anon_vma(vma);
	mmap_read_unlock(mm);
	assert_ptr_equal(reusable, prev->anon_vma);

	write_touch(mm, PG(B, 2));
	assert_ptr_equal(vma->anon_vma, prev->anon_vma);
	assert_int_equal(anon_vma_live_count(), anon_vmas + 1);

	protect_pages(mm, B, 2, 4, RW);
	assert_layout(mm, B, { 0, 4, VMA_RW });
}

/* The same with next faulted first: next is the one asked first. */
static void anon_vma_reuse_next_faulted(void **state)
{
	struct mm_struct *mm = test_mm(state);
	long anon_vmas = anon_vma_live_count();

	map_anon(mm, B, 0, 2, RW);
	map_anon(mm, B, 2, 4, RWX);
	write_touch(mm, PG(B, 3));
	write_touch(mm, PG(B, 0));
	assert_ptr_equal(vma_at(mm, PG(B, 0))->anon_vma,
			 vma_at(mm, PG(B, 2))->anon_vma);
	assert_int_equal(anon_vma_live_count(), anon_vmas + 1);

	protect_pages(mm, B, 2, 4, RW);
	assert_layout(mm, B, { 0, 4, VMA_RW });
}

/*
 * Faulted while not adjacent, two VMAs got their own anon_vmas; made
 * adjacent and alike later, they still cannot merge.
 *
 *    A               B                A       A'     B
 * |-----|       |-------|    ->    |-----|-------|-------|
 * 0 rw  2       3  rwx  4          0 rw  2  rwx  3  rwx  4
 *  (then [2,3) rwx merges with [3,4), and mprotect rw cannot join A)
 */
static void anon_vma_not_shared_when_not_adjacent(void **state)
{
	struct mm_struct *mm = test_mm(state);
	long anon_vmas = anon_vma_live_count();

	map_anon(mm, B, 0, 2, RW);
	map_anon(mm, B, 3, 4, RWX);
	write_touch(mm, PG(B, 0));
	write_touch(mm, PG(B, 3));
	assert_int_equal(anon_vma_live_count(), anon_vmas + 2);

	map_anon(mm, B, 2, 3, RWX);
	assert_layout(mm, B, { 0, 2, VMA_RW }, { 2, 4, VMA_RWX });
	protect_pages(mm, B, 2, 4, RW);
	assert_layout(mm, B, { 0, 2, VMA_RW }, { 2, 4, VMA_RW });
}

/*
 * At sysctl_max_map_count VMAs, a split is refused with -ENOMEM and
 * nothing changes; the one exception is munmap, which may split one end
 * while at the limit, since the unmap takes a VMA away again.
 *
 *   other       vma
 * |-------|  |---------------------|
 * 10     11  0         rw          3
 */
static void max_map_count_split_refused(void **state)
{
	struct mm_struct *mm = test_mm(state);
	struct mm_snapshot snap;

	map_anon(mm, B, 0, 3, RW);
	map_anon(mm, B, 10, 11, PROT_READ);
	sysctl_max_map_count = mm->map_count;

	/* One split needed: refused. */
	take_snapshot(mm, &snap);
	assert_int_equal(sys_mprotect(mm, PG(B, 0), PAGE_SIZE, PROT_READ),
			 -ENOMEM);
	assert_unchanged(mm, &snap);

	/* No split needed: fine. */
	protect_pages(mm, B, 0, 3, PROT_READ);
	protect_pages(mm, B, 0, 3, RW);
	assert_layout(mm, B, { 0, 3, VMA_RW }, { 10, 11, VMA_R });

	/* munmap of the middle would end one above the limit: refused. */
	take_snapshot(mm, &snap);
	assert_int_equal(sys_munmap(mm, PG(B, 1), PAGE_SIZE), -ENOMEM);
	assert_unchanged(mm, &snap);

	/* munmap of one end splits and removes: allowed at the limit. */
	unmap_pages(mm, B, 0, 1);
	assert_layout(mm, B, { 1, 3, VMA_RW }, { 10, 11, VMA_R });
	map_anon(mm, B, 0, 1, RW);
	assert_layout(mm, B, { 0, 3, VMA_RW }, { 10, 11, VMA_R });

	/*
	 * One below the limit, the middle needs two splits: the first is
	 * made and stays, the second is refused.
	 */
	sysctl_max_map_count = mm->map_count + 1;
	assert_int_equal(sys_mprotect(mm, PG(B, 1), PAGE_SIZE, PROT_READ),
			 -ENOMEM);
	assert_valid(mm);
	assert_layout(mm, B, { 0, 1, VMA_RW }, { 1, 3, VMA_RW },
		      { 10, 11, VMA_R });
}

/*
 * mmap refuses only once the mm is above the limit: at it, one more
 * mapping is allowed.
 *
 *   at the limit      one more: fine     above it: -ENOMEM
 * |---|  |---|   ->  |---|  |---|  |---|  ->  ...      |...|
 * 0   1  2   3       0      2      4   5               6   7
 */
static void max_map_count_mmap(void **state)
{
	struct mm_struct *mm = test_mm(state);
	struct mm_snapshot snap;

	map_anon(mm, B, 0, 1, RW);
	map_anon(mm, B, 2, 3, RW);
	sysctl_max_map_count = mm->map_count;
	map_anon(mm, B, 4, 5, RW);
	assert_int_equal(mm->map_count, sysctl_max_map_count + 1);

	take_snapshot(mm, &snap);
	assert_int_equal(sys_mmap(mm, PG(B, 6), PAGE_SIZE, RW,
				  MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED,
				  NULL, 0), -ENOMEM);
	assert_unchanged(mm, &snap);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		MM_TEST(merge_new_prev),
		MM_TEST(merge_new_next),
		MM_TEST(merge_new_both),
		MM_TEST(merge_new_both_different_anon_vma),
		MM_TEST(merge_new_both_next_faulted),
		MM_TEST(merge_existing_left_partial),
		MM_TEST(merge_existing_right_partial),
		MM_TEST(merge_existing_both),
		MM_TEST(merge_existing_both_faulted),
		MM_TEST(mprotect_split_middle),
		MM_TEST(munmap_middle_splits),
		MM_TEST(shared_anon_different_mmaps_do_not_merge),
		MM_TEST(shared_anon_same_mapping_merges_back),
		MM_TEST(anon_vma_keeps_pgoff),
		MM_TEST(anon_vma_reuse_prev_faulted),
		MM_TEST(anon_vma_reuse_next_faulted),
		MM_TEST(anon_vma_not_shared_when_not_adjacent),
		MM_TEST(max_map_count_split_refused),
		MM_TEST(max_map_count_mmap),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

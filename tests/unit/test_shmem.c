// SPDX-License-Identifier: MIT
/*
 * Shared memory and its file: MADV_REMOVE punches a hole in the shmem
 * file behind a shared mapping (shmem_punch_hole -> unmap_mapping_range
 * over every VMA on the file's i_mmap, in every mm).
 *
 *   errors          unaligned start EINVAL, private mapping of a file
 *                   EACCES, locked EINVAL, a hole ENOMEM (the rest
 *                   punched), len 0 nothing, past EOF what there is
 *   fork            the child's PTEs go too, each page freed once
 *   two mappings    of one file in one mm, or in another mm
 *   split VMAs      three VMAs of one file; munmap/merge unlink right;
 *                   pgoff moved by __vma_adjust
 *   mremap          moved whole, moved in part, duplicated (old_len 0)
 *   private COW     a private copy stays, the cache page goes
 *   fault race      a hole punched between the page-cache lookup and
 *                   the PTE: the fault must not map the old page
 *   validate_mm     sees a VMA missing from its file's i_mmap
 *   huge file       64 TiB, four pages: the cache's nodes follow the
 *                   pages present, and all go at munmap
 *
 * After each step the i_mmap list is compared with the VMAs that map the
 * file, and validate_mm() (which checks i_mmap membership too) runs.
 */
#include <pthread.h>

#include <mmsim/sched.h>

#include "helpers.h"

#define B	TEST_BASE
#define RW	(PROT_READ | PROT_WRITE)

/* --- helpers -------------------------------------------------------------- */

/* A shmem file of pages pages; the test fput()s it once mapped. */
static struct file *new_file(unsigned long pages)
{
	struct file *file = shmem_file_setup("test", pages << PAGE_SHIFT);

	assert_non_null(file);
	assert_int_equal(file->i_size, pages << PAGE_SHIFT);
	assert_true(xa_empty(&file->f_mapping.i_pages));
	return file;
}

static void __map_file(struct mm_struct *mm, unsigned long addr,
		       unsigned long pages, unsigned long flags,
		       struct file *file, unsigned long pgoff,
		       const char *f, int line)
{
	unsigned long ret;

	ret = sys_mmap(mm, addr, pages << PAGE_SHIFT, RW, flags | MAP_FIXED,
		       file, pgoff);
	_assert_int_equal(ret, addr, f, line);
	__assert_valid(mm, f, line);
}

/* Map pages of file from pgoff at addr (read-write, MAP_FIXED). */
#define map_file(mm, addr, pages, flags, file, pgoff) \
	__map_file(mm, addr, pages, flags, file, pgoff, __FILE__, __LINE__)

/* The file the VMA at addr maps. */
static struct file *file_at(struct mm_struct *mm, unsigned long addr)
{
	struct vm_area_struct *vma = vma_at(mm, addr);

	assert_non_null(vma);
	assert_non_null(vma->vm_file);
	return vma->vm_file;
}

/* The page at index of file's cache (the test runs alone: no lock). */
static struct page *cached(struct file *file, unsigned long index)
{
	return xa_load(&file->f_mapping.i_pages, index);
}

/* VMAs of mm (of any mm if NULL) on file's i_mmap. */
static int i_mmap_count(struct file *file, struct mm_struct *mm)
{
	struct address_space *mapping = &file->f_mapping;
	struct vm_area_struct *vma;
	int n = 0;

	down_read(&mapping->i_mmap_rwsem);
	list_for_each_entry(vma, &mapping->i_mmap, shared)
		if (!mm || vma->vm_mm == mm)
			n++;
	up_read(&mapping->i_mmap_rwsem);
	return n;
}

static int madv_remove(struct mm_struct *mm, unsigned long start,
		       unsigned long pages)
{
	return sys_madvise(mm, start, pages << PAGE_SHIFT, MADV_REMOVE);
}

/* Write 0x100 * tag + i to page i of [start, end) from base. */
static void fill(struct mm_struct *mm, unsigned long base, unsigned long start,
		 unsigned long end, unsigned long tag)
{
	unsigned long i;

	for (i = start; i < end; i++)
		write_ul(mm, PG(base, i), 0x100 * tag + i);
}

static void pair_valid(struct mm_struct *a, struct mm_struct *b)
{
	struct mm_struct *mms[2] = { a, b };

	assert_int_equal(validate_mm(a), 0);
	assert_int_equal(validate_mm(b), 0);
	assert_int_equal(validate_mm_pages(mms, 2), 0);
}

/* --- errors --------------------------------------------------------------- */

/* A private anonymous mapping has no file to punch: -EINVAL. */
static void remove_private_anon_einval(void **state)
{
	struct mm_struct *mm = test_mm(state);

	map_anon(mm, B, 0, 4, RW);
	write_ul(mm, PG(B, 1), 7);
	assert_int_equal(sys_madvise(mm, B, PG(0, 4), MADV_REMOVE), -EINVAL);
	assert_int_equal(read_ul(mm, PG(B, 1)), 7);
}

/* The pages of the hole go; those around it stay; the VMA stays. */
static void remove_shared_zeroes_the_hole(void **state)
{
	struct mm_struct *mm = test_mm(state);
	unsigned long i, free0;

	map_shared(mm, B, 0, 4, RW);
	for (i = 0; i < 4; i++)
		write_ul(mm, PG(B, i), 0x100 + i);
	free0 = nr_free_pages();
	assert_int_equal(sys_madvise(mm, PG(B, 1), PG(0, 2), MADV_REMOVE), 0);
	assert_int_equal(nr_free_pages(), free0 + 2);
	assert_layout(mm, B, { 0, 4, VMA_RW | VM_SHARED });
	assert_int_equal(read_ul(mm, PG(B, 0)), 0x100);
	assert_int_equal(read_ul(mm, PG(B, 1)), 0);
	assert_int_equal(read_ul(mm, PG(B, 2)), 0);
	assert_int_equal(read_ul(mm, PG(B, 3)), 0x103);
	assert_valid(mm);
}

/*
 * An unaligned start is -EINVAL, a length of 0 does nothing (even on a
 * mapping that would refuse), a length not a multiple of the page size is
 * rounded up.  Nothing is freed by the calls that fail.
 */
static void remove_start_and_len(void **state)
{
	struct mm_struct *mm = test_mm(state);
	unsigned long free0;

	map_shared(mm, B, 0, 4, RW);
	map_anon(mm, B, 8, 9, RW);
	fill(mm, B, 0, 4, 1);
	free0 = nr_free_pages();
	assert_int_equal(sys_madvise(mm, B + 1, PAGE_SIZE, MADV_REMOVE),
			 -EINVAL);
	assert_int_equal(sys_madvise(mm, B + 1, 0, MADV_REMOVE), -EINVAL);
	assert_int_equal(sys_madvise(mm, B, 0, MADV_REMOVE), 0);
	assert_int_equal(sys_madvise(mm, PG(B, 8), 0, MADV_REMOVE), 0);
	assert_int_equal(sys_madvise(mm, PG(B, 2), 0, MADV_REMOVE), 0);
	assert_int_equal(nr_free_pages(), free0);
	assert_int_equal(read_ul(mm, PG(B, 0)), 0x100);
	assert_int_equal(read_ul(mm, PG(B, 2)), 0x102);

	/* 100 bytes: the whole page 1, nothing of page 2. */
	assert_int_equal(sys_madvise(mm, PG(B, 1), 100, MADV_REMOVE), 0);
	assert_int_equal(nr_free_pages(), free0 + 1);
	assert_int_equal(read_ul(mm, PG(B, 1)), 0);
	assert_int_equal(read_ul(mm, PG(B, 2)), 0x102);
	assert_valid(mm);
}

/*
 * A MAP_PRIVATE mapping of a shmem file may write (VM_MAYWRITE) but not
 * to the file: -EACCES, and neither the cache nor the private copies
 * change.  A shared mapping before it in the range is punched first.
 */
static void remove_private_file_eacces(void **state)
{
	struct mm_struct *mm = test_mm(state);
	struct file *file = new_file(4);
	unsigned long free0;

	map_file(mm, B, 4, MAP_PRIVATE, file, 0);
	map_shared(mm, PG(B, -2), 0, 2, RW);
	fput(file);		/* the VMA holds it now */
	assert_int_equal(i_mmap_count(file, NULL), 1);

	assert_int_equal(read_ul(mm, PG(B, 0)), 0);	/* the cache page */
	write_ul(mm, PG(B, 1), 0x77);		/* a private copy */
	fill(mm, PG(B, -2), 0, 2, 2);
	assert_non_null(cached(file, 0));
	assert_non_null(cached(file, 1));
	free0 = nr_free_pages();
	assert_int_equal(madv_remove(mm, B, 4), -EACCES);
	assert_int_equal(nr_free_pages(), free0);
	assert_non_null(cached(file, 0));
	assert_int_equal(read_ul(mm, PG(B, 1)), 0x77);

	/* From the shared mapping below into the private one. */
	assert_int_equal(madv_remove(mm, PG(B, -2), 4), -EACCES);
	assert_int_equal(nr_free_pages(), free0 + 2);
	assert_int_equal(read_ul(mm, PG(B, -2)), 0);
	assert_int_equal(read_ul(mm, PG(B, -1)), 0);
	assert_non_null(cached(file, 0));
	assert_int_equal(read_ul(mm, PG(B, 1)), 0x77);
	assert_valid(mm);
}

/*
 * A locked shared mapping refuses (-EINVAL) and keeps its pages; once
 * unlocked, the same call punches.  A read-only shared mapping may still
 * write the file (VM_MAYWRITE, vma_is_shared_maywrite()): it may punch.
 */
static void remove_locked_einval_readonly_ok(void **state)
{
	struct mm_struct *mm = test_mm(state);
	unsigned long free0;

	map_shared(mm, B, 0, 4, RW);
	fill(mm, B, 0, 4, 3);
	assert_int_equal(sys_mlock(mm, PG(B, 1), PG(0, 2)), 0);
	assert_valid(mm);
	free0 = nr_free_pages();
	assert_int_equal(madv_remove(mm, B, 4), -EINVAL);
	assert_int_equal(madv_remove(mm, PG(B, 2), 1), -EINVAL);
	assert_int_equal(read_ul(mm, PG(B, 2)), 0x302);

	/* Page 0 (not locked) was punched before the locked VMA refused. */
	assert_int_equal(nr_free_pages(), free0 + 1);
	assert_int_equal(read_ul(mm, PG(B, 0)), 0);
	free0 = nr_free_pages();

	assert_int_equal(sys_munlock(mm, PG(B, 1), PG(0, 2)), 0);
	assert_int_equal(madv_remove(mm, PG(B, 2), 1), 0);
	assert_int_equal(nr_free_pages(), free0 + 1);
	assert_int_equal(read_ul(mm, PG(B, 2)), 0);
	assert_int_equal(read_ul(mm, PG(B, 1)), 0x301);

	protect_pages(mm, B, 0, 4, PROT_READ);
	free0 = nr_free_pages();
	assert_int_equal(madv_remove(mm, PG(B, 1), 1), 0);
	assert_int_equal(nr_free_pages(), free0 + 1);
	assert_int_equal(read_ul(mm, PG(B, 1)), 0);
	assert_int_equal(read_ul(mm, PG(B, 3)), 0x303);
	assert_valid(mm);
}

/*
 * Holes in the range: -ENOMEM, after the mapped parts were punched (of
 * two different files here), whether the hole is inside the range, at
 * its start, or the whole of it.
 */
static void remove_across_hole_enomem(void **state)
{
	struct mm_struct *mm = test_mm(state);
	unsigned long free0, i;

	map_shared(mm, B, 0, 2, RW);
	map_shared(mm, B, 3, 5, RW);
	fill(mm, B, 0, 2, 4);
	fill(mm, B, 3, 5, 4);
	assert_true(file_at(mm, B) != file_at(mm, PG(B, 3)));
	free0 = nr_free_pages();
	assert_int_equal(madv_remove(mm, B, 5), -ENOMEM);
	assert_int_equal(nr_free_pages(), free0 + 4);
	for (i = 0; i < 5; i++)
		if (i != 2)
			assert_int_equal(read_ul(mm, PG(B, i)), 0);

	/* Starting in the hole, ending in the VMA after it. */
	fill(mm, B, 3, 5, 5);
	free0 = nr_free_pages();
	assert_int_equal(madv_remove(mm, PG(B, 2), 2), -ENOMEM);
	assert_int_equal(nr_free_pages(), free0 + 1);
	assert_int_equal(read_ul(mm, PG(B, 3)), 0);
	assert_int_equal(read_ul(mm, PG(B, 4)), 0x504);

	/* Nothing mapped at all. */
	assert_int_equal(madv_remove(mm, PG(B, 2), 1), -ENOMEM);
	assert_int_equal(madv_remove(mm, PG(B, 100), 3), -ENOMEM);
	assert_layout(mm, B, { 0, 2, VMA_RW | VM_SHARED },
		      { 3, 5, VMA_RW | VM_SHARED });
	assert_valid(mm);
}

/*
 * A shared mapping grown by mremap past the end of its file: the pages
 * past EOF have no cache slot (SIGBUS on access); a punch over them does
 * what it can and succeeds, as fallocate past EOF does.
 */
static void remove_beyond_eof(void **state)
{
	struct mm_struct *mm = test_mm(state);
	unsigned long free0;
	int sig;

	map_shared(mm, B, 0, 2, RW);
	fill(mm, B, 0, 2, 18);
	assert_int_equal(sys_mremap(mm, B, PG(0, 2), PG(0, 4), 0, 0), B);
	assert_valid(mm);
	assert_layout(mm, B, { 0, 4, VMA_RW | VM_SHARED });
	(void)load_ul(mm, PG(B, 3), &sig);
	assert_int_equal(sig, SIGBUS);

	free0 = nr_free_pages();
	assert_int_equal(madv_remove(mm, PG(B, 1), 3), 0);
	assert_int_equal(nr_free_pages(), free0 + 1);
	assert_int_equal(madv_remove(mm, PG(B, 2), 2), 0);
	assert_int_equal(read_ul(mm, PG(B, 0)), 0x1200);
	assert_int_equal(read_ul(mm, PG(B, 1)), 0);
	assert_valid(mm);
}

/* --- fork: the child's PTEs go too ---------------------------------------- */

/*
 * MADV_REMOVE in the parent after fork: the hole is a hole in the child
 * too (its PTEs zapped through i_mmap, though the parent's mmap lock is
 * all the call took), the rest stays shared; each page is freed once.
 */
static void remove_after_fork(void **state)
{
	struct mm_struct *parent = test_mm(state), *child;
	struct vm_area_struct *pvma, *cvma;
	struct file *file;
	unsigned long free0, i;

	map_shared(parent, B, 0, 4, RW);
	fill(parent, B, 0, 4, 6);
	file = file_at(parent, B);
	child = dup_mm(parent);
	assert_non_null(child);
	pair_valid(parent, child);

	/* The child's VMA is on i_mmap, right after the parent's. */
	pvma = vma_at(parent, B);
	cvma = vma_at(child, B);
	assert_int_equal(i_mmap_count(file, NULL), 2);
	assert_int_equal(i_mmap_count(file, child), 1);
	assert_ptr_equal(list_entry(pvma->shared.next, struct vm_area_struct,
				    shared), cvma);

	for (i = 0; i < 4; i++)
		assert_int_equal(read_ul(child, PG(B, i)), 0x600 + i);
	for (i = 0; i < 4; i++)
		assert_int_equal(page_mapcount(cached(file, i)), 2);
	pair_valid(parent, child);

	free0 = nr_free_pages();
	assert_int_equal(madv_remove(parent, PG(B, 1), 2), 0);
	assert_int_equal(nr_free_pages(), free0 + 2);
	assert_true(pte_none(pte_of(child, PG(B, 1))));
	assert_true(pte_none(pte_of(child, PG(B, 2))));
	assert_true(pte_present(pte_of(child, PG(B, 3))));
	assert_null(cached(file, 1));
	pair_valid(parent, child);

	assert_int_equal(read_ul(child, PG(B, 0)), 0x600);
	assert_int_equal(read_ul(child, PG(B, 1)), 0);
	assert_int_equal(read_ul(child, PG(B, 2)), 0);
	assert_int_equal(read_ul(child, PG(B, 3)), 0x603);

	/* Still one file: the child's write reaches the parent. */
	write_ul(child, PG(B, 2), 0xc2);
	assert_int_equal(read_ul(parent, PG(B, 2)), 0xc2);
	assert_int_equal(read_ul(parent, PG(B, 1)), 0);
	pair_valid(parent, child);

	/* And the other way: the child punches, the parent loses it. */
	free0 = nr_free_pages();
	assert_int_equal(madv_remove(child, PG(B, 2), 2), 0);
	assert_int_equal(nr_free_pages(), free0 + 2);
	assert_int_equal(read_ul(parent, PG(B, 2)), 0);
	assert_int_equal(read_ul(parent, PG(B, 3)), 0);
	assert_int_equal(read_ul(parent, PG(B, 0)), 0x600);
	pair_valid(parent, child);

	mmsim_switch_mm(NULL);
	mmput(child);
	rcu_barrier();
	assert_int_equal(i_mmap_count(file, NULL), 1);
	assert_int_equal(validate_mm_pages(&parent, 1), 0);
	assert_int_equal(page_mapcount(cached(file, 0)), 1);
}

/* --- one file, several mappings ------------------------------------------- */

/*
 * One file mapped twice in one mm, and once in another mm: a hole
 * punched through any mapping is seen through all, at the right pgoff.
 */
static void remove_file_mapped_twice(void **state)
{
	struct mm_struct *mm = test_mm(state), *other;
	unsigned long A = B, C = PG(B, 16), D = PG(B, 32);
	struct file *file = new_file(4);
	unsigned long free0, pfn3;

	map_file(mm, A, 4, MAP_SHARED, file, 0);
	map_file(mm, C, 4, MAP_SHARED, file, 0);
	map_file(mm, D, 2, MAP_SHARED, file, 2);	/* file pages 2, 3 */
	fput(file);
	assert_int_equal(i_mmap_count(file, mm), 3);

	fill(mm, A, 0, 4, 7);
	assert_int_equal(read_ul(mm, PG(C, 3)), 0x703);
	assert_int_equal(read_ul(mm, PG(D, 0)), 0x702);
	assert_int_equal(read_ul(mm, PG(D, 1)), 0x703);
	pfn3 = pte_pfn(pte_of(mm, PG(C, 3)));

	/* Through A: C and D lose the page too. */
	free0 = nr_free_pages();
	assert_int_equal(madv_remove(mm, PG(A, 2), 1), 0);
	assert_int_equal(nr_free_pages(), free0 + 1);
	assert_true(pte_none(pte_of(mm, PG(C, 2))));
	assert_true(pte_none(pte_of(mm, PG(D, 0))));
	assert_int_equal(read_ul(mm, PG(C, 2)), 0);
	assert_int_equal(read_ul(mm, PG(D, 0)), 0);
	assert_int_equal(pte_pfn(pte_of(mm, PG(C, 3))), pfn3);
	assert_valid(mm);

	/* Through D (pgoff 2): file page 3, i.e. A's and C's page 3. */
	free0 = nr_free_pages();
	assert_int_equal(madv_remove(mm, PG(D, 1), 1), 0);
	assert_int_equal(nr_free_pages(), free0 + 1);
	assert_int_equal(read_ul(mm, PG(A, 3)), 0);
	assert_int_equal(read_ul(mm, PG(C, 3)), 0);
	assert_int_equal(read_ul(mm, PG(C, 1)), 0x701);
	assert_valid(mm);

	/* An unrelated mm mapping the same file. */
	other = mm_alloc(4);
	assert_non_null(other);
	map_file(other, PG(B, 64), 4, MAP_SHARED, file, 0);
	assert_int_equal(i_mmap_count(file, NULL), 4);
	assert_int_equal(read_ul(other, PG(B, 64)), 0x700);
	write_ul(other, PG(B, 65), 0xd1);
	assert_int_equal(read_ul(mm, PG(C, 1)), 0xd1);
	pair_valid(mm, other);

	free0 = nr_free_pages();
	assert_int_equal(madv_remove(mm, PG(C, 0), 2), 0);
	assert_int_equal(nr_free_pages(), free0 + 2);
	assert_true(pte_none(pte_of(other, PG(B, 64))));
	assert_true(pte_none(pte_of(other, PG(B, 65))));
	assert_int_equal(read_ul(other, PG(B, 65)), 0);
	pair_valid(mm, other);

	mmsim_switch_mm(NULL);
	mmput(other);
	rcu_barrier();
	assert_int_equal(i_mmap_count(file, NULL), 3);
	assert_valid(mm);
}

/* --- split and merged VMAs ------------------------------------------------ */

/*
 * mprotect splits a shared mapping into three VMAs of one file: all three
 * are on i_mmap and MADV_REMOVE across them empties the file.  munmap of
 * the middle takes it off i_mmap (a stale entry would be walked by the
 * next punch: ASan sees it), and a merge takes the removed VMA off.
 */
static void remove_split_vmas(void **state)
{
	struct mm_struct *mm = test_mm(state);
	struct file *file;
	unsigned long free0, i;

	map_shared(mm, B, 0, 6, RW);
	file = file_at(mm, B);
	fill(mm, B, 0, 6, 8);
	protect_pages(mm, B, 2, 4, PROT_READ);
	assert_layout(mm, B, { 0, 2, VMA_RW | VM_SHARED },
		      { 2, 4, VMA_R | VM_SHARED },
		      { 4, 6, VMA_RW | VM_SHARED });
	assert_int_equal(i_mmap_count(file, NULL), 3);
	assert_ptr_equal(file_at(mm, PG(B, 4)), file);

	free0 = nr_free_pages();
	assert_int_equal(madv_remove(mm, B, 6), 0);
	assert_int_equal(nr_free_pages(), free0 + 6);
	for (i = 0; i < 6; i++) {
		assert_true(pte_none(pte_of(mm, PG(B, i))));
		assert_null(cached(file, i));
		assert_int_equal(read_ul(mm, PG(B, i)), 0);
	}
	assert_valid(mm);

	/* Merge back: one VMA, one entry. */
	protect_pages(mm, B, 2, 4, RW);
	assert_layout(mm, B, { 0, 6, VMA_RW | VM_SHARED });
	assert_int_equal(i_mmap_count(file, NULL), 1);
	fill(mm, B, 0, 6, 9);
	free0 = nr_free_pages();
	assert_int_equal(madv_remove(mm, PG(B, 3), 2), 0);
	assert_int_equal(nr_free_pages(), free0 + 2);
	assert_int_equal(read_ul(mm, PG(B, 3)), 0);
	assert_int_equal(read_ul(mm, PG(B, 5)), 0x905);

	/* Split again, then unmap the middle: two entries left. */
	protect_pages(mm, B, 2, 4, PROT_READ);
	fill(mm, B, 0, 2, 10);
	fill(mm, B, 4, 6, 10);
	unmap_pages(mm, B, 2, 4);
	rcu_barrier();
	assert_int_equal(i_mmap_count(file, NULL), 2);
	assert_non_null(cached(file, 2));	/* the file keeps its page */

	free0 = nr_free_pages();
	assert_int_equal(madv_remove(mm, B, 6), -ENOMEM);
	assert_int_equal(nr_free_pages(), free0 + 4);
	assert_non_null(cached(file, 2));	/* no VMA asked for it */
	for (i = 0; i < 6; i++)
		if (i < 2 || i >= 4)
			assert_int_equal(read_ul(mm, PG(B, i)), 0);
	assert_valid(mm);
}

/*
 * VMAs whose range or pgoff change under __vma_adjust() stay on i_mmap
 * with the right pgoff, and those a merge removes leave it.  C maps the
 * whole file as a witness: what a punch through the changed VMA removes
 * is exactly the file page its pgoff says.
 */
static void remove_after_vma_adjust(void **state)
{
	struct mm_struct *mm = test_mm(state);
	unsigned long A = B, C = PG(B, 32), i;
	struct file *file = new_file(8);

	map_file(mm, C, 8, MAP_SHARED, file, 0);
	fput(file);		/* C holds it to the end */
	/* Pages 0-1, then 4-5, then 2-3 between: a three-way merge. */
	map_file(mm, A, 2, MAP_SHARED, file, 0);
	map_file(mm, PG(A, 4), 2, MAP_SHARED, file, 4);
	assert_int_equal(i_mmap_count(file, NULL), 3);
	map_file(mm, PG(A, 2), 2, MAP_SHARED, file, 2);
	assert_layout_in(mm, A, 0, 32, { 0, 6, VMA_RW | VM_SHARED });
	rcu_barrier();
	assert_int_equal(i_mmap_count(file, NULL), 2);
	/* Pages 6-7 after it: the VMA grows (vma_expand). */
	map_file(mm, PG(A, 6), 2, MAP_SHARED, file, 6);
	assert_layout_in(mm, A, 0, 32, { 0, 8, VMA_RW | VM_SHARED });
	rcu_barrier();
	assert_int_equal(i_mmap_count(file, NULL), 2);
	fill(mm, C, 0, 8, 16);

	assert_int_equal(madv_remove(mm, PG(A, 5), 1), 0);
	assert_int_equal(read_ul(mm, PG(C, 5)), 0);
	assert_int_equal(read_ul(mm, PG(C, 4)), 0x1004);
	assert_int_equal(read_ul(mm, PG(C, 6)), 0x1006);

	/*
	 * [0,2) RW, [2,4) R, [4,8) RW; then [2,3) RW again: the first VMA
	 * grows over page 2, the middle one starts at page 3 (pgoff 3).
	 */
	protect_pages(mm, A, 2, 4, PROT_READ);
	protect_pages(mm, A, 2, 3, RW);
	assert_layout_in(mm, A, 0, 32, { 0, 3, VMA_RW | VM_SHARED },
			 { 3, 4, VMA_R | VM_SHARED },
			 { 4, 8, VMA_RW | VM_SHARED });
	assert_int_equal(vma_at(mm, PG(A, 3))->vm_pgoff, 3);
	rcu_barrier();
	assert_int_equal(i_mmap_count(file, NULL), 4);
	assert_int_equal(madv_remove(mm, PG(A, 3), 1), 0);
	assert_int_equal(read_ul(mm, PG(C, 3)), 0);
	assert_int_equal(read_ul(mm, PG(C, 2)), 0x1002);
	assert_int_equal(read_ul(mm, PG(C, 4)), 0x1004);

	/* The front of the last VMA unmapped: it starts at pgoff 6. */
	unmap_pages(mm, A, 4, 6);
	rcu_barrier();
	assert_int_equal(vma_at(mm, PG(A, 6))->vm_pgoff, 6);
	assert_int_equal(i_mmap_count(file, NULL), 4);
	assert_int_equal(madv_remove(mm, PG(A, 6), 1), 0);
	assert_int_equal(read_ul(mm, PG(C, 6)), 0);
	assert_int_equal(read_ul(mm, PG(C, 7)), 0x1007);

	/* The whole file through C: every mapping of A sees zeros. */
	fill(mm, C, 0, 8, 17);
	assert_int_equal(madv_remove(mm, C, 8), 0);
	for (i = 0; i < 8; i++)
		if (i < 4 || i >= 6)
			assert_int_equal(read_ul(mm, PG(A, i)), 0);
	assert_valid(mm);
}

/* --- mremap --------------------------------------------------------------- */

/* Moved whole: the new VMA is on i_mmap, the old one is not. */
static void remove_after_mremap_move(void **state)
{
	struct mm_struct *mm = test_mm(state);
	unsigned long N = PG(B, 32), free0;
	struct file *file;

	map_shared(mm, B, 0, 4, RW);
	file = file_at(mm, B);
	fill(mm, B, 0, 4, 11);
	assert_int_equal(sys_mremap(mm, B, PG(0, 4), PG(0, 4),
				    MREMAP_MAYMOVE | MREMAP_FIXED, N), N);
	assert_valid(mm);
	rcu_barrier();
	assert_layout(mm, B, { 32, 36, VMA_RW | VM_SHARED });
	assert_int_equal(i_mmap_count(file, NULL), 1);
	assert_ptr_equal(file_at(mm, N), file);

	free0 = nr_free_pages();
	assert_int_equal(madv_remove(mm, PG(N, 1), 1), 0);
	assert_int_equal(nr_free_pages(), free0 + 1);
	assert_int_equal(read_ul(mm, PG(N, 0)), 0xb00);
	assert_int_equal(read_ul(mm, PG(N, 1)), 0);
	assert_int_equal(read_ul(mm, PG(N, 2)), 0xb02);
	assert_int_equal(madv_remove(mm, B, 1), -ENOMEM);
	assert_valid(mm);
}

/*
 * Pages 1-2 of a 4-page shared mapping moved away: the old VMA keeps
 * pages 0 and 3 (two VMAs, pgoff 0 and 3), the new one has pgoff 1; all
 * three on i_mmap, each punch reaching exactly its file pages.
 */
static void remove_after_mremap_part(void **state)
{
	struct mm_struct *mm = test_mm(state);
	unsigned long N = PG(B, 32), free0;
	struct file *file;

	map_shared(mm, B, 0, 4, RW);
	file = file_at(mm, B);
	fill(mm, B, 0, 4, 12);
	assert_int_equal(sys_mremap(mm, PG(B, 1), PG(0, 2), PG(0, 2),
				    MREMAP_MAYMOVE | MREMAP_FIXED, N), N);
	assert_valid(mm);
	rcu_barrier();
	assert_layout(mm, B, { 0, 1, VMA_RW | VM_SHARED },
		      { 3, 4, VMA_RW | VM_SHARED },
		      { 32, 34, VMA_RW | VM_SHARED });
	assert_int_equal(i_mmap_count(file, NULL), 3);
	assert_int_equal(vma_at(mm, N)->vm_pgoff, 1);
	assert_int_equal(read_ul(mm, PG(N, 0)), 0xc01);

	free0 = nr_free_pages();
	/* N's page 1 is file page 2. */
	assert_int_equal(madv_remove(mm, PG(N, 1), 1), 0);
	assert_int_equal(nr_free_pages(), free0 + 1);
	assert_null(cached(file, 2));
	assert_int_equal(read_ul(mm, PG(N, 0)), 0xc01);
	assert_int_equal(read_ul(mm, PG(N, 1)), 0);
	assert_int_equal(read_ul(mm, PG(B, 0)), 0xc00);
	assert_int_equal(read_ul(mm, PG(B, 3)), 0xc03);

	/* Across the kept pieces and the hole between them. */
	free0 = nr_free_pages();
	assert_int_equal(madv_remove(mm, B, 4), -ENOMEM);
	assert_int_equal(nr_free_pages(), free0 + 2);
	assert_int_equal(read_ul(mm, PG(B, 0)), 0);
	assert_int_equal(read_ul(mm, PG(B, 3)), 0);
	assert_int_equal(read_ul(mm, PG(N, 0)), 0xc01);
	assert_valid(mm);
}

/*
 * mremap with old_len 0 duplicates a shared mapping: a second VMA of the
 * same file (and pgoff), on i_mmap too.
 */
static void remove_after_mremap_duplicate(void **state)
{
	struct mm_struct *mm = test_mm(state);
	unsigned long N = PG(B, 32), free0;
	struct file *file;

	map_shared(mm, B, 0, 2, RW);
	file = file_at(mm, B);
	fill(mm, B, 0, 2, 13);
	assert_int_equal(sys_mremap(mm, B, 0, PG(0, 2),
				    MREMAP_MAYMOVE | MREMAP_FIXED, N), N);
	assert_valid(mm);
	assert_ptr_equal(file_at(mm, N), file);
	assert_int_equal(i_mmap_count(file, NULL), 2);
	assert_int_equal(read_ul(mm, PG(N, 1)), 0xd01);

	free0 = nr_free_pages();
	assert_int_equal(madv_remove(mm, PG(N, 1), 1), 0);
	assert_int_equal(nr_free_pages(), free0 + 1);
	assert_true(pte_none(pte_of(mm, PG(B, 1))));
	assert_int_equal(read_ul(mm, PG(B, 1)), 0);
	assert_int_equal(read_ul(mm, PG(B, 0)), 0xd00);
	assert_valid(mm);
}

/* --- private COW copies stay ---------------------------------------------- */

/*
 * A file mapped shared at A and private at P.  P's page 0 maps the cache
 * page (read), P's page 1 is a private copy (written).  A hole punched
 * through A takes the cache page out of P as well, but the copy is P's
 * own memory and stays (even_cows is off).
 */
static void remove_keeps_private_cow(void **state)
{
	struct mm_struct *mm = test_mm(state);
	unsigned long A = B, P = PG(B, 16), free0, copy_pfn;
	struct file *file = new_file(4);

	map_file(mm, A, 4, MAP_SHARED, file, 0);
	map_file(mm, P, 4, MAP_PRIVATE, file, 0);
	fput(file);
	assert_int_equal(i_mmap_count(file, NULL), 2);

	fill(mm, A, 0, 4, 14);
	assert_int_equal(read_ul(mm, PG(P, 0)), 0xe00);
	assert_int_equal(pte_pfn(pte_of(mm, PG(P, 0))),
			 page_to_pfn(cached(file, 0)));
	write_ul(mm, PG(P, 1), 0x91);
	copy_pfn = pte_pfn(pte_of(mm, PG(P, 1)));
	assert_true(copy_pfn != page_to_pfn(cached(file, 1)));
	assert_int_equal(get_mm_counter(mm, MM_ANONPAGES), 1);
	assert_valid(mm);

	free0 = nr_free_pages();
	assert_int_equal(madv_remove(mm, A, 2), 0);
	/* Cache pages 0 and 1 go; P's copy stays. */
	assert_int_equal(nr_free_pages(), free0 + 2);
	assert_true(pte_none(pte_of(mm, PG(P, 0))));
	assert_int_equal(pte_pfn(pte_of(mm, PG(P, 1))), copy_pfn);
	assert_int_equal(get_mm_counter(mm, MM_ANONPAGES), 1);
	assert_valid(mm);

	assert_int_equal(read_ul(mm, PG(P, 0)), 0);
	assert_int_equal(read_ul(mm, PG(P, 1)), 0x91);
	assert_int_equal(read_ul(mm, PG(A, 1)), 0);
	assert_int_equal(read_ul(mm, PG(P, 2)), 0xe02);

	/* The new cache page is seen through P until P writes it. */
	write_ul(mm, PG(A, 0), 0xa0);
	assert_int_equal(read_ul(mm, PG(P, 0)), 0xa0);
	assert_valid(mm);
}

/* --- a hole punched while a fault holds the page -------------------------- */

/*
 * The hook: once, on the faulting thread, right after it released the
 * file's i_pages_lock, which it took in shmem_fault() to look the page up
 * and pin it.  Another CPU then punches the hole (MADV_REMOVE through
 * the other mapping), before finish_fault() takes the PTE lock.
 */
static __thread bool race_thread;
static struct mm_struct *race_mm;
static unsigned long race_addr;
static const void *race_lock;
static atomic_int race_fired;
static int race_ret;

static void remote_remove(void *arg)
{
	(void)arg;
	race_ret = madv_remove(race_mm, race_addr, 1);
}

static void punch_in_window(enum mmsim_sched_event ev, const void *obj)
{
	if (!race_thread || ev != SCHED_UNLOCK || obj != race_lock ||
	    atomic_load(&race_fired))
		return;
	atomic_store(&race_fired, 1);
	run_on_other_cpu(remote_remove, NULL);
}

/*
 * A fault at addr (read, or write) of the page another mapping (remove_at)
 * has in the cache, with the hole punched in the window; returns the
 * value then read at addr.  The fault must see that its page left the
 * cache (page_still_cached: VM_FAULT_NOPAGE), drop it, and fault again
 * into a new page: mapping the old one would leave a PTE on a page the
 * file no longer has, which nobody would ever zap.  nr_faults: the page
 * faults the access must take (2 when the first gives up).
 */
static unsigned long fault_across_punch(struct mm_struct *mm,
					struct file *file, unsigned long addr,
					unsigned long remove_at, bool write,
					unsigned long nr_faults)
{
	unsigned long events[NR_FAULT_EVENTS];

	race_mm = mm;
	race_addr = remove_at;
	race_lock = &file->f_mapping.i_pages_lock;
	race_ret = -1;
	atomic_store(&race_fired, 0);
	race_thread = true;
	fault_events_reset();
	mmsim_set_sched_hook(punch_in_window);
	if (write)
		write_ul(mm, addr, 0x77);
	else
		(void)read_ul(mm, addr);
	mmsim_set_sched_hook(NULL);
	race_thread = false;
	fault_events_read(events);
	assert_true(atomic_load(&race_fired));
	assert_int_equal(race_ret, 0);
	assert_int_equal(events[FAULT_PAGE_FAULTS], nr_faults);
	return read_ul(mm, addr);
}

/* A read fault through C, a write fault through C, and a COW fault. */
static void fault_races_with_punch(void **state)
{
	struct mm_struct *mm = test_mm(state);
	unsigned long A = B, C = PG(B, 16), P = PG(B, 32);
	struct file *file = new_file(4);
	unsigned long free0;

	map_file(mm, A, 4, MAP_SHARED, file, 0);
	map_file(mm, C, 4, MAP_SHARED, file, 0);
	map_file(mm, P, 4, MAP_PRIVATE, file, 0);
	fput(file);
	fill(mm, A, 0, 4, 15);

	/* Read: the old page is freed; a new zero page is read. */
	free0 = nr_free_pages();
	assert_int_equal(fault_across_punch(mm, file, C, A, false, 2), 0);
	assert_true(pte_present(pte_of(mm, C)));
	assert_non_null(cached(file, 0));
	assert_int_equal(pte_pfn(pte_of(mm, C)), page_to_pfn(cached(file, 0)));
	assert_ptr_equal(cached(file, 0)->mapping, file);
	/* old freed, one new page for the cache (old may be reused). */
	assert_int_equal(nr_free_pages(), free0);
	assert_int_equal(page_mapcount(cached(file, 0)), 1);
	assert_valid(mm);

	/* Write: it lands in the new page, which A sees. */
	free0 = nr_free_pages();
	assert_int_equal(fault_across_punch(mm, file, PG(C, 1), PG(A, 1), true,
					    2), 0x77);
	assert_int_equal(nr_free_pages(), free0);
	assert_int_equal(read_ul(mm, PG(A, 1)), 0x77);
	assert_int_equal(pte_pfn(pte_of(mm, PG(C, 1))),
			 page_to_pfn(cached(file, 1)));
	assert_valid(mm);

	/*
	 * Copy-on-write through P: the copy is made from the page the fault
	 * holds, which left the cache meanwhile.  The copy is P's own and
	 * may be mapped (as in the kernel, where the punch waits for the
	 * page lock the fault holds until the copy is made): P keeps the old
	 * data plus its write; the file's page is gone.
	 */
	free0 = nr_free_pages();
	assert_int_equal(fault_across_punch(mm, file, PG(P, 2), PG(A, 2), true,
					    1), 0x77);
	assert_int_equal(nr_free_pages(), free0);	/* -old, +copy */
	assert_null(cached(file, 2));
	assert_int_equal(read_ul(mm, PG(A, 2)), 0);
	assert_int_equal(read_ul(mm, PG(P, 2)), 0x77);
	assert_int_equal(get_mm_counter(mm, MM_ANONPAGES), 1);
	assert_valid(mm);
}

/* --- a huge, sparse file ------------------------------------------------- */

/* Nodes of file's page cache (its xarray). */
static unsigned long cache_nodes(struct file *file)
{
	return file->f_mapping.i_pages.xa_nr_nodes;
}

/*
 * A 64-TiB shared mapping (2^34 pages, what `mmsim replay`'s window
 * takes) with four pages written far apart, a hole punched across the
 * middle two, and the whole unmapped.  Each step must cost in proportion
 * to the pages present, not to the 2^34 pages of the file: not timed
 * here, but the cache must hold at most a path of nodes per page (the
 * tree's height for 34-bit indices is 6), allocate nothing for the file
 * until a page comes, and give every node back.  The flat array this
 * replaces allocated 2^34 slots and walked all of them at each teardown
 * and hole punch.
 */
static void huge_sparse_file(void **state)
{
	struct mm_struct *mm = test_mm(state);
	const unsigned long pages = 1UL << 34;
	const unsigned long idx[] = {
		0, 1UL << 20, (1UL << 33) + 12345, pages - 1,
	};
	unsigned long free0, free_before, i;
	long nodes0 = xa_live_nodes();
	struct file *file;
	struct page *page;

	free0 = nr_free_pages();
	map_shared(mm, B, 0, pages, RW);
	file = file_at(mm, B);
	assert_int_equal(file->i_size, pages << PAGE_SHIFT);
	assert_int_equal(cache_nodes(file), 0);

	for (i = 0; i < 4; i++)
		write_ul(mm, PG(B, idx[i]), 0x4000 + i);
	for (i = 0; i < 4; i++) {
		assert_int_equal(read_ul(mm, PG(B, idx[i])), 0x4000 + i);
		page = cached(file, idx[i]);
		assert_non_null(page);
		assert_int_equal(page->index, idx[i]);
		assert_ptr_equal(page->mapping, file);
	}
	assert_null(cached(file, 1));
	assert_null(cached(file, pages - 2));
	assert_null(cached(file, pages));
	assert_true(cache_nodes(file) <= 6 * 4);
	assert_valid(mm);

	/* A hole over all but the first and last page: two pages go. */
	free_before = nr_free_pages();
	assert_int_equal(madv_remove(mm, PG(B, 1), pages - 2), 0);
	assert_int_equal(nr_free_pages(), free_before + 2);
	assert_null(cached(file, idx[1]));
	assert_null(cached(file, idx[2]));
	assert_true(pte_none(pte_of(mm, PG(B, idx[1]))));
	assert_true(pte_none(pte_of(mm, PG(B, idx[2]))));
	assert_true(cache_nodes(file) <= 6 * 2);
	assert_int_equal(read_ul(mm, PG(B, idx[0])), 0x4000);
	assert_int_equal(read_ul(mm, PG(B, idx[3])), 0x4003);
	assert_valid(mm);

	/* The hole reads as zeros, from a new cache page. */
	assert_int_equal(read_ul(mm, PG(B, idx[2])), 0);
	assert_non_null(cached(file, idx[2]));
	assert_true(cache_nodes(file) <= 6 * 3);

	/* A punch where nothing is: nothing changes. */
	free_before = nr_free_pages();
	assert_int_equal(madv_remove(mm, PG(B, 2), 1UL << 30), 0);
	assert_int_equal(nr_free_pages(), free_before);
	assert_int_equal(read_ul(mm, PG(B, idx[3])), 0x4003);

	/* Unmap: the file goes, with its pages, tables and cache nodes. */
	unmap_pages(mm, B, 0, pages);
	rcu_barrier();
	assert_int_equal(nr_free_pages(), free0);
	assert_int_equal(xa_live_nodes(), nodes0);
}

/* --- validate_mm checks i_mmap -------------------------------------------- */

/* A VMA taken off its file's i_mmap behind mm's back is reported. */
static void validate_sees_vma_off_i_mmap(void **state)
{
	struct mm_struct *mm = test_mm(state);
	struct address_space *mapping;
	struct vm_area_struct *vma;

	map_shared(mm, B, 0, 4, RW);
	protect_pages(mm, B, 1, 2, PROT_READ);
	vma = vma_at(mm, PG(B, 1));
	mapping = &vma->vm_file->f_mapping;

	down_write(&mapping->i_mmap_rwsem);
	list_del_init(&vma->shared);
	up_write(&mapping->i_mmap_rwsem);
	mmap_read_lock(mm);
	assert_int_equal(validate_mm_verbose(mm, NULL), 2);
	mmap_read_unlock(mm);

	down_write(&mapping->i_mmap_rwsem);
	list_add_tail(&vma->shared, &mapping->i_mmap);
	up_write(&mapping->i_mmap_rwsem);
	assert_valid(mm);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		MM_TEST(remove_private_anon_einval),
		MM_TEST(remove_shared_zeroes_the_hole),
		MM_TEST(remove_start_and_len),
		MM_TEST(remove_private_file_eacces),
		MM_TEST(remove_locked_einval_readonly_ok),
		MM_TEST(remove_across_hole_enomem),
		MM_TEST(remove_beyond_eof),
		MM_TEST(remove_after_fork),
		MM_TEST(remove_file_mapped_twice),
		MM_TEST(remove_split_vmas),
		MM_TEST(remove_after_vma_adjust),
		MM_TEST(remove_after_mremap_move),
		MM_TEST(remove_after_mremap_part),
		MM_TEST(remove_after_mremap_duplicate),
		MM_TEST(remove_keeps_private_cow),
		MM_TEST(fault_races_with_punch),
		MM_TEST(validate_sees_vma_off_i_mmap),
		MM_TEST(huge_sparse_file),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

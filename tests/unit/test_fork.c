// SPDX-License-Identifier: MIT
/*
 * fork() of an address space (dup_mm): private pages shared copy-on-write
 * (each side sees only its own writes), VM_DONTCOPY VMAs left out,
 * VM_WIPEONFORK VMAs empty in the child, shared memory shared, the
 * counters and the commit charge of the child, and no frame left behind
 * when the copy fails half-way or when both mms exit.
 *
 * After every step validate_mm_pages() checks both mms together: each
 * page's map count must equal the PTEs of parent and child that map it.
 */
#include "helpers.h"

#define B	TEST_BASE
#define RW	(PROT_READ | PROT_WRITE)
#define GiB	(1UL << 30)

/* --- helpers -------------------------------------------------------------- */

static int page_mapcount_at(struct mm_struct *mm, unsigned long addr)
{
	return page_mapcount(pte_page(pte_of(mm, addr)));
}

static void fill_pages(struct mm_struct *mm, unsigned long base,
		       unsigned long start, unsigned long end)
{
	unsigned long i;

	for (i = start; i < end; i++)
		write_ul(mm, PG(base, i), 0x1000 + i);
}

/* Both mms valid on their own, and their map counts right together. */
static void __assert_pair_valid(struct mm_struct *parent,
				struct mm_struct *child, const char *file,
				int line)
{
	struct mm_struct *mms[2] = { parent, child };

	_assert_int_equal(validate_mm(parent), 0, file, line);
	_assert_int_equal(validate_mm(child), 0, file, line);
	_assert_int_equal(validate_mm_pages(mms, 2), 0, file, line);
}
#define assert_pair_valid(p, c) __assert_pair_valid(p, c, __FILE__, __LINE__)

/* fork, which must succeed and give a valid pair. */
static struct mm_struct *__fork_mm(struct mm_struct *parent, const char *file,
				   int line)
{
	struct mm_struct *child = dup_mm(parent);

	_assert_true(child != NULL, "dup_mm failed", file, line);
	__assert_pair_valid(parent, child, file, line);
	return child;
}
#define fork_mm(parent)	__fork_mm(parent, __FILE__, __LINE__)

/* The child exits; no CPU is left running it. */
static void exit_mm(struct mm_struct *child)
{
	mmsim_switch_mm(NULL);
	mmput(child);
}

/* --- copy-on-write -------------------------------------------------------- */

/*
 * After fork both map the same pages read-only; a write on either side
 * gives that side its own copy, and the other one keeps seeing its data.
 */
static void fork_cow_private(void **state)
{
	struct mm_struct *parent = test_mm(state), *child;
	unsigned long pfn[4], i;

	map_anon(parent, B, 0, 4, RW);
	fill_pages(parent, B, 0, 4);
	for (i = 0; i < 4; i++)
		pfn[i] = pte_pfn(pte_of(parent, PG(B, i)));

	child = fork_mm(parent);
	for (i = 0; i < 4; i++) {
		assert_false(pte_write(pte_of(parent, PG(B, i))));
		assert_false(pte_write(pte_of(child, PG(B, i))));
		assert_int_equal(pte_pfn(pte_of(child, PG(B, i))), pfn[i]);
		assert_int_equal(page_mapcount_at(parent, PG(B, i)), 2);
	}
	assert_int_equal(get_mm_counter(child, MM_ANONPAGES), 4);
	for (i = 0; i < 4; i++)
		assert_int_equal(read_ul(child, PG(B, i)), 0x1000 + i);

	/* The child writes page 0: its own copy. */
	write_ul(child, PG(B, 0), 0xc0);
	assert_true(pte_pfn(pte_of(child, PG(B, 0))) != pfn[0]);
	assert_int_equal(pte_pfn(pte_of(parent, PG(B, 0))), pfn[0]);
	assert_int_equal(read_ul(parent, PG(B, 0)), 0x1000);
	assert_int_equal(read_ul(child, PG(B, 0)), 0xc0);
	assert_pair_valid(parent, child);

	/* The parent writes pages 0 (now its alone) and 1 (still shared). */
	write_ul(parent, PG(B, 0), 0xb0);
	write_ul(parent, PG(B, 1), 0xb1);
	assert_true(pte_write(pte_of(parent, PG(B, 1))));
	assert_int_equal(pte_pfn(pte_of(child, PG(B, 1))), pfn[1]);
	assert_int_equal(read_ul(child, PG(B, 0)), 0xc0);
	assert_int_equal(read_ul(child, PG(B, 1)), 0x1001);
	assert_int_equal(read_ul(parent, PG(B, 0)), 0xb0);
	assert_int_equal(read_ul(parent, PG(B, 1)), 0xb1);
	assert_pair_valid(parent, child);

	/* The child goes: the parent's pages are its alone again. */
	exit_mm(child);
	assert_int_equal(page_mapcount_at(parent, PG(B, 2)), 1);
	write_ul(parent, PG(B, 2), 0xb2);
	assert_int_equal(read_ul(parent, PG(B, 2)), 0xb2);
	assert_int_equal(read_ul(parent, PG(B, 3)), 0x1003);
	assert_int_equal(validate_mm_pages(&parent, 1), 0);
	unmap_pages(parent, B, 0, 4);
}

/* A grandchild: three mms on one page, each writes and sees its own. */
static void fork_twice(void **state)
{
	struct mm_struct *parent = test_mm(state), *child, *grandchild;
	struct mm_struct *mms[3];

	map_anon(parent, B, 0, 2, RW);
	fill_pages(parent, B, 0, 2);
	child = fork_mm(parent);
	/* Not fork_mm(): the pages are the parent's too. */
	grandchild = dup_mm(child);
	assert_non_null(grandchild);
	mms[0] = parent;
	mms[1] = child;
	mms[2] = grandchild;
	assert_int_equal(page_mapcount_at(parent, B), 3);
	assert_int_equal(validate_mm_pages(mms, 3), 0);

	write_ul(child, B, 0xc);
	write_ul(grandchild, B, 0x9);
	assert_int_equal(validate_mm_pages(mms, 3), 0);
	assert_int_equal(read_ul(parent, B), 0x1000);
	assert_int_equal(read_ul(child, B), 0xc);
	assert_int_equal(read_ul(grandchild, B), 0x9);

	exit_mm(child);
	mms[1] = grandchild;
	assert_int_equal(validate_mm_pages(mms, 2), 0);
	assert_int_equal(read_ul(grandchild, PG(B, 1)), 0x1001);
	assert_int_equal(page_mapcount_at(parent, PG(B, 1)), 2);
	exit_mm(grandchild);
	assert_int_equal(validate_mm_pages(&parent, 1), 0);
	assert_int_equal(read_ul(parent, B), 0x1000);
	unmap_pages(parent, B, 0, 2);
}

/* The parent unmaps after fork: the child keeps the pages and the data. */
static void fork_then_parent_unmaps(void **state)
{
	struct mm_struct *parent = test_mm(state), *child;
	unsigned long free0 = nr_free_pages();

	map_anon(parent, B, 0, 4, RW);
	fill_pages(parent, B, 0, 4);
	child = fork_mm(parent);
	unmap_pages(parent, B, 0, 4);
	assert_pair_valid(parent, child);
	assert_int_equal(page_mapcount_at(child, PG(B, 2)), 1);
	assert_int_equal(read_ul(child, PG(B, 2)), 0x1002);
	write_ul(child, PG(B, 3), 0x33);
	assert_int_equal(read_ul(child, PG(B, 3)), 0x33);
	exit_mm(child);
	assert_int_equal(nr_free_pages(), free0);
}

/* --- what is copied ------------------------------------------------------- */

/*
 * MADV_DONTFORK: the child has no such VMA, and the parent's pages there
 * were not write-protected (nothing shares them).
 */
static void fork_dontcopy_skipped(void **state)
{
	struct mm_struct *parent = test_mm(state), *child;
	int sig;

	map_anon(parent, B, 0, 2, RW);
	map_anon(parent, B, 4, 6, RW);
	fill_pages(parent, B, 0, 2);
	fill_pages(parent, B, 4, 6);
	assert_int_equal(sys_madvise(parent, B, PG(0, 2), MADV_DONTFORK), 0);

	child = fork_mm(parent);
	assert_null(vma_at(child, B));
	assert_non_null(vma_at(child, PG(B, 4)));
	assert_int_equal(child->map_count, parent->map_count - 1);
	assert_int_equal(child->total_vm, parent->total_vm - 2);
	assert_int_equal(child->data_vm, parent->data_vm - 2);
	assert_true(pte_write(pte_of(parent, B)));
	assert_false(pte_write(pte_of(parent, PG(B, 4))));
	assert_int_equal(get_mm_counter(child, MM_ANONPAGES), 2);
	load_ul(child, B, &sig);
	assert_int_equal(sig, SIGSEGV);
	assert_int_equal(read_ul(child, PG(B, 5)), 0x1005);
	assert_pair_valid(parent, child);
	exit_mm(child);
	unmap_pages(parent, B, 0, 6);
}

/*
 * VM_WIPEONFORK (MADV_WIPEONFORK, which mmsim's madvise does not take:
 * the flag is set by hand): the child's VMA is there but empty, without
 * an anon_vma; the parent's pages stay its own and writable.
 */
static void fork_wipeonfork_empty(void **state)
{
	struct mm_struct *parent = test_mm(state), *child;
	struct vm_area_struct *vma;

	map_anon(parent, B, 0, 2, RW);
	fill_pages(parent, B, 0, 2);
	mmap_write_lock(parent);
	vma = find_vma(parent, B);
	vma->vm_flags |= VM_WIPEONFORK;
	mmap_write_unlock(parent);

	child = fork_mm(parent);
	vma = vma_at(child, B);
	assert_non_null(vma);
	assert_null(vma->anon_vma);
	assert_true(vma->vm_flags & VM_WIPEONFORK);
	assert_true(pte_none(pte_of(child, B)));
	assert_int_equal(get_mm_counter(child, MM_ANONPAGES), 0);
	assert_true(pte_write(pte_of(parent, B)));
	assert_int_equal(read_ul(child, B), 0);
	write_ul(child, PG(B, 1), 0x77);
	assert_int_equal(read_ul(parent, PG(B, 1)), 0x1001);
	assert_pair_valid(parent, child);
	exit_mm(child);
	unmap_pages(parent, B, 0, 2);
}

/*
 * Shared anonymous memory is not copied (the child faults it in from the
 * page cache) and stays shared: a write on one side shows on the other.
 */
static void fork_shared_anon_shared(void **state)
{
	struct mm_struct *parent = test_mm(state), *child;
	unsigned long pfn;

	map_shared(parent, B, 0, 2, RW);
	fill_pages(parent, B, 0, 2);
	pfn = pte_pfn(pte_of(parent, B));
	child = fork_mm(parent);
	assert_true(pte_none(pte_of(child, B)));
	assert_true(pte_write(pte_of(parent, B)));

	assert_int_equal(read_ul(child, B), 0x1000);
	assert_int_equal(pte_pfn(pte_of(child, B)), pfn);
	assert_int_equal(page_mapcount_at(parent, B), 2);
	write_ul(child, PG(B, 1), 0x77);
	assert_int_equal(read_ul(parent, PG(B, 1)), 0x77);
	write_ul(parent, B, 0x66);
	assert_int_equal(read_ul(child, B), 0x66);
	assert_int_equal(get_mm_counter(child, MM_SHMEMPAGES), 2);
	assert_pair_valid(parent, child);

	exit_mm(child);
	assert_int_equal(read_ul(parent, PG(B, 1)), 0x77);
	assert_int_equal(validate_mm_pages(&parent, 1), 0);
	unmap_pages(parent, B, 0, 2);
}

/*
 * The child's counters: the parent's VM counters, no locked memory (its
 * VMAs lose VM_LOCKED), its own commit charge for VM_ACCOUNT VMAs, which
 * goes when it exits.
 */
static void fork_counters_and_charge(void **state)
{
	struct mm_struct *parent = test_mm(state), *child;
	struct vm_area_struct *vma;
	long committed;

	map_anon(parent, B, 0, 4, RW);		/* accounted */
	map_anon(parent, B, 8, 10, PROT_READ);	/* not accounted */
	map_shared(parent, B, 12, 13, RW);	/* not accounted */
	assert_int_equal(sys_mlock(parent, B, PG(0, 1)), 0);
	assert_int_equal(parent->locked_vm, 1);
	committed = vm_committed_pages();

	child = fork_mm(parent);
	assert_int_equal(child->total_vm, parent->total_vm);
	assert_int_equal(child->data_vm, parent->data_vm);
	assert_int_equal(child->exec_vm, parent->exec_vm);
	assert_int_equal(child->stack_vm, parent->stack_vm);
	assert_int_equal(child->map_count, parent->map_count);
	assert_int_equal(child->mmap_base, parent->mmap_base);
	assert_int_equal(child->locked_vm, 0);
	assert_int_equal(parent->locked_vm, 1);
	for (vma = child->mmap; vma; vma = vma->vm_next)
		assert_false(vma->vm_flags & VM_LOCKED_MASK);
	assert_int_equal(vm_committed_pages(), committed + 4);
	assert_int_equal(get_mm_counter(child, MM_ANONPAGES),
			 get_mm_counter(parent, MM_ANONPAGES));
	assert_int_equal(atomic_load(&child->mm_users), 1);

	exit_mm(child);
	assert_int_equal(vm_committed_pages(), committed);
	unmap_pages(parent, B, 0, 13);
}

/* --- failure -------------------------------------------------------------- */

/*
 * Use up all but target free frames by writing pages of a filler mapping
 * (left out of forks), whose two PTE tables are made first so that every
 * later write takes exactly one frame.
 */
static void fill_memory(struct mm_struct *mm, unsigned long filler,
			unsigned long target)
{
	unsigned long i;

	map_anon(mm, filler, 0, 1024, RW);
	assert_int_equal(sys_madvise(mm, filler, PG(0, 1024), MADV_DONTFORK),
			 0);
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
 * No memory for the child's last page table: the first VMA was copied
 * (PGD, PUD, PMD and PTE tables), the second gets its PMD table but not
 * its PTE table.  dup_mm() fails, every frame the child took comes back,
 * the charge too, and the parent's pages are its own again.
 */
static void fork_enomem_frees_everything(void **state)
{
	struct mm_struct *parent = test_mm(state);
	long committed;

	map_anon(parent, B, 0, 1, RW);
	map_anon(parent, B + GiB, 0, 1, RW);
	write_ul(parent, B, 0xa);
	write_ul(parent, B + GiB, 0xb);
	fill_memory(parent, B + 2 * GiB, 1 + 3 + 1);
	committed = vm_committed_pages();

	assert_null(dup_mm(parent));
	assert_int_equal(nr_free_pages(), 1 + 3 + 1);
	assert_int_equal(vm_committed_pages(), committed);
	assert_valid(parent);
	assert_int_equal(validate_mm_pages(&parent, 1), 0);
	assert_int_equal(page_mapcount_at(parent, B), 1);
	assert_int_equal(read_ul(parent, B), 0xa);
	write_ul(parent, B, 0xaa);
	assert_int_equal(read_ul(parent, B), 0xaa);
	assert_int_equal(read_ul(parent, B + GiB), 0xb);
	unmap_pages(parent, B + 2 * GiB, 0, 1024);
	unmap_pages(parent, B, 0, 1);
	unmap_pages(parent, B + GiB, 0, 1);
}

static int fork_teardown(void **state)
{
	mmsim_switch_mm(NULL);
	return mm_teardown(state);
}

#define FORK_TEST(fn) \
	cmocka_unit_test_setup_teardown(fn, mm_setup, fork_teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		FORK_TEST(fork_cow_private),
		FORK_TEST(fork_twice),
		FORK_TEST(fork_then_parent_unmaps),
		FORK_TEST(fork_dontcopy_skipped),
		FORK_TEST(fork_wipeonfork_empty),
		FORK_TEST(fork_shared_anon_shared),
		FORK_TEST(fork_counters_and_charge),
		cmocka_unit_test_setup_teardown(fork_enomem_frees_everything,
						small_ram_setup,
						small_ram_teardown),
	};

	mem_init(64UL << 20, 0);
	return cmocka_run_group_tests(tests, NULL, NULL);
}

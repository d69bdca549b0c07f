// SPDX-License-Identifier: MIT
/*
 * Unit tests for src/mm/pgtable.c and src/mm/mmu_gather.c: building 4-
 * and 5-level page tables, walking them back with the accessors, the
 * split PTE and PMD locks, protections, vm_normal_page, and freeing the
 * tables of a range with floor and ceiling (free_pgd_range,
 * free_pgtables) through an mmu_gather, which frees only after its flush.
 *
 * Each test has a fresh RAM (so that counts of free frames are exact) and
 * a fresh mm; at teardown only the PGD may be left, and every frame must
 * be free once the mm is gone.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdlib.h>

#include <mmsim/sched.h>

#include "mm/internal.h"

#define TEST_RAM_PAGES	4096UL
#define BASE		0x100000000UL	/* 4 GiB: PUD-aligned */
#define ABOVE_47	((1UL << 52) + 0x5000)	/* needs 5 levels */
#define TOP_47		((1UL << 47) - PAGE_SIZE)
#define PGDIR_SIZE_4	(1UL << PGDIR_SHIFT_4)

struct pt_env {
	struct mm_struct *mm;
	unsigned long free0;		/* free frames with the mm's PGD */
};

static int __pt_setup(void **state, unsigned int levels, unsigned int flags)
{
	struct pt_env *env;

	if (mem_init(TEST_RAM_PAGES << PAGE_SHIFT, flags))
		return -1;
	env = calloc(1, sizeof(*env));
	if (!env)
		return -1;
	env->mm = mm_alloc(levels);
	if (!env->mm) {
		free(env);
		return -1;
	}
	env->free0 = nr_free_pages();
	*state = env;
	return 0;
}

static int pt_setup4(void **state)
{
	return __pt_setup(state, 4, 0);
}

static int pt_setup5(void **state)
{
	return __pt_setup(state, 5, 0);
}

static int pt_setup4_metadata_only(void **state)
{
	return __pt_setup(state, 4, MEM_METADATA_ONLY);
}

static int pt_teardown(void **state)
{
	struct pt_env *env = *state;

	if (env->mm) {
		/* Tests free what they build: only the PGD is left. */
		assert_int_equal(atomic_load(&env->mm->pgtables_bytes), PAGE_SIZE);
		assert_int_equal(nr_free_pages(), env->free0);
		mmput(env->mm);
	}
	free(env);
	assert_int_equal(nr_free_pages(), totalram_pages());
	mem_exit();
	return 0;
}

#define PT_TEST(fn)  cmocka_unit_test_setup_teardown(fn, pt_setup4, pt_teardown)
#define PT5_TEST(fn) cmocka_unit_test_setup_teardown(fn, pt_setup5, pt_teardown)

static struct mm_struct *test_mm(void **state)
{
	return ((struct pt_env *)*state)->mm;
}

static unsigned long free0(void **state)
{
	return ((struct pt_env *)*state)->free0;
}

static long pgtables_pages(struct mm_struct *mm)
{
	return atomic_load(&mm->pgtables_bytes) / PAGE_SIZE;
}

/*
 * Tables are allocated under the mmap lock, as by a fault (a table
 * allocated without it is a warning: see pagetable_alloc_locked()).
 */
#define LOCKED(mm, call) ({						\
	typeof(call) __r;						\
	mmap_read_lock(mm);						\
	__r = (call);							\
	mmap_read_unlock(mm);						\
	__r;								\
})

/* A PTE value that needs no frame: a special mapping of some pfn. */
static pte_t test_pte(unsigned long addr)
{
	return pte_mkspecial(pfn_pte((addr >> PAGE_SHIFT) & 0xfffff,
				     PAGE_READONLY));
}

/* Set the PTE of addr to val, allocating the tables, as a fault would. */
static void __set_user_pte(struct mm_struct *mm, unsigned long addr,
			   pte_t val, const char *file, int line)
{
	pmd_t *pmd = LOCKED(mm, mm_alloc_pmd(mm, addr));
	spinlock_t *ptl;
	pte_t *pte;

	_assert_true(pmd != NULL, "mm_alloc_pmd", file, line);
	if (pmd_none(pmdp_get(pmd)))
		_assert_int_equal(LOCKED(mm, __pte_alloc(mm, pmd)), 0, file, line);
	pte = pte_offset_map_lock(mm, pmd, addr, &ptl);
	_assert_true(pte != NULL, "pte_offset_map_lock", file, line);
	set_pte_at(mm, addr, pte, val);
	pte_unmap_unlock(pte, ptl);
}

#define set_user_pte(mm, addr, val) \
	__set_user_pte(mm, addr, val, __FILE__, __LINE__)
#define map_test_pte(mm, addr) set_user_pte(mm, addr, test_pte(addr))

/* The PTE of addr, walked with the accessors one level at a time. */
static pte_t *walk_to_pte(struct mm_struct *mm, unsigned long addr)
{
	pgd_t *pgd = pgd_offset(mm, addr);
	p4d_t *p4d;
	pud_t *pud;
	pmd_t *pmd;

	if (pgd_none(pgdp_get(pgd)))
		return NULL;
	p4d = p4d_offset(mm, pgd, addr);
	if (p4d_none(p4dp_get(p4d)))
		return NULL;
	pud = pud_offset(p4d, addr);
	if (pud_none(pudp_get(pud)))
		return NULL;
	pmd = pmd_offset(pud, addr);
	return pte_offset_map(pmd, addr);
}

/* Clear the PTE of addr, which must be mapped (a zap, for the tests). */
static void clear_user_pte(struct mm_struct *mm, unsigned long addr)
{
	pte_t *pte = walk_to_pte(mm, addr);

	assert_non_null(pte);
	pte_clear(mm, addr, pte);
}

/* free_pgd_range through a gather, under the mmap lock; flushes counted. */
static unsigned long free_range(struct mm_struct *mm, unsigned long addr,
				unsigned long end, unsigned long floor,
				unsigned long ceiling)
{
	struct mmu_gather tlb;

	mmap_write_lock(mm);
	tlb_gather_mmu(&tlb, mm);
	free_pgd_range(&tlb, addr, end, floor, ceiling);
	tlb_finish_mmu(&tlb);
	mmap_write_unlock(mm);
	return tlb.nr_flushes;
}

/* --- building and walking ------------------------------------------------- */

/*
 * 4 levels: a low and a high address (the top page under 47 bits) each
 * get a PUD, a PMD and a PTE table under the PGD, and walk back.
 */
static void walk_4level_low_and_high(void **state)
{
	struct mm_struct *mm = test_mm(state);
	unsigned long low = BASE + 0x3000;

	assert_int_equal(pgtables_pages(mm), 1);
	assert_null(walk_to_pte(mm, low));
	map_test_pte(mm, low);
	assert_int_equal(pgtables_pages(mm), 4);
	map_test_pte(mm, TOP_47);
	assert_int_equal(pgtables_pages(mm), 7);
	assert_int_equal(nr_free_pages(), free0(state) - 6);

	assert_ptr_equal(pgd_offset(mm, TOP_47), mm->pgd + 255);
	assert_true(pte_same(ptep_get(walk_to_pte(mm, low)), test_pte(low)));
	assert_true(pte_same(ptep_get(walk_to_pte(mm, TOP_47)),
			     test_pte(TOP_47)));
	/* A neighbour in the same PTE table is there, and none. */
	assert_true(pte_none(ptep_get(walk_to_pte(mm, low + PAGE_SIZE))));
	assert_null(walk_to_pte(mm, low + PMD_SIZE));

	clear_user_pte(mm, low);
	clear_user_pte(mm, TOP_47);
	free_range(mm, 0, 1UL << 47, 0, 0);
	assert_null(walk_to_pte(mm, low));
	assert_null(walk_to_pte(mm, TOP_47));
}

/*
 * 5 levels: an address above 47 bits lands in PGD entry 16 and needs a
 * P4D table as well; a low one has its own path.
 */
static void walk_5level_above_47_bits(void **state)
{
	struct mm_struct *mm = test_mm(state);
	unsigned long low = BASE;

	map_test_pte(mm, ABOVE_47);
	assert_int_equal(pgtables_pages(mm), 5);
	assert_ptr_equal(pgd_offset(mm, ABOVE_47), mm->pgd + 16);
	assert_false(pgd_none(mm->pgd[16]));
	map_test_pte(mm, low);
	assert_int_equal(pgtables_pages(mm), 9);
	assert_false(pgd_none(mm->pgd[0]));
	assert_ptr_not_equal(p4d_offset(mm, mm->pgd, low),
			     (p4d_t *)mm->pgd);

	assert_true(pte_same(ptep_get(walk_to_pte(mm, ABOVE_47)),
			     test_pte(ABOVE_47)));
	assert_true(pte_same(ptep_get(walk_to_pte(mm, low)), test_pte(low)));

	clear_user_pte(mm, ABOVE_47);
	clear_user_pte(mm, low);
	free_range(mm, 0, 1UL << 57, 0, 0);
	assert_true(pgd_none(mm->pgd[16]));
	assert_true(pgd_none(mm->pgd[0]));
}

/*
 * On 4 levels the P4D is the PGD entry: p4d_offset returns it, there is
 * nothing to allocate, and freeing a range clears the PGD entry (the PUD
 * table goes) but never frees the PGD.
 */
static void folded_p4d_on_4_levels(void **state)
{
	struct mm_struct *mm = test_mm(state);
	pgd_t *pgd = pgd_offset(mm, BASE);

	assert_ptr_equal(p4d_offset(mm, pgd, BASE), (p4d_t *)pgd);
	assert_int_equal(LOCKED(mm, __p4d_alloc(mm, pgd, BASE)), 0);
	assert_true(pgd_none(pgdp_get(pgd)));
	assert_int_equal(pgtables_pages(mm), 1);

	map_test_pte(mm, BASE);
	assert_int_equal(pgtables_pages(mm), 4);
	assert_int_equal(p4d_page(p4dp_get((p4d_t *)pgd))->pt_level, 3);

	clear_user_pte(mm, BASE);
	free_range(mm, BASE, BASE + PAGE_SIZE, 0, 0);
	assert_true(pgd_none(pgdp_get(pgd)));
	assert_ptr_equal(mm->pgd, page_address(mm->pgd_page));
	assert_true(PageTable(mm->pgd_page));
}

/* mm_find_pmd allocates nothing; both refuse what the tables cannot map. */
static void find_pmd_and_alloc_pmd(void **state)
{
	struct mm_struct *mm = test_mm(state);
	pmd_t *pmd;

	assert_null(mm_find_pmd(mm, BASE));
	assert_int_equal(pgtables_pages(mm), 1);
	pmd = LOCKED(mm, mm_alloc_pmd(mm, BASE));
	assert_non_null(pmd);
	assert_int_equal(pgtables_pages(mm), 3);
	assert_ptr_equal(mm_find_pmd(mm, BASE), pmd);
	assert_ptr_equal(mm_find_pmd(mm, BASE + PMD_SIZE), pmd + 1);
	assert_null(mm_find_pmd(mm, BASE + PUD_SIZE));
	assert_true(pmd_none(pmdp_get(pmd)));
	assert_null(pte_offset_map(pmd, BASE));

	/* Beyond 48 bits a 4-level mm translates nothing. */
	assert_null(LOCKED(mm, mm_alloc_pmd(mm, 1UL << 48)));
	assert_null(mm_find_pmd(mm, 1UL << 48));
	assert_int_equal(pgtables_pages(mm), 3);

	free_range(mm, BASE, BASE + PAGE_SIZE, 0, 0);
	assert_null(mm_find_pmd(mm, BASE));
}

/*
 * Populating an entry somebody else populated first (after our
 * allocation) keeps theirs and frees ours.
 */
static void populated_entry_keeps_the_first_table(void **state)
{
	struct mm_struct *mm = test_mm(state);
	pmd_t *pmd = LOCKED(mm, mm_alloc_pmd(mm, BASE));
	p4d_t *p4d = p4d_offset(mm, pgd_offset(mm, BASE), BASE);
	pud_t *pud = pud_offset(p4d, BASE);
	unsigned long free_before;
	pmd_t pmdval;
	pud_t pudval;

	assert_non_null(pmd);
	assert_ptr_equal(pmd_offset(pud, BASE), pmd);
	assert_int_equal(LOCKED(mm, __pte_alloc(mm, pmd)), 0);
	pmdval = pmdp_get(pmd);
	pudval = pudp_get(pud);
	free_before = nr_free_pages();

	assert_int_equal(LOCKED(mm, __pte_alloc(mm, pmd)), 0);
	assert_int_equal(LOCKED(mm, __pmd_alloc(mm, pud, BASE)), 0);
	assert_int_equal(LOCKED(mm, __pud_alloc(mm, p4d, BASE)), 0);
	assert_true(pmd_same(pmdp_get(pmd), pmdval));
	assert_int_equal(pudp_get(pud).pud, pudval.pud);
	assert_int_equal(nr_free_pages(), free_before);
	assert_int_equal(pgtables_pages(mm), 4);

	free_range(mm, BASE, BASE + PAGE_SIZE, 0, 0);
}

/* --- locks ---------------------------------------------------------------- */

/*
 * pte_offset_map_lock takes the split lock of the PTE table: two addresses
 * in one PMD share it, addresses in different PMDs do not.  The lock is
 * held by this CPU (lockdep) until pte_unmap_unlock.
 */
static void split_pte_lock(void **state)
{
	struct mm_struct *mm = test_mm(state);
	unsigned long a = BASE, b = BASE + 7 * PAGE_SIZE, c = BASE + PMD_SIZE;
	spinlock_t *pa, *pb, *pc;
	pte_t *pte;

	map_test_pte(mm, a);
	map_test_pte(mm, b);
	map_test_pte(mm, c);

	pte = pte_offset_map_lock(mm, mm_find_pmd(mm, a), a, &pa);
	assert_ptr_equal(pte, walk_to_pte(mm, a));
	assert_ptr_equal(pa, &pmd_page(pmdp_get(mm_find_pmd(mm, a)))->ptl);
	assert_true(spin_is_held_by_me(pa));
	lockdep_assert_held(pa);
	pte_unmap_unlock(pte, pa);
	assert_false(spin_is_held_by_me(pa));
	assert_false(spin_is_locked(pa));

	pte = pte_offset_map_lock(mm, mm_find_pmd(mm, b), b, &pb);
	assert_ptr_equal(pte, walk_to_pte(mm, b));
	pte_unmap_unlock(pte, pb);
	pte = pte_offset_map_lock(mm, mm_find_pmd(mm, c), c, &pc);
	pte_unmap_unlock(pte, pc);
	assert_ptr_equal(pa, pb);
	assert_ptr_not_equal(pa, pc);

	clear_user_pte(mm, a);
	clear_user_pte(mm, b);
	clear_user_pte(mm, c);
	free_range(mm, BASE, BASE + 2 * PMD_SIZE, 0, 0);
}

/* A PMD entry that is none maps nothing and locks nothing. */
static void pte_offset_map_lock_on_none(void **state)
{
	struct mm_struct *mm = test_mm(state);
	pmd_t *pmd = LOCKED(mm, mm_alloc_pmd(mm, BASE));
	spinlock_t *ptl = NULL;
	int held = atomic_load(&this_cpu()->nr_held);

	assert_non_null(pmd);
	assert_null(pte_offset_map_lock(mm, pmd, BASE, &ptl));
	assert_null(ptl);
	assert_int_equal(atomic_load(&this_cpu()->nr_held), held);
	free_range(mm, BASE, BASE + PAGE_SIZE, 0, 0);
}

static struct {
	pmd_t *pmd;
	spinlock_t *old_ptl;
	struct page *new_table;
	bool swapped;
} pmd_swap;

/*
 * Another CPU replaces the PTE table (a collapse, say) just before we lock
 * the one we read: done here, when pte_offset_map_lock takes the old lock.
 */
static void swap_pmd_before_lock(enum mmsim_sched_event ev, const void *obj)
{
	if (ev != SCHED_LOCK || obj != pmd_swap.old_ptl || pmd_swap.swapped)
		return;
	pmd_swap.swapped = true;
	set_pmd(pmd_swap.pmd, (pmd_t){ _PAGE_TABLE |
		(page_to_pfn(pmd_swap.new_table) << PAGE_SHIFT) });
}

/*
 * The PMD changed between its read and the lock: pte_offset_map_lock
 * notices (pmd_same), drops the stale lock and returns the PTE and lock
 * of the table the PMD points to now.
 */
static void pte_offset_map_lock_rechecks_the_pmd(void **state)
{
	struct mm_struct *mm = test_mm(state);
	struct page *old_table;
	spinlock_t *ptl;
	pte_t *pte;

	map_test_pte(mm, BASE);
	pmd_swap.pmd = mm_find_pmd(mm, BASE);
	old_table = pmd_page(pmdp_get(pmd_swap.pmd));
	pmd_swap.old_ptl = &old_table->ptl;
	pmd_swap.new_table = pagetable_alloc(mm, 1);
	pmd_swap.swapped = false;
	assert_non_null(pmd_swap.new_table);

	mmsim_set_sched_hook(swap_pmd_before_lock);
	pte = pte_offset_map_lock(mm, pmd_swap.pmd, BASE, &ptl);
	mmsim_set_sched_hook(NULL);
	assert_true(pmd_swap.swapped);
	assert_ptr_equal(ptl, &pmd_swap.new_table->ptl);
	assert_ptr_equal(pte, (pte_t *)page_address(pmd_swap.new_table) +
			      pte_index(BASE));
	assert_true(pte_none(ptep_get(pte)));
	assert_false(spin_is_locked(pmd_swap.old_ptl));
	pte_unmap_unlock(pte, ptl);

	/* The old table is unreachable now: free it as its replacer would. */
	pte_clear(mm, BASE, (pte_t *)page_address(old_table) + pte_index(BASE));
	pagetable_free(old_table);
	free_range(mm, BASE, BASE + PAGE_SIZE, 0, 0);
}

/*
 * pmd_lock is the lock of the PMD page holding the entry: the same for all
 * the entries of one PMD table, not the PTE table's, not another PMD's.
 */
static void split_pmd_lock(void **state)
{
	struct mm_struct *mm = test_mm(state);
	pmd_t *pmd = LOCKED(mm, mm_alloc_pmd(mm, BASE));
	pmd_t *other = LOCKED(mm, mm_alloc_pmd(mm, BASE + PUD_SIZE));
	spinlock_t *ptl, *pte_ptl;
	pud_t *pud;
	pte_t *pte;

	assert_non_null(pmd);
	assert_non_null(other);
	map_test_pte(mm, BASE);
	pud = pud_offset(p4d_offset(mm, pgd_offset(mm, BASE), BASE), BASE);
	ptl = pmd_lockptr(mm, pmd);
	assert_ptr_equal(ptl, &pud_page(pudp_get(pud))->ptl);
	assert_int_equal(pud_page(pudp_get(pud))->pt_level, 2);
	assert_ptr_equal(pmd_lockptr(mm, pmd + 5), ptl);
	assert_ptr_not_equal(pmd_lockptr(mm, other), ptl);

	assert_ptr_equal(pmd_lock(mm, pmd), ptl);
	assert_true(spin_is_held_by_me(ptl));
	/* The PTE lock is another lock: taking it under pmd_lock is fine. */
	pte = pte_offset_map_lock(mm, pmd, BASE, &pte_ptl);
	assert_ptr_not_equal(pte_ptl, ptl);
	pte_unmap_unlock(pte, pte_ptl);
	spin_unlock(ptl);

	clear_user_pte(mm, BASE);
	free_range(mm, BASE, BASE + 2 * PUD_SIZE, 0, 0);
}

/* --- protections and pages ------------------------------------------------ */

static void protection_map_of_x86(void **state)
{
	pgprot_t p;

	assert_int_equal(vm_get_page_prot(VM_NONE).pgprot, PAGE_NONE.pgprot);
	assert_false(vm_get_page_prot(VM_NONE).pgprot & _PAGE_PRESENT);
	assert_int_equal(vm_get_page_prot(VM_SHARED).pgprot, PAGE_NONE.pgprot);

	/* Private writable: read-only until the COW fault. */
	p = vm_get_page_prot(VM_READ | VM_WRITE);
	assert_int_equal(p.pgprot, PAGE_COPY.pgprot);
	assert_false(p.pgprot & _PAGE_RW);
	assert_true(p.pgprot & _PAGE_NX);
	assert_false(vm_get_page_prot(VM_WRITE).pgprot & _PAGE_RW);

	/* Shared writable: writable at once. */
	p = vm_get_page_prot(VM_SHARED | VM_READ | VM_WRITE);
	assert_int_equal(p.pgprot, PAGE_SHARED.pgprot);
	assert_true(p.pgprot & _PAGE_RW);
	assert_true(vm_get_page_prot(VM_SHARED | VM_WRITE).pgprot & _PAGE_RW);

	/* Exec clears NX; without it NX is set. */
	assert_false(vm_get_page_prot(VM_READ | VM_EXEC).pgprot & _PAGE_NX);
	assert_false(vm_get_page_prot(VM_EXEC).pgprot & _PAGE_NX);
	assert_int_equal(vm_get_page_prot(VM_SHARED | VM_READ | VM_WRITE |
					  VM_EXEC).pgprot,
			 PAGE_SHARED_EXEC.pgprot);
	assert_int_equal(vm_get_page_prot(VM_READ | VM_WRITE | VM_EXEC).pgprot,
			 PAGE_COPY_EXEC.pgprot);
	assert_int_equal(vm_get_page_prot(VM_READ).pgprot,
			 PAGE_READONLY.pgprot);

	/* Other flags do not matter. */
	assert_int_equal(vm_get_page_prot(VM_READ | VM_LOCKED |
					  VM_GROWSDOWN).pgprot,
			 PAGE_READONLY.pgprot);
}

static void normal_page_skips_special_and_zero(void **state)
{
	struct page *page = alloc_page(GFP_HIGHUSER_MOVABLE);
	pgprot_t prot = PAGE_READONLY;

	assert_non_null(page);
	assert_ptr_equal(vm_normal_page(NULL, BASE, mk_pte(page, prot)), page);
	assert_ptr_equal(pte_page(mk_pte(page, prot)), page);
	assert_null(vm_normal_page(NULL, BASE,
				   pte_mkspecial(mk_pte(page, prot))));
	assert_null(vm_normal_page(NULL, BASE,
				   mk_pte(ZERO_PAGE(BASE), prot)));
	__free_page(page);
}

/* --- freeing tables ------------------------------------------------------- */

/*
 * Tables spread over PMDs, PUDs and PGD entries all go, and only after
 * the gather's flush: until tlb_finish_mmu the frames stay allocated
 * although the entries are clear and the mm no longer counts them.
 */
static void free_pgd_range_frees_after_flush(void **state)
{
	struct mm_struct *mm = test_mm(state);
	unsigned long addrs[] = { BASE, BASE + 3 * PMD_SIZE, BASE + PUD_SIZE,
				  BASE + PGDIR_SIZE_4 };
	struct mmu_gather tlb;
	unsigned long before;

	for (size_t i = 0; i < 4; i++)
		map_test_pte(mm, addrs[i]);
	/* PUD 2, PMD 3, PTE 4, plus the PGD. */
	assert_int_equal(pgtables_pages(mm), 10);
	for (size_t i = 0; i < 4; i++)
		clear_user_pte(mm, addrs[i]);

	before = nr_free_pages();
	mmap_write_lock(mm);
	tlb_gather_mmu(&tlb, mm);
	free_pgd_range(&tlb, BASE, BASE + 2 * PGDIR_SIZE_4, 0, 0);
	assert_true(tlb.freed_tables);
	assert_true(tlb.need_flush);
	assert_int_equal(tlb.nr_tables, 9);
	assert_int_equal(tlb.nr_flushes, 0);
	assert_int_equal(nr_free_pages(), before);
	assert_int_equal(pgtables_pages(mm), 1);
	for (size_t i = 0; i < 4; i++)
		assert_null(mm_find_pmd(mm, addrs[i]));
	tlb_finish_mmu(&tlb);
	mmap_write_unlock(mm);
	assert_int_equal(tlb.nr_flushes, 1);
	assert_int_equal(nr_free_pages(), before + 9);
	assert_int_equal(nr_free_pages(), free0(state));
}

/*
 * Floor: a neighbour below in the same PTE table keeps the table when the
 * range above it goes; the range from 0 up takes everything.
 *
 *      A         B
 *   |-----|   |-----|      one PTE table, one PMD, one PUD
 *         ^ floor for B
 */
static void floor_keeps_table_of_neighbour_below(void **state)
{
	struct mm_struct *mm = test_mm(state);
	unsigned long a = BASE, b = BASE + 8 * PAGE_SIZE;

	map_test_pte(mm, a);
	map_test_pte(mm, b);
	clear_user_pte(mm, b);
	free_range(mm, b, b + PAGE_SIZE, a + PAGE_SIZE, 0);
	assert_int_equal(pgtables_pages(mm), 4);
	assert_true(pte_same(ptep_get(walk_to_pte(mm, a)), test_pte(a)));

	clear_user_pte(mm, a);
	free_range(mm, a, a + PAGE_SIZE, 0, 0);
	assert_int_equal(pgtables_pages(mm), 1);
}

/* Ceiling: a neighbour above keeps the table when the range below goes. */
static void ceiling_keeps_table_of_neighbour_above(void **state)
{
	struct mm_struct *mm = test_mm(state);
	unsigned long a = BASE + PAGE_SIZE, b = BASE + 100 * PAGE_SIZE;

	map_test_pte(mm, a);
	map_test_pte(mm, b);
	clear_user_pte(mm, a);
	free_range(mm, a, a + PAGE_SIZE, 0, b);
	assert_int_equal(pgtables_pages(mm), 4);
	assert_true(pte_same(ptep_get(walk_to_pte(mm, b)), test_pte(b)));

	clear_user_pte(mm, b);
	free_range(mm, b, b + PAGE_SIZE, 0, 0);
	assert_int_equal(pgtables_pages(mm), 1);
}

/*
 * A neighbour in the next PMD of the same PMD table: the PTE table of the
 * range goes, the PMD table (and above) stays.
 */
static void neighbour_in_next_pmd_keeps_the_pmd_table(void **state)
{
	struct mm_struct *mm = test_mm(state);
	unsigned long a = BASE, b = BASE + PMD_SIZE;

	map_test_pte(mm, a);
	map_test_pte(mm, b);
	assert_int_equal(pgtables_pages(mm), 5);
	clear_user_pte(mm, a);
	free_range(mm, a, a + PAGE_SIZE, 0, b);
	assert_int_equal(pgtables_pages(mm), 4);
	assert_true(pmd_none(pmdp_get(mm_find_pmd(mm, a))));
	assert_true(pte_same(ptep_get(walk_to_pte(mm, b)), test_pte(b)));

	/* A is gone too: nothing below bounds the range any more. */
	clear_user_pte(mm, b);
	free_range(mm, b, b + PAGE_SIZE, 0, 0);
	assert_int_equal(pgtables_pages(mm), 1);
}

/* A range that fits in a PMD shared on both sides frees nothing. */
static void range_inside_shared_pmd_frees_nothing(void **state)
{
	struct mm_struct *mm = test_mm(state);
	unsigned long a = BASE, b = BASE + 4 * PAGE_SIZE,
		      c = BASE + 9 * PAGE_SIZE;

	map_test_pte(mm, a);
	map_test_pte(mm, b);
	map_test_pte(mm, c);
	clear_user_pte(mm, b);
	assert_int_equal(free_range(mm, b, b + PAGE_SIZE, a + PAGE_SIZE, c),
			 0);
	assert_int_equal(pgtables_pages(mm), 4);

	clear_user_pte(mm, a);
	clear_user_pte(mm, c);
	free_range(mm, 0, 1UL << 47, 0, 0);
}

/*
 * free_pgtables over a chain of removed VMAs.  v1 and v2 share a PMD
 * table but are more than a PMD apart (walked separately): nothing
 * between them stays, so the shared PMD table goes with v2.  far shares
 * its PTE table with a VMA that stays above it (the ceiling): kept.
 *
 *   v1         v2             far   stays
 *  |--| ... |--|    ...     |--|   |--|
 *  \_ one PMD table _/       \_ one PTE table _/
 */
static void free_pgtables_over_a_vma_chain(void **state)
{
	struct mm_struct *mm = test_mm(state);
	struct vm_area_struct v1 = { .vm_start = BASE,
				     .vm_end = BASE + 2 * PAGE_SIZE };
	struct vm_area_struct v2 = { .vm_start = BASE + 3 * PMD_SIZE,
				     .vm_end = BASE + 3 * PMD_SIZE + PAGE_SIZE };
	struct vm_area_struct far = { .vm_start = BASE + 2 * PUD_SIZE,
				      .vm_end = BASE + 2 * PUD_SIZE + PAGE_SIZE };
	unsigned long stays = BASE + 2 * PUD_SIZE + 20 * PAGE_SIZE;
	struct mmu_gather tlb;

	v1.vm_next = &v2;
	v2.vm_next = &far;
	map_test_pte(mm, v1.vm_start);
	map_test_pte(mm, v2.vm_start);
	map_test_pte(mm, far.vm_start);
	map_test_pte(mm, stays);
	/* PGD, PUD, v1+v2's PMD and 2 PTE tables, far's PMD and PTE table */
	assert_int_equal(pgtables_pages(mm), 7);
	clear_user_pte(mm, v1.vm_start);
	clear_user_pte(mm, v2.vm_start);
	clear_user_pte(mm, far.vm_start);

	mmap_write_lock(mm);
	tlb_gather_mmu(&tlb, mm);
	free_pgtables(&tlb, &v1, 0, stays);
	tlb_finish_mmu(&tlb);
	mmap_write_unlock(mm);
	assert_int_equal(pgtables_pages(mm), 4);
	assert_null(mm_find_pmd(mm, v1.vm_start));
	assert_null(mm_find_pmd(mm, v2.vm_start));
	assert_true(pte_same(ptep_get(walk_to_pte(mm, stays)),
			     test_pte(stays)));

	clear_user_pte(mm, stays);
	free_range(mm, 0, 1UL << 47, 0, 0);
}

/* With pt_free_rcu the tables wait for a grace period after the flush. */
static void rcu_table_free(void **state)
{
	struct mm_struct *mm = test_mm(state);

	mm->pt_free_rcu = true;
	map_test_pte(mm, BASE);
	map_test_pte(mm, BASE + 5 * PGDIR_SIZE_4);
	clear_user_pte(mm, BASE);
	clear_user_pte(mm, BASE + 5 * PGDIR_SIZE_4);
	free_range(mm, 0, 1UL << 47, 0, 0);
	assert_int_equal(pgtables_pages(mm), 1);
	rcu_barrier();
	assert_int_equal(nr_free_pages(), free0(state));
	/* They were freed from a thread that is no CPU; usable again. */
	map_test_pte(mm, BASE);
	clear_user_pte(mm, BASE);
	free_range(mm, 0, 1UL << 47, 0, 0);
	rcu_barrier();
}

/* A range freed on 5 levels takes the P4D table, never the PGD. */
static void five_level_frees_p4d_not_pgd(void **state)
{
	struct mm_struct *mm = test_mm(state);
	struct page *pgd_page = mm->pgd_page;

	map_test_pte(mm, ABOVE_47);
	map_test_pte(mm, ABOVE_47 + (1UL << 48));
	assert_int_equal(pgtables_pages(mm), 9);
	clear_user_pte(mm, ABOVE_47);
	/* The neighbour in the next PGD entry keeps only its own tables. */
	free_range(mm, ABOVE_47, ABOVE_47 + PAGE_SIZE, 0,
		   ABOVE_47 + (1UL << 48));
	assert_int_equal(pgtables_pages(mm), 5);
	assert_true(pgd_none(mm->pgd[16]));
	assert_false(pgd_none(mm->pgd[17]));

	clear_user_pte(mm, ABOVE_47 + (1UL << 48));
	free_range(mm, 0, 1UL << 57, 0, 0);
	assert_ptr_equal(mm->pgd_page, pgd_page);
	assert_true(PageTable(pgd_page));
}

/* --- the gather's pages --------------------------------------------------- */

/*
 * Pages queued in a gather are put after the flush, not before; the batch
 * reports full at MMU_GATHER_BATCH; a gather with nothing to flush does
 * not flush.
 */
static void gather_puts_pages_after_flush(void **state)
{
	struct mm_struct *mm = test_mm(state);
	unsigned long before = nr_free_pages();
	struct mmu_gather tlb;
	struct page *page;

	tlb_gather_mmu(&tlb, mm);
	assert_int_equal(tlb.max, MMU_GATHER_BATCH);
	for (int i = 0; i < MMU_GATHER_BATCH; i++) {
		page = alloc_page(GFP_KERNEL);
		assert_non_null(page);
		tlb_flush_pte_range(&tlb, BASE + i * PAGE_SIZE, PAGE_SIZE);
		assert_int_equal(__tlb_remove_page(&tlb, page),
				 i == MMU_GATHER_BATCH - 1);
	}
	assert_int_equal(tlb.start, BASE);
	assert_int_equal(tlb.end, BASE + MMU_GATHER_BATCH * PAGE_SIZE);
	assert_int_equal(nr_free_pages(), before - MMU_GATHER_BATCH);
	tlb_flush_mmu(&tlb);
	assert_int_equal(tlb.nr_flushes, 1);
	assert_int_equal(tlb.nr, 0);
	assert_false(tlb.need_flush);
	assert_int_equal(nr_free_pages(), before);

	/* Nothing queued since: no second flush. */
	tlb_finish_mmu(&tlb);
	assert_int_equal(tlb.nr_flushes, 1);

	tlb_gather_mmu_fullmm(&tlb, mm);
	assert_true(tlb.fullmm);
	tlb_finish_mmu(&tlb);
	assert_int_equal(tlb.nr_flushes, 0);
}

/* This CPU's TLB flush count when the first frame was freed, or -1. */
static long flushes_at_first_free = -1;

static void record_first_free(enum mmsim_sched_event ev, const void *obj)
{
	struct mmsim_cpu *cpu = this_cpu();

	/* Every free takes this CPU's pcp lock. */
	if (ev == SCHED_LOCK && obj == &cpu->pcp.lock &&
	    flushes_at_first_free < 0)
		flushes_at_first_free = cpu->tlb.flushes;
}

/*
 * The order of the mmu_gather: with the mm running on this CPU, its TLB
 * is flushed before the first page or table is freed.
 */
static void pages_and_tables_freed_after_the_flush(void **state)
{
	struct mm_struct *mm = test_mm(state);
	struct page *page = alloc_page(GFP_KERNEL);
	struct mmu_gather tlb;
	unsigned long flushes;

	assert_non_null(page);
	map_test_pte(mm, BASE);
	clear_user_pte(mm, BASE);
	mmsim_switch_mm(mm);
	flushes = this_cpu()->tlb.flushes;

	mmap_write_lock(mm);
	tlb_gather_mmu(&tlb, mm);
	tlb_flush_pte_range(&tlb, BASE, PAGE_SIZE);
	assert_false(__tlb_remove_page(&tlb, page));
	free_pgd_range(&tlb, BASE, BASE + PAGE_SIZE, 0, 0);
	flushes_at_first_free = -1;
	mmsim_set_sched_hook(record_first_free);
	tlb_finish_mmu(&tlb);
	mmsim_set_sched_hook(NULL);
	mmap_write_unlock(mm);
	mmsim_switch_mm(NULL);

	assert_int_equal(tlb.nr_flushes, 1);
	assert_true(flushes_at_first_free > (long)flushes);
	assert_int_equal(nr_free_pages(), free0(state));
}

/* --- out of memory and metadata-only -------------------------------------- */

/*
 * With the RAM nearly gone, building a path fails with NULL or -ENOMEM
 * and leaves what it built linked (as the kernel: freed with the range).
 */
static void alloc_pmd_out_of_memory(void **state)
{
	struct mm_struct *mm = test_mm(state);
	struct page *pages[TEST_RAM_PAGES];
	unsigned long n = 0;

	while (nr_free_pages() > 1)
		assert_non_null(pages[n++] = alloc_page(GFP_KERNEL));
	assert_null(LOCKED(mm, mm_alloc_pmd(mm, BASE)));
	assert_int_equal(pgtables_pages(mm), 2);	/* PGD and PUD */
	assert_null(mm_alloc(4));

	while (n--)
		__free_page(pages[n]);
	assert_non_null(LOCKED(mm, mm_alloc_pmd(mm, BASE)));
	assert_int_equal(pgtables_pages(mm), 3);
	free_range(mm, BASE, BASE + PAGE_SIZE, 0, 0);
}

/* In metadata-only mode, table pages still have (zeroed) entries. */
static void metadata_only_tables_have_data(void **state)
{
	struct mm_struct *mm = test_mm(state);
	struct page *data = alloc_page(__GFP_ZERO);
	pmd_t *pmd;

	assert_true(mem_metadata_only());
	assert_non_null(data);
	assert_null(page_address(data));
	assert_non_null(mm->pgd);
	map_test_pte(mm, BASE);
	pmd = mm_find_pmd(mm, BASE);
	assert_non_null(pmd);
	assert_non_null(page_address(pmd_page(pmdp_get(pmd))));
	assert_true(pte_none(ptep_get(walk_to_pte(mm, BASE + PAGE_SIZE))));
	assert_true(pte_same(ptep_get(walk_to_pte(mm, BASE)), test_pte(BASE)));
	clear_user_pte(mm, BASE);
	free_range(mm, BASE, BASE + PAGE_SIZE, 0, 0);
	__free_page(data);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		PT_TEST(walk_4level_low_and_high),
		PT5_TEST(walk_5level_above_47_bits),
		PT_TEST(folded_p4d_on_4_levels),
		PT_TEST(find_pmd_and_alloc_pmd),
		PT_TEST(populated_entry_keeps_the_first_table),
		PT_TEST(split_pte_lock),
		PT_TEST(pte_offset_map_lock_on_none),
		PT_TEST(pte_offset_map_lock_rechecks_the_pmd),
		PT_TEST(split_pmd_lock),
		PT_TEST(protection_map_of_x86),
		PT_TEST(normal_page_skips_special_and_zero),
		PT_TEST(free_pgd_range_frees_after_flush),
		PT_TEST(floor_keeps_table_of_neighbour_below),
		PT_TEST(ceiling_keeps_table_of_neighbour_above),
		PT_TEST(neighbour_in_next_pmd_keeps_the_pmd_table),
		PT_TEST(range_inside_shared_pmd_frees_nothing),
		PT_TEST(free_pgtables_over_a_vma_chain),
		PT_TEST(rcu_table_free),
		PT5_TEST(five_level_frees_p4d_not_pgd),
		PT_TEST(gather_puts_pages_after_flush),
		PT_TEST(pages_and_tables_freed_after_the_flush),
		PT_TEST(alloc_pmd_out_of_memory),
		cmocka_unit_test_setup_teardown(metadata_only_tables_have_data,
						pt_setup4_metadata_only,
						pt_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

// SPDX-License-Identifier: MIT
/*
 * Unit tests for the classic fault handlers of src/mm/memory.c, the shmem
 * page cache and the page-level rmap: each fault kind is driven by calling
 * handle_mm_fault() directly under the mmap lock, on VMAs made with
 * sys_mmap, and its result is read back from the page tables, the struct
 * pages and the RSS counters.  Zapping and fork's copy_page_range() are
 * checked the same way, and every test ends with every frame free again.
 *
 *	read fault		-> the zero page, read-only, special
 *	write fault		-> a new zeroed anonymous page, exclusive
 *	write after read	-> COW from the zero page
 *	shared write		-> a page-cache page, seen by every mapping
 *	private file write	-> COW from the page cache (do_cow_fault)
 *	beyond EOF		-> VM_FAULT_SIGBUS
 *	no frame left		-> VM_FAULT_OOM, nothing leaked
 *	page being created	-> VM_FAULT_RETRY without the mmap lock
 *	PROT_NONE PTE		-> the VMA's rights back
 *	fork			-> COW both ways, reuse once alone
 */
#include <pthread.h>
#include <sched.h>
#include <time.h>

#include <mmsim/sched.h>

#include "helpers.h"
#include "arch/tlb.h"

#define B	TEST_BASE
#define RW	(PROT_READ | PROT_WRITE)
/* A 5-level mm maps this far above the 4-level window only on request. */
#define HIGH_BASE	(1UL << 50)

#define W	FAULT_FLAG_WRITE

/* --- environment: an mm per test, and every frame back at the end -------- */

static int group_setup(void **state)
{
	mem_init_default();
	return 0;
}

/*
 * helpers.h's teardown checks that every frame is free again; a test that
 * ran the MMU leaves its CPU on the mm, which must not outlive it.
 */
static int fault_teardown(void **state)
{
	mmsim_switch_mm(NULL);
	return mm_teardown(state);
}

#define FAULT_TEST(fn) \
	cmocka_unit_test_setup_teardown(fn, mm_setup, fault_teardown)
#define FAULT5_TEST(fn) \
	cmocka_unit_test_setup_teardown(fn, mm_setup5, fault_teardown)

static void set_test_mm(void **state, struct mm_struct *mm)
{
	((struct test_env *)*state)->mm = mm;
}

/* --- looking at page tables ---------------------------------------------- */

/* The PTE slot of addr, or NULL if no PTE table covers it. */
static pte_t *find_pte(struct mm_struct *mm, unsigned long addr)
{
	pmd_t *pmd = mm_find_pmd(mm, addr);
	pmd_t pmdval;

	if (!pmd)
		return NULL;
	pmdval = pmdp_get(pmd);
	if (pmd_none(pmdval))
		return NULL;
	return pte_offset_kernel(pmdval, addr);
}

/* The PTE of addr (none if there is no table). */
static pte_t pte_at(struct mm_struct *mm, unsigned long addr)
{
	pte_t *ptep = find_pte(mm, addr);

	return ptep ? ptep_get(ptep) : (pte_t){ 0 };
}

/* The page a present PTE of addr maps; fails the test if none. */
static struct page *__page_at(struct mm_struct *mm, unsigned long addr,
			      const char *file, int line)
{
	pte_t pte = pte_at(mm, addr);

	_assert_true(pte_present(pte), "pte_present", file, line);
	return pte_page(pte);
}
#define page_at(mm, addr)	__page_at(mm, addr, __FILE__, __LINE__)

static bool maps_zero_page(pte_t pte)
{
	return pte_present(pte) && pte_special(pte) &&
	       pte_pfn(pte) == page_to_pfn(ZERO_PAGE(0));
}

static unsigned long vma_index(struct vm_area_struct *vma, unsigned long addr)
{
	return vma->vm_pgoff + ((addr - vma->vm_start) >> PAGE_SHIFT);
}

/* Does the page hold byte c everywhere (true in metadata-only mode)? */
static bool page_filled_with(struct page *page, unsigned char c)
{
	const unsigned char *p = page_address(page);

	if (!p)
		return true;
	for (unsigned long i = 0; i < PAGE_SIZE; i++)
		if (p[i] != c)
			return false;
	return true;
}

static void fill_page(struct page *page, unsigned char c)
{
	if (page_address(page))
		memset(page_address(page), c, PAGE_SIZE);
}

static unsigned long free_now(void)
{
	drain_all_pages();
	return nr_free_pages();
}

/*
 * One fault at addr with flags, as the arch handler would do it: under
 * the mmap lock held for reading.  With VM_FAULT_RETRY the lock is gone.
 */
static vm_fault_t fault(struct mm_struct *mm, unsigned long addr,
			unsigned int flags)
{
	struct vm_area_struct *vma;
	vm_fault_t ret;

	mmap_read_lock(mm);
	vma = vma_lookup(mm, addr);
	if (!vma) {
		mmap_read_unlock(mm);
		return VM_FAULT_SIGSEGV;
	}
	ret = handle_mm_fault(vma, addr, flags, NULL);
	if (!(ret & VM_FAULT_RETRY))
		mmap_read_unlock(mm);
	return ret;
}

static void zap(struct mm_struct *mm, unsigned long addr, unsigned long size)
{
	struct vm_area_struct *vma;

	mmap_read_lock(mm);
	vma = vma_lookup(mm, addr);
	if (vma)
		zap_page_range_single(vma, addr, size);
	mmap_read_unlock(mm);
	assert_non_null(vma);
}

static long counter(struct mm_struct *mm, int member)
{
	return get_mm_counter(mm, member);
}

/* --- anonymous faults ------------------------------------------------------ */

/* A read fault maps the zero page: read-only, special, no RSS, no anon_vma. */
static void __read_fault_maps_zero_page(struct mm_struct *mm,
					unsigned long base)
{
	unsigned long addr = PG(base, 1) + 123;
	unsigned long faults = atomic_load(&this_cpu()->nr_faults);
	pte_t pte;

	map_anon(mm, base, 0, 4, RW);
	assert_int_equal(fault(mm, addr, 0), 0);
	pte = pte_at(mm, addr);
	assert_true(maps_zero_page(pte));
	assert_false(pte_write(pte));
	assert_true(pte_none(pte_at(mm, PG(base, 0))));
	assert_true(pte_none(pte_at(mm, PG(base, 2))));
	assert_int_equal(counter(mm, MM_ANONPAGES), 0);
	assert_null(vma_at(mm, addr)->anon_vma);
	assert_int_equal(atomic_load(&this_cpu()->nr_faults), faults + 1);

	/* Again: the PTE is there, nothing changes. */
	assert_int_equal(fault(mm, addr, 0), 0);
	assert_true(maps_zero_page(pte_at(mm, addr)));
	assert_true(atomic_load(&mm->pgtables_bytes) > 0);
}

static void read_fault_maps_zero_page(void **state)
{
	__read_fault_maps_zero_page(test_mm(state), B);
}

static void read_fault_maps_zero_page_5level(void **state)
{
	__read_fault_maps_zero_page(test_mm(state), HIGH_BASE);
}

/* A write fault maps a new zeroed page, writable, dirty, exclusive. */
static void __write_fault_new_anon_page(struct mm_struct *mm,
					unsigned long base)
{
	unsigned long addr = PG(base, 2) + 7, free_before;
	struct vm_area_struct *vma;
	struct page *page;
	pte_t pte;

	map_anon(mm, base, 0, 4, RW);
	/* The first fault of an empty mm also allocates page tables. */
	assert_int_equal(fault(mm, PG(base, 0), 0), 0);
	free_before = free_now();

	assert_int_equal(fault(mm, addr, W), 0);
	vma = vma_at(mm, addr);
	pte = pte_at(mm, addr);
	assert_true(pte_present(pte));
	assert_true(pte_write(pte));
	assert_true(pte_dirty(pte));
	assert_false(pte_special(pte));
	page = pte_page(pte);
	assert_false(is_zero_page(page));
	assert_true(PageAnon(page));
	assert_true(PageAnonExclusive(page));
	assert_non_null(vma->anon_vma);
	assert_ptr_equal(page->mapping,
			 (void *)((unsigned long)vma->anon_vma | PAGE_MAPPING_ANON));
	assert_int_equal(page->index, vma_index(vma, addr));
	assert_int_equal(page_mapcount(page), 1);
	assert_int_equal(page_ref_count(page), 1);
	assert_true(page_filled_with(page, 0));
	assert_int_equal(counter(mm, MM_ANONPAGES), 1);
	assert_int_equal(free_now(), free_before - 1);

	/* A second write fault there is spurious: same page, nothing new. */
	assert_int_equal(fault(mm, addr, W), 0);
	assert_ptr_equal(page_at(mm, addr), page);
	assert_int_equal(counter(mm, MM_ANONPAGES), 1);
	assert_int_equal(free_now(), free_before - 1);
}

static void write_fault_new_anon_page(void **state)
{
	__write_fault_new_anon_page(test_mm(state), B);
}

static void write_fault_new_anon_page_5level(void **state)
{
	__write_fault_new_anon_page(test_mm(state), HIGH_BASE);
}

/* A write after a read copies the zero page into a new anonymous page. */
static void write_after_read_cows_zero_page(void **state)
{
	struct mm_struct *mm = test_mm(state);
	unsigned long addr = PG(B, 0), free_before;
	int zero_refs = page_ref_count(ZERO_PAGE(0));
	struct page *page;
	pte_t pte;

	map_anon(mm, B, 0, 1, RW);
	assert_int_equal(fault(mm, addr, 0), 0);
	assert_true(maps_zero_page(pte_at(mm, addr)));
	free_before = free_now();

	assert_int_equal(fault(mm, addr, W), 0);
	pte = pte_at(mm, addr);
	assert_false(maps_zero_page(pte));
	assert_true(pte_write(pte) && pte_dirty(pte));
	page = pte_page(pte);
	assert_true(PageAnon(page) && PageAnonExclusive(page));
	assert_int_equal(page_mapcount(page), 1);
	assert_int_equal(page_ref_count(page), 1);
	assert_true(page_filled_with(page, 0));
	assert_int_equal(counter(mm, MM_ANONPAGES), 1);
	assert_int_equal(free_now(), free_before - 1);
	/* The zero page is never counted or freed. */
	assert_int_equal(page_ref_count(ZERO_PAGE(0)), zero_refs);
}

/* A read-only private VMA: read faults map the zero page, writes refuse. */
static void write_fault_on_readonly_vma_refused(void **state)
{
	struct mm_struct *mm = test_mm(state);

	map_anon(mm, B, 0, 1, PROT_READ);
	assert_int_equal(fault(mm, PG(B, 0), W), VM_FAULT_SIGSEGV);
	assert_true(pte_none(pte_at(mm, PG(B, 0))));
	assert_int_equal(fault(mm, PG(B, 0), 0), 0);
	assert_true(maps_zero_page(pte_at(mm, PG(B, 0))));

	map_anon(mm, B, 1, 2, PROT_NONE);
	assert_int_equal(fault(mm, PG(B, 1), 0), VM_FAULT_SIGSEGV);
	assert_true(pte_none(pte_at(mm, PG(B, 1))));
}

/* --- shmem faults ---------------------------------------------------------- */

/* A second MAP_SHARED mapping of file at page start from B. */
static void map_file(struct mm_struct *mm, unsigned long start,
		     unsigned long end, unsigned long prot, unsigned long type,
		     struct file *file, unsigned long pgoff)
{
	unsigned long addr = PG(B, start);

	assert_int_equal(sys_mmap(mm, addr, (end - start) << PAGE_SHIFT, prot,
				  type | MAP_FIXED, file, pgoff), addr);
	assert_valid(mm);
}

/*
 * A shared write fault puts a page in the file's cache and maps it
 * writable; a second mapping of the file maps the same page.
 */
static void shared_write_fault_page_cache(void **state)
{
	struct mm_struct *mm = test_mm(state);
	unsigned long a = PG(B, 1), b = PG(B, 11), free_before;
	struct vm_area_struct *vma;
	struct file *file;
	struct page *page;
	pte_t pte;

	map_shared(mm, B, 0, 4, RW);
	vma = vma_at(mm, a);
	file = vma->vm_file;
	assert_non_null(file);
	assert_int_equal(file->i_size, 4 * PAGE_SIZE);
	/* Tables first, so that the count below is the page alone. */
	assert_int_equal(fault(mm, PG(B, 0), 0), 0);
	free_before = free_now();

	assert_int_equal(fault(mm, a, W), 0);
	pte = pte_at(mm, a);
	assert_true(pte_present(pte) && pte_write(pte) && pte_dirty(pte));
	page = pte_page(pte);
	assert_false(PageAnon(page));
	assert_ptr_equal(page->mapping, file);
	assert_int_equal(page->index, 1);
	assert_ptr_equal(xa_load(&file->f_mapping.i_pages, 1), page);
	assert_true(PageFlag(page, PG_dirty));
	assert_false(PageFlag(page, PG_locked));
	assert_int_equal(page_mapcount(page), 1);
	assert_int_equal(page_ref_count(page), 2);	/* cache + PTE */
	assert_int_equal(counter(mm, MM_SHMEMPAGES), 2);
	assert_int_equal(counter(mm, MM_ANONPAGES), 0);
	/* Two frames: page 0 (read fault above) and page 1. */
	assert_int_equal(free_now(), free_before - 1);
	fill_page(page, 0x5a);

	/* The same file mapped again, at b: the same page, one more map. */
	map_file(mm, 10, 14, RW, MAP_SHARED, file, 0);
	assert_int_equal(fault(mm, b, 0), 0);
	assert_ptr_equal(page_at(mm, b), page);
	/* A shared writable VMA maps even a read fault writable. */
	assert_true(pte_write(pte_at(mm, b)));
	assert_int_equal(page_mapcount(page), 2);
	assert_int_equal(page_ref_count(page), 3);
	assert_int_equal(counter(mm, MM_SHMEMPAGES), 3);
	assert_true(page_filled_with(page, 0x5a));
	assert_int_equal(free_now(), free_before - 1);

	/* Zapping one mapping leaves the page to the other and the cache. */
	zap(mm, a, PAGE_SIZE);
	assert_true(pte_none(pte_at(mm, a)));
	assert_int_equal(page_mapcount(page), 1);
	assert_int_equal(page_ref_count(page), 2);
	assert_int_equal(counter(mm, MM_SHMEMPAGES), 2);
	/* Faulting it back finds the cached page and its data. */
	assert_int_equal(fault(mm, a, 0), 0);
	assert_ptr_equal(page_at(mm, a), page);
	assert_int_equal(free_now(), free_before - 1);
}

/*
 * A private mapping of a shmem file: a read maps the cache page read-only,
 * a write copies it (do_cow_fault on a none PTE, wp_page_copy on a
 * read-only one) and the file keeps its data.
 */
static void private_file_write_cows_page_cache(void **state)
{
	struct mm_struct *mm = test_mm(state);
	struct vm_area_struct *vma;
	struct page *cached, *copy, *page1;
	struct file *file;
	pte_t pte;

	map_shared(mm, B, 0, 2, RW);
	file = vma_at(mm, PG(B, 0))->vm_file;
	assert_int_equal(fault(mm, PG(B, 0), W), 0);
	assert_int_equal(fault(mm, PG(B, 1), W), 0);
	fill_page(page_at(mm, PG(B, 0)), 0x11);
	fill_page(page_at(mm, PG(B, 1)), 0x22);
	cached = page_at(mm, PG(B, 0));

	map_file(mm, 10, 12, RW, MAP_PRIVATE, file, 0);
	vma = vma_at(mm, PG(B, 10));

	/* Read: the cache page itself, read-only, counted as shmem. */
	assert_int_equal(fault(mm, PG(B, 10), 0), 0);
	pte = pte_at(mm, PG(B, 10));
	assert_ptr_equal(pte_page(pte), cached);
	assert_false(pte_write(pte));
	assert_int_equal(page_mapcount(cached), 2);
	assert_int_equal(counter(mm, MM_SHMEMPAGES), 3);

	/* Then write: wp_page_copy, shmem -> anon. */
	assert_int_equal(fault(mm, PG(B, 10), W), 0);
	pte = pte_at(mm, PG(B, 10));
	copy = pte_page(pte);
	assert_ptr_not_equal(copy, cached);
	assert_true(pte_write(pte));
	assert_true(PageAnon(copy) && PageAnonExclusive(copy));
	assert_ptr_equal(copy->mapping, (void *)((unsigned long)vma->anon_vma |
						 PAGE_MAPPING_ANON));
	assert_true(page_filled_with(copy, 0x11));
	assert_int_equal(page_mapcount(cached), 1);
	assert_int_equal(page_ref_count(cached), 2);
	assert_int_equal(counter(mm, MM_SHMEMPAGES), 2);
	assert_int_equal(counter(mm, MM_ANONPAGES), 1);

	/* Write on a none PTE: do_cow_fault copies straight away. */
	assert_int_equal(fault(mm, PG(B, 11), W), 0);
	copy = page_at(mm, PG(B, 11));
	assert_true(PageAnon(copy));
	assert_true(page_filled_with(copy, 0x22));
	page1 = xa_load(&file->f_mapping.i_pages, 1);
	assert_int_equal(page_ref_count(page1), 2);
	assert_int_equal(counter(mm, MM_ANONPAGES), 2);

	/* The private copies do not write through to the file. */
	fill_page(copy, 0x33);
	assert_true(page_filled_with(page1, 0x22));
}

/* Past the end of the file: SIGBUS, nothing mapped or allocated. */
static void fault_beyond_eof_sigbus(void **state)
{
	struct mm_struct *mm = test_mm(state);
	struct file *file = shmem_file_setup("test", PAGE_SIZE + 100);
	unsigned long free_before;

	assert_non_null(file);
	assert_int_equal(file->i_size, PAGE_SIZE + 100);
	map_file(mm, 0, 4, RW, MAP_SHARED, file, 0);
	map_file(mm, 8, 12, RW, MAP_PRIVATE, file, 0);
	fput(file);	/* the VMAs hold it now */

	/* The partial last page is inside the file. */
	assert_int_equal(fault(mm, PG(B, 1), W), 0);
	free_before = free_now();
	assert_int_equal(fault(mm, PG(B, 2), 0), VM_FAULT_SIGBUS);
	assert_int_equal(fault(mm, PG(B, 3), W), VM_FAULT_SIGBUS);
	assert_int_equal(fault(mm, PG(B, 10), 0), VM_FAULT_SIGBUS);
	assert_int_equal(fault(mm, PG(B, 11), W), VM_FAULT_SIGBUS);
	assert_true(pte_none(pte_at(mm, PG(B, 2))));
	assert_true(pte_none(pte_at(mm, PG(B, 11))));
	assert_int_equal(free_now(), free_before);
	assert_int_equal(counter(mm, MM_SHMEMPAGES), 1);
	assert_int_equal(counter(mm, MM_ANONPAGES), 0);
}

/*
 * A protnone PTE (the page, but _PAGE_PROTNONE instead of _PAGE_PRESENT:
 * what mprotect(PROT_NONE) leaves) in a VMA that allows access: the fault gives it the VMA's
 * rights back, keeping its page (do_numa_page's protnone case).
 */
static void prot_none_pte_gets_rights_back(void **state)
{
	struct mm_struct *mm = test_mm(state);
	struct page *page;
	pte_t *ptep, pte;

	map_anon(mm, B, 0, 1, RW);
	assert_int_equal(fault(mm, PG(B, 0), W), 0);
	page = page_at(mm, PG(B, 0));
	ptep = find_pte(mm, PG(B, 0));
	set_pte(ptep, pte_modify(ptep_get(ptep), PAGE_NONE));
	assert_true(pte_protnone(ptep_get(ptep)));
	assert_true(pte_present(ptep_get(ptep)));	/* for the kernel */

	assert_int_equal(fault(mm, PG(B, 0), 0), 0);
	pte = ptep_get(ptep);
	assert_true(pte_present(pte));
	assert_false(pte_protnone(pte));
	assert_ptr_equal(pte_page(pte), page);
	assert_false(pte_write(pte));	/* vm_page_prot of a private VMA */
	/* The write that follows reuses the exclusive page. */
	assert_int_equal(fault(mm, PG(B, 0), W), 0);
	assert_ptr_equal(page_at(mm, PG(B, 0)), page);
	assert_true(pte_write(pte_at(mm, PG(B, 0))));
	assert_int_equal(counter(mm, MM_ANONPAGES), 1);
}

/* --- running out of frames ---------------------------------------------------- */

/* Frames taken away from the allocator by the test. */
struct hog {
	struct page **pages;
	unsigned long nr;
};

static void hog_init(struct hog *h)
{
	h->pages = calloc(max_pfn, sizeof(*h->pages));
	assert_non_null(h->pages);
	h->nr = 0;
}

/* Take frames until exactly `left` are free. */
static void hog_all_but(struct hog *h, unsigned long left)
{
	struct page *page;

	while (free_now() > left) {
		page = alloc_page(GFP_KERNEL);
		assert_non_null(page);
		assert_true(h->nr < max_pfn);
		h->pages[h->nr++] = page;
	}
	assert_int_equal(free_now(), left);
}

/* Give n frames back. */
static void hog_release(struct hog *h, unsigned long n)
{
	while (h->nr && n--)
		__free_page(h->pages[--h->nr]);
}

static void hog_exit(struct hog *h)
{
	hog_release(h, h->nr);
	free(h->pages);
}

/*
 * Every failure to get a frame is VM_FAULT_OOM, and a failed fault keeps
 * nothing: page tables, anonymous pages, COW copies, cache pages.
 */
static void oom_faults_leak_nothing(void **state)
{
	struct mm_struct *mm = test_mm(state);
	struct file *file;
	struct hog hog;

	map_anon(mm, B, 0, 4, RW);
	map_shared(mm, B, 8, 10, RW);
	file = vma_at(mm, PG(B, 8))->vm_file;

	/* No frame for the page tables. */
	hog_init(&hog);
	hog_all_but(&hog, 0);
	assert_int_equal(fault(mm, PG(B, 0), 0), VM_FAULT_OOM);
	assert_int_equal(fault(mm, PG(B, 0), W), VM_FAULT_OOM);
	assert_int_equal(free_now(), 0);

	/* Enough for the tables (the zero page needs no frame)... */
	hog_release(&hog, 8);
	assert_int_equal(fault(mm, PG(B, 0), 0), 0);
	assert_true(maps_zero_page(pte_at(mm, PG(B, 0))));
	/* ... and then none for a page. */
	hog_all_but(&hog, 0);
	assert_int_equal(fault(mm, PG(B, 1), W), VM_FAULT_OOM);
	assert_true(pte_none(pte_at(mm, PG(B, 1))));
	assert_int_equal(fault(mm, PG(B, 0), W), VM_FAULT_OOM);
	assert_true(maps_zero_page(pte_at(mm, PG(B, 0))));
	assert_int_equal(fault(mm, PG(B, 8), W), VM_FAULT_OOM);
	assert_true(pte_none(pte_at(mm, PG(B, 8))));
	assert_null(xa_load(&file->f_mapping.i_pages, 0));
	assert_int_equal(counter(mm, MM_ANONPAGES), 0);
	assert_int_equal(counter(mm, MM_SHMEMPAGES), 0);
	assert_int_equal(free_now(), 0);

	/* One frame: the write fault succeeds, with the last frame. */
	hog_release(&hog, 1);
	assert_int_equal(fault(mm, PG(B, 1), W), 0);
	assert_int_equal(counter(mm, MM_ANONPAGES), 1);
	assert_int_equal(free_now(), 0);

	/* COW of a shared-by-fork page also fails cleanly: the old page stays. */
	{
		struct page *page = page_at(mm, PG(B, 1));
		pte_t *ptep = find_pte(mm, PG(B, 1));

		/* Make it look shared: a second reference and read-only PTE. */
		get_page(page);
		ptep_set_wrprotect(mm, PG(B, 1), ptep);
		ClearPageFlag(page, PG_anon_exclusive);
		assert_int_equal(fault(mm, PG(B, 1), W), VM_FAULT_OOM);
		assert_ptr_equal(page_at(mm, PG(B, 1)), page);
		assert_int_equal(page_ref_count(page), 2);
		put_page(page);
	}
	hog_exit(&hog);
}

/*
 * A tiny RAM, set up for this test alone: the mm itself cannot even get
 * the frames of its first page tables.
 */
static void oom_tiny_ram(void **state)
{
	struct mm_struct *mm;
	unsigned long free_pages;

	/* Every frame is free between tests: the RAM may be resized. */
	drain_all_pages();
	assert_int_equal(mem_init(16 * PAGE_SIZE, 0), 0);
	free_pages = free_now();
	assert_true(free_pages > 0 && free_pages < 16);

	mm = mm_alloc(4);
	assert_non_null(mm);
	map_anon(mm, B, 0, 64, RW);
	{
		unsigned long i, done = 0;
		vm_fault_t ret = 0;

		for (i = 0; i < 64; i++) {
			ret = fault(mm, PG(B, i), W);
			if (ret)
				break;
			done++;
		}
		assert_int_equal(ret, VM_FAULT_OOM);
		assert_true(done > 0 && done < free_pages);
		assert_int_equal(counter(mm, MM_ANONPAGES), done);
		assert_int_equal(free_now(), 0);
	}
	mmput(mm);
	assert_int_equal(free_now(), free_pages);
	drain_all_pages();
	mem_exit();
	mem_init_default();
}

/* --- VM_FAULT_RETRY: a page still being created ------------------------------ */

/*
 * The sched hook holds the creating thread inside shmem's fill window:
 * with the new page inserted in the cache, still PG_locked.
 */
static __thread bool i_am_creator;
static struct address_space *creator_mapping;
static atomic_int creator_holding, creator_release;

/*
 * Held where shmem_alloc_and_add_page() has inserted its page, locked, and
 * dropped i_pages_lock: the window where another fault finds it locked.
 */
static void hold_creator_hook(enum mmsim_sched_event ev, const void *obj)
{
	struct page *page;

	if (!i_am_creator || ev != SCHED_UNLOCK ||
	    obj != &creator_mapping->i_pages_lock)
		return;
	page = xa_load(&creator_mapping->i_pages, 0);
	if (!page || !PageFlag(page, PG_locked))
		return;
	atomic_store(&creator_holding, 1);
	while (!atomic_load(&creator_release))
		sched_yield();
}

struct fault_job {
	struct mm_struct *mm;
	unsigned long addr;
	unsigned int flags;
	atomic_int started, done;
	vm_fault_t ret;
	bool locked_after;	/* the mmap lock was still held on return */
};

static void *fault_thread(void *arg)
{
	struct fault_job *job = arg;
	struct vm_area_struct *vma;

	mmap_read_lock(job->mm);
	atomic_store(&job->started, 1);
	vma = vma_lookup(job->mm, job->addr);
	job->ret = handle_mm_fault(vma, job->addr, job->flags, NULL);
	if (!(job->ret & VM_FAULT_RETRY))
		mmap_read_unlock(job->mm);
	atomic_store(&job->done, 1);
	return NULL;
}

static void *creator_thread(void *arg)
{
	i_am_creator = true;
	return fault_thread(arg);
}

/* Readers holding the mmap lock of mm. */
static long mmap_readers(struct mm_struct *mm)
{
	return atomic_load(&mm->mmap_lock.count) / RWSEM_READER_BIAS;
}

static void sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

/*
 * A fault that finds the page locked: with FAULT_FLAG_ALLOW_RETRY it lets
 * the mmap lock go, waits for the page and returns VM_FAULT_RETRY; the
 * retry (FAULT_FLAG_TRIED) maps it.  Without ALLOW_RETRY it waits with the
 * lock held and maps the page.
 */
static void __retry_on_locked_page(struct mm_struct *mm, unsigned int flags)
{
	struct fault_job make = { .mm = mm, .addr = PG(B, 0), .flags = W };
	struct fault_job wait = { .mm = mm, .addr = PG(B, 10), .flags = flags };
	pthread_t creator, waiter;
	struct page *page;
	struct file *file;

	map_shared(mm, B, 0, 2, RW);
	file = vma_at(mm, PG(B, 0))->vm_file;
	map_file(mm, 10, 12, RW, MAP_SHARED, file, 0);
	/* Page tables of both, so that only the page is missing. */
	assert_int_equal(fault(mm, PG(B, 1), 0), 0);
	assert_int_equal(fault(mm, PG(B, 11), 0), 0);

	atomic_store(&creator_holding, 0);
	atomic_store(&creator_release, 0);
	creator_mapping = &file->f_mapping;
	mmsim_set_sched_hook(hold_creator_hook);
	assert_int_equal(pthread_create(&creator, NULL, creator_thread, &make), 0);
	while (!atomic_load(&creator_holding))
		sched_yield();
	page = xa_load(&file->f_mapping.i_pages, 0);
	assert_non_null(page);
	assert_true(PageFlag(page, PG_locked));

	assert_int_equal(pthread_create(&waiter, NULL, fault_thread, &wait), 0);
	while (!atomic_load(&wait.started))
		sched_yield();
	if (flags & FAULT_FLAG_ALLOW_RETRY) {
		/* It lets its read lock go: only the creator's is left. */
		for (int ms = 0; ms < 5000 && mmap_readers(mm) != 1; ms++)
			sleep_ms(1);
		assert_int_equal(mmap_readers(mm), 1);
	} else {
		sleep_ms(50);
		/* It waits holding its read lock (and the creator holds his). */
		assert_int_equal(mmap_readers(mm), 2);
	}
	/* Either way it is waiting for the page. */
	sleep_ms(20);
	assert_false(atomic_load(&wait.done));

	atomic_store(&creator_release, 1);
	assert_int_equal(pthread_join(creator, NULL), 0);
	assert_int_equal(pthread_join(waiter, NULL), 0);
	mmsim_set_sched_hook(NULL);

	assert_int_equal(make.ret, 0);
	assert_ptr_equal(page_at(mm, PG(B, 0)), page);
	assert_false(PageFlag(page, PG_locked));
	if (flags & FAULT_FLAG_ALLOW_RETRY) {
		assert_int_equal(wait.ret, VM_FAULT_RETRY);
		assert_false(rwsem_is_locked(&mm->mmap_lock));
		assert_true(pte_none(pte_at(mm, PG(B, 10))));
		assert_int_equal(page_ref_count(page), 2);
		/* The retry finds the page ready. */
		assert_int_equal(fault(mm, PG(B, 10), flags | FAULT_FLAG_TRIED), 0);
	} else {
		assert_int_equal(wait.ret, 0);
	}
	assert_ptr_equal(page_at(mm, PG(B, 10)), page);
	assert_int_equal(page_mapcount(page), 2);
	assert_int_equal(page_ref_count(page), 3);
	assert_true(page_filled_with(page, 0));
}

static void retry_on_locked_page(void **state)
{
	__retry_on_locked_page(test_mm(state), FAULT_FLAG_ALLOW_RETRY);
}

static void wait_on_locked_page_without_retry(void **state)
{
	__retry_on_locked_page(test_mm(state), 0);
}

/* --- zapping ----------------------------------------------------------------------- */

/*
 * MADV_DONTNEED's zap: the pages go back to the allocator, the counters
 * down, the TLB forgets them, and the next access sees zeros again.
 */
static void zap_frees_pages_and_flushes_tlb(void **state)
{
	struct mm_struct *mm = test_mm(state);
	unsigned long free_before, i;
	struct page *kept;
	char buf[8];

	map_anon(mm, B, 0, 4, RW);
	mmsim_switch_mm(mm);
	assert_int_equal(fault(mm, PG(B, 3), 0), 0);	/* tables */
	free_before = free_now();
	for (i = 0; i < 3; i++)
		assert_int_equal(mmsim_store(PG(B, i), "pattern", 8), 0);
	assert_int_equal(counter(mm, MM_ANONPAGES), 3);
	assert_int_equal(free_now(), free_before - 3);
	kept = page_at(mm, PG(B, 2));
	/* The store left the translation in this CPU's TLB. */
	assert_non_null(tlb_lookup(&this_cpu()->tlb, PG(B, 0) >> PAGE_SHIFT));

	zap(mm, PG(B, 0), 2 * PAGE_SIZE);
	assert_true(pte_none(pte_at(mm, PG(B, 0))));
	assert_true(pte_none(pte_at(mm, PG(B, 1))));
	assert_ptr_equal(page_at(mm, PG(B, 2)), kept);
	assert_true(maps_zero_page(pte_at(mm, PG(B, 3))));
	assert_int_equal(counter(mm, MM_ANONPAGES), 1);
	assert_int_equal(free_now(), free_before - 1);
	assert_null(tlb_lookup(&this_cpu()->tlb, PG(B, 0) >> PAGE_SHIFT));
	assert_null(tlb_lookup(&this_cpu()->tlb, PG(B, 1) >> PAGE_SHIFT));

	/* Fresh zeros after the zap, the old data where nothing was zapped. */
	assert_int_equal(mmsim_load(PG(B, 0), buf, 8), 0);
	if (!mem_metadata_only()) {
		assert_memory_equal(buf, "\0\0\0\0\0\0\0\0", 8);
		assert_int_equal(mmsim_load(PG(B, 2), buf, 8), 0);
		assert_string_equal(buf, "pattern");
	}

	/* Zapping the zero page and holes frees nothing more. */
	zap(mm, PG(B, 0), 4 * PAGE_SIZE);
	assert_int_equal(counter(mm, MM_ANONPAGES), 0);
	assert_int_equal(free_now(), free_before);
	mmsim_switch_mm(NULL);
}

/*
 * More pages than one gather batch: zap_pte_range flushes and frees the
 * full batch in the middle of the range and carries on.
 */
static void zap_more_than_a_batch(void **state)
{
	struct mm_struct *mm = test_mm(state);
	unsigned long n = MMU_GATHER_BATCH + 36, free_before, i;
	struct vm_area_struct *vma;
	struct mmu_gather tlb;

	map_anon(mm, B, 0, n, RW);
	assert_int_equal(fault(mm, PG(B, 0), 0), 0);	/* tables */
	free_before = free_now();
	for (i = 0; i < n; i++)
		assert_int_equal(fault(mm, PG(B, i), W), 0);
	assert_int_equal(counter(mm, MM_ANONPAGES), n);
	assert_int_equal(free_now(), free_before - n);

	mmap_read_lock(mm);
	vma = vma_lookup(mm, PG(B, 0));
	tlb_gather_mmu(&tlb, mm);
	unmap_page_range(&tlb, vma, PG(B, 0), PG(B, n));
	/* The first batch is gone already, the rest waits for the finish. */
	assert_int_equal(free_now(), free_before - (n - MMU_GATHER_BATCH));
	assert_true(tlb.nr_flushes >= 1);
	tlb_finish_mmu(&tlb);
	mmap_read_unlock(mm);

	assert_int_equal(free_now(), free_before);
	assert_int_equal(counter(mm, MM_ANONPAGES), 0);
	for (i = 0; i < n; i++)
		assert_true(pte_none(pte_at(mm, PG(B, i))));
}

/* Zaps that meet nothing, or only part of the VMA, or wrap: no harm. */
static void zap_odd_ranges(void **state)
{
	struct mm_struct *mm = test_mm(state);
	struct vm_area_struct *vma;

	map_anon(mm, B, 0, 4, RW);
	zap(mm, PG(B, 0), 4 * PAGE_SIZE);	/* no tables at all yet */
	assert_int_equal(fault(mm, PG(B, 1), W), 0);
	assert_int_equal(fault(mm, PG(B, 2), W), 0);

	mmap_read_lock(mm);
	vma = vma_lookup(mm, PG(B, 0));
	zap_page_range_single(vma, PG(B, 0), 0);
	zap_page_range_single(vma, PG(B, 3), -2 * PAGE_SIZE);	/* wraps */
	/* Starts below the VMA: only the part inside counts. */
	zap_page_range_single(vma, PG(B, -8), 10 * PAGE_SIZE);
	mmap_read_unlock(mm);
	assert_true(pte_none(pte_at(mm, PG(B, 1))));
	assert_true(pte_present(pte_at(mm, PG(B, 2))));
	assert_int_equal(counter(mm, MM_ANONPAGES), 1);
}

/* munmap and exit zap too: every frame comes back (checked at teardown). */
static void munmap_frees_faulted_pages(void **state)
{
	struct mm_struct *mm = test_mm(state);
	unsigned long free_before;

	map_anon(mm, B, 0, 8, RW);
	map_shared(mm, B, 8, 10, RW);
	free_before = free_now();
	for (int i = 0; i < 10; i++)
		assert_int_equal(fault(mm, PG(B, i), i % 2 ? W : 0), 0);
	assert_true(free_now() < free_before);
	unmap_pages(mm, B, 0, 10);
	assert_int_equal(counter(mm, MM_ANONPAGES), 0);
	assert_int_equal(counter(mm, MM_SHMEMPAGES), 0);
	rcu_barrier();	/* spf-srcu: the shmem file goes after a grace period */
	assert_int_equal(free_now(), free_before);

	/* And what is left mapped at exit goes with the mm. */
	map_anon(mm, B, 0, 8, RW);
	for (int i = 0; i < 8; i++)
		assert_int_equal(fault(mm, PG(B, i), W), 0);
}

/* --- fork ---------------------------------------------------------------------------- */

/*
 * What dup_mmap does for one private VMA: the child gets a VMA at the
 * same place, anon_vma_fork() and copy_page_range(), then the parent's
 * TLBs are flushed.  Returns the child's VMA.
 */
static struct vm_area_struct *fork_vma(struct mm_struct *parent,
				       struct mm_struct *child,
				       unsigned long start, unsigned long end)
{
	struct vm_area_struct *src, *dst;
	unsigned long addr;
	int err;

	addr = sys_mmap(child, start, end - start, RW,
			MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, NULL, 0);
	assert_int_equal(addr, start);
	mmap_write_lock(parent);
	mmap_write_lock(child);
	src = vma_lookup(parent, start);
	dst = vma_lookup(child, start);
	err = anon_vma_fork(dst, src);
	if (!err)
		err = copy_page_range(dst, src);
	flush_tlb_mm(parent);
	mmap_write_unlock(child);
	mmap_write_unlock(parent);
	assert_int_equal(err, 0);
	return dst;
}

/*
 * After the copy both mms map the same pages read-only; the first write on
 * either side copies, and the last one left reuses its page.
 */
static void __fork_cow(void **state, unsigned long base)
{
	struct mm_struct *mm = test_mm(state), *child;
	struct vm_area_struct *pvma, *cvma;
	struct page *page, *copy;
	unsigned long free_before;
	pte_t pte;

	map_anon(mm, base, 0, 3, RW);
	assert_int_equal(fault(mm, PG(base, 0), W), 0);
	assert_int_equal(fault(mm, PG(base, 1), 0), 0);	/* zero page */
	page = page_at(mm, PG(base, 0));
	fill_page(page, 0x77);
	pvma = vma_at(mm, PG(base, 0));

	child = mm_alloc(mm->pgtable_levels);
	assert_non_null(child);
	cvma = fork_vma(mm, child, PG(base, 0), PG(base, 3));

	/* The anon_vma tree: the child's own, under the parent's. */
	assert_non_null(cvma->anon_vma);
	assert_ptr_not_equal(cvma->anon_vma, pvma->anon_vma);
	assert_ptr_equal(cvma->anon_vma->parent, pvma->anon_vma);
	assert_ptr_equal(cvma->anon_vma->root, pvma->anon_vma->root);
	assert_int_equal(pvma->anon_vma->num_children, 2);
	assert_int_equal(cvma->anon_vma->num_active_vmas, 1);

	/* Shared, read-only in both, no longer exclusive. */
	pte = pte_at(mm, PG(base, 0));
	assert_false(pte_write(pte));
	assert_ptr_equal(pte_page(pte), page);
	pte = pte_at(child, PG(base, 0));
	assert_false(pte_write(pte));
	assert_ptr_equal(pte_page(pte), page);
	assert_int_equal(page_mapcount(page), 2);
	assert_int_equal(page_ref_count(page), 2);
	assert_false(PageAnonExclusive(page));
	assert_true(maps_zero_page(pte_at(child, PG(base, 1))));
	assert_true(pte_none(pte_at(child, PG(base, 2))));
	assert_int_equal(counter(child, MM_ANONPAGES), 1);
	assert_int_equal(counter(mm, MM_ANONPAGES), 1);

	/* The child writes: its own copy, the parent keeps the page. */
	free_before = free_now();
	assert_int_equal(fault(child, PG(base, 0), W), 0);
	copy = page_at(child, PG(base, 0));
	assert_ptr_not_equal(copy, page);
	assert_true(pte_write(pte_at(child, PG(base, 0))));
	assert_true(page_filled_with(copy, 0x77));
	assert_ptr_equal(copy->mapping, (void *)((unsigned long)cvma->anon_vma |
						 PAGE_MAPPING_ANON));
	assert_int_equal(page_mapcount(page), 1);
	assert_int_equal(page_ref_count(page), 1);
	assert_int_equal(page_mapcount(copy), 1);
	assert_int_equal(free_now(), free_before - 1);
	assert_false(pte_write(pte_at(mm, PG(base, 0))));

	/* The parent writes: the page is its alone now, reused, no copy. */
	assert_int_equal(fault(mm, PG(base, 0), W), 0);
	pte = pte_at(mm, PG(base, 0));
	assert_ptr_equal(pte_page(pte), page);
	assert_true(pte_write(pte));
	assert_true(PageAnonExclusive(page));
	assert_int_equal(free_now(), free_before - 1);
	fill_page(copy, 0x88);
	assert_true(page_filled_with(page, 0x77));

	/* The child's zero page COWs as in any mm. */
	assert_int_equal(fault(child, PG(base, 1), W), 0);
	assert_false(maps_zero_page(pte_at(child, PG(base, 1))));
	assert_true(maps_zero_page(pte_at(mm, PG(base, 1))));
	assert_int_equal(counter(child, MM_ANONPAGES), 2);

	mmput(child);
	assert_int_equal(pvma->anon_vma->num_children, 1);
}

static void fork_cow(void **state)
{
	__fork_cow(state, B);
}

static void fork_cow_5level(void **state)
{
	__fork_cow(state, HIGH_BASE);
}

/*
 * No frame for the child's page tables: copy_page_range() says -ENOMEM,
 * and the child's exit undoes whatever it had copied.
 */
static void fork_copy_enomem(void **state)
{
	struct mm_struct *mm = test_mm(state), *child;
	struct vm_area_struct *src, *dst;
	struct page *page;
	struct hog hog;
	int err;

	map_anon(mm, B, 0, 2, RW);
	assert_int_equal(fault(mm, PG(B, 0), W), 0);
	page = page_at(mm, PG(B, 0));
	child = mm_alloc(4);
	assert_non_null(child);
	assert_int_equal(sys_mmap(child, PG(B, 0), 2 * PAGE_SIZE, RW,
				  MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED,
				  NULL, 0), PG(B, 0));

	hog_init(&hog);
	hog_all_but(&hog, 0);
	mmap_write_lock(mm);
	mmap_write_lock(child);
	src = vma_lookup(mm, PG(B, 0));
	dst = vma_lookup(child, PG(B, 0));
	err = anon_vma_fork(dst, src);
	if (!err)
		err = copy_page_range(dst, src);
	mmap_write_unlock(child);
	mmap_write_unlock(mm);
	hog_exit(&hog);
	assert_int_equal(err, -ENOMEM);
	assert_true(pte_none(pte_at(child, PG(B, 0))));
	assert_int_equal(counter(child, MM_ANONPAGES), 0);
	/* Nothing was shared: the parent's page is still its own. */
	assert_int_equal(page_mapcount(page), 1);
	assert_int_equal(page_ref_count(page), 1);
	mmput(child);
	assert_true(pte_write(pte_at(mm, PG(B, 0))));
}

/* The parent exits first: the child's pages stay, and then go with it. */
static void fork_parent_exits_first(void **state)
{
	struct mm_struct *mm = test_mm(state), *child;
	struct page *page;

	map_anon(mm, B, 0, 2, RW);
	assert_int_equal(fault(mm, PG(B, 0), W), 0);
	page = page_at(mm, PG(B, 0));
	child = mm_alloc(4);
	assert_non_null(child);
	fork_vma(mm, child, PG(B, 0), PG(B, 2));
	mmput(mm);
	set_test_mm(state, child);

	assert_int_equal(page_mapcount(page), 1);
	assert_int_equal(page_ref_count(page), 1);
	/* Alone now: the write reuses the page (page_move_anon_rmap). */
	assert_int_equal(fault(child, PG(B, 0), W), 0);
	assert_ptr_equal(page_at(child, PG(B, 0)), page);
	assert_true(PageAnonExclusive(page));
	assert_ptr_equal(page->mapping,
			 (void *)((unsigned long)vma_at(child, PG(B, 0))->anon_vma |
				  PAGE_MAPPING_ANON));
}

/* A shared mapping forked: the same cache page, writable in both. */
static void fork_shared_mapping(void **state)
{
	struct mm_struct *mm = test_mm(state), *child;
	struct vm_area_struct *src, *dst;
	struct page *page;
	struct file *file;
	unsigned long addr;

	map_shared(mm, B, 0, 2, RW);
	file = vma_at(mm, PG(B, 0))->vm_file;
	assert_int_equal(fault(mm, PG(B, 0), W), 0);
	page = page_at(mm, PG(B, 0));

	child = mm_alloc(4);
	assert_non_null(child);
	addr = sys_mmap(child, PG(B, 0), 2 * PAGE_SIZE, RW,
			MAP_SHARED | MAP_FIXED, file, 0);
	assert_int_equal(addr, PG(B, 0));
	mmap_write_lock(mm);
	mmap_write_lock(child);
	src = vma_lookup(mm, PG(B, 0));
	dst = vma_lookup(child, PG(B, 0));
	assert_int_equal(copy_page_range(dst, src), 0);
	mmap_write_unlock(child);
	mmap_write_unlock(mm);

	assert_ptr_equal(page_at(child, PG(B, 0)), page);
	assert_true(pte_write(pte_at(child, PG(B, 0))));
	assert_false(pte_dirty(pte_at(child, PG(B, 0))));
	assert_true(pte_write(pte_at(mm, PG(B, 0))));
	assert_int_equal(page_mapcount(page), 2);
	assert_int_equal(page_ref_count(page), 3);
	assert_int_equal(counter(child, MM_SHMEMPAGES), 1);
	mmput(child);
	assert_int_equal(page_mapcount(page), 1);
	assert_int_equal(page_ref_count(page), 2);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		FAULT_TEST(read_fault_maps_zero_page),
		FAULT5_TEST(read_fault_maps_zero_page_5level),
		FAULT_TEST(write_fault_new_anon_page),
		FAULT5_TEST(write_fault_new_anon_page_5level),
		FAULT_TEST(write_after_read_cows_zero_page),
		FAULT_TEST(write_fault_on_readonly_vma_refused),
		FAULT_TEST(prot_none_pte_gets_rights_back),
		FAULT_TEST(shared_write_fault_page_cache),
		FAULT_TEST(private_file_write_cows_page_cache),
		FAULT_TEST(fault_beyond_eof_sigbus),
		FAULT_TEST(oom_faults_leak_nothing),
		cmocka_unit_test(oom_tiny_ram),
		FAULT_TEST(retry_on_locked_page),
		FAULT_TEST(wait_on_locked_page_without_retry),
		FAULT_TEST(zap_frees_pages_and_flushes_tlb),
		FAULT_TEST(zap_more_than_a_batch),
		FAULT_TEST(zap_odd_ranges),
		FAULT_TEST(munmap_frees_faulted_pages),
		FAULT_TEST(fork_cow),
		FAULT5_TEST(fork_cow_5level),
		FAULT_TEST(fork_copy_enomem),
		FAULT_TEST(fork_parent_exits_first),
		FAULT_TEST(fork_shared_mapping),
	};

	return cmocka_run_group_tests(tests, group_setup, NULL);
}

// SPDX-License-Identifier: MIT
/*
 * The simulated task's accesses through the MMU (src/arch/mmu.c, fault.c):
 * each kind of fault as a task sees it, walks on 4 and 5 levels, the TLB,
 * and the property the TLB shootdown exists for: once munmap() or
 * mprotect() has returned, no CPU can still access the old translation.
 */
#include <pthread.h>

#include <mmsim/mutant.h>

#include "helpers.h"

#define B	TEST_BASE
#define RW	(PROT_READ | PROT_WRITE)
#define ANON	(MAP_PRIVATE | MAP_ANONYMOUS)

/* --- fault kinds ------------------------------------------------------------ */

/* Read, then write, then read back: zero page, COW from it, data. */
static void test_read_then_write(void **state)
{
	struct mm_struct *mm = test_mm(state);
	unsigned long v;
	int sig;

	map_anon(mm, B, 0, 4, RW);
	v = load_ul(mm, PG(B, 1), &sig);
	assert_int_equal(sig, 0);
	assert_int_equal(v, 0);
	assert_true(pte_pfn(pte_of(mm, PG(B, 1))) == page_to_pfn(ZERO_PAGE(0)));
	assert_false(pte_write(pte_of(mm, PG(B, 1))));
	assert_int_equal(get_mm_counter(mm, MM_ANONPAGES), 0);

	assert_int_equal(store_ul(mm, PG(B, 1) + 8, 0x1234), 0);
	assert_true(pte_write(pte_of(mm, PG(B, 1))));
	assert_true(pte_dirty(pte_of(mm, PG(B, 1))));
	assert_int_equal(get_mm_counter(mm, MM_ANONPAGES), 1);
	assert_int_equal(load_ul(mm, PG(B, 1) + 8, &sig), 0x1234);
	assert_int_equal(load_ul(mm, PG(B, 1), &sig), 0);
	assert_int_equal(validate_mm_pages(&mm, 1), 0);
	unmap_pages(mm, B, 0, 4);
}

/* An access may span two pages: two faults, one access. */
static void test_access_spans_pages(void **state)
{
	struct mm_struct *mm = test_mm(state);
	char out[16] = "0123456789abcdef", in[16];

	map_anon(mm, B, 0, 2, RW);
	mmsim_switch_mm(mm);
	assert_int_equal(mmsim_store(PG(B, 1) - 8, out, 16), 0);
	assert_int_equal(mmsim_load(PG(B, 1) - 8, in, 16), 0);
	assert_memory_equal(in, out, 16);
	assert_int_equal(get_mm_counter(mm, MM_ANONPAGES), 2);
	unmap_pages(mm, B, 0, 2);
}

static void test_bad_accesses_segv(void **state)
{
	struct mm_struct *mm = test_mm(state);
	int sig;

	map_anon(mm, B, 0, 1, PROT_READ);
	map_anon(mm, B, 2, 3, PROT_NONE);
	map_anon(mm, B, 4, 5, RW);
	/* Unmapped, read-only written, PROT_NONE read, beyond user space. */
	load_ul(mm, PG(B, 1), &sig);
	assert_int_equal(sig, SIGSEGV);
	assert_int_equal(store_ul(mm, PG(B, 0), 1), SIGSEGV);
	load_ul(mm, PG(B, 2), &sig);
	assert_int_equal(sig, SIGSEGV);
	load_ul(mm, mm->task_size, &sig);
	assert_int_equal(sig, SIGSEGV);
	/* Instruction fetch from a mapping without PROT_EXEC. */
	assert_int_equal(store_ul(mm, PG(B, 4), 1), 0);
	assert_int_equal(mmsim_fetch(PG(B, 4)), SIGSEGV);
	/* Read-only after the fact: the write faults on a present PTE. */
	protect_pages(mm, B, 4, 5, PROT_READ);
	assert_int_equal(store_ul(mm, PG(B, 4), 2), SIGSEGV);
	assert_int_equal(load_ul(mm, PG(B, 4), &sig), 1);
	assert_int_equal(sig, 0);
	unmap_pages(mm, B, 0, 5);
}

static void test_exec_fetch(void **state)
{
	struct mm_struct *mm = test_mm(state);

	map_anon(mm, B, 0, 1, PROT_READ | PROT_EXEC);
	mmsim_switch_mm(mm);
	assert_int_equal(mmsim_fetch(PG(B, 0)), 0);
	assert_true(pte_exec(pte_of(mm, PG(B, 0))));
	unmap_pages(mm, B, 0, 1);
}

/* Shared anonymous memory past its shmem size: SIGBUS (mremap grew it). */
static void test_shared_beyond_eof_sigbus(void **state)
{
	struct mm_struct *mm = test_mm(state);
	unsigned long addr;
	int sig;

	addr = sys_mmap(mm, B, 2 * PAGE_SIZE, RW, MAP_SHARED | MAP_ANONYMOUS |
			MAP_FIXED, NULL, 0);
	assert_int_equal(addr, B);
	assert_int_equal(sys_mremap(mm, B, 2 * PAGE_SIZE, 4 * PAGE_SIZE, 0, 0), B);
	assert_int_equal(store_ul(mm, PG(B, 1), 7), 0);
	assert_int_equal(store_ul(mm, PG(B, 2), 7), SIGBUS);
	load_ul(mm, PG(B, 3), &sig);
	assert_int_equal(sig, SIGBUS);
	assert_int_equal(get_mm_counter(mm, MM_SHMEMPAGES), 1);
	unmap_pages(mm, B, 0, 4);
}

/* A store just below the stack grows it (under the write lock). */
static void test_stack_growth(void **state)
{
	struct mm_struct *mm = test_mm(state);
	unsigned long top = 0x7ff000000000UL, start;

	mmap_write_lock(mm);
	assert_int_equal(setup_stack(mm, top, 4 * PAGE_SIZE), 0);
	mmap_write_unlock(mm);
	start = top - 4 * PAGE_SIZE;
	assert_int_equal(store_ul(mm, start - PAGE_SIZE, 5), 0);
	assert_int_equal(test_find_vma(mm, start - PAGE_SIZE)->vm_start,
			 start - PAGE_SIZE);
	assert_valid(mm);
}

/* --- levels ------------------------------------------------------------------ */

/* Above 47 bits only a 5-level mm has room; the walk goes through a P4D. */
static void test_five_level_high_address(void **state)
{
	struct mm_struct *mm = test_mm(state);
	unsigned long hi = 1UL << 52, addr;
	int sig;

	addr = sys_mmap(mm, hi, 3 * PAGE_SIZE, RW, ANON | MAP_FIXED, NULL, 0);
	assert_int_equal(addr, hi);
	assert_int_equal(store_ul(mm, hi + PAGE_SIZE, 0xabc), 0);
	assert_int_equal(load_ul(mm, hi + PAGE_SIZE, &sig), 0xabc);
	assert_true(pte_present(pte_of(mm, hi + PAGE_SIZE)));
	assert_true(pgd_present(pgdp_get(pgd_offset(mm, hi))));
	assert_int_equal(sys_munmap(mm, hi, 3 * PAGE_SIZE), 0);
	assert_false(pte_present(pte_of(mm, hi + PAGE_SIZE)));
}

static void test_four_level_no_high_address(void **state)
{
	struct mm_struct *mm = test_mm(state);
	int sig;

	load_ul(mm, 1UL << 52, &sig);
	assert_int_equal(sig, SIGSEGV);
	map_anon(mm, B, 0, 1, RW);
	assert_int_equal(store_ul(mm, B, 3), 0);
	/* 4 levels: the P4D is the PGD entry. */
	assert_ptr_equal(p4d_offset(mm, pgd_offset(mm, B), B),
			 (p4d_t *)pgd_offset(mm, B));
	unmap_pages(mm, B, 0, 1);
}

/* --- the TLB ------------------------------------------------------------------- */

static void test_tlb_hits(void **state)
{
	struct mm_struct *mm = test_mm(state);
	struct mmsim_tlb *tlb = &this_cpu()->tlb;
	unsigned long hits;
	int sig;

	map_anon(mm, B, 0, 1, RW);
	assert_int_equal(store_ul(mm, B, 1), 0);
	hits = tlb->hits;
	for (int i = 0; i < 10; i++)
		load_ul(mm, B, &sig);
	assert_int_equal(tlb->hits, hits + 10);
	unmap_pages(mm, B, 0, 1);
	/* The local flush of munmap: the next access misses and faults. */
	load_ul(mm, B, &sig);
	assert_int_equal(sig, SIGSEGV);
}

/*
 * No access through a stale TLB entry once munmap/mprotect has returned.
 *
 *   reader CPU                         main CPU
 *   loop: gone = flag (acquire)
 *         ok = load(X) == 0            wait until the reader has loaded X
 *         gone && ok  → violation      munmap(X)   (or mprotect PROT_NONE)
 *                                      flag = 1    (release)
 *
 * A load that starts after the reader saw the flag started after munmap
 * returned: with the shootdown it must fault.  Without it (the
 * no-remote-flush mutant) the reader's TLB still maps X.
 */
struct stale_ctx {
	struct mm_struct *mm;
	atomic_int loads, gone, stop, violations, faults_after;
};

static void *stale_reader(void *arg)
{
	struct stale_ctx *c = arg;
	unsigned long v;

	mmsim_switch_mm(c->mm);
	while (!atomic_load(&c->stop)) {
		int gone = atomic_load_explicit(&c->gone, memory_order_acquire);
		int sig = mmsim_load(B, &v, sizeof(v));

		if (gone && !sig)
			atomic_fetch_add(&c->violations, 1);
		if (gone && sig && atomic_fetch_add(&c->faults_after, 1) > 100)
			break;
		if (!gone && atomic_fetch_add(&c->loads, 1) > 1000 * 1000)
			break;		/* main never got there: fail below */
	}
	mmsim_switch_mm(NULL);
	return NULL;
}

static int stale_tlb_run(struct mm_struct *mm, bool mprotect)
{
	struct stale_ctx c = { .mm = mm };
	pthread_t t;

	map_anon(mm, B, 0, 1, RW);
	assert_int_equal(store_ul(mm, B, 42), 0);
	pthread_create(&t, NULL, stale_reader, &c);
	while (atomic_load(&c.loads) < 100)
		mmsim_cpu_relax();
	if (mprotect)
		assert_int_equal(sys_mprotect(mm, B, PAGE_SIZE, PROT_NONE), 0);
	else
		assert_int_equal(sys_munmap(mm, B, PAGE_SIZE), 0);
	atomic_store_explicit(&c.gone, 1, memory_order_release);
	/* The reader stops after 100 faults; a mutant reader never faults. */
	for (int i = 0; i < 100000 && atomic_load(&c.faults_after) <= 100; i++)
		mmsim_cpu_relax();
	atomic_store(&c.stop, 1);
	pthread_join(t, NULL);
	if (mprotect)
		unmap_pages(mm, B, 0, 1);
	return atomic_load(&c.violations);
}

static void test_no_stale_tlb_after_munmap(void **state)
{
	assert_int_equal(stale_tlb_run(test_mm(state), false), 0);
}

static void test_no_stale_tlb_after_mprotect(void **state)
{
	assert_int_equal(stale_tlb_run(test_mm(state), true), 0);
}

/* The same test catches the mutant that skips the shootdown. */
static void test_stale_tlb_mutant_caught(void **state)
{
	struct mm_struct *mm = test_mm(state);
	int v;

#ifdef MMSIM_TSAN
	/* TSan rightly reports the reader racing with the frame's free. */
	skip();
#endif
	assert_int_equal(mmsim_set_mutant("no-remote-flush"), 0);
	v = stale_tlb_run(mm, false);
	mmsim_set_mutant("none");
	assert_true(v > 0);
}

/* --- lazy TLB ----------------------------------------------------------------- */

/*
 * A CPU asleep on the mmap lock is in lazy TLB mode: a shootdown that
 * frees no page table skips it, and it flushes its whole TLB on waking
 * (x86 since 4.19).  Its TLB still maps X when the zap frees X's page, so
 * a wake without that flush (mutant lazy-tlb-no-flush) reads the freed,
 * poisoned frame instead of faulting in a fresh zero page.
 *
 *   sleeper CPU                       main CPU
 *   load(X) == 42: the TLB maps X
 *                                     down_write(mmap_lock)
 *   down_read(mmap_lock): sleeps,
 *   lazy                              zap X: PTE cleared, the flush skips
 *                                     the sleeper, the page is freed
 *                                     up_write
 *   wakes (flushes), up_read
 *   load(X) faults: a zero page, 0
 */
struct lazy_ctx {
	struct mm_struct *mm;
	atomic_int loaded, locked, done;
	unsigned long before, after;
	int sig_before, sig_after;
};

static void *lazy_sleeper(void *arg)
{
	struct lazy_ctx *c = arg;

	mmsim_switch_mm(c->mm);
	c->sig_before = mmsim_load(B, &c->before, sizeof(c->before));
	atomic_store(&c->loaded, 1);
	while (!atomic_load(&c->locked))
		mmsim_cpu_relax();
	mmap_read_lock(c->mm);
	mmap_read_unlock(c->mm);
	c->sig_after = mmsim_load(B, &c->after, sizeof(c->after));
	mmsim_switch_mm(NULL);
	atomic_store(&c->done, 1);
	return NULL;
}

static void lazy_tlb_run(struct mm_struct *mm, struct lazy_ctx *c)
{
	pthread_t t;

	c->mm = mm;
	map_anon(mm, B, 0, 1, RW);
	assert_int_equal(store_ul(mm, B, 42), 0);
	pthread_create(&t, NULL, lazy_sleeper, c);
	while (!atomic_load(&c->loaded))
		mmsim_cpu_relax();
	mmap_write_lock(mm);
	atomic_store(&c->locked, 1);
	while (atomic_load(&mm->mmap_lock.readers_waiting) != 1)
		mmsim_cpu_relax();
	zap_page_range_single(find_vma(mm, B), B, PAGE_SIZE);
	mmap_write_unlock(mm);
	while (!atomic_load(&c->done))
		mmsim_cpu_relax();
	pthread_join(t, NULL);
	assert_int_equal(c->sig_before, 0);
	assert_int_equal(c->before, 42);
}

static void test_lazy_tlb_flushes_on_wakeup(void **state)
{
	struct lazy_ctx c = { 0 };

	lazy_tlb_run(test_mm(state), &c);
	assert_int_equal(c.sig_after, 0);
	assert_int_equal(c.after, 0);
}

static void test_lazy_tlb_mutant_caught(void **state)
{
	struct lazy_ctx c = { 0 };

#ifdef MMSIM_TSAN
	/* TSan rightly reports the stale load racing with the free. */
	skip();
#endif
	assert_int_equal(mmsim_set_mutant("lazy-tlb-no-flush"), 0);
	lazy_tlb_run(test_mm(state), &c);
	mmsim_set_mutant("none");
	assert_int_equal(c.sig_after, 0);
	assert_int_not_equal(c.after, 0);	/* the freed frame's poison */
}

/* --- out of memory ------------------------------------------------------------- */

/*
 * With every frame taken, a write fault gets VM_FAULT_OOM and the task
 * SIGKILL; the simulator goes on, and unmapping gives the frames back.
 */
static void test_oom_kills_task_not_simulator(void **state)
{
	struct mm_struct *mm = test_mm(state);
	unsigned long npages = nr_free_pages() + 16, i;
	int sig = 0;

	map_anon(mm, B, 0, npages, RW);
	for (i = 0; i < npages && !sig; i++)
		sig = store_ul(mm, PG(B, i), i);
	assert_int_equal(sig, SIGKILL);
	assert_true(i > 1);
	assert_int_equal(validate_mm_pages(&mm, 1), 0);
	/* Still usable: a read of an already written page works. */
	assert_int_equal(load_ul(mm, PG(B, 0), &sig), 0);
	unmap_pages(mm, B, 0, npages);
	assert_int_equal(store_ul(mm, PG(B, 0), 1), SIGSEGV);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		MM_TEST(test_read_then_write),
		MM_TEST(test_access_spans_pages),
		MM_TEST(test_bad_accesses_segv),
		MM_TEST(test_exec_fetch),
		MM_TEST(test_shared_beyond_eof_sigbus),
		MM_TEST(test_stack_growth),
		MM5_TEST(test_five_level_high_address),
		MM_TEST(test_four_level_no_high_address),
		MM_TEST(test_tlb_hits),
		MM_TEST(test_no_stale_tlb_after_munmap),
		MM_TEST(test_no_stale_tlb_after_mprotect),
		MM_TEST(test_stale_tlb_mutant_caught),
		MM_TEST(test_lazy_tlb_flushes_on_wakeup),
		MM_TEST(test_lazy_tlb_mutant_caught),
		cmocka_unit_test_setup_teardown(test_oom_kills_task_not_simulator,
						small_ram_setup, small_ram_teardown),
	};

	mem_init(64UL << 20, 0);
	return cmocka_run_group_tests(tests, NULL, NULL);
}

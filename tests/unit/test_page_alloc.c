// SPDX-License-Identifier: MIT
/*
 * Unit tests for src/mm/page_alloc.c: the simulated RAM, the zone and the
 * per-CPU lists, struct page state across allocation and free (refcount,
 * map count, poison, generation), running out of memory, metadata-only
 * mode, and frees by threads that are not simulated CPUs.
 *
 * Each test starts from a fresh RAM of its own size (mem_init), with every
 * frame free, and must leave every frame free.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "mm/internal.h"

#define SMALL_RAM_PAGES	64UL
#define BIG_RAM_PAGES	1024UL

static int __ram_setup(unsigned long pages, unsigned int flags)
{
	if (mem_init(pages << PAGE_SHIFT, flags))
		return -1;
	if (nr_free_pages() != pages - 1 || totalram_pages() != pages - 1)
		return -1;
	return 0;
}

static int small_ram(void **state)
{
	return __ram_setup(SMALL_RAM_PAGES, 0);
}

static int big_ram(void **state)
{
	return __ram_setup(BIG_RAM_PAGES, 0);
}

static int small_ram_metadata_only(void **state)
{
	return __ram_setup(SMALL_RAM_PAGES, MEM_METADATA_ONLY);
}

/* Every frame is back, wherever it sits; then the RAM goes. */
static int ram_teardown(void **state)
{
	assert_int_equal(nr_free_pages(), totalram_pages());
	drain_all_pages();
	assert_int_equal(nr_free_pages(), totalram_pages());
	mem_exit();
	return 0;
}

#define RAM_TEST(fn, setup) \
	cmocka_unit_test_setup_teardown(fn, setup, ram_teardown)

/* Does every byte of the page's frame hold byte? */
static bool frame_is(struct page *page, unsigned char byte)
{
	const unsigned char *p = page_address(page);

	for (size_t i = 0; i < PAGE_SIZE; i++)
		if (p[i] != byte)
			return false;
	return true;
}

/* --- allocation and free -------------------------------------------------- */

/* A fresh page has one reference, no mapping, no flags; free gives it back. */
static void alloc_free_round_trip(void **state)
{
	unsigned long free0 = nr_free_pages();
	struct page *a, *b;

	a = alloc_page(GFP_KERNEL);
	assert_non_null(a);
	assert_int_equal(page_ref_count(a), 1);
	assert_int_equal(page_mapcount(a), 0);
	assert_int_equal(a->flags, 0);
	assert_null(a->mapping);
	assert_non_null(page_address(a));
	assert_true(page_to_pfn(a) > 0 && page_to_pfn(a) < max_pfn);
	assert_false(is_zero_page(a));
	assert_int_equal(nr_free_pages(), free0 - 1);

	b = alloc_page(GFP_KERNEL);
	assert_non_null(b);
	assert_ptr_not_equal(a, b);
	assert_int_equal(nr_free_pages(), free0 - 2);

	__free_page(a);
	__free_page(b);
	assert_int_equal(nr_free_pages(), free0);
}

/* Freeing poisons the frame and advances its generation. */
static void free_poisons_and_advances_generation(void **state)
{
	struct page *page = alloc_page(__GFP_ZERO);
	unsigned long gen;

	assert_non_null(page);
	assert_true(frame_is(page, 0));
	memset(page_address(page), 0x5c, PAGE_SIZE);
	gen = page->generation;

	__free_page(page);
	assert_true(frame_is(page, PAGE_POISON));
	assert_int_equal(page->generation, gen + 1);
	assert_true(PageFlag(page, PG_buddy));
	assert_int_equal(page_ref_count(page), 0);
}

/*
 * A recycled frame keeps its poison unless __GFP_ZERO asks for zeros.  The
 * per-CPU list is LIFO, so the page freed last comes back first.
 */
static void gfp_zero_clears_recycled_frame(void **state)
{
	struct page *page = alloc_page(GFP_KERNEL), *again;

	assert_non_null(page);
	__free_page(page);
	again = alloc_page(GFP_KERNEL);
	assert_ptr_equal(again, page);
	assert_true(frame_is(again, PAGE_POISON));
	assert_false(PageFlag(again, PG_buddy));
	__free_page(again);

	again = alloc_page(__GFP_ZERO);
	assert_ptr_equal(again, page);
	assert_true(frame_is(again, 0));
	__free_page(again);
}

/* get_page/put_page count; the last put frees, not an earlier one. */
static void refcount_last_put_frees(void **state)
{
	unsigned long free0 = nr_free_pages();
	unsigned long gen;
	struct page *page = alloc_page(GFP_KERNEL);

	assert_non_null(page);
	gen = page->generation;
	get_page(page);
	get_page(page);
	assert_int_equal(page_ref_count(page), 3);
	put_page(page);
	__free_page(page);		/* drops a reference, as the kernel's */
	assert_int_equal(page_ref_count(page), 1);
	assert_int_equal(nr_free_pages(), free0 - 1);
	assert_int_equal(page->generation, gen);
	put_page(page);
	assert_int_equal(nr_free_pages(), free0);
	assert_int_equal(page->generation, gen + 1);
}

/* The zero page: pfn 0, reserved, zero data, never handed out. */
static void zero_page_is_reserved(void **state)
{
	assert_ptr_equal(empty_zero_page, pfn_to_page(0));
	assert_ptr_equal(ZERO_PAGE(0x1234000), empty_zero_page);
	assert_true(PageFlag(empty_zero_page, PG_reserved));
	assert_true(frame_is(empty_zero_page, 0));
	assert_int_equal(page_ref_count(empty_zero_page), 1);
}

static void copy_and_clear_user_highpage(void **state)
{
	struct page *from = alloc_page(__GFP_ZERO);
	struct page *to = alloc_page(GFP_KERNEL);

	assert_non_null(from);
	assert_non_null(to);
	memset(page_address(from), 0x33, PAGE_SIZE);
	copy_user_highpage(to, from, 0x1000);
	assert_true(frame_is(to, 0x33));
	clear_user_highpage(to, 0x1000);
	assert_true(frame_is(to, 0));
	assert_true(frame_is(from, 0x33));
	__free_page(from);
	__free_page(to);
}

/* --- running out ---------------------------------------------------------- */

/*
 * With 64 frames, 63 can be allocated (pfn 0 is the zero page), then
 * alloc_page() returns NULL, again and again; freeing them brings all back.
 */
static void oom_returns_null_and_recovers(void **state)
{
	struct page *pages[SMALL_RAM_PAGES];
	unsigned long n;

	for (n = 0; n < SMALL_RAM_PAGES; n++) {
		pages[n] = alloc_page(GFP_KERNEL);
		if (!pages[n])
			break;
		assert_false(is_zero_page(pages[n]));
		for (unsigned long i = 0; i < n; i++)
			assert_ptr_not_equal(pages[i], pages[n]);
	}
	assert_int_equal(n, SMALL_RAM_PAGES - 1);
	assert_int_equal(nr_free_pages(), 0);
	assert_null(alloc_page(__GFP_ZERO));

	while (n--)
		__free_page(pages[n]);
	assert_int_equal(nr_free_pages(), SMALL_RAM_PAGES - 1);
	pages[0] = alloc_page(GFP_KERNEL);
	assert_non_null(pages[0]);
	__free_page(pages[0]);
}

struct hoarder {
	atomic_int stage;		/* 1: pages on its list, 2: may exit */
	int cpu;
};

/* Leave free pages on this CPU's list, then wait (still a CPU). */
static void *hoard_pages(void *arg)
{
	struct hoarder *h = arg;
	struct page *page = alloc_page(GFP_KERNEL);

	if (page)
		__free_page(page);
	h->cpu = smp_processor_id();
	atomic_store(&h->stage, 1);
	while (atomic_load(&h->stage) != 2)
		mmsim_cpu_relax();
	return NULL;
}

/*
 * Frames on another CPU's per-CPU list are free: before failing,
 * alloc_page() drains every CPU's list and gets them.
 */
static void oom_drains_other_cpus(void **state)
{
	struct page *pages[SMALL_RAM_PAGES];
	struct hoarder h = { .stage = 0 };
	pthread_t thread;
	unsigned long n;

	assert_int_equal(pthread_create(&thread, NULL, hoard_pages, &h), 0);
	while (atomic_load(&h.stage) != 1)
		sched_yield();
	assert_true(mmsim_cpus[h.cpu].pcp.count > 0);
	assert_int_not_equal(h.cpu, smp_processor_id());

	for (n = 0; n < SMALL_RAM_PAGES; n++) {
		pages[n] = alloc_page(GFP_KERNEL);
		if (!pages[n])
			break;
	}
	assert_int_equal(n, SMALL_RAM_PAGES - 1);
	assert_int_equal(mmsim_cpus[h.cpu].pcp.count, 0);

	atomic_store(&h.stage, 2);
	pthread_join(thread, NULL);
	while (n--)
		__free_page(pages[n]);
}

/* --- per-CPU lists -------------------------------------------------------- */

/*
 * The first allocation moves a batch from the zone to this CPU's list;
 * nr_free_pages() counts both, so only the page handed out is missing.
 * Draining moves the list back to the zone.
 */
static void pcp_refill_and_drain(void **state)
{
	struct per_cpu_pages *pcp = &this_cpu()->pcp;
	unsigned long free0 = nr_free_pages();
	struct page *page;

	assert_int_equal(pcp->count, 0);
	page = alloc_page(GFP_KERNEL);
	assert_non_null(page);
	assert_true(pcp->batch > 1);
	assert_int_equal(pcp->count, pcp->batch - 1);
	assert_int_equal(nr_free_pages(), free0 - 1);

	drain_local_pages();
	assert_int_equal(pcp->count, 0);
	assert_null(pcp->list);
	assert_int_equal(nr_free_pages(), free0 - 1);

	__free_page(page);
	assert_int_equal(pcp->count, 1);
	assert_ptr_equal(pcp->list, page);
	assert_int_equal(nr_free_pages(), free0);
}

/* Freeing many pages spills to the zone: the list stays below high. */
static void pcp_spills_above_high(void **state)
{
	struct per_cpu_pages *pcp = &this_cpu()->pcp;
	static struct page *pages[BIG_RAM_PAGES];
	unsigned long n, total = totalram_pages();
	int peak = 0;

	for (n = 0; n < total; n++) {
		pages[n] = alloc_page(GFP_KERNEL);
		assert_non_null(pages[n]);
	}
	assert_null(alloc_page(GFP_KERNEL));
	assert_true(total > (unsigned long)pcp->high + pcp->batch);
	for (n = 0; n < total; n++) {
		__free_page(pages[n]);
		if (pcp->count > peak)
			peak = pcp->count;
		assert_true(pcp->count <= pcp->high);
	}
	assert_int_equal(peak, pcp->high);
	assert_int_equal(nr_free_pages(), total);
}

struct foreign_free {
	struct page *page;
	bool was_cpu;
};

/* A host thread that never became a CPU drops the last reference. */
static void *put_from_non_cpu(void *arg)
{
	struct foreign_free *f = arg;

	f->was_cpu = mmsim_current_cpu != NULL;
	put_page(f->page);
	f->was_cpu |= mmsim_current_cpu != NULL;
	return NULL;
}

/*
 * A free by a thread that is not a simulated CPU (an RCU callback) neither
 * makes it one nor loses the page: it is counted free at once, poisoned,
 * and handed out again once the per-CPU lists and the zone run dry.
 */
static void free_from_non_cpu_thread(void **state)
{
	struct foreign_free f = { .page = alloc_page(__GFP_ZERO) };
	struct page *pages[SMALL_RAM_PAGES];
	unsigned long free0, n;
	bool found = false;
	pthread_t thread;

	assert_non_null(f.page);
	free0 = nr_free_pages();
	assert_int_equal(pthread_create(&thread, NULL, put_from_non_cpu, &f), 0);
	pthread_join(thread, NULL);
	assert_false(f.was_cpu);
	assert_int_equal(nr_free_pages(), free0 + 1);
	assert_true(frame_is(f.page, PAGE_POISON));

	for (n = 0; (pages[n] = alloc_page(GFP_KERNEL)); n++)
		found |= pages[n] == f.page;
	assert_int_equal(n, SMALL_RAM_PAGES - 1);
	assert_true(found);
	while (n--)
		__free_page(pages[n]);
}

/* --- ThreadSanitizer's state of a freed frame --------------------------- */

#define TSAN_RAM_PAGES	2048UL	/* 8 MiB: a million words */

static int tsan_ram(void **state)
{
	return __ram_setup(TSAN_RAM_PAGES, 0);
}

#ifdef MMSIM_TSAN
static long rss_kb(void)
{
	char line[128];
	long kb = -1;
	FILE *f = fopen("/proc/self/status", "r");

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "VmRSS: %ld", &kb) == 1)
			break;
	fclose(f);
	return kb;
}
#endif

/*
 * A release store (as set_pte) leaves TSan a sync object with a vector
 * clock at its address until the memory is freed; the RAM is never freed,
 * so free_unref_page() must drop them, or every word that was ever a PTE
 * keeps about 350 bytes of TSan's memory (the spf-srcu stress test grew
 * by 2 MB/s).  Every frame gets a release store in every word and is
 * freed, one frame after the other: with the objects dropped at free the
 * process grows by one frame's worth, reused; without, by about 350 MB.
 * A bound on memory, not on time.  Only a TSan build has the objects.
 */
static void free_drops_tsan_sync_objects(void **state)
{
#ifdef MMSIM_TSAN
	unsigned long nr = totalram_pages();
	struct page **pages = calloc(nr, sizeof(*pages));
	long before;

	assert_non_null(pages);
	/* Zeroed: the frames and their shadow are resident before we count. */
	for (unsigned long i = 0; i < nr; i++) {
		pages[i] = alloc_page(__GFP_ZERO);
		assert_non_null(pages[i]);
	}
	before = rss_kb();
	for (unsigned long i = 0; i < nr; i++) {
		unsigned long *w = page_address(pages[i]);

		for (size_t j = 0; j < PAGE_SIZE / sizeof(*w); j++)
			__atomic_store_n(&w[j], j, __ATOMIC_RELEASE);
		__free_page(pages[i]);
	}
	free(pages);
	assert_true(before > 0);
	print_message("RSS grew by %ld KiB\n", rss_kb() - before);
	assert_true(rss_kb() - before < 32 * 1024);
#else
	skip();
#endif
}

/* --- metadata-only mode --------------------------------------------------- */

/* Frames have no data, but the zero page does; copies are no-ops. */
static void metadata_only_pages_have_no_data(void **state)
{
	struct page *a, *b;

	assert_true(mem_metadata_only());
	assert_non_null(page_address(empty_zero_page));
	assert_true(frame_is(empty_zero_page, 0));
	a = alloc_page(__GFP_ZERO);
	b = alloc_page(GFP_KERNEL);
	assert_non_null(a);
	assert_non_null(b);
	assert_null(page_address(a));
	assert_null(page_address(b));
	copy_user_highpage(a, b, 0);
	clear_user_highpage(a, 0);
	get_page(a);
	put_page(a);
	__free_page(a);
	__free_page(b);
	assert_null(page_address(a));
	assert_int_equal(nr_free_pages(), SMALL_RAM_PAGES - 1);
}

/* --- resizing the RAM ----------------------------------------------------- */

/* The RAM cannot be replaced under a page in use; bad sizes are EINVAL. */
static void mem_init_refuses_busy_and_bad_sizes(void **state)
{
	struct page *page = alloc_page(GFP_KERNEL);
	struct page *map = mem_map;

	assert_non_null(page);
	assert_int_equal(mem_init(BIG_RAM_PAGES << PAGE_SHIFT, 0), -EBUSY);
	assert_ptr_equal(mem_map, map);
	assert_int_equal(totalram_pages(), SMALL_RAM_PAGES - 1);
	assert_int_equal(mem_init(0, 0), -EINVAL);
	assert_int_equal(mem_init(PAGE_SIZE, 0), -EINVAL);
	assert_int_equal(mem_init(1UL << 60, 0), -EINVAL);
	assert_int_equal(mem_init(BIG_RAM_PAGES << PAGE_SHIFT, 0x80), -EINVAL);
	__free_page(page);

	/* All free again: now it may, rounding down to whole pages. */
	assert_int_equal(mem_init((BIG_RAM_PAGES << PAGE_SHIFT) + 100, 0), 0);
	assert_int_equal(totalram_pages(), BIG_RAM_PAGES - 1);
	assert_int_equal(nr_free_pages(), BIG_RAM_PAGES - 1);
}

/* --- invariants that stop the run ----------------------------------------- */

/* Run fn in a child process; did it die of a BUG (abort)? */
static bool dies_of_bug(void (*fn)(void))
{
	int status, devnull;
	pid_t pid = fork();

	if (pid == 0) {
		devnull = open("/dev/null", O_WRONLY);
		if (devnull >= 0)
			dup2(devnull, STDERR_FILENO);
		fn();
		_exit(0);
	}
	if (pid < 0 || waitpid(pid, &status, 0) != pid)
		return false;
	return WIFSIGNALED(status) && WTERMSIG(status) == SIGABRT;
}

static void double_put(void)
{
	struct page *page = alloc_page(GFP_KERNEL);

	put_page(page);
	put_page(page);
}

static void free_mapped(void)
{
	struct page *page = alloc_page(GFP_KERNEL);

	atomic_store(&page->_mapcount, 0);
	put_page(page);
}

static void free_zero_page(void)
{
	put_page(empty_zero_page);
}

static void bugs_stop_the_run(void **state)
{
	assert_true(dies_of_bug(double_put));
	assert_true(dies_of_bug(free_mapped));
	assert_true(dies_of_bug(free_zero_page));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		RAM_TEST(alloc_free_round_trip, small_ram),
		RAM_TEST(free_poisons_and_advances_generation, small_ram),
		RAM_TEST(gfp_zero_clears_recycled_frame, small_ram),
		RAM_TEST(refcount_last_put_frees, small_ram),
		RAM_TEST(zero_page_is_reserved, small_ram),
		RAM_TEST(copy_and_clear_user_highpage, small_ram),
		RAM_TEST(oom_returns_null_and_recovers, small_ram),
		RAM_TEST(oom_drains_other_cpus, small_ram),
		RAM_TEST(pcp_refill_and_drain, small_ram),
		RAM_TEST(pcp_spills_above_high, big_ram),
		RAM_TEST(free_from_non_cpu_thread, small_ram),
		RAM_TEST(free_drops_tsan_sync_objects, tsan_ram),
		RAM_TEST(metadata_only_pages_have_no_data, small_ram_metadata_only),
		RAM_TEST(mem_init_refuses_busy_and_bad_sizes, small_ram),
		RAM_TEST(bugs_stop_the_run, small_ram),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

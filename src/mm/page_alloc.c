// SPDX-License-Identifier: MIT
/*
 * The simulated RAM and its frame allocator (mm/page_alloc.c, one zone,
 * order-0 pages only).
 *
 * mem_map[] holds a struct page per frame; the frame data is one host
 * mapping (MAP_NORESERVE: a frame costs host memory only once touched, and
 * reads as zeros until then).  pfn 0 is the zero page, reserved for ever.
 * The other frames sit on the zone's free list or on a CPU's per-CPU list.
 *
 * Locks, outermost first:
 *   pcp->lock	a CPU's per-CPU list.  Taken by its own CPU, and by
 *		another CPU only to drain it (drain_all_pages).
 *   zone_lock	the zone's free list.
 * mem_lock (a host mutex) serializes mem_init, mem_exit and the lazy
 * first initialization; nothing else is held with it.
 *
 * Under ThreadSanitizer, frame data is read and written one 64-bit word at
 * a time with relaxed atomics: a simulated task on another CPU may still
 * write a frame through a stale TLB entry (in a mutant) while the frame is
 * poisoned or copied.  That is a bug of the simulated kernel, to be seen
 * as wrong data by the stress test, not a data race of the simulator.
 * Other builds use memset/memcpy: zeroing 4 KiB is most of a fault's cost.
 */
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include <mmsim/cpu.h>
#include <mmsim/mm_types.h>
#include <mmsim/page.h>
#include <mmsim/rcupdate.h>

#include "kernel/bug.h"
#include "mm/page_alloc.h"

#define DEFAULT_RAM_MB		512UL
/* The largest RAM a PTE can address (40 bits of pfn). */
#define MAX_RAM_PAGES		(1UL << 40)

/* Per-CPU lists: refill and spill this many pages, keep at most PCP_HIGH. */
#define PCP_BATCH		31
#define PCP_HIGH		(6 * PCP_BATCH)

#define WORDS_PER_PAGE		(PAGE_SIZE / sizeof(unsigned long))

struct page *mem_map;
unsigned long max_pfn;
struct page *empty_zero_page;

long pagetables_rcu_pending;

static char *frame_base;		/* data of pfn 0 */
static bool metadata_only;
static bool no_poison;		/* MEM_NO_POISON */

static pthread_mutex_t mem_lock = PTHREAD_MUTEX_INITIALIZER;

/* The zone: free pages not on any per-CPU list.  Under zone_lock. */
static DEFINE_SPINLOCK(zone_lock);
static struct page *zone_free_list;
static long zone_nr_free;		/* under zone_lock; read racily */

/*
 * Pages freed by a thread that is not a simulated CPU: the RCU callbacks
 * that free page tables run on liburcu's own thread, which must not
 * become a CPU (it is already an RCU reader of its own).  It cannot take
 * spinlocks, so it pushes onto this lock-free stack; allocators move the
 * stack to the zone under zone_lock.  Pushes only, and a consumer takes
 * the whole stack at once, so there is no ABA.
 */
static struct page *deferred_free_list;
static long deferred_nr_free;

/* --- frame data ----------------------------------------------------------- */

#ifdef MMSIM_TSAN
static void frame_fill(void *data, unsigned long word)
{
	unsigned long *w = data;

	for (size_t i = 0; i < WORDS_PER_PAGE; i++)
		__atomic_store_n(&w[i], word, __ATOMIC_RELAXED);
}

static void frame_copy(void *to, const void *from)
{
	unsigned long *t = to;
	const unsigned long *f = from;

	for (size_t i = 0; i < WORDS_PER_PAGE; i++)
		__atomic_store_n(&t[i],
				 __atomic_load_n(&f[i], __ATOMIC_RELAXED),
				 __ATOMIC_RELAXED);
}
#else
/* word is one byte repeated (0 or the poison). */
static void frame_fill(void *data, unsigned long word)
{
	memset(data, (int)(word & 0xff), PAGE_SIZE);
}

static void frame_copy(void *to, const void *from)
{
	memcpy(to, from, PAGE_SIZE);
}
#endif

/*
 * ThreadSanitizer keeps a sync object, with a vector clock, for every
 * address that a release store or a read-modify-write ever touched, until
 * that memory is freed or unmapped.  Page-table entries are such
 * addresses (set_pte is a release store, the hardware walk sets A/D with
 * a compare-and-swap), and the RAM is one host mapping that is never
 * freed: as frames take turns being page tables, the objects pile up on
 * every word of the RAM.  A stress run of spf-srcu (which recycles tables
 * through MADV_DONTNEED's pt_reclaim and SRCU) grew by about 2 MB/s in
 * TSan's sync objects alone, towards about 350 bytes per word of RAM (2.9
 * GB for the stress test's 64 MiB).  So a freed frame drops them, as
 * free() does for heap memory.  TSan's public interface to forget the
 * objects of a range without unmapping it is the Java heap's: the RAM is
 * declared a Java heap and a freed frame a freed Java object.  Unmapping
 * and mapping the frame again would do too, but would open a hole that a
 * stale TLB entry of a mutant could hit with a host SIGSEGV.
 */
#ifdef MMSIM_TSAN
void __tsan_java_init(unsigned long heap_begin, unsigned long heap_size);
void __tsan_java_free(unsigned long ptr, unsigned long size);

/*
 * Called for each new RAM.  A second call (mem_init replacing the RAM)
 * only moves the range: the runtime checks it is called once in its
 * debug builds alone.
 */
static void frames_sanitizer_init(void *data, unsigned long bytes)
{
	__tsan_java_init((unsigned long)data, bytes);
}

static void frame_sanitizer_free(void *frame)
{
	__tsan_java_free((unsigned long)frame, PAGE_SIZE);
}
#else
static void frames_sanitizer_init(void *data, unsigned long bytes)
{
}

static void frame_sanitizer_free(void *frame)
{
}
#endif

static void *pfn_frame(unsigned long pfn)
{
	return frame_base + (pfn << PAGE_SHIFT);
}

struct page *virt_to_page(const void *addr)
{
	uintptr_t off = (uintptr_t)addr - (uintptr_t)frame_base;

	BUG_ON((uintptr_t)addr < (uintptr_t)frame_base ||
	       (off >> PAGE_SHIFT) >= max_pfn);
	return pfn_to_page(off >> PAGE_SHIFT);
}

void page_attach_frame(struct page *page)
{
	if (page->virtual)
		return;
	page->virtual = pfn_frame(page_to_pfn(page));
	frame_fill(page->virtual, 0);
}

void clear_user_highpage(struct page *page, unsigned long vaddr)
{
	if (page->virtual)
		frame_fill(page->virtual, 0);
}

void copy_user_highpage(struct page *to, struct page *from,
			unsigned long vaddr)
{
	if (to->virtual && from->virtual)
		frame_copy(to->virtual, from->virtual);
}

/* --- the zone and the per-CPU lists --------------------------------------- */

static void zone_set_nr_free(long nr)
{
	__atomic_store_n(&zone_nr_free, nr, __ATOMIC_RELAXED);
}

static void pcp_set_count(struct per_cpu_pages *pcp, int count)
{
	__atomic_store_n(&pcp->count, count, __ATOMIC_RELAXED);
}

static int pcp_get_count(struct per_cpu_pages *pcp)
{
	return __atomic_load_n(&pcp->count, __ATOMIC_RELAXED);
}

/* Move what non-CPU threads freed onto the zone.  zone_lock is held. */
static void zone_take_deferred(void)
{
	struct page *page, *next;
	long nr = 0;

	lockdep_assert_held(&zone_lock);
	page = __atomic_exchange_n(&deferred_free_list, NULL, __ATOMIC_ACQUIRE);
	for (; page; page = next, nr++) {
		next = page->next;
		page->next = zone_free_list;
		zone_free_list = page;
	}
	__atomic_fetch_sub(&deferred_nr_free, nr, __ATOMIC_RELAXED);
	zone_set_nr_free(zone_nr_free + nr);
}

static void deferred_free_push(struct page *page)
{
	struct page *head = __atomic_load_n(&deferred_free_list,
					    __ATOMIC_RELAXED);

	/* Counted before it can be taken: the count never goes negative. */
	__atomic_fetch_add(&deferred_nr_free, 1, __ATOMIC_RELAXED);
	do {
		page->next = head;
	} while (!__atomic_compare_exchange_n(&deferred_free_list, &head, page,
					      true, __ATOMIC_RELEASE,
					      __ATOMIC_RELAXED));
}

/* Set a CPU's list limits the first time it is used.  pcp->lock is held. */
static void pcp_lazy_init(struct per_cpu_pages *pcp)
{
	if (unlikely(!pcp->batch)) {
		pcp->batch = PCP_BATCH;
		pcp->high = PCP_HIGH;
	}
}

/* Take up to pcp->batch pages from the zone.  pcp->lock is held. */
static void pcp_refill(struct per_cpu_pages *pcp)
{
	int n;

	lockdep_assert_held(&pcp->lock);
	spin_lock(&zone_lock);
	if (zone_nr_free < pcp->batch &&
	    __atomic_load_n(&deferred_free_list, __ATOMIC_RELAXED))
		zone_take_deferred();
	for (n = 0; n < pcp->batch && zone_free_list; n++) {
		struct page *page = zone_free_list;

		zone_free_list = page->next;
		page->next = pcp->list;
		pcp->list = page;
	}
	zone_set_nr_free(zone_nr_free - n);
	spin_unlock(&zone_lock);
	pcp_set_count(pcp, pcp->count + n);
}

/* Give nr pages of the list back to the zone.  pcp->lock is held. */
static void pcp_spill(struct per_cpu_pages *pcp, int nr)
{
	int n;

	lockdep_assert_held(&pcp->lock);
	spin_lock(&zone_lock);
	for (n = 0; n < nr && pcp->list; n++) {
		struct page *page = pcp->list;

		pcp->list = page->next;
		page->next = zone_free_list;
		zone_free_list = page;
	}
	zone_set_nr_free(zone_nr_free + n);
	spin_unlock(&zone_lock);
	pcp_set_count(pcp, pcp->count - n);
}

static void drain_pcp(struct per_cpu_pages *pcp)
{
	spin_lock(&pcp->lock);
	pcp_spill(pcp, pcp->count);
	spin_unlock(&pcp->lock);
}

void drain_local_pages(void)
{
	drain_pcp(&this_cpu()->pcp);
}

/*
 * Empty every CPU's list into the zone (the kernel sends work to each
 * CPU; here the pcp lock lets us do it from afar), and take in what
 * non-CPU threads freed.
 */
void drain_all_pages(void)
{
	for (int cpu = 0; cpu < NR_CPUS; cpu++) {
		struct per_cpu_pages *pcp = &mmsim_cpus[cpu].pcp;

		if (pcp_get_count(pcp))
			drain_pcp(pcp);
	}
	if (__atomic_load_n(&deferred_free_list, __ATOMIC_RELAXED)) {
		spin_lock(&zone_lock);
		zone_take_deferred();
		spin_unlock(&zone_lock);
	}
}

/* One page off this CPU's list, refilling it from the zone; NULL if none. */
static struct page *rmqueue_pcp(void)
{
	struct per_cpu_pages *pcp = &this_cpu()->pcp;
	struct page *page;

	spin_lock(&pcp->lock);
	pcp_lazy_init(pcp);
	if (!pcp->list)
		pcp_refill(pcp);
	page = pcp->list;
	if (page) {
		pcp->list = page->next;
		pcp_set_count(pcp, pcp->count - 1);
	}
	spin_unlock(&pcp->lock);
	return page;
}

/* A free page (refcount 0, PG_buddy) becomes a fresh page (refcount 1). */
static void prep_new_page(struct page *page, unsigned int gfp)
{
	BUG_ON(!PageFlag(page, PG_buddy));
	BUG_ON(page_ref_count(page) != 0);
	page->next = NULL;
	__atomic_store_n(&page->flags, 0UL, __ATOMIC_RELAXED);
	atomic_store_explicit(&page->_mapcount, -1, memory_order_relaxed);
	atomic_store_explicit(&page->_refcount, 1, memory_order_relaxed);
	if ((gfp & __GFP_ZERO) && page->virtual)
		frame_fill(page->virtual, 0);
}

struct page *alloc_page(unsigned int gfp)
{
	struct page *page;

	mem_init_default();
	if (unlikely(!__atomic_load_n(&mem_map, __ATOMIC_ACQUIRE)))
		return NULL;
	page = rmqueue_pcp();
	if (unlikely(!page)) {
		/* Free pages may hide on other CPUs' lists: fetch them once. */
		drain_all_pages();
		page = rmqueue_pcp();
		if (!page)
			return NULL;
	}
	prep_new_page(page, gfp);
	return page;
}

/*
 * The last reference is gone: poison the frame, advance its generation,
 * put it on this CPU's list (or the deferred stack for a non-CPU thread).
 */
static void free_unref_page(struct page *page)
{
	struct mmsim_cpu *cpu = mmsim_current_cpu;
	struct per_cpu_pages *pcp;

	BUG_ON(PageFlag(page, PG_reserved));
	BUG_ON(PageFlag(page, PG_buddy));
	BUG_ON(atomic_load_explicit(&page->_mapcount,
				    memory_order_relaxed) >= 0);
	/* Even in metadata-only mode: a page table had its frame. */
	frame_sanitizer_free(pfn_frame(page_to_pfn(page)));
	if (page->virtual) {
		if (!no_poison)
			frame_fill(page->virtual,
				   PAGE_POISON * (~0UL / 0xff));
		if (metadata_only)
			page->virtual = NULL;	/* a page table's frame */
	}
	__atomic_fetch_add(&page->generation, 1, __ATOMIC_RELAXED);
	__atomic_store_n(&page->flags, 1UL << PG_buddy, __ATOMIC_RELAXED);
	page->mapping = NULL;
	page->index = 0;
	page->pt_mm = NULL;
	page->pt_level = 0;

	if (!cpu) {
		deferred_free_push(page);
		return;
	}
	pcp = &cpu->pcp;
	spin_lock(&pcp->lock);
	pcp_lazy_init(pcp);
	page->next = pcp->list;
	pcp->list = page;
	pcp_set_count(pcp, pcp->count + 1);
	if (pcp->count > pcp->high)
		pcp_spill(pcp, pcp->batch);
	spin_unlock(&pcp->lock);
}

void put_page(struct page *page)
{
	int old = atomic_fetch_sub_explicit(&page->_refcount, 1,
					    memory_order_acq_rel);

	BUG_ON(old <= 0);		/* a put without a reference */
	if (old == 1)
		free_unref_page(page);
}

/* As the kernel's: drop the caller's reference, free if it was the last. */
void __free_page(struct page *page)
{
	put_page(page);
}

unsigned long nr_free_pages(void)
{
	long nr;

	mem_init_default();
	nr = __atomic_load_n(&zone_nr_free, __ATOMIC_RELAXED) +
	     __atomic_load_n(&deferred_nr_free, __ATOMIC_RELAXED);
	for (int cpu = 0; cpu < NR_CPUS; cpu++)
		nr += pcp_get_count(&mmsim_cpus[cpu].pcp);
	return nr;
}

unsigned long totalram_pages(void)
{
	mem_init_default();
	/* Every frame but the zero page. */
	return max_pfn ? max_pfn - 1 : 0;
}

bool mem_metadata_only(void)
{
	return metadata_only;
}

/* --- creating and destroying the RAM -------------------------------------- */

/* Forget every per-CPU list: the pages they hold are about to go. */
static void pcp_reset_all(void)
{
	for (int cpu = 0; cpu < NR_CPUS; cpu++) {
		struct per_cpu_pages *pcp = &mmsim_cpus[cpu].pcp;

		spin_lock(&pcp->lock);
		pcp->list = NULL;
		pcp_set_count(pcp, 0);
		pcp->batch = PCP_BATCH;
		pcp->high = PCP_HIGH;
		spin_unlock(&pcp->lock);
	}
}

/* Are all pages but the zero page free?  Gathers them in the zone. */
static bool mem_all_free(void)
{
	/* Page tables freed by RCU callbacks still queued come back first. */
	if (__atomic_load_n(&pagetables_rcu_pending, __ATOMIC_ACQUIRE))
		rcu_barrier();
	drain_all_pages();
	return __atomic_load_n(&zone_nr_free, __ATOMIC_RELAXED) ==
	       (long)max_pfn - 1;
}

/* mem_lock is held, and no page is in use. */
static void mem_teardown(void)
{
	pcp_reset_all();
	spin_lock(&zone_lock);
	zone_free_list = NULL;
	zone_set_nr_free(0);
	spin_unlock(&zone_lock);
	munmap(frame_base, max_pfn << PAGE_SHIFT);
	free(mem_map);
	frame_base = NULL;
	empty_zero_page = NULL;
	max_pfn = 0;
	metadata_only = false;
	__atomic_store_n(&mem_map, NULL, __ATOMIC_RELEASE);
}

/* mem_lock is held and there is no RAM yet. */
static int mem_setup(unsigned long nr, unsigned int flags)
{
	struct page *map;
	char *data;

	map = calloc(nr, sizeof(*map));
	if (!map)
		return -ENOMEM;
	data = mmap(NULL, nr << PAGE_SHIFT, PROT_READ | PROT_WRITE,
		    MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (data == MAP_FAILED) {
		free(map);
		return -ENOMEM;
	}
	frame_base = data;
	frames_sanitizer_init(data, nr << PAGE_SHIFT);
	metadata_only = flags & MEM_METADATA_ONLY;
	no_poison = flags & MEM_NO_POISON;
	for (unsigned long pfn = 0; pfn < nr; pfn++) {
		struct page *page = &map[pfn];

		atomic_init(&page->_mapcount, -1);
		__spin_lock_init(&page->ptl, "ptl");
		if (!metadata_only)
			page->virtual = data + (pfn << PAGE_SHIFT);
	}

	/* The zero page has its (zero) frame even in metadata-only mode. */
	empty_zero_page = &map[0];
	empty_zero_page->virtual = data;
	empty_zero_page->flags = 1UL << PG_reserved;
	atomic_init(&empty_zero_page->_refcount, 1);

	pcp_reset_all();
	spin_lock(&zone_lock);
	zone_free_list = NULL;
	/* From the top down, so that low pfns come out first. */
	for (unsigned long pfn = nr - 1; pfn > 0; pfn--) {
		map[pfn].flags = 1UL << PG_buddy;
		map[pfn].next = zone_free_list;
		zone_free_list = &map[pfn];
	}
	zone_set_nr_free(nr - 1);
	spin_unlock(&zone_lock);
	max_pfn = nr;
	/* Publish last: alloc_page() tests mem_map with an acquire load. */
	__atomic_store_n(&mem_map, map, __ATOMIC_RELEASE);
	return 0;
}

/*
 * Create the RAM: ram_bytes rounded down to pages, pfn 0 being the zero
 * page.  Called again, it replaces the RAM, which needs every page free.
 * Returns 0, -EINVAL (fewer than 2 frames, or more than a PTE can
 * address), -EBUSY (pages in use) or -ENOMEM.
 */
int mem_init(unsigned long ram_bytes, unsigned int flags)
{
	unsigned long nr = ram_bytes >> PAGE_SHIFT;
	int ret = 0;

	if (nr < 2 || nr > MAX_RAM_PAGES || (flags & ~(MEM_METADATA_ONLY | MEM_NO_POISON)))
		return -EINVAL;
	pthread_mutex_lock(&mem_lock);
	if (mem_map) {
		if (!mem_all_free()) {
			ret = -EBUSY;
			goto out;
		}
		mem_teardown();
	}
	ret = mem_setup(nr, flags);
out:
	pthread_mutex_unlock(&mem_lock);
	return ret;
}

/* Free the RAM.  Pages still in use are lost (and reported). */
void mem_exit(void)
{
	pthread_mutex_lock(&mem_lock);
	if (mem_map) {
		WARN_ON(!mem_all_free());
		mem_teardown();
	}
	pthread_mutex_unlock(&mem_lock);
}

static unsigned long default_ram_bytes(void)
{
	const char *env = getenv("MMSIM_RAM_MB");
	unsigned long mb = DEFAULT_RAM_MB;

	if (env && *env) {
		char *end;
		unsigned long v = strtoul(env, &end, 10);

		if (!*end && v > 0 && v <= (MAX_RAM_PAGES >> (20 - PAGE_SHIFT)))
			mb = v;
	}
	return mb << 20;
}

/*
 * The RAM of a run that did not ask for one: $MMSIM_RAM_MB MiB or 512 MiB.
 * Cheap when it exists (one acquire load).
 */
void mem_init_default(void)
{
	if (likely(__atomic_load_n(&mem_map, __ATOMIC_ACQUIRE)))
		return;
	pthread_mutex_lock(&mem_lock);
	if (!mem_map)
		WARN_ON(mem_setup(default_ram_bytes() >> PAGE_SHIFT, 0));
	pthread_mutex_unlock(&mem_lock);
}

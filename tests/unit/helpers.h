/* SPDX-License-Identifier: MIT */
/*
 * Helpers shared by the unit tests of the VMA layer:
 *
 *  - an mm per test (mm_setup / mm_teardown), with the leak checks at
 *    teardown: anon_vmas, shmem files and committed pages all return to
 *    what they were before the test, and sysctl_max_map_count is restored;
 *  - builders that make a layout in one line, in pages from a base address:
 *
 *	map_anon(mm, base, 0, 2, PROT_READ | PROT_WRITE);
 *	map_shared(mm, base, 2, 4, PROT_READ);
 *
 *  - one assertion for a whole layout, which prints the mm on mismatch:
 *
 *	assert_layout(mm, base, { 0, 2, VMA_RW }, { 2, 4, VMA_R | VM_SHARED });
 *
 *  - assert_valid(mm) (validate_mm() == 0), write_touch() (a write fault,
 *    which gives a private VMA its anon_vma), and snapshots of a whole mm
 *    for "bad input changes nothing" checks.
 *
 * The helpers take the file and line of their caller, so that a failure
 * points at the test, not here.
 */
#ifndef MMSIM_TESTS_UNIT_HELPERS_H
#define MMSIM_TESTS_UNIT_HELPERS_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <pthread.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <mmsim/strategy.h>

#include "mm/internal.h"

/* Where the layout tests build, far from mmap_base and from each other. */
#define TEST_BASE	0x100000000UL		/* 4 GiB */
/* assert_layout() looks at [base, base + TEST_WINDOW_PAGES pages). */
#define TEST_WINDOW_PAGES	(1UL << 18)	/* 1 GiB */

/* Address of page n from base. */
#define PG(base, n)	((base) + ((unsigned long)(n) << PAGE_SHIFT))

/* Access rights as assert_layout() compares them. */
#define VMA_NONE	0UL
#define VMA_R		VM_READ
#define VMA_RW		(VM_READ | VM_WRITE)
#define VMA_RX		(VM_READ | VM_EXEC)
#define VMA_RWX		(VM_READ | VM_WRITE | VM_EXEC)

/*
 * The flags a layout states.  VM_MAY* follow from the mapping type and
 * VM_ACCOUNT from the rights; tests that care about them check them alone.
 */
#define LAYOUT_FLAGS	(VM_ACCESS_FLAGS | VM_SHARED | VM_GROWSDOWN | \
			 VM_LOCKED | VM_LOCKONFAULT | VM_SEQ_READ | \
			 VM_RAND_READ | VM_DONTCOPY)

/* --- per-test environment ------------------------------------------------ */

struct test_env {
	struct mm_struct *mm;
	long anon_vmas;			/* anon_vma_live_count() at setup */
	long shmem_files;		/* shmem_live_files() at setup */
	long committed;			/* vm_committed_pages() at setup */
	int max_map_count;		/* sysctl_max_map_count at setup */
	unsigned long free_pages;	/* nr_free_pages() at setup */
};

static inline struct mm_struct *test_mm(void **state)
{
	return ((struct test_env *)*state)->mm;
}

/* The strategy s of the fresh mm: NULL for the default, as mm_alloc(). */
static inline int __mm_setup(void **state, unsigned int levels,
			     const struct fault_strategy *s)
{
	struct test_env *env = calloc(1, sizeof(*env));

	if (!env)
		return -1;
	env->anon_vmas = anon_vma_live_count();
	env->shmem_files = shmem_live_files();
	env->committed = vm_committed_pages();
	env->max_map_count = sysctl_max_map_count;
	mem_init_default();
	env->free_pages = nr_free_pages();
	env->mm = mm_alloc_strategy(levels, s);
	if (!env->mm) {
		free(env);
		return -1;
	}
	*state = env;
	return 0;
}

/* A fresh 4-level mm for each test. */
static inline int mm_setup(void **state)
{
	return __mm_setup(state, 4, NULL);
}

/* A fresh 5-level mm for each test. */
static inline int mm_setup5(void **state)
{
	return __mm_setup(state, 5, NULL);
}

/*
 * A fresh 4-level mm whose faults use strategy s, whatever the default
 * ($MMSIM_STRATEGY): for the tests of one strategy's own behaviour.
 */
static inline int mm_setup_strategy(void **state,
				    const struct fault_strategy *s)
{
	return __mm_setup(state, 4, s);
}

/*
 * Tear the mm down and check that nothing leaked.  The mm may already be
 * gone (a test that mmput()s it itself sets env->mm to NULL).
 */
static inline int mm_teardown(void **state)
{
	struct test_env env = *(struct test_env *)*state;
	int readers = 0;

	free(*state);
	*state = NULL;
	sysctl_max_map_count = env.max_map_count;
	/*
	 * A test that failed inside a read side left it open: the grace
	 * period below would wait for it forever.  Leave it, then fail.
	 */
	for (; rcu_read_lock_held(); readers++)
		rcu_read_unlock();
	if (env.mm) {
		/* A test must not fail with the lock held: mmput would hang. */
		assert_false(rwsem_is_locked(&env.mm->mmap_lock));
		assert_int_equal(validate_mm(env.mm), 0);
		mmput(env.mm);
	}
	/* spf-srcu frees VMAs (and drops their files) after a grace period. */
	rcu_barrier();
	assert_int_equal(anon_vma_live_count(), env.anon_vmas);
	assert_int_equal(shmem_live_files(), env.shmem_files);
	assert_int_equal(vm_committed_pages(), env.committed);
	/* Every frame and page-table page is back (mmput freed the PGD). */
	assert_int_equal(nr_free_pages(), env.free_pages);
	assert_int_equal(readers, 0);
	return 0;
}

/* A test run on a fresh 4-level (MM_TEST) or 5-level (MM5_TEST) mm. */
#define MM_TEST(fn) \
	cmocka_unit_test_setup_teardown(fn, mm_setup, mm_teardown)
#define MM5_TEST(fn) \
	cmocka_unit_test_setup_teardown(fn, mm_setup5, mm_teardown)

/* --- consistency -------------------------------------------------------- */

static inline void __assert_valid(struct mm_struct *mm, const char *file,
				  int line)
{
	int bugs = validate_mm(mm);

	if (bugs)
		dump_mm(stderr, mm);
	_assert_int_equal(bugs, 0, file, line);
}

/* validate_mm() finds nothing wrong (and prints the mm if it does). */
#define assert_valid(mm)	__assert_valid(mm, __FILE__, __LINE__)

/* --- building layouts ---------------------------------------------------- */

static inline unsigned long __map_pages(struct mm_struct *mm,
					unsigned long base, unsigned long start,
					unsigned long end, unsigned long prot,
					unsigned long type, const char *file,
					int line)
{
	unsigned long addr = PG(base, start);
	unsigned long ret;

	ret = sys_mmap(mm, addr, (end - start) << PAGE_SHIFT, prot,
		       type | MAP_ANONYMOUS | MAP_FIXED, NULL, 0);
	_assert_int_equal(ret, addr, file, line);
	__assert_valid(mm, file, line);
	return ret;
}

/* Map pages [start, end) from base, anonymous and private, MAP_FIXED. */
#define map_anon(mm, base, start, end, prot) \
	__map_pages(mm, base, start, end, prot, MAP_PRIVATE, __FILE__, __LINE__)

/* Map pages [start, end) from base, anonymous and shared, MAP_FIXED. */
#define map_shared(mm, base, start, end, prot) \
	__map_pages(mm, base, start, end, prot, MAP_SHARED, __FILE__, __LINE__)

static inline void __protect_pages(struct mm_struct *mm, unsigned long base,
				   unsigned long start, unsigned long end,
				   unsigned long prot, const char *file,
				   int line)
{
	_assert_int_equal(sys_mprotect(mm, PG(base, start),
				       (end - start) << PAGE_SHIFT, prot),
			  0, file, line);
	__assert_valid(mm, file, line);
}

/* mprotect pages [start, end) from base, which must succeed. */
#define protect_pages(mm, base, start, end, prot) \
	__protect_pages(mm, base, start, end, prot, __FILE__, __LINE__)

static inline void __unmap_pages(struct mm_struct *mm, unsigned long base,
				 unsigned long start, unsigned long end,
				 const char *file, int line)
{
	_assert_int_equal(sys_munmap(mm, PG(base, start),
				     (end - start) << PAGE_SHIFT),
			  0, file, line);
	__assert_valid(mm, file, line);
}

/* munmap pages [start, end) from base, which must succeed. */
#define unmap_pages(mm, base, start, end) \
	__unmap_pages(mm, base, start, end, __FILE__, __LINE__)

static inline void __write_touch(struct mm_struct *mm, unsigned long addr,
				 const char *file, int line)
{
	_assert_int_equal(mmsim_access(mm, addr, true), 0, file, line);
	__assert_valid(mm, file, line);
}

/*
 * A write by the task at addr, which must succeed: a private VMA gets its
 * anon_vma (its own, or a neighbour's that find_mergeable_anon_vma() says
 * it may share).
 */
#define write_touch(mm, addr)	__write_touch(mm, addr, __FILE__, __LINE__)

/*
 * The lookups, each under the mmap lock held for reading: tests assert on
 * the result after the lock is dropped, since a failed assertion leaves
 * the test at once (and a lock left held would hang the teardown).
 */
static inline struct vm_area_struct *test_find_vma(struct mm_struct *mm,
						   unsigned long addr)
{
	struct vm_area_struct *vma;

	mmap_read_lock(mm);
	vma = find_vma(mm, addr);
	mmap_read_unlock(mm);
	return vma;
}

static inline struct vm_area_struct *
test_find_vma_prev(struct mm_struct *mm, unsigned long addr,
		   struct vm_area_struct **pprev)
{
	struct vm_area_struct *vma;

	mmap_read_lock(mm);
	vma = find_vma_prev(mm, addr, pprev);
	mmap_read_unlock(mm);
	return vma;
}

static inline struct vm_area_struct *
test_find_vma_intersection(struct mm_struct *mm, unsigned long start,
			   unsigned long end)
{
	struct vm_area_struct *vma;

	mmap_read_lock(mm);
	vma = find_vma_intersection(mm, start, end);
	mmap_read_unlock(mm);
	return vma;
}

static inline struct vm_area_struct *test_vma_lookup(struct mm_struct *mm,
						     unsigned long addr)
{
	struct vm_area_struct *vma;

	mmap_read_lock(mm);
	vma = vma_lookup(mm, addr);
	mmap_read_unlock(mm);
	return vma;
}

/* The VMA containing addr, or NULL. */
static inline struct vm_area_struct *vma_at(struct mm_struct *mm,
					    unsigned long addr)
{
	return test_vma_lookup(mm, addr);
}

/* --- asserting layouts --------------------------------------------------- */

/* One expected VMA: pages [start, end) from the base, with flags. */
struct layout {
	long start, end;
	unsigned long flags;		/* compared under LAYOUT_FLAGS */
};

/* addr in pages from base (negative below it). */
static inline long page_from(unsigned long base, unsigned long addr)
{
	return ((long)addr - (long)base) / (long)PAGE_SIZE;
}

static inline void print_layout_entry(FILE *out, long start, long end,
				      unsigned long flags)
{
	char buf[160];

	fprintf(out, "  [%ld, %ld) %s\n", start, end,
		show_smap_vma_flags(flags & LAYOUT_FLAGS, buf, sizeof(buf)));
}

/*
 * The VMAs meeting pages [lo, hi) from base must be exactly expect[] (in
 * pages from base, flags under LAYOUT_FLAGS), in order.  On mismatch both
 * layouts and the whole mm are printed.
 */
static inline void __assert_layout(struct mm_struct *mm, unsigned long base,
				   unsigned long lo, unsigned long hi,
				   const struct layout *expect, size_t n,
				   const char *file, int line)
{
	unsigned long win_start = PG(base, lo), win_end = PG(base, hi);
	struct vm_area_struct *vma;
	bool ok = true;
	size_t i = 0;

	mmap_read_lock(mm);
	for (vma = find_vma(mm, win_start); vma && vma->vm_start < win_end;
	     vma = vma->vm_next, i++) {
		long start = page_from(base, vma->vm_start);
		long end = page_from(base, vma->vm_end);

		if (i >= n || expect[i].start != start ||
		    expect[i].end != end ||
		    expect[i].flags != (vma->vm_flags & LAYOUT_FLAGS))
			ok = false;
	}
	if (i != n)
		ok = false;
	if (!ok) {
		fprintf(stderr, "%s:%d: layout in pages [%lu, %lu) from %#lx\n"
			"expected:\n", file, line, lo, hi, base);
		for (i = 0; i < n; i++)
			print_layout_entry(stderr, expect[i].start,
					   expect[i].end, expect[i].flags);
		fprintf(stderr, "actual:\n");
		for (vma = find_vma(mm, win_start);
		     vma && vma->vm_start < win_end; vma = vma->vm_next)
			print_layout_entry(stderr,
					   page_from(base, vma->vm_start),
					   page_from(base, vma->vm_end),
					   vma->vm_flags);
		dump_mm(stderr, mm);
	}
	mmap_read_unlock(mm);
	if (!ok)
		_fail(file, line);
}

#define LAYOUT(...)	((const struct layout[]){ __VA_ARGS__ })
#define LAYOUT_LEN(...)	(sizeof(LAYOUT(__VA_ARGS__)) / sizeof(struct layout))

/* The VMAs in pages [lo, hi) from base are exactly the list given. */
#define assert_layout_in(mm, base, lo, hi, ...) \
	__assert_layout(mm, base, lo, hi, LAYOUT(__VA_ARGS__), \
			LAYOUT_LEN(__VA_ARGS__), __FILE__, __LINE__)

/* The VMAs in the test window from base are exactly the list given. */
#define assert_layout(mm, base, ...) \
	assert_layout_in(mm, base, 0, TEST_WINDOW_PAGES, __VA_ARGS__)

/* No VMA meets pages [lo, hi) from base. */
#define assert_no_vmas(mm, base, lo, hi) \
	__assert_layout(mm, base, lo, hi, NULL, 0, __FILE__, __LINE__)

/* --- snapshots: "changes nothing" ----------------------------------------- */

struct vma_snap {
	unsigned long start, end, flags, pgoff;
	struct anon_vma *anon_vma;
	struct file *file;
};

/* Everything about an mm that a failed system call must leave alone. */
struct mm_snapshot {
	struct vma_snap *vmas;
	int map_count;
	unsigned long total_vm, locked_vm, data_vm, exec_vm, stack_vm;
	long committed, anon_vmas, shmem_files;
};

static inline void take_snapshot(struct mm_struct *mm, struct mm_snapshot *s)
{
	struct vm_area_struct *vma;
	int i = 0;

	s->vmas = calloc(mm->map_count + 1, sizeof(*s->vmas));
	assert_non_null(s->vmas);
	mmap_read_lock(mm);
	s->map_count = mm->map_count;
	for (vma = mm->mmap; vma; vma = vma->vm_next, i++) {
		s->vmas[i] = (struct vma_snap){
			.start = vma->vm_start, .end = vma->vm_end,
			.flags = vma->vm_flags, .pgoff = vma->vm_pgoff,
			.anon_vma = vma->anon_vma, .file = vma->vm_file,
		};
	}
	s->total_vm = mm->total_vm;
	s->locked_vm = mm->locked_vm;
	s->data_vm = mm->data_vm;
	s->exec_vm = mm->exec_vm;
	s->stack_vm = mm->stack_vm;
	mmap_read_unlock(mm);
	s->committed = vm_committed_pages();
	s->anon_vmas = anon_vma_live_count();
	s->shmem_files = shmem_live_files();
}

static inline bool snapshot_matches(struct mm_struct *mm,
				    const struct mm_snapshot *s)
{
	struct vm_area_struct *vma;
	int i = 0;

	if (mm->map_count != s->map_count || mm->total_vm != s->total_vm ||
	    mm->locked_vm != s->locked_vm || mm->data_vm != s->data_vm ||
	    mm->exec_vm != s->exec_vm || mm->stack_vm != s->stack_vm ||
	    vm_committed_pages() != s->committed ||
	    anon_vma_live_count() != s->anon_vmas ||
	    shmem_live_files() != s->shmem_files)
		return false;
	for (vma = mm->mmap; vma; vma = vma->vm_next, i++) {
		const struct vma_snap *v = &s->vmas[i];

		if (i >= s->map_count || v->start != vma->vm_start ||
		    v->end != vma->vm_end || v->flags != vma->vm_flags ||
		    v->pgoff != vma->vm_pgoff ||
		    v->anon_vma != vma->anon_vma || v->file != vma->vm_file)
			return false;
	}
	return i == s->map_count;
}

static inline void __assert_unchanged(struct mm_struct *mm,
				      struct mm_snapshot *s,
				      const char *file, int line)
{
	bool ok;
	int i;

	__assert_valid(mm, file, line);
	mmap_read_lock(mm);
	ok = snapshot_matches(mm, s);
	if (!ok) {
		fprintf(stderr, "%s:%d: mm changed; it was:\n", file, line);
		for (i = 0; i < s->map_count; i++)
			fprintf(stderr, "  %lx-%lx flags %lx pgoff %lx\n",
				s->vmas[i].start, s->vmas[i].end,
				s->vmas[i].flags, s->vmas[i].pgoff);
		fprintf(stderr, "  total_vm %lu locked_vm %lu committed %ld "
			"anon_vmas %ld shmem files %ld\nnow:\n", s->total_vm,
			s->locked_vm, s->committed, s->anon_vmas,
			s->shmem_files);
		dump_mm(stderr, mm);
		fprintf(stderr,
			"  committed %ld anon_vmas %ld shmem files %ld\n",
			vm_committed_pages(), anon_vma_live_count(),
			shmem_live_files());
	}
	mmap_read_unlock(mm);
	free(s->vmas);
	s->vmas = NULL;
	if (!ok)
		_fail(file, line);
}

/* mm is exactly as take_snapshot() saw it (and valid); frees the snapshot. */
#define assert_unchanged(mm, s)	__assert_unchanged(mm, s, __FILE__, __LINE__)


/* --- accesses through the MMU -------------------------------------------- */

/* Load the word at addr as mm's task on this CPU; *sig gets the signal. */
static inline unsigned long load_ul(struct mm_struct *mm, unsigned long addr,
				    int *sig)
{
	unsigned long v = 0;

	mmsim_switch_mm(mm);
	*sig = mmsim_load(addr, &v, sizeof(v));
	return v;
}

/* Store v at addr as mm's task; returns 0 or the signal. */
static inline int store_ul(struct mm_struct *mm, unsigned long addr,
			   unsigned long v)
{
	mmsim_switch_mm(mm);
	return mmsim_store(addr, &v, sizeof(v));
}

/* The value at addr, which must be readable. */
static inline unsigned long __read_ul(struct mm_struct *mm, unsigned long addr,
				      const char *file, int line)
{
	int sig;
	unsigned long v = load_ul(mm, addr, &sig);

	_assert_int_equal(sig, 0, file, line);
	return v;
}
#define read_ul(mm, addr)	__read_ul(mm, addr, __FILE__, __LINE__)

/* Write v at addr, which must be writable. */
#define write_ul(mm, addr, v)	assert_int_equal(store_ul(mm, addr, v), 0)

/* The PTE of addr (read without locks: the tests run alone), or none. */
static inline pte_t pte_of(struct mm_struct *mm, unsigned long addr)
{
	pmd_t *pmd = mm_find_pmd(mm, addr);

	if (!pmd || !pmd_present(pmdp_get(pmd)))
		return (pte_t){ 0 };
	return ptep_get(pte_offset_kernel(pmdp_get(pmd), addr));
}

/*
 * A test with a small RAM (1024 frames), for running out of memory; the
 * RAM goes back to 64 MiB afterwards.  The CPU leaves the mm first.
 */
static inline int small_ram_setup(void **state)
{
	mmsim_switch_mm(NULL);
	if (mem_init(4UL << 20, 0))
		return -1;
	return mm_setup(state);
}

static inline int small_ram_teardown(void **state)
{
	int ret;

	mmsim_switch_mm(NULL);
	ret = mm_teardown(state);
	mem_init(64UL << 20, 0);
	return ret;
}

/* --- running something on another simulated CPU --------------------------- */

struct remote_call {
	void (*fn)(void *arg);
	void *arg;
	atomic_int done;
};

static inline void *remote_thread(void *p)
{
	struct remote_call *rc = p;

	rc->fn(rc->arg);
	mmsim_switch_mm(NULL);
	atomic_store(&rc->done, 1);
	return NULL;
}

/*
 * Run fn(arg) on a new thread (a CPU of its own) and wait for it.  The
 * wait is a wait loop of the machine: with our interrupts enabled it
 * takes the IPIs fn may send us.  With them disabled (in the SPF window)
 * fn must send none, as a real CPU waiting there would deadlock.
 */
static inline void run_on_other_cpu(void (*fn)(void *), void *arg)
{
	struct remote_call rc = { .fn = fn, .arg = arg };
	pthread_t t;

	assert_int_equal(pthread_create(&t, NULL, remote_thread, &rc), 0);
	while (!atomic_load(&rc.done))
		mmsim_cpu_relax();
	pthread_join(t, NULL);
}

#endif /* MMSIM_TESTS_UNIT_HELPERS_H */

// SPDX-License-Identifier: MIT
/*
 * Unit tests for the fault side of spf-srcu (SPF RFC v5 patches 02-10):
 * handle_speculative_fault(), pte_map_lock()/pte_spinlock() and the
 * FAULT_FLAG_SPECULATIVE paths of the handlers.  Every test runs on an mm
 * created with spf_srcu_strategy and shared by two users (mmget), faulting
 * through the MMU (do_user_addr_fault tries speculatively first) or
 * calling handle_speculative_fault() directly, and reads the outcome from
 * the page tables and the fault event counters.
 *
 *   fault                         expected
 *   write, anon_vma, PMD there    spf_completed, page mapped
 *   read                          spf_completed, zero page
 *   write after fork (COW)        spf_completed, copy; reuse once alone
 *   first fault in a PMD          spf_pmd_changed, then classic
 *   no anon_vma yet               spf_vma_noanon, then classic
 *   shared anonymous              spf_vma_notsup, then classic
 *   write to read-only, fetch NX  spf_vma_access, then SIGSEGV
 *   one user                      spf_single_thread, not tried
 *   PTE lock held elsewhere       spf_pte_lock, then classic
 *   VMA unmapped after lookup     spf_vma_changed (VMA still readable)
 *
 * The race windows are forced with the scheduling hook: at SCHED_FAULT_PTE
 * (after the first checks, before the PTE lock, interrupts off) another
 * CPU changes the VMA or sets the PTE; at SCHED_PTE (right after the walk
 * read the PTE) the test replaces the PTE table.  The correct code gives
 * up or backs off, and each mutant that drops one of the checks is shown
 * doing the damage the check exists to prevent:
 *
 *   no-second-vma-check, no-seq-mprotect  writable PTE, read-only VMA
 *   no-pmd-same         PTE set in a table no PMD points to (replaced,
 *                       or reclaimed by MADV_DONTNEED in the window)
 *   no-final-pte-same   another CPU's write lost
 *   no-seq-unmap        zap under the write lock unseen
 *   spf-pte-alloc       first fault in a PMD not classic; tables left
 *                       under no VMA by a munmap before the walk
 *                       (SCHED_FAULT_WALK)
 */
#include <pthread.h>
#include <sched.h>

#include <mmsim/lockdep.h>
#include <mmsim/mutant.h>
#include <mmsim/sched.h>
#include <mmsim/strategy.h>

#include "helpers.h"

#define B	TEST_BASE
#define RW	(PROT_READ | PROT_WRITE)
#define UW	(FAULT_FLAG_USER | FAULT_FLAG_WRITE)

/* --- environment: an spf-srcu mm with two users --------------------------- */

static int spf_setup(void **state)
{
	struct test_env *env;

	if (mm_setup_strategy(state, &spf_srcu_strategy))
		return -1;
	env = *state;
	mmget(env->mm);		/* another thread shares it */
	mmsim_switch_mm(env->mm);
	fault_events_reset();
	return 0;
}

static int spf_teardown(void **state)
{
	struct test_env *env = *state;

	mmsim_set_sched_hook(NULL);
	mmsim_set_mutant("none");
	mmsim_switch_mm(NULL);
	if (env->mm && atomic_load(&env->mm->mm_users) > 1)
		mmput(env->mm);
	return mm_teardown(state);
}

#define SPF_TEST(fn) \
	cmocka_unit_test_setup_teardown(fn, spf_setup, spf_teardown)

/* --- looking at the outcome ----------------------------------------------- */

static unsigned long events[NR_FAULT_EVENTS];

/* Read the counters into events[] and start counting again. */
static void take_events(void)
{
	fault_events_read(events);
	fault_events_reset();
}

/* No abort reason but the expected one (or none) was counted. */
static void __assert_only_abort(unsigned int expect, const char *file,
				int line)
{
	for (int ev = SPF_VMA_CHANGED; ev < NR_FAULT_EVENTS; ev++) {
		if (ev == (int)expect)
			continue;
		if (events[ev])
			fprintf(stderr, "unexpected %s: %lu\n",
				fault_event_name(&spf_srcu_strategy, ev), events[ev]);
		_assert_int_equal(events[ev], 0, file, line);
	}
}
#define assert_only_abort(ev) __assert_only_abort(ev, __FILE__, __LINE__)

/* One fault, handled speculatively. */
#define assert_spf_completed() do {					\
	assert_int_equal(events[FAULT_PAGE_FAULTS], 1);			\
	assert_int_equal(events[SPF_ATTEMPT], 1);			\
	assert_int_equal(events[SPF_COMPLETED], 1);			\
	assert_only_abort(NR_FAULT_EVENTS);				\
} while (0)

/* One fault, given up for reason ev (and then handled the classic way). */
#define assert_spf_aborted(ev) do {					\
	assert_int_equal(events[SPF_ATTEMPT], 1);			\
	assert_int_equal(events[SPF_COMPLETED], 0);			\
	assert_int_equal(events[ev], 1);				\
	assert_only_abort(ev);						\
} while (0)

static struct vm_area_struct *the_vma(struct mm_struct *mm, unsigned long addr)
{
	struct vm_area_struct *vma = vma_at(mm, addr);

	assert_non_null(vma);
	return vma;
}

static struct page *page_of(struct mm_struct *mm, unsigned long addr)
{
	pte_t pte = pte_of(mm, addr);

	assert_true(pte_present(pte));
	return pte_page(pte);
}

/*
 * The hook fires once, on the faulting thread (other CPUs' faults pass
 * the same points), at the event the test chose.
 */
static __thread bool hook_thread;
static enum mmsim_sched_event hook_event;
static void (*hook_action)(const void *vma);
static atomic_int hook_fired;

static void spf_window_hook(enum mmsim_sched_event ev, const void *obj)
{
	if (!hook_thread || ev != hook_event || atomic_load(&hook_fired))
		return;
	atomic_store(&hook_fired, 1);
	hook_action(obj);
}

static void arm_hook(enum mmsim_sched_event ev, void (*action)(const void *))
{
	hook_thread = true;
	hook_event = ev;
	hook_action = action;
	atomic_store(&hook_fired, 0);
	mmsim_set_sched_hook(spf_window_hook);
}

static void disarm_hook(void)
{
	mmsim_set_sched_hook(NULL);
	assert_true(atomic_load(&hook_fired));
}

static vm_fault_t spf(struct mm_struct *mm, unsigned long addr,
		      unsigned int flags)
{
	mmsim_switch_mm(mm);
	return handle_speculative_fault(mm, addr, flags);
}

/*
 * A speculative fault of addr with the scheduling hook armed at ev (the
 * action runs in that window) and, if not NULL, a mutant; the events are
 * then taken.
 */
static vm_fault_t spf_in_window(struct mm_struct *mm, const char *mutant,
				enum mmsim_sched_event ev,
				void (*action)(const void *vma),
				unsigned long addr, unsigned int flags)
{
	vm_fault_t ret;

	if (mutant)
		assert_int_equal(mmsim_set_mutant(mutant), 0);
	arm_hook(ev, action);
	ret = spf(mm, addr, flags);
	disarm_hook();
	mmsim_set_mutant("none");
	take_events();
	return ret;
}

/* Zap pages [start, end) from B (MADV_DONTNEED): the VMA keeps anon_vma. */
static void dontneed(struct mm_struct *mm, unsigned long start,
		     unsigned long end)
{
	assert_int_equal(sys_madvise(mm, PG(B, start),
				     (end - start) << PAGE_SHIFT,
				     MADV_DONTNEED), 0);
}

/* --- faults that complete speculatively ----------------------------------- */

/*
 * The first write prepares the anon_vma and the page table the classic
 * way; the next write in the VMA needs neither and completes without the
 * mmap lock, as a classic fault would have done it.
 */
static void write_fault_completes(void **state)
{
	struct mm_struct *mm = test_mm(state);
	struct vm_area_struct *vma;
	struct page *page0, *page;
	pte_t pte;

	map_anon(mm, B, 0, 4, RW);
	write_ul(mm, PG(B, 0), 1);
	take_events();
	assert_spf_aborted(SPF_VMA_NOANON);

	write_ul(mm, PG(B, 1), 0x1234);
	take_events();
	assert_spf_completed();
	assert_int_equal(read_ul(mm, PG(B, 1)), 0x1234);

	vma = the_vma(mm, PG(B, 1));
	pte = pte_of(mm, PG(B, 1));
	assert_true(pte_write(pte) && pte_dirty(pte));
	page0 = page_of(mm, PG(B, 0));
	page = pte_page(pte);
	assert_true(PageAnon(page) && PageAnonExclusive(page));
	assert_ptr_equal(page->mapping, page0->mapping);
	assert_ptr_equal((char *)page->mapping - PAGE_MAPPING_ANON,
			 vma->anon_vma);
	assert_int_equal(page->index, page0->index + 1);
	assert_int_equal(page_mapcount(page), 1);
	assert_int_equal(page_ref_count(page), 1);
	assert_int_equal(get_mm_counter(mm, MM_ANONPAGES), 2);
	assert_int_equal(validate_mm_pages(&mm, 1), 0);
}

/* A read maps the zero page; a write then copies it, both speculatively. */
static void read_then_write_zero_page(void **state)
{
	struct mm_struct *mm = test_mm(state);
	pte_t pte;

	map_anon(mm, B, 0, 4, RW);
	write_ul(mm, PG(B, 0), 1);
	take_events();

	assert_int_equal(read_ul(mm, PG(B, 2)), 0);
	take_events();
	assert_spf_completed();
	pte = pte_of(mm, PG(B, 2));
	assert_true(pte_special(pte) && !pte_write(pte));
	assert_true(is_zero_page(pte_page(pte)));

	/* do_wp_page -> wp_page_copy from the zero page. */
	write_ul(mm, PG(B, 2), 77);
	take_events();
	assert_spf_completed();
	pte = pte_of(mm, PG(B, 2));
	assert_true(pte_write(pte) && !pte_special(pte));
	assert_false(is_zero_page(pte_page(pte)));
	assert_int_equal(read_ul(mm, PG(B, 2)), 77);
	assert_int_equal(get_mm_counter(mm, MM_ANONPAGES), 2);
	assert_int_equal(validate_mm_pages(&mm, 1), 0);
}

/*
 * After fork the parent's pages are COW: a speculative write copies the
 * page (the child keeps the old data); once the child is gone, a write to
 * a page only the parent maps reuses it in place.
 */
static void cow_after_fork(void **state)
{
	struct mm_struct *mm = test_mm(state);
	struct mm_struct *mms[2];
	struct page *old0, *old1;
	struct mm_struct *child;

	map_anon(mm, B, 0, 4, RW);
	write_ul(mm, PG(B, 0), 10);
	write_ul(mm, PG(B, 1), 11);
	old0 = page_of(mm, PG(B, 0));
	old1 = page_of(mm, PG(B, 1));
	child = dup_mm(mm);
	assert_non_null(child);
	assert_false(pte_write(pte_of(mm, PG(B, 0))));
	take_events();

	write_ul(mm, PG(B, 0), 20);
	take_events();
	assert_spf_completed();
	assert_true(page_of(mm, PG(B, 0)) != old0);
	assert_int_equal(read_ul(mm, PG(B, 0)), 20);
	assert_int_equal(read_ul(child, PG(B, 0)), 10);
	assert_int_equal(page_mapcount(old0), 1);
	mms[0] = mm;
	mms[1] = child;
	assert_int_equal(validate_mm_pages(mms, 2), 0);

	/* The child exits: old1 is the parent's alone. */
	mmput(child);
	mmsim_switch_mm(mm);
	take_events();
	write_ul(mm, PG(B, 1), 21);
	take_events();
	assert_spf_completed();
	assert_ptr_equal(page_of(mm, PG(B, 1)), old1);
	assert_true(PageAnonExclusive(old1));
	assert_int_equal(read_ul(mm, PG(B, 1)), 21);
	assert_int_equal(validate_mm_pages(&mm, 1), 0);
}

/* --- faults that go the classic way --------------------------------------- */

/*
 * The speculative walk never allocates: the first fault in a PMD gives
 * up (spf_pmd_changed) and the classic path allocates the table; the next
 * fault there completes speculatively.
 */
static void __first_fault_in_pmd(struct mm_struct *mm, bool mutant)
{
	unsigned long tables;
	long warnings = mmsim_warnings();

	/* Pages 510..513 from B: across the PMD boundary at page 512. */
	map_anon(mm, B, 510, 514, RW);
	write_ul(mm, PG(B, 510), 1);
	take_events();
	tables = atomic_load(&mm->pgtables_bytes);

	if (mutant)
		assert_int_equal(mmsim_set_mutant("spf-pte-alloc"), 0);
	write_ul(mm, PG(B, 512), 2);
	mmsim_set_mutant("none");
	take_events();
	if (mutant) {
		assert_spf_completed();	/* allocated, no mmap lock */
		/* ...which pagetable_alloc_locked() warns about. */
		assert_int_equal(mmsim_warnings(), warnings + 1);
	} else {
		assert_spf_aborted(SPF_PMD_CHANGED);
		assert_int_equal(mmsim_warnings(), warnings);
	}
	assert_int_equal(atomic_load(&mm->pgtables_bytes), tables + PAGE_SIZE);
	assert_int_equal(read_ul(mm, PG(B, 512)), 2);

	write_ul(mm, PG(B, 513), 3);
	take_events();
	assert_spf_completed();
	assert_int_equal(validate_mm_pages(&mm, 1), 0);
}

static void first_fault_in_pmd(void **state)
{
	__first_fault_in_pmd(test_mm(state), false);
}

/*
 * The mutant spf-pte-alloc allocates the table speculatively: the first
 * fault in a PMD no longer goes the classic way.  The leak it causes, a
 * munmap finishing between the VMA's validation and the walk, is
 * mutant_spf_pte_alloc_leaks_table below.
 */
static void mutant_spf_pte_alloc_visible(void **state)
{
	__first_fault_in_pmd(test_mm(state), true);
}

/*
 * A VMA without anon_vma: the speculative path may not prepare one (it
 * takes the mmap lock's protection), neither for a read nor a write.
 */
static void no_anon_vma(void **state)
{
	struct mm_struct *mm = test_mm(state);

	map_anon(mm, B, 0, 4, RW);
	assert_int_equal(read_ul(mm, PG(B, 0)), 0);
	take_events();
	assert_spf_aborted(SPF_VMA_NOANON);
	assert_null(the_vma(mm, PG(B, 0))->anon_vma);

	write_ul(mm, PG(B, 1), 5);
	take_events();
	assert_spf_aborted(SPF_VMA_NOANON);
	assert_non_null(the_vma(mm, PG(B, 0))->anon_vma);

	write_ul(mm, PG(B, 2), 6);
	take_events();
	assert_spf_completed();
}

/* Shared anonymous memory is shmem: not handled speculatively. */
static void shared_not_supported(void **state)
{
	struct mm_struct *mm = test_mm(state);

	map_shared(mm, B, 0, 2, RW);
	write_ul(mm, PG(B, 0), 7);
	take_events();
	assert_spf_aborted(SPF_VMA_NOTSUP);
	write_ul(mm, PG(B, 1), 8);
	take_events();
	assert_spf_aborted(SPF_VMA_NOTSUP);
	assert_int_equal(read_ul(mm, PG(B, 0)), 7);
}

/*
 * An access the VMA refuses: the speculative path gives up and the
 * classic one delivers the SIGSEGV.
 */
static void access_error_then_sigsegv(void **state)
{
	struct mm_struct *mm = test_mm(state);

	map_anon(mm, B, 0, 4, RW);
	write_ul(mm, PG(B, 0), 1);
	protect_pages(mm, B, 0, 4, PROT_READ);
	take_events();

	assert_int_equal(store_ul(mm, PG(B, 1), 2), SIGSEGV);
	take_events();
	assert_spf_aborted(SPF_VMA_ACCESS);
	assert_true(pte_none(pte_of(mm, PG(B, 1))));

	/* A fetch from a present page of a VMA without VM_EXEC. */
	mmsim_switch_mm(mm);
	assert_int_equal(mmsim_fetch(PG(B, 0)), SIGSEGV);
	take_events();
	assert_spf_aborted(SPF_VMA_ACCESS);

	/* A read is fine, speculatively. */
	assert_int_equal(read_ul(mm, PG(B, 2)), 0);
	take_events();
	assert_spf_completed();
}

/* An mm with one user has nobody to race with: not even tried. */
static void single_user_not_tried(void **state)
{
	struct mm_struct *mm = test_mm(state);

	mmput(mm);		/* back to one user */
	assert_int_equal(atomic_load(&mm->mm_users), 1);
	map_anon(mm, B, 0, 4, RW);
	write_ul(mm, PG(B, 0), 1);
	write_ul(mm, PG(B, 1), 2);
	take_events();
	assert_int_equal(events[FAULT_PAGE_FAULTS], 2);
	assert_int_equal(events[SPF_ATTEMPT], 2);
	assert_int_equal(events[SPF_SINGLE_THREAD], 2);
	assert_int_equal(events[SPF_COMPLETED], 0);
	assert_only_abort(SPF_SINGLE_THREAD);
	assert_int_equal(read_ul(mm, PG(B, 1)), 2);
}

/* --- the PTE lock is busy ------------------------------------------------- */

struct lock_holder {
	spinlock_t *ptl;
	atomic_int holding;
};

/* Another CPU holds the PTE lock until the fault has given up on it. */
static void *hold_pte_lock(void *arg)
{
	struct lock_holder *h = arg;
	unsigned long ev[NR_FAULT_EVENTS];

	spin_lock(h->ptl);
	atomic_store(&h->holding, 1);
	do {
		mmsim_cpu_relax();
		fault_events_read(ev);
	} while (!ev[SPF_PTE_LOCK]);
	spin_unlock(h->ptl);
	return NULL;
}

/*
 * spin_trylock fails (the holder might be waiting for our acknowledgement
 * of a shootdown, race 1): spf_pte_lock, and the classic path, which may
 * wait for the lock, completes the fault.
 */
static void pte_lock_busy(void **state)
{
	struct mm_struct *mm = test_mm(state);
	struct lock_holder h = { 0 };
	pthread_t t;

	map_anon(mm, B, 0, 4, RW);
	write_ul(mm, PG(B, 0), 1);
	take_events();
	h.ptl = pte_lockptr(mm, pmdp_get(mm_find_pmd(mm, PG(B, 0))));
	assert_int_equal(pthread_create(&t, NULL, hold_pte_lock, &h), 0);
	while (!atomic_load(&h.holding))
		sched_yield();

	write_ul(mm, PG(B, 1), 9);
	pthread_join(t, NULL);
	take_events();
	assert_spf_aborted(SPF_PTE_LOCK);
	assert_int_equal(read_ul(mm, PG(B, 1)), 9);
}

/* --- the VMA changes in the window ---------------------------------------- */

static struct mm_struct *remote_mm;

static void remote_munmap(void *arg)
{
	assert_int_equal(sys_munmap(remote_mm, PG(B, 0), 4 * PAGE_SIZE), 0);
}

static void munmap_from_other_cpu(const void *vma)
{
	run_on_other_cpu(remote_munmap, NULL);
}

/*
 * The VMA is unmapped (and freed through call_srcu) between the lookup
 * and its validation: it is dead, and still there to look at because we
 * are inside the SRCU read side (ASan would see a use after free).
 */
static void vma_unmapped_after_lookup(void **state)
{
	struct mm_struct *mm = test_mm(state);

	map_anon(mm, B, 0, 4, RW);
	write_ul(mm, PG(B, 0), 1);
	take_events();
	remote_mm = mm;
	arm_hook(SCHED_FAULT_LOOKUP, munmap_from_other_cpu);
	assert_int_equal(spf(mm, PG(B, 1), UW), VM_FAULT_RETRY);
	disarm_hook();
	take_events();
	assert_spf_aborted(SPF_VMA_CHANGED);
	assert_null(vma_at(mm, PG(B, 1)));
	assert_int_equal(store_ul(mm, PG(B, 1), 1), SIGSEGV);
}

static void remote_write_section(void *vma)
{
	struct mm_struct *mm = ((struct vm_area_struct *)vma)->vm_mm;

	mmap_write_lock(mm);
	vm_write_begin(vma);
	vm_write_end(vma);
	mmap_write_unlock(mm);
}

static void write_section_from_other_cpu(const void *vma)
{
	run_on_other_cpu(remote_write_section, (void *)vma);
}

/*
 * A writer runs a vm_sequence section on the VMA between the first check
 * and the PTE lock: the check under the lock sees it (spf_vma_changed).
 */
static void vma_changed_before_pte_lock(void **state)
{
	struct mm_struct *mm = test_mm(state);

	map_anon(mm, B, 0, 4, RW);
	write_ul(mm, PG(B, 0), 1);
	take_events();
	arm_hook(SCHED_FAULT_PTE, write_section_from_other_cpu);
	assert_int_equal(spf(mm, PG(B, 1), UW), VM_FAULT_RETRY);
	disarm_hook();
	take_events();
	assert_spf_aborted(SPF_VMA_CHANGED);
	assert_true(pte_none(pte_of(mm, PG(B, 1))));
	/* Nothing changed really: the classic path maps it. */
	write_ul(mm, PG(B, 1), 3);
	assert_int_equal(read_ul(mm, PG(B, 1)), 3);
}

static void remote_mprotect_read_only(void *arg)
{
	assert_int_equal(sys_mprotect(remote_mm, PG(B, 0), 4 * PAGE_SIZE,
				      PROT_READ), 0);
}

static void mprotect_from_other_cpu(const void *vma)
{
	run_on_other_cpu(remote_mprotect_read_only, NULL);
}

/*
 * Another CPU makes the VMA read-only between the first vma_has_changed()
 * and the PTE lock (no page is mapped, so mprotect sends no shootdown
 * that our disabled interrupts would block).  The second check, under the
 * lock, sees the new vm_sequence; without it (mutant no-second-vma-check)
 * or without mprotect's write section (no-seq-mprotect), the fault maps a
 * writable PTE, from its snapshot of the old flags, in a read-only VMA.
 */
static void __mprotect_in_window(struct mm_struct *mm, const char *mutant)
{
	bool broken = strcmp(mutant, "none") != 0;
	vm_fault_t ret;
	pte_t pte;

	map_anon(mm, B, 0, 4, RW);
	write_ul(mm, PG(B, 0), 1);
	dontneed(mm, 0, 1);	/* the table and the anon_vma stay */
	take_events();

	remote_mm = mm;
	assert_int_equal(mmsim_set_mutant(mutant), 0);
	arm_hook(SCHED_FAULT_PTE, mprotect_from_other_cpu);
	ret = spf(mm, PG(B, 1), UW);
	disarm_hook();
	mmsim_set_mutant("none");
	take_events();
	assert_int_equal(the_vma(mm, PG(B, 1))->vm_flags & VM_ACCESS_FLAGS,
			 VM_READ);
	pte = pte_of(mm, PG(B, 1));
	if (!broken) {
		assert_int_equal(ret, VM_FAULT_RETRY);
		assert_spf_aborted(SPF_VMA_CHANGED);
		assert_true(pte_none(pte));
		assert_int_equal(store_ul(mm, PG(B, 1), 2), SIGSEGV);
		return;
	}
	/* The damage: a write goes through to a read-only VMA. */
	assert_int_equal(ret, 0);
	assert_int_equal(events[SPF_COMPLETED], 1);
	assert_true(pte_present(pte) && pte_write(pte));
	assert_int_equal(store_ul(mm, PG(B, 1), 2), 0);
	fprintf(stderr, "(problems expected below)\n");
	assert_true(validate_mm_pages(&mm, 1) > 0);
	fprintf(stderr, "(no more problems expected)\n");
	dontneed(mm, 1, 2);	/* so that the teardown finds a sane mm */
}

static void mprotect_in_window(void **state)
{
	__mprotect_in_window(test_mm(state), "none");
}

static void mutant_no_second_vma_check_caught(void **state)
{
	__mprotect_in_window(test_mm(state), "no-second-vma-check");
}

static void mutant_no_seq_mprotect_caught(void **state)
{
	__mprotect_in_window(test_mm(state), "no-seq-mprotect");
}

/* --- the PMD changes in the window ---------------------------------------- */

static struct page *dead_table;

/*
 * A collapse in miniature (docs/races.md race 3): the PMD is pointed at a new
 * copy of its PTE table, the old one left for the test to clean up (a
 * collapse would flush the TLBs and free it).  Run on the faulting CPU
 * after it read the PTE, interrupts on.
 */
static void replace_pte_table(const void *pte)
{
	struct mm_struct *mm = remote_mm;
	pmd_t *pmd = mm_find_pmd(mm, PG(B, 0));
	struct page *table = pagetable_alloc(mm, 1);
	pte_t *from, *to;

	dead_table = pmd_page(pmdp_get(pmd));
	from = page_address(dead_table);
	to = page_address(table);
	for (int i = 0; i < PTRS_PER_PTE; i++)
		set_pte(to + i, ptep_get(from + i));
	set_pmd(pmd, (pmd_t){ _PAGE_TABLE |
			      (page_to_pfn(table) << PAGE_SHIFT) });
}

/* Move what was set in the dead table into the live one, free the dead. */
static void bury_dead_table(struct mm_struct *mm)
{
	pmd_t *pmd = mm_find_pmd(mm, PG(B, 0));
	pte_t *live = page_address(pmd_page(pmdp_get(pmd)));
	pte_t *dead = page_address(dead_table);

	mmap_write_lock(mm);
	for (int i = 0; i < PTRS_PER_PTE; i++) {
		pte_t pte = ptep_get(dead + i);

		if (!pte_none(pte) && pte_none(ptep_get(live + i)))
			set_pte(live + i, pte);
		pte_clear(mm, 0, dead + i);
	}
	pagetable_free(dead_table);
	dead_table = NULL;
	mmap_write_unlock(mm);
	flush_tlb_mm(mm);
}

/*
 * The PMD is replaced between the walk and the PTE lock while the VMA
 * stays as it was: pmd_same() sees it (spf_pmd_changed) and the classic
 * path maps the page in the live table.  Without it (no-pmd-same), the
 * fault "completes" in a table nothing points to: the page is not mapped.
 */
static void __pmd_replaced_in_window(struct mm_struct *mm, bool mutant)
{
	vm_fault_t ret;

	map_anon(mm, B, 0, 4, RW);
	write_ul(mm, PG(B, 0), 1);
	take_events();
	remote_mm = mm;
	ret = spf_in_window(mm, mutant ? "no-pmd-same" : NULL, SCHED_PTE,
			    replace_pte_table, PG(B, 1), UW);
	if (!mutant) {
		assert_int_equal(ret, VM_FAULT_RETRY);
		assert_spf_aborted(SPF_PMD_CHANGED);
		write_ul(mm, PG(B, 1), 4);
		take_events();
		assert_spf_completed();
		assert_int_equal(read_ul(mm, PG(B, 1)), 4);
	} else {
		assert_int_equal(ret, 0);
		assert_int_equal(events[SPF_COMPLETED], 1);
		/* The damage: mapped, counted, and not in the page table. */
		assert_true(pte_none(pte_of(mm, PG(B, 1))));
		assert_int_equal(get_mm_counter(mm, MM_ANONPAGES), 2);
	}
	bury_dead_table(mm);
	assert_int_equal(validate_mm_pages(&mm, 1), 0);
	assert_int_equal(read_ul(mm, PG(B, 0)), 1);
}

static void pmd_replaced_in_window(void **state)
{
	__pmd_replaced_in_window(test_mm(state), false);
}

static void mutant_no_pmd_same_caught(void **state)
{
	__pmd_replaced_in_window(test_mm(state), true);
}

/*
 * MADV_DONTNEED of the whole table's range reclaims the table (pt_reclaim)
 * on another CPU while we are in the SCHED_FAULT_PTE window: past the first
 * pmd_same(), interrupts off, before the PTE lock.  It clears the PMD
 * under the PTE lock and then waits in its TLB flush for our interrupts,
 * so we only wait for the PMD to be cleared; the table is dead but not
 * freed and its lock is free.  The VMA did not change (vm_sequence).
 */
static pthread_t reclaim_tid;
static atomic_int reclaim_done;
static int reclaim_ret;

static void *reclaim_whole_table(void *arg)
{
	reclaim_ret = sys_madvise(remote_mm, B, PMD_SIZE, MADV_DONTNEED);
	atomic_store(&reclaim_done, 1);
	return NULL;
}

static void reclaim_in_window(const void *vma)
{
	pmd_t *pmd = mm_find_pmd(remote_mm, B);
	spinlock_t *ptl = pte_lockptr(remote_mm, pmdp_get(pmd));

	atomic_store(&reclaim_done, 0);
	if (pthread_create(&reclaim_tid, NULL, reclaim_whole_table, NULL))
		abort();
	while (!pmd_none(pmdp_get(pmd)))
		sched_yield();
	/*
	 * The PMD is cleared under the PTE lock, which the zap drops a
	 * little later: wait for that too, or our trylock may still find
	 * it held (spf_pte_lock, not the abort this test is about).
	 */
	while (spin_is_locked(ptl))
		sched_yield();
}

/* Interrupts on again: let the reclaim finish its flush, then join it. */
static void reclaim_join(void)
{
	while (!atomic_load(&reclaim_done))
		mmsim_cpu_relax();
	pthread_join(reclaim_tid, NULL);
	assert_int_equal(reclaim_ret, 0);
}

/*
 * The second pmd_same(), under the PTE lock, sees the table unlinked
 * (spf_pmd_changed) and the classic path maps the page in a new table.
 * Without the checks (no-pmd-same) the fault "completes" in the dead
 * table: counted, mapped by no live PTE, and then freed with the table
 * (a leaked page).  The test keeps the dead table with an RCU read side
 * (tables reclaimed wait for a grace period) to look at it and clean up.
 */
static void __reclaim_in_pte_window(struct mm_struct *mm, bool mutant)
{
	struct page *table;
	pte_t *dead, *live;
	vm_fault_t ret;

	map_anon(mm, B, 0, 512, RW);		/* one whole PTE table */
	write_ul(mm, PG(B, 0), 1);
	take_events();
	table = pmd_page(pmdp_get(mm_find_pmd(mm, B)));
	remote_mm = mm;
	if (mutant)
		assert_int_equal(mmsim_set_mutant("no-pmd-same"), 0);
	rcu_read_lock();
	arm_hook(SCHED_FAULT_PTE, reclaim_in_window);
	ret = spf(mm, PG(B, 1), UW);
	disarm_hook();
	mmsim_set_mutant("none");
	reclaim_join();
	take_events();
	assert_true(pmd_none(pmdp_get(mm_find_pmd(mm, B))));
	dead = (pte_t *)page_address(table) + 1;
	if (!mutant) {
		rcu_read_unlock();
		assert_int_equal(ret, VM_FAULT_RETRY);
		assert_spf_aborted(SPF_PMD_CHANGED);
		assert_int_equal(get_mm_counter(mm, MM_ANONPAGES), 0);
		assert_int_equal(validate_mm_pages(&mm, 1), 0);
		write_ul(mm, PG(B, 1), 4);
		assert_int_equal(read_ul(mm, PG(B, 1)), 4);
		assert_int_equal(read_ul(mm, PG(B, 0)), 0);
		assert_int_equal(validate_mm_pages(&mm, 1), 0);
		return;
	}
	/*
	 * The damage: counted, mapped only in the dead table.  Checked
	 * outside the read side: a failed assertion inside it would leave
	 * it open and hang the teardown's grace period.
	 */
	if (ret != 0 || !pte_present(ptep_get(dead))) {
		rcu_read_unlock();
		assert_int_equal(ret, 0);
		fail_msg("the fault did not map the page in the dead table");
	}
	assert_int_equal(events[SPF_COMPLETED], 1);
	assert_true(pte_none(pte_of(mm, PG(B, 1))));
	assert_int_equal(get_mm_counter(mm, MM_ANONPAGES), 1);
	/* Move it into a live table before the dead one is freed. */
	assert_int_equal(read_ul(mm, PG(B, 2)), 0);
	live = (pte_t *)page_address(pmd_page(pmdp_get(mm_find_pmd(mm, B))));
	mmap_write_lock(mm);
	set_pte(live + 1, ptep_get(dead));
	pte_clear(mm, PG(B, 1), dead);
	mmap_write_unlock(mm);
	rcu_read_unlock();
	assert_int_equal(validate_mm_pages(&mm, 1), 0);
}

static void reclaim_in_pte_window(void **state)
{
	__reclaim_in_pte_window(test_mm(state), false);
}

static void mutant_no_pmd_same_reclaim_caught(void **state)
{
	__reclaim_in_pte_window(test_mm(state), true);
}

/*
 * munmap finishes on another CPU between the validation of the VMA and
 * the walk (SCHED_FAULT_WALK, interrupts on): free_pgtables() frees the
 * tables of the range.  The walk finds no PMD and gives up.  A walk that
 * allocates (spf-pte-alloc) hangs new tables where no VMA is, which
 * nothing would free before the mm's end (the stress run reports it).
 */
static void remote_munmap_all(void *arg)
{
	assert_int_equal(sys_munmap(remote_mm, B, 4 * PAGE_SIZE), 0);
}

static void unmap_in_walk_window(const void *vma)
{
	run_on_other_cpu(remote_munmap_all, NULL);
}

static void __munmap_before_walk(struct mm_struct *mm, bool mutant)
{
	long bytes0 = atomic_load(&mm->pgtables_bytes);
	vm_fault_t ret;

	map_anon(mm, B, 0, 4, RW);
	write_ul(mm, PG(B, 0), 1);
	take_events();
	remote_mm = mm;
	ret = spf_in_window(mm, mutant ? "spf-pte-alloc" : NULL, SCHED_FAULT_WALK,
			    unmap_in_walk_window, PG(B, 1), UW);
	assert_int_equal(ret, VM_FAULT_RETRY);
	assert_null(vma_at(mm, B));
	if (!mutant) {
		assert_spf_aborted(SPF_PMD_CHANGED);
		assert_int_equal(atomic_load(&mm->pgtables_bytes), bytes0);
		assert_null(mm_find_pmd(mm, B));
		return;
	}
	/* The damage: tables under no VMA (the fault saw the VMA go). */
	assert_spf_aborted(SPF_VMA_CHANGED);
	assert_true(atomic_load(&mm->pgtables_bytes) > bytes0);
	assert_false(pmd_none(pmdp_get(mm_find_pmd(mm, B))));
	/* A VMA there again, and its munmap, free them. */
	map_anon(mm, B, 0, 4, RW);
	unmap_pages(mm, B, 0, 4);
	assert_int_equal(atomic_load(&mm->pgtables_bytes), bytes0);
}

static void munmap_before_walk(void **state)
{
	__munmap_before_walk(test_mm(state), false);
}

static void mutant_spf_pte_alloc_leaks_table(void **state)
{
	__munmap_before_walk(test_mm(state), true);
}

/* --- the PTE changes in the window ---------------------------------------- */

static struct page *other_page;

static void remote_write(void *arg)
{
	assert_int_equal(store_ul(remote_mm, PG(B, 1), 0xaaaa), 0);
}

/* Another CPU faults the same page in, and we note which page it got. */
static void fault_from_other_cpu(const void *vma)
{
	run_on_other_cpu(remote_write, NULL);
	other_page = pte_page(pte_of(remote_mm, PG(B, 1)));
}

/*
 * Another CPU maps the page and writes to it between our read of the PTE
 * (none) and our PTE lock.  The final pte_none() under the lock sees it,
 * we drop our page and its write stands.  Without the check
 * (no-final-pte-same) our zeroed page replaces it: its write is lost and
 * its page leaks, still counted as mapped.
 */
static void __pte_set_in_window(struct mm_struct *mm, bool mutant)
{
	struct vm_area_struct *vma;
	vm_fault_t ret;

	map_anon(mm, B, 0, 4, RW);
	write_ul(mm, PG(B, 0), 1);
	take_events();
	remote_mm = mm;
	ret = spf_in_window(mm, mutant ? "no-final-pte-same" : NULL, SCHED_FAULT_PTE,
			    fault_from_other_cpu, PG(B, 1), UW);
	/* Both faults completed: the other CPU's, then ours. */
	assert_int_equal(ret, 0);
	assert_int_equal(events[SPF_COMPLETED], 2);
	if (!mutant) {
		assert_ptr_equal(page_of(mm, PG(B, 1)), other_page);
		assert_int_equal(read_ul(mm, PG(B, 1)), 0xaaaa);
		assert_int_equal(get_mm_counter(mm, MM_ANONPAGES), 2);
		assert_int_equal(validate_mm_pages(&mm, 1), 0);
		return;
	}
	/* The damage: the other CPU's write is gone, its page leaked. */
	assert_true(page_of(mm, PG(B, 1)) != other_page);
	assert_int_equal(read_ul(mm, PG(B, 1)), 0);
	assert_int_equal(page_mapcount(other_page), 1);
	assert_int_equal(get_mm_counter(mm, MM_ANONPAGES), 3);
	fprintf(stderr, "(problems expected below)\n");
	assert_true(validate_mm_pages(&mm, 1) > 0);
	fprintf(stderr, "(no more problems expected)\n");
	/* Undo the leak, so that the teardown finds every frame. */
	vma = the_vma(mm, PG(B, 1));
	page_remove_rmap(other_page, vma);
	put_page(other_page);
	dec_mm_counter(mm, MM_ANONPAGES);
}

static void pte_set_in_window(void **state)
{
	__pte_set_in_window(test_mm(state), false);
}

static void mutant_no_final_pte_same_caught(void **state)
{
	__pte_set_in_window(test_mm(state), true);
}

/* --- zapping writes vm_sequence when it is the only writer ---------------- */

static unsigned int vm_seq(struct vm_area_struct *vma)
{
	return raw_read_seqcount(&vma->vm_sequence);
}

/*
 * unmap_page_range() brackets its zap with vm_write_begin/end (patch 04)
 * when no other writer can run: under the mmap write lock.  Under the read
 * lock (MADV_DONTNEED, which two threads may run at once on one VMA) it
 * leaves the count alone.  The mutant no-seq-unmap never writes it.
 */
static void __zap_writes_vm_sequence(struct mm_struct *mm, bool mutant)
{
	struct vm_area_struct *vma;
	unsigned int seq;

	map_anon(mm, B, 0, 4, RW);
	write_ul(mm, PG(B, 0), 1);
	write_ul(mm, PG(B, 1), 2);
	vma = the_vma(mm, PG(B, 0));

	seq = vm_seq(vma);
	mmap_read_lock(mm);
	zap_page_range_single(vma, PG(B, 0), PAGE_SIZE);
	mmap_read_unlock(mm);
	assert_int_equal(vm_seq(vma), seq);

	if (mutant)
		assert_int_equal(mmsim_set_mutant("no-seq-unmap"), 0);
	mmap_write_lock(mm);
	zap_page_range_single(vma, PG(B, 1), PAGE_SIZE);
	mmap_write_unlock(mm);
	mmsim_set_mutant("none");
	assert_true(pte_none(pte_of(mm, PG(B, 1))));
	assert_int_equal(vm_seq(vma), mutant ? seq : seq + 2);
}

static void zap_writes_vm_sequence(void **state)
{
	__zap_writes_vm_sequence(test_mm(state), false);
}

static void mutant_no_seq_unmap_caught(void **state)
{
	__zap_writes_vm_sequence(test_mm(state), true);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		SPF_TEST(write_fault_completes),
		SPF_TEST(read_then_write_zero_page),
		SPF_TEST(cow_after_fork),
		SPF_TEST(first_fault_in_pmd),
		SPF_TEST(mutant_spf_pte_alloc_visible),
		SPF_TEST(no_anon_vma),
		SPF_TEST(shared_not_supported),
		SPF_TEST(access_error_then_sigsegv),
		SPF_TEST(single_user_not_tried),
		SPF_TEST(pte_lock_busy),
		SPF_TEST(vma_unmapped_after_lookup),
		SPF_TEST(vma_changed_before_pte_lock),
		SPF_TEST(mprotect_in_window),
		SPF_TEST(mutant_no_second_vma_check_caught),
		SPF_TEST(mutant_no_seq_mprotect_caught),
		SPF_TEST(pmd_replaced_in_window),
		SPF_TEST(mutant_no_pmd_same_caught),
		SPF_TEST(reclaim_in_pte_window),
		SPF_TEST(mutant_no_pmd_same_reclaim_caught),
		SPF_TEST(munmap_before_walk),
		SPF_TEST(mutant_spf_pte_alloc_leaks_table),
		SPF_TEST(pte_set_in_window),
		SPF_TEST(mutant_no_final_pte_same_caught),
		SPF_TEST(zap_writes_vm_sequence),
		SPF_TEST(mutant_no_seq_unmap_caught),
	};

	mem_init_default();
	return cmocka_run_group_tests(tests, NULL, NULL);
}

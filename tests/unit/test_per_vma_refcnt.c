// SPDX-License-Identifier: MIT
/*
 * Unit tests for per-vma-refcnt (src/strategy/per_vma_refcnt.c, Linux
 * 6.15's vm_refcnt): the reference-count protocol and the VMA cache that
 * is type-safe by RCU.  Every test runs on an mm of that strategy shared
 * by two users, calling the strategy's lockless_fault() directly, and
 * reads the outcome from vm_refcnt, the page tables and the events.
 *
 *   situation                            expected
 *   write, anon_vma there                vma_lock_success, refcount 1 after
 *   a writer while a fault holds it      the writer waits for the reader
 *   VMA unmapped after the walk          vma_lock_miss (count 0), then abort
 *   VMA freed and reused by another mm   vma_lock_abort, the other mm untouched
 *   munmap then mmap                     the same object again, count 0 -> 1
 *
 * The windows are forced with the scheduling hook, as in test_spf.c.
 * The mutant no-vm-mm-check (race 13) is shown doing its damage: the
 * fault of one mm maps a page in another mm's page tables.
 */
#include <sched.h>
#include <time.h>

#include <mmsim/mutant.h>
#include <mmsim/sched.h>
#include <mmsim/strategy.h>

#include "helpers.h"

#define B	TEST_BASE
#define RW	(PROT_READ | PROT_WRITE)
#define UW	(FAULT_FLAG_USER | FAULT_FLAG_WRITE)

#define VMA_LOCK_OFFSET	0x40000000

extern const struct fault_strategy per_vma_refcnt_strategy;
#define S	(&per_vma_refcnt_strategy)

/*
 * vm_refcnt, the first field of the strategy's part of a VMA (struct
 * pvr_vma): the tests look at the protocol from outside.
 */
static int refcnt(struct vm_area_struct *vma)
{
	return atomic_load((atomic_int *)vma_strategy_private(vma));
}

/* --- environment: a per-vma-refcnt mm with two users ------------------------ */

static int pvr_setup(void **state)
{
	struct test_env *env;

	if (mm_setup_strategy(state, S))
		return -1;
	env = *state;
	mmget(env->mm);		/* another thread shares it */
	mmsim_switch_mm(env->mm);
	fault_events_reset();
	return 0;
}

static int pvr_teardown(void **state)
{
	struct test_env *env = *state;

	mmsim_set_sched_hook(NULL);
	mmsim_set_mutant("none");
	mmsim_switch_mm(NULL);
	if (env->mm && atomic_load(&env->mm->mm_users) > 1)
		mmput(env->mm);
	return mm_teardown(state);
}

#define PVR_TEST(fn) \
	cmocka_unit_test_setup_teardown(fn, pvr_setup, pvr_teardown)

static unsigned long events[NR_FAULT_EVENTS];

static void take_events(void)
{
	fault_events_read(events);
	fault_events_reset();
}

static vm_fault_t fault(struct mm_struct *mm, unsigned long addr,
			unsigned int flags)
{
	mmsim_switch_mm(mm);
	return S->lockless_fault(mm, addr, flags);
}

static struct vm_area_struct *the_vma(struct mm_struct *mm, unsigned long addr)
{
	struct vm_area_struct *vma = vma_at(mm, addr);

	assert_non_null(vma);
	return vma;
}

/*
 * The hook fires once, on the faulting thread, at the first point where
 * cond() holds (every point passes through it).
 */
static __thread bool hook_thread;
static bool (*hook_cond)(enum mmsim_sched_event ev, const void *obj);
static void (*hook_action)(const void *obj);
static atomic_int hook_fired;

static void pvr_hook(enum mmsim_sched_event ev, const void *obj)
{
	if (!hook_thread || atomic_load(&hook_fired) || !hook_cond(ev, obj))
		return;
	atomic_store(&hook_fired, 1);
	hook_action(obj);
}

static void arm_hook(bool (*cond)(enum mmsim_sched_event, const void *),
		     void (*action)(const void *))
{
	hook_thread = true;
	hook_cond = cond;
	hook_action = action;
	atomic_store(&hook_fired, 0);
	mmsim_set_sched_hook(pvr_hook);
}

static void disarm_hook(void)
{
	mmsim_set_sched_hook(NULL);
	hook_thread = false;
	assert_true(atomic_load(&hook_fired));
}

static bool at_lookup(enum mmsim_sched_event ev, const void *obj)
{
	return ev == SCHED_FAULT_LOOKUP;
}

/* --- the fault under the reference ------------------------------------------ */

/*
 * A write in a VMA with its anon_vma is handled under the reference: the
 * count is 1 (attached) before and after.
 */
static void write_fault_succeeds(void **state)
{
	struct mm_struct *mm = test_mm(state);
	struct vm_area_struct *vma;

	map_anon(mm, B, 0, 4, RW);
	write_ul(mm, PG(B, 0), 1);	/* the anon_vma, the mmap lock's way */
	vma = the_vma(mm, PG(B, 0));
	assert_int_equal(refcnt(vma), 1);
	take_events();
	assert_int_equal(fault(mm, PG(B, 1), UW), 0);
	take_events();
	assert_int_equal(events[VMA_LOCK_SUCCESS], 1);
	assert_int_equal(events[VMA_LOCK_ABORT] + events[VMA_LOCK_RETRY] + events[VMA_LOCK_MISS], 0);
	assert_true(pte_present(pte_of(mm, PG(B, 1))));
	assert_int_equal(refcnt(vma), 1);
}

/* No anon_vma yet: the mmap lock's way (6.15 would try vmf_anon_prepare). */
static void no_anon_vma_aborts(void **state)
{
	struct mm_struct *mm = test_mm(state);

	map_anon(mm, B, 0, 4, RW);
	take_events();
	assert_int_equal(fault(mm, PG(B, 1), UW), VM_FAULT_RETRY);
	take_events();
	assert_int_equal(events[VMA_LOCK_ABORT], 1);
	assert_int_equal(refcnt(the_vma(mm, PG(B, 0))), 1);
}

/* --- a writer waits for the reader ------------------------------------------- */

static struct vm_area_struct *held_vma;
static struct mm_struct *remote_mm;
static atomic_int writer_done;

static void *remote_mprotect(void *arg)
{
	assert_int_equal(sys_mprotect(remote_mm, PG(B, 0), 4 * PAGE_SIZE,
				      PROT_READ), 0);
	mmsim_switch_mm(NULL);
	atomic_store(&writer_done, 1);
	return NULL;
}

static bool reader_holds(enum mmsim_sched_event ev, const void *obj)
{
	return refcnt(held_vma) == 2;
}

/*
 * Inside the fault, holding the VMA (count 2): an mprotect on another CPU
 * adds the writer's offset and waits; it cannot finish while we hold it.
 */
static void start_writer(const void *obj)
{
	pthread_t t;
	struct timespec ts = { 0, 50 * 1000 * 1000 };

	assert_int_equal(pthread_create(&t, NULL, remote_mprotect, NULL), 0);
	pthread_detach(t);
	while (refcnt(held_vma) != VMA_LOCK_OFFSET + 2)
		mmsim_cpu_relax();
	nanosleep(&ts, NULL);
	assert_int_equal(atomic_load(&writer_done), 0);
	assert_int_equal(refcnt(held_vma), VMA_LOCK_OFFSET + 2);
}

static void writer_waits_for_reader(void **state)
{
	struct mm_struct *mm = test_mm(state);

	map_anon(mm, B, 0, 4, RW);
	write_ul(mm, PG(B, 0), 1);
	held_vma = the_vma(mm, PG(B, 0));
	remote_mm = mm;
	atomic_store(&writer_done, 0);
	take_events();
	arm_hook(reader_holds, start_writer);
	assert_int_equal(fault(mm, PG(B, 1), UW), 0);
	disarm_hook();
	/* Our reference gone, the writer goes on (it may flush our TLB). */
	while (!atomic_load(&writer_done))
		mmsim_cpu_relax();
	take_events();
	assert_int_equal(events[VMA_LOCK_SUCCESS], 1);
	assert_int_equal(refcnt(held_vma), 1);
	assert_int_equal(store_ul(mm, PG(B, 1), 2), SIGSEGV);
}

/* --- detached, and recycled ------------------------------------------------- */

static void remote_munmap(void *arg)
{
	assert_int_equal(sys_munmap(remote_mm, PG(B, 0), 4 * PAGE_SIZE), 0);
}

static void munmap_from_other_cpu(const void *vma)
{
	run_on_other_cpu(remote_munmap, NULL);
	/* Freed to the cache at once, and still readable. */
	assert_ptr_equal(vma, held_vma);
	assert_int_equal(refcnt(held_vma), 0);
}

/*
 * The VMA is unmapped between the walk and vma_start_read(): its count is
 * 0, the reader cannot take it, looks again (vma_lock_miss), finds
 * nothing and gives up.
 */
static void detached_vma_not_locked(void **state)
{
	struct mm_struct *mm = test_mm(state);

	map_anon(mm, B, 0, 4, RW);
	write_ul(mm, PG(B, 0), 1);
	held_vma = the_vma(mm, PG(B, 0));
	remote_mm = mm;
	take_events();
	arm_hook(at_lookup, munmap_from_other_cpu);
	assert_int_equal(fault(mm, PG(B, 1), UW), VM_FAULT_RETRY);
	disarm_hook();
	take_events();
	assert_int_equal(events[VMA_LOCK_MISS], 1);
	assert_int_equal(events[VMA_LOCK_ABORT], 1);
	assert_int_equal(events[VMA_LOCK_SUCCESS], 0);
	assert_int_equal(refcnt(held_vma), 0);
	assert_null(vma_at(mm, PG(B, 1)));
}

/* Freed objects are reused at once, with their count at 0 until linked. */
static void objects_reused(void **state)
{
	struct mm_struct *mm = test_mm(state);
	struct vm_area_struct *old, *vma;

	map_anon(mm, B, 0, 4, RW);
	old = the_vma(mm, PG(B, 0));
	assert_int_equal(sys_munmap(mm, PG(B, 0), 4 * PAGE_SIZE), 0);
	assert_int_equal(refcnt(old), 0);
	vma = vm_area_alloc(mm);
	assert_ptr_equal(vma, old);
	assert_int_equal(refcnt(vma), 0);
	vm_area_free(vma);
	map_anon(mm, B, 8, 10, RW);
	assert_ptr_equal(the_vma(mm, PG(B, 8)), old);
	assert_int_equal(refcnt(old), 1);
}

static struct mm_struct *other_mm;

/*
 * In the window: our VMA is unmapped, and another mm maps the same range
 * at once, which reuses the object, and writes in it (its anon_vma).
 */
static void recycle_for_other_mm(void *arg)
{
	assert_int_equal(sys_munmap(remote_mm, PG(B, 0), 4 * PAGE_SIZE), 0);
	assert_int_equal(sys_mmap(other_mm, PG(B, 0), 4 * PAGE_SIZE, RW,
				  MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED,
				  NULL, 0), PG(B, 0));
	write_ul(other_mm, PG(B, 0), 7);
}

static void recycle_from_other_cpu(const void *vma)
{
	run_on_other_cpu(recycle_for_other_mm, NULL);
	/* Not the other mm's first fault (an abort: no anon_vma yet). */
	fault_events_reset();
	assert_ptr_equal(vma_at(other_mm, PG(B, 0)), held_vma);
	assert_int_equal(refcnt(held_vma), 1);
}

/*
 * Race 13: between the walk and vma_start_read(), the VMA is freed and
 * reused by another mm, attached there with the same range.  The reader
 * takes the reference (count 1, attached), and must see vm_mm is not its
 * mm.  Returns whether the fault mapped page 1 in the other mm.
 */
static bool __recycled_in_window(struct mm_struct *mm, bool mutant)
{
	bool damage;

	map_anon(mm, B, 0, 4, RW);
	write_ul(mm, PG(B, 0), 1);
	held_vma = the_vma(mm, PG(B, 0));
	remote_mm = mm;
	other_mm = mm_alloc_strategy(4, S);
	assert_non_null(other_mm);
	take_events();
	if (mutant)
		assert_int_equal(mmsim_set_mutant("no-vm-mm-check"), 0);
	arm_hook(at_lookup, recycle_from_other_cpu);
	(void)fault(mm, PG(B, 1), UW);
	disarm_hook();
	mmsim_set_mutant("none");
	take_events();
	damage = pte_present(pte_of(other_mm, PG(B, 1)));
	if (!mutant) {
		assert_int_equal(events[VMA_LOCK_ABORT], 1);
		assert_int_equal(events[VMA_LOCK_SUCCESS] + events[VMA_LOCK_MISS], 0);
	}
	assert_int_equal(refcnt(held_vma), 1);
	assert_int_equal(validate_mm(other_mm), 0);
	mmsim_switch_mm(NULL);
	mmput(other_mm);
	mmsim_switch_mm(mm);
	return damage;
}

static void recycled_vma_refused(void **state)
{
	assert_false(__recycled_in_window(test_mm(state), false));
	assert_null(vma_at(test_mm(state), PG(B, 1)));
}

/* The mutant locks the other mm's VMA and faults a page into it. */
static void mutant_no_vm_mm_check_caught(void **state)
{
	assert_true(__recycled_in_window(test_mm(state), true));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		PVR_TEST(write_fault_succeeds),
		PVR_TEST(no_anon_vma_aborts),
		PVR_TEST(writer_waits_for_reader),
		PVR_TEST(detached_vma_not_locked),
		PVR_TEST(objects_reused),
		PVR_TEST(recycled_vma_refused),
		PVR_TEST(mutant_no_vm_mm_check_caught),
	};

	mem_init_default();
	return cmocka_run_group_tests(tests, NULL, NULL);
}

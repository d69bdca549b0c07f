// SPDX-License-Identifier: MIT
/*
 * A fault-locking strategy defined outside mmsim's tree, against an
 * installed mmsim (public headers <mmsim/...> and libmmsim_core only),
 * and registered at run time with fault_strategy_register()
 * (docs/adding-a-strategy.md, "Outside the tree").
 *
 * "classic-rcu": faults take the classic path (no lockless_fault), but a
 * VMA that leaves the tree is freed only after an RCU grace period, as a
 * strategy whose lockless readers look at VMAs under rcu_read_lock()
 * would need.  It shows each part of a strategy an author writes:
 *
 *  - the freeing rule (vma_free: the file now, the memory after a grace
 *    period, with vma_put_file() and __vm_area_free());
 *  - private state in every mm (a count of the VMAs it was given to free,
 *    mm_private_size, mm_strategy_private(), mm_init, mm_exit) and in
 *    every VMA (a marker set by vma_init, checked when the VMA goes);
 *  - one event, "vma_freed_deferred" (count_fault_event());
 *  - one mutant of its own, "free-at-once", which frees without the
 *    grace period.
 *
 * The program registers it, checks the registry (find, -EEXIST for the
 * same name again, -EINVAL for a strategy fault_strategy_check()
 * refuses), runs an mm with it (map, fault, split, merge, unmap, and a
 * mapping left for exit), and checks that the event count, the private
 * counter and the callbacks that ran agree, that the mutant frees at
 * once, and that every frame is free at the end.  Exit status 0 when all
 * of that holds, 1 if not.
 */
#include <errno.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <mmsim/cpu.h>
#include <mmsim/mm.h>
#include <mmsim/mutant.h>
#include <mmsim/page.h>
#include <mmsim/rcupdate.h>
#include <mmsim/strategy.h>

/* --- the strategy ---------------------------------------------------------- */

/* Its event slots: from FAULT_STRATEGY_EVENTS on (slot 0 is page faults). */
enum {
	CRCU_VMA_FREED_DEFERRED = FAULT_STRATEGY_EVENTS,
	NR_CRCU_EVENTS
};

static const char *const crcu_event_names[] = {
	[CRCU_VMA_FREED_DEFERRED - FAULT_STRATEGY_EVENTS] = "vma_freed_deferred",
};

/* Its own mutant: applies to this strategy alone. */
static const struct mmsim_mutant_desc crcu_mutants[] = {
	{ "free-at-once", "classic-rcu frees VMAs without an RCU grace period" },
};

/* Its part of every mm ... */
struct crcu_mm {
	atomic_ulong vmas_freed;	/* VMAs given to vma_free */
};

/* ... and of every VMA. */
#define CRCU_VMA_MAGIC	0xc1a551cU
struct crcu_vma {
	unsigned int magic;		/* set by vma_init */
};

static const struct fault_strategy classic_rcu;

/* What the program checks once the mms are gone. */
static atomic_ulong crcu_callbacks;	/* RCU callbacks that freed a VMA */
static atomic_ulong crcu_exit_total;	/* vmas_freed of every mm, at mm_exit */
static atomic_ulong crcu_bad_private;	/* VMAs whose private part was wrong */

static int crcu_mm_init(struct mm_struct *mm)
{
	struct crcu_mm *p = mm_strategy_private(mm);

	atomic_init(&p->vmas_freed, 0);
	return 0;
}

/* The mm is empty and unreachable: report its count. */
static void crcu_mm_exit(struct mm_struct *mm)
{
	struct crcu_mm *p = mm_strategy_private(mm);

	atomic_fetch_add(&crcu_exit_total, atomic_load(&p->vmas_freed));
}

/* A new VMA, or a copy (whose private part is not copied). */
static void crcu_vma_init(struct vm_area_struct *vma)
{
	struct crcu_vma *v = vma_strategy_private(vma);

	v->magic = CRCU_VMA_MAGIC;
}

static void crcu_free_rcu(struct rcu_head *head)
{
	struct vm_area_struct *vma = (struct vm_area_struct *)
		((char *)head - offsetof(struct vm_area_struct, vm_rcu));

	atomic_fetch_add(&crcu_callbacks, 1);
	/* The mm may be gone by now: name the strategy, not vma->vm_mm's. */
	__vm_area_free(&classic_rcu, vma);
}

/*
 * vma is out of the tree and was reachable: drop its file now, its memory
 * after every RCU reader that could have found it is gone.  The caller
 * holds the mmap lock, or owns the dying mm: vma->vm_mm is still valid.
 */
static void crcu_vma_free(struct vm_area_struct *vma)
{
	struct crcu_mm *p = mm_strategy_private(vma->vm_mm);
	struct crcu_vma *v = vma_strategy_private(vma);

	if (v->magic != CRCU_VMA_MAGIC)
		atomic_fetch_add(&crcu_bad_private, 1);
	atomic_fetch_add(&p->vmas_freed, 1);
	vma_put_file(vma);
	if (mmsim_mutant_active(&crcu_mutants[0])) {
		__vm_area_free(&classic_rcu, vma);	/* the bug */
		return;
	}
	count_fault_event(CRCU_VMA_FREED_DEFERRED);
	call_rcu(&vma->vm_rcu, crcu_free_rcu);
}

static const struct fault_strategy classic_rcu = {
	.name = "classic-rcu",
	.help = "classic faults, VMAs freed after an RCU grace period (example)",
	.mm_private_size = sizeof(struct crcu_mm),
	.vma_private_size = sizeof(struct crcu_vma),
	.mm_init = crcu_mm_init,
	.mm_exit = crcu_mm_exit,
	.vma_init = crcu_vma_init,
	.vma_free = crcu_vma_free,
	.events = crcu_event_names,
	.nr_events = NR_CRCU_EVENTS - FAULT_STRATEGY_EVENTS,
	.mutants = crcu_mutants,
	.nr_mutants = sizeof(crcu_mutants) / sizeof(crcu_mutants[0]),
};

/* Refused by fault_strategy_check(): no vma_free. */
static const struct fault_strategy broken = {
	.name = "broken",
};

/* --- the program ----------------------------------------------------------- */

static int failures;

#define CHECK(cond) do {						\
	if (!(cond)) {							\
		fprintf(stderr, "%s:%d: check failed: %s\n",		\
			__FILE__, __LINE__, #cond);			\
		failures++;						\
	}								\
} while (0)

static unsigned long deferred_events(void)
{
	unsigned long ev[NR_FAULT_EVENTS];

	fault_events_read(ev);
	return ev[CRCU_VMA_FREED_DEFERRED];
}

static unsigned long mm_vmas_freed(struct mm_struct *mm)
{
	struct crcu_mm *p = mm_strategy_private(mm);

	return atomic_load(&p->vmas_freed);
}

/*
 * One life of an mm of classic_rcu: map 4 pages, fault 2 of them in,
 * split the VMA in 3 (mprotect of page 1), merge it back (2 VMAs freed),
 * unmap it (1 more), and leave a second mapping for mmput() (1 more).
 * Returns the VMAs freed before mmput(), or 0 on failure.
 */
static unsigned long one_mm(void)
{
	unsigned long len = 4 * PAGE_SIZE, addr, addr2, freed;
	unsigned char in = 0xff, out = 0x5a;
	struct mm_struct *mm;

	mm = mm_alloc_strategy(4, &classic_rcu);
	CHECK(mm != NULL);
	if (!mm)
		return 0;
	CHECK(mm->strategy == &classic_rcu);
	mmsim_switch_mm(mm);

	addr = sys_mmap(mm, 0, len, PROT_READ | PROT_WRITE,
			MAP_PRIVATE | MAP_ANONYMOUS, NULL, 0);
	/* Executable too, so that it cannot merge with the first. */
	addr2 = sys_mmap(mm, 0, PAGE_SIZE, PROT_READ | PROT_WRITE | PROT_EXEC,
			 MAP_PRIVATE | MAP_ANONYMOUS, NULL, 0);
	CHECK(!IS_ERR_VALUE(addr) && !IS_ERR_VALUE(addr2));
	if (IS_ERR_VALUE(addr) || IS_ERR_VALUE(addr2))
		return 0;
	CHECK(mm->map_count == 2);

	/* Faults: the classic path (this strategy has no lockless one). */
	CHECK(mmsim_store(addr, &out, 1) == 0);
	CHECK(mmsim_store(addr + 3 * PAGE_SIZE, &out, 1) == 0);
	CHECK(mmsim_store(addr2, &out, 1) == 0);
	CHECK(mmsim_load(addr + 3 * PAGE_SIZE, &in, 1) == 0 && in == 0x5a);

	/* Split in three: nothing leaves the tree for good. */
	CHECK(sys_mprotect(mm, addr + PAGE_SIZE, PAGE_SIZE, PROT_READ) == 0);
	CHECK(mm->map_count == 4);
	CHECK(mm_vmas_freed(mm) == 0);
	CHECK(mmsim_store(addr + PAGE_SIZE, &out, 1) == SIGSEGV);

	/* Merged back into one: the two VMAs swallowed go to vma_free. */
	CHECK(sys_mprotect(mm, addr + PAGE_SIZE, PAGE_SIZE,
			   PROT_READ | PROT_WRITE) == 0);
	CHECK(mm->map_count == 2);
	CHECK(mm_vmas_freed(mm) == 2);

	/* Unmapped: one more; the data went with it. */
	CHECK(sys_munmap(mm, addr, len) == 0);
	CHECK(mmsim_load(addr, &in, 1) == SIGSEGV);
	CHECK(mm_vmas_freed(mm) == 3);
	CHECK(validate_mm_verbose(mm, stderr) == 0);
	freed = mm_vmas_freed(mm);

	/* addr2's VMA goes with the mm (exit_mmap), then mm_exit runs. */
	mmsim_switch_mm(NULL);
	mmput(mm);
	return freed;
}

int main(void)
{
	unsigned long free_before, events_before, freed;
	const char *why;

	if (mem_init(64UL << 20, 0) || mmsim_cpu_attach() < 0) {
		fprintf(stderr, "cannot set up the simulated machine\n");
		return 1;
	}

	/* The registry: new, found, not twice, and nothing broken. */
	CHECK(fault_strategy_find("classic-rcu") == NULL);
	CHECK(fault_strategy_check(&classic_rcu) == NULL);
	CHECK(fault_strategy_register(&classic_rcu) == 0);
	CHECK(fault_strategy_find("classic-rcu") == &classic_rcu);
	CHECK(fault_strategy_register(&classic_rcu) == -EEXIST);
	why = fault_strategy_check(&broken);
	CHECK(why && !strcmp(why, "no vma_free"));
	CHECK(fault_strategy_register(&broken) == -EINVAL);
	CHECK(fault_strategy_find("broken") == NULL);

	/* Its mutant is known by name, and applies to it alone. */
	CHECK(fault_strategy_has_mutant(&classic_rcu, "free-at-once"));
	CHECK(!fault_strategy_has_mutant(&classic_strategy, "free-at-once"));
	CHECK(!fault_strategy_has_mutant(&classic_rcu, "no-grace-period"));

	/* The correct code: every VMA freed after a grace period. */
	free_before = nr_free_pages();
	events_before = deferred_events();
	freed = one_mm();
	CHECK(freed == 3);
	rcu_barrier();		/* every callback queued so far has run */
	CHECK(atomic_load(&crcu_exit_total) == freed + 1);
	CHECK(deferred_events() - events_before == freed + 1);
	CHECK(atomic_load(&crcu_callbacks) == freed + 1);
	CHECK(atomic_load(&crcu_bad_private) == 0);
	CHECK(nr_free_pages() == free_before);

	/* The mutant: the same life, no VMA waits for a grace period. */
	CHECK(mmsim_set_mutant("free-at-once") == 0);
	CHECK(mmsim_mutant_active(&crcu_mutants[0]));
	events_before = deferred_events();
	freed = one_mm();
	rcu_barrier();
	CHECK(freed == 3);
	CHECK(deferred_events() == events_before);
	CHECK(atomic_load(&crcu_callbacks) == 4);	/* none new */
	CHECK(atomic_load(&crcu_exit_total) == 8);
	CHECK(nr_free_pages() == free_before);
	CHECK(mmsim_set_mutant("none") == 0);

	mmsim_cpu_detach();

	if (failures) {
		fprintf(stderr, "strategy_demo: %d check(s) failed\n",
			failures);
		return 1;
	}
	printf("strategy_demo: strategy classic-rcu registered; %lu VMAs "
	       "freed after a grace period, %lu at once with its mutant; "
	       "all checks passed\n", atomic_load(&crcu_callbacks),
	       atomic_load(&crcu_exit_total) - atomic_load(&crcu_callbacks));
	return 0;
}

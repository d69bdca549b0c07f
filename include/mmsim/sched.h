/* SPDX-License-Identifier: MIT */
/*
 * The scheduling hook.  Every primitive (lock, unlock, trylock, seqcount
 * begin/retry, RCU read side, IPI send and receive, page-table entry
 * access on the fault path) calls mmsim_sched_point() with what it is
 * about to do.  Today the hook is empty unless a test installs one (to
 * inject delays into race windows); a deterministic scheduler will take
 * the turn here, so these are exactly the points where it can switch CPUs.
 */
#ifndef MMSIM_SCHED_H
#define MMSIM_SCHED_H

enum mmsim_sched_event {
	SCHED_LOCK,		/* about to acquire a lock */
	SCHED_TRYLOCK,		/* about to try a lock (spin, rwlock, rwsem) */
	SCHED_UNLOCK,		/* released a lock */
	SCHED_SPIN,		/* one turn of a wait loop */
	SCHED_SEQ,		/* seqcount read (every one) or write */
	SCHED_RCU,		/* RCU/SRCU read-side boundary */
	SCHED_IPI,		/* sent or handled an IPI */
	SCHED_PTE,		/* page-table entry read/write on a fault path */
	/*
	 * The race windows of a lockless fault, any strategy's (obj: the
	 * VMA); the stress test injects its delays here.
	 */
	SCHED_FAULT_LOOKUP,	/* between the lockless lookup and validation */
	SCHED_FAULT_WALK,	/* between validation and the page-table walk */
	SCHED_FAULT_PTE,	/* between reading the PTE and locking it */
	SCHED_FAULT_FINAL,	/* before the final pte_same() under the lock */
	SCHED_NR_EVENTS
};

typedef void (*mmsim_sched_hook_t)(enum mmsim_sched_event ev, const void *obj);

/* NULL (the default) means: no hook. */
extern mmsim_sched_hook_t mmsim_sched_hook;

void mmsim_set_sched_hook(mmsim_sched_hook_t hook);

static inline void mmsim_sched_point(enum mmsim_sched_event ev, const void *obj)
{
	mmsim_sched_hook_t hook = __atomic_load_n(&mmsim_sched_hook,
						  __ATOMIC_RELAXED);

	if (__builtin_expect(hook != 0, 0))
		hook(ev, obj);
}

#endif /* MMSIM_SCHED_H */

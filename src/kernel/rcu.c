// SPDX-License-Identifier: MIT
/*
 * RCU on liburcu's memb flavour (SRCU, on the same flavour, is srcu.c),
 * with the ThreadSanitizer annotations liburcu 0.13 lacks (see
 * <mmsim/rcupdate.h> and docs/testing-notes.md): every read-side
 * unlock releases a token that every grace-period end and every callback
 * acquires, which is the happens-before edge RCU guarantees and TSan
 * cannot see.
 */
#define _LGPL_SOURCE
#include <stddef.h>
#include <urcu/urcu-memb.h>

#include <mmsim/cpu.h>
#include <mmsim/sched.h>

/* liburcu maps the generic names to its flavour: we define our own. */
#undef rcu_read_lock
#undef rcu_read_unlock
#undef synchronize_rcu
#undef call_rcu
#undef rcu_barrier

#include "kernel/bug.h"
#include "kernel/rcu_internal.h"

static char rcu_gp_token;

void mmsim_rcu_register_thread(void)
{
	urcu_memb_register_thread();
}

void mmsim_rcu_unregister_thread(void)
{
	urcu_memb_unregister_thread();
}

void rcu_read_lock(void)
{
	/* Readers must be registered: make sure this thread is a CPU. */
	(void)this_cpu();
	mmsim_sched_point(SCHED_RCU, &rcu_gp_token);
	urcu_memb_read_lock();
}

void rcu_read_unlock(void)
{
	rcu_tsan_release(&rcu_gp_token);
	urcu_memb_read_unlock();
	mmsim_sched_point(SCHED_RCU, &rcu_gp_token);
}

bool rcu_read_lock_held(void)
{
	return urcu_memb_read_ongoing();
}

void synchronize_rcu(void)
{
	(void)this_cpu();
	urcu_memb_synchronize_rcu();
	rcu_tsan_acquire(&rcu_gp_token);
}

static void mmsim_rcu_callback(struct rcu_head *urcu)
{
	struct mmsim_rcu_head *head = caa_container_of(urcu,
					struct mmsim_rcu_head, urcu);

	rcu_tsan_acquire(&rcu_gp_token);
	rcu_tsan_acquire(head);		/* liburcu's queue is invisible to TSan */
	head->func(head);
}

void call_rcu(struct mmsim_rcu_head *head,
	      void (*func)(struct mmsim_rcu_head *head))
{
	head->func = func;
	rcu_tsan_release(head);
	urcu_memb_call_rcu(&head->urcu, mmsim_rcu_callback);
}

struct rcu_barrier_marker {
	struct mmsim_rcu_head head;
	atomic_int done;
};

static void rcu_barrier_marker_fn(struct mmsim_rcu_head *head)
{
	struct rcu_barrier_marker *m = caa_container_of(head,
					struct rcu_barrier_marker, head);

	atomic_store_explicit(&m->done, 1, memory_order_release);
}

/*
 * Wait for every callback queued so far, call_srcu()'s too (they run on
 * the same worker: stronger than the kernel's rcu_barrier, and a test
 * waits for every deferred free at once).  mmsim queues every callback on
 * liburcu's default worker, which runs them in order, so a marker queued
 * last has run only after all of them.  (urcu_memb_barrier() would do,
 * but its internal bookkeeping is invisible to TSan and reported as
 * races.)
 */
void rcu_barrier(void)
{
	struct rcu_barrier_marker m;

	atomic_init(&m.done, 0);
	srcu_flush_batch();
	call_rcu(&m.head, rcu_barrier_marker_fn);
	while (!atomic_load_explicit(&m.done, memory_order_acquire))
		mmsim_cpu_relax();
}

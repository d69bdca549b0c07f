/* SPDX-License-Identifier: MIT */
/*
 * What rcu.c (RCU) and srcu.c (SRCU), both on liburcu's memb flavour,
 * share: the layout of a callback as liburcu queues it, and the
 * ThreadSanitizer annotations liburcu 0.13 lacks
 * (docs/testing-notes.md).  Include after <urcu/urcu-memb.h>,
 * which defines liburcu's struct rcu_head; not with <mmsim/rcupdate.h>,
 * which defines ours.
 */
#ifndef MMSIM_KERNEL_RCU_INTERNAL_H
#define MMSIM_KERNEL_RCU_INTERNAL_H

#ifdef MMSIM_TSAN
#include <sanitizer/tsan_interface.h>
#define rcu_tsan_release(a)	__tsan_release(a)
#define rcu_tsan_acquire(a)	__tsan_acquire(a)
#else
#define rcu_tsan_release(a)	do { } while (0)
#define rcu_tsan_acquire(a)	do { } while (0)
#endif

/*
 * Our struct rcu_head (see the public header) begins with liburcu's, so
 * liburcu queues it; the user's callback follows.
 */
struct mmsim_rcu_head {
	struct rcu_head urcu;
	void (*func)(struct mmsim_rcu_head *head);
};

struct srcu_struct {
	const char *name;
};

/* rcu.c's API, as this side of the header sees struct rcu_head. */
void rcu_read_lock(void);
void rcu_read_unlock(void);
void synchronize_rcu(void);
void call_rcu(struct mmsim_rcu_head *head,
	      void (*func)(struct mmsim_rcu_head *head));
void rcu_barrier(void);

/* Queue call_srcu()'s waiting batch now (srcu.c). */
void srcu_flush_batch(void);

#endif /* MMSIM_KERNEL_RCU_INTERNAL_H */

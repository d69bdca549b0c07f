// SPDX-License-Identifier: MIT
/*
 * SRCU (<linux/srcu.h>) on liburcu's memb flavour.  liburcu has no SRCU:
 * an srcu_struct is a domain of its own name whose readers are memb RCU
 * readers (which may sleep, as SRCU readers may) and whose grace periods
 * are memb grace periods.  This is stronger than SRCU (an SRCU grace
 * period waits only for that domain's readers) and never weaker.
 *
 * call_srcu() batches.  A memb grace period that finds a reader inside
 * its section waits for it with membarrier(), which interrupts every CPU
 * thread, and each read_unlock of any reader then wakes it to look
 * again; readers of the kernel's SRCU are never disturbed so.  With a VMA
 * freed at every munmap, one grace period per callback cost page_fault1
 * at 2 CPUs about 5% under spf-srcu (README, "Measured").  So
 * callbacks wait here until SRCU_BATCH of them do, or until the oldest
 * has waited SRCU_BATCH_MS when another comes, and then go to liburcu as
 * one.  They run later than they could, never sooner: a callback is
 * queued to liburcu, which starts its grace period, only after call_srcu
 * returned.  srcu_barrier() and rcu_barrier() queue a waiting batch
 * first.  The kernel batches kfree_rcu() the same way, for the same
 * reason.
 */
#define _LGPL_SOURCE
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <time.h>
#include <urcu/urcu-memb.h>

#undef rcu_read_lock
#undef rcu_read_unlock
#undef synchronize_rcu
#undef call_rcu
#undef rcu_barrier

#include "kernel/bug.h"
#include "kernel/rcu_internal.h"

#define SRCU_BATCH	64
#define SRCU_BATCH_MS	500

/*
 * The callbacks that wait, oldest first, chained through their own
 * liburcu link (free until liburcu queues them), under srcu_batch_lock.
 * A pthread mutex: call_srcu() may come from a thread that is not a
 * simulated CPU, and this lock is no kernel lock.
 */
static pthread_mutex_t srcu_batch_lock = PTHREAD_MUTEX_INITIALIZER;
static struct mmsim_rcu_head *srcu_batch_first, *srcu_batch_last;
static unsigned int srcu_batch_nr;
static long long srcu_batch_since_ms;

/* One liburcu callback for a batch. */
struct srcu_batch {
	struct mmsim_rcu_head head;
	struct mmsim_rcu_head *first;
};

static struct mmsim_rcu_head *batch_next(struct mmsim_rcu_head *head)
{
	return (struct mmsim_rcu_head *)head->urcu.next.next;
}

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
	return ts.tv_sec * 1000LL + ts.tv_nsec / 1000000;
}

/* After a grace period: run the batch's callbacks in the order queued. */
static void srcu_batch_run(struct mmsim_rcu_head *head)
{
	struct srcu_batch *batch = caa_container_of(head, struct srcu_batch,
						    head);
	struct mmsim_rcu_head *cb = batch->first, *next;

	free(batch);
	for (; cb; cb = next) {
		next = batch_next(cb);
		rcu_tsan_acquire(cb);	/* call_srcu() released it */
		cb->func(cb);
	}
}

/* Hand the chain from first to liburcu, as one callback if we can. */
static void srcu_queue_batch(struct mmsim_rcu_head *first)
{
	struct srcu_batch *batch = malloc(sizeof(*batch));
	struct mmsim_rcu_head *next;

	if (batch) {
		batch->first = first;
		call_rcu(&batch->head, srcu_batch_run);
		return;
	}
	/* No memory for the batch: each callback on its own, as it came. */
	for (; first; first = next) {
		next = batch_next(first);
		call_rcu(first, first->func);
	}
}

/* Take the waiting chain if it is due (or if force); NULL if none. */
static struct mmsim_rcu_head *srcu_take_batch(bool force)
{
	struct mmsim_rcu_head *first = NULL;

	if (srcu_batch_nr && (force || srcu_batch_nr >= SRCU_BATCH ||
			      now_ms() - srcu_batch_since_ms >= SRCU_BATCH_MS)) {
		first = srcu_batch_first;
		srcu_batch_first = srcu_batch_last = NULL;
		srcu_batch_nr = 0;
	}
	return first;
}

void srcu_flush_batch(void)
{
	struct mmsim_rcu_head *first;

	pthread_mutex_lock(&srcu_batch_lock);
	first = srcu_take_batch(true);
	pthread_mutex_unlock(&srcu_batch_lock);
	if (first)
		srcu_queue_batch(first);
}

int init_srcu_struct(struct srcu_struct *ssp)
{
	if (!ssp->name)
		ssp->name = "srcu";
	return 0;
}

void cleanup_srcu_struct(struct srcu_struct *ssp)
{
	rcu_barrier();
}

int srcu_read_lock(struct srcu_struct *ssp)
{
	rcu_read_lock();
	return 0;
}

void srcu_read_unlock(struct srcu_struct *ssp, int idx)
{
	BUG_ON(idx != 0);
	rcu_read_unlock();
}

void synchronize_srcu(struct srcu_struct *ssp)
{
	synchronize_rcu();
}

void call_srcu(struct srcu_struct *ssp, struct mmsim_rcu_head *head,
	       void (*func)(struct mmsim_rcu_head *head))
{
	struct mmsim_rcu_head *first;

	head->func = func;
	head->urcu.next.next = NULL;
	rcu_tsan_release(head);
	pthread_mutex_lock(&srcu_batch_lock);
	if (srcu_batch_last)
		srcu_batch_last->urcu.next.next = (void *)head;
	else
		srcu_batch_first = head;
	srcu_batch_last = head;
	if (srcu_batch_nr++ == 0)
		srcu_batch_since_ms = now_ms();
	first = srcu_take_batch(false);
	pthread_mutex_unlock(&srcu_batch_lock);
	if (first)
		srcu_queue_batch(first);
}

void srcu_barrier(struct srcu_struct *ssp)
{
	rcu_barrier();		/* queues the waiting batch first */
}

/* SPDX-License-Identifier: MIT */
/*
 * RCU and SRCU (<linux/rcupdate.h>, <linux/srcu.h>) on liburcu's memb
 * flavour.
 *
 * liburcu 0.13 is invisible to ThreadSanitizer (inline asm, volatile), so
 * this layer adds the annotations of docs/testing-notes.md once:
 * a release of a token at every read-side unlock, an acquire of it after
 * every grace period and at the top of every callback.  Publication uses
 * release stores and acquire loads (rcu_assign_pointer/rcu_dereference).
 *
 * SRCU: liburcu has no SRCU; an srcu_struct is a domain of its own name
 * whose readers are memb RCU readers (which may sleep, as SRCU readers
 * may) and whose grace periods are memb grace periods.  This is stronger
 * than SRCU (an SRCU grace period waits only for that domain's readers)
 * and never weaker.
 *
 * Every thread that reads under RCU must be registered; a simulated CPU
 * registers itself when it comes online.
 */
#ifndef MMSIM_RCUPDATE_H
#define MMSIM_RCUPDATE_H

#include <stdbool.h>

/* Same layout as liburcu's struct rcu_head, plus the user's callback. */
struct rcu_head {
	struct {
		void *next;
		void (*func)(void *);
	} __urcu;
	void (*func)(struct rcu_head *head);
};

void rcu_read_lock(void);
void rcu_read_unlock(void);
/* Is this thread inside a read side (RCU or SRCU)?  As lockdep's. */
bool rcu_read_lock_held(void);
void synchronize_rcu(void);
void call_rcu(struct rcu_head *head, void (*func)(struct rcu_head *head));
/* Wait until every callback queued so far has run. */
void rcu_barrier(void);
void mmsim_rcu_register_thread(void);
void mmsim_rcu_unregister_thread(void);

#define rcu_assign_pointer(p, v) __atomic_store_n(&(p), (v), __ATOMIC_RELEASE)
#define rcu_dereference(p)	 __atomic_load_n(&(p), __ATOMIC_ACQUIRE)
#define rcu_access_pointer(p)	 __atomic_load_n(&(p), __ATOMIC_RELAXED)

struct srcu_struct {
	const char *name;
};

#define DEFINE_SRCU(x) struct srcu_struct x = { #x }
int init_srcu_struct(struct srcu_struct *ssp);
void cleanup_srcu_struct(struct srcu_struct *ssp);
int srcu_read_lock(struct srcu_struct *ssp);
void srcu_read_unlock(struct srcu_struct *ssp, int idx);
void synchronize_srcu(struct srcu_struct *ssp);
void call_srcu(struct srcu_struct *ssp, struct rcu_head *head,
	       void (*func)(struct rcu_head *head));
void srcu_barrier(struct srcu_struct *ssp);

#endif /* MMSIM_RCUPDATE_H */

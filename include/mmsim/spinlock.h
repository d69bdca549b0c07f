/* SPDX-License-Identifier: MIT */
/*
 * spinlock_t and rwlock_t (<linux/spinlock.h>, <linux/rwlock.h>).
 *
 * A spinlock is an atomic compare-and-swap loop.  It records its owner
 * (the simulated CPU) so that lockdep_assert_held() can check it, and each
 * CPU keeps the list of locks it holds and the lock it spins on, so that
 * the watchdog can say why a CPU is stuck.  The spin loop is a wait loop
 * of the simulated machine: while this CPU's interrupts are enabled it
 * services pending IPIs, as a real CPU takes interrupts while it spins.
 * With interrupts disabled it does not, which is what makes the deadlock
 * of docs/races.md race 1 real.
 */
#ifndef MMSIM_SPINLOCK_H
#define MMSIM_SPINLOCK_H

#include <stdatomic.h>
#include <stdbool.h>
#include <mmsim/irqflags.h>

typedef struct spinlock {
	atomic_int locked;		/* 0: free, 1: held */
	atomic_int owner;		/* holder's CPU id + 1, 0 when free */
	const char *name;		/* lock class, for reports */
} spinlock_t;

#define __SPIN_LOCK_UNLOCKED(lockname) { 0, 0, #lockname }
#define DEFINE_SPINLOCK(x) spinlock_t x = __SPIN_LOCK_UNLOCKED(x)

void __spin_lock_init(spinlock_t *lock, const char *name);
#define spin_lock_init(lock) __spin_lock_init((lock), #lock)

void spin_lock(spinlock_t *lock);
int spin_trylock(spinlock_t *lock);		/* 1 when taken */
void spin_unlock(spinlock_t *lock);
bool spin_is_locked(spinlock_t *lock);
/* Does the calling CPU hold lock? */
bool spin_is_held_by_me(spinlock_t *lock);

static inline void spin_lock_irq(spinlock_t *lock)
{
	local_irq_disable();
	spin_lock(lock);
}

static inline void spin_unlock_irq(spinlock_t *lock)
{
	spin_unlock(lock);
	local_irq_enable();
}

#define spin_lock_irqsave(lock, flags) \
	do { local_irq_save(flags); spin_lock(lock); } while (0)
#define spin_unlock_irqrestore(lock, flags) \
	do { spin_unlock(lock); local_irq_restore(flags); } while (0)

/*
 * rwlock_t: readers share, one writer excludes all.  Waiters spin as on a
 * spinlock (servicing IPIs while interrupts are enabled).
 */
typedef struct {
	atomic_int cnt;			/* bit 0: writer; readers count by 2 */
	atomic_int owner;		/* writer's CPU id + 1 */
	const char *name;
} rwlock_t;

#define __RW_LOCK_UNLOCKED(lockname) { 0, 0, #lockname }
#define DEFINE_RWLOCK(x) rwlock_t x = __RW_LOCK_UNLOCKED(x)
void __rwlock_init(rwlock_t *lock, const char *name);
#define rwlock_init(lock) __rwlock_init((lock), #lock)
void read_lock(rwlock_t *lock);
int read_trylock(rwlock_t *lock);
void read_unlock(rwlock_t *lock);
void write_lock(rwlock_t *lock);
int write_trylock(rwlock_t *lock);
void write_unlock(rwlock_t *lock);

struct rw_semaphore;
void __lockdep_assert_spin_held(spinlock_t *lock, const char *file, int line);
void __lockdep_assert_rwlock_held(rwlock_t *lock, const char *file, int line);
void __lockdep_assert_rwsem_held(struct rw_semaphore *sem, const char *file,
				 int line);

/*
 * lockdep_assert_held(lock): the calling CPU holds lock (a spinlock, the
 * write side of an rwlock_t, or an rw_semaphore in any mode).  Stops the
 * run otherwise, as lockdep would warn.
 */
#define lockdep_assert_held(l) _Generic((l),				\
	spinlock_t *: __lockdep_assert_spin_held,			\
	rwlock_t *: __lockdep_assert_rwlock_held,			\
	struct rw_semaphore *: __lockdep_assert_rwsem_held)((l), __FILE__, __LINE__)

#endif /* MMSIM_SPINLOCK_H */

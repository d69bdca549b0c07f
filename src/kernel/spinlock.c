// SPDX-License-Identifier: MIT
/*
 * spinlock_t: a test-and-test-and-set loop on one atomic word.
 *
 * The owner is the simulated CPU (not the host thread), recorded for
 * lockdep_assert_held() and for the watchdog's report, together with the
 * per-CPU list of held locks.  Spinning is a wait loop of the machine:
 * mmsim_cpu_relax() services pending IPIs while interrupts are enabled.
 */
#include <mmsim/cpu.h>
#include <mmsim/sched.h>
#include <mmsim/spinlock.h>

#include "kernel/bug.h"

void __spin_lock_init(spinlock_t *lock, const char *name)
{
	atomic_init(&lock->locked, 0);
	atomic_init(&lock->owner, 0);
	lock->name = name;
}

static inline bool spin_try_acquire(spinlock_t *lock)
{
	int unlocked = 0;

	return atomic_compare_exchange_strong_explicit(&lock->locked,
			&unlocked, 1, memory_order_acquire,
			memory_order_relaxed);
}

static void spin_acquired(spinlock_t *lock, struct mmsim_cpu *cpu, bool try)
{
	atomic_store_explicit(&lock->owner, cpu->cpu + 1, memory_order_relaxed);
	if (try)
		mmsim_lock_acquired_trylock(lock, lock->name);
	else
		mmsim_lock_acquired(lock, lock->name);
}

int spin_trylock(spinlock_t *lock)
{
	mmsim_sched_point(SCHED_TRYLOCK, lock);
	if (atomic_load_explicit(&lock->locked, memory_order_relaxed) ||
	    !spin_try_acquire(lock))
		return 0;
	spin_acquired(lock, this_cpu(), true);
	return 1;
}

void spin_lock(spinlock_t *lock)
{
	struct mmsim_cpu *cpu = this_cpu();

	mmsim_sched_point(SCHED_LOCK, lock);
	if (likely(spin_try_acquire(lock)))
		goto out;
	/* Taking a lock this CPU already holds can only deadlock. */
	BUG_ON(atomic_load_explicit(&lock->owner, memory_order_relaxed) ==
	       cpu->cpu + 1);
	mmsim_wait_begin(lock, "spinlock");
	do {
		mmsim_cpu_relax();
	} while (atomic_load_explicit(&lock->locked, memory_order_relaxed) ||
		 !spin_try_acquire(lock));
	mmsim_wait_end();
out:
	spin_acquired(lock, cpu, false);
}

void spin_unlock(spinlock_t *lock)
{
	BUG_ON(!atomic_load_explicit(&lock->locked, memory_order_relaxed));
	mmsim_lock_released(lock);
	atomic_store_explicit(&lock->owner, 0, memory_order_relaxed);
	atomic_store_explicit(&lock->locked, 0, memory_order_release);
	mmsim_sched_point(SCHED_UNLOCK, lock);
}

bool spin_is_locked(spinlock_t *lock)
{
	return atomic_load_explicit(&lock->locked, memory_order_relaxed);
}

bool spin_is_held_by_me(spinlock_t *lock)
{
	return spin_is_locked(lock) &&
	       atomic_load_explicit(&lock->owner, memory_order_relaxed) ==
	       this_cpu()->cpu + 1;
}

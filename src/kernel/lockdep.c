// SPDX-License-Identifier: MIT
/*
 * lockdep_assert_held() for each kind of lock: the calling CPU must hold
 * it.  A failed assertion stops the run with the lock's name, as lockdep's
 * warning would point at the caller.
 */
#include <stdio.h>

#include <mmsim/cpu.h>
#include <mmsim/rwsem.h>
#include <mmsim/spinlock.h>

#include "kernel/bug.h"

static void lockdep_fail(const char *kind, const char *name, const void *lock,
			 const char *file, int line)
{
	char what[160];

	snprintf(what, sizeof(what), "lockdep_assert_held(%s %s @%p)", kind,
		 name ? name : "?", lock);
	__mmsim_bug(file, line, what);
}

void __lockdep_assert_spin_held(spinlock_t *lock, const char *file, int line)
{
	if (!spin_is_held_by_me(lock))
		lockdep_fail("spinlock", lock->name, lock, file, line);
}

void __lockdep_assert_rwlock_held(rwlock_t *lock, const char *file, int line)
{
	int cnt = atomic_load_explicit(&lock->cnt, memory_order_relaxed);
	int owner = atomic_load_explicit(&lock->owner, memory_order_relaxed);

	/* A writer must be us; readers are not tracked by owner. */
	if (!cnt || ((cnt & 1) && owner != smp_processor_id() + 1))
		lockdep_fail("rwlock", lock->name, lock, file, line);
}

void __lockdep_assert_rwsem_held(struct rw_semaphore *sem, const char *file,
				 int line)
{
	if (!rwsem_is_locked(sem))
		lockdep_fail("rw_semaphore", "", sem, file, line);
}

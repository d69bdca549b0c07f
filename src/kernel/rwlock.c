// SPDX-License-Identifier: MIT
/*
 * rwlock_t: readers add 2 to the count, a writer sets bit 0 when the count
 * is zero.  A waiting writer does not block new readers (the kernel's
 * qrwlock lets readers in interrupt context through; mmsim keeps the
 * simple reader-preferring form).  Waiters spin in mmsim_cpu_relax().
 */
#include <mmsim/cpu.h>
#include <mmsim/sched.h>
#include <mmsim/spinlock.h>

#include "kernel/bug.h"

#define RW_WRITER	1
#define RW_READER	2

void __rwlock_init(rwlock_t *lock, const char *name)
{
	atomic_init(&lock->cnt, 0);
	atomic_init(&lock->owner, 0);
	lock->name = name;
}

static int __read_trylock(rwlock_t *lock)
{
	int c = atomic_load_explicit(&lock->cnt, memory_order_relaxed);

	mmsim_sched_point(SCHED_LOCK, lock);
	while (!(c & RW_WRITER)) {
		if (atomic_compare_exchange_weak_explicit(&lock->cnt, &c,
				c + RW_READER, memory_order_acquire,
				memory_order_relaxed))
			return 1;
	}
	return 0;
}

int read_trylock(rwlock_t *lock)
{
	if (!__read_trylock(lock))
		return 0;
	mmsim_lock_acquired_trylock(lock, lock->name);
	return 1;
}

void read_lock(rwlock_t *lock)
{
	if (!__read_trylock(lock)) {
		mmsim_wait_begin(lock, "rwlock (read)");
		do {
			mmsim_cpu_relax();
		} while (!__read_trylock(lock));
		mmsim_wait_end();
	}
	mmsim_lock_acquired(lock, lock->name);
}

void read_unlock(rwlock_t *lock)
{
	mmsim_lock_released(lock);
	atomic_fetch_sub_explicit(&lock->cnt, RW_READER, memory_order_release);
	mmsim_sched_point(SCHED_UNLOCK, lock);
}

static int __write_trylock(rwlock_t *lock)
{
	int c = 0;

	mmsim_sched_point(SCHED_LOCK, lock);
	if (!atomic_compare_exchange_strong_explicit(&lock->cnt, &c, RW_WRITER,
			memory_order_acquire, memory_order_relaxed))
		return 0;
	atomic_store_explicit(&lock->owner, smp_processor_id() + 1,
			      memory_order_relaxed);
	return 1;
}

int write_trylock(rwlock_t *lock)
{
	if (!__write_trylock(lock))
		return 0;
	mmsim_lock_acquired_trylock(lock, lock->name);
	return 1;
}

void write_lock(rwlock_t *lock)
{
	if (!__write_trylock(lock)) {
		mmsim_wait_begin(lock, "rwlock (write)");
		do {
			mmsim_cpu_relax();
		} while (atomic_load_explicit(&lock->cnt, memory_order_relaxed) ||
			 !__write_trylock(lock));
		mmsim_wait_end();
	}
	mmsim_lock_acquired(lock, lock->name);
}

void write_unlock(rwlock_t *lock)
{
	BUG_ON(!(atomic_load_explicit(&lock->cnt, memory_order_relaxed) &
		 RW_WRITER));
	mmsim_lock_released(lock);
	atomic_store_explicit(&lock->owner, 0, memory_order_relaxed);
	atomic_fetch_sub_explicit(&lock->cnt, RW_WRITER, memory_order_release);
	mmsim_sched_point(SCHED_UNLOCK, lock);
}

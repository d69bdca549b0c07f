// SPDX-License-Identifier: MIT
/*
 * Reader/writer semaphore on one atomic word (see <mmsim/rwsem.h>).
 *
 * Waiters spin in mmsim_cpu_relax() (which yields the host core now and
 * then) instead of blocking in the host kernel: a thread blocked on a futex under TSan never runs a pending signal
 * handler, and the simulated machine delivers IPIs as signals.
 *
 * A waiter is a sleeping task, though: its CPU is in lazy TLB mode while
 * it waits (enter_lazy_tlb), as an idle x86 CPU is, so TLB shootdowns
 * that free no page table do not wait for it; it flushes on waking.
 */
#include <sched.h>
#include <stdint.h>
#include <pthread.h>

#include <mmsim/cpu.h>
#include <mmsim/mutant.h>
#include <mmsim/rwsem.h>
#include <mmsim/sched.h>
#include <mmsim/tlb.h>

/* Distinct per thread, never 0: the address of a thread-local. */
static __thread char rwsem_thread_token;

static long current_token(void)
{
	return (long)(uintptr_t)&rwsem_thread_token;
}

void __init_rwsem(struct rw_semaphore *sem, const char *name)
{
	sem->name = name;
	atomic_init(&sem->count, 0);
	atomic_init(&sem->writers_waiting, 0);
	atomic_init(&sem->readers_waiting, 0);
	atomic_init(&sem->readers_granted, 0);
	atomic_init(&sem->owner, 0);
}

/* A reader that waited got in: one grant of the readers' turn is used. */
static void rwsem_take_grant(struct rw_semaphore *sem)
{
	int g = atomic_load_explicit(&sem->readers_granted,
				     memory_order_relaxed);

	while (g > 0 &&
	       !atomic_compare_exchange_weak_explicit(&sem->readers_granted,
			&g, g - 1, memory_order_relaxed, memory_order_relaxed))
		;
}

/*
 * A reader gets in when no writer holds the lock and none waits, or, if
 * it waited (waited), during the readers' turn a writer left behind.
 */
static int __down_read_trylock_waited(struct rw_semaphore *sem, bool waited)
{
	long c = atomic_load_explicit(&sem->count, memory_order_relaxed);

	while (!(c & RWSEM_WRITER_LOCKED)) {
		if (atomic_load_explicit(&sem->writers_waiting,
					 memory_order_relaxed) &&
		    !(waited && atomic_load_explicit(&sem->readers_granted,
						     memory_order_relaxed)))
			return 0;
		if (atomic_compare_exchange_weak_explicit(&sem->count, &c,
				c + RWSEM_READER_BIAS, memory_order_acquire,
				memory_order_relaxed)) {
			if (waited)
				rwsem_take_grant(sem);
			return 1;
		}
	}
	return 0;
}

static int __down_read_trylock(struct rw_semaphore *sem)
{
	return __down_read_trylock_waited(sem, false);
}

int down_read_trylock(struct rw_semaphore *sem)
{
	mmsim_sched_point(SCHED_TRYLOCK, sem);
	if (!__down_read_trylock(sem))
		return 0;
	mmsim_lock_acquired_trylock(sem, sem->name);
	return 1;
}

/*
 * Sleeping on the mmap lock is a wait loop of the simulated machine: it
 * services IPIs (a CPU asleep in down_read still answers TLB shootdowns).
 */
void down_read(struct rw_semaphore *sem)
{
	mmsim_sched_point(SCHED_LOCK, sem);
	if (!__down_read_trylock(sem)) {
		mmsim_wait_begin(sem, "rw_semaphore (read)");
		atomic_fetch_add_explicit(&sem->readers_waiting, 1,
					  memory_order_relaxed);
		enter_lazy_tlb();
		do {
			mmsim_cpu_relax();
		} while (!__down_read_trylock_waited(sem, true));
		leave_lazy_tlb();
		atomic_fetch_sub_explicit(&sem->readers_waiting, 1,
					  memory_order_relaxed);
		mmsim_wait_end();
	}
	mmsim_lock_acquired(sem, sem->name);
}

void up_read(struct rw_semaphore *sem)
{
	mmsim_lock_released(sem);
	atomic_fetch_sub_explicit(&sem->count, RWSEM_READER_BIAS,
				  memory_order_release);
	mmsim_sched_point(SCHED_UNLOCK, sem);
}

/*
 * Take the free lock, then look whether it is the readers' turn (after
 * the acquire, so that the turn a writer left before releasing is seen)
 * and give it back if so.
 */
static int __down_write_trylock(struct rw_semaphore *sem)
{
	long c = 0;

	if (!atomic_compare_exchange_strong_explicit(&sem->count, &c,
			RWSEM_WRITER_LOCKED, memory_order_acquire,
			memory_order_relaxed))
		return 0;
	if (atomic_load_explicit(&sem->readers_granted, memory_order_relaxed)) {
		atomic_fetch_sub_explicit(&sem->count, RWSEM_WRITER_LOCKED,
					  memory_order_release);
		return 0;
	}
	atomic_store_explicit(&sem->owner, current_token(),
			      memory_order_relaxed);
	return 1;
}

/*
 * A writer leaves: the readers waiting now go before the next writer.
 * No turn is open while a writer holds the lock (it got in with none),
 * so this is the only writer of readers_granted but the readers' takes.
 */
static void rwsem_grant_readers(struct rw_semaphore *sem)
{
	if (mmsim_mutant_is(MUTANT_RWSEM_NO_READER_TURN))
		return;
	atomic_store_explicit(&sem->readers_granted,
			      atomic_load_explicit(&sem->readers_waiting,
						   memory_order_relaxed),
			      memory_order_relaxed);
}

int down_write_trylock(struct rw_semaphore *sem)
{
	mmsim_sched_point(SCHED_TRYLOCK, sem);
	if (!__down_write_trylock(sem))
		return 0;
	mmsim_lock_acquired_trylock(sem, sem->name);
	return 1;
}

void down_write(struct rw_semaphore *sem)
{
	mmsim_sched_point(SCHED_LOCK, sem);
	if (__down_write_trylock(sem))
		goto out;
	/* Queue: from now on new readers wait behind us (writer fairness). */
	atomic_fetch_add_explicit(&sem->writers_waiting, 1, memory_order_relaxed);
	mmsim_wait_begin(sem, "rw_semaphore (write)");
	enter_lazy_tlb();
	do {
		mmsim_cpu_relax();
	} while (!__down_write_trylock(sem));
	leave_lazy_tlb();
	mmsim_wait_end();
	atomic_fetch_sub_explicit(&sem->writers_waiting, 1, memory_order_relaxed);
out:
	mmsim_lock_acquired(sem, sem->name);
}

void up_write(struct rw_semaphore *sem)
{
	mmsim_lock_released(sem);
	atomic_store_explicit(&sem->owner, 0, memory_order_relaxed);
	rwsem_grant_readers(sem);
	atomic_fetch_sub_explicit(&sem->count, RWSEM_WRITER_LOCKED,
				  memory_order_release);
	mmsim_sched_point(SCHED_UNLOCK, sem);
}

/* Turn a write hold into a read hold without letting a writer in between. */
void downgrade_write(struct rw_semaphore *sem)
{
	atomic_store_explicit(&sem->owner, 0, memory_order_relaxed);
	rwsem_grant_readers(sem);
	atomic_fetch_add_explicit(&sem->count,
				  RWSEM_READER_BIAS - RWSEM_WRITER_LOCKED,
				  memory_order_acq_rel);
}

bool rwsem_is_locked(struct rw_semaphore *sem)
{
	return atomic_load_explicit(&sem->count, memory_order_relaxed) != 0;
}

bool rwsem_is_write_locked_by_me(struct rw_semaphore *sem)
{
	return (atomic_load_explicit(&sem->count, memory_order_relaxed) &
		RWSEM_WRITER_LOCKED) &&
	       atomic_load_explicit(&sem->owner, memory_order_relaxed) ==
	       current_token();
}

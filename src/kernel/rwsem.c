// SPDX-License-Identifier: MIT
/*
 * Reader/writer semaphore on one atomic word (see <mmsim/rwsem.h>).
 *
 * Waiters spin with sched_yield() instead of blocking in the kernel of the
 * host: a thread blocked on a futex under TSan never runs a pending signal
 * handler, and the simulated machine delivers IPIs as signals.
 */
#include <sched.h>
#include <stdint.h>
#include <pthread.h>

#include <mmsim/rwsem.h>

/* Distinct per thread, never 0: the address of a thread-local. */
static __thread char rwsem_thread_token;

static long current_token(void)
{
	return (long)(uintptr_t)&rwsem_thread_token;
}

void init_rwsem(struct rw_semaphore *sem)
{
	atomic_init(&sem->count, 0);
	atomic_init(&sem->writers_waiting, 0);
	atomic_init(&sem->owner, 0);
}

int down_read_trylock(struct rw_semaphore *sem)
{
	long c = atomic_load_explicit(&sem->count, memory_order_relaxed);

	while (!(c & RWSEM_WRITER_LOCKED) &&
	       !atomic_load_explicit(&sem->writers_waiting, memory_order_relaxed)) {
		if (atomic_compare_exchange_weak_explicit(&sem->count, &c,
				c + RWSEM_READER_BIAS, memory_order_acquire,
				memory_order_relaxed))
			return 1;
	}
	return 0;
}

void down_read(struct rw_semaphore *sem)
{
	while (!down_read_trylock(sem))
		sched_yield();
}

void up_read(struct rw_semaphore *sem)
{
	atomic_fetch_sub_explicit(&sem->count, RWSEM_READER_BIAS,
				  memory_order_release);
}

int down_write_trylock(struct rw_semaphore *sem)
{
	long c = 0;

	if (atomic_compare_exchange_strong_explicit(&sem->count, &c,
			RWSEM_WRITER_LOCKED, memory_order_acquire,
			memory_order_relaxed)) {
		atomic_store_explicit(&sem->owner, current_token(),
				      memory_order_relaxed);
		return 1;
	}
	return 0;
}

void down_write(struct rw_semaphore *sem)
{
	if (down_write_trylock(sem))
		return;
	/* Queue: from now on new readers wait behind us (writer fairness). */
	atomic_fetch_add_explicit(&sem->writers_waiting, 1, memory_order_relaxed);
	while (!down_write_trylock(sem))
		sched_yield();
	atomic_fetch_sub_explicit(&sem->writers_waiting, 1, memory_order_relaxed);
}

void up_write(struct rw_semaphore *sem)
{
	atomic_store_explicit(&sem->owner, 0, memory_order_relaxed);
	atomic_fetch_sub_explicit(&sem->count, RWSEM_WRITER_LOCKED,
				  memory_order_release);
}

/* Turn a write hold into a read hold without letting a writer in between. */
void downgrade_write(struct rw_semaphore *sem)
{
	atomic_store_explicit(&sem->owner, 0, memory_order_relaxed);
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

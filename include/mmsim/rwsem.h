/* SPDX-License-Identifier: MIT */
/*
 * struct rw_semaphore: the sleeping reader/writer lock behind the mmap lock.
 * Fair both ways, as the kernel's wait queue is: once a writer waits, new
 * readers queue behind it, so a stream of readers cannot starve munmap;
 * when a writer leaves, the readers that were waiting get the lock before
 * the next writer (rwsem_wake() wakes the readers at the head of the
 * queue), so a stream of writers cannot starve faults either.
 *
 * Built on one atomic word and spinning with sched_yield() rather than on a
 * pthread mutex: a thread blocked in pthread_mutex_lock never runs a pending
 * signal handler under TSan (see docs/testing-notes.md), and the IPIs
 * of the simulated machine are signals.
 */
#ifndef MMSIM_RWSEM_H
#define MMSIM_RWSEM_H

#include <stdatomic.h>
#include <stdbool.h>

struct rw_semaphore {
	/*
	 * Bit 0: a writer holds the lock.  Bits 1..: readers holding it.
	 * writers_waiting: writers queued; readers wait while it is non-zero.
	 */
	atomic_long count;
	atomic_int writers_waiting;
	/*
	 * readers_waiting: readers in down_read()'s wait loop.
	 * readers_granted: how many of them may still go before the next
	 * writer; set to readers_waiting when a writer leaves (up_write,
	 * downgrade_write), taken one by one as waiting readers get in.
	 * Writers keep off while it is non-zero.  Only writers set it, and
	 * only to the readers waiting then: a bounded turn.
	 */
	atomic_int readers_waiting;
	atomic_int readers_granted;
	atomic_long owner;		/* writer's thread token, for asserts */
	const char *name;		/* lock class, for lockdep and reports */
};

#define RWSEM_WRITER_LOCKED	1L
#define RWSEM_READER_BIAS	2L

void __init_rwsem(struct rw_semaphore *sem, const char *name);
#define init_rwsem(sem) __init_rwsem((sem), #sem)
void down_read(struct rw_semaphore *sem);
int down_read_trylock(struct rw_semaphore *sem);	/* 1 on success */
void up_read(struct rw_semaphore *sem);
void down_write(struct rw_semaphore *sem);
int down_write_trylock(struct rw_semaphore *sem);	/* 1 on success */
void up_write(struct rw_semaphore *sem);
void downgrade_write(struct rw_semaphore *sem);
bool rwsem_is_locked(struct rw_semaphore *sem);
bool rwsem_is_write_locked_by_me(struct rw_semaphore *sem);

#endif /* MMSIM_RWSEM_H */

/* SPDX-License-Identifier: MIT */
/*
 * seqcount_t and seqlock_t (<linux/seqlock.h>).
 *
 * Ordering is expressed with release/acquire atomics so that
 * ThreadSanitizer sees the edges: a writer's end is a release that a
 * reader's begin acquires.  The reader's retry needs its data loads
 * ordered before the second read of the count (the kernel's smp_rmb());
 * that is an acquire fence, which TSan does not model but which the
 * hardware honours; data read under a seqcount is read with READ_ONCE()
 * style atomic loads by its users, so TSan has nothing to report there.
 */
#ifndef MMSIM_SEQLOCK_H
#define MMSIM_SEQLOCK_H

#include <stdatomic.h>
#include <mmsim/sched.h>
#include <mmsim/spinlock.h>

typedef struct seqcount {
	atomic_uint sequence;
} seqcount_t;

#define SEQCNT_ZERO(name) { 0 }

static inline void seqcount_init(seqcount_t *s)
{
	atomic_init(&s->sequence, 0);
}

void mmsim_cpu_relax(void);

/* Wait for an even count and return it (read_seqcount_begin). */
static inline unsigned int read_seqcount_begin(const seqcount_t *s)
{
	unsigned int seq;

	mmsim_sched_point(SCHED_SEQ, s);
	while ((seq = atomic_load_explicit((atomic_uint *)&s->sequence,
					   memory_order_acquire)) & 1)
		mmsim_cpu_relax();
	return seq;
}

/*
 * The count, for assertions and scheduling hooks: no scheduling point
 * (a hook that read it through raw_read_seqcount() would call itself).
 */
static inline unsigned int seqcount_peek(const seqcount_t *s)
{
	return atomic_load_explicit((atomic_uint *)&s->sequence,
				    memory_order_acquire);
}

/* Return the count as it is, odd or not (raw_read_seqcount). */
static inline unsigned int raw_read_seqcount(const seqcount_t *s)
{
	mmsim_sched_point(SCHED_SEQ, s);
	return atomic_load_explicit((atomic_uint *)&s->sequence,
				    memory_order_acquire);
}

/* Did a writer run since read_seqcount_begin() returned start? */
static inline int read_seqcount_retry(const seqcount_t *s, unsigned int start)
{
	atomic_thread_fence(memory_order_acquire);	/* smp_rmb() */
	mmsim_sched_point(SCHED_SEQ, s);
	return atomic_load_explicit((atomic_uint *)&s->sequence,
				    memory_order_relaxed) != start;
}

/*
 * Writers are serialised by the caller.  begin is an acq_rel increment, so
 * the stores of the write section cannot move above it (smp_wmb());
 * end is a release increment, so they cannot move below it.
 */
static inline void raw_write_seqcount_begin(seqcount_t *s)
{
	atomic_fetch_add_explicit(&s->sequence, 1, memory_order_acq_rel);
	mmsim_sched_point(SCHED_SEQ, s);
}

static inline void raw_write_seqcount_end(seqcount_t *s)
{
	mmsim_sched_point(SCHED_SEQ, s);
	atomic_fetch_add_explicit(&s->sequence, 1, memory_order_release);
}

#define write_seqcount_begin(s)	raw_write_seqcount_begin(s)
#define write_seqcount_end(s)	raw_write_seqcount_end(s)

typedef struct {
	seqcount_t seqcount;
	spinlock_t lock;
} seqlock_t;

static inline void __seqlock_init(seqlock_t *sl, const char *name)
{
	seqcount_init(&sl->seqcount);
	__spin_lock_init(&sl->lock, name);
}
#define seqlock_init(sl) __seqlock_init((sl), #sl)

static inline unsigned int read_seqbegin(const seqlock_t *sl)
{
	return read_seqcount_begin(&sl->seqcount);
}

static inline int read_seqretry(const seqlock_t *sl, unsigned int start)
{
	return read_seqcount_retry(&sl->seqcount, start);
}

static inline void write_seqlock(seqlock_t *sl)
{
	spin_lock(&sl->lock);
	raw_write_seqcount_begin(&sl->seqcount);
}

static inline void write_sequnlock(seqlock_t *sl)
{
	raw_write_seqcount_end(&sl->seqcount);
	spin_unlock(&sl->lock);
}

#endif /* MMSIM_SEQLOCK_H */

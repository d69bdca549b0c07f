// SPDX-License-Identifier: MIT
/*
 * per-vma-refcnt: page faults under a VMA lock folded into a reference
 * count, as mainline Linux 6.15 and later handles them (Suren
 * Baghdasaryan's "move per-vma lock into vm_area_struct" series, with the
 * fix of 6.16/6.15.y for a recycled VMA that docs/races.md lists as race
 * 13).  The design is per-vma-lock's (src/strategy/per_vma_lock.c, whose
 * header says the rest); what changes is the lock and the VMA's memory.
 *
 * State: every VMA has vm_refcnt and vm_lock_seq, the mm mm_lock_seq (as
 * in per-vma-lock) and vma_writer_wait, where a writer waits for readers.
 * vm_refcnt is
 *
 *	0				detached (out of the tree, or free);
 *	1				attached, nobody holds it;
 *	1 + n				attached, n faults hold it for reading;
 *	VMA_LOCK_OFFSET + ...		a writer is in: no new reader.
 *
 * Write side (vma_start_write): with the mmap lock held for writing, add
 * VMA_LOCK_OFFSET (__vma_enter_locked), which turns new readers away,
 * wait until the count is VMA_LOCK_OFFSET + 1 (attached, no reader), mark
 * the VMA with mm_lock_seq, and take the offset away again
 * (__vma_exit_locked): the VMA stays locked by the sequence alone until
 * vma_end_write_all() moves mm_lock_seq on.  vma_mark_attached() sets the
 * count to 1 (release: it publishes the VMA's fields to a reader whose
 * increment reads it); vma_mark_detached(), on a write-locked VMA, drops
 * that reference and, if a reader raised the count meanwhile, waits for
 * it to go (it will find the VMA locked and let go).  The waits are wait
 * loops of the simulated machine (they service IPIs): where the kernel
 * sleeps on mm->vma_writer_wait (an rcuwait), the writer here polls the
 * count, and the last reader's "wake-up" only looks whether one waits.
 *
 * Fault side (lock_vma_under_rcu, 6.15's order): walk the tree under RCU
 * (with per-vma-lock's tree seqcount standing in for the maple tree),
 * then vma_start_read(): give up if vm_lock_seq == mm_lock_seq; take a
 * reference only if the count is neither 0 (detached: look again,
 * VMA_LOCK_MISS) nor at the limit a writer's offset puts it over (give
 * up), with acquire ordering; check that the VMA is still of this mm (it
 * may have been freed and reused by another mm meanwhile: race 13, give
 * up); check the sequence again with acquire on mm_lock_seq (race 11).
 * Then, holding the reference, the bounds, and what mmsim handles without
 * the mmap lock: an anonymous VMA with an anon_vma (6.15's
 * vmf_anon_prepare() would try the mmap read lock to prepare one; here
 * the fault takes the mmap lock, as in per-vma-lock).
 *
 * Freeing: VMAs come from a cache of this file that is type-safe by RCU
 * (the kernel's vm_area_cachep with SLAB_TYPESAFE_BY_RCU): a VMA freed is
 * reused at once by the next vm_area_alloc() of any mm, with no grace
 * period, which is what makes race 13 possible; the memory of an object
 * only goes back to the system after a grace period, so that a walk may
 * still look at it.  vm_refcnt is 0 in every free object, set once when
 * the object is made, never reset by a reuse (a reader may be trying to
 * raise it at that very moment).
 *
 * Events (the kernel's vmstat names): VMA_LOCK_SUCCESS, VMA_LOCK_ABORT,
 * VMA_LOCK_RETRY, VMA_LOCK_MISS.
 */
#include <stdlib.h>

#include <mmsim/cpu.h>
#include <mmsim/rcupdate.h>
#include <mmsim/sched.h>
#include <mmsim/spinlock.h>
#include <mmsim/strategy.h>

#include "mm/internal.h"

extern const struct fault_strategy per_vma_refcnt_strategy;

/* The historical bugs of the fault side (docs/races.md). */
enum {
	PVR_MUTANT_NO_VM_MM_CHECK,	/* race 13 */
	NR_PVR_MUTANTS
};

static const struct mmsim_mutant_desc pvr_mutants[NR_PVR_MUTANTS] = {
	[PVR_MUTANT_NO_VM_MM_CHECK] = { "no-vm-mm-check",
		"vma_start_read does not check vma->vm_mm after taking the reference (race 13)" },
};

static inline bool pvr_mutant(int m)
{
	return mmsim_mutant_active(&pvr_mutants[m]);
}

/*
 * A writer's share of vm_refcnt; a reader may not take the count to
 * VMA_REF_LIMIT or above, so no reader gets in while a writer is.
 */
#define VMA_LOCK_OFFSET	0x40000000
#define VMA_REF_LIMIT	(VMA_LOCK_OFFSET - 1)

/* This strategy's part of every VMA (the kernel's vm_refcnt, vm_lock_seq). */
struct pvr_vma {
	atomic_int vm_refcnt;
	atomic_int vm_lock_seq;		/* mm_lock_seq when write-locked */
	/* The cache's free list (a free object only; nobody else reads it). */
	struct vm_area_struct *cache_next;
};

/* ... and of every mm. */
struct pvr_mm {
	/* Moves on at every mmap_write_unlock/downgrade (vma_end_write_all). */
	atomic_int mm_lock_seq;
	/* Written around every change of the VMA tree, for the walk. */
	seqcount_t tree_seq;
	/* The CPU of the writer waiting for readers, if any (an rcuwait). */
	_Atomic(struct mmsim_cpu *) vma_writer_wait;
};

static inline struct pvr_vma *pvr_vma(struct vm_area_struct *vma)
{
	return vma_strategy_private(vma);
}

static inline struct pvr_mm *pvr_mm(struct mm_struct *mm)
{
	return mm_strategy_private(mm);
}

/* --- the VMA cache (SLAB_TYPESAFE_BY_RCU) ---------------------------------- */

/*
 * Free objects, reused last in first out.  Above VMA_CACHE_HIGH of them,
 * VMA_CACHE_BATCH go back to the system after a grace period; the rest
 * when the last mm of this strategy goes (until then the free list keeps
 * them reachable, which the leak checkers accept).
 */
#define VMA_CACHE_HIGH	1024
#define VMA_CACHE_BATCH	512

static struct {
	spinlock_t lock;
	struct vm_area_struct *free;	/* under lock */
	unsigned long nr_free;		/* under lock */
	atomic_long nr_objects;		/* from the system, not yet returned */
	atomic_long nr_reused;		/* allocations served from free */
	atomic_int nr_mms;		/* mms of this strategy alive */
} vma_cache = {
	.lock = __SPIN_LOCK_UNLOCKED(vma_cache.lock),
};

/*
 * A new object: the constructor's part (vm_refcnt 0, "detached") is set
 * here, once in the object's life.
 */
static struct vm_area_struct *vma_cache_new(void)
{
	struct vm_area_struct *vma;

	vma = calloc(1, vma_alloc_size(&per_vma_refcnt_strategy));
	if (!vma)
		return NULL;
	atomic_init(&pvr_vma(vma)->vm_refcnt, 0);
	atomic_init(&pvr_vma(vma)->vm_lock_seq, -1);
	atomic_fetch_add_explicit(&vma_cache.nr_objects, 1,
				  memory_order_relaxed);
	return vma;
}

static struct vm_area_struct *pvr_vma_cache_alloc(void)
{
	struct vm_area_struct *vma;

	spin_lock(&vma_cache.lock);
	vma = vma_cache.free;
	if (vma) {
		vma_cache.free = pvr_vma(vma)->cache_next;
		vma_cache.nr_free--;
	}
	spin_unlock(&vma_cache.lock);
	if (!vma)
		return vma_cache_new();
	atomic_fetch_add_explicit(&vma_cache.nr_reused, 1,
				  memory_order_relaxed);
	/* A free object stays detached: its count is what readers test. */
	VM_BUG_ON(atomic_load_explicit(&pvr_vma(vma)->vm_refcnt,
				       memory_order_relaxed));
	return vma;
}

static void vma_cache_release(struct vm_area_struct *vma)
{
	atomic_fetch_sub_explicit(&vma_cache.nr_objects, 1,
				  memory_order_relaxed);
	free(vma);
}

static void vma_cache_free_rcu(struct rcu_head *head)
{
	vma_cache_release((struct vm_area_struct *)
		((char *)head - offsetof(struct vm_area_struct, vm_rcu)));
}

/*
 * Take up to nr objects off the free list (all: ~0UL).  The caller gives
 * them back to the system after a grace period: a walk that found one of
 * them while it was a VMA may still look at it.
 */
static struct vm_area_struct *vma_cache_shrink(unsigned long nr)
{
	struct vm_area_struct *list = NULL, *vma;

	spin_lock(&vma_cache.lock);
	while (nr-- && (vma = vma_cache.free)) {
		vma_cache.free = pvr_vma(vma)->cache_next;
		vma_cache.nr_free--;
		pvr_vma(vma)->cache_next = list;
		list = vma;
	}
	spin_unlock(&vma_cache.lock);
	return list;
}

/* A VMA that nobody holds (vm_refcnt 0) is free for the next allocation. */
static void pvr_vma_cache_free(struct vm_area_struct *vma)
{
	struct vm_area_struct *batch = NULL, *next;
	bool trim;

	BUG_ON(atomic_load_explicit(&pvr_vma(vma)->vm_refcnt,
				    memory_order_relaxed));
	spin_lock(&vma_cache.lock);
	pvr_vma(vma)->cache_next = vma_cache.free;
	vma_cache.free = vma;
	trim = ++vma_cache.nr_free > VMA_CACHE_HIGH;
	spin_unlock(&vma_cache.lock);
	if (trim)
		batch = vma_cache_shrink(VMA_CACHE_BATCH);
	for (; batch; batch = next) {
		next = pvr_vma(batch)->cache_next;
		call_rcu(&batch->vm_rcu, vma_cache_free_rcu);
	}
}

/* Give every free object back to the system, after a grace period. */
static void vma_cache_drain(void)
{
	struct vm_area_struct *list = vma_cache_shrink(~0UL), *next;

	if (!list)
		return;
	synchronize_rcu();
	for (; list; list = next) {
		next = pvr_vma(list)->cache_next;
		vma_cache_release(list);
	}
}

/* --- the mm and the VMA ------------------------------------------------------ */

static int pvr_mm_init(struct mm_struct *mm)
{
	atomic_init(&pvr_mm(mm)->mm_lock_seq, 0);
	seqcount_init(&pvr_mm(mm)->tree_seq);
	atomic_init(&pvr_mm(mm)->vma_writer_wait, NULL);
	atomic_fetch_add(&vma_cache.nr_mms, 1);
	return 0;
}

/* The last mm of this strategy gone: the cache goes back to the system. */
static void pvr_mm_exit(struct mm_struct *mm)
{
	if (atomic_fetch_sub(&vma_cache.nr_mms, 1) == 1)
		vma_cache_drain();
}

/*
 * A new VMA, or a reused one (vm_area_alloc, vm_area_dup): vm_refcnt is 0
 * and stays so, a reader may be testing it right now (the kernel's
 * vma_lock_init() without reset_refcnt).
 */
static void pvr_vma_init(struct vm_area_struct *vma)
{
	VM_BUG_ON(atomic_load_explicit(&pvr_vma(vma)->vm_refcnt,
				       memory_order_relaxed));
	atomic_store_explicit(&pvr_vma(vma)->vm_lock_seq, -1,
			      memory_order_relaxed);
}

/* --- the reference count --------------------------------------------------- */

/* Is the count that of a writer waiting with no reader left? */
static inline bool __vma_are_readers_excluded(int refcnt)
{
	return (refcnt & VMA_LOCK_OFFSET) && refcnt <= VMA_LOCK_OFFSET + 1;
}

/*
 * Wake the writer waiting on mm's VMAs (rcuwait_wake_up).  It polls the
 * count, so there is nothing to do but look; the look is still at mm,
 * which the caller must keep alive.
 */
static void rcuwait_wake_up(struct mm_struct *mm)
{
	(void)atomic_load_explicit(&pvr_mm(mm)->vma_writer_wait,
				   memory_order_relaxed);
}

/*
 * Raise the count unless it is 0 (detached) or a writer is in (the
 * kernel's __refcount_inc_not_zero_limited_acquire with VMA_REF_LIMIT).
 * *oldp: the count we saw.  Acquire: what the writer did before
 * vma_mark_attached() or __vma_exit_locked() is seen after.
 */
static bool vma_refcount_inc_limited(struct vm_area_struct *vma, int *oldp)
{
	atomic_int *r = &pvr_vma(vma)->vm_refcnt;
	int old = atomic_load_explicit(r, memory_order_relaxed);

	do {
		if (!old || old + 1 > VMA_REF_LIMIT)
			break;
	} while (!atomic_compare_exchange_weak_explicit(r, &old, old + 1,
							memory_order_acquire,
							memory_order_relaxed));
	*oldp = old;
	return old && old + 1 <= VMA_REF_LIMIT;
}

/* Drop a reference; returns the count after (vma may be reused once 0). */
static int __vma_refcount_put_return(struct vm_area_struct *vma)
{
	return atomic_fetch_sub_explicit(&pvr_vma(vma)->vm_refcnt, 1,
					 memory_order_release) - 1;
}

/*
 * Drop a reader's reference (vma_refcount_put), and wake the writer if we
 * were the last reader it waits for.  The mm is read first: once the
 * reference is dropped, vma may be freed and reused by another mm.  The
 * caller keeps mm alive (its own mm: it runs it).
 */
static void vma_refcount_put(struct vm_area_struct *vma)
{
	struct mm_struct *mm = vma->vm_mm;
	int newcnt;

	mmsim_lock_released(&pvr_vma(vma)->vm_refcnt);
	newcnt = __vma_refcount_put_return(vma);
	if (newcnt && __vma_are_readers_excluded(newcnt))
		rcuwait_wake_up(mm);
}

/* --- the write side --------------------------------------------------------- */

/*
 * Keep readers out of vma and wait for those in (__vma_enter_locked):
 * add the writer's offset unless the VMA is detached (false: only
 * vma_mark_attached() raises a count from 0, and the mmap write lock
 * keeps it away), then wait until only the writer is left, with the
 * attached reference unless we are detaching.  The caller holds the mmap
 * lock for writing.
 */
static bool __vma_enter_locked(struct vm_area_struct *vma, bool detaching)
{
	struct pvr_mm *pm = pvr_mm(vma->vm_mm);
	atomic_int *r = &pvr_vma(vma)->vm_refcnt;
	int tgt = detaching ? VMA_LOCK_OFFSET : VMA_LOCK_OFFSET + 1;
	int old = atomic_load_explicit(r, memory_order_relaxed);

	do {
		if (!old)
			return false;
	} while (!atomic_compare_exchange_weak_explicit(r, &old,
						old + VMA_LOCK_OFFSET,
						memory_order_relaxed,
						memory_order_relaxed));
	mmsim_lock_acquired(r, "&vma->vm_lock");
	if (atomic_load_explicit(r, memory_order_acquire) == tgt)
		return true;
	/* A wait loop of the machine: it takes IPIs while it polls. */
	mmsim_wait_begin(vma, "vm_refcnt readers");
	atomic_store_explicit(&pm->vma_writer_wait, this_cpu(),
			      memory_order_relaxed);
	while (atomic_load_explicit(r, memory_order_acquire) != tgt)
		mmsim_cpu_relax();
	atomic_store_explicit(&pm->vma_writer_wait, NULL,
			      memory_order_relaxed);
	mmsim_wait_end();
	return true;
}

/* Let readers in again (__vma_exit_locked); true if vma is now detached. */
static bool __vma_exit_locked(struct vm_area_struct *vma)
{
	atomic_int *r = &pvr_vma(vma)->vm_refcnt;

	mmsim_lock_released(r);
	return atomic_fetch_sub_explicit(r, VMA_LOCK_OFFSET,
					 memory_order_release) ==
	       VMA_LOCK_OFFSET;
}

/* Is vma write-locked in the current mmap write section?  (the writer's) */
static bool __is_vma_write_locked(struct vm_area_struct *vma, int *seq)
{
	mmap_assert_write_locked(vma->vm_mm);
	*seq = atomic_load_explicit(&pvr_mm(vma->vm_mm)->mm_lock_seq,
				    memory_order_relaxed);
	return atomic_load_explicit(&pvr_vma(vma)->vm_lock_seq,
				    memory_order_relaxed) == *seq;
}

/*
 * Lock vma against faults until the mmap write lock goes (vma_start_write):
 * with the readers kept out and gone, mark it with mm_lock_seq; a reader
 * that gets in after the offset goes sees the mark.  A detached VMA (a
 * new one, not linked yet) has no reader to wait for: it is only marked.
 * The caller holds the mmap lock for writing.
 */
static void pvr_vma_start_write(struct vm_area_struct *vma)
{
	struct pvr_vma *v = pvr_vma(vma);
	bool locked;
	int seq;

	if (__is_vma_write_locked(vma, &seq))
		return;
	locked = __vma_enter_locked(vma, false);
	atomic_store_explicit(&v->vm_lock_seq, seq, memory_order_relaxed);
	if (locked)
		WARN_ON(__vma_exit_locked(vma));	/* it stays attached */
}

/*
 * Unlock every VMA of mm at once (vma_end_write_all).  Release: pairs
 * with the acquire of vma_start_read()'s second check (race 11).
 */
static void pvr_vma_end_write_all(struct mm_struct *mm)
{
	struct pvr_mm *pm = pvr_mm(mm);

	mmap_assert_write_locked(mm);
	atomic_store_explicit(&pm->mm_lock_seq,
			      atomic_load_explicit(&pm->mm_lock_seq,
						   memory_order_relaxed) + 1,
			      memory_order_release);
}

static bool pvr_vma_write_locked(struct vm_area_struct *vma)
{
	int seq;

	return __is_vma_write_locked(vma, &seq);
}

/*
 * vma enters the tree: the attached reference (release, so that a reader
 * whose increment sees it sees the VMA's fields too).  A detached VMA's
 * count is 0 and only this raises it: the mmap write lock keeps another
 * attach away, and a reader's increment fails on 0.
 */
static void pvr_vma_mark_attached(struct vm_area_struct *vma)
{
	VM_BUG_ON(atomic_load_explicit(&pvr_vma(vma)->vm_refcnt,
				       memory_order_relaxed));
	atomic_store_explicit(&pvr_vma(vma)->vm_refcnt, 1,
			      memory_order_release);
}

/*
 * vma leaves the tree for good (vma_mark_detached): drop the attached
 * reference.  The VMA is write-locked, so a reader can only hold it for a
 * moment (it then sees vm_lock_seq and lets go); if one does, wait for
 * it, so that the VMA is free to reuse when we return.
 */
static void __vma_mark_detached(struct vm_area_struct *vma)
{
	if (atomic_fetch_sub_explicit(&pvr_vma(vma)->vm_refcnt, 1,
				      memory_order_release) == 1)
		return;
	if (__vma_enter_locked(vma, true))
		WARN_ON(!__vma_exit_locked(vma));
}

static void pvr_vma_mark_detached(struct vm_area_struct *vma)
{
	vma_assert_write_locked(vma);
	VM_BUG_ON(!atomic_load_explicit(&pvr_vma(vma)->vm_refcnt,
					memory_order_relaxed));
	__vma_mark_detached(vma);
}

static void pvr_tree_write_begin(struct mm_struct *mm)
{
	raw_write_seqcount_begin(&pvr_mm(mm)->tree_seq);
}

static void pvr_tree_write_end(struct mm_struct *mm)
{
	raw_write_seqcount_end(&pvr_mm(mm)->tree_seq);
}

/*
 * A VMA out of the tree goes back to the cache at once: that is what
 * SLAB_TYPESAFE_BY_RCU allows, since a reader that still holds the
 * pointer cannot take a reference on a free object (its count is 0) and
 * checks vm_mm on one reused by then.  exit_mmap() frees VMAs it never
 * unlinked (the mm is dying, the tree goes with it): they are still
 * attached, and a fault of another mm that found the object before its
 * reuse here may hold a reference, so detach them the writer's way (the
 * caller holds the mmap lock for writing) before the object is reused.
 */
static void pvr_vma_free(struct vm_area_struct *vma)
{
	vma_put_file(vma);
	if (atomic_load_explicit(&pvr_vma(vma)->vm_refcnt,
				 memory_order_relaxed)) {
		pvr_vma_start_write(vma);
		__vma_mark_detached(vma);
	}
	__vm_area_free(&per_vma_refcnt_strategy, vma);
}

/* --- the fault side ---------------------------------------------------------- */

/*
 * The VMA that contains or follows addr, found without the mmap lock, in
 * an RCU read side: what we return may be freed and even reused, but not
 * given back to the system, before rcu_read_unlock().
 */
static struct vm_area_struct *pvr_find_vma(struct mm_struct *mm,
					   unsigned long addr)
{
	/*
	 * The nodes are inside VMAs, which the cache hands out again at once:
	 * the walk may read an object that another CPU is filling in for a
	 * new VMA (plain stores: it is not linked yet); the retry throws that
	 * away (find_vma_lockless() says the race is by design).  The
	 * kernel's maple tree walk reads no VMA field; this one has to.
	 */
	return find_vma_lockless(mm, addr, &pvr_mm(mm)->tree_seq);
}

static inline bool vma_lock_seq_is_mm(struct vm_area_struct *vma,
				      struct mm_struct *mm, memory_order mo)
{
	return atomic_load_explicit(&pvr_vma(vma)->vm_lock_seq,
				    memory_order_relaxed) ==
	       atomic_load_explicit(&pvr_mm(mm)->mm_lock_seq, mo);
}

/*
 * Try to lock vma, found in mm's tree, for reading (vma_start_read).
 * Returns 0, -EAGAIN if it was detached (look again), -EBUSY if it is
 * write-locked, or no longer mm's.  Called and returns in an RCU read
 * side.
 */
static int vma_start_read(struct mm_struct *mm, struct vm_area_struct *vma)
{
	int oldcnt;

	/* An early way out only: the check that counts comes last. */
	if (vma_lock_seq_is_mm(vma, mm, memory_order_relaxed))
		return -EBUSY;
	if (!vma_refcount_inc_limited(vma, &oldcnt))
		return oldcnt ? -EBUSY : -EAGAIN;
	mmsim_lock_acquired_trylock(&pvr_vma(vma)->vm_refcnt,
				    "&vma->vm_lock");
	/*
	 * Freed and reused by another mm since the walk found it (race 13).
	 * Its mm is not ours to keep alive: the kernel pins it (mmgrab)
	 * around vma_refcount_put(), whose wake-up looks at it.  mmsim has
	 * no mm_count; its writers poll, so drop the reference without the
	 * wake-up, and never look at that mm after the drop.
	 */
	if (!pvr_mutant(PVR_MUTANT_NO_VM_MM_CHECK) && vma->vm_mm != mm) {
		mmsim_lock_released(&pvr_vma(vma)->vm_refcnt);
		__vma_refcount_put_return(vma);
		return -EBUSY;
	}
	/*
	 * The check that counts, with the VMA held: acquire against
	 * vma_end_write_all()'s release, so that seeing the sequence moved
	 * on means seeing the writer's changes (race 11).
	 */
	if (vma_lock_seq_is_mm(vma, mm, memory_order_acquire)) {
		vma_refcount_put(vma);
		return -EBUSY;
	}
	return 0;
}

/* Drop the read lock, checking the lock's promise (<mmsim/strategy.h>). */
static void vma_end_read(struct vm_area_struct *vma)
{
	vma_read_stable_end(vma);
	vma_refcount_put(vma);
}

/* VMAs whose faults need more than anonymous pages, or userfaultfd. */
static bool pvr_vma_supported(struct vm_area_struct *vma)
{
	return vma_is_anonymous(vma) &&
	       !(vma->vm_flags & (VM_SHARED | VM_UFFD_MISSING));
}

/*
 * Find the VMA of address and lock it for reading, or NULL: then the
 * fault takes the mmap lock (lock_vma_under_rcu, 6.15).  Only after the
 * lock is the VMA stable enough to look at its fields.  The calling CPU
 * runs mm and holds no lock.
 */
static struct vm_area_struct *lock_vma_under_rcu(struct mm_struct *mm,
						 unsigned long address)
{
	struct vm_area_struct *vma;
	int err;

	rcu_read_lock();
retry:
	vma = pvr_find_vma(mm, address);
	if (!vma)
		goto inval;
	mmsim_sched_point(SCHED_FAULT_LOOKUP, vma);
	err = vma_start_read(mm, vma);
	if (err == -EAGAIN) {
		/* Detached after we found it: its range is another's now. */
		count_fault_event(VMA_LOCK_MISS);
		goto retry;
	}
	if (err)
		goto inval;
	/* A split may have moved the bounds before we locked the VMA. */
	if (address < vma->vm_start || address >= vma->vm_end)
		goto inval_end_read;
	/*
	 * find_mergeable_anon_vma() needs the neighbours: the mmap lock
	 * (6.15's vmf_anon_prepare() would try it from the fault instead).
	 * A classic fault may set anon_vma under the mmap read lock while we
	 * look (only from NULL to set): acquire, paired with
	 * __anon_vma_prepare()'s release.
	 */
	if (!pvr_vma_supported(vma) ||
	    !__atomic_load_n(&vma->anon_vma, __ATOMIC_ACQUIRE))
		goto inval_end_read;
	/*
	 * From here the VMA may not change until vma_end_read() (checked).
	 * Not earlier: a classic fault may still give a VMA without an
	 * anon_vma one, under the mmap read lock, while we look.
	 */
	vma_read_stable_begin(vma);
	rcu_read_unlock();
	return vma;

inval_end_read:
	vma_end_read(vma);
inval:
	rcu_read_unlock();
	count_fault_event(VMA_LOCK_ABORT);
	return NULL;
}

const struct fault_strategy per_vma_refcnt_strategy = {
	.name = "per-vma-refcnt",
	.help = "faults under a VMA reference count, Linux 6.15+ (vm_refcnt, VMAs typesafe by RCU)",
	.mm_private_size = sizeof(struct pvr_mm),
	.vma_private_size = sizeof(struct pvr_vma),
	.mm_init = pvr_mm_init,
	.mm_exit = pvr_mm_exit,
	.vma_init = pvr_vma_init,
	.vma_cache_alloc = pvr_vma_cache_alloc,
	.vma_cache_free = pvr_vma_cache_free,
	.vma_free = pvr_vma_free,
	.lockless_fault = do_vma_lock_fault,
	.lock_vma_under_rcu = lock_vma_under_rcu,
	.vma_end_read = vma_end_read,
	.vma_start_write = pvr_vma_start_write,
	.vma_end_write_all = pvr_vma_end_write_all,
	.vma_write_locked = pvr_vma_write_locked,
	.tree_write_begin = pvr_tree_write_begin,
	.tree_write_end = pvr_tree_write_end,
	.vma_mark_attached = pvr_vma_mark_attached,
	.vma_mark_detached = pvr_vma_mark_detached,
	.events = vma_lock_event_names,
	.nr_events = NR_VMA_LOCK_EVENTS - FAULT_STRATEGY_EVENTS,
	.event_lockless = VMA_LOCK_SUCCESS,
	.abort_events = VMA_LOCK_ABORTS,
	.mutants = pvr_mutants,
	.nr_mutants = NR_PVR_MUTANTS,
};

// SPDX-License-Identifier: MIT
/*
 * per-vma-lock: page faults under a lock of their VMA, not the mmap lock,
 * as mainline Linux 6.4 to 6.14 handles them (Suren Baghdasaryan's series,
 * merged in 6.4, with the fixes of 6.4.x-6.5 that docs/races.md lists as
 * races 5 and 7-11; docs/adding-a-strategy.md walks through this file).
 *
 * State: every VMA has a read-write lock (the kernel's vma->vm_lock) and
 * vm_lock_seq, and the mm a count, mm_lock_seq, that moves on every time
 * the mmap write lock is dropped or downgraded.  A VMA whose vm_lock_seq
 * equals mm_lock_seq is write-locked: the mmap-lock writer locked it in
 * the current write section and keeps it locked to the section's end.
 * Nothing of that is in <mmsim/mm_types.h>: it is this file's private part
 * of every VMA and mm.
 *
 * Write side (vma_start_write): a writer holding the mmap lock for writing
 * takes the VMA's lock for writing, which waits for the faults that hold
 * it for reading, writes mm_lock_seq into vm_lock_seq and releases it at
 * once: the VMA stays "locked" by the sequence alone, until
 * vma_end_write_all() moves mm_lock_seq on (mmap_write_unlock and
 * mmap_write_downgrade), which unlocks every VMA of the mm at once.  The
 * sites are the kernel's: every change of a VMA (split, merge, expand,
 * mprotect, mlock, madvise, mremap, the stack), fork for every VMA it
 * copies, a new VMA before it is linked (mmap_region), every VMA munmap
 * detaches.  They take it before i_mmap_rwsem (the kernel's callers of
 * vma_prepare() do), where spf-srcu begins its vm_sequence section after
 * it: a fault under a VMA lock may wait for the file's locks, a
 * speculative fault never waits for anything, while the zap of
 * unmap_mapping_range() enters vm_sequence holding i_mmap_rwsem (race 2).
 * A VMA that leaves the tree is marked detached (under its write lock).
 *
 * Fault side (lock_vma_under_rcu, called by the core's do_vma_lock_fault(),
 * the arch handler's per-VMA block): in an RCU read side, find the VMA
 * without the mmap lock.  The kernel walks the maple tree under RCU;
 * mmsim has an rbtree, whose rotations a lockless walk can get lost in,
 * so the walk (find_vma_lockless()) retries when this strategy's tree
 * seqcount, written around every tree change, moved: the stand-in for
 * the maple tree's RCU safety.  Then vma_start_read(): give up if the
 * VMA is write-locked (vm_lock_seq == mm_lock_seq), try its lock for
 * reading, and check the sequence again under it, with acquire ordering
 * (race 11).  Then check that it was not detached meanwhile (look again:
 * VMA_LOCK_MISS; 6.4 checks this last, see lock_vma_under_rcu()), that it
 * has an anon_vma (only after locking it: race 9) and still covers the
 * address (a split may have moved its bounds before we locked it).  The
 * fault runs handle_mm_fault() with FAULT_FLAG_VMA_LOCK, interrupts on,
 * taking the PTE lock as a classic fault does and allocating page tables
 * if it must (the VMA, so its tables, cannot go while we hold its lock).
 * A VMA with no anon_vma yet, or anything else unexpected, falls back to
 * the mmap lock: the first fault of a fresh VMA goes that way, as in 6.4.
 * The core checks the lock's promise (vma_read_stable_begin/end): what
 * the fault reads of the VMA does not change until it lets go.
 *
 * Freeing: VMAs are freed after an RCU grace period (the walk holds only
 * rcu_read_lock while it looks at a VMA it has not locked).
 *
 * Events (the kernel's vmstat names): VMA_LOCK_SUCCESS, VMA_LOCK_ABORT,
 * VMA_LOCK_RETRY, VMA_LOCK_MISS.
 */
#include <mmsim/cpu.h>
#include <mmsim/rcupdate.h>
#include <mmsim/sched.h>
#include <mmsim/strategy.h>

#include "mm/internal.h"

extern const struct fault_strategy per_vma_lock_strategy;

/* The historical bugs of the fault side (docs/races.md). */
enum {
	PVL_MUTANT_ANON_VMA_EARLY,	/* race 9 */
	PVL_MUTANT_LOCK_SEQ_RELAXED,	/* race 11 */
	NR_PVL_MUTANTS
};

static const struct mmsim_mutant_desc pvl_mutants[NR_PVL_MUTANTS] = {
	[PVL_MUTANT_ANON_VMA_EARLY] = { "anon-vma-before-lock",
		"lock_vma_under_rcu checks anon_vma before the VMA lock (race 9)" },
	[PVL_MUTANT_LOCK_SEQ_RELAXED] = { "lock-seq-relaxed",
		"vma_start_read reads mm_lock_seq without acquire (race 11)" },
};

static inline bool pvl_mutant(int m)
{
	return mmsim_mutant_active(&pvl_mutants[m]);
}

/* This strategy's part of every VMA (the kernel's vm_lock, vm_lock_seq). */
struct pvl_vma {
	struct rw_semaphore vm_lock;
	atomic_int vm_lock_seq;		/* mm_lock_seq when write-locked */
	atomic_bool detached;		/* out of the tree for good */
};

/* ... and of every mm. */
struct pvl_mm {
	/* Moves on at every mmap_write_unlock/downgrade (vma_end_write_all). */
	atomic_int mm_lock_seq;
	/* Written around every change of the VMA tree, for the walk. */
	seqcount_t tree_seq;
};

static inline struct pvl_vma *pvl_vma(struct vm_area_struct *vma)
{
	return vma_strategy_private(vma);
}

static inline struct pvl_mm *pvl_mm(struct mm_struct *mm)
{
	return mm_strategy_private(mm);
}

static int pvl_mm_init(struct mm_struct *mm)
{
	atomic_init(&pvl_mm(mm)->mm_lock_seq, 0);
	seqcount_init(&pvl_mm(mm)->tree_seq);
	return 0;
}

static void pvl_vma_init(struct vm_area_struct *vma)
{
	struct pvl_vma *v = pvl_vma(vma);

	__init_rwsem(&v->vm_lock, "&vma->vm_lock->lock");
	atomic_init(&v->vm_lock_seq, -1);
	atomic_init(&v->detached, true);	/* until it is linked */
}

/* --- the write side ------------------------------------------------------- */

/*
 * Is vma write-locked in the current mmap write section?  Only the
 * writer, which holds the mmap lock for writing, can tell for sure.
 */
static bool __is_vma_write_locked(struct vm_area_struct *vma, int *seq)
{
	mmap_assert_write_locked(vma->vm_mm);
	*seq = atomic_load_explicit(&pvl_mm(vma->vm_mm)->mm_lock_seq,
				    memory_order_relaxed);
	return atomic_load_explicit(&pvl_vma(vma)->vm_lock_seq,
				    memory_order_relaxed) == *seq;
}

/*
 * Lock vma against faults until the mmap write lock goes (vma_start_write):
 * wait for the faults that hold its lock, mark it with mm_lock_seq under
 * the lock, and let the lock go; a fault that tries it from now on sees
 * the mark.  The caller holds the mmap lock for writing.
 */
static void pvl_vma_start_write(struct vm_area_struct *vma)
{
	struct pvl_vma *v = pvl_vma(vma);
	int seq;

	if (__is_vma_write_locked(vma, &seq))
		return;
	down_write(&v->vm_lock);
	atomic_store_explicit(&v->vm_lock_seq, seq, memory_order_relaxed);
	up_write(&v->vm_lock);
}

/*
 * Unlock every VMA of mm at once (vma_end_write_all), at the end of a
 * mmap write section.  The release pairs with the acquire of
 * vma_start_read(): a fault that sees the new count sees every change the
 * writer made to the VMAs it had locked (race 11).
 */
static void pvl_vma_end_write_all(struct mm_struct *mm)
{
	struct pvl_mm *pm = pvl_mm(mm);

	mmap_assert_write_locked(mm);
	atomic_store_explicit(&pm->mm_lock_seq,
			      atomic_load_explicit(&pm->mm_lock_seq,
						   memory_order_relaxed) + 1,
			      memory_order_release);
}

static bool pvl_vma_write_locked(struct vm_area_struct *vma)
{
	int seq;

	return __is_vma_write_locked(vma, &seq);
}

static void pvl_vma_mark_attached(struct vm_area_struct *vma)
{
	atomic_store_explicit(&pvl_vma(vma)->detached, false,
			      memory_order_relaxed);
}

/* Out of the tree for good: a fault that locked it anyway must look again. */
static void pvl_vma_mark_detached(struct vm_area_struct *vma)
{
	vma_assert_write_locked(vma);
	atomic_store_explicit(&pvl_vma(vma)->detached, true,
			      memory_order_relaxed);
}

static void pvl_tree_write_begin(struct mm_struct *mm)
{
	raw_write_seqcount_begin(&pvl_mm(mm)->tree_seq);
}

static void pvl_tree_write_end(struct mm_struct *mm)
{
	raw_write_seqcount_end(&pvl_mm(mm)->tree_seq);
}

static void pvl_vma_free_rcu(struct rcu_head *head)
{
	struct vm_area_struct *vma = (struct vm_area_struct *)
		((char *)head - offsetof(struct vm_area_struct, vm_rcu));

	__vm_area_free(&per_vma_lock_strategy, vma);
}

/*
 * A fault's lookup may still be looking at vma (it had not locked it
 * yet): free it after an RCU grace period.  The file goes now, as in the
 * kernel's remove_vma(): the lookup does not look at it.
 */
static void pvl_vma_free(struct vm_area_struct *vma)
{
	vma_put_file(vma);
	call_rcu(&vma->vm_rcu, pvl_vma_free_rcu);
}

/* --- the fault side ---------------------------------------------------------- */

/*
 * The VMA that contains or follows addr, found without the mmap lock; the
 * caller is in an RCU read side, which keeps whatever we return
 * allocated.  The walk retries while a tree writer ran (see the header).
 */
static struct vm_area_struct *pvl_find_vma(struct mm_struct *mm,
					   unsigned long addr)
{
	return find_vma_lockless(mm, addr, &pvl_mm(mm)->tree_seq);
}

/*
 * Try to lock vma for reading (vma_start_read).  False if a writer has
 * it locked in the current mmap write section, or holds its lock now.
 * The first check is only an early way out; the one that counts is made
 * under the lock, with acquire ordering against vma_end_write_all()'s
 * release: seeing the count moved on means seeing the writer's changes.
 */
static bool vma_start_read(struct vm_area_struct *vma)
{
	struct pvl_vma *v = pvl_vma(vma);
	struct pvl_mm *pm = pvl_mm(vma->vm_mm);
	memory_order mo = pvl_mutant(PVL_MUTANT_LOCK_SEQ_RELAXED) ?
			  memory_order_relaxed : memory_order_acquire;

	if (atomic_load_explicit(&v->vm_lock_seq, memory_order_relaxed) ==
	    atomic_load_explicit(&pm->mm_lock_seq, memory_order_relaxed))
		return false;
	if (!down_read_trylock(&v->vm_lock))
		return false;
	if (atomic_load_explicit(&v->vm_lock_seq, memory_order_relaxed) ==
	    atomic_load_explicit(&pm->mm_lock_seq, mo)) {
		up_read(&v->vm_lock);
		return false;
	}
	return true;
}

/* Drop the read lock, checking the lock's promise (<mmsim/strategy.h>). */
static void vma_end_read(struct vm_area_struct *vma)
{
	vma_read_stable_end(vma);
	up_read(&pvl_vma(vma)->vm_lock);
}

/* VMAs whose faults need more than anonymous pages, or userfaultfd. */
static bool pvl_vma_supported(struct vm_area_struct *vma)
{
	return vma_is_anonymous(vma) &&
	       !(READ_ONCE(vma->vm_flags) & (VM_SHARED | VM_UFFD_MISSING));
}

/*
 * Find the VMA of address and lock it for reading, or NULL: then the
 * fault takes the mmap lock (lock_vma_under_rcu).  The calling CPU runs
 * mm and holds no lock.
 */
static struct vm_area_struct *lock_vma_under_rcu(struct mm_struct *mm,
						 unsigned long address)
{
	struct vm_area_struct *vma;

	rcu_read_lock();
retry:
	vma = pvl_find_vma(mm, address);
	if (!vma)
		goto inval;
	mmsim_sched_point(SCHED_FAULT_LOOKUP, vma);
	if (!pvl_vma_supported(vma))
		goto inval;
	/*
	 * The mutant: 6.4's check, before the lock.  A writer may drop the
	 * anon_vma before we lock (mremap's MREMAP_DONTUNMAP), and the fault
	 * then prepares one looking at neighbours it holds no lock of.
	 */
	if (pvl_mutant(PVL_MUTANT_ANON_VMA_EARLY) &&
	    !__atomic_load_n(&vma->anon_vma, __ATOMIC_ACQUIRE))
		goto inval;
	if (!vma_start_read(vma))
		goto inval;
	/*
	 * Detached after we found it: its range now belongs to another, and
	 * munmap may still be tearing it down (unlink_anon_vmas()) under the
	 * read lock it downgraded to, which our lock does not exclude.  6.4
	 * checks this last; first here, so that every field read below is
	 * one that no writer can change while we hold the lock.
	 */
	if (atomic_load_explicit(&pvl_vma(vma)->detached,
				 memory_order_relaxed)) {
		vma_end_read(vma);
		count_fault_event(VMA_LOCK_MISS);
		goto retry;
	}
	/*
	 * find_mergeable_anon_vma() needs the neighbours: the mmap lock.  A
	 * classic fault may set anon_vma under the mmap read lock while we
	 * look (it only ever goes from NULL to set there): acquire, paired
	 * with __anon_vma_prepare()'s release.
	 */
	if (!pvl_mutant(PVL_MUTANT_ANON_VMA_EARLY) &&
	    !__atomic_load_n(&vma->anon_vma, __ATOMIC_ACQUIRE))
		goto inval_end_read;
	/* A split may have moved the bounds before we locked the VMA. */
	if (address < vma->vm_start || address >= vma->vm_end)
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

const struct fault_strategy per_vma_lock_strategy = {
	.name = "per-vma-lock",
	.help = "faults under a VMA lock, Linux 6.4-6.14 (vm_lock, mm_lock_seq)",
	.mm_private_size = sizeof(struct pvl_mm),
	.vma_private_size = sizeof(struct pvl_vma),
	.mm_init = pvl_mm_init,
	.vma_init = pvl_vma_init,
	.vma_free = pvl_vma_free,
	.lockless_fault = do_vma_lock_fault,
	.lock_vma_under_rcu = lock_vma_under_rcu,
	.vma_end_read = vma_end_read,
	.vma_start_write = pvl_vma_start_write,
	.vma_end_write_all = pvl_vma_end_write_all,
	.vma_write_locked = pvl_vma_write_locked,
	.tree_write_begin = pvl_tree_write_begin,
	.tree_write_end = pvl_tree_write_end,
	.vma_mark_attached = pvl_vma_mark_attached,
	.vma_mark_detached = pvl_vma_mark_detached,
	.events = vma_lock_event_names,
	.nr_events = NR_VMA_LOCK_EVENTS - FAULT_STRATEGY_EVENTS,
	.event_lockless = VMA_LOCK_SUCCESS,
	.abort_events = VMA_LOCK_ABORTS,
	.mutants = pvl_mutants,
	.nr_mutants = NR_PVL_MUTANTS,
};

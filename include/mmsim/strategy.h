/* SPDX-License-Identifier: MIT */
/*
 * Fault-locking strategies (docs/adding-a-strategy.md).  An mm picks one
 * when it is created.  The classic path (mmap lock for reading, find_vma,
 * handle_mm_fault) always exists and is every strategy's fallback; a
 * strategy adds some of:
 *
 *  - the fault side: lockless_fault() tries to handle a user fault
 *    without the mmap lock; VM_FAULT_RETRY (or an error) sends the fault
 *    down the classic path, which finds the VMA again;
 *  - the write side, in two families, called by every VMA modification
 *    site with the mmap lock held for writing:
 *      * write sections (the SPF series' vm_write_begin/end): a short
 *        section around each change of what a fault reads of one VMA,
 *        entered after the file's i_mmap_rwsem, and around each zap;
 *      * VMA write locks (the kernel's vma_start_write): taken before
 *        any other lock at every site that changes or detaches a VMA,
 *        and all dropped together when the mmap write lock is released
 *        or downgraded (vma_end_write_all);
 *    and the tree hooks around every change of the VMA tree, and the
 *    attach/detach hooks when a VMA enters or leaves it for good;
 *  - the VMA's memory: where it comes from (vma_cache_alloc, e.g. a
 *    cache whose objects are reused at once, SLAB_TYPESAFE_BY_RCU) and
 *    when a VMA that was reachable may be freed (vma_free: at once,
 *    after an RCU or SRCU grace period...);
 *  - state of its own in every VMA and every mm (vma_private_size,
 *    mm_private_size: zeroed, then vma_init/mm_init), so that a strategy
 *    needs no field in <mmsim/mm_types.h>;
 *  - the events it counts (events[]), with the kernel's names, and the
 *    mutants that put its historical bugs back (mutants[]).
 *
 * A hook left NULL does nothing.  The modification sites call the inline
 * wrappers at the end of this file, never a strategy directly, so that a
 * new strategy is one file in src/strategy/ and one line in
 * src/strategy/strategies.def; fault_strategy_check() refuses a strategy
 * whose hooks do not go together (see there).
 */
#ifndef MMSIM_STRATEGY_H
#define MMSIM_STRATEGY_H

#include <stddef.h>
#include <stdio.h>
#include <mmsim/lockdep.h>
#include <mmsim/mm_types.h>
#include <mmsim/mutant.h>

/* The per-CPU event slots: 0 counts page faults, the rest are the strategy's. */
#define FAULT_PAGE_FAULTS	0
#define FAULT_STRATEGY_EVENTS	1
#define NR_FAULT_EVENTS		MMSIM_MAX_FAULT_EVENTS

struct fault_strategy {
	const char *name;		/* "per-vma-lock": --strategy NAME */
	const char *help;		/* one line for --help */

	/* --- state of its own ----------------------------------------------- */
	size_t mm_private_size;		/* bytes at mm_strategy_private(mm) */
	size_t vma_private_size;	/* bytes at vma_strategy_private(vma) */
	/* A new mm (private part zeroed); nonzero fails mm_alloc(). */
	int (*mm_init)(struct mm_struct *mm);
	/* The mm is empty and nobody can reach it any more. */
	void (*mm_exit)(struct mm_struct *mm);
	/*
	 * A new VMA of mm (vm_area_alloc), or a copy (vm_area_dup: the
	 * private part is not copied).  Not linked yet.
	 */
	void (*vma_init)(struct vm_area_struct *vma);

	/* --- the VMA's memory ----------------------------------------------- */
	/*
	 * Memory for a VMA of vma_alloc_size() bytes, or NULL.  The core
	 * fills in everything before vm_strategy_data; the private part is
	 * the strategy's (a reused object keeps what it had).  NULL hook:
	 * calloc.  vma_cache_free gives one back (NULL hook: free).
	 */
	struct vm_area_struct *(*vma_cache_alloc)(void);
	void (*vma_cache_free)(struct vm_area_struct *vma);
	/*
	 * Drop a VMA that is out of the tree and was reachable by lockless
	 * readers, with its file reference (vma_put_file()): at once, or
	 * when no reader can hold it any more.  Required.
	 */
	void (*vma_free)(struct vm_area_struct *vma);
	/*
	 * Between these two, a VMA that leaves the tree is not freed yet
	 * (for spf-srcu: an SRCU read side): for a writer that ends the
	 * write section of a VMA it has unmapped inside that section
	 * (mremap's move_vma).  Required with write sections when vma_free
	 * may defer; a strategy without write sections needs none.
	 */
	int (*vma_free_defer_begin)(void);
	void (*vma_free_defer_end)(int idx);

	/* --- the fault side ------------------------------------------------- */
	/*
	 * Handle a user fault of the calling CPU's task without the mmap
	 * lock.  Returns VM_FAULT_* bits; VM_FAULT_RETRY: not done, take the
	 * classic path.  NULL: always the classic path.  The caller runs mm
	 * and holds no lock.
	 */
	vm_fault_t (*lockless_fault)(struct mm_struct *mm, unsigned long address,
				     unsigned int flags);
	/*
	 * A VMA-lock design sets lockless_fault to do_vma_lock_fault(), the
	 * arch fault handler's per-VMA block, which calls these two: find
	 * the VMA of address and lock it for reading, or NULL (counting
	 * VMA_LOCK_ABORT or _MISS); and release it.  Both or neither.
	 */
	struct vm_area_struct *(*lock_vma_under_rcu)(struct mm_struct *mm,
						     unsigned long address);
	void (*vma_end_read)(struct vm_area_struct *vma);
	/*
	 * Does the calling CPU hold the strategy's own fault lock on vma
	 * (vma NULL: on some VMA of mm)?  What vma_assert_fault_locked()
	 * accepts besides the mmap lock: handle_mm_fault() and page-table
	 * allocation may then run (__anon_vma_prepare() wants the mmap lock
	 * itself: it looks at the neighbours).  NULL: never.  A VMA-lock
	 * strategy (lock_vma_under_rcu) needs none: the core knows which VMA
	 * do_vma_lock_fault() holds.
	 */
	bool (*fault_lock_held)(struct mm_struct *mm, struct vm_area_struct *vma);

	/* --- the write side: sections ----------------------------------------- */
	/*
	 * vm_write_begin/end: both or neither.  May nest and overlap on one
	 * VMA (mremap's outer section holds munmap's; the zap of
	 * unmap_mapping_range() holds only i_mmap_rwsem).  The wrappers do
	 * lockdep's bookkeeping (class vm_sequence), never the hooks.
	 */
	void (*vm_write_begin)(struct vm_area_struct *vma);
	void (*vm_write_end)(struct vm_area_struct *vma);

	/* --- the write side: VMA write locks ---------------------------------- */
	/*
	 * vma_start_write: the mmap-lock writer is about to change or
	 * detach vma; the VMA stays write-locked until vma_end_write_all(mm)
	 * at mmap_write_unlock() or mmap_write_downgrade().  Taking it again
	 * in the same mmap write section does nothing.  Both or neither.
	 */
	void (*vma_start_write)(struct vm_area_struct *vma);
	void (*vma_end_write_all)(struct mm_struct *mm);
	/* Does the mmap-lock writer hold vma's write lock?  (asserts) */
	bool (*vma_write_locked)(struct vm_area_struct *vma);

	/* --- the tree ----------------------------------------------------------- */
	void (*tree_write_begin)(struct mm_struct *mm);
	void (*tree_write_end)(struct mm_struct *mm);
	/*
	 * vma enters the tree (__vma_link_rb), or leaves it for good
	 * (__vma_unlink: munmap, a merge that removes it).  Both have the
	 * mmap lock for writing, and a detached VMA was vma_start_write()n.
	 */
	void (*vma_mark_attached)(struct vm_area_struct *vma);
	void (*vma_mark_detached)(struct vm_area_struct *vma);

	/* --- what it counts, and how it can be broken ------------------------- */
	/*
	 * Names of the strategy's events, slots FAULT_STRATEGY_EVENTS on
	 * (count_fault_event(slot)); event_lockless is the slot of "a fault
	 * handled without the mmap lock", abort_events the slots that count
	 * a lockless try given up (bit per slot).
	 */
	const char *const *events;
	unsigned int nr_events;
	unsigned int event_lockless;
	unsigned long abort_events;
	/* Its mutants (mmsim_mutant_active() tells which one runs), and count. */
	const struct mmsim_mutant_desc *mutants;
	unsigned int nr_mutants;
};

extern const struct fault_strategy classic_strategy;

/* The registry: every strategy of src/strategy/strategies.def, in order. */
unsigned int fault_strategy_count(void);
const struct fault_strategy *fault_strategy_get(unsigned int i);
/* By name ("classic", "spf-srcu"...), NULL if unknown. */
const struct fault_strategy *fault_strategy_find(const char *name);
/*
 * Add a strategy built outside the tree (before it is used; names must
 * be new).  Returns 0, -EINVAL if fault_strategy_check() refuses it,
 * -EEXIST or -ENOSPC.
 */
int fault_strategy_register(const struct fault_strategy *s);
/*
 * Do the hooks go together?  Returns NULL, or what is wrong ("vm_write_begin
 * without vm_write_end").  Every registered strategy has passed it.
 */
const char *fault_strategy_check(const struct fault_strategy *s);
/* Print every strategy's name (and help with verbose), one per line. */
void fault_strategy_list(FILE *out, const char *indent, bool verbose);
/*
 * The strategy mm_alloc() gives a new mm: $MMSIM_STRATEGY if set (so the
 * whole test suite runs under each strategy), else classic.
 */
const struct fault_strategy *fault_strategy_default(void);
/* mm_alloc() with a given strategy (NULL: the default).  NULL on error. */
struct mm_struct *mm_alloc_strategy(unsigned int pgtable_levels,
				    const struct fault_strategy *strategy);

/* Every mutant, with its help and the strategies it applies to. */
void mmsim_mutant_list(FILE *out, int indent);
/* The names of the mutants that apply to s, one per line. */
void mmsim_mutant_list_for(FILE *out, const struct fault_strategy *s);
/* Does the mutant apply to s: one of s's own, or a core one that names s? */
bool fault_strategy_has_mutant(const struct fault_strategy *s,
			       const char *mutant);

/* --- events ------------------------------------------------------------------ */

/* Count event slot ev on this CPU. */
void count_fault_event(unsigned int ev);
/* Sum over all CPUs, every slot. */
void fault_events_read(unsigned long out[NR_FAULT_EVENTS]);
void fault_events_reset(void);
/* "page-faults" for slot 0, else s's name of the slot ("?" if none). */
const char *fault_event_name(const struct fault_strategy *s, unsigned int ev);
/* Faults s handled without the mmap lock (0 for classic). */
unsigned long fault_events_lockless(const struct fault_strategy *s,
				    const unsigned long ev[NR_FAULT_EVENTS]);
/* A `perf stat`-like summary of s's events. */
void fault_events_print(FILE *out, const struct fault_strategy *s,
			const unsigned long ev[NR_FAULT_EVENTS]);

/* --- the shared parts of lockless faults --------------------------------- */

/*
 * find_vma() without the mmap lock, retried while tree_seq moved (see
 * src/mm/vma_tree.c).  The caller is in an RCU or SRCU read side.
 */
struct vm_area_struct *find_vma_lockless(struct mm_struct *mm,
					 unsigned long addr,
					 const seqcount_t *tree_seq);
/*
 * May a fault with these FAULT_FLAG_*s be handled in a VMA with vm_flags
 * (x86's access_error() from the fault flags)?  True: no, the classic
 * path decides (and delivers the signal).
 */
bool fault_access_error(unsigned int flags, unsigned long vm_flags);

/*
 * The events of every VMA-lock design (the kernel's vmstat names), for
 * its events[] (vma_lock_event_names), counted by do_vma_lock_fault()
 * and the strategy's lock_vma_under_rcu.
 */
enum vma_lock_event {
	VMA_LOCK_SUCCESS = FAULT_STRATEGY_EVENTS, /* handled under the VMA lock */
	VMA_LOCK_ABORT,		/* no VMA, or one we may not lock: mmap lock */
	VMA_LOCK_RETRY,		/* the fault asked for the mmap lock */
	VMA_LOCK_MISS,		/* the VMA was detached: looked up again */
	NR_VMA_LOCK_EVENTS
};

extern const char *const vma_lock_event_names[];
#define VMA_LOCK_ABORTS	(1UL << VMA_LOCK_ABORT | 1UL << VMA_LOCK_RETRY | \
			 1UL << VMA_LOCK_MISS)

/*
 * The per-VMA-lock block of do_user_addr_fault() (Linux 6.4): the
 * strategy's lock_vma_under_rcu, the access check, handle_mm_fault()
 * with FAULT_FLAG_VMA_LOCK, vma_end_read.  A VMA-lock strategy's
 * lockless_fault.
 */
vm_fault_t do_vma_lock_fault(struct mm_struct *mm, unsigned long address,
			     unsigned int flags);
/*
 * Does this CPU hold vma (NULL: some VMA of mm) under do_vma_lock_fault()?
 * What vma_fault_locked() accepts for a VMA-lock strategy, which so needs
 * no fault_lock_held of its own.
 */
bool vma_lock_held_by_me(struct mm_struct *mm, struct vm_area_struct *vma);

/* --- for a strategy with VMA read locks ------------------------------------ */

/*
 * A VMA read lock promises that nothing a fault reads of the VMA changes
 * until it is released: every writer of those fields write-locks the VMA
 * first, which waits for the readers.  vma_read_stable_begin() (once the
 * lock is held and the VMA known attached) records them for this CPU;
 * vma_read_stable_end() (before the release) warns if they changed, as
 * lockdep checks a lock's rules rather than their effects.  So a site
 * that changes a VMA without vma_start_write() (docs/races.md races 7, 8,
 * 10) is caught whenever a fault overlaps it, whatever the change does.
 * A debugging check: only while lockdep is on (stress and explore switch
 * it on), so that benchmarks do not pay for it.
 */
void vma_read_stable_begin(struct vm_area_struct *vma);
void vma_read_stable_end(struct vm_area_struct *vma);

/* --- for a strategy's vma_free -------------------------------------------- */

/* Drop the VMA's file reference, when the VMA itself goes. */
void vma_put_file(struct vm_area_struct *vma);
/*
 * Give a VMA's memory back to strategy s (its vma_cache_free, or free()):
 * the end of a deferred vma_free, when the mm may be gone already.
 */
void __vm_area_free(const struct fault_strategy *s, struct vm_area_struct *vma);

/* --- private state --------------------------------------------------------- */

static inline void *vma_strategy_private(struct vm_area_struct *vma)
{
	return vma->vm_strategy_data;
}

static inline void *mm_strategy_private(struct mm_struct *mm)
{
	return mm->mm_strategy_data;
}

/* Bytes of a VMA of s, with its private part. */
static inline size_t vma_alloc_size(const struct fault_strategy *s)
{
	return sizeof(struct vm_area_struct) + s->vma_private_size;
}

/* --- the hooks the modification sites call --------------------------------- */

/*
 * A write section of one VMA, for lockdep a lock of class vm_sequence held
 * from begin to end, as the series' seqcount_t was (write_seqcount_begin):
 * __vma_adjust() must enter it after i_mmap_rwsem, which
 * unmap_mapping_range() holds when its zap enters it (docs/races.md,
 * race 2).  A second VMA's section inside the first takes the subclass
 * SINGLE_DEPTH_NESTING (class "vm_sequence/1"), as in the series.
 * Nothing at all for a strategy without sections.
 */
#define SINGLE_DEPTH_NESTING	1

static inline void vm_write_begin_nested(struct vm_area_struct *vma,
					 int subclass)
{
	const struct fault_strategy *s = vma->vm_mm->strategy;

	if (!s->vm_write_begin)
		return;
	mmsim_lock_acquired(&vma->vm_sequence,
			    subclass ? "vm_sequence/1" : "vm_sequence");
	s->vm_write_begin(vma);
}

static inline void vm_write_begin(struct vm_area_struct *vma)
{
	vm_write_begin_nested(vma, 0);
}

static inline void vm_write_end(struct vm_area_struct *vma)
{
	const struct fault_strategy *s = vma->vm_mm->strategy;

	if (!s->vm_write_end)
		return;
	s->vm_write_end(vma);
	mmsim_lock_released(&vma->vm_sequence);
}

/*
 * An outer write section, one that lasts a whole operation on the VMA:
 * the copy of a VMA by fork (until the TLB flush, race 5), a new VMA
 * until mmap_region() has finished it (race 8), mremap's source and copy
 * until the source is unmapped.  Strategies with VMA write locks get the
 * same protection from vma_start_write(), which the same sites call.  As
 * for vma_start_write(), lockdep is told of an acquisition released at
 * once: ordered after the locks held now, with nothing ordered after it
 * (such a section encloses splits that take i_mmap_rwsem, and no writer
 * ever waits for a section to end).
 */
static inline void vm_write_begin_outer(struct vm_area_struct *vma)
{
	const struct fault_strategy *s = vma->vm_mm->strategy;

	if (!s->vm_write_begin)
		return;
	if (atomic_load_explicit(&lockdep_enabled, memory_order_relaxed))
		lockdep_acquire("vm_sequence");
	s->vm_write_begin(vma);
}

static inline void vm_write_end_outer(struct vm_area_struct *vma)
{
	const struct fault_strategy *s = vma->vm_mm->strategy;

	if (s->vm_write_end)
		s->vm_write_end(vma);
}

/*
 * Write-lock vma until the mmap write lock is dropped or downgraded
 * (vma_start_write).  The caller holds the mmap lock for writing and no
 * other lock that a fault under the VMA lock may wait for: so before
 * i_mmap_lock_write(), as the kernel's vma_prepare() callers do.
 */
static inline void vma_start_write(struct vm_area_struct *vma)
{
	const struct fault_strategy *s = vma->vm_mm->strategy;

	if (s->vma_start_write)
		s->vma_start_write(vma);
}

/* Drop every VMA write lock of mm (mmap_write_unlock/downgrade). */
static inline void vma_end_write_all(struct mm_struct *mm)
{
	if (mm->strategy->vma_end_write_all)
		mm->strategy->vma_end_write_all(mm);
}

/* The strategy's VMA write lock is held (always true without one). */
void vma_assert_write_locked(struct vm_area_struct *vma);
/*
 * The caller may fault in vma: it holds the mmap lock, or the strategy's
 * fault lock on vma (the kernel's vma_assert_locked() in a fault path).
 * vma NULL: on some VMA of mm.
 */
void vma_assert_fault_locked(struct mm_struct *mm, struct vm_area_struct *vma);
/* The same, as a test: for WARN_ON()s. */
bool vma_fault_locked(struct mm_struct *mm, struct vm_area_struct *vma);
/* Only the strategy's own fault lock, held by this CPU (not the mmap lock). */
bool vma_fault_locked_by_me(struct mm_struct *mm, struct vm_area_struct *vma);

static inline void vma_mark_attached(struct vm_area_struct *vma)
{
	const struct fault_strategy *s = vma->vm_mm->strategy;

	if (s->vma_mark_attached)
		s->vma_mark_attached(vma);
}

static inline void vma_mark_detached(struct vm_area_struct *vma)
{
	const struct fault_strategy *s = vma->vm_mm->strategy;

	if (s->vma_mark_detached)
		s->vma_mark_detached(vma);
}

static inline int vma_free_defer_begin(struct mm_struct *mm)
{
	if (mm->strategy->vma_free_defer_begin)
		return mm->strategy->vma_free_defer_begin();
	return 0;
}

static inline void vma_free_defer_end(struct mm_struct *mm, int idx)
{
	if (mm->strategy->vma_free_defer_end)
		mm->strategy->vma_free_defer_end(idx);
}

static inline void mm_rb_write_begin(struct mm_struct *mm)
{
	if (mm->strategy->tree_write_begin)
		mm->strategy->tree_write_begin(mm);
}

static inline void mm_rb_write_end(struct mm_struct *mm)
{
	if (mm->strategy->tree_write_end)
		mm->strategy->tree_write_end(mm);
}

#endif /* MMSIM_STRATEGY_H */

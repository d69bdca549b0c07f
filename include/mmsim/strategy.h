/* SPDX-License-Identifier: MIT */
/*
 * Fault-locking strategies (shared/docs/architecture.md, "Fault locking
 * strategies").  An mm picks one when it is created.  The classic path
 * (mmap lock for reading, find_vma, handle_mm_fault) always exists and is
 * every strategy's fallback; a strategy adds:
 *
 *  - the fault side: try to handle a fault without the mmap lock
 *    (speculative_fault); VM_FAULT_RETRY (or an error) sends the fault
 *    down the classic path;
 *  - the write side: hooks that every VMA modification site calls, with
 *    the mmap lock held for writing: around a change of what a fault reads
 *    of one VMA (vma_write_begin/end, the SPF series' vm_write_begin) and
 *    around a change of the VMA tree (tree_write_begin/end);
 *  - the VMA freeing rule (vma_free): at once, after a grace period, when
 *    the last reference goes...
 *
 * A hook left NULL does nothing.  The modification sites call the inline
 * wrappers at the end of this file, never a strategy directly, so that a
 * new strategy (spf-refcount, mmap-seq, per-vma-lock, pte-cmpxchg) needs
 * no change at those sites.
 */
#ifndef MMSIM_STRATEGY_H
#define MMSIM_STRATEGY_H

#include <stdio.h>
#include <mmsim/lockdep.h>
#include <mmsim/mm_types.h>

struct fault_strategy {
	const char *name;
	/* Set up and tear down the strategy's part of a new mm. */
	int (*mm_init)(struct mm_struct *mm);
	void (*mm_exit)(struct mm_struct *mm);
	/*
	 * Handle a user fault of the calling CPU's task without the mmap
	 * lock.  Returns VM_FAULT_* bits; VM_FAULT_RETRY: not done, take the
	 * classic path.  NULL: always the classic path.
	 */
	vm_fault_t (*speculative_fault)(struct mm_struct *mm,
					unsigned long address,
					unsigned int flags);
	void (*vma_write_begin)(struct vm_area_struct *vma);
	void (*vma_write_end)(struct vm_area_struct *vma);
	void (*tree_write_begin)(struct mm_struct *mm);
	void (*tree_write_end)(struct mm_struct *mm);
	/* Free a VMA that is out of the tree, with its file reference. */
	void (*vma_free)(struct vm_area_struct *vma);
	/*
	 * Between these two, a VMA that leaves the tree is not freed yet
	 * (for spf-srcu: an SRCU read-side section): for a writer that ends
	 * the write section of a VMA it has unmapped inside that section
	 * (mremap's move_vma).  NULL when vma_free frees at once; such a
	 * strategy has no write sections to end either.
	 */
	int (*vma_free_defer_begin)(void);
	void (*vma_free_defer_end)(int idx);
};

extern const struct fault_strategy classic_strategy;
extern const struct fault_strategy spf_srcu_strategy;

/* By name ("classic", "spf-srcu"), NULL if unknown. */
const struct fault_strategy *fault_strategy_find(const char *name);
/* Names of all strategies, NULL-terminated. */
extern const char *const fault_strategy_names[];
/*
 * The strategy mm_alloc() gives a new mm: $MMSIM_STRATEGY if set (so the
 * whole test suite runs under each strategy), else classic.
 */
const struct fault_strategy *fault_strategy_default(void);
/* mm_alloc() with a given strategy (NULL: the default).  NULL on error. */
struct mm_struct *mm_alloc_strategy(unsigned int pgtable_levels,
				    const struct fault_strategy *strategy);

/*
 * Events of the fault path, counted per CPU, with the kernel's names for
 * the speculative aborts (SPF series, vmstat and trace events).
 */
enum fault_event {
	FAULT_PAGE_FAULTS,	/* do_user_addr_fault() entries */
	SPF_ATTEMPT,		/* speculative tries */
	SPF_COMPLETED,		/* ... handled without the mmap lock */
	SPF_VMA_CHANGED,	/* the VMA changed (vm_sequence, dead node) */
	SPF_VMA_NOANON,		/* anonymous VMA without anon_vma yet */
	SPF_VMA_NOTSUP,		/* VMA kind not supported speculatively */
	SPF_VMA_ACCESS,		/* access not allowed by the VMA */
	SPF_PMD_CHANGED,	/* PMD none, or changed under us */
	SPF_PTE_LOCK,		/* PTE lock busy (spin_trylock failed) */
	SPF_SINGLE_THREAD,	/* mm has one user: not tried */
	NR_FAULT_EVENTS
};

extern const char *const fault_event_names[NR_FAULT_EVENTS];

void count_fault_event(enum fault_event ev);
/* Sum over all CPUs. */
void fault_events_read(unsigned long out[NR_FAULT_EVENTS]);
void fault_events_reset(void);
/* A `perf stat`-like summary of the events. */
void fault_events_print(FILE *out, const unsigned long ev[NR_FAULT_EVENTS]);

/* --- the hooks the modification sites call --------------------------------- */

/*
 * A write section of one VMA, for lockdep a lock of class vm_sequence held
 * from begin to end, as the series' seqcount_t was (write_seqcount_begin):
 * __vma_adjust() must enter it after i_mmap_rwsem, which
 * unmap_mapping_range() holds when its zap enters it (races.md race 2).
 * A second VMA's section inside the first takes the subclass
 * SINGLE_DEPTH_NESTING (class "vm_sequence/1"), as in the series.
 */
#define SINGLE_DEPTH_NESTING	1

static inline void vm_write_begin_nested(struct vm_area_struct *vma,
					 int subclass)
{
	const struct fault_strategy *s = vma->vm_mm->strategy;

	if (!s->vma_write_begin)
		return;
	mmsim_lock_acquired(&vma->vm_sequence,
			    subclass ? "vm_sequence/1" : "vm_sequence");
	s->vma_write_begin(vma);
}

static inline void vm_write_begin(struct vm_area_struct *vma)
{
	vm_write_begin_nested(vma, 0);
}

static inline void vm_write_end(struct vm_area_struct *vma)
{
	const struct fault_strategy *s = vma->vm_mm->strategy;

	if (!s->vma_write_end)
		return;
	s->vma_write_end(vma);
	mmsim_lock_released(&vma->vm_sequence);
}

/*
 * A write section that lasts a whole operation on the VMA: the copy of a
 * VMA by fork (until the TLB flush, race 5), a new VMA until mmap_region()
 * has finished it (race 8), mremap's source and copy until the source is
 * unmapped.  The kernel's per-VMA locks take these with vma_start_write()
 * and drop them all at mmap_write_unlock(); mmsim ends each one with
 * vma_end_write().  As for vma_start_write(), lockdep is told of an
 * acquisition released at once: ordered after the locks held now, with
 * nothing ordered after it (such a section encloses splits that take
 * i_mmap_rwsem, and no writer ever waits for a section to end).
 */
static inline void vma_start_write(struct vm_area_struct *vma)
{
	const struct fault_strategy *s = vma->vm_mm->strategy;

	if (!s->vma_write_begin)
		return;
	if (atomic_load_explicit(&lockdep_enabled, memory_order_relaxed))
		lockdep_acquire("vm_sequence");
	s->vma_write_begin(vma);
}

static inline void vma_end_write(struct vm_area_struct *vma)
{
	const struct fault_strategy *s = vma->vm_mm->strategy;

	if (s->vma_write_end)
		s->vma_write_end(vma);
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

// SPDX-License-Identifier: MIT
/*
 * VMA allocation, linking, splitting and merging (the kernel's mm/vma.c).
 *
 * The merge rules are those of Linux 6.x: two VMAs merge when they are
 * adjacent, have the same flags (VM_SOFTDIRTY aside) and file, a contiguous
 * vm_pgoff, and compatible anon_vmas (equal, or one of them still NULL while
 * the other VMA has not been forked from a parent).
 *
 * Every function here requires the mmap lock held for writing.
 *
 * Speculative faults (spf-srcu) read VMAs without the mmap lock.  So every
 * field a fault reads (vm_start, vm_end, vm_pgoff, vm_flags, vm_page_prot,
 * anon_vma, vm_ops, vm_file) is written with WRITE_ONCE once the VMA may
 * be in the tree, inside a vm_sequence write section of that VMA
 * (vm_write_begin/end), which tells a fault that looked at it to retry the
 * classic way; a VMA not linked yet is filled in with plain stores, since
 * linking it publishes it.  A VMA that was in the tree is freed through
 * the strategy (vma_free: after an SRCU grace period for spf-srcu), as a
 * fault may still be looking at it; one that never was is freed at once.
 */
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <mmsim/mutant.h>
#include <mmsim/strategy.h>

#include "mm/internal.h"

int sysctl_max_map_count = DEFAULT_MAX_MAP_COUNT;

/*
 * Memory for a VMA of mm's strategy: its own cache if it keeps one (a
 * reused object keeps its private part), else zeroed memory.
 */
static struct vm_area_struct *vma_cache_alloc(struct mm_struct *mm)
{
	const struct fault_strategy *s = mm->strategy;

	if (s->vma_cache_alloc)
		return s->vma_cache_alloc();
	return calloc(1, vma_alloc_size(s));
}

/*
 * Set the fields before vm_sequence to src's (NULL: zeros).  A strategy
 * whose cache hands a freed VMA out again at once (SLAB_TYPESAFE_BY_RCU)
 * lets a lockless walk of another CPU read this object's bounds and tree
 * links while we fill it in, and throw what it read away on its retry:
 * so every word is stored whole, atomically, never torn (and TSan sees
 * two atomic accesses, not a race).
 */
#define VMA_COPIED	offsetof(struct vm_area_struct, vm_sequence)
_Static_assert(VMA_COPIED % sizeof(unsigned long) == 0,
	       "the copied fields are whole words");

static void vma_set_fields(struct vm_area_struct *dst,
			   const struct vm_area_struct *src)
{
	unsigned long *to = (unsigned long *)dst;
	const unsigned long *from = (const unsigned long *)src;

	for (size_t i = 0; i < VMA_COPIED / sizeof(*to); i++)
		__atomic_store_n(&to[i], from ? from[i] : 0, __ATOMIC_RELAXED);
}

/* The fields before vm_strategy_data that are not the VMA's contents. */
static void vma_init_links(struct vm_area_struct *vma, struct mm_struct *mm)
{
	vma->vm_mm = mm;
	INIT_LIST_HEAD(&vma->anon_vma_chain);
	INIT_LIST_HEAD(&vma->shared);
	RB_CLEAR_NODE(&vma->vm_rb);
	vma->vm_next = vma->vm_prev = NULL;
	seqcount_init(&vma->vm_sequence);
	vma->vm_write_nest = 0;
	__spin_lock_init(&vma->vm_sequence_lock, "vm_sequence_lock");
	memset(&vma->vm_rcu, 0, sizeof(vma->vm_rcu));
}

/* A new, zeroed VMA of mm, not yet linked anywhere. */
struct vm_area_struct *vm_area_alloc(struct mm_struct *mm)
{
	struct vm_area_struct *vma = vma_cache_alloc(mm);

	if (!vma)
		return NULL;
	vma_set_fields(vma, NULL);
	memset(&vma->vm_sequence, 0,
	       offsetof(struct vm_area_struct, vm_strategy_data) - VMA_COPIED);
	vma_init_links(vma, mm);
	if (mm->strategy->vma_init)
		mm->strategy->vma_init(vma);
	return vma;
}

/*
 * A copy of orig's fields, unlinked: the caller clones the anon_vma chain
 * and takes the file reference.  The copy gets a vm_sequence of its own,
 * even: orig may be inside a write section (fork copies VMAs whose
 * sequence it holds odd), and a VMA born odd would never look stable.
 * The strategy's part is the strategy's to set up (vma_init), not a copy.
 */
struct vm_area_struct *vm_area_dup(struct vm_area_struct *orig)
{
	struct mm_struct *mm = orig->vm_mm;
	struct vm_area_struct *new = vma_cache_alloc(mm);

	if (!new)
		return NULL;
	/*
	 * Not the fields from vm_sequence on: other writers may be changing
	 * them (unmap_mapping_range, and unlinks beside us on i_mmap).
	 */
	vma_set_fields(new, orig);
	memset(&new->vm_sequence, 0,
	       offsetof(struct vm_area_struct, vm_strategy_data) - VMA_COPIED);
	vma_init_links(new, mm);
	if (mm->strategy->vma_init)
		mm->strategy->vma_init(new);
	return new;
}

/*
 * Give the memory of a VMA of strategy s back (to s's cache, if it keeps
 * one).  For a strategy's deferred free: the mm may be gone by then.
 */
void __vm_area_free(const struct fault_strategy *s, struct vm_area_struct *vma)
{
	if (s->vma_cache_free)
		s->vma_cache_free(vma);
	else
		free(vma);
}

/*
 * Free a VMA that was never in the tree (an error path, or what a failed
 * split or copy built): nobody else can have seen it.  A VMA that was in
 * the tree goes through remove_vma() or the strategy's vma_free, which
 * ends in __vm_area_free() when no reader can hold it any more.
 */
void vm_area_free(struct vm_area_struct *vma)
{
	__vm_area_free(vma->vm_mm->strategy, vma);
}

/* Drop the VMA's file reference, when the VMA itself goes (vma_free). */
void vma_put_file(struct vm_area_struct *vma)
{
	if (vma->vm_file)
		fput(vma->vm_file);
}

/*
 * Close a VMA that is already out of the tree and free it with its
 * references: its place on the anon_vmas now, the file and the VMA
 * itself through the strategy (mm->strategy->vma_free), which may wait
 * for lockless readers that still look at it.  The caller holds the mmap
 * lock (for reading after munmap's downgrade) or owns the dying mm.
 */
void remove_vma(struct vm_area_struct *vma)
{
	if (vma->vm_ops && vma->vm_ops->close)
		vma->vm_ops->close(vma);
	unlink_anon_vmas(vma);
	/*
	 * free_pgtables() took it off i_mmap (which leaves nobody else
	 * writing its links); the VMA must not stay there.
	 */
	if (WARN_ON(!list_empty(&vma->shared)))
		unlink_file_vma(vma);
	vma->vm_mm->strategy->vma_free(vma);
}

/* --- the VMAs of a file (i_mmap) ------------------------------------------ */

/* The file mapping lock of a VMA (i_mmap_lock_write), if it maps a file. */
static struct address_space *vma_i_mmap_lock_write(struct vm_area_struct *vma)
{
	struct file *file = vma->vm_file;

	if (!file)
		return NULL;
	i_mmap_lock_write(&file->f_mapping);
	return &file->f_mapping;
}

static void vma_i_mmap_unlock_write(struct address_space *mapping)
{
	if (mapping)
		i_mmap_unlock_write(mapping);
}

/*
 * Put vma on its file's i_mmap (__vma_link_file): right after the VMA it
 * was made from (after), or at the end.  i_mmap_rwsem is held for writing.
 */
static void __vma_link_file(struct vm_area_struct *vma,
			    struct vm_area_struct *after)
{
	struct address_space *mapping = &vma->vm_file->f_mapping;

	lockdep_assert_held(&mapping->i_mmap_rwsem);
	VM_BUG_ON(!list_empty(&vma->shared));
	if (after)
		list_add(&vma->shared, &after->shared);
	else
		list_add_tail(&vma->shared, &mapping->i_mmap);
}

/* fork: the child's copy of a VMA of a file goes right after the parent's. */
void vma_link_file_after(struct vm_area_struct *vma,
			 struct vm_area_struct *after)
{
	struct address_space *mapping = vma_i_mmap_lock_write(vma);

	if (mapping)
		__vma_link_file(vma, after);
	vma_i_mmap_unlock_write(mapping);
}

/*
 * Take vma off its file's i_mmap (unlink_file_vma), before its page
 * tables are freed: unmap_mapping_range() must not walk them after that.
 */
void unlink_file_vma(struct vm_area_struct *vma)
{
	struct address_space *mapping = vma_i_mmap_lock_write(vma);

	/* Under the lock: an unlink beside us writes our links. */
	if (mapping && !list_empty(&vma->shared))
		list_del_init(&vma->shared);
	vma_i_mmap_unlock_write(mapping);
}

/* Insert vma into the tree and the list; -ENOMEM if it overlaps a VMA. */
static int __vma_link(struct mm_struct *mm, struct vm_area_struct *vma)
{
	struct vm_area_struct *prev;
	struct rb_node **rb_link, *rb_parent;

	mmap_assert_write_locked(mm);
	if (find_vma_links(mm, vma->vm_start, vma->vm_end, &prev, &rb_link,
			   &rb_parent))
		return -ENOMEM;
	__vma_link_list(mm, vma, prev);
	__vma_link_rb(mm, vma, rb_link, rb_parent);
	mm->map_count++;
	return 0;
}

/*
 * Insert a new VMA into the tree and the list, and on its file's i_mmap.
 * Returns -ENOMEM if the range overlaps an existing VMA.
 */
int vma_link(struct mm_struct *mm, struct vm_area_struct *vma)
{
	struct address_space *mapping = vma_i_mmap_lock_write(vma);
	int err = __vma_link(mm, vma);

	if (!err && mapping)
		__vma_link_file(vma, NULL);
	vma_i_mmap_unlock_write(mapping);
	return err;
}

/*
 * An anon_vma moves with the pages when gone is swallowed by vma.  gone
 * was in the tree, and a fault may still hold it: its write section ends
 * (a fault that sampled it sees the change, one that samples it now finds
 * its node cleared) and it is freed through the strategy, with its file.
 */
static void vma_remove_merged(struct mm_struct *mm, struct vm_area_struct *vma,
			      struct vm_area_struct *gone)
{
	if (gone->anon_vma)
		anon_vma_merge(vma, gone);
	mm->map_count--;
	vm_write_end(gone);
	mm->strategy->vma_free(gone);
}

/* Out of the tree, and off the file's i_mmap (its lock is held). */
static void __vma_unlink_shared(struct mm_struct *mm,
				struct vm_area_struct *vma)
{
	__vma_unlink(mm, vma);
	if (vma->vm_file)
		list_del_init(&vma->shared);
}

/*
 * Write-lock every VMA whose range va changes or that it removes, and the
 * one it inserts, before any other lock (the kernel's callers of
 * vma_prepare() do so): a fault under one of these VMA locks may wait for
 * the file's locks.  The mutant stack-no-vma-write leaves the stack
 * VMA that expand_stack() grows unlocked (race 7).
 */
static void vma_adjust_start_write(struct vma_adjust *va)
{
	if (!va->stack_no_vma_write)
		vma_start_write(va->vma);
	/* Not in the tree yet; locked before it is (as the kernel since 6.6). */
	if (va->insert)
		vma_start_write(va->insert);
	if (va->adjust)
		vma_start_write(va->adjust);
	if (va->remove)
		vma_start_write(va->remove);
	if (va->remove2)
		vma_start_write(va->remove2);
}

/*
 * Open the write sections of every VMA whose range va changes; insert is
 * complete before it is linked and needs none.
 */
static void vma_adjust_write_begin(struct vma_adjust *va)
{
	vm_write_begin(va->vma);
	if (va->adjust)
		vm_write_begin_nested(va->adjust, SINGLE_DEPTH_NESTING);
	if (va->remove)
		vm_write_begin_nested(va->remove, SINGLE_DEPTH_NESTING);
	if (va->remove2)
		vm_write_begin_nested(va->remove2, SINGLE_DEPTH_NESTING);
}

/*
 * The one place where existing VMAs change their range (see struct
 * vma_adjust).  Removed VMAs leave the tree first, so that vma can grow over
 * them; the gap augment is refreshed for every VMA whose start or whose
 * predecessor's end moved.
 *
 * Lock order (the series' patch 05, docs/races.md race 2): the file mapping
 * lock (i_mmap_rwsem) first, then the vm_sequence write sections, as
 * unmap_mapping_range() holds i_mmap_rwsem when it zaps (and so enters
 * vm_sequence).  The caller holds the mmap lock for writing.
 */
void __vma_adjust(struct mm_struct *mm, struct vma_adjust *va)
{
	struct vm_area_struct *vma = va->vma;
	bool seq_first = mmsim_mutant_is(MUTANT_SEQ_BEFORE_MAPPING_LOCK);
	struct address_space *mapping;

	mmap_assert_write_locked(mm);
	VM_BUG_ON(va->adjust == vma || va->remove == vma ||
		  va->remove2 == vma);
	vma_adjust_start_write(va);
	if (seq_first)
		vma_adjust_write_begin(va);
	mapping = vma_i_mmap_lock_write(vma);
	if (!seq_first)
		vma_adjust_write_begin(va);

	if (va->remove)
		__vma_unlink_shared(mm, va->remove);
	if (va->remove2)
		__vma_unlink_shared(mm, va->remove2);

	WRITE_ONCE(vma->vm_start, va->start);
	WRITE_ONCE(vma->vm_end, va->end);
	WRITE_ONCE(vma->vm_pgoff, va->pgoff);
	if (va->adjust && va->adj_start) {
		struct vm_area_struct *adjust = va->adjust;

		WRITE_ONCE(adjust->vm_start, adjust->vm_start + va->adj_start);
		WRITE_ONCE(adjust->vm_pgoff,
			   adjust->vm_pgoff + va->adj_start / (long)PAGE_SIZE);
	}

	vma_gap_update(vma);
	if (vma->vm_next)
		vma_gap_update(vma->vm_next);
	if (va->adjust) {
		vma_gap_update(va->adjust);
		if (va->adjust->vm_next)
			vma_gap_update(va->adjust->vm_next);
	}
	if (va->insert) {
		/* Cannot fail: the range was vma's a moment ago. */
		BUG_ON(__vma_link(mm, va->insert));
		if (mapping)
			__vma_link_file(va->insert, vma);
	}
	vma_update_highest(mm);
	vma_i_mmap_unlock_write(mapping);

	if (va->remove)
		vma_remove_merged(mm, vma, va->remove);
	if (va->remove2)
		vma_remove_merged(mm, vma, va->remove2);
	if (va->adjust)
		vm_write_end(va->adjust);
	vm_write_end(vma);
}

/*
 * Split vma at addr: a new VMA takes the part below addr (new_below) or the
 * part from addr up.  Does not check max_map_count (split_vma() does).
 */
int __split_vma(struct vm_area_struct *vma, unsigned long addr, int new_below)
{
	struct vm_area_struct *new;
	struct vma_adjust va = { .vma = vma };

	WARN_ON(vma->vm_start >= addr);
	WARN_ON(vma->vm_end <= addr);

	new = vm_area_dup(vma);
	if (!new)
		return -ENOMEM;
	if (new_below) {
		new->vm_end = addr;
	} else {
		new->vm_start = addr;
		new->vm_pgoff += (addr - vma->vm_start) >> PAGE_SHIFT;
	}
	if (anon_vma_clone(new, vma)) {
		vm_area_free(new);
		return -ENOMEM;
	}
	if (new->vm_file)
		get_file(new->vm_file);
	if (new->vm_ops && new->vm_ops->open)
		new->vm_ops->open(new);

	if (new_below) {
		va.start = addr;
		va.end = vma->vm_end;
		va.pgoff = vma->vm_pgoff + ((addr - vma->vm_start) >> PAGE_SHIFT);
	} else {
		va.start = vma->vm_start;
		va.end = addr;
		va.pgoff = vma->vm_pgoff;
	}
	va.insert = new;
	__vma_adjust(vma->vm_mm, &va);
	return 0;
}

/* Split vma in two at addr, unless the mm already has too many VMAs. */
int split_vma(struct vm_area_struct *vma, unsigned long addr, int new_below)
{
	if (vma->vm_mm->map_count >= sysctl_max_map_count)
		return -ENOMEM;
	return __split_vma(vma, addr, new_below);
}

static bool is_mergeable_vma(struct vma_merge_struct *vmg,
			     struct vm_area_struct *vma)
{
	if ((vma->vm_flags ^ vmg->flags) & ~VM_SOFTDIRTY)
		return false;
	return vma->vm_file == vmg->file;
}

/*
 * A VMA forked from a parent whose pages were not all copied yet has more
 * than one entry on its anon_vma chain; merging it would widen the rmap
 * walks of the whole family, so such a VMA does not merge.
 */
static bool vma_had_uncowed_parents(struct vm_area_struct *vma)
{
	return vma && vma->anon_vma && !list_is_singular(&vma->anon_vma_chain);
}

/*
 * Can the range (whose anon_vma is vmg->anon_vma, of vmg->middle if it is
 * an existing VMA) share an anon_vma with tgt?  Either one of them has none
 * yet and the other may hand its own over, or they already share one.
 */
static bool is_mergeable_anon_vma(struct vma_merge_struct *vmg,
				  struct vm_area_struct *tgt)
{
	struct anon_vma *tgt_anon = tgt->anon_vma;
	struct anon_vma *src_anon = vmg->anon_vma;

	if (!tgt_anon && src_anon)
		return !vma_had_uncowed_parents(vmg->middle) &&
		       !vma_had_uncowed_parents(vmg->copied_from);
	if (tgt_anon && !src_anon)
		return !vma_had_uncowed_parents(tgt);
	return src_anon == tgt_anon;
}

/* prev and next are both merged with the range: they must agree too. */
static bool are_anon_vmas_compatible(struct vm_area_struct *vma1,
				     struct vm_area_struct *vma2)
{
	return !vma1->anon_vma || !vma2->anon_vma ||
	       vma1->anon_vma == vma2->anon_vma;
}

/* Can the range go right in front of vmg->next (which may be removed)? */
static bool can_vma_merge_before(struct vma_merge_struct *vmg)
{
	pgoff_t pglen = PHYS_PFN(vmg->end - vmg->start);
	struct vm_area_struct *next = vmg->next;

	return is_mergeable_vma(vmg, next) &&
	       is_mergeable_anon_vma(vmg, next) &&
	       next->vm_pgoff == vmg->pgoff + pglen;
}

/* Can the range go right after vmg->prev (which stays)? */
static bool can_vma_merge_after(struct vma_merge_struct *vmg)
{
	struct vm_area_struct *prev = vmg->prev;

	return is_mergeable_vma(vmg, prev) &&
	       is_mergeable_anon_vma(vmg, prev) &&
	       prev->vm_pgoff + vma_pages(prev) == vmg->pgoff;
}

static bool can_vma_merge_left(struct vma_merge_struct *vmg)
{
	return vmg->prev && vmg->prev->vm_end == vmg->start &&
	       can_vma_merge_after(vmg);
}

/*
 * Merging with next as well as prev also needs prev's and next's anon_vmas
 * to be compatible with each other, not only with the range.
 */
static bool can_vma_merge_right(struct vma_merge_struct *vmg,
				bool can_merge_left)
{
	struct vm_area_struct *next = vmg->next;

	if (!next || vmg->end != next->vm_start || !can_vma_merge_before(vmg))
		return false;
	if (!can_merge_left)
		return true;
	return are_anon_vmas_compatible(vmg->prev, next);
}

/* A VMA with a close hook cannot be swallowed by a merge. */
static bool can_merge_remove_vma(struct vm_area_struct *vma)
{
	return !vma->vm_ops || !vma->vm_ops->close;
}

/*
 * The expanding VMA must own an anon_vma if the one it takes pages from
 * does.  Returns 0, or -ENOMEM; *dup is set when dst got a new chain.
 * dst is in the tree: a fault must not use the anon_vma before the chain
 * is cloned, nor keep one that a failed clone takes back (docs/races.md race
 * 10), hence the write section.
 */
static int dup_anon_vma(struct vm_area_struct *dst, struct vm_area_struct *src,
			struct vm_area_struct **dup)
{
	int err = 0;

	if (src->anon_vma && !dst->anon_vma) {
		if (!mmsim_mutant_is(MUTANT_MERGE_NO_VMA_WRITE))
			vma_start_write(dst);
		vm_write_begin(dst);
		WRITE_ONCE(dst->anon_vma, src->anon_vma);
		if (anon_vma_clone(dst, src)) {
			WRITE_ONCE(dst->anon_vma, NULL);
			err = -ENOMEM;
		} else {
			*dup = dst;
		}
		vm_write_end(dst);
	}
	return err;
}

/*
 * Grow vmg->middle to [vmg->start, vmg->end), swallowing vmg->next if the
 * new end is next's end.
 *
 *   middle          next
 *   |-------|.......|-------|     ->   |-----------------------|
 */
int vma_expand(struct vma_merge_struct *vmg)
{
	struct vm_area_struct *vma = vmg->middle, *next = vmg->next;
	struct vm_area_struct *anon_dup = NULL;
	struct vma_adjust va = {
		.vma = vma, .start = vmg->start, .end = vmg->end,
		.pgoff = vmg->pgoff,
	};

	mmap_assert_write_locked(vmg->mm);
	if (next && next != vma && vmg->end == next->vm_end) {
		if (dup_anon_vma(vma, next, &anon_dup)) {
			vmg->nomem = true;
			return -ENOMEM;
		}
		va.remove = next;
	}
	/* A copy merged into vma brings the source's pages: its anon_vma. */
	if (vmg->copied_from && dup_anon_vma(vma, vmg->copied_from, &anon_dup)) {
		if (anon_dup) {
			/* Take back the chain dup_anon_vma() gave vma. */
			vm_write_begin(anon_dup);
			unlink_anon_vmas(anon_dup);
			vm_write_end(anon_dup);
		}
		vmg->nomem = true;
		return -ENOMEM;
	}
	__vma_adjust(vmg->mm, &va);
	return 0;
}

/* Shrink vma to [start, end), which keeps one of its ends. */
int vma_shrink(struct vm_area_struct *vma, unsigned long start,
	       unsigned long end, pgoff_t pgoff)
{
	struct vma_adjust va = {
		.vma = vma, .start = start, .end = end, .pgoff = pgoff,
	};

	WARN_ON(vma->vm_start != start && vma->vm_end != end);
	__vma_adjust(vma->vm_mm, &va);
	return 0;
}

/*
 * A new range [vmg->start, vmg->end) between vmg->prev and vmg->next, not
 * yet in the tree: expand a neighbour over it if one is compatible.
 *
 *   prev      new      next
 *   |-----|.........|-----|
 *
 * Returns the VMA that now covers the range, or NULL.
 */
struct vm_area_struct *vma_merge_new_range(struct vma_merge_struct *vmg)
{
	struct vm_area_struct *prev = vmg->prev, *next = vmg->next;
	unsigned long start = vmg->start, end = vmg->end;
	pgoff_t pgoff = vmg->pgoff;
	pgoff_t pglen = PHYS_PFN(end - start);
	bool merge_left, merge_right;

	mmap_assert_write_locked(vmg->mm);
	vmg->middle = NULL;
	if ((vmg->flags & VM_SPECIAL) || (!prev && !next))
		return NULL;

	merge_left = can_vma_merge_left(vmg);
	merge_right = can_vma_merge_right(vmg, merge_left);

	if (merge_right) {
		vmg->end = next->vm_end;
		vmg->middle = next;
		vmg->pgoff = next->vm_pgoff - pglen;
	}
	if (merge_left) {
		vmg->start = prev->vm_start;
		vmg->middle = prev;
		vmg->pgoff = prev->vm_pgoff;
		if (merge_right && !can_merge_remove_vma(next))
			vmg->end = end;
	}

	if (vmg->middle && !vma_expand(vmg))
		return vmg->middle;

	vmg->middle = NULL;
	vmg->start = start;
	vmg->end = end;
	vmg->pgoff = pgoff;
	return NULL;
}

/*
 * The attributes of [vmg->start, vmg->end) inside vmg->middle change to
 * vmg->flags: if the range touches an end of middle, and the neighbour on
 * that side is compatible, move the boundary (or remove middle and next).
 *
 *          start      end
 *   prev   |  middle   |   next
 *   |-----|************|------|
 *
 * Returns the VMA that now holds the range, or NULL if nothing merged
 * (vmg->nomem tells a failure from "no merge possible").
 */
struct vm_area_struct *vma_merge_existing_range(struct vma_merge_struct *vmg)
{
	struct vm_area_struct *middle = vmg->middle, *prev = vmg->prev;
	struct vm_area_struct *next = NULL, *anon_dup = NULL, *target;
	unsigned long start = vmg->start, end = vmg->end;
	bool left_side = start == middle->vm_start;
	bool right_side = end == middle->vm_end;
	bool merge_left = false, merge_right = false, merge_both;
	bool delete_middle, delete_next;
	struct vma_adjust va = { 0 };
	int err;

	mmap_assert_write_locked(vmg->mm);
	vmg->nomem = false;
	if ((vmg->flags & VM_SPECIAL) || (!left_side && !right_side))
		return NULL;

	if (left_side)
		merge_left = can_vma_merge_left(vmg);
	if (right_side) {
		next = vmg->next = middle->vm_next;
		merge_right = can_vma_merge_right(vmg, merge_left);
	}
	if (!merge_left && !merge_right)
		return NULL;

	merge_both = merge_left && merge_right;
	delete_middle = left_side && right_side;
	if (delete_middle && !can_merge_remove_vma(middle))
		return NULL;
	delete_next = merge_both;
	if (delete_next && !can_merge_remove_vma(next)) {
		delete_next = false;
		merge_right = false;
		merge_both = false;
	}

	if (merge_both) {
		/*
		 * |-------*********-------|
		 *   prev    middle    next
		 *  extend   delete   delete
		 */
		target = prev;
		va.start = prev->vm_start;
		va.end = next->vm_end;
		va.pgoff = prev->vm_pgoff;
		err = dup_anon_vma(prev, next->anon_vma ? next : middle,
				   &anon_dup);
	} else if (merge_left) {
		/*
		 * |-------*************
		 *   prev      middle
		 *  extend  shrink/delete
		 */
		target = prev;
		va.start = prev->vm_start;
		va.end = end;
		va.pgoff = prev->vm_pgoff;
		if (!delete_middle) {
			va.adjust = middle;
			va.adj_start = end - middle->vm_start;
		}
		err = dup_anon_vma(prev, middle, &anon_dup);
	} else {
		/*
		 * *************-------|
		 *     middle      next
		 * shrink/delete  extend
		 */
		pgoff_t pglen = PHYS_PFN(end - start);

		target = next;
		if (delete_middle) {
			va.vma = next;
			va.start = start;
			va.end = next->vm_end;
			va.pgoff = next->vm_pgoff - pglen;
		} else {
			/* middle shrinks, next grows down over [start, end) */
			va.vma = middle;
			va.start = middle->vm_start;
			va.end = start;
			va.pgoff = middle->vm_pgoff;
			va.adjust = next;
			va.adj_start = -(long)(middle->vm_end - start);
		}
		err = dup_anon_vma(next, middle, &anon_dup);
	}
	if (err) {
		vmg->nomem = true;
		return NULL;
	}
	if (!va.vma)
		va.vma = target;
	if (delete_middle)
		va.remove = middle;
	if (delete_next)
		va.remove2 = next;
	__vma_adjust(vmg->mm, &va);
	return target;
}

/*
 * Change the flags of [start, end) inside vma: merge with a neighbour if
 * possible, else split vma so that exactly the range is one VMA.  Returns
 * that VMA (with its old flags: the caller sets the new ones) or an error
 * as a negative errno cast to a pointer.
 */
struct vm_area_struct *vma_modify_flags(struct vm_area_struct *prev,
					struct vm_area_struct *vma,
					unsigned long start, unsigned long end,
					unsigned long new_flags)
{
	struct vma_merge_struct vmg = {
		.mm = vma->vm_mm, .prev = prev, .middle = vma,
		.start = start, .end = end,
		.pgoff = vma->vm_pgoff + ((start - vma->vm_start) >> PAGE_SHIFT),
		.flags = new_flags, .file = vma->vm_file,
		.anon_vma = vma->anon_vma,
	};
	struct vm_area_struct *merged;
	int err;

	merged = vma_merge_existing_range(&vmg);
	if (merged)
		return merged;
	if (vmg.nomem)
		return (struct vm_area_struct *)(long)-ENOMEM;

	if (vma->vm_start < start) {
		err = split_vma(vma, start, 1);
		if (err)
			return (struct vm_area_struct *)(long)err;
	}
	if (vma->vm_end > end) {
		err = split_vma(vma, end, 0);
		if (err)
			return (struct vm_area_struct *)(long)err;
	}
	return vma;
}

/*
 * mremap's copy of *vmap at [addr, addr + len): merge it into a neighbour
 * of the destination or link a new VMA.  An anonymous VMA without an
 * anon_vma has no pages that care about vm_pgoff, so its copy takes the
 * pgoff of its new address, which lets it merge there.
 */
struct vm_area_struct *copy_vma(struct vm_area_struct **vmap,
				unsigned long addr, unsigned long len,
				pgoff_t pgoff, bool *need_rmap_locks)
{
	struct vm_area_struct *vma = *vmap, *new_vma;
	unsigned long vma_start = vma->vm_start;
	struct mm_struct *mm = vma->vm_mm;
	struct vma_merge_struct vmg = {
		.mm = mm, .start = addr, .end = addr + len,
		.flags = vma->vm_flags, .file = vma->vm_file,
		.anon_vma = vma->anon_vma, .copied_from = vma,
	};
	bool faulted_in_anon_vma = true;

	if (vma_is_anonymous(vma) && !vma->anon_vma) {
		pgoff = addr >> PAGE_SHIFT;
		faulted_in_anon_vma = false;
	}

	new_vma = find_vma_prev(mm, addr, &vmg.prev);
	if (new_vma && new_vma->vm_start < addr + len)
		return NULL;	/* the destination was unmapped: cannot be */
	vmg.next = new_vma;
	vmg.pgoff = pgoff;

	new_vma = vma_merge_new_range(&vmg);
	if (new_vma) {
		/* Merged with the source itself: only an unfaulted VMA can. */
		if (vma_start >= new_vma->vm_start &&
		    vma_start < new_vma->vm_end) {
			VM_BUG_ON(faulted_in_anon_vma);
			*vmap = vma = new_vma;
		}
		*need_rmap_locks = new_vma->vm_pgoff <= vma->vm_pgoff;
		return new_vma;
	}
	if (vmg.nomem)
		return NULL;

	new_vma = vm_area_dup(vma);
	if (!new_vma)
		return NULL;
	new_vma->vm_start = addr;
	new_vma->vm_end = addr + len;
	new_vma->vm_pgoff = pgoff;
	if (anon_vma_clone(new_vma, vma))
		goto out_free;
	if (new_vma->vm_file)
		get_file(new_vma->vm_file);
	if (new_vma->vm_ops && new_vma->vm_ops->open)
		new_vma->vm_ops->open(new_vma);
	/*
	 * Locked before it is linked: the PTEs move into it only after
	 * copy_vma() returns, and a fault under its VMA lock must not fill
	 * a PTE there first (move_ptes() expects none; explore's writer
	 * mremap-dest found it).  The kernel locks a new VMA before it
	 * enters the tree since 6.6; 6.4 locked the copy in copy_vma().
	 */
	vma_start_write(new_vma);
	if (vma_link(mm, new_vma))
		goto out_unlink;
	*need_rmap_locks = false;
	return new_vma;

out_unlink:
	if (new_vma->vm_file)
		fput(new_vma->vm_file);
	unlink_anon_vmas(new_vma);
out_free:
	vm_area_free(new_vma);
	return NULL;
}

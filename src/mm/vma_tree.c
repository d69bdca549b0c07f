// SPDX-License-Identifier: MIT
/*
 * The VMA tree of an mm, as before the maple tree: an rbtree ordered by
 * address, the sorted vm_next/vm_prev list beside it, and the rb_subtree_gap
 * augment that lets get_unmapped_area() find a free range in O(log n).
 *
 * Everything here that changes the tree requires the mmap lock held for
 * writing; lookups require it held at least for reading.
 *
 * Lockless lookups (spf-srcu): a speculative fault walks the tree without
 * the mmap lock, so every insert and erase is also a write section of
 * the strategy's tree seqcount (mm_rb_write_begin/end: the series'
 * mm->mm_seq), which tells such a walk to retry, and an erased node is
 * cleared only once that section is over, so that a fault holding the
 * VMA sees it dead (RB_EMPTY_NODE) only after the tree stopped leading
 * to it.  The sorted list, rb_subtree_gap and highest_vm_end are for
 * mmap-lock holders only.
 */
#include <limits.h>

#include <mmsim/mutant.h>
#include <mmsim/strategy.h>

#include "mm/internal.h"

/* Start of vma including its guard gap: a stack keeps a gap free below it. */
unsigned long vm_start_gap(const struct vm_area_struct *vma)
{
	unsigned long vm_start = vma->vm_start;

	if (vma->vm_flags & VM_GROWSDOWN) {
		vm_start -= vma->vm_mm->stack_guard_gap;
		if (vm_start > vma->vm_start)
			vm_start = 0;
	}
	return vm_start;
}

/* x86 has no VM_GROWSUP, so a VMA's end gap is its end. */
unsigned long vm_end_gap(const struct vm_area_struct *vma)
{
	return vma->vm_end;
}

/* Free space between vma and its predecessor, guard gaps excluded. */
static unsigned long vma_compute_gap(struct vm_area_struct *vma)
{
	unsigned long gap = vm_start_gap(vma);
	unsigned long prev_end;

	if (vma->vm_prev) {
		prev_end = vm_end_gap(vma->vm_prev);
		gap = gap > prev_end ? gap - prev_end : 0;
	}
	return gap;
}

static struct vm_area_struct *rb_vma(struct rb_node *node)
{
	return node ? rb_entry(node, struct vm_area_struct, vm_rb) : NULL;
}

/* Largest gap in vma's subtree, from its own gap and its children's. */
unsigned long vma_compute_subtree_gap(struct vm_area_struct *vma)
{
	unsigned long max = vma_compute_gap(vma);
	struct vm_area_struct *child;

	child = rb_vma(vma->vm_rb.rb_left);
	if (child && child->rb_subtree_gap > max)
		max = child->rb_subtree_gap;
	child = rb_vma(vma->vm_rb.rb_right);
	if (child && child->rb_subtree_gap > max)
		max = child->rb_subtree_gap;
	return max;
}

static void vma_gap_propagate(struct rb_node *node, struct rb_node *stop)
{
	while (node != stop) {
		struct vm_area_struct *vma = rb_vma(node);
		unsigned long gap = vma_compute_subtree_gap(vma);

		if (vma->rb_subtree_gap == gap)
			break;
		vma->rb_subtree_gap = gap;
		node = rb_parent(node);
	}
}

static void vma_gap_copy(struct rb_node *old, struct rb_node *new)
{
	rb_vma(new)->rb_subtree_gap = rb_vma(old)->rb_subtree_gap;
}

static void vma_gap_rotate(struct rb_node *old, struct rb_node *new)
{
	rb_vma(new)->rb_subtree_gap = rb_vma(old)->rb_subtree_gap;
	rb_vma(old)->rb_subtree_gap = vma_compute_subtree_gap(rb_vma(old));
}

static const struct rb_augment_callbacks vma_gap_callbacks = {
	.propagate = vma_gap_propagate,
	.copy = vma_gap_copy,
	.rotate = vma_gap_rotate,
};

/*
 * vma's own gap changed (its vm_start moved, or its predecessor's vm_end):
 * recompute the augment from vma up to the root.
 */
void vma_gap_update(struct vm_area_struct *vma)
{
	vma_gap_propagate(&vma->vm_rb, NULL);
}

/* Recompute mm->highest_vm_end from the last VMA. */
void vma_update_highest(struct mm_struct *mm)
{
	struct rb_node *last = rb_last(&mm->mm_rb);

	mm->highest_vm_end = last ? vm_end_gap(rb_vma(last)) : 0;
}

/* Put vma after prev (or first) in the sorted list. */
void __vma_link_list(struct mm_struct *mm, struct vm_area_struct *vma,
		     struct vm_area_struct *prev)
{
	struct vm_area_struct *next;

	vma->vm_prev = prev;
	if (prev) {
		next = prev->vm_next;
		prev->vm_next = vma;
	} else {
		next = mm->mmap;
		mm->mmap = vma;
	}
	vma->vm_next = next;
	if (next)
		next->vm_prev = vma;
}

/*
 * Insert vma, already on the list, into the tree at the link found by
 * find_vma_links().  The augment of the successor shrinks (its predecessor
 * is now vma), and vma brings its own.  vma must be complete (or inside a
 * vm_sequence write section, see mmap_region()): linking publishes it to
 * lockless lookups.  The caller holds the mmap lock for writing.
 */
void __vma_link_rb(struct mm_struct *mm, struct vm_area_struct *vma,
		   struct rb_node **rb_link, struct rb_node *rb_parent)
{
	mmap_assert_write_locked(mm);
	if (vma->vm_next)
		vma_gap_update(vma->vm_next);
	else
		mm->highest_vm_end = vm_end_gap(vma);

	vma_mark_attached(vma);
	mm_rb_write_begin(mm);
	rb_link_node(&vma->vm_rb, rb_parent, rb_link);
	vma->rb_subtree_gap = 0;
	vma_gap_update(vma);
	rb_insert_augmented(&vma->vm_rb, &mm->mm_rb, &vma_gap_callbacks);
	mm_rb_write_end(mm);
}

/*
 * Erase vma's node from the tree (vma_rb_erase).  Rotations move other
 * nodes too, hence the write section around all of it.  The node is
 * cleared after the section, so that a lockless reader that sees it
 * cleared also sees the tree without it (the series relies on the wmb of
 * write_sequnlock; here RB_CLEAR_NODE is a release).
 */
static void vma_rb_erase(struct mm_struct *mm, struct vm_area_struct *vma)
{
	bool clear_early = mmsim_mutant_is(MUTANT_RB_CLEAR_EARLY);

	mm_rb_write_begin(mm);
	rb_erase_augmented(&vma->vm_rb, &mm->mm_rb, &vma_gap_callbacks);
	/*
	 * The historical bug: the node dies before the tree stops leading
	 * to it.  (Before the erase itself would break the erase, which
	 * reads the node's parent and colour.)
	 */
	if (clear_early)
		RB_CLEAR_NODE(&vma->vm_rb);
	mm_rb_write_end(mm);
	if (!clear_early)
		RB_CLEAR_NODE(&vma->vm_rb);
}

/*
 * Take vma out of the tree and the list, for good.  The node is cleared so
 * that a lockless reader still holding vma can tell it is dead, and the
 * strategy marks it detached (a VMA lock's reader checks that).  The
 * caller holds the mmap lock for writing, and vma's write lock.
 */
void __vma_unlink(struct mm_struct *mm, struct vm_area_struct *vma)
{
	struct vm_area_struct *prev = vma->vm_prev, *next = vma->vm_next;

	mmap_assert_write_locked(mm);
	vma_mark_detached(vma);
	vma_rb_erase(mm, vma);

	if (prev)
		prev->vm_next = next;
	else
		mm->mmap = next;
	if (next) {
		next->vm_prev = prev;
		vma_gap_update(next);
	} else {
		mm->highest_vm_end = prev ? vm_end_gap(prev) : 0;
	}
}

/*
 * Find where a VMA covering [addr, end) would be linked.  Returns -ENOMEM
 * if an existing VMA overlaps the range.  The caller holds the mmap lock.
 */
int find_vma_links(struct mm_struct *mm, unsigned long addr,
		   unsigned long end, struct vm_area_struct **pprev,
		   struct rb_node ***rb_link, struct rb_node **rb_parent)
{
	struct rb_node **link = &mm->mm_rb.rb_node, *parent = NULL;

	*pprev = NULL;
	while (*link) {
		struct vm_area_struct *vma = rb_vma(*link);

		parent = *link;
		if (vma->vm_end > addr) {
			if (vma->vm_start < end)
				return -ENOMEM;
			link = &parent->rb_left;
		} else {
			*pprev = vma;
			link = &parent->rb_right;
		}
	}
	*rb_link = link;
	*rb_parent = parent;
	return 0;
}

/*
 * Look up the first VMA which satisfies addr < vm_end, NULL if none.
 * The caller holds the mmap lock (read or write).
 */
struct vm_area_struct *find_vma(struct mm_struct *mm, unsigned long addr)
{
	struct rb_node *node = mm->mm_rb.rb_node;
	struct vm_area_struct *found = NULL;

	while (node) {
		struct vm_area_struct *vma = rb_vma(node);

		if (vma->vm_end > addr) {
			found = vma;
			if (vma->vm_start <= addr)
				break;
			node = node->rb_left;
		} else {
			node = node->rb_right;
		}
	}
	return found;
}

/* find_vma()'s test: does node's VMA end above the address (key)? */
static int vma_end_above(const void *key, const struct rb_node *node)
{
	const struct vm_area_struct *vma =
		rb_entry(node, struct vm_area_struct, vm_rb);
	unsigned long addr = *(const unsigned long *)key;

	return addr < READ_ONCE(vma->vm_end) ? 0 : 1;
}

/*
 * find_vma() without the mmap lock: the first VMA with addr < vm_end, or
 * NULL, walked again until no tree writer ran meanwhile (tree_seq is the
 * strategy's seqcount around every tree change, mm_rb_write_begin/end).
 * The caller is in the read side that keeps freed VMAs' memory (RCU or
 * SRCU), and validates what it gets: it may leave the tree (and change)
 * at once.  The walk loads every link and bound once, and stops after
 * RB_MAX_DEPTH nodes: a walk that races a rotation may go round in
 * circles, and only a writer can make it, which the seqcount reports.
 * Its reads may race with writers by design (a VMA freed and reused at
 * once, for a strategy whose cache does that, is filled in with plain
 * stores): the retry throws them away (data_race_begin/end).
 */
struct vm_area_struct *find_vma_lockless(struct mm_struct *mm,
					 unsigned long addr,
					 const seqcount_t *tree_seq)
{
	struct rb_node *node;
	unsigned int start;

	do {
		start = read_seqcount_begin(tree_seq);
		data_race_begin();
		node = rb_find_first_lockless(&addr, &mm->mm_rb, vma_end_above);
		data_race_end();
	} while (read_seqcount_retry(tree_seq, start));
	return node ? rb_vma(node) : NULL;
}

/* Same as find_vma(), and also return a pointer to the previous VMA. */
struct vm_area_struct *find_vma_prev(struct mm_struct *mm, unsigned long addr,
				     struct vm_area_struct **pprev)
{
	struct vm_area_struct *vma = find_vma(mm, addr);
	struct rb_node *last;

	if (vma) {
		*pprev = vma->vm_prev;
	} else {
		last = rb_last(&mm->mm_rb);
		*pprev = rb_vma(last);
	}
	return vma;
}

/* The first VMA intersecting [start, end), or NULL. */
struct vm_area_struct *find_vma_intersection(struct mm_struct *mm,
					     unsigned long start,
					     unsigned long end)
{
	struct vm_area_struct *vma = find_vma(mm, start);

	if (vma && end <= vma->vm_start)
		vma = NULL;
	return vma;
}

/* The VMA containing addr, or NULL. */
struct vm_area_struct *vma_lookup(struct mm_struct *mm, unsigned long addr)
{
	struct vm_area_struct *vma = find_vma(mm, addr);

	if (vma && addr < vma->vm_start)
		vma = NULL;
	return vma;
}

static unsigned long gap_before(struct vm_area_struct *vma)
{
	return vma->vm_prev ? vm_end_gap(vma->vm_prev) : 0;
}

/*
 * Lowest gap of at least length bytes (alignment slack included) that ends
 * at or above low_limit + length and starts at or below high_limit - length.
 * Walks down the tree preferring left subtrees whose augment says a big
 * enough gap is inside.
 */
static unsigned long unmapped_area(struct mm_struct *mm,
				   struct vm_unmapped_area_info *info)
{
	unsigned long length, low_limit, high_limit, gap_start, gap_end;
	struct vm_area_struct *vma, *child;
	struct rb_node *from;

	length = info->length + info->align_mask;
	if (length < info->length || info->high_limit < length)
		return -ENOMEM;
	high_limit = info->high_limit - length;
	if (info->low_limit > high_limit)
		return -ENOMEM;
	low_limit = info->low_limit + length;

	vma = rb_vma(mm->mm_rb.rb_node);
	if (!vma || vma->rb_subtree_gap < length)
		goto check_highest;

	for (;;) {
		/* Descend left while the left subtree holds a candidate. */
		gap_end = vm_start_gap(vma);
		child = rb_vma(vma->vm_rb.rb_left);
		if (gap_end >= low_limit && child &&
		    child->rb_subtree_gap >= length) {
			vma = child;
			continue;
		}
		gap_start = gap_before(vma);
check_current:
		if (gap_start > high_limit)
			return -ENOMEM;
		if (gap_end >= low_limit && gap_end > gap_start &&
		    gap_end - gap_start >= length)
			goto found;
		child = rb_vma(vma->vm_rb.rb_right);
		if (child && child->rb_subtree_gap >= length) {
			vma = child;
			continue;
		}
		/* Climb until we come up from a left child: its parent is next. */
		for (;;) {
			from = &vma->vm_rb;
			if (!rb_parent(from))
				goto check_highest;
			vma = rb_vma(rb_parent(from));
			if (from == vma->vm_rb.rb_left) {
				gap_start = gap_before(vma);
				gap_end = vm_start_gap(vma);
				goto check_current;
			}
		}
	}

check_highest:
	gap_start = mm->highest_vm_end;
	if (gap_start > high_limit)
		return -ENOMEM;
found:
	if (gap_start < info->low_limit)
		gap_start = info->low_limit;
	gap_start += (info->align_offset - gap_start) & info->align_mask;
	return gap_start;
}

/*
 * Highest gap of length bytes below high_limit and above low_limit: the
 * mirror image of unmapped_area(), preferring right subtrees.
 */
static unsigned long unmapped_area_topdown(struct mm_struct *mm,
					   struct vm_unmapped_area_info *info)
{
	unsigned long length, low_limit, high_limit, gap_start, gap_end;
	struct vm_area_struct *vma, *child;
	struct rb_node *from;

	length = info->length + info->align_mask;
	if (length < info->length)
		return -ENOMEM;
	gap_end = info->high_limit;
	if (gap_end < length)
		return -ENOMEM;
	high_limit = gap_end - length;
	if (info->low_limit > high_limit)
		return -ENOMEM;
	low_limit = info->low_limit + length;

	/* The gap above the last VMA is not in the tree's augment. */
	gap_start = mm->highest_vm_end;
	if (gap_start <= high_limit)
		goto found_highest;

	vma = rb_vma(mm->mm_rb.rb_node);
	if (!vma || vma->rb_subtree_gap < length)
		return -ENOMEM;

	for (;;) {
		gap_start = gap_before(vma);
		child = rb_vma(vma->vm_rb.rb_right);
		if (gap_start <= high_limit && child &&
		    child->rb_subtree_gap >= length) {
			vma = child;
			continue;
		}
check_current:
		gap_end = vm_start_gap(vma);
		if (gap_end < low_limit)
			return -ENOMEM;
		if (gap_start <= high_limit && gap_end > gap_start &&
		    gap_end - gap_start >= length)
			goto found;
		child = rb_vma(vma->vm_rb.rb_left);
		if (child && child->rb_subtree_gap >= length) {
			vma = child;
			continue;
		}
		/* Climb until we come up from a right child. */
		for (;;) {
			from = &vma->vm_rb;
			if (!rb_parent(from))
				return -ENOMEM;
			vma = rb_vma(rb_parent(from));
			if (from == vma->vm_rb.rb_right) {
				gap_start = gap_before(vma);
				goto check_current;
			}
		}
	}

found:
	if (gap_end > info->high_limit)
		gap_end = info->high_limit;
found_highest:
	gap_end -= info->length;
	gap_end -= (gap_end - info->align_offset) & info->align_mask;
	return gap_end;
}

/*
 * Find a free range for a new mapping as info describes; returns its start
 * or -ENOMEM.  The caller holds the mmap lock.
 */
unsigned long vm_unmapped_area(struct mm_struct *mm,
			       struct vm_unmapped_area_info *info)
{
	mmap_assert_locked(mm);
	if (info->flags & VM_UNMAPPED_AREA_TOPDOWN)
		return unmapped_area_topdown(mm, info);
	return unmapped_area(mm, info);
}

// SPDX-License-Identifier: MIT
/*
 * anon_vma and anon_vma_chain (the kernel's mm/rmap.c): which anonymous
 * pages a VMA may map.  A private VMA gets an anon_vma at its first write
 * fault (or when mlock populates it), reusing a neighbour's when the two
 * could one day merge; splits clone the chain, merges hand it over.
 *
 * Locking, as in the kernel:
 *   mmap lock		held by every caller: for writing when VMAs change,
 *			for reading in the fault path (anon_vma_prepare).
 *   mm->page_table_lock	serializes the faults of one mm that prepare
 *			anon_vmas: it protects vma->anon_vma and
 *			vma->anon_vma_chain against concurrent preparation.
 *   anon_vma->root->rwsem	(anon_vma_lock_write) protects every anon_vma's
 *			avc_list and counters under that root: a parent and
 *			its forked children share them but hold different
 *			mmap locks.
 * vma->anon_vma is also read by speculative faults, without the mmap lock
 * (which give up on a VMA that has none yet): it is written with
 * WRITE_ONCE or a release, and where a VMA in the tree loses or changes
 * it, inside that VMA's vm_sequence write section (the callers' part).
 * The kernel takes the anon_vma lock before page_table_lock and finds the
 * mergeable neighbour without either (racy reads it tolerates); mmsim finds
 * it under page_table_lock, so it takes the anon_vma lock inside it.
 *
 * The second half keeps the map counts of struct page: how many PTEs map
 * a page (page->_mapcount + 1), which anon_vma (or file) it belongs to,
 * and whether an anonymous page is exclusive to one mm (PG_anon_exclusive,
 * which lets a write fault reuse it instead of copying it).
 */
#include <stdlib.h>

#include <mmsim/strategy.h>

#include "mm/internal.h"

static atomic_long anon_vma_count;

/* Number of anon_vmas alive, for leak checks in tests. */
long anon_vma_live_count(void)
{
	return atomic_load(&anon_vma_count);
}

static struct anon_vma *anon_vma_alloc(void)
{
	struct anon_vma *anon_vma = calloc(1, sizeof(*anon_vma));

	if (!anon_vma)
		return NULL;
	init_rwsem(&anon_vma->rwsem);
	atomic_init(&anon_vma->refcount, 1);
	anon_vma->root = anon_vma;
	anon_vma->parent = anon_vma;
	INIT_LIST_HEAD(&anon_vma->avc_list);
	atomic_fetch_add(&anon_vma_count, 1);
	return anon_vma;
}

static inline void anon_vma_lock_write(struct anon_vma *anon_vma)
{
	down_write(&anon_vma->root->rwsem);
}

static inline void anon_vma_unlock_write(struct anon_vma *anon_vma)
{
	up_write(&anon_vma->root->rwsem);
}

static void put_anon_vma(struct anon_vma *anon_vma)
{
	struct anon_vma *root = anon_vma->root;

	if (atomic_fetch_sub(&anon_vma->refcount, 1) != 1)
		return;
	VM_BUG_ON(!list_empty(&anon_vma->avc_list));
	atomic_fetch_sub(&anon_vma_count, 1);
	free(anon_vma);
	/* A child pins its root; the last child lets the root go. */
	if (root != anon_vma)
		put_anon_vma(root);
}

static struct anon_vma_chain *anon_vma_chain_alloc(void)
{
	return calloc(1, sizeof(struct anon_vma_chain));
}

static void anon_vma_chain_link(struct vm_area_struct *vma,
				struct anon_vma_chain *avc,
				struct anon_vma *anon_vma)
{
	avc->vma = vma;
	avc->anon_vma = anon_vma;
	list_add(&avc->same_vma, &vma->anon_vma_chain);
	list_add_tail(&avc->same_anon_vma, &anon_vma->avc_list);
}

/*
 * a and b (a just below b) could be merged one day if only their access
 * rights differ and their pgoffs are contiguous: then they may share an
 * anon_vma, so that mprotect back makes them mergeable.
 */
static bool anon_vma_compatible(struct vm_area_struct *a,
				struct vm_area_struct *b)
{
	return a->vm_end == b->vm_start &&
	       a->vm_file == b->vm_file &&
	       !((a->vm_flags ^ b->vm_flags) & ~(VM_ACCESS_FLAGS | VM_SOFTDIRTY)) &&
	       b->vm_pgoff == a->vm_pgoff + ((b->vm_start - a->vm_start) >> PAGE_SHIFT);
}

/* old's anon_vma, if a and b are compatible and old was never forked. */
static struct anon_vma *reusable_anon_vma(struct vm_area_struct *old,
					  struct vm_area_struct *a,
					  struct vm_area_struct *b)
{
	if (anon_vma_compatible(a, b) && old->anon_vma &&
	    list_is_singular(&old->anon_vma_chain))
		return old->anon_vma;
	return NULL;
}

/*
 * An anon_vma that vma can share with an adjacent VMA (the next one is
 * tried first, then the previous one), or NULL.
 */
struct anon_vma *find_mergeable_anon_vma(struct vm_area_struct *vma)
{
	struct anon_vma *anon_vma = NULL;

	if (vma->vm_next)
		anon_vma = reusable_anon_vma(vma->vm_next, vma, vma->vm_next);
	if (!anon_vma && vma->vm_prev)
		anon_vma = reusable_anon_vma(vma->vm_prev, vma->vm_prev, vma);
	return anon_vma;
}

/*
 * Attach an anon_vma to vma (first write fault of a private VMA).
 * Returns 0 or -ENOMEM.  The caller holds the mmap lock (for reading in a
 * fault: other CPUs may prepare this VMA or its neighbours at the same
 * time, hence page_table_lock).
 */
int __anon_vma_prepare(struct vm_area_struct *vma)
{
	struct mm_struct *mm = vma->vm_mm;
	struct anon_vma *anon_vma, *allocated;
	struct anon_vma_chain *avc;

	/*
	 * find_mergeable_anon_vma() looks at the neighbours and the tree, so
	 * a VMA lock is not enough: the mmap lock, ours (a fault under a VMA
	 * lock falls back for a VMA without anon_vma, as since 6.4).  A
	 * warning, as lockdep's would be: the damage still shows.
	 */
	WARN_ON(!mmsim_lock_held_by_me(&mm->mmap_lock));
	/* Allocate before the spinlock; most of the time we keep both. */
	avc = anon_vma_chain_alloc();
	allocated = anon_vma_alloc();
	if (!avc || !allocated)
		goto out_enomem;

	spin_lock(&mm->page_table_lock);
	if (unlikely(vma->anon_vma))
		goto out_raced;		/* another fault prepared it */
	/* The anon_vma lives while a chain entry links it: no extra ref. */
	anon_vma = find_mergeable_anon_vma(vma);
	if (!anon_vma) {
		anon_vma = allocated;
		allocated = NULL;
		anon_vma->num_children++;	/* self-parent link of a root */
	}
	anon_vma_lock_write(anon_vma);
	anon_vma_chain_link(vma, avc, anon_vma);
	anon_vma->num_active_vmas++;
	/* Pairs with the lockless check of anon_vma_prepare(). */
	__atomic_store_n(&vma->anon_vma, anon_vma, __ATOMIC_RELEASE);
	anon_vma_unlock_write(anon_vma);
	spin_unlock(&mm->page_table_lock);
	avc = NULL;
out_raced_unlocked:
	free(avc);
	if (allocated)
		put_anon_vma(allocated);
	return 0;

out_raced:
	spin_unlock(&mm->page_table_lock);
	goto out_raced_unlocked;
out_enomem:
	free(avc);
	if (allocated)
		put_anon_vma(allocated);
	return -ENOMEM;
}

/*
 * dst is a copy of src (split, or mremap's copy_vma): link dst to every
 * anon_vma on src's chain.  Returns 0 or -ENOMEM (dst left unlinked).
 */
int anon_vma_clone(struct vm_area_struct *dst, struct vm_area_struct *src)
{
	struct anon_vma_chain *avc, *pavc;
	struct anon_vma *root = NULL;

	list_for_each_entry_reverse(pavc, &src->anon_vma_chain, same_vma) {
		avc = anon_vma_chain_alloc();
		if (!avc)
			goto enomem_failure;
		/* Every anon_vma of one chain shares the root. */
		if (!root) {
			root = pavc->anon_vma->root;
			anon_vma_lock_write(root);
		}
		anon_vma_chain_link(dst, avc, pavc->anon_vma);
		/* A forked child may reuse an anon_vma nobody else uses. */
		if (!dst->anon_vma && src->anon_vma &&
		    pavc->anon_vma->num_children < 2 &&
		    pavc->anon_vma->num_active_vmas == 0)
			WRITE_ONCE(dst->anon_vma, pavc->anon_vma);
	}
	if (dst->anon_vma)
		dst->anon_vma->num_active_vmas++;
	if (root)
		anon_vma_unlock_write(root);
	return 0;

enomem_failure:
	if (root)
		anon_vma_unlock_write(root);
	/* Undo what was linked; dst's anon_vma was not counted yet. */
	WRITE_ONCE(dst->anon_vma, NULL);
	unlink_anon_vmas(dst);
	return -ENOMEM;
}

/*
 * Detach vma from all its anon_vmas; anon_vmas left without VMAs are freed.
 * vma->anon_vma is cleared: a later write fault prepares a new one.
 */
void unlink_anon_vmas(struct vm_area_struct *vma)
{
	struct anon_vma_chain *avc, *next;
	struct anon_vma *root = NULL;

	/*
	 * First, under the root's lock, take vma off every anon_vma's list.
	 * Entries of anon_vmas that others still use go at once; those of
	 * anon_vmas left empty stay on vma's chain, to be put after unlocking
	 * (the last put may free the root and its lock).
	 */
	list_for_each_entry_safe(avc, next, &vma->anon_vma_chain, same_vma) {
		struct anon_vma *anon_vma = avc->anon_vma;

		if (!root) {
			root = anon_vma->root;
			anon_vma_lock_write(root);
		}
		list_del(&avc->same_anon_vma);
		if (list_empty(&anon_vma->avc_list)) {
			anon_vma->parent->num_children--;
			continue;
		}
		list_del(&avc->same_vma);
		free(avc);
	}
	if (vma->anon_vma) {
		vma->anon_vma->num_active_vmas--;
		/* A speculative fault may still look at a dead VMA. */
		WRITE_ONCE(vma->anon_vma, NULL);
	}
	if (root)
		anon_vma_unlock_write(root);

	list_for_each_entry_safe(avc, next, &vma->anon_vma_chain, same_vma) {
		struct anon_vma *anon_vma = avc->anon_vma;

		VM_WARN_ON(anon_vma->num_active_vmas);
		list_del(&avc->same_vma);
		free(avc);
		put_anon_vma(anon_vma);
	}
}

/* next is swallowed by vma in a merge: they share the anon_vma already. */
void anon_vma_merge(struct vm_area_struct *vma, struct vm_area_struct *next)
{
	VM_BUG_ON(vma->anon_vma != next->anon_vma);
	unlink_anon_vmas(next);
}

/*
 * fork: give dst, the child's copy of src, its anon_vmas.  dst joins every
 * anon_vma of src's chain (so that the pages it shares with the parent
 * stay reachable), then gets an anon_vma of its own, a child of src's,
 * for the pages its own COW faults will create; unless anon_vma_clone()
 * found one nobody uses any more to reuse.  0 or -ENOMEM (dst is left
 * without anon_vmas).  Both mms are write-locked.
 */
int anon_vma_fork(struct vm_area_struct *dst, struct vm_area_struct *src)
{
	struct anon_vma_chain *avc;
	struct anon_vma *anon_vma;
	int error;

	mmap_assert_write_locked(src->vm_mm);
	/* The parent never faulted here: nothing is shared yet. */
	if (!src->anon_vma)
		return 0;

	/* vm_area_dup() copied the parent's pointer: decide afresh. */
	WRITE_ONCE(dst->anon_vma, NULL);
	error = anon_vma_clone(dst, src);
	if (error)
		return error;
	if (dst->anon_vma)
		return 0;

	anon_vma = anon_vma_alloc();
	if (!anon_vma)
		goto out_error;
	avc = anon_vma_chain_alloc();
	if (!avc)
		goto out_error_free_anon_vma;

	/* The child's anon_vma pins the root it shares with the parent. */
	anon_vma->num_active_vmas++;
	anon_vma->root = src->anon_vma->root;
	anon_vma->parent = src->anon_vma;
	atomic_fetch_add(&anon_vma->root->refcount, 1);
	WRITE_ONCE(dst->anon_vma, anon_vma);
	anon_vma_lock_write(anon_vma);
	anon_vma_chain_link(dst, avc, anon_vma);
	anon_vma->parent->num_children++;
	anon_vma_unlock_write(anon_vma);
	return 0;

out_error_free_anon_vma:
	put_anon_vma(anon_vma);
out_error:
	unlink_anon_vmas(dst);
	return -ENOMEM;
}

/* --- page map counts ------------------------------------------------------ */

/* The page index of address in vma's file or anon_vma (linear_page_index). */
static unsigned long linear_page_index(struct vm_area_struct *vma,
				       unsigned long address)
{
	return ((address - vma->vm_start) >> PAGE_SHIFT) + vma->vm_pgoff;
}

static void page_set_anon_mapping(struct page *page, struct anon_vma *anon_vma)
{
	__atomic_store_n(&page->mapping,
			 (void *)((unsigned long)anon_vma | PAGE_MAPPING_ANON),
			 __ATOMIC_RELEASE);
}

/*
 * A new anonymous page is mapped at address of vma, whose anon_vma is
 * prepared (folio_add_new_anon_rmap).  Nobody else can see the page yet:
 * it is mapped once, belongs to vma's anon_vma, and is exclusive to this
 * mm.  The caller holds the PTE lock of the PTE it is about to set.
 */
void page_add_new_anon_rmap(struct page *page, struct vm_area_struct *vma,
			    unsigned long address)
{
	VM_BUG_ON(address < vma->vm_start || address >= vma->vm_end);
	VM_BUG_ON(!vma->anon_vma);
	atomic_store_explicit(&page->_mapcount, 0, memory_order_relaxed);
	page->index = linear_page_index(vma, address);
	page_set_anon_mapping(page, vma->anon_vma);
	SetPageFlag(page, PG_anon_exclusive);
}

/*
 * A write fault reuses an anonymous page that only this PTE maps
 * (folio_move_anon_rmap): after a fork it may still belong to the
 * parent's anon_vma; it now belongs to vma's own, and is exclusive again.
 * The caller holds the PTE lock.
 */
void page_move_anon_rmap(struct page *page, struct vm_area_struct *vma)
{
	VM_BUG_ON(!PageAnon(page) || !vma->anon_vma);
	page_set_anon_mapping(page, vma->anon_vma);
	SetPageFlag(page, PG_anon_exclusive);
}

/*
 * fork copies a PTE that maps page (page_dup_rmap): one more mapping.
 * The caller holds the PTE locks of both mms.
 */
void page_dup_rmap(struct page *page)
{
	int old = atomic_fetch_add_explicit(&page->_mapcount, 1,
					    memory_order_relaxed);

	VM_BUG_ON(old < 0);
}

/*
 * A page-cache page is mapped by one more PTE of vma (page_add_file_rmap).
 * The caller holds the PTE lock.
 */
void page_add_file_rmap(struct page *page, struct vm_area_struct *vma)
{
	VM_BUG_ON(PageAnon(page));
	atomic_fetch_add_explicit(&page->_mapcount, 1, memory_order_relaxed);
}

/*
 * A PTE of vma that mapped page was cleared (page_remove_rmap).  An
 * anonymous page mapped by nobody is no longer anyone's exclusive page.
 * The page's reference is dropped by the caller, after the TLB flush.
 * The caller holds the PTE lock.
 */
void page_remove_rmap(struct page *page, struct vm_area_struct *vma)
{
	int old = atomic_fetch_sub_explicit(&page->_mapcount, 1,
					    memory_order_relaxed);

	VM_BUG_ON(old < 0);
	if (old == 0 && PageAnon(page))
		ClearPageFlag(page, PG_anon_exclusive);
}

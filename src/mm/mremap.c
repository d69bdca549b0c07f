// SPDX-License-Identifier: MIT
/*
 * mremap(2): shrink, grow or move a mapping (the kernel's mm/mremap.c, with
 * the user-visible behaviour of Linux 6.18).
 *
 * One call is described by a struct vma_remap_struct that every step reads
 * and updates.  The steps, in the order the kernel takes them:
 *
 *  - check_mremap_params(): the arguments alone (flags, alignment, lengths,
 *    the new address), before the mmap lock is taken;
 *  - check_prep_vma(): the VMA at addr, the limits a growth would exceed;
 *  - then one of
 *	remap_move():	MREMAP_FIXED with old_len == new_len, which may move
 *			several VMAs at once, keeping the gaps between them;
 *	mremap_to():	a move to a given (MREMAP_FIXED) or chosen
 *			(MREMAP_DONTUNMAP) address, possibly shrinking first;
 *	mremap_at():	resize where it is: shrink by unmapping the tail, grow
 *			in place if the space after the VMA is free, else move
 *			(MREMAP_MAYMOVE) to where get_unmapped_area() says.
 *
 * A move copies the VMA (copy_vma(), which may merge the copy into a
 * neighbour of the destination), moves the PTEs (move_page_tables()), then
 * unmaps the source, or with MREMAP_DONTUNMAP leaves it mapped but empty.
 * A shrink unmaps the tail through the munmap path; a growth in place
 * maps nothing (the new part faults in, or is populated if VM_LOCKED).
 *
 * Commit accounting (VM_ACCOUNT) is charged up front for what the call adds
 * (the growth, or all of new_len when the source stays mapped).  The unmap
 * of a moved source must not give back what the copy now holds, so the
 * source has VM_ACCOUNT cleared for the unmap and restored on what remains
 * of it on either side.
 *
 * The kernel's mm/util.c vm_acct_memory(pages) is not declared in
 * internal.h: where the kernel calls it, this file calls
 * vm_unacct_memory(-pages), which adds the pages back in the same way.
 *
 * Every function below expects the mmap lock held for writing, except
 * check_mremap_params() and sys_mremap(), which takes it.
 *
 * Speculative faults: every change this file makes to a VMA in the tree
 * (its flags, its anon_vma, the PTEs a move takes away or brings) happens
 * inside that VMA's vm_sequence write section; the splits and merges
 * happen in __vma_adjust(), which has its own.
 */
#include <mmsim/mutant.h>
#include <mmsim/strategy.h>

#include "mm/internal.h"

/* What a call does to the size of the range. */
enum mremap_type {
	MREMAP_INVALID,		/* not worked out yet */
	MREMAP_NO_RESIZE,	/* old_len == new_len: a no-op unless moved */
	MREMAP_SHRINK,		/* old_len > new_len */
	MREMAP_EXPAND,		/* old_len < new_len */
};

/*
 * One mremap() call.  The lengths are page aligned from the start; addr,
 * old_len, new_len and new_addr always describe the piece being worked on
 * (one VMA of a multi-VMA move, or the part left after a shrink).
 */
struct vma_remap_struct {
	struct mm_struct *mm;
	unsigned long addr;		/* start of the source range */
	unsigned long old_len;
	unsigned long new_len;
	unsigned long flags;		/* MREMAP_* */
	unsigned long new_addr;		/* target; addr itself if not moved */

	struct vm_area_struct *vma;	/* the source VMA, NULL once invalid */
	unsigned long delta;		/* |new_len - old_len| */
	enum mremap_type remap_type;
	bool populate_expand;		/* VM_LOCKED and grown: fault it in */
	unsigned long charged;		/* pages committed for VM_ACCOUNT */

	/* move_vma: write sections open until the source is unmapped */
	struct vm_area_struct *held_vma, *held_new_vma;
	int defer_idx;
};

static void vrm_set_delta(struct vma_remap_struct *vrm)
{
	if (vrm->old_len > vrm->new_len)
		vrm->delta = vrm->old_len - vrm->new_len;
	else
		vrm->delta = vrm->new_len - vrm->old_len;
}

static enum mremap_type vrm_remap_type(struct vma_remap_struct *vrm)
{
	if (!vrm->delta)
		return MREMAP_NO_RESIZE;
	return vrm->old_len > vrm->new_len ? MREMAP_SHRINK : MREMAP_EXPAND;
}

/* Both flags mean the mapping gets a new address, whatever its size. */
static bool vrm_implies_new_addr(struct vma_remap_struct *vrm)
{
	return vrm->flags & (MREMAP_FIXED | MREMAP_DONTUNMAP);
}

/* Do [addr, addr + old_len) and [new_addr, new_addr + new_len) meet? */
static bool vrm_overlaps(struct vma_remap_struct *vrm)
{
	unsigned long old_end = vrm->addr + vrm->old_len;
	unsigned long new_end = vrm->new_addr + vrm->new_len;

	return old_end > vrm->new_addr && new_end > vrm->addr;
}

/* Will the call map address space that is not mapped now? */
static bool vrm_will_map_new(struct vma_remap_struct *vrm)
{
	return vrm->remap_type == MREMAP_EXPAND || vrm_implies_new_addr(vrm);
}

/* A pure move of a fixed range: the only kind that may span VMAs. */
static bool vrm_move_only(struct vma_remap_struct *vrm)
{
	return (vrm->flags & MREMAP_FIXED) && vrm->old_len == vrm->new_len;
}

/*
 * Pick the destination: exactly new_addr with MREMAP_FIXED, new_addr as a
 * hint with MREMAP_DONTUNMAP alone, anywhere for a growing MREMAP_MAYMOVE.
 * The file offset goes along, so that a shared mapping can be placed with
 * its colour.
 */
static unsigned long vrm_set_new_addr(struct vma_remap_struct *vrm)
{
	struct vm_area_struct *vma = vrm->vma;
	pgoff_t pgoff = vma->vm_pgoff +
			((vrm->addr - vma->vm_start) >> PAGE_SHIFT);
	unsigned long hint = vrm_implies_new_addr(vrm) ? vrm->new_addr : 0;
	unsigned long map_flags = 0, res;

	if (vrm->flags & MREMAP_FIXED)
		map_flags |= MAP_FIXED;
	if (vma->vm_flags & VM_MAYSHARE)
		map_flags |= MAP_SHARED;

	res = get_unmapped_area(vrm->mm, vma->vm_file, hint, vrm->new_len,
				pgoff, map_flags);
	if (IS_ERR_VALUE(res))
		return res;
	vrm->new_addr = res;
	return 0;
}

/*
 * Commit what the call adds to an accounted mapping: the growth, or all of
 * the copy when the source stays mapped (MREMAP_DONTUNMAP).  Note that a
 * move that shrank first still charges the shrink's delta, as the kernel
 * does.  Returns false if the commit limit says no.
 */
static bool vrm_calc_charge(struct vma_remap_struct *vrm)
{
	unsigned long charged;

	if (!(vrm->vma->vm_flags & VM_ACCOUNT))
		return true;

	if (vrm->flags & MREMAP_DONTUNMAP)
		charged = vrm->new_len >> PAGE_SHIFT;
	else
		charged = vrm->delta >> PAGE_SHIFT;
	if (security_vm_enough_memory_mm(vrm->mm, charged))
		return false;
	vrm->charged = charged;
	return true;
}

/* The call failed before the charged pages were mapped: give them back. */
static void vrm_uncharge(struct vma_remap_struct *vrm)
{
	if (!(vrm->vma->vm_flags & VM_ACCOUNT))
		return;
	vm_unacct_memory(vrm->charged);
	vrm->charged = 0;
}

/*
 * Count bytes more of the source's kind of mapping in total_vm and its
 * data/exec/stack counter, and in locked_vm if it is VM_LOCKED.
 */
static void vrm_stat_account(struct vma_remap_struct *vrm, unsigned long bytes)
{
	unsigned long pages = bytes >> PAGE_SHIFT;
	struct vm_area_struct *vma = vrm->vma;

	vm_stat_account(vrm->mm, vma->vm_flags, pages);
	if (vma->vm_flags & VM_LOCKED)
		vrm->mm->locked_vm += pages;
}

/*
 * Before anything is copied: the move may add up to two VMAs (an unmerged
 * copy, and a source split in three), and failing in the middle of it is
 * worse than failing now.  (The kernel also asks vm_ops->may_split() and
 * unmerges KSM pages here; mmsim has neither.)
 */
static int prep_move_vma(struct vma_remap_struct *vrm)
{
	if (vrm->mm->map_count >= sysctl_max_map_count - 3)
		return -ENOMEM;
	return 0;
}

/* Set or clear flag in vma->vm_flags, which a speculative fault reads. */
static void vma_change_flag(struct vm_area_struct *vma, unsigned long flag,
			    bool set)
{
	unsigned long flags = vma->vm_flags;

	vma_start_write(vma);
	vm_write_begin(vma);
	WRITE_ONCE(vma->vm_flags, set ? flags | flag : flags & ~flag);
	vm_write_end(vma);
}

/*
 * The write sections of a move (the series' move_vma) last until the
 * source is out of the tree, not only while the PTEs move.  The series
 * ended them after move_page_tables(): a speculative fault on the source
 * between that and do_munmap() found the VMA unchanged and its PTE none
 * (moved), installed a fresh page, and the munmap threw it away with the
 * write it held, a store that had succeeded (the stress test found it).
 * The classic path cannot see that window: it waits for the mmap lock.
 *
 * The munmap frees the source VMA (after a grace period, for spf-srcu):
 * the deferral keeps it until its section is ended.  Both are ended by
 * move_sections_end().  The copy's section is held as long, for the
 * failed move that unmaps the copy instead.
 */
static void move_sections_begin(struct vma_remap_struct *vrm,
				struct vm_area_struct *vma,
				struct vm_area_struct *new_vma)
{
	mmap_assert_write_locked(vrm->mm);
	/* Sections to end after the unmap need the VMAs kept till then. */
	vrm->defer_idx = vma_free_defer_begin(vrm->mm);
	vrm->held_vma = vma;
	vrm->held_new_vma = new_vma != vma ? new_vma : NULL;
	vma_start_write(vma);
	vm_write_begin_outer(vma);
	if (vrm->held_new_vma) {
		vma_start_write(new_vma);
		vm_write_begin_outer(new_vma);
	}
}

static void move_sections_end(struct vma_remap_struct *vrm)
{
	if (!vrm->held_vma)
		return;
	/*
	 * A strategy without write sections (classic) has none to end, and
	 * frees VMAs at once: the held ones may be gone, do not look.
	 */
	if (vrm->mm->strategy->vm_write_end) {
		if (vrm->held_new_vma)
			vm_write_end_outer(vrm->held_new_vma);
		vm_write_end_outer(vrm->held_vma);
	}
	vma_free_defer_end(vrm->mm, vrm->defer_idx);
	vrm->held_vma = vrm->held_new_vma = NULL;
}

/*
 * Unmap the source of a move that succeeded.  Its charge was taken when
 * it was mapped and now belongs to the copy (the move itself charged only
 * the growth), so with VM_ACCOUNT left on, the unmap would uncharge pages
 * that are still mapped: clear it for the unmap and put it back on the
 * parts of the VMA that stay, below and above the range.
 *
 *	vm_start   addr       end     vm_end
 *	|----------|..........|----------|
 *	  keeps       unmapped    keeps
 *	VM_ACCOUNT             VM_ACCOUNT
 *
 * With MREMAP_DONTUNMAP this is only reached on a failed move, to unmap
 * the copy, whose charge must then go: VM_ACCOUNT stays on for that.
 *
 * Best effort: if the unmap fails (no memory to split), the accounting is
 * fixed up and the source stays mapped.
 */
static void unmap_source_vma(struct vma_remap_struct *vrm)
{
	struct vm_area_struct *vma = vrm->vma, *prev, *next;
	unsigned long addr = vrm->addr, len = vrm->old_len;
	unsigned long end = addr + len;
	unsigned long vm_start = vma->vm_start, vm_end = vma->vm_end;
	bool accountable_move = (vma->vm_flags & VM_ACCOUNT) &&
				!(vrm->flags & MREMAP_DONTUNMAP);
	int err;

	if (accountable_move)
		vma_change_flag(vma, VM_ACCOUNT, false);

	/* old_len == 0 (a duplicated shared mapping): nothing to unmap. */
	err = len ? do_vmi_munmap(vrm->mm, addr, len, false) : -EINVAL;
	vrm->vma = NULL;		/* split or gone */
	if (err) {
		vm_unacct_memory(-(long)(len >> PAGE_SHIFT));
		return;
	}

	if (!accountable_move)
		return;
	next = find_vma_prev(vrm->mm, addr, &prev);
	if (vm_start < addr && prev)
		vma_change_flag(prev, VM_ACCOUNT, true);
	if (vm_end > end && next)
		vma_change_flag(next, VM_ACCOUNT, true);
}

/*
 * Move the PTEs of [old_addr, old_end), which lie in one PTE table, to
 * new_addr on, which lie in one PTE table too (move_ptes).  The old
 * table's lock is taken first, then the new one's if it is another table:
 * a fault on either range waits for the move.  A page keeps its index and
 * mapping; only the entry moves, with its rights and A/D bits.  Any TLB
 * may still hold the old translations, so they are flushed before the
 * old lock is dropped: a fault that finds the old PTE none must not race
 * a CPU still writing to the page through its TLB.
 */
static void move_ptes(struct vm_area_struct *vma, pmd_t *old_pmd,
		      unsigned long old_addr, unsigned long old_end,
		      pmd_t *new_pmd, unsigned long new_addr)
{
	struct mm_struct *mm = vma->vm_mm;
	struct address_space *mapping = NULL;
	unsigned long start = old_addr;
	spinlock_t *old_ptl, *new_ptl;
	pte_t *old_pte, *new_pte;
	bool force_flush = false;

	/*
	 * take_rmap_locks(): unmap_mapping_range() walks the file's VMAs
	 * one after the other, and must not zap the destination before the
	 * PTE arrives and the source after it left.  The kernel skips this
	 * when its pgoff-ordered interval tree visits the source first;
	 * mmsim's i_mmap list has no such order, so a file VMA always
	 * takes it.
	 */
	if (vma->vm_file) {
		mapping = &vma->vm_file->f_mapping;
		i_mmap_lock_write(mapping);
	}
	old_pte = pte_offset_map_lock(mm, old_pmd, old_addr, &old_ptl);
	if (!old_pte)
		goto out;	/* no table any more: nothing to move */
	new_pte = pte_offset_map(new_pmd, new_addr);
	new_ptl = pte_lockptr(mm, pmdp_get(new_pmd));
	if (new_ptl != old_ptl)
		spin_lock(new_ptl);

	for (; old_addr < old_end; old_pte++, old_addr += PAGE_SIZE,
	     new_pte++, new_addr += PAGE_SIZE) {
		pte_t pte;

		if (pte_none(ptep_get(old_pte)))
			continue;
		/* Atomically: the MMU may still set A/D through the old one. */
		pte = ptep_get_and_clear(mm, old_addr, old_pte);
		/* Present (PROT_NONE too): a TLB may hold the old one. */
		if (pte_present(pte))
			force_flush = true;
		VM_WARN_ON(!pte_none(ptep_get(new_pte)));
		set_pte_at(mm, new_addr, new_pte, pte);
	}

	if (force_flush)
		flush_tlb_range(vma, start, old_end);
	if (new_ptl != old_ptl)
		spin_unlock(new_ptl);
	pte_unmap(new_pte - 1);
	pte_unmap_unlock(old_pte - 1, old_ptl);
out:
	if (mapping)
		i_mmap_unlock_write(mapping);
}

/*
 * Move the PTEs of [old_addr, old_addr + len) of vma to new_addr in
 * new_vma (move_page_tables), in chunks that stay inside one PMD on both
 * sides.  The destination's tables are allocated as needed; a chunk whose
 * source has no PTE table is skipped.  Returns the bytes handled: len, or
 * less if a table could not be allocated (the caller then moves the
 * entries back and fails with -ENOMEM).  The caller holds the mmap lock
 * for writing; both VMAs belong to the same mm.
 */
unsigned long move_page_tables(struct vm_area_struct *vma,
			       unsigned long old_addr,
			       struct vm_area_struct *new_vma,
			       unsigned long new_addr, unsigned long len)
{
	struct mm_struct *mm = vma->vm_mm;
	unsigned long extent, next, old_end = old_addr + len;
	pmd_t *old_pmd, *new_pmd;

	mmap_assert_write_locked(mm);
	VM_BUG_ON(new_vma->vm_mm != mm);
	for (; old_addr < old_end; old_addr += extent, new_addr += extent) {
		/* Wrapping to 0 at the top still gives the right extent. */
		next = (old_addr + PMD_SIZE) & PMD_MASK;
		extent = next - old_addr;
		if (extent > old_end - old_addr)
			extent = old_end - old_addr;
		next = (new_addr + PMD_SIZE) & PMD_MASK;
		if (extent > next - new_addr)
			extent = next - new_addr;

		old_pmd = mm_find_pmd(mm, old_addr);
		if (!old_pmd || pmd_none(pmdp_get(old_pmd)))
			continue;
		new_pmd = mm_alloc_pmd(mm, new_addr);
		if (!new_pmd)
			break;
		if (pmd_none(pmdp_get(new_pmd)) && __pte_alloc(mm, new_pmd))
			break;
		move_ptes(vma, old_pmd, old_addr, old_addr + extent, new_pmd,
			  new_addr);
	}
	return len + old_addr - old_end;
}

/*
 * Copy the source VMA's range to new_addr (a new VMA, or a neighbour of
 * the destination grown over it) and move what it maps.  copy_vma() may
 * merge the copy into the source itself (an anonymous VMA never faulted
 * has no pgoff to keep), in which case vrm->vma follows it.
 *
 * Returns 0 with *new_vma_ptr set; -ENOMEM with *new_vma_ptr NULL
 * (nothing done, the charge given back); or -ENOMEM with *new_vma_ptr set
 * when the page tables could not all be moved: the entries moved are then
 * moved back, and vrm describes the copy, for the caller to unmap instead
 * of the source.
 */
static int copy_vma_and_data(struct vma_remap_struct *vrm,
			     struct vm_area_struct **new_vma_ptr)
{
	struct vm_area_struct *vma = vrm->vma, *new_vma;
	pgoff_t new_pgoff = vma->vm_pgoff +
			    ((vrm->addr - vma->vm_start) >> PAGE_SHIFT);
	unsigned long moved_len;
	bool need_rmap_locks;
	int err = 0;

	new_vma = copy_vma(&vma, vrm->new_addr, vrm->new_len, new_pgoff,
			   &need_rmap_locks);
	*new_vma_ptr = new_vma;
	if (!new_vma) {
		vrm_uncharge(vrm);
		return -ENOMEM;
	}
	vrm->vma = vma;

	/*
	 * Both VMAs are in write sections while the PTEs move, and on
	 * until move_vma() has unmapped the source (move_sections_begin):
	 * a speculative fault on the source could act on a PTE that is
	 * leaving, one on the destination could install a PTE where
	 * move_ptes() is about to put the moved one.  They are the same VMA
	 * when the copy merged into an unfaulted source.
	 *
	 * need_rmap_locks orders the move against rmap walkers in the
	 * kernel; mmsim's one walker is unmap_mapping_range(), against which
	 * move_ptes() always takes i_mmap_rwsem, and a fault on either
	 * range waits on the PTE locks that move_ptes() holds.
	 */
	move_sections_begin(vrm, vma, new_vma);
	moved_len = move_page_tables(vma, vrm->addr, new_vma, vrm->new_addr,
				     vrm->old_len);
	if (moved_len < vrm->old_len) {
		/*
		 * Move back what moved: the source's tables are all still
		 * there.  Then the copy is what gets unmapped.
		 */
		move_page_tables(new_vma, vrm->new_addr, vma, vrm->addr,
				 moved_len);
		vrm->vma = new_vma;
		vrm->old_len = vrm->new_len;
		vrm->addr = vrm->new_addr;
		err = -ENOMEM;
	}
	return err;
}

/*
 * MREMAP_DONTUNMAP left the source mapped with nothing in it: nothing
 * there is locked in memory any more, so the whole source VMA loses
 * VM_LOCKED and VM_LOCKONFAULT (and keeps VM_ACCOUNT, as a fresh mapping
 * would).  locked_vm is left alone, as the kernel leaves it: it keeps
 * counting the source as well as the locked copy.  If the whole VMA
 * moved, its anon_vma has no pages left and is unlinked; the next write
 * fault prepares a new one.
 */
static void dontunmap_complete(struct vma_remap_struct *vrm,
			       struct vm_area_struct *new_vma)
{
	struct vm_area_struct *vma = vrm->vma;
	unsigned long start = vrm->addr, end = vrm->addr + vrm->old_len;

	vma_start_write(vma);
	vm_write_begin(vma);
	WRITE_ONCE(vma->vm_flags, vma->vm_flags & ~VM_LOCKED_MASK);
	if (new_vma != vma && start == vma->vm_start && end == vma->vm_end)
		unlink_anon_vmas(vma);
	vm_write_end(vma);
}

/*
 * Move [addr, addr + old_len) of vrm->vma to [new_addr, new_addr +
 * new_len), which is free.  Returns new_addr or a negative errno.
 */
static unsigned long move_vma(struct vma_remap_struct *vrm)
{
	struct vm_area_struct *new_vma;
	int err;

	mmap_assert_write_locked(vrm->mm);
	err = prep_move_vma(vrm);
	if (err)
		return err;
	if (!vrm_calc_charge(vrm))
		return -ENOMEM;

	err = copy_vma_and_data(vrm, &new_vma);
	if (err && !new_vma)
		return err;

	/*
	 * The copy counts in full now; unmapping the source (or, had the
	 * move failed, the copy) takes off old_len again.
	 */
	vrm_stat_account(vrm, vrm->new_len);
	if (!err && (vrm->flags & MREMAP_DONTUNMAP)) {
		dontunmap_complete(vrm, new_vma);
	} else {
		if (mmsim_mutant_is(MUTANT_MREMAP_SECTION_EARLY))
			move_sections_end(vrm);
		unmap_source_vma(vrm);
	}
	move_sections_end(vrm);

	return err ? (unsigned long)err : vrm->new_addr;
}

/*
 * Unmap the tail [addr + new_len, addr + old_len), whatever it covers:
 * a shrink may cross VMA boundaries and holes.  vrm->vma is looked up
 * again, since the unmap may have split it.
 */
static int shrink_vma(struct vma_remap_struct *vrm)
{
	int err;

	VM_BUG_ON(vrm->remap_type != MREMAP_SHRINK);
	err = do_vmi_munmap(vrm->mm, vrm->addr + vrm->new_len, vrm->delta,
			    false);
	vrm->vma = NULL;
	if (err)
		return err;

	vrm->vma = vma_lookup(vrm->mm, vrm->addr);
	if (!vrm->vma)
		return -EFAULT;
	return 0;
}

/*
 * Move to vrm->new_addr: exactly there with MREMAP_FIXED (whatever is
 * mapped there is unmapped first), or near it with MREMAP_DONTUNMAP alone.
 * A shrink happens in place first, and only the rest moves.
 */
static unsigned long mremap_to(struct vma_remap_struct *vrm)
{
	struct mm_struct *mm = vrm->mm;
	unsigned long err;

	if (vrm->flags & MREMAP_FIXED) {
		err = do_munmap(mm, vrm->new_addr, vrm->new_len);
		vrm->vma = NULL;
		if (err)
			return err;
		/* The destination may have been in the source's VMA. */
		vrm->vma = vma_lookup(mm, vrm->addr);
		if (!vrm->vma)
			return -EFAULT;
	}

	if (vrm->remap_type == MREMAP_SHRINK) {
		err = shrink_vma(vrm);
		if (err)
			return err;
		vrm->old_len = vrm->new_len;
	}

	/* The source stays mapped: the copy is new address space. */
	if ((vrm->flags & MREMAP_DONTUNMAP) &&
	    !may_expand_vm(mm, vrm->vma->vm_flags,
			   vrm->old_len >> PAGE_SHIFT))
		return -ENOMEM;

	err = vrm_set_new_addr(vrm);
	if (err)
		return err;
	return move_vma(vrm);
}

/*
 * Can vma grow by delta bytes where it is?  The range after it must be
 * free and [vm_start, vm_end + delta) a valid place for a mapping.
 */
static bool vma_expandable(struct vm_area_struct *vma, unsigned long delta)
{
	unsigned long end = vma->vm_end + delta;

	if (end < vma->vm_end)		/* wrapped */
		return false;
	if (find_vma_intersection(vma->vm_mm, vma->vm_end, end))
		return false;
	if (get_unmapped_area(vma->vm_mm, NULL, vma->vm_start,
			      end - vma->vm_start, 0, MAP_FIXED) & ~PAGE_MASK)
		return false;
	return true;
}

/* Only a range that ends where its VMA ends can grow in place. */
static bool vrm_can_expand_in_place(struct vma_remap_struct *vrm)
{
	if (vrm->vma->vm_end - vrm->addr != vrm->old_len)
		return false;
	return vma_expandable(vrm->vma, vrm->delta);
}

/*
 * Grow vrm->vma over [vm_end, vm_end + delta), and over the next VMA too
 * if it starts right there and is compatible (vma_merge_extend(): a new
 * range merged with prev = vma).  The merge fails only for VM_SPECIAL
 * mappings or for lack of memory, both -ENOMEM.  A shared anonymous
 * mapping grows beyond its shmem file's size: an access there is SIGBUS.
 */
static unsigned long expand_vma_in_place(struct vma_remap_struct *vrm)
{
	struct vm_area_struct *vma = vrm->vma;
	struct vma_merge_struct vmg = {
		.mm = vrm->mm,
		.prev = vma,
		.next = vma->vm_next,
		.start = vma->vm_end,
		.end = vma->vm_end + vrm->delta,
		.pgoff = vma->vm_pgoff + vma_pages(vma),
		.flags = vma->vm_flags,
		.file = vma->vm_file,
		.anon_vma = vma->anon_vma,
	};

	if (!vrm_calc_charge(vrm))
		return -ENOMEM;

	vma = vma_merge_new_range(&vmg);
	if (!vma) {
		vrm_uncharge(vrm);
		return -ENOMEM;
	}
	vrm->vma = vma;
	vrm_stat_account(vrm, vrm->delta);
	return 0;
}

/*
 * Grow without a fixed target: in place if possible, else move the whole
 * range to a new, larger place if MREMAP_MAYMOVE allows it.
 */
static unsigned long expand_vma(struct vma_remap_struct *vrm)
{
	unsigned long err;

	if (vrm_can_expand_in_place(vrm)) {
		err = expand_vma_in_place(vrm);
		if (err)
			return err;
		return vrm->addr;
	}

	if (!(vrm->flags & MREMAP_MAYMOVE))
		return -ENOMEM;

	err = vrm_set_new_addr(vrm);
	if (err)
		return err;
	return move_vma(vrm);
}

/* Resize in place, or move if growing in place is not possible. */
static unsigned long mremap_at(struct vma_remap_struct *vrm)
{
	unsigned long err;

	switch (vrm->remap_type) {
	case MREMAP_NO_RESIZE:
		return vrm->addr;
	case MREMAP_SHRINK:
		err = shrink_vma(vrm);
		if (err)
			return err;
		return vrm->addr;
	case MREMAP_EXPAND:
		return expand_vma(vrm);
	case MREMAP_INVALID:
		break;
	}
	WARN_ON(1);
	return -EINVAL;
}

/*
 * May this VMA be one of several moved by one call?  The kernel refuses
 * VMAs armed for userfaultfd (notifying needs the mmap lock dropped) and
 * files with a get_unmapped_area() of their own, other than shmem, hugetlb
 * and THP alignment, which might not honour MAP_FIXED.  mmsim has no
 * userfaultfd, and its only files are shmem.
 */
static bool vma_multi_allowed(struct vm_area_struct *vma)
{
	return true;
}

/*
 * Check the VMA at vrm->addr against the request, and work out the kind
 * of remap.  Returns 0 or a negative errno.
 */
static int check_prep_vma(struct vma_remap_struct *vrm)
{
	struct vm_area_struct *vma = vrm->vma;
	struct mm_struct *mm = vrm->mm;
	unsigned long old_len, new_len;
	pgoff_t pgoff;

	if (!vma)
		return -EFAULT;
	/*
	 * The kernel refuses sealed VMAs (-EPERM) and aligns the lengths of
	 * hugetlb VMAs here; mmsim has neither.
	 */

	vrm_set_delta(vrm);
	vrm->remap_type = vrm_remap_type(vrm);
	/* Not moved: the "new" address is the old one (for the populate). */
	if (!vrm_implies_new_addr(vrm))
		vrm->new_addr = vrm->addr;

	/* Shrinking or nothing at all in place needs no more checks. */
	if (!vrm_will_map_new(vrm))
		return 0;

	old_len = vrm->old_len;
	new_len = vrm->new_len;

	/*
	 * old_len == 0 makes a second mapping of the same pages: that means
	 * something only for a shared mapping.  A private one would get
	 * fresh pages, unrelated to the original.
	 */
	if (!old_len && !(vma->vm_flags & (VM_SHARED | VM_MAYSHARE)))
		return -EINVAL;

	if ((vrm->flags & MREMAP_DONTUNMAP) &&
	    (vma->vm_flags & (VM_DONTEXPAND | VM_PFNMAP)))
		return -EINVAL;

	/* Only what stays after a shrink has to fit in the VMA. */
	if (vrm->remap_type == MREMAP_SHRINK)
		old_len = new_len;

	/* The range may not run past the end of its VMA. */
	if (old_len > vma->vm_end - vrm->addr)
		return -EFAULT;

	if (new_len == old_len)
		return 0;

	/* Growing: the mlocked new part gets faulted in at the end. */
	if (vma->vm_flags & VM_LOCKED)
		vrm->populate_expand = true;

	pgoff = vma->vm_pgoff + ((vrm->addr - vma->vm_start) >> PAGE_SHIFT);
	if (pgoff + (new_len >> PAGE_SHIFT) < pgoff)
		return -EINVAL;

	if (vma->vm_flags & (VM_DONTEXPAND | VM_PFNMAP))
		return -EFAULT;

	if (!mlock_future_ok(mm, vma->vm_flags, vrm->delta))
		return -EAGAIN;

	if (!may_expand_vm(mm, vma->vm_flags, vrm->delta >> PAGE_SHIFT))
		return -ENOMEM;

	return 0;
}

/*
 * The arguments alone, before the mmap lock is taken (the lengths are
 * already page aligned).  Returns 0 or -EINVAL.
 */
static unsigned long check_mremap_params(struct vma_remap_struct *vrm)
{
	unsigned long task_size = vrm->mm->task_size;
	unsigned long flags = vrm->flags;

	if (flags & ~(MREMAP_FIXED | MREMAP_MAYMOVE | MREMAP_DONTUNMAP))
		return -EINVAL;

	if (offset_in_page(vrm->addr))
		return -EINVAL;

	/*
	 * A zero old_len is allowed (the duplication of a shared mapping,
	 * once used by DOSEMU), a zero new_len is not.
	 */
	if (!vrm->new_len)
		return -EINVAL;

	if (vrm->new_len > task_size)
		return -EINVAL;

	if (!vrm_implies_new_addr(vrm))
		return 0;

	if (vrm->new_addr > task_size - vrm->new_len)
		return -EINVAL;

	if (offset_in_page(vrm->new_addr))
		return -EINVAL;

	/* A new address means a move, which the caller must allow. */
	if (!(flags & MREMAP_MAYMOVE))
		return -EINVAL;

	/* The source stays mapped: resizing on the way is not supported. */
	if ((flags & MREMAP_DONTUNMAP) && vrm->old_len != vrm->new_len)
		return -EINVAL;

	if (vrm_overlaps(vrm))
		return -EINVAL;

	return 0;
}

/*
 * The last of check_mremap_params()'s checks in the kernel, done here
 * under the mmap lock since it reads map_count.  A move to a new address
 * may have split both the source and the destination in three before
 * move_vma() checks map_count; failing then would leave the caller not
 * knowing what is mapped, so keep the room for those two VMAs now.
 */
static unsigned long check_map_count(struct vma_remap_struct *vrm)
{
	mmap_assert_write_locked(vrm->mm);
	if (!vrm_implies_new_addr(vrm))
		return 0;
	if (vrm->mm->map_count + 2 >= sysctl_max_map_count - 3)
		return -ENOMEM;
	return 0;
}

/*
 * MREMAP_FIXED with old_len == new_len: move every VMA in [addr, addr +
 * old_len), each clipped to the range, keeping the gaps between them.
 *
 *	        X         Y                       X         Y
 *	      <--->      <->                    <--->      <->
 *	|-----|   |------| |---|        |-----|   |------| |---|
 *	|  A  |   |  B   | | C |  --->  |  A' |   |  B'  | | C'|
 *	|-----|   |------| |---|        |-----|   |------| |---|
 *	addr                            new_addr
 *
 * B' goes X after the end of A' (wherever A' was actually put), C' Y
 * after B'.  A hole at the start of the range is -EFAULT; holes after it
 * are kept.  An error stops the walk with what was moved so far left
 * moved.  Returns where the first VMA went.
 */
static unsigned long remap_move(struct vma_remap_struct *vrm)
{
	struct mm_struct *mm = vrm->mm;
	unsigned long start = vrm->addr, end = vrm->addr + vrm->old_len;
	unsigned long new_addr = vrm->new_addr, target_addr = new_addr;
	unsigned long res = -EFAULT, last_end = start;
	struct vm_area_struct *vma;
	bool seen_vma = false;

	/*
	 * Each move changes the tree, so each step looks up the next VMA
	 * afresh, from the end the previous one had when it was found; the
	 * walk is over once that end reaches the end of the range, even if
	 * the copy was merged into the VMA there and made it reach further.
	 */
	while (last_end < end && (vma = find_vma(mm, last_end)) &&
	       vma->vm_start < end) {
		unsigned long addr = max(vma->vm_start, start);
		unsigned long len = min(end, vma->vm_end) - addr;
		unsigned long offset, res_vma;
		bool multi_allowed;

		if (!seen_vma && start < vma->vm_start)
			return -EFAULT;

		offset = seen_vma ? vma->vm_start - last_end : 0;
		last_end = vma->vm_end;

		vrm->vma = vma;
		vrm->addr = addr;
		vrm->new_addr = target_addr + offset;
		vrm->old_len = vrm->new_len = len;

		multi_allowed = vma_multi_allowed(vma);
		if (!multi_allowed) {
			/* Alone it may move; not as part of a batch. */
			if (seen_vma || vma->vm_end < end)
				return -EFAULT;
		}

		res_vma = check_prep_vma(vrm);
		if (!res_vma)
			res_vma = mremap_to(vrm);
		if (IS_ERR_VALUE(res_vma))
			return res_vma;

		if (!seen_vma) {
			WARN_ON(multi_allowed && res_vma != new_addr);
			res = res_vma;
		}
		/* A pure move never grows anything. */
		WARN_ON(vrm->populate_expand);

		seen_vma = true;
		target_addr = res_vma + vrm->new_len;
	}
	return res;
}

/*
 * Fault in the grown part of a VM_LOCKED mapping, so that all of it is in
 * memory as mlock promises (mm_populate()).  Errors are ignored: the
 * mremap() itself succeeded.  The kernel does this after dropping the mmap
 * lock; mmsim keeps it, which nothing can tell apart.
 */
static void mremap_populate(struct vma_remap_struct *vrm)
{
	mm_populate_range(vrm->mm, vrm->new_addr + vrm->old_len, vrm->delta);
}

static unsigned long do_mremap(struct vma_remap_struct *vrm)
{
	struct mm_struct *mm = vrm->mm;
	unsigned long res;

	vrm->old_len = PAGE_ALIGN(vrm->old_len);
	vrm->new_len = PAGE_ALIGN(vrm->new_len);

	res = check_mremap_params(vrm);
	if (res)
		return res;

	mmap_write_lock(mm);
	res = check_map_count(vrm);
	if (res)
		goto out;

	if (vrm_move_only(vrm)) {
		res = remap_move(vrm);
	} else {
		vrm->vma = vma_lookup(mm, vrm->addr);
		res = check_prep_vma(vrm);
		if (res)
			goto out;
		if (vrm_implies_new_addr(vrm))
			res = mremap_to(vrm);
		else
			res = mremap_at(vrm);
	}

	if (!IS_ERR_VALUE(res) && vrm->populate_expand)
		mremap_populate(vrm);
out:
	mmap_write_unlock(mm);
	return res;
}

/*
 * Resize and/or move [addr, addr + old_len) (mremap(2)).  Returns the
 * address of the mapping, or a negative errno cast to unsigned long.
 * Takes the mmap lock for writing.
 */
unsigned long sys_mremap(struct mm_struct *mm, unsigned long addr,
			 unsigned long old_len, unsigned long new_len,
			 unsigned long flags, unsigned long new_addr)
{
	struct vma_remap_struct vrm = {
		.mm = mm,
		.addr = addr,
		.old_len = old_len,
		.new_len = new_len,
		.flags = flags,
		.new_addr = new_addr,
		.remap_type = MREMAP_INVALID,
	};

	return do_mremap(&vrm);
}

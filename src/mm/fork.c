// SPDX-License-Identifier: MIT
/*
 * fork()'s copy of an address space (the kernel's kernel/fork.c: dup_mm
 * and dup_mmap).  The child gets a copy of every VMA but the VM_DONTCOPY
 * ones, in the same order, and the PTEs that a fault could not rebuild:
 * those of private mappings that have anonymous pages.  Those pages are
 * then shared copy-on-write: copy_page_range() write-protects them in the
 * parent and maps them read-only in the child, and the first write on
 * either side copies (or, if the other side let go, reuses) the page.
 */
#include <mmsim/strategy.h>

#include "mm/internal.h"

/*
 * Must the child get src_vma's PTEs now (vma_needs_copy)?  Private pages
 * (an anon_vma) exist only in the page tables, and PFN mappings have no
 * page a fault could find.  Everything else (shared memory, a private
 * mapping never written) is refaulted from the page cache or the zero
 * page on the child's first access, so fork skips its page tables.
 */
static bool vma_needs_copy(struct vm_area_struct *dst_vma,
			   struct vm_area_struct *src_vma)
{
	if (src_vma->vm_flags & (VM_PFNMAP | VM_MIXEDMAP))
		return true;
	if (src_vma->anon_vma)
		return true;
	return false;
}

/*
 * What the child inherits besides the VMAs.  The VM counters start as the
 * parent's and lose the VM_DONTCOPY VMAs as they are skipped; locked_vm
 * starts at zero, since no lock is inherited (the child's VMAs lose
 * VM_LOCKED, and mm_init() keeps only VM_NOHUGEPAGE of def_flags, so
 * mlockall(MCL_FUTURE) is not inherited either).  mm_users, the cpumask
 * and the RSS counters are the new mm's own.  The caller holds oldmm's
 * mmap lock.
 */
static void dup_mm_state(struct mm_struct *mm, struct mm_struct *oldmm)
{
	mm->mmap_base = oldmm->mmap_base;
	mm->task_size = oldmm->task_size;
	mm->def_flags = oldmm->def_flags & VM_NOHUGEPAGE;
	mm->start_stack = oldmm->start_stack;
	mm->rlimit_as = oldmm->rlimit_as;
	mm->rlimit_data = oldmm->rlimit_data;
	mm->rlimit_memlock = oldmm->rlimit_memlock;
	mm->rlimit_stack = oldmm->rlimit_stack;
	mm->cap_ipc_lock = oldmm->cap_ipc_lock;
	mm->cap_sys_rawio = oldmm->cap_sys_rawio;
	mm->stack_guard_gap = oldmm->stack_guard_gap;
	mm->mmap_min_addr = oldmm->mmap_min_addr;
	mm->dac_mmap_min_addr = oldmm->dac_mmap_min_addr;
	mm->pt_free_rcu = oldmm->pt_free_rcu;

	mm->total_vm = oldmm->total_vm;
	mm->data_vm = oldmm->data_vm;
	mm->exec_vm = oldmm->exec_vm;
	mm->stack_vm = oldmm->stack_vm;
	mm->locked_vm = 0;
}

/*
 * The child's copy of mpnt, not yet linked: its own anon_vma (forked from
 * the parent's, so that the pages both may map stay reachable from both),
 * none for VM_WIPEONFORK, no lock flags, a reference on the file.
 * Returns NULL on -ENOMEM.
 */
static struct vm_area_struct *dup_vma(struct mm_struct *mm,
				      struct vm_area_struct *mpnt)
{
	struct vm_area_struct *tmp = vm_area_dup(mpnt);

	if (!tmp)
		return NULL;
	tmp->vm_mm = mm;
	if (tmp->vm_flags & VM_WIPEONFORK) {
		/* A clean slate: the first write fault prepares one. */
		tmp->anon_vma = NULL;
	} else if (anon_vma_fork(tmp, mpnt)) {
		vm_area_free(tmp);
		return NULL;
	}
	tmp->vm_flags &= ~VM_LOCKED_MASK;
	if (tmp->vm_file)
		get_file(tmp->vm_file);
	return tmp;
}

/*
 * Can a fault run in mm while we hold its mmap lock for writing?  Only a
 * speculative one, which the strategy tries only when mm has more than
 * one user.  validate_mm() needs the page tables still, so it skips such
 * an mm: a fault may be between its PTE and its RSS counter.
 */
static bool mm_has_lockless_faults(struct mm_struct *mm)
{
	return mm->strategy->lockless_fault &&
	       atomic_load(&mm->mm_users) > 1;
}

/*
 * End the write sections dup_mmap() opened on the parent's VMAs: every
 * copied one up to last (NULL: none).
 */
static void dup_mmap_write_end(struct mm_struct *oldmm,
			       struct vm_area_struct *last)
{
	struct vm_area_struct *mpnt;

	if (!last)
		return;
	for (mpnt = oldmm->mmap; mpnt; mpnt = mpnt->vm_next) {
		if (!(mpnt->vm_flags & VM_DONTCOPY))
			vm_write_end_outer(mpnt);
		if (mpnt == last)
			break;
	}
}

/*
 * Copy every VMA of oldmm into mm, which is new and empty (dup_mmap).
 * VMAs are appended in address order, so each is linked as the right
 * child of the one before: the largest node of a search tree has no
 * right child, whatever the rebalancing did.  Returns 0 or -ENOMEM; on
 * failure mm holds what was copied so far, for mmput() to free.
 *
 * Each parent VMA copied stays in a vm_sequence write section from
 * before copy_page_range() write-protects its PTEs until after the TLB
 * flush that follows: a speculative write fault in the parent must not
 * copy a page for COW while another CPU still writes to the old page
 * through a stale writable TLB entry (docs/races.md race 5).
 *
 * Takes both mmap locks for writing, oldmm's first (nobody else can see
 * mm yet: its lock is for the asserts of what is called here).
 */
static int dup_mmap(struct mm_struct *mm, struct mm_struct *oldmm)
{
	struct vm_area_struct *mpnt, *tmp, *prev = NULL, *last_begun = NULL;
	struct rb_node **rb_link, *rb_parent = NULL;
	unsigned long charge;
	int retval = 0;

	mmap_write_lock(oldmm);
	mmap_write_lock(mm);
	dup_mm_state(mm, oldmm);
	rb_link = &mm->mm_rb.rb_node;

	for (mpnt = oldmm->mmap; mpnt; mpnt = mpnt->vm_next) {
		if (mpnt->vm_flags & VM_DONTCOPY) {
			vm_stat_account(mm, mpnt->vm_flags,
					-(long)vma_pages(mpnt));
			continue;
		}
		if (!mmsim_mutant_is(MUTANT_FORK_NO_VMA_WRITE))
			vma_start_write(mpnt);
		vm_write_begin_outer(mpnt);
		last_begun = mpnt;
		charge = 0;
		if (mpnt->vm_flags & VM_ACCOUNT) {
			if (security_vm_enough_memory_mm(oldmm,
							 vma_pages(mpnt)))
				goto fail_nomem;
			charge = vma_pages(mpnt);
		}
		tmp = dup_vma(mm, mpnt);
		if (!tmp)
			goto fail_unacct;

		__vma_link_list(mm, tmp, prev);
		__vma_link_rb(mm, tmp, rb_link, rb_parent);
		rb_link = &tmp->vm_rb.rb_right;
		rb_parent = &tmp->vm_rb;
		prev = tmp;
		mm->map_count++;
		/*
		 * On the file's i_mmap before its PTEs are copied: a
		 * truncate from now on zaps the child's copies too.
		 */
		if (tmp->vm_file)
			vma_link_file_after(tmp, mpnt);

		if (!(tmp->vm_flags & VM_WIPEONFORK) &&
		    vma_needs_copy(tmp, mpnt))
			retval = copy_page_range(tmp, mpnt);
		if (tmp->vm_ops && tmp->vm_ops->open)
			tmp->vm_ops->open(tmp);
		if (retval)
			goto out;
	}
out:
	/*
	 * copy_page_range() write-protected the parent's private pages:
	 * no CPU may keep writing to them through a stale writable
	 * translation once the child can see them.
	 */
	flush_tlb_mm(oldmm);
	dup_mmap_write_end(oldmm, last_begun);
	if (!retval) {
		WARN_ON(validate_mm(mm));
		if (!mm_has_lockless_faults(oldmm))
			WARN_ON(validate_mm(oldmm));
	}
	mmap_write_unlock(mm);
	mmap_write_unlock(oldmm);
	return retval;

fail_unacct:
	vm_unacct_memory(charge);
fail_nomem:
	retval = -ENOMEM;
	goto out;
}

/*
 * fork(): a new mm with a copy of oldmm's VMAs and of the PTEs that need
 * copying (dup_mm).  Returns the new mm (one user, never run on a CPU),
 * or NULL on -ENOMEM with nothing leaked: what was copied is torn down by
 * mmput() like any exiting mm.  The child gets oldmm's fault strategy.
 * Takes oldmm's mmap lock for writing.
 */
struct mm_struct *dup_mm(struct mm_struct *oldmm)
{
	struct mm_struct *mm;

	/* The child faults the way its parent does. */
	mm = mm_alloc_strategy(oldmm->pgtable_levels, oldmm->strategy);
	if (!mm)
		return NULL;
	if (dup_mmap(mm, oldmm)) {
		mmput(mm);
		return NULL;
	}
	return mm;
}

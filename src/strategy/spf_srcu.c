// SPDX-License-Identifier: MIT
/*
 * spf-srcu: speculative page faults as in Laurent Dufour's RFC v5 (seed
 * 001_92cec0805ad5505f.txt, patches 02-10).
 *
 * Write side (this part): every change of what a fault reads of a VMA is
 * bracketed by vm_sequence (vm_write_begin/end), every change of the VMA
 * tree by the mm_seq seqlock, and VMAs are freed after an SRCU grace
 * period, with their file reference, so a lockless reader that found one
 * can still look at it.
 */
#include <stdlib.h>

#include <mmsim/mutant.h>
#include <mmsim/rcupdate.h>
#include <mmsim/strategy.h>

#include "mm/internal.h"

/* The SRCU domain of VMAs (the series' vma_srcu). */
DEFINE_SRCU(vma_srcu);

static void spf_vma_write_begin(struct vm_area_struct *vma)
{
	mmap_assert_write_locked(vma->vm_mm);
	raw_write_seqcount_begin(&vma->vm_sequence);
}

static void spf_vma_write_end(struct vm_area_struct *vma)
{
	raw_write_seqcount_end(&vma->vm_sequence);
}

static void spf_tree_write_begin(struct mm_struct *mm)
{
	write_seqlock(&mm->mm_seq);
}

static void spf_tree_write_end(struct mm_struct *mm)
{
	write_sequnlock(&mm->mm_seq);
}

static void __spf_vma_free(struct rcu_head *head)
{
	struct vm_area_struct *vma = (struct vm_area_struct *)
		((char *)head - offsetof(struct vm_area_struct, vm_rcu));

	if (vma->vm_file)
		fput(vma->vm_file);
	vm_area_free(vma);
}

/*
 * A lockless reader may still hold vma: free it (and drop its file) once
 * every SRCU reader that could have found it is gone.
 */
static void spf_vma_free(struct vm_area_struct *vma)
{
	if (mmsim_mutant_is(MUTANT_NO_GRACE_PERIOD)) {
		__spf_vma_free(&vma->vm_rcu);
		return;
	}
	call_srcu(&vma_srcu, &vma->vm_rcu, __spf_vma_free);
}

const struct fault_strategy spf_srcu_strategy = {
	.name = "spf-srcu",
	.vma_write_begin = spf_vma_write_begin,
	.vma_write_end = spf_vma_write_end,
	.tree_write_begin = spf_tree_write_begin,
	.tree_write_end = spf_tree_write_end,
	.vma_free = spf_vma_free,
};

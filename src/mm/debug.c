// SPDX-License-Identifier: MIT
/*
 * validate_mm() and the dump helpers (the kernel's mm/debug.c and the
 * CONFIG_DEBUG_VM_RB checks of mm/mmap.c): every invariant of the VMA tree
 * recomputed from scratch.  Tests call it after every operation.
 */
#include <stdarg.h>

#include "mm/internal.h"

struct validate_state {
	FILE *out;
	int bugs;
};

static void report(struct validate_state *st, const char *fmt, ...)
{
	va_list ap;

	st->bugs++;
	if (!st->out)
		return;
	fprintf(st->out, "validate_mm: ");
	va_start(ap, fmt);
	vfprintf(st->out, fmt, ap);
	va_end(ap);
	fputc('\n', st->out);
}

/* Check the augment of every node; returns the subtree's true max gap. */
static unsigned long check_gaps(struct validate_state *st, struct rb_node *node)
{
	struct vm_area_struct *vma;
	unsigned long expect;

	if (!node)
		return 0;
	vma = rb_entry(node, struct vm_area_struct, vm_rb);
	check_gaps(st, node->rb_left);
	check_gaps(st, node->rb_right);
	expect = vma_compute_subtree_gap(vma);
	if (vma->rb_subtree_gap != expect)
		report(st, "vma %lx-%lx rb_subtree_gap %lx, should be %lx",
		       vma->vm_start, vma->vm_end, vma->rb_subtree_gap, expect);
	return expect;
}

static void check_anon_vma(struct validate_state *st,
			   struct vm_area_struct *vma)
{
	struct anon_vma_chain *avc;
	bool found = false;

	list_for_each_entry(avc, &vma->anon_vma_chain, same_vma) {
		if (avc->vma != vma)
			report(st, "vma %lx avc points elsewhere", vma->vm_start);
		if (avc->anon_vma == vma->anon_vma)
			found = true;
	}
	if (vma->anon_vma && !found)
		report(st, "vma %lx-%lx anon_vma not on its chain",
		       vma->vm_start, vma->vm_end);
	if (!vma->anon_vma && !list_empty(&vma->anon_vma_chain))
		report(st, "vma %lx-%lx chain without anon_vma",
		       vma->vm_start, vma->vm_end);
	if (vma->anon_vma && (vma->vm_flags & VM_SHARED))
		report(st, "shared vma %lx has an anon_vma", vma->vm_start);
}

/* Statistics as vm_stat_account() keeps them, recounted. */
struct vm_counts {
	unsigned long total, locked, data, exec, stack;
};

static void count_vma(struct vm_counts *c, struct vm_area_struct *vma)
{
	unsigned long pages = vma_pages(vma);

	c->total += pages;
	if (vma->vm_flags & VM_LOCKED)
		c->locked += pages;
	if (is_exec_mapping(vma->vm_flags))
		c->exec += pages;
	else if (is_stack_mapping(vma->vm_flags))
		c->stack += pages;
	else if (is_data_mapping(vma->vm_flags))
		c->data += pages;
}

static void check_counts(struct validate_state *st, struct mm_struct *mm,
			 struct vm_counts *c)
{
	if (c->total != mm->total_vm)
		report(st, "total_vm %lu, VMAs add up to %lu", mm->total_vm, c->total);
	/*
	 * locked_vm may exceed the locked VMAs, never fall short: like the
	 * kernel, mremap(MREMAP_DONTUNMAP) of a locked VMA clears VM_LOCKED on
	 * the source without uncounting it (Linux 6.18's VmLck shows the
	 * same excess, and keeps it after both VMAs are unmapped).
	 */
	if (c->locked > mm->locked_vm)
		report(st, "locked_vm %lu, VMAs add up to %lu", mm->locked_vm, c->locked);
	if (c->data != mm->data_vm)
		report(st, "data_vm %lu, VMAs add up to %lu", mm->data_vm, c->data);
	if (c->exec != mm->exec_vm)
		report(st, "exec_vm %lu, VMAs add up to %lu", mm->exec_vm, c->exec);
	if (c->stack != mm->stack_vm)
		report(st, "stack_vm %lu, VMAs add up to %lu", mm->stack_vm, c->stack);
}

/* Walk list and tree together: same VMAs, same order, no overlap. */
static void check_list(struct validate_state *st, struct mm_struct *mm)
{
	struct vm_area_struct *vma, *prev = NULL;
	struct rb_node *node = rb_first(&mm->mm_rb);
	struct vm_counts c = { 0 };
	unsigned long highest = 0;
	int count = 0;

	for (vma = mm->mmap; vma; prev = vma, vma = vma->vm_next) {
		if (vma->vm_prev != prev)
			report(st, "vma %lx vm_prev broken", vma->vm_start);
		if (&vma->vm_rb != node)
			report(st, "vma %lx-%lx: list and tree disagree",
			       vma->vm_start, vma->vm_end);
		node = node ? rb_next(node) : NULL;
		if (vma->vm_start >= vma->vm_end || !PAGE_ALIGNED(vma->vm_start) ||
		    !PAGE_ALIGNED(vma->vm_end))
			report(st, "vma %lx-%lx malformed", vma->vm_start, vma->vm_end);
		if (vma->vm_end > mm->task_size)
			report(st, "vma %lx-%lx beyond TASK_SIZE", vma->vm_start,
			       vma->vm_end);
		if (prev && prev->vm_end > vma->vm_start)
			report(st, "vma %lx-%lx overlaps %lx-%lx", prev->vm_start,
			       prev->vm_end, vma->vm_start, vma->vm_end);
		if (vma->vm_mm != mm)
			report(st, "vma %lx belongs to another mm", vma->vm_start);
		if ((vma->vm_flags & VM_SHARED) && !vma->vm_file)
			report(st, "shared vma %lx has no file", vma->vm_start);
		check_anon_vma(st, vma);
		count_vma(&c, vma);
		highest = vm_end_gap(vma);
		count++;
	}
	if (node)
		report(st, "tree has VMAs the list does not");
	if (count != mm->map_count)
		report(st, "map_count %d, list has %d", mm->map_count, count);
	if (highest != mm->highest_vm_end)
		report(st, "highest_vm_end %lx, should be %lx",
		       mm->highest_vm_end, highest);
	check_counts(st, mm, &c);
}

int validate_mm_verbose(struct mm_struct *mm, FILE *out)
{
	struct validate_state st = { .out = out };

	if (rb_check_tree(&mm->mm_rb) < 0)
		report(&st, "rbtree colours or links broken");
	check_list(&st, mm);
	check_gaps(&st, mm->mm_rb.rb_node);
	return st.bugs;
}

/*
 * Check every invariant of mm's VMA tree; print what is wrong on stderr.
 * Returns the number of problems found.  The caller holds the mmap lock
 * or owns mm exclusively.
 */
int validate_mm(struct mm_struct *mm)
{
	return validate_mm_verbose(mm, stderr);
}

void dump_vma(FILE *out, const struct vm_area_struct *vma)
{
	char flags[160];

	fprintf(out, "vma %lx-%lx pgoff %lx flags %s%s anon_vma %p file %p\n",
		vma->vm_start, vma->vm_end, vma->vm_pgoff,
		show_smap_vma_flags(vma->vm_flags, flags, sizeof(flags)),
		vma->vm_flags & VM_SHARED ? " (shared)" : "",
		(void *)vma->anon_vma, (void *)vma->vm_file);
}

void dump_mm(FILE *out, struct mm_struct *mm)
{
	struct vm_area_struct *vma;

	fprintf(out, "mm %p: %d VMAs, total_vm %lu locked_vm %lu data_vm %lu "
		"exec_vm %lu stack_vm %lu mmap_base %lx highest_vm_end %lx\n",
		(void *)mm, mm->map_count, mm->total_vm, mm->locked_vm,
		mm->data_vm, mm->exec_vm, mm->stack_vm, mm->mmap_base,
		mm->highest_vm_end);
	for (vma = mm->mmap; vma; vma = vma->vm_next)
		dump_vma(out, vma);
}

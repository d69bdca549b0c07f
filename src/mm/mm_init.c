// SPDX-License-Identifier: MIT
/*
 * Creating and destroying an mm (kernel/fork.c: mm_alloc, mmput; the
 * layout of arch/x86/mm/mmap.c), and the mmap lock wrappers of
 * <linux/mmap_lock.h>.
 */
#include <stdlib.h>

#include <mmsim/strategy.h>

#include "mm/internal.h"

/* User space below this is the 4-level (47-bit) default map window. */
#define DEFAULT_MAP_WINDOW	((1UL << 47) - PAGE_SIZE)
#define SIZE_128M		(128UL << 20)
#define STACK_GUARD_GAP_PAGES	256UL
#define DEFAULT_RLIMIT_STACK	(8UL << 20)
#define DEFAULT_MMAP_MIN_ADDR	65536UL

/*
 * Top of the mmap area: below the stack's rlimit and guard gap, at least
 * 128 MiB below the top of the default window, no randomization (runs are
 * reproducible).  As x86's mmap_base(), even a 5-level mm places mappings
 * below 47 bits unless a hint asks for more.
 */
static unsigned long mmap_base(struct mm_struct *mm)
{
	unsigned long gap = mm->rlimit_stack;
	unsigned long pad = mm->stack_guard_gap;
	unsigned long gap_max = DEFAULT_MAP_WINDOW / 6 * 5;

	if (gap + pad > gap)
		gap += pad;
	if (gap < SIZE_128M)
		gap = SIZE_128M;
	else if (gap > gap_max)
		gap = gap_max;
	return PAGE_ALIGN(DEFAULT_MAP_WINDOW - gap);
}

/*
 * A new, empty address space with pgtable_levels (4 or 5) levels of page
 * table.  Returns NULL for another level count or when out of memory.
 */
struct mm_struct *mm_alloc(unsigned int pgtable_levels)
{
	return mm_alloc_strategy(pgtable_levels, NULL);
}

/*
 * A new, empty address space whose faults use strategy (NULL: the default
 * of fault_strategy_default()).
 */
struct mm_struct *mm_alloc_strategy(unsigned int pgtable_levels,
				    const struct fault_strategy *strategy)
{
	struct mm_struct *mm;

	if (!strategy)
		strategy = fault_strategy_default();
	if (pgtable_levels != 4 && pgtable_levels != 5)
		return NULL;
	mm = calloc(1, sizeof(*mm) + strategy->mm_private_size);
	if (!mm)
		return NULL;
	mm->mm_rb = RB_ROOT;
	mm->pgtable_levels = pgtable_levels;
	mm->task_size = pgtable_levels == 5 ? TASK_SIZE_5LEVEL : TASK_SIZE_4LEVEL;
	init_rwsem(&mm->mmap_lock);
	atomic_init(&mm->mm_users, 1);
	mm->rlimit_as = RLIM_INFINITY;
	mm->rlimit_data = RLIM_INFINITY;
	mm->rlimit_memlock = 8UL << 20;
	mm->rlimit_stack = DEFAULT_RLIMIT_STACK;
	mm->cap_ipc_lock = true;
	mm->stack_guard_gap = STACK_GUARD_GAP_PAGES << PAGE_SHIFT;
	mm->mmap_min_addr = DEFAULT_MMAP_MIN_ADDR;
	mm->dac_mmap_min_addr = DEFAULT_MMAP_MIN_ADDR;
	mm->mmap_base = mmap_base(mm);
	mm->strategy = strategy;
	seqlock_init(&mm->mm_seq);
	if (pgd_alloc(mm))
		goto out_free;
	if (mm->strategy->mm_init && mm->strategy->mm_init(mm))
		goto out_pgd;
	return mm;

out_pgd:
	pgd_free(mm);
out_free:
	free(mm);
	return NULL;
}

/*
 * Tear down every mapping (exit_mmap).  Nobody else can reach mm any more;
 * the write lock is taken for the asserts further down.
 *
 * The order is the kernel's: zap every PTE of every VMA and free every
 * page-table page but the PGD into a full-mm gather (which flushes the
 * TLBs once and frees the pages after that), then account and free the
 * VMAs.  The bounds given to free_pgtables() are those of unmap_region()
 * in mmap.c: from FIRST_USER_ADDRESS (0) up to USER_PGTABLES_CEILING (0,
 * "no limit").  The PGD itself goes in mmput().
 */
void exit_mmap(struct mm_struct *mm)
{
	struct vm_area_struct *vma, *next;
	struct mmu_gather tlb;
	long accounted = 0;

	mmap_write_lock(mm);
	vma = mm->mmap;
	if (vma) {
		tlb_gather_mmu_fullmm(&tlb, mm);
		unmap_vmas(&tlb, vma, 0, -1UL);
		free_pgtables(&tlb, vma, 0, 0);
		tlb_finish_mmu(&tlb);
	}
	for (; vma; vma = next) {
		next = vma->vm_next;
		if (vma->vm_flags & VM_ACCOUNT)
			accounted += vma_pages(vma);
		vm_stat_account(mm, vma->vm_flags, -(long)vma_pages(vma));
		if (vma->vm_flags & VM_LOCKED)
			mm->locked_vm -= vma_pages(vma);
		remove_vma(vma);
		mm->map_count--;
	}
	vm_unacct_memory(accounted);
	mm->mmap = NULL;
	mm->mm_rb = RB_ROOT;
	mm->highest_vm_end = 0;
	mmap_write_unlock(mm);
}

/* Drop a user of mm; the last one frees it with all its mappings. */
void mmput(struct mm_struct *mm)
{
	if (!mm)
		return;
	if (atomic_fetch_sub(&mm->mm_users, 1) != 1)
		return;
	/* The last task left: this CPU stops running mm (exit_mm). */
	if (this_cpu()->active_mm == mm)
		mmsim_switch_mm(NULL);
	exit_mmap(mm);
	if (mm->strategy->mm_exit)
		mm->strategy->mm_exit(mm);
	/* exit_mmap freed every table below the PGD. */
	pgd_free(mm);
	free(mm);
}

void mmap_read_lock(struct mm_struct *mm)
{
	down_read(&mm->mmap_lock);
}

int mmap_read_trylock(struct mm_struct *mm)
{
	return down_read_trylock(&mm->mmap_lock);
}

void mmap_read_unlock(struct mm_struct *mm)
{
	up_read(&mm->mmap_lock);
}

void mmap_write_lock(struct mm_struct *mm)
{
	down_write(&mm->mmap_lock);
}

/* No fatal signals in the simulator: never interrupted, returns 0. */
int mmap_write_lock_killable(struct mm_struct *mm)
{
	down_write(&mm->mmap_lock);
	return 0;
}

/* Every VMA write lock goes with the mmap write lock (vma_end_write_all). */
void mmap_write_unlock(struct mm_struct *mm)
{
	vma_end_write_all(mm);
	up_write(&mm->mmap_lock);
}

void mmap_write_downgrade(struct mm_struct *mm)
{
	vma_end_write_all(mm);
	downgrade_write(&mm->mmap_lock);
}

void mmap_assert_locked(struct mm_struct *mm)
{
	BUG_ON(!rwsem_is_locked(&mm->mmap_lock));
}

void mmap_assert_write_locked(struct mm_struct *mm)
{
	BUG_ON(!rwsem_is_write_locked_by_me(&mm->mmap_lock));
}

// SPDX-License-Identifier: MIT
/*
 * mmap, munmap and the stack (the kernel's mm/mmap.c and the munmap half of
 * mm/vma.c): placing a new mapping, linking or merging it, unmapping ranges
 * with the splits they need, and the statistics and limits that go with
 * them.
 *
 * The system calls take the mmap lock themselves; everything else here
 * expects it held for writing.
 */
#include <limits.h>

#include <mmsim/strategy.h>

#include "mm/internal.h"

/* Mappings below 47 bits unless the caller hints higher (x86 5-level). */
#define DEFAULT_MAP_WINDOW	((1UL << 47) - PAGE_SIZE)

/* Count npages (negative to uncount) of a mapping with flags. */
void vm_stat_account(struct mm_struct *mm, unsigned long flags, long npages)
{
	mm->total_vm += npages;
	if (is_exec_mapping(flags))
		mm->exec_vm += npages;
	else if (is_stack_mapping(flags))
		mm->stack_vm += npages;
	else if (is_data_mapping(flags))
		mm->data_vm += npages;
}

/* May mm map npages more of a mapping with flags (RLIMIT_AS, RLIMIT_DATA)? */
bool may_expand_vm(struct mm_struct *mm, unsigned long flags,
		   unsigned long npages)
{
	if (mm->total_vm + npages > mm->rlimit_as >> PAGE_SHIFT)
		return false;
	if (is_data_mapping(flags) &&
	    mm->data_vm + npages > mm->rlimit_data >> PAGE_SHIFT)
		return false;
	return true;
}

/* Private writable mappings are charged against the commit limit. */
static bool accountable_mapping(unsigned long vm_flags)
{
	return (vm_flags & (VM_NORESERVE | VM_SHARED | VM_WRITE)) == VM_WRITE;
}

/* MAP_* to VM_* (calc_vm_flag_bits). */
static unsigned long calc_vm_flag_bits(unsigned long flags)
{
	return (flags & MAP_GROWSDOWN ? VM_GROWSDOWN : 0) |
	       (flags & MAP_LOCKED ? VM_LOCKED : 0) |
	       (flags & MAP_SYNC ? VM_SYNC : 0);
}

/* Is [addr, addr + len) free, guard gaps of neighbouring stacks included? */
static bool hint_fits(struct mm_struct *mm, unsigned long addr,
		      unsigned long len, unsigned long task_size)
{
	struct vm_area_struct *vma, *prev;

	if (task_size - len < addr || addr < mm->mmap_min_addr)
		return false;
	vma = find_vma_prev(mm, addr, &prev);
	return (!vma || addr + len <= vm_start_gap(vma)) &&
	       (!prev || addr >= vm_end_gap(prev));
}

/*
 * x86's arch_get_unmapped_area_topdown(): the hint if it is free, else the
 * highest free range below mmap_base, else the lowest one above a third of
 * the address space.  A hint above 47 bits opens the 5-level range.
 */
static unsigned long arch_get_unmapped_area_topdown(struct mm_struct *mm,
		unsigned long addr, unsigned long len, unsigned long flags)
{
	struct vm_unmapped_area_info info = { 0 };
	unsigned long task_size = mm->task_size, high_window;

	/* x86's own bound: the whole of TASK_SIZE, mmap_min_addr or not. */
	if (len > task_size)
		return -ENOMEM;
	if (flags & MAP_FIXED)
		return addr;

	high_window = addr > DEFAULT_MAP_WINDOW ? task_size : DEFAULT_MAP_WINDOW;
	if (addr) {
		addr = PAGE_ALIGN(addr);
		if (hint_fits(mm, addr, len, high_window))
			return addr;
	}

	info.flags = VM_UNMAPPED_AREA_TOPDOWN;
	info.length = len;
	info.low_limit = max(PAGE_SIZE, mm->mmap_min_addr);
	info.high_limit = mm->mmap_base;
	if (high_window > DEFAULT_MAP_WINDOW)
		info.high_limit += task_size - DEFAULT_MAP_WINDOW;
	addr = vm_unmapped_area(mm, &info);
	if (!(addr & ~PAGE_MASK))
		return addr;

	/* No room below mmap_base: search bottom-up above TASK_UNMAPPED_BASE. */
	info.flags = 0;
	info.low_limit = PAGE_ALIGN(task_size / 3);
	info.high_limit = high_window;
	return vm_unmapped_area(mm, &info);
}

/*
 * security_mmap_addr() with the capability module alone (cap_mmap_addr):
 * below the sysctl vm.mmap_min_addr (dac_mmap_min_addr) only a task with
 * CAP_SYS_RAWIO may map, others get -EPERM.  Only the start address is
 * checked.
 */
static int security_mmap_addr(struct mm_struct *mm, unsigned long addr)
{
	if (addr < mm->dac_mmap_min_addr && !mm->cap_sys_rawio)
		return -EPERM;
	return 0;
}

/*
 * Where to put a mapping of len bytes (__get_unmapped_area): returns the
 * address, or -ENOMEM / -EINVAL / -EPERM.  Every placement goes through
 * here, MAP_FIXED ones (mmap, mremap's target) included, so this is where
 * mmap_min_addr is enforced on them.  The caller holds the mmap lock.
 */
unsigned long get_unmapped_area(struct mm_struct *mm, struct file *file,
				unsigned long addr, unsigned long len,
				unsigned long pgoff, unsigned long flags)
{
	int err;

	mmap_assert_locked(mm);
	if (len > mm->task_size)
		return -ENOMEM;
	addr = arch_get_unmapped_area_topdown(mm, addr, len, flags);
	if (IS_ERR_VALUE(addr))
		return addr;
	if (addr > mm->task_size - len)
		return -ENOMEM;
	if (offset_in_page(addr))
		return -EINVAL;
	err = security_mmap_addr(mm, addr);
	return err ? (unsigned long)err : addr;
}

/*
 * The bounds free_pgtables() may free page tables between when nothing is
 * mapped on one side, as x86 defines them: below the first VMA from
 * FIRST_USER_ADDRESS (0), above the last one up to USER_PGTABLES_CEILING,
 * 0, which free_pgd_range() reads as "no limit" (the top of what the
 * mm's page tables translate: its ceiling - 1 wraps).  exit_mmap() uses
 * the same two bounds.
 */
#define FIRST_USER_ADDRESS	0UL
#define USER_PGTABLES_CEILING	0UL

/*
 * Zap the pages of [start, end) and free the page tables that only the
 * range used (unmap_region).  vma is the first of the range's VMAs, which
 * are out of the tree already and chained by vm_next (NULL-terminated);
 * prev is the VMA that stays below the range, if any.  Tables are freed
 * only between the end of prev (floor) and the start of the VMA after the
 * range (ceiling): a table that also maps a neighbour stays.  The order is
 * the mmu_gather's: PTEs cleared, TLBs flushed, then pages and tables
 * freed.  The caller holds the mmap lock (for reading after munmap's
 * downgrade: the range is out of the tree, so no fault can reach it, and
 * nothing can be mapped there until the lock is released).
 */
static void unmap_region(struct mm_struct *mm, struct vm_area_struct *vma,
			 struct vm_area_struct *prev, unsigned long start,
			 unsigned long end)
{
	struct vm_area_struct *next = prev ? prev->vm_next : mm->mmap;
	struct mmu_gather tlb;

	mmap_assert_locked(mm);
	tlb_gather_mmu(&tlb, mm);
	unmap_vmas(&tlb, vma, start, end);
	free_pgtables(&tlb, vma, prev ? prev->vm_end : FIRST_USER_ADDRESS,
		      next ? next->vm_start : USER_PGTABLES_CEILING);
	tlb_finish_mmu(&tlb);
}

/*
 * Unmap [start, end), where vma is the first VMA that ends above start:
 * split the VMAs that straddle either end, take the range's VMAs out of the
 * tree, zap their pages and tables, then account and free them
 * (vms_gather_munmap_vmas, vms_clear_ptes and vms_complete_munmap_vmas).
 * A split does not touch the page tables: both halves keep using them.
 * With unlock, the write lock is downgraded once the VMAs are out of the
 * tree, so that faults elsewhere in the mm run while the pages are zapped,
 * and released on success (as the kernel's munmap does).
 */
static int do_vmi_align_munmap(struct mm_struct *mm, struct vm_area_struct *vma,
			       unsigned long start, unsigned long end,
			       bool unlock)
{
	struct vm_area_struct *detached = NULL, **tail = &detached;
	struct vm_area_struct *next, *prev, *last = NULL;
	unsigned long locked = 0, accounted = 0;
	int error;

	if (start > vma->vm_start) {
		/* Splitting both ends would need two more VMAs. */
		if (end < vma->vm_end && mm->map_count >= sysctl_max_map_count)
			return -ENOMEM;
		error = __split_vma(vma, start, 1);
		if (error)
			return error;
	}
	prev = vma->vm_prev;
	for (; vma && vma->vm_start < end; vma = next) {
		if (vma->vm_end > end) {
			error = __split_vma(vma, end, 0);
			if (error)
				goto undo;
		}
		next = vma->vm_next;
		vma_start_write(vma);
		__vma_unlink(mm, vma);
		mm->map_count--;
		/* The detached VMAs form a list of their own. */
		vma->vm_prev = last;
		vma->vm_next = NULL;
		*tail = last = vma;
		tail = &vma->vm_next;
	}

	/* The counters change under the write lock, before any downgrade. */
	for (vma = detached; vma; vma = vma->vm_next) {
		unsigned long pages = vma_pages(vma);

		if (vma->vm_flags & VM_LOCKED)
			locked += pages;
		if (vma->vm_flags & VM_ACCOUNT)
			accounted += pages;
		vm_stat_account(mm, vma->vm_flags, -(long)pages);
	}
	mm->locked_vm -= locked;
	if (unlock)
		mmap_write_downgrade(mm);

	/* The range is out of the tree: the pages and tables go next. */
	unmap_region(mm, detached, prev, start, end);
	for (vma = detached; vma; vma = next) {
		next = vma->vm_next;
		remove_vma(vma);
	}
	vm_unacct_memory(accounted);
	if (unlock)
		mmap_read_unlock(mm);
	return 0;

undo:
	/* Put back what was detached; the splits stay, as in the kernel. */
	for (vma = detached; vma; vma = next) {
		next = vma->vm_next;
		BUG_ON(vma_link(mm, vma));
	}
	return error;
}

/*
 * Unmap [start, start + len) (do_vmi_munmap).  Returns 0 or -EINVAL /
 * -ENOMEM.  The caller holds the mmap lock for writing; with unlock, a
 * return of 0 means the lock was released.
 */
int do_vmi_munmap(struct mm_struct *mm, unsigned long start, size_t len,
		  bool unlock)
{
	struct vm_area_struct *vma;
	unsigned long end;

	mmap_assert_write_locked(mm);
	if (offset_in_page(start) || start > mm->task_size ||
	    len > mm->task_size - start)
		return -EINVAL;
	end = start + PAGE_ALIGN(len);
	if (end == start)
		return -EINVAL;
	vma = find_vma_intersection(mm, start, end);
	if (!vma) {
		if (unlock)
			mmap_write_unlock(mm);
		return 0;
	}
	return do_vmi_align_munmap(mm, vma, start, end, unlock);
}

int do_munmap(struct mm_struct *mm, unsigned long start, size_t len)
{
	return do_vmi_munmap(mm, start, len, false);
}

int sys_munmap(struct mm_struct *mm, unsigned long start, unsigned long len)
{
	int ret;

	mmap_write_lock(mm);
	ret = do_vmi_munmap(mm, start, len, true);
	if (ret)
		mmap_write_unlock(mm);
	return ret;
}

/*
 * A VMA for [addr, addr + len) that no neighbour could absorb, linked and
 * returned inside its vm_sequence write section: mmap_region() may still
 * change it, and a speculative fault must not use it half built (docs/races.md
 * race 8); mmap_region() ends the section.
 */
static struct vm_area_struct *mmap_new_vma(struct mm_struct *mm,
		struct file *file, unsigned long addr, unsigned long len,
		unsigned long vm_flags, pgoff_t pgoff, int *errp)
{
	struct vm_area_struct *vma = vm_area_alloc(mm);

	*errp = -ENOMEM;
	if (!vma)
		return NULL;
	vma->vm_start = addr;
	vma->vm_end = addr + len;
	vma->vm_flags = vm_flags;
	vma->vm_page_prot = vm_get_page_prot(vm_flags);
	vma->vm_pgoff = pgoff;
	if (file) {
		/* shmem_mmap(): every file of mmsim is a shmem file. */
		vma->vm_file = get_file(file);
		vma->vm_ops = &shmem_anon_vm_ops;
	} else if (vm_flags & VM_SHARED) {
		*errp = shmem_zero_setup(vma);
		if (*errp)
			goto out_free;
	}
	/*
	 * Locked before it is published: mmap_region() may still change it
	 * (race 8).  The mutant mmap-publish-early links it first, and locks
	 * it only after mmap_region()'s last change.
	 */
	if (!mmsim_mutant_is(MUTANT_MMAP_PUBLISH_EARLY))
		vma_start_write(vma);
	vm_write_begin_outer(vma);
	*errp = vma_link(mm, vma);
	if (*errp)
		goto out_end;
	return vma;

out_end:
	/* Never linked: nobody saw it, it goes at once. */
	vm_write_end_outer(vma);
	vma_put_file(vma);
out_free:
	vm_area_free(vma);
	return NULL;
}

/*
 * Map [addr, addr + len) with vm_flags, replacing whatever was there
 * (mmap_region).  Returns addr or a negative errno.
 */
static unsigned long mmap_region(struct mm_struct *mm, struct file *file,
				 unsigned long addr, unsigned long len,
				 unsigned long vm_flags, pgoff_t pgoff)
{
	struct vma_merge_struct vmg = {
		.mm = mm, .start = addr, .end = addr + len, .pgoff = pgoff,
		.file = file,
	};
	struct vm_area_struct *vma;
	unsigned long pglen = len >> PAGE_SHIFT, charged = 0;
	unsigned long old_pages = 0, old_accounted = 0;
	bool new_vma = false;
	int error;

	/* What MAP_FIXED replaces does not count against the limits. */
	for (vma = find_vma_intersection(mm, addr, addr + len);
	     vma && vma->vm_start < addr + len; vma = vma->vm_next) {
		unsigned long pages = (min(vma->vm_end, addr + len) -
				       max(vma->vm_start, addr)) >> PAGE_SHIFT;

		old_pages += pages;
		if (vma->vm_flags & VM_ACCOUNT)
			old_accounted += pages;
	}
	if (!may_expand_vm(mm, vm_flags, pglen - old_pages))
		return -ENOMEM;
	if (accountable_mapping(vm_flags)) {
		charged = pglen - old_accounted;
		if (charged && security_vm_enough_memory_mm(mm, charged))
			return -ENOMEM;
		vm_flags |= VM_ACCOUNT;
	}

	error = do_vmi_munmap(mm, addr, len, false);
	if (error)
		goto unacct;
	/* The old range was uncharged; the new one carries its own charge. */
	if (vm_flags & VM_ACCOUNT)
		vm_unacct_memory(-(long)old_accounted);

	vmg.flags = vm_flags;
	vmg.next = find_vma_prev(mm, addr, &vmg.prev);
	/* A merge is complete when it returns (__vma_adjust's section). */
	vma = vma_merge_new_range(&vmg);
	if (!vma) {
		vma = mmap_new_vma(mm, file, addr, len, vm_flags, pgoff, &error);
		if (!vma)
			goto unacct_new;
		new_vma = true;
	}

	vm_stat_account(mm, vm_flags, pglen);
	if (vm_flags & VM_LOCKED) {
		if (vm_flags & VM_SPECIAL) {
			/* VM_SPECIAL never merges: still in its section. */
			VM_WARN_ON(!new_vma);
			WRITE_ONCE(vma->vm_flags,
				   vma->vm_flags & ~VM_LOCKED_MASK);
		} else {
			mm->locked_vm += pglen;
		}
	}
	if (new_vma) {
		if (mmsim_mutant_is(MUTANT_MMAP_PUBLISH_EARLY))
			vma_start_write(vma);
		vm_write_end_outer(vma);
	}
	return addr;

unacct_new:
	/*
	 * The kernel unmap_region()s the new VMA here, since a driver's
	 * ->mmap may have mapped pages already; mmsim's files (shmem) map
	 * nothing at mmap time and the VMA was never linked: no PTE exists.
	 */
	if (vm_flags & VM_ACCOUNT)
		vm_unacct_memory(pglen);
	return error;
unacct:
	if (charged)
		vm_unacct_memory(charged);
	return error;
}

/*
 * The core of mmap(2) (do_mmap): check the arguments, place the mapping,
 * compute its flags and map it.  *populate is set to the length to fault
 * in afterwards (MAP_POPULATE, MAP_LOCKED).  The caller holds the mmap
 * lock for writing.
 */
unsigned long do_mmap(struct mm_struct *mm, struct file *file,
		      unsigned long addr, unsigned long len,
		      unsigned long prot, unsigned long flags,
		      unsigned long pgoff, unsigned long *populate)
{
	unsigned long vm_flags;

	mmap_assert_write_locked(mm);
	*populate = 0;
	if (!len)
		return -EINVAL;
	if (flags & MAP_FIXED_NOREPLACE)
		flags |= MAP_FIXED;
	if (!(flags & MAP_FIXED)) {
		/* round_hint_to_min(): a hint below mmap_min_addr is raised. */
		addr &= PAGE_MASK;
		if (addr && addr < mm->mmap_min_addr)
			addr = PAGE_ALIGN(mm->mmap_min_addr);
	}

	len = PAGE_ALIGN(len);
	if (!len)
		return -ENOMEM;
	if (pgoff + (len >> PAGE_SHIFT) < pgoff)
		return -EOVERFLOW;
	if (mm->map_count > sysctl_max_map_count)
		return -ENOMEM;

	addr = get_unmapped_area(mm, file, addr, len, pgoff, flags);
	if (IS_ERR_VALUE(addr))
		return addr;
	if ((flags & MAP_FIXED_NOREPLACE) &&
	    find_vma_intersection(mm, addr, addr + len))
		return -EEXIST;

	vm_flags = calc_vm_prot_bits(prot) | calc_vm_flag_bits(flags) |
		   mm->def_flags | VM_MAYREAD | VM_MAYWRITE | VM_MAYEXEC;
	if (flags & MAP_LOCKED) {
		if (!can_do_mlock(mm))
			return -EPERM;
	}
	if (!mlock_future_ok(mm, vm_flags, len))
		return -EAGAIN;

	if (file) {
		if ((flags & MAP_TYPE) == MAP_SHARED)
			vm_flags |= VM_SHARED | VM_MAYSHARE;
	} else {
		switch (flags & MAP_TYPE) {
		case MAP_SHARED:
			if (vm_flags & VM_GROWSDOWN)
				return -EINVAL;
			pgoff = 0;	/* a fresh shmem file */
			vm_flags |= VM_SHARED | VM_MAYSHARE;
			break;
		case MAP_PRIVATE:
			/* Linear pgoff, so that anonymous VMAs can merge. */
			pgoff = addr >> PAGE_SHIFT;
			break;
		default:
			return -EINVAL;
		}
	}
	if (flags & MAP_NORESERVE)
		vm_flags |= VM_NORESERVE;

	addr = mmap_region(mm, file, addr, len, vm_flags, pgoff);
	if (!IS_ERR_VALUE(addr) &&
	    ((vm_flags & VM_LOCKED) ||
	     (flags & (MAP_POPULATE | MAP_NONBLOCK)) == MAP_POPULATE))
		*populate = len;
	return addr;
}

/* Flags mmap(2) knows; others are ignored unless MAP_SHARED_VALIDATE. */
#define LEGACY_MAP_MASK (MAP_SHARED | MAP_PRIVATE | MAP_FIXED | \
			 MAP_ANONYMOUS | MAP_DENYWRITE | MAP_EXECUTABLE | \
			 MAP_UNINITIALIZED_UNUSED | MAP_GROWSDOWN | MAP_LOCKED | \
			 MAP_NORESERVE | MAP_POPULATE | MAP_NONBLOCK | \
			 MAP_STACK | MAP_HUGETLB)
#define MAP_UNINITIALIZED_UNUSED 0x4000000

/*
 * mmap(2) for the simulated task (ksys_mmap_pgoff + vm_mmap_pgoff).
 * Anonymous unless file is given; pgoff in pages.  Returns the address or a
 * negative errno.
 */
unsigned long sys_mmap(struct mm_struct *mm, unsigned long addr,
		       unsigned long len, unsigned long prot,
		       unsigned long flags, struct file *file,
		       unsigned long pgoff)
{
	unsigned long ret, populate;

	/*
	 * MAP_SHARED_VALIDATE is for files: anonymous memory reaches do_mmap
	 * with it and gets -EINVAL there.  Unknown prot bits are ignored by
	 * mmap (mprotect refuses them).
	 */
	if (file && (flags & MAP_TYPE) == MAP_SHARED_VALIDATE) {
		if (flags & ~(LEGACY_MAP_MASK | MAP_SYNC | MAP_FIXED_NOREPLACE))
			return -EOPNOTSUPP;
		flags = (flags & ~MAP_TYPE) | MAP_SHARED;
	}
	if (!file && !(flags & MAP_ANONYMOUS))
		return -EBADF;
	if (flags & MAP_HUGETLB)
		return -EINVAL;	/* no hugetlbfs in mmsim */

	mmap_write_lock(mm);
	ret = do_mmap(mm, file, addr, len, prot, flags, pgoff, &populate);
	if (!IS_ERR_VALUE(ret) && populate)
		mm_populate_range(mm, ret, populate);
	mmap_write_unlock(mm);
	return ret;
}

/*
 * Grow the stack vma down to cover address (expand_downwards): keep
 * stack_guard_gap free above the VMA below, respect the stack rlimit and
 * the commit limit.  The caller holds the mmap lock for writing.
 */
int expand_stack_locked(struct vm_area_struct *vma, unsigned long address)
{
	struct mm_struct *mm = vma->vm_mm;
	struct vm_area_struct *prev = vma->vm_prev;
	unsigned long size, grow;
	struct vma_adjust va = { .vma = vma, .end = vma->vm_end };

	mmap_assert_write_locked(mm);
	if (!(vma->vm_flags & VM_GROWSDOWN))
		return -EFAULT;
	address &= PAGE_MASK;
	if (address < mm->mmap_min_addr)
		return -EPERM;
	if (prev && !(prev->vm_flags & VM_GROWSDOWN) &&
	    (prev->vm_flags & VM_ACCESS_FLAGS) &&
	    address - prev->vm_end < mm->stack_guard_gap)
		return -ENOMEM;
	if (prev && prev->vm_end > address)
		return -ENOMEM;
	if (anon_vma_prepare(vma))
		return -ENOMEM;
	if (address >= vma->vm_start)
		return 0;

	size = vma->vm_end - address;
	grow = (vma->vm_start - address) >> PAGE_SHIFT;
	if (grow > vma->vm_pgoff)
		return -ENOMEM;
	/* acct_stack_growth() */
	if (!may_expand_vm(mm, vma->vm_flags, grow) || size > mm->rlimit_stack)
		return -ENOMEM;
	if ((vma->vm_flags & VM_LOCKED) && !mm->cap_ipc_lock &&
	    (mm->locked_vm + grow) << PAGE_SHIFT > mm->rlimit_memlock)
		return -ENOMEM;
	if ((vma->vm_flags & VM_ACCOUNT) &&
	    security_vm_enough_memory_mm(mm, grow))
		return -ENOMEM;

	if (vma->vm_flags & VM_LOCKED)
		mm->locked_vm += grow;
	vm_stat_account(mm, vma->vm_flags, grow);
	va.start = address;
	va.pgoff = vma->vm_pgoff - grow;
	va.stack_no_vma_write = mmsim_mutant_is(MUTANT_STACK_NO_VMA_WRITE);
	__vma_adjust(mm, &va);
	return 0;
}

/*
 * Called with the mmap lock held for reading by a fault below a VMA: drop
 * it, grow the stack under the write lock, and return the VMA that now
 * covers addr with the read lock held again.  Returns NULL (no lock held)
 * if addr cannot be covered.
 */
struct vm_area_struct *expand_stack(struct mm_struct *mm, unsigned long addr)
{
	struct vm_area_struct *vma, *prev;

	mmap_read_unlock(mm);
	mmap_write_lock(mm);
	vma = find_vma_prev(mm, addr, &prev);
	if (vma && vma->vm_start <= addr)
		goto success;
	if (vma && !expand_stack_locked(vma, addr))
		goto success;
	mmap_write_unlock(mm);
	return NULL;
success:
	mmap_write_downgrade(mm);
	return vma;
}

/*
 * Map the initial stack: size bytes ending at stack_top, growing down
 * (setup_arg_pages).  The caller holds the mmap lock for writing.
 */
int setup_stack(struct mm_struct *mm, unsigned long stack_top,
		unsigned long size)
{
	unsigned long start = stack_top - PAGE_ALIGN(size);
	struct vm_area_struct *vma;
	int err;

	mmap_assert_write_locked(mm);
	if (offset_in_page(stack_top) || !size || start >= stack_top ||
	    stack_top > mm->task_size)
		return -EINVAL;
	if (find_vma_intersection(mm, start, stack_top))
		return -EEXIST;
	if (security_vm_enough_memory_mm(mm, (stack_top - start) >> PAGE_SHIFT))
		return -ENOMEM;
	vma = vm_area_alloc(mm);
	if (!vma) {
		err = -ENOMEM;
		goto unacct;
	}
	vma->vm_start = start;
	vma->vm_end = stack_top;
	vma->vm_flags = VM_STACK_FLAGS;
	vma->vm_page_prot = vm_get_page_prot(VM_STACK_FLAGS);
	vma->vm_pgoff = start >> PAGE_SHIFT;
	err = vma_link(mm, vma);
	if (err)
		goto free;
	vm_stat_account(mm, vma->vm_flags, vma_pages(vma));
	mm->start_stack = stack_top;
	return 0;
free:
	vm_area_free(vma);
unacct:
	vm_unacct_memory((stack_top - start) >> PAGE_SHIFT);
	return err;
}

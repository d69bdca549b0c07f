// SPDX-License-Identifier: MIT
/*
 * mlock(2), mlock2(2) and munlock(2) (the kernel's mm/mlock.c): set or clear
 * VM_LOCKED on the VMAs of a range, merging and splitting as needed, count
 * locked_vm, and fault the range in after locking it (mm_populate_range:
 * every page gets a present PTE, writable private ones a COW-broken page).
 */
#include <mmsim/strategy.h>

#include "mm/internal.h"

/* Is the task allowed to lock memory at all? */
bool can_do_mlock(struct mm_struct *mm)
{
	return mm->rlimit_memlock != 0 || mm->cap_ipc_lock;
}

/* Would locking bytes more stay under RLIMIT_MEMLOCK (if it applies)? */
bool mlock_future_ok(struct mm_struct *mm, unsigned long flags,
		     unsigned long bytes)
{
	unsigned long locked_pages, limit_pages;

	if (!(flags & VM_LOCKED) || mm->cap_ipc_lock)
		return true;
	locked_pages = bytes >> PAGE_SHIFT;
	locked_pages += mm->locked_vm;
	limit_pages = mm->rlimit_memlock >> PAGE_SHIFT;
	return locked_pages <= limit_pages;
}

/*
 * Give [start, end) of vma the lock flags of newflags.  *prev is the VMA
 * before the range on entry, the one holding it on return.  The caller
 * holds the mmap lock for writing.
 */
int mlock_fixup(struct vm_area_struct *vma, struct vm_area_struct **prev,
		unsigned long start, unsigned long end, unsigned long newflags)
{
	struct mm_struct *mm = vma->vm_mm;
	unsigned long oldflags = vma->vm_flags;
	long nr_pages;

	mmap_assert_write_locked(mm);
	if (newflags == oldflags || (oldflags & VM_SPECIAL))
		goto out;

	vma = vma_modify_flags(*prev, vma, start, end, newflags);
	if (IS_ERR_VALUE((unsigned long)vma))
		return (int)(long)vma;

	nr_pages = (end - start) >> PAGE_SHIFT;
	if (!(newflags & VM_LOCKED))
		nr_pages = -nr_pages;
	else if (oldflags & VM_LOCKED)
		nr_pages = 0;
	mm->locked_vm += nr_pages;
	/*
	 * VM_LOCKED does not change the rights: vm_page_prot stays.  The
	 * kernel's mlock_vma_pages_range() marks the pages mlocked on the
	 * unevictable LRU; mmsim has no reclaim to hide them from, so
	 * locking is the flag plus the populate that do_mlock() does next.
	 * A speculative fault reads vm_flags, hence the write section.
	 */
	vma_start_write(vma);
	vm_write_begin(vma);
	WRITE_ONCE(vma->vm_flags, newflags);
	vm_write_end(vma);
out:
	*prev = vma;
	return 0;
}

/*
 * Set the lock flags of every VMA in [start, start + len) to flags
 * (apply_vma_lock_flags).  A hole gives -ENOMEM after the VMAs before it
 * were changed.
 */
static int apply_vma_lock_flags(struct mm_struct *mm, unsigned long start,
				size_t len, unsigned long flags)
{
	unsigned long nstart, end, tmp, newflags;
	struct vm_area_struct *vma, *prev;
	int error;

	end = start + len;
	if (end < start)
		return -EINVAL;
	if (end == start)
		return 0;
	vma = vma_lookup(mm, start);
	if (!vma)
		return -ENOMEM;
	prev = start > vma->vm_start ? vma : vma->vm_prev;

	nstart = start;
	tmp = vma->vm_start;
	for (; vma && vma->vm_start < end; vma = prev->vm_next) {
		if (vma->vm_start != tmp)
			return -ENOMEM;
		newflags = (vma->vm_flags & ~VM_LOCKED_MASK) | flags;
		tmp = min(vma->vm_end, end);
		error = mlock_fixup(vma, &prev, nstart, tmp, newflags);
		if (error)
			return error;
		tmp = prev->vm_end;
		nstart = tmp;
	}
	if (tmp < end)
		return -ENOMEM;
	return 0;
}

/* Pages of [start, start + len) that are locked already. */
static unsigned long count_mm_mlocked_page_nr(struct mm_struct *mm,
					      unsigned long start, size_t len)
{
	unsigned long end = start + len, count = 0;
	struct vm_area_struct *vma;

	for (vma = find_vma(mm, start); vma && vma->vm_start < end;
	     vma = vma->vm_next) {
		if (vma->vm_flags & VM_LOCKED)
			count += (min(end, vma->vm_end) -
				  max(start, vma->vm_start)) >> PAGE_SHIFT;
	}
	return count;
}

/* The errno mlock reports for a failed populate (__mlock_posix_error_return). */
static int mlock_posix_error(long error)
{
	if (error == -EFAULT)
		return -ENOMEM;
	if (error == -ENOMEM)
		return -EAGAIN;
	return (int)error;
}

static int do_mlock(struct mm_struct *mm, unsigned long start, size_t len,
		    unsigned long flags)
{
	unsigned long locked, lock_limit;
	int error = -ENOMEM;

	if (!can_do_mlock(mm))
		return -EPERM;
	len = PAGE_ALIGN(len + offset_in_page(start));
	start &= PAGE_MASK;
	lock_limit = mm->rlimit_memlock >> PAGE_SHIFT;
	locked = len >> PAGE_SHIFT;

	mmap_write_lock(mm);
	locked += mm->locked_vm;
	if (locked > lock_limit && !mm->cap_ipc_lock)
		locked -= count_mm_mlocked_page_nr(mm, start, len);
	if (locked <= lock_limit || mm->cap_ipc_lock)
		error = apply_vma_lock_flags(mm, start, len, flags);
	if (!error)
		error = mlock_posix_error(mm_populate_range(mm, start, len));
	mmap_write_unlock(mm);
	return error;
}

int sys_mlock(struct mm_struct *mm, unsigned long start, unsigned long len)
{
	return do_mlock(mm, start, len, VM_LOCKED);
}

int sys_mlock2(struct mm_struct *mm, unsigned long start, unsigned long len,
	       int flags)
{
	unsigned long vm_flags = VM_LOCKED;

	if (flags & ~MLOCK_ONFAULT)
		return -EINVAL;
	if (flags & MLOCK_ONFAULT)
		vm_flags |= VM_LOCKONFAULT;
	return do_mlock(mm, start, len, vm_flags);
}

int sys_munlock(struct mm_struct *mm, unsigned long start, unsigned long len)
{
	int ret;

	len = PAGE_ALIGN(len + offset_in_page(start));
	start &= PAGE_MASK;
	mmap_write_lock(mm);
	ret = apply_vma_lock_flags(mm, start, len, 0);
	mmap_write_unlock(mm);
	return ret;
}

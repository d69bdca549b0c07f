// SPDX-License-Identifier: MIT
/*
 * The x86 page-fault handler for user addresses (arch/x86/mm/fault.c):
 * do_user_addr_fault() takes the mmap lock for reading, finds the VMA,
 * grows the stack, checks the access against the VMA, and lets
 * handle_mm_fault() do the work; VM_FAULT_RETRY means the lock was
 * dropped and the whole lookup starts again.
 *
 * Before all that, a strategy with a fault side (spf-srcu, per-vma-lock...)
 * tries to handle a user fault without the mmap lock (the SPF series'
 * handle_speculative_fault(), 6.4's lock_vma_under_rcu()); whatever it
 * does not finish, error included, goes the classic way, which finds the
 * VMA again and delivers the signal if there is one.
 *
 * The task's signal is returned instead of delivered: SIGSEGV, SIGBUS, or
 * SIGKILL when memory ran out (the kernel's pagefault_out_of_memory ends
 * in the OOM killer; mmsim kills the faulting task, never the simulator).
 */
#include <signal.h>

#include <mmsim/cpu.h>
#include <mmsim/mm.h>
#include <mmsim/sched.h>
#include <mmsim/strategy.h>

#include "kernel/bug.h"

/* May this fault be handled in vma at all? (x86 access_error()) */
static bool access_error(unsigned long error_code, struct vm_area_struct *vma)
{
	if (error_code & X86_PF_WRITE)
		return !(vma->vm_flags & VM_WRITE);
	/* A read or fetch of a present page faulted: the rights forbid it. */
	if (error_code & X86_PF_PROT)
		return true;
	return !(vma->vm_flags & VM_ACCESS_FLAGS);
}

static int fault_signal(vm_fault_t fault)
{
	if (fault & VM_FAULT_OOM)
		return SIGKILL;
	if (fault & (VM_FAULT_SIGBUS | VM_FAULT_HWPOISON))
		return SIGBUS;
	return SIGSEGV;
}

/*
 * access_error() from the fault flags, for a lockless fault, which has no
 * error code at hand: a write needs VM_WRITE, a read any right.  An
 * instruction fetch needs VM_EXEC: the flags do not say whether the PTE
 * was present (the error code's PROT bit), and a fetch of a present NX
 * page could only be a SIGSEGV, which the classic path delivers; it also
 * maps a page for a fetch in a readable VMA without VM_EXEC, as x86 does.
 */
bool fault_access_error(unsigned int flags, unsigned long vm_flags)
{
	if (flags & FAULT_FLAG_WRITE)
		return !(vm_flags & VM_WRITE);
	if (flags & FAULT_FLAG_INSTRUCTION)
		return !(vm_flags & VM_EXEC);
	return !(vm_flags & VM_ACCESS_FLAGS);
}

/*
 * The per-VMA-lock block of the arch fault handler (6.4): lock the VMA,
 * check the access, handle the fault under the VMA lock.  VM_FAULT_RETRY
 * sends it to the mmap lock, as does an access the VMA refuses (the
 * classic path delivers the signal; 6.7 delivers it here).  A
 * handle_mm_fault() that returns VM_FAULT_RETRY or VM_FAULT_COMPLETED has
 * released the VMA lock itself.  The calling CPU runs mm, holds no lock.
 */
/*
 * The VMA this CPU holds under do_vma_lock_fault(), for the fault-lock
 * assertions (vma_fault_locked(): handle_mm_fault(), page-table
 * allocation, which knows no VMA).  A fault holds one at a time.
 */
static __thread struct vm_area_struct *vma_lock_held;

bool vma_lock_held_by_me(struct mm_struct *mm, struct vm_area_struct *vma)
{
	if (!vma)
		return vma_lock_held && vma_lock_held->vm_mm == mm;
	return vma_lock_held == vma;
}

/* Let go of the VMA lock the fault holds. */
static void vma_lock_fault_end(const struct fault_strategy *s,
			       struct vm_area_struct *vma)
{
	vma_lock_held = NULL;
	s->vma_end_read(vma);
}

vm_fault_t do_vma_lock_fault(struct mm_struct *mm, unsigned long address,
			     unsigned int flags)
{
	const struct fault_strategy *s = mm->strategy;
	struct vm_area_struct *vma;
	vm_fault_t fault;

	VM_BUG_ON(!cpumask_test_cpu(smp_processor_id(), mm_cpumask(mm)));
	vma = s->lock_vma_under_rcu(mm, address);
	if (!vma)
		return VM_FAULT_RETRY;
	vma_lock_held = vma;
	if (fault_access_error(flags, vma->vm_flags)) {
		vma_lock_fault_end(s, vma);
		return VM_FAULT_RETRY;
	}
	/* No mmap lock to drop and retry with. */
	flags &= ~(FAULT_FLAG_ALLOW_RETRY | FAULT_FLAG_KILLABLE);
	mmsim_sched_point(SCHED_FAULT_WALK, vma);
	fault = handle_mm_fault(vma, address, flags | FAULT_FLAG_VMA_LOCK,
				NULL);
	if (!(fault & (VM_FAULT_RETRY | VM_FAULT_COMPLETED)))
		vma_lock_fault_end(s, vma);
	else
		vma_lock_held = NULL;	/* handle_mm_fault() let it go */
	if (!(fault & VM_FAULT_RETRY)) {
		count_fault_event(VMA_LOCK_SUCCESS);
		return fault;
	}
	count_fault_event(VMA_LOCK_RETRY);
	return VM_FAULT_RETRY;
}

int do_user_addr_fault(struct pt_regs *regs, unsigned long error_code,
		       unsigned long address)
{
	struct mm_struct *mm = this_cpu()->active_mm;
	unsigned int flags = FAULT_FLAG_ALLOW_RETRY | FAULT_FLAG_KILLABLE |
			     FAULT_FLAG_INTERRUPTIBLE;
	struct vm_area_struct *vma;
	vm_fault_t fault;

	/* A fault with interrupts off would be a kernel bug (x86 warns). */
	WARN_ON(irqs_disabled());
	count_fault_event(FAULT_PAGE_FAULTS);
	if (!mm)
		return SIGSEGV;
	if (error_code & X86_PF_USER)
		flags |= FAULT_FLAG_USER;
	if (error_code & X86_PF_WRITE)
		flags |= FAULT_FLAG_WRITE;
	if (error_code & X86_PF_INSTR)
		flags |= FAULT_FLAG_INSTRUCTION;

	if ((error_code & X86_PF_USER) && mm->strategy->lockless_fault) {
		fault = mm->strategy->lockless_fault(mm, address, flags);
		/*
		 * An error goes the classic way too: it finds the VMA again
		 * under the mmap lock and decides on the signal there.
		 */
		if (!(fault & (VM_FAULT_RETRY | VM_FAULT_ERROR)))
			return 0;
	}

	if (!mmap_read_trylock(mm))
		mmap_read_lock(mm);
retry:
	vma = find_vma(mm, address);
	if (!vma)
		goto bad_area;
	if (unlikely(vma->vm_start > address)) {
		if (!(vma->vm_flags & VM_GROWSDOWN))
			goto bad_area;
		/* Drops the read lock; returns with it, or NULL without. */
		vma = expand_stack(mm, address);
		if (!vma)
			return SIGSEGV;
	}
	if (unlikely(access_error(error_code, vma)))
		goto bad_area;

	fault = handle_mm_fault(vma, address, flags, regs);
	if (fault & VM_FAULT_COMPLETED)
		return 0;
	if (unlikely(fault & VM_FAULT_RETRY)) {
		/* handle_mm_fault() released the mmap lock. */
		flags |= FAULT_FLAG_TRIED;
		mmap_read_lock(mm);
		goto retry;
	}
	mmap_read_unlock(mm);
	if (unlikely(fault & VM_FAULT_ERROR))
		return fault_signal(fault);
	return 0;

bad_area:
	mmap_read_unlock(mm);
	return SIGSEGV;
}

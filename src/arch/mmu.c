// SPDX-License-Identifier: MIT
/*
 * The MMU of a simulated CPU: every load, store and instruction fetch of
 * the simulated task goes through the CPU's TLB, then a hardware page
 * walk, then a page fault.
 *
 * An access is one instruction: it runs with interrupts (soft-)disabled,
 * so a TLB-shootdown IPI is taken before or after it, never in the middle.
 * That is what makes the kernel's order (clear PTE, flush, then free the
 * page) sufficient: once every CPU has acknowledged the flush, none can
 * still be writing through the old translation.  The walk itself relies on
 * the same rule for page-table pages.
 *
 * The hardware walk sets the accessed bit, and the dirty bit on a write,
 * with a compare-and-swap on the PTE, so it never resurrects an entry that
 * a CPU cleared meanwhile.
 */
#include <signal.h>
#include <string.h>

#include <mmsim/cpu.h>
#include <mmsim/mm.h>
#include <mmsim/pgtable.h>

#include "arch/tlb.h"
#include "kernel/bug.h"

enum mmu_access { MMU_READ, MMU_WRITE, MMU_FETCH };

/* Does a PTE (as cached or walked) allow this user access? */
static bool pte_allows(unsigned long pte, enum mmu_access acc)
{
	if ((pte & (_PAGE_PRESENT | _PAGE_USER)) != (_PAGE_PRESENT | _PAGE_USER))
		return false;
	if (acc == MMU_WRITE)
		return (pte & (_PAGE_RW | _PAGE_DIRTY)) == (_PAGE_RW | _PAGE_DIRTY);
	if (acc == MMU_FETCH)
		return !(pte & _PAGE_NX);
	return true;
}

/*
 * Walk mm's tables for addr as the hardware does (no locks; interrupts
 * are off so no table can be freed under us).  Returns the PTE slot, or
 * NULL when an upper level is not present.
 */
static pte_t *hw_walk(struct mm_struct *mm, unsigned long addr)
{
	pgd_t *pgd = pgd_offset(mm, addr);
	p4d_t *p4d;
	pud_t *pud;
	pmd_t *pmd, pmdval;

	if (!pgd_present(pgdp_get(pgd)))
		return NULL;
	p4d = p4d_offset(mm, pgd, addr);
	if (!p4d_present(p4dp_get(p4d)))
		return NULL;
	pud = pud_offset(p4d, addr);
	if (!pud_present(pudp_get(pud)))
		return NULL;
	pmd = pmd_offset(pud, addr);
	pmdval = pmdp_get(pmd);
	if (!pmd_present(pmdval))
		return NULL;
	return pte_offset_kernel(pmdval, addr);
}

/*
 * Walk, and if the PTE allows the access, set A (and D) and return the
 * updated PTE value.  Returns 0 when the access must fault; *present tells
 * whether the PTE was present (the error code's PROT bit).
 */
static unsigned long hw_translate(struct mm_struct *mm, unsigned long addr,
				  enum mmu_access acc, bool *present)
{
	unsigned long old, new;
	pte_t *ptep = hw_walk(mm, addr);

	*present = false;
	if (!ptep)
		return 0;
	old = __atomic_load_n(&ptep->pte, __ATOMIC_ACQUIRE);
	do {
		*present = old & _PAGE_PRESENT;
		new = old | _PAGE_ACCESSED;
		if (acc == MMU_WRITE && (old & _PAGE_RW))
			new |= _PAGE_DIRTY;
		if (!pte_allows(new, acc))
			return 0;
		if (new == old)
			break;
	} while (!__atomic_compare_exchange_n(&ptep->pte, &old, new, false,
					      __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE));
	return new;
}

/* One access within one page.  Returns 0 or the signal of the task. */
static int mmu_access_page(unsigned long addr, void *buf, unsigned long len,
			   enum mmu_access acc)
{
	struct mmsim_cpu *cpu = this_cpu();
	struct mm_struct *mm = cpu->active_mm;
	unsigned long vpn = addr >> PAGE_SHIFT, pte, flags, error_code;
	struct tlb_entry *e;
	struct pt_regs regs = { 0 };
	bool present;
	char *data;
	int sig;

	if (!mm || addr >= mm->task_size)
		return SIGSEGV;
	for (;;) {
		local_irq_save(flags);
		e = tlb_lookup(&cpu->tlb, vpn);
		if (e && pte_allows(e->pte, acc)) {
			pte = e->pte;
			cpu->tlb.hits++;
			goto access;
		}
		/* Missing or too weak: a real CPU faults and finds it spurious. */
		if (e)
			e->valid = false;
		cpu->tlb.misses++;
		pte = hw_translate(mm, addr, acc, &present);
		if (pte) {
			tlb_fill(&cpu->tlb, vpn, pte);
			goto access;
		}
		local_irq_restore(flags);

		error_code = X86_PF_USER;
		if (present)
			error_code |= X86_PF_PROT;
		if (acc == MMU_WRITE)
			error_code |= X86_PF_WRITE;
		if (acc == MMU_FETCH)
			error_code |= X86_PF_INSTR;
		sig = do_user_addr_fault(&regs, error_code, addr);
		if (sig)
			return sig;
	}
access:
	data = page_address(pfn_to_page(pte_pfn((pte_t){ pte })));
	if (data) {
		data += offset_in_page(addr);
		if (acc == MMU_WRITE)
			memcpy(data, buf, len);
		else if (acc == MMU_READ)
			memcpy(buf, data, len);
	} else if (acc == MMU_READ) {
		memset(buf, 0, len);
	}
	local_irq_restore(flags);
	return 0;
}

static int mmu_access(unsigned long addr, void *buf, unsigned long len,
		      enum mmu_access acc)
{
	while (len) {
		unsigned long chunk = min(len, PAGE_SIZE - offset_in_page(addr));
		int sig = mmu_access_page(addr, buf, chunk, acc);

		if (sig)
			return sig;
		addr += chunk;
		buf = (char *)buf + chunk;
		len -= chunk;
	}
	return 0;
}

int mmsim_load(unsigned long addr, void *buf, unsigned long len)
{
	return mmu_access(addr, buf, len, MMU_READ);
}

int mmsim_store(unsigned long addr, const void *buf, unsigned long len)
{
	return mmu_access(addr, (void *)buf, len, MMU_WRITE);
}

int mmsim_fetch(unsigned long addr)
{
	char byte;

	return mmu_access(addr, &byte, 1, MMU_FETCH);
}

// SPDX-License-Identifier: MIT
/*
 * Empty PTE-table reclaim (the kernel's mm/pt_reclaim.c, Linux 6.14,
 * CONFIG_PT_RECLAIM): a zap that MADV_DONTNEED asked to reclaim
 * (zap_details.reclaim_pt) and that emptied a whole PTE table of one VMA
 * unlinks that table, under the mmap read lock, and frees it after the
 * TLB flush and an RCU grace period.  The zap itself is in memory.c.
 *
 * Lock order: the PMD lock, then the PTE lock (as __pte_alloc and
 * everything else take them).
 */
#include <mmsim/pgtable.h>
#include <mmsim/spinlock.h>
#include <mmsim/tlb.h>

#include "mm/internal.h"

/*
 * The PTE lock is held, every PTE of the table was cleared under it: no
 * fault can have filled one since, so the table is empty.  The PMD lock
 * comes before the PTE lock everywhere else (__pte_alloc takes it alone,
 * the slow path below takes both in that order): only try it.
 */
bool pt_reclaim_clear_pmd(struct mm_struct *mm, pmd_t *pmd, pmd_t *pmdval)
{
	spinlock_t *pml = pmd_lockptr(mm, pmd);

	if (!spin_trylock(pml))
		return false;
	*pmdval = pmdp_get(pmd);
	VM_BUG_ON(!spin_is_held_by_me(pte_lockptr(mm, *pmdval)));
	set_pmd(pmd, (pmd_t){ 0 });
	spin_unlock(pml);
	return true;
}

/* Are all the entries of the PTE table ptes none?  Its lock is held. */
static bool pte_table_none(pte_t *ptes)
{
	for (int i = 0; i < PTRS_PER_PTE; i++)
		if (!pte_none(ptep_get(&ptes[i])))
			return false;
	return true;
}

/*
 * The zap dropped the PTE lock on the way (a full gather batch) or could
 * not get the PMD lock: a fault may have filled a PTE since, so check
 * them all again, under the PMD lock (no new table can be hung there)
 * and the PTE lock (no PTE can be set).
 */
bool pt_reclaim_try_clear(struct mm_struct *mm, pmd_t *pmd, pmd_t *pmdval)
{
	spinlock_t *pml, *ptl;
	bool done = false;
	pmd_t val;

	pml = pmd_lock(mm, pmd);
	val = pmdp_get(pmd);
	/* Another zap reclaimed it, or a fault never refilled it. */
	if (pmd_none(val) || pmd_bad(val))
		goto out_pml;
	ptl = pte_lockptr(mm, val);
	spin_lock(ptl);
	if (pte_table_none(page_address(pmd_page(val)))) {
		set_pmd(pmd, (pmd_t){ 0 });
		*pmdval = val;
		done = true;
	}
	spin_unlock(ptl);
out_pml:
	spin_unlock(pml);
	return done;
}

/*
 * Queue the table an empty PMD pointed to, to be freed after the gather's
 * TLB flush (which waits for every walker with interrupts off: the MMU,
 * a speculative fault) and then an RCU grace period (for walkers under
 * the mmap read lock, which pte_offset_map_lock and the classic fault
 * cover with rcu_read_lock, as the kernel's pt_reclaim needs
 * MMU_GATHER_RCU_TABLE_FREE).  addr: the first address it mapped.
 */
void pt_reclaim_free(struct mmu_gather *tlb, pmd_t pmdval, unsigned long addr)
{
	tlb->rcu_tables = true;
	tlb_flush_pte_range(tlb, addr & PMD_MASK, PAGE_SIZE);
	tlb_remove_table(tlb, pmd_page(pmdval));
}

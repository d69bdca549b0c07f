/* SPDX-License-Identifier: MIT */
/*
 * Page tables (<asm/pgtable.h>, <linux/pgtable.h>, mm/pgtable-generic.c).
 *
 * Five levels of 512 entries: PGD, P4D, PUD, PMD, PTE.  With 4 levels the
 * P4D is folded into the PGD, decided at run time per mm as x86 does with
 * pgtable_l5_enabled().  Entries use x86-64's bits.  Every read and write
 * of an entry is one atomic 64-bit access (READ_ONCE/WRITE_ONCE), because
 * the MMU of another CPU and lockless walkers read them concurrently.
 *
 * Locks: each PTE page has its own lock (split PTE locks) in its struct
 * page; each PMD page too (pmd_lock); the upper levels are populated under
 * mm->page_table_lock.
 */
#ifndef MMSIM_PGTABLE_H
#define MMSIM_PGTABLE_H

#include <stdbool.h>
#include <mmsim/mm_types.h>
#include <mmsim/page.h>

#define PTRS_PER_PTE	512
#define PTRS_PER_PMD	512
#define PTRS_PER_PUD	512
#define PTRS_PER_P4D	512
#define PTRS_PER_PGD	512

#define PMD_SHIFT	21
#define PUD_SHIFT	30
#define P4D_SHIFT	39
#define PGDIR_SHIFT_4	39
#define PGDIR_SHIFT_5	48
#define PMD_SIZE	(1UL << PMD_SHIFT)
#define PMD_MASK	(~(PMD_SIZE - 1))
#define PUD_SIZE	(1UL << PUD_SHIFT)
#define PUD_MASK	(~(PUD_SIZE - 1))
#define P4D_SIZE	(1UL << P4D_SHIFT)
#define P4D_MASK	(~(P4D_SIZE - 1))

/* x86-64 entry bits */
#define _PAGE_PRESENT	(1UL << 0)
#define _PAGE_RW	(1UL << 1)
#define _PAGE_USER	(1UL << 2)
#define _PAGE_PWT	(1UL << 3)
#define _PAGE_PCD	(1UL << 4)
#define _PAGE_ACCESSED	(1UL << 5)
#define _PAGE_DIRTY	(1UL << 6)
#define _PAGE_PSE	(1UL << 7)
#define _PAGE_GLOBAL	(1UL << 8)
/*
 * PROT_NONE PTEs: not present for the MMU (every access faults) but
 * present for the kernel (they map a page), as on x86, which reuses the
 * global bit for this in user PTEs.
 */
#define _PAGE_PROTNONE	_PAGE_GLOBAL
#define _PAGE_SPECIAL	(1UL << 9)	/* no struct page to refcount */
#define _PAGE_NX	(1UL << 63)
#define PTE_PFN_MASK	0x000ffffffffff000UL
#define _PAGE_TABLE	(_PAGE_PRESENT | _PAGE_RW | _PAGE_USER | _PAGE_ACCESSED)

/* vm_page_prot values (protection_map of x86) */
#define PAGE_NONE	((pgprot_t){ _PAGE_PROTNONE | _PAGE_ACCESSED | _PAGE_NX })
#define PAGE_READONLY	((pgprot_t){ _PAGE_PRESENT | _PAGE_USER | _PAGE_ACCESSED | _PAGE_NX })
#define PAGE_READONLY_EXEC ((pgprot_t){ _PAGE_PRESENT | _PAGE_USER | _PAGE_ACCESSED })
#define PAGE_COPY	PAGE_READONLY
#define PAGE_COPY_EXEC	PAGE_READONLY_EXEC
#define PAGE_SHARED	((pgprot_t){ _PAGE_PRESENT | _PAGE_RW | _PAGE_USER | _PAGE_ACCESSED | _PAGE_NX })
#define PAGE_SHARED_EXEC ((pgprot_t){ _PAGE_PRESENT | _PAGE_RW | _PAGE_USER | _PAGE_ACCESSED })

/* vm_get_page_prot(): the protection of a VMA's PTEs from its flags. */
pgprot_t vm_get_page_prot(unsigned long vm_flags);

/* --- one-entry atomic accessors (READ_ONCE / WRITE_ONCE) ----------------- */
#define __pt_read(p)	 __atomic_load_n(&(p), __ATOMIC_RELAXED)
#define __pt_write(p, v) __atomic_store_n(&(p), (v), __ATOMIC_RELEASE)

static inline pte_t ptep_get(pte_t *ptep)
{
	return (pte_t){ __atomic_load_n(&ptep->pte, __ATOMIC_ACQUIRE) };
}
static inline pmd_t pmdp_get(pmd_t *pmdp)
{
	return (pmd_t){ __atomic_load_n(&pmdp->pmd, __ATOMIC_ACQUIRE) };
}
static inline pud_t pudp_get(pud_t *pudp)
{
	return (pud_t){ __atomic_load_n(&pudp->pud, __ATOMIC_ACQUIRE) };
}
static inline p4d_t p4dp_get(p4d_t *p4dp)
{
	return (p4d_t){ __atomic_load_n(&p4dp->p4d, __ATOMIC_ACQUIRE) };
}
static inline pgd_t pgdp_get(pgd_t *pgdp)
{
	return (pgd_t){ __atomic_load_n(&pgdp->pgd, __ATOMIC_ACQUIRE) };
}
#define READ_ONCE_PTE(ptep) ptep_get(ptep)

static inline void set_pte(pte_t *ptep, pte_t pte)
{
	__atomic_store_n(&ptep->pte, pte.pte, __ATOMIC_RELEASE);
}
static inline void set_pte_at(struct mm_struct *mm, unsigned long addr,
			      pte_t *ptep, pte_t pte)
{
	set_pte(ptep, pte);
}
static inline void set_pmd(pmd_t *pmdp, pmd_t pmd)
{
	__atomic_store_n(&pmdp->pmd, pmd.pmd, __ATOMIC_RELEASE);
}
static inline void set_pud(pud_t *pudp, pud_t pud)
{
	__atomic_store_n(&pudp->pud, pud.pud, __ATOMIC_RELEASE);
}
static inline void set_p4d(p4d_t *p4dp, p4d_t p4d)
{
	__atomic_store_n(&p4dp->p4d, p4d.p4d, __ATOMIC_RELEASE);
}
static inline void set_pgd(pgd_t *pgdp, pgd_t pgd)
{
	__atomic_store_n(&pgdp->pgd, pgd.pgd, __ATOMIC_RELEASE);
}
/* Atomically clear a PTE and return what it was (the MMU may set A/D). */
static inline pte_t ptep_get_and_clear(struct mm_struct *mm, unsigned long addr,
				       pte_t *ptep)
{
	return (pte_t){ __atomic_exchange_n(&ptep->pte, 0UL, __ATOMIC_ACQ_REL) };
}
static inline void pte_clear(struct mm_struct *mm, unsigned long addr,
			     pte_t *ptep)
{
	__atomic_store_n(&ptep->pte, 0UL, __ATOMIC_RELEASE);
}
/* Clear _PAGE_RW atomically, keeping the A/D bits the MMU may set. */
static inline void ptep_set_wrprotect(struct mm_struct *mm, unsigned long addr,
				      pte_t *ptep)
{
	__atomic_fetch_and(&ptep->pte, ~_PAGE_RW, __ATOMIC_ACQ_REL);
}

/* --- entry values -------------------------------------------------------- */
static inline bool pte_none(pte_t pte)	  { return pte.pte == 0; }
/* Maps a page (PROT_NONE included); the MMU itself needs _PAGE_PRESENT. */
static inline bool pte_present(pte_t pte)
{
	return pte.pte & (_PAGE_PRESENT | _PAGE_PROTNONE);
}
static inline bool pte_protnone(pte_t pte)
{
	return (pte.pte & (_PAGE_PRESENT | _PAGE_PROTNONE)) == _PAGE_PROTNONE;
}
static inline bool pte_write(pte_t pte)	  { return pte.pte & _PAGE_RW; }
static inline bool pte_dirty(pte_t pte)	  { return pte.pte & _PAGE_DIRTY; }
static inline bool pte_young(pte_t pte)	  { return pte.pte & _PAGE_ACCESSED; }
static inline bool pte_special(pte_t pte) { return pte.pte & _PAGE_SPECIAL; }
static inline bool pte_exec(pte_t pte)	  { return !(pte.pte & _PAGE_NX); }
static inline bool pte_same(pte_t a, pte_t b) { return a.pte == b.pte; }
static inline unsigned long pte_pfn(pte_t pte)
{
	return (pte.pte & PTE_PFN_MASK) >> PAGE_SHIFT;
}
static inline pte_t pte_mkwrite(pte_t pte)  { pte.pte |= _PAGE_RW; return pte; }
static inline pte_t pte_wrprotect(pte_t pte) { pte.pte &= ~_PAGE_RW; return pte; }
static inline pte_t pte_mkdirty(pte_t pte)  { pte.pte |= _PAGE_DIRTY; return pte; }
static inline pte_t pte_mkclean(pte_t pte)  { pte.pte &= ~_PAGE_DIRTY; return pte; }
static inline pte_t pte_mkyoung(pte_t pte)  { pte.pte |= _PAGE_ACCESSED; return pte; }
static inline pte_t pte_mkold(pte_t pte)    { pte.pte &= ~_PAGE_ACCESSED; return pte; }
static inline pte_t pte_mkspecial(pte_t pte) { pte.pte |= _PAGE_SPECIAL; return pte; }
static inline pte_t pfn_pte(unsigned long pfn, pgprot_t prot)
{
	return (pte_t){ (pfn << PAGE_SHIFT) | prot.pgprot };
}
static inline pte_t mk_pte(struct page *page, pgprot_t prot)
{
	return pfn_pte(page_to_pfn(page), prot);
}
/* Keep pfn and A/D bits, take the rights of newprot (mprotect). */
static inline pte_t pte_modify(pte_t pte, pgprot_t newprot)
{
	unsigned long keep = PTE_PFN_MASK | _PAGE_ACCESSED | _PAGE_DIRTY |
			     _PAGE_SPECIAL;

	return (pte_t){ (pte.pte & keep) | (newprot.pgprot & ~keep) };
}
/* The page a present PTE maps, NULL for special mappings. */
struct page *vm_normal_page(struct vm_area_struct *vma, unsigned long addr,
			    pte_t pte);
#define pte_page(pte) pfn_to_page(pte_pfn(pte))

static inline bool pmd_none(pmd_t pmd)	  { return pmd.pmd == 0; }
static inline bool pmd_present(pmd_t pmd) { return pmd.pmd & _PAGE_PRESENT; }
static inline bool pmd_same(pmd_t a, pmd_t b) { return a.pmd == b.pmd; }
static inline bool pmd_bad(pmd_t pmd)
{
	return (pmd.pmd & ~PTE_PFN_MASK & ~_PAGE_NX) != _PAGE_TABLE;
}
static inline bool pud_none(pud_t pud)	  { return pud.pud == 0; }
static inline bool pud_present(pud_t pud) { return pud.pud & _PAGE_PRESENT; }
static inline bool p4d_none(p4d_t p4d)	  { return p4d.p4d == 0; }
static inline bool p4d_present(p4d_t p4d) { return p4d.p4d & _PAGE_PRESENT; }
static inline bool pgd_none(pgd_t pgd)	  { return pgd.pgd == 0; }
static inline bool pgd_present(pgd_t pgd) { return pgd.pgd & _PAGE_PRESENT; }

/* The page-table page an upper entry points to. */
static inline struct page *pmd_page(pmd_t pmd)
{
	return pfn_to_page((pmd.pmd & PTE_PFN_MASK) >> PAGE_SHIFT);
}
static inline struct page *pud_page(pud_t pud)
{
	return pfn_to_page((pud.pud & PTE_PFN_MASK) >> PAGE_SHIFT);
}
static inline struct page *p4d_page(p4d_t p4d)
{
	return pfn_to_page((p4d.p4d & PTE_PFN_MASK) >> PAGE_SHIFT);
}
static inline struct page *pgd_page(pgd_t pgd)
{
	return pfn_to_page((pgd.pgd & PTE_PFN_MASK) >> PAGE_SHIFT);
}

/* --- walking --------------------------------------------------------------- */
static inline bool pgtable_l5_enabled(const struct mm_struct *mm)
{
	return mm->pgtable_levels == 5;
}
static inline unsigned int pgdir_shift(const struct mm_struct *mm)
{
	return pgtable_l5_enabled(mm) ? PGDIR_SHIFT_5 : PGDIR_SHIFT_4;
}
#define pte_index(a) (((a) >> PAGE_SHIFT) & (PTRS_PER_PTE - 1))
#define pmd_index(a) (((a) >> PMD_SHIFT) & (PTRS_PER_PMD - 1))
#define pud_index(a) (((a) >> PUD_SHIFT) & (PTRS_PER_PUD - 1))
#define p4d_index(a) (((a) >> P4D_SHIFT) & (PTRS_PER_P4D - 1))

static inline pgd_t *pgd_offset(struct mm_struct *mm, unsigned long addr)
{
	return mm->pgd + ((addr >> pgdir_shift(mm)) & (PTRS_PER_PGD - 1));
}
/* With 4 levels the P4D is the PGD entry itself (folded). */
static inline p4d_t *p4d_offset(struct mm_struct *mm, pgd_t *pgd,
				unsigned long addr)
{
	if (!pgtable_l5_enabled(mm))
		return (p4d_t *)pgd;
	return (p4d_t *)page_address(pgd_page(pgdp_get(pgd))) + p4d_index(addr);
}
static inline pud_t *pud_offset(p4d_t *p4d, unsigned long addr)
{
	return (pud_t *)page_address(p4d_page(p4dp_get(p4d))) + pud_index(addr);
}
static inline pmd_t *pmd_offset(pud_t *pud, unsigned long addr)
{
	return (pmd_t *)page_address(pud_page(pudp_get(pud))) + pmd_index(addr);
}
/* The PTE of addr in the table pmd points to, from a value of *pmd. */
static inline pte_t *pte_offset_kernel(pmd_t pmdval, unsigned long addr)
{
	return (pte_t *)page_address(pmd_page(pmdval)) + pte_index(addr);
}
pte_t *pte_offset_map(pmd_t *pmd, unsigned long addr);
static inline void pte_unmap(pte_t *pte) { }

/* --- page-table locks ------------------------------------------------------ */
static inline spinlock_t *pte_lockptr(struct mm_struct *mm, pmd_t pmdval)
{
	return &pmd_page(pmdval)->ptl;
}
/*
 * Map the PTE of addr and take its table's lock.  Returns NULL when the
 * PMD no longer points to a PTE table (it changed under us).
 */
pte_t *pte_offset_map_lock(struct mm_struct *mm, pmd_t *pmd,
			   unsigned long addr, spinlock_t **ptlp);
static inline void pte_unmap_unlock(pte_t *pte, spinlock_t *ptl)
{
	spin_unlock(ptl);
}
/* The lock of the PMD page that holds the entry pmd. */
spinlock_t *pmd_lockptr(struct mm_struct *mm, pmd_t *pmd);
spinlock_t *pmd_lock(struct mm_struct *mm, pmd_t *pmd);

/* --- allocation: each returns 0 or -ENOMEM --------------------------------- */
int __p4d_alloc(struct mm_struct *mm, pgd_t *pgd, unsigned long addr);
int __pud_alloc(struct mm_struct *mm, p4d_t *p4d, unsigned long addr);
int __pmd_alloc(struct mm_struct *mm, pud_t *pud, unsigned long addr);
int __pte_alloc(struct mm_struct *mm, pmd_t *pmd);

/* Walk down to the PMD of addr, allocating what is missing; NULL on OOM. */
pmd_t *mm_alloc_pmd(struct mm_struct *mm, unsigned long addr);
/* Walk down to the PMD of addr without allocating; NULL if absent. */
pmd_t *mm_find_pmd(struct mm_struct *mm, unsigned long addr);

/* The mm's top-level table (pgd_alloc/pgd_free). */
int pgd_alloc(struct mm_struct *mm);
void pgd_free(struct mm_struct *mm);

/* Allocate and free one page-table page for level (1 = PTE .. 5 = PGD). */
struct page *pagetable_alloc(struct mm_struct *mm, int level);
void pagetable_free(struct page *page);

struct mmu_gather;

/*
 * Free the page tables under [addr, end) that no VMA between floor and
 * ceiling still needs (free_pgd_range).  The tables are handed to the
 * gather and freed only after its TLB flush.
 */
void free_pgd_range(struct mmu_gather *tlb, unsigned long addr,
		    unsigned long end, unsigned long floor,
		    unsigned long ceiling);
/* free_pgd_range over the gap-bounded ranges of vma and those after it. */
void free_pgtables(struct mmu_gather *tlb, struct vm_area_struct *vma,
		   unsigned long floor, unsigned long ceiling);

#endif /* MMSIM_PGTABLE_H */

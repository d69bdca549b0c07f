/* SPDX-License-Identifier: MIT */
/*
 * Declarations shared inside src/mm (the kernel's mm/internal.h and
 * mm/vma.h).  Everything here expects the mmap lock held as documented at
 * each definition.
 */
#ifndef MMSIM_MM_INTERNAL_H
#define MMSIM_MM_INTERNAL_H

#include <errno.h>
#include <signal.h>
#include <mmsim/mm.h>
#include <mmsim/strategy.h>
#include "kernel/bug.h"

typedef unsigned long pgoff_t;

#define PHYS_PFN(x)	((unsigned long)(x) >> PAGE_SHIFT)

/* src/mm/vma_tree.c: the rbtree, the list and the gap augment. */
void vma_gap_update(struct vm_area_struct *vma);
void __vma_link_list(struct mm_struct *mm, struct vm_area_struct *vma,
		     struct vm_area_struct *prev);
void __vma_link_rb(struct mm_struct *mm, struct vm_area_struct *vma,
		   struct rb_node **rb_link, struct rb_node *rb_parent);
void __vma_unlink(struct mm_struct *mm, struct vm_area_struct *vma);
int find_vma_links(struct mm_struct *mm, unsigned long addr,
		   unsigned long end, struct vm_area_struct **pprev,
		   struct rb_node ***rb_link, struct rb_node **rb_parent);
void vma_update_highest(struct mm_struct *mm);
unsigned long vma_compute_subtree_gap(struct vm_area_struct *vma);
unsigned long vm_start_gap(const struct vm_area_struct *vma);
unsigned long vm_end_gap(const struct vm_area_struct *vma);

struct vm_unmapped_area_info {
	unsigned long flags;
#define VM_UNMAPPED_AREA_TOPDOWN 1
	unsigned long length;
	unsigned long low_limit;
	unsigned long high_limit;
	unsigned long align_mask;
	unsigned long align_offset;
};
unsigned long vm_unmapped_area(struct mm_struct *mm,
			       struct vm_unmapped_area_info *info);

/* src/mm/vma.c: allocation, merge, split, link. */
struct vm_area_struct *vm_area_alloc(struct mm_struct *mm);
struct vm_area_struct *vm_area_dup(struct vm_area_struct *orig);
void vm_area_free(struct vm_area_struct *vma);
void remove_vma(struct vm_area_struct *vma);
int vma_link(struct mm_struct *mm, struct vm_area_struct *vma);
void vma_link_file_after(struct vm_area_struct *vma,
			 struct vm_area_struct *after);
void unlink_file_vma(struct vm_area_struct *vma);

/*
 * One modification of the tree: vma takes [start, end) at pgoff; adjust (a
 * neighbour) moves its vm_start by adj_start bytes; remove and remove2 are
 * swallowed by vma; insert (a piece split off vma) is linked.  Every change
 * to an existing VMA's range goes through here (the kernel's __vma_adjust /
 * commit_merge), so that later locking strategies have one place to hook.
 */
struct vma_adjust {
	struct vm_area_struct *vma;
	unsigned long start, end;
	pgoff_t pgoff;
	struct vm_area_struct *adjust;
	long adj_start;
	struct vm_area_struct *remove, *remove2;
	struct vm_area_struct *insert;
	bool stack_no_vma_write;	/* the mutant stack-no-vma-write */
};
void __vma_adjust(struct mm_struct *mm, struct vma_adjust *va);

/*
 * The description of a merge (the kernel's struct vma_merge_struct): the
 * range [start, end) at pgoff with flags, file and anon_vma, between prev
 * and next; middle is the VMA being modified (NULL for a new range).
 */
struct vma_merge_struct {
	struct mm_struct *mm;
	struct vm_area_struct *prev, *middle, *next;
	unsigned long start, end;
	pgoff_t pgoff;
	unsigned long flags;
	struct file *file;
	struct anon_vma *anon_vma;
	/* mremap: the VMA being copied, whose anon_vma the target inherits */
	struct vm_area_struct *copied_from;
	bool nomem;			/* the merge failed for lack of memory */
};
struct vm_area_struct *vma_merge_new_range(struct vma_merge_struct *vmg);
struct vm_area_struct *vma_merge_existing_range(struct vma_merge_struct *vmg);
int vma_expand(struct vma_merge_struct *vmg);
int vma_shrink(struct vm_area_struct *vma, unsigned long start,
	       unsigned long end, pgoff_t pgoff);
struct vm_area_struct *vma_modify_flags(struct vm_area_struct *prev,
					struct vm_area_struct *vma,
					unsigned long start, unsigned long end,
					unsigned long new_flags);
int split_vma(struct vm_area_struct *vma, unsigned long addr, int new_below);
int __split_vma(struct vm_area_struct *vma, unsigned long addr, int new_below);
bool vma_is_mergeable_anon(struct vm_area_struct *vma);
struct vm_area_struct *copy_vma(struct vm_area_struct **vmap,
				unsigned long addr, unsigned long len,
				pgoff_t pgoff, bool *need_rmap_locks);

/* src/mm/mmap.c */
int do_vmi_munmap(struct mm_struct *mm, unsigned long start, size_t len,
		  bool unlock);
int do_munmap(struct mm_struct *mm, unsigned long start, size_t len);
unsigned long do_mmap(struct mm_struct *mm, struct file *file,
		      unsigned long addr, unsigned long len,
		      unsigned long prot, unsigned long flags,
		      unsigned long pgoff, unsigned long *populate);
unsigned long get_unmapped_area(struct mm_struct *mm, struct file *file,
				unsigned long addr, unsigned long len,
				unsigned long pgoff, unsigned long flags);
bool may_expand_vm(struct mm_struct *mm, unsigned long flags,
		   unsigned long npages);
void vm_stat_account(struct mm_struct *mm, unsigned long flags, long npages);
void exit_mmap(struct mm_struct *mm);
int mm_populate_range(struct mm_struct *mm, unsigned long start,
		      unsigned long len);

/* PROT_* to VM_* (calc_vm_prot_bits); other prot bits are dropped. */
static inline unsigned long calc_vm_prot_bits(unsigned long prot)
{
	return (prot & PROT_READ ? VM_READ : 0) |
	       (prot & PROT_WRITE ? VM_WRITE : 0) |
	       (prot & PROT_EXEC ? VM_EXEC : 0);
}

static inline bool is_exec_mapping(unsigned long flags)
{
	return (flags & (VM_EXEC | VM_WRITE | VM_STACK)) == VM_EXEC;
}

static inline bool is_stack_mapping(unsigned long flags)
{
	return (flags & VM_STACK) == VM_STACK;
}

static inline bool is_data_mapping(unsigned long flags)
{
	return (flags & (VM_WRITE | VM_SHARED | VM_STACK)) == VM_WRITE;
}

/* Overcommit accounting of VM_ACCOUNT pages (mm/util.c). */
int security_vm_enough_memory_mm(struct mm_struct *mm, long pages);
void vm_unacct_memory(long pages);
long vm_committed_pages(void);

/*
 * The file mapping lock (<linux/fs.h>): its VMAs (i_mmap) and the ranges
 * of those VMAs; see struct address_space.
 */
static inline void i_mmap_lock_write(struct address_space *mapping)
{
	down_write(&mapping->i_mmap_rwsem);
}

static inline void i_mmap_unlock_write(struct address_space *mapping)
{
	up_write(&mapping->i_mmap_rwsem);
}

static inline void i_mmap_lock_read(struct address_space *mapping)
{
	down_read(&mapping->i_mmap_rwsem);
}

static inline void i_mmap_unlock_read(struct address_space *mapping)
{
	up_read(&mapping->i_mmap_rwsem);
}

/*
 * Does the calling CPU hold the i_mmap_rwsem of vma's file?  Then vma
 * stays on i_mmap with its range and tables, mmap lock or not: what
 * unmap_mapping_range() relies on.
 */
static inline bool vma_i_mmap_held_by_me(struct vm_area_struct *vma)
{
	return vma->vm_file &&
	       mmsim_lock_held_by_me(&vma->vm_file->f_mapping.i_mmap_rwsem);
}

/* src/mm/rmap.c */
int __anon_vma_prepare(struct vm_area_struct *vma);
static inline int anon_vma_prepare(struct vm_area_struct *vma)
{
	/* Another CPU's fault may be setting it (under page_table_lock). */
	if (likely(__atomic_load_n(&vma->anon_vma, __ATOMIC_ACQUIRE)))
		return 0;
	return __anon_vma_prepare(vma);
}
int anon_vma_clone(struct vm_area_struct *dst, struct vm_area_struct *src);
void unlink_anon_vmas(struct vm_area_struct *vma);
struct anon_vma *find_mergeable_anon_vma(struct vm_area_struct *vma);
void anon_vma_merge(struct vm_area_struct *vma, struct vm_area_struct *next);
long anon_vma_live_count(void);

/* src/mm/shmem.c */
int shmem_zero_setup(struct vm_area_struct *vma);
extern const struct vm_operations_struct shmem_anon_vm_ops;
long shmem_live_files(void);

/* src/mm/mlock.c */
int mlock_fixup(struct vm_area_struct *vma, struct vm_area_struct **prev,
		unsigned long start, unsigned long end, unsigned long newflags);
bool can_do_mlock(struct mm_struct *mm);
bool mlock_future_ok(struct mm_struct *mm, unsigned long flags,
		     unsigned long bytes);

/* Fault-in of a range after mlock or mremap of a locked VMA (mm/gup.c). */
long populate_vma_page_range(struct vm_area_struct *vma, unsigned long start,
			     unsigned long end);

/* --- Page tables and faults (issue 3) ------------------------------------ */

/*
 * Empty PTE-table reclaim (mm/pt_reclaim.c).  pmd maps a range that a
 * zap with reclaim_pt has just emptied, all of it inside one VMA, under
 * the mmap read lock.
 *
 * pt_reclaim_clear_pmd: the caller holds the PTE lock of the table *pmd
 * points to, and has cleared every one of its PTEs without dropping that
 * lock: try the PMD lock and clear the PMD.  True, with the old value in
 * *pmdval, if done; false if the PMD lock was busy (never waited for:
 * the order is PMD lock, then PTE lock).
 *
 * pt_reclaim_try_clear: with no lock held, take the PMD lock, then the
 * PTE lock, and clear the PMD only if all PTRS_PER_PTE entries are still
 * none (someone may have faulted one in since the zap).  True, with the
 * old value in *pmdval, if done.
 *
 * Either way the caller then hands pmd_page(*pmdval) to the gather with
 * pt_reclaim_free(), to be freed after the TLB flush and a grace period.
 */
struct mmu_gather;
bool pt_reclaim_clear_pmd(struct mm_struct *mm, pmd_t *pmd, pmd_t *pmdval);
bool pt_reclaim_try_clear(struct mm_struct *mm, pmd_t *pmd, pmd_t *pmdval);
void pt_reclaim_free(struct mmu_gather *tlb, pmd_t pmdval,
		     unsigned long addr);
#include <mmsim/page.h>
#include <mmsim/pgtable.h>
#include <mmsim/tlb.h>

/* src/mm/memory.c: the fault handlers, zapping, fork's copy. */
vm_fault_t handle_pte_fault(struct vm_fault *vmf);
vm_fault_t do_anonymous_page(struct vm_fault *vmf);
vm_fault_t do_wp_page(struct vm_fault *vmf);
/*
 * Zap [addr, end) of vma: clear the PTEs under each table's lock, queue the
 * pages in tlb (flushing under the PTE lock when the batch fills, as
 * zap_pte_range does), uncount RSS.  The caller holds the mmap lock.
 */
void unmap_page_range(struct mmu_gather *tlb, struct vm_area_struct *vma,
		      unsigned long addr, unsigned long end);
/* unmap_page_range over every VMA from vma on that meets [start, end). */
void unmap_vmas(struct mmu_gather *tlb, struct vm_area_struct *vma,
		unsigned long start, unsigned long end);
/*
 * fork: copy src_vma's PTEs into dst_vma's mm (same addresses); private
 * anonymous pages become COW in both (write-protected, shared).  0 or
 * -ENOMEM.  Both mms are write-locked.
 */
int copy_page_range(struct vm_area_struct *dst_vma,
		    struct vm_area_struct *src_vma);

/* src/mm/rmap.c: page map counts. */
void page_add_new_anon_rmap(struct page *page, struct vm_area_struct *vma,
			    unsigned long address);
void page_dup_rmap(struct page *page);
void page_add_file_rmap(struct page *page, struct vm_area_struct *vma);
void page_remove_rmap(struct page *page, struct vm_area_struct *vma);
/* A reused anonymous page now belongs to vma's own anon_vma, exclusively. */
void page_move_anon_rmap(struct page *page, struct vm_area_struct *vma);
/* fork: give dst (a copy of src in the child) its anon_vma.  0 or -ENOMEM. */
int anon_vma_fork(struct vm_area_struct *dst, struct vm_area_struct *src);

/* src/mm/shmem.c: the page cache of a shmem file. */
vm_fault_t shmem_fault(struct vm_fault *vmf);
void shmem_truncate_pages(struct file *file);
void shmem_punch_hole(struct file *file, unsigned long start,
		      unsigned long nr);

/* --- Speculative page faults (spf-srcu, SPF RFC v5) ---------------------- */

/*
 * The SRCU domain of VMAs (src/strategy/spf_srcu.c): a VMA taken out of the
 * tree is freed only after every reader inside srcu_read_lock(&vma_srcu)
 * when it was taken out has left, so a speculative fault can look at a VMA
 * it found without the mmap lock.
 */
extern struct srcu_struct vma_srcu;

/*
 * find_vma() without the mmap lock: the first VMA with addr < vm_end, or
 * NULL, read under mm->mm_seq and retried until no tree writer ran during
 * the walk.  The VMA may be taken out of the tree (and changed) as soon as
 * we return: the caller validates it with vm_sequence and RB_EMPTY_NODE.
 * The caller is inside srcu_read_lock(&vma_srcu).
 */
struct vm_area_struct *find_vma_srcu(struct mm_struct *mm, unsigned long addr);

/*
 * The events of spf-srcu (the SPF series' vmstat and trace events),
 * counted by its fault and by the speculative paths of memory.c: slots of
 * count_fault_event() (<mmsim/strategy.h>).
 */
enum spf_event {
	SPF_ATTEMPT = FAULT_STRATEGY_EVENTS,	/* speculative tries */
	SPF_COMPLETED,		/* ... handled without the mmap lock */
	SPF_VMA_CHANGED,	/* the VMA changed (vm_sequence, dead node) */
	SPF_VMA_NOANON,		/* anonymous VMA without anon_vma yet */
	SPF_VMA_NOTSUP,		/* VMA kind not supported speculatively */
	SPF_VMA_ACCESS,		/* access not allowed by the VMA */
	SPF_PMD_CHANGED,	/* PMD none, or changed under us */
	SPF_PTE_LOCK,		/* PTE lock busy (spin_trylock failed) */
	SPF_SINGLE_THREAD,	/* mm has one user: not tried */
	NR_SPF_EVENTS
};

extern const struct fault_strategy spf_srcu_strategy;

/*
 * Has the VMA of a speculative fault changed since the fault validated it
 * (vmf->sequence)?  It has if a writer bracketed a change of it with
 * vm_write_begin/end since (or is inside one), or if it was taken out of
 * the tree (its node cleared once the erase was over).  The acquire load
 * of the count pairs with the release of vm_write_end().
 */
static inline bool vma_has_changed(struct vm_fault *vmf)
{
	struct vm_area_struct *vma = vmf->vma;
	bool dead = RB_EMPTY_NODE(&vma->vm_rb);
	unsigned int seq = atomic_load_explicit(&vma->vm_sequence.sequence,
						memory_order_acquire);

	return dead || seq != vmf->sequence;
}

/* src/mm/mprotect.c: rewrite the rights of present PTEs; pages changed. */
long change_protection(struct mmu_gather *tlb, struct vm_area_struct *vma,
		       unsigned long start, unsigned long end,
		       unsigned long newflags);
/* src/mm/mremap.c: move the PTEs of len bytes; returns bytes moved. */
unsigned long move_page_tables(struct vm_area_struct *vma,
			       unsigned long old_addr,
			       struct vm_area_struct *new_vma,
			       unsigned long new_addr, unsigned long len);

#endif /* MMSIM_MM_INTERNAL_H */

/* SPDX-License-Identifier: MIT */
/*
 * mmsim's public memory-management API: VMA flags with the kernel's values,
 * the address-space system calls (prefixed sys_ so they do not collide with
 * libc), lookups and the debugging checks.
 *
 * Return conventions follow the kernel: a function returning an address
 * returns either the address or a negative errno cast to unsigned long
 * (test with IS_ERR_VALUE); the others return 0 or a negative errno.
 */
#ifndef MMSIM_MM_H
#define MMSIM_MM_H

#include <stdio.h>
#include <mmsim/mm_types.h>

/* vm_flags, with the kernel's bit values (include/linux/mm.h). */
#define VM_NONE		0x00000000UL
#define VM_READ		0x00000001UL
#define VM_WRITE	0x00000002UL
#define VM_EXEC		0x00000004UL
#define VM_SHARED	0x00000008UL
#define VM_MAYREAD	0x00000010UL
#define VM_MAYWRITE	0x00000020UL
#define VM_MAYEXEC	0x00000040UL
#define VM_MAYSHARE	0x00000080UL
#define VM_GROWSDOWN	0x00000100UL
#define VM_UFFD_MISSING	0x00000200UL
#define VM_PFNMAP	0x00000400UL
#define VM_UFFD_WP	0x00001000UL
#define VM_LOCKED	0x00002000UL
#define VM_IO		0x00004000UL
#define VM_SEQ_READ	0x00008000UL
#define VM_RAND_READ	0x00010000UL
#define VM_DONTCOPY	0x00020000UL
#define VM_DONTEXPAND	0x00040000UL
#define VM_LOCKONFAULT	0x00080000UL
#define VM_ACCOUNT	0x00100000UL
#define VM_NORESERVE	0x00200000UL
#define VM_HUGETLB	0x00400000UL
#define VM_SYNC		0x00800000UL
#define VM_ARCH_1	0x01000000UL
#define VM_WIPEONFORK	0x02000000UL
#define VM_DONTDUMP	0x04000000UL
#define VM_SOFTDIRTY	0x08000000UL
#define VM_MIXEDMAP	0x10000000UL
#define VM_HUGEPAGE	0x20000000UL
#define VM_NOHUGEPAGE	0x40000000UL
#define VM_MERGEABLE	0x80000000UL

#define VM_ACCESS_FLAGS	(VM_READ | VM_WRITE | VM_EXEC)
#define VM_LOCKED_MASK	(VM_LOCKED | VM_LOCKONFAULT)
#define VM_STACK	VM_GROWSDOWN
#define VM_STACK_FLAGS	(VM_STACK | VM_READ | VM_WRITE | VM_MAYREAD | \
			 VM_MAYWRITE | VM_MAYEXEC | VM_ACCOUNT)
/* Flags that keep two VMAs apart even when everything else matches. */
#define VM_SPECIAL	(VM_IO | VM_DONTEXPAND | VM_PFNMAP | VM_MIXEDMAP)

/* mmap(2), mprotect(2), mremap(2), madvise(2), mlock(2) arguments. */
#define PROT_NONE	0x0
#define PROT_READ	0x1
#define PROT_WRITE	0x2
#define PROT_EXEC	0x4
#define PROT_GROWSDOWN	0x01000000
#define PROT_GROWSUP	0x02000000

#define MAP_SHARED	0x01
#define MAP_PRIVATE	0x02
#define MAP_SHARED_VALIDATE 0x03
#define MAP_TYPE	0x0f
#define MAP_FIXED	0x10
#define MAP_ANONYMOUS	0x20
#define MAP_GROWSDOWN	0x0100
#define MAP_DENYWRITE	0x0800
#define MAP_EXECUTABLE	0x1000
#define MAP_LOCKED	0x2000
#define MAP_NORESERVE	0x4000
#define MAP_POPULATE	0x8000
#define MAP_NONBLOCK	0x10000
#define MAP_STACK	0x20000
#define MAP_HUGETLB	0x40000
#define MAP_SYNC	0x80000
#define MAP_FIXED_NOREPLACE 0x100000

#define MREMAP_MAYMOVE		1
#define MREMAP_FIXED		2
#define MREMAP_DONTUNMAP	4

#define MADV_NORMAL	0
#define MADV_RANDOM	1
#define MADV_SEQUENTIAL	2
#define MADV_WILLNEED	3
#define MADV_DONTNEED	4
#define MADV_REMOVE	9
#define MADV_DONTFORK	10
#define MADV_DOFORK	11

#define MLOCK_ONFAULT	0x01

#define DEFAULT_MAX_MAP_COUNT	65530
#define RLIM_INFINITY		(~0UL)

/* Address-space sizes: 47 bits of user space with 4 levels, 56 with 5. */
#define TASK_SIZE_4LEVEL	((1UL << 47) - PAGE_SIZE)
#define TASK_SIZE_5LEVEL	((1UL << 56) - PAGE_SIZE)

#define MAX_ERRNO	4095
#define IS_ERR_VALUE(x)	((unsigned long)(x) >= (unsigned long)-MAX_ERRNO)

extern int sysctl_max_map_count;

/* Creation and teardown (kernel/fork.c: mm_alloc, mmput). */
struct mm_struct *mm_alloc(unsigned int pgtable_levels);
void mmput(struct mm_struct *mm);

/*
 * One more user of mm (mmget): a thread that shares the address space.
 * mmput() drops it; the last one tears the mm down.  A speculative fault
 * is tried only while an mm has more than one user.
 */
static inline void mmget(struct mm_struct *mm)
{
	atomic_fetch_add_explicit(&mm->mm_users, 1, memory_order_relaxed);
}

/* The mmap lock (include/linux/mmap_lock.h). */
void mmap_read_lock(struct mm_struct *mm);
int mmap_read_trylock(struct mm_struct *mm);
void mmap_read_unlock(struct mm_struct *mm);
void mmap_write_lock(struct mm_struct *mm);
int mmap_write_lock_killable(struct mm_struct *mm);
void mmap_write_unlock(struct mm_struct *mm);
void mmap_write_downgrade(struct mm_struct *mm);
void mmap_assert_locked(struct mm_struct *mm);
void mmap_assert_write_locked(struct mm_struct *mm);

/* System calls: they take the mmap lock themselves. */
unsigned long sys_mmap(struct mm_struct *mm, unsigned long addr,
		       unsigned long len, unsigned long prot,
		       unsigned long flags, struct file *file,
		       unsigned long pgoff);
int sys_munmap(struct mm_struct *mm, unsigned long start, unsigned long len);
int sys_mprotect(struct mm_struct *mm, unsigned long start, unsigned long len,
		 unsigned long prot);
unsigned long sys_mremap(struct mm_struct *mm, unsigned long addr,
			 unsigned long old_len, unsigned long new_len,
			 unsigned long flags, unsigned long new_addr);
int sys_madvise(struct mm_struct *mm, unsigned long start, unsigned long len,
		int behavior);
int sys_mlock(struct mm_struct *mm, unsigned long start, unsigned long len);
int sys_mlock2(struct mm_struct *mm, unsigned long start, unsigned long len,
	       int flags);
int sys_munlock(struct mm_struct *mm, unsigned long start, unsigned long len);

/* Lookups: the caller holds the mmap lock. */
struct vm_area_struct *find_vma(struct mm_struct *mm, unsigned long addr);
struct vm_area_struct *find_vma_prev(struct mm_struct *mm, unsigned long addr,
				     struct vm_area_struct **pprev);
struct vm_area_struct *find_vma_intersection(struct mm_struct *mm,
					     unsigned long start,
					     unsigned long end);
struct vm_area_struct *vma_lookup(struct mm_struct *mm, unsigned long addr);

/*
 * The stack: setup_stack() maps a VM_GROWSDOWN VMA ending at stack_top;
 * expand_stack() grows it down to cover addr, keeping stack_guard_gap free
 * below it.  The caller holds the mmap lock for writing.
 */
int setup_stack(struct mm_struct *mm, unsigned long stack_top,
		unsigned long size);
int expand_stack_locked(struct vm_area_struct *vma, unsigned long addr);
struct vm_area_struct *expand_stack(struct mm_struct *mm, unsigned long addr);

/*
 * The task of mm reads (or writes) one byte at addr: the calling CPU
 * switches to mm and accesses through its MMU (TLB, page walk, page fault).
 * Returns 0, or the signal the task gets (SIGSEGV, SIGBUS; SIGKILL when
 * memory ran out).
 */
int mmsim_access(struct mm_struct *mm, unsigned long addr, bool write);

/* Shared anonymous memory (mm/shmem.c). */
struct file *shmem_file_setup(const char *name, unsigned long size);
void fput(struct file *file);
struct file *get_file(struct file *file);

/* Consistency of the whole mm; returns the number of problems (0 = good). */
int validate_mm(struct mm_struct *mm);
/* Like validate_mm(), describing each problem on out (may be NULL). */
int validate_mm_verbose(struct mm_struct *mm, FILE *out);

/* /proc/PID/smaps "VmFlags" mnemonics of flags, in the kernel's order. */
char *show_smap_vma_flags(unsigned long flags, char *buf, size_t size);
void dump_vma(FILE *out, const struct vm_area_struct *vma);
void dump_mm(FILE *out, struct mm_struct *mm);

static inline unsigned long vma_pages(const struct vm_area_struct *vma)
{
	return (vma->vm_end - vma->vm_start) >> PAGE_SHIFT;
}

static inline bool vma_is_anonymous(const struct vm_area_struct *vma)
{
	return !vma->vm_ops;
}

/* --- Faults (include/linux/mm.h, mm/memory.c, arch/x86/mm/fault.c) ------- */

/* What a fault handler knows about the fault it handles. */
struct vm_fault {
	struct vm_area_struct *vma;
	unsigned int flags;		/* FAULT_FLAG_* */
	unsigned long address;		/* page-aligned */
	unsigned long real_address;	/* as faulted */
	unsigned long pgoff;		/* in the VMA's file */
	pmd_t *pmd;
	pmd_t orig_pmd;
	pte_t *pte;			/* mapped PTE, NULL when none */
	pte_t orig_pte;
	spinlock_t *ptl;
	struct page *page;		/* the file page, from ->fault */
	struct page *cow_page;
	/* Snapshot of the VMA for the speculative path. */
	unsigned long vma_flags;
	pgprot_t vma_page_prot;
	/*
	 * Speculative fault (FAULT_FLAG_SPECULATIVE): the VMA's vm_sequence
	 * when the fault validated it; vma_has_changed() compares with it.
	 */
	unsigned int sequence;
};

/*
 * Handle a fault at address of vma (the caller holds the mmap lock for
 * reading).  Returns VM_FAULT_* bits; with VM_FAULT_RETRY or
 * VM_FAULT_COMPLETED the mmap lock has been released.
 */
vm_fault_t handle_mm_fault(struct vm_area_struct *vma, unsigned long address,
			   unsigned int flags, void *regs);

/*
 * Try to handle a user fault at address of mm without the mmap lock (the
 * spf-srcu strategy's fault side, SPF RFC v5 patch 08).  The caller holds
 * no lock.  Returns VM_FAULT_* bits; VM_FAULT_RETRY (or an error) means
 * not handled: take the classic path.
 */
vm_fault_t handle_speculative_fault(struct mm_struct *mm,
				    unsigned long address, unsigned int flags);

/* x86 page-fault error code bits (enum x86_pf_error_code). */
#define X86_PF_PROT	(1UL << 0)	/* 0: not present, 1: protection */
#define X86_PF_WRITE	(1UL << 1)
#define X86_PF_USER	(1UL << 2)
#define X86_PF_RSVD	(1UL << 3)
#define X86_PF_INSTR	(1UL << 4)

struct pt_regs {
	unsigned long ip;
	unsigned long flags;
};

/*
 * The arch page-fault handler for a user access of this CPU's active_mm.
 * Returns 0 (the access may be retried), SIGSEGV or SIGBUS: the signal the
 * simulated task gets.
 */
int do_user_addr_fault(struct pt_regs *regs, unsigned long error_code,
		       unsigned long address);

/*
 * The simulated task's memory accesses, through this CPU's MMU: TLB, page
 * walk, page fault.  Each returns 0, SIGSEGV or SIGBUS.  An access may span
 * pages.  In metadata-only mode loads read zeros and stores are dropped.
 */
int mmsim_load(unsigned long addr, void *buf, unsigned long len);
int mmsim_store(unsigned long addr, const void *buf, unsigned long len);
int mmsim_fetch(unsigned long addr);	/* instruction fetch of one byte */

/* RSS counters (<linux/mm.h>). */
static inline long get_mm_counter(struct mm_struct *mm, int member)
{
	return atomic_load_explicit(&mm->rss_stat[member], memory_order_relaxed);
}
static inline void add_mm_counter(struct mm_struct *mm, int member, long v)
{
	atomic_fetch_add_explicit(&mm->rss_stat[member], v, memory_order_relaxed);
}
#define inc_mm_counter(mm, m) add_mm_counter((mm), (m), 1)
#define dec_mm_counter(mm, m) add_mm_counter((mm), (m), -1)
static inline unsigned long get_mm_rss(struct mm_struct *mm)
{
	return get_mm_counter(mm, MM_FILEPAGES) +
	       get_mm_counter(mm, MM_ANONPAGES) +
	       get_mm_counter(mm, MM_SHMEMPAGES);
}

/*
 * fork(): a new mm with a copy of every VMA but VM_DONTCOPY ones; private
 * anonymous pages are shared copy-on-write.  NULL on -ENOMEM.
 */
struct mm_struct *dup_mm(struct mm_struct *oldmm);

/* Zap the pages of [address, address + size) of vma (MADV_DONTNEED). */
void zap_page_range_single(struct vm_area_struct *vma, unsigned long address,
			   unsigned long size);

/*
 * What a zap may do besides clearing PTEs (the kernel's struct
 * zap_details, the part mmsim needs).  reclaim_pt: a PTE table that the
 * zap leaves empty, and that maps only the zapped range, is unlinked and
 * freed (CONFIG_PT_RECLAIM, Linux 6.14; MADV_DONTNEED asks for it).
 * zap_mapping: a zap of a file's pages (unmap_mapping_range); then only
 * with even_cows do the private COW copies in the range go too.
 */
struct zap_details {
	bool reclaim_pt;
	bool even_cows;
	struct address_space *zap_mapping;
};

/*
 * Zap [address, address + size) of vma as zap_page_range_single() does,
 * with details (NULL: only clear PTEs).  The caller holds the mmap lock,
 * for reading at least, or (unmap_mapping_range) the file's i_mmap_rwsem;
 * vma stays in the tree.
 */
void zap_page_range_single_details(struct vm_area_struct *vma,
				   unsigned long address, unsigned long size,
				   const struct zap_details *details);

/*
 * Zap every PTE, in every mm, that maps a page of mapping from index
 * start on, nr pages (0: to the end), in the VMAs on its i_mmap
 * (unmap_mapping_pages); private COW copies only with even_cows.  Takes
 * i_mmap_rwsem for reading, and no mmap lock.
 */
void unmap_mapping_pages(struct address_space *mapping, unsigned long start,
			 unsigned long nr, bool even_cows);
/* The same over bytes [holebegin, holebegin + holelen) (0: to the end). */
void unmap_mapping_range(struct address_space *mapping,
			 unsigned long holebegin, unsigned long holelen,
			 int even_cows);

/*
 * Check page tables against VMAs and struct pages: every present PTE lies
 * in a VMA that allows it, and each page's map count equals the number of
 * PTEs mapping it in mms[0..n).  Returns 0 or the number of problems found
 * (printed to stderr).
 */
int validate_mm_pages(struct mm_struct **mms, int n);

#endif /* MMSIM_MM_H */

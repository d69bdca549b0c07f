/* SPDX-License-Identifier: MIT */
/*
 * The address space: struct mm_struct, struct vm_area_struct, struct anon_vma
 * and the file that backs shared mappings, as in <linux/mm_types.h> before
 * the maple tree (an augmented rbtree plus a sorted list of VMAs).
 */
#ifndef MMSIM_MM_TYPES_H
#define MMSIM_MM_TYPES_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <mmsim/list.h>
#include <mmsim/rbtree.h>
#include <mmsim/rwsem.h>
#include <mmsim/spinlock.h>
#include <mmsim/cpu.h>
#include <mmsim/rcupdate.h>
#include <mmsim/seqlock.h>
#include <mmsim/xarray.h>

#define PAGE_SHIFT	12
#define PAGE_SIZE	(1UL << PAGE_SHIFT)
#define PAGE_MASK	(~(PAGE_SIZE - 1))
#define PAGE_ALIGN(x)	(((x) + PAGE_SIZE - 1) & PAGE_MASK)
#define PAGE_ALIGNED(x)	(((x) & (PAGE_SIZE - 1)) == 0)
#define offset_in_page(p) ((unsigned long)(p) & ~PAGE_MASK)

typedef struct { unsigned long pgprot; } pgprot_t;
/* Page-table entries (see <mmsim/pgtable.h> for their accessors). */
typedef struct { unsigned long pte; } pte_t;
typedef struct { unsigned long pmd; } pmd_t;
typedef struct { unsigned long pud; } pud_t;
typedef struct { unsigned long p4d; } p4d_t;
typedef struct { unsigned long pgd; } pgd_t;

struct mm_struct;
struct vm_area_struct;
struct vm_fault;
struct page;

/* Anonymous pages of a shared mapping live in the file's page cache. */
struct address_space {
	/*
	 * Taken for writing to link or unlink a VMA of the file (i_mmap)
	 * and by __vma_adjust() while it changes the range of one; for
	 * reading by unmap_mapping_range() while it zaps them.  A VMA's
	 * vm_sequence write section is entered inside it, never around it
	 * (docs/races.md race 2).
	 */
	struct rw_semaphore i_mmap_rwsem;
	/*
	 * Every VMA that maps the file, of any mm (vma->shared), in the
	 * order they were linked; a VMA made from another (split, fork,
	 * mremap's copy) comes right after it.  The kernel keeps an
	 * interval tree keyed by pgoff; a list is enough for mmsim's sizes.
	 */
	struct list_head i_mmap;
	/*
	 * Protects i_pages: every lookup, insertion and removal of a page
	 * holds it (the kernel's xa_lock of i_pages; lookups there are
	 * RCU-safe, here they take the lock too).
	 */
	spinlock_t i_pages_lock;
	/*
	 * The page cache: page index in the file -> struct page, absent
	 * entries cost nothing, so a file of 2^34 pages with three of them
	 * present holds a few tree nodes (xarray.h).
	 */
	struct xarray i_pages;
};

/*
 * A file, as far as mappings care: shared anonymous memory is a shmem file
 * (shmem_zero_setup), refcounted by every VMA that maps it.
 */
struct file {
	atomic_long f_count;
	unsigned long i_size;		/* bytes; an access past it is SIGBUS */
	unsigned int f_mode;		/* FMODE_READ | FMODE_WRITE */
	const char *name;
	unsigned long ino;
	struct address_space f_mapping;
};

typedef unsigned int vm_fault_t;

struct vm_operations_struct {
	const char *name;
	void (*open)(struct vm_area_struct *vma);
	void (*close)(struct vm_area_struct *vma);
	/* Find (or create) the page of a file-backed fault: vmf->page. */
	vm_fault_t (*fault)(struct vm_fault *vmf);
};

/* enum vm_fault_reason, with the kernel's values */
#define VM_FAULT_OOM		0x000001
#define VM_FAULT_SIGBUS		0x000002
#define VM_FAULT_MAJOR		0x000004
#define VM_FAULT_HWPOISON	0x000010
#define VM_FAULT_SIGSEGV	0x000040
#define VM_FAULT_NOPAGE		0x000100
#define VM_FAULT_LOCKED		0x000200
#define VM_FAULT_RETRY		0x000400
#define VM_FAULT_FALLBACK	0x000800
#define VM_FAULT_DONE_COW	0x001000
#define VM_FAULT_COMPLETED	0x004000
#define VM_FAULT_ERROR	(VM_FAULT_OOM | VM_FAULT_SIGBUS | VM_FAULT_SIGSEGV | \
			 VM_FAULT_HWPOISON)

/* enum fault_flag */
#define FAULT_FLAG_WRITE		(1u << 0)
#define FAULT_FLAG_MKWRITE		(1u << 1)
#define FAULT_FLAG_ALLOW_RETRY		(1u << 2)
#define FAULT_FLAG_RETRY_NOWAIT		(1u << 3)
#define FAULT_FLAG_KILLABLE		(1u << 4)
#define FAULT_FLAG_TRIED		(1u << 5)
#define FAULT_FLAG_USER			(1u << 6)
#define FAULT_FLAG_REMOTE		(1u << 7)
#define FAULT_FLAG_INSTRUCTION		(1u << 8)
#define FAULT_FLAG_INTERRUPTIBLE	(1u << 9)
/* Handled under the VMA's lock, not the mmap lock (per-VMA locks). */
#define FAULT_FLAG_VMA_LOCK		(1u << 12)
/* Handled without any lock, validated by sequence counts (SPF). */
#define FAULT_FLAG_SPECULATIVE		(1u << 13)

/* RSS counters (enum of <linux/mm_types_task.h>) */
enum {
	MM_FILEPAGES,
	MM_ANONPAGES,
	MM_SWAPENTS,
	MM_SHMEMPAGES,
	NR_MM_COUNTERS
};

/*
 * An anon_vma gathers the anonymous pages of a VMA and of the VMAs split,
 * merged or forked from it.  VMAs reach it through anon_vma_chain entries
 * (one per anon_vma the VMA's pages may belong to).
 */
struct anon_vma {
	struct anon_vma *root;
	struct rw_semaphore rwsem;	/* the root's: anon_vma_lock_write() */
	atomic_int refcount;
	unsigned long num_children;	/* anon_vmas forked from this one */
	unsigned long num_active_vmas;	/* VMAs whose ->anon_vma is this */
	struct anon_vma *parent;
	struct list_head avc_list;	/* anon_vma_chain.same_anon_vma */
};

struct anon_vma_chain {
	struct vm_area_struct *vma;
	struct anon_vma *anon_vma;
	struct list_head same_vma;	/* in vma->anon_vma_chain */
	struct list_head same_anon_vma;	/* in anon_vma->avc_list */
};

struct vm_area_struct {
	unsigned long vm_start;		/* first byte */
	unsigned long vm_end;		/* first byte after */

	/* Sorted list of VMAs, protected by the mmap lock. */
	struct vm_area_struct *vm_next, *vm_prev;
	struct rb_node vm_rb;
	/*
	 * Largest free gap below this VMA in its rb subtree: the free space
	 * before each VMA's vm_start, maximised over the subtree.  Lets
	 * get_unmapped_area() find a gap in O(log n).
	 */
	unsigned long rb_subtree_gap;

	struct mm_struct *vm_mm;
	pgprot_t vm_page_prot;
	unsigned long vm_flags;

	struct list_head anon_vma_chain; /* protected by the mmap lock */
	struct anon_vma *anon_vma;
	const struct vm_operations_struct *vm_ops;
	unsigned long vm_pgoff;		/* offset in vm_file, in pages */
	struct file *vm_file;
	void *vm_private_data;

	/*
	 * Speculative faults (spf-srcu): odd while a writer changes what a
	 * fault reads of this VMA (vm_write_begin/end); the fault samples
	 * it and checks it again (vma_has_changed).  The VMA is freed after
	 * an SRCU grace period (vm_rcu), so a lockless reader can look.
	 */
	seqcount_t vm_sequence;
	/*
	 * Write sections open on this VMA: only the first begin and the
	 * last end move vm_sequence, so that a section may hold others
	 * (mremap keeps the source's open across the munmap that splits and
	 * zaps it), and so that two writers may be inside at once: the
	 * mmap-lock holder, and unmap_mapping_range() zapping a VMA of a
	 * file under i_mmap_rwsem alone, as the series did.  The count
	 * stays odd while any is.  Both change under vm_sequence_lock.
	 */
	unsigned int vm_write_nest;
	spinlock_t vm_sequence_lock;
	/*
	 * In vm_file's i_mmap, under its i_mmap_rwsem (not the mmap lock:
	 * a neighbour of another mm may be unlinked beside us); empty
	 * otherwise.  Like the fields above, vm_area_dup() does not copy it.
	 */
	struct list_head shared;
	struct rcu_head vm_rcu;
	/*
	 * The fault-locking strategy's own state of this VMA
	 * (vma_strategy_private(), struct fault_strategy's
	 * vma_private_size): zeroed by vm_area_alloc() unless the strategy
	 * allocates VMAs itself, never copied by vm_area_dup().  Aligned as
	 * a long, no more: a larger alignment would make the VMA misaligned
	 * as list_for_each_entry() computes it from a list head (UBSan).
	 */
	unsigned long vm_strategy_data[];
};

struct mm_struct {
	struct vm_area_struct *mmap;	/* list of VMAs */
	struct rb_root mm_rb;
	unsigned long mmap_base;	/* top-down allocation starts here */
	unsigned long task_size;	/* size of user space */
	unsigned long highest_vm_end;	/* highest vm_end of any VMA */
	unsigned int pgtable_levels;	/* 4 or 5 */
	int map_count;

	struct rw_semaphore mmap_lock;
	atomic_int mm_users;

	/* Pages, protected by the mmap lock held for writing. */
	unsigned long total_vm;
	unsigned long locked_vm;
	unsigned long data_vm;
	unsigned long exec_vm;
	unsigned long stack_vm;
	unsigned long def_flags;	/* VM_LOCKED after mlockall(MCL_FUTURE) */
	unsigned long start_stack;

	/* Resource limits of the (single) owning process, in bytes. */
	unsigned long rlimit_as;
	unsigned long rlimit_data;
	unsigned long rlimit_memlock;
	unsigned long rlimit_stack;
	bool cap_ipc_lock;		/* CAP_IPC_LOCK: mlock ignores RLIMIT_MEMLOCK */
	bool cap_sys_rawio;		/* CAP_SYS_RAWIO: may map below mmap_min_addr */
	unsigned long stack_guard_gap;	/* bytes; 256 pages by default */
	/*
	 * security/min_addr.c's two values: dac_mmap_min_addr is the sysctl
	 * vm.mmap_min_addr, below which only CAP_SYS_RAWIO may map
	 * (cap_mmap_addr: -EPERM); mmap_min_addr is the larger of it and
	 * CONFIG_LSM_MMAP_MIN_ADDR, where hints are raised to.
	 */
	unsigned long mmap_min_addr;
	unsigned long dac_mmap_min_addr;

	/* Page tables: see <mmsim/pgtable.h>. */
	pgd_t *pgd;			/* the top table, 512 entries */
	struct page *pgd_page;
	spinlock_t page_table_lock;	/* populating P4D/PUD/PMD entries */
	atomic_long pgtables_bytes;	/* page-table pages, in bytes */
	atomic_long rss_stat[NR_MM_COUNTERS];
	cpumask_t cpu_bitmap;		/* mm_cpumask(): CPUs it ran on */
	/* Free page tables after an RCU grace period, not only after the flush. */
	bool pt_free_rcu;

	/* The fault-locking strategy (see <mmsim/strategy.h>). */
	const struct fault_strategy *strategy;
	/* spf-srcu: written around every change of the VMA tree. */
	seqlock_t mm_seq;
	/* The strategy's own state of this mm (mm_strategy_private()). */
	unsigned long mm_strategy_data[];
};

#define mm_cpumask(mm)	(&(mm)->cpu_bitmap)

#endif /* MMSIM_MM_TYPES_H */

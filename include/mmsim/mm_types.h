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

#define PAGE_SHIFT	12
#define PAGE_SIZE	(1UL << PAGE_SHIFT)
#define PAGE_MASK	(~(PAGE_SIZE - 1))
#define PAGE_ALIGN(x)	(((x) + PAGE_SIZE - 1) & PAGE_MASK)
#define PAGE_ALIGNED(x)	(((x) & (PAGE_SIZE - 1)) == 0)
#define offset_in_page(p) ((unsigned long)(p) & ~PAGE_MASK)

typedef struct { unsigned long pgprot; } pgprot_t;

struct mm_struct;
struct vm_area_struct;
struct vm_fault;

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
};

struct vm_operations_struct {
	const char *name;
	void (*open)(struct vm_area_struct *vma);
	void (*close)(struct vm_area_struct *vma);
};

/*
 * An anon_vma gathers the anonymous pages of a VMA and of the VMAs split,
 * merged or forked from it.  VMAs reach it through anon_vma_chain entries
 * (one per anon_vma the VMA's pages may belong to).
 */
struct anon_vma {
	struct anon_vma *root;
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
	unsigned long stack_guard_gap;	/* bytes; 256 pages by default */
	unsigned long mmap_min_addr;
};

#endif /* MMSIM_MM_TYPES_H */

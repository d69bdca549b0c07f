// SPDX-License-Identifier: MIT
/*
 * Shared anonymous memory (the kernel's mm/shmem.c, as far as mappings
 * care): MAP_SHARED|MAP_ANONYMOUS gets a fresh shmem file the size of the
 * mapping ("/dev/zero (deleted)" in /proc/PID/maps).  VMAs of the file hold
 * references to it; an access past its size is SIGBUS.
 *
 * The file's pages live in its page cache (f_mapping.i_pages, a sparse
 * array indexed by page offset, under i_pages_lock: lib/xarray.c), which
 * costs in proportion to the pages present, whatever i_size is: a 64-TiB
 * mapping with three pages touched holds at most six tree nodes per page,
 * and its teardown or a hole punch across all of it visits those pages
 * alone.  The cache holds one reference on each page it contains, every
 * PTE that maps the page holds another; the cache's references go when
 * the last reference to the file does.  A page
 * is created by the first fault on its index: inserted locked (PG_locked),
 * then zeroed, then unlocked, so that a concurrent fault on the same index
 * finds it and waits for it (or retries the fault without the mmap lock).
 */
#include <stdlib.h>

#include "mm/internal.h"

#define FMODE_READ	0x1
#define FMODE_WRITE	0x2

static atomic_long shmem_file_count;
static atomic_ulong shmem_next_ino = 1;

/* Number of shmem files alive, for leak checks in tests. */
long shmem_live_files(void)
{
	return atomic_load(&shmem_file_count);
}

/* Pages of the file: i_size rounded up to a page. */
static unsigned long shmem_size_pages(const struct file *file)
{
	return (file->i_size + PAGE_SIZE - 1) >> PAGE_SHIFT;
}

/*
 * An unlinked shmem file of size bytes, with one reference and an empty
 * page cache (which allocates nothing until a page is added).  NULL when
 * out of memory.
 */
struct file *shmem_file_setup(const char *name, unsigned long size)
{
	struct file *file = calloc(1, sizeof(*file));

	if (!file)
		return NULL;
	file->i_size = size;
	xa_init(&file->f_mapping.i_pages);
	__init_rwsem(&file->f_mapping.i_mmap_rwsem, "i_mmap_rwsem");
	INIT_LIST_HEAD(&file->f_mapping.i_mmap);
	__spin_lock_init(&file->f_mapping.i_pages_lock, "i_pages_lock");
	atomic_init(&file->f_count, 1);
	file->f_mode = FMODE_READ | FMODE_WRITE;
	file->name = name;
	file->ino = atomic_fetch_add(&shmem_next_ino, 1);
	atomic_fetch_add(&shmem_file_count, 1);
	return file;
}

struct file *get_file(struct file *file)
{
	atomic_fetch_add(&file->f_count, 1);
	return file;
}

/*
 * Empty the page cache of file (shmem_evict_inode -> shmem_truncate_range):
 * drop the cache's reference on every page, visiting only the pages
 * present.  Called for the last reference to the file, so no VMA maps it
 * any more and no fault can look a page up: i_pages_lock is not needed.
 * A page still mapped would be a missed zap, which is warned about (its
 * frame then lives on until its PTEs go).
 */
void shmem_truncate_pages(struct file *file)
{
	struct address_space *mapping = &file->f_mapping;
	unsigned long index;
	struct page *page;

	xa_for_each(&mapping->i_pages, index, page) {
		xa_erase(&mapping->i_pages, index);
		WARN_ON(page_mapcount(page) > 0);
		/* Out of the cache: the page no longer belongs to the file. */
		page->mapping = NULL;
		put_page(page);
	}
	/* Erasing the last entry freed the last node. */
	WARN_ON(!xa_empty(&mapping->i_pages));
	xa_destroy(&mapping->i_pages);
}

void fput(struct file *file)
{
	if (atomic_fetch_sub(&file->f_count, 1) == 1) {
		/* Every VMA holds a reference: none can be on i_mmap. */
		WARN_ON(!list_empty(&file->f_mapping.i_mmap));
		shmem_truncate_pages(file);
		atomic_fetch_sub(&shmem_file_count, 1);
		free(file);
	}
}

/*
 * Punch a hole of nr pages from index start in the file (shmem_fallocate
 * with FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, whole pages: what
 * MADV_REMOVE asks).  The size stays; the next access of the hole faults
 * in a new zero page.  As truncate_pagecache_range(): unmap the range from
 * every VMA of the file, take the pages out of the cache, and unmap again
 * for a fault that mapped one in between: such a fault had the page
 * before it left the cache; one that takes the PTE lock after our second
 * zap sees the page's mapping cleared and gives up (finish_fault).  A
 * private VMA's COW copies stay (even_cows off).
 */
void shmem_punch_hole(struct file *file, unsigned long start,
		      unsigned long nr)
{
	struct address_space *mapping = &file->f_mapping;
	unsigned long index, end, size = shmem_size_pages(file);

	if (start >= size || !nr)
		return;
	end = nr > size - start ? size : start + nr;
	unmap_mapping_pages(mapping, start, end - start, false);
	for (index = start; index < end; index++) {
		struct page *page;

		/*
		 * One page per i_pages_lock section, the next one looked up
		 * from index: the pages present in the hole, not its width,
		 * set the cost.
		 */
		spin_lock(&mapping->i_pages_lock);
		page = xa_find(&mapping->i_pages, &index, end - 1);
		if (page) {
			xa_erase(&mapping->i_pages, index);
			WRITE_ONCE(page->mapping, NULL);
		}
		spin_unlock(&mapping->i_pages_lock);
		if (!page)
			break;
		put_page(page);		/* the cache's reference */
	}
	unmap_mapping_pages(mapping, start, end - start, false);
}

/*
 * PG_locked of a page-cache page: set while the page is being filled.
 * Clearing it releases the page's contents to whoever waits for it.
 */
static void shmem_unlock_page(struct page *page)
{
	__atomic_fetch_and(&page->flags, ~(1UL << PG_locked), __ATOMIC_RELEASE);
}

static bool shmem_page_locked(struct page *page)
{
	return __atomic_load_n(&page->flags, __ATOMIC_ACQUIRE) &
	       (1UL << PG_locked);
}

/*
 * Wait until page is unlocked (folio_wait_locked).  The caller holds a
 * reference on page.  A wait loop of the simulated machine: it services
 * IPIs, so a CPU waiting here still answers TLB shootdowns.
 */
static void shmem_wait_on_page_locked(struct page *page)
{
	if (!shmem_page_locked(page))
		return;
	mmsim_wait_begin(page, "page lock");
	while (shmem_page_locked(page))
		mmsim_cpu_relax();
	mmsim_wait_end();
}

/*
 * A locked page found in the cache: someone is still filling it.  With
 * FAULT_FLAG_ALLOW_RETRY (and not yet FAULT_FLAG_TRIED) the fault lets go
 * of the mmap lock while it waits and asks to be retried, as
 * __folio_lock_or_retry() does; otherwise it waits with the lock held.
 * Returns 0 when page is ready, or VM_FAULT_RETRY with the mmap lock
 * released (unless FAULT_FLAG_RETRY_NOWAIT) and page's reference dropped.
 */
static vm_fault_t shmem_wait_for_page(struct vm_fault *vmf, struct page *page)
{
	struct mm_struct *mm = vmf->vma->vm_mm;

	if (!shmem_page_locked(page))
		return 0;
	if ((vmf->flags & FAULT_FLAG_ALLOW_RETRY) &&
	    !(vmf->flags & FAULT_FLAG_TRIED)) {
		if (vmf->flags & FAULT_FLAG_RETRY_NOWAIT) {
			put_page(page);
			return VM_FAULT_RETRY;
		}
		/* From here on the VMA may go away: only the page is pinned. */
		mmap_read_unlock(mm);
		shmem_wait_on_page_locked(page);
		put_page(page);
		return VM_FAULT_RETRY;
	}
	shmem_wait_on_page_locked(page);
	return 0;
}

/* The page at index, with a reference for the caller; NULL if absent. */
static struct page *shmem_find_get_page(struct address_space *mapping,
					pgoff_t index)
{
	struct page *page;

	spin_lock(&mapping->i_pages_lock);
	page = xa_load(&mapping->i_pages, index);
	if (page)
		get_page(page);
	spin_unlock(&mapping->i_pages_lock);
	return page;
}

/*
 * Create the page at index: allocate it, insert it locked, fill it (with
 * zeros), unlock it.  If another fault inserted a page first, ours is
 * freed and theirs returned.  Either way the caller gets a reference.
 * NULL when no frame is free, or no memory for the cache's tree node.
 */
static struct page *shmem_alloc_and_add_page(struct file *file, pgoff_t index,
					     unsigned long vaddr)
{
	struct address_space *mapping = &file->f_mapping;
	struct page *page, *found;

	page = alloc_page(GFP_HIGHUSER_MOVABLE);
	if (!page)
		return NULL;
	SetPageFlag(page, PG_locked);
	page->mapping = file;
	page->index = index;

	spin_lock(&mapping->i_pages_lock);
	found = xa_load(&mapping->i_pages, index);
	if (found) {
		/* Lost the race: use the page the other fault created. */
		get_page(found);
		spin_unlock(&mapping->i_pages_lock);
		page->mapping = NULL;
		ClearPageFlag(page, PG_locked);
		put_page(page);
		return found;
	}
	/* A tree node for index may be needed, and not be had. */
	if (xa_err(xa_store(&mapping->i_pages, index, page))) {
		spin_unlock(&mapping->i_pages_lock);
		page->mapping = NULL;
		ClearPageFlag(page, PG_locked);
		put_page(page);
		return NULL;
	}
	/* One reference for the cache, the one from alloc_page for us. */
	get_page(page);
	spin_unlock(&mapping->i_pages_lock);

	/* Filled outside i_pages_lock: others see PG_locked and wait. */
	clear_user_highpage(page, vaddr);
	SetPageFlag(page, PG_uptodate);
	shmem_unlock_page(page);
	return page;
}

/*
 * vm_ops->fault of shmem mappings: find or create the page of the file at
 * vmf->pgoff and return it in vmf->page with a reference for the caller
 * (not locked).  VM_FAULT_SIGBUS past the end of the file, VM_FAULT_OOM
 * when no frame is free, VM_FAULT_RETRY (see shmem_wait_for_page) when the
 * page is still being created by someone else.  The caller holds the mmap
 * lock for reading.
 */
vm_fault_t shmem_fault(struct vm_fault *vmf)
{
	struct file *file = vmf->vma->vm_file;
	struct address_space *mapping = &file->f_mapping;
	pgoff_t index = vmf->pgoff;
	struct page *page;
	vm_fault_t ret;

	if (index >= shmem_size_pages(file))
		return VM_FAULT_SIGBUS;

	page = shmem_find_get_page(mapping, index);
	if (page) {
		ret = shmem_wait_for_page(vmf, page);
		if (ret)
			return ret;
	} else {
		page = shmem_alloc_and_add_page(file, index, vmf->address);
		if (!page)
			return VM_FAULT_OOM;
		/* It may be the other fault's page, still being filled. */
		ret = shmem_wait_for_page(vmf, page);
		if (ret)
			return ret;
	}
	vmf->page = page;
	return 0;
}

const struct vm_operations_struct shmem_anon_vm_ops = {
	.name = "shmem",
	.fault = shmem_fault,
};

/*
 * Back a new shared anonymous VMA with its own shmem file.  The caller
 * holds the mmap lock for writing; vma is not linked yet.
 */
int shmem_zero_setup(struct vm_area_struct *vma)
{
	struct file *file;

	file = shmem_file_setup("dev/zero", vma->vm_end - vma->vm_start);
	if (!file)
		return -ENOMEM;
	if (vma->vm_file)
		fput(vma->vm_file);
	/* vma is not linked yet: plain stores would do; kept uniform. */
	WRITE_ONCE(vma->vm_file, file);
	WRITE_ONCE(vma->vm_ops, &shmem_anon_vm_ops);
	return 0;
}

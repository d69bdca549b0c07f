// SPDX-License-Identifier: MIT
/*
 * Overcommit accounting of VM_ACCOUNT mappings (the kernel's mm/util.c,
 * heuristic mode, overcommit_memory = 0): a single request larger than
 * all of RAM fails; everything else is committed and counted.
 */
#include <stdatomic.h>
#include <unistd.h>

#include "mm/internal.h"

static atomic_long vm_committed_as;

static atomic_long totalram;

/*
 * The host's RAM, read once (sysconf() is a system call every time).  The
 * heuristic uses the host's RAM, not the simulated RAM, so that mmsim
 * refuses exactly the mappings the host kernel refuses in the diff test.
 */
static long host_ram_pages(void)
{
	long pages = atomic_load_explicit(&totalram, memory_order_relaxed);

	if (!pages) {
		pages = sysconf(_SC_PHYS_PAGES);
		if (pages <= 0)
			pages = 1L << 20;
		atomic_store_explicit(&totalram, pages, memory_order_relaxed);
	}
	return pages;
}

/* Pages committed by VM_ACCOUNT mappings of every mm. */
long vm_committed_pages(void)
{
	return atomic_load(&vm_committed_as);
}

/* Commit pages for mm, or return -ENOMEM if the heuristic refuses. */
int security_vm_enough_memory_mm(struct mm_struct *mm, long pages)
{
	if (pages > host_ram_pages())
		return -ENOMEM;
	atomic_fetch_add(&vm_committed_as, pages);
	return 0;
}

void vm_unacct_memory(long pages)
{
	atomic_fetch_sub(&vm_committed_as, pages);
}

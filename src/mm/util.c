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

static long totalram_pages(void)
{
	long pages = sysconf(_SC_PHYS_PAGES);

	return pages > 0 ? pages : 1L << 20;
}

/* Pages committed by VM_ACCOUNT mappings of every mm. */
long vm_committed_pages(void)
{
	return atomic_load(&vm_committed_as);
}

/* Commit pages for mm, or return -ENOMEM if the heuristic refuses. */
int security_vm_enough_memory_mm(struct mm_struct *mm, long pages)
{
	if (pages > totalram_pages())
		return -ENOMEM;
	atomic_fetch_add(&vm_committed_as, pages);
	return 0;
}

void vm_unacct_memory(long pages)
{
	atomic_fetch_sub(&vm_committed_as, pages);
}

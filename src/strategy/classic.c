// SPDX-License-Identifier: MIT
/*
 * classic: every fault under the mmap lock, held for reading (the
 * kernel before any lockless fault, and every strategy's fallback).  It
 * needs no hook but the freeing rule: only mmap-lock holders ever see a
 * VMA, so one out of the tree goes at once.
 */
#include <mmsim/strategy.h>

#include "mm/internal.h"

static void classic_vma_free(struct vm_area_struct *vma)
{
	vma_put_file(vma);
	vm_area_free(vma);
}

const struct fault_strategy classic_strategy = {
	.name = "classic",
	.help = "every fault under the mmap lock (read)",
	.vma_free = classic_vma_free,
};

// SPDX-License-Identifier: MIT
/*
 * One access of a simulated task to its mm, for the replay tool and the
 * tests: the calling CPU switches to mm and loads or stores one byte
 * through its MMU (TLB, page walk, do_user_addr_fault).
 */
#include <mmsim/cpu.h>

#include "mm/internal.h"

/*
 * The task of mm reads (or writes) the byte at addr.  Returns 0, SIGSEGV,
 * SIGBUS, or SIGKILL when memory ran out.  The byte written is the low
 * byte of addr, so a test can recognise it.
 */
int mmsim_access(struct mm_struct *mm, unsigned long addr, bool write)
{
	unsigned char byte = (unsigned char)addr;

	mmsim_switch_mm(mm);
	if (write)
		return mmsim_store(addr, &byte, 1);
	return mmsim_load(addr, &byte, 1);
}

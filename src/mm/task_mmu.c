// SPDX-License-Identifier: MIT
/*
 * How /proc/PID/maps and /proc/PID/smaps show a VMA (the kernel's
 * fs/proc/task_mmu.c): the "rwxp" permissions and the VmFlags mnemonics,
 * printed in the order of their bits.
 */
#include <string.h>

#include "mm/internal.h"

static const char *const vm_flag_mnemonics[64] = {
	[0] = "rd",	/* VM_READ */
	[1] = "wr",	/* VM_WRITE */
	[2] = "ex",	/* VM_EXEC */
	[3] = "sh",	/* VM_SHARED */
	[4] = "mr",	/* VM_MAYREAD */
	[5] = "mw",	/* VM_MAYWRITE */
	[6] = "me",	/* VM_MAYEXEC */
	[7] = "ms",	/* VM_MAYSHARE */
	[8] = "gd",	/* VM_GROWSDOWN */
	[9] = "um",	/* VM_UFFD_MISSING */
	[10] = "pf",	/* VM_PFNMAP */
	[12] = "uw",	/* VM_UFFD_WP */
	[13] = "lo",	/* VM_LOCKED */
	[14] = "io",	/* VM_IO */
	[15] = "sr",	/* VM_SEQ_READ */
	[16] = "rr",	/* VM_RAND_READ */
	[17] = "dc",	/* VM_DONTCOPY */
	[18] = "de",	/* VM_DONTEXPAND */
	[19] = "lf",	/* VM_LOCKONFAULT */
	[20] = "ac",	/* VM_ACCOUNT */
	[21] = "nr",	/* VM_NORESERVE */
	[22] = "ht",	/* VM_HUGETLB */
	[23] = "sf",	/* VM_SYNC */
	[24] = "ar",	/* VM_ARCH_1 */
	[25] = "wf",	/* VM_WIPEONFORK */
	[26] = "dd",	/* VM_DONTDUMP */
	[27] = "sd",	/* VM_SOFTDIRTY */
	[28] = "mm",	/* VM_MIXEDMAP */
	[29] = "hg",	/* VM_HUGEPAGE */
	[30] = "nh",	/* VM_NOHUGEPAGE */
	[31] = "mg",	/* VM_MERGEABLE */
};

/*
 * Write the mnemonics of flags into buf, separated by single spaces, and
 * return buf.  Flags without a mnemonic are skipped, as the kernel does.
 */
char *show_smap_vma_flags(unsigned long flags, char *buf, size_t size)
{
	size_t used = 0;
	int bit;

	if (!size)
		return buf;
	buf[0] = '\0';
	for (bit = 0; bit < 64; bit++) {
		const char *m = vm_flag_mnemonics[bit];

		if (!(flags & (1UL << bit)) || !m)
			continue;
		if (used + strlen(m) + 2 > size)
			break;
		if (used)
			buf[used++] = ' ';
		strcpy(buf + used, m);
		used += strlen(m);
	}
	return buf;
}

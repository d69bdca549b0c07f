// SPDX-License-Identifier: MIT
/* What BUG_ON and WARN_ON print. */
#include <stdio.h>
#include <stdlib.h>

#include "kernel/bug.h"

void __mmsim_bug(const char *file, int line, const char *cond)
{
	fprintf(stderr, "mmsim: kernel BUG at %s:%d: %s\n", file, line, cond);
	abort();
}

void __mmsim_warn(const char *file, int line, const char *cond)
{
	fprintf(stderr, "mmsim: WARNING at %s:%d: %s\n", file, line, cond);
}

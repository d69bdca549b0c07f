// SPDX-License-Identifier: MIT
/* What BUG_ON and WARN_ON print. */
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>

#include <mmsim/lockdep.h>

#include "kernel/bug.h"

void __mmsim_bug(const char *file, int line, const char *cond)
{
	fprintf(stderr, "mmsim: kernel BUG at %s:%d: %s\n", file, line, cond);
	abort();
}

static atomic_long nr_warnings;

/*
 * A warning lets the run go on, as the kernel's does, and is counted:
 * the stress test fails on any (as a kernel test run with panic_on_warn).
 */
void __mmsim_warn(const char *file, int line, const char *cond)
{
	fprintf(stderr, "mmsim: WARNING at %s:%d: %s\n", file, line, cond);
	atomic_fetch_add_explicit(&nr_warnings, 1, memory_order_relaxed);
}

long mmsim_warnings(void)
{
	return atomic_load_explicit(&nr_warnings, memory_order_relaxed);
}

// SPDX-License-Identifier: MIT
/*
 * The scheduling hook every primitive calls (see <mmsim/sched.h>).
 */
#include <mmsim/sched.h>

mmsim_sched_hook_t mmsim_sched_hook;

void mmsim_set_sched_hook(mmsim_sched_hook_t hook)
{
	__atomic_store_n(&mmsim_sched_hook, hook, __ATOMIC_RELEASE);
}

// SPDX-License-Identifier: MIT
/*
 * The mmsim side of a replay: each script operation is the system call of
 * the simulated task on a fresh mm; the VMAs printed are the mm's own, shown
 * as /proc/PID/smaps would show them.
 */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include <mmsim/mm.h>
#include "replay.h"

struct replay_mmsim {
	struct mm_struct *mm;
	unsigned int levels;
	int bugs;		/* validate_mm() failures so far */
};

/*
 * The simulated task, like the native backend, has no CAP_SYS_RAWIO; the
 * sysctl vm.mmap_min_addr is the host's, so that both judge a MAP_FIXED
 * below it alike (mmap_min_addr, where hints go, stays at least its
 * default, as CONFIG_LSM_MMAP_MIN_ADDR keeps it on the host).
 */
static struct mm_struct *replay_mm_alloc(unsigned int levels)
{
	struct mm_struct *mm = mm_alloc(levels);

	if (!mm)
		return NULL;
	mm->dac_mmap_min_addr =
		replay_host_mmap_min_addr(mm->dac_mmap_min_addr);
	if (mm->mmap_min_addr < mm->dac_mmap_min_addr)
		mm->mmap_min_addr = mm->dac_mmap_min_addr;
	return mm;
}

static void *mmsim_open(unsigned int levels)
{
	struct replay_mmsim *r = calloc(1, sizeof(*r));

	if (!r)
		return NULL;
	r->levels = levels;
	r->mm = replay_mm_alloc(levels);
	if (!r->mm) {
		free(r);
		return NULL;
	}
	return r;
}

static void mmsim_close(void *ctx)
{
	struct replay_mmsim *r = ctx;

	mmput(r->mm);
	free(r);
}

static void mmsim_reset(void *ctx)
{
	struct replay_mmsim *r = ctx;

	mmput(r->mm);
	r->bugs = 0;
	r->mm = replay_mm_alloc(r->levels);
	if (!r->mm)
		abort();
}

static long addr_result(unsigned long ret)
{
	if (IS_ERR_VALUE(ret))
		return (long)ret;
	return (long)(ret - REPLAY_WINDOW_BASE);
}

static long mmsim_touch(struct mm_struct *mm, unsigned long addr, bool write)
{
	switch (mmsim_access(mm, addr, write)) {
	case 0:
		return 0;
	case SIGBUS:
		return REPLAY_SIGBUS;
	default:
		return REPLAY_SIGSEGV;
	}
}

static long mmsim_apply(void *ctx, const struct replay_op *op)
{
	struct replay_mmsim *r = ctx;
	struct mm_struct *mm = r->mm;
	unsigned long addr = REPLAY_WINDOW_BASE + op->off;
	unsigned long flags = MAP_ANONYMOUS;
	long ret = -EINVAL;

	switch (op->kind) {
	case REPLAY_MMAP:
	case REPLAY_MMAPNR:
		flags |= op->shared ? MAP_SHARED : MAP_PRIVATE;
		flags |= op->kind == REPLAY_MMAP ? MAP_FIXED : MAP_FIXED_NOREPLACE;
		ret = addr_result(sys_mmap(mm, addr, op->len, op->prot, flags,
					   NULL, 0));
		break;
	case REPLAY_MUNMAP:
		ret = sys_munmap(mm, addr, op->len);
		break;
	case REPLAY_MPROTECT:
		ret = sys_mprotect(mm, addr, op->len, op->prot);
		break;
	case REPLAY_MREMAP:
		ret = addr_result(sys_mremap(mm, addr, op->len, op->new_len,
					     op->mremap_flags,
					     REPLAY_WINDOW_BASE + op->new_off));
		break;
	case REPLAY_MADVISE:
		ret = sys_madvise(mm, addr, op->len, op->advice);
		break;
	case REPLAY_MLOCK:
		ret = sys_mlock(mm, addr, op->len);
		break;
	case REPLAY_MUNLOCK:
		ret = sys_munlock(mm, addr, op->len);
		break;
	case REPLAY_TOUCH:
		ret = mmsim_touch(mm, addr, op->write);
		break;
	}
	if (validate_mm(mm))
		r->bugs++;
	return ret;
}

static int mmsim_vmas(void *ctx, struct replay_vma *out, int max)
{
	struct replay_mmsim *r = ctx;
	struct vm_area_struct *vma;
	int n = 0;

	mmap_read_lock(r->mm);
	vma = find_vma(r->mm, REPLAY_WINDOW_BASE);
	for (; vma && n < max; vma = vma->vm_next) {
		if (vma->vm_start >= REPLAY_WINDOW_BASE + REPLAY_WINDOW_SIZE)
			break;
		out[n].start = vma->vm_start - REPLAY_WINDOW_BASE;
		out[n].end = vma->vm_end - REPLAY_WINDOW_BASE;
		out[n].perms[0] = vma->vm_flags & VM_READ ? 'r' : '-';
		out[n].perms[1] = vma->vm_flags & VM_WRITE ? 'w' : '-';
		out[n].perms[2] = vma->vm_flags & VM_EXEC ? 'x' : '-';
		out[n].perms[3] = '\0';
		out[n].shared = vma->vm_flags & VM_MAYSHARE;
		show_smap_vma_flags(vma->vm_flags, out[n].flags,
				    sizeof(out[n].flags));
		n++;
	}
	mmap_read_unlock(r->mm);
	return r->bugs ? -1 : n;
}

static void mmsim_limits(void *ctx, struct replay_limits *lim)
{
	struct replay_mmsim *r = ctx;

	lim->task_size = r->mm->task_size;
	lim->mmap_min_addr = r->mm->cap_sys_rawio ? 0 :
			     r->mm->dac_mmap_min_addr;
}

const struct replay_backend replay_backend_mmsim = {
	.name = "mmsim",
	.limits = mmsim_limits,
	.open = mmsim_open,
	.close = mmsim_close,
	.reset = mmsim_reset,
	.apply = mmsim_apply,
	.vmas = mmsim_vmas,
};

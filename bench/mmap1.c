// SPDX-License-Identifier: MIT
/*
 * will-it-scale mmap1: every thread maps 128 MiB of anonymous private
 * memory where the kernel chooses, and unmaps it without touching it.
 * Measures get_unmapped_area(), VMA allocation, the VMA tree and the mmap
 * lock taken for writing twice per operation.
 *
 * The simulator's threads share one mm; the native threads share this
 * process.  The native calls are raw syscall()s: ThreadSanitizer intercepts
 * mmap() and would measure itself.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/syscall.h>

#include <mmsim/mm.h>
#include "bench.h"

#define MMAP1_LEN	(128UL << 20)
#define MMAP1_PROT	(PROT_READ | PROT_WRITE)
#define MMAP1_FLAGS	(MAP_PRIVATE | MAP_ANONYMOUS)

static unsigned long long mmap1_mmsim_loop(struct bench_thread *t)
{
	struct mm_struct *mm = t->arg;
	unsigned long long ops = 0;
	unsigned long addr;
	int err;

	mmget(mm);		/* a thread of the process */
	while (!bench_should_stop(t)) {
		addr = sys_mmap(mm, 0, MMAP1_LEN, MMAP1_PROT, MMAP1_FLAGS,
				NULL, 0);
		if (IS_ERR_VALUE(addr)) {
			t->error = (int)(long)addr;
			break;
		}
		err = sys_munmap(mm, addr, MMAP1_LEN);
		if (err) {
			t->error = err;
			break;
		}
		ops++;
	}
	mmput(mm);
	return ops;
}

static unsigned long long mmap1_native_loop(struct bench_thread *t)
{
	unsigned long long ops = 0;
	long addr;

	while (!bench_should_stop(t)) {
		addr = syscall(SYS_mmap, 0UL, MMAP1_LEN, MMAP1_PROT,
			       MMAP1_FLAGS, -1, 0UL);
		if (addr == -1 ||
		    syscall(SYS_munmap, (unsigned long)addr, MMAP1_LEN)) {
			t->error = -errno;
			break;
		}
		ops++;
	}
	return ops;
}

/* Every operation unmapped what it mapped: the mm must be empty again. */
static int mmap1_check_empty(struct mm_struct *mm)
{
	int problems = validate_mm_verbose(mm, stderr);

	if (!mm->map_count && !problems)
		return 0;
	fprintf(stderr, "mmsim bench mmap1: mm left with %d VMAs, %d "
		"problems\n", mm->map_count, problems);
	return -1;
}

int bench_mmap1(const struct bench_opts *opts)
{
	struct bench_sides sides = {
		.opts = opts, .threads = opts->cpus,
		.sim_loop = mmap1_mmsim_loop, .native_loop = mmap1_native_loop,
	};
	struct mm_struct *mm;
	int err;

	mm = bench_mm_alloc(opts);
	if (!mm) {
		fprintf(stderr, "mmsim bench mmap1: mm_alloc failed\n");
		return 1;
	}
	sides.sim_arg = mm;
	err = bench_sides_run(&sides);
	if (!err)
		err = mmap1_check_empty(mm);
	mmput(mm);
	if (err)
		return 1;
	/* Untouched memory: no faults, the fault columns stay 0. */
	bench_sides_report(&sides);
	return 0;
}

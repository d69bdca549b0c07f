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

struct mmap1_run {
	const struct bench_opts *opts;
	struct mm_struct *mm;
	struct bench_tally sim, native;
};

static int mmap1_side(struct mmap1_run *run, bool native, double seconds)
{
	const struct bench_opts *o = run->opts;
	int err;

	if (native)
		err = bench_run_threads(o->cpus, seconds, mmap1_native_loop,
					NULL, &run->native);
	else
		err = bench_run_threads(o->cpus, seconds, mmap1_mmsim_loop,
					run->mm, &run->sim);
	if (err)
		fprintf(stderr, "mmsim bench mmap1: %s run failed: %s\n",
			native ? "native" : o->strategy, strerror(-err));
	return err;
}

/*
 * Rounds alternate which side goes first (sim, native; native, sim; ...)
 * so that slow drift of the machine weighs on both alike.
 */
static int mmap1_rounds(struct mmap1_run *run)
{
	double slice = run->opts->seconds / BENCH_ROUNDS;
	bool native_first;
	int r, err = 0;

	for (r = 0; r < BENCH_ROUNDS && !err; r++) {
		native_first = run->opts->native && (r & 1);
		err = mmap1_side(run, native_first, slice);
		if (!err && run->opts->native)
			err = mmap1_side(run, !native_first, slice);
		bench_progress();
	}
	bench_progress_done();
	return err;
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

static void mmap1_report(const struct mmap1_run *run)
{
	const struct bench_opts *o = run->opts;
	struct bench_result res = {
		.workload = "mmap1", .strategy = o->strategy, .cpus = o->cpus,
		.seconds = run->sim.seconds, .ops = run->sim.ops,
	};

	bench_report(o, &res);
	if (!o->native)
		return;
	res.strategy = "native";
	res.seconds = run->native.seconds;
	res.ops = run->native.ops;
	bench_report(o, &res);
	bench_report_ratio(o, "mmsim/native",
			   bench_rate(run->sim.ops, run->sim.seconds),
			   bench_rate(run->native.ops, run->native.seconds));
}

int bench_mmap1(const struct bench_opts *opts)
{
	struct mmap1_run run = { .opts = opts };
	int err;

	run.mm = bench_mm_alloc(opts);
	if (!run.mm) {
		fprintf(stderr, "mmsim bench mmap1: mm_alloc failed\n");
		return 1;
	}
	err = mmap1_rounds(&run);
	if (!err)
		err = mmap1_check_empty(run.mm);
	mmput(run.mm);
	if (err)
		return 1;
	mmap1_report(&run);
	return 0;
}

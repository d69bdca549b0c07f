// SPDX-License-Identifier: MIT
/*
 * will-it-scale page_fault1: every thread of one mm maps 128 MiB of
 * anonymous private memory, writes one byte in each 4 KiB page (one write
 * fault per page: do_anonymous_page), and unmaps it (zap, TLB flush, free
 * of 32,768 pages and 64 page tables).  The metric is faults per second:
 * ops counts the pages touched, and the faults column cross-checks it
 * with what the fault handler counted (the CPUs' nr_faults on mmsim, the
 * threads' minor faults on the host).
 *
 * Each simulator thread is a simulated CPU running the one shared mm.
 * The simulated RAM is sized before the mm exists, for every thread's
 * 128 MiB plus the page tables; its data is a MAP_NORESERVE host mapping,
 * so only the frames actually used cost host memory.
 *
 * The native threads share this process and use libc's mmap() and
 * munmap(): under ThreadSanitizer the interceptors forget the shadow of an
 * unmapped range, which a raw syscall would not do (one thread's stores
 * would then look like races with the next owner of the same addresses).
 * Transparent huge pages are refused with MADV_NOHUGEPAGE, so the host
 * takes one fault per 4 KiB page as the simulator does (will-it-scale's
 * figures are "THP off" figures too).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <mmsim/cpu.h>
#include <mmsim/mm.h>
#include <mmsim/page.h>
#include "bench.h"

#define HOST_MADV_NOHUGEPAGE	15

#define PF1_LEN		(128UL << 20)
#define PF1_PAGES	(PF1_LEN >> PAGE_SHIFT)
/* Look at the stop flag this often (pages): a round ends on time. */
#define PF1_STOP_EVERY	512
/*
 * Per thread: the 128 MiB, the tables mapping it (64 PTE tables and the
 * upper levels) and room for the frames a CPU keeps on its free list.
 */
#define PF1_RAM_PER_CPU	(PF1_LEN + (2UL << 20))
#define PF1_RAM_SLACK	(16UL << 20)
/*
 * How long the warm-up waits before telling the threads to stop: enough
 * for all of them to be set up; each makes its one pass regardless.
 */
#define SECONDS_WARM_UP	0.05

/*
 * Set during the untimed warm-up pass (see pf1_warm_up), read-only while
 * the threads run.
 */
static bool pf1_warming_up;

/* Touch pages [0, PF1_PAGES) of the region at addr; returns how many. */
static unsigned long pf1_touch_mmsim(struct bench_thread *t,
				     unsigned long addr)
{
	const char byte = 1;
	unsigned long i;
	int sig;

	for (i = 0; i < PF1_PAGES; i++) {
		if (i % PF1_STOP_EVERY == 0 && i && !pf1_warming_up &&
		    bench_should_stop(t))
			break;
		sig = mmsim_store(addr + (i << PAGE_SHIFT), &byte, 1);
		if (sig) {
			fprintf(stderr, "mmsim bench page_fault1: store at "
				"%#lx got signal %d\n",
				addr + (i << PAGE_SHIFT), sig);
			t->error = -EFAULT;
			break;
		}
	}
	return i;
}

/* One simulated CPU: map, touch, unmap until told to stop. */
static unsigned long long pf1_mmsim_loop(struct bench_thread *t)
{
	struct mm_struct *mm = t->arg;
	unsigned long long pages = 0;
	unsigned long addr;
	int err;

	if (bench_cpu_enter(t, mm))
		return 0;
	/* The warm-up pass is one iteration, made whatever stop says. */
	while ((pf1_warming_up || !bench_should_stop(t)) && !t->error) {
		addr = sys_mmap(mm, 0, PF1_LEN, PROT_READ | PROT_WRITE,
				MAP_PRIVATE | MAP_ANONYMOUS, NULL, 0);
		if (IS_ERR_VALUE(addr)) {
			t->error = (int)(long)addr;
			break;
		}
		pages += pf1_touch_mmsim(t, addr);
		err = sys_munmap(mm, addr, PF1_LEN);
		if (err && !t->error)
			t->error = err;
		if (pf1_warming_up)
			break;
	}
	bench_cpu_exit(t, mm);
	return pages;
}

static unsigned long pf1_touch_native(struct bench_thread *t, char *p)
{
	unsigned long i;

	for (i = 0; i < PF1_PAGES; i++) {
		if (i % PF1_STOP_EVERY == 0 && i && bench_should_stop(t))
			break;
		*(volatile char *)(p + (i << PAGE_SHIFT)) = 1;
	}
	return i;
}

/* The same on the host kernel. */
static unsigned long long pf1_native_loop(struct bench_thread *t)
{
	unsigned long long pages = 0;
	long minflt0 = bench_thread_minflt();
	char *p;

	while (!bench_should_stop(t)) {
		p = mmap(NULL, PF1_LEN, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (p == HOST_MAP_FAILED) {
			t->error = -errno;
			break;
		}
		/* Not fatal: a kernel without THP has nothing to refuse. */
		madvise(p, PF1_LEN, HOST_MADV_NOHUGEPAGE);
		pages += pf1_touch_native(t, p);
		if (munmap(p, PF1_LEN)) {
			t->error = -errno;
			break;
		}
	}
	t->faults = bench_thread_minflt() - minflt0;
	return pages;
}

struct pf1_run {
	struct bench_sides sides;
	struct mm_struct *mm;
};

/*
 * One untimed pass of every thread (map, touch all, unmap) before the
 * rounds.  The simulated RAM is a MAP_NORESERVE host mapping: the first
 * use of each frame costs a host page fault and the host's zeroing, once,
 * which is no part of a simulated fault and would otherwise land in the
 * first measured round (most of it in a short run, whichever strategy).
 */
static int pf1_warm_up(struct pf1_run *run)
{
	struct bench_tally unused = { 0 };
	int err;

	pf1_warming_up = true;
	err = bench_run_threads(run->sides.threads, SECONDS_WARM_UP,
				pf1_mmsim_loop, run->mm, &unused);
	pf1_warming_up = false;
	if (err)
		fprintf(stderr, "mmsim bench page_fault1: warm-up failed: "
			"%s\n", strerror(-err));
	return err;
}

/*
 * Every round unmapped what it mapped: the mm must be empty, and every
 * frame back in the allocator once the mm is gone (checked by the caller).
 */
static int pf1_check_empty(struct mm_struct *mm)
{
	int problems = validate_mm_verbose(mm, stderr);

	if (!mm->map_count && !problems && !get_mm_rss(mm))
		return 0;
	fprintf(stderr, "mmsim bench page_fault1: mm left with %d VMAs, "
		"%lu pages, %d problems\n", mm->map_count, get_mm_rss(mm),
		problems);
	return -1;
}

int bench_page_fault1(const struct bench_opts *opts)
{
	struct pf1_run run = {
		.sides = {
			.opts = opts, .threads = opts->cpus,
			.sim_loop = pf1_mmsim_loop,
			.native_loop = pf1_native_loop,
		},
	};
	unsigned long ram = opts->cpus * PF1_RAM_PER_CPU + PF1_RAM_SLACK;
	int err;

	/* Each thread is a CPU; the main thread may be one too (mmput). */
	if (opts->cpus >= NR_CPUS) {
		fprintf(stderr, "mmsim bench page_fault1: at most %d CPUs\n",
			NR_CPUS - 1);
		return 2;
	}
	run.mm = bench_mem_mm(opts, ram);
	if (!run.mm)
		return 1;
	run.sides.sim_arg = run.mm;
	/* The warm-up first: the rounds count fault events from their start. */
	err = pf1_warm_up(&run);
	if (!err)
		err = bench_sides_run(&run.sides);
	if (!err)
		err = pf1_check_empty(run.mm);
	mmput(run.mm);
	if (!err)
		err = bench_check_frames("page_fault1");
	if (err)
		return 1;
	bench_sides_report(&run.sides);
	return 0;
}

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
#define _GNU_SOURCE		/* RUSAGE_THREAD */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/types.h>
/* <mmsim/mm.h> defines it again, with the same value. */
#undef RLIM_INFINITY

#include <mmsim/cpu.h>
#include <mmsim/mm.h>
#include <mmsim/page.h>
#include "bench.h"

/*
 * libc's mmap(), munmap() and madvise() (the interceptors of TSan need
 * the libc entry points).  <sys/mman.h> itself cannot be included here:
 * its MAP_ and PROT_ macros collide with <mmsim/mm.h>'s, whose values are
 * the kernel's, that is the same.
 */
void *mmap(void *addr, size_t len, int prot, int flags, int fd, off_t off);
int munmap(void *addr, size_t len);
int madvise(void *addr, size_t len, int advice);
#define HOST_MAP_FAILED		((void *)-1)
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
	unsigned long addr, faults0;
	struct mmsim_cpu *cpu;
	int err;

	if (mmsim_cpu_attach() < 0) {
		t->error = -EBUSY;
		return 0;
	}
	cpu = this_cpu();
	/* A thread of the process: the mm has more than one user. */
	mmget(mm);
	mmsim_switch_mm(mm);
	bench_thread_ready(t);
	faults0 = atomic_load_explicit(&cpu->nr_faults, memory_order_relaxed);
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
	t->faults = atomic_load_explicit(&cpu->nr_faults,
					 memory_order_relaxed) - faults0;
	mmsim_switch_mm(NULL);
	mmput(mm);
	mmsim_cpu_detach();
	return pages;
}

static long thread_minflt(void)
{
	struct rusage ru;

	if (getrusage(RUSAGE_THREAD, &ru))
		return 0;
	return ru.ru_minflt;
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
	long minflt0 = thread_minflt();
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
	t->faults = thread_minflt() - minflt0;
	return pages;
}

struct pf1_run {
	const struct bench_opts *opts;
	struct mm_struct *mm;
	unsigned long since[NR_FAULT_EVENTS];
	struct bench_tally sim, native;
};

static int pf1_side(struct pf1_run *run, bool native, double seconds)
{
	const struct bench_opts *o = run->opts;
	int err;

	if (native)
		err = bench_run_threads(o->cpus, seconds, pf1_native_loop,
					NULL, &run->native);
	else
		err = bench_run_threads(o->cpus, seconds, pf1_mmsim_loop,
					run->mm, &run->sim);
	if (err)
		fprintf(stderr, "mmsim bench page_fault1: %s run failed: %s\n",
			native ? "native" : o->strategy, strerror(-err));
	return err;
}

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
	err = bench_run_threads(run->opts->cpus, SECONDS_WARM_UP,
				pf1_mmsim_loop, run->mm, &unused);
	pf1_warming_up = false;
	if (err)
		fprintf(stderr, "mmsim bench page_fault1: warm-up failed: "
			"%s\n", strerror(-err));
	return err;
}

/* Rounds alternate which side goes first, as in mmap1. */
static int pf1_rounds(struct pf1_run *run)
{
	double slice = run->opts->seconds / BENCH_ROUNDS;
	bool native_first;
	int r, err;

	err = pf1_warm_up(run);
	if (err)
		return err;
	fault_events_read(run->since);
	for (r = 0; r < BENCH_ROUNDS && !err; r++) {
		native_first = run->opts->native && (r & 1);
		err = pf1_side(run, native_first, slice);
		if (!err && run->opts->native)
			err = pf1_side(run, !native_first, slice);
		bench_progress();
	}
	bench_progress_done();
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

static void pf1_report(const struct pf1_run *run)
{
	const struct bench_opts *o = run->opts;
	struct bench_abort aborts[BENCH_MAX_ABORTS];
	struct bench_result res = {
		.workload = "page_fault1", .strategy = o->strategy,
		.cpus = o->cpus, .seconds = run->sim.seconds,
		.ops = run->sim.ops, .faults = run->sim.faults,
	};

	bench_fault_events(run->since, &res, aborts);
	bench_report(o, &res);
	if (!o->native)
		return;
	res = (struct bench_result){
		.workload = "page_fault1", .strategy = "native",
		.cpus = o->cpus, .seconds = run->native.seconds,
		.ops = run->native.ops, .faults = run->native.faults,
	};
	bench_report(o, &res);
	bench_report_ratio(o, "mmsim/native",
			   bench_rate(run->sim.ops, run->sim.seconds),
			   bench_rate(run->native.ops, run->native.seconds));
}

int bench_page_fault1(const struct bench_opts *opts)
{
	struct pf1_run run = { .opts = opts };
	unsigned long ram = opts->cpus * PF1_RAM_PER_CPU + PF1_RAM_SLACK;
	int err;

	/* Each thread is a CPU; the main thread may be one too (mmput). */
	if (opts->cpus >= NR_CPUS) {
		fprintf(stderr, "mmsim bench page_fault1: at most %d CPUs\n",
			NR_CPUS - 1);
		return 2;
	}
	/* Freed frames unpoisoned, as in a kernel without page poisoning. */
	err = mem_init(ram, MEM_NO_POISON);
	if (err) {
		fprintf(stderr, "mmsim bench page_fault1: mem_init(%lu MiB): "
			"%s\n", ram >> 20, strerror(-err));
		return 1;
	}
	run.mm = bench_mm_alloc(opts);
	if (!run.mm) {
		fprintf(stderr, "mmsim bench page_fault1: mm_alloc failed\n");
		return 1;
	}
	err = pf1_rounds(&run);
	if (!err)
		err = pf1_check_empty(run.mm);
	mmput(run.mm);
	if (!err)
		err = bench_check_frames("page_fault1");
	if (err)
		return 1;
	pf1_report(&run);
	return 0;
}

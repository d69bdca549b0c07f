/* SPDX-License-Identifier: MIT */
/*
 * mmsim bench: the workloads kernel developers used (docs/benchmarks.md),
 * run on the simulator and, where it makes sense, on the host kernel in the
 * same process run so that results are ratios measured side by side.
 *
 * A workload is one entry of the table in bench.c: a run function that
 * measures and calls bench_report() for each result line.  The helpers
 * below (timed threads, progress, output) are shared so that every
 * workload reports the same way.
 */
#ifndef MMSIM_BENCH_H
#define MMSIM_BENCH_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include <mmsim/cpu.h>
#include <mmsim/strategy.h>

/*
 * Each thread of a run is a simulated CPU, and the main thread is one
 * too (set-up, mmput): NR_CPUS - 1 threads at most.  ebizzy's threads
 * are two per CPU, so it takes half as many (it checks).
 */
#define BENCH_MAX_CPUS		(NR_CPUS - 1)
#define BENCH_EBIZZY_MAX_CPUS	(BENCH_MAX_CPUS / 2)
/*
 * The machine is shared and noisy: alternate the measured sides in this
 * many rounds and sum them, so that drift affects every side equally.
 */
#define BENCH_ROUNDS		3

struct bench_opts {
	const char *workload;
	const char *strategy;
	unsigned int cpus;
	double seconds;
	bool native;
	bool json;
};

struct bench_workload {
	const char *name;
	const char *help;
	bool has_native;		/* --native means something */
	int (*run)(const struct bench_opts *opts);	/* exit status */
};

int bench_mmap1(const struct bench_opts *opts);		/* mmap1.c */
int bench_find_vma(const struct bench_opts *opts);	/* find_vma.c */
int bench_page_fault1(const struct bench_opts *opts);	/* page_fault1.c */
int bench_ebizzy(const struct bench_opts *opts);	/* ebizzy.c */

/* A new mm with the strategy of --strategy (4-level page tables). */
struct mm_struct *bench_mm_alloc(const struct bench_opts *opts);

/*
 * The simulated RAM (ram bytes, freed frames not poisoned, as in a kernel
 * without page poisoning) and the workload's mm; NULL after saying why on
 * stderr.
 */
struct mm_struct *bench_mem_mm(const struct bench_opts *opts,
			       unsigned long ram);

/*
 * libc's mmap(), munmap(), mprotect() and madvise() for the native side
 * (ThreadSanitizer's interceptors need the libc entry points).
 * <sys/mman.h> itself cannot be included with <mmsim/mm.h>: its MAP_ and
 * PROT_ macros collide with ours, whose values are the kernel's, that is
 * the same.
 */
void *mmap(void *addr, size_t len, int prot, int flags, int fd, off_t off);
int munmap(void *addr, size_t len);
int mprotect(void *addr, size_t len, int prot);
int madvise(void *addr, size_t len, int advice);
#define HOST_MAP_FAILED		((void *)-1)

struct bench_abort {
	const char *reason;
	unsigned long long count;
};

/* One result line: a workload on one side (a strategy, or "native"). */
struct bench_result {
	const char *workload;
	const char *strategy;
	unsigned int cpus;
	double seconds;		/* measured, all rounds */
	unsigned long long ops;
	unsigned long long faults;
	unsigned long long spf;		/* faults without mmap lock */
	const struct bench_abort *aborts;
	unsigned int nr_aborts;
	unsigned long vmas;		/* find_vma: VMAs, else 0 */
};

/* Room for every abort reason of <mmsim/strategy.h>. */
#define BENCH_MAX_ABORTS	NR_FAULT_EVENTS

/*
 * The fault events of a measured side: snapshot before (since), then
 * fill res->spf (faults completed without the mmap lock) and res->aborts
 * (the non-zero speculative abort reasons, stored in aborts[]).
 */
void bench_fault_events(const struct fault_strategy *fs,
			const unsigned long since[NR_FAULT_EVENTS],
			struct bench_result *res,
			struct bench_abort aborts[BENCH_MAX_ABORTS]);

/*
 * After the last mmput(): every frame of the simulated RAM must be back
 * in the allocator.  0, or -1 after saying so on stderr.
 */
int bench_check_frames(const char *workload);

/* Time on CLOCK_MONOTONIC, in seconds. */
double bench_now(void);
double bench_rate(unsigned long long ops, double seconds);

/*
 * One thread of a timed run.  The loop function repeats its operation
 * until bench_should_stop(), and returns how many it completed; on a
 * failure it sets ->error to a negative errno and returns early.
 */
struct bench_thread {
	_Alignas(64) unsigned int id;	/* 0 .. cpus - 1 */
	void *arg;
	int error;
	unsigned long long ops;
	unsigned long long faults;	/* set by loops that count faults */
	unsigned long faults0;		/* see bench_cpu_enter() */
	const atomic_bool *go, *stop;
	atomic_uint *ready;		/* see bench_thread_ready() */
	unsigned int nthreads;
	unsigned long long (*loop)(struct bench_thread *t);
};

static inline bool bench_should_stop(const struct bench_thread *t)
{
	return atomic_load_explicit(t->stop, memory_order_relaxed);
}

/*
 * A simulated CPU calls this once it runs the mm (attached, switched to
 * it), before its first operation; it returns when every thread of the
 * run has (or the run is over).  So no CPU sends a shootdown to another
 * that is still being set up.
 */
void bench_thread_ready(struct bench_thread *t);

/*
 * A loop that runs the mm as a simulated CPU, one thread of the process
 * (the mm has more than one user), brackets its operations with these.
 * bench_cpu_enter() attaches a CPU, takes a user of mm, switches to it
 * and waits for the other threads; -EBUSY (also in ->error) when no CPU
 * is left.  bench_cpu_exit() sets ->faults to the faults the CPU took in
 * between and undoes the rest.
 */
int bench_cpu_enter(struct bench_thread *t, struct mm_struct *mm);
void bench_cpu_exit(struct bench_thread *t, struct mm_struct *mm);

/* The calling thread's minor faults on the host, 0 if unknown. */
long bench_thread_minflt(void);

/* What timed runs add up to, over the rounds. */
struct bench_tally {
	unsigned long long ops;
	unsigned long long faults;	/* the threads' ->faults */
	double seconds;
};

/*
 * Run loop on cpus threads for about seconds, each given arg; adds the
 * operations, the faults and the elapsed time to *tally.  Returns 0 or
 * the first thread's negative errno.
 */
int bench_run_threads(unsigned int cpus, double seconds,
		      unsigned long long (*loop)(struct bench_thread *t),
		      void *arg, struct bench_tally *tally);

/*
 * A workload measured on the simulator and, with --native, on the host
 * kernel: the same number of threads on each side, each running its loop.
 */
struct bench_sides {
	const struct bench_opts *opts;
	unsigned int threads;
	unsigned long long (*sim_loop)(struct bench_thread *t);
	void *sim_arg;
	unsigned long long (*native_loop)(struct bench_thread *t);
	unsigned long since[NR_FAULT_EVENTS];	/* before the rounds */
	struct bench_tally sim, native;
};

/*
 * BENCH_ROUNDS rounds of opts->seconds in all per side, alternating which
 * side goes first so that slow drift of the machine weighs on both alike.
 * Returns 0 or the failed run's negative errno, after saying so.
 */
int bench_sides_run(struct bench_sides *s);
/* The simulator's result line, then with --native the host's and the ratio. */
void bench_sides_report(const struct bench_sides *s);

/* A dot per round on a terminal, nothing otherwise. */
void bench_progress(void);
void bench_progress_done(void);

void bench_report(const struct bench_opts *opts,
		  const struct bench_result *res);
/* Final line comparing two results: "ratio WHAT: 7.31x". */
void bench_report_ratio(const struct bench_opts *opts, const char *what,
			double num, double den);

#endif /* MMSIM_BENCH_H */

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

#define BENCH_MAX_CPUS		256
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
	const atomic_bool *go, *stop;
	unsigned long long (*loop)(struct bench_thread *t);
};

static inline bool bench_should_stop(const struct bench_thread *t)
{
	return atomic_load_explicit(t->stop, memory_order_relaxed);
}

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

/* A dot per round on a terminal, nothing otherwise. */
void bench_progress(void);
void bench_progress_done(void);

void bench_report(const struct bench_opts *opts,
		  const struct bench_result *res);
/* Final line comparing two results: "ratio WHAT: 7.31x". */
void bench_report_ratio(const struct bench_opts *opts, const char *what,
			double num, double den);

#endif /* MMSIM_BENCH_H */

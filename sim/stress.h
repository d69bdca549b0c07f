/* SPDX-License-Identifier: MIT */
/*
 * mmsim stress: simulated CPUs hammer one mm with accesses, system calls
 * and forks, and check the data they read; quiescent points check the
 * mm's invariants; the end checks that every frame came back.
 *
 * The decisions of each CPU come from --seed (reproducible); the
 * interleaving of the CPUs does not (they are free-running threads).
 */
#ifndef MMSIM_SIM_STRESS_H
#define MMSIM_SIM_STRESS_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>

#include <mmsim/strategy.h>

struct stress_opts {
	const char *strategy;
	unsigned int cpus;		/* simulated CPUs running the mm */
	double seconds;
	unsigned long seed;
	bool progress;			/* a status line on stderr */
	/*
	 * The speculative-fault part (sim/stress_spf.c): regions that
	 * workers write while chaos CPUs change their VMAs, and delays in
	 * the race windows of the speculative fault.  On by default for a
	 * strategy that speculates; with classic it checks the checks.
	 */
	bool spf_regions;
};

struct stress_stats {
	unsigned int workers, chaos;
	double seconds;			/* measured */
	unsigned long long ops;		/* loads, stores, system calls */
	unsigned long long faults;	/* the CPUs' nr_faults */
	unsigned long long stores, loads;
	unsigned long long syscalls;
	unsigned long long migrations;	/* regions handed over */
	unsigned long long forks;
	unsigned long long segv_expected; /* stores refused by read-only */
	unsigned long long quiescent;	/* invariant checks passed */
	/* SPF regions: stores and loads, and VMA changes under them. */
	unsigned long long spf_ops, spf_changes;
	unsigned long long spf_strict;	/* checks with no change around */
	/* Fault events of the run (not of set-up), summed over the CPUs. */
	unsigned long events[NR_FAULT_EVENTS];
	const struct fault_strategy *strategy;	/* whose events they are */
	int interrupted;		/* the signal that ended it early, or 0 */
};

/*
 * Set (to SIGINT or SIGTERM) by cmd_stress's signal handler: the
 * controller stops the CPUs at its next turn and the run ends as at its
 * normal end, checks and counters included.  A lock-free atomic: storing
 * to it is async-signal-safe.
 */
extern atomic_int stress_interrupt;

/*
 * Run the stress test.  Returns 0 when nothing was caught; 1 with a
 * one-line description of the first problem in why.  A hang does not
 * return: the watchdog (or the stress run's own deadline) ends the
 * process with MMSIM_WATCHDOG_EXIT after printing a FAILURE line.
 */
int stress_run(const struct stress_opts *opts, struct stress_stats *stats,
	       char *why, size_t why_size);

int cmd_stress(int argc, char **argv);		/* sim/cmd_stress.c */

#endif /* MMSIM_SIM_STRESS_H */
